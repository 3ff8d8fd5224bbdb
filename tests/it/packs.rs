//! Packs, order files and the dashboard over REST, with the server's test clock to reach expiry.

use std::io::Read;

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{
    activate_pack, home_order, photo_shop, photo_shop_with_pack, set_clock, Api, PhotoShop, Reply,
};
use crate::support::{spawn_app, spawn_app_with_test_clock, TestApp};

fn small_pack(orders: u64, bytes: u64) -> Value {
    json!({"level": "Découverte", "validity": {"days": 30},
        "transfer_allowance_bytes": bytes, "order_allowance": orders})
}

async fn pack_of(shop: &PhotoShop) -> Value {
    shop.manager.get(&shop.path("/pack")).await.expect(200).body
}

async fn place_order(api: &Api, shop: &PhotoShop, email: &str) -> Reply {
    let body = home_order(shop, email, json!([{"sku": "AGR-30x45", "quantity": 1}]));
    api.post(&shop.path("/orders"), &body).await
}

async fn upload(app: &TestApp, key: &str, path: &str, bytes: Vec<u8>) -> Reply {
    let request = app.client.put(app.url(path)).bearer_auth(key).body(bytes);
    crate::api::read(request.send().await.expect("upload")).await
}

async fn download(app: &TestApp, key: &str, path: &str) -> (u16, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn pack_activation_consumption_expiry_and_renewal() {
    // Proves a shop without a pack takes no order; a code activates it once (used and unknown
    // codes are 409s); orders consume the count until the shop is deactivated (no order event
    // appended); the clock expires it; a renewal code reactivates it at once; staff still read.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    let shop = photo_shop_with_pack(&app, "Forfait", None).await;
    let storefront = shop.as_role("storefront");
    let head = owner.head_position().await;
    place_order(&storefront, &shop, "a@example.fr")
        .await
        .expect_problem(409, "pack-not-activated");
    assert_eq!(owner.head_position().await, head);

    let code = owner
        .post("/v1/activation-codes", &small_pack(2, 1_000))
        .await
        .expect(201)
        .id("code");
    shop.as_role("storefront")
        .post(&shop.path("/pack/activations"), &json!({"code": code}))
        .await
        .expect_problem(403, "forbidden");
    let employee = shop.as_role("employee");
    let activated = employee
        .post(
            &shop.path("/pack/activations"),
            &json!({"code": code.to_lowercase()}),
        )
        .await
        .expect(200);
    assert_eq!(activated.body["status"]["status"], "active");
    assert_eq!(activated.body["level"], "Découverte");
    let other = photo_shop_with_pack(&app, "Autre", None).await;
    other
        .manager
        .post(&other.path("/pack/activations"), &json!({"code": code}))
        .await
        .expect_problem(409, "activation-code-used");
    let unknown = json!({"code": "AAAAA-BBBBB-CCCCC-DDDDD"});
    other
        .manager
        .post(&other.path("/pack/activations"), &unknown)
        .await
        .expect_problem(409, "activation-code-unknown");

    place_order(&storefront, &shop, "a@example.fr")
        .await
        .expect(201);
    let last = place_order(&storefront, &shop, "b@example.fr")
        .await
        .expect(201);
    let pack = pack_of(&shop).await;
    assert_eq!(
        (
            pack["orders_left"].as_u64(),
            pack["deactivation_code"].as_str()
        ),
        (Some(0), Some("quota-exhausted"))
    );
    let head = owner.head_position().await;
    place_order(&storefront, &shop, "c@example.fr")
        .await
        .expect_problem(409, "quota-exhausted");
    assert_eq!(owner.head_position().await, head);
    // Reads come from projections: ask for the placing's position so the read waits for it.
    let placed_at = last.body["position"]
        .as_u64()
        .expect("a write answers its position");
    let order_path = shop.path(&format!(
        "/orders/{}?min_position={placed_at}",
        last.id("order_id")
    ));
    shop.as_role("employee").get(&order_path).await.expect(200);

    let renewal = owner
        .post("/v1/activation-codes", &small_pack(5, 1_000))
        .await
        .expect(201)
        .id("code");
    let renewed = shop
        .manager
        .post(&shop.path("/pack/activations"), &json!({"code": renewal}))
        .await
        .expect(200);
    assert_eq!(
        (
            renewed.body["orders_left"].as_u64(),
            renewed.body["status"]["status"].as_str()
        ),
        (Some(5), Some("active"))
    );
    let ends_at = renewed.body["ends_at"].as_str().expect("end").to_string();
    let unsubscribed = shop
        .manager
        .post(&shop.path("/pack/unsubscribe"), &json!({}))
        .await
        .expect(200);
    assert_eq!(
        (
            unsubscribed.body["unsubscribed"].as_bool(),
            unsubscribed.body["status"]["status"].as_str()
        ),
        (Some(true), Some("active"))
    );
    place_order(&storefront, &shop, "d@example.fr")
        .await
        .expect(201);

    let after_end =
        chrono::DateTime::parse_from_rfc3339(&ends_at).expect("date") + chrono::Duration::hours(1);
    set_clock(&owner, &after_end.to_rfc3339()).await;
    let head = owner.head_position().await;
    place_order(&storefront, &shop, "e@example.fr")
        .await
        .expect_problem(409, "pack-expired");
    assert_eq!(owner.head_position().await, head);
    assert_eq!(pack_of(&shop).await["deactivation_code"], "pack-expired");
    shop.manager.get(&order_path).await.expect(200);
    let third = owner
        .post("/v1/activation-codes", &small_pack(3, 1_000))
        .await
        .expect(201)
        .id("code");
    shop.manager
        .post(&shop.path("/pack/activations"), &json!({"code": third}))
        .await
        .expect(200);
    place_order(&storefront, &shop, "e@example.fr")
        .await
        .expect(201);
    assert_eq!(pack_of(&shop).await["orders_left"], 2);
}

#[tokio::test]
async fn the_test_clock_exists_only_with_its_flag() {
    // Proves a server started without --test-clock has no clock route, so time cannot be moved.
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let reply = owner
        .send(
            Method::PUT,
            "/v1/test-clock",
            Some(&json!({"now": "2030-01-01T00:00:00Z"})),
            None,
        )
        .await;
    reply.expect_problem(404, "not-found");
}

#[tokio::test]
async fn uploads_downloads_and_the_zip_are_counted_byte_for_byte() {
    // Proves uploads and printer/storefront downloads consume exactly their bytes, staff downloads
    // are free, a retried upload counts once, the order view lists its files, the zip holds them,
    // and a refused upload changes nothing (no event, no bytes, no temp file).
    let (dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let shop = photo_shop_with_pack(&app, "Fichiers", None).await;
    activate_pack(
        &owner,
        &shop.manager,
        &shop.shop_id,
        &small_pack(10, 10_000),
    )
    .await;
    let order_id = place_order(&shop.manager, &shop, "f@example.fr")
        .await
        .expect(201)
        .id("order_id");
    let files = shop.path(&format!("/orders/{order_id}/files"));
    let storefront = &shop.keys["storefront"];
    let photo_a: Vec<u8> = (0..3_000u32).map(|i| (i % 251) as u8).collect();
    let photo_b: Vec<u8> = vec![7u8; 2_000];
    let stored = upload(
        &app,
        storefront,
        &format!("{files}/IMG_1.jpg"),
        photo_a.clone(),
    )
    .await
    .expect(201);
    assert_eq!(
        (
            stored.body["bytes"].as_u64(),
            stored.body["recorded"].as_bool()
        ),
        (Some(3_000), Some(true))
    );
    upload(
        &app,
        storefront,
        &format!("{files}/IMG_2.jpg"),
        photo_b.clone(),
    )
    .await
    .expect(201);
    let retried = upload(
        &app,
        storefront,
        &format!("{files}/IMG_1.jpg"),
        photo_a.clone(),
    )
    .await
    .expect(201);
    assert_eq!(retried.body["recorded"], false);
    assert_eq!(pack_of(&shop).await["transfer_bytes_used"], 5_000);

    let head = owner.head_position().await;
    upload(
        &app,
        storefront,
        &format!("{files}/IMG_1.jpg"),
        photo_b.clone(),
    )
    .await
    .expect_problem(409, "order-file-exists");
    upload(
        &app,
        storefront,
        &format!("{files}/.hidden"),
        photo_b.clone(),
    )
    .await
    .expect_problem(422, "validation");
    upload(
        &app,
        storefront,
        &format!("{files}/IMG_3.jpg"),
        vec![1u8; 6_000],
    )
    .await
    .expect_problem(409, "quota-exhausted");
    assert_eq!(owner.head_position().await, head);
    let leftovers = std::fs::read_dir(dir.path().join("files"))
        .expect("files dir")
        .count();
    assert_eq!(leftovers, 2);

    let view = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_id}")))
        .await
        .expect(200);
    assert_eq!(view.body["files"], json!(["IMG_1.jpg", "IMG_2.jpg"]));
    let listed = shop.manager.get(&files).await.expect(200);
    assert_eq!(listed.body["files"][0]["bytes"], 3_000);

    let (status, bytes) =
        download(&app, &shop.keys["printer"], &format!("{files}/IMG_1.jpg")).await;
    assert_eq!((status, bytes == photo_a), (200, true));
    assert_eq!(pack_of(&shop).await["transfer_bytes_used"], 8_000);
    let (status, _) = download(&app, &shop.keys["manager"], &format!("{files}/IMG_2.jpg")).await;
    assert_eq!(status, 200);
    assert_eq!(pack_of(&shop).await["transfer_bytes_used"], 8_000);
    let (status, _) = download(&app, storefront, &format!("{files}.zip")).await;
    assert_eq!(status, 409, "5,000 bytes do not fit in the 2,000 left");
    let (status, zipped) = download(&app, &shop.keys["employee"], &format!("{files}.zip")).await;
    assert_eq!(status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).expect("zip");
    let mut first = Vec::new();
    archive
        .by_name("IMG_1.jpg")
        .expect("entry")
        .read_to_end(&mut first)
        .expect("read");
    assert_eq!((archive.len(), first == photo_a), (2, true));
    let (status, _) = download(&app, storefront, &format!("{files}/IMG_2.jpg")).await;
    assert_eq!(status, 200);
    assert_eq!(pack_of(&shop).await["transfer_bytes_left"], 0);
}

#[tokio::test]
async fn dashboard_figures_match_the_orders_placed() {
    // Proves the dashboard's level, orders, sales (discounted, cancelled excluded) and bandwidth
    // over 7 days and 12 months are those of the orders and files the test made.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Tableau").await;
    let coupon = json!({
        "name": "Dix", "starts_on": "2024-01-01", "ends_on": "2030-12-31",
        "scope": {"order": {"reduction": {"percent": "10"}}},
        "audience": {"all_customers": {"max_total_uses": null, "max_uses_per_customer": null}},
    });
    let coupon_id = shop
        .manager
        .post(&shop.path("/coupons"), &coupon)
        .await
        .expect(201)
        .id("coupon_id");
    let codes = shop.path(&format!("/coupons/{coupon_id}/codes"));
    shop.manager
        .post(&codes, &json!({"kind": "typed", "code": "DIXPC"}))
        .await
        .expect(201);
    let mut with_coupon = home_order(
        &shop,
        "g@example.fr",
        json!([{"sku": "AGR-30x45", "quantity": 2}]),
    );
    with_coupon["coupon_code"] = json!("dixpc");
    let discounted = shop
        .manager
        .post(&shop.path("/orders"), &with_coupon)
        .await
        .expect(201);
    assert_eq!(discounted.body["totals"]["total_incl_vat"], "22.72");
    let plain = place_order(&shop.manager, &shop, "h@example.fr")
        .await
        .expect(201);
    let cancelled = place_order(&shop.manager, &shop, "i@example.fr")
        .await
        .expect(201);
    let cancel = shop.path(&format!("/orders/{}/cancel", cancelled.id("order_id")));
    shop.manager
        .post(&cancel, &json!({"reason": "test"}))
        .await
        .expect(200);
    let files = shop.path(&format!("/orders/{}/files/IMG.jpg", plain.id("order_id")));
    let stored = upload(&app, &shop.keys["storefront"], &files, vec![9u8; 1_234])
        .await
        .expect(201);
    let at = stored.body["position"].as_u64().expect("position");
    let board = shop
        .as_role("employee")
        .get(&shop.path(&format!("/dashboard?min_position={at}")))
        .await
        .expect(200);
    let body = &board.body;
    assert_eq!(body["account_level"], "Pro");
    assert_eq!(body["orders_last_7_days"]["total"], 2);
    assert_eq!(body["orders_last_12_months"]["total"], 2);
    let sales = "37.52";
    assert_eq!(body["sales_last_7_days"]["total"], sales);
    assert_eq!(body["sales_last_12_months"]["total"], sales);
    assert_eq!(body["bandwidth_bytes_last_7_days"]["total"], 1_234);
    assert_eq!(
        body["bandwidth_bytes_last_12_months"]["buckets"]
            .as_array()
            .map(Vec::len),
        Some(12)
    );
    assert_eq!(body["transfer_bytes_left"], 50_000_000_000_u64 - 1_234);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_upload_never_removes_bytes_a_concurrent_upload_recorded() {
    // Proves content-addressed bytes survive a race: the same content sent at once to an order
    // that records it and to a name that refuses it (taken by other content) leaves every
    // recorded file downloadable with its exact bytes, and nothing unrecorded on disk.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Concurrence").await;
    let storefront = shop.keys["storefront"].clone();
    let taken = place_order(&shop.manager, &shop, "t@example.fr")
        .await
        .expect(201)
        .id("order_id");
    let taken_files = shop.path(&format!("/orders/{taken}/files"));
    upload(
        &app,
        &storefront,
        &format!("{taken_files}/X.jpg"),
        vec![0u8; 10],
    )
    .await
    .expect(201);
    let mut recorded = Vec::new();
    for round in 0..12u8 {
        let order_id = place_order(&shop.manager, &shop, "r@example.fr")
            .await
            .expect(201)
            .id("order_id");
        let content: Vec<u8> = (0..4_000u32).map(|i| (i as u8) ^ round).collect();
        let accepted = format!("/v1/shops/{}/orders/{order_id}/files/P.jpg", shop.shop_id);
        let refused = format!("{taken_files}/X.jpg");
        let (ok, no) = tokio::join!(
            upload(&app, &storefront, &accepted, content.clone()),
            upload(&app, &storefront, &refused, content.clone()),
        );
        ok.expect(201);
        no.expect_problem(409, "order-file-exists");
        recorded.push((accepted, content));
    }
    for (path, content) in &recorded {
        let (status, bytes) = download(&app, &shop.keys["manager"], path).await;
        assert_eq!(status, 200, "{path}");
        assert!(&bytes == content, "{path} lost its bytes");
    }
    let on_disk = std::fs::read_dir(dir.path().join("files"))
        .expect("files dir")
        .count();
    assert_eq!(on_disk, recorded.len() + 1, "only recorded contents remain");
}

#[tokio::test]
async fn a_minted_code_survives_kill_9_and_its_retry_shows_the_same_code() {
    // Proves a response carrying a once-shown secret is durable before it is sent: killed with
    // SIGKILL right after minting, the restarted server answers the retry with the same code and
    // mints nothing more, and that code activates a pack.
    let (dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let terms = small_pack(5, 1_000);
    let first = owner
        .post_with_key("/v1/activation-codes", &terms, "mint-1")
        .await
        .expect(201);
    app.signal(libc::SIGKILL);
    app.wait_exit().await;

    let app = crate::support::spawn_app_in(dir.path()).await;
    let owner = Api::owner(&app);
    let head = owner.head_position().await;
    let retry = owner
        .post_with_key("/v1/activation-codes", &terms, "mint-1")
        .await
        .expect(201);
    assert!(retry.replayed);
    assert_eq!(retry.raw, first.raw);
    assert_eq!(owner.head_position().await, head, "nothing minted twice");
    let shop = photo_shop_with_pack(&app, "Après crash", None).await;
    let path = format!("/v1/shops/{}/pack/activations", shop.shop_id);
    shop.manager
        .post(&path, &json!({"code": first.id("code")}))
        .await
        .expect(200);
}
