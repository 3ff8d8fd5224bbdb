//! One `If-Match` rule for every update of the API: each PUT route answers 428 without
//! `If-Match`, 412 with a stale one (appending nothing either way), and 200 with a new `ETag`
//! (the one its GET answers next) with the current one.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{photo_shop, Api, PhotoShop, Reply};
use crate::customer_space::claire;
use crate::openapi::{conforms, served_document};
use crate::support::spawn_app;

/// PUT routes that are not updates: an order file is written once (a second upload under its
/// name with other bytes is a 409), so there is no earlier representation to match.
const CREATE_ONLY_PUTS: &[&str] = &["/v1/shops/{shop_id}/orders/{order_id}/files/{name}"];

/// An update to exercise: the resource's GET, its PUT, and a body that changes it.
struct Update {
    template: &'static str,
    read: String,
    write: String,
    body: Value,
}

/// One update of every PUT route, on resources set up in `shop`.
async fn every_update(shop: &PhotoShop) -> Vec<Update> {
    let manager = &shop.manager;
    let products = manager.get(&shop.path("/products")).await.expect(200);
    let product_id = products.body["items"][0]["product_id"]
        .as_str()
        .expect("a product")
        .to_string();
    let product = shop.path(&format!("/products/{product_id}"));
    let details = format!("{product}/details");
    let mut renamed = manager.get(&product).await.expect(200).body;
    renamed["name"] = json!("Tirage 10x15 satiné");

    let colissimo = shop.path(&format!("/delivery-methods/{}", shop.delivery["colissimo"]));
    let presentation = format!("{colissimo}/presentation");
    let group = shop.path("/pickup-groups/Lyon");
    // A description to start from, which a late writer's edit puts back (see `restore`).
    let look = manager.get(&presentation).await.expect(200);
    manager
        .put(
            &presentation,
            &json!({"description": "Avant"}),
            Some(&look.etag),
            None,
        )
        .await
        .expect(200);
    let banner = crate::banners::link_banner();
    let banner_id = manager
        .post(&shop.path("/banners"), &banner)
        .await
        .expect(201)
        .id("banner_id");
    let banner_path = shop.path(&format!("/banners/{banner_id}"));
    let mut banner_edit = banner.clone();
    banner_edit["title"] = json!("Gagnez deux appareils");
    // A description to start from, which a late writer's edit puts back (see `restore`).
    let storefront = shop.path("/storefront");
    let empty = manager.get(&storefront).await.expect(200);
    manager
        .put(
            &storefront,
            &json!({"description": "Avant"}),
            Some(&empty.etag),
            None,
        )
        .await
        .expect(200);
    let (customer_id, _) = claire(shop).await;
    let coupon_body = json!({"name": "Printemps", "starts_on": "2024-01-01", "ends_on": "2030-12-31",
        "scope": {"order": {"reduction": {"percent": "10"}}},
        "audience": {"all_customers": {"max_total_uses": null, "max_uses_per_customer": null}}});
    let coupon_id = manager
        .post(&shop.path("/coupons"), &coupon_body)
        .await
        .expect(201)
        .id("coupon_id");
    let mut coupon_edit = coupon_body.clone();
    coupon_edit["name"] = json!("Printemps bis");
    let schedule = json!({"recipients": ["a@example.fr"], "frequency": "weekly", "format": "xlsx"});
    let schedule_id = manager
        .post(&shop.path("/report-schedules"), &schedule)
        .await
        .expect(201)
        .id("schedule_id");
    let mut mapping = manager
        .get(&shop.path("/ledger/mapping"))
        .await
        .expect(200)
        .body;
    mapping["goods_sales"] = json!("7071");

    // The zone has its own update (above): the profile is sent without it.
    let mut profile = manager.get(&shop.path("")).await.expect(200).body;
    profile.as_object_mut().expect("shop").remove("time_zone");
    profile["payment_terms"] = json!("Payable à 30 jours");
    let categories = manager.get(&shop.path("/categories")).await.expect(200);
    let category_id = categories.body[0]["category_id"]
        .as_str()
        .expect("a category");
    let category = shop.path(&format!("/categories/{category_id}"));
    let relais = shop.path(&format!("/delivery-methods/{}", shop.delivery["relais"]));
    let mut terms = manager.get(&relais).await.expect(200).body;
    terms["price"] = json!("4.50");
    let point = crate::shop_profile::add_pickup_point(shop).await;
    let mut moved = manager.get(&point).await.expect(200).body;
    moved["name"] = json!("Relais Bellecour Sud");

    let customer = shop.path(&format!("/customers/{customer_id}"));
    let coupon = shop.path(&format!("/coupons/{coupon_id}"));
    let schedule_path = shop.path(&format!("/report-schedules/{schedule_id}"));
    let siren = shop.fixture["organisation"]["siren"]
        .as_str()
        .expect("siren");
    let seats = format!("/v1/organisations/{siren}/staff-seats");
    vec![
        Update {
            template: "/v1/shops/{shop_id}/products/{product_id}",
            read: product.clone(),
            write: product,
            body: renamed,
        },
        Update {
            template: "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}/visibility",
            read: colissimo.clone(),
            write: format!("{colissimo}/visibility"),
            body: json!({"visible": false}),
        },
        Update {
            template: "/v1/shops/{shop_id}/customers/{customer_id}",
            read: customer.clone(),
            write: customer,
            body: json!({"first_name": "Claire", "last_name": "Martin-Dupont"}),
        },
        Update {
            template: "/v1/shops/{shop_id}/coupons/{coupon_id}",
            read: coupon.clone(),
            write: coupon,
            body: coupon_edit,
        },
        Update {
            template: "/v1/shops/{shop_id}/loyalty-rule",
            read: shop.path("/loyalty-rule"),
            write: shop.path("/loyalty-rule"),
            body: json!({"points_per_unit": "2"}),
        },
        Update {
            template: "/v1/shops/{shop_id}/time-zone",
            read: shop.path("/time-zone"),
            write: shop.path("/time-zone"),
            body: json!({"time_zone": "America/Martinique"}),
        },
        Update {
            template: "/v1/shops/{shop_id}/ledger/mapping",
            read: shop.path("/ledger/mapping"),
            write: shop.path("/ledger/mapping"),
            body: mapping,
        },
        Update {
            template: "/v1/shops/{shop_id}",
            read: shop.path(""),
            write: shop.path(""),
            body: profile,
        },
        Update {
            template: "/v1/shops/{shop_id}/categories/{category_id}",
            read: category.clone(),
            write: category,
            body: json!({"name": "Tirages d'art"}),
        },
        Update {
            template: "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}",
            read: relais.clone(),
            write: relais,
            body: terms,
        },
        Update {
            template: "/v1/shops/{shop_id}/pickup-points/{pickup_point_id}",
            read: point.clone(),
            write: point,
            body: moved,
        },
        Update {
            template: "/v1/shops/{shop_id}/report-schedules/{schedule_id}",
            read: schedule_path.clone(),
            write: schedule_path,
            body: json!({"recipients": ["a@example.fr"], "frequency": "half_yearly",
                "format": "xml", "group_by": "payment_type"}),
        },
        Update {
            template: "/v1/shops/{shop_id}/account-form",
            read: shop.path("/account-form"),
            write: shop.path("/account-form"),
            body: json!({"phone": "mandatory", "address": "optional", "extra_fields": [
                {"key": "civilite", "label": "Civilité", "options": ["M.", "Mme"]}]}),
        },
        Update {
            template: "/v1/shops/{shop_id}/products/{product_id}/details",
            read: details.clone(),
            write: details,
            body: json!({"visible": true, "description": "Papier brillant."}),
        },
        Update {
            template: "/v1/shops/{shop_id}/banners/{banner_id}",
            read: banner_path.clone(),
            write: banner_path,
            body: banner_edit,
        },
        Update {
            template: "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}/presentation",
            read: presentation.clone(),
            write: presentation,
            body: json!({"description": "Livré en 48 h.", "background_color": "#1A2B3C"}),
        },
        Update {
            template: "/v1/shops/{shop_id}/pickup-groups/{name}",
            read: group.clone(),
            write: group,
            body: json!({"visible": false}),
        },
        Update {
            template: "/v1/shops/{shop_id}/storefront",
            read: storefront.clone(),
            write: storefront,
            body: json!({"description": "Après", "opening_hours": {"week": {
                "monday": [{"opens": "09:00", "closes": "18:00"}]}}}),
        },
        Update {
            template: "/v1/organisations/{siren}/staff-seats",
            read: seats.clone(),
            write: seats,
            body: json!({"seats": 12}),
        },
    ]
}

/// The routes the served document declares a PUT or PATCH on.
fn documented_updates(document: &Value) -> BTreeSet<String> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .filter(|(_, item)| item.get("put").is_some() || item.get("patch").is_some())
        .map(|(template, _)| template.clone())
        .filter(|template| !CREATE_ONLY_PUTS.contains(&template.as_str()))
        .collect()
}

/// Asserts the document says `If-Match` is required and declares the 412 and 428 answers.
#[track_caller]
fn documents_if_match(document: &Value, template: &str) {
    let operation = &document["paths"][template]["put"];
    let parameters = operation["parameters"].as_array().expect("parameters");
    let if_match = parameters
        .iter()
        .find(|p| p["name"] == "If-Match" && p["in"] == "header")
        .unwrap_or_else(|| panic!("PUT {template} documents no If-Match"));
    assert_eq!(if_match["required"], true, "PUT {template}: {if_match}");
    for status in ["412", "428"] {
        assert!(
            operation["responses"][status].is_object(),
            "PUT {template} documents no {status}"
        );
    }
}

/// A refusal of `status`/`code` that left the log where it was.
async fn refused(api: &Api, reply: Reply, status: u16, code: &str, head: u64, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.raw);
    reply.expect_problem(status, code);
    assert_eq!(api.head_position().await, head, "{what}: nothing appended");
}

async fn check_update(api: &Api, document: &Value, update: &Update) {
    let what = update.template;
    let head = api.head_position().await;
    let missing = api.put(&update.write, &update.body, None, None).await;
    conforms(document, Method::PUT, what, &missing);
    refused(api, missing, 428, "precondition-required", head, what).await;
    let stale = api
        .put(&update.write, &update.body, Some("\"stale\""), None)
        .await;
    conforms(document, Method::PUT, what, &stale);
    refused(api, stale, 412, "precondition-failed", head, what).await;

    let read = api.get(&update.read).await.expect(200);
    assert!(!read.etag.is_empty(), "GET of {what} answers an ETag");
    let written = api
        .put(&update.write, &update.body, Some(&read.etag), None)
        .await;
    conforms(document, Method::PUT, what, &written);
    let written = written.expect(200);
    assert!(
        api.head_position().await > head,
        "{what}: the change is appended"
    );
    assert!(!written.etag.is_empty(), "PUT of {what} answers an ETag");
    assert_ne!(
        written.etag, read.etag,
        "{what}: the ETag follows the change"
    );
    let again = api.get(&update.read).await.expect(200);
    assert_eq!(again.etag, written.etag, "{what}: GET and PUT agree");

    // The ETag read before the change is stale now, for any other change.
    let head = api.head_position().await;
    let mut other = update.body.clone();
    restore(&mut other, &read.body);
    let late = api.put(&update.write, &other, Some(&read.etag), None).await;
    refused(api, late, 412, "precondition-failed", head, what).await;
}

/// Turns an update's scalar fields back to the values `before` shows (so a late writer asks for
/// something other than what is now in place). Nested values stay: a read may shape them
/// differently from a write, and a malformed body would be refused before any `If-Match` check.
fn restore(body: &mut Value, before: &Value) {
    let Some(fields) = body.as_object_mut() else {
        return;
    };
    for (name, value) in fields.iter_mut() {
        let old = before
            .get(name)
            .filter(|old| old.is_string() || old.is_number() || old.is_boolean());
        if let Some(old) = old {
            *value = old.clone();
        }
    }
}

#[tokio::test]
async fn every_put_route_requires_a_current_if_match() {
    // Proves each PUT route of the served document (but the write-once file upload) is covered
    // here, documents a required If-Match with 412/428, answers 428 without it and 412 with a
    // stale one appending nothing, and 200 with a new ETag (the one its GET then answers).
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let document = served_document(&owner).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let updates = every_update(&shop).await;
    let covered: BTreeSet<String> = updates.iter().map(|u| u.template.to_string()).collect();
    assert_eq!(
        covered,
        documented_updates(&document),
        "every update route is tested"
    );
    for update in &updates {
        documents_if_match(&document, update.template);
        // An organisation's seats are the owner's to set (its plan), not a shop manager's.
        let api = match update.template.starts_with("/v1/organisations/") {
            true => &owner,
            false => &shop.manager,
        };
        check_update(api, &document, update).await;
    }
}
