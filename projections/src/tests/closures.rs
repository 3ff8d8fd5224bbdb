//! The closures' read models: per local day totals, and the closures listed by kind and period.

use super::ledger::sample_log;
use super::*;
use crate::closures::ClosureDayRow;
use chrono::NaiveDate;
use comptoir_domain::calendar::{default_time_zone, local_date};
use comptoir_domain::closure::{ClosureEvent, ClosureKind};
use comptoir_domain::order::Settlement;
use std::collections::BTreeMap;

/// What the test expects of one day, summed here from the log's own events.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    invoices: u64,
    credit_notes: u64,
    first_invoice: Option<String>,
    last_invoice: Option<String>,
    gross: Decimal,
    gross_per_rate: BTreeMap<String, Decimal>,
    received: BTreeMap<String, Decimal>,
    refunded: BTreeMap<String, Decimal>,
}

fn method_key(method: PaymentMethod) -> String {
    serde_json::to_string(&method).expect("method")
}

/// Groups the log's invoices, credit notes and payments by Paris day, independently of the
/// projection's arithmetic.
fn expected_days(harness: &Harness) -> BTreeMap<NaiveDate, Expected> {
    let paris = default_time_zone();
    let mut days: BTreeMap<NaiveDate, Expected> = BTreeMap::new();
    let events = harness.log.read_all(1, 100_000).expect("log reads");
    for recorded in &events {
        match recorded.event_type.as_str() {
            "InvoiceIssued" | "CreditNoteIssued" => {
                let event: DocumentEvent = crate::codec::decode_event(recorded).expect("decodes");
                let day = days
                    .entry(local_date(event.issued_at(), paris))
                    .or_default();
                match event {
                    DocumentEvent::InvoiceIssued {
                        number, invoice, ..
                    } => {
                        day.invoices += 1;
                        day.first_invoice.get_or_insert(number.number.clone());
                        day.last_invoice = Some(number.number);
                        day.gross += invoice.totals.total_incl_vat;
                        for rate in &invoice.totals.vat_breakdown {
                            *day.gross_per_rate
                                .entry(rate.vat_rate.normalize().to_string())
                                .or_default() += rate.total_incl_vat;
                        }
                    }
                    DocumentEvent::CreditNoteIssued { credit_note, .. } => {
                        day.credit_notes += 1;
                        day.gross -= credit_note.totals.total_incl_vat;
                        for rate in &credit_note.totals.vat_breakdown {
                            *day.gross_per_rate
                                .entry(rate.vat_rate.normalize().to_string())
                                .or_default() -= rate.total_incl_vat;
                        }
                        if let Settlement::Refund { method } = credit_note.settlement {
                            *day.refunded.entry(method_key(method)).or_default() +=
                                credit_note.totals.total_incl_vat;
                        }
                    }
                    _ => {}
                }
            }
            "PaymentRecorded" => {
                let event: OrderEvent = crate::codec::decode_event(recorded).expect("decodes");
                if let OrderEvent::PaymentRecorded { payment, .. } = event {
                    let day = days
                        .entry(local_date(payment.recorded_at, paris))
                        .or_default();
                    *day.received.entry(method_key(payment.method)).or_default() += payment.amount;
                }
            }
            _ => {}
        }
    }
    days
}

fn as_expected(row: &ClosureDayRow) -> Expected {
    let totals = &row.totals;
    Expected {
        invoices: totals.invoices.count,
        credit_notes: totals.credit_notes.count,
        first_invoice: totals.invoices.first.clone(),
        last_invoice: totals.invoices.last.clone(),
        gross: totals.total_incl_vat,
        gross_per_rate: totals
            .vat
            .iter()
            .map(|rate| (rate.vat_rate.normalize().to_string(), rate.total_incl_vat))
            .collect(),
        received: totals
            .payments
            .iter()
            .filter(|m| !m.received.is_zero())
            .map(|m| (method_key(m.method), m.received))
            .collect(),
        refunded: totals
            .payments
            .iter()
            .filter(|m| !m.refunded.is_zero())
            .map(|m| (method_key(m.method), m.refunded))
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn day_rows_hold_each_days_documents_and_payments_and_periods_sum_their_days() {
    // Proves every Paris day with activity has a row equal to that day's invoices, credit notes
    // and payments, and that a period's totals are the exact sum of its days.
    let harness = Harness::new();
    let shop = sample_log(&harness, 40, 7).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let expected = expected_days(&harness);
    assert!(expected.len() > 3, "the sample spans several days");
    assert!(
        expected.values().any(|day| day.credit_notes > 0),
        "the sample has a return"
    );
    let mut all = Expected::default();
    for (day, wanted) in &expected {
        let next = day.succ_opt().expect("next day");
        let period = harness
            .projections
            .closure_period_totals(shop.shop_id, *day, next)
            .expect("totals");
        assert_eq!(period.first_active_day, Some(*day));
        let row = ClosureDayRow {
            day: *day,
            totals: period.totals.clone(),
        };
        assert_eq!(&as_expected(&row), wanted, "{day}");
        period.totals.check().expect("a day adds up");
        all.invoices += wanted.invoices;
        all.gross += wanted.gross;
    }
    let first = *expected.keys().next().expect("a day");
    let last = *expected.keys().last().expect("a day");
    let whole = harness
        .projections
        .closure_period_totals(shop.shop_id, first, last.succ_opt().expect("next"))
        .expect("totals");
    whole.totals.check().expect("the period adds up");
    assert_eq!(whole.totals.invoices.count, all.invoices);
    assert_eq!(whole.totals.total_incl_vat, all.gross);
    assert_eq!(whole.first_active_day, Some(first));
    assert_eq!(whole.last_active_day, Some(last));
    let before_first = first.pred_opt().expect("previous day");
    assert_eq!(
        harness
            .projections
            .first_active_day(shop.shop_id, None, before_first)
            .expect("scan"),
        None
    );
    assert_eq!(
        harness
            .projections
            .first_active_day(shop.shop_id, Some(before_first), last)
            .expect("scan"),
        Some(first)
    );
    // Another shop sees nothing.
    let other = harness
        .projections
        .closure_period_totals(id(0xFFFF), first, last)
        .expect("totals");
    assert!(other.totals.is_empty() && other.first_active_day.is_none());
}

fn golden_closure(shop_id: Uuid) -> ClosureEvent {
    let mut event: ClosureEvent = serde_json::from_str(include_str!(
        "../../../domain/tests/golden/closures.PeriodClosed.json"
    ))
    .expect("fixture");
    let ClosureEvent::PeriodClosed(closed) = &mut event;
    closed.shop_id = shop_id;
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn closures_are_listed_by_kind_and_period_and_read_one_by_one() {
    // Proves a recorded closure is found by kind and day, kept out of other kinds and of periods
    // that do not hold it, and carries its log position.
    let harness = Harness::new();
    let shop = id(0x5100);
    let position = harness
        .append(
            &comptoir_domain::closure::stream_id(shop),
            &[golden_closure(shop)],
        )
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let day = NaiveDate::from_ymd_opt(2025, 3, 13).expect("day");
    let found = harness
        .projections
        .closure(shop, ClosureKind::Day, day)
        .expect("read")
        .expect("found");
    assert_eq!(found.label, "2025-03-13");
    assert_eq!(found.position, position);
    assert_eq!(found.closed.hash, found.closed.computed_hash());
    let list = |kind, from, to| {
        harness
            .projections
            .closures(shop, kind, from, to, &PageRequest::first(10))
            .expect("list")
            .items
            .len()
    };
    assert_eq!(list(None, None, None), 1);
    assert_eq!(list(Some(ClosureKind::Day), Some(day), Some(day)), 1);
    assert_eq!(list(Some(ClosureKind::Day), day.succ_opt(), None), 0);
    assert_eq!(list(Some(ClosureKind::Day), None, day.pred_opt()), 0);
    assert_eq!(list(Some(ClosureKind::Month), None, None), 0);
    assert_eq!(list(None, day.succ_opt(), None), 0);
    assert!(harness
        .projections
        .closure(id(0xFFFF), ClosureKind::Day, day)
        .expect("read")
        .is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_row_is_the_shops_local_day_in_the_zone_in_force_when_applied() {
    // Proves an invoice at 02:00 UTC counts on the previous day in New York, and that a zone
    // change later moves no row: the same instant after the change counts in the new zone.
    let harness = Harness::new();
    let (shop, order) = (id(0x5100), id(2));
    let shop_stream = comptoir_domain::shop::stream_id(shop);
    let new_york = ShopEvent::TimeZoneChanged {
        shop_id: shop,
        time_zone: "America/New_York".into(),
        changed_at: at(0),
    };
    harness
        .append(&shop_stream, &[shop_created(shop), new_york])
        .await;
    let early = "2025-03-14T02:00:00Z".parse().expect("instant");
    harness
        .append(
            "document-series-test",
            &[invoice_issued(shop, order, 1, early)],
        )
        .await;
    let paris = ShopEvent::TimeZoneChanged {
        shop_id: shop,
        time_zone: "Europe/Paris".into(),
        changed_at: at(1),
    };
    harness.append(&shop_stream, &[paris]).await;
    harness
        .append(
            "document-series-test",
            &[invoice_issued(shop, order, 2, early)],
        )
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let day = |d| NaiveDate::from_ymd_opt(2025, 3, d).expect("day");
    let totals_of = |d| {
        harness
            .projections
            .closure_period_totals(shop, day(d), day(d + 1))
            .expect("totals")
            .totals
    };
    let thirteenth = totals_of(13);
    assert_eq!(thirteenth.invoices.first.as_deref(), Some("FA-2025-000001"));
    assert_eq!(thirteenth.invoices.count, 1);
    let fourteenth = totals_of(14);
    assert_eq!(fourteenth.invoices.first.as_deref(), Some("FA-2025-000002"));
    assert_eq!(fourteenth.invoices.count, 1);
}
