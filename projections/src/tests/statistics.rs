//! Statistics and their exports over the sample history.

use super::ledger::append;
use super::ledger::sample_log;
use super::Harness;
use crate::exports::{statistics_csv, statistics_xlsx, statistics_xml};
use crate::statistics::{
    GroupBy, Measures, Preset, StatisticsQuery, StatusFilter, DISCOUNTS_KEY, SHIPPING_KEY,
};
use crate::views::OrderSummary;
use crate::{OrderQuery, PageRequest};
use chrono::{DateTime, TimeZone, Utc};
use comptoir_domain::calendar::{default_time_zone, Tz};
use comptoir_domain::order::OrderStatus;
use rust_decimal::Decimal;

fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .expect("valid date")
}

#[test]
fn presets_name_the_expected_utc_periods() {
    // Proves each preset's [from, until) from an injected "now" (a Thursday), the January edge
    // of "last month", and that "custom" needs both bounds in order.
    let now = at(2026, 11, 26, 20);
    let expected = [
        (Preset::Today, at(2026, 11, 26, 0), at(2026, 11, 27, 0)),
        (Preset::Yesterday, at(2026, 11, 25, 0), at(2026, 11, 26, 0)),
        (Preset::Last7Days, at(2026, 11, 20, 0), at(2026, 11, 27, 0)),
        (Preset::LastWeek, at(2026, 11, 16, 0), at(2026, 11, 23, 0)),
        (Preset::CurrentMonth, at(2026, 11, 1, 0), at(2026, 12, 1, 0)),
        (Preset::LastMonth, at(2026, 10, 1, 0), at(2026, 11, 1, 0)),
        (Preset::CurrentYear, at(2026, 1, 1, 0), at(2027, 1, 1, 0)),
    ];
    for (preset, from, until) in expected {
        let period = preset.period(now, Tz::UTC, (None, None)).expect("period");
        assert_eq!(period, (from, until), "{}", preset.as_str());
        assert_eq!(Preset::parse(preset.as_str()).expect("parses"), preset);
    }
    let january = at(2026, 1, 3, 9);
    let last_month = Preset::LastMonth
        .period(january, Tz::UTC, (None, None))
        .expect("period");
    assert_eq!(last_month, (at(2025, 12, 1, 0), at(2026, 1, 1, 0)));
    let custom = (Some(at(2026, 2, 1, 0)), Some(at(2026, 3, 1, 0)));
    assert_eq!(
        Preset::Custom.period(now, Tz::UTC, custom).expect("custom"),
        (at(2026, 2, 1, 0), at(2026, 3, 1, 0))
    );
    assert!(Preset::Custom
        .period(now, Tz::UTC, (custom.0, None))
        .is_err());
    assert!(Preset::Custom
        .period(now, Tz::UTC, (custom.1, custom.0))
        .is_err());
    assert!(Preset::parse("last_century").is_err());
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339")
}

#[test]
fn presets_follow_the_shops_zone_across_a_dst_change() {
    // Proves presets are Paris calendar periods: on Monday 2026-03-30 (summer time since the
    // 29th), today starts at 22:00Z, yesterday lasted 23 hours, and months and years start at
    // local midnight (23:00Z in winter, 22:00Z in summer).
    let paris = default_time_zone();
    let now = utc("2026-03-30T10:00:00Z");
    let expected = [
        (
            Preset::Today,
            "2026-03-29T22:00:00Z",
            "2026-03-30T22:00:00Z",
        ),
        (
            Preset::Yesterday,
            "2026-03-28T23:00:00Z",
            "2026-03-29T22:00:00Z",
        ),
        (
            Preset::Last7Days,
            "2026-03-23T23:00:00Z",
            "2026-03-30T22:00:00Z",
        ),
        (
            Preset::LastWeek,
            "2026-03-22T23:00:00Z",
            "2026-03-29T22:00:00Z",
        ),
        (
            Preset::CurrentMonth,
            "2026-02-28T23:00:00Z",
            "2026-03-31T22:00:00Z",
        ),
        (
            Preset::LastMonth,
            "2026-01-31T23:00:00Z",
            "2026-02-28T23:00:00Z",
        ),
        (
            Preset::CurrentYear,
            "2025-12-31T23:00:00Z",
            "2026-12-31T23:00:00Z",
        ),
    ];
    for (preset, from, until) in expected {
        let period = preset.period(now, paris, (None, None)).expect("period");
        assert_eq!(period, (utc(from), utc(until)), "{}", preset.as_str());
    }
    // 22:30Z on the 29th is already the 30th in Paris: "today" there, not in UTC.
    let late = utc("2026-03-29T22:30:00Z");
    let today = Preset::Today
        .period(late, paris, (None, None))
        .expect("today");
    assert_eq!(today.0, utc("2026-03-29T22:00:00Z"));
    let today_utc = Preset::Today
        .period(late, Tz::UTC, (None, None))
        .expect("today");
    assert_eq!(today_utc.0, utc("2026-03-29T00:00:00Z"));
}

fn sum_rows(rows: &[crate::statistics::StatisticsRow]) -> Measures {
    let mut sum = Measures::default();
    for row in rows {
        let m = &row.measures;
        sum.items += m.items;
        sum.net += m.net;
        sum.vat += m.vat;
        sum.gross += m.gross;
        sum.discounts += m.discounts;
        sum.credit_notes += m.credit_notes;
    }
    sum
}

/// Sample orders with `UNPAID_ORDERS` placed and never paid among them.
const PAID_ORDERS: u64 = 30;
const UNPAID_ORDERS: u64 = 3;

/// The sample history plus orders placed in the same month and never paid.
async fn sample_with_unpaid(harness: &Harness) -> crate::sample::SampleShop {
    let mut shop = sample_log(harness, PAID_ORDERS, 7).await;
    let unpaid = (PAID_ORDERS..PAID_ORDERS + UNPAID_ORDERS)
        .map(|n| shop.unpaid_order(n).expect("order placed"))
        .collect();
    append(harness, unpaid).await;
    harness.caught_up().await;
    shop
}

fn march_orders(harness: &Harness, shop_id: uuid::Uuid) -> Vec<OrderSummary> {
    harness
        .projections
        .orders(shop_id, &OrderQuery::default(), &PageRequest::first(200))
        .expect("orders")
        .items
}

/// Which summaries a filter should count, decided from the documents rather than the status:
/// a paid order has an invoice.
fn expected_counted(orders: &[OrderSummary], status: StatusFilter) -> Vec<&OrderSummary> {
    orders
        .iter()
        .filter(|o| o.status != OrderStatus::Cancelled)
        .filter(|o| status == StatusFilter::All || o.invoice_number.is_some())
        .collect()
}

#[tokio::test]
async fn every_grouping_splits_the_same_totals_exactly() {
    // Proves that for each grouping and status filter the rows add up to the totals (all
    // measures but the distinct order count), that the totals are the same whichever grouping,
    // and that they equal the sums over the order list computed independently; exports carry
    // the same figures.
    let harness = Harness::new();
    let _runner = harness.spawn_runner();
    let shop = sample_with_unpaid(&harness).await;
    let orders = march_orders(&harness, shop.shop_id);
    for status in StatusFilter::ALL {
        let counted = expected_counted(&orders, status);
        check_groupings(&harness, shop.shop_id, status, &counted);
    }
}

/// The sample shop's statistics of March 2025 (UTC), where every sample order falls.
fn march(
    harness: &Harness,
    shop_id: uuid::Uuid,
    group_by: GroupBy,
    status: StatusFilter,
) -> crate::statistics::Statistics {
    let query = StatisticsQuery {
        from: at(2025, 3, 1, 0),
        until: at(2025, 4, 1, 0),
        group_by,
        status,
        zone: Tz::UTC,
    };
    harness
        .projections
        .statistics(&[shop_id], &query)
        .expect("statistics")
}

fn check_groupings(
    harness: &Harness,
    shop_id: uuid::Uuid,
    status: StatusFilter,
    counted: &[&OrderSummary],
) {
    let gross: Decimal = counted.iter().map(|o| o.total_incl_vat).sum();
    let mut totals_seen = Vec::new();
    for group_by in GroupBy::ALL {
        let statistics = march(harness, shop_id, group_by, status);
        let sum = sum_rows(&statistics.rows);
        let totals = &statistics.totals;
        assert_eq!(totals.orders, counted.len() as u64, "{group_by:?}");
        assert_eq!(totals.gross, gross, "{group_by:?}");
        assert_eq!(
            Measures {
                orders: totals.orders,
                ..sum
            },
            *totals,
            "{group_by:?}"
        );
        if group_by == GroupBy::ProductType {
            assert!(statistics.rows.iter().any(|r| r.key == SHIPPING_KEY));
            assert!(statistics
                .rows
                .iter()
                .all(|r| r.key != DISCOUNTS_KEY || r.measures.gross <= Decimal::ZERO));
        }
        let csv = statistics_csv(&statistics);
        assert_eq!(csv.lines().count(), statistics.rows.len() + 2, "{csv}");
        let xml = statistics_xml(&statistics);
        assert!(xml.contains(&format!("<gross>{gross}</gross>")));
        assert!(xml.contains(&format!("status=\"{}\"", status.as_str())));
        assert!(statistics_xlsx(&statistics)
            .expect("xlsx")
            .starts_with(b"PK"));
        totals_seen.push(statistics.totals);
    }
    assert!(totals_seen.windows(2).all(|pair| pair[0] == pair[1]));
    assert!(
        totals_seen[0].credit_notes > Decimal::ZERO,
        "the sample has returns"
    );
}

#[tokio::test]
async fn unpaid_orders_count_only_when_asked_for() {
    // Proves an order placed and never paid is left out of the default (paid) statistics and
    // counted with `all`, by exactly its own amounts, and that `status` parses both ways.
    let harness = Harness::new();
    let _runner = harness.spawn_runner();
    let shop = sample_with_unpaid(&harness).await;
    let orders = march_orders(&harness, shop.shop_id);
    let unpaid: Vec<_> = orders
        .iter()
        .filter(|o| o.invoice_number.is_none())
        .collect();
    assert_eq!(unpaid.len() as u64, UNPAID_ORDERS);
    let paid = march(
        &harness,
        shop.shop_id,
        GroupBy::OrderNumber,
        StatusFilter::Paid,
    );
    let all = march(
        &harness,
        shop.shop_id,
        GroupBy::OrderNumber,
        StatusFilter::All,
    );
    assert_eq!(paid.totals.orders, PAID_ORDERS);
    assert_eq!(all.totals.orders, PAID_ORDERS + UNPAID_ORDERS);
    let unpaid_gross: Decimal = unpaid.iter().map(|o| o.total_incl_vat).sum();
    assert!(unpaid_gross > Decimal::ZERO);
    assert_eq!(all.totals.gross - paid.totals.gross, unpaid_gross);
    for order in &unpaid {
        let key = order.order_id.to_string();
        assert!(paid.rows.iter().all(|row| row.key != key));
        assert!(all.rows.iter().any(|row| row.key == key));
    }
    for status in StatusFilter::ALL {
        assert_eq!(
            StatusFilter::parse(status.as_str()).expect("parses"),
            status
        );
    }
    assert!(StatusFilter::parse("unpaid").is_err());
}

#[tokio::test]
async fn order_rows_are_labelled_with_the_invoice_or_the_order_reference() {
    // Proves every `order_number` row has a human label: the invoice number of a paid order,
    // else `CMD-` and the first 12 hex digits of the id, as the ledger refers to the order.
    let harness = Harness::new();
    let _runner = harness.spawn_runner();
    let shop = sample_with_unpaid(&harness).await;
    let orders = march_orders(&harness, shop.shop_id);
    let statistics = march(
        &harness,
        shop.shop_id,
        GroupBy::OrderNumber,
        StatusFilter::All,
    );
    assert_eq!(statistics.rows.len(), orders.len());
    for order in &orders {
        let row = statistics
            .rows
            .iter()
            .find(|row| row.key == order.order_id.to_string())
            .expect("a row per order");
        let hex = order.order_id.simple().to_string().to_uppercase();
        let expected = order
            .invoice_number
            .clone()
            .unwrap_or_else(|| format!("CMD-{}", &hex[..12]));
        assert_eq!(row.label, expected);
        assert!(!row.label.is_empty());
    }
    assert!(statistics
        .rows
        .iter()
        .any(|row| row.label.starts_with("CMD-")));
}
