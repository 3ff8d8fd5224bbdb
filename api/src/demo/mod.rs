//! `comptoir serve --demo`: loads the photo-shop fixture through the same decisions the API runs,
//! so that it is in the log, and prints a manager API key to try the API with.
//!
//! Command ids are derived from the fixture, so loading it again (a restart with `--demo`)
//! replays instead of duplicating; only the printed key is new each time. Then `day` runs a day
//! of orders through the API's routes, once.

mod coupons;
mod day;
mod storefront;
pub use day::DayReport;

use comptoir_domain::catalog::{
    self, Catalog, CatalogChange, CatalogCommand, Category, DeliveryKind, DeliveryMethod,
    PaymentMode, PriceTier, Product,
};
use comptoir_domain::customer::{
    self, normalise_email, Customer, CustomerCommand, CustomerProfile,
};
use comptoir_domain::pack::{
    activation_code_stream_id, ActivationCode, ActivationCodeCommand, PackTerms, PackValidity,
    BYTES_PER_GIGABYTE,
};
use comptoir_domain::shop::{
    self, series_registry_stream, Address, DocumentPatterns, LegalIdentity, Role, SeriesRegistry,
    SeriesRegistryCommand, Shop, ShopCommand, ShopProfile,
};
use comptoir_domain::{Aggregate, DomainError};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::net::SocketAddr;
use uuid::Uuid;

use crate::auth::{new_api_key_secret, sha256_hex};
use crate::commands::{execute_many, CommandError, CommandInput};
use crate::server::AppState;

/// The fixture, embedded so that the binary works from any directory.
const FIXTURE: &str = include_str!("../../fixtures/photo-shop.json");
/// The demo shop's pack: a year, 50 GB and 100,000 orders, plenty to try everything.
const DEMO_PACK_DAYS: u32 = 365;
const DEMO_PACK_GIGABYTES: u64 = 50;
const DEMO_PACK_ORDERS: u64 = 100_000;
/// Namespace of the demo's ids.
const DEMO_NAMESPACE: Uuid = Uuid::from_u128(0x3f6e_2a10_8c4d_4e7b_b1a2_9d3c_5e7f_1a2b);

#[derive(Deserialize)]
struct Fixture {
    organisation: FixtureOrganisation,
    shop: FixtureShop,
    categories: Vec<FixtureCategory>,
    products: Vec<FixtureProduct>,
    delivery_methods: Vec<FixtureDelivery>,
    customers: Vec<FixtureCustomer>,
    coupons: Vec<coupons::FixtureCoupon>,
}

#[derive(Deserialize)]
struct FixtureOrganisation {
    name: String,
    siren: String,
    vat_id: String,
    address: Address,
}

#[derive(Deserialize)]
struct FixtureShop {
    name: String,
    currency: String,
    prices_include_tax: bool,
    invoice_pattern: String,
    credit_note_pattern: String,
    delivery_slip_pattern: String,
    opening_hours: String,
    phone: String,
    email: String,
}

#[derive(Deserialize)]
struct FixtureCategory {
    key: String,
    name: String,
}

#[derive(Deserialize)]
struct FixtureTier {
    min_qty: u32,
    unit_price: Decimal,
}

#[derive(Deserialize)]
struct FixtureProduct {
    sku: String,
    category: String,
    name: String,
    vat_rate: Decimal,
    weight_g: u32,
    tiers: Vec<FixtureTier>,
}

#[derive(Deserialize)]
struct FixtureDelivery {
    key: String,
    kind: DeliveryKind,
    name: String,
    payment_mode: PaymentMode,
    price: Decimal,
    min_weight_g: u32,
    visible: bool,
}

#[derive(Deserialize)]
struct FixtureCustomer {
    email: String,
    first_name: String,
    last_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the embedded fixture does not parse: {0}")]
    Fixture(#[from] serde_json::Error),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("the demo day failed: {0}")]
    Day(String),
}

fn demo_id(what: &str) -> Uuid {
    Uuid::new_v5(&DEMO_NAMESPACE, what.as_bytes())
}

/// The demo shop's id: the same on every machine.
pub fn demo_shop_id() -> Uuid {
    demo_id("shop")
}

/// Runs one command on one aggregate with a command id derived from `what`.
async fn apply<A: Aggregate>(
    state: &AppState,
    what: &str,
    stream: &str,
    command: A::Command,
) -> Result<(), DemoError> {
    let input = CommandInput {
        command_id: demo_id(&format!("command:{what}")),
        fingerprint: None,
        actor: Some("demo".into()),
        sequenced: Vec::new(),
    };
    let executed = execute_many(&state.executor(), &input, |session| {
        session.decide::<A>(stream, &command)
    })
    .await;
    match executed {
        Ok(_) => Ok(()),
        // Loaded before under other command ids (e.g. by an older build): already there.
        Err(CommandError::Domain(DomainError::AlreadyExists { .. })) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Loads the fixture and returns a fresh manager API key secret for the demo shop; `address` is
/// the one the server listens on, for the line that shows how to try it.
pub async fn load(state: &AppState, address: SocketAddr) -> Result<String, DemoError> {
    let fixture: Fixture = serde_json::from_str(FIXTURE)?;
    let shop_id = demo_shop_id();
    let profile = shop_profile(&fixture, shop_id);
    let shop_stream = shop::stream_id(shop_id);
    let registry = series_registry_stream(&profile.organisation.siren);
    let claim = SeriesRegistryCommand::Claim {
        shop_id,
        patterns: profile.document_patterns.clone(),
    };
    apply::<Shop>(
        state,
        "shop",
        &shop_stream,
        ShopCommand::Create(Box::new(profile)),
    )
    .await?;
    // The demo shop's series, as `POST /v1/shops` claims them (nothing new when already there).
    apply::<SeriesRegistry>(state, "series", &registry, claim).await?;
    let shop = &fixture.shop;
    let storefront = storefront::settings(&shop.email, &shop.phone, &shop.opening_hours);
    let command = ShopCommand::SetStorefront(Box::new(storefront));
    apply::<Shop>(state, "storefront", &shop_stream, command).await?;
    load_catalog(state, &fixture, shop_id).await?;
    for person in &fixture.customers {
        let email = normalise_email(&person.email).map_err(CommandError::from)?;
        let customer_id = customer::customer_id_for(shop_id, &email);
        let command = CustomerCommand::Register {
            shop_id,
            email: person.email.clone(),
            profile: CustomerProfile {
                first_name: person.first_name.clone(),
                last_name: person.last_name.clone(),
                phone: None,
                address: None,
                marketing_consent: false,
                extra: Default::default(),
            },
            // The demo shop keeps the default form, which these profiles fill.
            form: Default::default(),
        };
        let stream = customer::stream_id(customer_id);
        apply::<Customer>(state, &format!("customer:{email}"), &stream, command).await?;
    }
    activate_demo_pack(state, shop_id).await?;
    let secret = new_api_key_secret(shop_id);
    let key_id = Uuid::now_v7();
    let command = ShopCommand::CreateApiKey {
        key_id,
        role: Role::Manager,
        label: "demo manager".into(),
        secret_hash: sha256_hex(&secret),
    };
    apply::<Shop>(state, &format!("key:{key_id}"), &shop_stream, command).await?;
    println!("demo shop {shop_id} loaded; manager API key: {secret}");
    println!("try: curl -H 'Authorization: Bearer {secret}' http://{address}/v1/shops/{shop_id}/products (docs at http://{address}/docs)");
    Ok(secret)
}

/// Creates the fixture's coupons and runs the demo day through `router` with the key `secret`
/// (see `day`); `None` when the shop has orders already (a restart with `--demo`).
pub async fn run_day(router: axum::Router, secret: &str) -> Result<Option<DayReport>, DemoError> {
    let fixture: Fixture = serde_json::from_str(FIXTURE)?;
    day::run(router, demo_shop_id(), secret, &fixture.coupons).await
}

/// Shops take orders only with an active pack, so the demo mints a code for a year's pack and
/// redeems it, through the same decisions as the pack routes (the code itself is never shown).
async fn activate_demo_pack(state: &AppState, shop_id: Uuid) -> Result<(), DemoError> {
    let code_hash = sha256_hex(&format!("demo-pack:{shop_id}"));
    let terms = PackTerms {
        level: "Demo".into(),
        validity: PackValidity::Days(DEMO_PACK_DAYS),
        transfer_allowance_bytes: DEMO_PACK_GIGABYTES * BYTES_PER_GIGABYTE,
        order_allowance: DEMO_PACK_ORDERS,
    };
    let mint = ActivationCodeCommand::Mint {
        code_hash: code_hash.clone(),
        terms,
        minted_by: "demo".into(),
    };
    let code_stream = activation_code_stream_id(&code_hash);
    apply::<ActivationCode>(state, "pack-code", &code_stream, mint).await?;
    let input = CommandInput {
        command_id: demo_id("command:pack-activation"),
        fingerprint: None,
        actor: Some("demo".into()),
        sequenced: Vec::new(),
    };
    execute_many(&state.executor(), &input, |session| {
        crate::routes::packs::decide_activation(session, shop_id, &code_hash)
    })
    .await?;
    Ok(())
}

fn shop_profile(fixture: &Fixture, shop_id: Uuid) -> ShopProfile {
    ShopProfile {
        shop_id,
        name: fixture.shop.name.clone(),
        organisation: LegalIdentity {
            name: fixture.organisation.name.clone(),
            address: fixture.organisation.address.clone(),
            siren: fixture.organisation.siren.clone(),
            vat_id: fixture.organisation.vat_id.clone(),
            legal_form: None,
            share_capital: None,
            rcs_city: None,
            vat_exemption_mention: None,
        },
        currency: fixture.shop.currency.clone(),
        prices_include_tax: fixture.shop.prices_include_tax,
        document_patterns: DocumentPatterns {
            invoice: fixture.shop.invoice_pattern.clone(),
            credit_note: fixture.shop.credit_note_pattern.clone(),
            delivery_slip: fixture.shop.delivery_slip_pattern.clone(),
            quote: None,
            purchase_order: None,
        },
        payment_terms: "Payable à la commande".into(),
        time_zone: None,
        fiscal_year_end: None,
    }
}

async fn load_catalog(state: &AppState, fixture: &Fixture, shop_id: Uuid) -> Result<(), DemoError> {
    let stream = catalog::stream_id(shop_id);
    let change = |change| CatalogCommand { shop_id, change };
    for category in &fixture.categories {
        let added = CatalogChange::AddCategory(Category {
            category_id: demo_id(&format!("category:{}", category.key)),
            name: category.name.clone(),
        });
        apply::<Catalog>(
            state,
            &format!("category:{}", category.key),
            &stream,
            change(added),
        )
        .await?;
    }
    for product in &fixture.products {
        let added = CatalogChange::AddProduct(Product {
            product_id: demo_id(&format!("product:{}", product.sku)),
            sku: product.sku.clone(),
            name: product.name.clone(),
            category_id: demo_id(&format!("category:{}", product.category)),
            vat_rate: product.vat_rate,
            weight_g: product.weight_g,
            tiers: product
                .tiers
                .iter()
                .map(|t| PriceTier {
                    min_quantity: t.min_qty,
                    unit_price: t.unit_price,
                })
                .collect(),
        });
        apply::<Catalog>(
            state,
            &format!("product:{}", product.sku),
            &stream,
            change(added),
        )
        .await?;
    }
    for method in &fixture.delivery_methods {
        let added = CatalogChange::AddDeliveryMethod(DeliveryMethod {
            delivery_method_id: demo_id(&format!("delivery:{}", method.key)),
            name: method.name.clone(),
            kind: method.kind,
            payment_mode: method.payment_mode,
            visible: method.visible,
            available_from: None,
            available_until: None,
            price: method.price,
            vat_rate: Decimal::from(20),
            min_weight_g: method.min_weight_g,
        });
        apply::<Catalog>(
            state,
            &format!("delivery:{}", method.key),
            &stream,
            change(added),
        )
        .await?;
    }
    Ok(())
}
