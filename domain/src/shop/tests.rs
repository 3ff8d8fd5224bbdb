use super::*;
use crate::fixtures::{id, shop_id, shop_profile};
use crate::testing::{given, test_now};

fn created() -> ShopEvent {
    ShopEvent::ShopCreated {
        profile: Box::new(shop_profile()),
        created_at: test_now(),
    }
}

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn create_key(key: u128, hash: &str) -> ShopCommand {
    ShopCommand::CreateApiKey {
        key_id: id(key),
        role: Role::Storefront,
        label: "Site web".into(),
        secret_hash: hash.into(),
    }
}

fn key_created(key: u128, hash: &str) -> ShopEvent {
    ShopEvent::ApiKeyCreated {
        shop_id: shop_id(),
        key_id: id(key),
        role: Role::Storefront,
        label: "Site web".into(),
        secret_hash: hash.into(),
        created_at: test_now(),
    }
}

#[test]
fn creates_a_shop() {
    // Proves a valid profile creates the shop.
    given::<Shop>([])
        .when(ShopCommand::Create(Box::new(shop_profile())))
        .then([created()]);
}

#[test]
fn creating_again_is_a_retry_or_a_conflict() {
    // Proves the same content is answered with no event and other content with already-exists.
    given::<Shop>([created()])
        .when(ShopCommand::Create(Box::new(shop_profile())))
        .then([]);
    let mut other = shop_profile();
    other.name = "Autre".into();
    given::<Shop>([created()])
        .when(ShopCommand::Create(Box::new(other)))
        .then_err_code("already-exists");
}

type Spoil = fn(&mut ShopProfile);

#[test]
fn validates_the_legal_identity() {
    // Proves SIREN, VAT id, currency, country, patterns and names are checked at creation.
    let cases: Vec<(&str, Spoil)> = vec![
        ("siren 8 digits", |p| {
            p.organisation.siren = "81234567".into()
        }),
        ("siren letters", |p| {
            p.organisation.siren = "81234567A".into()
        }),
        ("vat id", |p| p.organisation.vat_id = "fr45812345678".into()),
        ("vat id unicode", |p| {
            p.organisation.vat_id = "FÉ45812345678".into()
        }),
        ("currency", |p| p.currency = "euro".into()),
        ("country", |p| {
            p.organisation.address.country = "France".into()
        }),
        ("name", |p| p.name = " ".into()),
        ("invoice pattern", |p| {
            p.document_patterns.invoice = "FA-{YYYY}".into()
        }),
        ("same patterns", |p| {
            p.document_patterns.credit_note = p.document_patterns.invoice.clone()
        }),
        ("payment terms", |p| p.payment_terms = String::new()),
        ("legal form empty", |p| {
            p.organisation.legal_form = Some(" ".into())
        }),
        ("legal form too long", |p| {
            p.organisation.legal_form = Some("S".repeat(LEGAL_FORM_CHARS_MAX + 1))
        }),
        ("share capital negative", |p| {
            p.organisation.share_capital = Some(Decimal::new(-1, 0))
        }),
        ("share capital three decimals", |p| {
            p.organisation.share_capital = Some(Decimal::new(1_0001, 3))
        }),
        ("rcs city control character", |p| {
            p.organisation.rcs_city = Some("Ly\non".into())
        }),
        ("vat exemption mention too long", |p| {
            p.organisation.vat_exemption_mention = Some("T".repeat(LEGAL_MENTION_CHARS_MAX + 1))
        }),
    ];
    for (what, spoil) in cases {
        let mut profile = shop_profile();
        spoil(&mut profile);
        let result = Shop::default().decide(
            &ShopCommand::Create(Box::new(profile)),
            &crate::testing::TestEnvironment::new(),
        );
        assert_eq!(result.map_err(|e| e.code()), Err("validation"), "{what}");
    }
}

#[test]
fn creates_a_shop_with_its_optional_legal_mentions() {
    // Proves legal form, share capital (zero included), RCS city and VAT exemption are accepted
    // and kept in the profile.
    let mut profile = shop_profile();
    profile.organisation.legal_form = Some("SARL".into());
    profile.organisation.share_capital = Some(Decimal::ZERO);
    profile.organisation.rcs_city = Some("Lyon".into());
    profile.organisation.vat_exemption_mention =
        Some("TVA non applicable, art. 293 B du CGI".into());
    let created = ShopEvent::ShopCreated {
        profile: Box::new(profile.clone()),
        created_at: test_now(),
    };
    let shop = given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile.clone())))
        .then([created]);
    assert_eq!(shop.profile, Some(profile));
}

#[test]
fn creates_and_revokes_api_keys() {
    // Proves a key is created with its role and hash, found by hash, and gone once revoked.
    let shop = given::<Shop>([created()])
        .when(create_key(1, HASH))
        .then([key_created(1, HASH)]);
    assert_eq!(
        shop.active_key_by_hash(HASH).map(|k| k.role),
        Some(Role::Storefront)
    );
    let revoked = ShopEvent::ApiKeyRevoked {
        shop_id: shop_id(),
        key_id: id(1),
        revoked_at: test_now(),
    };
    let shop = given::<Shop>([created(), key_created(1, HASH)])
        .when(ShopCommand::RevokeApiKey { key_id: id(1) })
        .then([revoked.clone()]);
    assert!(shop.active_key_by_hash(HASH).is_none());
    // Revoking twice changes nothing.
    given::<Shop>([created(), key_created(1, HASH), revoked])
        .when(ShopCommand::RevokeApiKey { key_id: id(1) })
        .then([]);
}

#[test]
fn api_key_rules() {
    // Proves keys need a shop, a valid unique hash and a label; unknown keys cannot be revoked.
    given::<Shop>([])
        .when(create_key(1, HASH))
        .then_err_code("not-found");
    given::<Shop>([created()])
        .when(create_key(1, "short"))
        .then_err_code("validation");
    given::<Shop>([created(), key_created(1, HASH)])
        .when(create_key(1, HASH))
        .then([]);
    let other_hash = "a".repeat(64);
    given::<Shop>([created(), key_created(1, HASH)])
        .when(create_key(1, &other_hash))
        .then_err_code("already-exists");
    given::<Shop>([created(), key_created(1, HASH)])
        .when(create_key(2, HASH))
        .then_err_code("already-exists");
    given::<Shop>([created()])
        .when(ShopCommand::RevokeApiKey { key_id: id(9) })
        .then_err_code("not-found");
    let unlabelled = ShopCommand::CreateApiKey {
        key_id: id(3),
        role: Role::Manager,
        label: String::new(),
        secret_hash: HASH.into(),
    };
    given::<Shop>([created()])
        .when(unlabelled)
        .then_err_code("validation");
}

#[test]
fn api_keys_are_bounded() {
    // Proves a shop cannot accumulate more than API_KEYS_PER_SHOP_MAX keys.
    let mut history = vec![created()];
    for n in 0..API_KEYS_PER_SHOP_MAX as u128 {
        history.push(key_created(100 + n, &format!("{n:064x}")));
    }
    given::<Shop>(history)
        .when(create_key(1, HASH))
        .then_err_code("limit-exceeded");
}

#[test]
fn stream_names_carry_the_shop() {
    // Proves the stream name the glue appends to.
    assert_eq!(
        stream_id(id(1)),
        "shop-00000000-0000-0000-0000-000000000001"
    );
}

fn mapping_7071() -> LedgerMapping {
    let mut mapping = LedgerMapping {
        goods_sales: "7071".into(),
        ..Default::default()
    };
    mapping.vat_by_rate.insert("20".into(), "4457120".into());
    mapping
}

fn mapping_changed(mapping: LedgerMapping) -> ShopEvent {
    ShopEvent::LedgerMappingChanged {
        shop_id: shop_id(),
        mapping: Box::new(mapping),
        changed_at: test_now(),
    }
}

#[test]
fn a_manager_changes_the_ledger_mapping() {
    // Proves a valid mapping is recorded, and setting the one in force again appends nothing.
    given::<Shop>([created()])
        .when(ShopCommand::SetLedgerMapping(Box::new(mapping_7071())))
        .then([mapping_changed(mapping_7071())]);
    given::<Shop>([created(), mapping_changed(mapping_7071())])
        .when(ShopCommand::SetLedgerMapping(Box::new(mapping_7071())))
        .then([]);
    given::<Shop>([created()])
        .when(ShopCommand::SetLedgerMapping(Box::default()))
        .then([]);
}

#[test]
fn the_ledger_mapping_needs_an_existing_shop() {
    // Proves a mapping cannot be set on a shop that was never created.
    given::<Shop>([])
        .when(ShopCommand::SetLedgerMapping(Box::new(mapping_7071())))
        .then_err_code("not-found");
}

type SpoilMapping = fn(&mut LedgerMapping);

#[test]
fn validates_the_ledger_mapping() {
    // Proves account numbers are 3-10 digits, every French VAT rate is mapped and rate keys are
    // written the way the ledger looks them up.
    let cases: Vec<(&str, SpoilMapping)> = vec![
        ("letters", |m| m.goods_sales = "707A".into()),
        ("too short", |m| m.bank = "51".into()),
        ("too long", |m| m.cash = "53000000000".into()),
        ("empty", |m| m.customers = String::new()),
        ("vat default", |m| m.vat_default = "TVA".into()),
        ("missing rate", |m| {
            m.vat_by_rate.remove("5.5");
        }),
        ("bad vat account", |m| {
            m.vat_by_rate.insert("20".into(), "44 5712".into());
        }),
        ("rate spelling", |m| {
            m.vat_by_rate.insert("8.50".into(), "445785".into());
        }),
        ("rate out of range", |m| {
            m.vat_by_rate.insert("120".into(), "445799".into());
        }),
        ("rate not a number", |m| {
            m.vat_by_rate.insert("huit".into(), "445780".into());
        }),
        ("category account", |m| {
            m.category_accounts.insert(id(9), "7x".into());
        }),
    ];
    for (name, spoil) in cases {
        let mut mapping = LedgerMapping::default();
        spoil(&mut mapping);
        assert!(mapping.validate().is_err(), "{name}");
        given::<Shop>([created()])
            .when(ShopCommand::SetLedgerMapping(Box::new(mapping)))
            .then_err_code("validation");
    }
}

#[test]
fn the_mapping_in_force_is_the_last_one_set() {
    // Proves evolve replaces the whole mapping, starting from the PCG defaults.
    let shop = Shop::default().evolve(&created());
    assert_eq!(shop.ledger_mapping, LedgerMapping::default());
    let shop = shop.evolve(&mapping_changed(mapping_7071()));
    assert_eq!(shop.ledger_mapping.goods_sales, "7071");
    assert_eq!(
        shop.ledger_mapping.vat(rust_decimal::Decimal::from(20)),
        "4457120"
    );
}

#[test]
fn sets_the_loyalty_rule() {
    // Proves the rate defaults to one point per unit, is set once per change, and is bounded.
    let rate = crate::fixtures::d("0.5");
    let changed = ShopEvent::LoyaltyRuleChanged {
        shop_id: shop_id(),
        points_per_unit: rate,
        changed_at: test_now(),
    };
    assert_eq!(
        Shop::default().evolve(&created()).loyalty_points_per_unit(),
        Decimal::ONE
    );
    let shop = given::<Shop>([created()])
        .when(ShopCommand::SetLoyaltyRule {
            points_per_unit: rate,
        })
        .then([changed.clone()]);
    assert_eq!(shop.loyalty_points_per_unit(), rate);
    given::<Shop>([created(), changed])
        .when(ShopCommand::SetLoyaltyRule {
            points_per_unit: rate,
        })
        .then([]);
    given::<Shop>([created()])
        .when(ShopCommand::SetLoyaltyRule {
            points_per_unit: crate::fixtures::d("-1"),
        })
        .then_err_code("validation");
    given::<Shop>([])
        .when(ShopCommand::SetLoyaltyRule {
            points_per_unit: Decimal::ONE,
        })
        .then_err_code("not-found");
}

#[test]
fn sets_the_customer_account_form() {
    // Proves the form defaults to phone and address optional, is recorded once per change,
    // is validated, and needs the shop.
    let form = AccountForm {
        phone: FieldRule::Mandatory,
        address: FieldRule::Hidden,
        extra_fields: vec![ExtraField {
            key: "civilite".into(),
            label: "Civilité".into(),
            description: None,
            options: vec!["M.".into(), "Mme".into()],
            mandatory: true,
        }],
    };
    let changed = ShopEvent::AccountFormChanged {
        shop_id: shop_id(),
        form: Box::new(form.clone()),
        changed_at: test_now(),
    };
    assert_eq!(
        Shop::default().evolve(&created()).account_form,
        AccountForm::default()
    );
    let set = |form: &AccountForm| ShopCommand::SetAccountForm(Box::new(form.clone()));
    let shop = given::<Shop>([created()])
        .when(set(&form))
        .then([changed.clone()]);
    assert_eq!(shop.account_form, form);
    given::<Shop>([created(), changed])
        .when(set(&form))
        .then([]);
    let mut nameless = form.clone();
    nameless.extra_fields[0].label = String::new();
    given::<Shop>([created()])
        .when(set(&nameless))
        .then_err_code("validation");
    given::<Shop>([])
        .when(set(&form))
        .then_err_code("not-found");
}

fn zone_changed(name: &str) -> ShopEvent {
    ShopEvent::TimeZoneChanged {
        shop_id: shop_id(),
        time_zone: name.into(),
        changed_at: test_now(),
    }
}

#[test]
fn a_shop_without_a_zone_counts_days_in_paris() {
    // Proves the default zone of a shop created without one (as every older shop was).
    let shop = crate::testing::replay::<Shop>(&[created()]);
    let profile = shop.profile.expect("created");
    assert_eq!(profile.zone(), crate::calendar::default_time_zone());
}

#[test]
fn a_shop_is_created_with_a_valid_zone_only() {
    // Proves the zone given at creation is an IANA name, checked before anything is recorded.
    let mut profile = shop_profile();
    profile.time_zone = Some("America/Martinique".into());
    let expected = ShopEvent::ShopCreated {
        profile: Box::new(profile.clone()),
        created_at: test_now(),
    };
    given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile.clone())))
        .then([expected]);
    profile.time_zone = Some("Paris".into());
    given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile)))
        .then_err_code("validation");
}

#[test]
fn changing_the_zone_records_it_once() {
    // Proves a new zone is recorded, the same one again appends nothing, and the state follows.
    given::<Shop>([created()])
        .when(ShopCommand::SetTimeZone {
            time_zone: "Asia/Tokyo".into(),
        })
        .then([zone_changed("Asia/Tokyo")]);
    given::<Shop>([created(), zone_changed("Asia/Tokyo")])
        .when(ShopCommand::SetTimeZone {
            time_zone: "Asia/Tokyo".into(),
        })
        .then([]);
    // The default, asked for explicitly, is no change either.
    given::<Shop>([created()])
        .when(ShopCommand::SetTimeZone {
            time_zone: crate::calendar::DEFAULT_TIME_ZONE.into(),
        })
        .then([]);
    let shop = crate::testing::replay::<Shop>(&[created(), zone_changed("Asia/Tokyo")]);
    let profile = shop.profile.expect("created");
    assert_eq!(profile.time_zone.as_deref(), Some("Asia/Tokyo"));
    assert_eq!(profile.zone(), chrono_tz::Asia::Tokyo);
}

#[test]
fn a_bad_zone_or_a_missing_shop_is_refused() {
    // Proves an unknown zone is a validation error and a shop must exist first.
    given::<Shop>([created()])
        .when(ShopCommand::SetTimeZone {
            time_zone: "Mars/Olympus_Mons".into(),
        })
        .then_err_code("validation");
    given::<Shop>([])
        .when(ShopCommand::SetTimeZone {
            time_zone: "Asia/Tokyo".into(),
        })
        .then_err_code("not-found");
}

fn update_of(edit: impl FnOnce(&mut ProfileUpdate)) -> ProfileUpdate {
    let mut update = shop_profile().editable();
    edit(&mut update);
    update
}

fn update_profile(update: ProfileUpdate, invoice_issued: bool) -> ShopCommand {
    ShopCommand::UpdateProfile {
        update: Box::new(update),
        invoice_issued,
    }
}

fn profile_updated(update: ProfileUpdate) -> ShopEvent {
    ShopEvent::ShopProfileUpdated {
        shop_id: shop_id(),
        update: Box::new(update),
        updated_at: test_now(),
    }
}

fn moved(update: &mut ProfileUpdate) {
    update.organisation.address.line1 = "40 quai Saint-Antoine".into();
    update.organisation.vat_id = "FR45812345679".into();
    update.name = "Studio Lumière — Saint-Antoine".into();
}

#[test]
fn a_manager_updates_the_profile_and_it_is_in_force() {
    // Proves an update is recorded once, replaces the editable part and keeps the id and zone.
    let update = update_of(moved);
    let shop = given::<Shop>([created(), zone_changed("Europe/Brussels")])
        .when(update_profile(update.clone(), true))
        .then([profile_updated(update.clone())]);
    let profile = shop.profile.expect("shop");
    assert_eq!(profile.editable(), update);
    assert_eq!(profile.shop_id, shop_id());
    assert_eq!(profile.time_zone.as_deref(), Some("Europe/Brussels"));
    // The same update again (a retry, or a form saved unchanged) appends nothing.
    given::<Shop>([created(), profile_updated(update.clone())])
        .when(update_profile(update, false))
        .then([]);
    // The defaults of the quote and purchase-order series, stated, are no change either.
    given::<Shop>([created()])
        .when(update_profile(shop_profile().editable(), false))
        .then([]);
}

#[test]
fn an_update_is_validated_like_a_creation() {
    // Proves a bad SIREN, VAT id, currency, name or pattern refuses the update, and a missing shop too.
    type Edit = fn(&mut ProfileUpdate);
    let cases: Vec<(&str, Edit)> = vec![
        ("organisation.siren", |u| {
            u.organisation.siren = "81234567".into()
        }),
        ("organisation.vat_id", |u| {
            u.organisation.vat_id = "45812345678".into()
        }),
        ("currency", |u| u.currency = "euro".into()),
        ("name", |u| u.name = String::new()),
        ("organisation.address.country", |u| {
            u.organisation.address.country = "France".into()
        }),
        ("document_patterns.invoice", |u| {
            u.document_patterns.invoice = "FA-{YYYY}".into()
        }),
        ("organisation.share_capital", |u| {
            u.organisation.share_capital = Some(rust_decimal::Decimal::new(-1, 0))
        }),
    ];
    for (field, spoil) in cases {
        given::<Shop>([created()])
            .when(update_profile(update_of(spoil), false))
            .then_err(|e| matches!(e, DomainError::Validation { field: f, .. } if f == field));
    }
    given::<Shop>([])
        .when(update_profile(update_of(moved), false))
        .then_err_code("not-found");
}

#[test]
fn the_currency_is_fixed_once_an_invoice_exists() {
    // Proves the currency changes before the first invoice and is refused after it.
    let dollars = update_of(|u| u.currency = "USD".into());
    given::<Shop>([created()])
        .when(update_profile(dollars.clone(), false))
        .then([profile_updated(dollars.clone())]);
    given::<Shop>([created()])
        .when(update_profile(dollars, true))
        .then_err(|e| matches!(e, DomainError::Validation { field, .. } if field == "currency"));
    // The rest of the profile still changes after invoices, the currency kept.
    given::<Shop>([created()])
        .when(update_profile(update_of(moved), true))
        .then([profile_updated(update_of(moved))]);
}

#[test]
fn a_pattern_changes_only_to_one_that_cannot_repeat_a_number() {
    // Proves a series takes a pattern told apart from all its earlier ones and every other
    // series' patterns, and never one that could print a number they could have printed
    // (returning to an old one and swapping two series included).
    let new_prefix = update_of(|u| u.document_patterns.invoice = "F{YYYY}/{seq:05}".into());
    given::<Shop>([created()])
        .when(update_profile(new_prefix.clone(), true))
        .then([profile_updated(new_prefix.clone())]);
    // Narrower padding: "FA-2026-100000" could come back.
    let narrower = update_of(|u| u.document_patterns.invoice = "FA-{YYYY}-{seq:04}".into());
    given::<Shop>([created()])
        .when(update_profile(narrower, false))
        .then_err(|e| {
            matches!(e, DomainError::Validation { field, .. } if field == "document_patterns.invoice")
        });
    // Back to the first pattern after a change: its numbers are taken.
    given::<Shop>([created(), profile_updated(new_prefix)])
        .when(update_profile(shop_profile().editable(), false))
        .then_err(|e| {
            matches!(e, DomainError::Validation { field, .. } if field == "document_patterns.invoice")
        });
    // Swapping two series' patterns would give an invoice a credit note's number.
    let swapped = update_of(|u| {
        std::mem::swap(
            &mut u.document_patterns.invoice,
            &mut u.document_patterns.credit_note,
        )
    });
    given::<Shop>([created()])
        .when(update_profile(swapped, false))
        .then_err(|e| {
            matches!(e, DomainError::Validation { field, .. } if field == "document_patterns.invoice")
        });
    // Two series changed at once may not overlap each other either.
    let twins = update_of(|u| {
        u.document_patterns.invoice = "X{seq}".into();
        u.document_patterns.credit_note = "X{seq:1}".into();
    });
    given::<Shop>([created()])
        .when(update_profile(twins, false))
        .then_err(|e| {
            matches!(e, DomainError::Validation { field, .. } if field == "document_patterns.invoice")
        });
    // A quote pattern replacing the default is checked against the default it had.
    let quotes = update_of(|u| u.document_patterns.quote = Some("DE-{YY}-{seq:06}".into()));
    given::<Shop>([created()])
        .when(update_profile(quotes, false))
        .then([profile_updated(update_of(|u| {
            u.document_patterns.quote = Some("DE-{YY}-{seq:06}".into())
        }))]);
}

#[test]
fn pattern_changes_are_bounded() {
    // Proves a series' pattern history stops growing at its bound.
    let mut events = vec![created()];
    let mut shop = given::<Shop>(events.clone())
        .when(update_profile(shop_profile().editable(), false))
        .then([]);
    for index in 1..crate::limits::PATTERNS_PER_SERIES_MAX {
        let update = update_of(|u| u.document_patterns.invoice = format!("P{index}X{{seq}}"));
        let new_events = shop
            .decide(
                &update_profile(update, false),
                &crate::testing::TestEnvironment::new(),
            )
            .expect("a fresh prefix is accepted");
        shop = new_events.iter().fold(shop, |s, e| s.evolve(e));
        events.extend(new_events);
    }
    let one_more = update_of(|u| u.document_patterns.invoice = "LASTX{seq}".into());
    given::<Shop>(events)
        .when(update_profile(one_more, false))
        .then_err_code("limit-exceeded");
}

#[test]
fn a_shop_without_a_closing_day_closes_on_31_december() {
    // Proves the default fiscal year is the calendar year, for shops whose events name none.
    let profile = shop_profile();
    assert_eq!(profile.fiscal_year_end, None);
    let end = profile.fiscal_year_end();
    assert!(end.is_default());
    assert_eq!(end.text(), "12-31");
    assert_eq!(
        end.closing_date(2026),
        chrono::NaiveDate::from_ymd_opt(2026, 12, 31)
    );
}

#[test]
fn a_shop_is_created_with_a_closing_day_of_every_year_only() {
    // Proves the closing day given at creation is recorded, and a day that is not one of every
    // year (29 February, 31 June, month 13, a badly written one) refuses the creation.
    let mut profile = shop_profile();
    profile.fiscal_year_end = Some("06-30".into());
    let shop = given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile.clone())))
        .then([ShopEvent::ShopCreated {
            profile: Box::new(profile),
            created_at: test_now(),
        }]);
    let end = shop.profile.expect("created").fiscal_year_end();
    assert_eq!(end.text(), "06-30");
    assert_eq!(
        end.closing_date(2027),
        chrono::NaiveDate::from_ymd_opt(2027, 6, 30)
    );
    for bad in [
        "02-29", "06-31", "13-01", "00-10", "6-30", "06/30", "0630", "06-3a", "é6-30",
    ] {
        let mut profile = shop_profile();
        profile.fiscal_year_end = Some(bad.into());
        given::<Shop>([])
            .when(ShopCommand::Create(Box::new(profile)))
            .then_err(|e| {
                matches!(e, DomainError::Validation { field, .. } if field == "fiscal_year_end")
            });
    }
}

#[test]
fn the_refusal_of_29_february_says_why() {
    // Proves the message of a 29 February closing day names the reason and the alternative.
    let Err(DomainError::Validation { message, .. }) = FiscalYearEnd::parse("02-29") else {
        panic!("29 February must be refused");
    };
    assert!(message.contains("02-28"), "{message}");
    assert_eq!(
        FiscalYearEnd::parse("02-28").ok().map(FiscalYearEnd::text),
        Some("02-28".into())
    );
}

#[test]
fn a_manager_changes_the_closing_day_with_the_profile() {
    // Proves the closing day is part of the profile update: recorded once, in force after,
    // validated, and 31 December stated is the default (no change, no event).
    let june = update_of(|u| u.fiscal_year_end = Some("06-30".into()));
    let shop = given::<Shop>([created()])
        .when(update_profile(june.clone(), true))
        .then([profile_updated(june.clone())]);
    let profile = shop.profile.expect("shop");
    assert_eq!(profile.fiscal_year_end().text(), "06-30");
    assert_eq!(profile.editable(), june);
    given::<Shop>([created(), profile_updated(june.clone())])
        .when(update_profile(june.clone(), false))
        .then([]);
    given::<Shop>([created()])
        .when(update_profile(
            update_of(|u| u.fiscal_year_end = Some("12-31".into())),
            false,
        ))
        .then([]);
    // Back to the calendar year: an update without a closing day states the default.
    let calendar = update_of(|u| u.fiscal_year_end = None);
    let shop = given::<Shop>([created(), profile_updated(june)])
        .when(update_profile(calendar.clone(), false))
        .then([profile_updated(calendar)]);
    assert!(shop.profile.expect("shop").fiscal_year_end().is_default());
    given::<Shop>([created()])
        .when(update_profile(
            update_of(|u| u.fiscal_year_end = Some("02-29".into())),
            false,
        ))
        .then_err(
            |e| matches!(e, DomainError::Validation { field, .. } if field == "fiscal_year_end"),
        );
}

#[test]
fn the_shop_keeps_its_fiscal_calendar_from_its_events() {
    // Proves the aggregate folds the change of closing day on the update's local day: 31
    // December changed to 30 June on 14 March 2025 makes January – June 2025 the fiscal year
    // 2025, and the calendar year 2024 stays as it was.
    let june = update_of(|u| u.fiscal_year_end = Some("06-30".into()));
    let shop = given::<Shop>([created()])
        .when(update_profile(june.clone(), false))
        .then([profile_updated(june)]);
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let bounds = |year| {
        shop.fiscal_calendar
            .year_closing_in(year)
            .map(|y| (y.first_day, y.closing_day))
    };
    assert_eq!(bounds(2024), Some((day(2024, 1, 1), day(2024, 12, 31))));
    assert_eq!(bounds(2025), Some((day(2025, 1, 1), day(2025, 6, 30))));
    assert_eq!(bounds(2026), Some((day(2025, 7, 1), day(2026, 6, 30))));
}

#[test]
fn a_change_of_closing_day_stretching_the_year_past_24_months_is_refused() {
    // Proves decide applies the calendar's cap: a change on 20 December 2024 to 30 June made
    // 1 January 2024 – 30 June 2025 one year; on 14 March 2025, 28 February would stretch it
    // to 28 February 2026 (26 months) and is refused, 30 April (16 months) is recorded.
    let june = update_of(|u| u.fiscal_year_end = Some("06-30".into()));
    let early = ShopEvent::ShopProfileUpdated {
        shop_id: shop_id(),
        update: Box::new(june),
        updated_at: chrono::DateTime::parse_from_rfc3339("2024-12-20T10:00:00Z")
            .expect("instant")
            .with_timezone(&Utc),
    };
    let february = update_of(|u| u.fiscal_year_end = Some("02-28".into()));
    given::<Shop>([created(), early.clone()])
        .when(update_profile(february, false))
        .then_err(
            |e| matches!(e, DomainError::Validation { field, .. } if field == "fiscal_year_end"),
        );
    let april = update_of(|u| u.fiscal_year_end = Some("04-30".into()));
    given::<Shop>([created(), early])
        .when(update_profile(april.clone(), false))
        .then([profile_updated(april)]);
}
