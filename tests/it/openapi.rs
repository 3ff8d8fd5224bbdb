//! `/openapi.json` against the real server: every answer of a photo shop's day conforms to the
//! schema the document declares for its path, method and status; every route is documented; and
//! no schema is an untyped object a generated client could not use.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::api::{
    activate_pack, big_pack, home_order, photo_shop, shop_body, Api, PhotoShop, Reply,
};
use crate::support::{spawn_app, ADMIN_TOKEN};

/// Schemas allowed to be an object without declared properties, and why: each is free-form by
/// design, not by omission. Paths are `/`-joined keys from the document's root.
const FREE_FORM_OBJECTS: &[&str] = &[
    // An event's payload: its shape is the event type's, versioned with the log's format.
    "components/schemas/FeedEvent/properties/data",
];

/// Routes served outside the REST API, so absent from `/openapi.json` on purpose.
const UNDOCUMENTED_ROUTES: &[&str] = &[
    // Liveness for load balancers and the tests; not part of the integration surface.
    "/health",
    // The description itself and the page that renders it.
    "/openapi.json",
    "/docs",
    // Only with `serve --test-clock`: never on a production server.
    "/v1/test-clock",
];

/// The document as the server serves it.
pub(crate) async fn served_document(api: &Api) -> Value {
    let reply = api.get("/openapi.json").await.expect(200);
    assert!(reply.body.is_object(), "{}", reply.raw);
    reply.body
}

/// The response schema `document` declares for `template` (`/v1/shops/{shop_id}/...`), `method`,
/// `status` and `content_type`, trying the exact status, then its class (`4XX`), then `default`.
/// The media type must be declared too: a client picks its decoder by it (problem+json errors).
fn declared_schema(
    document: &Value,
    method: &Method,
    template: &str,
    status: u16,
    content_type: &str,
) -> Value {
    let operation = &document["paths"][template][method.as_str().to_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {template} is not documented"
    );
    let responses = &operation["responses"];
    let class = format!("{}XX", status / 100);
    let response = [status.to_string(), class, "default".to_string()]
        .iter()
        .map(|key| &responses[key.as_str()])
        .find(|response| response.is_object())
        .unwrap_or_else(|| panic!("{method} {template} declares no {status} answer"));
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let media = &response["content"][media_type];
    assert!(
        media.is_object(),
        "{method} {template} {status} answers {media_type}, which is not declared: {response}"
    );
    media["schema"].clone()
}

/// Validates `reply` against its declared schema. The schema is set at the root of a copy of the
/// document's components, so its `$ref`s to `#/components/schemas/...` resolve in place; both are
/// [`merged`] and [`closed`] first, so a field the server sends and the document omits fails too.
#[track_caller]
pub(crate) fn conforms(document: &Value, method: Method, template: &str, reply: &Reply) {
    let status = reply.status.as_u16();
    let mut schema = declared_schema(document, &method, template, status, &reply.content_type);
    let mut components = document["components"].clone();
    merged(&mut schema, &document["components"]);
    merged(&mut components, &document["components"]);
    closed(&mut schema);
    closed(&mut components);
    let mut root = match schema {
        Value::Object(map) => map,
        other => panic!("{template}: schema is not an object: {other}"),
    };
    root.insert("components".into(), components);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|error| panic!("{template}: schema does not compile: {error}"));
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|error| format!("{} at {}", error, error.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {}: the answer does not match /openapi.json:\n{}\nbody: {}",
        reply.status,
        errors.join("\n"),
        reply.raw
    );
}

/// Replaces each `allOf` (how utoipa describes a flattened struct) with one object schema holding
/// all its parts' properties, so that the result can be [`closed`].
fn merged(schema: &mut Value, components: &Value) {
    match schema {
        Value::Object(map) => {
            map.values_mut().for_each(|child| merged(child, components));
            if let Some(Value::Array(parts)) = map.remove("allOf") {
                let mut properties = Map::new();
                let mut required = Vec::new();
                for part in parts {
                    let mut part = resolved(part, components);
                    merged(&mut part, components);
                    if let Some(Value::Object(more)) = part.get("properties") {
                        properties.extend(more.clone());
                    }
                    if let Some(Value::Array(more)) = part.get("required") {
                        required.extend(more.iter().cloned());
                    }
                }
                map.insert("type".into(), json!("object"));
                map.insert("properties".into(), Value::Object(properties));
                map.insert("required".into(), Value::Array(required));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| merged(item, components)),
        _ => {}
    }
}

/// The component a `$ref` names, or the schema itself.
fn resolved(schema: Value, components: &Value) -> Value {
    let name = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"));
    match name {
        Some(name) => components["schemas"][name].clone(),
        None => schema,
    }
}

/// Adds `additionalProperties: false` to every object schema that lists its properties: utoipa
/// leaves them open, which would let a view gain a field its schema does not declare.
fn closed(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(closed);
        }
        Value::Array(items) => items.iter_mut().for_each(closed),
        _ => {}
    }
}

/// Creates a shop and a key over HTTP, checking both answers; returns (shop id, manager).
async fn checked_shop(document: &Value, owner: &Api) -> (String, Api) {
    let created = owner
        .post(
            "/v1/shops",
            &shop_body(&crate::api::fixture(), "Conformité"),
        )
        .await
        .expect(201);
    conforms(document, Method::POST, "/v1/shops", &created);
    let shop_id = created.id("shop_id");
    let read = owner.get(&format!("/v1/shops/{shop_id}")).await.expect(200);
    conforms(document, Method::GET, "/v1/shops/{shop_id}", &read);
    let shops = owner.get("/v1/shops?limit=5").await.expect(200);
    conforms(document, Method::GET, "/v1/shops", &shops);
    let keys = format!("/v1/shops/{shop_id}/api-keys");
    let body = json!({"role": "manager", "label": "conformance"});
    let key = owner.post(&keys, &body).await.expect(201);
    conforms(document, Method::POST, "/v1/shops/{shop_id}/api-keys", &key);
    let listed = owner.get(&keys).await.expect(200);
    conforms(
        document,
        Method::GET,
        "/v1/shops/{shop_id}/api-keys",
        &listed,
    );
    let manager = owner.as_key(&key.id("secret"));
    let pack = activate_pack(owner, &manager, &shop_id, &big_pack()).await;
    let activations = "/v1/shops/{shop_id}/pack/activations";
    conforms(document, Method::POST, activations, &pack);
    (shop_id, manager)
}

/// Creates a category and a product, checking the answers.
async fn checked_product(document: &Value, manager: &Api, shop_id: &str) {
    let base = format!("/v1/shops/{shop_id}");
    let category = manager
        .post(&format!("{base}/categories"), &json!({"name": "Tirages"}))
        .await
        .expect(201);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/categories",
        &category,
    );
    let body = json!({
        "sku": "TIR-13x18", "name": "Tirage 13x18", "category_id": category.id("category_id"),
        "vat_rate": "20", "weight_g": 10, "tiers": [{"min_quantity": 1, "unit_price": "0.45"}],
    });
    let product = manager
        .post(&format!("{base}/products"), &body)
        .await
        .expect(201);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/products",
        &product,
    );
    let path = format!("{base}/products/{}", product.id("product_id"));
    let read = manager.get(&path).await.expect(200);
    let template = "/v1/shops/{shop_id}/products/{product_id}";
    conforms(document, Method::GET, template, &read);
    let listed = manager.get(&format!("{base}/products")).await.expect(200);
    conforms(
        document,
        Method::GET,
        "/v1/shops/{shop_id}/products",
        &listed,
    );
}

/// Registers a customer and reads it back, checking the answers; returns its email.
async fn checked_customer(document: &Value, shop: &PhotoShop) -> String {
    let email = "claire.martin@example.fr";
    let body = json!({"email": email, "first_name": "Claire", "last_name": "Martin"});
    let storefront = shop.as_role("storefront");
    let registered = storefront
        .post(&shop.path("/customers"), &body)
        .await
        .expect(201);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/customers",
        &registered,
    );
    let at = registered.body["position"].as_u64().expect("position");
    let path = format!(
        "/customers/{}?min_position={at}",
        registered.id("customer_id")
    );
    let read = shop.manager.get(&shop.path(&path)).await.expect(200);
    let template = "/v1/shops/{shop_id}/customers/{customer_id}";
    conforms(document, Method::GET, template, &read);
    let listed = shop.manager.get(&shop.path("/customers")).await.expect(200);
    conforms(
        document,
        Method::GET,
        "/v1/shops/{shop_id}/customers",
        &listed,
    );
    email.to_string()
}

/// Places, pays, ships and credits an order (one return as store credit, one refunded by card),
/// checking each answer; returns the last write's position.
async fn checked_order_lifecycle(document: &Value, shop: &PhotoShop, email: &str) -> u64 {
    let storefront = shop.as_role("storefront");
    let lines =
        json!([{"sku": "TIR-10x15", "quantity": 120}, {"sku": "guide-lyon", "quantity": 1}]);
    let placed = storefront
        .post(&shop.path("/orders"), &home_order(shop, email, lines))
        .await
        .expect(201);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/orders",
        &placed,
    );
    let order_id = placed.id("order_id");
    let total = placed.body["totals"]["total_incl_vat"].clone();
    let order = |rest: &str| shop.path(&format!("/orders/{order_id}{rest}"));
    let payment = json!({"method": "card", "amount": total});
    let paid = storefront
        .post(&order("/payments"), &payment)
        .await
        .expect(200);
    assert_eq!(paid.body["status"], "paid", "{}", paid.raw);
    let template = "/v1/shops/{shop_id}/orders/{order_id}/payments";
    conforms(document, Method::POST, template, &paid);
    let shipped = shop
        .manager
        .post(&order("/ship"), &json!({"tracking_number": "6A123"}))
        .await
        .expect(200);
    let template = "/v1/shops/{shop_id}/orders/{order_id}/ship";
    conforms(document, Method::POST, template, &shipped);
    let template = "/v1/shops/{shop_id}/orders/{order_id}/returns";
    let mut position = 0;
    for (line, settlement) in [
        (1, json!({"type": "store_credit"})),
        (2, json!({"type": "refund", "method": "card"})),
    ] {
        let body =
            json!({"lines": [{"line_number": line, "quantity": 1}], "settlement": settlement});
        let returned = shop
            .manager
            .post(&order("/returns"), &body)
            .await
            .expect(201);
        conforms(document, Method::POST, template, &returned);
        position = returned.body["position"].as_u64().expect("position");
    }
    let read = shop
        .manager
        .get(&order(&format!("?min_position={position}")))
        .await
        .expect(200);
    let template = "/v1/shops/{shop_id}/orders/{order_id}";
    conforms(document, Method::GET, template, &read);
    assert_eq!(read.body["credits"].as_array().map(Vec::len), Some(2));
    position
}

/// Reads every kind of document one by one and as a page, checking the answers.
async fn checked_documents(document: &Value, shop: &PhotoShop, at: u64) {
    let accountant = shop.as_role("accountant");
    for kind in ["invoices", "credit-notes", "delivery-slips"] {
        let page = accountant
            .get(&shop.path(&format!("/{kind}?min_position={at}")))
            .await
            .expect(200);
        conforms(
            document,
            Method::GET,
            &format!("/v1/shops/{{shop_id}}/{kind}"),
            &page,
        );
        let items = page.body["items"].as_array().expect("items");
        assert!(!items.is_empty(), "no {kind}: {}", page.raw);
        for item in items {
            let number = item["number"].as_str().expect("number");
            let one = accountant
                .get(&shop.path(&format!("/{kind}/{number}")))
                .await
                .expect(200);
            let template = format!("/v1/shops/{{shop_id}}/{kind}/{{number}}");
            conforms(document, Method::GET, &template, &one);
        }
    }
}

#[tokio::test]
async fn every_answer_of_a_photo_shop_day_matches_the_served_openapi_document() {
    // Proves a client generated from /openapi.json can read the real answers: shop, API key, pack,
    // category, product, customer, order placed/paid/shipped/credited (both settlements), order
    // page, invoices, credit notes, delivery slips, event feed page and problem+json errors each
    // validate against the schema declared for their path, method and status.
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let document = served_document(&owner).await;
    let (shop_id, manager) = checked_shop(&document, &owner).await;
    checked_product(&document, &manager, &shop_id).await;

    let shop = photo_shop(&app, "Studio Lumière").await;
    let email = checked_customer(&document, &shop).await;
    let at = checked_order_lifecycle(&document, &shop, &email).await;
    checked_documents(&document, &shop, at).await;

    let orders = shop
        .manager
        .get(&shop.path(&format!("/orders?limit=1&min_position={at}")))
        .await
        .expect(200);
    assert!(orders.body["next_cursor"].is_null() || orders.body["next_cursor"].is_string());
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/orders",
        &orders,
    );
    let feed = shop
        .manager
        .get(&shop.path("/events?after=0&limit=50"))
        .await
        .expect(200);
    assert!(!feed.body["events"].as_array().expect("events").is_empty());
    conforms(&document, Method::GET, "/v1/shops/{shop_id}/events", &feed);

    let missing = shop
        .manager
        .get(&shop.path(&format!("/orders/{}", uuid::Uuid::nil())))
        .await;
    missing.expect_problem(404, "not-found");
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/orders/{order_id}",
        &missing,
    );
    let invalid = shop
        .manager
        .post(&shop.path("/customers"), &json!({"email": "not an email"}))
        .await;
    assert!(invalid.status.is_client_error(), "{}", invalid.raw);
    conforms(
        &document,
        Method::POST,
        "/v1/shops/{shop_id}/customers",
        &invalid,
    );
}

/// Creates a 10 % coupon with the typed code `code`, checking each coupon answer.
async fn checked_coupon(document: &Value, shop: &PhotoShop, code: &str) {
    let body = json!({
        "name": "Printemps", "starts_on": "2024-01-01", "ends_on": "2030-12-31",
        "scope": {"order": {"reduction": {"percent": "10"}}},
        "audience": {"all_customers": {"max_total_uses": null, "max_uses_per_customer": 1}},
    });
    let created = shop
        .manager
        .post(&shop.path("/coupons"), &body)
        .await
        .expect(201);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/coupons",
        &created,
    );
    let coupon = format!("/coupons/{}", created.id("coupon_id"));
    let generated = shop
        .manager
        .post(
            &shop.path(&format!("{coupon}/codes")),
            &json!({"kind": "typed", "code": code}),
        )
        .await
        .expect(201);
    let template = "/v1/shops/{shop_id}/coupons/{coupon_id}";
    conforms(
        document,
        Method::POST,
        &format!("{template}/codes"),
        &generated,
    );
    let read = shop.manager.get(&shop.path(&coupon)).await.expect(200);
    conforms(document, Method::GET, template, &read);
    let usage = shop
        .manager
        .get(&shop.path(&format!("{coupon}/usage")))
        .await
        .expect(200);
    conforms(document, Method::GET, &format!("{template}/usage"), &usage);
    let listed = shop.manager.get(&shop.path("/coupons")).await.expect(200);
    conforms(
        document,
        Method::GET,
        "/v1/shops/{shop_id}/coupons",
        &listed,
    );
}

/// Prices a cart and places and pays an order with `code`, checking the answers; returns the
/// customer's id and the payment's position.
async fn checked_coupon_order(document: &Value, shop: &PhotoShop, code: &str) -> (String, u64) {
    let storefront = shop.as_role("storefront");
    let email = "paul.durand@example.fr";
    let body = json!({"email": email, "first_name": "Paul", "last_name": "Durand"});
    let customer = storefront
        .post(&shop.path("/customers"), &body)
        .await
        .expect(201);
    let mut order = home_order(shop, email, json!([{"sku": "AGR-30x45", "quantity": 2}]));
    order["coupon_code"] = json!(code);
    let cart = storefront
        .post(&shop.path("/carts/price"), &order)
        .await
        .expect(200);
    assert!(cart.body["coupon"].is_object(), "{}", cart.raw);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/carts/price",
        &cart,
    );
    let placed = storefront
        .post(&shop.path("/orders"), &order)
        .await
        .expect(201);
    assert!(placed.body["coupon"].is_object(), "{}", placed.raw);
    conforms(
        document,
        Method::POST,
        "/v1/shops/{shop_id}/orders",
        &placed,
    );
    let payment = json!({"method": "cash", "amount": placed.body["totals"]["total_incl_vat"]});
    let path = shop.path(&format!("/orders/{}/payments", placed.id("order_id")));
    let paid = storefront.post(&path, &payment).await.expect(200);
    let template = "/v1/shops/{shop_id}/orders/{order_id}/payments";
    conforms(document, Method::POST, template, &paid);
    let position = paid.body["position"].as_u64().expect("position");
    (customer.id("customer_id"), position)
}

#[tokio::test]
async fn back_office_answers_match_the_served_openapi_document() {
    // Proves the back-office reads validate against /openapi.json too: coupons and their usage, a
    // cart priced with a coupon, an order and invoice carrying it, the pack, the dashboard, a
    // customer's space, statistics, the ledger journal, general ledger, trial balance and mapping (read and
    // changed), catalog lists.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    checked_coupon(&document, &shop, "PRINTEMPS").await;
    let (customer_id, at) = checked_coupon_order(&document, &shop, "PRINTEMPS").await;
    let now = chrono::Utc::now();
    let instant = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let period = format!(
        "from={}&until={}",
        instant(now - chrono::Duration::days(1)),
        instant(now + chrono::Duration::days(1))
    );
    let month = now.format("%Y%m");
    let reads = [
        "/pack".to_string(),
        format!("/dashboard?min_position={at}"),
        format!("/customers/{customer_id}/space?min_position={at}"),
        format!("/statistics?{period}&group_by=product_type&min_position={at}"),
        format!("/ledger/journal?{period}&min_position={at}"),
        format!("/ledger/general-ledger?{period}&min_position={at}"),
        format!("/ledger/trial-balance?from_month={month}&min_position={at}"),
        format!("/invoices?min_position={at}"),
        "/categories".to_string(),
        "/delivery-methods".to_string(),
        "/pickup-points".to_string(),
    ];
    let mapping = shop
        .manager
        .get(&shop.path("/ledger/mapping"))
        .await
        .expect(200);
    let template = "/v1/shops/{shop_id}/ledger/mapping";
    conforms(&document, Method::GET, template, &mapping);
    let mut changed = mapping.body.clone();
    changed["goods_sales"] = json!("7071");
    let put = shop
        .manager
        .put(
            &shop.path("/ledger/mapping"),
            &changed,
            Some(&mapping.etag),
            None,
        )
        .await
        .expect(200);
    conforms(&document, Method::PUT, template, &put);
    for read in reads {
        let reply = shop.manager.get(&shop.path(&read)).await.expect(200);
        let route = read.split('?').next().unwrap_or_default();
        let route = route.replace(&customer_id, "{customer_id}");
        conforms(
            &document,
            Method::GET,
            &format!("/v1/shops/{{shop_id}}{route}"),
            &reply,
        );
    }
}

#[tokio::test]
async fn time_zone_and_report_schedule_answers_match_the_served_openapi_document() {
    // Proves the shop's zone (read and changed) and every report-schedule answer (created, listed,
    // read, changed, deliveries, deleted) validate against /openapi.json.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let zone_template = "/v1/shops/{shop_id}/time-zone";
    let zone = shop.manager.get(&shop.path("/time-zone")).await.expect(200);
    conforms(&document, Method::GET, zone_template, &zone);
    let moved = shop
        .manager
        .put(
            &shop.path("/time-zone"),
            &json!({"time_zone": "America/Martinique"}),
            Some(&zone.etag),
            None,
        )
        .await
        .expect(200);
    conforms(&document, Method::PUT, zone_template, &moved);
    let profile = shop.manager.get(&shop.path("")).await.expect(200);
    conforms(&document, Method::GET, "/v1/shops/{shop_id}", &profile);
    assert_eq!(profile.body["time_zone"], "America/Martinique");

    let list = "/v1/shops/{shop_id}/report-schedules";
    let one = "/v1/shops/{shop_id}/report-schedules/{schedule_id}";
    let body =
        json!({"recipients": ["gerant@example.fr"], "frequency": "monthly", "format": "xlsx"});
    let created = shop
        .manager
        .post(&shop.path("/report-schedules"), &body)
        .await
        .expect(201);
    conforms(&document, Method::POST, list, &created);
    let schedule_id = created.id("schedule_id");
    let at = created.body["position"].as_u64().expect("position");
    let listed = shop
        .manager
        .get(&shop.path(&format!("/report-schedules?min_position={at}")))
        .await
        .expect(200);
    conforms(&document, Method::GET, list, &listed);
    let path = shop.path(&format!("/report-schedules/{schedule_id}"));
    let read = shop.manager.get(&path).await.expect(200);
    conforms(&document, Method::GET, one, &read);
    let yearly = json!({"recipients": ["gerant@example.fr"], "frequency": "yearly", "format": "csv", "group_by": "customer"});
    let changed = shop
        .manager
        .put(&path, &yearly, Some(&read.etag), None)
        .await
        .expect(200);
    conforms(&document, Method::PUT, one, &changed);
    let deliveries = shop
        .manager
        .get(&format!("{path}/deliveries"))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        &format!("{one}/deliveries"),
        &deliveries,
    );
    let deleted = shop
        .manager
        .send(Method::DELETE, &path, None, None)
        .await
        .expect(200);
    conforms(&document, Method::DELETE, one, &deleted);
}

/// Every `(path, method)` the document declares.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().cloned().unwrap_or_default();
            methods
                .into_iter()
                .map(move |(method, _)| (path.clone(), method))
        })
        .collect()
}

/// The paths given to `.route("...")` in the API's sources: the only way a handler is served
/// without `routes!`, which documents it.
fn plain_routes() -> BTreeSet<String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut found = BTreeSet::new();
    let mut folders = vec![source];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("api sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                found.extend(route_literals(&text));
            }
        }
    }
    found
}

fn route_literals(text: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(".route(") {
        rest = rest[at + ".route(".len()..].trim_start();
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').expect("closing quote");
            literals.push(quoted[..end].to_string());
        }
    }
    literals
}

/// `/v1/shops/{shop_id}/x` with each parameter replaced by a placeholder value.
fn concrete(template: &str) -> String {
    let nil = uuid::Uuid::nil().to_string();
    template
        .split('/')
        .map(|part| {
            if part.starts_with('{') {
                nil.as_str()
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_document_declares_every_served_route_and_only_served_routes() {
    // Proves no route is served undocumented (every `.route(..)` outside `routes!` is on the
    // explicit allow-list) and every documented operation reaches a handler: the router's
    // fallbacks ("no route for", "not allowed on") never answer it.
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let document = served_document(&owner).await;
    let operations = documented_operations(&document);
    let documented: BTreeSet<&str> = operations.iter().map(|(p, _)| p.as_str()).collect();
    for route in plain_routes() {
        assert!(
            documented.contains(route.as_str()) || UNDOCUMENTED_ROUTES.contains(&route.as_str()),
            "{route} is served but not in /openapi.json: document it or allow-list it with a reason"
        );
    }
    for (template, method) in &operations {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let reply = owner
            .send(method.clone(), &concrete(template), Some(&json!({})), None)
            .await;
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(
            !detail.starts_with("no route for") && !detail.contains("is not allowed on"),
            "{method} {template} is documented but not served: {}",
            reply.raw
        );
    }
}

/// Paths of object schemas that declare no properties, no `additionalProperties` and are not a
/// composition: what a generator turns into an untyped map.
fn untyped_objects(value: &Value, path: &mut Vec<String>, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if is_untyped_object(map) {
                found.push(path.join("/"));
            }
            for (key, child) in map {
                path.push(key.clone());
                untyped_objects(child, path, found);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(index.to_string());
                untyped_objects(child, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_untyped_object(map: &Map<String, Value>) -> bool {
    let typed = ["properties", "allOf", "oneOf", "anyOf", "$ref"];
    map.get("type") == Some(&Value::String("object".into()))
        && !typed.iter().any(|key| map.contains_key(*key))
        && !map.get("additionalProperties").is_some_and(|extra| {
            extra.is_object() && extra.as_object().is_some_and(|o| !o.is_empty())
        })
}

#[tokio::test]
async fn no_schema_is_an_untyped_object_outside_the_free_form_allow_list() {
    // Proves every schema a client generator meets is typed: an object with no properties (nor a
    // typed `additionalProperties`) is allowed only where FREE_FORM_OBJECTS says why.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let mut found = Vec::new();
    untyped_objects(&document, &mut Vec::new(), &mut found);
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|path| !FREE_FORM_OBJECTS.contains(&path.as_str()))
        .collect();
    for allowed in FREE_FORM_OBJECTS {
        assert!(
            found.iter().any(|path| path == allowed),
            "{allowed} is allow-listed as free-form but is typed or gone: drop it from the list"
        );
    }
    assert!(
        unexpected.is_empty(),
        "untyped object schemas in /openapi.json:\n{}",
        unexpected
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn customer_space_answers_match_the_served_openapi_document() {
    // Proves the customer space's answers validate against /openapi.json: profile PUT and its
    // 428, messages sent, listed (with thread counts), read and archived, the staff inbox, the
    // loyalty card after a paid order and the loyalty rule.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let document = served_document(&shop.manager).await;
    let email = checked_customer(&document, &shop).await;
    let storefront = shop.as_role("storefront");
    let customers = shop.manager.get(&shop.path("/customers")).await.expect(200);
    let customer_id = customers.body["items"][0]["customer_id"]
        .as_str()
        .expect("customer")
        .to_string();
    let at = checked_order_lifecycle(&document, &shop, &email).await;

    let profile_template = "/v1/shops/{shop_id}/customers/{customer_id}";
    let path = shop.path(&format!("/customers/{customer_id}"));
    let read = storefront.get(&path).await.expect(200);
    let edit = json!({"first_name": "Claire", "last_name": "Martin", "marketing_consent": true});
    let missing = storefront.put(&path, &edit, None, None).await;
    missing.expect_problem(428, "precondition-required");
    conforms(&document, Method::PUT, profile_template, &missing);
    let written = storefront
        .put(&path, &edit, Some(&read.etag), None)
        .await
        .expect(200);
    conforms(&document, Method::PUT, profile_template, &written);

    let thread_template = "/v1/shops/{shop_id}/customers/{customer_id}/messages";
    let messages = shop.path(&format!("/customers/{customer_id}/messages"));
    let sent = storefront
        .post(&messages, &json!({"body": "Bonjour"}))
        .await
        .expect(201);
    conforms(&document, Method::POST, thread_template, &sent);
    let message_id = sent.id("message_id");
    let inbox_path = shop.path(&format!(
        "/messages/inbox?min_position={}",
        sent.body["position"]
    ));
    let inbox = shop.manager.get(&inbox_path).await.expect(200);
    assert_eq!(inbox.body["items"].as_array().map(Vec::len), Some(1));
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/messages/inbox",
        &inbox,
    );
    for action in ["read", "archive", "unarchive"] {
        let changed = shop
            .manager
            .post(&format!("{messages}/{message_id}/{action}"), &json!({}))
            .await
            .expect(200);
        let template = format!("{thread_template}/{{message_id}}/{action}");
        conforms(&document, Method::POST, &template, &changed);
    }
    let head = shop.manager.head_position().await;
    let listed = storefront
        .get(&format!("{messages}?archived=all&min_position={head}"))
        .await
        .expect(200);
    assert!(
        listed.body["items"][0]["read_at"].is_string(),
        "{}",
        listed.raw
    );
    conforms(&document, Method::GET, thread_template, &listed);

    let card = shop
        .manager
        .get(&shop.path(&format!(
            "/customers/{customer_id}/loyalty?min_position={at}"
        )))
        .await
        .expect(200);
    assert!(!card.body["history"].as_array().expect("history").is_empty());
    let template = "/v1/shops/{shop_id}/customers/{customer_id}/loyalty";
    conforms(&document, Method::GET, template, &card);
    let rule_path = shop.path("/loyalty-rule");
    let rule_etag = shop.manager.get(&rule_path).await.expect(200).etag;
    let rule = shop
        .manager
        .put(
            &rule_path,
            &json!({"points_per_unit": "0.5"}),
            Some(&rule_etag),
            None,
        )
        .await
        .expect(200);
    conforms(
        &document,
        Method::PUT,
        "/v1/shops/{shop_id}/loyalty-rule",
        &rule,
    );
    let rule = storefront.get(&rule_path).await.expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/loyalty-rule",
        &rule,
    );
}

/// The interpreter the generated client runs on: `COMPTOIR_TEST_PYTHON`, else `python3` from
/// `PATH`, where `.ci/run` installs openapi-python-client.
fn client_python() -> String {
    std::env::var("COMPTOIR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

#[tokio::test]
async fn a_client_generated_from_the_served_document_runs_a_photo_shop_day() {
    // What an integrator does: openapi-python-client generates a typed client from
    // `/openapi.json` without dropping a schema or a route, and that client sets up a shop,
    // places an order (retried with its Idempotency-Key), pays it, reads the invoice, ships,
    // credits a return, gets problem+json for bad input and parses every shop listing
    // (`tests/tools/generated_client_check.py`).
    let (_dir, app) = spawn_app().await;
    let work_dir = tempfile::tempdir().expect("work dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(client_python())
        .arg(root.join("tools/generated_client_check.py"))
        .arg(app.url(""))
        .arg(ADMIN_TOKEN)
        .arg(root.join("../api/fixtures/photo-shop.json"))
        .arg(work_dir.path())
        .output()
        .await
        .expect("run the generated client check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("generated client ok"),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}
