//! Categories, products, delivery methods and pickup points of each shop.

use crate::error::ProjectionResult;
use crate::keys::{id_key, Table};
use crate::store::WriteSet;
use crate::views::ProductView;
use comptoir_domain::catalog::{CatalogEvent, Category, DeliveryMethod, Product};
use uuid::Uuid;

pub(crate) fn apply(writes: &mut WriteSet, event: &CatalogEvent) -> ProjectionResult<()> {
    match event {
        CatalogEvent::CategoryAdded { shop_id, category } => writes.put(
            id_key(Table::Category, *shop_id, category.category_id),
            category,
        ),
        CatalogEvent::ProductAdded { shop_id, product } => save_product(writes, *shop_id, product),
        CatalogEvent::ProductUpdated { shop_id, product } => {
            save_product(writes, *shop_id, product)
        }
        CatalogEvent::ProductRetired {
            shop_id,
            product_id,
        } => retire_product(writes, *shop_id, *product_id),
        CatalogEvent::DeliveryMethodAdded {
            shop_id,
            delivery_method,
        }
        | CatalogEvent::DeliveryMethodTermsChanged {
            shop_id,
            delivery_method,
        } => writes.put(
            id_key(
                Table::DeliveryMethod,
                *shop_id,
                delivery_method.delivery_method_id,
            ),
            delivery_method,
        ),
        CatalogEvent::DeliveryMethodVisibilityChanged {
            shop_id,
            delivery_method_id,
            visible,
        } => set_visibility(writes, *shop_id, *delivery_method_id, *visible),
        CatalogEvent::CategoryRenamed {
            shop_id,
            category_id,
            name,
        } => rename_category(writes, *shop_id, *category_id, name),
        CatalogEvent::PickupPointAdded {
            shop_id,
            pickup_point,
        }
        | CatalogEvent::PickupPointUpdated {
            shop_id,
            pickup_point,
        } => writes.put(
            id_key(Table::PickupPoint, *shop_id, pickup_point.pickup_point_id),
            pickup_point,
        ),
        // The API reads these from the catalog's hot state; no read model needs them.
        CatalogEvent::ProductDetailsChanged { .. }
        | CatalogEvent::DeliveryMethodPresentationChanged { .. }
        | CatalogEvent::PickupGroupChanged { .. } => Ok(()),
    }
}

/// Adds or replaces a product, keeping whether it was retired.
fn save_product(writes: &mut WriteSet, shop_id: Uuid, product: &Product) -> ProjectionResult<()> {
    let key = id_key(Table::Product, shop_id, product.product_id);
    let retired = writes
        .get::<ProductView>(&key)?
        .is_some_and(|existing| existing.retired);
    let view = ProductView {
        product: product.clone(),
        retired,
    };
    writes.put(key, &view)
}

fn retire_product(writes: &mut WriteSet, shop_id: Uuid, product_id: Uuid) -> ProjectionResult<()> {
    let key = id_key(Table::Product, shop_id, product_id);
    match writes.get::<ProductView>(&key)? {
        Some(mut view) => {
            view.retired = true;
            writes.put(key, &view)
        }
        None => {
            tracing::warn!(%shop_id, %product_id, "retirement of an unknown product ignored");
            Ok(())
        }
    }
}

fn rename_category(
    writes: &mut WriteSet,
    shop_id: Uuid,
    category_id: Uuid,
    name: &str,
) -> ProjectionResult<()> {
    let key = id_key(Table::Category, shop_id, category_id);
    match writes.get::<Category>(&key)? {
        Some(mut category) => {
            category.name = name.to_owned();
            writes.put(key, &category)
        }
        None => {
            tracing::warn!(%shop_id, %category_id, "rename of an unknown category ignored");
            Ok(())
        }
    }
}

fn set_visibility(
    writes: &mut WriteSet,
    shop_id: Uuid,
    delivery_method_id: Uuid,
    visible: bool,
) -> ProjectionResult<()> {
    let key = id_key(Table::DeliveryMethod, shop_id, delivery_method_id);
    match writes.get::<DeliveryMethod>(&key)? {
        Some(mut method) => {
            method.visible = visible;
            writes.put(key, &method)
        }
        None => {
            tracing::warn!(%shop_id, %delivery_method_id, "visibility of an unknown delivery method ignored");
            Ok(())
        }
    }
}
