//! The ledger: every money event posts a balanced double-entry entry (French chart of accounts),
//! kept in its own sled tree with its own checkpoint.
//!
//! Days, months and fiscal years are the shop's: the ledger follows each shop's time zone from
//! its own events (`ShopCreated`, `TimeZoneChanged`) and books every entry on the local day its
//! instant falls on in the zone in force when it is posted, stored on the entry, so a later zone
//! change never moves an entry from one period to another.
//!
//! Customers are accounts: an order's 411/4191 postings name the auxiliary account of the account
//! it belongs to, resolved when it is placed from the email claims the ledger keeps itself
//! (`CustomerEmailClaimed`), so one customer's balance is never split across an email change.
//!
//! Entries are keyed by shop, local day, then a per-shop entry number given in log order, so the
//! journal reads in date order and the FEC export is one range scan. Each posting also adds to a
//! running balance per (shop, local month, account), so a trial balance reads one row per account
//! and month instead of every entry. An entry that does not balance is refused when it is posted
//! (a bug in the posting rules must stop the projection, not skew the books), and the trial balance
//! is checked again when it is read.

mod accounts;
mod general_ledger_pages;
mod post;
mod reports;
mod writes;

pub use accounts::{account_label, AccountMapping, Journal};
pub use general_ledger_pages::GeneralLedgerPage;
pub use reports::{
    fec_file_name, month_of, AccountBalanceRow, FecExport, FiscalYearRow, GeneralLedger,
    GeneralLedgerAccount, GeneralLedgerLine, PeriodBound, TrialBalance, FEC_COLUMNS,
};

pub(crate) use post::order_ref;
#[cfg(test)]
pub(crate) use writes::LEDGER_FORMAT_KEY;
pub(crate) use writes::{apply_chunk, ledger_format_is_stale, load_ledger_checkpoint, LedgerTable};

/// The ledger tree's bookkeeping tag (the checkpoint lives under it).
pub(crate) const LEDGER_META_TAG: u8 = LedgerTable::Meta as u8;

use chrono::{DateTime, NaiveDate, Utc};
use comptoir_eventlog::Position;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One line of an entry: an account debited or credited (never both; amounts never negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: String,
    pub account_label: String,
    /// The customer's auxiliary account on 411 and 4191 postings.
    pub aux_account: Option<String>,
    pub aux_label: Option<String>,
    pub debit: Decimal,
    pub credit: Decimal,
}

/// One balanced entry of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Per shop, from 1, in the order events were posted (FEC `EcritureNum`).
    pub entry_number: u64,
    pub journal: Journal,
    pub date: DateTime<Utc>,
    /// The day the entry is booked on: `date`'s day in the shop's time zone in force when it was
    /// posted (FEC `EcritureDate`, `PieceDate` and `ValidDate`); it fixes the entry's day, month
    /// and fiscal year for good.
    pub local_date: NaiveDate,
    /// The supporting document: an invoice or credit note number, or the order for a payment.
    pub piece_ref: String,
    pub piece_date: DateTime<Utc>,
    pub label: String,
    pub postings: Vec<Posting>,
    /// The log position of the event that posted it.
    pub position: Position,
}

impl LedgerEntry {
    pub fn total_debit(&self) -> Decimal {
        self.postings.iter().map(|p| p.debit).sum()
    }

    pub fn total_credit(&self) -> Decimal {
        self.postings.iter().map(|p| p.credit).sum()
    }
}

/// Debits and credits of one account over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalance {
    pub debit: Decimal,
    pub credit: Decimal,
}
