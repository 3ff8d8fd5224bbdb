//! The entities of a catalog and their validation.

use crate::limits::{
    NAME_CHARS_MAX, QUANTITY_PER_LINE_MAX, SKU_CHARS_MAX, TIERS_PER_PRODUCT_MAX, WEIGHT_G_MAX,
};
use crate::money::{validate_amount, validate_vat_rate};
use crate::shop::Address;
use crate::text::{validate_paragraphs, validate_text, validate_url};
use crate::window::{validate_window, why_not_offered};
use crate::DomainError;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Images of a product's page, at most.
pub const PRODUCT_IMAGES_MAX: usize = 8;
/// Characters of a product's description.
pub const PRODUCT_DESCRIPTION_CHARS_MAX: usize = 5_000;

/// What a storefront's product page shows besides the name and the price (seed 000, "Détails
/// des produits"): a description under the product's format and images, shown once `visible`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDetails {
    pub visible: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Absolute http(s) URLs, the first one the product's main image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

impl ProductDetails {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        if let Some(description) = &self.description {
            validate_paragraphs("description", description, PRODUCT_DESCRIPTION_CHARS_MAX)?;
        }
        if self.images.len() > PRODUCT_IMAGES_MAX {
            return Err(DomainError::validation(
                "images",
                format!("at most {PRODUCT_IMAGES_MAX} images"),
            ));
        }
        for (index, image) in self.images.iter().enumerate() {
            validate_url(&format!("images[{index}]"), image)?;
        }
        if self.visible && self.description.is_none() && self.images.is_empty() {
            return Err(DomainError::validation(
                "visible",
                "a product's details are shown only with a description or an image to show",
            ));
        }
        Ok(())
    }
}

/// Characters of a delivery method's description shown under its icon.
pub const DELIVERY_DESCRIPTION_CHARS_MAX: usize = 500;
/// Characters of a font family name.
pub const FONT_CHARS_MAX: usize = 64;

/// How a storefront draws a delivery method among the others (seed 000, "D'autres éléments
/// peuvent être personnalisés"): a description under its icon, its colours, font, icon and
/// background image. Nothing here changes what the method costs or who may use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMethodPresentation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// `#RRGGBB`, for the method's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// A font family name, e.g. "Open Sans".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    /// Square, 1,000 × 1,000 pixels in the seed's back office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image_url: Option<String>,
}

impl DeliveryMethodPresentation {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        if let Some(description) = &self.description {
            validate_paragraphs("description", description, DELIVERY_DESCRIPTION_CHARS_MAX)?;
        }
        for (field, color) in [
            ("background_color", &self.background_color),
            ("text_color", &self.text_color),
        ] {
            if let Some(color) = color {
                validate_color(field, color)?;
            }
        }
        if let Some(font) = &self.font {
            validate_text("font", font, FONT_CHARS_MAX)?;
            let font_name_char =
                |c: char| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '\'' | ',');
            if !font.chars().all(font_name_char) {
                return Err(DomainError::validation(
                    "font",
                    "a font family name: letters, digits, spaces and - _ ' , only",
                ));
            }
        }
        for (field, url) in [
            ("icon_url", &self.icon_url),
            ("background_image_url", &self.background_image_url),
        ] {
            if let Some(url) = url {
                validate_url(field, url)?;
            }
        }
        Ok(())
    }
}

/// `#RRGGBB`: what every storefront's style sheet takes.
fn validate_color(field: &str, color: &str) -> Result<(), DomainError> {
    let hex = color.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(DomainError::validation(
            field,
            "a colour as #RRGGBB, e.g. #1A2B3C",
        ));
    }
    Ok(())
}

/// A product type (e.g. "Tirages photo").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub category_id: Uuid,
    pub name: String,
}

impl Category {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        validate_text("name", &self.name, NAME_CHARS_MAX)
    }
}

/// From `min_quantity` units on (up to the next tier), each unit costs `unit_price`, stated in
/// the shop's tax mode (tax included or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTier {
    pub min_quantity: u32,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub category_id: Uuid,
    /// VAT rate in percent, e.g. 20 or 5.5.
    pub vat_rate: Decimal,
    pub weight_g: u32,
    /// Degressive tiers: the first starts at 1, `min_quantity` strictly increases.
    pub tiers: Vec<PriceTier>,
}

impl Product {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        validate_sku(&self.sku)?;
        validate_text("name", &self.name, NAME_CHARS_MAX)?;
        validate_vat_rate("vat_rate", self.vat_rate)?;
        if self.weight_g > WEIGHT_G_MAX {
            return Err(DomainError::validation(
                "weight_g",
                format!("at most {WEIGHT_G_MAX} g"),
            ));
        }
        validate_tiers(&self.tiers)
    }

    /// Unit price for `quantity` units: the tier with the largest `min_quantity` not above it.
    pub fn unit_price_for(&self, quantity: u32) -> Option<Decimal> {
        self.tiers
            .iter()
            .rev()
            .find(|tier| tier.min_quantity <= quantity)
            .map(|tier| tier.unit_price)
    }
}

/// A SKU: 1 to 64 ASCII letters, digits, '-', '_' or '.'.
pub fn validate_sku(sku: &str) -> Result<(), DomainError> {
    let ok = !sku.is_empty()
        && sku.len() <= SKU_CHARS_MAX
        && sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(DomainError::validation(
            "sku",
            format!("1 to {SKU_CHARS_MAX} ASCII letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

/// Tiers start at quantity 1, have strictly increasing minimum quantities and positive prices.
pub fn validate_tiers(tiers: &[PriceTier]) -> Result<(), DomainError> {
    if tiers.is_empty() {
        return Err(DomainError::validation("tiers", "at least one price tier"));
    }
    if tiers.len() > TIERS_PER_PRODUCT_MAX {
        return Err(DomainError::LimitExceeded {
            what: "price tiers per product",
            limit: TIERS_PER_PRODUCT_MAX as u64,
        });
    }
    if tiers[0].min_quantity != 1 {
        return Err(DomainError::validation(
            "tiers",
            "the first tier must start at quantity 1",
        ));
    }
    for (index, tier) in tiers.iter().enumerate() {
        validate_amount(
            &format!("tiers[{index}].unit_price"),
            tier.unit_price,
            false,
        )?;
        if tier.min_quantity > QUANTITY_PER_LINE_MAX {
            return Err(DomainError::validation(
                format!("tiers[{index}].min_quantity"),
                format!("at most {QUANTITY_PER_LINE_MAX}"),
            ));
        }
    }
    let increasing = tiers
        .windows(2)
        .all(|pair| pair[0].min_quantity < pair[1].min_quantity);
    if !increasing {
        return Err(DomainError::validation(
            "tiers",
            "minimum quantities must strictly increase",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    #[serde(alias = "home")]
    HomeDelivery,
    #[serde(alias = "pickup")]
    StorePickup,
}

/// How a delivery method is paid: exactly one mode per method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    InStore,
    /// Card online (Stripe).
    #[serde(alias = "stripe")]
    Card,
    Paypal,
    Cheque,
    BankTransfer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMethod {
    pub delivery_method_id: Uuid,
    pub name: String,
    pub kind: DeliveryKind,
    pub payment_mode: PaymentMode,
    /// Hidden methods are not offered to customers and cannot be ordered.
    pub visible: bool,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    /// Shipping price, in the shop's tax mode.
    pub price: Decimal,
    /// VAT rate of the shipping, in percent (20 in France).
    pub vat_rate: Decimal,
    /// The method is offered only to baskets weighing at least this.
    pub min_weight_g: u32,
}

impl DeliveryMethod {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        validate_text("name", &self.name, NAME_CHARS_MAX)?;
        validate_amount("price", self.price, true)?;
        validate_vat_rate("vat_rate", self.vat_rate)?;
        if self.min_weight_g > WEIGHT_G_MAX {
            return Err(DomainError::validation(
                "min_weight_g",
                format!("at most {WEIGHT_G_MAX} g"),
            ));
        }
        validate_window(
            ("available_from", self.available_from),
            ("available_until", self.available_until),
        )
    }

    /// Whether a basket of `weight_g` may use this method at `now`; the error says why not.
    pub fn check_available(&self, now: DateTime<Utc>, weight_g: u64) -> Result<(), DomainError> {
        let unavailable = |why: &str| {
            Err(DomainError::conflict(
                "delivery-method-unavailable",
                format!("delivery method {} {why}", self.name),
            ))
        };
        let why = why_not_offered(self.visible, self.available_from, self.available_until, now);
        if let Some(why) = why {
            return unavailable(&format!("is {why}"));
        }
        if weight_g < u64::from(self.min_weight_g) {
            return unavailable(&format!(
                "needs a basket of at least {} g",
                self.min_weight_g
            ));
        }
        Ok(())
    }
}

/// What a group of pickup points is offered as (seed 000, "nouvelle catégorie" of pickup
/// points): whether storefronts offer its points, from when and until when, and how they draw
/// it. A group nobody configured is offered, with no dates and no presentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupGroup {
    pub visible: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub presentation: DeliveryMethodPresentation,
}

impl Default for PickupGroup {
    fn default() -> Self {
        PickupGroup {
            visible: true,
            available_from: None,
            available_until: None,
            presentation: DeliveryMethodPresentation::default(),
        }
    }
}

impl PickupGroup {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        validate_window(
            ("available_from", self.available_from),
            ("available_until", self.available_until),
        )?;
        self.presentation.validate()
    }

    /// Whether an order may be collected at a point of the group `name` at `now`; the error
    /// says why not.
    pub fn check_offered(&self, name: &str, now: DateTime<Utc>) -> Result<(), DomainError> {
        match why_not_offered(self.visible, self.available_from, self.available_until, now) {
            Some(why) => Err(DomainError::conflict(
                "pickup-point-unavailable",
                format!("the pickup points of {name} are {why}"),
            )),
            None => Ok(()),
        }
    }
}

/// A place where pickup orders can be collected, grouped (e.g. by city) for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupPoint {
    pub pickup_point_id: Uuid,
    pub name: String,
    pub group: String,
    pub address: Address,
}

impl PickupPoint {
    pub(crate) fn validate(&self) -> Result<(), DomainError> {
        validate_text("name", &self.name, NAME_CHARS_MAX)?;
        validate_text("group", &self.group, NAME_CHARS_MAX)?;
        self.address.validate("address")
    }
}
