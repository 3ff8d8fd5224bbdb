//! The loyalty card's rule (seed 003): points per currency unit of what a customer paid, VAT
//! included, rounded down. The shop sets the rate (`ShopCommand::SetLoyaltyRule`); until it does,
//! one point per unit. Earning is derived state: the projections compute it from the invoices
//! (an order is paid) and credit notes (what they credit), with the rate in force at the time, so
//! no event records earned points and a replay gives the same balances.

use crate::limits::{LOYALTY_POINTS_PER_UNIT_MAX, LOYALTY_RATE_SCALE_MAX};
use crate::DomainError;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Points per currency unit until the shop sets its own rate: one point per euro.
pub const LOYALTY_POINTS_PER_UNIT_DEFAULT: Decimal = Decimal::ONE;

/// A rate is between 0 (no loyalty card) and `LOYALTY_POINTS_PER_UNIT_MAX`, with at most
/// `LOYALTY_RATE_SCALE_MAX` decimal places.
pub fn validate_rate(points_per_unit: Decimal) -> Result<(), DomainError> {
    let in_range = points_per_unit >= Decimal::ZERO
        && points_per_unit <= Decimal::from(LOYALTY_POINTS_PER_UNIT_MAX);
    if !in_range || points_per_unit.normalize().scale() > LOYALTY_RATE_SCALE_MAX {
        return Err(DomainError::validation(
            "points_per_unit",
            format!(
                "must be between 0 and {LOYALTY_POINTS_PER_UNIT_MAX} with at most \
                 {LOYALTY_RATE_SCALE_MAX} decimal places"
            ),
        ));
    }
    Ok(())
}

/// The points `amount` (VAT included) is worth at `points_per_unit`, rounded down; nothing for
/// a zero or negative amount. Amounts and rates are bounded, so the product fits an `i64`.
pub fn points_for(amount: Decimal, points_per_unit: Decimal) -> i64 {
    if amount <= Decimal::ZERO || points_per_unit <= Decimal::ZERO {
        return 0;
    }
    (amount * points_per_unit).floor().to_i64().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::d;

    #[test]
    fn points_round_down() {
        // Proves points are the paid amount times the rate, rounded down, never negative.
        assert_eq!(points_for(d("25.90"), Decimal::ONE), 25);
        assert_eq!(points_for(d("25.90"), d("0.5")), 12);
        assert_eq!(points_for(d("0.99"), Decimal::ONE), 0);
        assert_eq!(points_for(d("10.00"), d("2.25")), 22);
        assert_eq!(points_for(d("-5"), Decimal::ONE), 0);
        assert_eq!(points_for(d("100"), Decimal::ZERO), 0);
    }

    #[test]
    fn rates_are_bounded() {
        // Proves the rate is between 0 and the maximum with two decimals at most.
        for good in ["0", "1", "0.5", "2.25", "100"] {
            assert!(validate_rate(d(good)).is_ok(), "{good}");
        }
        for bad in ["-1", "100.01", "0.125"] {
            assert!(validate_rate(d(bad)).is_err(), "{bad}");
        }
    }
}
