//! The shop: its seller identity, currency, tax mode, document number patterns and API keys.
//!
//! One stream per shop (`shop-{shop_id}`). API key secrets never enter the domain: the caller
//! hashes the secret and passes the hash, which the key table is looked up by.

mod account_form;
mod fiscal_calendar;
#[cfg(test)]
mod fiscal_calendar_tests;
mod fiscal_year;
mod ledger_mapping;
mod pattern;
mod roles;
mod series_registry;
mod storefront;
#[cfg(test)]
mod storefront_tests;
#[cfg(test)]
mod tests;

pub use account_form::{
    AccountForm, ExtraField, FieldRule, FilledIn, EXTRA_FIELDS_MAX, EXTRA_FIELD_OPTIONS_MAX,
    EXTRA_FIELD_TEXT_CHARS_MAX,
};
pub use fiscal_calendar::{
    FiscalCalendar, FiscalYear, FiscalYearChange, FISCAL_YEAR_CHANGES_MAX, FISCAL_YEAR_MONTHS_MAX,
};
pub use fiscal_year::{FiscalYearEnd, FISCAL_YEAR_END_FIELD};
pub use ledger_mapping::{
    validate_account_number, LedgerMapping, ACCOUNT_DIGITS_MAX, ACCOUNT_DIGITS_MIN,
    MAPPED_CATEGORIES_MAX, MAPPED_VAT_RATES, MAPPED_VAT_RATES_MAX,
};
pub use pattern::{
    format_document_number, pattern_has_year, patterns_may_overlap, validate_document_pattern,
};
pub use roles::{role_allows, Permission, Role};
pub use series_registry::{
    series_registry_stream, SeriesRegistry, SeriesRegistryCommand, SeriesRegistryEvent,
};
pub use storefront::{
    ClosedDay, OnlinePayment, OpenInterval, OpeningHours, PayPalSettings, ShopContact,
    StorefrontLinks, StorefrontSettings, StripeSettings, WeekHours, CLOSED_DAYS_MAX,
    DESCRIPTION_CHARS_MAX, OPEN_INTERVALS_PER_DAY_MAX, TERMS_OF_SALE_CHARS_MAX,
};

use crate::calendar;
use crate::documents::DocumentKind;
use crate::limits::{
    API_KEYS_PER_SHOP_MAX, LEGAL_FORM_CHARS_MAX, LEGAL_MENTION_CHARS_MAX, NAME_CHARS_MAX,
    PATTERNS_PER_SERIES_MAX, REFERENCE_CHARS_MAX, TEXT_CHARS_MAX,
};
use crate::money::validate_amount;
use crate::text::{validate_optional_text, validate_text};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Stream of one shop.
pub fn stream_id(shop_id: Uuid) -> String {
    format!("{}-{shop_id}", Shop::STREAM_KIND)
}

/// A postal address; `country` is an ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl Address {
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        validate_text(&format!("{field}.line1"), &self.line1, NAME_CHARS_MAX)?;
        validate_optional_text(
            &format!("{field}.line2"),
            self.line2.as_deref(),
            NAME_CHARS_MAX,
        )?;
        validate_text(&format!("{field}.postal_code"), &self.postal_code, 16)?;
        validate_text(&format!("{field}.city"), &self.city, NAME_CHARS_MAX)?;
        let country_ok =
            self.country.len() == 2 && self.country.chars().all(|c| c.is_ascii_uppercase());
        if !country_ok {
            return Err(DomainError::validation(
                format!("{field}.country"),
                "must be an ISO 3166-1 alpha-2 code such as FR",
            ));
        }
        Ok(())
    }
}

/// The seller's legal identity, printed on every document (French legal mentions: Code de
/// commerce R123-237, CGI art. 242 nonies A).
///
/// The last four fields came later: they are optional, and absent from the bytes when unset, so
/// every `ShopCreated` and document snapshot stored before them keeps its encoding and reads back
/// with `None` (a sole trader has no legal form, share capital or RCS registration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalIdentity {
    pub name: String,
    pub address: Address,
    /// SIREN: 9 digits.
    pub siren: String,
    /// Intra-community VAT number, e.g. FR45812345678.
    pub vat_id: String,
    /// Legal form, e.g. "SARL", "SAS", "EURL".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_form: Option<String>,
    /// Share capital in the shop's currency, e.g. 10000.00.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_capital: Option<Decimal>,
    /// City of the RCS (trade register) the company is registered at, e.g. "Lyon".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcs_city: Option<String>,
    /// Printed instead of nothing when the seller charges no VAT, e.g. "TVA non applicable,
    /// art. 293 B du CGI" for a micro-enterprise under the franchise threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_exemption_mention: Option<String>,
}

impl LegalIdentity {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_text("organisation.name", &self.name, NAME_CHARS_MAX)?;
        self.address.validate("organisation.address")?;
        validate_siren(&self.siren)?;
        validate_vat_id(&self.vat_id)?;
        validate_optional_text(
            "organisation.legal_form",
            self.legal_form.as_deref(),
            LEGAL_FORM_CHARS_MAX,
        )?;
        if let Some(capital) = self.share_capital {
            validate_amount("organisation.share_capital", capital, true)?;
        }
        validate_optional_text(
            "organisation.rcs_city",
            self.rcs_city.as_deref(),
            NAME_CHARS_MAX,
        )?;
        validate_optional_text(
            "organisation.vat_exemption_mention",
            self.vat_exemption_mention.as_deref(),
            LEGAL_MENTION_CHARS_MAX,
        )
    }
}

/// A SIREN is exactly nine ASCII digits.
pub fn validate_siren(siren: &str) -> Result<(), DomainError> {
    if siren.len() != 9 || !siren.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::validation(
            "organisation.siren",
            "must be exactly 9 digits",
        ));
    }
    Ok(())
}

/// An EU VAT id: a two-letter country prefix then 2 to 13 uppercase letters or digits.
pub fn validate_vat_id(vat_id: &str) -> Result<(), DomainError> {
    let chars: Vec<char> = vat_id.chars().collect();
    let ok = (4..=15).contains(&chars.len())
        && chars[..2].iter().all(char::is_ascii_uppercase)
        && chars[2..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !ok {
        return Err(DomainError::validation(
            "organisation.vat_id",
            "must be a country prefix then 2 to 13 letters or digits, e.g. FR45812345678",
        ));
    }
    Ok(())
}

/// An ISO 4217 code: three uppercase letters.
pub fn validate_currency(currency: &str) -> Result<(), DomainError> {
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(DomainError::validation(
            "currency",
            "must be an ISO 4217 code such as EUR",
        ));
    }
    Ok(())
}

/// Number patterns of the shop's document series, e.g. `FA-{YYYY}-{seq:06}`.
///
/// Quotes and purchase orders came later: a shop created before them has no pattern of its own
/// for them (absent from its `ShopCreated`, which stays byte for byte as it was) and numbers them
/// with [`DEFAULT_QUOTE_PATTERN`] and [`DEFAULT_PURCHASE_ORDER_PATTERN`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentPatterns {
    pub invoice: String,
    pub credit_note: String,
    pub delivery_slip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order: Option<String>,
}

/// Quote numbers of a shop that chose no pattern for them ("devis").
pub const DEFAULT_QUOTE_PATTERN: &str = "DE-{YYYY}-{seq:06}";
/// Purchase order numbers of a shop that chose no pattern for them ("bon de commande").
pub const DEFAULT_PURCHASE_ORDER_PATTERN: &str = "BC-{YYYY}-{seq:06}";

impl DocumentPatterns {
    /// The quote pattern in force: the shop's own, or the default.
    pub fn quote_pattern(&self) -> &str {
        self.quote.as_deref().unwrap_or(DEFAULT_QUOTE_PATTERN)
    }

    /// The purchase order pattern in force: the shop's own, or the default.
    pub fn purchase_order_pattern(&self) -> &str {
        self.purchase_order
            .as_deref()
            .unwrap_or(DEFAULT_PURCHASE_ORDER_PATTERN)
    }

    fn validate(&self) -> Result<(), DomainError> {
        validate_document_pattern("document_patterns.invoice", &self.invoice)?;
        validate_document_pattern("document_patterns.credit_note", &self.credit_note)?;
        validate_document_pattern("document_patterns.delivery_slip", &self.delivery_slip)?;
        validate_document_pattern("document_patterns.quote", self.quote_pattern())?;
        validate_document_pattern(
            "document_patterns.purchase_order",
            self.purchase_order_pattern(),
        )?;
        let all = [
            self.invoice.as_str(),
            self.credit_note.as_str(),
            self.delivery_slip.as_str(),
            self.quote_pattern(),
            self.purchase_order_pattern(),
        ];
        let distinct = all
            .iter()
            .enumerate()
            .all(|(index, pattern)| !all[index + 1..].contains(pattern));
        if !distinct {
            // Two series with one pattern would print the same number on two documents.
            return Err(DomainError::validation(
                "document_patterns",
                "the patterns of the document series must differ",
            ));
        }
        Ok(())
    }
}

/// What a shop is: created by `ShopCreated`, its zone changed by `TimeZoneChanged`, the rest by
/// `ShopProfileUpdated`. Documents never read it after their issue: each carries a snapshot of
/// the seller identity, currency and terms it was issued with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopProfile {
    pub shop_id: Uuid,
    pub name: String,
    pub organisation: LegalIdentity,
    pub currency: String,
    pub prices_include_tax: bool,
    pub document_patterns: DocumentPatterns,
    /// Printed on invoices, e.g. "Payable à la commande".
    pub payment_terms: String,
    /// The IANA zone the shop's calendar days are counted in; `None` (every shop created before
    /// zones existed, whose bytes have no such field) means [`calendar::DEFAULT_TIME_ZONE`].
    /// `TimeZoneChanged` replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The day the fiscal year closes, `MM-DD`; `None` (every shop created before closing days
    /// existed, whose bytes have no such field) means 31 December. `ShopProfileUpdated`
    /// replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_year_end: Option<String>,
}

impl ShopProfile {
    fn validate(&self) -> Result<(), DomainError> {
        validate_text("name", &self.name, NAME_CHARS_MAX)?;
        self.organisation.validate()?;
        validate_currency(&self.currency)?;
        self.document_patterns.validate()?;
        validate_text("payment_terms", &self.payment_terms, TEXT_CHARS_MAX)?;
        if let Some(name) = &self.time_zone {
            calendar::parse_time_zone(name)?;
        }
        if let Some(text) = &self.fiscal_year_end {
            FiscalYearEnd::parse(text)?;
        }
        Ok(())
    }

    /// The day the shop's fiscal years close on.
    pub fn fiscal_year_end(&self) -> FiscalYearEnd {
        FiscalYearEnd::or_default(self.fiscal_year_end.as_deref())
    }

    /// The zone the shop's calendar days are counted in.
    pub fn zone(&self) -> calendar::Tz {
        calendar::zone_or_default(self.time_zone.as_deref())
    }

    /// The part of the profile an update replaces, with the patterns in force spelled out (so a
    /// shop created without quote patterns compares equal to one that states the defaults).
    pub fn editable(&self) -> ProfileUpdate {
        let patterns = &self.document_patterns;
        ProfileUpdate {
            name: self.name.clone(),
            organisation: self.organisation.clone(),
            currency: self.currency.clone(),
            prices_include_tax: self.prices_include_tax,
            document_patterns: DocumentPatterns {
                quote: Some(patterns.quote_pattern().to_owned()),
                purchase_order: Some(patterns.purchase_order_pattern().to_owned()),
                ..patterns.clone()
            },
            payment_terms: self.payment_terms.clone(),
            // 31 December stated is the default left unsaid, so a shop that never chose a
            // closing day keeps its `ETag` and a form saved with "12-31" changes nothing.
            fiscal_year_end: self
                .fiscal_year_end
                .clone()
                .filter(|text| !FiscalYearEnd::parse(text).is_ok_and(|end| end.is_default())),
        }
    }

    /// This profile with `update` applied; the id and the zone stay.
    pub fn updated(&self, update: &ProfileUpdate) -> ShopProfile {
        ShopProfile {
            shop_id: self.shop_id,
            name: update.name.clone(),
            organisation: update.organisation.clone(),
            currency: update.currency.clone(),
            prices_include_tax: update.prices_include_tax,
            document_patterns: update.document_patterns.clone(),
            payment_terms: update.payment_terms.clone(),
            time_zone: self.time_zone.clone(),
            fiscal_year_end: update.fiscal_year_end.clone(),
        }
    }
}

/// Everything of a shop's profile a manager may replace: the seller's legal identity and
/// contact, currency, tax mode, number patterns, payment terms and fiscal year end. The id never
/// changes and the zone has its own command (`SetTimeZone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileUpdate {
    pub name: String,
    pub organisation: LegalIdentity,
    pub currency: String,
    pub prices_include_tax: bool,
    pub document_patterns: DocumentPatterns,
    pub payment_terms: String,
    /// `MM-DD`; `None` is 31 December. Came later: absent from the bytes when unset, so every
    /// `ShopProfileUpdated` stored before it keeps its encoding and reads back as the calendar
    /// year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_year_end: Option<String>,
}

/// An API key as the shop knows it; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: Uuid,
    pub role: Role,
    pub label: String,
    pub secret_hash: String,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub enum ShopCommand {
    Create(Box<ShopProfile>),
    CreateApiKey {
        key_id: Uuid,
        role: Role,
        label: String,
        /// Hash of the secret, computed by the caller (e.g. hex SHA-256).
        secret_hash: String,
    },
    RevokeApiKey {
        key_id: Uuid,
    },
    /// Replaces the chart-of-accounts mapping the ledger posts this shop's later events to.
    SetLedgerMapping(Box<LedgerMapping>),
    /// Sets the loyalty card's points per currency unit paid (see `loyalty`).
    SetLoyaltyRule {
        points_per_unit: Decimal,
    },
    /// Moves the shop's calendar to another IANA zone (days counted from now on in it).
    SetTimeZone {
        time_zone: String,
    },
    /// Replaces the profile's editable part (see [`ProfileUpdate`]).
    UpdateProfile {
        update: Box<ProfileUpdate>,
        /// Whether the shop's invoice series has issued an invoice, as the glue read it: the
        /// currency is then fixed, since invoices and the books are in it.
        invoice_issued: bool,
    },
    /// Replaces the customer account form (see [`AccountForm`]).
    SetAccountForm(Box<AccountForm>),
    /// Replaces the online shop's settings (see [`StorefrontSettings`]).
    SetStorefront(Box<StorefrontSettings>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShopEvent {
    ShopCreated {
        profile: Box<ShopProfile>,
        created_at: DateTime<Utc>,
    },
    ApiKeyCreated {
        shop_id: Uuid,
        key_id: Uuid,
        role: Role,
        label: String,
        secret_hash: String,
        created_at: DateTime<Utc>,
    },
    ApiKeyRevoked {
        shop_id: Uuid,
        key_id: Uuid,
        revoked_at: DateTime<Utc>,
    },
    /// Appended last so every older variant keeps its encoding.
    LedgerMappingChanged {
        shop_id: Uuid,
        mapping: Box<LedgerMapping>,
        changed_at: DateTime<Utc>,
    },
    /// Appended last, like the one above. Earlier payments keep the points they earned.
    LoyaltyRuleChanged {
        shop_id: Uuid,
        points_per_unit: Decimal,
        changed_at: DateTime<Utc>,
    },
    /// Appended last so every older variant keeps its encoding.
    TimeZoneChanged {
        shop_id: Uuid,
        time_zone: String,
        changed_at: DateTime<Utc>,
    },
    /// Appended last, like the ones above. Documents issued before keep their own snapshot of
    /// the seller; the ones issued after carry the new identity.
    ShopProfileUpdated {
        shop_id: Uuid,
        update: Box<ProfileUpdate>,
        updated_at: DateTime<Utc>,
    },
    /// Appended last, like the ones above. Accounts opened before keep their answers; their
    /// next profile change is checked against the new form.
    AccountFormChanged {
        shop_id: Uuid,
        form: Box<AccountForm>,
        changed_at: DateTime<Utc>,
    },
    /// Appended last, like the ones above. Holds the whole settings, so a reader needs no
    /// earlier event to know them; a change of the terms of sale starts their next version.
    StorefrontChanged {
        shop_id: Uuid,
        settings: Box<StorefrontSettings>,
        changed_at: DateTime<Utc>,
    },
}

impl DomainEvent for ShopEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ShopEvent::ShopCreated { .. } => "ShopCreated",
            ShopEvent::ApiKeyCreated { .. } => "ApiKeyCreated",
            ShopEvent::ApiKeyRevoked { .. } => "ApiKeyRevoked",
            ShopEvent::LedgerMappingChanged { .. } => "LedgerMappingChanged",
            ShopEvent::LoyaltyRuleChanged { .. } => "LoyaltyRuleChanged",
            ShopEvent::TimeZoneChanged { .. } => "TimeZoneChanged",
            ShopEvent::ShopProfileUpdated { .. } => "ShopProfileUpdated",
            ShopEvent::AccountFormChanged { .. } => "AccountFormChanged",
            ShopEvent::StorefrontChanged { .. } => "StorefrontChanged",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Shop {
    pub profile: Option<ShopProfile>,
    /// Every key ever created, revoked ones included.
    pub api_keys: BTreeMap<Uuid, ApiKey>,
    /// The mapping in force: the default until a manager changes it.
    pub ledger_mapping: LedgerMapping,
    /// The loyalty rate the shop set; `None` until it sets one (see [`Shop::loyalty_points_per_unit`]).
    pub loyalty_points_per_unit: Option<Decimal>,
    /// Every pattern each series has had, oldest first, the one in force last: a new pattern
    /// must be unable to print a number any of them could have printed.
    pub pattern_history: BTreeMap<DocumentKind, Vec<String>>,
    /// Every fiscal year, from the closing days the shop had and the days they changed on.
    pub fiscal_calendar: FiscalCalendar,
    /// The customer account form in force: the default until a manager sets one.
    pub account_form: AccountForm,
    /// The online shop's settings: empty until a manager sets them.
    pub storefront: StorefrontSettings,
    /// The terms of sale's version: 0 while there are none, then one more at every change, so
    /// a storefront can record which version a customer accepted.
    pub terms_version: u32,
    /// When the terms in force were set.
    pub terms_changed_at: Option<DateTime<Utc>>,
}

impl Shop {
    fn profile_or_not_found(&self) -> Result<&ShopProfile, DomainError> {
        self.profile
            .as_ref()
            .ok_or_else(|| DomainError::not_found("shop", "this shop"))
    }

    /// The active (not revoked) key with this secret hash.
    pub fn active_key_by_hash(&self, secret_hash: &str) -> Option<&ApiKey> {
        self.api_keys
            .values()
            .find(|key| !key.revoked && key.secret_hash == secret_hash)
    }

    fn decide_create(
        &self,
        profile: &ShopProfile,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        if let Some(existing) = &self.profile {
            // A retry with the same content is answered with no new event.
            if existing == profile {
                return Ok(vec![]);
            }
            return Err(DomainError::already_exists("shop", existing.shop_id));
        }
        profile.validate()?;
        Ok(vec![ShopEvent::ShopCreated {
            profile: Box::new(profile.clone()),
            created_at: now,
        }])
    }

    fn decide_create_key(
        &self,
        key_id: Uuid,
        role: Role,
        label: &str,
        secret_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        if let Some(existing) = self.api_keys.get(&key_id) {
            let same = existing.role == role
                && existing.label == label
                && existing.secret_hash == secret_hash;
            return if same {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("api key", key_id))
            };
        }
        validate_text("label", label, NAME_CHARS_MAX)?;
        validate_secret_hash(secret_hash)?;
        if self
            .api_keys
            .values()
            .any(|key| key.secret_hash == secret_hash)
        {
            // Keys are looked up by hash: two keys with one hash would be ambiguous.
            return Err(DomainError::already_exists(
                "api key secret",
                "with this hash",
            ));
        }
        if self.api_keys.len() >= API_KEYS_PER_SHOP_MAX {
            return Err(DomainError::LimitExceeded {
                what: "api keys per shop",
                limit: API_KEYS_PER_SHOP_MAX as u64,
            });
        }
        Ok(vec![ShopEvent::ApiKeyCreated {
            shop_id: profile.shop_id,
            key_id,
            role,
            label: label.to_owned(),
            secret_hash: secret_hash.to_owned(),
            created_at: now,
        }])
    }

    fn decide_revoke_key(
        &self,
        key_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        let key = self
            .api_keys
            .get(&key_id)
            .ok_or_else(|| DomainError::not_found("api key", key_id))?;
        if key.revoked {
            return Ok(vec![]);
        }
        Ok(vec![ShopEvent::ApiKeyRevoked {
            shop_id: profile.shop_id,
            key_id,
            revoked_at: now,
        }])
    }
}

impl Shop {
    fn decide_set_ledger_mapping(
        &self,
        mapping: &LedgerMapping,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        mapping.validate()?;
        if *mapping == self.ledger_mapping {
            // Nothing changes: a retry (or a no-op edit) appends nothing.
            return Ok(vec![]);
        }
        Ok(vec![ShopEvent::LedgerMappingChanged {
            shop_id: profile.shop_id,
            mapping: Box::new(mapping.clone()),
            changed_at: now,
        }])
    }
}

impl Shop {
    /// Loyalty points per currency unit paid: the shop's rate, or the default.
    pub fn loyalty_points_per_unit(&self) -> Decimal {
        self.loyalty_points_per_unit
            .unwrap_or(crate::loyalty::LOYALTY_POINTS_PER_UNIT_DEFAULT)
    }

    fn decide_set_loyalty_rule(
        &self,
        points_per_unit: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        crate::loyalty::validate_rate(points_per_unit)?;
        if self.loyalty_points_per_unit == Some(points_per_unit) {
            return Ok(vec![]);
        }
        Ok(vec![ShopEvent::LoyaltyRuleChanged {
            shop_id: profile.shop_id,
            points_per_unit,
            changed_at: now,
        }])
    }

    fn decide_set_account_form(
        &self,
        form: &AccountForm,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        form.validate()?;
        if self.account_form == *form {
            return Ok(vec![]);
        }
        Ok(vec![ShopEvent::AccountFormChanged {
            shop_id: profile.shop_id,
            form: Box::new(form.clone()),
            changed_at: now,
        }])
    }

    fn decide_set_storefront(
        &self,
        settings: &StorefrontSettings,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        settings.validate()?;
        if self.storefront == *settings {
            return Ok(vec![]);
        }
        Ok(vec![ShopEvent::StorefrontChanged {
            shop_id: profile.shop_id,
            settings: Box::new(settings.clone()),
            changed_at: now,
        }])
    }

    fn apply_storefront(&mut self, settings: &StorefrontSettings, changed_at: DateTime<Utc>) {
        if settings.terms_of_sale != self.storefront.terms_of_sale {
            if settings.terms_of_sale.is_some() {
                self.terms_version = self.terms_version.saturating_add(1);
            }
            self.terms_changed_at = settings.terms_of_sale.as_ref().map(|_| changed_at);
        }
        self.storefront = settings.clone();
    }

    fn decide_set_time_zone(
        &self,
        time_zone: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        calendar::parse_time_zone(time_zone)?;
        let current = profile
            .time_zone
            .as_deref()
            .unwrap_or(calendar::DEFAULT_TIME_ZONE);
        if current == time_zone {
            // Nothing changes: a retry (or a no-op edit) appends nothing.
            return Ok(vec![]);
        }
        Ok(vec![ShopEvent::TimeZoneChanged {
            shop_id: profile.shop_id,
            time_zone: time_zone.to_owned(),
            changed_at: now,
        }])
    }
}

impl Shop {
    fn decide_update_profile(
        &self,
        update: &ProfileUpdate,
        invoice_issued: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        let profile = self.profile_or_not_found()?;
        let updated = profile.updated(update);
        updated.validate()?;
        if updated.editable() == profile.editable() {
            // Nothing changes: a retry (or a no-op edit) appends nothing.
            return Ok(vec![]);
        }
        if invoice_issued && update.currency != profile.currency {
            return Err(DomainError::validation(
                "currency",
                "cannot change once an invoice has been issued: invoices and the books are in it",
            ));
        }
        for kind in DocumentKind::ALL {
            self.check_new_pattern(kind, &update.document_patterns)?;
        }
        // The change reshapes the fiscal year in progress today, in the shop's calendar.
        let today = calendar::local_date(now, profile.zone());
        self.fiscal_calendar
            .check_change(today, updated.fiscal_year_end())?;
        Ok(vec![ShopEvent::ShopProfileUpdated {
            shop_id: profile.shop_id,
            update: Box::new(update.clone()),
            updated_at: now,
        }])
    }

    /// A series' pattern may change only to one that cannot print any number a pattern of the
    /// shop's series ever could have printed (its own earlier ones, and every other series'
    /// past and new ones): numbers continue from the series' last sequence, so a number issued
    /// under an old pattern must never come back under the new one, and an invoice must never
    /// share its number with a credit note. Going back to an earlier pattern is refused as well.
    fn check_new_pattern(
        &self,
        kind: DocumentKind,
        new_patterns: &DocumentPatterns,
    ) -> Result<(), DomainError> {
        let pattern = kind.pattern(new_patterns);
        let own = self.pattern_history.get(&kind);
        if own.and_then(|history| history.last()).map(String::as_str) == Some(pattern) {
            return Ok(());
        }
        if own.is_some_and(|history| history.len() >= PATTERNS_PER_SERIES_MAX) {
            return Err(DomainError::LimitExceeded {
                what: "patterns per document series",
                limit: PATTERNS_PER_SERIES_MAX as u64,
            });
        }
        let others_new = DocumentKind::ALL
            .into_iter()
            .filter(|other| *other != kind)
            .map(|other| (other, other.pattern(new_patterns).to_owned()));
        let earlier = self
            .pattern_history
            .iter()
            .flat_map(|(other, history)| history.iter().map(|p| (*other, p.clone())));
        let clash = earlier
            .chain(others_new)
            .find(|(_, other_pattern)| patterns_may_overlap(other_pattern, pattern));
        match clash {
            None => Ok(()),
            Some((other, other_pattern)) => Err(DomainError::validation(
                format!("document_patterns.{}", kind.as_str()),
                format!(
                    "could print a number the {} pattern {other_pattern} could print; choose a \
                     pattern told apart by its literal text (e.g. another prefix)",
                    other.as_str()
                ),
            )),
        }
    }

    /// Records each series' pattern in force, if it is new.
    fn remember_patterns(&mut self, patterns: &DocumentPatterns) {
        for kind in DocumentKind::ALL {
            let pattern = kind.pattern(patterns);
            let history = self.pattern_history.entry(kind).or_default();
            if history.last().map(String::as_str) != Some(pattern) {
                history.push(pattern.to_owned());
            }
        }
    }
}

fn validate_secret_hash(secret_hash: &str) -> Result<(), DomainError> {
    let ok = (16..=REFERENCE_CHARS_MAX).contains(&secret_hash.len())
        && secret_hash.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(DomainError::validation(
            "secret_hash",
            "must be 16 to 200 printable ASCII characters",
        ));
    }
    Ok(())
}

impl Aggregate for Shop {
    type Command = ShopCommand;
    type Event = ShopEvent;
    const STREAM_KIND: &'static str = "shop";

    fn decide(
        &self,
        command: &ShopCommand,
        env: &dyn Environment,
    ) -> Result<Vec<ShopEvent>, DomainError> {
        match command {
            ShopCommand::Create(profile) => self.decide_create(profile, env.now()),
            ShopCommand::CreateApiKey {
                key_id,
                role,
                label,
                secret_hash,
            } => self.decide_create_key(*key_id, *role, label, secret_hash, env.now()),
            ShopCommand::RevokeApiKey { key_id } => self.decide_revoke_key(*key_id, env.now()),
            ShopCommand::SetLedgerMapping(mapping) => {
                self.decide_set_ledger_mapping(mapping, env.now())
            }
            ShopCommand::SetLoyaltyRule { points_per_unit } => {
                self.decide_set_loyalty_rule(*points_per_unit, env.now())
            }
            ShopCommand::SetTimeZone { time_zone } => {
                self.decide_set_time_zone(time_zone, env.now())
            }
            ShopCommand::UpdateProfile {
                update,
                invoice_issued,
            } => self.decide_update_profile(update, *invoice_issued, env.now()),
            ShopCommand::SetAccountForm(form) => self.decide_set_account_form(form, env.now()),
            ShopCommand::SetStorefront(settings) => self.decide_set_storefront(settings, env.now()),
        }
    }

    fn evolve(mut self, event: &ShopEvent) -> Self {
        match event {
            ShopEvent::ShopCreated { profile, .. } => {
                self.remember_patterns(&profile.document_patterns);
                self.fiscal_calendar = FiscalCalendar::new(profile.fiscal_year_end());
                self.profile = Some((**profile).clone());
            }
            ShopEvent::ApiKeyCreated {
                key_id,
                role,
                label,
                secret_hash,
                ..
            } => {
                let key = ApiKey {
                    key_id: *key_id,
                    role: *role,
                    label: label.clone(),
                    secret_hash: secret_hash.clone(),
                    revoked: false,
                };
                self.api_keys.insert(*key_id, key);
            }
            ShopEvent::ApiKeyRevoked { key_id, .. } => {
                if let Some(key) = self.api_keys.get_mut(key_id) {
                    key.revoked = true;
                }
            }
            ShopEvent::LedgerMappingChanged { mapping, .. } => {
                self.ledger_mapping = (**mapping).clone();
            }
            ShopEvent::LoyaltyRuleChanged {
                points_per_unit, ..
            } => self.loyalty_points_per_unit = Some(*points_per_unit),
            ShopEvent::TimeZoneChanged { time_zone, .. } => {
                if let Some(profile) = self.profile.as_mut() {
                    profile.time_zone = Some(time_zone.clone());
                }
            }
            ShopEvent::ShopProfileUpdated {
                update, updated_at, ..
            } => {
                self.remember_patterns(&update.document_patterns);
                if let Some(profile) = self.profile.as_mut() {
                    self.fiscal_calendar = self.fiscal_calendar.after_update(
                        *updated_at,
                        profile.zone(),
                        update.fiscal_year_end.as_deref(),
                    );
                    *profile = profile.updated(update);
                }
            }
            ShopEvent::AccountFormChanged { form, .. } => self.account_form = (**form).clone(),
            ShopEvent::StorefrontChanged {
                settings,
                changed_at,
                ..
            } => self.apply_storefront(settings, *changed_at),
        }
        self
    }
}
