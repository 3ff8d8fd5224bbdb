//! Money helpers. Money is `rust_decimal::Decimal` everywhere, never a float.

use crate::limits::{MONEY_AMOUNT_MAX, MONEY_SCALE_MAX, VAT_RATE_SCALE_MAX};
use crate::DomainError;
use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to the cent, half away from zero ("half-up" in EN 16931 terms).
pub fn round_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(MONEY_SCALE_MAX, RoundingStrategy::MidpointAwayFromZero)
}

/// Accepts a money amount with at most two decimals, between zero (or one cent) and the maximum.
pub fn validate_amount(field: &str, amount: Decimal, allow_zero: bool) -> Result<(), DomainError> {
    if amount.normalize().scale() > MONEY_SCALE_MAX {
        return Err(DomainError::validation(
            field,
            format!("at most {MONEY_SCALE_MAX} decimals"),
        ));
    }
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(DomainError::validation(field, "must not be negative"));
    }
    if amount.is_zero() && !allow_zero {
        return Err(DomainError::validation(field, "must be greater than zero"));
    }
    if amount > Decimal::from(MONEY_AMOUNT_MAX) {
        return Err(DomainError::validation(
            field,
            format!("must not exceed {MONEY_AMOUNT_MAX}"),
        ));
    }
    Ok(())
}

/// Accepts a VAT rate in percent: 0 ≤ rate < 100, at most two decimals (20, 10, 5.5, 2.1, 0).
pub fn validate_vat_rate(field: &str, rate_percent: Decimal) -> Result<(), DomainError> {
    if rate_percent.normalize().scale() > VAT_RATE_SCALE_MAX {
        return Err(DomainError::validation(
            field,
            format!("at most {VAT_RATE_SCALE_MAX} decimals"),
        ));
    }
    if rate_percent.is_sign_negative() && !rate_percent.is_zero()
        || rate_percent >= Decimal::ONE_HUNDRED
    {
        return Err(DomainError::validation(
            field,
            "must be a percentage from 0 to less than 100",
        ));
    }
    Ok(())
}

/// Splits `total` (whole cents) across items in proportion to `weights`, so that the parts add up
/// exactly to `total` and each part is its exact share rounded down or up by at most one cent
/// (largest remainder). Used to spread VAT computed per rate on a sum back onto the lines.
pub fn allocate_cents(total: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let cent = Decimal::new(1, MONEY_SCALE_MAX);
    let weight_sum: Decimal = weights.iter().copied().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if weight_sum.is_zero() {
        // No basis for a proportion: the whole amount goes on the first item.
        let mut parts = vec![Decimal::ZERO; weights.len()];
        parts[0] = total;
        return parts;
    }
    let exact: Vec<Decimal> = weights.iter().map(|w| total * *w / weight_sum).collect();
    let mut parts: Vec<Decimal> = exact
        .iter()
        .map(|e| e.round_dp_with_strategy(MONEY_SCALE_MAX, RoundingStrategy::ToZero))
        .collect();
    let allocated: Decimal = parts.iter().copied().sum();
    let mut missing_cents = ((total - allocated) / cent).round().mantissa().max(0);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest remainder first; ties by position so the result is deterministic.
    order.sort_by(|a, b| {
        (exact[*b] - parts[*b])
            .cmp(&(exact[*a] - parts[*a]))
            .then(a.cmp(b))
    });
    for index in order.into_iter().cycle() {
        if missing_cents == 0 {
            break;
        }
        parts[index] += cent;
        missing_cents -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::prelude::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("decimal literal")
    }

    #[test]
    fn rounds_half_away_from_zero() {
        // Proves the rounding rule is half-up at the cent, as EN 16931 asks.
        assert_eq!(round_cents(d("0.125")), d("0.13"));
        assert_eq!(round_cents(d("0.124")), d("0.12"));
        assert_eq!(round_cents(d("2.675")), d("2.68"));
    }

    #[test]
    fn amounts_are_validated() {
        // Proves amounts with too many decimals, negative or zero ones are refused.
        assert!(validate_amount("a", d("1.234"), false).is_err());
        assert!(validate_amount("a", d("1.230"), false).is_ok());
        assert!(validate_amount("a", d("-1"), true).is_err());
        assert!(validate_amount("a", d("0"), false).is_err());
        assert!(validate_amount("a", d("0"), true).is_ok());
        assert!(validate_amount("a", d("1000000001"), true).is_err());
    }

    #[test]
    fn vat_rates_are_validated() {
        // Proves French rates are accepted and nonsense refused.
        for ok in ["0", "2.1", "5.5", "10", "20"] {
            assert!(validate_vat_rate("r", d(ok)).is_ok(), "{ok}");
        }
        for bad in ["-1", "100", "5.555"] {
            assert!(validate_vat_rate("r", d(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn allocation_adds_up_and_stays_close() {
        // Proves the parts add up to the total and each is within a cent of its exact share.
        let weights = [d("0.01"); 100];
        let parts = allocate_cents(d("0.17"), &weights);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), d("0.17"));
        assert!(parts.iter().all(|p| *p <= d("0.01")));
        let parts = allocate_cents(d("10.00"), &[d("1"), d("1"), d("1")]);
        assert_eq!(parts, vec![d("3.34"), d("3.33"), d("3.33")]);
        assert_eq!(
            allocate_cents(d("1.00"), &[d("0"), d("0")]),
            vec![d("1.00"), d("0")]
        );
    }
}
