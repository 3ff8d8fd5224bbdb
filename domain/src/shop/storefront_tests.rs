use super::*;
use crate::fixtures::{id, shop_id, shop_profile};
use crate::testing::{given, test_now};
use chrono::{Duration, NaiveDate, NaiveTime};

fn created() -> ShopEvent {
    ShopEvent::ShopCreated {
        profile: Box::new(shop_profile()),
        created_at: test_now(),
    }
}

fn time(text: &str) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M").expect("time")
}

fn interval(opens: &str, closes: &str) -> OpenInterval {
    OpenInterval {
        opens: time(opens),
        closes: time(closes),
    }
}

fn settings() -> StorefrontSettings {
    let day = vec![interval("09:30", "12:30"), interval("14:00", "19:00")];
    StorefrontSettings {
        description: Some("Tirages photo en une heure.\nEncadrement sur mesure.".into()),
        contact: ShopContact {
            email: Some("contact@studio-lumiere.example".into()),
            phone: Some("+33 4 78 00 00 00".into()),
            address: None,
        },
        opening_hours: OpeningHours {
            week: WeekHours {
                tuesday: day.clone(),
                saturday: day,
                ..WeekHours::default()
            },
            closed_days: vec![ClosedDay {
                date: NaiveDate::from_ymd_opt(2025, 12, 25).expect("date"),
                note: Some("Noël".into()),
            }],
        },
        terms_of_sale: Some("Article 1 — Objet.\n\tLes présentes conditions…".into()),
        online_payment: OnlinePayment {
            paypal: None,
            stripe: Some(StripeSettings {
                enabled: true,
                publishable_key: "pk_test_51Hx0abcDEF".into(),
                account_id: None,
            }),
        },
        links: StorefrontLinks {
            storefront_url: Some("https://studio-lumiere.example".into()),
            product_url_pattern: Some("https://studio-lumiere.example/p/{sku}".into()),
            category_url_pattern: None,
        },
    }
}

fn set(settings: &StorefrontSettings) -> ShopCommand {
    ShopCommand::SetStorefront(Box::new(settings.clone()))
}

fn changed(settings: &StorefrontSettings) -> ShopEvent {
    ShopEvent::StorefrontChanged {
        shop_id: shop_id(),
        settings: Box::new(settings.clone()),
        changed_at: test_now(),
    }
}

#[test]
fn sets_the_storefront_once_per_change() {
    // Proves a shop starts with empty settings, records a change once, and a retry or a
    // no-op edit appends nothing; a shop that does not exist is "not found".
    assert_eq!(
        Shop::default().evolve(&created()).storefront,
        StorefrontSettings::default()
    );
    let shop = given::<Shop>([created()])
        .when(set(&settings()))
        .then([changed(&settings())]);
    assert_eq!(shop.storefront, settings());
    given::<Shop>([created(), changed(&settings())])
        .when(set(&settings()))
        .then([]);
    given::<Shop>([])
        .when(set(&settings()))
        .then_err_code("not-found");
}

#[test]
fn terms_of_sale_are_versioned() {
    // Proves the version counts changes of the terms only, and keeps counting after they are
    // removed and set again.
    let shop = crate::testing::replay::<Shop>(&[created()]);
    assert_eq!((shop.terms_version, shop.terms_changed_at), (0, None));
    let first = settings();
    let mut other_description = first.clone();
    other_description.description = Some("Autre".into());
    let mut new_terms = first.clone();
    new_terms.terms_of_sale = Some("Article 1 — nouvelle version".into());
    let mut no_terms = first.clone();
    no_terms.terms_of_sale = None;
    let later = |settings: &StorefrontSettings, minutes: i64| ShopEvent::StorefrontChanged {
        shop_id: shop_id(),
        settings: Box::new(settings.clone()),
        changed_at: test_now() + Duration::minutes(minutes),
    };
    let shop = crate::testing::replay::<Shop>(&[
        created(),
        later(&first, 1),
        later(&other_description, 2),
    ]);
    assert_eq!(shop.terms_version, 1);
    assert_eq!(
        shop.terms_changed_at,
        Some(test_now() + Duration::minutes(1))
    );
    let shop = crate::testing::replay::<Shop>(&[
        created(),
        later(&first, 1),
        later(&new_terms, 2),
        later(&no_terms, 3),
        later(&first, 4),
    ]);
    assert_eq!(shop.terms_version, 3);
    assert_eq!(
        shop.terms_changed_at,
        Some(test_now() + Duration::minutes(4))
    );
}

type Spoil = fn(&mut StorefrontSettings);

#[test]
fn refuses_bad_settings_naming_the_field() {
    // Proves each rule: text sizes and characters, contact shapes, hours in order, closed days
    // in order, provider ids, a Stripe secret key, URLs and link patterns.
    let cases: Vec<(&str, Spoil)> = vec![
        ("description", |s| s.description = Some("  ".into())),
        ("description", |s| {
            s.description = Some("x".repeat(DESCRIPTION_CHARS_MAX + 1))
        }),
        ("terms_of_sale", |s| {
            s.terms_of_sale = Some("a\u{7}b".into())
        }),
        ("contact.email", |s| {
            s.contact.email = Some("no-at-sign".into())
        }),
        ("contact.email", |s| {
            s.contact.email = Some("Contact@Studio.example".into())
        }),
        ("contact.phone", |s| {
            s.contact.phone = Some("call me".into())
        }),
        ("opening_hours.week.tuesday[1]", |s| {
            s.opening_hours.week.tuesday[1] = interval("12:00", "13:00")
        }),
        ("opening_hours.week.saturday[0]", |s| {
            s.opening_hours.week.saturday[0] = interval("19:00", "09:00")
        }),
        ("opening_hours.week.monday", |s| {
            s.opening_hours.week.monday = (0..5)
                .map(|h| interval(&format!("0{h}:00"), &format!("0{h}:30")))
                .collect()
        }),
        ("opening_hours.closed_days[1].date", |s| {
            let again = s.opening_hours.closed_days[0].clone();
            s.opening_hours.closed_days.push(again)
        }),
        ("online_payment.stripe.publishable_key", |s| {
            if let Some(stripe) = s.online_payment.stripe.as_mut() {
                stripe.publishable_key = "sk_live_51Hx0abcDEF".into();
            }
        }),
        ("online_payment.stripe.publishable_key", |s| {
            if let Some(stripe) = s.online_payment.stripe.as_mut() {
                stripe.publishable_key = "pk_live_ab cd".into();
            }
        }),
        ("online_payment.stripe.account_id", |s| {
            if let Some(stripe) = s.online_payment.stripe.as_mut() {
                stripe.account_id = Some("12345".into());
            }
        }),
        ("online_payment.paypal.client_id", |s| {
            s.online_payment.paypal = Some(PayPalSettings {
                enabled: true,
                client_id: "ab".into(),
            })
        }),
        ("links.storefront_url", |s| {
            s.links.storefront_url = Some("ftp://studio.example".into())
        }),
        ("links.storefront_url", |s| {
            s.links.storefront_url = Some("https:///path".into())
        }),
        ("links.product_url_pattern", |s| {
            s.links.product_url_pattern = Some("https://studio.example/p/".into())
        }),
        ("links.category_url_pattern", |s| {
            s.links.category_url_pattern = Some("https://studio.example/c/{sku}".into())
        }),
    ];
    for (field, spoil) in cases {
        let mut bad = settings();
        spoil(&mut bad);
        given::<Shop>([created()])
            .when(set(&bad))
            .then_err(|error| match error {
                DomainError::Validation { field: got, .. } => got == field,
                _ => false,
            });
    }
}

#[test]
fn a_secret_key_is_refused_with_its_own_message() {
    // Proves the refusal tells the manager what went wrong, not only that the shape is off.
    let mut bad = settings();
    if let Some(stripe) = bad.online_payment.stripe.as_mut() {
        stripe.publishable_key = "rk_live_51Hx0abcDEF".into();
    }
    given::<Shop>([created()])
        .when(set(&bad))
        .then_err(|error| error.to_string().contains("secret key"));
}

#[test]
fn tells_whether_the_shop_is_open() {
    // Proves intervals include their opening and exclude their closing minute, closed days win
    // over the week, and a day without intervals is closed.
    let hours = settings().opening_hours;
    let at = |date: (i32, u32, u32), hhmm: &str| {
        NaiveDate::from_ymd_opt(date.0, date.1, date.2)
            .expect("date")
            .and_time(time(hhmm))
    };
    // 2025-12-23 is a Tuesday, 2025-12-22 a Monday.
    assert!(hours.is_open_at(at((2025, 12, 23), "09:30")));
    assert!(!hours.is_open_at(at((2025, 12, 23), "12:30")));
    assert!(hours.is_open_at(at((2025, 12, 23), "18:59")));
    assert!(!hours.is_open_at(at((2025, 12, 22), "10:00")));
    // 2025-12-25 is a Thursday, closed anyway; 2025-12-27 a Saturday.
    assert!(hours.is_open_at(at((2025, 12, 27), "15:00")));
    let mut christmas_saturday = hours.clone();
    christmas_saturday.closed_days[0].date = NaiveDate::from_ymd_opt(2025, 12, 27).expect("date");
    assert!(!christmas_saturday.is_open_at(at((2025, 12, 27), "15:00")));
}

#[test]
fn builds_links_to_products_and_categories() {
    // Proves the placeholders are replaced, a SKU is percent-encoded, and no pattern means no link.
    let links = settings().links;
    assert_eq!(
        links.product_url(id(7), "TIR 10x15/mat").as_deref(),
        Some("https://studio-lumiere.example/p/TIR%2010x15%2Fmat")
    );
    assert_eq!(links.category_url(id(8)), None);
    let by_id = StorefrontLinks {
        category_url_pattern: Some("https://s.example/c/{id}?ref=qr".into()),
        ..StorefrontLinks::default()
    };
    assert_eq!(
        by_id.category_url(id(8)),
        Some(format!("https://s.example/c/{}?ref=qr", id(8)))
    );
}

#[test]
fn lists_the_providers_offered() {
    // Proves a provider counts only when enabled.
    let mut payment = settings().online_payment;
    assert_eq!(payment.offered(), vec!["stripe"]);
    payment.paypal = Some(PayPalSettings {
        enabled: false,
        client_id: "AbCdEf-123_xyz".into(),
    });
    assert_eq!(payment.offered(), vec!["stripe"]);
    if let Some(paypal) = payment.paypal.as_mut() {
        paypal.enabled = true;
    }
    assert_eq!(payment.offered(), vec!["paypal", "stripe"]);
}
