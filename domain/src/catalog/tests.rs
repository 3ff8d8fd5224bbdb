use super::*;
use crate::fixtures::*;
use crate::fold;
use crate::testing::given;

fn command(change: CatalogChange) -> CatalogCommand {
    CatalogCommand {
        shop_id: shop_id(),
        change,
    }
}

fn tirages() -> Category {
    Category {
        category_id: id(TIRAGES),
        name: "Tirages photo".into(),
    }
}

fn category_added() -> CatalogEvent {
    CatalogEvent::CategoryAdded {
        shop_id: shop_id(),
        category: tirages(),
    }
}

fn mug() -> Product {
    product(
        MUG,
        "MUG-BLANC",
        TIRAGES,
        "20",
        400,
        &[(1, "14.90"), (6, "12.90")],
    )
}

fn mug_added() -> CatalogEvent {
    CatalogEvent::ProductAdded {
        shop_id: shop_id(),
        product: mug(),
    }
}

#[test]
fn adds_a_category_once() {
    // Proves categories are added, retried idempotently and never silently replaced.
    given::<Catalog>([])
        .when(command(CatalogChange::AddCategory(tirages())))
        .then([category_added()]);
    given::<Catalog>([category_added()])
        .when(command(CatalogChange::AddCategory(tirages())))
        .then([]);
    let renamed = Category {
        name: "Autre".into(),
        ..tirages()
    };
    given::<Catalog>([category_added()])
        .when(command(CatalogChange::AddCategory(renamed)))
        .then_err_code("already-exists");
    let blank = Category {
        category_id: id(5),
        name: String::new(),
    };
    given::<Catalog>([])
        .when(command(CatalogChange::AddCategory(blank)))
        .then_err_code("validation");
}

#[test]
fn adds_a_product_in_an_existing_category() {
    // Proves a product needs its category and is then found by SKU.
    given::<Catalog>([])
        .when(command(CatalogChange::AddProduct(mug())))
        .then_err_code("not-found");
    let catalog = given::<Catalog>([category_added()])
        .when(command(CatalogChange::AddProduct(mug())))
        .then([mug_added()]);
    assert_eq!(
        catalog.product_by_sku("mug-blanc").map(|p| p.product_id),
        Some(id(MUG))
    );
}

#[test]
fn sku_is_unique_per_shop_case_insensitively() {
    // Proves a second product cannot take an existing SKU, whatever its case.
    let mut other = mug();
    other.product_id = id(0xBEEF);
    other.sku = "mug-BLANC".into();
    given::<Catalog>([category_added(), mug_added()])
        .when(command(CatalogChange::AddProduct(other)))
        .then_err(|e| matches!(e, DomainError::AlreadyExists { entity: "sku", .. }));
    given::<Catalog>([category_added(), mug_added()])
        .when(command(CatalogChange::AddProduct(mug())))
        .then([]);
}

#[test]
fn validates_price_tiers() {
    // Proves tiers start at 1, strictly increase, have positive two-decimal prices and are bounded.
    let cases: Vec<(&str, Vec<PriceTier>, &str)> = vec![
        ("none", vec![], "validation"),
        ("starts at 2", tiers(&[(2, "1.00")]), "validation"),
        (
            "not increasing",
            tiers(&[(1, "1.00"), (10, "0.90"), (10, "0.80")]),
            "validation",
        ),
        (
            "decreasing",
            tiers(&[(1, "1.00"), (10, "0.90"), (5, "0.80")]),
            "validation",
        ),
        ("zero price", tiers(&[(1, "0")]), "validation"),
        ("negative price", tiers(&[(1, "-1")]), "validation"),
        ("three decimals", tiers(&[(1, "0.355")]), "validation"),
        (
            "huge quantity",
            tiers(&[(1, "1"), (QUANTITY_PER_LINE_MAX_PLUS_ONE, "0.5")]),
            "validation",
        ),
        (
            "too many",
            (1..=TIERS_PER_PRODUCT_MAX_PLUS_ONE)
                .map(|q| PriceTier {
                    min_quantity: q,
                    unit_price: d("1"),
                })
                .collect(),
            "limit-exceeded",
        ),
    ];
    for (what, bad_tiers, code) in cases {
        let product = Product {
            tiers: bad_tiers,
            ..mug()
        };
        let result = fold::<Catalog>(&[category_added()]).decide(
            &command(CatalogChange::AddProduct(product)),
            &crate::testing::TestEnvironment::new(),
        );
        assert_eq!(result.map_err(|e| e.code()), Err(code), "{what}");
    }
}

const QUANTITY_PER_LINE_MAX_PLUS_ONE: u32 = crate::limits::QUANTITY_PER_LINE_MAX + 1;
const TIERS_PER_PRODUCT_MAX_PLUS_ONE: u32 = crate::limits::TIERS_PER_PRODUCT_MAX as u32 + 1;

#[test]
fn validates_product_fields() {
    // Proves SKU characters, VAT rate and weight are checked.
    let cases: Vec<(&str, Product)> = vec![
        (
            "sku space",
            Product {
                sku: "MUG BLANC".into(),
                ..mug()
            },
        ),
        (
            "sku empty",
            Product {
                sku: String::new(),
                ..mug()
            },
        ),
        (
            "vat 100",
            Product {
                vat_rate: d("100"),
                ..mug()
            },
        ),
        (
            "vat decimals",
            Product {
                vat_rate: d("5.555"),
                ..mug()
            },
        ),
        (
            "weight",
            Product {
                weight_g: crate::limits::WEIGHT_G_MAX + 1,
                ..mug()
            },
        ),
        (
            "name",
            Product {
                name: "x".repeat(crate::limits::NAME_CHARS_MAX + 1),
                ..mug()
            },
        ),
    ];
    for (what, product) in cases {
        let result = fold::<Catalog>(&[category_added()]).decide(
            &command(CatalogChange::AddProduct(product)),
            &crate::testing::TestEnvironment::new(),
        );
        assert_eq!(result.map_err(|e| e.code()), Err("validation"), "{what}");
    }
}

#[test]
fn updates_a_product_but_never_its_sku() {
    // Proves prices can change, the SKU cannot, and unknown products are not found.
    let cheaper = Product {
        tiers: tiers(&[(1, "13.90")]),
        ..mug()
    };
    given::<Catalog>([category_added(), mug_added()])
        .when(command(CatalogChange::UpdateProduct(cheaper.clone())))
        .then([CatalogEvent::ProductUpdated {
            shop_id: shop_id(),
            product: cheaper,
        }]);
    let renamed_sku = Product {
        sku: "MUG-NOIR".into(),
        ..mug()
    };
    given::<Catalog>([category_added(), mug_added()])
        .when(command(CatalogChange::UpdateProduct(renamed_sku)))
        .then_err_code("validation");
    given::<Catalog>([category_added()])
        .when(command(CatalogChange::UpdateProduct(mug())))
        .then_err_code("not-found");
    given::<Catalog>([category_added(), mug_added()])
        .when(command(CatalogChange::UpdateProduct(mug())))
        .then([]);
}

#[test]
fn retires_a_product() {
    // Proves retiring is recorded once and needs an existing product.
    let retired = CatalogEvent::ProductRetired {
        shop_id: shop_id(),
        product_id: id(MUG),
    };
    let catalog = given::<Catalog>([category_added(), mug_added()])
        .when(command(CatalogChange::RetireProduct {
            product_id: id(MUG),
        }))
        .then([retired.clone()]);
    assert!(catalog.is_retired(id(MUG)));
    given::<Catalog>([category_added(), mug_added(), retired])
        .when(command(CatalogChange::RetireProduct {
            product_id: id(MUG),
        }))
        .then([]);
    given::<Catalog>([])
        .when(command(CatalogChange::RetireProduct {
            product_id: id(MUG),
        }))
        .then_err_code("not-found");
}

#[test]
fn adds_delivery_methods_with_one_payment_mode() {
    // Proves delivery methods are validated (price, VAT, date window) and changes of visibility recorded.
    let method = delivery(
        COLISSIMO,
        DeliveryKind::HomeDelivery,
        PaymentMode::Card,
        "4.90",
        0,
        true,
    );
    let added = CatalogEvent::DeliveryMethodAdded {
        shop_id: shop_id(),
        delivery_method: method.clone(),
    };
    given::<Catalog>([])
        .when(command(CatalogChange::AddDeliveryMethod(method.clone())))
        .then([added.clone()]);
    let hide = CatalogChange::SetDeliveryMethodVisibility {
        delivery_method_id: id(COLISSIMO),
        visible: false,
    };
    let catalog = given::<Catalog>([added.clone()]).when(command(hide)).then([
        CatalogEvent::DeliveryMethodVisibilityChanged {
            shop_id: shop_id(),
            delivery_method_id: id(COLISSIMO),
            visible: false,
        },
    ]);
    assert!(!catalog.delivery_methods[&id(COLISSIMO)].visible);
    let show = CatalogChange::SetDeliveryMethodVisibility {
        delivery_method_id: id(COLISSIMO),
        visible: true,
    };
    given::<Catalog>([added.clone()])
        .when(command(show))
        .then([]);
    let unknown = CatalogChange::SetDeliveryMethodVisibility {
        delivery_method_id: id(1),
        visible: true,
    };
    given::<Catalog>([])
        .when(command(unknown))
        .then_err_code("not-found");
}

#[test]
fn validates_delivery_methods() {
    // Proves price, VAT rate, date window and name are checked, and an id is not reused for other content.
    let method = delivery(
        COLISSIMO,
        DeliveryKind::HomeDelivery,
        PaymentMode::Card,
        "4.90",
        0,
        true,
    );
    let added = CatalogEvent::DeliveryMethodAdded {
        shop_id: shop_id(),
        delivery_method: method.clone(),
    };
    let now = crate::testing::test_now();
    let bad: Vec<DeliveryMethod> = vec![
        DeliveryMethod {
            price: d("-1"),
            ..method.clone()
        },
        DeliveryMethod {
            price: d("4.999"),
            ..method.clone()
        },
        DeliveryMethod {
            vat_rate: d("120"),
            ..method.clone()
        },
        DeliveryMethod {
            available_from: Some(now),
            available_until: Some(now),
            ..method.clone()
        },
        DeliveryMethod {
            name: String::new(),
            ..method.clone()
        },
    ];
    for bad_method in bad {
        let bad_method = DeliveryMethod {
            delivery_method_id: id(77),
            ..bad_method
        };
        given::<Catalog>([])
            .when(command(CatalogChange::AddDeliveryMethod(bad_method)))
            .then_err_code("validation");
    }
    let changed = DeliveryMethod {
        price: d("5.90"),
        ..method
    };
    given::<Catalog>([added])
        .when(command(CatalogChange::AddDeliveryMethod(changed)))
        .then_err_code("already-exists");
}

#[test]
fn adds_pickup_points() {
    // Proves pickup points are validated and idempotent.
    let point = PickupPoint {
        pickup_point_id: id(0xE1),
        name: "Relais Bellecour".into(),
        group: "Lyon 2e".into(),
        address: address(),
    };
    let added = CatalogEvent::PickupPointAdded {
        shop_id: shop_id(),
        pickup_point: point.clone(),
    };
    given::<Catalog>([])
        .when(command(CatalogChange::AddPickupPoint(point.clone())))
        .then([added.clone()]);
    given::<Catalog>([added])
        .when(command(CatalogChange::AddPickupPoint(point.clone())))
        .then([]);
    let bad = PickupPoint {
        group: String::new(),
        ..point
    };
    given::<Catalog>([])
        .when(command(CatalogChange::AddPickupPoint(bad)))
        .then_err_code("validation");
}

#[test]
fn a_catalog_belongs_to_one_shop() {
    // Proves a command for another shop is refused on this shop's stream.
    let other = CatalogCommand {
        shop_id: id(0xFFFF),
        change: CatalogChange::AddCategory(tirages()),
    };
    given::<Catalog>([category_added()])
        .when(other)
        .then_err_code("shop-mismatch");
}

#[test]
fn categories_are_bounded() {
    // Proves the category limit holds.
    let history: Vec<CatalogEvent> = (0..crate::limits::CATEGORIES_PER_SHOP_MAX as u128)
        .map(|n| CatalogEvent::CategoryAdded {
            shop_id: shop_id(),
            category: Category {
                category_id: id(10_000 + n),
                name: "c".into(),
            },
        })
        .collect();
    given::<Catalog>(history)
        .when(command(CatalogChange::AddCategory(tirages())))
        .then_err_code("limit-exceeded");
}

fn fixture_catalog_events() -> Vec<CatalogEvent> {
    crate::fixtures::catalog_events()
}

#[test]
fn renames_a_category_once() {
    // Proves a rename is recorded, a retry appends nothing, and an unknown or blank one is refused.
    let rename = |name: &str| {
        command(CatalogChange::RenameCategory {
            category_id: id(TIRAGES),
            name: name.into(),
        })
    };
    let renamed = CatalogEvent::CategoryRenamed {
        shop_id: shop_id(),
        category_id: id(TIRAGES),
        name: "Tirages et agrandissements".into(),
    };
    let catalog = given::<Catalog>(fixture_catalog_events())
        .when(rename("Tirages et agrandissements"))
        .then([renamed.clone()]);
    assert_eq!(
        catalog.categories[&id(TIRAGES)].name,
        "Tirages et agrandissements"
    );
    let mut history = fixture_catalog_events();
    history.push(renamed);
    given::<Catalog>(history)
        .when(rename("Tirages et agrandissements"))
        .then([]);
    given::<Catalog>(fixture_catalog_events())
        .when(rename("  "))
        .then_err_code("validation");
    given::<Catalog>(fixture_catalog_events())
        .when(command(CatalogChange::RenameCategory {
            category_id: id(0xDEAD),
            name: "Autre".into(),
        }))
        .then_err_code("not-found");
}

#[test]
fn changes_the_terms_of_a_delivery_method() {
    // Proves new terms replace the method (prices of later orders), and bad terms are refused.
    let mut terms = delivery(
        COLISSIMO,
        DeliveryKind::HomeDelivery,
        PaymentMode::Paypal,
        "6.50",
        250,
        true,
    );
    terms.name = "Colissimo suivi".into();
    let changed = CatalogEvent::DeliveryMethodTermsChanged {
        shop_id: shop_id(),
        delivery_method: terms.clone(),
    };
    let catalog = given::<Catalog>(fixture_catalog_events())
        .when(command(CatalogChange::ChangeDeliveryMethodTerms(
            terms.clone(),
        )))
        .then([changed.clone()]);
    assert_eq!(catalog.delivery_methods[&id(COLISSIMO)], terms);
    let mut history = fixture_catalog_events();
    history.push(changed);
    given::<Catalog>(history)
        .when(command(CatalogChange::ChangeDeliveryMethodTerms(
            terms.clone(),
        )))
        .then([]);
    type Spoil = fn(&mut DeliveryMethod);
    let spoils: Vec<(&str, Spoil)> = vec![
        ("price", |m| m.price = rust_decimal::Decimal::new(-1, 0)),
        ("min_weight_g", |m| m.min_weight_g = u32::MAX),
        ("name", |m| m.name = String::new()),
        ("kind", |m| m.kind = DeliveryKind::StorePickup),
        ("available_until", |m| {
            m.available_from = Some(crate::testing::test_now());
            m.available_until = Some(crate::testing::test_now());
        }),
    ];
    for (field, spoil) in spoils {
        let mut bad = terms.clone();
        spoil(&mut bad);
        given::<Catalog>(fixture_catalog_events())
            .when(command(CatalogChange::ChangeDeliveryMethodTerms(bad)))
            .then_err(|e| matches!(e, DomainError::Validation { field: f, .. } if f == field));
    }
    let unknown = DeliveryMethod {
        delivery_method_id: id(0xDEAD),
        ..terms
    };
    given::<Catalog>(fixture_catalog_events())
        .when(command(CatalogChange::ChangeDeliveryMethodTerms(unknown)))
        .then_err_code("not-found");
}

#[test]
fn updates_a_pickup_point() {
    // Proves a pickup point's name, group and address are replaced, and an unknown one refused.
    let point = PickupPoint {
        pickup_point_id: id(0xE1),
        name: "Relais Bellecour".into(),
        group: "Lyon".into(),
        address: address(),
    };
    let added = CatalogEvent::PickupPointAdded {
        shop_id: shop_id(),
        pickup_point: point.clone(),
    };
    let mut moved = point.clone();
    moved.address.line1 = "3 place Bellecour".into();
    moved.group = "Lyon 2e".into();
    let catalog = given::<Catalog>([added.clone()])
        .when(command(CatalogChange::UpdatePickupPoint(moved.clone())))
        .then([CatalogEvent::PickupPointUpdated {
            shop_id: shop_id(),
            pickup_point: moved.clone(),
        }]);
    assert_eq!(catalog.pickup_points[&id(0xE1)], moved);
    given::<Catalog>([added.clone()])
        .when(command(CatalogChange::UpdatePickupPoint(point.clone())))
        .then([]);
    let mut bad = moved.clone();
    bad.address.country = "France".into();
    given::<Catalog>([added])
        .when(command(CatalogChange::UpdatePickupPoint(bad)))
        .then_err_code("validation");
    given::<Catalog>([])
        .when(command(CatalogChange::UpdatePickupPoint(moved)))
        .then_err_code("not-found");
}

fn mug_details() -> ProductDetails {
    ProductDetails {
        visible: true,
        description: Some("Mug blanc 33 cl.\nPasse au lave-vaisselle.".into()),
        images: vec!["https://cdn.studio.example/mug.jpg".into()],
    }
}

fn set_details(details: ProductDetails) -> CatalogCommand {
    command(CatalogChange::SetProductDetails {
        product_id: id(MUG),
        details,
    })
}

#[test]
fn sets_a_products_details_once_per_change() {
    // Proves details are recorded for an existing product, a retry appends nothing, setting
    // the empty default on a product without details appends nothing, and an unknown product
    // is "not found".
    let changed = CatalogEvent::ProductDetailsChanged {
        shop_id: shop_id(),
        product_id: id(MUG),
        details: mug_details(),
    };
    let catalog = given::<Catalog>([category_added(), mug_added()])
        .when(set_details(mug_details()))
        .then([changed.clone()]);
    assert_eq!(catalog.product_details.get(&id(MUG)), Some(&mug_details()));
    assert_eq!(
        catalog.products.get(&id(MUG)),
        Some(&mug()),
        "the product is untouched"
    );
    given::<Catalog>([category_added(), mug_added(), changed])
        .when(set_details(mug_details()))
        .then([]);
    given::<Catalog>([category_added(), mug_added()])
        .when(set_details(ProductDetails::default()))
        .then([]);
    given::<Catalog>([category_added()])
        .when(set_details(mug_details()))
        .then_err_code("not-found");
}

/// Makes one part of good details bad.
type SpoilDetails = fn(&mut ProductDetails);

#[test]
fn refuses_details_that_cannot_be_shown() {
    // Proves a visible detail needs something to show, images are URLs and bounded, and a
    // description is paragraphs of bounded length.
    let spoilers: Vec<(&str, SpoilDetails)> = vec![
        ("visible", |d| {
            d.description = None;
            d.images.clear();
        }),
        ("images[0]", |d| d.images[0] = "mug.jpg".into()),
        ("images", |d| {
            d.images = vec!["https://cdn.example/a.jpg".into(); PRODUCT_IMAGES_MAX + 1]
        }),
        ("description", |d| {
            d.description = Some("x".repeat(PRODUCT_DESCRIPTION_CHARS_MAX + 1))
        }),
    ];
    for (field, spoil) in spoilers {
        let mut details = mug_details();
        spoil(&mut details);
        given::<Catalog>([category_added(), mug_added()])
            .when(set_details(details))
            .then_err(
                |error| matches!(error, DomainError::Validation { field: got, .. } if got == field),
            );
    }
}

fn colissimo_added() -> CatalogEvent {
    CatalogEvent::DeliveryMethodAdded {
        shop_id: shop_id(),
        delivery_method: delivery(
            COLISSIMO,
            DeliveryKind::HomeDelivery,
            PaymentMode::Card,
            "4.90",
            0,
            true,
        ),
    }
}

fn presentation() -> DeliveryMethodPresentation {
    DeliveryMethodPresentation {
        description: Some("Livré chez vous en 48 h.".into()),
        background_color: Some("#1A2B3C".into()),
        text_color: Some("#ffffff".into()),
        font: Some("Open Sans".into()),
        icon_url: Some("https://cdn.studio.example/colis.png".into()),
        background_image_url: None,
    }
}

fn present(presentation: DeliveryMethodPresentation) -> CatalogCommand {
    command(CatalogChange::SetDeliveryMethodPresentation {
        delivery_method_id: id(COLISSIMO),
        presentation,
    })
}

#[test]
fn sets_how_a_delivery_method_is_drawn_once_per_change() {
    // Proves the presentation is recorded for an existing method apart from the method itself,
    // a retry appends nothing, and an unknown method is "not found".
    let changed = CatalogEvent::DeliveryMethodPresentationChanged {
        shop_id: shop_id(),
        delivery_method_id: id(COLISSIMO),
        presentation: presentation(),
    };
    let catalog = given::<Catalog>([colissimo_added()])
        .when(present(presentation()))
        .then([changed.clone()]);
    assert_eq!(
        catalog.delivery_presentations.get(&id(COLISSIMO)),
        Some(&presentation())
    );
    given::<Catalog>([colissimo_added(), changed])
        .when(present(presentation()))
        .then([]);
    given::<Catalog>([])
        .when(present(presentation()))
        .then_err_code("not-found");
}

/// Makes one part of a good presentation bad.
type SpoilPresentation = fn(&mut DeliveryMethodPresentation);

#[test]
fn refuses_a_presentation_a_storefront_could_not_draw() {
    // Proves colours are #RRGGBB, a font is a family name (nothing a style sheet could be
    // broken out of), images are http(s) URLs and the description is bounded.
    let spoilers: Vec<(&str, SpoilPresentation)> = vec![
        ("background_color", |p| {
            p.background_color = Some("red".into())
        }),
        ("text_color", |p| p.text_color = Some("#12345G".into())),
        ("font", |p| p.font = Some("Arial; color: red".into())),
        ("icon_url", |p| {
            p.icon_url = Some("javascript:alert(1)".into())
        }),
        ("background_image_url", |p| {
            p.background_image_url = Some("/img/fond.jpg".into())
        }),
        ("description", |p| {
            p.description = Some("x".repeat(DELIVERY_DESCRIPTION_CHARS_MAX + 1))
        }),
    ];
    for (field, spoil) in spoilers {
        let mut bad = presentation();
        spoil(&mut bad);
        given::<Catalog>([colissimo_added()])
            .when(present(bad))
            .then_err(
                |error| matches!(error, DomainError::Validation { field: got, .. } if got == field),
            );
    }
}

fn point_in(group: &str) -> CatalogEvent {
    CatalogEvent::PickupPointAdded {
        shop_id: shop_id(),
        pickup_point: PickupPoint {
            pickup_point_id: id(0xE1),
            name: "Studio Bellecour".into(),
            group: group.into(),
            address: address(),
        },
    }
}

fn group_changed(name: &str, group: PickupGroup) -> CatalogEvent {
    CatalogEvent::PickupGroupChanged {
        shop_id: shop_id(),
        name: name.into(),
        group,
    }
}

#[test]
fn a_pickup_group_is_offered_until_a_manager_says_otherwise() {
    // Proves a group nobody configured is offered; setting it is recorded once per change (the
    // default changes nothing); a hidden group or one outside its dates refuses its points
    // with its own code; an unknown point is "not found".
    let now = crate::testing::test_now();
    let catalog = crate::testing::replay::<Catalog>(&[point_in("Lyon")]);
    assert_eq!(catalog.check_pickup_point(id(0xE1), now), Ok(()));
    given::<Catalog>([point_in("Lyon")])
        .when(command(CatalogChange::SetPickupGroup {
            name: "Lyon".into(),
            group: PickupGroup::default(),
        }))
        .then([]);
    let hidden = PickupGroup {
        visible: false,
        ..PickupGroup::default()
    };
    let catalog = given::<Catalog>([point_in("Lyon")])
        .when(command(CatalogChange::SetPickupGroup {
            name: "Lyon".into(),
            group: hidden.clone(),
        }))
        .then([group_changed("Lyon", hidden)]);
    let refusal = catalog
        .check_pickup_point(id(0xE1), now)
        .expect_err("hidden");
    assert_eq!(refusal.code(), "pickup-point-unavailable");
    let later = PickupGroup {
        available_from: Some(now + chrono::Duration::days(1)),
        ..PickupGroup::default()
    };
    let over = PickupGroup {
        available_until: Some(now),
        ..PickupGroup::default()
    };
    for group in [later, over] {
        let catalog =
            crate::testing::replay::<Catalog>(&[point_in("Lyon"), group_changed("Lyon", group)]);
        let refusal = catalog
            .check_pickup_point(id(0xE1), now)
            .expect_err("out of its dates");
        assert_eq!(refusal.code(), "pickup-point-unavailable");
    }
    let elsewhere = crate::testing::replay::<Catalog>(&[point_in("Villeurbanne")]);
    assert_eq!(elsewhere.check_pickup_point(id(0xE1), now), Ok(()));
    assert_eq!(
        catalog
            .check_pickup_point(id(0xE2), now)
            .map_err(|e| e.code()),
        Err("not-found")
    );
}

#[test]
fn refuses_a_pickup_group_with_dates_backwards_or_a_bad_look() {
    // Proves the group's dates must run forward, its name is a name and its presentation
    // follows the delivery methods' rules.
    let now = crate::testing::test_now();
    let cases = [
        (
            "Lyon",
            PickupGroup {
                available_from: Some(now),
                available_until: Some(now),
                ..PickupGroup::default()
            },
            "available_until",
        ),
        ("  ", PickupGroup::default(), "name"),
        (
            "Lyon",
            PickupGroup {
                presentation: DeliveryMethodPresentation {
                    text_color: Some("noir".into()),
                    ..DeliveryMethodPresentation::default()
                },
                ..PickupGroup::default()
            },
            "text_color",
        ),
    ];
    for (name, group, field) in cases {
        given::<Catalog>([point_in("Lyon")])
            .when(command(CatalogChange::SetPickupGroup {
                name: name.into(),
                group,
            }))
            .then_err(
                |error| matches!(error, DomainError::Validation { field: got, .. } if got == field),
            );
    }
}
