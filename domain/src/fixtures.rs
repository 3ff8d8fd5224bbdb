//! A small photo shop (after `shared/fixtures/photo-shop.json`) for the unit tests of this crate.

use crate::catalog::{
    Catalog, CatalogChange, CatalogCommand, CatalogEvent, Category, DeliveryKind, DeliveryMethod,
    PaymentMode, PriceTier, Product,
};
use crate::coupon::{
    Audience, CodeRequest, Coupon, CouponCodeRegistry, CouponCommand, CouponDefinition, CouponScope,
};
use crate::shop::{Address, DocumentPatterns, LegalIdentity, ShopProfile};
use crate::testing::{test_now, TestEnvironment};
use crate::{fold, Aggregate};
use chrono::Duration;
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal literal")
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub const SHOP: u128 = 0x5100;
pub const TIRAGES: u128 = 0xC001;
pub const LIVRES: u128 = 0xC002;
pub const TIRAGE_10X15: u128 = 0xA001;
pub const GUIDE: u128 = 0xA002;
pub const MUG: u128 = 0xA003;
pub const RETRAIT: u128 = 0xD001;
pub const COLISSIMO: u128 = 0xD002;
pub const COURSIER: u128 = 0xD003;

pub fn shop_id() -> Uuid {
    id(SHOP)
}

pub fn address() -> Address {
    Address {
        line1: "12 rue des Arts".into(),
        line2: None,
        postal_code: "69002".into(),
        city: "Lyon".into(),
        country: "FR".into(),
    }
}

pub fn shop_profile() -> ShopProfile {
    ShopProfile {
        shop_id: shop_id(),
        name: "Studio Lumière — Lyon Presqu'île".into(),
        organisation: LegalIdentity {
            name: "Studio Lumière SARL".into(),
            address: address(),
            siren: "812345678".into(),
            vat_id: "FR45812345678".into(),
            legal_form: None,
            share_capital: None,
            rcs_city: None,
            vat_exemption_mention: None,
        },
        currency: "EUR".into(),
        prices_include_tax: true,
        document_patterns: DocumentPatterns {
            invoice: "FA-{YYYY}-{seq:06}".into(),
            credit_note: "AV-{YYYY}-{seq:06}".into(),
            delivery_slip: "BL-{YYYY}-{seq:06}".into(),
            quote: None,
            purchase_order: None,
        },
        payment_terms: "Payable à la commande".into(),
        time_zone: None,
        fiscal_year_end: None,
    }
}

pub fn tiers(pairs: &[(u32, &str)]) -> Vec<PriceTier> {
    pairs
        .iter()
        .map(|(min_quantity, price)| PriceTier {
            min_quantity: *min_quantity,
            unit_price: d(price),
        })
        .collect()
}

pub fn product(
    n: u128,
    sku: &str,
    category: u128,
    vat_rate: &str,
    weight_g: u32,
    prices: &[(u32, &str)],
) -> Product {
    Product {
        product_id: id(n),
        sku: sku.into(),
        name: format!("Produit {sku}"),
        category_id: id(category),
        vat_rate: d(vat_rate),
        weight_g,
        tiers: tiers(prices),
    }
}

pub fn delivery(
    n: u128,
    kind: DeliveryKind,
    mode: PaymentMode,
    price: &str,
    min_weight_g: u32,
    visible: bool,
) -> DeliveryMethod {
    DeliveryMethod {
        delivery_method_id: id(n),
        name: format!("Livraison {n:x}"),
        kind,
        payment_mode: mode,
        visible,
        available_from: None,
        available_until: None,
        price: d(price),
        vat_rate: d("20"),
        min_weight_g,
    }
}

/// The changes that build the test catalog, in order.
pub fn catalog_changes() -> Vec<CatalogChange> {
    vec![
        CatalogChange::AddCategory(Category {
            category_id: id(TIRAGES),
            name: "Tirages photo".into(),
        }),
        CatalogChange::AddCategory(Category {
            category_id: id(LIVRES),
            name: "Livres".into(),
        }),
        CatalogChange::AddProduct(product(
            TIRAGE_10X15,
            "TIR-10x15",
            TIRAGES,
            "20",
            5,
            &[(1, "0.35"), (50, "0.29"), (100, "0.22"), (500, "0.18")],
        )),
        CatalogChange::AddProduct(product(
            GUIDE,
            "GUIDE-LYON",
            LIVRES,
            "5.5",
            350,
            &[(1, "18.50")],
        )),
        CatalogChange::AddProduct(product(
            MUG,
            "MUG-BLANC",
            TIRAGES,
            "20",
            400,
            &[(1, "14.90"), (6, "12.90")],
        )),
        CatalogChange::AddDeliveryMethod(delivery(
            RETRAIT,
            DeliveryKind::StorePickup,
            PaymentMode::InStore,
            "0.00",
            0,
            true,
        )),
        CatalogChange::AddDeliveryMethod(delivery(
            COLISSIMO,
            DeliveryKind::HomeDelivery,
            PaymentMode::Card,
            "4.90",
            0,
            true,
        )),
        CatalogChange::AddDeliveryMethod(delivery(
            COURSIER,
            DeliveryKind::HomeDelivery,
            PaymentMode::Card,
            "9.00",
            500,
            true,
        )),
    ]
}

/// The events of the test catalog, produced by the catalog's own rules.
pub fn catalog_events() -> Vec<CatalogEvent> {
    let env = TestEnvironment::new();
    let mut state = Catalog::default();
    let mut events = Vec::new();
    for change in catalog_changes() {
        let command = CatalogCommand {
            shop_id: shop_id(),
            change,
        };
        let new_events = state
            .decide(&command, &env)
            .expect("fixture catalog is valid");
        state = new_events.iter().fold(state, |s, e| s.evolve(e));
        events.extend(new_events);
    }
    events
}

pub fn catalog() -> Catalog {
    fold::<Catalog>(&catalog_events())
}

pub const COUPON: u128 = 0xC0C0;

/// A coupon of the test shop for all customers, without usage limits, valid from a day before
/// `test_now` to 30 days after, with the typed code TIRAGES10.
pub fn coupon_with(scope: CouponScope, min_order_amount: &str) -> Coupon {
    let env = TestEnvironment::new();
    let definition = CouponDefinition {
        name: "Rentrée tirages".into(),
        starts_at: test_now() - Duration::days(1),
        ends_at: test_now() + Duration::days(30),
        scope,
        min_order_amount: d(min_order_amount),
        audience: Audience::AllCustomers {
            max_total_uses: None,
            max_uses_per_customer: None,
        },
    };
    let commands = [
        CouponCommand::Create {
            coupon_id: id(COUPON),
            shop_id: shop_id(),
            definition: Box::new(definition),
        },
        CouponCommand::GenerateCodes {
            request: CodeRequest::Typed("TIRAGES10".into()),
            registry: Arc::new(CouponCodeRegistry::default()),
        },
    ];
    commands
        .into_iter()
        .fold(Coupon::default(), |coupon, command| {
            let events = coupon
                .decide(&command, &env)
                .expect("fixture coupon is valid");
            events.iter().fold(coupon, |c, e| c.evolve(e))
        })
}
