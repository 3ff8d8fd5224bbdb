//! Coupons (seed 000, "Coupons"): a named discount with a validity window, a scope and a minimum
//! order amount, used through codes.
//!
//! One stream per coupon (`coupon-{coupon_id}`): its definition, its codes and every use. Limits
//! (max total uses, max uses per customer, single use per code) are counted from this stream's own
//! state, so they are exact by construction when the glue appends `CouponUsed` with this stream's
//! exact expected version in the same atomic append as `OrderPlaced`: of 200 concurrent orders on
//! a coupon with 50 uses left, each decides against some version, and only appends whose version
//! is still current succeed; the others reload, decide again and are refused once 50 are used.
//!
//! Codes are unique within a shop through the shop's code registry ([`CouponCodeRegistry`],
//! stream `coupon-codes-{shop_id}`), appended with its exact expected version atomically with
//! `CouponCodesGenerated`. The registry also answers "which coupon is this code?" at checkout.
//! A stream per code would make the lookup cheaper, but N single-use codes generated at once
//! would then need N + 1 streams in one append, beyond what one atomic append may touch.
//!
//! A coupon is editable until its codes are generated; then it is locked (`coupon-locked`), so a
//! code handed to customers always means what it meant when it was handed out.

mod codes;
mod decide;
mod discount;
#[cfg(test)]
mod discount_tests;
#[cfg(test)]
mod tests;

pub use codes::{
    normalise_code, registry_stream_id, CouponCodeRegistry, CouponCodeRegistryCommand,
    CouponCodeRegistryEvent,
};
pub use discount::{apply_coupon, discounted_totals, CouponDiscount, LineDiscount};

use crate::customer::{customer_id_for, normalise_email};
use crate::order::OrderCustomer;
use crate::pricing::PricedBasket;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use uuid::Uuid;

/// Stream of one coupon.
pub fn stream_id(coupon_id: Uuid) -> String {
    format!("{}-{coupon_id}", Coupon::STREAM_KIND)
}

/// The key per-customer limits count on: the id of the account of the order's email, which
/// exists for guests too (it derives from the shop and the normalised email). Keying on the account
/// rather than on the email as typed means case or spaces cannot buy a second use, and a guest
/// ordering with a registered customer's email counts as that customer. It also keeps emails out of
/// the coupon's stream. `email_moved_to` is the account that moved to this email, if one did (read
/// by the caller from the email's customer stream, `Customer::claimed_by`): that account is then
/// the email's, so changing one's email cannot buy a second use either.
pub fn customer_key(
    shop_id: Uuid,
    customer: &OrderCustomer,
    email_moved_to: Option<Uuid>,
) -> Result<Uuid, DomainError> {
    let email = normalise_email(&customer.email)?;
    let key = email_moved_to.unwrap_or_else(|| customer_id_for(shop_id, &email));
    if customer.customer_id.is_some_and(|id| id != key) {
        return Err(DomainError::validation(
            "customer.customer_id",
            "does not belong to this email",
        ));
    }
    Ok(key)
}

/// A reduction of an order, of product lines or of a product type, in the shop's tax mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Percent of the eligible amount, more than 0 and at most 100.
    Percent(Decimal),
    /// A fixed amount, capped at the eligible amount.
    Amount(Decimal),
}

/// A reduction of the shipping price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingReduction {
    Free,
    Percent(Decimal),
    Amount(Decimal),
}

/// What a coupon reduces ("Service concerné").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponScope {
    Shipping {
        reduction: ShippingReduction,
    },
    Order {
        reduction: Reduction,
    },
    /// Only the lines of these products.
    Product {
        reduction: Reduction,
        product_ids: BTreeSet<Uuid>,
    },
    /// Only the lines of products in these categories.
    ProductType {
        reduction: Reduction,
        category_ids: BTreeSet<Uuid>,
    },
}

/// Who may use the coupon ("S'applique à tous les clients").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// One code for everyone; `None` means unlimited.
    AllCustomers {
        max_total_uses: Option<u32>,
        max_uses_per_customer: Option<u32>,
    },
    /// Many codes, each usable once.
    SingleUseCodes,
}

/// Everything a manager sets on a coupon before its codes are generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponDefinition {
    /// Identifies the coupon in the back office; not the code.
    pub name: String,
    /// Valid from this instant (inclusive). The glue turns the manager's start date into the
    /// start of that day in the shop's time zone.
    pub starts_at: DateTime<Utc>,
    /// Valid until this instant (exclusive): the end date's next midnight in the shop's time zone.
    pub ends_at: DateTime<Utc>,
    pub scope: CouponScope,
    /// The amount the basket must reach, in the shop's tax mode: the eligible lines for product
    /// and product-type coupons ("selon le produit concerné"), all product lines otherwise.
    /// Shipping never counts towards it.
    pub min_order_amount: Decimal,
    pub audience: Audience,
}

/// How the codes of a coupon are produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// The manager's code (e.g. TIRAGES10), for a coupon for all customers.
    Typed(String),
    /// One code of [`crate::limits::GENERATED_CODE_CHARS`] characters, for all customers.
    Generated,
    /// `count` single-use codes.
    SingleUse { count: u32 },
}

/// Applying a code while placing an order.
#[derive(Debug, Clone)]
pub struct UseCoupon {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    /// As the customer typed it; compared case-insensitively.
    pub code: String,
    /// From [`customer_key`].
    pub customer_key: Uuid,
    /// The order's basket priced from the catalog (`pricing::price_basket`).
    pub basket: Arc<PricedBasket>,
}

#[derive(Debug, Clone)]
pub enum CouponCommand {
    Create {
        coupon_id: Uuid,
        shop_id: Uuid,
        definition: Box<CouponDefinition>,
    },
    Edit {
        definition: Box<CouponDefinition>,
    },
    /// The shop's code registry as of now (its stream version goes with it into the append).
    GenerateCodes {
        request: CodeRequest,
        registry: Arc<CouponCodeRegistry>,
    },
    Use(Box<UseCoupon>),
    /// The order that used the coupon was cancelled: its use no longer counts.
    ReleaseUse {
        order_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CouponEvent {
    CouponCreated {
        shop_id: Uuid,
        coupon_id: Uuid,
        definition: CouponDefinition,
        created_at: DateTime<Utc>,
    },
    CouponEdited {
        shop_id: Uuid,
        coupon_id: Uuid,
        definition: CouponDefinition,
        edited_at: DateTime<Utc>,
    },
    /// The coupon is locked from now on.
    CouponCodesGenerated {
        shop_id: Uuid,
        coupon_id: Uuid,
        /// Upper-case; in the order they were generated (the order of the downloadable file).
        codes: Vec<String>,
        /// Whether the manager chose the code.
        typed: bool,
        generated_at: DateTime<Utc>,
    },
    CouponUsed {
        shop_id: Uuid,
        coupon_id: Uuid,
        order_id: Uuid,
        code: String,
        customer_key: Uuid,
        discount: CouponDiscount,
        used_at: DateTime<Utc>,
    },
    CouponUseReleased {
        shop_id: Uuid,
        coupon_id: Uuid,
        order_id: Uuid,
        code: String,
        released_at: DateTime<Utc>,
    },
}

impl DomainEvent for CouponEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CouponEvent::CouponCreated { .. } => "CouponCreated",
            CouponEvent::CouponEdited { .. } => "CouponEdited",
            CouponEvent::CouponCodesGenerated { .. } => "CouponCodesGenerated",
            CouponEvent::CouponUsed { .. } => "CouponUsed",
            CouponEvent::CouponUseReleased { .. } => "CouponUseReleased",
        }
    }
}

/// One use of the coupon, by the order that used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponUse {
    pub code: String,
    pub customer_key: Uuid,
    pub amount: Decimal,
    pub released: bool,
}

/// Uses of one code: those that count, and those released by cancelled orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeUsage {
    pub active: u32,
    pub released: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coupon {
    pub shop_id: Option<Uuid>,
    pub coupon_id: Option<Uuid>,
    pub definition: Option<CouponDefinition>,
    /// Every code of the coupon with its usage; empty until generated.
    pub codes: BTreeMap<String, CodeUsage>,
    pub codes_typed: bool,
    /// By order id.
    pub uses: BTreeMap<Uuid, CouponUse>,
    /// Uses that count, all customers together.
    pub active_uses: u32,
    /// Uses that count, per customer key.
    pub active_uses_by_customer: BTreeMap<Uuid, u32>,
}

impl Coupon {
    pub fn is_locked(&self) -> bool {
        !self.codes.is_empty()
    }

    /// The discount `code` would give on `basket` at `now`, with every rule of [`CouponCommand::Use`]
    /// checked and nothing recorded: what a cart preview shows is what the order will get.
    pub fn preview(
        &self,
        code: &str,
        customer_key: Uuid,
        basket: &PricedBasket,
        now: DateTime<Utc>,
    ) -> Result<CouponDiscount, DomainError> {
        decide::check_use(self, &normalise_code(code)?, customer_key, basket, now)
    }

    /// The discount `code` gives on `basket` at `now` by the coupon's terms (a code of this coupon,
    /// the validity window, the minimum amount), usage limits aside: what an order placed with the
    /// code records. Limits are counted on this stream only, by [`CouponCommand::Use`] decided in
    /// the same atomic append, on the same basket.
    pub fn discount_by_terms(
        &self,
        code: &str,
        basket: &PricedBasket,
        now: DateTime<Utc>,
    ) -> Result<CouponDiscount, DomainError> {
        decide::check_terms(self, &normalise_code(code)?, basket, now)
    }
}

impl Aggregate for Coupon {
    type Command = CouponCommand;
    type Event = CouponEvent;
    const STREAM_KIND: &'static str = "coupon";

    fn decide(
        &self,
        command: &CouponCommand,
        env: &dyn Environment,
    ) -> Result<Vec<CouponEvent>, DomainError> {
        decide::decide(self, command, env)
    }

    fn evolve(self, event: &CouponEvent) -> Self {
        evolve(self, event)
    }
}

fn evolve(mut coupon: Coupon, event: &CouponEvent) -> Coupon {
    match event {
        CouponEvent::CouponCreated {
            shop_id,
            coupon_id,
            definition,
            ..
        } => {
            coupon.shop_id = Some(*shop_id);
            coupon.coupon_id = Some(*coupon_id);
            coupon.definition = Some(definition.clone());
        }
        CouponEvent::CouponEdited { definition, .. } => {
            coupon.definition = Some(definition.clone());
        }
        CouponEvent::CouponCodesGenerated { codes, typed, .. } => {
            coupon.codes_typed = *typed;
            for code in codes {
                coupon.codes.entry(code.clone()).or_default();
            }
        }
        CouponEvent::CouponUsed {
            order_id,
            code,
            customer_key,
            discount,
            ..
        } => {
            coupon.active_uses += 1;
            *coupon
                .active_uses_by_customer
                .entry(*customer_key)
                .or_insert(0) += 1;
            coupon.codes.entry(code.clone()).or_default().active += 1;
            let record = CouponUse {
                code: code.clone(),
                customer_key: *customer_key,
                amount: discount.amount,
                released: false,
            };
            coupon.uses.insert(*order_id, record);
        }
        CouponEvent::CouponUseReleased { order_id, .. } => release(&mut coupon, *order_id),
    }
    coupon
}

/// Takes a use out of every count; the use itself stays, marked released.
fn release(coupon: &mut Coupon, order_id: Uuid) {
    let Some(record) = coupon.uses.get_mut(&order_id) else {
        return;
    };
    if record.released {
        return;
    }
    record.released = true;
    coupon.active_uses = coupon.active_uses.saturating_sub(1);
    if let Some(count) = coupon.active_uses_by_customer.get_mut(&record.customer_key) {
        *count = count.saturating_sub(1);
    }
    if let Some(usage) = coupon.codes.get_mut(&record.code) {
        usage.active = usage.active.saturating_sub(1);
        usage.released += 1;
    }
}
