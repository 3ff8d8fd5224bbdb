//! The online shop's settings (seed 000, "Paramètres") and its QR codes, end to end: a manager
//! sets the description, contact, hours, terms of sale, online payment and links; every role
//! reads them; bad settings are refused naming the field and change nothing; QR codes read back
//! as the links the settings give.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{photo_shop, set_clock, Api, PhotoShop, Reply};
use crate::openapi::{conforms, served_document};
use crate::support::{spawn_app, spawn_app_with_test_clock};

const STOREFRONT: &str = "/v1/shops/{shop_id}/storefront";

fn settings() -> Value {
    let day = json!([{"opens": "09:30", "closes": "12:30"}, {"opens": "14:00", "closes": "19:00"}]);
    json!({
        "description": "Tirages en une heure.\nEncadrement sur mesure.",
        "contact": {"email": "Contact@Studio-Lumiere.example", "phone": "+33 4 78 00 00 00"},
        "opening_hours": {
            "week": {"tuesday": day, "saturday": day},
            "closed_days": [{"date": "2026-12-25", "note": "Noël"}],
        },
        "terms_of_sale": "Article 1 — Objet.\nLes présentes conditions…",
        "online_payment": {"stripe": {"enabled": true, "publishable_key": "pk_test_51Hx0abcDEF"},
            "paypal": {"enabled": false, "client_id": "AbCdEf-123_xyz"}},
        "links": {"storefront_url": "https://studio-lumiere.example",
            "product_url_pattern": "https://studio-lumiere.example/produits/{sku}?ref=qr",
            "category_url_pattern": "https://studio-lumiere.example/c/{id}"},
    })
}

async fn put_settings(shop: &PhotoShop, body: &Value) -> Reply {
    let path = shop.path("/storefront");
    let etag = shop.manager.get(&path).await.expect(200).etag;
    shop.manager.put(&path, body, Some(&etag), None).await
}

#[tokio::test]
async fn a_manager_sets_the_storefront_and_every_role_reads_it() {
    // Proves the empty default, who may read and change the settings, the e-mail kept in lower
    // case, terms versioned by change only, the providers offered, conditional updates and an
    // idempotent retry, and that the answers match `/openapi.json`.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let path = shop.path("/storefront");
    let empty = shop.as_role("employee").get(&path).await.expect(200);
    conforms(&document, Method::GET, STOREFRONT, &empty);
    assert_eq!(empty.body["terms_version"], 0);
    assert_eq!(empty.body["open_now"], false);
    assert_eq!(empty.body["payment_providers_offered"], json!([]));
    assert_eq!(empty.body["time_zone"], "Europe/Paris");

    shop.as_role("employee")
        .put(&path, &settings(), Some(&empty.etag), None)
        .await
        .expect_problem(403, "forbidden");
    shop.manager
        .put(&path, &settings(), None, None)
        .await
        .expect_problem(428, "precondition-required");
    let set = shop
        .manager
        .put(&path, &settings(), Some(&empty.etag), Some("storefront-1"))
        .await
        .expect(200);
    conforms(&document, Method::PUT, STOREFRONT, &set);
    assert_eq!(
        set.body["contact"]["email"],
        "contact@studio-lumiere.example"
    );
    assert_eq!(set.body["terms_version"], 1);
    assert_eq!(set.body["payment_providers_offered"], json!(["stripe"]));
    let after_set = shop.manager.head_position().await;
    let again = shop
        .manager
        .put(&path, &settings(), Some(&empty.etag), Some("storefront-1"))
        .await
        .expect(200);
    assert!(again.replayed, "a retried key answers the first answer");
    assert_eq!(shop.manager.head_position().await, after_set);
    let mut stale_edit = settings();
    stale_edit["description"] = json!("Écrit sur une version périmée.");
    shop.manager
        .put(&path, &stale_edit, Some(&empty.etag), None)
        .await
        .expect_problem(412, "precondition-failed");

    for role in ["storefront", "accountant", "printer"] {
        let read = shop.as_role(role).get(&path).await.expect(200);
        assert_eq!(read.etag, set.etag, "{role}");
        assert_eq!(
            read.body["online_payment"]["stripe"]["publishable_key"],
            "pk_test_51Hx0abcDEF"
        );
        assert_eq!(
            read.body["opening_hours"]["week"]["tuesday"][1]["closes"],
            "19:00"
        );
    }

    let mut described = settings();
    described["description"] = json!("Nouveau : tirages grand format.");
    let changed = put_settings(&shop, &described).await.expect(200);
    assert_eq!(changed.body["terms_version"], 1, "the terms did not change");
    let mut new_terms = described.clone();
    new_terms["terms_of_sale"] = json!("Article 1 — nouvelle rédaction.");
    let changed = put_settings(&shop, &new_terms).await.expect(200);
    assert_eq!(changed.body["terms_version"], 2);
    assert!(changed.body["terms_changed_at"].is_string());

    let other = photo_shop(&app, "Autre boutique").await;
    let foreign = Api::new(&app, &other.keys["manager"]);
    foreign.get(&path).await.expect_problem(404, "not-found");
}

/// Makes one part of good settings bad.
type Spoil = fn(&mut Value);

#[tokio::test]
async fn bad_settings_are_refused_naming_the_field_and_change_nothing() {
    // Proves each refusal is a 422 problem naming its field, a Stripe secret key gets its own
    // message, an unknown field is refused as a malformed body, and none of them appends an event.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let path = shop.path("/storefront");
    let etag = shop.manager.get(&path).await.expect(200).etag;
    let cases: Vec<(&str, Spoil)> = vec![
        ("opening_hours.week.tuesday[0].opens", |s| {
            s["opening_hours"]["week"]["tuesday"][0]["opens"] = json!("9h30")
        }),
        ("opening_hours.week.saturday[1]", |s| {
            s["opening_hours"]["week"]["saturday"][1]["opens"] = json!("12:00")
        }),
        ("secret key", |s| {
            s["online_payment"]["stripe"]["publishable_key"] = json!("sk_live_51Hx0abcDEF")
        }),
        ("contact.email", |s| {
            s["contact"]["email"] = json!("pas-une-adresse")
        }),
        ("contact.phone", |s| {
            s["contact"]["phone"] = json!("appelez-nous")
        }),
        ("links.product_url_pattern", |s| {
            s["links"]["product_url_pattern"] = json!("https://studio-lumiere.example/produits")
        }),
        ("links.storefront_url", |s| {
            s["links"]["storefront_url"] = json!("javascript:alert(1)")
        }),
        ("terms_of_sale", |s| s["terms_of_sale"] = json!("  ")),
    ];
    let before = shop.manager.head_position().await;
    for (field, spoil) in cases {
        let mut body = settings();
        spoil(&mut body);
        let reply = shop.manager.put(&path, &body, Some(&etag), None).await;
        reply.expect_problem(422, "validation");
        assert!(
            reply.raw.contains(field),
            "{field} not named: {}",
            reply.raw
        );
    }
    let mut unknown = settings();
    unknown["online_payment"]["stripe"]["secret_key"] = json!("sk_live_51Hx0abcDEF");
    let reply = shop.manager.put(&path, &unknown, Some(&etag), None).await;
    reply.expect_problem(400, "invalid-request");
    assert!(reply.raw.contains("secret_key"), "{}", reply.raw);
    assert_eq!(
        shop.manager.head_position().await,
        before,
        "nothing appended"
    );
}

#[tokio::test]
async fn the_storefront_says_whether_the_shop_is_open_in_its_zone() {
    // Proves `open_now` follows the hours in the shop's zone (Paris, UTC+1 in March), the gap
    // at lunch, a day without hours and a closed day.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    let shop = photo_shop(&app, "Studio Lumière").await;
    let mut body = settings();
    body["opening_hours"]["closed_days"] = json!([{"date": "2026-03-14", "note": "Inventaire"}]);
    put_settings(&shop, &body).await.expect(200);
    let path = shop.path("/storefront");
    // 2026-03-10 is a Tuesday, 2026-03-09 a Monday, 2026-03-14 a Saturday.
    for (now, open) in [
        ("2026-03-10T08:30:00Z", true),
        ("2026-03-10T11:45:00Z", false),
        ("2026-03-10T13:00:00Z", true),
        ("2026-03-10T18:00:00Z", false),
        ("2026-03-09T10:00:00Z", false),
        ("2026-03-14T10:00:00Z", false),
    ] {
        set_clock(&owner, now).await;
        let read = shop.manager.get(&path).await.expect(200);
        assert_eq!(read.body["open_now"], open, "at {now}");
    }
}

/// The dark modules of a QR code served as SVG by `qrcode`'s renderer: one `M{x} {y}h{s}…`
/// square per module, on a white background of `side` pixels.
fn svg_modules(svg: &str) -> (usize, usize, Vec<(usize, usize)>) {
    let number = |text: &str, after: &str| -> usize {
        let rest = &text[text.find(after).expect("attribute") + after.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().expect("a number")
    };
    let side = number(svg, "width=\"");
    let path = &svg[svg.find(" d=\"").expect("a path") + 4..];
    let path = &path[..path.find('"').expect("closed")];
    let mut module = 0;
    let squares = path
        .split('M')
        .filter(|square| !square.is_empty())
        .map(|square| {
            let x: usize = square
                .split(' ')
                .next()
                .and_then(|x| x.parse().ok())
                .expect("x");
            let y = number(square, " ");
            module = number(square, "h");
            (x, y)
        })
        .collect();
    (side, module, squares)
}

/// Reads the QR code in an SVG back, as a phone's camera would.
fn read_qr(svg: &str) -> String {
    let (side, module, squares) = svg_modules(svg);
    let dark: std::collections::HashSet<(usize, usize)> = squares
        .into_iter()
        .map(|(x, y)| (x / module, y / module))
        .collect();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        if dark.contains(&(x / module, y / module)) {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    let (_, content) = grids.first().expect("a code").decode().expect("decodes");
    content
}

#[tokio::test]
async fn qr_codes_lead_to_the_shop_a_category_and_a_product() {
    // Proves each code decodes to the link its pattern gives (the SKU percent-encoded), a code
    // with no link set is a 409 naming the setting, unknown ids are 404, sizes are bounded,
    // an employee may make codes and a printer key may not.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let employee = shop.as_role("employee");
    let products = employee.get(&shop.path("/products")).await.expect(200);
    let product = &products.body["items"][0];
    let product_id = product["product_id"].as_str().expect("an id");
    let sku = product["sku"].as_str().expect("a sku");
    let categories = employee.get(&shop.path("/categories")).await.expect(200);
    let category_id = categories.body[0]["category_id"].as_str().expect("an id");
    let shop_code = shop.path("/qr-codes/shop");
    let product_code = shop.path(&format!("/qr-codes/products/{product_id}"));
    let category_code = shop.path(&format!("/qr-codes/categories/{category_id}"));

    let missing = employee.get(&shop_code).await;
    missing.expect_problem(409, "storefront-link-missing");
    assert!(missing.raw.contains("storefront_url"), "{}", missing.raw);

    put_settings(&shop, &settings()).await.expect(200);
    let code = employee.get(&shop_code).await.expect(200);
    assert_eq!(code.content_type, "image/svg+xml");
    assert_eq!(read_qr(&code.raw), "https://studio-lumiere.example");
    let encoded_sku: String = sku
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    let code = employee.get(&product_code).await.expect(200);
    assert_eq!(
        read_qr(&code.raw),
        format!("https://studio-lumiere.example/produits/{encoded_sku}?ref=qr")
    );
    let code = employee.get(&category_code).await.expect(200);
    assert_eq!(
        read_qr(&code.raw),
        format!("https://studio-lumiere.example/c/{category_id}")
    );
    let big = employee
        .get(&format!("{shop_code}?size_px=1024"))
        .await
        .expect(200);
    assert!(svg_modules(&big.raw).0 >= 1024);
    employee
        .get(&format!("{shop_code}?size_px=20"))
        .await
        .expect_problem(422, "validation");
    let unknown = "00000000-0000-4000-8000-000000000000";
    employee
        .get(&shop.path(&format!("/qr-codes/products/{unknown}")))
        .await
        .expect_problem(404, "not-found");
    employee
        .get(&shop.path(&format!("/qr-codes/categories/{unknown}")))
        .await
        .expect_problem(404, "not-found");
    shop.as_role("printer")
        .get(&shop_code)
        .await
        .expect_problem(403, "forbidden");
}
