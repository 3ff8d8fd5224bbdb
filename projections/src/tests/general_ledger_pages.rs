//! The general ledger read page by page against the one-answer read of the same period.

use super::ledger::sample_log;
use super::*;
use crate::error::ProjectionError;
use crate::ledger::{GeneralLedger, GeneralLedgerAccount, PeriodBound};
use chrono::NaiveDate;

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a day")
}

/// Reads every page of `limit` entries and joins each account's parts (first part's opening
/// balance, every part's lines, last part's totals), checking on the way that a part opens at
/// the balance the account's previous part closed at and that pages hold at most `limit`
/// entries' lines. Returns the joined ledger and the number of pages.
fn joined_pages(
    harness: &Harness,
    shop_id: Uuid,
    prefix: Option<&str>,
    (from, until): (PeriodBound, PeriodBound),
    limit: usize,
) -> (GeneralLedger, usize) {
    let mut accounts: Vec<GeneralLedgerAccount> = Vec::new();
    let mut request = PageRequest::first(limit);
    for pages in 1..=10_000 {
        let page = harness
            .projections
            .general_ledger_page(shop_id, prefix, from, until, &request)
            .expect("a page");
        let lines: usize = page.accounts.iter().map(|a| a.lines.len()).sum();
        assert!(lines <= limit, "page {pages}: {lines} lines");
        for part in page.accounts {
            match accounts.last_mut() {
                Some(joined) if joined.account == part.account => {
                    assert_eq!(part.opening_balance, joined.balance, "{}", part.account);
                    joined.lines.extend(part.lines);
                    joined.total_debit = part.total_debit;
                    joined.total_credit = part.total_credit;
                    joined.balance = part.balance;
                }
                _ => {
                    assert!(part.opening_balance.is_zero(), "{}", part.account);
                    accounts.push(part);
                }
            }
        }
        match page.next_cursor {
            Some(cursor) => request.after = Some(cursor),
            None => {
                let ledger = GeneralLedger {
                    accounts,
                    total_debit: page.total_debit,
                    total_credit: page.total_credit,
                };
                return (ledger, pages);
            }
        }
    }
    panic!("the pages never end");
}

// Proves paging the general ledger of a month, with pages of 1, 7 and 200 entries, gives back
// exactly the one-answer general ledger once each account's parts are joined (lines, running
// balances, totals, grand totals), with an account filter too, and that the smaller the pages
// the more of them; an empty period is one empty page.
#[tokio::test]
async fn the_general_ledger_page_by_page_is_the_general_ledger_at_once() {
    let harness = Harness::new();
    let shop = sample_log(&harness, 40, 4).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let march = (
        PeriodBound::Day(day(2025, 3, 1)),
        PeriodBound::Day(day(2025, 4, 1)),
    );
    for prefix in [None, Some("41"), Some("5")] {
        let whole = harness
            .projections
            .general_ledger_accounts(shop.shop_id, prefix, march.0, march.1)
            .expect("general ledger");
        let lines: usize = whole.accounts.iter().map(|a| a.lines.len()).sum();
        assert!(lines > 20, "{prefix:?}: {lines} lines");
        let mut page_counts = Vec::new();
        for limit in [1, 7, 200] {
            let (joined, pages) = joined_pages(&harness, shop.shop_id, prefix, march, limit);
            assert_eq!(joined, whole, "{prefix:?}, pages of {limit}");
            page_counts.push(pages);
        }
        assert!(
            page_counts.windows(2).all(|w| w[0] > w[1]),
            "{prefix:?}: {page_counts:?}"
        );
    }
    let empty = (
        PeriodBound::Day(day(2000, 1, 1)),
        PeriodBound::Day(day(2000, 2, 1)),
    );
    let (nothing, pages) = joined_pages(&harness, shop.shop_id, None, empty, 5);
    assert_eq!((nothing.accounts.len(), pages), (0, 1));
}

// Proves a page cursor is refused when it is not a general ledger cursor (a journal's, or bytes
// that are no cursor) or names an account the query's filter does not select.
#[tokio::test]
async fn a_general_ledger_page_refuses_foreign_cursors() {
    let harness = Harness::new();
    let shop = sample_log(&harness, 10, 4).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let (from, until) = (
        PeriodBound::Day(day(2025, 3, 1)),
        PeriodBound::Day(day(2025, 4, 1)),
    );
    let p = &harness.projections;
    let journal = p
        .ledger_entries_page(shop.shop_id, from, until, &PageRequest::first(1))
        .expect("journal page");
    let mut on_512 = None;
    let mut request = PageRequest::first(1);
    while on_512.is_none() {
        let page = p
            .general_ledger_page(shop.shop_id, None, from, until, &request)
            .expect("page");
        let cursor = page.next_cursor.expect("512 comes before the last account");
        if page.accounts.iter().any(|a| a.account == "512") {
            on_512 = Some(cursor.clone());
        }
        request.after = Some(cursor);
    }
    let cases = [
        (None, journal.next_cursor.expect("a journal cursor")),
        (None, "zz".to_string()),
        (None, "47".to_string()),
        (None, "477b7d".to_string()),
        (Some("41"), on_512.expect("a cursor on 512")),
    ];
    for (prefix, cursor) in cases {
        let request = PageRequest {
            after: Some(cursor.clone()),
            limit: 5,
        };
        let refused = p.general_ledger_page(shop.shop_id, prefix, from, until, &request);
        assert!(
            matches!(refused, Err(ProjectionError::InvalidCursor)),
            "{cursor}: {refused:?}"
        );
    }
}
