//! The rules of a shop's pack, one function per command.

use super::{validate_code_hash, Pack, PackCommand, PackEvent, PackTerms};
use crate::limits::{
    ACTIVATION_CODES_PER_PACK_MAX, PACK_ORDER_ALLOWANCE_MAX, PACK_TRANSFER_ALLOWANCE_BYTES_MAX,
    REFERENCE_CHARS_MAX,
};
use crate::text::validate_text;
use crate::DomainError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

type Decision = Result<Vec<PackEvent>, DomainError>;

pub(super) fn decide(pack: &Pack, command: &PackCommand, now: DateTime<Utc>) -> Decision {
    match command {
        PackCommand::Activate {
            shop_id,
            code_hash,
            terms,
        } => decide_activate(pack, *shop_id, code_hash, terms, now),
        PackCommand::ConsumeTransfer { bytes, reference } => {
            decide_transfer(pack, *bytes, reference, now)
        }
        PackCommand::ConsumeOrder { order_id } => decide_order(pack, *order_id, now),
        PackCommand::Unsubscribe { unsubscribed_by } => {
            decide_unsubscribe(pack, unsubscribed_by, now)
        }
    }
}

/// The shop of an activated pack.
fn activated(pack: &Pack) -> Result<(Uuid, DateTime<Utc>), DomainError> {
    match (pack.shop_id, pack.ends_at) {
        (Some(shop_id), Some(ends_at)) => Ok((shop_id, ends_at)),
        _ => Err(DomainError::conflict(
            "pack-not-activated",
            "the shop has no pack: enter an activation code",
        )),
    }
}

fn decide_activate(
    pack: &Pack,
    shop_id: Uuid,
    code_hash: &str,
    terms: &PackTerms,
    now: DateTime<Utc>,
) -> Decision {
    validate_code_hash(code_hash)?;
    if pack.shop_id.is_some_and(|id| id != shop_id) {
        return Err(DomainError::conflict(
            "shop-mismatch",
            "this pack belongs to another shop",
        ));
    }
    if pack.redeemed_codes.contains(code_hash) {
        return Ok(vec![]);
    }
    terms.validate()?;
    if pack.redeemed_codes.len() >= ACTIVATION_CODES_PER_PACK_MAX {
        return Err(DomainError::LimitExceeded {
            what: "activation codes per pack",
            limit: ACTIVATION_CODES_PER_PACK_MAX as u64,
        });
    }
    let Some(current_end) = pack.ends_at else {
        return Ok(vec![PackEvent::PackActivated {
            shop_id,
            code_hash: code_hash.to_owned(),
            level: terms.level.clone(),
            ends_at: terms.ends_at(now)?,
            transfer_allowance_bytes: terms.transfer_allowance_bytes,
            order_allowance: terms.order_allowance,
            activated_at: now,
        }]);
    };
    renewal(pack, shop_id, code_hash, terms, current_end, now)
}

/// See the module's documentation: a running pack is extended, a lapsed one restarted.
fn renewal(
    pack: &Pack,
    shop_id: Uuid,
    code_hash: &str,
    terms: &PackTerms,
    current_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Decision {
    let running = now < current_end;
    let (from, bytes_carried_over, orders_carried_over) = if running {
        (current_end, pack.bytes_left(), pack.orders_left())
    } else {
        (now, 0, 0)
    };
    let transfer_allowance_bytes = add_within(
        "transfer allowance bytes",
        terms.transfer_allowance_bytes,
        bytes_carried_over,
        PACK_TRANSFER_ALLOWANCE_BYTES_MAX,
    )?;
    let order_allowance = add_within(
        "order allowance",
        terms.order_allowance,
        orders_carried_over,
        PACK_ORDER_ALLOWANCE_MAX,
    )?;
    Ok(vec![PackEvent::PackRenewed {
        shop_id,
        code_hash: code_hash.to_owned(),
        level: terms.level.clone(),
        ends_at: terms.ends_at(from)?,
        transfer_allowance_bytes,
        order_allowance,
        bytes_carried_over,
        orders_carried_over,
        renewed_at: now,
    }])
}

fn add_within(what: &'static str, a: u64, b: u64, limit: u64) -> Result<u64, DomainError> {
    a.checked_add(b)
        .filter(|sum| *sum <= limit)
        .ok_or(DomainError::LimitExceeded { what, limit })
}

fn decide_transfer(pack: &Pack, bytes: u64, reference: &str, now: DateTime<Utc>) -> Decision {
    let (shop_id, _) = activated(pack)?;
    pack.ensure_active(now)?;
    validate_text("reference", reference, REFERENCE_CHARS_MAX)?;
    if bytes == 0 {
        return Ok(vec![]);
    }
    // The allowance is never overdrawn: a transfer larger than what is left is refused whole.
    let left = pack.bytes_left();
    if bytes > left {
        return Err(DomainError::conflict(
            "quota-exhausted",
            format!("{bytes} bytes to transfer but only {left} left in the pack"),
        ));
    }
    Ok(vec![PackEvent::QuotaConsumed {
        shop_id,
        bytes,
        reference: reference.to_owned(),
        consumed_at: now,
    }])
}

fn decide_order(pack: &Pack, order_id: Uuid, now: DateTime<Utc>) -> Decision {
    let (shop_id, _) = activated(pack)?;
    // Active means at least one order and one byte left.
    pack.ensure_active(now)?;
    Ok(vec![PackEvent::OrderQuotaConsumed {
        shop_id,
        order_id,
        consumed_at: now,
    }])
}

fn decide_unsubscribe(pack: &Pack, unsubscribed_by: &str, now: DateTime<Utc>) -> Decision {
    let (shop_id, ends_at) = activated(pack)?;
    validate_text("unsubscribed_by", unsubscribed_by, REFERENCE_CHARS_MAX)?;
    if pack.unsubscribed {
        return Ok(vec![]);
    }
    Ok(vec![PackEvent::PackUnsubscribed {
        shop_id,
        unsubscribed_by: unsubscribed_by.to_owned(),
        usable_until: ends_at,
        unsubscribed_at: now,
    }])
}
