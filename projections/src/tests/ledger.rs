//! The ledger over a month of a sample shop's history made through the domain: two VAT rates,
//! shipping, cash and card, a coupon on a third of the orders, returns refunded or turned into
//! store credit, store credit spent.

use super::Harness;
use crate::ledger::{month_of, PeriodBound, FEC_COLUMNS};
use crate::sample::{merge_into_append, SampleShop, SAMPLE_SIREN};
use crate::{rebuild_projections, verify_projections, ProjectionName};
use chrono::{TimeZone, Utc};
use comptoir_eventlog::Position;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Orders of the accountant's month (one every 37 minutes stays within March).
const MONTH_ORDERS: u64 = 120;

/// The allowances' total excl. VAT (what the ledger debits to 709).
fn allowances_excl_vat(allowances: &[comptoir_domain::order::DocumentAllowance]) -> Decimal {
    allowances.iter().map(|a| a.amount_excl_vat).sum()
}

/// Appends the sample shop and `orders` orders, `per_append` orders per append.
pub(crate) async fn sample_log(harness: &Harness, orders: u64, per_append: u64) -> SampleShop {
    let start = Utc
        .with_ymd_and_hms(2025, 3, 1, 8, 0, 0)
        .single()
        .expect("date");
    let mut shop = SampleShop::new(1, start);
    let opening = shop.open().expect("shop opens");
    append(harness, vec![opening]).await;
    let mut steps = Vec::new();
    for n in 0..orders {
        steps.push(shop.order(n).expect("order flow"));
        if steps.len() as u64 == per_append {
            append(harness, std::mem::take(&mut steps)).await;
        }
    }
    if !steps.is_empty() {
        append(harness, steps).await;
    }
    shop
}

pub(crate) async fn append(harness: &Harness, steps: Vec<crate::sample::SampleEvents>) -> Position {
    harness
        .log
        .append(merge_into_append(steps))
        .await
        .expect("append")
        .last_position
}

// Proves the accountant's invariants: every entry balances, the trial balance sums to zero, VAT
// per rate in the ledger equals invoices minus credit notes, discounts granted (709) equal the
// invoices' coupon allowances minus the credit notes', and 411 is settled by payments.
#[tokio::test]
async fn a_month_of_orders_posts_a_balanced_ledger_matching_the_documents() {
    let harness = Harness::new();
    let shop = sample_log(&harness, MONTH_ORDERS, 4).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let march = month_of(2025, 3);
    let trial = p
        .trial_balance(shop.shop_id, march, march)
        .expect("trial balance");
    assert_eq!(trial.total_debit, trial.total_credit);
    assert!(trial.total_debit > Decimal::ZERO);
    let from = PeriodBound::Day(day(2025, 1, 1));
    let until = PeriodBound::Day(day(2026, 1, 1));
    let entries = p
        .ledger_entries(shop.shop_id, from, until)
        .expect("entries");
    for entry in &entries {
        assert_eq!(entry.total_debit(), entry.total_credit(), "{entry:?}");
    }
    // VAT per rate, computed independently from the documents.
    let mut expected_vat: BTreeMap<String, Decimal> = BTreeMap::new();
    // Discounts excl. VAT, likewise: granted on invoices, given back on credit notes.
    let mut expected_discount = Decimal::ZERO;
    let page = crate::PageRequest::first(200);
    let invoices = p
        .invoices(shop.shop_id, &Default::default(), &page)
        .expect("invoices");
    assert_eq!(invoices.items.len() as u64, MONTH_ORDERS);
    for invoice in &invoices.items {
        expected_discount += allowances_excl_vat(&invoice.body.allowances);
        for rate in &invoice.body.totals.vat_breakdown {
            *expected_vat
                .entry(rate.vat_rate.normalize().to_string())
                .or_default() += rate.vat_amount;
        }
    }
    let notes = p
        .credit_notes(shop.shop_id, &Default::default(), &page)
        .expect("credit notes");
    assert!(!notes.items.is_empty());
    for note in &notes.items {
        expected_discount -= allowances_excl_vat(&note.document.body.allowances);
        for rate in &note.document.body.totals.vat_breakdown {
            *expected_vat
                .entry(rate.vat_rate.normalize().to_string())
                .or_default() -= rate.vat_amount;
        }
    }
    let vat_of = |account: &str| {
        trial
            .rows
            .iter()
            .find(|r| r.account == account)
            .map_or(Decimal::ZERO, |r| r.credit - r.debit)
    };
    assert_eq!(vat_of("445712"), expected_vat["20"]);
    assert_eq!(vat_of("445715"), expected_vat["5.5"]);
    // The sample uses its coupon on some orders and returns some of those: both sides count.
    let couponed = invoices
        .items
        .iter()
        .filter(|invoice| !invoice.body.allowances.is_empty())
        .count();
    assert!(
        couponed > 0 && couponed < invoices.items.len(),
        "{couponed}"
    );
    assert!(
        notes
            .items
            .iter()
            .any(|note| !note.document.body.allowances.is_empty()),
        "a credit note of a discounted order"
    );
    assert!(expected_discount > Decimal::ZERO);
    assert_eq!(-vat_of("709"), expected_discount);
    assert_eq!(
        trial
            .rows
            .iter()
            .map(|r| r.debit - r.credit)
            .sum::<Decimal>(),
        Decimal::ZERO
    );
    // Every order is paid and every return settled: the customers' account is back to zero.
    assert_eq!(vat_of("411"), Decimal::ZERO);
    for account in ["512", "530", "4191", "706", "707"] {
        assert!(
            trial.rows.iter().any(|r| r.account == account),
            "{account} moved"
        );
    }
}

// Proves the FEC has the 18 columns, one line per posting, entries balanced, comma amounts and
// the legal file name.
#[tokio::test]
async fn the_fec_export_has_one_balanced_line_per_posting() {
    let harness = Harness::new();
    let shop = sample_log(&harness, 30, 5).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let fec = harness
        .projections
        .fec_export(&[shop.shop_id], 2025)
        .expect("export")
        .expect("known shop");
    assert_eq!(fec.file_name, format!("{SAMPLE_SIREN}FEC20251231.txt"));
    let mut lines = fec.content.lines();
    assert_eq!(lines.next().expect("header"), FEC_COLUMNS.join("\t"));
    let mut by_entry: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut count = 0;
    for line in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), 18, "{line}");
        let amount = |text: &str| text.replace(',', ".").parse::<Decimal>().expect("amount");
        *by_entry.entry(cells[2].to_string()).or_default() += amount(cells[11]) - amount(cells[12]);
        count += 1;
    }
    assert_eq!(count, fec.lines);
    let postings: usize = harness
        .projections
        .ledger_entries(
            shop.shop_id,
            PeriodBound::Day(day(2025, 1, 1)),
            PeriodBound::Day(day(2026, 1, 1)),
        )
        .expect("entries")
        .iter()
        .map(|e| e.postings.len())
        .sum();
    assert_eq!(count as usize, postings);
    assert!(by_entry.values().all(|total| total.is_zero()));
    assert_fec_checker_accepts(&fec);
}

/// The shared FEC checker (copied into the repo so that CI has it) accepts `fec`, a FEC of the
/// sample's company.
pub(crate) fn assert_fec_checker_accepts(fec: &crate::ledger::FecExport) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(&fec.file_name);
    std::fs::write(&path, &fec.content).expect("write");
    let checker = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/tools/fec_check.py");
    let output = std::process::Command::new("python3")
        .args([
            checker,
            path.to_str().expect("path"),
            "--siren",
            SAMPLE_SIREN,
        ])
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
}

/// Rebuilds every projection. An aborted runner's last apply task (a `spawn_blocking` apply
/// already running is not stopped by the abort) may still hold the projections' database for a
/// moment: opening it waits for its lock (`rebuild::open_db`).
fn rebuild_released(
    dir: &std::path::Path,
    log: &comptoir_eventlog::EventLog,
) -> Vec<crate::RebuildOutcome> {
    rebuild_projections(dir, log, &ProjectionName::ALL, &mut |_, _| {}).expect("rebuild")
}

/// Stops `runner` (caught up) and asserts that two rebuilds give the live digests; returns the
/// data dir, its log and the rebuilds' outcomes.
pub(crate) async fn rebuilds_match_the_live_digests(
    harness: Harness,
    runner: tokio::task::JoinHandle<crate::ProjectionResult<()>>,
) -> (
    tempfile::TempDir,
    std::sync::Arc<comptoir_eventlog::EventLog>,
    Vec<crate::RebuildOutcome>,
) {
    let live = harness.projections.digests().expect("digests");
    runner.abort();
    let _ = runner.await;
    let Harness {
        dir,
        log,
        projections,
    } = harness;
    drop(projections);
    let first = rebuild_released(dir.path(), &log);
    let second = rebuild_released(dir.path(), &log);
    assert_eq!(first, second);
    assert_eq!(first, live);
    (dir, log, first)
}

// Proves replay determinism: a live catch-up in small chunks and two offline rebuilds give the
// same digest per projection, and `verify_projections` agrees, leaving no scratch database
// behind (not even one an interrupted verify left).
#[tokio::test]
async fn rebuilds_give_the_digests_of_the_live_projections() {
    let harness = Harness::new();
    sample_log(&harness, 60, 3).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;
    let (dir, log, first) = rebuilds_match_the_live_digests(harness, runner).await;
    let scratch = dir.path().join("projections-verify");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(scratch.join("db"), b"left by an interrupted verify").unwrap();
    let verified = verify_projections(dir.path(), log.as_ref()).expect("verify");
    assert!(verified.iter().all(|v| v.matches()), "{verified:?}");
    assert_eq!(verified.len(), 2);
    assert_eq!(log.head_position(), first[0].position);
    assert!(!scratch.exists());
}

// Proves a mapping change applies to later postings only: entries booked before it keep 707 and
// 445712, entries after it use 7071 and 4457120, the books still balance, and two rebuilds give
// the live digests.
#[tokio::test]
async fn a_mapping_change_applies_to_later_postings_only() {
    let harness = Harness::new();
    let start = Utc
        .with_ymd_and_hms(2025, 3, 1, 8, 0, 0)
        .single()
        .expect("date");
    let mut shop = crate::sample::SampleShop::new(1, start);
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    let before: Vec<_> = (0..6).map(|n| shop.order(n).expect("order")).collect();
    let last_before = append(&harness, before).await;
    let mut mapping = comptoir_domain::shop::LedgerMapping {
        goods_sales: "7071".into(),
        ..Default::default()
    };
    mapping.vat_by_rate.insert("20".into(), "4457120".into());
    let remap_at = Utc
        .with_ymd_and_hms(2025, 3, 1, 11, 30, 0)
        .single()
        .expect("date");
    let remap = shop
        .change_ledger_mapping(mapping, remap_at)
        .expect("remap");
    append(&harness, vec![remap]).await;
    let after: Vec<_> = (6..12).map(|n| shop.order(n).expect("order")).collect();
    append(&harness, after).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;

    let p = &harness.projections;
    let year = |y| PeriodBound::Day(day(y, 1, 1));
    let entries = p
        .ledger_entries(shop.shop_id, year(2025), year(2026))
        .expect("entries");
    let accounts = |early: bool| -> Vec<String> {
        entries
            .iter()
            .filter(|e| (e.position <= last_before) == early)
            .flat_map(|e| e.postings.iter().map(|p| p.account.clone()))
            .collect()
    };
    let (old, new) = (accounts(true), accounts(false));
    assert!(old.iter().any(|a| a == "707") && old.iter().any(|a| a == "445712"));
    assert!(!old.iter().any(|a| a == "7071" || a == "4457120"));
    assert!(new.iter().any(|a| a == "7071") && new.iter().any(|a| a == "4457120"));
    assert!(!new.iter().any(|a| a == "707" || a == "445712"));
    let march = month_of(2025, 3);
    let trial = p.trial_balance(shop.shop_id, march, march).expect("trial");
    assert_eq!(trial.total_debit, trial.total_credit);

    rebuilds_match_the_live_digests(harness, runner).await;
}

fn day(year: i32, month: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(year, month, day).expect("date")
}

fn utc(text: &str) -> chrono::DateTime<Utc> {
    text.parse().expect("RFC 3339")
}

/// A sample shop whose first order is paid (invoice and card payment) at 2026-12-31T23:30:00Z:
/// the sample places order n at `start` + 37 (n + 1) minutes and pays it 5 minutes later.
fn new_year_eve_shop(time_zone: Option<&str>) -> SampleShop {
    let shop = SampleShop::new(1, utc("2026-12-31T22:48:00Z"));
    match time_zone {
        Some(zone) => shop.with_time_zone(zone),
        None => shop,
    }
}

/// The FEC lines of `year` (header left out), as their cells.
fn fec_lines(harness: &Harness, shop_id: uuid::Uuid, year: i32) -> Vec<Vec<String>> {
    let fec = harness
        .projections
        .fec_export(&[shop_id], year)
        .expect("export")
        .expect("known shop");
    fec.content
        .lines()
        .skip(1)
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

/// The entries booked on the local days `[from, until)`.
fn entries_on(
    harness: &Harness,
    shop_id: uuid::Uuid,
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> Vec<crate::ledger::LedgerEntry> {
    harness
        .projections
        .ledger_entries(shop_id, PeriodBound::Day(from), PeriodBound::Day(until))
        .expect("entries")
}

// Proves a Paris shop's entry at 2026-12-31T23:30:00Z is booked on 1 January 2027: in the
// January 2027 trial balance (December 2026 has nothing), in the FEC of 2027 (not 2026) dated
// 20270101 in EcritureDate, PieceDate and ValidDate, next to the invoice numbered FA-2027-…;
// an instant period still selects it by its instant.
#[tokio::test]
async fn a_paris_entry_at_2330_utc_on_new_years_eve_is_in_the_next_year() {
    let harness = Harness::new();
    let mut shop = new_year_eve_shop(None);
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    append(&harness, vec![shop.order(0).expect("order")]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let january = entries_on(&harness, shop.shop_id, day(2027, 1, 1), day(2027, 2, 1));
    assert_eq!(january.len(), 2, "the invoice and its payment: {january:?}");
    for entry in &january {
        assert_eq!(entry.date, utc("2026-12-31T23:30:00Z"));
        assert_eq!(entry.local_date, day(2027, 1, 1));
    }
    let invoice = january
        .iter()
        .find(|e| e.journal.code() == "VE")
        .expect("invoice entry");
    assert!(invoice.piece_ref.starts_with("FA-2027-"), "{invoice:?}");
    assert!(entries_on(&harness, shop.shop_id, day(2026, 1, 1), day(2027, 1, 1)).is_empty());
    let by_instant = harness
        .projections
        .ledger_entries(
            shop.shop_id,
            PeriodBound::Instant(utc("2026-12-31T23:00:00Z")),
            PeriodBound::Instant(utc("2027-01-01T00:00:00Z")),
        )
        .expect("entries");
    assert_eq!(by_instant, january);

    let p = &harness.projections;
    let trial = p
        .trial_balance(shop.shop_id, month_of(2027, 1), month_of(2027, 1))
        .expect("trial");
    assert!(trial.total_debit > Decimal::ZERO);
    assert_eq!(trial.total_debit, trial.total_credit);
    let december = p
        .trial_balance(shop.shop_id, month_of(2026, 12), month_of(2026, 12))
        .expect("trial");
    assert!(december.rows.is_empty(), "{december:?}");

    let lines = fec_lines(&harness, shop.shop_id, 2027);
    assert!(!lines.is_empty());
    for cells in &lines {
        assert_eq!(
            (&*cells[3], &*cells[9], &*cells[15]),
            ("20270101", "20270101", "20270101")
        );
    }
    assert!(lines.iter().any(|cells| cells[8].starts_with("FA-2027-")));
    assert!(fec_lines(&harness, shop.shop_id, 2026).is_empty());
}

// Proves the same instant stays on 31 December 2026 for a shop in America/New_York (18:30
// there): December 2026 trial balance, FEC of 2026 dated 20261231, nothing in 2027.
#[tokio::test]
async fn a_new_york_entry_at_the_same_instant_stays_in_2026() {
    let harness = Harness::new();
    let mut shop = new_year_eve_shop(Some("America/New_York"));
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    append(&harness, vec![shop.order(0).expect("order")]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let december = entries_on(&harness, shop.shop_id, day(2026, 12, 1), day(2027, 1, 1));
    assert_eq!(december.len(), 2, "{december:?}");
    assert!(december.iter().all(|e| e.local_date == day(2026, 12, 31)));
    assert!(entries_on(&harness, shop.shop_id, day(2027, 1, 1), day(2028, 1, 1)).is_empty());
    let p = &harness.projections;
    let trial = p
        .trial_balance(shop.shop_id, month_of(2026, 12), month_of(2026, 12))
        .expect("trial");
    assert!(trial.total_debit > Decimal::ZERO);
    let january = p
        .trial_balance(shop.shop_id, month_of(2027, 1), month_of(2027, 1))
        .expect("trial");
    assert!(january.rows.is_empty(), "{january:?}");
    let lines = fec_lines(&harness, shop.shop_id, 2026);
    assert!(!lines.is_empty());
    assert!(lines
        .iter()
        .all(|cells| cells[3] == "20261231" && cells[15] == "20261231"));
    assert!(fec_lines(&harness, shop.shop_id, 2027).is_empty());
}

// Proves a zone change moves no entry already booked: a Paris shop's entries of 23:30Z stay on
// 1 January 2027 after it moves to America/New_York, while an order paid after the move (00:07Z)
// is booked on 31 December 2026 in New York; the books balance per year, and rebuilds give
// the live digests (the zone table is part of the ledger's state).
#[tokio::test]
async fn a_zone_change_after_posting_does_not_move_the_entry() {
    let harness = Harness::new();
    let mut shop = new_year_eve_shop(None);
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    let first = append(&harness, vec![shop.order(0).expect("order")]).await;
    let moved = shop
        .change_time_zone("America/New_York", utc("2027-01-01T00:00:00Z"))
        .expect("zone change");
    assert_eq!(moved.len(), 1);
    append(&harness, vec![moved]).await;
    append(&harness, vec![shop.order(1).expect("order")]).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;

    let p = &harness.projections;
    let new_year = entries_on(&harness, shop.shop_id, day(2027, 1, 1), day(2027, 1, 2));
    assert_eq!(new_year.len(), 2, "{new_year:?}");
    assert!(new_year.iter().all(|e| e.position <= first));
    let eve = entries_on(&harness, shop.shop_id, day(2026, 12, 31), day(2027, 1, 1));
    assert_eq!(eve.len(), 2, "{eve:?}");
    for entry in &eve {
        assert!(entry.position > first);
        assert_eq!(entry.date, utc("2027-01-01T00:07:00Z"));
        assert_eq!(entry.local_date, day(2026, 12, 31));
    }
    for (year, month) in [(2026, 12), (2027, 1)] {
        let trial = p
            .trial_balance(shop.shop_id, month_of(year, month), month_of(year, month))
            .expect("trial");
        assert_eq!(trial.total_debit, trial.total_credit);
        assert!(trial.total_debit > Decimal::ZERO, "{year}-{month}");
    }
    assert!(fec_lines(&harness, shop.shop_id, 2027)
        .iter()
        .all(|cells| cells[3] == "20270101"));
    assert!(fec_lines(&harness, shop.shop_id, 2026)
        .iter()
        .all(|cells| cells[3] == "20261231"));

    rebuilds_match_the_live_digests(harness, runner).await;
}

// Proves a ledger stored in the format before local days (no format mark) is not read as is:
// opening the projections swaps in an empty ledger tree that the runner replays from the log to
// the digest of a fresh build, while the read models keep their state.
#[tokio::test]
async fn a_ledger_stored_in_the_older_format_is_replayed_on_open() {
    a_projection_without_its_format_mark_is_replayed_on_open(ProjectionName::Ledger).await;
}

// Proves read models stored before their format mark (so without the store-credit table and the
// credit notes' invoice dates) are not served as is, the same way, while the ledger keeps its
// state; and that opening says the log must be replayed (`serve` waits for it).
#[tokio::test]
async fn read_models_stored_in_an_older_format_are_replayed_on_open() {
    a_projection_without_its_format_mark_is_replayed_on_open(ProjectionName::ReadModels).await;
}

/// Removes `stale`'s format mark from a caught-up state, reopens, and checks that only `stale`
/// starts over and that the replay ends at the live digests.
async fn a_projection_without_its_format_mark_is_replayed_on_open(stale: ProjectionName) {
    let harness = Harness::new();
    sample_log(&harness, 12, 3).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;
    let live = harness.projections.digests().expect("digests");
    assert!(!harness.projections.replays_whole_log());
    let (tree, mark, stale_index) = match stale {
        ProjectionName::ReadModels => (harness.projections.tree(), crate::keys::FORMAT_KEY, 0),
        ProjectionName::Ledger => (
            harness.projections.ledger(),
            crate::ledger::LEDGER_FORMAT_KEY,
            1,
        ),
    };
    tree.remove(mark).expect("remove");
    // The handle keeps the database open; the reopen below needs it closed.
    drop(tree);
    harness.projections.flush().await.expect("flush");
    let Harness {
        dir,
        log,
        projections,
    } = harness;
    let reopened = super::stop_and_reopen(runner, projections, dir.path()).await;
    assert!(reopened.replays_whole_log());
    let checkpoints = reopened.checkpoints.lock().expect("lock").to_owned();
    assert_eq!(
        checkpoints[stale_index], 0,
        "the stale projection starts over"
    );
    assert_eq!(
        checkpoints[1 - stale_index],
        log.head_position(),
        "the other does not"
    );
    let _runner =
        reopened.spawn_runner(log.clone() as std::sync::Arc<dyn comptoir_eventlog::EventStore>);
    reopened
        .wait_until_applied(log.head_position(), &mut |_| {})
        .await
        .expect("caught up");
    assert_eq!(reopened.digests().expect("digests"), live);
}

/// The auxiliary account the ledger gives the account `id`: `C` and its first 12 hex digits.
fn aux_account_of(id: uuid::Uuid) -> String {
    let hex = id.simple().to_string().to_uppercase();
    format!("C{}", &hex[..12])
}

/// The auxiliary accounts on the 411 postings of the entries `posted` selects (by position).
fn customer_aux_accounts(
    entries: &[crate::ledger::LedgerEntry],
    posted: impl Fn(Position) -> bool,
) -> Vec<Option<String>> {
    entries
        .iter()
        .filter(|e| posted(e.position))
        .flat_map(|e| e.postings.iter().filter(|p| p.account == "411"))
        .map(|p| p.aux_account.clone())
        .collect()
}

// Proves the ledger posts an order placed with an email an account moved to (naming no account)
// on that account's auxiliary account, and resolves the party once, when the order is placed: an
// order placed before the claim keeps the email's own auxiliary account for its later payment and
// invoice. Two rebuilds give the live digests (the alias table is part of the ledger's state).
#[tokio::test]
async fn an_order_with_an_email_an_account_moved_to_is_posted_on_the_account() {
    use comptoir_domain::customer::{customer_id_for, stream_id, CustomerEvent};
    let harness = Harness::new();
    let mut shop = SampleShop::new(1, utc("2025-03-01T08:00:00Z"));
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    // The sample's orders 0 and SAMPLE_CUSTOMERS are both placed with this email.
    let (first_email, moved_email) = ("claire.martin@example.fr", "client0@example.fr");
    let account = customer_id_for(shop.shop_id, first_email);
    let email_id = customer_id_for(shop.shop_id, moved_email);
    let (placed, rest): (Vec<_>, Vec<_>) = shop
        .order(0)
        .expect("order")
        .into_iter()
        .partition(|(_, event)| event.event_type == "OrderPlaced");
    assert_eq!(placed.len(), 1);
    append(&harness, vec![placed]).await;
    let moved_at = utc("2025-03-01T08:40:00Z");
    let changed = CustomerEvent::CustomerEmailChanged {
        shop_id: shop.shop_id,
        customer_id: account,
        email: moved_email.into(),
        email_as_typed: moved_email.into(),
        previous_email: first_email.into(),
        changed_at: moved_at,
    };
    let registered = super::customer_registered(shop.shop_id, first_email, "Claire", "Martin");
    harness
        .append(&stream_id(account), &[registered, changed])
        .await;
    let claimed = CustomerEvent::CustomerEmailClaimed {
        shop_id: shop.shop_id,
        email_id,
        email: moved_email.into(),
        claimed_by: account,
        claimed_at: moved_at,
    };
    let claimed_at = harness.append(&stream_id(email_id), &[claimed]).await;
    let early_paid = append(&harness, vec![rest]).await;
    let late_order = shop.order(crate::sample::SAMPLE_CUSTOMERS).expect("order");
    append(&harness, vec![late_order]).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;

    let entries = harness
        .projections
        .ledger_entries(
            shop.shop_id,
            PeriodBound::Day(day(2025, 1, 1)),
            PeriodBound::Day(day(2026, 1, 1)),
        )
        .expect("entries");
    let early = customer_aux_accounts(&entries, |p| p > claimed_at && p <= early_paid);
    assert_eq!(early.len(), 2, "the invoice and the payment: {entries:?}");
    assert!(early
        .iter()
        .all(|a| a.as_deref() == Some(&aux_account_of(email_id))));
    let late = customer_aux_accounts(&entries, |p| p > early_paid);
    assert_eq!(late.len(), 2, "the invoice and the payment: {entries:?}");
    assert!(
        late.iter()
            .all(|a| a.as_deref() == Some(&aux_account_of(account))),
        "{late:?}"
    );
    let account_lines = fec_lines(&harness, shop.shop_id, 2025)
        .into_iter()
        .filter(|cells| cells[6] == aux_account_of(account))
        .count();
    assert_eq!(account_lines, 2);

    rebuilds_match_the_live_digests(harness, runner).await;
}

// Proves the general ledger of a month is the trial balance of that month account by account,
// with each account's lines in date order and running balances that add up; a prefix keeps only
// the accounts it starts and the same lines.
#[tokio::test]
async fn the_general_ledger_of_a_month_is_its_trial_balance_account_by_account() {
    let harness = Harness::new();
    let shop = sample_log(&harness, 40, 4).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let march = month_of(2025, 3);
    let (from, until) = (
        PeriodBound::Day(day(2025, 3, 1)),
        PeriodBound::Day(day(2025, 4, 1)),
    );
    let ledger = p
        .general_ledger_accounts(shop.shop_id, None, from, until)
        .expect("general ledger");
    let trial = p
        .trial_balance(shop.shop_id, march, march)
        .expect("trial balance");
    let by_account: Vec<(String, Decimal, Decimal)> = ledger
        .accounts
        .iter()
        .map(|a| (a.account.clone(), a.total_debit, a.total_credit))
        .collect();
    let expected: Vec<(String, Decimal, Decimal)> = trial
        .rows
        .iter()
        .map(|r| (r.account.clone(), r.debit, r.credit))
        .collect();
    assert_eq!(by_account, expected);
    assert_eq!(ledger.total_debit, trial.total_debit);
    assert_eq!(ledger.total_debit, ledger.total_credit);
    for account in &ledger.accounts {
        let mut balance = Decimal::ZERO;
        for pair in account.lines.windows(2) {
            let order = |l: &crate::ledger::GeneralLedgerLine| (l.local_date, l.entry_number);
            assert!(order(&pair[0]) < order(&pair[1]), "{}", account.account);
        }
        for line in &account.lines {
            balance += line.debit - line.credit;
            assert_eq!(line.running_balance, balance, "{}", account.account);
        }
        assert_eq!(account.balance, balance);
    }
    let customers = p
        .general_ledger_accounts(shop.shop_id, Some("41"), from, until)
        .expect("41 accounts");
    let kept: Vec<&str> = customers
        .accounts
        .iter()
        .map(|a| a.account.as_str())
        .collect();
    assert!(kept.contains(&"411") && kept.contains(&"4191"), "{kept:?}");
    let expected: Vec<_> = ledger
        .accounts
        .iter()
        .filter(|a| a.account.starts_with("41"))
        .cloned()
        .collect();
    assert_eq!(customers.accounts, expected);
}

/// A Paris sample shop closing its fiscal year on 30 June, whose first order is paid (invoice
/// and card payment) at 2026-06-30T21:42:00Z, 23:42 on 30 June in Paris, and its second at
/// 2026-06-30T22:19:00Z, 00:19 on 1 July in Paris (order n: `start` + 37 (n + 1) + 5 minutes).
fn june_closing_shop() -> SampleShop {
    SampleShop::new(1, utc("2026-06-30T21:00:00Z")).with_fiscal_year_end("06-30")
}

// Proves a shop closing on 30 June exports the fiscal year closing in 2026 from 1 July 2025 to
// 30 June 2026 and the one closing in 2027 from 1 July 2026: entries booked on 30 June and on
// 1 July (Paris days) land in different files, each named by its closing day.
#[tokio::test]
async fn entries_on_30_june_and_1_july_are_in_different_fiscal_years() {
    let harness = Harness::new();
    let mut shop = june_closing_shop();
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    append(&harness, vec![shop.order(0).expect("order")]).await;
    append(&harness, vec![shop.order(1).expect("order")]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let june = entries_on(&harness, shop.shop_id, day(2026, 6, 30), day(2026, 7, 1));
    let july = entries_on(&harness, shop.shop_id, day(2026, 7, 1), day(2026, 7, 2));
    assert_eq!((june.len(), july.len()), (2, 2), "{june:?} {july:?}");
    let pieces = |entries: &[crate::ledger::LedgerEntry]| -> Vec<String> {
        entries.iter().map(|e| e.piece_ref.clone()).collect()
    };
    let p = &harness.projections;
    let closing_2026 = p.fec_export(&[shop.shop_id], 2026).expect("export");
    let closing_2026 = closing_2026.expect("known shop");
    assert_eq!(
        closing_2026.file_name,
        format!("{SAMPLE_SIREN}FEC20260630.txt")
    );
    let closing_2027 = p.fec_export(&[shop.shop_id], 2027).expect("export");
    let closing_2027 = closing_2027.expect("known shop");
    assert_eq!(
        closing_2027.file_name,
        format!("{SAMPLE_SIREN}FEC20270630.txt")
    );

    let lines_2026 = fec_lines(&harness, shop.shop_id, 2026);
    let lines_2027 = fec_lines(&harness, shop.shop_id, 2027);
    let postings = |entries: &[crate::ledger::LedgerEntry]| -> usize {
        entries.iter().map(|e| e.postings.len()).sum()
    };
    assert_eq!(lines_2026.len(), postings(&june));
    assert_eq!(lines_2027.len(), postings(&july));
    assert!(lines_2026.iter().all(|cells| cells[3] == "20260630"));
    assert!(lines_2027.iter().all(|cells| cells[3] == "20260701"));
    let fec_pieces = |lines: &[Vec<String>]| -> Vec<String> {
        let mut refs: Vec<String> = lines.iter().map(|cells| cells[8].clone()).collect();
        refs.dedup();
        refs
    };
    let (mut june_refs, mut july_refs) = (pieces(&june), pieces(&july));
    june_refs.dedup();
    july_refs.dedup();
    assert_eq!(fec_pieces(&lines_2026), june_refs);
    assert_eq!(fec_pieces(&lines_2027), july_refs);
    // Neither file has anything of the other; the fiscal year closing in 2028 is empty.
    assert!(fec_lines(&harness, shop.shop_id, 2028).is_empty());
}

// Proves the ledger folds a change of closing day on its local day in the shop's zone, by the
// domain's calendar: a Martinique shop (UTC-4) moving from 31 December to 30 June at
// 2026-07-01T02:00:00Z, still 30 June there, closes its year in progress that very day, so the
// FEC of 2026 runs 1 January – 30 June 2026 and 2027 from 1 July; a rebuild gives the same.
#[tokio::test]
async fn a_change_of_closing_day_cuts_the_fec_on_the_local_day_it_was_made() {
    use comptoir_domain::calendar::parse_time_zone;
    use comptoir_domain::shop::{FiscalCalendar, FiscalYearEnd};
    let harness = Harness::new();
    let start = utc("2026-06-30T12:00:00Z");
    let mut shop = SampleShop::new(1, start).with_time_zone("America/Martinique");
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    let at = utc("2026-07-01T02:00:00Z");
    let change = shop.change_fiscal_year_end("06-30", at).expect("change");
    append(&harness, vec![change]).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;

    let zone = parse_time_zone("America/Martinique").expect("zone");
    let calendar =
        FiscalCalendar::new(FiscalYearEnd::default()).after_update(at, zone, Some("06-30"));
    let year = calendar.year_closing_in(2026).expect("a fiscal year 2026");
    assert_eq!(
        (year.first_day, year.closing_day),
        (day(2026, 1, 1), day(2026, 6, 30))
    );
    let p = &harness.projections;
    for (year, closing) in [(2025, "20251231"), (2026, "20260630"), (2027, "20270630")] {
        let fec = p
            .fec_export(&[shop.shop_id], year)
            .expect("export")
            .expect("known shop");
        assert_eq!(fec.file_name, format!("{SAMPLE_SIREN}FEC{closing}.txt"));
    }
    rebuilds_match_the_live_digests(harness, runner).await;
}

// Proves the fiscal years listed run from the first entry's to the one holding `today`, each
// with its bounds, months and file name; a shop with no entry yet lists only the year in
// progress, and a shop unknown to the ledger none.
#[tokio::test]
async fn fiscal_years_run_from_the_first_entry_to_the_year_in_progress() {
    let harness = Harness::new();
    let mut shop = june_closing_shop();
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let shop_id = shop.shop_id;
    let listed = |today| {
        p.fiscal_years(shop_id, today)
            .expect("fiscal years")
            .expect("known shop")
    };
    let bounds = |years: Vec<crate::ledger::FiscalYearRow>| -> Vec<_> {
        years
            .into_iter()
            .map(|y| (y.year, y.first_day, y.closing_day, y.months, y.in_progress))
            .collect()
    };
    let only_now = vec![(2027, day(2026, 7, 1), day(2027, 6, 30), Some(12), true)];
    assert_eq!(bounds(listed(day(2026, 8, 1))), only_now);

    append(&harness, vec![shop.order(0).expect("order")]).await;
    harness.caught_up().await;
    // The first entry is booked on 30 June 2026 (Paris), in the year closing in 2026.
    let years = listed(day(2028, 1, 15));
    assert_eq!(
        years.last().map(|y| y.fec_file_name.clone()),
        Some(format!("{SAMPLE_SIREN}FEC20280630.txt"))
    );
    assert_eq!(
        bounds(years),
        vec![
            (2026, day(2025, 7, 1), day(2026, 6, 30), Some(12), false),
            (2027, day(2026, 7, 1), day(2027, 6, 30), Some(12), false),
            (2028, day(2027, 7, 1), day(2028, 6, 30), Some(12), true),
        ]
    );
    let unknown = p
        .fiscal_years(uuid::Uuid::from_u128(404), day(2028, 1, 15))
        .expect("read");
    assert!(unknown.is_none());
}
