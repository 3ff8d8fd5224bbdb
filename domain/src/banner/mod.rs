//! Shop banners (seed 000, "Bannières"): a manager customises the banners shown at the top of
//! the online shop: texts, an optional button leading to a link, a product or a category,
//! images, a display order, an optional date window and an on/off toggle.
//!
//! One stream per shop (`shop-banners-{shop_id}`) holds all its banners, so the limit of
//! [`BANNERS_MAX`] is checked in the same decision that creates one, and a storefront reads
//! them in one load. Whether the product or category a banner points at exists is the
//! catalog's to say: the glue loads the catalog in the same decision and asks [`check_target`].
//! A deleted banner leaves the state: its id is not kept.

#[cfg(test)]
mod tests;

use crate::catalog::Catalog;
use crate::limits::{
    BANNERS_MAX, BANNER_BUTTON_TEXT_CHARS_MAX, BANNER_DESCRIPTION_CHARS_MAX,
    BANNER_DISPLAY_ORDER_MAX, BANNER_NAME_CHARS_MAX, BANNER_TITLE_CHARS_MAX,
};
use crate::money::validate_amount;
use crate::text::{validate_paragraphs, validate_text, validate_url};
use crate::window::{validate_window, why_not_offered};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Stream of one shop's banners.
pub fn stream_id(shop_id: Uuid) -> String {
    format!("{}-{shop_id}", ShopBanners::STREAM_KIND)
}

/// What a banner's button leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BannerAction {
    /// No button.
    None,
    /// Another site.
    Link { url: String },
    /// A product of the shop's catalog.
    Product { product_id: Uuid },
    /// A category of the shop's catalog.
    Category { category_id: Uuid },
}

/// The images of a banner, as URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BannerImages {
    /// Shown on the left.
    pub square: Option<String>,
    /// Landscape, for desktops: every banner has one.
    pub landscape: String,
    /// Landscape, for phones; the desktop one is shown when absent.
    pub landscape_phone: Option<String>,
}

/// Everything a manager sets on a banner; a change replaces all of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BannerContent {
    /// Names the banner in the back office; customers never see it.
    pub name: String,
    pub action: BannerAction,
    pub title: String,
    /// Shown under the title.
    pub description: Option<String>,
    /// "À partir de 9 €": only for a banner pointing at a product or a category.
    pub from_price: Option<Decimal>,
    /// The button's text: required with a button, refused without one.
    pub button_text: Option<String>,
    /// Banners show by this number, lowest first, then in creation order.
    pub display_order: u32,
    pub images: BannerImages,
    /// The banner shows from this instant on, when given.
    pub starts_at: Option<DateTime<Utc>>,
    /// The banner shows until this instant (excluded), when given.
    pub ends_at: Option<DateTime<Utc>>,
}

impl BannerContent {
    /// Checks every rule that depends on the content alone.
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_text("name", &self.name, BANNER_NAME_CHARS_MAX)?;
        validate_text("title", &self.title, BANNER_TITLE_CHARS_MAX)?;
        if let Some(description) = &self.description {
            validate_paragraphs("description", description, BANNER_DESCRIPTION_CHARS_MAX)?;
        }
        self.validate_button()?;
        self.validate_price()?;
        if self.display_order > BANNER_DISPLAY_ORDER_MAX {
            return Err(DomainError::validation(
                "display_order",
                format!("from 0 to {BANNER_DISPLAY_ORDER_MAX}"),
            ));
        }
        self.images.validate()?;
        validate_window(("starts_at", self.starts_at), ("ends_at", self.ends_at))
    }

    fn validate_button(&self) -> Result<(), DomainError> {
        if let BannerAction::Link { url } = &self.action {
            validate_url("action.url", url)?;
        }
        match (&self.action, &self.button_text) {
            (BannerAction::None, Some(_)) => Err(DomainError::validation(
                "button_text",
                "a banner without an action has no button",
            )),
            (BannerAction::None, None) => Ok(()),
            (_, None) => Err(DomainError::validation(
                "button_text",
                "required when the banner has an action",
            )),
            (_, Some(text)) => validate_text("button_text", text, BANNER_BUTTON_TEXT_CHARS_MAX),
        }
    }

    fn validate_price(&self) -> Result<(), DomainError> {
        let Some(price) = self.from_price else {
            return Ok(());
        };
        if !matches!(
            self.action,
            BannerAction::Product { .. } | BannerAction::Category { .. }
        ) {
            return Err(DomainError::validation(
                "from_price",
                "only for a banner pointing at a product or a category",
            ));
        }
        validate_amount("from_price", price, true)
    }

    /// Whether `query` (lower-cased by the caller) is in the name or the title, ignoring case.
    fn mentions(&self, query: &str) -> bool {
        self.name.to_lowercase().contains(query) || self.title.to_lowercase().contains(query)
    }
}

impl BannerImages {
    fn validate(&self) -> Result<(), DomainError> {
        validate_url("images.landscape", &self.landscape)?;
        if let Some(square) = &self.square {
            validate_url("images.square", square)?;
        }
        if let Some(phone) = &self.landscape_phone {
            validate_url("images.landscape_phone", phone)?;
        }
        Ok(())
    }
}

/// Refuses an action pointing at a product or category the shop's catalog does not have, or
/// at a retired product (nobody can order it any more). Called by the glue with the catalog it
/// loaded in the same decision.
pub fn check_target(action: &BannerAction, catalog: &Catalog) -> Result<(), DomainError> {
    match action {
        BannerAction::Product { product_id } => {
            if !catalog.products.contains_key(product_id) {
                return Err(DomainError::validation(
                    "action.product_id",
                    "no such product in the shop's catalog",
                ));
            }
            if catalog.is_retired(*product_id) {
                return Err(DomainError::validation(
                    "action.product_id",
                    "the product is retired",
                ));
            }
            Ok(())
        }
        BannerAction::Category { category_id } if !catalog.categories.contains_key(category_id) => {
            Err(DomainError::validation(
                "action.category_id",
                "no such category in the shop's catalog",
            ))
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Clone)]
pub enum BannerCommand {
    /// The glue derives `banner_id` from the request's command id, so a retry names the same
    /// banner and appends nothing.
    Create {
        shop_id: Uuid,
        banner_id: Uuid,
        content: BannerContent,
        enabled: bool,
    },
    /// Replaces the banner's content.
    Change {
        banner_id: Uuid,
        content: BannerContent,
    },
    Enable {
        banner_id: Uuid,
    },
    Disable {
        banner_id: Uuid,
    },
    Delete {
        banner_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BannerEvent {
    BannerCreated {
        shop_id: Uuid,
        banner_id: Uuid,
        content: BannerContent,
        enabled: bool,
        created_at: DateTime<Utc>,
    },
    BannerChanged {
        shop_id: Uuid,
        banner_id: Uuid,
        content: BannerContent,
        changed_at: DateTime<Utc>,
    },
    BannerEnabled {
        shop_id: Uuid,
        banner_id: Uuid,
        enabled_at: DateTime<Utc>,
    },
    BannerDisabled {
        shop_id: Uuid,
        banner_id: Uuid,
        disabled_at: DateTime<Utc>,
    },
    BannerDeleted {
        shop_id: Uuid,
        banner_id: Uuid,
        deleted_at: DateTime<Utc>,
    },
}

impl DomainEvent for BannerEvent {
    fn event_type(&self) -> &'static str {
        match self {
            BannerEvent::BannerCreated { .. } => "BannerCreated",
            BannerEvent::BannerChanged { .. } => "BannerChanged",
            BannerEvent::BannerEnabled { .. } => "BannerEnabled",
            BannerEvent::BannerDisabled { .. } => "BannerDisabled",
            BannerEvent::BannerDeleted { .. } => "BannerDeleted",
        }
    }
}

/// One banner as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub banner_id: Uuid,
    pub content: BannerContent,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    /// When the content or the toggle last changed (the creation at first).
    pub updated_at: DateTime<Utc>,
    /// Creation rank in the shop, which orders banners of the same display order.
    pub rank: u64,
}

impl Banner {
    /// Whether a storefront draws the banner at `instant`: enabled, and inside its window
    /// (start included, end excluded).
    pub fn shows_at(&self, instant: DateTime<Utc>) -> bool {
        let content = &self.content;
        why_not_offered(self.enabled, content.starts_at, content.ends_at, instant).is_none()
    }

    /// Whether `query` is in the name or the title, ignoring case.
    pub fn matches(&self, query: &str) -> bool {
        self.content.mentions(&query.to_lowercase())
    }
}

/// The banners of one shop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopBanners {
    pub shop_id: Option<Uuid>,
    pub banners: BTreeMap<Uuid, Banner>,
    /// Banners ever created, deleted ones included: the next one's rank.
    created: u64,
}

impl ShopBanners {
    /// The banners in the order a storefront shows them: by display order, then creation.
    pub fn ordered(&self) -> Vec<&Banner> {
        let mut banners: Vec<&Banner> = self.banners.values().collect();
        banners.sort_by_key(|banner| (banner.content.display_order, banner.rank));
        banners
    }

    /// The shop and the banner, or "not found".
    fn banner(&self, banner_id: Uuid) -> Result<(Uuid, &Banner), DomainError> {
        match (self.shop_id, self.banners.get(&banner_id)) {
            (Some(shop_id), Some(banner)) => Ok((shop_id, banner)),
            _ => Err(DomainError::not_found("banner", banner_id)),
        }
    }

    fn decide_create(
        &self,
        shop_id: Uuid,
        banner_id: Uuid,
        content: &BannerContent,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<BannerEvent>, DomainError> {
        content.validate()?;
        if self.shop_id.is_some_and(|known| known != shop_id) {
            return Err(DomainError::conflict(
                "shop-mismatch",
                "these banners belong to another shop",
            ));
        }
        if let Some(existing) = self.banners.get(&banner_id) {
            // A retry with the same content is answered with no new event.
            let same = existing.content == *content && existing.enabled == enabled;
            return if same {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("banner", banner_id))
            };
        }
        if self.banners.len() >= BANNERS_MAX {
            return Err(DomainError::LimitExceeded {
                what: "banners per shop",
                limit: BANNERS_MAX as u64,
            });
        }
        Ok(vec![BannerEvent::BannerCreated {
            shop_id,
            banner_id,
            content: content.clone(),
            enabled,
            created_at: now,
        }])
    }

    fn decide_change(
        &self,
        banner_id: Uuid,
        content: &BannerContent,
        now: DateTime<Utc>,
    ) -> Result<Vec<BannerEvent>, DomainError> {
        let (shop_id, banner) = self.banner(banner_id)?;
        content.validate()?;
        if banner.content == *content {
            return Ok(vec![]);
        }
        Ok(vec![BannerEvent::BannerChanged {
            shop_id,
            banner_id,
            content: content.clone(),
            changed_at: now,
        }])
    }

    fn decide_toggle(
        &self,
        banner_id: Uuid,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<BannerEvent>, DomainError> {
        let (shop_id, banner) = self.banner(banner_id)?;
        if banner.enabled == enabled {
            return Ok(vec![]);
        }
        let event = if enabled {
            BannerEvent::BannerEnabled {
                shop_id,
                banner_id,
                enabled_at: now,
            }
        } else {
            BannerEvent::BannerDisabled {
                shop_id,
                banner_id,
                disabled_at: now,
            }
        };
        Ok(vec![event])
    }

    fn decide_delete(
        &self,
        banner_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<BannerEvent>, DomainError> {
        let (shop_id, _) = self.banner(banner_id)?;
        Ok(vec![BannerEvent::BannerDeleted {
            shop_id,
            banner_id,
            deleted_at: now,
        }])
    }

    fn touch(&mut self, banner_id: &Uuid, at: DateTime<Utc>, change: impl FnOnce(&mut Banner)) {
        if let Some(banner) = self.banners.get_mut(banner_id) {
            change(banner);
            banner.updated_at = at;
        }
    }
}

impl Aggregate for ShopBanners {
    type Command = BannerCommand;
    type Event = BannerEvent;
    const STREAM_KIND: &'static str = "shop-banners";

    fn decide(
        &self,
        command: &BannerCommand,
        env: &dyn Environment,
    ) -> Result<Vec<BannerEvent>, DomainError> {
        let now = env.now();
        match command {
            BannerCommand::Create {
                shop_id,
                banner_id,
                content,
                enabled,
            } => self.decide_create(*shop_id, *banner_id, content, *enabled, now),
            BannerCommand::Change { banner_id, content } => {
                self.decide_change(*banner_id, content, now)
            }
            BannerCommand::Enable { banner_id } => self.decide_toggle(*banner_id, true, now),
            BannerCommand::Disable { banner_id } => self.decide_toggle(*banner_id, false, now),
            BannerCommand::Delete { banner_id } => self.decide_delete(*banner_id, now),
        }
    }

    fn evolve(mut self, event: &BannerEvent) -> Self {
        match event {
            BannerEvent::BannerCreated {
                shop_id,
                banner_id,
                content,
                enabled,
                created_at,
            } => {
                self.shop_id = Some(*shop_id);
                self.created += 1;
                let banner = Banner {
                    banner_id: *banner_id,
                    content: content.clone(),
                    enabled: *enabled,
                    created_at: *created_at,
                    updated_at: *created_at,
                    rank: self.created,
                };
                self.banners.insert(*banner_id, banner);
            }
            BannerEvent::BannerChanged {
                banner_id,
                content,
                changed_at,
                ..
            } => self.touch(banner_id, *changed_at, |banner| {
                banner.content = content.clone()
            }),
            BannerEvent::BannerEnabled {
                banner_id,
                enabled_at,
                ..
            } => self.touch(banner_id, *enabled_at, |banner| banner.enabled = true),
            BannerEvent::BannerDisabled {
                banner_id,
                disabled_at,
                ..
            } => self.touch(banner_id, *disabled_at, |banner| banner.enabled = false),
            BannerEvent::BannerDeleted { banner_id, .. } => {
                self.banners.remove(banner_id);
            }
        }
        self
    }
}
