//! The on-disk event format is a boundary: `tests/golden/` holds one serialized example of every
//! event type, and these tests prove each still deserializes and serializes back unchanged.
//!
//! The examples come from a full scenario run through the public API (which also shows how the glue
//! chains aggregates). A file named `{kind}.{EventType}+{variant}.json` pins another shape of the
//! same event type (e.g. `order.OrderPlaced+coupon.json`: an order placed with a coupon), added when
//! an optional part joined the format, so both the old and the new shape stay pinned. A shape the
//! code no longer writes is pinned by hand (`order.OrderCancelled+refund_due_only.json`: a
//! cancellation from before refunds per method) and read by a test saying what it means. To regenerate after a deliberate format change (bump `schema_version` then):
//! `COMPTOIR_BLESS=1 cargo test -p comptoir-domain --test golden -- --test-threads=1`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use comptoir_domain::catalog::*;
use comptoir_domain::coupon::*;
use comptoir_domain::customer::{Customer, CustomerCommand, CustomerEvent, CustomerProfile};
use comptoir_domain::customer_messages::{
    CustomerMessages, MessageEvent, MessageOrder, MessagesCommand, NewMessage, Side,
};
use comptoir_domain::documents::*;
use comptoir_domain::order::*;
use comptoir_domain::order_files::{OrderFiles, OrderFilesCommand, OrderFilesEvent};
use comptoir_domain::pack::*;
use comptoir_domain::pricing::{price_basket, BasketLine};
use comptoir_domain::shop::*;
use comptoir_domain::store_credit::{StoreCredit, StoreCreditCommand, StoreCreditEvent};
use comptoir_domain::testing::TestEnvironment;
use comptoir_domain::{Aggregate, DomainEvent};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Collects the first example of each event type, keyed by file name.
#[derive(Default)]
struct Samples(BTreeMap<String, serde_json::Value>);

impl Samples {
    fn run<A: Aggregate>(&mut self, state: A, command: A::Command) -> A {
        self.run_named("", state, command)
    }

    fn run_named<A: Aggregate>(&mut self, suffix: &str, state: A, command: A::Command) -> A {
        let env = TestEnvironment::at(
            Utc.with_ymd_and_hms(2025, 3, 14, 10, 0, 0)
                .single()
                .expect("date"),
        );
        let events = state
            .decide(&command, &env)
            .expect("scenario command succeeds");
        for event in &events {
            let name = format!("{}.{}{suffix}.json", A::STREAM_KIND, event.event_type());
            let value = serde_json::to_value(event).expect("serializes");
            self.0.entry(name).or_insert(value);
        }
        events.iter().fold(state, |s, e| s.evolve(e))
    }

    /// Like `run`, but the events are samples of the shape named `variant`.
    fn run_variant<A: Aggregate>(&mut self, variant: &str, state: A, command: A::Command) -> A {
        self.run_named(&format!("+{variant}"), state, command)
    }
}

fn address() -> Address {
    Address {
        line1: "12 rue des Arts".into(),
        line2: None,
        postal_code: "69002".into(),
        city: "Lyon".into(),
        country: "FR".into(),
    }
}

fn profile() -> ShopProfile {
    ShopProfile {
        shop_id: id(0x5100),
        name: "Studio Lumière".into(),
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

fn catalog_changes() -> Vec<CatalogChange> {
    let mug = Product {
        product_id: id(0xA1),
        sku: "MUG-BLANC".into(),
        name: "Mug personnalisé".into(),
        category_id: id(0xC1),
        vat_rate: d("20"),
        weight_g: 400,
        tiers: vec![
            PriceTier {
                min_quantity: 1,
                unit_price: d("14.90"),
            },
            PriceTier {
                min_quantity: 6,
                unit_price: d("12.90"),
            },
        ],
    };
    let guide = Product {
        product_id: id(0xA2),
        sku: "GUIDE-LYON".into(),
        name: "Guide".into(),
        vat_rate: d("5.5"),
        weight_g: 350,
        tiers: vec![PriceTier {
            min_quantity: 1,
            unit_price: d("18.50"),
        }],
        ..mug.clone()
    };
    let method = |n: u128, kind: DeliveryKind, price: &str| DeliveryMethod {
        delivery_method_id: id(n),
        name: format!("Livraison {n}"),
        kind,
        payment_mode: PaymentMode::Card,
        visible: true,
        available_from: None,
        available_until: Some(
            Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
                .single()
                .expect("date"),
        ),
        price: d(price),
        vat_rate: d("20"),
        min_weight_g: 0,
    };
    let changes = vec![
        CatalogChange::AddCategory(Category {
            category_id: id(0xC1),
            name: "Objets photo".into(),
        }),
        CatalogChange::AddProduct(mug.clone()),
        CatalogChange::AddProduct(guide),
        CatalogChange::UpdateProduct(Product {
            name: "Mug blanc personnalisé".into(),
            ..mug
        }),
        CatalogChange::AddDeliveryMethod(method(0xD1, DeliveryKind::HomeDelivery, "4.90")),
        CatalogChange::AddDeliveryMethod(method(0xD2, DeliveryKind::StorePickup, "0.00")),
        CatalogChange::AddDeliveryMethod(method(0xD3, DeliveryKind::HomeDelivery, "9.00")),
        CatalogChange::SetDeliveryMethodVisibility {
            delivery_method_id: id(0xD3),
            visible: false,
        },
        CatalogChange::AddPickupPoint(PickupPoint {
            pickup_point_id: id(0xE1),
            name: "Relais Bellecour".into(),
            group: "Lyon".into(),
            address: address(),
        }),
        CatalogChange::AddProduct(Product {
            product_id: id(0xA9),
            sku: "OLD".into(),
            ..Product {
                tiers: vec![PriceTier {
                    min_quantity: 1,
                    unit_price: d("1"),
                }],
                ..catalog_placeholder()
            }
        }),
        CatalogChange::RetireProduct {
            product_id: id(0xA9),
        },
    ];
    changes
}

fn catalog_scenario(samples: &mut Samples) -> Catalog {
    let shop_id = id(0x5100);
    let catalog = catalog_changes()
        .into_iter()
        .fold(Catalog::default(), |state, change| {
            samples.run(state, CatalogCommand { shop_id, change })
        });
    // Updates run on a copy, so the orders and documents below keep their golden shapes.
    catalog_updates(&catalog)
        .into_iter()
        .fold(catalog.clone(), |state, change| {
            samples.run(state, CatalogCommand { shop_id, change })
        });
    catalog
}

fn catalog_updates(catalog: &Catalog) -> Vec<CatalogChange> {
    let mut method = catalog.delivery_methods[&id(0xD1)].clone();
    method.name = "Colissimo suivi".into();
    method.price = d("5.90");
    method.min_weight_g = 100;
    let mut point = catalog.pickup_points[&id(0xE1)].clone();
    point.address.line1 = "3 place Bellecour".into();
    let group_name = point.group.clone();
    vec![
        CatalogChange::RenameCategory {
            category_id: id(0xC1),
            name: "Objets et cadeaux photo".into(),
        },
        CatalogChange::ChangeDeliveryMethodTerms(method),
        CatalogChange::UpdatePickupPoint(point),
        CatalogChange::SetPickupGroup {
            name: group_name,
            group: PickupGroup {
                visible: true,
                available_from: Some(
                    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
                        .single()
                        .expect("date"),
                ),
                available_until: None,
                presentation: DeliveryMethodPresentation {
                    description: Some("Retrait sous 1 heure.".into()),
                    ..DeliveryMethodPresentation::default()
                },
            },
        },
        CatalogChange::SetDeliveryMethodPresentation {
            delivery_method_id: id(0xD1),
            presentation: DeliveryMethodPresentation {
                description: Some("Livré chez vous en 48 h.".into()),
                background_color: Some("#1A2B3C".into()),
                text_color: Some("#FFFFFF".into()),
                font: Some("Open Sans".into()),
                icon_url: Some("https://cdn.studio-lumiere.example/colis.png".into()),
                background_image_url: Some("https://cdn.studio-lumiere.example/fond.jpg".into()),
            },
        },
        CatalogChange::SetProductDetails {
            product_id: *catalog.products.keys().next().expect("a product"),
            details: ProductDetails {
                visible: true,
                description: Some("Papier brillant.\nTirage sous 1 heure.".into()),
                images: vec!["https://cdn.studio-lumiere.example/tirage.jpg".into()],
            },
        },
    ]
}

fn catalog_placeholder() -> Product {
    Product {
        product_id: id(0),
        sku: "X".into(),
        name: "Ancien".into(),
        category_id: id(0xC1),
        vat_rate: d("20"),
        weight_g: 1,
        tiers: vec![],
    }
}

fn place(
    order: u128,
    delivery: u128,
    catalog: &Arc<Catalog>,
    customer_id: Option<Uuid>,
) -> OrderCommand {
    OrderCommand::Place(Box::new(PlaceOrder {
        order_id: id(order),
        shop_id: id(0x5100),
        customer: OrderCustomer {
            customer_id,
            email: "claire.martin@example.fr".into(),
            name: "Claire Martin".into(),
            billing_address: Some(address()),
        },
        lines: vec![
            BasketLine {
                sku: "MUG-BLANC".into(),
                quantity: 2,
            },
            BasketLine {
                sku: "GUIDE-LYON".into(),
                quantity: 1,
            },
        ],
        delivery_method_id: id(delivery),
        pickup_point_id: (delivery == 0xD2).then(|| id(0xE1)),
        shipping_address: (delivery != 0xD2).then(address),
        catalog: catalog.clone(),
        prices_include_tax: true,
        currency: "EUR".into(),
        coupon: None,
        email_moved_to: None,
    }))
}

/// The whole life of a photo-shop order, through every aggregate.
fn scenario() -> Samples {
    let mut samples = Samples::default();
    let store_file = OrderFilesCommand::Store {
        shop_id: id(0x5100),
        order_id: id(0x0D1),
        name: "IMG_0042.jpg".into(),
        sha256: "5f".repeat(32),
        bytes: 2_456_789,
    };
    samples.run(OrderFiles::default(), store_file);
    let shop = samples.run(Shop::default(), ShopCommand::Create(Box::new(profile())));
    samples.run(
        SeriesRegistry::default(),
        SeriesRegistryCommand::Claim {
            shop_id: id(0x5A),
            patterns: profile().document_patterns,
        },
    );
    let mut own_patterns = profile();
    own_patterns.document_patterns.quote = Some("DEV-{YY}-{seq:05}".into());
    own_patterns.document_patterns.purchase_order = Some("CMD-{YY}-{seq:05}".into());
    let create = ShopCommand::Create(Box::new(own_patterns));
    samples.run_variant("patterns", Shop::default(), create);
    // A company that states its legal form, share capital and RCS city, and a VAT exemption.
    let mut full_identity = profile();
    full_identity.organisation.legal_form = Some("SARL".into());
    full_identity.organisation.share_capital = Some(d("10000.00"));
    full_identity.organisation.rcs_city = Some("Lyon".into());
    full_identity.organisation.vat_exemption_mention =
        Some("TVA non applicable, art. 293 B du CGI".into());
    let create = ShopCommand::Create(Box::new(full_identity));
    samples.run_variant("legal_mentions", Shop::default(), create);
    let key = ShopCommand::CreateApiKey {
        key_id: id(0xE7),
        role: Role::Storefront,
        label: "Site".into(),
        secret_hash: "9f86d081884c7d659a2feaa0c55ad015".into(),
    };
    let shop = samples.run(shop, key);
    let shop = samples.run(shop, ShopCommand::RevokeApiKey { key_id: id(0xE7) });
    let mut mapping = LedgerMapping {
        goods_sales: "7071".into(),
        ..Default::default()
    };
    mapping.vat_by_rate.insert("20".into(), "4457120".into());
    mapping.category_accounts.insert(id(0xCA7), "7072".into());
    let shop = samples.run(shop, ShopCommand::SetLedgerMapping(Box::new(mapping)));
    let shop = samples.run(
        shop,
        ShopCommand::SetLoyaltyRule {
            points_per_unit: d("0.5"),
        },
    );
    let profile = shop.profile.clone().expect("shop created");
    // A shop created with a zone, then moved: kept apart so the documents below keep the shape
    // of a seller without a zone (their golden files pin it).
    let zoned = ShopProfile {
        time_zone: Some("Europe/Paris".into()),
        ..self::profile()
    };
    let zoned_shop = samples.run_variant(
        "time_zone",
        Shop::default(),
        ShopCommand::Create(Box::new(zoned)),
    );
    // A shop closing its fiscal year on 30 June, kept apart like the one above.
    let closing_in_june = ShopProfile {
        fiscal_year_end: Some("06-30".into()),
        ..self::profile()
    };
    samples.run_variant(
        "fiscal_year_end",
        Shop::default(),
        ShopCommand::Create(Box::new(closing_in_june)),
    );
    let move_zone = ShopCommand::SetTimeZone {
        time_zone: "America/Martinique".into(),
    };
    let moved_shop = samples.run(zoned_shop, move_zone);
    // The same shop moves and takes a new invoice pattern (told apart from the old one by its
    // prefix); kept apart too, so the documents below keep the first identity.
    let mut update = moved_shop.profile.clone().expect("shop created").editable();
    update.organisation.address.line1 = "40 quai Saint-Antoine".into();
    update.organisation.vat_id = "FR45812345679".into();
    update.document_patterns.invoice = "F{YYYY}/{seq:05}".into();
    let update_profile = ShopCommand::UpdateProfile {
        update: Box::new(update),
        invoice_issued: false,
    };
    let updated_shop = samples.run(moved_shop, update_profile);
    let form = AccountForm {
        phone: FieldRule::Optional,
        address: FieldRule::Mandatory,
        extra_fields: vec![ExtraField {
            key: "civilite".into(),
            label: "Civilité".into(),
            description: Some("Pour vous adresser nos courriers".into()),
            options: vec!["M.".into(), "Mme".into()],
            mandatory: false,
        }],
    };
    let shop_with_form = samples.run(
        updated_shop,
        ShopCommand::SetAccountForm(Box::new(form.clone())),
    );
    samples.run(
        shop_with_form,
        ShopCommand::SetStorefront(Box::new(storefront_settings())),
    );
    let catalog = Arc::new(catalog_scenario(&mut samples));

    let customer_profile = CustomerProfile {
        first_name: "Claire".into(),
        last_name: "Martin".into(),
        phone: None,
        address: Some(address()),
        marketing_consent: false,
        extra: BTreeMap::new(),
    };
    let register = CustomerCommand::Register {
        shop_id: id(0x5100),
        email: "Claire.Martin@example.fr".into(),
        profile: customer_profile.clone(),
        form: AccountForm::default(),
    };
    let customer = samples.run(Customer::default(), register);
    let changed = CustomerProfile {
        phone: Some("+33 6 12 34 56 78".into()),
        ..customer_profile
    };
    let customer = samples.run(
        customer,
        CustomerCommand::ChangeProfile {
            profile: changed.clone(),
            form: AccountForm::default(),
        },
    );
    // A consent given later pins the profile's newer shape.
    let consented = CustomerProfile {
        marketing_consent: true,
        ..changed
    };
    let customer = samples.run_variant(
        "consent",
        customer,
        CustomerCommand::ChangeProfile {
            profile: consented.clone(),
            form: AccountForm::default(),
        },
    );
    // Answers to the shop's own fields pin the profile's newest shape.
    let answered = CustomerProfile {
        extra: BTreeMap::from([("civilite".to_owned(), "Mme".to_owned())]),
        ..consented
    };
    let customer = samples.run_variant(
        "extra",
        customer,
        CustomerCommand::ChangeProfile {
            profile: answered,
            form,
        },
    );
    let customer_id = customer.registered.as_ref().map(|r| r.customer_id);
    let registered = customer.registered.clone().expect("registered");
    quote_scenario(&mut samples, &profile, &catalog, &registered);
    let customer = samples.run(
        customer,
        CustomerCommand::ChangeEmail {
            email: "Claire.Martin@Atelier.fr".into(),
        },
    );
    let customer = samples.run(customer, CustomerCommand::RecordWelcomeMailed);
    samples.run(
        Customer::default(),
        CustomerCommand::ClaimEmail {
            shop_id: id(0x5100),
            email: "claire.martin@atelier.fr".into(),
            for_customer: customer_id.expect("registered"),
        },
    );
    assert_eq!(
        customer.registered.as_ref().map(|r| r.email.as_str()),
        Some("claire.martin@atelier.fr")
    );

    let customer_id = customer_id.expect("registered");
    messages_scenario(&mut samples, customer_id);
    let (amount, note_number) =
        home_delivery_scenario(&mut samples, &profile, &catalog, customer_id);
    later_orders_scenario(&mut samples, &catalog, customer_id, amount, note_number);
    let coupon = coupon_scenario(&mut samples, &catalog);
    coupon_order_scenario(&mut samples, &profile, &catalog, coupon);
    pack_scenario(&mut samples);
    print_job_scenario(&mut samples, &catalog);
    report_schedule_scenario(&mut samples);
    banner_scenario(&mut samples);
    closure_scenario(&mut samples);
    staff_scenario(&mut samples);
    samples
}

/// A staff member created by the owner with a seat of the organisation's plan, given a second
/// shop then not, signing in after a wrong password, choosing a password, accepting the terms,
/// resetting the password by mail, signing out, locked and unlocked, archived and unarchived.
fn staff_scenario(samples: &mut Samples) {
    use comptoir_domain::customer::normalise_email;
    use comptoir_domain::staff::*;
    let email = normalise_email("Anne.Dupont@studio-lumiere.fr").expect("email");
    let staff_id = staff_id_for(&email);
    let roster = samples.run(
        StaffRoster::default(),
        StaffRosterCommand::SetSeats { seats: 10 },
    );
    let roster = samples.run(roster, StaffRosterCommand::Join { staff_id });
    let roster = samples.run(roster, StaffRosterCommand::TakeSeat { staff_id });
    samples.run(roster, StaffRosterCommand::ReleaseSeat { staff_id });
    let create = StaffCommand::Create {
        staff_id,
        organisation_siren: "812345678".into(),
        email,
        first_name: "Anne".into(),
        last_name: "Dupont".into(),
        grants: vec![StaffGrant {
            shop_id: id(0x5100),
            role: StaffRole::Manager,
        }],
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        created_by: "owner@studio-lumiere.fr".into(),
    };
    let by = || "owner@studio-lumiere.fr".to_owned();
    let account = samples.run(StaffAccount::default(), create);
    let grant = StaffCommand::Grant {
        shop_id: id(0x5101),
        role: StaffRole::Employee,
        by: by(),
    };
    let account = samples.run(account, grant);
    let revoke = StaffCommand::Revoke {
        shop_id: id(0x5101),
        by: by(),
    };
    let account = samples.run(account, revoke);
    let sign_in = |password_matches, presented_hash| StaffCommand::SignIn {
        session_id: id(0x5E55),
        token_hash: "ab".repeat(32),
        password_matches,
        device: SignInDevice {
            presented_hash,
            fresh_hash: "cd".repeat(32),
        },
    };
    let account = samples.run(account, sign_in(false, None));
    let account = samples.run(account, sign_in(true, None));
    let account = samples.run(account, sign_in(false, Some("cd".repeat(32))));
    let change = StaffCommand::ChangePassword {
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".into(),
        keep_session: Some(id(0x5E55)),
    };
    let account = samples.run(account, change);
    let account = samples.run(account, StaffCommand::AcceptTerms { version: 1 });
    let account = samples.run(
        account,
        StaffCommand::SignOut {
            session_id: id(0x5E55),
        },
    );
    let request = StaffCommand::RequestPasswordReset {
        token_hash: "cd".repeat(32),
    };
    let account = samples.run(account, request);
    let complete = StaffCommand::CompletePasswordReset {
        token_hash: "cd".repeat(32),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$cmVzZXQ$cmVzZXRoYXNo".into(),
    };
    let account = samples.run(account, complete);
    let temporary = StaffCommand::IssueTemporaryPassword {
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$dGVtcHNhbHQ$dGVtcGhhc2g".into(),
        by: by(),
    };
    let account = samples.run(account, temporary);
    let account = samples.run(account, StaffCommand::Lock { by: by() });
    let account = samples.run(account, StaffCommand::Unlock { by: by() });
    let account = samples.run(account, StaffCommand::Archive { by: by() });
    samples.run(account, StaffCommand::Unarchive { by: by() });
}

/// A day closure with an invoice at two VAT rates, a credit note refunded in cash and a card
/// payment.
fn closure_scenario(samples: &mut Samples) {
    use comptoir_domain::closure::*;
    use comptoir_domain::pricing::{Totals, VatSubtotal};
    let subtotal = |rate: &str, net: &str, vat: &str| VatSubtotal {
        vat_rate: d(rate),
        base_excl_vat: d(net),
        vat_amount: d(vat),
        total_incl_vat: d(net) + d(vat),
    };
    let invoice = Totals {
        vat_breakdown: vec![
            subtotal("5.5", "20.00", "1.10"),
            subtotal("20", "10.00", "2.00"),
        ],
        total_excl_vat: d("30.00"),
        total_vat: d("3.10"),
        total_incl_vat: d("33.10"),
    };
    let credit_note = Totals {
        vat_breakdown: vec![subtotal("20", "5.00", "1.00")],
        total_excl_vat: d("5.00"),
        total_vat: d("1.00"),
        total_incl_vat: d("6.00"),
    };
    let mut totals = ClosureTotals::default();
    totals.add_invoice("FA-2025-000001", &invoice);
    totals.add_credit_note(
        "AV-2025-000001",
        &credit_note,
        Settlement::Refund {
            method: PaymentMethod::Cash,
        },
    );
    totals.add_payment(PaymentMethod::Card, d("33.10"));
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 13).expect("date");
    let close = ClosureCommand::Close(Box::new(ClosePeriod {
        shop_id: id(0x5100),
        period: ClosurePeriod::containing(ClosureKind::Day, day, &Default::default()).expect("day"),
        time_zone: comptoir_domain::calendar::default_time_zone(),
        fiscal_calendar: Default::default(),
        covers_up_to: 42,
        log_hash: "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b".into(),
        totals,
        activity: Activity {
            scanned_from: None,
            first_active_day_before: None,
            last_active_day_in: Some(day),
        },
    }));
    samples.run(Closures::default(), close);
}

/// A weekly report schedule: created, changed to monthly, one month sent, deleted.
fn report_schedule_scenario(samples: &mut Samples) {
    use comptoir_domain::report_schedule::*;
    let settings = ReportSettings {
        recipients: vec!["gerant@studio-lumiere.fr".into()],
        frequency: Frequency::Weekly,
        format: ReportFormat::Csv,
        group_by: ReportGrouping::OrderDay,
    };
    let create = ReportScheduleCommand::Create {
        shop_id: id(0x5100),
        schedule_id: id(0x5C4E),
        settings: settings.clone(),
    };
    let schedule = samples.run(ReportSchedule::default(), create);
    let monthly = ReportSettings {
        frequency: Frequency::Monthly,
        format: ReportFormat::Xlsx,
        ..settings
    };
    let schedule = samples.run(
        schedule,
        ReportScheduleCommand::Update {
            settings: monthly.clone(),
        },
    );
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2025, m, d).expect("date");
    let sent = ReportScheduleCommand::RecordSent {
        period: ReportPeriod {
            starts_on: day(2, 1),
            ends_before: day(3, 1),
        },
        recipients: monthly.recipients,
    };
    let schedule = samples.run(schedule, sent);
    samples.run(schedule, ReportScheduleCommand::Delete);
}

/// A Christmas banner pointing at a product with a "from" price: created, changed, disabled,
/// enabled again, deleted.
fn banner_scenario(samples: &mut Samples) {
    use comptoir_domain::banner::*;
    let at = |text: &str| text.parse::<DateTime<Utc>>().expect("RFC 3339");
    let content = BannerContent {
        name: "Noël 2025".into(),
        action: BannerAction::Product {
            product_id: id(0xA001),
        },
        title: "Vos photos sous le sapin".into(),
        description: Some("Tirages, albums et calendriers".into()),
        from_price: Some(d("9.00")),
        button_text: Some("Je commande".into()),
        display_order: 1,
        images: BannerImages {
            square: Some("https://cdn.example.fr/noel-carre.jpg".into()),
            landscape: "https://cdn.example.fr/noel.jpg".into(),
            landscape_phone: Some("https://cdn.example.fr/noel-mobile.jpg".into()),
        },
        starts_at: Some(at("2025-12-01T00:00:00Z")),
        ends_at: Some(at("2025-12-26T00:00:00Z")),
    };
    let banner_id = id(0xBA01);
    let create = BannerCommand::Create {
        shop_id: id(0x5100),
        banner_id,
        content: content.clone(),
        enabled: true,
    };
    let banners = samples.run(ShopBanners::default(), create);
    let link = BannerContent {
        action: BannerAction::Link {
            url: "https://www.example.fr/concours".into(),
        },
        from_price: None,
        button_text: Some("Participer".into()),
        ..content
    };
    let banners = samples.run(
        banners,
        BannerCommand::Change {
            banner_id,
            content: link,
        },
    );
    let banners = samples.run(banners, BannerCommand::Disable { banner_id });
    let banners = samples.run(banners, BannerCommand::Enable { banner_id });
    samples.run(banners, BannerCommand::Delete { banner_id });
}

/// Home delivery: placed, opened, paid in two payments, invoiced, produced, shipped, delivered,
/// returned and credited. Returns the credit note's amount and number.
fn home_delivery_scenario(
    samples: &mut Samples,
    profile: &ShopProfile,
    catalog: &Arc<Catalog>,
    customer_id: Uuid,
) -> (Decimal, String) {
    let customer_id = Some(customer_id);
    let order = samples.run(Order::default(), place(0x0D1, 0xD1, catalog, customer_id));
    let order = samples.run(
        order,
        OrderCommand::Open {
            opened_by: "anne".into(),
        },
    );
    let first = RecordPayment {
        payment_id: id(0x9A1),
        method: PaymentMethod::Card,
        amount: d("20.00"),
        transaction_id: Some("ch_1".into()),
        external_payment_id: Some("pi_1".into()),
        recorded_by: "storefront".into(),
    };
    let order = samples.run(order, OrderCommand::RecordPayment(first));
    let order = samples.run(
        order,
        OrderCommand::MarkPaid {
            payment_id: id(0x9A2),
            method: PaymentMethod::Cash,
            operator: "anne".into(),
        },
    );
    let invoices = DocumentSeries::default();
    let invoice = invoice_body(profile, &order).expect("invoice");
    let issue = |kind: DocumentKind, body| DocumentCommand::Issue {
        shop_id: id(0x5100),
        pattern: kind.pattern(&profile.document_patterns).to_owned(),
        body,
    };
    let invoices = samples.run(
        invoices,
        issue(
            DocumentKind::Invoice,
            DocumentBody::Invoice(Box::new(invoice)),
        ),
    );
    let invoice_number = invoices
        .last
        .as_ref()
        .map(|n| n.number.clone())
        .expect("numbered");
    let order = samples.run(
        order,
        OrderCommand::StartProduction {
            started_by: "labo".into(),
        },
    );
    let order = samples.run(
        order,
        OrderCommand::Ship {
            shipped_by: "anne".into(),
            tracking_number: Some("6A123".into()),
        },
    );
    let slip = delivery_slip_body(profile, &order).expect("slip");
    samples.run(
        DocumentSeries::default(),
        issue(
            DocumentKind::DeliverySlip,
            DocumentBody::DeliverySlip(Box::new(slip)),
        ),
    );
    let order = samples.run(
        order,
        OrderCommand::Deliver {
            delivered_by: "anne".into(),
        },
    );
    let ret = OrderCommand::RecordReturn {
        credit_id: id(0xCC),
        lines: vec![ReturnLine {
            line_number: 1,
            quantity: 1,
        }],
        refund_shipping: false,
        settlement: Settlement::StoreCredit,
        credited_by: "anne".into(),
    };
    let order = samples.run(order, ret);
    let note = credit_note_body(profile, &order, id(0xCC), &invoice_number).expect("credit note");
    let amount = note.totals.total_incl_vat;
    let notes = samples.run(
        DocumentSeries::default(),
        issue(
            DocumentKind::CreditNote,
            DocumentBody::CreditNote(Box::new(note)),
        ),
    );
    let note_number = notes
        .last
        .as_ref()
        .map(|n| n.number.clone())
        .expect("numbered");

    (amount, note_number)
}

/// Store credit granted by the credit note, spent whole on a pickup order and given back; a paid
/// order cancelled.
fn later_orders_scenario(
    samples: &mut Samples,
    catalog: &Arc<Catalog>,
    customer_id: Uuid,
    amount: Decimal,
    note_number: String,
) {
    let grant = StoreCreditCommand::Grant {
        shop_id: id(0x5100),
        customer_id,
        credit_note_number: note_number,
        amount,
    };
    let credit = samples.run(StoreCredit::default(), grant);
    let spend = StoreCreditCommand::Spend {
        shop_id: id(0x5100),
        customer_id,
        payment_id: id(0x9B1),
        order_id: id(0x0D2),
        amount,
    };
    let credit = samples.run(credit, spend);
    // Given back as if that order had been cancelled: the used-up note is spendable again.
    let restore = StoreCreditCommand::Restore {
        shop_id: id(0x5100),
        customer_id,
        order_id: id(0x0D2),
        amount,
    };
    samples.run(credit, restore);
    let pickup = samples.run(
        Order::default(),
        place(0x0D2, 0xD2, catalog, Some(customer_id)),
    );
    let pickup = samples.run(
        pickup,
        OrderCommand::MarkPaid {
            payment_id: id(0x9B2),
            method: PaymentMethod::Card,
            operator: "anne".into(),
        },
    );
    samples.run(
        pickup,
        OrderCommand::MarkReadyForPickup {
            marked_by: "anne".into(),
        },
    );

    // A paid order cancelled and credited.
    let cancelled = samples.run(Order::default(), place(0x0D3, 0xD1, catalog, None));
    let cancelled = samples.run(
        cancelled,
        OrderCommand::MarkPaid {
            payment_id: id(0x9C1),
            method: PaymentMethod::Card,
            operator: "anne".into(),
        },
    );
    samples.run(
        cancelled,
        OrderCommand::Cancel {
            cancelled_by: "anne".into(),
            reason: "Erreur de commande".into(),
            settlement: Some(Settlement::Refund {
                method: PaymentMethod::Card,
            }),
        },
    );

    // A partly paid order (cash, then card) cancelled: its refund per method.
    let mut partly_paid = samples.run(Order::default(), place(0x0D7, 0xD1, catalog, None));
    for (payment, method, amount) in [
        (0x9C2, PaymentMethod::Cash, "10.00"),
        (0x9C3, PaymentMethod::Card, "5.00"),
    ] {
        let record = RecordPayment {
            payment_id: id(payment),
            method,
            amount: d(amount),
            transaction_id: None,
            external_payment_id: None,
            recorded_by: "anne".into(),
        };
        partly_paid = samples.run(partly_paid, OrderCommand::RecordPayment(record));
    }
    samples.run_variant(
        "refunds",
        partly_paid,
        OrderCommand::Cancel {
            cancelled_by: "anne".into(),
            reason: "Client a changé d'avis".into(),
            settlement: None,
        },
    );
}

fn scenario_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 10, 0, 0)
        .single()
        .expect("date")
}

/// A coupon for all customers: created, edited, given the code TIRAGES10 (reserved in the shop's
/// registry), used by an order, released when that order is cancelled. Returns the coupon.
fn coupon_scenario(samples: &mut Samples, catalog: &Arc<Catalog>) -> Coupon {
    let definition = CouponDefinition {
        name: "Rentrée tirages".into(),
        starts_at: scenario_now() - Duration::days(1),
        ends_at: scenario_now() + Duration::days(30),
        scope: CouponScope::ProductType {
            reduction: Reduction::Percent(d("10")),
            category_ids: [id(0xC1)].into(),
        },
        min_order_amount: d("5.00"),
        audience: Audience::AllCustomers {
            max_total_uses: Some(50),
            max_uses_per_customer: Some(1),
        },
    };
    let create = CouponCommand::Create {
        coupon_id: id(0xC0),
        shop_id: id(0x5100),
        definition: Box::new(definition.clone()),
    };
    let coupon = samples.run(Coupon::default(), create);
    let edited = CouponDefinition {
        name: "Rentrée tirages 2025".into(),
        ..definition
    };
    let edit = CouponCommand::Edit {
        definition: Box::new(edited),
    };
    let coupon = samples.run(coupon, edit);
    let generate = CouponCommand::GenerateCodes {
        request: CodeRequest::Typed("TIRAGES10".into()),
        registry: Arc::new(CouponCodeRegistry::default()),
    };
    let coupon = samples.run(coupon, generate);
    let reserve = CouponCodeRegistryCommand::Reserve {
        shop_id: id(0x5100),
        coupon_id: id(0xC0),
        codes: coupon.codes.keys().cloned().collect(),
    };
    samples.run(CouponCodeRegistry::default(), reserve);
    let lines = [BasketLine {
        sku: "MUG-BLANC".into(),
        quantity: 2,
    }];
    let basket = price_basket(catalog, &lines, id(0xD1), true, scenario_now()).expect("priced");
    let customer = OrderCustomer {
        customer_id: None,
        email: "claire.martin@example.fr".into(),
        name: "Claire Martin".into(),
        billing_address: None,
    };
    let use_coupon = UseCoupon {
        shop_id: id(0x5100),
        order_id: id(0x0D4),
        code: "tirages10".into(),
        customer_key: customer_key(id(0x5100), &customer, None).expect("valid"),
        basket: Arc::new(basket),
    };
    let coupon = samples.run(coupon, CouponCommand::Use(Box::new(use_coupon)));
    samples.run(
        coupon,
        CouponCommand::ReleaseUse {
            order_id: id(0x0D4),
        },
    )
}

/// A quote (a catalog line and a free-text line) issued, accepted and made into a purchase order,
/// which is paid by cheque; a second quote declined.
fn quote_scenario(
    samples: &mut Samples,
    profile: &ShopProfile,
    catalog: &Catalog,
    customer: &comptoir_domain::customer::RegisteredCustomer,
) {
    use comptoir_domain::quote::*;
    let lines = [
        QuoteLineInput {
            sku: Some("MUG-BLANC".into()),
            description: None,
            quantity: 200,
            unit_price_excl_vat: d("0.15"),
            vat_rate: None,
        },
        QuoteLineInput {
            sku: None,
            description: Some("Retouche portrait".into()),
            quantity: 2,
            unit_price_excl_vat: d("12.50"),
            vat_rate: Some(d("20")),
        },
    ];
    let today = scenario_now().date_naive();
    let until = today + Duration::days(30);
    let body = quote_body(profile, customer, catalog, &lines, until, today).expect("quote");
    let series = samples.run(
        DocumentSeries::default(),
        issue(
            profile,
            DocumentKind::Quote,
            DocumentBody::Quote(Box::new(body.clone())),
        ),
    );
    let number = series.last.clone().expect("numbered").number;
    let open = QuoteCommand::Open {
        shop_id: profile.shop_id,
        number: number.clone(),
        issued_at: scenario_now(),
        quote: Box::new(body.clone()),
    };
    let quote = samples.run(Quote::default(), open.clone());
    let declined = samples.run(Quote::default(), open);
    samples.run(
        declined,
        QuoteCommand::Decline {
            shop_id: profile.shop_id,
            declined_by: "anne".into(),
            reason: Some("Hors budget".into()),
        },
    );
    let accept = QuoteCommand::Accept {
        shop_id: profile.shop_id,
        accepted_by: "anne".into(),
    };
    let quote = samples.run(quote, accept);
    let order_body = purchase_order_body_from_quote(profile, &number, &body);
    let total = order_body.totals.total_incl_vat;
    let order_series = samples.run(
        DocumentSeries::default(),
        issue(
            profile,
            DocumentKind::PurchaseOrder,
            DocumentBody::PurchaseOrder(Box::new(order_body)),
        ),
    );
    let order_number = order_series.last.clone().expect("numbered").number;
    let convert = QuoteCommand::Convert {
        shop_id: profile.shop_id,
        purchase_order_number: order_number.clone(),
    };
    samples.run(quote, convert);
    let open_order = PurchaseOrderCommand::Open {
        shop_id: profile.shop_id,
        number: order_number,
        issued_at: scenario_now(),
        quote_number: Some(number),
        currency: "EUR".into(),
        total_incl_vat: total,
    };
    let order = samples.run(PurchaseOrder::default(), open_order);
    let pay = PurchaseOrderCommand::MarkPaid {
        shop_id: profile.shop_id,
        payment_id: id(0x9B),
        method: PaymentMethod::Cheque,
        amount: total,
        operator: "anne".into(),
    };
    samples.run(order, pay);
}

/// Issuing the next document of `kind` in the shop's series.
fn issue(profile: &ShopProfile, kind: DocumentKind, body: DocumentBody) -> DocumentCommand {
    DocumentCommand::Issue {
        shop_id: profile.shop_id,
        pattern: kind.pattern(&profile.document_patterns).to_owned(),
        body,
    }
}

/// An order placed with TIRAGES10 (10 % off its mugs and guide, the coupon's use decided on the
/// order's own pricing), paid and invoiced with the discount as allowances, then returned: the
/// `+coupon` variants of the events whose shape a coupon changes.
fn coupon_order_scenario(
    samples: &mut Samples,
    profile: &ShopProfile,
    catalog: &Arc<Catalog>,
    coupon: Coupon,
) {
    let OrderCommand::Place(mut command) = place(0x0D5, 0xD1, catalog, None) else {
        unreachable!("place builds a Place command")
    };
    command.coupon = Some(CouponToApply {
        coupon: Arc::new(coupon.clone()),
        code: "tirages10".into(),
    });
    let customer = command.customer.clone();
    let order = samples.run_variant("coupon", Order::default(), OrderCommand::Place(command));
    let placed = order.placed.as_deref().expect("placed");
    let use_coupon = UseCoupon {
        shop_id: id(0x5100),
        order_id: id(0x0D5),
        code: "tirages10".into(),
        customer_key: customer_key(id(0x5100), &customer, None).expect("valid"),
        basket: Arc::new(placed.pricing.clone()),
    };
    samples.run(coupon, CouponCommand::Use(Box::new(use_coupon)));
    let paid = OrderCommand::MarkPaid {
        payment_id: id(0x9D1),
        method: PaymentMethod::Card,
        operator: "anne".into(),
    };
    let order = samples.run(order, paid);
    let invoice = invoice_body(profile, &order).expect("invoice");
    samples.run_variant(
        "coupon",
        DocumentSeries::default(),
        issue(
            profile,
            DocumentKind::Invoice,
            DocumentBody::Invoice(Box::new(invoice)),
        ),
    );
    coupon_return_scenario(samples, profile, order);
}

/// The discounted order shipped, its guide returned and credited net of the discount.
fn coupon_return_scenario(samples: &mut Samples, profile: &ShopProfile, order: Order) {
    let ship = OrderCommand::Ship {
        shipped_by: "anne".into(),
        tracking_number: None,
    };
    let order = samples.run(order, ship);
    let ret = OrderCommand::RecordReturn {
        credit_id: id(0xCD),
        lines: vec![ReturnLine {
            line_number: 2,
            quantity: 1,
        }],
        refund_shipping: false,
        settlement: Settlement::StoreCredit,
        credited_by: "anne".into(),
    };
    let order = samples.run_variant("coupon", order, ret);
    let note = credit_note_body(profile, &order, id(0xCD), "FA-2025-000002").expect("credit note");
    samples.run_variant(
        "coupon",
        DocumentSeries::default(),
        issue(
            profile,
            DocumentKind::CreditNote,
            DocumentBody::CreditNote(Box::new(note)),
        ),
    );
}

/// A paid order printed by the bridge: one line completed, one failed and reprinted.
fn print_job_scenario(samples: &mut Samples, catalog: &Arc<Catalog>) {
    let order = samples.run(Order::default(), place(0x0D6, 0xD2, catalog, None));
    let paid = OrderCommand::MarkPaid {
        payment_id: id(0x9D6),
        method: PaymentMethod::Card,
        operator: "anne".into(),
    };
    let mut order = samples.run(order, paid);
    let reports = [
        (0x706, 0, PrintJobStatus::Submitted, ""),
        (0x706, 0, PrintJobStatus::Completed, ""),
        (
            0x707,
            1,
            PrintJobStatus::Failed,
            "media-empty-error: load paper",
        ),
    ];
    for (job, line, status, reason) in reports {
        let report = PrintJobReport {
            job_id: id(job),
            line,
            device: "ipp://localhost:631/ipp/print".into(),
            status,
            reason: reason.into(),
            reported_by: "printer-bridge".into(),
        };
        order = samples.run(order, OrderCommand::ReportPrintJob(report));
    }
    let reprint = OrderCommand::RequestReprint {
        job_id: id(0x707),
        new_job_id: id(0x708),
        requested_by: "anne".into(),
    };
    samples.run(order, reprint);
}

/// A code minted by the operator and redeemed by the shop; returns the command that applies it.
fn mint_and_redeem(samples: &mut Samples, code_hash: String, terms: &PackTerms) -> PackCommand {
    let mint = ActivationCodeCommand::Mint {
        code_hash: code_hash.clone(),
        terms: terms.clone(),
        minted_by: "operator".into(),
    };
    let code = samples.run(ActivationCode::default(), mint);
    let redeem = ActivationCodeCommand::Redeem {
        shop_id: id(0x5100),
    };
    samples.run(code, redeem);
    PackCommand::Activate {
        shop_id: id(0x5100),
        code_hash,
        terms: terms.clone(),
    }
}

/// A pack activated with a minted code, consumed by an upload and an order, renewed with a second
/// code, then unsubscribed.
fn pack_scenario(samples: &mut Samples) {
    let pro = PackTerms {
        level: "Pro".into(),
        validity: PackValidity::Months(12),
        transfer_allowance_bytes: 50 * BYTES_PER_GIGABYTE,
        order_allowance: 5_000,
    };
    let activate = mint_and_redeem(samples, "5e".repeat(32), &pro);
    let pack = samples.run(Pack::default(), activate);
    let upload = PackCommand::ConsumeTransfer {
        bytes: 4_718_592,
        reference: "order 00000000-0000-0000-0000-0000000000d4/IMG_0412.jpg".into(),
    };
    let pack = samples.run(pack, upload);
    let pack = samples.run(
        pack,
        PackCommand::ConsumeOrder {
            order_id: id(0x0D4),
        },
    );
    let renew = mint_and_redeem(samples, "a7".repeat(32), &pro);
    let pack = samples.run(pack, renew);
    let unsubscribe = PackCommand::Unsubscribe {
        unsubscribed_by: "anne".into(),
    };
    samples.run(pack, unsubscribe);
}

fn messages_scenario(samples: &mut Samples, customer_id: Uuid) {
    let send = MessagesCommand::Send(NewMessage {
        shop_id: id(0x5100),
        customer_id,
        message_id: id(0x3E55),
        from: Side::Customer,
        author: "api-key:00000000-0000-0000-0000-00000000ce11".into(),
        order: Some(MessageOrder {
            order_id: id(0x0DE1),
            account_id: customer_id,
        }),
        body: "Bonjour,\nmes tirages sont-ils prêts ?".into(),
    });
    let thread = samples.run(CustomerMessages::default(), send);
    let message_id = id(0x3E55);
    let thread = samples.run(
        thread,
        MessagesCommand::MarkRead {
            message_id,
            by: Side::Shop,
        },
    );
    let thread = samples.run(
        thread,
        MessagesCommand::Archive {
            message_id,
            by: Side::Customer,
        },
    );
    let thread = samples.run(
        thread,
        MessagesCommand::Unarchive {
            message_id,
            by: Side::Customer,
        },
    );
    let answer = MessagesCommand::Send(NewMessage {
        shop_id: id(0x5100),
        customer_id,
        message_id: id(0x3E56),
        from: Side::Shop,
        author: "api-key:00000000-0000-0000-0000-00000000ce11".into(),
        order: None,
        body: "Ils partent demain.".into(),
    });
    let thread = samples.run(thread, answer);
    samples.run(
        thread,
        MessagesCommand::RecordNotified {
            message_id: id(0x3E56),
        },
    );
}

/// Deserializes `value` as the event enum of `kind`, then serializes it back.
fn round_trip(kind: &str, value: &serde_json::Value) -> (String, serde_json::Value) {
    fn through<E: DomainEvent>(value: &serde_json::Value) -> (String, serde_json::Value) {
        let event: E = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("does not deserialize: {e}"));
        (
            event.event_type().to_owned(),
            serde_json::to_value(&event).expect("serializes"),
        )
    }
    match kind {
        "shop" => through::<ShopEvent>(value),
        "catalog" => through::<CatalogEvent>(value),
        "customer" => through::<CustomerEvent>(value),
        "order" => through::<OrderEvent>(value),
        "document-series" => through::<DocumentEvent>(value),
        "store-credit" => through::<StoreCreditEvent>(value),
        "coupon" => through::<CouponEvent>(value),
        "coupon-codes" => through::<CouponCodeRegistryEvent>(value),
        "activation-code" => through::<ActivationCodeEvent>(value),
        "pack" => through::<PackEvent>(value),
        "order-files" => through::<OrderFilesEvent>(value),
        "quote" => through::<comptoir_domain::quote::QuoteEvent>(value),
        "purchase-order" => through::<comptoir_domain::quote::PurchaseOrderEvent>(value),
        "customer-messages" => through::<MessageEvent>(value),
        "report-schedule" => {
            through::<comptoir_domain::report_schedule::ReportScheduleEvent>(value)
        }
        "shop-banners" => through::<comptoir_domain::banner::BannerEvent>(value),
        "closures" => through::<comptoir_domain::closure::ClosureEvent>(value),
        "series-registry" => through::<SeriesRegistryEvent>(value),
        "staff" => through::<comptoir_domain::staff::StaffEvent>(value),
        "staff-roster" => through::<comptoir_domain::staff::StaffRosterEvent>(value),
        other => panic!("unknown stream kind {other}"),
    }
}

fn golden_files() -> BTreeMap<String, serde_json::Value> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(golden_dir()).expect("tests/golden exists") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        files.insert(
            name,
            serde_json::from_str(&text).expect("golden file is JSON"),
        );
    }
    files
}

#[test]
fn every_golden_event_still_deserializes_and_round_trips() {
    // Proves events written by earlier versions are still read, and written back unchanged.
    let files = golden_files();
    assert!(!files.is_empty());
    for (name, value) in files {
        let mut parts = name.rsplitn(3, '.');
        let (_json, event_type, kind) = (
            parts.next(),
            parts.next().expect("type"),
            parts.next().expect("kind"),
        );
        let event_type = event_type.split('+').next().unwrap_or(event_type);
        let (decoded_type, reencoded) = round_trip(kind, &value);
        assert_eq!(decoded_type, event_type, "{name}");
        assert_eq!(reencoded, value, "{name} changed shape");
    }
}

#[test]
fn every_event_type_has_a_golden_file() {
    // Proves no event type reaches the log without a pinned example (bless to add new ones).
    let samples = scenario();
    if std::env::var_os("COMPTOIR_BLESS").is_some() {
        for (name, value) in &samples.0 {
            let text = serde_json::to_string_pretty(value).expect("serializes") + "\n";
            std::fs::write(golden_dir().join(name), text).expect("writable");
        }
    }
    let files = golden_files();
    let missing: Vec<&String> = samples
        .0
        .keys()
        .filter(|name| !files.contains_key(*name))
        .collect();
    assert!(missing.is_empty(), "no golden file for {missing:?}");
    let variants = [
        "customer.CustomerProfileChanged+consent.json",
        "customer.CustomerProfileChanged+extra.json",
        "document-series.CreditNoteIssued+coupon.json",
        "document-series.InvoiceIssued+coupon.json",
        "order.OrderCancelled+refunds.json",
        "order.OrderCredited+coupon.json",
        "order.OrderPlaced+coupon.json",
        "shop.ShopCreated+fiscal_year_end.json",
        "shop.ShopCreated+legal_mentions.json",
        "shop.ShopCreated+patterns.json",
        "shop.ShopCreated+time_zone.json",
    ];
    let sampled_variants: Vec<&str> = samples
        .0
        .keys()
        .filter(|name| name.contains('+'))
        .map(String::as_str)
        .collect();
    assert_eq!(sampled_variants, variants);
    assert_eq!(
        samples.0.len() - variants.len(),
        // shop, catalog, customer, order, document series, store credit, coupon, coupon codes,
        // activation code, pack, order files, quote, purchase order, customer messages, report
        // schedule, closures, series registry, staff account, staff roster, shop banners; the
        // order's count includes its four print-job events.
        9 + 13 + 5 + 14 + 5 + 5 + 5 + 1 + 2 + 5 + 1 + 4 + 2 + 5 + 4 + 1 + 1 + 16 + 4 + 5,
        "one sample per event type"
    );
}

#[test]
fn a_closure_recorded_before_it_kept_the_log_hash_still_checks_out() {
    // Proves a `PeriodClosed` from before closures recorded the log's hash (pinned in
    // `closures.PeriodClosed+without_log_hash.json`) decodes without one, is written back
    // without one, and its stored hash is still what its content gives (format 1 text); a new
    // one carries the log hash inside what its hash covers.
    let files = golden_files();
    use comptoir_domain::closure::{ClosureEvent, PeriodClosed};
    let decode = |name: &str| -> PeriodClosed {
        let event: ClosureEvent = serde_json::from_value(files[name].clone()).expect("decodes");
        let ClosureEvent::PeriodClosed(closed) = event;
        *closed
    };
    let old = decode("closures.PeriodClosed+without_log_hash.json");
    assert_eq!(old.log_hash, None);
    assert_eq!(old.computed_hash(), old.hash);
    let new = decode("closures.PeriodClosed.json");
    assert_eq!(new.log_hash.as_deref().map(str::len), Some(64));
    assert_eq!(new.computed_hash(), new.hash);
    assert!(new.canonical_text().contains("log_hash="));
}

#[test]
fn a_sign_in_recorded_before_devices_still_reads_without_one() {
    // Proves a `StaffSignedIn` from before trusted devices (pinned in
    // `staff.StaffSignedIn+without_device.json`) decodes with no device and is written back
    // unchanged, and a new one names the device the session was opened from.
    let files = golden_files();
    use comptoir_domain::staff::StaffEvent;
    let decode = |name: &str| -> StaffEvent {
        serde_json::from_value(files[name].clone()).expect("decodes")
    };
    let old = decode("staff.StaffSignedIn+without_device.json");
    let StaffEvent::StaffSignedIn { device_hash, .. } = &old else {
        panic!("a StaffSignedIn");
    };
    assert_eq!(device_hash, &None);
    assert_eq!(
        serde_json::to_value(&old).expect("serializes"),
        files["staff.StaffSignedIn+without_device.json"]
    );
    let StaffEvent::StaffSignedIn { device_hash, .. } = decode("staff.StaffSignedIn.json") else {
        panic!("a StaffSignedIn");
    };
    assert_eq!(device_hash.as_deref().map(str::len), Some(64));
}

#[test]
fn a_cancellation_recorded_before_refunds_per_method_still_reads_as_one_amount() {
    // Proves the `OrderCancelled` of a partly paid order recorded before refunds were split by
    // method (pinned in `order.OrderCancelled+refund_due_only.json`) still decodes: its
    // `refund_due` stands alone with no refund rows (its method was never recorded, so readers
    // post it to the bank as before), and it is written back without a `refunds` field; a new
    // one carries rows that add up to its `refund_due`.
    let files = golden_files();
    let decode = |name: &str| -> OrderEvent {
        serde_json::from_value(files[name].clone()).expect("decodes")
    };
    let OrderEvent::OrderCancelled {
        refund_due,
        refunds,
        ..
    } = decode("order.OrderCancelled+refund_due_only.json")
    else {
        panic!("an OrderCancelled");
    };
    assert_eq!((refund_due, refunds), (d("12.50"), Vec::new()));
    let OrderEvent::OrderCancelled {
        refund_due,
        refunds,
        ..
    } = decode("order.OrderCancelled+refunds.json")
    else {
        panic!("an OrderCancelled");
    };
    let methods: Vec<(PaymentMethod, Decimal)> =
        refunds.iter().map(|r| (r.method, r.amount)).collect();
    assert_eq!(
        methods,
        [
            (PaymentMethod::Cash, d("10.00")),
            (PaymentMethod::Card, d("5.00"))
        ]
    );
    assert_eq!(refund_due, d("15.00"));
}

#[test]
fn amounts_are_decimal_strings_and_times_rfc3339() {
    // Proves the money and time encodings of the on-disk format.
    let files = golden_files();
    let paid = &files["order.OrderPaid.json"]["OrderPaid"];
    assert!(paid["amount_paid"].is_string(), "{paid}");
    assert_eq!(paid["paid_at"], "2025-03-14T10:00:00Z");
}

/// Every part of the storefront settings filled in, so the golden file pins each field's shape.
fn storefront_settings() -> StorefrontSettings {
    let time = |text: &str| chrono::NaiveTime::parse_from_str(text, "%H:%M").expect("time");
    let day = vec![
        OpenInterval {
            opens: time("09:30"),
            closes: time("12:30"),
        },
        OpenInterval {
            opens: time("14:00"),
            closes: time("19:00"),
        },
    ];
    StorefrontSettings {
        description: Some("Tirages en une heure.\nEncadrement sur mesure.".into()),
        contact: ShopContact {
            email: Some("contact@studio-lumiere.example".into()),
            phone: Some("+33 4 78 00 00 00".into()),
            address: Some(address()),
        },
        opening_hours: OpeningHours {
            week: WeekHours {
                tuesday: day.clone(),
                saturday: day,
                ..WeekHours::default()
            },
            closed_days: vec![ClosedDay {
                date: chrono::NaiveDate::from_ymd_opt(2025, 12, 25).expect("date"),
                note: Some("Noël".into()),
            }],
        },
        terms_of_sale: Some("Article 1 — Objet.".into()),
        online_payment: OnlinePayment {
            paypal: Some(PayPalSettings {
                enabled: false,
                client_id: "AbCdEf-123_xyz".into(),
            }),
            stripe: Some(StripeSettings {
                enabled: true,
                publishable_key: "pk_test_51Hx0abcDEF".into(),
                account_id: Some("acct_1Hx0abcDEF".into()),
            }),
        },
        links: StorefrontLinks {
            storefront_url: Some("https://studio-lumiere.example".into()),
            product_url_pattern: Some("https://studio-lumiere.example/p/{sku}".into()),
            category_url_pattern: Some("https://studio-lumiere.example/c/{id}".into()),
        },
    }
}
