//! The general ledger read page by page, for periods holding more entries than one read allows
//! (`LEDGER_ENTRIES_PER_READ_MAX`).
//!
//! The general ledger shows each account's lines in date order, account after account, while
//! entries are stored in date order with every account mixed: a page of one account is the
//! journal's page of the period's entries (`entries_range`, `packed::page`) keeping that
//! account's postings, and when an account is exhausted the next account moved in the period
//! starts from the period's first entry. The cursor carries the account, the journal's cursor
//! within it, and the sums so far (the account's and every account's), so each page's opening
//! and running balances continue the previous page's without reading the entries before it:
//! the cost of a page is its own rows, whatever page of the year it is.
//!
//! A cursor's sums come back from the client, so they are only as true as the cursor handed
//! out: it belongs to the query (shop, period, account filter) that produced it. The books'
//! balance is checked where nothing passes through a client (posting, trial balance, the
//! one-answer general ledger).

use super::reports::{entries_range, in_period, GeneralLedgerAccount, GeneralLedgerLine};
use super::writes::{ledger_key, month_bytes, LedgerTable};
use super::{AccountBalance, LedgerEntry, PeriodBound};
use crate::error::{ProjectionError, ProjectionResult};
use crate::limits::{GENERAL_LEDGER_PAGE_ACCOUNTS_MAX, LEDGER_BALANCE_ROWS_PER_READ_MAX};
use crate::paging::{decode_cursor, encode_cursor};
use crate::store::decode_value;
use crate::{PageRequest, Projections};
use chrono::Days;
use comptoir_domain::shop::ACCOUNT_DIGITS_MAX;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The tag of general ledger cursors: not a table of the ledger tree, so that a journal cursor
/// (tagged `LedgerTable::Entry`) is refused here and the other way round.
const GENERAL_LEDGER_CURSOR_TAG: u8 = 0x47;

/// One page of the general ledger: the accounts it holds lines of, in account order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralLedgerPage {
    /// The part of each account on this page: `opening_balance` is its balance before the
    /// page's first line, its totals and `balance` run from the period's start through the
    /// page's last line, so an account's last part carries its totals over the period.
    pub accounts: Vec<GeneralLedgerAccount>,
    /// Every account's debits and credits from the first page through this one.
    pub total_debit: Decimal,
    pub total_credit: Decimal,
    /// Pass it as `after` for the next page; `None` once every account is read.
    pub next_cursor: Option<String>,
}

/// Where a page starts: the account being read and the sums before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct GeneralLedgerCursor {
    account: String,
    /// The journal's cursor after the account's last line read; `None` at its first line.
    after: Option<String>,
    /// The account's debits and credits read so far.
    debit: Decimal,
    credit: Decimal,
    /// Every account's, read so far.
    total_debit: Decimal,
    total_credit: Decimal,
}

impl GeneralLedgerCursor {
    fn first_of(account: String) -> Self {
        GeneralLedgerCursor {
            account,
            after: None,
            debit: Decimal::ZERO,
            credit: Decimal::ZERO,
            total_debit: Decimal::ZERO,
            total_credit: Decimal::ZERO,
        }
    }

    fn encode(&self) -> ProjectionResult<String> {
        let bytes = serde_json::to_vec(self).map_err(|error| ProjectionError::Corrupt {
            key: "general ledger cursor".into(),
            reason: error.to_string(),
        })?;
        Ok(encode_cursor(GENERAL_LEDGER_CURSOR_TAG, &bytes))
    }

    /// The cursor `text` stands for, refused unless it names an account the query selects.
    fn decode(text: &str, prefix: &str) -> ProjectionResult<Self> {
        let bytes = decode_cursor(GENERAL_LEDGER_CURSOR_TAG, text)?;
        let cursor: GeneralLedgerCursor =
            serde_json::from_slice(&bytes).map_err(|_| ProjectionError::InvalidCursor)?;
        let account_valid = (1..=ACCOUNT_DIGITS_MAX).contains(&cursor.account.len())
            && cursor.account.bytes().all(|b| b.is_ascii_digit())
            && cursor.account.starts_with(prefix);
        if !account_valid {
            return Err(ProjectionError::InvalidCursor);
        }
        Ok(cursor)
    }

    /// The cursor at the first line of `account`, the sums of every account kept.
    fn next_account(self, account: String) -> Self {
        GeneralLedgerCursor {
            total_debit: self.total_debit,
            total_credit: self.total_credit,
            ..GeneralLedgerCursor::first_of(account)
        }
    }
}

impl Projections {
    /// One page of the general ledger of `[from, until)` (see `general_ledger_accounts` for the
    /// one-answer read): at most `page.limit` entries' lines (an entry posting twice to one
    /// account gives two lines), account after account in account order, each account's lines
    /// in date order with its running balance. Concatenating the pages' lines account by
    /// account gives the one-answer general ledger; the last page's totals are its totals. A
    /// page reads at most `GENERAL_LEDGER_PAGE_ACCOUNTS_MAX` accounts and `PAGE_SCAN_ROWS_MAX`
    /// entries for each, so it may come back short, with a cursor.
    fn read_general_ledger_page(
        &self,
        shop_id: Uuid,
        account_prefix: Option<&str>,
        from: PeriodBound,
        until: PeriodBound,
        page: &PageRequest,
    ) -> ProjectionResult<GeneralLedgerPage> {
        let prefix = account_prefix.unwrap_or_default();
        let accounts = self.period_accounts(shop_id, prefix, from, until)?;
        let mut cursor = match &page.after {
            Some(text) => Some(GeneralLedgerCursor::decode(text, prefix)?),
            None => accounts.first().cloned().map(GeneralLedgerCursor::first_of),
        };
        let mut reader = PageReader {
            projections: self,
            range_of: (shop_id, from, until),
            entries_left: page.effective_limit(),
            accounts: Vec::new(),
        };
        for _ in 0..GENERAL_LEDGER_PAGE_ACCOUNTS_MAX {
            let Some(at) = cursor.take() else {
                break;
            };
            match reader.read_account(at)? {
                AccountRead::Stopped(resume) => {
                    cursor = Some(resume);
                    break;
                }
                AccountRead::Finished(done) => {
                    let next = accounts.iter().find(|a| **a > done.account).cloned();
                    match next {
                        Some(account) => cursor = Some(done.next_account(account)),
                        None => return Ok(reader.into_page(&done, None)),
                    }
                }
            }
        }
        match cursor {
            Some(resume) => {
                let next_cursor = resume.encode()?;
                Ok(reader.into_page(&resume, Some(next_cursor)))
            }
            // No account moved in the period.
            None => Ok(reader.into_page(&GeneralLedgerCursor::first_of(String::new()), None)),
        }
    }

    /// The accounts starting with `prefix` moved in the months `[from, until)` touches, from the
    /// balances kept per month (one row per account and month, far fewer than the entries). A
    /// period that does not cover whole months may list an account with no line in it: its
    /// read then simply finds none.
    fn period_accounts(
        &self,
        shop_id: Uuid,
        prefix: &str,
        from: PeriodBound,
        until: PeriodBound,
    ) -> ProjectionResult<Vec<String>> {
        let first_day = from.first_day();
        let Some(last_day) = until.day_after().checked_sub_days(Days::new(1)) else {
            return Ok(Vec::new());
        };
        if first_day > last_day {
            return Ok(Vec::new());
        }
        let first_month = u32::from_be_bytes(month_bytes(first_day));
        let last_month = u32::from_be_bytes(month_bytes(last_day));
        let mut accounts = BTreeSet::new();
        for (index, row) in self
            .balance_rows(shop_id, first_month, last_month)?
            .enumerate()
        {
            if index == LEDGER_BALANCE_ROWS_PER_READ_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "account balances in the period".into(),
                    limit: LEDGER_BALANCE_ROWS_PER_READ_MAX,
                });
            }
            let (account, _) = row?;
            if account.starts_with(prefix) {
                accounts.insert(account);
            }
        }
        Ok(accounts.into_iter().collect())
    }

    /// The balance rows of the months `first_month..=last_month` (YYYYMM), month by month, each
    /// as its account and its debits and credits that month.
    pub(super) fn balance_rows(
        &self,
        shop_id: Uuid,
        first_month: u32,
        last_month: u32,
    ) -> ProjectionResult<impl Iterator<Item = ProjectionResult<(String, AccountBalance)>>> {
        let start = ledger_key(LedgerTable::Balance, shop_id, &first_month.to_be_bytes());
        let end = ledger_key(
            LedgerTable::Balance,
            shop_id,
            &(last_month.saturating_add(1)).to_be_bytes(),
        );
        // sled must not be asked for a reversed range; an empty one reads nothing.
        let rows = (start < end).then(|| self.ledger().range(start..end));
        let account_at = ledger_key(LedgerTable::Balance, shop_id, &[]).len() + 4;
        Ok(rows.into_iter().flatten().map(move |row| {
            let (key, value) = row?;
            let account = String::from_utf8_lossy(&key[account_at..]).into_owned();
            let balance: AccountBalance = decode_value(&key, &value)?;
            Ok((account, balance))
        }))
    }
}

/// How reading one account's lines for a page ended.
enum AccountRead {
    /// Its last line is on the page: the cursor after it, sums included.
    Finished(GeneralLedgerCursor),
    /// The page is full or its scan ran out first: where the next page resumes.
    Stopped(GeneralLedgerCursor),
}

/// A page being filled, account after account.
struct PageReader<'a> {
    projections: &'a Projections,
    range_of: (Uuid, PeriodBound, PeriodBound),
    /// Entries the page may still take.
    entries_left: usize,
    accounts: Vec<GeneralLedgerAccount>,
}

impl PageReader<'_> {
    /// Reads the lines of `at.account` from `at` on, into the page, through the journal's
    /// paging of the period's entries.
    fn read_account(&mut self, at: GeneralLedgerCursor) -> ProjectionResult<AccountRead> {
        let mut part = GeneralLedgerAccount::new(&at.account);
        part.opening_balance = at.debit - at.credit;
        if self.entries_left == 0 {
            return Ok(AccountRead::Stopped(at));
        }
        let (shop_id, from, until) = self.range_of;
        let request = PageRequest {
            after: at.after.clone(),
            limit: self.entries_left,
        };
        let (mut debit, mut credit) = (at.debit, at.credit);
        let account = at.account.clone();
        let read = crate::packed::page(
            &self.projections.ledger(),
            &entries_range(shop_id, from, until),
            &request,
            |entry: LedgerEntry| {
                if !in_period(&entry, from, until) {
                    return None;
                }
                let mut lines = Vec::new();
                for posting in entry.postings.iter().filter(|p| p.account == account) {
                    debit += posting.debit;
                    credit += posting.credit;
                    lines.push(GeneralLedgerLine::of(&entry, posting, debit - credit));
                }
                (!lines.is_empty()).then_some(lines)
            },
        )?;
        self.entries_left = self.entries_left.saturating_sub(read.items.len());
        let lines: Vec<GeneralLedgerLine> = read.items.into_iter().flatten().collect();
        let (page_debit, page_credit) = (debit - at.debit, credit - at.credit);
        let next = GeneralLedgerCursor {
            account: at.account,
            after: read.next_cursor,
            debit,
            credit,
            total_debit: at.total_debit + page_debit,
            total_credit: at.total_credit + page_credit,
        };
        if !lines.is_empty() {
            part.lines = lines;
            part.total_debit = debit;
            part.total_credit = credit;
            part.balance = debit - credit;
            self.accounts.push(part);
        }
        Ok(match next.after {
            Some(_) => AccountRead::Stopped(next),
            None => AccountRead::Finished(next),
        })
    }

    /// The page read, with every account's sums as they stand at `last`.
    fn into_page(
        self,
        last: &GeneralLedgerCursor,
        next_cursor: Option<String>,
    ) -> GeneralLedgerPage {
        GeneralLedgerPage {
            accounts: self.accounts,
            total_debit: last.total_debit,
            total_credit: last.total_credit,
            next_cursor,
        }
    }
}

impl Projections {
    /// See `read_general_ledger_page`; read on a state no commit changed meanwhile
    /// (`Projections::ledger_snapshot`).
    pub fn general_ledger_page(
        &self,
        shop_id: Uuid,
        account_prefix: Option<&str>,
        from: PeriodBound,
        until: PeriodBound,
        page: &PageRequest,
    ) -> ProjectionResult<GeneralLedgerPage> {
        self.ledger_snapshot(|| {
            self.read_general_ledger_page(shop_id, account_prefix, from, until, page)
        })
    }
}
