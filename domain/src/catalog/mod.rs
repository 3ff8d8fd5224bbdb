//! The catalog of one shop: categories, products with degressive price tiers, delivery methods and
//! pickup points.
//!
//! One aggregate and one stream per shop (`catalog-{shop_id}`): the catalog is small, edited rarely
//! and by staff, and keeping it whole makes "SKU unique per shop" a plain check against the state
//! that the storage layer protects with the stream's expected version.

#[cfg(test)]
mod tests;
mod types;

pub use types::{
    Category, DeliveryKind, DeliveryMethod, DeliveryMethodPresentation, PaymentMode, PickupGroup,
    PickupPoint, PriceTier, Product, ProductDetails, DELIVERY_DESCRIPTION_CHARS_MAX,
    FONT_CHARS_MAX, PRODUCT_DESCRIPTION_CHARS_MAX, PRODUCT_IMAGES_MAX,
};

use crate::limits::{
    CATEGORIES_PER_SHOP_MAX, DELIVERY_METHODS_PER_SHOP_MAX, NAME_CHARS_MAX,
    PICKUP_POINTS_PER_SHOP_MAX, PRODUCTS_PER_SHOP_MAX,
};
use crate::text::validate_text;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Stream of one shop's catalog.
pub fn stream_id(shop_id: Uuid) -> String {
    format!("{}-{shop_id}", Catalog::STREAM_KIND)
}

/// A change to the catalog of `shop_id`.
#[derive(Debug, Clone)]
pub struct CatalogCommand {
    pub shop_id: Uuid,
    pub change: CatalogChange,
}

#[derive(Debug, Clone)]
pub enum CatalogChange {
    AddCategory(Category),
    AddProduct(Product),
    /// Replaces a product's name, category, VAT rate, weight and tiers; the SKU never changes.
    UpdateProduct(Product),
    /// Withdraws a product from sale; past orders keep their snapshot.
    RetireProduct {
        product_id: Uuid,
    },
    AddDeliveryMethod(DeliveryMethod),
    SetDeliveryMethodVisibility {
        delivery_method_id: Uuid,
        visible: bool,
    },
    AddPickupPoint(PickupPoint),
    /// Gives a category another name; products keep their category, orders and documents keep
    /// the names they were placed and issued with.
    RenameCategory {
        category_id: Uuid,
        name: String,
    },
    /// Replaces a delivery method's label, payment mode, visibility, date window, price, VAT rate
    /// and minimum weight; its kind (home delivery or pickup) never changes. Orders already
    /// placed keep the shipping they were priced with.
    ChangeDeliveryMethodTerms(DeliveryMethod),
    /// Replaces a pickup point's name, group and address.
    UpdatePickupPoint(PickupPoint),
    /// Replaces what a product's page shows (see [`ProductDetails`]).
    SetProductDetails {
        product_id: Uuid,
        details: ProductDetails,
    },
    /// Replaces how storefronts draw a delivery method (see [`DeliveryMethodPresentation`]).
    SetDeliveryMethodPresentation {
        delivery_method_id: Uuid,
        presentation: DeliveryMethodPresentation,
    },
    /// Replaces what the pickup points of the group `name` are offered as (see
    /// [`PickupGroup`]).
    SetPickupGroup {
        name: String,
        group: PickupGroup,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CatalogEvent {
    CategoryAdded {
        shop_id: Uuid,
        category: Category,
    },
    ProductAdded {
        shop_id: Uuid,
        product: Product,
    },
    ProductUpdated {
        shop_id: Uuid,
        product: Product,
    },
    ProductRetired {
        shop_id: Uuid,
        product_id: Uuid,
    },
    DeliveryMethodAdded {
        shop_id: Uuid,
        delivery_method: DeliveryMethod,
    },
    DeliveryMethodVisibilityChanged {
        shop_id: Uuid,
        delivery_method_id: Uuid,
        visible: bool,
    },
    PickupPointAdded {
        shop_id: Uuid,
        pickup_point: PickupPoint,
    },
    /// Appended after the older variants so they keep their encoding, like the two below.
    CategoryRenamed {
        shop_id: Uuid,
        category_id: Uuid,
        name: String,
    },
    /// The whole method as it is from now on.
    DeliveryMethodTermsChanged {
        shop_id: Uuid,
        delivery_method: DeliveryMethod,
    },
    /// The whole pickup point as it is from now on.
    PickupPointUpdated {
        shop_id: Uuid,
        pickup_point: PickupPoint,
    },
    /// The product's whole details as they are from now on. Apart from `Product`, so neither
    /// its bytes in older events nor the snapshot orders keep of it change.
    ProductDetailsChanged {
        shop_id: Uuid,
        product_id: Uuid,
        details: ProductDetails,
    },
    /// The method's whole presentation from now on; apart from `DeliveryMethod` for the same
    /// reasons as the product's details.
    DeliveryMethodPresentationChanged {
        shop_id: Uuid,
        delivery_method_id: Uuid,
        presentation: DeliveryMethodPresentation,
    },
    /// The group's whole settings from now on.
    PickupGroupChanged {
        shop_id: Uuid,
        name: String,
        group: PickupGroup,
    },
}

impl DomainEvent for CatalogEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CatalogEvent::CategoryAdded { .. } => "CategoryAdded",
            CatalogEvent::ProductAdded { .. } => "ProductAdded",
            CatalogEvent::ProductUpdated { .. } => "ProductUpdated",
            CatalogEvent::ProductRetired { .. } => "ProductRetired",
            CatalogEvent::DeliveryMethodAdded { .. } => "DeliveryMethodAdded",
            CatalogEvent::DeliveryMethodVisibilityChanged { .. } => {
                "DeliveryMethodVisibilityChanged"
            }
            CatalogEvent::PickupPointAdded { .. } => "PickupPointAdded",
            CatalogEvent::CategoryRenamed { .. } => "CategoryRenamed",
            CatalogEvent::DeliveryMethodTermsChanged { .. } => "DeliveryMethodTermsChanged",
            CatalogEvent::PickupPointUpdated { .. } => "PickupPointUpdated",
            CatalogEvent::ProductDetailsChanged { .. } => "ProductDetailsChanged",
            CatalogEvent::DeliveryMethodPresentationChanged { .. } => {
                "DeliveryMethodPresentationChanged"
            }
            CatalogEvent::PickupGroupChanged { .. } => "PickupGroupChanged",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub shop_id: Option<Uuid>,
    pub categories: BTreeMap<Uuid, Category>,
    pub products: BTreeMap<Uuid, Product>,
    pub retired_products: BTreeSet<Uuid>,
    /// Upper-cased SKU → product, so "tir-10x15" and "TIR-10x15" are one SKU.
    sku_index: BTreeMap<String, Uuid>,
    pub delivery_methods: BTreeMap<Uuid, DeliveryMethod>,
    pub pickup_points: BTreeMap<Uuid, PickupPoint>,
    /// The products that have details, retired ones included.
    pub product_details: BTreeMap<Uuid, ProductDetails>,
    /// The delivery methods that have a presentation.
    pub delivery_presentations: BTreeMap<Uuid, DeliveryMethodPresentation>,
    /// The pickup groups a manager configured, by the name their points give.
    pub pickup_groups: BTreeMap<String, PickupGroup>,
}

/// The key SKUs are unique and looked up by.
pub fn sku_key(sku: &str) -> String {
    sku.to_ascii_uppercase()
}

impl Catalog {
    /// The product with this SKU (case-insensitive), retired or not.
    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        self.sku_index
            .get(&sku_key(sku))
            .and_then(|id| self.products.get(id))
    }

    pub fn is_retired(&self, product_id: Uuid) -> bool {
        self.retired_products.contains(&product_id)
    }

    /// The settings of the pickup group `name`: the default (offered) unless configured.
    pub fn pickup_group(&self, name: &str) -> PickupGroup {
        self.pickup_groups.get(name).cloned().unwrap_or_default()
    }

    /// Whether `name` is a pickup group: some pickup point gives it, or a manager configured it.
    pub fn has_pickup_group(&self, name: &str) -> bool {
        self.pickup_groups.contains_key(name)
            || self.pickup_points.values().any(|point| point.group == name)
    }

    /// A product's details, the empty default when it has none.
    pub fn product_details_of(&self, product_id: Uuid) -> ProductDetails {
        self.product_details
            .get(&product_id)
            .cloned()
            .unwrap_or_default()
    }

    /// A delivery method's presentation, the empty default when it has none.
    pub fn delivery_presentation_of(&self, delivery_method_id: Uuid) -> DeliveryMethodPresentation {
        self.delivery_presentations
            .get(&delivery_method_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether an order may be collected at `point_id` at `now`: the point exists and its
    /// group is offered then.
    pub fn check_pickup_point(
        &self,
        point_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let point = self
            .pickup_points
            .get(&point_id)
            .ok_or_else(|| DomainError::not_found("pickup point", point_id))?;
        self.pickup_group(&point.group)
            .check_offered(&point.group, now)
    }

    fn decide_change(
        &self,
        shop_id: Uuid,
        change: &CatalogChange,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        match change {
            CatalogChange::AddCategory(category) => self.decide_add_category(shop_id, category),
            CatalogChange::AddProduct(product) => self.decide_add_product(shop_id, product),
            CatalogChange::UpdateProduct(product) => self.decide_update_product(shop_id, product),
            CatalogChange::RetireProduct { product_id } => self.decide_retire(shop_id, *product_id),
            CatalogChange::AddDeliveryMethod(method) => self.decide_add_delivery(shop_id, method),
            CatalogChange::SetDeliveryMethodVisibility {
                delivery_method_id,
                visible,
            } => self.decide_visibility(shop_id, *delivery_method_id, *visible),
            CatalogChange::AddPickupPoint(point) => self.decide_add_pickup_point(shop_id, point),
            CatalogChange::RenameCategory { category_id, name } => {
                self.decide_rename_category(shop_id, *category_id, name)
            }
            CatalogChange::ChangeDeliveryMethodTerms(method) => {
                self.decide_delivery_terms(shop_id, method)
            }
            CatalogChange::UpdatePickupPoint(point) => {
                self.decide_update_pickup_point(shop_id, point)
            }
            CatalogChange::SetProductDetails {
                product_id,
                details,
            } => self.decide_product_details(shop_id, *product_id, details),
            CatalogChange::SetDeliveryMethodPresentation {
                delivery_method_id,
                presentation,
            } => self.decide_delivery_presentation(shop_id, *delivery_method_id, presentation),
            CatalogChange::SetPickupGroup { name, group } => {
                self.decide_pickup_group(shop_id, name, group)
            }
        }
    }

    fn decide_pickup_group(
        &self,
        shop_id: Uuid,
        name: &str,
        group: &PickupGroup,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        validate_text("name", name, NAME_CHARS_MAX)?;
        group.validate()?;
        if self.pickup_group(name) == *group {
            return Ok(vec![]);
        }
        if !self.pickup_groups.contains_key(name) {
            check_limit(
                self.pickup_groups.len(),
                PICKUP_POINTS_PER_SHOP_MAX,
                "pickup groups per shop",
            )?;
        }
        Ok(vec![CatalogEvent::PickupGroupChanged {
            shop_id,
            name: name.to_owned(),
            group: group.clone(),
        }])
    }

    fn decide_delivery_presentation(
        &self,
        shop_id: Uuid,
        delivery_method_id: Uuid,
        presentation: &DeliveryMethodPresentation,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if !self.delivery_methods.contains_key(&delivery_method_id) {
            return Err(DomainError::not_found(
                "delivery method",
                delivery_method_id,
            ));
        }
        presentation.validate()?;
        if self.delivery_presentation_of(delivery_method_id) == *presentation {
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::DeliveryMethodPresentationChanged {
            shop_id,
            delivery_method_id,
            presentation: presentation.clone(),
        }])
    }

    fn decide_product_details(
        &self,
        shop_id: Uuid,
        product_id: Uuid,
        details: &ProductDetails,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if !self.products.contains_key(&product_id) {
            return Err(DomainError::not_found("product", product_id));
        }
        details.validate()?;
        if self.product_details_of(product_id) == *details {
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::ProductDetailsChanged {
            shop_id,
            product_id,
            details: details.clone(),
        }])
    }

    fn decide_add_category(
        &self,
        shop_id: Uuid,
        category: &Category,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if let Some(existing) = self.categories.get(&category.category_id) {
            return retry_or_exists(existing == category, "category", category.category_id);
        }
        category.validate()?;
        check_limit(
            self.categories.len(),
            CATEGORIES_PER_SHOP_MAX,
            "categories per shop",
        )?;
        Ok(vec![CatalogEvent::CategoryAdded {
            shop_id,
            category: category.clone(),
        }])
    }

    fn decide_add_product(
        &self,
        shop_id: Uuid,
        product: &Product,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if let Some(existing) = self.products.get(&product.product_id) {
            return retry_or_exists(existing == product, "product", product.product_id);
        }
        self.validate_product(product)?;
        if self.product_by_sku(&product.sku).is_some() {
            return Err(DomainError::already_exists("sku", &product.sku));
        }
        check_limit(
            self.products.len(),
            PRODUCTS_PER_SHOP_MAX,
            "products per shop",
        )?;
        Ok(vec![CatalogEvent::ProductAdded {
            shop_id,
            product: product.clone(),
        }])
    }

    fn decide_update_product(
        &self,
        shop_id: Uuid,
        product: &Product,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        let existing = self
            .products
            .get(&product.product_id)
            .ok_or_else(|| DomainError::not_found("product", product.product_id))?;
        if existing.sku != product.sku {
            return Err(DomainError::validation(
                "sku",
                "the SKU of a product never changes",
            ));
        }
        if existing == product {
            return Ok(vec![]);
        }
        self.validate_product(product)?;
        Ok(vec![CatalogEvent::ProductUpdated {
            shop_id,
            product: product.clone(),
        }])
    }

    fn validate_product(&self, product: &Product) -> Result<(), DomainError> {
        product.validate()?;
        if !self.categories.contains_key(&product.category_id) {
            return Err(DomainError::not_found("category", product.category_id));
        }
        Ok(())
    }

    fn decide_retire(
        &self,
        shop_id: Uuid,
        product_id: Uuid,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if !self.products.contains_key(&product_id) {
            return Err(DomainError::not_found("product", product_id));
        }
        if self.is_retired(product_id) {
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::ProductRetired {
            shop_id,
            product_id,
        }])
    }

    fn decide_add_delivery(
        &self,
        shop_id: Uuid,
        method: &DeliveryMethod,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if let Some(existing) = self.delivery_methods.get(&method.delivery_method_id) {
            return retry_or_exists(
                existing == method,
                "delivery method",
                method.delivery_method_id,
            );
        }
        method.validate()?;
        check_limit(
            self.delivery_methods.len(),
            DELIVERY_METHODS_PER_SHOP_MAX,
            "delivery methods per shop",
        )?;
        Ok(vec![CatalogEvent::DeliveryMethodAdded {
            shop_id,
            delivery_method: method.clone(),
        }])
    }

    fn decide_visibility(
        &self,
        shop_id: Uuid,
        delivery_method_id: Uuid,
        visible: bool,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        let method = self
            .delivery_methods
            .get(&delivery_method_id)
            .ok_or_else(|| DomainError::not_found("delivery method", delivery_method_id))?;
        if method.visible == visible {
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::DeliveryMethodVisibilityChanged {
            shop_id,
            delivery_method_id,
            visible,
        }])
    }

    fn decide_add_pickup_point(
        &self,
        shop_id: Uuid,
        point: &PickupPoint,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if let Some(existing) = self.pickup_points.get(&point.pickup_point_id) {
            return retry_or_exists(existing == point, "pickup point", point.pickup_point_id);
        }
        point.validate()?;
        check_limit(
            self.pickup_points.len(),
            PICKUP_POINTS_PER_SHOP_MAX,
            "pickup points per shop",
        )?;
        Ok(vec![CatalogEvent::PickupPointAdded {
            shop_id,
            pickup_point: point.clone(),
        }])
    }
}

impl Catalog {
    fn decide_rename_category(
        &self,
        shop_id: Uuid,
        category_id: Uuid,
        name: &str,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        let existing = self
            .categories
            .get(&category_id)
            .ok_or_else(|| DomainError::not_found("category", category_id))?;
        let renamed = Category {
            category_id,
            name: name.to_owned(),
        };
        renamed.validate()?;
        if *existing == renamed {
            // Nothing changes: a retry (or a no-op edit) appends nothing.
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::CategoryRenamed {
            shop_id,
            category_id,
            name: renamed.name,
        }])
    }

    fn decide_delivery_terms(
        &self,
        shop_id: Uuid,
        method: &DeliveryMethod,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        let existing = self
            .delivery_methods
            .get(&method.delivery_method_id)
            .ok_or_else(|| DomainError::not_found("delivery method", method.delivery_method_id))?;
        if existing.kind != method.kind {
            // Orders placed with it were shipped or collected by that kind; add another method.
            return Err(DomainError::validation(
                "kind",
                "the kind of a delivery method never changes; add another method",
            ));
        }
        method.validate()?;
        if existing == method {
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::DeliveryMethodTermsChanged {
            shop_id,
            delivery_method: method.clone(),
        }])
    }

    fn decide_update_pickup_point(
        &self,
        shop_id: Uuid,
        point: &PickupPoint,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        let existing = self
            .pickup_points
            .get(&point.pickup_point_id)
            .ok_or_else(|| DomainError::not_found("pickup point", point.pickup_point_id))?;
        point.validate()?;
        if existing == point {
            return Ok(vec![]);
        }
        Ok(vec![CatalogEvent::PickupPointUpdated {
            shop_id,
            pickup_point: point.clone(),
        }])
    }
}

/// Client-chosen ids make retries safe: the same id with the same content is answered with no new
/// event; the same id with other content is an error.
fn retry_or_exists(
    same_content: bool,
    entity: &'static str,
    id: Uuid,
) -> Result<Vec<CatalogEvent>, DomainError> {
    if same_content {
        Ok(vec![])
    } else {
        Err(DomainError::already_exists(entity, id))
    }
}

fn check_limit(count: usize, limit: usize, what: &'static str) -> Result<(), DomainError> {
    if count >= limit {
        return Err(DomainError::LimitExceeded {
            what,
            limit: limit as u64,
        });
    }
    Ok(())
}

impl Aggregate for Catalog {
    type Command = CatalogCommand;
    type Event = CatalogEvent;
    const STREAM_KIND: &'static str = "catalog";

    fn decide(
        &self,
        command: &CatalogCommand,
        _env: &dyn Environment,
    ) -> Result<Vec<CatalogEvent>, DomainError> {
        if self.shop_id.is_some_and(|id| id != command.shop_id) {
            return Err(DomainError::conflict(
                "shop-mismatch",
                "this catalog belongs to another shop",
            ));
        }
        self.decide_change(command.shop_id, &command.change)
    }

    fn evolve(mut self, event: &CatalogEvent) -> Self {
        match event {
            CatalogEvent::CategoryAdded { shop_id, category } => {
                self.shop_id = Some(*shop_id);
                self.categories
                    .insert(category.category_id, category.clone());
            }
            CatalogEvent::ProductAdded { shop_id, product }
            | CatalogEvent::ProductUpdated { shop_id, product } => {
                self.shop_id = Some(*shop_id);
                self.sku_index
                    .insert(sku_key(&product.sku), product.product_id);
                self.products.insert(product.product_id, product.clone());
            }
            CatalogEvent::ProductDetailsChanged {
                product_id,
                details,
                ..
            } => {
                self.product_details.insert(*product_id, details.clone());
            }
            CatalogEvent::PickupGroupChanged { name, group, .. } => {
                self.pickup_groups.insert(name.clone(), group.clone());
            }
            CatalogEvent::DeliveryMethodPresentationChanged {
                delivery_method_id,
                presentation,
                ..
            } => {
                self.delivery_presentations
                    .insert(*delivery_method_id, presentation.clone());
            }
            CatalogEvent::ProductRetired { product_id, .. } => {
                self.retired_products.insert(*product_id);
            }
            CatalogEvent::DeliveryMethodAdded {
                shop_id,
                delivery_method,
            } => {
                self.shop_id = Some(*shop_id);
                self.delivery_methods
                    .insert(delivery_method.delivery_method_id, delivery_method.clone());
            }
            CatalogEvent::DeliveryMethodVisibilityChanged {
                delivery_method_id,
                visible,
                ..
            } => {
                if let Some(method) = self.delivery_methods.get_mut(delivery_method_id) {
                    method.visible = *visible;
                }
            }
            CatalogEvent::PickupPointAdded {
                shop_id,
                pickup_point,
            }
            | CatalogEvent::PickupPointUpdated {
                shop_id,
                pickup_point,
            } => {
                self.shop_id = Some(*shop_id);
                self.pickup_points
                    .insert(pickup_point.pickup_point_id, pickup_point.clone());
            }
            CatalogEvent::CategoryRenamed {
                category_id, name, ..
            } => {
                if let Some(category) = self.categories.get_mut(category_id) {
                    category.name = name.clone();
                }
            }
            CatalogEvent::DeliveryMethodTermsChanged {
                delivery_method, ..
            } => {
                self.delivery_methods
                    .insert(delivery_method.delivery_method_id, delivery_method.clone());
            }
        }
        self
    }
}
