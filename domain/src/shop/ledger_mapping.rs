//! The chart-of-accounts mapping a shop's ledger posts to, and the rules a new one must follow.
//!
//! The defaults follow the French Plan Comptable Général as a photo-print shop would use it:
//! goods (prints, books, mugs) are "ventes de marchandises" (707), shipping and services are
//! "prestations de services" (706). A manager changes it with `ShopCommand::SetLedgerMapping`;
//! the ledger projection uses the mapping in force when each event is posted, so a change never
//! rewrites past entries.

use crate::money::validate_vat_rate;
use crate::order::PaymentMethod;
use crate::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The VAT rates (percent, as written) every mapping must give an account of its own: the
/// rates of the French regime, which the catalog's products are priced at.
pub const MAPPED_VAT_RATES: [&str; 4] = ["20", "10", "5.5", "2.1"];

/// Shortest and longest account number accepted (the PCG's 3-digit classes up to the 10 digits
/// accounting software commonly allows).
pub const ACCOUNT_DIGITS_MIN: usize = 3;
pub const ACCOUNT_DIGITS_MAX: usize = 10;

/// Bounds the mapping's maps, so one event stays small.
pub const MAPPED_CATEGORIES_MAX: usize = 200;
pub const MAPPED_VAT_RATES_MAX: usize = 20;

/// Which account each kind of amount goes to, for one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerMapping {
    /// Customers (411); every posting to it names the customer as an auxiliary account.
    pub customers: String,
    /// Sales of goods (707): product lines unless their category says otherwise.
    pub goods_sales: String,
    /// Sales of services (706): shipping, and the categories listed in `service_categories`.
    pub services_sales: String,
    /// Product categories sold as services (retouching, scanning, …).
    pub service_categories: Vec<Uuid>,
    /// Any category mapped to an account of its own, overriding goods/services.
    pub category_accounts: BTreeMap<Uuid, String>,
    /// VAT collected, one sub-account per rate (percent as written, e.g. "20", "5.5").
    pub vat_by_rate: BTreeMap<String, String>,
    /// VAT collected at a rate missing from `vat_by_rate`.
    pub vat_default: String,
    /// Bank (512): card, PayPal, cheque and transfer payments.
    pub bank: String,
    /// Cash (530).
    pub cash: String,
    /// Customer credit (4191): store credit granted by credit notes and spent on orders.
    pub customer_credit: String,
    /// Discounts granted (709).
    pub discounts: String,
}

impl Default for LedgerMapping {
    fn default() -> Self {
        let vat_by_rate = [
            ("20", "445712"),
            ("10", "445710"),
            ("5.5", "445715"),
            ("2.1", "445702"),
        ]
        .into_iter()
        .map(|(rate, account)| (rate.to_string(), account.to_string()))
        .collect();
        LedgerMapping {
            customers: "411".into(),
            goods_sales: "707".into(),
            services_sales: "706".into(),
            service_categories: Vec::new(),
            category_accounts: BTreeMap::new(),
            vat_by_rate,
            vat_default: "44571".into(),
            bank: "512".into(),
            cash: "530".into(),
            customer_credit: "4191".into(),
            discounts: "709".into(),
        }
    }
}

impl LedgerMapping {
    /// The sales account of a product line of `category_id` (unknown category: goods).
    pub fn product_sales(&self, category_id: Option<Uuid>) -> &str {
        let Some(category_id) = category_id else {
            return &self.goods_sales;
        };
        if let Some(account) = self.category_accounts.get(&category_id) {
            return account;
        }
        if self.service_categories.contains(&category_id) {
            return &self.services_sales;
        }
        &self.goods_sales
    }

    /// The VAT account of `rate` (percent).
    pub fn vat(&self, rate: Decimal) -> &str {
        self.vat_by_rate
            .get(&rate.normalize().to_string())
            .map_or(&self.vat_default, String::as_str)
    }

    /// Where money paid with `method` lands (or, for store credit, comes from).
    pub fn treasury(&self, method: PaymentMethod) -> &str {
        match method {
            PaymentMethod::Cash => &self.cash,
            PaymentMethod::StoreCredit => &self.customer_credit,
            PaymentMethod::Card
            | PaymentMethod::Paypal
            | PaymentMethod::Cheque
            | PaymentMethod::BankTransfer => &self.bank,
        }
    }

    /// Every account is 3 to 10 digits, every French VAT rate has its own account, rate keys are
    /// written the way the ledger looks them up, and the maps stay bounded.
    pub fn validate(&self) -> Result<(), DomainError> {
        let required = [
            ("customers", &self.customers),
            ("goods_sales", &self.goods_sales),
            ("services_sales", &self.services_sales),
            ("vat_default", &self.vat_default),
            ("bank", &self.bank),
            ("cash", &self.cash),
            ("customer_credit", &self.customer_credit),
            ("discounts", &self.discounts),
        ];
        for (field, account) in required {
            validate_account_number(field, account)?;
        }
        self.validate_vat_accounts()?;
        self.validate_categories()
    }

    fn validate_vat_accounts(&self) -> Result<(), DomainError> {
        if self.vat_by_rate.len() > MAPPED_VAT_RATES_MAX {
            return Err(DomainError::LimitExceeded {
                what: "vat rates per ledger mapping",
                limit: MAPPED_VAT_RATES_MAX as u64,
            });
        }
        for rate in MAPPED_VAT_RATES {
            if !self.vat_by_rate.contains_key(rate) {
                return Err(DomainError::validation(
                    format!("vat_by_rate.{rate}"),
                    "every French VAT rate (20, 10, 5.5, 2.1) needs an account",
                ));
            }
        }
        for (rate, account) in &self.vat_by_rate {
            // The ledger looks rates up in their normalized form ("5.5", never "5.50"): any
            // other spelling would silently never match and post to `vat_default`.
            let field = format!("vat_by_rate.{rate}");
            let canonical = rate
                .parse::<Decimal>()
                .ok()
                .filter(|parsed| parsed.normalize().to_string() == *rate);
            let Some(parsed) = canonical else {
                return Err(DomainError::validation(
                    field,
                    "must be a VAT rate in percent written without trailing zeros, e.g. 5.5",
                ));
            };
            // The same bounds as a product's rate: a key no product can have would be dead.
            validate_vat_rate(&field, parsed)?;
            validate_account_number(&field, account)?;
        }
        Ok(())
    }

    fn validate_categories(&self) -> Result<(), DomainError> {
        let categories = self.service_categories.len() + self.category_accounts.len();
        if categories > MAPPED_CATEGORIES_MAX {
            return Err(DomainError::LimitExceeded {
                what: "categories per ledger mapping",
                limit: MAPPED_CATEGORIES_MAX as u64,
            });
        }
        for (category_id, account) in &self.category_accounts {
            validate_account_number(&format!("category_accounts.{category_id}"), account)?;
        }
        Ok(())
    }
}

/// An account number is 3 to 10 ASCII digits (FEC `CompteNum` is digits in practice).
pub fn validate_account_number(field: &str, account: &str) -> Result<(), DomainError> {
    let ok = (ACCOUNT_DIGITS_MIN..=ACCOUNT_DIGITS_MAX).contains(&account.len())
        && account.chars().all(|c| c.is_ascii_digit());
    if !ok {
        return Err(DomainError::validation(
            field.to_string(),
            "must be an account number of 3 to 10 digits",
        ));
    }
    Ok(())
}
