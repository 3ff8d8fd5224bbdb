//! The chart of accounts the ledger posts to, and the per-shop mapping from money events to it.
//!
//! The defaults follow the French Plan Comptable Général as a photo-print shop would use it:
//! goods (prints, books, mugs) are "ventes de marchandises" (707), shipping and services are
//! "prestations de services" (706). A shop changes any of it with the `LedgerMappingSet` event;
//! the mapping in force when an event is posted is the one used, so re-mapping never rewrites
//! past entries.

use comptoir_domain::order::PaymentMethod;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which account each kind of amount goes to, for one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMapping {
    /// Customers (411); every posting to it names the customer as an auxiliary account.
    pub customers: String,
    /// Sales of goods (707): product lines unless their category says otherwise.
    pub goods_sales: String,
    /// Sales of services (706): shipping, and the categories listed in `service_categories`.
    pub services_sales: String,
    /// Product categories sold as services (retouching, scanning, …).
    pub service_categories: Vec<Uuid>,
    /// Any category mapped to an account of its own, overriding goods/services.
    pub category_accounts: BTreeMap<Uuid, String>,
    /// VAT collected, one sub-account per rate (percent as written, e.g. "20", "5.5").
    pub vat_by_rate: BTreeMap<String, String>,
    /// VAT collected at a rate missing from `vat_by_rate`.
    pub vat_default: String,
    /// Bank (512): card, PayPal, cheque and transfer payments.
    pub bank: String,
    /// Cash (530).
    pub cash: String,
    /// Customer credit (4191): store credit granted by credit notes and spent on orders.
    pub customer_credit: String,
    /// Discounts granted (709).
    pub discounts: String,
}

impl Default for AccountMapping {
    fn default() -> Self {
        let vat_by_rate = [
            ("20", "445712"),
            ("10", "445710"),
            ("5.5", "445715"),
            ("2.1", "445702"),
        ]
        .into_iter()
        .map(|(rate, account)| (rate.to_string(), account.to_string()))
        .collect();
        AccountMapping {
            customers: "411".into(),
            goods_sales: "707".into(),
            services_sales: "706".into(),
            service_categories: Vec::new(),
            category_accounts: BTreeMap::new(),
            vat_by_rate,
            vat_default: "44571".into(),
            bank: "512".into(),
            cash: "530".into(),
            customer_credit: "4191".into(),
            discounts: "709".into(),
        }
    }
}

impl AccountMapping {
    /// The sales account of a product line of `category_id` (unknown category: goods).
    pub fn product_sales(&self, category_id: Option<Uuid>) -> &str {
        let Some(category_id) = category_id else {
            return &self.goods_sales;
        };
        if let Some(account) = self.category_accounts.get(&category_id) {
            return account;
        }
        if self.service_categories.contains(&category_id) {
            return &self.services_sales;
        }
        &self.goods_sales
    }

    /// The VAT account of `rate` (percent).
    pub fn vat(&self, rate: Decimal) -> &str {
        self.vat_by_rate
            .get(&rate.normalize().to_string())
            .map_or(&self.vat_default, String::as_str)
    }

    /// Where money paid with `method` lands (or, for store credit, comes from).
    pub fn treasury(&self, method: PaymentMethod) -> &str {
        match method {
            PaymentMethod::Cash => &self.cash,
            PaymentMethod::StoreCredit => &self.customer_credit,
            PaymentMethod::Card
            | PaymentMethod::Paypal
            | PaymentMethod::Cheque
            | PaymentMethod::BankTransfer => &self.bank,
        }
    }
}

/// The label of an account number, by its longest known prefix (FEC's `CompteLib`).
pub fn account_label(account: &str) -> String {
    const LABELS: &[(&str, &str)] = &[
        ("4191", "Clients - avoirs et avances reçus"),
        ("411", "Clients"),
        ("44571", "TVA collectée"),
        ("512", "Banque"),
        ("530", "Caisse"),
        ("706", "Prestations de services"),
        ("707", "Ventes de marchandises"),
        ("709", "Rabais, remises et ristournes accordés"),
    ];
    let known = LABELS
        .iter()
        .filter(|(prefix, _)| account.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len());
    match known {
        Some((prefix, label)) if account.len() > prefix.len() && prefix.starts_with("4457") => {
            format!("{label} ({account})")
        }
        Some((_, label)) => (*label).to_string(),
        None => format!("Compte {account}"),
    }
}

/// The journals entries are booked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Journal {
    /// Ventes: invoices and credit notes.
    #[serde(rename = "VE")]
    Sales,
    /// Banque: payments and refunds through the bank.
    #[serde(rename = "BQ")]
    Bank,
    /// Caisse: cash at the counter.
    #[serde(rename = "CA")]
    Cash,
    /// Opérations diverses: store credit granted and spent.
    #[serde(rename = "OD")]
    Miscellaneous,
}

impl Journal {
    pub fn code(self) -> &'static str {
        match self {
            Journal::Sales => "VE",
            Journal::Bank => "BQ",
            Journal::Cash => "CA",
            Journal::Miscellaneous => "OD",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Journal::Sales => "Journal des ventes",
            Journal::Bank => "Journal de banque",
            Journal::Cash => "Journal de caisse",
            Journal::Miscellaneous => "Opérations diverses",
        }
    }

    /// The journal of a movement of money paid with `method`.
    pub fn of_payment(method: PaymentMethod) -> Journal {
        match method {
            PaymentMethod::Cash => Journal::Cash,
            PaymentMethod::StoreCredit => Journal::Miscellaneous,
            _ => Journal::Bank,
        }
    }
}
