//! The online shop's settings (seed 000, "Paramètres" and the manager's list: "personnaliser
//! votre boutique en ligne (description, e-mail…)", "définir les coordonnées et les horaires
//! d'ouverture du magasin", "configurer le paiement en ligne (PayPal et Stripe uniquement)",
//! "ajouter vos conditions générales de vente"). Managers change them; employees, storefronts
//! and every other role read them.
//!
//! Online payment holds only what a storefront's checkout may show the world: PayPal's client id,
//! Stripe's publishable key and account id. A secret key is refused with its own message: events
//! are immutable and the shop's event feed serves them, so a secret written once could never be
//! taken back.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::Address;
use crate::limits::EMAIL_CHARS_MAX;
use crate::text::{validate_optional_text, validate_paragraphs, validate_text, validate_url};
use crate::DomainError;

/// Characters of the shop's description.
pub const DESCRIPTION_CHARS_MAX: usize = 5_000;
/// Characters of the terms of sale (a long French CGV runs to about 40,000).
pub const TERMS_OF_SALE_CHARS_MAX: usize = 100_000;
/// Opening intervals in one day, at most (morning and afternoon, and then some).
pub const OPEN_INTERVALS_PER_DAY_MAX: usize = 4;
/// Days closed outside the weekly hours (holidays), at most.
pub const CLOSED_DAYS_MAX: usize = 200;
/// Characters of a phone number as shown.
pub const PHONE_CHARS_MAX: usize = 32;
/// Characters of a payment provider's public identifier.
pub const PROVIDER_ID_CHARS_MAX: usize = 255;

/// Everything a manager sets about the online shop beyond its legal identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontSettings {
    /// What the shop says about itself on its home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub contact: ShopContact,
    #[serde(default)]
    pub opening_hours: OpeningHours,
    /// The general terms of sale (CGV) the storefront shows at checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_of_sale: Option<String>,
    #[serde(default)]
    pub online_payment: OnlinePayment,
    #[serde(default)]
    pub links: StorefrontLinks,
}

/// How customers reach the shop ("coordonnées").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The counter's address, which may differ from the company's registered office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// One stretch of a day the shop is open, in the shop's local time. Closing time is
/// exclusive; a stretch never runs past midnight (a shop open late closes at 23:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInterval {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

/// The weekly hours, a day with no interval being a closed day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekHours {
    #[serde(default)]
    pub monday: Vec<OpenInterval>,
    #[serde(default)]
    pub tuesday: Vec<OpenInterval>,
    #[serde(default)]
    pub wednesday: Vec<OpenInterval>,
    #[serde(default)]
    pub thursday: Vec<OpenInterval>,
    #[serde(default)]
    pub friday: Vec<OpenInterval>,
    #[serde(default)]
    pub saturday: Vec<OpenInterval>,
    #[serde(default)]
    pub sunday: Vec<OpenInterval>,
}

impl WeekHours {
    pub fn day(&self, weekday: Weekday) -> &[OpenInterval] {
        match weekday {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }

    fn days(&self) -> [(&'static str, &[OpenInterval]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

/// A date the shop is closed whatever its weekly hours say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedDay {
    pub date: NaiveDate,
    /// Shown to customers, e.g. "Fermeture annuelle".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Opening hours ("horaires d'ouverture").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    #[serde(default)]
    pub week: WeekHours,
    /// In date order, each date once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_days: Vec<ClosedDay>,
}

impl OpeningHours {
    /// Whether the shop is open at this local date and time.
    pub fn is_open_at(&self, local: NaiveDateTime) -> bool {
        let date = local.date();
        if self.closed_days.iter().any(|closed| closed.date == date) {
            return false;
        }
        let time = local.time();
        self.week
            .day(chrono::Datelike::weekday(&date))
            .iter()
            .any(|interval| interval.opens <= time && time < interval.closes)
    }

    fn validate(&self) -> Result<(), DomainError> {
        for (day, intervals) in self.week.days() {
            validate_day(&format!("opening_hours.week.{day}"), intervals)?;
        }
        if self.closed_days.len() > CLOSED_DAYS_MAX {
            return Err(DomainError::LimitExceeded {
                what: "closed days",
                limit: CLOSED_DAYS_MAX as u64,
            });
        }
        for (index, closed) in self.closed_days.iter().enumerate() {
            let field = format!("opening_hours.closed_days[{index}]");
            validate_optional_text(&format!("{field}.note"), closed.note.as_deref(), 200)?;
            let previous = index.checked_sub(1).map(|i| self.closed_days[i].date);
            if previous.is_some_and(|previous| previous >= closed.date) {
                return Err(DomainError::validation(
                    format!("{field}.date"),
                    "closed days must be in date order, each date once",
                ));
            }
        }
        Ok(())
    }
}

/// A day's intervals: each opening before it closes, in order, none overlapping the next.
fn validate_day(field: &str, intervals: &[OpenInterval]) -> Result<(), DomainError> {
    if intervals.len() > OPEN_INTERVALS_PER_DAY_MAX {
        return Err(DomainError::validation(
            field,
            format!("at most {OPEN_INTERVALS_PER_DAY_MAX} opening intervals a day"),
        ));
    }
    for (index, interval) in intervals.iter().enumerate() {
        if interval.opens >= interval.closes {
            return Err(DomainError::validation(
                format!("{field}[{index}]"),
                "must open before it closes (an interval cannot run past midnight)",
            ));
        }
        let previous = index.checked_sub(1).map(|i| intervals[i]);
        if previous.is_some_and(|previous| previous.closes > interval.opens) {
            return Err(DomainError::validation(
                format!("{field}[{index}]"),
                "intervals must be in order and must not overlap",
            ));
        }
    }
    Ok(())
}

/// The online payment providers a storefront's checkout may offer (seed 000: PayPal and Stripe
/// only). Each holds its public identifiers and whether it is offered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlinePayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paypal: Option<PayPalSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe: Option<StripeSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayPalSettings {
    pub enabled: bool,
    /// The REST app's client id, which PayPal's checkout script is loaded with.
    pub client_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeSettings {
    pub enabled: bool,
    /// `pk_live_…` or `pk_test_…`.
    pub publishable_key: String,
    /// `acct_…`, for a shop paid through a Stripe Connect platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl OnlinePayment {
    fn validate(&self) -> Result<(), DomainError> {
        if let Some(paypal) = &self.paypal {
            validate_provider_id(
                "online_payment.paypal.client_id",
                &paypal.client_id,
                "",
                "a PayPal REST app's client id",
            )?;
        }
        if let Some(stripe) = &self.stripe {
            let key = "online_payment.stripe.publishable_key";
            if stripe.publishable_key.starts_with("sk_")
                || stripe.publishable_key.starts_with("rk_")
            {
                return Err(DomainError::validation(
                    key,
                    "this is a secret key: never send it here (settings are stored for good and \
                     read by storefronts); give the publishable key, pk_live_… or pk_test_…",
                ));
            }
            let prefix = if stripe.publishable_key.starts_with("pk_test_") {
                "pk_test_"
            } else {
                "pk_live_"
            };
            validate_provider_id(
                key,
                &stripe.publishable_key,
                prefix,
                "pk_live_… or pk_test_…",
            )?;
            if let Some(account_id) = &stripe.account_id {
                validate_provider_id(
                    "online_payment.stripe.account_id",
                    account_id,
                    "acct_",
                    "acct_…",
                )?;
            }
        }
        Ok(())
    }

    /// The providers offered at checkout: `paypal`, `stripe`.
    pub fn offered(&self) -> Vec<&'static str> {
        let paypal = self.paypal.as_ref().is_some_and(|p| p.enabled);
        let stripe = self.stripe.as_ref().is_some_and(|s| s.enabled);
        [("paypal", paypal), ("stripe", stripe)]
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }
}

/// A provider's identifier: `prefix` then 4 or more of letters, digits, `_` and `-`.
fn validate_provider_id(
    field: &str,
    value: &str,
    prefix: &str,
    expected: &str,
) -> Result<(), DomainError> {
    let rest = value.strip_prefix(prefix).unwrap_or("");
    let ok = value.len() <= PROVIDER_ID_CHARS_MAX
        && rest.len() >= 4
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(DomainError::validation(
            field,
            format!("must be {expected}: letters, digits, '_' and '-'"),
        ));
    }
    Ok(())
}

/// Where the storefront lives, for QR codes that lead to the shop, a category or a product
/// (seed 000: "générer des codes QR pour le magasin, une catégorie de produits ou un produit").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontLinks {
    /// The online shop's home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storefront_url: Option<String>,
    /// A product's page, with `{id}` or `{sku}` where the product goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_url_pattern: Option<String>,
    /// A category's page, with `{id}` where the category goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_url_pattern: Option<String>,
}

impl StorefrontLinks {
    /// A product's page, if the shop set where product pages are.
    pub fn product_url(&self, product_id: uuid::Uuid, sku: &str) -> Option<String> {
        let pattern = self.product_url_pattern.as_deref()?;
        Some(
            pattern
                .replace("{id}", &product_id.to_string())
                .replace("{sku}", &percent_encode(sku)),
        )
    }

    /// A category's page, if the shop set where category pages are.
    pub fn category_url(&self, category_id: uuid::Uuid) -> Option<String> {
        let pattern = self.category_url_pattern.as_deref()?;
        Some(pattern.replace("{id}", &category_id.to_string()))
    }

    fn validate(&self) -> Result<(), DomainError> {
        if let Some(url) = &self.storefront_url {
            validate_url("links.storefront_url", url)?;
        }
        if let Some(pattern) = &self.product_url_pattern {
            validate_pattern("links.product_url_pattern", pattern, &["{id}", "{sku}"])?;
        }
        if let Some(pattern) = &self.category_url_pattern {
            validate_pattern("links.category_url_pattern", pattern, &["{id}"])?;
        }
        Ok(())
    }
}

/// SKUs are free text: in a URL, anything but unreserved characters is percent-encoded.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A URL with one of `placeholders` in it at least once, and no other `{…}`.
fn validate_pattern(field: &str, pattern: &str, placeholders: &[&str]) -> Result<(), DomainError> {
    validate_url(field, pattern)?;
    let mut rest = pattern.to_owned();
    for placeholder in placeholders {
        rest = rest.replace(placeholder, "");
    }
    let uses_one = rest.len() < pattern.len();
    if !uses_one || rest.contains(['{', '}']) {
        return Err(DomainError::validation(
            field,
            format!(
                "must contain {} where the item goes, and no other {{…}}",
                placeholders.join(" or ")
            ),
        ));
    }
    Ok(())
}

impl StorefrontSettings {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(description) = &self.description {
            validate_paragraphs("description", description, DESCRIPTION_CHARS_MAX)?;
        }
        if let Some(terms) = &self.terms_of_sale {
            validate_paragraphs("terms_of_sale", terms, TERMS_OF_SALE_CHARS_MAX)?;
        }
        self.contact.validate()?;
        self.opening_hours.validate()?;
        self.online_payment.validate()?;
        self.links.validate()
    }
}

impl ShopContact {
    fn validate(&self) -> Result<(), DomainError> {
        if let Some(email) = &self.email {
            let normalised = crate::customer::normalise_email(email).map_err(|_| {
                DomainError::validation("contact.email", "must be an e-mail address")
            })?;
            if normalised != *email || email.len() > EMAIL_CHARS_MAX {
                return Err(DomainError::validation(
                    "contact.email",
                    "must be an e-mail address in lower case, without spaces around it",
                ));
            }
        }
        if let Some(phone) = &self.phone {
            validate_text("contact.phone", phone, PHONE_CHARS_MAX)?;
            let ok = phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '.' | '-' | '(' | ')'));
            if !ok {
                return Err(DomainError::validation(
                    "contact.phone",
                    "digits, spaces and + . - ( ) only",
                ));
            }
        }
        if let Some(address) = &self.address {
            address.validate("contact.address")?;
        }
        Ok(())
    }
}
