//! Roles of API keys and staff, and what each may do.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Responsable de magasin: everything in the shop.
    Manager,
    /// Employé de magasin: reads, and handles orders at the counter.
    Employee,
    /// An online storefront: catalog reads, customers, orders and online payments.
    Storefront,
    /// An accountant: read-only access to documents, orders and the event feed.
    Accountant,
    /// A printer bridge: follows the event feed, reads orders and reports print jobs; nothing else,
    /// so a key stolen from a kiosk PC cannot touch money or customers.
    Printer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ReadShop,
    ManageKeys,
    ReadCatalog,
    ManageCatalog,
    ReadCustomers,
    ManageCustomers,
    ReadOrders,
    PlaceOrders,
    /// Move an order along its lifecycle: open, production, ship, pickup, deliver, cancel.
    ManageOrders,
    /// Record an online payment notification.
    RecordPayments,
    /// Mark an order paid at the counter.
    MarkPaid,
    IssueCreditNotes,
    /// Read one invoice, credit note, delivery slip, quote or purchase order by number, as JSON
    /// or printable.
    ReadDocuments,
    /// List every document of a kind and download them as zip bundles. Apart from
    /// `ReadDocuments` so a storefront, which shows a customer the documents of their order by
    /// number, cannot enumerate or bulk-download the whole shop's invoices.
    ListDocuments,
    ReadEvents,
    /// Record what a device did with a print job (submitted, completed, failed).
    ReportPrintJobs,
    /// Ask for a print job's line to be printed again.
    RequestReprints,
    /// Read the ledger's chart-of-accounts mapping.
    ReadLedgerMapping,
    /// Change the ledger's chart-of-accounts mapping.
    ManageLedgerMapping,
    /// Issue quotes and purchase orders, accept or decline quotes (marking a purchase order paid
    /// is `MarkPaid`).
    ManageQuotes,
    /// Change shop settings such as its time zone.
    ManageShopSettings,
    /// Create, read, change and delete the shop's scheduled e-mail reports.
    ManageReportSchedules,
    /// Read the books: journal, general ledger, trial balance and FEC export. Apart from
    /// `ReadDocuments` so a storefront can show a customer their invoice without reading the
    /// shop's whole bookkeeping.
    ReadLedger,
    /// Read sales statistics and their file exports (the shop's revenue).
    ReadStatistics,
    /// Download the whole customer list (every customer's email and address) as a file; reading
    /// one customer is `ReadCustomers`.
    ExportCustomers,
    /// Read the NF525 periodic closures and verify their chains (manager, accountant).
    ReadClosures,
    /// Close a day, a month or a year for good (manager only: a closure cannot be undone).
    ClosePeriods,
    /// Create staff members with the employee role in the shop, lock, archive and restore
    /// them (seed 000: the manager "crée et active des comptes d'Employé de magasin").
    ManageStaff,
}

impl Permission {
    pub const ALL: [Permission; 28] = [
        Permission::ReadShop,
        Permission::ManageKeys,
        Permission::ReadCatalog,
        Permission::ManageCatalog,
        Permission::ReadCustomers,
        Permission::ManageCustomers,
        Permission::ReadOrders,
        Permission::PlaceOrders,
        Permission::ManageOrders,
        Permission::RecordPayments,
        Permission::MarkPaid,
        Permission::IssueCreditNotes,
        Permission::ReadDocuments,
        Permission::ListDocuments,
        Permission::ReadEvents,
        Permission::ReportPrintJobs,
        Permission::RequestReprints,
        Permission::ReadLedgerMapping,
        Permission::ManageLedgerMapping,
        Permission::ManageQuotes,
        Permission::ManageShopSettings,
        Permission::ManageReportSchedules,
        Permission::ReadLedger,
        Permission::ReadStatistics,
        Permission::ExportCustomers,
        Permission::ReadClosures,
        Permission::ClosePeriods,
        Permission::ManageStaff,
    ];
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Manager,
        Role::Employee,
        Role::Storefront,
        Role::Accountant,
        Role::Printer,
    ];
}

/// The role → permission table: the single place that says who may do what.
///
/// A storefront key lives on a public web server: it gets what checkout and the customer space
/// need (its customers, orders, payments and their documents, read one by number) and never the
/// books, the statistics, the customer list export or the document lists and bundles. Staff read statistics and export customers as the back
/// office allows them (seed 000: managers and employees "accèdent aux statistiques"); the books
/// are for managers and accountants.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Manager => true,
        Role::Employee => matches!(
            permission,
            P::ReadShop
                | P::ReadCatalog
                | P::ReadCustomers
                | P::ManageCustomers
                | P::ReadOrders
                | P::PlaceOrders
                | P::ManageOrders
                | P::MarkPaid
                | P::ReadDocuments
                | P::ListDocuments
                | P::RequestReprints
                | P::ManageQuotes
                | P::ReadStatistics
                | P::ExportCustomers
        ),
        Role::Storefront => matches!(
            permission,
            P::ReadShop
                | P::ReadCatalog
                | P::ReadCustomers
                | P::ManageCustomers
                | P::ReadOrders
                | P::PlaceOrders
                | P::RecordPayments
                | P::ReadDocuments
        ),
        Role::Accountant => matches!(
            permission,
            P::ReadShop
                | P::ReadCatalog
                | P::ReadCustomers
                | P::ReadOrders
                | P::ReadDocuments
                | P::ListDocuments
                | P::ReadEvents
                | P::ReadLedgerMapping
                | P::ReadLedger
                | P::ReadStatistics
                | P::ExportCustomers
                | P::ReadClosures
        ),
        Role::Printer => matches!(
            permission,
            P::ReadShop | P::ReadOrders | P::ReadEvents | P::ReportPrintJobs
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managers_manage_keys_and_catalog() {
        // Proves configuration stays with managers (seed 000: employees change no configuration).
        for role in Role::ALL {
            let is_manager = role == Role::Manager;
            assert_eq!(role_allows(role, Permission::ManageKeys), is_manager);
            assert_eq!(role_allows(role, Permission::ManageCatalog), is_manager);
            assert_eq!(role_allows(role, Permission::IssueCreditNotes), is_manager);
            assert_eq!(
                role_allows(role, Permission::ManageLedgerMapping),
                is_manager
            );
            assert_eq!(
                role_allows(role, Permission::ManageShopSettings),
                is_manager
            );
            assert_eq!(
                role_allows(role, Permission::ManageReportSchedules),
                is_manager
            );
            let reads_mapping = matches!(role, Role::Manager | Role::Accountant);
            assert_eq!(
                role_allows(role, Permission::ReadLedgerMapping),
                reads_mapping
            );
        }
    }

    #[test]
    fn printers_read_orders_and_report_jobs_only() {
        // Proves a printer key reads the feed and orders and reports jobs, and nothing else.
        let allowed: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| role_allows(Role::Printer, *p))
            .collect();
        let expected = [
            Permission::ReadShop,
            Permission::ReadOrders,
            Permission::ReadEvents,
            Permission::ReportPrintJobs,
        ];
        assert_eq!(allowed, expected);
        assert!(role_allows(Role::Employee, Permission::RequestReprints));
        assert!(!role_allows(Role::Employee, Permission::ReportPrintJobs));
    }

    #[test]
    fn staff_handle_quotes_and_others_do_not() {
        // Proves quotes and purchase orders are made and moved by managers and employees only.
        for role in Role::ALL {
            let staff = matches!(role, Role::Manager | Role::Employee);
            assert_eq!(
                role_allows(role, Permission::ManageQuotes),
                staff,
                "{role:?}"
            );
        }
    }

    #[test]
    fn counter_and_storefront_duties() {
        // Proves employees mark paid at the counter, storefronts record online payments, accountants only read.
        assert!(role_allows(Role::Employee, Permission::MarkPaid));
        assert!(!role_allows(Role::Storefront, Permission::MarkPaid));
        assert!(role_allows(Role::Storefront, Permission::RecordPayments));
        assert!(!role_allows(Role::Employee, Permission::RecordPayments));
        let accountant_writes = Permission::ALL.iter().filter(|p| {
            role_allows(Role::Accountant, **p)
                && !matches!(
                    p,
                    Permission::ReadShop
                        | Permission::ReadCatalog
                        | Permission::ReadCustomers
                        | Permission::ReadOrders
                        | Permission::ReadDocuments
                        | Permission::ListDocuments
                        | Permission::ReadEvents
                        | Permission::ReadLedgerMapping
                        | Permission::ReadLedger
                        | Permission::ReadStatistics
                        | Permission::ExportCustomers
                        | Permission::ReadClosures
                )
        });
        assert_eq!(accountant_writes.count(), 0);
        assert!(Permission::ALL
            .iter()
            .all(|p| role_allows(Role::Manager, *p)));
    }

    /// Given a role, when it asks for `permission`, then it is allowed exactly when it is one of
    /// `allowed`.
    #[track_caller]
    fn given_roles_when_asking_then_only(permission: Permission, allowed: &[Role]) {
        for role in Role::ALL {
            assert_eq!(
                role_allows(role, permission),
                allowed.contains(&role),
                "{role:?} {permission:?}"
            );
        }
    }

    #[test]
    fn closures_are_read_by_managers_and_accountants_and_made_by_managers() {
        // Proves an accountant audits the NF525 closures but only a manager records one.
        given_roles_when_asking_then_only(
            Permission::ReadClosures,
            &[Role::Manager, Role::Accountant],
        );
        given_roles_when_asking_then_only(Permission::ClosePeriods, &[Role::Manager]);
    }

    #[test]
    fn the_books_are_read_by_managers_and_accountants_only() {
        // Proves a storefront, employee or printer key cannot read the journal, general ledger,
        // trial balance or FEC.
        given_roles_when_asking_then_only(
            Permission::ReadLedger,
            &[Role::Manager, Role::Accountant],
        );
    }

    #[test]
    fn document_lists_and_bundles_are_for_staff_and_never_a_storefront() {
        // Proves a storefront key, which reads one of its customers' documents by number, cannot
        // list or bulk-download every document of the shop, and that a printer reads none.
        given_roles_when_asking_then_only(
            Permission::ListDocuments,
            &[Role::Manager, Role::Employee, Role::Accountant],
        );
    }

    #[test]
    fn one_document_by_number_is_read_by_staff_and_the_storefront() {
        // Proves narrowing the lists leaves a storefront its customers' invoices by number.
        given_roles_when_asking_then_only(
            Permission::ReadDocuments,
            &[
                Role::Manager,
                Role::Employee,
                Role::Storefront,
                Role::Accountant,
            ],
        );
    }

    #[test]
    fn statistics_are_read_by_back_office_staff_and_never_a_storefront() {
        // Proves the shop's revenue is for managers, employees (seed 000) and accountants only.
        given_roles_when_asking_then_only(
            Permission::ReadStatistics,
            &[Role::Manager, Role::Employee, Role::Accountant],
        );
    }

    #[test]
    fn the_customer_list_export_is_never_a_storefront_s() {
        // Proves a storefront key, which reads the customers it serves, cannot download them all.
        given_roles_when_asking_then_only(
            Permission::ExportCustomers,
            &[Role::Manager, Role::Employee, Role::Accountant],
        );
    }

    #[test]
    fn a_storefront_keeps_what_checkout_and_the_customer_space_need() {
        // Proves the audit's fix leaves a storefront its customers, orders, payments and
        // documents, and gives it nothing of the back office.
        let allowed: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| role_allows(Role::Storefront, *p))
            .collect();
        let expected = [
            Permission::ReadShop,
            Permission::ReadCatalog,
            Permission::ReadCustomers,
            Permission::ManageCustomers,
            Permission::ReadOrders,
            Permission::PlaceOrders,
            Permission::RecordPayments,
            Permission::ReadDocuments,
        ];
        assert_eq!(allowed, expected);
    }
}
