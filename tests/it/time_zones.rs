//! Shop time zones end to end: calendar days (statistics presets, order days, invoice dates,
//! dashboard bars) are the shop's, across a DST change, and the zone follows its events.

use serde_json::{json, Value};

use crate::api::{fixture, home_order, photo_shop, place, set_clock, shop_body, Api, PhotoShop};
use crate::reports::{assert_fec_checks, fec_file};
use crate::support::spawn_app_with_test_clock;

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

/// The statistics' rows as (key, orders), unpaid orders included: these tests are about the
/// days orders fall on, and the evening order is never paid.
async fn day_rows(shop: &PhotoShop, query: &str, position: u64) -> Vec<(String, u64)> {
    let path = shop.path(&format!(
        "/statistics?group_by=order_day&status=all&{query}&min_position={position}"
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

#[tokio::test]
async fn the_ledger_and_fec_book_a_new_years_eve_payment_in_the_shops_year() {
    // Proves, for a Paris shop, an order paid at 2026-12-31T23:30:00Z (already 1 January in
    // Paris): its invoice is numbered FA-2027-…, the journal of the local day 2027-01-01 holds
    // its entries (local_date 2027-01-01), the FEC of 2027 holds them dated 20270101 and passes
    // the shared checker while the FEC of 2026 has none, and the trial balance of January 2027
    // has them while December 2026 is empty; a malformed journal period is a 400.
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-12-31T23:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière — réveillon").await;
    set_clock(&owner, "2026-12-31T23:25:00Z").await;
    let storefront = shop.as_role("storefront");
    let (order_id, total) = place(
        &storefront,
        &shop,
        &home_order(&shop, "reveillon@example.fr", lines()),
    )
    .await;
    set_clock(&owner, "2026-12-31T23:30:00Z").await;
    let position = pay(&shop, &order_id, &total).await;

    let order = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_id}?min_position={position}")))
        .await
        .expect(200);
    let number = order.body["invoice_number"].as_str().expect("invoiced");
    assert!(number.starts_with("FA-2027-"), "{number}");

    let accountant = shop.as_role("accountant");
    let journal = accountant
        .get(&shop.path(&format!(
            "/ledger/journal?from=2027-01-01&to=2027-01-01&min_position={position}"
        )))
        .await
        .expect(200);
    let entries = journal.body["entries"].as_array().expect("entries");
    assert_eq!(
        entries.len(),
        2,
        "the invoice and its payment: {}",
        journal.raw
    );
    for entry in entries {
        assert_eq!(entry["local_date"], "2027-01-01");
        // The test clock runs on from the instant it was set to.
        let date = entry["date"].as_str().expect("date");
        assert!(date.starts_with("2026-12-31T23:30:0"), "{date}");
    }
    assert!(entries.iter().any(|e| e["piece_ref"] == number));
    let eve = accountant
        .get(&shop.path(&format!(
            "/ledger/journal?from=2026-12-01&until=2027-01-01&min_position={position}"
        )))
        .await
        .expect(200);
    assert_eq!(eve.body["entries"], json!([]), "{}", eve.raw);

    let (name_2027, fec_2027) = fec_file(&shop, 2027, position).await;
    assert!(name_2027.ends_with("FEC20271231.txt"), "{name_2027}");
    let rows: Vec<Vec<&str>> = fec_2027
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect();
    assert!(rows.iter().any(|cells| cells[8] == number), "{fec_2027}");
    for cells in &rows {
        assert_eq!(
            [cells[3], cells[9], cells[15]],
            ["20270101"; 3],
            "{fec_2027}"
        );
    }
    assert_fec_checks(dir.path(), &name_2027, &fec_2027);
    let (_, fec_2026) = fec_file(&shop, 2026, position).await;
    assert_eq!(fec_2026.lines().count(), 1, "header only: {fec_2026}");
    assert!(!fec_2026.contains(number));

    let trial = |month: &str| {
        shop.path(&format!(
            "/ledger/trial-balance?from_month={month}&min_position={position}"
        ))
    };
    let january = shop.manager.get(&trial("202701")).await.expect(200);
    assert_eq!(january.body["total_debit"], january.body["total_credit"]);
    let bank = january.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["account"] == "512")
        .expect("the card payment reached the bank");
    assert_eq!(bank["debit"], total.as_str(), "{}", january.raw);
    let december = shop.manager.get(&trial("202612")).await.expect(200);
    assert_eq!(december.body["rows"], json!([]), "{}", december.raw);
    shop.manager
        .get(&trial("202613"))
        .await
        .expect_problem(400, "invalid-request");

    for bad in [
        "from=31/12/2026&to=2027-01-01",
        "from=2027-01-01",
        "from=2027-01-01&until=2027-01-02&to=2027-01-01",
    ] {
        accountant
            .get(&shop.path(&format!("/ledger/journal?{bad}")))
            .await
            .expect_problem(400, "invalid-request");
    }
}
