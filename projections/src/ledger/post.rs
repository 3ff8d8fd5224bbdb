//! The posting rules: which money event debits and credits which accounts.
//!
//! - A payment: debit the bank (512), the cash (530) or the customer credit (4191, a payment with
//!   store credit), credit the customer (411). Journals BQ, CA, OD.
//! - An invoice (journal VE): debit the customer with the total including VAT, credit sales
//!   (707 goods / 706 services and shipping) with the lines excluding VAT at their catalog
//!   prices, debit discounts granted (709) with the coupon's allowances excluding VAT, and credit
//!   VAT collected per rate from the totals (computed on the discounted sums): rate by rate the
//!   lines less the allowances are the totals, so the entry balances.
//! - A credit note (VE): the invoice's entry reversed for the credited lines; then its settlement:
//!   a refund (411 debited, bank or cash credited) or store credit (411 debited, 4191 credited).
//! - A cancelled order's payments given back outside any credit note: per method, 411 debited and
//!   the method's account credited (bank, cash, or the customer's credit), on its journal; an
//!   event recorded before refunds had methods: 411 debited, bank credited. The store credit's
//!   own `StoreCreditRestored`, appended with the `OrderCancelled`, posts nothing: the 4191 part
//!   is booked here once, so cancellations recorded before restores existed rebuild the same.

use super::accounts::{account_label, AccountMapping, Journal};
use super::writes::{ledger_key, month_bytes, LedgerTable, LedgerWrites};
use super::{LedgerEntry, Posting};
use crate::apply::Decoded;
use crate::error::{ProjectionError, ProjectionResult};
use chrono::{DateTime, Utc};
use comptoir_domain::calendar::{local_date, zone_or_default};
use comptoir_domain::catalog::CatalogEvent;
use comptoir_domain::coupon;
use comptoir_domain::customer::{customer_id_for, CustomerEvent};
use comptoir_domain::documents::DocumentEvent;
use comptoir_domain::order::{
    DocumentAllowance, DocumentLine, LineKind, MethodRefund, OrderCustomer, OrderEvent,
    PaymentMethod, PaymentRecord,
};
use comptoir_domain::pricing::Totals;
use comptoir_domain::shop::{FiscalCalendar, ProfileUpdate, ShopEvent};
use comptoir_eventlog::RecordedEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the ledger keeps of a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LedgerShop {
    pub name: String,
    pub siren: String,
    pub currency: String,
    pub mapping: AccountMapping,
    /// Every fiscal year of the shop (its closing days and when they changed), folded from its
    /// events by the domain's rule, so the FEC of a year is cut as the closures cut it.
    #[serde(default)]
    pub fiscal_calendar: FiscalCalendar,
}

/// The customer of an order, as its auxiliary account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OrderParty {
    pub aux_account: String,
    pub aux_label: String,
}

impl OrderParty {
    /// The party of an order as it is placed. Stored with the order and read by every later
    /// entry of it, so its payments, invoice and credit notes share one auxiliary account, and a
    /// claim of its email recorded later does not move entries already posted.
    fn of(
        writes: &LedgerWrites,
        shop_id: Uuid,
        customer: &OrderCustomer,
    ) -> ProjectionResult<Self> {
        let hex = order_account(writes, shop_id, customer)?
            .simple()
            .to_string()
            .to_uppercase();
        Ok(OrderParty {
            aux_account: format!("C{}", &hex[..12]),
            aux_label: customer.name.clone(),
        })
    }
}

/// The account an order belongs to, by the rule the API places orders with: the one it names
/// (checked against its email's claim when it was placed), else its email's account
/// (`coupon::customer_key`), read from the ledger's own alias table so that the ledger depends on
/// no other projection.
fn order_account(
    writes: &LedgerWrites,
    shop_id: Uuid,
    customer: &OrderCustomer,
) -> ProjectionResult<Uuid> {
    if let Some(account_id) = customer.customer_id {
        return Ok(account_id);
    }
    let email_id = customer_id_for(shop_id, &customer.email);
    let email_moved_to = writes.get::<Uuid>(&ledger_key(
        LedgerTable::CustomerAlias,
        shop_id,
        email_id.as_bytes(),
    ))?;
    match coupon::customer_key(shop_id, customer, email_moved_to) {
        Ok(account_id) => Ok(account_id),
        Err(error) => {
            // The domain normalises and checks the email before it records an order, so this is
            // an order recorded under older rules: the id its email derives to is all it has,
            // and stopping the books over one customer's address would be worse.
            tracing::warn!(%shop_id, %error, "order email not valid; posted on the id it derives to");
            Ok(email_id)
        }
    }
}

/// An entry being built: postings with a sign folded in, zero amounts dropped.
struct Draft {
    journal: Journal,
    date: DateTime<Utc>,
    piece_ref: String,
    label: String,
    postings: Vec<Posting>,
}

impl Draft {
    fn new(journal: Journal, date: DateTime<Utc>, piece_ref: String, label: String) -> Self {
        Draft {
            journal,
            date,
            piece_ref,
            label,
            postings: Vec::new(),
        }
    }

    /// Debits `account` with `amount` (a negative amount credits it instead).
    fn debit(&mut self, account: &str, party: Option<&OrderParty>, amount: Decimal) {
        if amount.is_zero() {
            return;
        }
        let (debit, credit) = if amount > Decimal::ZERO {
            (amount, Decimal::ZERO)
        } else {
            (Decimal::ZERO, -amount)
        };
        self.postings.push(Posting {
            account: account.to_string(),
            account_label: account_label(account),
            aux_account: party.map(|p| p.aux_account.clone()),
            aux_label: party.map(|p| p.aux_label.clone()),
            debit,
            credit,
        });
    }

    fn credit(&mut self, account: &str, party: Option<&OrderParty>, amount: Decimal) {
        self.debit(account, party, -amount);
    }
}

pub(crate) fn post_event(
    writes: &mut LedgerWrites,
    recorded: &RecordedEvent,
    decoded: &Decoded,
) -> ProjectionResult<()> {
    match decoded {
        Decoded::Shop(ShopEvent::ShopCreated { profile, .. }) => {
            let shop = LedgerShop {
                name: profile.organisation.name.clone(),
                siren: profile.organisation.siren.clone(),
                currency: profile.currency.clone(),
                mapping: AccountMapping::default(),
                fiscal_calendar: FiscalCalendar::new(profile.fiscal_year_end()),
            };
            writes.put(ledger_key(LedgerTable::Shop, profile.shop_id, &[]), &shop)?;
            // The resolved name, so the row says which zone the days are counted in even for a
            // shop created before zones existed.
            let zone = profile.zone().name().to_string();
            writes.put(
                ledger_key(LedgerTable::TimeZone, profile.shop_id, &[]),
                &zone,
            )
        }
        Decoded::Shop(ShopEvent::LedgerMappingChanged {
            shop_id, mapping, ..
        }) => change_mapping(writes, *shop_id, mapping),
        Decoded::Shop(ShopEvent::TimeZoneChanged {
            shop_id, time_zone, ..
        }) => change_time_zone(writes, *shop_id, time_zone),
        Decoded::Shop(ShopEvent::ShopProfileUpdated {
            shop_id,
            update,
            updated_at,
        }) => change_identity(writes, *shop_id, update, *updated_at),
        Decoded::Catalog(
            CatalogEvent::ProductAdded { shop_id, product }
            | CatalogEvent::ProductUpdated { shop_id, product },
        ) => writes.put(
            ledger_key(
                LedgerTable::ProductCategory,
                *shop_id,
                product.sku.as_bytes(),
            ),
            &product.category_id,
        ),
        // Only the claim: it is what makes an email another account's (`order_account`).
        Decoded::Customer(CustomerEvent::CustomerEmailClaimed {
            shop_id,
            email_id,
            claimed_by,
            ..
        }) => writes.put(
            ledger_key(LedgerTable::CustomerAlias, *shop_id, email_id.as_bytes()),
            claimed_by,
        ),
        Decoded::Order(event) => post_order_event(writes, recorded, event),
        Decoded::Document(event) => post_document(writes, recorded, event),
        _ => Ok(()),
    }
}

/// Events are posted in log order, so from here on this shop's postings use `mapping`; entries
/// already booked keep the accounts they were booked to.
fn change_mapping(
    writes: &mut LedgerWrites,
    shop_id: Uuid,
    mapping: &AccountMapping,
) -> ProjectionResult<()> {
    let key = ledger_key(LedgerTable::Shop, shop_id, &[]);
    let Some(mut shop) = writes.get::<LedgerShop>(&key)? else {
        // The domain refuses a mapping for a shop that does not exist; nothing to re-map.
        return Ok(());
    };
    shop.mapping = mapping.clone();
    writes.put(key, &shop)
}

/// The company the books are kept for, as the shop states it from now on (the FEC export's
/// file name and header use it); entries already posted are not touched. A new closing day
/// reshapes the fiscal year in progress on the update's local day (`FiscalCalendar`), in the
/// zone the ledger follows, which is the zone the shop aggregate counts it in.
fn change_identity(
    writes: &mut LedgerWrites,
    shop_id: Uuid,
    update: &ProfileUpdate,
    updated_at: DateTime<Utc>,
) -> ProjectionResult<()> {
    let key = ledger_key(LedgerTable::Shop, shop_id, &[]);
    let Some(mut shop) = writes.get::<LedgerShop>(&key)? else {
        // The domain refuses an update of a shop that does not exist; nothing to rename.
        return Ok(());
    };
    shop.name = update.organisation.name.clone();
    shop.siren = update.organisation.siren.clone();
    shop.currency = update.currency.clone();
    let zone = writes.get::<String>(&ledger_key(LedgerTable::TimeZone, shop_id, &[]))?;
    shop.fiscal_calendar = shop.fiscal_calendar.after_update(
        updated_at,
        zone_or_default(zone.as_deref()),
        update.fiscal_year_end.as_deref(),
    );
    writes.put(key, &shop)
}

/// Entries posted from here on are booked on the days of `time_zone`; entries already booked
/// keep the day stored on them.
fn change_time_zone(
    writes: &mut LedgerWrites,
    shop_id: Uuid,
    time_zone: &str,
) -> ProjectionResult<()> {
    let key = ledger_key(LedgerTable::TimeZone, shop_id, &[]);
    if writes.get::<String>(&key)?.is_none() {
        // The domain refuses a zone for a shop that does not exist; nothing to follow.
        return Ok(());
    }
    writes.put(key, &time_zone.to_string())
}

fn post_order_event(
    writes: &mut LedgerWrites,
    recorded: &RecordedEvent,
    event: &OrderEvent,
) -> ProjectionResult<()> {
    match event {
        OrderEvent::OrderPlaced(placed) => {
            let party = OrderParty::of(writes, placed.shop_id, &placed.customer)?;
            writes.put(
                ledger_key(
                    LedgerTable::OrderParty,
                    placed.shop_id,
                    placed.order_id.as_bytes(),
                ),
                &party,
            )
        }
        OrderEvent::PaymentRecorded {
            shop_id,
            order_id,
            payment,
        } => post_payment(writes, recorded, *shop_id, *order_id, payment),
        OrderEvent::OrderCancelled {
            shop_id,
            order_id,
            refund_due,
            refunds,
            cancelled_at,
            ..
        } if !refund_due.is_zero() => {
            let refund = CancellationRefund {
                order_id: *order_id,
                date: *cancelled_at,
                refund_due: *refund_due,
                refunds,
            };
            refund.post(writes, recorded, *shop_id)
        }
        _ => Ok(()),
    }
}

/// The payments of a cancelled, partly paid order given back outside any credit note.
struct CancellationRefund<'a> {
    order_id: Uuid,
    date: DateTime<Utc>,
    refund_due: Decimal,
    /// Empty for an event recorded before refunds were split by method.
    refunds: &'a [MethodRefund],
}

impl CancellationRefund<'_> {
    /// One entry per method, on that method's journal and account, the way the payments were
    /// posted (cash back from 530, store credit back to the customer's 4191); an event without
    /// refund rows gives its one amount back from the bank, as it was always posted, so a
    /// rebuild books it as before.
    fn post(
        &self,
        writes: &mut LedgerWrites,
        recorded: &RecordedEvent,
        shop_id: Uuid,
    ) -> ProjectionResult<()> {
        // The posting side's check of the domain's rule that the rows split `refund_due`.
        let split: Decimal = self.refunds.iter().map(|r| r.amount).sum();
        if !self.refunds.is_empty() && split != self.refund_due {
            return Err(ProjectionError::Unbalanced {
                position: recorded.position,
                debit: self.refund_due.to_string(),
                credit: split.to_string(),
            });
        }
        let Some((shop, party)) = shop_and_party(writes, shop_id, self.order_id)? else {
            return Ok(());
        };
        let mapping = &shop.mapping;
        let piece_ref = order_ref(self.order_id);
        if self.refunds.is_empty() {
            let mut draft = Draft::new(
                Journal::Bank,
                self.date,
                piece_ref.clone(),
                format!("Remboursement commande annulée {piece_ref}"),
            );
            draft.debit(&mapping.customers, Some(&party), self.refund_due);
            draft.credit(&mapping.bank, None, self.refund_due);
            return book(writes, recorded, shop_id, draft);
        }
        for refund in self.refunds {
            let account = mapping.treasury(refund.method);
            let account_party = (account == mapping.customer_credit).then_some(&party);
            let mut draft = Draft::new(
                Journal::of_payment(refund.method),
                self.date,
                piece_ref.clone(),
                format!(
                    "Remboursement {} commande annulée {piece_ref}",
                    method_label(refund.method)
                ),
            );
            draft.debit(&mapping.customers, Some(&party), refund.amount);
            draft.credit(account, account_party, refund.amount);
            book(writes, recorded, shop_id, draft)?;
        }
        Ok(())
    }
}

/// The short reference of an order on entries that have no document of their own (and on
/// statistics rows of orders with no invoice yet).
pub(crate) fn order_ref(order_id: Uuid) -> String {
    let hex = order_id.simple().to_string().to_uppercase();
    format!("CMD-{}", &hex[..12])
}

fn shop_and_party(
    writes: &LedgerWrites,
    shop_id: Uuid,
    order_id: Uuid,
) -> ProjectionResult<Option<(LedgerShop, OrderParty)>> {
    let shop = writes.get::<LedgerShop>(&ledger_key(LedgerTable::Shop, shop_id, &[]))?;
    let party = writes.get::<OrderParty>(&ledger_key(
        LedgerTable::OrderParty,
        shop_id,
        order_id.as_bytes(),
    ))?;
    match (shop, party) {
        (Some(shop), Some(party)) => Ok(Some((shop, party))),
        _ => {
            tracing::warn!(%shop_id, %order_id, "money event of an unknown shop or order not posted");
            Ok(None)
        }
    }
}

fn post_payment(
    writes: &mut LedgerWrites,
    recorded: &RecordedEvent,
    shop_id: Uuid,
    order_id: Uuid,
    payment: &PaymentRecord,
) -> ProjectionResult<()> {
    let Some((shop, party)) = shop_and_party(writes, shop_id, order_id)? else {
        return Ok(());
    };
    let mapping = &shop.mapping;
    let treasury = mapping.treasury(payment.method);
    let mut draft = Draft::new(
        Journal::of_payment(payment.method),
        payment.recorded_at,
        order_ref(order_id),
        format!(
            "Règlement {} {}",
            method_label(payment.method),
            party.aux_label
        ),
    );
    let treasury_party = (treasury == mapping.customer_credit).then_some(&party);
    draft.debit(treasury, treasury_party, payment.amount);
    draft.credit(&mapping.customers, Some(&party), payment.amount);
    book(writes, recorded, shop_id, draft)
}

fn method_label(method: PaymentMethod) -> &'static str {
    use comptoir_domain::order::PaymentMethod::*;
    match method {
        Cash => "espèces",
        Card => "carte",
        Paypal => "PayPal",
        Cheque => "chèque",
        BankTransfer => "virement",
        StoreCredit => "avoir",
    }
}

fn post_document(
    writes: &mut LedgerWrites,
    recorded: &RecordedEvent,
    event: &DocumentEvent,
) -> ProjectionResult<()> {
    match event {
        // A quote is an offer and a purchase order a commitment: neither is a sale. Goods are
        // sold, and VAT becomes due, on the invoice of an order; a purchase order's payment is
        // recorded on the document only (see ARCHITECTURE.md, "Quotes and purchase orders").
        DocumentEvent::QuoteIssued { .. } | DocumentEvent::PurchaseOrderIssued { .. } => Ok(()),
        DocumentEvent::InvoiceIssued {
            shop_id,
            number,
            issued_at,
            invoice,
        } => {
            let Some((shop, party)) = shop_and_party(writes, *shop_id, invoice.order_id)? else {
                return Ok(());
            };
            let mut draft = Draft::new(
                Journal::Sales,
                *issued_at,
                number.number.clone(),
                format!("Facture {} {}", number.number, party.aux_label),
            );
            let sale = Sale {
                lines: &invoice.lines,
                allowances: &invoice.allowances,
                totals: &invoice.totals,
                sign: Decimal::ONE,
            };
            sale.post(writes, *shop_id, &shop.mapping, &party, &mut draft)?;
            book(writes, recorded, *shop_id, draft)
        }
        DocumentEvent::CreditNoteIssued {
            shop_id,
            number,
            issued_at,
            credit_note,
        } => {
            let Some((shop, party)) = shop_and_party(writes, *shop_id, credit_note.order_id)?
            else {
                return Ok(());
            };
            let mut draft = Draft::new(
                Journal::Sales,
                *issued_at,
                number.number.clone(),
                format!("Avoir {} {}", number.number, party.aux_label),
            );
            let sale = Sale {
                lines: &credit_note.lines,
                allowances: &credit_note.allowances,
                totals: &credit_note.totals,
                sign: Decimal::NEGATIVE_ONE,
            };
            sale.post(writes, *shop_id, &shop.mapping, &party, &mut draft)?;
            book(writes, recorded, *shop_id, draft)?;
            let settlement = CreditSettlement {
                number: &number.number,
                date: *issued_at,
                amount: credit_note.totals.total_incl_vat,
                settlement: credit_note.settlement,
            };
            settlement.post(writes, recorded, *shop_id, &shop.mapping, &party)
        }
        DocumentEvent::DeliverySlipIssued { .. } => Ok(()),
    }
}

/// The lines and totals of an invoice (sign +1) or a credit note (sign −1).
struct Sale<'a> {
    /// At their catalog prices, before any coupon.
    lines: &'a [DocumentLine],
    /// The coupon's discount per VAT rate.
    allowances: &'a [DocumentAllowance],
    totals: &'a Totals,
    sign: Decimal,
}

impl Sale<'_> {
    fn post(
        &self,
        writes: &LedgerWrites,
        shop_id: Uuid,
        mapping: &AccountMapping,
        party: &OrderParty,
        draft: &mut Draft,
    ) -> ProjectionResult<()> {
        // One posting per sales account, in account order: the entry stays short and its bytes
        // do not depend on the order of the lines.
        let mut sales: BTreeMap<String, Decimal> = BTreeMap::new();
        for line in self.lines {
            let account = match (line.kind, &line.sku) {
                (LineKind::Shipping, _) | (_, None) => mapping.services_sales.clone(),
                (LineKind::Product, Some(sku)) => {
                    let category = writes.get::<Uuid>(&ledger_key(
                        LedgerTable::ProductCategory,
                        shop_id,
                        sku.as_bytes(),
                    ))?;
                    mapping.product_sales(category).to_string()
                }
            };
            *sales.entry(account).or_default() += line.total_excl_vat;
        }
        draft.debit(
            &mapping.customers,
            Some(party),
            self.sign * self.totals.total_incl_vat,
        );
        for (account, amount) in sales {
            draft.credit(&account, None, self.sign * amount);
        }
        let discount: Decimal = self.allowances.iter().map(|a| a.amount_excl_vat).sum();
        draft.debit(&mapping.discounts, None, self.sign * discount);
        for subtotal in &self.totals.vat_breakdown {
            let account = mapping.vat(subtotal.vat_rate);
            draft.credit(account, None, self.sign * subtotal.vat_amount);
        }
        Ok(())
    }
}

/// How a credit note's amount goes back to the customer.
struct CreditSettlement<'a> {
    number: &'a str,
    date: DateTime<Utc>,
    amount: Decimal,
    settlement: comptoir_domain::order::Settlement,
}

impl CreditSettlement<'_> {
    fn post(
        &self,
        writes: &mut LedgerWrites,
        recorded: &RecordedEvent,
        shop_id: Uuid,
        mapping: &AccountMapping,
        party: &OrderParty,
    ) -> ProjectionResult<()> {
        let (journal, account, label, account_party) = match self.settlement {
            comptoir_domain::order::Settlement::Refund { method } => (
                Journal::of_payment(method),
                mapping.treasury(method),
                "Remboursement avoir",
                None,
            ),
            comptoir_domain::order::Settlement::StoreCredit => (
                Journal::Miscellaneous,
                mapping.customer_credit.as_str(),
                "Avoir en crédit client",
                Some(party),
            ),
        };
        let mut draft = Draft::new(
            journal,
            self.date,
            self.number.to_string(),
            format!("{label} {} {}", self.number, party.aux_label),
        );
        draft.debit(&mapping.customers, Some(party), self.amount);
        draft.credit(account, account_party, self.amount);
        book(writes, recorded, shop_id, draft)
    }
}

/// Numbers `draft`, checks it balances, stores it and adds it to the period balances.
fn book(
    writes: &mut LedgerWrites,
    recorded: &RecordedEvent,
    shop_id: Uuid,
    draft: Draft,
) -> ProjectionResult<()> {
    if draft.postings.is_empty() {
        return Ok(());
    }
    let counter_key = ledger_key(LedgerTable::EntryCounter, shop_id, &[]);
    let entry_number = writes.get::<u64>(&counter_key)?.unwrap_or(0) + 1;
    let zone_name = writes.get::<String>(&ledger_key(LedgerTable::TimeZone, shop_id, &[]))?;
    let entry = LedgerEntry {
        entry_number,
        journal: draft.journal,
        date: draft.date,
        local_date: local_date(draft.date, zone_or_default(zone_name.as_deref())),
        piece_ref: draft.piece_ref,
        piece_date: draft.date,
        label: draft.label,
        postings: draft.postings,
        position: recorded.position,
    };
    // The posting side of the pair of balance checks (the other is in the trial balance).
    if entry.total_debit() != entry.total_credit() {
        return Err(ProjectionError::Unbalanced {
            position: recorded.position,
            debit: entry.total_debit().to_string(),
            credit: entry.total_credit().to_string(),
        });
    }
    let month = month_bytes(entry.local_date);
    for posting in &entry.postings {
        let mut suffix = month.to_vec();
        suffix.extend_from_slice(posting.account.as_bytes());
        let key = ledger_key(LedgerTable::Balance, shop_id, &suffix);
        writes.add_to_balance(key, posting.debit, posting.credit)?;
    }
    writes.put(counter_key, &entry_number)?;
    writes.add_entry(shop_id, entry)
}
