//! Packs and quota (seed 000, "Forfaits"): a period of validity, a data-transfer allowance and an
//! order count, bought outside and activated with a single-use code.
//!
//! One stream per shop (`pack-{shop_id}`): activation, renewals, every transfer and every order
//! counted against the allowance, unsubscription. Consumption is decided against this stream's
//! state and appended with its exact expected version, so the allowance is never exceeded, even by
//! concurrent orders and uploads. [`pack_status`] tells the api whether the shop may take orders.
//!
//! Renewal, as read from seed 000 ("you can use your current pack until it expires"; once expired,
//! "you can renew it"; the shop is deactivated if no renewal code is entered before expiry):
//! - renewing while the pack still runs (its end is in the future) *extends* it: the new period
//!   starts at the current end, so no paid day is lost, and the unused bytes and orders carry
//!   over (they are added to the new allowance);
//! - renewing once it has expired *restarts* it: the new period starts now and the lapsed pack's
//!   leftovers are gone with it, since they belonged to a period that has ended;
//! - either way the shop is active again at once (the spec lifts the seed's rule that an expired
//!   shop cannot enter a code), and the pack is subscribed again.
//!
//! Unsubscribing changes nothing but a flag: the pack stays usable until it ends.

mod activation;
mod decide;
#[cfg(test)]
mod tests;

pub use activation::{
    activation_code_stream_id, validate_code_hash, ActivationCode, ActivationCodeCommand,
    ActivationCodeEvent,
};

use crate::limits::{
    NAME_CHARS_MAX, PACK_ORDER_ALLOWANCE_MAX, PACK_TRANSFER_ALLOWANCE_BYTES_MAX,
    PACK_VALIDITY_DAYS_MAX, PACK_VALIDITY_MONTHS_MAX,
};
use crate::text::validate_text;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Bytes in the gigabyte of allowances and of the dashboard (decimal, as storage is sold).
pub const BYTES_PER_GIGABYTE: u64 = 1_000_000_000;

/// Stream of one shop's pack.
pub fn stream_id(shop_id: Uuid) -> String {
    format!("{}-{shop_id}", Pack::STREAM_KIND)
}

/// How long a pack lasts from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackValidity {
    Days(u32),
    /// Calendar months; a start on the 31st ends on the last day of a shorter month.
    Months(u32),
}

/// What a pack gives, as sold with an activation code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackTerms {
    /// The account level shown on the dashboard (e.g. "Pro").
    pub level: String,
    pub validity: PackValidity,
    pub transfer_allowance_bytes: u64,
    pub order_allowance: u64,
}

impl PackTerms {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_text("level", &self.level, NAME_CHARS_MAX)?;
        let validity_ok = match self.validity {
            PackValidity::Days(days) => (1..=PACK_VALIDITY_DAYS_MAX).contains(&days),
            PackValidity::Months(months) => (1..=PACK_VALIDITY_MONTHS_MAX).contains(&months),
        };
        if !validity_ok {
            return Err(DomainError::validation(
                "validity",
                format!(
                    "1 to {PACK_VALIDITY_DAYS_MAX} days or 1 to {PACK_VALIDITY_MONTHS_MAX} months"
                ),
            ));
        }
        if !(1..=PACK_TRANSFER_ALLOWANCE_BYTES_MAX).contains(&self.transfer_allowance_bytes) {
            return Err(DomainError::validation(
                "transfer_allowance_bytes",
                format!("1 to {PACK_TRANSFER_ALLOWANCE_BYTES_MAX}"),
            ));
        }
        if !(1..=PACK_ORDER_ALLOWANCE_MAX).contains(&self.order_allowance) {
            return Err(DomainError::validation(
                "order_allowance",
                format!("1 to {PACK_ORDER_ALLOWANCE_MAX}"),
            ));
        }
        Ok(())
    }

    /// The end of a period of this validity starting at `from`.
    pub fn ends_at(&self, from: DateTime<Utc>) -> Result<DateTime<Utc>, DomainError> {
        let end = match self.validity {
            PackValidity::Days(days) => from.checked_add_signed(Duration::days(i64::from(days))),
            PackValidity::Months(months) => from.checked_add_months(Months::new(months)),
        };
        end.ok_or_else(|| DomainError::validation("validity", "ends beyond the calendar"))
    }
}

#[derive(Debug, Clone)]
pub enum PackCommand {
    /// Activates or renews with a code redeemed in the same append; `terms` come from the code.
    Activate {
        shop_id: Uuid,
        code_hash: String,
        terms: PackTerms,
    },
    /// Bytes uploaded or downloaded; `reference` says what (e.g. the order and file name).
    ConsumeTransfer {
        bytes: u64,
        reference: String,
    },
    /// An order is being placed.
    ConsumeOrder {
        order_id: Uuid,
    },
    Unsubscribe {
        unsubscribed_by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PackEvent {
    PackActivated {
        shop_id: Uuid,
        code_hash: String,
        level: String,
        ends_at: DateTime<Utc>,
        transfer_allowance_bytes: u64,
        order_allowance: u64,
        activated_at: DateTime<Utc>,
    },
    /// The allowances are the new period's whole allowances, carried-over remainders included;
    /// usage counts from zero again.
    PackRenewed {
        shop_id: Uuid,
        code_hash: String,
        level: String,
        ends_at: DateTime<Utc>,
        transfer_allowance_bytes: u64,
        order_allowance: u64,
        bytes_carried_over: u64,
        orders_carried_over: u64,
        renewed_at: DateTime<Utc>,
    },
    QuotaConsumed {
        shop_id: Uuid,
        bytes: u64,
        reference: String,
        consumed_at: DateTime<Utc>,
    },
    OrderQuotaConsumed {
        shop_id: Uuid,
        order_id: Uuid,
        consumed_at: DateTime<Utc>,
    },
    PackUnsubscribed {
        shop_id: Uuid,
        unsubscribed_by: String,
        usable_until: DateTime<Utc>,
        unsubscribed_at: DateTime<Utc>,
    },
}

impl DomainEvent for PackEvent {
    fn event_type(&self) -> &'static str {
        match self {
            PackEvent::PackActivated { .. } => "PackActivated",
            PackEvent::PackRenewed { .. } => "PackRenewed",
            PackEvent::QuotaConsumed { .. } => "QuotaConsumed",
            PackEvent::OrderQuotaConsumed { .. } => "OrderQuotaConsumed",
            PackEvent::PackUnsubscribed { .. } => "PackUnsubscribed",
        }
    }
}

/// Why a shop cannot take orders or uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeactivationReason {
    NotActivated,
    PackExpired,
    QuotaExhausted,
}

impl DeactivationReason {
    /// Stable problem code, part of the public API.
    pub fn code(self) -> &'static str {
        match self {
            DeactivationReason::NotActivated => "pack-not-activated",
            DeactivationReason::PackExpired => "pack-expired",
            DeactivationReason::QuotaExhausted => "quota-exhausted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum PackStatus {
    Active,
    Deactivated { reason: DeactivationReason },
}

/// Whether the shop may take orders and uploads at `now`. Expiry is reported before exhaustion:
/// a renewal cures both, and the end date is what the manager must act on.
pub fn pack_status(pack: &Pack, now: DateTime<Utc>) -> PackStatus {
    let reason = match pack.ends_at {
        None => Some(DeactivationReason::NotActivated),
        Some(ends_at) if now >= ends_at => Some(DeactivationReason::PackExpired),
        Some(_) if pack.bytes_left() == 0 || pack.orders_left() == 0 => {
            Some(DeactivationReason::QuotaExhausted)
        }
        Some(_) => None,
    };
    reason.map_or(PackStatus::Active, |reason| PackStatus::Deactivated {
        reason,
    })
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pack {
    pub shop_id: Option<Uuid>,
    pub level: Option<String>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Of the current period, carried-over remainder included.
    pub transfer_allowance_bytes: u64,
    pub bytes_used: u64,
    pub order_allowance: u64,
    pub orders_used: u64,
    pub unsubscribed: bool,
    /// Hashes of every code this pack redeemed, so a retried activation changes nothing.
    pub redeemed_codes: BTreeSet<String>,
}

impl Pack {
    pub fn bytes_left(&self) -> u64 {
        self.transfer_allowance_bytes
            .saturating_sub(self.bytes_used)
    }

    pub fn orders_left(&self) -> u64 {
        self.order_allowance.saturating_sub(self.orders_used)
    }

    /// Refuses with the problem code of [`pack_status`] unless the shop is active at `now`.
    pub fn ensure_active(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match pack_status(self, now) {
            PackStatus::Active => Ok(()),
            PackStatus::Deactivated { reason } => Err(DomainError::conflict(
                reason.code(),
                match reason {
                    DeactivationReason::NotActivated => {
                        "the shop has no pack: enter an activation code"
                    }
                    DeactivationReason::PackExpired => {
                        "the shop's pack has expired: enter a renewal code"
                    }
                    DeactivationReason::QuotaExhausted => {
                        "the shop's pack is used up: enter a renewal code"
                    }
                },
            )),
        }
    }
}

impl Aggregate for Pack {
    type Command = PackCommand;
    type Event = PackEvent;
    const STREAM_KIND: &'static str = "pack";

    fn decide(
        &self,
        command: &PackCommand,
        env: &dyn Environment,
    ) -> Result<Vec<PackEvent>, DomainError> {
        decide::decide(self, command, env.now())
    }

    fn evolve(self, event: &PackEvent) -> Self {
        evolve(self, event)
    }
}

fn evolve(mut pack: Pack, event: &PackEvent) -> Pack {
    match event {
        PackEvent::PackActivated {
            shop_id,
            code_hash,
            level,
            ends_at,
            transfer_allowance_bytes,
            order_allowance,
            ..
        }
        | PackEvent::PackRenewed {
            shop_id,
            code_hash,
            level,
            ends_at,
            transfer_allowance_bytes,
            order_allowance,
            ..
        } => {
            pack.shop_id = Some(*shop_id);
            pack.level = Some(level.clone());
            pack.ends_at = Some(*ends_at);
            pack.transfer_allowance_bytes = *transfer_allowance_bytes;
            pack.bytes_used = 0;
            pack.order_allowance = *order_allowance;
            pack.orders_used = 0;
            pack.unsubscribed = false;
            pack.redeemed_codes.insert(code_hash.clone());
        }
        PackEvent::QuotaConsumed { bytes, .. } => {
            pack.bytes_used = pack.bytes_used.saturating_add(*bytes);
        }
        PackEvent::OrderQuotaConsumed { .. } => {
            pack.orders_used = pack.orders_used.saturating_add(1);
        }
        PackEvent::PackUnsubscribed { .. } => pack.unsubscribed = true,
    }
    pack
}
