//! The online shop's banners (seed 000, "Bannières"), end to end: a manager creates, changes,
//! switches and deletes them; every role reads them, and a storefront asks for the ones to
//! draw now.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{photo_shop, Api, PhotoShop, Reply};
use crate::catalog::product_id_of;
use crate::openapi::{conforms, served_document};
use crate::support::spawn_app;

const BANNERS: &str = "/v1/shops/{shop_id}/banners";
const BANNER: &str = "/v1/shops/{shop_id}/banners/{banner_id}";

fn images() -> Value {
    json!({"landscape": "https://cdn.example.fr/bandeau.jpg"})
}

pub(crate) fn link_banner() -> Value {
    json!({"name": "Concours photo", "title": "Gagnez un appareil",
        "action": {"type": "link", "url": "https://www.example.fr/concours"},
        "button_text": "Participer", "display_order": 2, "images": images()})
}

fn product_banner(product_id: &str) -> Value {
    json!({"name": "Noël 2025", "title": "Vos photos sous le sapin",
        "description": "Tirages et calendriers\npour toute la famille",
        "action": {"type": "product", "product_id": product_id},
        "from_price": "9.00", "button_text": "Je commande", "display_order": 1,
        "images": {"square": "https://cdn.example.fr/noel-carre.jpg",
            "landscape": "https://cdn.example.fr/noel.jpg",
            "landscape_phone": "https://cdn.example.fr/noel-mobile.jpg"}})
}

fn category_banner(category_id: &str) -> Value {
    json!({"name": "Agrandissements", "title": "Vos plus belles photos en grand",
        "action": {"type": "category", "category_id": category_id},
        "from_price": "15", "button_text": "Voir", "display_order": 1, "images": images()})
}

/// The names of the banners `path` lists, in order.
async fn names(api: &Api, path: &str) -> Vec<String> {
    let list = api.get(path).await.expect(200);
    let items = list.body["items"].as_array().expect("items");
    items
        .iter()
        .map(|banner| banner["name"].as_str().expect("name").to_string())
        .collect()
}

async fn first_category_id(shop: &PhotoShop) -> String {
    let categories = shop
        .manager
        .get(&shop.path("/categories"))
        .await
        .expect(200);
    categories.body[0]["category_id"]
        .as_str()
        .expect("a category")
        .to_string()
}

/// Expects `reply` to be a 4xx problem naming `field`, with nothing appended since `before`.
async fn refused(api: &Api, reply: Reply, status: u16, field: &str, before: u64) {
    assert_eq!(reply.status.as_u16(), status, "{field}: {}", reply.raw);
    assert_eq!(
        reply.content_type, "application/problem+json",
        "{}",
        reply.raw
    );
    assert!(
        reply.raw.contains(field),
        "{field} not named: {}",
        reply.raw
    );
    assert_eq!(api.head_position().await, before, "nothing appended");
}

async fn delete(api: &Api, path: &str, if_match: Option<&str>) -> Reply {
    let mut request = api
        .client
        .delete(format!("{}{path}", api.base))
        .bearer_auth(&api.token);
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    crate::api::read(request.send().await.expect("request")).await
}

#[tokio::test]
async fn a_manager_sets_up_the_banners_a_storefront_draws() {
    // Proves creation of link, product and category banners (with a "from" price) and their
    // display order, who may read and write, the storefront's `showing` (a disabled banner and
    // one out of its dates hidden), the search, retries by Idempotency-Key, and that the
    // answers match /openapi.json and the writes show in the shop's event feed.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let path = shop.path("/banners");
    let product_id = product_id_of(&shop, "TIR-10x15").await;
    let category_id = first_category_id(&shop).await;

    let link = shop.manager.post(&path, &link_banner()).await.expect(201);
    conforms(&document, Method::POST, BANNERS, &link);
    assert!(!link.etag.is_empty());
    let christmas = shop
        .manager
        .post_with_key(&path, &product_banner(&product_id), "noel")
        .await
        .expect(201);
    assert_eq!(christmas.body["from_price"], "9.00");
    assert_eq!(christmas.body["enabled"], true);
    let retried = shop
        .manager
        .post_with_key(&path, &product_banner(&product_id), "noel")
        .await
        .expect(201);
    assert_eq!(retried.id("banner_id"), christmas.id("banner_id"));
    let category = shop
        .manager
        .post(&path, &category_banner(&category_id))
        .await
        .expect(201);
    let storefront = shop.as_role("storefront");
    let list = storefront.get(&path).await.expect(200);
    conforms(&document, Method::GET, BANNERS, &list);
    assert_eq!(
        names(&storefront, &path).await,
        ["Noël 2025", "Agrandissements", "Concours photo"],
        "by display order, then creation; the retried creation made one banner"
    );

    let employee = shop.as_role("employee");
    let one = format!("{path}/{}", christmas.id("banner_id"));
    let read = employee.get(&one).await.expect(200);
    conforms(&document, Method::GET, BANNER, &read);
    assert_eq!(read.etag, christmas.etag);
    let before = shop.manager.head_position().await;
    let refusal = employee.post(&path, &link_banner()).await;
    refusal.expect_problem(403, "forbidden");
    assert_eq!(shop.manager.head_position().await, before);

    let disabled = shop
        .manager
        .post(
            &format!("{path}/{}/disable", category.id("banner_id")),
            &json!({}),
        )
        .await
        .expect(200);
    conforms(
        &document,
        Method::POST,
        "/v1/shops/{shop_id}/banners/{banner_id}/disable",
        &disabled,
    );
    assert_eq!(disabled.body["enabled"], false);
    let mut past = link_banner();
    past["name"] = json!("Soldes d'été");
    past["starts_at"] = json!("2020-07-01T00:00:00Z");
    past["ends_at"] = json!("2020-08-01T00:00:00Z");
    shop.manager.post(&path, &past).await.expect(201);
    assert_eq!(
        names(&storefront, &format!("{path}?showing=now")).await,
        ["Noël 2025", "Concours photo"]
    );
    assert_eq!(
        names(
            &storefront,
            &format!("{path}?showing_at=2020-07-14T12:00:00Z")
        )
        .await,
        ["Noël 2025", "Concours photo", "Soldes d'été"]
    );
    assert_eq!(
        names(&storefront, &path).await.len(),
        4,
        "all for the back office"
    );
    assert_eq!(
        names(&employee, &format!("{path}?q=SAPIN")).await,
        ["Noël 2025"]
    );
    shop.manager
        .post(
            &format!("{path}/{}/enable", category.id("banner_id")),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        names(&storefront, &format!("{path}?showing=now"))
            .await
            .len(),
        3
    );

    let feed = shop.manager.get(&shop.path("/events")).await.expect(200);
    let types: Vec<&str> = feed.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["event_type"].as_str())
        .filter(|kind| kind.starts_with("Banner"))
        .collect();
    assert_eq!(
        types,
        [
            "BannerCreated",
            "BannerCreated",
            "BannerCreated",
            "BannerDisabled",
            "BannerCreated",
            "BannerEnabled"
        ]
    );
}

#[tokio::test]
async fn bad_banners_are_refused_and_append_nothing() {
    // Proves every invalid input answers a 4xx problem naming its field with nothing appended
    // (an unknown or retired product and an unknown category included), and an unknown field
    // is refused too.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let path = shop.path("/banners");
    let product_id = product_id_of(&shop, "TIR-10x15").await;
    let retired_id = product_id_of(&shop, "TIR-13x18").await;
    shop.manager
        .post(
            &shop.path(&format!("/products/{retired_id}/retire")),
            &json!({}),
        )
        .await
        .expect(200);
    let unknown = uuid::Uuid::nil().to_string();
    let change = |alter: &dyn Fn(&mut Value)| {
        let mut body = product_banner(&product_id);
        alter(&mut body);
        body
    };
    let cases = [
        (change(&|b| b["name"] = json!("")), "name"),
        (change(&|b| b["title"] = json!("t".repeat(121))), "title"),
        (change(&|b| b["button_text"] = json!(null)), "button_text"),
        (change(&|b| b["from_price"] = json!("9.999")), "from_price"),
        (
            change(&|b| b["display_order"] = json!(10_000)),
            "display_order",
        ),
        (
            change(&|b| b["images"]["landscape"] = json!("javascript:alert(1)")),
            "images.landscape",
        ),
        (
            change(&|b| {
                b["starts_at"] = json!("2025-12-26T00:00:00Z");
                b["ends_at"] = json!("2025-12-01T00:00:00Z");
            }),
            "ends_at",
        ),
        (
            change(&|b| b["action"] = json!({"type": "link", "url": "ftp://example.fr"})),
            "action.url",
        ),
        (
            change(&|b| b["action"]["product_id"] = json!(unknown)),
            "action.product_id",
        ),
        (
            change(&|b| b["action"]["product_id"] = json!(retired_id)),
            "action.product_id",
        ),
        (category_banner(&unknown), "action.category_id"),
    ];
    let before = shop.manager.head_position().await;
    for (body, field) in cases {
        let reply = shop.manager.post(&path, &body).await;
        reply.expect_problem(422, "validation");
        refused(&shop.manager, reply, 422, field, before).await;
    }
    let reply = shop
        .manager
        .post(&path, &change(&|b| b["colour"] = json!("rouge")))
        .await;
    refused(&shop.manager, reply, 400, "colour", before).await;
    assert!(names(&shop.manager, &path).await.is_empty());
}

#[tokio::test]
async fn banner_changes_are_conditional_and_stay_in_their_shop() {
    // Proves a PUT needs If-Match (428 without, 412 when stale), replaces the fields and may
    // switch the banner; a banner of shop A is not found under shop B; a deletion (stale
    // If-Match refused) makes it disappear.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let other = photo_shop(&app, "Ailleurs").await;
    let created = shop
        .manager
        .post(&shop.path("/banners"), &link_banner())
        .await
        .expect(201);
    let banner_id = created.id("banner_id");
    let one = shop.path(&format!("/banners/{banner_id}"));

    let mut changed = link_banner();
    changed["title"] = json!("Gagnez un reflex");
    changed["enabled"] = json!(false);
    let before = shop.manager.head_position().await;
    shop.manager
        .put(&one, &changed, None, None)
        .await
        .expect_problem(428, "precondition-required");
    shop.manager
        .put(&one, &changed, Some("\"stale\""), None)
        .await
        .expect_problem(412, "precondition-failed");
    assert_eq!(shop.manager.head_position().await, before);
    let put = shop
        .manager
        .put(&one, &changed, Some(&created.etag), None)
        .await
        .expect(200);
    conforms(&document, Method::PUT, BANNER, &put);
    assert_eq!(put.body["title"], "Gagnez un reflex");
    assert_eq!(put.body["enabled"], false);
    assert_ne!(put.etag, created.etag);
    let again = shop
        .manager
        .put(&one, &changed, Some(&put.etag), None)
        .await
        .expect(200);
    assert_eq!(again.etag, put.etag);
    assert_eq!(
        shop.manager.head_position().await,
        put.body["position"].as_u64().expect("position"),
        "the same fields again append nothing"
    );

    let elsewhere = other.path(&format!("/banners/{banner_id}"));
    other
        .manager
        .get(&elsewhere)
        .await
        .expect_problem(404, "not-found");
    other
        .manager
        .put(&elsewhere, &changed, Some(&put.etag), None)
        .await
        .expect_problem(404, "not-found");
    delete(&other.manager, &elsewhere, None)
        .await
        .expect_problem(404, "not-found");

    delete(&shop.manager, &one, Some(&created.etag))
        .await
        .expect_problem(412, "precondition-failed");
    let deleted = delete(&shop.manager, &one, Some(&put.etag))
        .await
        .expect(200);
    conforms(&document, Method::DELETE, BANNER, &deleted);
    shop.manager
        .get(&one)
        .await
        .expect_problem(404, "not-found");
    assert!(names(&shop.manager, &shop.path("/banners"))
        .await
        .is_empty());
}

#[tokio::test]
async fn concurrent_creations_never_pass_the_limit_of_50_banners() {
    // Proves the limit holds under concurrency: 60 managers' creations at once (each with its
    // own Idempotency-Key) make exactly 50 banners; the other 10 are refused as over the limit
    // and append nothing, and the list shows 50.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let path = shop.path("/banners");
    let creations = (0..60).map(|n| {
        let manager = shop.manager.clone();
        let path = path.clone();
        async move {
            let mut body = link_banner();
            body["name"] = json!(format!("Bannière {n}"));
            let key = format!("banner-{n}");
            manager
                .send(Method::POST, &path, Some(&body), Some(&key))
                .await
        }
    });
    let replies = futures::future::join_all(creations).await;
    let created = replies.iter().filter(|r| r.status.as_u16() == 201).count();
    let refused: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status.as_u16() != 201)
        .collect();
    assert_eq!(created, 50);
    for reply in &refused {
        reply.expect_problem(422, "limit-exceeded");
    }
    let listed = shop.manager.get(&path).await.expect(200);
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(50),
        "{}",
        listed.raw
    );
}
