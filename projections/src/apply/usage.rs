//! The shop's commercial read models of issue 5: the coupon list, and one row per shop and day
//! with the bytes transferred, the orders placed and their sales, from which the dashboard draws
//! its 7-day and 12-month charts without reading every order.
//!
//! Sales are the orders' discounted totals including VAT, counted on the day the order was
//! placed; a cancelled order is taken out of that day again, so the figures exclude it.

use super::shop::shop_zone;
use crate::error::ProjectionResult;
use crate::keys::{id_key, key, Table};
use crate::store::WriteSet;
use crate::usage::{day_bytes, CouponSummary, DailyUsage};
use chrono::NaiveDate;
use comptoir_domain::calendar::local_date;
use comptoir_domain::coupon::{Audience, CouponEvent};
use comptoir_domain::order::OrderEvent;
use comptoir_domain::pack::PackEvent;
use uuid::Uuid;

pub(crate) fn apply_coupon(writes: &mut WriteSet, event: &CouponEvent) -> ProjectionResult<()> {
    let (shop_id, coupon_id) = match event {
        CouponEvent::CouponCreated {
            shop_id, coupon_id, ..
        }
        | CouponEvent::CouponEdited {
            shop_id, coupon_id, ..
        }
        | CouponEvent::CouponCodesGenerated {
            shop_id, coupon_id, ..
        }
        | CouponEvent::CouponUsed {
            shop_id, coupon_id, ..
        }
        | CouponEvent::CouponUseReleased {
            shop_id, coupon_id, ..
        } => (*shop_id, *coupon_id),
    };
    let row_key = id_key(Table::Coupon, shop_id, coupon_id);
    let mut row = match (event, writes.get::<CouponSummary>(&row_key)?) {
        (_, Some(row)) => row,
        (
            CouponEvent::CouponCreated {
                definition,
                created_at,
                ..
            },
            None,
        ) => CouponSummary {
            coupon_id,
            name: definition.name.clone(),
            starts_at: definition.starts_at,
            ends_at: definition.ends_at,
            single_use_codes: definition.audience == Audience::SingleUseCodes,
            locked: false,
            code_count: 0,
            active_uses: 0,
            created_at: *created_at,
        },
        (_, None) => {
            tracing::warn!(%shop_id, %coupon_id, "event of an unknown coupon ignored");
            return Ok(());
        }
    };
    match event {
        CouponEvent::CouponCreated { .. } => {}
        CouponEvent::CouponEdited { definition, .. } => {
            row.name = definition.name.clone();
            row.starts_at = definition.starts_at;
            row.ends_at = definition.ends_at;
            row.single_use_codes = definition.audience == Audience::SingleUseCodes;
        }
        CouponEvent::CouponCodesGenerated { codes, .. } => {
            row.locked = true;
            row.code_count = row.code_count.saturating_add(codes.len() as u64);
        }
        CouponEvent::CouponUsed { .. } => row.active_uses = row.active_uses.saturating_add(1),
        CouponEvent::CouponUseReleased { .. } => {
            row.active_uses = row.active_uses.saturating_sub(1);
        }
    }
    writes.put(row_key, &row)
}

pub(crate) fn apply_pack(writes: &mut WriteSet, event: &PackEvent) -> ProjectionResult<()> {
    if let PackEvent::QuotaConsumed {
        shop_id,
        bytes,
        consumed_at,
        ..
    } = event
    {
        let day = local_date(*consumed_at, shop_zone(writes, *shop_id)?);
        change_day(writes, *shop_id, day, |day| {
            day.transfer_bytes = day.transfer_bytes.saturating_add(*bytes);
        })?;
    }
    Ok(())
}

/// Runs after the order read model took the event, so the order's view is current.
pub(crate) fn apply_order(writes: &mut WriteSet, event: &OrderEvent) -> ProjectionResult<()> {
    let (shop_id, order_id, sign) = match event {
        OrderEvent::OrderPlaced(placed) => (placed.shop_id, placed.order_id, 1),
        OrderEvent::OrderCancelled {
            shop_id, order_id, ..
        } => (*shop_id, *order_id, -1),
        _ => return Ok(()),
    };
    let order_key = id_key(Table::Order, shop_id, order_id);
    let Some(order) = writes.take_order(&order_key)? else {
        return Ok(());
    };
    let (placed_at, total) = (order.view.placed_at, order.view.totals.total_incl_vat);
    writes.put_order(order_key, order);
    // The day in the shop's zone as it is now; a cancellation after the zone changed may thus
    // land on a neighbouring day's row, which only shifts the chart by that order.
    let zone = shop_zone(writes, shop_id)?;
    let placed_on = local_date(placed_at, zone);
    change_day(writes, shop_id, placed_on, |day| {
        if sign > 0 {
            day.orders = day.orders.saturating_add(1);
            day.sales += total;
        } else {
            day.orders = day.orders.saturating_sub(1);
            day.sales -= total;
        }
    })
}

fn change_day(
    writes: &mut WriteSet,
    shop_id: Uuid,
    date: NaiveDate,
    change: impl FnOnce(&mut DailyUsage),
) -> ProjectionResult<()> {
    let row_key = key(Table::DailyUsage, shop_id, &day_bytes(date));
    writes.update_decoded(row_key, || DailyUsage::empty(date), change)
}
