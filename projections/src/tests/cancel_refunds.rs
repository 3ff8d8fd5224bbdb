//! The refunds of cancelled, partly paid orders: posted per method by the ledger and counted per
//! method by the closures' day rows; a cancellation recorded before refunds had methods is
//! posted against the bank and not counted, as it always was.

use super::ledger::append;
use super::*;
use crate::ledger::{month_of, LedgerEntry, PeriodBound};
use crate::sample::SampleShop;
use chrono::NaiveDate;
use comptoir_domain::calendar::{default_time_zone, local_date};

fn march_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0)
        .single()
        .expect("date")
}

/// The refund entries of the shop (labelled "Remboursement"), as (journal, account, aux
/// account present, debit, credit) per posting, in entry order.
fn refund_postings(entries: &[LedgerEntry]) -> Vec<(String, String, bool, Decimal, Decimal)> {
    entries
        .iter()
        .filter(|e| e.label.starts_with("Remboursement"))
        .flat_map(|e| {
            e.postings.iter().map(|p| {
                let journal = e.journal.code().to_string();
                (
                    journal,
                    p.account.clone(),
                    p.aux_account.is_some(),
                    p.debit,
                    p.credit,
                )
            })
        })
        .collect()
}

fn march_entries(harness: &Harness, shop_id: Uuid) -> Vec<LedgerEntry> {
    harness
        .projections
        .ledger_entries(
            shop_id,
            PeriodBound::Day(NaiveDate::from_ymd_opt(2025, 3, 1).expect("day")),
            PeriodBound::Day(NaiveDate::from_ymd_opt(2025, 4, 1).expect("day")),
        )
        .expect("entries")
}

// Proves a cancelled order paid 10.00 in cash and 5.50 by card is refunded from the cash
// drawer (530, journal CA) and the bank (512, BQ), each against the customer's 411, with the
// trial balance still balanced, and that the day's closure row counts each method's refund.
#[tokio::test]
async fn a_partly_paid_cancellation_is_refunded_per_method_in_the_ledger_and_the_day_row() {
    let harness = Harness::new();
    let mut shop = SampleShop::new(1, march_start());
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    append(&harness, vec![shop.order(0).expect("order")]).await;
    let (cash, card) = (d("10.00"), d("5.50"));
    let cancelled = shop.cancelled_order(100, cash, card).expect("cancelled");
    append(&harness, vec![cancelled]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let entries = march_entries(&harness, shop.shop_id);
    let zero = Decimal::ZERO;
    let expected = vec![
        ("CA".to_string(), "411".to_string(), true, cash, zero),
        ("CA".to_string(), "530".to_string(), false, zero, cash),
        ("BQ".to_string(), "411".to_string(), true, card, zero),
        ("BQ".to_string(), "512".to_string(), false, zero, card),
    ];
    assert_eq!(refund_postings(&entries), expected);
    let march = month_of(2025, 3);
    let trial = harness
        .projections
        .trial_balance(shop.shop_id, march, march)
        .expect("balanced");
    assert_eq!(trial.total_debit, trial.total_credit);

    // The cancellation is the last entry; its day row holds both methods' refunds.
    let last = entries.last().expect("entries");
    let day = local_date(last.date, default_time_zone());
    let next = day.succ_opt().expect("next day");
    let period = harness
        .projections
        .closure_period_totals(shop.shop_id, day, next)
        .expect("day totals");
    let refunded: Vec<(PaymentMethod, Decimal)> = period
        .totals
        .payments
        .iter()
        .filter(|m| !m.refunded.is_zero())
        .map(|m| (m.method, m.refunded))
        .collect();
    assert_eq!(
        refunded,
        [(PaymentMethod::Cash, cash), (PaymentMethod::Card, card)]
    );
    period.totals.check().expect("the day adds up");
}

// Proves an `OrderCancelled` recorded before refunds had methods (a `refund_due`, no rows) is
// still posted as one bank refund against 411, and that the day row counts no refund for it.
#[tokio::test]
async fn a_cancellation_without_refund_rows_is_refunded_from_the_bank_as_before() {
    let harness = Harness::new();
    let mut shop = SampleShop::new(1, march_start());
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    let (cash, card) = (d("10.00"), d("5.50"));
    let mut events = shop.cancelled_order(100, cash, card).expect("cancelled");
    // Rewrite the cancellation the way it was recorded before: the same event, no refund rows.
    let (_, cancellation) = events.last_mut().expect("the cancellation");
    let mut event: OrderEvent =
        serde_json::from_slice(&cancellation.payload).expect("an order event");
    let OrderEvent::OrderCancelled { refunds, .. } = &mut event else {
        panic!("the last event cancels: {event:?}");
    };
    assert_eq!(refunds.len(), 2);
    refunds.clear();
    cancellation.payload = serde_json::to_vec(&event).expect("encodes");
    assert!(!String::from_utf8_lossy(&cancellation.payload).contains("refunds"));
    append(&harness, vec![events]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;

    let entries = march_entries(&harness, shop.shop_id);
    let zero = Decimal::ZERO;
    let due = cash + card;
    let expected = vec![
        ("BQ".to_string(), "411".to_string(), true, due, zero),
        ("BQ".to_string(), "512".to_string(), false, zero, due),
    ];
    assert_eq!(refund_postings(&entries), expected);
    let last = entries.last().expect("entries");
    assert_eq!(
        last.label,
        format!("Remboursement commande annulée {}", last.piece_ref)
    );
    let day = local_date(last.date, default_time_zone());
    let period = harness
        .projections
        .closure_period_totals(shop.shop_id, day, day.succ_opt().expect("next"))
        .expect("day totals");
    assert!(
        period.totals.payments.iter().all(|m| m.refunded.is_zero()),
        "{period:?}"
    );
}
