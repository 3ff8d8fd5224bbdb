//! Shops, API keys, catalog and customers, and shop scoping.

use super::*;
use comptoir_domain::catalog::{CatalogEvent, Category, DeliveryMethod, Product};
use comptoir_domain::customer::customer_id_for;

fn shop_stream(shop_id: Uuid) -> String {
    comptoir_domain::shop::stream_id(shop_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_found_by_hash_after_creation_revocation_and_reopen() {
    // Proves the in-memory key table follows creation and revocation, and is reloaded from disk.
    let harness = Harness::new();
    let (shop, key) = (id(1), id(7));
    let hash = secret_sha256(7);
    harness
        .append(
            &shop_stream(shop),
            &[shop_created(shop), api_key_created(shop, key, hash)],
        )
        .await;
    let runner = harness.spawn_runner();
    harness.caught_up().await;
    let found = harness.projections.api_key_by_hash(&hash).expect("key");
    assert_eq!(
        (found.shop_id, found.key_id, found.revoked),
        (shop, key, false)
    );
    assert!(harness
        .projections
        .api_key_by_hash(&secret_sha256(8))
        .is_none());

    let revoked = ShopEvent::ApiKeyRevoked {
        shop_id: shop,
        key_id: key,
        revoked_at: at(5),
    };
    harness.append(&shop_stream(shop), &[revoked]).await;
    harness.caught_up().await;
    let found = harness.projections.api_key_by_hash(&hash).expect("key");
    assert!(found.revoked);
    assert_eq!(found.revoked_at, Some(at(5)));

    let Harness {
        dir, projections, ..
    } = harness;
    let reopened = super::stop_and_reopen(runner, projections, dir.path()).await;
    assert!(reopened.api_key_by_hash(&hash).expect("key").revoked);
    assert_eq!(reopened.api_keys(shop).unwrap().len(), 1);
}

fn golden_product() -> Product {
    let added: CatalogEvent = serde_json::from_str(include_str!(
        "../../../domain/tests/golden/catalog.ProductAdded.json"
    ))
    .expect("fixture");
    match added {
        CatalogEvent::ProductAdded { product, .. } => product,
        other => panic!("fixture is a ProductAdded, not {other:?}"),
    }
}

fn golden_delivery_method() -> DeliveryMethod {
    let added: CatalogEvent = serde_json::from_str(include_str!(
        "../../../domain/tests/golden/catalog.DeliveryMethodAdded.json"
    ))
    .expect("fixture");
    match added {
        CatalogEvent::DeliveryMethodAdded {
            delivery_method, ..
        } => delivery_method,
        other => panic!("fixture is a DeliveryMethodAdded, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn catalog_lists_follow_adds_updates_and_retirements() {
    // Proves the catalog read model: categories, products (updated, retired), delivery methods
    // with their visibility.
    let harness = Harness::new();
    let shop = id(1);
    let mut product = golden_product();
    product.name = "Tirage 10x15".into();
    let product_id = product.product_id;
    let mut renamed = product.clone();
    renamed.name = "Tirage 10x15 mat".into();
    let delivery_method = golden_delivery_method();
    let method_id = delivery_method.delivery_method_id;
    let events = [
        CatalogEvent::CategoryAdded {
            shop_id: shop,
            category: Category {
                category_id: id(50),
                name: "Tirages".into(),
            },
        },
        CatalogEvent::ProductAdded {
            shop_id: shop,
            product,
        },
        CatalogEvent::ProductRetired {
            shop_id: shop,
            product_id,
        },
        CatalogEvent::ProductUpdated {
            shop_id: shop,
            product: renamed,
        },
        CatalogEvent::DeliveryMethodAdded {
            shop_id: shop,
            delivery_method,
        },
        CatalogEvent::DeliveryMethodVisibilityChanged {
            shop_id: shop,
            delivery_method_id: method_id,
            visible: false,
        },
    ];
    harness
        .append(&comptoir_domain::catalog::stream_id(shop), &events)
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let projections = &harness.projections;
    assert_eq!(projections.categories(shop).unwrap().len(), 1);
    let products = projections.products(shop).unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].product.name, "Tirage 10x15 mat");
    assert!(products[0].retired, "an update keeps the product retired");
    let methods = projections.delivery_methods(shop).unwrap();
    assert!(!methods[0].visible);
    assert!(projections.products(id(2)).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_leaks_across_shops() {
    // Proves every read is scoped by shop: shop B sees none of shop A's rows, even by exact id.
    let harness = Harness::new();
    let (shop_a, shop_b, order) = (id(1), id(2), id(3));
    harness
        .append(&shop_stream(shop_a), &[shop_created(shop_a)])
        .await;
    harness
        .append(&shop_stream(shop_b), &[shop_created(shop_b)])
        .await;
    harness
        .append(&order_stream(order), &[order_placed(shop_a, order, at(0))])
        .await;
    let customer = customer_registered(shop_a, "ana@example.fr", "Ana", "Lopez");
    harness.append("customer-a", &[customer]).await;
    harness
        .append("series-a", &[invoice_issued(shop_a, order, 1, at(1))])
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let all = PageRequest::first(100);
    assert!(p.order(shop_a, order).unwrap().is_some());
    assert!(p.order(shop_b, order).unwrap().is_none());
    assert!(p
        .orders(shop_b, &Default::default(), &all)
        .unwrap()
        .items
        .is_empty());
    let customer_id = customer_id_for(shop_a, "ana@example.fr");
    assert!(p.customer(shop_b, customer_id).unwrap().is_none());
    assert!(p
        .customers(shop_b, &Default::default(), &all)
        .unwrap()
        .items
        .is_empty());
    assert!(p.invoice(shop_b, "FA-2025-000001").unwrap().is_none());
    assert!(p
        .invoices(shop_b, &Default::default(), &all)
        .unwrap()
        .items
        .is_empty());
    assert!(p.invoice_number_for_order(shop_b, order).unwrap().is_none());
    assert_eq!(p.shop(shop_b).unwrap().expect("shop b").shop_id, shop_b);
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_are_found_by_id_and_profile_changes_apply() {
    // Proves the customer view by id follows profile changes, answers to the shop's own fields
    // included, and carries the stream version.
    let harness = Harness::new();
    let shop = id(1);
    let customer_id = customer_id_for(shop, "ana@example.fr");
    let changed = CustomerEvent::CustomerProfileChanged {
        shop_id: shop,
        customer_id,
        profile: CustomerProfile {
            first_name: "Ana".into(),
            last_name: "Lopez-Martin".into(),
            phone: Some("0600000000".into()),
            address: None,
            marketing_consent: false,
            extra: [("civilite".to_owned(), "Mme".to_owned())].into(),
        },
        changed_at: at(9),
    };
    let stream = comptoir_domain::customer::stream_id(customer_id);
    harness
        .append(
            &stream,
            &[
                customer_registered(shop, "ana@example.fr", "Ana", "Lopez"),
                changed,
            ],
        )
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let view = harness
        .projections
        .customer(shop, customer_id)
        .unwrap()
        .expect("customer");
    assert_eq!(view.last_name, "Lopez-Martin");
    assert_eq!(view.extra["civilite"], "Mme");
    assert_eq!(view.updated_at, at(9));
    assert_eq!(view.version, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_and_catalog_updates_reach_the_read_models() {
    // Proves the shop row follows a profile update (its zone kept), and the catalog lists follow
    // a category rename, new delivery terms and a pickup point's move.
    let harness = Harness::new();
    let shop = id(1);
    let ShopEvent::ShopCreated { profile, .. } = shop_created(shop) else {
        panic!("fixture is a ShopCreated");
    };
    let mut update = profile.editable();
    update.name = "Studio Lumière — Saint-Antoine".into();
    update.organisation.address.line1 = "40 quai Saint-Antoine".into();
    let updated = ShopEvent::ShopProfileUpdated {
        shop_id: shop,
        update: Box::new(update.clone()),
        updated_at: at(5),
    };
    harness
        .append(&shop_stream(shop), &[shop_created(shop), updated])
        .await;
    let mut method = golden_delivery_method();
    let point = comptoir_domain::catalog::PickupPoint {
        pickup_point_id: id(60),
        name: "Relais".into(),
        group: "Lyon".into(),
        address: update.organisation.address.clone(),
    };
    let mut moved = point.clone();
    moved.group = "Lyon 2e".into();
    let category = Category {
        category_id: id(50),
        name: "Tirages".into(),
    };
    let mut events = vec![
        CatalogEvent::CategoryAdded {
            shop_id: shop,
            category,
        },
        CatalogEvent::DeliveryMethodAdded {
            shop_id: shop,
            delivery_method: method.clone(),
        },
        CatalogEvent::PickupPointAdded {
            shop_id: shop,
            pickup_point: point,
        },
    ];
    method.price = rust_decimal::Decimal::new(790, 2);
    events.extend([
        CatalogEvent::CategoryRenamed {
            shop_id: shop,
            category_id: id(50),
            name: "Tirages d'art".into(),
        },
        CatalogEvent::DeliveryMethodTermsChanged {
            shop_id: shop,
            delivery_method: method.clone(),
        },
        CatalogEvent::PickupPointUpdated {
            shop_id: shop,
            pickup_point: moved.clone(),
        },
    ]);
    harness
        .append(&comptoir_domain::catalog::stream_id(shop), &events)
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let projections = &harness.projections;
    let view = projections.shop(shop).unwrap().expect("shop row");
    assert_eq!(view.name, update.name);
    assert_eq!(view.organisation, update.organisation);
    assert_eq!(view.time_zone, profile.zone().name());
    assert_eq!(
        projections.categories(shop).unwrap()[0].name,
        "Tirages d'art"
    );
    assert_eq!(projections.delivery_methods(shop).unwrap(), vec![method]);
    assert_eq!(projections.pickup_points(shop).unwrap(), vec![moved]);
}
