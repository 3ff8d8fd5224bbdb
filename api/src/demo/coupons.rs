//! The fixture's coupons, as the coupon routes take them: a coupon, then its codes (the one
//! typed, one generated, or single-use codes).

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{demo_id, DemoError};

/// How long the demo's coupons are valid, from the day they are created.
const VALIDITY_DAYS: u64 = 365;

/// A coupon as the fixture states it (the back office's form, not the API's shape).
#[derive(Deserialize)]
pub(super) struct FixtureCoupon {
    name: String,
    /// The code typed by the manager; without it, a coupon for everyone gets a generated one.
    #[serde(default)]
    pub code: Option<String>,
    /// `order`, `shipping` or `product_type`.
    scope: String,
    /// Category keys of a `product_type` coupon.
    #[serde(default)]
    categories: Vec<String>,
    discount: FixtureDiscount,
    #[serde(default)]
    min_amount: Decimal,
    applies_to_all: bool,
    #[serde(default)]
    max_total_uses: Option<u32>,
    #[serde(default)]
    max_uses_per_customer: Option<u32>,
    /// Single-use codes to generate for a coupon that is not for everyone.
    #[serde(default)]
    single_use_codes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FixtureDiscount {
    Percent(Decimal),
    Amount(Decimal),
    Free(bool),
}

impl FixtureCoupon {
    /// The body of `POST /coupons`, valid from `today` for `VALIDITY_DAYS`.
    pub fn body(&self, today: NaiveDate) -> Result<Value, DemoError> {
        let ends_on = today
            .checked_add_days(Days::new(VALIDITY_DAYS))
            .ok_or_else(|| DemoError::Day("a coupon validity beyond the calendar".into()))?;
        let audience = match self.applies_to_all {
            true => json!({"all_customers": {
                "max_total_uses": self.max_total_uses,
                "max_uses_per_customer": self.max_uses_per_customer,
            }}),
            false => json!("single_use_codes"),
        };
        Ok(json!({
            "name": self.name,
            "starts_on": today,
            "ends_on": ends_on,
            "scope": self.scope()?,
            "min_order_amount": self.min_amount.to_string(),
            "audience": audience,
        }))
    }

    fn scope(&self) -> Result<Value, DemoError> {
        let reduction = match self.discount {
            FixtureDiscount::Percent(percent) => json!({"percent": percent.to_string()}),
            FixtureDiscount::Amount(amount) => json!({"amount": amount.to_string()}),
            FixtureDiscount::Free(true) if self.scope == "shipping" => json!("free"),
            FixtureDiscount::Free(_) => {
                return Err(DemoError::Day(format!(
                    "coupon {:?}: only shipping can be free",
                    self.name
                )))
            }
        };
        let categories: Vec<String> = self
            .categories
            .iter()
            .map(|key| demo_id(&format!("category:{key}")).to_string())
            .collect();
        match self.scope.as_str() {
            "order" => Ok(json!({"order": {"reduction": reduction}})),
            "shipping" => Ok(json!({"shipping": {"reduction": reduction}})),
            "product_type" => Ok(json!({"product_type": {
                "reduction": reduction,
                "category_ids": categories,
            }})),
            other => Err(DemoError::Day(format!(
                "coupon {:?}: unknown scope {other}",
                self.name
            ))),
        }
    }

    /// The body of `POST /coupons/{id}/codes`.
    pub fn codes(&self) -> Value {
        match (self.applies_to_all, &self.code) {
            (true, Some(code)) => json!({"kind": "typed", "code": code}),
            (true, None) => json!({"kind": "generated"}),
            (false, _) => {
                json!({"kind": "single_use", "count": self.single_use_codes.unwrap_or(1)})
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_coupons() -> Vec<FixtureCoupon> {
        let fixture: Value = serde_json::from_str(super::super::FIXTURE).expect("fixture");
        serde_json::from_value(fixture["coupons"].clone()).expect("coupons")
    }

    #[test]
    fn the_fixture_coupons_become_the_routes_bodies() {
        // Proves each of the fixture's coupons translates: a typed code for a product-type
        // coupon on prints, a generated code for free shipping, twenty single-use codes.
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let coupons = fixture_coupons();
        let bodies: Vec<Value> = coupons
            .iter()
            .map(|c| c.body(today).expect("body"))
            .collect();
        let prints = demo_id("category:tirages").to_string();
        assert_eq!(
            bodies[0]["scope"],
            json!({"product_type": {"reduction": {"percent": "10"}, "category_ids": [prints]}})
        );
        assert_eq!(bodies[0]["ends_on"], "2027-11-28");
        assert_eq!(
            bodies[0]["audience"],
            json!({"all_customers": {"max_total_uses": 50, "max_uses_per_customer": 1}})
        );
        assert_eq!(
            bodies[1]["scope"],
            json!({"shipping": {"reduction": "free"}})
        );
        assert_eq!(bodies[2]["audience"], "single_use_codes");
        let codes: Vec<Value> = coupons.iter().map(FixtureCoupon::codes).collect();
        assert_eq!(
            codes,
            [
                json!({"kind": "typed", "code": "TIRAGES10"}),
                json!({"kind": "generated"}),
                json!({"kind": "single_use", "count": 20}),
            ]
        );
    }
}
