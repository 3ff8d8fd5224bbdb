//! The rules of a coupon, one function per command.

use super::codes::{code_taken, generate_codes, normalise_code};
use super::discount::{apply_coupon, minimum_basis};
use super::{
    Audience, CodeRequest, CodeUsage, Coupon, CouponCodeRegistry, CouponCommand, CouponDefinition,
    CouponDiscount, CouponEvent, CouponScope, Reduction, ShippingReduction, UseCoupon,
};
use crate::limits::{
    COUPON_TARGETS_MAX, COUPON_USES_MAX, COUPON_VALIDITY_DAYS_MAX, GENERATED_CODE_CHARS,
    MONEY_SCALE_MAX, NAME_CHARS_MAX, SINGLE_USE_CODES_PER_BATCH_MAX, SINGLE_USE_CODE_CHARS,
};
use crate::money::validate_amount;
use crate::pricing::PricedBasket;
use crate::text::validate_text;
use crate::{DomainError, Environment};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use uuid::Uuid;

type Decision = Result<Vec<CouponEvent>, DomainError>;

pub(super) fn decide(coupon: &Coupon, command: &CouponCommand, env: &dyn Environment) -> Decision {
    let now = env.now();
    match command {
        CouponCommand::Create {
            coupon_id,
            shop_id,
            definition,
        } => decide_create(coupon, *coupon_id, *shop_id, definition, now),
        CouponCommand::Edit { definition } => decide_edit(coupon, definition, now),
        CouponCommand::GenerateCodes { request, registry } => {
            decide_generate(coupon, request, registry, env)
        }
        CouponCommand::Use(command) => decide_use(coupon, command, now),
        CouponCommand::ReleaseUse { order_id } => decide_release(coupon, *order_id, now),
    }
}

fn locked() -> DomainError {
    DomainError::conflict(
        "coupon-locked",
        "the coupon's codes are generated: it can no longer change",
    )
}

/// The coupon's shop, id and definition, or not found before it is created.
fn created(coupon: &Coupon) -> Result<(Uuid, Uuid, &CouponDefinition), DomainError> {
    match (coupon.shop_id, coupon.coupon_id, coupon.definition.as_ref()) {
        (Some(shop_id), Some(coupon_id), Some(definition)) => Ok((shop_id, coupon_id, definition)),
        _ => Err(DomainError::not_found("coupon", "this coupon")),
    }
}

fn decide_create(
    coupon: &Coupon,
    coupon_id: Uuid,
    shop_id: Uuid,
    definition: &CouponDefinition,
    now: DateTime<Utc>,
) -> Decision {
    if let Ok((existing_shop, _, existing)) = created(coupon) {
        // The same creation retried is not an error; another one with this id is.
        return if existing_shop == shop_id && existing == definition {
            Ok(vec![])
        } else {
            Err(DomainError::already_exists("coupon", coupon_id))
        };
    }
    validate_definition(definition)?;
    Ok(vec![CouponEvent::CouponCreated {
        shop_id,
        coupon_id,
        definition: definition.clone(),
        created_at: now,
    }])
}

fn decide_edit(coupon: &Coupon, definition: &CouponDefinition, now: DateTime<Utc>) -> Decision {
    let (shop_id, coupon_id, existing) = created(coupon)?;
    if existing == definition {
        return Ok(vec![]);
    }
    if coupon.is_locked() {
        return Err(locked());
    }
    validate_definition(definition)?;
    Ok(vec![CouponEvent::CouponEdited {
        shop_id,
        coupon_id,
        definition: definition.clone(),
        edited_at: now,
    }])
}

fn validate_percent(field: &str, percent: Decimal) -> Result<(), DomainError> {
    let in_range = percent > Decimal::ZERO && percent <= Decimal::ONE_HUNDRED;
    if !in_range || percent.normalize().scale() > MONEY_SCALE_MAX {
        return Err(DomainError::validation(
            field,
            format!("a percentage above 0, at most 100, with at most {MONEY_SCALE_MAX} decimals"),
        ));
    }
    Ok(())
}

fn validate_reduction(reduction: Reduction) -> Result<(), DomainError> {
    match reduction {
        Reduction::Percent(percent) => validate_percent("scope.reduction.percent", percent),
        Reduction::Amount(amount) => validate_amount("scope.reduction.amount", amount, false),
    }
}

fn validate_targets(field: &str, targets: &BTreeSet<Uuid>) -> Result<(), DomainError> {
    if targets.is_empty() {
        return Err(DomainError::validation(field, "at least one"));
    }
    if targets.len() > COUPON_TARGETS_MAX {
        return Err(DomainError::LimitExceeded {
            what: "coupon targets",
            limit: COUPON_TARGETS_MAX as u64,
        });
    }
    Ok(())
}

fn validate_scope(scope: &CouponScope) -> Result<(), DomainError> {
    match scope {
        CouponScope::Shipping { reduction } => match reduction {
            ShippingReduction::Free => Ok(()),
            ShippingReduction::Percent(percent) => {
                validate_percent("scope.reduction.percent", *percent)
            }
            ShippingReduction::Amount(amount) => {
                validate_amount("scope.reduction.amount", *amount, false)
            }
        },
        CouponScope::Order { reduction } => validate_reduction(*reduction),
        CouponScope::Product {
            reduction,
            product_ids,
        } => {
            validate_targets("scope.product_ids", product_ids)?;
            validate_reduction(*reduction)
        }
        CouponScope::ProductType {
            reduction,
            category_ids,
        } => {
            validate_targets("scope.category_ids", category_ids)?;
            validate_reduction(*reduction)
        }
    }
}

fn validate_use_limit(
    field: &str,
    what: &'static str,
    limit: Option<u32>,
) -> Result<(), DomainError> {
    match limit {
        Some(0) => Err(DomainError::validation(
            field,
            "at least 1 (leave it empty for no limit)",
        )),
        Some(limit) if limit as usize > COUPON_USES_MAX => Err(DomainError::LimitExceeded {
            what,
            limit: COUPON_USES_MAX as u64,
        }),
        _ => Ok(()),
    }
}

fn validate_definition(definition: &CouponDefinition) -> Result<(), DomainError> {
    validate_text("name", &definition.name, NAME_CHARS_MAX)?;
    if definition.ends_at <= definition.starts_at {
        return Err(DomainError::validation(
            "ends_at",
            "must be after starts_at",
        ));
    }
    if definition.ends_at - definition.starts_at > Duration::days(COUPON_VALIDITY_DAYS_MAX) {
        return Err(DomainError::validation(
            "ends_at",
            format!("at most {COUPON_VALIDITY_DAYS_MAX} days after starts_at"),
        ));
    }
    validate_scope(&definition.scope)?;
    validate_amount("min_order_amount", definition.min_order_amount, true)?;
    if let Audience::AllCustomers {
        max_total_uses,
        max_uses_per_customer,
    } = definition.audience
    {
        validate_use_limit("audience.max_total_uses", "coupon uses", max_total_uses)?;
        validate_use_limit(
            "audience.max_uses_per_customer",
            "coupon uses per customer",
            max_uses_per_customer,
        )?;
        if let (Some(total), Some(per_customer)) = (max_total_uses, max_uses_per_customer) {
            if per_customer > total {
                return Err(DomainError::validation(
                    "audience.max_uses_per_customer",
                    "must not exceed max_total_uses",
                ));
            }
        }
    }
    Ok(())
}

/// Whether `request` asks for what was already generated (a retry).
fn is_same_generation(coupon: &Coupon, audience: Audience, request: &CodeRequest) -> bool {
    let for_all = matches!(audience, Audience::AllCustomers { .. });
    match request {
        CodeRequest::Typed(code) => {
            for_all
                && coupon.codes_typed
                && normalise_code(code)
                    .is_ok_and(|c| coupon.codes.len() == 1 && coupon.codes.contains_key(&c))
        }
        CodeRequest::Generated => for_all && !coupon.codes_typed && coupon.codes.len() == 1,
        CodeRequest::SingleUse { count } => !for_all && coupon.codes.len() == *count as usize,
    }
}

fn decide_generate(
    coupon: &Coupon,
    request: &CodeRequest,
    registry: &CouponCodeRegistry,
    env: &dyn Environment,
) -> Decision {
    let (shop_id, coupon_id, definition) = created(coupon)?;
    if coupon.is_locked() {
        return if is_same_generation(coupon, definition.audience, request) {
            Ok(vec![])
        } else {
            Err(locked())
        };
    }
    if registry.shop_id.is_some_and(|id| id != shop_id) {
        return Err(DomainError::conflict(
            "shop-mismatch",
            "the code registry belongs to another shop",
        ));
    }
    let taken = |code: &str| registry.is_taken(code);
    let codes = match (request, definition.audience) {
        (CodeRequest::Typed(code), Audience::AllCustomers { .. }) => {
            let code = normalise_code(code)?;
            if taken(&code) {
                return Err(code_taken(&code));
            }
            vec![code]
        }
        (CodeRequest::Generated, Audience::AllCustomers { .. }) => {
            generate_codes(env, 1, GENERATED_CODE_CHARS, taken)?
        }
        (CodeRequest::SingleUse { count }, Audience::SingleUseCodes) => {
            let count = *count as usize;
            if !(1..=SINGLE_USE_CODES_PER_BATCH_MAX).contains(&count) {
                return Err(DomainError::validation(
                    "count",
                    format!("from 1 to {SINGLE_USE_CODES_PER_BATCH_MAX}"),
                ));
            }
            generate_codes(env, count, SINGLE_USE_CODE_CHARS, taken)?
        }
        (CodeRequest::SingleUse { .. }, Audience::AllCustomers { .. }) => {
            return Err(DomainError::validation(
                "request",
                "a coupon for all customers has one code, typed or generated",
            ))
        }
        (_, Audience::SingleUseCodes) => {
            return Err(DomainError::validation(
                "request",
                "a coupon with single-use codes gets generated codes only",
            ))
        }
    };
    Ok(vec![CouponEvent::CouponCodesGenerated {
        shop_id,
        coupon_id,
        codes,
        typed: matches!(request, CodeRequest::Typed(_)),
        generated_at: env.now(),
    }])
}

fn decide_use(coupon: &Coupon, command: &UseCoupon, now: DateTime<Utc>) -> Decision {
    let (shop_id, coupon_id, _) = created(coupon)?;
    if shop_id != command.shop_id {
        return Err(DomainError::conflict(
            "shop-mismatch",
            "the coupon belongs to another shop",
        ));
    }
    let code = normalise_code(&command.code)?;
    if let Some(existing) = coupon.uses.get(&command.order_id) {
        // One use per order: the same use retried is not an error, any other is.
        let retry = !existing.released
            && existing.code == code
            && existing.customer_key == command.customer_key;
        return if retry {
            Ok(vec![])
        } else {
            Err(DomainError::already_exists(
                "coupon use of order",
                command.order_id,
            ))
        };
    }
    if coupon.uses.len() >= COUPON_USES_MAX {
        return Err(DomainError::LimitExceeded {
            what: "coupon uses",
            limit: COUPON_USES_MAX as u64,
        });
    }
    let discount = check_use(coupon, &code, command.customer_key, &command.basket, now)?;
    Ok(vec![CouponEvent::CouponUsed {
        shop_id,
        coupon_id,
        order_id: command.order_id,
        code,
        customer_key: command.customer_key,
        discount,
        used_at: now,
    }])
}

/// Every rule of using `code` (normalised) on `basket` at `now`, and the discount it gives.
pub(super) fn check_use(
    coupon: &Coupon,
    code: &str,
    customer_key: Uuid,
    basket: &PricedBasket,
    now: DateTime<Utc>,
) -> Result<CouponDiscount, DomainError> {
    let (_, _, definition) = created(coupon)?;
    let usage = known_code(coupon, code)?;
    check_window(definition, now)?;
    check_limits(coupon, definition.audience, usage.active, customer_key)?;
    discount_if_eligible(definition, basket)
}

/// The rules of [`check_use`] that do not depend on past uses (the code, the validity window, the
/// minimum amount, a discount above zero), and the discount. An order checks these itself, so it
/// gives the same answer whether the glue decides the coupon's use before or after the order.
pub(super) fn check_terms(
    coupon: &Coupon,
    code: &str,
    basket: &PricedBasket,
    now: DateTime<Utc>,
) -> Result<CouponDiscount, DomainError> {
    let (_, _, definition) = created(coupon)?;
    known_code(coupon, code)?;
    check_window(definition, now)?;
    discount_if_eligible(definition, basket)
}

fn known_code(coupon: &Coupon, code: &str) -> Result<CodeUsage, DomainError> {
    coupon.codes.get(code).copied().ok_or_else(|| {
        DomainError::conflict(
            "coupon-code-unknown",
            format!("{code} is not a code of this coupon"),
        )
    })
}

fn discount_if_eligible(
    definition: &CouponDefinition,
    basket: &PricedBasket,
) -> Result<CouponDiscount, DomainError> {
    let basis = minimum_basis(basket, &definition.scope);
    if basis < definition.min_order_amount {
        return Err(DomainError::conflict(
            "coupon-minimum-not-reached",
            format!(
                "the coupon needs at least {} of eligible products, the basket has {basis}",
                definition.min_order_amount
            ),
        ));
    }
    let discount = apply_coupon(basket, &definition.scope);
    if discount.amount.is_zero() {
        // A use that takes nothing off would only spend the customer's use.
        return Err(DomainError::conflict(
            "coupon-not-applicable",
            "nothing in this basket is eligible for the coupon",
        ));
    }
    Ok(discount)
}

fn check_window(definition: &CouponDefinition, now: DateTime<Utc>) -> Result<(), DomainError> {
    if now < definition.starts_at {
        return Err(DomainError::conflict(
            "coupon-not-yet-valid",
            format!("the coupon is valid from {}", definition.starts_at),
        ));
    }
    if now >= definition.ends_at {
        return Err(DomainError::conflict(
            "coupon-expired",
            format!("the coupon ended at {}", definition.ends_at),
        ));
    }
    Ok(())
}

/// Uses that count are the non-released ones, so a cancelled order gives its use back.
fn check_limits(
    coupon: &Coupon,
    audience: Audience,
    code_active_uses: u32,
    customer_key: Uuid,
) -> Result<(), DomainError> {
    match audience {
        Audience::SingleUseCodes if code_active_uses > 0 => Err(DomainError::conflict(
            "coupon-code-used",
            "this single-use code has been used",
        )),
        Audience::SingleUseCodes => Ok(()),
        Audience::AllCustomers {
            max_total_uses,
            max_uses_per_customer,
        } => {
            if max_total_uses.is_some_and(|max| coupon.active_uses >= max) {
                return Err(DomainError::conflict(
                    "coupon-exhausted",
                    "the coupon has no uses left",
                ));
            }
            let by_customer = coupon
                .active_uses_by_customer
                .get(&customer_key)
                .copied()
                .unwrap_or(0);
            if max_uses_per_customer.is_some_and(|max| by_customer >= max) {
                return Err(DomainError::conflict(
                    "coupon-customer-limit-reached",
                    "this customer has used the coupon as often as allowed",
                ));
            }
            Ok(())
        }
    }
}

fn decide_release(coupon: &Coupon, order_id: Uuid, now: DateTime<Utc>) -> Decision {
    let (shop_id, coupon_id, _) = created(coupon)?;
    let record = coupon
        .uses
        .get(&order_id)
        .ok_or_else(|| DomainError::not_found("coupon use of order", order_id))?;
    if record.released {
        return Ok(vec![]);
    }
    Ok(vec![CouponEvent::CouponUseReleased {
        shop_id,
        coupon_id,
        order_id,
        code: record.code.clone(),
        released_at: now,
    }])
}
