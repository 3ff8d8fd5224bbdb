//! The rest of the customer space over HTTP (seed 003): profile edits with `If-Match`, messages
//! between the customer (through the storefront) and the staff, and the loyalty card.

use serde_json::{json, Value};

use crate::api::set_clock;
use crate::api::{home_order, photo_shop, place, ship_and_return_as_store_credit, Api, PhotoShop};
use crate::reports::{assert_fec_checks, fec_file};
use crate::support::{spawn_app, spawn_app_with_test_clock};

/// Registers Claire through the storefront; returns her customer id and the write's position.
pub async fn claire(shop: &PhotoShop) -> (String, u64) {
    let body = json!({"email": "Claire.Martin@Example.fr", "first_name": "Claire",
        "last_name": "Martin"});
    let registered = shop
        .as_role("storefront")
        .post(&shop.path("/customers"), &body)
        .await
        .expect(201);
    (registered.id("customer_id"), position(&registered.body))
}

pub fn position(reply: &Value) -> u64 {
    reply["position"].as_u64().expect("position")
}

/// Amount in cents of a decimal string such as "13.20".
fn cents(amount: &str) -> i64 {
    let (units, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    let fraction = format!("{fraction:0<2}");
    units.parse::<i64>().expect("units") * 100 + fraction[..2].parse::<i64>().expect("cents")
}

/// Points at `hundredths` hundredths of a point per unit, rounded down, as the rule says.
fn points(amount: &str, hundredths: i64) -> i64 {
    cents(amount) * hundredths / 10_000
}

/// Asserts `request` was refused with `status`/`code` and appended nothing.
async fn refused_appending_nothing(
    api: &Api,
    status: u16,
    code: &str,
    reply: crate::api::Reply,
    before: u64,
) {
    reply.expect_problem(status, code);
    assert_eq!(api.head_position().await, before, "nothing appended");
}

/// Pays `amount` of the order with `method` as `api`; returns the write's position.
async fn pay(api: &Api, shop: &PhotoShop, order_id: &str, method: &str, amount: &str) -> u64 {
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    let body = json!({"method": method, "amount": amount});
    position(&api.post(&path, &body).await.expect(200).body)
}

/// The customer's space as `api` reads it once the read models hold position `at`.
async fn space_at(api: &Api, shop: &PhotoShop, customer_id: &str, at: u64) -> Value {
    let path = format!("/customers/{customer_id}/space?min_position={at}");
    api.get(&shop.path(&path)).await.expect(200).body
}

#[tokio::test]
async fn a_profile_is_edited_with_if_match_only() {
    // Proves a customer's profile changes through PUT with the ETag of GET; a missing If-Match
    // answers 428, a stale one 412, another email or a bad field 4xx, none of them appending.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, registered_at) = claire(&shop).await;
    let storefront = shop.as_role("storefront");
    let path = shop.path(&format!("/customers/{customer_id}"));
    let read = storefront
        .get(&format!("{path}?min_position={registered_at}"))
        .await
        .expect(200);
    assert!(!read.etag.is_empty(), "GET answers an ETag");
    assert_eq!(read.body["marketing_consent"], false);
    let edit = json!({"first_name": "Claire", "last_name": "Martin-Dupont",
        "phone": "+33 6 12 34 56 78", "marketing_consent": true,
        "address": {"line1": "3 place Bellecour", "postal_code": "69002", "city": "Lyon",
            "country": "FR"}});
    let before = storefront.head_position().await;
    let missing = storefront.put(&path, &edit, None, None).await;
    refused_appending_nothing(&storefront, 428, "precondition-required", missing, before).await;
    let written = storefront
        .put(&path, &edit, Some(&read.etag), None)
        .await
        .expect(200);
    assert_ne!(written.etag, read.etag, "the ETag follows the profile");
    let at = position(&written.body);
    let after = storefront
        .get(&format!("{path}?min_position={at}"))
        .await
        .expect(200);
    assert_eq!(after.body["last_name"], "Martin-Dupont");
    assert_eq!(after.body["phone"], "+33 6 12 34 56 78");
    assert_eq!(after.body["marketing_consent"], true);
    assert_eq!(after.body["address"]["city"], "Lyon");
    assert_eq!(after.etag, written.etag);

    let mut other = edit.clone();
    other["marketing_consent"] = json!(false);
    let before = storefront.head_position().await;
    let stale = storefront.put(&path, &other, Some(&read.etag), None).await;
    refused_appending_nothing(&storefront, 412, "precondition-failed", stale, before).await;
    let mut not_an_email = other.clone();
    not_an_email["email"] = json!("claire at atelier");
    let malformed = storefront
        .put(&path, &not_an_email, Some(&written.etag), None)
        .await;
    refused_appending_nothing(&storefront, 422, "validation", malformed, before).await;
    let mut same_email = other.clone();
    same_email["email"] = json!("CLAIRE.MARTIN@example.fr");
    let mut blank = other.clone();
    blank["first_name"] = json!("  ");
    let blank_name = storefront
        .put(&path, &blank, Some(&written.etag), None)
        .await;
    refused_appending_nothing(&storefront, 422, "validation", blank_name, before).await;
    shop.as_role("accountant")
        .put(&path, &other, Some(&written.etag), None)
        .await
        .expect_problem(403, "forbidden");
    storefront
        .put(&path, &same_email, Some(&written.etag), None)
        .await
        .expect(200);

    let unknown = shop.path(&format!("/customers/{}", uuid::Uuid::nil()));
    storefront
        .put(&unknown, &other, Some("*"), None)
        .await
        .expect_problem(404, "not-found");
    let elsewhere = photo_shop(&app, "Autre boutique").await;
    elsewhere
        .manager
        .put(&path, &other, Some("*"), None)
        .await
        .expect_problem(404, "not-found");
}

/// Moves the account at `path` to `email` with the current ETag; returns the answer.
async fn move_to(api: &Api, path: &str, email: &str) -> crate::api::Reply {
    // Read at the log's head: the account may have been written a moment ago, and the read
    // models may not hold it yet.
    let head = api.head_position().await;
    let etag = api
        .get(&format!("{path}?min_position={head}"))
        .await
        .expect(200)
        .etag;
    let body = json!({"email": email, "first_name": "Claire", "last_name": "Martin"});
    api.put(path, &body, Some(&etag), None).await
}

#[tokio::test]
async fn an_email_change_keeps_the_account_and_every_email_unique() {
    // Proves an account moves to a new email with its id, orders and points; the new and the old
    // email can be registered or taken by no one else (409, nothing appended); it may move back;
    // the customer list and space follow the move.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, _) = claire(&shop).await;
    let storefront = shop.as_role("storefront");
    let paul = json!({"email": "paul@example.fr", "first_name": "Paul", "last_name": "Roux"});
    let paul_id = storefront
        .post(&shop.path("/customers"), &paul)
        .await
        .expect(201)
        .id("customer_id");
    let lines = json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let before_move = home_order(&shop, "claire.martin@example.fr", lines.clone());
    place(&storefront, &shop, &before_move).await;

    let path = shop.path(&format!("/customers/{customer_id}"));
    let before = storefront.head_position().await;
    let taken = move_to(&storefront, &path, "Paul@Example.fr").await;
    refused_appending_nothing(&storefront, 409, "already-exists", taken, before).await;
    let moved = move_to(&storefront, &path, "Claire@Atelier.fr")
        .await
        .expect(200);
    let at = position(&moved.body);
    let read = storefront
        .get(&format!("{path}?min_position={at}"))
        .await
        .expect(200);
    assert_eq!(read.body["customer_id"], customer_id.as_str());
    assert_eq!(read.body["email"], "claire@atelier.fr");
    assert_eq!(read.body["email_as_typed"], "Claire@Atelier.fr");
    assert_eq!(
        read.body["previous_emails"],
        json!(["claire.martin@example.fr"])
    );
    let listed = storefront
        .get(&shop.path(&format!("/customers?search=claire&min_position={at}")))
        .await
        .expect(200)
        .body;
    let emails: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["email"].as_str().expect("email"))
        .collect();
    assert_eq!(
        emails,
        ["claire@atelier.fr"],
        "the row moved to its new email"
    );

    // Neither email can be registered, nor taken by another account.
    let before = storefront.head_position().await;
    for email in ["CLAIRE@atelier.fr", "claire.martin@example.fr"] {
        let body = json!({"email": email, "first_name": "Autre", "last_name": "Personne"});
        let reply = storefront.post(&shop.path("/customers"), &body).await;
        refused_appending_nothing(&storefront, 409, "already-exists", reply, before).await;
        let paul_path = shop.path(&format!("/customers/{paul_id}"));
        let reply = move_to(&storefront, &paul_path, email).await;
        refused_appending_nothing(&storefront, 409, "already-exists", reply, before).await;
    }

    // Orders with either email are the account's, and earn its points; an order with the new
    // email may name the account by its id, and no other account.
    let mut after_move = home_order(&shop, "claire@atelier.fr", lines);
    after_move["customer"]["customer_id"] = json!(paul_id);
    let before = storefront.head_position().await;
    let foreign = storefront.post(&shop.path("/orders"), &after_move).await;
    refused_appending_nothing(&storefront, 422, "validation", foreign, before).await;
    after_move["customer"]["customer_id"] = json!(customer_id);
    let (order_id, total) = place(&storefront, &shop, &after_move).await;
    let at = pay(&shop.manager, &shop, &order_id, "card", &total).await;
    let space = space_at(&storefront, &shop, &customer_id, at).await;
    assert_eq!(
        space["orders"].as_array().expect("orders").len(),
        2,
        "{space}"
    );
    let card = storefront
        .get(&shop.path(&format!(
            "/customers/{customer_id}/loyalty?min_position={at}"
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(card["balance"], points(&total, 100), "{card}");

    // Moving back to the first email is allowed: it is still the account's own.
    let back = move_to(&storefront, &path, "claire.martin@example.fr")
        .await
        .expect(200);
    let read = storefront
        .get(&format!("{path}?min_position={}", position(&back.body)))
        .await
        .expect(200);
    assert_eq!(read.body["email"], "claire.martin@example.fr");
    let previous = json!(["claire@atelier.fr"]);
    assert_eq!(read.body["previous_emails"], previous);
}

#[tokio::test]
async fn an_order_with_a_moved_email_keeps_its_messages_and_store_credit_on_the_account() {
    // Proves that after an email change, an order placed with the new email (naming no account)
    // belongs to the account's own id: a message about it goes in that account's thread, and the
    // store credit of its return is that account's, spent by an order naming the account and shown
    // used in its space.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, registered_at) = claire(&shop).await;
    let storefront = shop.as_role("storefront");
    let path = shop.path(&format!("/customers/{customer_id}"));
    storefront
        .get(&format!("{path}?min_position={registered_at}"))
        .await
        .expect(200);
    move_to(&storefront, &path, "claire@atelier.fr")
        .await
        .expect(200);

    let lines = json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let moved_order = home_order(&shop, "claire@atelier.fr", lines);
    let (order_id, total) = place(&storefront, &shop, &moved_order).await;
    pay(&shop.manager, &shop, &order_id, "card", &total).await;
    let lines_back = json!([{"line_number": 1, "quantity": 2}]);
    let returned = ship_and_return_as_store_credit(&shop, &order_id, lines_back).await;
    let (credited, credit_note) = (returned.credited, returned.number);
    assert!(cents(&credited) > 0, "the return is worth something");

    // The order is the account's: a message about it goes in the account's thread.
    let about = json!({"body": "Deux tirages sont revenus abîmés.", "order_id": order_id});
    let sent = send(&storefront, &shop, &customer_id, about).await;
    let listed = thread(&storefront, &shop, &customer_id, "all", position(&sent)).await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["order_id"], order_id.as_str(), "{listed}");
    assert_eq!(items[0]["customer_id"], customer_id.as_str(), "{listed}");

    // Its store credit is the account's: an order naming the account spends all of it.
    let second = json!({
        "customer": {"customer_id": customer_id, "email": "claire@atelier.fr",
            "name": "Claire Martin"},
        "lines": [{"sku": "ID-4", "quantity": 1}],
        "delivery_method_id": shop.delivery["retrait"],
    });
    let (second_id, second_total) = place(&storefront, &shop, &second).await;
    assert!(cents(&second_total) >= cents(&credited), "{second_total}");
    let at = pay(&storefront, &shop, &second_id, "store_credit", &credited).await;
    let space = space_at(&storefront, &shop, &customer_id, at).await;
    let notes = space["credit_notes"].as_array().expect("credit notes");
    assert_eq!(notes.len(), 1, "{space}");
    assert_eq!(notes[0]["number"], credit_note.as_str(), "{space}");
    assert!(
        notes[0]["used_at"].is_string(),
        "the account spent the credit note's whole amount: {space}"
    );
}

#[tokio::test]
async fn the_ledger_posts_an_order_with_a_moved_email_on_the_accounts_auxiliary_account() {
    // Proves that after an email change, the FEC's 411 lines of an order placed with the new
    // email (naming no account) carry the account's auxiliary account, not the one the email
    // derives to; and that an order placed with that email before the move keeps the email's own
    // auxiliary account on all its lines, even for its payment recorded after the move.
    let (dir, app) = spawn_app_with_test_clock().await;
    set_clock(&Api::owner(&app), "2026-06-15T09:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, registered_at) = claire(&shop).await;
    let storefront = shop.as_role("storefront");
    let moved_email = "claire@atelier.fr";
    let lines = json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let order = home_order(&shop, moved_email, lines);
    let (early_id, early_total) = place(&storefront, &shop, &order).await;
    let path = shop.path(&format!("/customers/{customer_id}"));
    storefront
        .get(&format!("{path}?min_position={registered_at}"))
        .await
        .expect(200);
    move_to(&storefront, &path, moved_email).await.expect(200);
    pay(&storefront, &shop, &early_id, "card", &early_total).await;
    let (late_id, late_total) = place(&storefront, &shop, &order).await;
    let paid_at = pay(&storefront, &shop, &late_id, "card", &late_total).await;

    let (name, fec) = fec_file(&shop, 2026, paid_at).await;
    let shop_uuid = uuid::Uuid::parse_str(&shop.shop_id).expect("shop id");
    let email_id = uuid::Uuid::new_v5(&shop_uuid, moved_email.as_bytes()).to_string();
    for (order_id, owner) in [(&early_id, &email_id), (&late_id, &customer_id)] {
        let pieces = order_pieces(&shop, order_id, paid_at).await;
        let auxiliary: Vec<&str> = fec
            .lines()
            .skip(1)
            .map(|line| line.split('\t').collect::<Vec<_>>())
            .filter(|cells| cells[4] == "411" && pieces.iter().any(|p| p == cells[8]))
            .map(|cells| cells[6])
            .collect();
        let expected = aux_account_of(owner);
        assert_eq!(auxiliary, [expected.as_str(); 2], "{order_id}: {fec}");
    }
    assert_ne!(aux_account_of(&email_id), aux_account_of(&customer_id));
    assert_fec_checks(dir.path(), &name, &fec);
}

/// The ledger's auxiliary account of the account `id`: `C` and its first 12 hex digits.
fn aux_account_of(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').take(12).collect();
    format!("C{}", hex.to_uppercase())
}

/// The FEC piece references of an order's entries: its invoice number, and the order reference
/// its payments are booked under (`CMD-` and the first 12 hex digits of its id).
async fn order_pieces(shop: &PhotoShop, order_id: &str, at: u64) -> [String; 2] {
    let path = shop.path(&format!("/orders/{order_id}?min_position={at}"));
    let order = shop.manager.get(&path).await.expect(200);
    let invoice = order.body["invoice_number"].as_str().expect("invoiced");
    let hex: String = order_id.chars().filter(|c| *c != '-').take(12).collect();
    [invoice.to_string(), format!("CMD-{}", hex.to_uppercase())]
}

/// Sends `body` in the customer's thread as `api`; returns the answer's body.
async fn send(api: &Api, shop: &PhotoShop, customer_id: &str, body: Value) -> Value {
    let path = shop.path(&format!("/customers/{customer_id}/messages"));
    api.post(&path, &body).await.expect(201).body
}

/// The thread as `api` lists it, at `at`, with the `archived` filter.
async fn thread(api: &Api, shop: &PhotoShop, customer_id: &str, archived: &str, at: u64) -> Value {
    let path = shop.path(&format!(
        "/customers/{customer_id}/messages?archived={archived}&min_position={at}"
    ));
    api.get(&path).await.expect(200).body
}

fn bodies(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect()
}

#[tokio::test]
async fn messages_go_both_ways_with_read_archive_and_unread_counts() {
    // Proves the storefront writes as the customer and staff as the shop, each side's unread
    // count and the staff inbox follow the reads, only the recipient marks read, archiving hides
    // a message from one side only, pages are oldest first, and bad input appends nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, _) = claire(&shop).await;
    let storefront = shop.as_role("storefront");
    let employee = shop.as_role("employee");
    let lines = json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let order = home_order(&shop, "claire.martin@example.fr", lines);
    let (order_id, _) = place(&storefront, &shop, &order).await;

    let asked = send(
        &storefront,
        &shop,
        &customer_id,
        json!({"body": "Bonjour,\nmes tirages sont-ils partis ?", "order_id": order_id}),
    )
    .await;
    assert_eq!(asked["from"], "customer");
    let asked_id = asked["message_id"].as_str().expect("id").to_string();
    let inbox = shop.path(&format!(
        "/messages/inbox?min_position={}",
        position(&asked)
    ));
    let listed = employee.get(&inbox).await.expect(200).body;
    assert_eq!(
        listed["items"].as_array().expect("items").len(),
        1,
        "{listed}"
    );
    assert_eq!(listed["items"][0]["customer_id"], customer_id.as_str());
    assert_eq!(listed["items"][0]["unread_by_shop"], 1);
    storefront
        .get(&inbox)
        .await
        .expect_problem(403, "forbidden");

    let answered = send(
        &employee,
        &shop,
        &customer_id,
        json!({"body": "Ils partent demain."}),
    )
    .await;
    assert_eq!(answered["from"], "shop");
    let answered_id = answered["message_id"].as_str().expect("id").to_string();
    let page = thread(
        &storefront,
        &shop,
        &customer_id,
        "current",
        position(&answered),
    )
    .await;
    assert_eq!(
        bodies(&page),
        [
            "Bonjour,\nmes tirages sont-ils partis ?",
            "Ils partent demain."
        ]
    );
    assert_eq!(page["items"][0]["order_id"], order_id.as_str());
    assert_eq!(page["thread"]["unread_by_customer"], 1);
    assert_eq!(page["thread"]["unread_by_shop"], 1);
    assert_eq!(page["thread"]["awaiting_notification"], 1);
    assert_eq!(page["items"][1]["awaits_notification"], true);

    // Only the recipient marks a message read.
    let message = |id: &str, action: &str| {
        shop.path(&format!("/customers/{customer_id}/messages/{id}/{action}"))
    };
    let before = storefront.head_position().await;
    let own = storefront
        .post(&message(&asked_id, "read"), &json!({}))
        .await;
    refused_appending_nothing(&storefront, 409, "own-message", own, before).await;
    employee
        .post(&message(&asked_id, "read"), &json!({}))
        .await
        .expect(200);
    let read = storefront
        .post(&message(&answered_id, "read"), &json!({}))
        .await
        .expect(200);
    let page = thread(
        &employee,
        &shop,
        &customer_id,
        "current",
        position(&read.body),
    )
    .await;
    assert_eq!(page["thread"]["unread_by_customer"], 0);
    assert_eq!(page["thread"]["unread_by_shop"], 0);
    assert_eq!(page["thread"]["awaiting_notification"], 0);
    assert!(page["items"][0]["read_at"].is_string());
    let listed = employee
        .get(&shop.path(&format!(
            "/messages/inbox?min_position={}",
            position(&read.body)
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(
        listed["items"].as_array().expect("items").len(),
        0,
        "{listed}"
    );

    // The customer archives the shop's answer: hidden from them, still shown to the staff.
    let archived = storefront
        .post(&message(&answered_id, "archive"), &json!({}))
        .await
        .expect(200);
    let at = position(&archived.body);
    let page = thread(&storefront, &shop, &customer_id, "current", at).await;
    assert_eq!(bodies(&page), ["Bonjour,\nmes tirages sont-ils partis ?"]);
    let page = thread(&storefront, &shop, &customer_id, "archived", at).await;
    assert_eq!(bodies(&page), ["Ils partent demain."]);
    let page = thread(&employee, &shop, &customer_id, "current", at).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 2);
    let unarchived = storefront
        .post(&message(&answered_id, "unarchive"), &json!({}))
        .await
        .expect(200);
    let page = thread(
        &storefront,
        &shop,
        &customer_id,
        "current",
        position(&unarchived.body),
    )
    .await;
    assert_eq!(page["items"].as_array().expect("items").len(), 2);

    // Paging: oldest first, with a cursor.
    for n in 0..3 {
        send(
            &storefront,
            &shop,
            &customer_id,
            json!({"body": format!("relance {n}")}),
        )
        .await;
    }
    let at = storefront.head_position().await;
    let first = storefront
        .get(&shop.path(&format!(
            "/customers/{customer_id}/messages?limit=2&min_position={at}"
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = storefront
        .get(&shop.path(&format!(
            "/customers/{customer_id}/messages?limit=200&after={cursor}"
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(bodies(&rest), ["relance 0", "relance 1", "relance 2"]);
    assert_eq!(rest["thread"]["unread_by_shop"], 3);

    // Bad input: 4xx and nothing appended.
    let path = shop.path(&format!("/customers/{customer_id}/messages"));
    let before = storefront.head_position().await;
    let too_long = json!({"body": "a".repeat(5_001)});
    for bad in [
        json!({"body": "   "}),
        too_long,
        json!({"body": "bip\u{7}"}),
    ] {
        let reply = storefront.post(&path, &bad).await;
        refused_appending_nothing(&storefront, 422, "validation", reply, before).await;
    }
    let unknown_field = storefront.post(&path, &json!({"text": "x"})).await;
    assert!(
        unknown_field.status.is_client_error(),
        "{}",
        unknown_field.raw
    );
    let other_order = place(
        &storefront,
        &shop,
        &home_order(
            &shop,
            "paul@example.fr",
            json!([{"sku": "TIR-10x15", "quantity": 1}]),
        ),
    )
    .await
    .0;
    let before = storefront.head_position().await;
    let foreign = storefront
        .post(
            &path,
            &json!({"body": "Et celle-ci ?", "order_id": other_order}),
        )
        .await;
    refused_appending_nothing(&storefront, 422, "validation", foreign, before).await;
    let missing = message(&uuid::Uuid::nil().to_string(), "read");
    let reply = employee.post(&missing, &json!({})).await;
    refused_appending_nothing(&employee, 404, "not-found", reply, before).await;
    let nobody = shop.path(&format!("/customers/{}/messages", uuid::Uuid::nil()));
    let reply = storefront.post(&nobody, &json!({"body": "Allô ?"})).await;
    refused_appending_nothing(&storefront, 404, "not-found", reply, before).await;
    shop.as_role("accountant")
        .get(&path)
        .await
        .expect_problem(403, "forbidden");

    // Another shop's key sees nothing of this thread.
    let elsewhere = photo_shop(&app, "Autre boutique").await;
    elsewhere
        .manager
        .get(&path)
        .await
        .expect_problem(404, "not-found");
    elsewhere
        .manager
        .post(&path, &json!({"body": "intrus"}))
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn loyalty_points_follow_paid_orders_and_credit_notes() {
    // Proves points are earned on payment (rounded down, at the rate in force), taken back by a
    // credit note, not earned by an order cancelled before payment, and that a rate change
    // applies to later payments only; another shop's key gets 404.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, registered_at) = claire(&shop).await;
    let storefront = shop.as_role("storefront");
    let manager = &shop.manager;
    let email = "claire.martin@example.fr";
    let card = |at: u64| {
        shop.path(&format!(
            "/customers/{customer_id}/loyalty?min_position={at}"
        ))
    };
    let empty = storefront.get(&card(registered_at)).await.expect(200).body;
    assert_eq!(
        (empty["balance"].as_i64(), empty["points_per_unit"].as_str()),
        (Some(0), Some("1"))
    );

    // Paid at 1 point per euro.
    let lines = json!([{"sku": "TIR-10x15", "quantity": 60}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let (paid_id, paid_total) = place(&storefront, &shop, &home_order(&shop, email, lines)).await;
    pay(manager, &shop, &paid_id, "card", &paid_total).await;
    // Cancelled before payment: earns nothing.
    let lines = json!([{"sku": "TIR-13x18", "quantity": 5}]);
    let (cancelled_id, _) = place(&storefront, &shop, &home_order(&shop, email, lines)).await;
    let cancel = shop.path(&format!("/orders/{cancelled_id}/cancel"));
    let cancelled = manager
        .post(&cancel, &json!({"reason": "doublon"}))
        .await
        .expect(200);
    let earned = points(&paid_total, 100);
    assert!(earned > 0, "the test order is worth points");
    let after_paid = storefront
        .get(&card(position(&cancelled.body)))
        .await
        .expect(200)
        .body;
    assert_eq!(after_paid["balance"], earned, "{after_paid}");
    let history = after_paid["history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{after_paid}");
    assert_eq!(history[0]["reason"], "order_paid");
    assert_eq!(history[0]["order_id"], paid_id.as_str());
    assert_eq!(history[0]["amount"], paid_total.as_str());
    assert!(history[0]["document_number"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));

    // A return credited: the order is now worth the points of what remains.
    let lines_back = json!([{"line_number": 1, "quantity": 10}]);
    let returned = ship_and_return_as_store_credit(&shop, &paid_id, lines_back).await;
    let (credited, credit_note) = (returned.credited, returned.number);
    let remaining = (cents(&paid_total) - cents(&credited)) / 100;
    let after_credit = storefront
        .get(&card(returned.position))
        .await
        .expect(200)
        .body;
    assert_eq!(after_credit["balance"], remaining, "{after_credit}");
    assert_eq!(after_credit["removed"], earned - remaining);
    let history = after_credit["history"].as_array().expect("history");
    assert_eq!(history[1]["reason"], "credited");
    assert_eq!(history[1]["document_number"], credit_note.as_str());
    assert_eq!(history[1]["points"], remaining - earned);
    assert_eq!(history[1]["balance_after"], remaining);

    // A new rate applies to later payments only; bad rates are refused and append nothing.
    let rule = shop.path("/loyalty-rule");
    let before = manager.head_position().await;
    for bad in ["-1", "0.125", "abc", "1000"] {
        let reply = manager
            .put(&rule, &json!({"points_per_unit": bad}), Some("*"), None)
            .await;
        assert!(reply.status.is_client_error(), "{bad}: {}", reply.raw);
        assert_eq!(
            manager.head_position().await,
            before,
            "nothing appended for {bad}"
        );
    }
    storefront
        .put(&rule, &json!({"points_per_unit": "2"}), Some("*"), None)
        .await
        .expect_problem(403, "forbidden");
    let rule_etag = manager.get(&rule).await.expect(200).etag;
    manager
        .put(
            &rule,
            &json!({"points_per_unit": "2.5"}),
            Some(&rule_etag),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        storefront.get(&rule).await.expect(200).body["points_per_unit"],
        "2.5"
    );
    let lines = json!([{"sku": "TIR-13x18", "quantity": 7}]);
    let (second_id, second_total) =
        place(&storefront, &shop, &home_order(&shop, email, lines)).await;
    let paid_at = pay(manager, &shop, &second_id, "card", &second_total).await;
    let last = storefront.get(&card(paid_at)).await.expect(200).body;
    assert_eq!(
        last["balance"],
        remaining + points(&second_total, 250),
        "{last}"
    );
    assert_eq!(last["history"].as_array().expect("history").len(), 3);

    // Scoped by shop, and only for accounts that exist.
    let elsewhere = photo_shop(&app, "Autre boutique").await;
    elsewhere
        .manager
        .get(&card(0))
        .await
        .expect_problem(404, "not-found");
    let unknown = shop.path(&format!("/customers/{}/loyalty", uuid::Uuid::nil()));
    manager.get(&unknown).await.expect_problem(404, "not-found");
}
