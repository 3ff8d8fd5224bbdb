//! Issue 4 end to end: a shop updates its profile, renames a category, changes a delivery
//! method's terms and moves a pickup point, with `If-Match`, as a manager; documents issued before
//! keep the seller they were issued with, orders placed before keep their shipping, and bad input
//! is a 4xx problem that appends nothing.

use serde_json::{json, Value};

use crate::api::{
    fixture, home_order, photo_shop, place, profile_update, shop_body, stranger_shop_body, Api,
    PhotoShop, Reply,
};
use crate::support::{spawn_app, spawn_app_in};
use crate::time_zones::pay;

const OLD_LINE1: &str = "12 rue des Arts";
const NEW_LINE1: &str = "40 quai Saint-Antoine";

/// Places and pays an order of 30 prints for `email`; returns its invoice number and the
/// position of the payment.
async fn invoiced_order(shop: &PhotoShop, email: &str) -> (String, u64) {
    let lines = json!([{"sku": "TIR-10x15", "quantity": 30}]);
    let storefront = shop.as_role("storefront");
    let (order_id, total) = place(&storefront, shop, &home_order(shop, email, lines)).await;
    let position = pay(shop, &order_id, &total).await;
    (invoice_number(shop, &order_id, position).await, position)
}

/// The invoice number of a paid order, read once the payment at `position` is projected.
pub(crate) async fn invoice_number(shop: &PhotoShop, order_id: &str, position: u64) -> String {
    let order = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_id}?min_position={position}")))
        .await
        .expect(200);
    order.body["invoice_number"]
        .as_str()
        .expect("paid orders are invoiced")
        .to_string()
}

/// The invoice as JSON and as printable HTML.
async fn invoice_texts(shop: &PhotoShop, number: &str, position: u64) -> (String, String) {
    let json = shop
        .manager
        .get(&shop.path(&format!("/invoices/{number}?min_position={position}")))
        .await
        .expect(200);
    let html = shop
        .manager
        .get(&shop.path(&format!(
            "/printable/invoices/{number}?format=html&min_position={position}"
        )))
        .await
        .expect(200);
    (json.body.to_string(), html.raw)
}

/// The shop as read, with its `ETag`, turned into the body of an update that moves it.
async fn moved_profile(shop: &PhotoShop) -> (Value, String) {
    let read = shop.manager.get(&shop.path("")).await.expect(200);
    assert!(!read.etag.is_empty(), "the shop answers an ETag");
    let mut body = read.body.clone();
    body["name"] = json!("Studio Lumière — Saint-Antoine");
    body["organisation"]["address"]["line1"] = json!(NEW_LINE1);
    body["organisation"]["vat_id"] = json!("FR45812345679");
    (body, read.etag)
}

#[tokio::test]
async fn an_invoice_keeps_the_seller_it_was_issued_with() {
    // Proves a profile update is read back with a new ETag, that the invoice issued before it
    // keeps the old address and VAT id (JSON and HTML) while the one issued after carries the
    // new ones, and that the currency cannot change once an invoice exists (422, nothing
    // appended).
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (before, _) = invoiced_order(&shop, "claire@example.fr").await;

    let (body, etag) = moved_profile(&shop).await;
    let written = shop
        .manager
        .put(&shop.path(""), &body, Some(&etag), None)
        .await
        .expect(200);
    assert_eq!(written.body["organisation"]["address"]["line1"], NEW_LINE1);
    assert_eq!(written.body["name"], "Studio Lumière — Saint-Antoine");
    assert_ne!(written.etag, etag, "the ETag follows the change");
    let read = shop.manager.get(&shop.path("")).await.expect(200);
    assert_eq!(read.etag, written.etag);
    assert_eq!(read.body["organisation"]["vat_id"], "FR45812345679");

    let mut dollars = read.body.clone();
    dollars["currency"] = json!("USD");
    let head = shop.manager.head_position().await;
    let refused = shop
        .manager
        .put(&shop.path(""), &dollars, Some(&read.etag), None)
        .await;
    refused.expect_problem(422, "validation");
    assert!(refused.raw.contains("currency"), "{}", refused.raw);
    assert_eq!(shop.manager.head_position().await, head, "nothing appended");

    let (after, position) = invoiced_order(&shop, "marc@example.fr").await;
    let (old_json, old_html) = invoice_texts(&shop, &before, position).await;
    let (new_json, new_html) = invoice_texts(&shop, &after, position).await;
    for (what, text) in [("JSON", &old_json), ("HTML", &old_html)] {
        assert!(text.contains(OLD_LINE1), "old invoice {what}: {text}");
        assert!(!text.contains(NEW_LINE1), "old invoice {what}: {text}");
        assert!(text.contains("FR45812345678"), "old invoice {what}");
        assert!(!text.contains("FR45812345679"), "old invoice {what}");
    }
    for (what, text) in [("JSON", &new_json), ("HTML", &new_html)] {
        assert!(text.contains(NEW_LINE1), "new invoice {what}: {text}");
        assert!(!text.contains(OLD_LINE1), "new invoice {what}: {text}");
        assert!(text.contains("FR45812345679"), "new invoice {what}");
    }
}

#[tokio::test]
async fn a_new_invoice_pattern_must_not_repeat_old_numbers() {
    // Proves a pattern that could print an earlier number is refused (nothing appended), and a
    // pattern told apart by its prefix numbers the next invoice, continuing the sequence.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (first, _) = invoiced_order(&shop, "claire@example.fr").await;
    let read = shop.manager.get(&shop.path("")).await.expect(200);

    let mut narrower = read.body.clone();
    narrower["document_patterns"]["invoice"] = json!("FA-{YYYY}-{seq:04}");
    let head = shop.manager.head_position().await;
    let refused = shop
        .manager
        .put(&shop.path(""), &narrower, Some(&read.etag), None)
        .await;
    refused.expect_problem(422, "validation");
    assert!(
        refused.raw.contains("document_patterns.invoice"),
        "{}",
        refused.raw
    );
    assert_eq!(shop.manager.head_position().await, head, "nothing appended");

    let mut prefixed = read.body.clone();
    prefixed["document_patterns"]["invoice"] = json!("F{YYYY}/{seq:05}");
    shop.manager
        .put(&shop.path(""), &prefixed, Some(&read.etag), None)
        .await
        .expect(200);
    let (second, _) = invoiced_order(&shop, "marc@example.fr").await;
    let year = &first[3..7];
    assert_eq!(second, format!("F{year}/00002"), "after {first}");
}

#[tokio::test]
async fn new_delivery_terms_price_later_orders_only() {
    // Proves a delivery method's new price and label reach the cart and the orders placed after
    // the change, while the order placed before keeps the shipping it was priced with.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let storefront = shop.as_role("storefront");
    let lines = json!([{"sku": "TIR-10x15", "quantity": 30}]);
    let order = home_order(&shop, "claire@example.fr", lines.clone());
    let (order_before, total_before) = place(&storefront, &shop, &order).await;

    let method = shop.path(&format!("/delivery-methods/{}", shop.delivery["colissimo"]));
    let read = shop.manager.get(&method).await.expect(200);
    let mut terms = read.body.clone();
    terms["price"] = json!("7.90");
    terms["name"] = json!("Colissimo suivi");
    terms["min_weight_g"] = json!(100);
    let written = shop
        .manager
        .put(&method, &terms, Some(&read.etag), None)
        .await
        .expect(200);
    assert_eq!(written.body["price"], "7.90");
    let position = written.body["position"].as_u64().expect("position");

    let cart = json!({"lines": lines, "delivery_method_id": shop.delivery["colissimo"]});
    let priced = storefront
        .post(&shop.path("/carts/price"), &cart)
        .await
        .expect(200);
    assert_eq!(priced.body["pricing"]["shipping"]["price"], "7.90");
    assert_eq!(
        priced.body["pricing"]["shipping"]["name"],
        "Colissimo suivi"
    );
    let (_, total_after) = place(&storefront, &shop, &order).await;
    assert_eq!(
        priced.body["totals"]["total_incl_vat"],
        total_after.as_str()
    );
    let money = |text: &str| text.parse::<f64>().expect("amount");
    let difference = money(&total_after) - money(&total_before);
    assert!(
        (difference - 3.0).abs() < 1e-9,
        "{total_before} → {total_after}"
    );

    let before = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_before}?min_position={position}")))
        .await
        .expect(200);
    assert!(
        before.raw.contains(&format!("\"{total_before}\"")),
        "the earlier order keeps its total: {}",
        before.raw
    );
    assert!(before.raw.contains("\"4.90\""), "{}", before.raw);

    // A basket under the new minimum weight cannot use the method any more.
    let light = json!({"lines": [{"sku": "TIR-10x15", "quantity": 1}],
        "delivery_method_id": shop.delivery["colissimo"]});
    let refused = storefront.post(&shop.path("/carts/price"), &light).await;
    assert_eq!(refused.status.as_u16(), 409, "{}", refused.raw);
}

#[tokio::test]
async fn categories_and_pickup_points_are_renamed_and_moved() {
    // Proves a category's rename and a pickup point's move are read back, one at a time and in
    // their lists, with the ETag each PUT answered, and that a retried rename appends nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let categories = shop
        .manager
        .get(&shop.path("/categories"))
        .await
        .expect(200);
    let category_id = categories.body[0]["category_id"]
        .as_str()
        .expect("a category")
        .to_string();
    let category = shop.path(&format!("/categories/{category_id}"));
    let read = shop.manager.get(&category).await.expect(200);
    let rename = json!({"name": "Tirages d'art"});
    let key = Some("rename-tirages");
    let renamed = shop
        .manager
        .put(&category, &rename, Some(&read.etag), key)
        .await
        .expect(200);
    assert_eq!(renamed.body["name"], "Tirages d'art");
    // A retry of the same request (its answer lost) is answered again and appends nothing.
    let head = shop.manager.head_position().await;
    let retried = shop
        .manager
        .put(&category, &rename, Some(&read.etag), key)
        .await
        .expect(200);
    assert!(retried.replayed, "{}", retried.raw);
    assert_eq!(retried.body, renamed.body);
    assert_eq!(shop.manager.head_position().await, head);
    let again = shop.manager.get(&category).await.expect(200);
    assert_eq!(again.body["name"], "Tirages d'art");
    assert_eq!(again.etag, renamed.etag);

    let point = add_pickup_point(&shop).await;
    let read = shop.manager.get(&point).await.expect(200);
    let mut moved = read.body.clone();
    moved["address"]["line1"] = json!("3 place Bellecour");
    moved["group"] = json!("Lyon 2e");
    let written = shop
        .manager
        .put(&point, &moved, Some(&read.etag), None)
        .await
        .expect(200);
    let list = shop
        .manager
        .get(&shop.path("/pickup-points"))
        .await
        .expect(200);
    assert_eq!(list.body[0]["group"], "Lyon 2e");
    assert_eq!(list.body[0]["address"]["line1"], "3 place Bellecour");
    let again = shop.manager.get(&point).await.expect(200);
    assert_eq!(again.etag, written.etag);
}

/// Adds a pickup point to the shop; returns its path.
pub async fn add_pickup_point(shop: &PhotoShop) -> String {
    let body = json!({"name": "Relais Bellecour", "group": "Lyon",
        "address": {"line1": "1 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"}});
    let id = shop
        .manager
        .post(&shop.path("/pickup-points"), &body)
        .await
        .expect(201)
        .id("pickup_point_id");
    shop.path(&format!("/pickup-points/{id}"))
}

/// A refused update: this status and problem code, and the log where it was.
async fn refused(api: &Api, reply: Reply, status: u16, code: &str, head: u64, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.raw);
    reply.expect_problem(status, code);
    assert_eq!(api.head_position().await, head, "{what}: nothing appended");
}

#[tokio::test]
async fn bad_updates_are_refused_and_append_nothing() {
    // Proves an unknown id, another shop's id, another shop's path, a weaker role, an invalid
    // SIREN or VAT id, a negative price, a changed kind, a blank name, a bad country and a zone
    // sent through the profile are each a 4xx problem that appends nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let other = photo_shop(&app, "Studio Ombre").await;
    let manager = &shop.manager;
    let point = add_pickup_point(&shop).await;
    let profile = manager.get(&shop.path("")).await.expect(200);
    let method = shop.path(&format!("/delivery-methods/{}", shop.delivery["colissimo"]));
    let terms = manager.get(&method).await.expect(200);
    let unknown = "00000000-0000-0000-0000-000000000042";
    let employee = shop.as_role("employee");
    let storefront = shop.as_role("storefront");

    let spoil = |body: &Value, pointer: &str, value: Value| {
        let mut body = body.clone();
        *body.pointer_mut(pointer).expect("field") = value;
        body
    };
    let cases: Vec<(&str, &Api, String, Value, u16, &str)> = vec![
        (
            "bad SIREN",
            manager,
            shop.path(""),
            spoil(&profile.body, "/organisation/siren", json!("81234567")),
            422,
            "validation",
        ),
        (
            "bad VAT id",
            manager,
            shop.path(""),
            spoil(&profile.body, "/organisation/vat_id", json!("45812345678")),
            422,
            "validation",
        ),
        (
            "zone through the profile",
            manager,
            shop.path(""),
            spoil(&profile.body, "/time_zone", json!("America/Martinique")),
            422,
            "validation",
        ),
        (
            "negative price",
            manager,
            method.clone(),
            spoil(&terms.body, "/price", json!("-1.00")),
            422,
            "validation",
        ),
        (
            "kind changed",
            manager,
            method.clone(),
            spoil(&terms.body, "/kind", json!("store_pickup")),
            422,
            "validation",
        ),
        (
            "unknown method",
            manager,
            shop.path(&format!("/delivery-methods/{unknown}")),
            terms.body.clone(),
            404,
            "not-found",
        ),
        (
            "other shop's method",
            manager,
            shop.path(&format!(
                "/delivery-methods/{}",
                other.delivery["colissimo"]
            )),
            terms.body.clone(),
            404,
            "not-found",
        ),
        (
            "other shop's path",
            manager,
            other.path(""),
            profile.body.clone(),
            404,
            "not-found",
        ),
        (
            "employee",
            &employee,
            method.clone(),
            spoil(&terms.body, "/price", json!("5.90")),
            403,
            "forbidden",
        ),
        (
            "storefront",
            &storefront,
            shop.path(""),
            profile.body.clone(),
            403,
            "forbidden",
        ),
        (
            "unknown category",
            manager,
            shop.path(&format!("/categories/{unknown}")),
            json!({"name": "Autre"}),
            404,
            "not-found",
        ),
        (
            "unknown pickup point",
            manager,
            shop.path(&format!("/pickup-points/{unknown}")),
            json!({"name": "X", "group": "Y", "address": crate::api::address()}),
            404,
            "not-found",
        ),
        (
            "bad country",
            manager,
            point.clone(),
            json!({"name": "X", "group": "Y", "address": {"line1": "1 rue", "postal_code": "69002",
                "city": "Lyon", "country": "France"}}),
            422,
            "validation",
        ),
    ];
    for (what, api, path, body, status, code) in cases {
        let head = manager.head_position().await;
        // `*` matches any current state: only the rule under test can refuse.
        let reply = api.put(&path, &body, Some("*"), None).await;
        refused(manager, reply, status, code, head, what).await;
    }
    let categories = manager.get(&shop.path("/categories")).await.expect(200);
    let category_id = categories.body[0]["category_id"]
        .as_str()
        .expect("category");
    let head = manager.head_position().await;
    let blank = manager
        .put(
            &shop.path(&format!("/categories/{category_id}")),
            &json!({"name": "  "}),
            Some("*"),
            None,
        )
        .await;
    refused(
        manager,
        blank,
        422,
        "validation",
        head,
        "blank category name",
    )
    .await;
}

/// The shop as read, with its `ETag`, turned into the body of an update numbering invoices with
/// `invoice_pattern`.
async fn invoicing_with(shop: &PhotoShop, invoice_pattern: &str) -> (Value, String) {
    profile_update(shop, |body| {
        body["document_patterns"]["invoice"] = json!(invoice_pattern)
    })
    .await
}

#[tokio::test]
async fn shops_of_one_siren_keep_their_invoice_series_apart() {
    // Proves invoice and credit note numbers stay unique across a company's shops: a second shop
    // of the same SIREN with the same patterns is a 409 `document-series-taken` that appends
    // nothing, with its own prefix it is created; two such shops created at once give one 201
    // and one 409; a shop of another SIREN may use the same patterns; and a shop changing its
    // invoice pattern to one that could print another shop's numbers is refused too.
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let lyon = photo_shop(&app, "Lumière Lyon").await;
    let body = shop_body(&fixture(), "Lumière Paris");
    let head = owner.head_position().await;
    let refused = owner.post("/v1/shops", &body).await;
    refused.expect_problem(409, "document-series-taken");
    assert!(refused.raw.contains(&lyon.shop_id), "{}", refused.raw);
    assert_eq!(owner.head_position().await, head);

    let mut own = body.clone();
    own["document_patterns"]["invoice"] = json!("PA-FA-{YYYY}-{seq:06}");
    own["document_patterns"]["credit_note"] = json!("PA-AV-{YYYY}-{seq:06}");
    let paris_id = owner
        .post("/v1/shops", &own)
        .await
        .expect(201)
        .id("shop_id");

    let mut twin = body.clone();
    twin["document_patterns"]["invoice"] = json!("MA-FA-{YYYY}-{seq:06}");
    twin["document_patterns"]["credit_note"] = json!("MA-AV-{YYYY}-{seq:06}");
    let (first, second) = tokio::join!(
        owner.post("/v1/shops", &twin),
        owner.post("/v1/shops", &twin)
    );
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", first.raw, second.raw);

    owner
        .post("/v1/shops", &stranger_shop_body("Lumière Paris"))
        .await
        .expect(201);

    let (update, etag) = invoicing_with(&lyon, "PA-FA-{YYYY}-{seq:06}").await;
    let head = owner.head_position().await;
    let refused = lyon
        .manager
        .put(&lyon.path(""), &update, Some(&etag), None)
        .await;
    refused.expect_problem(409, "document-series-taken");
    assert!(refused.raw.contains(&paris_id), "{}", refused.raw);
    assert_eq!(owner.head_position().await, head);
    let (update, etag) = invoicing_with(&lyon, "LY-FA-{YYYY}-{seq:06}").await;
    lyon.manager
        .put(&lyon.path(""), &update, Some(&etag), None)
        .await
        .expect(200);
}

/// The ids `api` reads from `GET /v1/shops` with `query`, following the cursor page by page.
async fn listed_shops(api: &Api, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let page = api
            .get(&format!("/v1/shops?{query}{after}"))
            .await
            .expect(200);
        for shop in page.body["items"].as_array().expect("items") {
            ids.push(shop["shop_id"].as_str().expect("id").to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => after = format!("&after={cursor}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn the_owner_lists_every_shop_and_a_key_only_its_own() {
    // Proves `GET /v1/shops`: the owner token lists every shop once, in id order, page by page,
    // each as `GET /v1/shops/{id}` answers it, or only the shops of one SIREN; an API key lists
    // its own shop only, whatever SIREN it asks for.
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let lyon = photo_shop(&app, "Lumière Lyon").await;
    let paris = photo_shop(&app, "Lumière Paris").await;
    let stranger = owner
        .post("/v1/shops", &stranger_shop_body("Ailleurs"))
        .await
        .expect(201)
        .id("shop_id");
    let head = owner.head_position().await;
    let mut all = vec![
        lyon.shop_id.clone(),
        paris.shop_id.clone(),
        stranger.clone(),
    ];
    all.sort();
    assert_eq!(
        listed_shops(&owner, &format!("limit=1&min_position={head}")).await,
        all
    );
    let siren = fixture()["organisation"]["siren"]
        .as_str()
        .expect("siren")
        .to_string();
    let mut company = vec![lyon.shop_id.clone(), paris.shop_id.clone()];
    company.sort();
    let query = format!("siren={siren}&min_position={head}");
    assert_eq!(listed_shops(&owner, &query).await, company);
    let page = owner.get("/v1/shops?siren=999999999").await.expect(200);
    assert_eq!(page.body["items"][0]["shop_id"], json!(stranger));
    let one = owner
        .get(&format!("/v1/shops/{}", paris.shop_id))
        .await
        .expect(200);
    let listed = owner.get(&format!("/v1/shops?{query}")).await.expect(200);
    let paris_listed = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|shop| shop["shop_id"] == json!(paris.shop_id))
        .expect("paris listed");
    assert_eq!(*paris_listed, one.body);

    let accountant = lyon.as_role("accountant");
    assert_eq!(
        listed_shops(&accountant, "").await,
        vec![lyon.shop_id.clone()]
    );
    assert!(listed_shops(&accountant, "siren=999999999")
        .await
        .is_empty());
}

/// Appends, with the server stopped, the creation of a shop of the fixture's SIREN numbering
/// with `prefix` (`L-FA-…`, `L-AV-…`), as a version before the series registry wrote it: with no
/// claim in the registry. Returns its id.
async fn shop_from_before_the_registry(dir: &std::path::Path, prefix: &str) -> String {
    use comptoir_domain::shop::{stream_id, ShopEvent, ShopProfile};
    use comptoir_eventlog::{AppendRequest, EventLog, EventMetadata, ExpectedVersion, LogOptions};
    let shop_id = uuid::Uuid::new_v4();
    let profile: ShopProfile = serde_json::from_value(json!({
        "shop_id": shop_id,
        "name": "Lumière d'avant",
        "organisation": fixture()["organisation"],
        "currency": "EUR",
        "prices_include_tax": true,
        "document_patterns": {
            "invoice": format!("{prefix}FA-{{YYYY}}-{{seq:06}}"),
            "credit_note": format!("{prefix}AV-{{YYYY}}-{{seq:06}}"),
            "delivery_slip": format!("{prefix}BL-{{YYYY}}-{{seq:06}}"),
        },
        "payment_terms": "Payable à la commande",
    }))
    .expect("a profile");
    let created = ShopEvent::ShopCreated {
        profile: Box::new(profile),
        created_at: chrono::Utc::now(),
    };
    let event = comptoir_projections::codec::encode_event(
        &created,
        uuid::Uuid::new_v4(),
        EventMetadata::default(),
    )
    .expect("encodes");
    let log = EventLog::open(dir, LogOptions::default()).expect("the log opens");
    let request = AppendRequest::single(stream_id(shop_id), ExpectedVersion::NoStream, vec![event]);
    log.append(request).await.expect("appended");
    log.shutdown();
    shop_id.to_string()
}

/// A shop body of the fixture's SIREN named `name` numbering invoices and credit notes with
/// `invoice` and `credit_note` prefixes.
fn shop_numbering(name: &str, invoice: &str, credit_note: &str) -> Value {
    let mut body = shop_body(&fixture(), name);
    body["document_patterns"]["invoice"] = json!(format!("{invoice}FA-{{YYYY}}-{{seq:06}}"));
    body["document_patterns"]["credit_note"] =
        json!(format!("{credit_note}AV-{{YYYY}}-{{seq:06}}"));
    body
}

#[tokio::test]
async fn shops_from_before_the_registry_are_checked_by_the_next_claims_of_their_siren() {
    // Proves shops created before the series registry no longer escape it. Two such shops of
    // one SIREN (L-… and K-…), written the old way: when K changes its patterns, that append
    // records K's old patterns and L's, so a new shop with K's old invoice pattern or L's is a
    // 409 naming that shop which appends nothing, and one with its own prefix is created.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_in(dir.path()).await;
    let owner = Api::owner(&app);
    let lyon = shop_body(&fixture(), "Lumière Lyon");
    owner.post("/v1/shops", &lyon).await.expect(201);
    app.signal(libc::SIGTERM);
    app.wait_exit().await;
    let old_l = shop_from_before_the_registry(dir.path(), "L-").await;
    let old_k = shop_from_before_the_registry(dir.path(), "K-").await;

    let app = spawn_app_in(dir.path()).await;
    let owner = Api::owner(&app);
    let head = owner.head_position().await;
    let listed = listed_shops(&owner, &format!("min_position={head}")).await;
    assert!(
        listed.contains(&old_l) && listed.contains(&old_k),
        "{listed:?}"
    );
    let k_path = format!("/v1/shops/{old_k}");
    let read = owner.get(&k_path).await.expect(200);
    let mut moved = read.body.clone();
    moved["document_patterns"]["invoice"] = json!("K2-FA-{YYYY}-{seq:06}");
    moved["document_patterns"]["credit_note"] = json!("K2-AV-{YYYY}-{seq:06}");
    owner
        .put(&k_path, &moved, Some(&read.etag), None)
        .await
        .expect(200);

    let head = owner.head_position().await;
    for (body, old) in [
        (shop_numbering("Lumière Paris", "K-", "P-"), &old_k),
        (shop_numbering("Lumière Paris", "P-", "L-"), &old_l),
    ] {
        let refused = owner.post("/v1/shops", &body).await;
        refused.expect_problem(409, "document-series-taken");
        assert!(refused.raw.contains(old.as_str()), "{}", refused.raw);
    }
    assert_eq!(owner.head_position().await, head, "nothing appended");
    let own = shop_numbering("Lumière Paris", "P-", "P-");
    owner.post("/v1/shops", &own).await.expect(201);
}
