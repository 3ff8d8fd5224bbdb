//! The ledger over a month of a sample shop's history made through the domain: two VAT rates,
//! shipping, cash and card, returns refunded or turned into store credit, store credit spent.

use super::Harness;
use crate::ledger::{month_of, FEC_COLUMNS};
use crate::sample::{merge_into_append, SampleShop, SAMPLE_SIREN};
use crate::{rebuild_projections, verify_projections, ProjectionName};
use chrono::{TimeZone, Utc};
use comptoir_eventlog::Position;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Orders of the accountant's month (one every 37 minutes stays within March).
const MONTH_ORDERS: u64 = 120;

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
// per rate in the ledger equals invoices minus credit notes, and 411 is settled by payments.
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
    let from = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let until = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let entries = p
        .ledger_entries(shop.shop_id, from, until)
        .expect("entries");
    for entry in &entries {
        assert_eq!(entry.total_debit(), entry.total_credit(), "{entry:?}");
    }
    // VAT per rate, computed independently from the documents.
    let mut expected_vat: BTreeMap<String, Decimal> = BTreeMap::new();
    let page = crate::PageRequest::first(200);
    let invoices = p
        .invoices(shop.shop_id, &Default::default(), &page)
        .expect("invoices");
    assert_eq!(invoices.items.len() as u64, MONTH_ORDERS);
    for invoice in &invoices.items {
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
        .fec_export(shop.shop_id, 2025)
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
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
        )
        .expect("entries")
        .iter()
        .map(|e| e.postings.len())
        .sum();
    assert_eq!(count as usize, postings);
    assert!(by_entry.values().all(|total| total.is_zero()));
    // The shared checker (copied into the repo so that CI has it) agrees.
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

/// Rebuilds every projection once the aborted runner's last apply task has let go of the
/// projections' database: aborting the runner does not stop a `spawn_blocking` apply already
/// running, and that task holds the database (and its lock) until it returns.
fn rebuild_released(
    dir: &std::path::Path,
    log: &comptoir_eventlog::EventLog,
) -> Vec<crate::RebuildOutcome> {
    const ATTEMPTS_MAX: u32 = 250;
    let all = ProjectionName::ALL;
    for _ in 1..ATTEMPTS_MAX {
        match rebuild_projections(dir, log, &all, &mut |_, _| {}) {
            Err(crate::ProjectionError::Open { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.expect("rebuild"),
        }
    }
    rebuild_projections(dir, log, &all, &mut |_, _| {}).expect("rebuild")
}

// Proves replay determinism: a live catch-up in small chunks and two offline rebuilds give the
// same digest per projection, and `verify_projections` agrees.
#[tokio::test]
async fn rebuilds_give_the_digests_of_the_live_projections() {
    let harness = Harness::new();
    sample_log(&harness, 60, 3).await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;
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
    let verified = verify_projections(dir.path(), &log).expect("verify");
    assert!(verified.iter().all(|v| v.matches()), "{verified:?}");
    assert_eq!(verified.len(), 2);
    assert_eq!(log.head_position(), first[0].position);
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
    let year = |y| {
        Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .expect("date")
    };
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

    let live = p.digests().expect("digests");
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
}
