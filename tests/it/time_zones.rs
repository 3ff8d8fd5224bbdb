//! Shop time zones end to end: calendar days (statistics presets, order days, invoice dates,
//! dashboard bars) are the shop's, across a DST change, and the zone follows its events.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{fixture, home_order, photo_shop, place, shop_body, Api, PhotoShop};
use crate::support::spawn_app_with_test_clock;

pub async fn set_clock(owner: &Api, now: &str) {
    owner
        .send(
            Method::PUT,
            "/v1/test-clock",
            Some(&json!({"now": now})),
            None,
        )
        .await
        .expect(200);
}

pub async fn pay(shop: &PhotoShop, order_id: &str, amount: &str) -> u64 {
    let body = json!({"method": "card", "amount": amount});
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    shop.as_role("storefront")
        .post(&path, &body)
        .await
        .expect(200)
        .body["position"]
        .as_u64()
        .expect("position")
}

/// The statistics' rows as (key, orders).
async fn day_rows(shop: &PhotoShop, query: &str, position: u64) -> Vec<(String, u64)> {
    let path = shop.path(&format!(
        "/statistics?group_by=order_day&{query}&min_position={position}"
    ));
    let reply = shop.manager.get(&path).await.expect(200);
    reply.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let key = row["key"].as_str().expect("key").to_string();
            (key, row["orders"].as_u64().expect("orders"))
        })
        .collect()
}

fn lines() -> Value {
    json!([{"sku": "TIR-10x15", "quantity": 10}])
}

#[tokio::test]
async fn calendar_days_are_the_shops_across_a_dst_change() {
    // Proves, with Paris on summer time since 28 March 2027 01:00Z: an order at 22:30Z that
    // evening is on 29 March (statistics "today", order-day rows, the invoice's printed date, the
    // dashboard's last bar) while one at 21:30Z is on the 28th ("yesterday"); the zone is set by
    // PUT with If-Match (stale → 412, unknown → 422, nothing appended), and in UTC both orders
    // fall on the 28th.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2027-03-28T21:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière — fuseaux").await;
    let zone = shop.manager.get(&shop.path("/time-zone")).await.expect(200);
    assert_eq!(zone.body["time_zone"], "Europe/Paris");
    let profile = shop.manager.get(&shop.path("")).await.expect(200);
    assert_eq!(profile.body["time_zone"], "Europe/Paris");

    let storefront = shop.as_role("storefront");
    set_clock(&owner, "2027-03-28T21:30:00Z").await;
    let (evening, _) = place(
        &storefront,
        &shop,
        &home_order(&shop, "a@example.fr", lines()),
    )
    .await;
    set_clock(&owner, "2027-03-28T22:30:00Z").await;
    let (night, night_total) = place(
        &storefront,
        &shop,
        &home_order(&shop, "b@example.fr", lines()),
    )
    .await;
    let position = pay(&shop, &night, &night_total).await;

    assert_eq!(
        day_rows(&shop, "preset=today", position).await,
        [("2027-03-29".to_string(), 1)]
    );
    assert_eq!(
        day_rows(&shop, "preset=yesterday", position).await,
        [("2027-03-28".to_string(), 1)]
    );
    let both = "from=2027-03-28T00:00:00Z&until=2027-03-30T00:00:00Z";
    assert_eq!(
        day_rows(&shop, both, position).await,
        [("2027-03-28".to_string(), 1), ("2027-03-29".to_string(), 1)]
    );
    let order = shop
        .manager
        .get(&shop.path(&format!("/orders/{night}?min_position={position}")))
        .await
        .expect(200);
    let number = order.body["invoice_number"].as_str().expect("invoiced");
    let html = shop
        .manager
        .get(&shop.path(&format!(
            "/printable/invoices/{number}?min_position={position}"
        )))
        .await
        .expect(200)
        .raw;
    assert!(html.contains("29/03/2027"), "{html}");
    let board = shop
        .manager
        .get(&shop.path(&format!("/dashboard?min_position={position}")))
        .await
        .expect(200);
    let last_bar = &board.body["sales_last_7_days"]["buckets"][6];
    assert_eq!(last_bar["starts_on"], "2027-03-29");
    assert_eq!(last_bar["value"], night_total.as_str());
    assert_ne!(evening, night);

    let head = owner.head_position().await;
    let stale = shop
        .manager
        .put(
            &shop.path("/time-zone"),
            &json!({"time_zone": "UTC"}),
            Some("\"stale\""),
            None,
        )
        .await;
    stale.expect_problem(412, "precondition-failed");
    let unknown = shop
        .manager
        .put(
            &shop.path("/time-zone"),
            &json!({"time_zone": "Europe/Lyon"}),
            Some(&zone.etag),
            None,
        )
        .await;
    unknown.expect_problem(422, "validation");
    shop.as_role("employee")
        .put(
            &shop.path("/time-zone"),
            &json!({"time_zone": "UTC"}),
            None,
            None,
        )
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(
        owner.head_position().await,
        head,
        "refusals appended nothing"
    );
    let moved = shop
        .manager
        .put(
            &shop.path("/time-zone"),
            &json!({"time_zone": "UTC"}),
            Some(&zone.etag),
            None,
        )
        .await
        .expect(200);
    let position = moved.body["position"].as_u64().expect("position");
    assert_ne!(moved.etag, zone.etag);
    assert_eq!(
        day_rows(&shop, both, position).await,
        [("2027-03-28".to_string(), 2)]
    );
}

#[tokio::test]
async fn a_shop_is_created_in_a_valid_zone_only() {
    // Proves the zone given at creation is recorded and answered back, and an unknown one is a
    // 422 that creates nothing.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    let mut body = shop_body(&fixture(), "Studio Lumière — Fort-de-France");
    body["time_zone"] = json!("Mars/Olympus_Mons");
    let head = owner.head_position().await;
    owner
        .post("/v1/shops", &body)
        .await
        .expect_problem(422, "validation");
    assert_eq!(owner.head_position().await, head);
    body["time_zone"] = json!("America/Martinique");
    let created = owner.post("/v1/shops", &body).await.expect(201);
    assert_eq!(created.body["time_zone"], "America/Martinique");
    let shop_id = created.id("shop_id");
    let read = owner.get(&format!("/v1/shops/{shop_id}")).await.expect(200);
    assert_eq!(read.body["time_zone"], "America/Martinique");
}
