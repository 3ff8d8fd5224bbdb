//! Reading the ledger: the journal, the general ledger of an account, the trial balance of a
//! period, and the FEC export of a fiscal year.
//!
//! Days, months and fiscal years are those of the shop's calendar: each entry carries the local
//! day it was booked on, and periods given as days or months select by that day.

use super::accounts::account_label;
use super::post::LedgerShop;
use super::writes::{day_bytes, entries_prefix, ledger_key, month_number, LedgerTable};
use super::{AccountBalance, LedgerEntry};
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::{FISCAL_YEARS_LISTED_MAX, LEDGER_ENTRIES_PER_READ_MAX};
use crate::packed;
use crate::store::ListRange;
use crate::Projections;
use crate::{Page, PageRequest};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use comptoir_domain::shop::FiscalYear;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The 18 columns of a FEC, in the order of article A47 A-1 of the Livre des procédures fiscales.
pub const FEC_COLUMNS: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// One account's line of a trial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalanceRow {
    pub account: String,
    pub label: String,
    pub debit: Decimal,
    pub credit: Decimal,
    /// Debit minus credit.
    pub balance: Decimal,
}

/// Every account moved in a period, with totals that are equal by construction (and checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialBalance {
    /// First and last month included, as YYYYMM.
    pub from_month: u32,
    pub to_month: u32,
    pub rows: Vec<AccountBalanceRow>,
    pub total_debit: Decimal,
    pub total_credit: Decimal,
}

/// One posting of an account, with the account's running balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralLedgerLine {
    pub entry_number: u64,
    pub journal: String,
    pub date: DateTime<Utc>,
    /// The day the entry is booked on, in the shop's calendar.
    pub local_date: NaiveDate,
    pub piece_ref: String,
    pub label: String,
    pub aux_account: Option<String>,
    pub debit: Decimal,
    pub credit: Decimal,
    pub running_balance: Decimal,
}

impl GeneralLedgerLine {
    pub(super) fn of(
        entry: &LedgerEntry,
        posting: &super::Posting,
        running_balance: Decimal,
    ) -> Self {
        GeneralLedgerLine {
            entry_number: entry.entry_number,
            journal: entry.journal.code().to_string(),
            date: entry.date,
            local_date: entry.local_date,
            piece_ref: entry.piece_ref.clone(),
            label: entry.label.clone(),
            aux_account: posting.aux_account.clone(),
            debit: posting.debit,
            credit: posting.credit,
            running_balance,
        }
    }
}

/// One account of the general ledger: its postings of the period in date order, each with the
/// balance so far, and its totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralLedgerAccount {
    pub account: String,
    pub label: String,
    /// The balance before the first line: zero over a whole period, the balance so far on a
    /// page that continues the account (`general_ledger_page`).
    pub opening_balance: Decimal,
    pub lines: Vec<GeneralLedgerLine>,
    pub total_debit: Decimal,
    pub total_credit: Decimal,
    /// Debit minus credit over the period: the last line's running balance.
    pub balance: Decimal,
}

impl GeneralLedgerAccount {
    pub(super) fn new(account: &str) -> Self {
        GeneralLedgerAccount {
            account: account.to_string(),
            label: account_label(account),
            opening_balance: Decimal::ZERO,
            lines: Vec::new(),
            total_debit: Decimal::ZERO,
            total_credit: Decimal::ZERO,
            balance: Decimal::ZERO,
        }
    }
}

/// The general ledger of a period: the accounts moved, in account order, and their totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralLedger {
    pub accounts: Vec<GeneralLedgerAccount>,
    pub total_debit: Decimal,
    pub total_credit: Decimal,
}

/// A FEC file: its legal name and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FecExport {
    pub file_name: String,
    pub content: String,
    pub lines: u64,
}

/// One fiscal year as the accountant asks for it: the `year` to pass to the FEC export and the
/// year closure, its real bounds (a change of closing day may have shortened or lengthened it)
/// and the FEC file it exports as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiscalYearRow {
    /// The calendar year it closes in: its name for `fec?year=` and the year closures.
    pub year: i32,
    pub first_day: NaiveDate,
    pub closing_day: NaiveDate,
    /// Its length in calendar months when it is made of whole months (it then closes as the sum
    /// of its months, otherwise of its days); `None` otherwise.
    pub months: Option<u32>,
    /// True for the year holding `today`: its FEC is not final yet.
    pub in_progress: bool,
    pub fec_file_name: String,
}

impl FiscalYearRow {
    fn of(year: FiscalYear, siren: &str, today: NaiveDate) -> Self {
        let month_index = |day: NaiveDate| day.year() * 12 + day.month0() as i32;
        let months = year.is_whole_months().then(|| {
            u32::try_from(month_index(year.closing_day) - month_index(year.first_day) + 1)
                .unwrap_or(0)
        });
        FiscalYearRow {
            year: year.name(),
            first_day: year.first_day,
            closing_day: year.closing_day,
            months,
            in_progress: year.contains(today),
            fec_file_name: fec_file_name(siren, year.closing_day),
        }
    }
}

/// `{SIREN}FEC{AAAAMMJJ}.txt`, the date being the closing date of the fiscal year.
pub fn fec_file_name(siren: &str, closing: NaiveDate) -> String {
    format!("{siren}FEC{}.txt", closing.format("%Y%m%d"))
}

/// A FEC amount: comma decimal, two decimals, no thousands separator.
fn fec_amount(amount: Decimal) -> String {
    format!("{:.2}", amount.round_dp(2)).replace('.', ",")
}

/// A FEC date (AAAAMMJJ): a day of the shop's calendar, as booked on the entry.
fn fec_date(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// One end of a ledger period: a day of the shop's calendar, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodBound {
    /// As `from`: entries booked on this local day or later; as `until`: booked before it.
    Day(NaiveDate),
    /// As `from`: entries dated at or after this instant; as `until`: dated before it.
    Instant(DateTime<Utc>),
}

impl PeriodBound {
    /// The first local day an entry admitted from `self` can be booked on. An instant's local
    /// day is its UTC day or a neighbour (offsets lie within −12 h..+14 h), whatever the zone.
    pub(super) fn first_day(self) -> NaiveDate {
        match self {
            PeriodBound::Day(day) => day,
            PeriodBound::Instant(at) => at
                .date_naive()
                .checked_sub_days(Days::new(1))
                .unwrap_or(NaiveDate::MIN),
        }
    }

    /// The first local day past every entry admitted before `self`.
    pub(super) fn day_after(self) -> NaiveDate {
        match self {
            PeriodBound::Day(day) => day,
            PeriodBound::Instant(at) => at
                .date_naive()
                .checked_add_days(Days::new(2))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    fn admits_from(self, entry: &LedgerEntry) -> bool {
        match self {
            PeriodBound::Day(day) => entry.local_date >= day,
            PeriodBound::Instant(at) => entry.date >= at,
        }
    }

    fn admits_until(self, entry: &LedgerEntry) -> bool {
        match self {
            PeriodBound::Day(day) => entry.local_date < day,
            PeriodBound::Instant(at) => entry.date < at,
        }
    }
}

/// The entry rows a period's entries lie in: the local days from `from.first_day()` up to
/// `until.day_after()`, one list for the journal's scan and its pages (and the general ledger's).
pub(super) fn entries_range(shop_id: Uuid, from: PeriodBound, until: PeriodBound) -> ListRange {
    ListRange {
        list_tag: LedgerTable::Entry as u8,
        prefix: entries_prefix(shop_id),
        lower: Some(day_bytes(from.first_day()).to_vec()),
        upper: Some(day_bytes(until.day_after()).to_vec()),
    }
}

/// Whether `entry` lies in `[from, until)`: instant bounds scan a day more on each side
/// (`entries_range`), and only what lies in the period counts.
pub(super) fn in_period(entry: &LedgerEntry, from: PeriodBound, until: PeriodBound) -> bool {
    from.admits_from(entry) && until.admits_until(entry)
}

/// FEC cells must not hold the separator or a line break.
fn fec_text(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

impl Projections {
    /// Entries of the shop in `[from, until)`, in date order, at most
    /// `LEDGER_ENTRIES_PER_READ_MAX` (a longer period is an `InvalidQuery`).
    fn read_ledger_entries(
        &self,
        shop_id: Uuid,
        from: PeriodBound,
        until: PeriodBound,
    ) -> ProjectionResult<Vec<LedgerEntry>> {
        let mut entries = Vec::new();
        self.scan_entries(shop_id, from, until, |entry| {
            if entries.len() == LEDGER_ENTRIES_PER_READ_MAX {
                return Err(ProjectionError::InvalidQuery {
                    reason: format!(
                        "more than {LEDGER_ENTRIES_PER_READ_MAX} entries in the period; ask for a shorter one"
                    ),
                });
            }
            entries.push(entry);
            Ok(())
        })?;
        Ok(entries)
    }

    /// One page of the entries in `[from, until)`, in date order: for periods too long to read
    /// at once (`ledger_entries`). The cursor is the last entry's key (day, number), so a page
    /// stays right while later entries are posted.
    pub fn ledger_entries_page(
        &self,
        shop_id: Uuid,
        from: PeriodBound,
        until: PeriodBound,
        page: &PageRequest,
    ) -> ProjectionResult<Page<LedgerEntry>> {
        let range = entries_range(shop_id, from, until);
        packed::page(&self.ledger(), &range, page, |entry: LedgerEntry| {
            in_period(&entry, from, until).then_some(entry)
        })
    }

    /// Calls `visit` with each entry in `[from, until)`, in date order, holding one at a time.
    fn scan_entries(
        &self,
        shop_id: Uuid,
        from: PeriodBound,
        until: PeriodBound,
        mut visit: impl FnMut(LedgerEntry) -> ProjectionResult<()>,
    ) -> ProjectionResult<()> {
        packed::scan(
            &self.ledger(),
            &entries_range(shop_id, from, until),
            |entry: LedgerEntry| {
                if in_period(&entry, from, until) {
                    visit(entry)
                } else {
                    Ok(())
                }
            },
        )
    }

    /// The postings of `account` (and its sub-accounts) in `[from, until)`.
    pub fn general_ledger(
        &self,
        shop_id: Uuid,
        account: &str,
        from: PeriodBound,
        until: PeriodBound,
    ) -> ProjectionResult<Vec<GeneralLedgerLine>> {
        let mut lines = Vec::new();
        let mut running_balance = Decimal::ZERO;
        for entry in self.ledger_entries(shop_id, from, until)? {
            for posting in entry
                .postings
                .iter()
                .filter(|p| p.account.starts_with(account))
            {
                running_balance += posting.debit - posting.credit;
                lines.push(GeneralLedgerLine::of(&entry, posting, running_balance));
            }
        }
        Ok(lines)
    }

    /// The general ledger of `[from, until)`, account by account in account order: each
    /// account whose number starts with `account_prefix` (every account when `None`) with its
    /// postings in date order, its running balance and its totals. Reads at most
    /// `LEDGER_ENTRIES_PER_READ_MAX` entries, as the journal (a longer period is an
    /// `InvalidQuery`).
    fn read_general_ledger_accounts(
        &self,
        shop_id: Uuid,
        account_prefix: Option<&str>,
        from: PeriodBound,
        until: PeriodBound,
    ) -> ProjectionResult<GeneralLedger> {
        let prefix = account_prefix.unwrap_or_default();
        let mut accounts: BTreeMap<String, GeneralLedgerAccount> = BTreeMap::new();
        for entry in self.read_ledger_entries(shop_id, from, until)? {
            for posting in entry
                .postings
                .iter()
                .filter(|p| p.account.starts_with(prefix))
            {
                let account = accounts
                    .entry(posting.account.clone())
                    .or_insert_with(|| GeneralLedgerAccount::new(&posting.account));
                account.total_debit += posting.debit;
                account.total_credit += posting.credit;
                account.balance = account.total_debit - account.total_credit;
                let line = GeneralLedgerLine::of(&entry, posting, account.balance);
                account.lines.push(line);
            }
        }
        let accounts: Vec<GeneralLedgerAccount> = accounts.into_values().collect();
        let total_debit: Decimal = accounts.iter().map(|a| a.total_debit).sum();
        let total_credit: Decimal = accounts.iter().map(|a| a.total_credit).sum();
        // Every entry is balanced, so the whole ledger must be too: the same reading-side check
        // as the trial balance's (a prefix selects part of each entry, which need not balance).
        if account_prefix.is_none() && total_debit != total_credit {
            return Err(ProjectionError::Unbalanced {
                position: self.position(),
                debit: total_debit.to_string(),
                credit: total_credit.to_string(),
            });
        }
        Ok(GeneralLedger {
            accounts,
            total_debit,
            total_credit,
        })
    }

    /// Debits and credits per account over the months `from_month..=to_month` (YYYYMM) of the
    /// shop's calendar. Fails with `Unbalanced` if the totals differ: the reading side of the
    /// pair of balance checks.
    pub(crate) fn read_trial_balance(
        &self,
        shop_id: Uuid,
        from_month: u32,
        to_month: u32,
    ) -> ProjectionResult<TrialBalance> {
        check_month(from_month)?;
        check_month(to_month)?;
        if from_month > to_month {
            return Err(ProjectionError::InvalidQuery {
                reason: format!("the period ends ({to_month}) before it starts ({from_month})"),
            });
        }
        let mut accounts: BTreeMap<String, AccountBalance> = BTreeMap::new();
        for row in self.balance_rows(shop_id, from_month, to_month)? {
            let (account, balance) = row?;
            let total = accounts.entry(account).or_default();
            total.debit += balance.debit;
            total.credit += balance.credit;
        }
        let rows: Vec<AccountBalanceRow> = accounts
            .into_iter()
            .map(|(account, balance)| AccountBalanceRow {
                label: account_label(&account),
                balance: balance.debit - balance.credit,
                debit: balance.debit,
                credit: balance.credit,
                account,
            })
            .collect();
        let total_debit: Decimal = rows.iter().map(|r| r.debit).sum();
        let total_credit: Decimal = rows.iter().map(|r| r.credit).sum();
        if total_debit != total_credit {
            return Err(ProjectionError::Unbalanced {
                position: self.position(),
                debit: total_debit.to_string(),
                credit: total_credit.to_string(),
            });
        }
        Ok(TrialBalance {
            from_month,
            to_month,
            rows,
            total_debit,
            total_credit,
        })
    }

    /// Every fiscal year of the shop from the one of its first ledger entry (or the one in
    /// progress, with no entry yet) to the one holding `today`, oldest first, at most
    /// `FISCAL_YEARS_LISTED_MAX`. `None` when the shop is unknown to the ledger.
    pub fn fiscal_years(
        &self,
        shop_id: Uuid,
        today: NaiveDate,
    ) -> ProjectionResult<Option<Vec<FiscalYearRow>>> {
        let tree = self.ledger();
        let Some(shop) =
            crate::store::get::<LedgerShop>(&tree, &ledger_key(LedgerTable::Shop, shop_id, &[]))?
        else {
            return Ok(None);
        };
        let whole_journal = ListRange {
            list_tag: LedgerTable::Entry as u8,
            prefix: entries_prefix(shop_id),
            lower: None,
            upper: None,
        };
        let first_entry: Option<LedgerEntry> = packed::first(&tree, &whole_journal)?;
        let mut day = first_entry.map_or(today, |entry| entry.local_date.min(today));
        let mut years = Vec::new();
        while let Some(year) = shop.fiscal_calendar.year_containing(day) {
            if years.len() == FISCAL_YEARS_LISTED_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "fiscal years of one shop".into(),
                    limit: FISCAL_YEARS_LISTED_MAX,
                });
            }
            years.push(FiscalYearRow::of(year, &shop.siren, today));
            match year.day_after() {
                Some(next) if !year.contains(today) => day = next,
                _ => break,
            }
        }
        Ok(Some(years))
    }

    /// The FEC of the fiscal year closing in `year`, as the shops' fiscal calendar cuts it
    /// (`FiscalCalendar::year_closing_in`: twelve months to the closing day, or the real bounds
    /// of a year a change of closing day shortened or lengthened): one line per posting,
    /// tab-separated, UTF-8, dated with the entries' local days.
    ///
    /// `shop_ids` are the shops of one legal entity (the caller checks they share a SIREN): a
    /// FEC is due per SIREN, so a company with several shops hands in one file. Their fiscal
    /// years must coincide. Entries come day by day, on each day shop by shop in the order
    /// given; with one shop `EcritureNum` is the entry's own number, with several the file
    /// numbers them again in that order from 1, since each shop numbers its own entries.
    ///
    /// `None` when a shop is unknown to the ledger; `InvalidQuery` when no fiscal year closes
    /// in `year` or the shops' fiscal years differ.
    fn read_fec_export(&self, shop_ids: &[Uuid], year: i32) -> ProjectionResult<Option<FecExport>> {
        let mut shops = Vec::with_capacity(shop_ids.len());
        for shop_id in shop_ids {
            let key = ledger_key(LedgerTable::Shop, *shop_id, &[]);
            let Some(shop) = crate::store::get::<LedgerShop>(&self.ledger(), &key)? else {
                return Ok(None);
            };
            shops.push(shop);
        }
        let Some(first) = shops.first() else {
            return Ok(None);
        };
        let fiscal_year = fiscal_year_of_shops(&shops, year)?;
        let Some(day_after_closing) = fiscal_year.day_after() else {
            return Err(ProjectionError::InvalidQuery {
                reason: format!("no fiscal year {year}"),
            });
        };
        let mut content = FEC_COLUMNS.join("\t");
        content.push('\n');
        let mut lines = 0;
        let mut renumbered = 0;
        let mut month_start = fiscal_year.first_day;
        while month_start < day_after_closing {
            let month_end = first_of_next_month(month_start).min(day_after_closing);
            // A month of every shop at a time: the merge holds no more than that in memory.
            let mut entries = Vec::new();
            for (rank, shop_id) in shop_ids.iter().enumerate() {
                let (from, until) = (PeriodBound::Day(month_start), PeriodBound::Day(month_end));
                self.scan_entries(*shop_id, from, until, |entry| {
                    entries.push((entry.local_date, rank, entry));
                    Ok(())
                })?;
            }
            // Stable: within a shop and a day, entries keep their number order.
            entries.sort_by_key(|(day, rank, _)| (*day, *rank));
            for (_, _, entry) in &entries {
                renumbered += 1;
                let number = if shop_ids.len() == 1 {
                    entry.entry_number
                } else {
                    renumbered
                };
                lines += push_fec_lines(&mut content, entry, number);
            }
            month_start = month_end;
        }
        Ok(Some(FecExport {
            file_name: fec_file_name(&first.siren, fiscal_year.closing_day),
            content,
            lines,
        }))
    }
}

/// The fiscal year closing in `year` of every shop of `shops`, which must be the same.
fn fiscal_year_of_shops(shops: &[LedgerShop], year: i32) -> ProjectionResult<FiscalYear> {
    let mut found: Option<FiscalYear> = None;
    for shop in shops {
        let Some(fiscal_year) = shop.fiscal_calendar.year_closing_in(year) else {
            return Err(ProjectionError::InvalidQuery {
                reason: format!(
                    "no fiscal year of {} closes in {year} (a fiscal year longer than twelve months spans it, or the year is out of range)",
                    shop.name
                ),
            });
        };
        match found {
            Some(other) if other != fiscal_year => {
                return Err(ProjectionError::InvalidQuery {
                    reason: format!(
                        "the shops' fiscal years closing in {year} differ ({} to {} for {}, {} to {} for another): one FEC covers one fiscal year",
                        fiscal_year.first_day, fiscal_year.closing_day, shop.name, other.first_day, other.closing_day
                    ),
                });
            }
            _ => found = Some(fiscal_year),
        }
    }
    found.ok_or_else(|| ProjectionError::InvalidQuery {
        reason: "no shop given".into(),
    })
}

/// The first day of the month after `day`'s.
fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let (year, month) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MAX)
}

/// Appends one FEC line per posting of `entry`, numbered `number`; returns how many.
fn push_fec_lines(content: &mut String, entry: &LedgerEntry, number: u64) -> u64 {
    let mut lines = 0;
    for posting in &entry.postings {
        let cells = [
            entry.journal.code().to_string(),
            entry.journal.label().to_string(),
            number.to_string(),
            fec_date(entry.local_date),
            posting.account.clone(),
            fec_text(&posting.account_label),
            posting.aux_account.clone().unwrap_or_default(),
            fec_text(posting.aux_label.as_deref().unwrap_or_default()),
            fec_text(&entry.piece_ref),
            // `book` dates the piece when the entry is, so they share the local day.
            fec_date(entry.local_date),
            fec_text(&entry.label),
            fec_amount(posting.debit),
            fec_amount(posting.credit),
            String::new(),
            String::new(),
            fec_date(entry.local_date),
            String::new(),
            String::new(),
        ];
        content.push_str(&cells.join("\t"));
        content.push('\n');
        lines += 1;
    }
    lines
}

/// A YYYYMM month whose month part is 1..=12.
fn check_month(month: u32) -> ProjectionResult<()> {
    if (1..=12).contains(&(month % 100)) && (100..=999_912).contains(&month) {
        return Ok(());
    }
    Err(ProjectionError::InvalidQuery {
        reason: format!("{month} is not a month written YYYYMM (e.g. 202503)"),
    })
}

/// YYYYMM of a year and month, for `trial_balance`.
pub fn month_of(year: i32, month: u32) -> u32 {
    month_number(year, month)
}

/// The ledger reads a report needs whole: each reads several rows that one commit of the runner
/// may change together, so each runs on a state no commit changed meanwhile
/// (`Projections::ledger_snapshot`), and balances that balance in the books balance in the
/// answer.
impl Projections {
    /// See `read_ledger_entries`.
    pub fn ledger_entries(
        &self,
        shop_id: Uuid,
        from: PeriodBound,
        until: PeriodBound,
    ) -> ProjectionResult<Vec<LedgerEntry>> {
        self.ledger_snapshot(|| self.read_ledger_entries(shop_id, from, until))
    }

    /// See `read_general_ledger_accounts`.
    pub fn general_ledger_accounts(
        &self,
        shop_id: Uuid,
        account_prefix: Option<&str>,
        from: PeriodBound,
        until: PeriodBound,
    ) -> ProjectionResult<GeneralLedger> {
        self.ledger_snapshot(|| {
            self.read_general_ledger_accounts(shop_id, account_prefix, from, until)
        })
    }

    /// See `read_trial_balance`.
    pub fn trial_balance(
        &self,
        shop_id: Uuid,
        from_month: u32,
        to_month: u32,
    ) -> ProjectionResult<TrialBalance> {
        self.ledger_snapshot(|| self.read_trial_balance(shop_id, from_month, to_month))
    }

    /// See `read_fec_export`.
    pub fn fec_export(&self, shop_ids: &[Uuid], year: i32) -> ProjectionResult<Option<FecExport>> {
        self.ledger_snapshot(|| self.read_fec_export(shop_ids, year))
    }
}
