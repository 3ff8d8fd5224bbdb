//! The figures of the shop's dashboard (seed 000, "Tableau de bord"): account level, pack end
//! date, data left, and bandwidth, orders and sales over the last 7 days and the last 12 months.
//!
//! Pure: the caller passes the pack's state, the transfers and the orders (from read models) and
//! `now` and the shop's zone. Days are calendar days of the shop's zone, like the dates the caller
//! passes; "the last 7 days" are today
//! and the 6 days before, "the last 12 months" the current calendar month and the 11 before, so the
//! charts have a fixed number of bars, oldest first, with zeros where nothing happened. Entries
//! outside the windows (older, or dated in the future) are ignored.

use crate::calendar::{local_date, Tz};
use crate::limits::{DASHBOARD_RECENT_DAYS, DASHBOARD_RECENT_MONTHS, MONEY_SCALE_MAX};
use crate::pack::{pack_status, Pack, PackStatus, BYTES_PER_GIGABYTE};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// One bar of a chart: the period starting on `starts_on` (a day, or the first day of a month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bucket<V> {
    pub starts_on: NaiveDate,
    pub value: V,
}

/// The bars of a chart, oldest first, and their total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series<V> {
    pub buckets: Vec<Bucket<V>>,
    pub total: V,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    /// `None` before the first activation.
    pub account_level: Option<String>,
    pub pack_ends_at: Option<DateTime<Utc>>,
    pub pack_status: PackStatus,
    /// The pack stays usable until `pack_ends_at` (seed 000).
    pub unsubscribed: bool,
    pub transfer_bytes_left: u64,
    /// Rounded down to the hundredth, so the dashboard never promises more than is left.
    pub transfer_gigabytes_left: Decimal,
    pub orders_left: u64,
    pub bandwidth_bytes_last_7_days: Series<u64>,
    pub bandwidth_bytes_last_12_months: Series<u64>,
    pub orders_last_7_days: Series<u64>,
    pub orders_last_12_months: Series<u64>,
    /// Order totals including VAT, as the caller passes them.
    pub sales_last_7_days: Series<Decimal>,
    pub sales_last_12_months: Series<Decimal>,
}

/// A figure that bars add up.
trait Figure: Copy {
    fn zero() -> Self;
    fn plus(self, other: Self) -> Self;
}

impl Figure for u64 {
    fn zero() -> Self {
        0
    }
    fn plus(self, other: Self) -> Self {
        self.saturating_add(other)
    }
}

impl Figure for Decimal {
    fn zero() -> Self {
        Decimal::ZERO
    }
    fn plus(self, other: Self) -> Self {
        self.saturating_add(other)
    }
}

/// Sums `entries` into bars starting on `starts` (ascending; each bar runs to the next start, the
/// last one to `end_exclusive`).
fn series<V: Figure>(
    entries: impl IntoIterator<Item = (NaiveDate, V)>,
    starts: &[NaiveDate],
    end_exclusive: NaiveDate,
) -> Series<V> {
    let mut buckets: Vec<Bucket<V>> = starts
        .iter()
        .map(|starts_on| Bucket {
            starts_on: *starts_on,
            value: V::zero(),
        })
        .collect();
    for (date, value) in entries {
        if date >= end_exclusive {
            continue;
        }
        // The last bar starting on or before the date.
        let index = starts.partition_point(|start| *start <= date);
        if let Some(bucket) = index.checked_sub(1).and_then(|i| buckets.get_mut(i)) {
            bucket.value = bucket.value.plus(value);
        }
    }
    let total = buckets.iter().fold(V::zero(), |sum, b| sum.plus(b.value));
    Series { buckets, total }
}

/// Today and the days before it: `DASHBOARD_RECENT_DAYS` starts, oldest first.
fn recent_days(today: NaiveDate) -> Vec<NaiveDate> {
    (0..DASHBOARD_RECENT_DAYS)
        .rev()
        .filter_map(|back| today.checked_sub_days(Days::new(u64::from(back))))
        .collect()
}

/// The first days of the current month and the months before it, oldest first.
fn recent_months(today: NaiveDate) -> Vec<NaiveDate> {
    let this_month = today.with_day(1).unwrap_or(today);
    (0..DASHBOARD_RECENT_MONTHS)
        .rev()
        .filter_map(|back| this_month.checked_sub_months(Months::new(back)))
        .collect()
}

fn gigabytes(bytes: u64) -> Decimal {
    (Decimal::from(bytes) / Decimal::from(BYTES_PER_GIGABYTE))
        .round_dp_with_strategy(MONEY_SCALE_MAX, RoundingStrategy::ToZero)
}

/// The dashboard at `now`, from the pack's state, the transfers (day, bytes) and the orders
/// (day, total including VAT) of the shop. Pass placed orders that were not cancelled, dated in
/// the shop's `zone`.
pub fn dashboard(
    pack: &Pack,
    transfers: &[(NaiveDate, u64)],
    orders: &[(NaiveDate, Decimal)],
    now: DateTime<Utc>,
    zone: Tz,
) -> Dashboard {
    let today = local_date(now, zone);
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap_or(today);
    let days = recent_days(today);
    let months = recent_months(today);
    let counts = || orders.iter().map(|(date, _)| (*date, 1u64));
    Dashboard {
        account_level: pack.level.clone(),
        pack_ends_at: pack.ends_at,
        pack_status: pack_status(pack, now),
        unsubscribed: pack.unsubscribed,
        transfer_bytes_left: pack.bytes_left(),
        transfer_gigabytes_left: gigabytes(pack.bytes_left()),
        orders_left: pack.orders_left(),
        bandwidth_bytes_last_7_days: series(transfers.iter().copied(), &days, tomorrow),
        bandwidth_bytes_last_12_months: series(transfers.iter().copied(), &months, tomorrow),
        orders_last_7_days: series(counts(), &days, tomorrow),
        orders_last_12_months: series(counts(), &months, tomorrow),
        sales_last_7_days: series(orders.iter().copied(), &days, tomorrow),
        sales_last_12_months: series(orders.iter().copied(), &months, tomorrow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{d, shop_id};
    use crate::pack::{DeactivationReason, PackEvent};
    use crate::testing::{replay, test_now};

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
    }

    fn pack() -> Pack {
        replay::<Pack>(&[
            PackEvent::PackActivated {
                shop_id: shop_id(),
                code_hash: "a".repeat(64),
                level: "Pro".into(),
                ends_at: test_now() + chrono::Duration::days(200),
                transfer_allowance_bytes: 50 * BYTES_PER_GIGABYTE,
                order_allowance: 5_000,
                activated_at: test_now(),
            },
            PackEvent::QuotaConsumed {
                shop_id: shop_id(),
                bytes: 1_234_567_890,
                reference: "uploads".into(),
                consumed_at: test_now(),
            },
        ])
    }

    #[test]
    fn pack_figures_come_from_the_pack_state() {
        // Proves level, end date, status and what is left; gigabytes are rounded down.
        let board = dashboard(&pack(), &[], &[], test_now(), Tz::UTC);
        assert_eq!(board.account_level.as_deref(), Some("Pro"));
        assert_eq!(
            board.pack_ends_at,
            Some(test_now() + chrono::Duration::days(200))
        );
        assert_eq!(board.pack_status, PackStatus::Active);
        assert_eq!(board.transfer_bytes_left, 48_765_432_110);
        assert_eq!(board.transfer_gigabytes_left, d("48.76"));
        assert_eq!(board.orders_left, 5_000);
        let none = dashboard(&Pack::default(), &[], &[], test_now(), Tz::UTC);
        assert_eq!(none.account_level, None);
        assert_eq!(
            none.pack_status,
            PackStatus::Deactivated {
                reason: DeactivationReason::NotActivated
            }
        );
    }

    #[test]
    fn recent_figures_fall_in_fixed_windows() {
        // Proves the 7 daily and 12 monthly bars (today is 2025-03-14), their totals, and that older
        // or future entries are left out.
        let transfers = [
            (date(2025, 3, 14), 100),
            (date(2025, 3, 8), 20),
            (date(2025, 3, 7), 5),
            (date(2024, 4, 30), 7),
            (date(2024, 3, 31), 1_000),
            (date(2025, 3, 15), 9_999),
        ];
        let orders = [
            (date(2025, 3, 14), d("12.50")),
            (date(2025, 3, 13), d("7.50")),
            (date(2025, 1, 2), d("30.00")),
            (date(2024, 3, 14), d("99.00")),
        ];
        let board = dashboard(&pack(), &transfers, &orders, test_now(), Tz::UTC);
        let week = &board.bandwidth_bytes_last_7_days;
        assert_eq!(week.buckets.len(), 7);
        assert_eq!(week.buckets[0].starts_on, date(2025, 3, 8));
        assert_eq!(
            week.buckets[6],
            Bucket {
                starts_on: date(2025, 3, 14),
                value: 100
            }
        );
        assert_eq!(week.total, 120);
        let year = &board.bandwidth_bytes_last_12_months;
        assert_eq!(year.buckets.len(), 12);
        assert_eq!(year.buckets[0].starts_on, date(2024, 4, 1));
        assert_eq!(year.buckets[11].starts_on, date(2025, 3, 1));
        assert_eq!(year.buckets[0].value, 7);
        assert_eq!(year.buckets[11].value, 125);
        assert_eq!(year.total, 132);
        assert_eq!(board.orders_last_7_days.total, 2);
        assert_eq!(board.sales_last_7_days.total, d("20.00"));
        assert_eq!(board.orders_last_12_months.total, 3);
        assert_eq!(board.sales_last_12_months.total, d("50.00"));
        assert_eq!(board.sales_last_12_months.buckets[9].value, d("30.00"));
    }

    #[test]
    fn month_windows_cross_the_year_and_short_months() {
        // Proves the monthly bars from a 31 January are the previous 11 months' first days.
        let now = DateTime::parse_from_rfc3339("2025-01-31T23:59:59Z")
            .expect("time")
            .with_timezone(&Utc);
        let starts: Vec<NaiveDate> = recent_months(now.date_naive());
        assert_eq!(starts[0], date(2024, 2, 1));
        assert_eq!(starts[11], date(2025, 1, 1));
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn today_is_the_shop_zones_day() {
        // Proves the last bar is the shop's today: at 2026-03-29T22:30Z it is already 30 March in
        // Paris (summer time began that morning), still 29 March in UTC.
        let now = DateTime::parse_from_rfc3339("2026-03-29T22:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let orders = [(date(2026, 3, 30), d("10.00"))];
        let paris = dashboard(
            &pack(),
            &[],
            &orders,
            now,
            crate::calendar::default_time_zone(),
        );
        assert_eq!(
            paris.sales_last_7_days.buckets[6].starts_on,
            date(2026, 3, 30)
        );
        assert_eq!(paris.sales_last_7_days.total, d("10.00"));
        let utc = dashboard(&pack(), &[], &orders, now, Tz::UTC);
        assert_eq!(
            utc.sales_last_7_days.buckets[6].starts_on,
            date(2026, 3, 29)
        );
        assert_eq!(utc.sales_last_7_days.total, Decimal::ZERO);
    }
}
