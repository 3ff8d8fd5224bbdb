//! Queries of the coupon list and of the daily usage rows (see `apply::usage`).

use crate::error::ProjectionResult;
use crate::keys::{key, shop_prefix, Table};
use crate::paging::{Page, PageRequest};
use crate::store::{decode_value, ListRange};
use crate::Projections;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Days one usage query returns at most: a year and a month, more than the dashboard's 12 months.
pub const USAGE_DAYS_MAX: usize = 400;

/// One row of the coupon list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponSummary {
    pub coupon_id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub single_use_codes: bool,
    /// Codes are generated: the coupon can no longer change.
    pub locked: bool,
    pub code_count: u64,
    /// Uses that count (orders not cancelled).
    pub active_uses: u64,
    pub created_at: DateTime<Utc>,
}

/// What happened in one shop on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyUsage {
    pub day: NaiveDate,
    /// Order file bytes stored and sent (`QuotaConsumed`).
    pub transfer_bytes: u64,
    /// Orders placed that day and not cancelled.
    pub orders: u64,
    /// Their discounted totals including VAT.
    pub sales: Decimal,
}

impl DailyUsage {
    pub(crate) fn empty(day: NaiveDate) -> Self {
        DailyUsage {
            day,
            transfer_bytes: 0,
            orders: 0,
            sales: Decimal::ZERO,
        }
    }
}

/// A day as 4 bytes that sort like the day: days since 1 January of year 1, sign bit flipped.
pub(crate) fn day_bytes(day: NaiveDate) -> [u8; 4] {
    ((day.num_days_from_ce() as u32) ^ (1 << 31)).to_be_bytes()
}

impl Projections {
    /// The shop's coupons, in id order (ids are time-ordered, so oldest first).
    pub fn coupons(
        &self,
        shop_id: Uuid,
        page: &PageRequest,
    ) -> ProjectionResult<Page<CouponSummary>> {
        let range = ListRange {
            list_tag: Table::Coupon as u8,
            prefix: shop_prefix(Table::Coupon, shop_id),
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, Some)
    }

    /// The shop's usage rows from `first` to `last` (inclusive), days without activity left out;
    /// at most [`USAGE_DAYS_MAX`] rows.
    pub fn daily_usage(
        &self,
        shop_id: Uuid,
        first: NaiveDate,
        last: NaiveDate,
    ) -> ProjectionResult<Vec<DailyUsage>> {
        let start = key(Table::DailyUsage, shop_id, &day_bytes(first));
        let end = key(Table::DailyUsage, shop_id, &day_bytes(last));
        self.read_models_snapshot(|| {
            let mut days = Vec::new();
            for entry in self
                .tree()
                .range(start.clone()..=end.clone())
                .take(USAGE_DAYS_MAX)
            {
                let (row_key, value) = entry?;
                days.push(decode_value(&row_key, &value)?);
            }
            Ok(days)
        })
    }
}
