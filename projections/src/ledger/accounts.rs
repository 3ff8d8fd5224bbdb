//! The chart of accounts the ledger posts to, and the per-shop mapping from money events to it.
//!
//! The defaults follow the French Plan Comptable Général as a photo-print shop would use it:
//! goods (prints, books, mugs) are "ventes de marchandises" (707), shipping and services are
//! "prestations de services" (706). A shop changes any of it with the `LedgerMappingChanged`
//! event; the mapping in force when an event is posted is the one used, so re-mapping never
//! rewrites past entries.

use comptoir_domain::order::PaymentMethod;
use serde::{Deserialize, Serialize};

/// Which account each kind of amount goes to, for one shop: the domain's type, so the mapping a
/// manager sets is exactly the one posted with.
pub use comptoir_domain::shop::LedgerMapping as AccountMapping;

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
