//! The real server killed with SIGKILL while clients place and pay orders: every order and
//! invoice it acknowledged is there after the restart, requests left unanswered and retried with
//! their Idempotency-Key double nothing, and the invoice numbers stay one gap-free series.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};

use crate::api::{all_numbers, home_order, photo_shop, seq_of, Api, PhotoShop};
use crate::support::{spawn_app_in, TestApp};

/// Clients placing and paying at once, as a storefront's checkout would.
const CLIENTS: usize = 12;
/// Kills per test run; each one restarts the server on the same data dir.
const KILLS: usize = 3;
/// Load before each kill, drawn in this range (milliseconds).
const LOAD_MS: std::ops::Range<u64> = 150..700;
/// A client gives up on a request after this long: the server is dead, not slow.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One creating request, kept to be retried as it was sent.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    key: String,
    body: Value,
}

/// What one client saw before the server died.
#[derive(Debug, Default)]
struct Seen {
    /// Order id → its invoice number once the payment was answered.
    orders: BTreeMap<String, Option<String>>,
    /// The request the kill left without an answer (none if the client was between two).
    unanswered: Option<Request>,
}

/// Sends `request` as `api`; `None` when no answer came (the connection died).
async fn send(api: &Api, request: &Request) -> Option<(u16, Value)> {
    let response = api
        .client
        .post(format!("{}{}", api.base, request.path))
        .bearer_auth(&api.token)
        .header("idempotency-key", &request.key)
        .json(&request.body)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.ok()?;
    Some((status, body))
}

/// Places and pays orders until the server stops answering.
async fn checkout_until_killed(api: Api, shop_path: String, order: Value, client: usize) -> Seen {
    let mut seen = Seen::default();
    for n in 0.. {
        let place = Request {
            path: format!("{shop_path}/orders"),
            key: format!("place-{}-{client}-{n}", uuid::Uuid::new_v4()),
            body: order.clone(),
        };
        let Some((status, placed)) = send(&api, &place).await else {
            seen.unanswered = Some(place);
            return seen;
        };
        assert_eq!(status, 201, "{placed}");
        let order_id = placed["order_id"].as_str().expect("order id").to_string();
        seen.orders.insert(order_id.clone(), None);
        let pay = Request {
            path: format!("{shop_path}/orders/{order_id}/payments"),
            key: format!("pay-{}-{client}-{n}", uuid::Uuid::new_v4()),
            body: json!({"method": "card",
                "amount": placed["pricing"]["totals"]["total_incl_vat"]}),
        };
        let Some((status, paid)) = send(&api, &pay).await else {
            seen.unanswered = Some(pay);
            return seen;
        };
        assert_eq!(status, 200, "{paid}");
        seen.orders.insert(order_id, Some(invoice_of(&paid)));
    }
    unreachable!("the loop ends when the server dies")
}

/// The invoice number of a payment's answer (also when the answer is a replay, which lists no
/// document as issued by it).
fn invoice_of(paid: &Value) -> String {
    paid["invoice_number"]
        .as_str()
        .unwrap_or_else(|| panic!("no invoice number: {paid}"))
        .to_string()
}

/// Loads the server with `CLIENTS` checkouts, kills it after a random while, and returns what
/// the clients saw.
async fn load_and_kill(app: &TestApp, shop: &PhotoShop) -> Vec<Seen> {
    let storefront = shop.as_role("storefront");
    let order = home_order(
        shop,
        "crash@example.fr",
        json!([{"sku": "TIR-10x15", "quantity": 3}]),
    );
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (api, path) = (storefront.clone(), shop.path(""));
            tokio::spawn(checkout_until_killed(api, path, order.clone(), client))
        })
        .collect();
    let load_ms = rand::thread_rng().gen_range(LOAD_MS);
    tokio::time::sleep(Duration::from_millis(load_ms)).await;
    app.signal(libc::SIGKILL);
    let mut seen = Vec::new();
    for client in clients {
        seen.push(client.await.expect("client task"));
    }
    seen
}

/// `api` pointed at the restarted server.
fn rebased(api: &Api, app: &TestApp) -> Api {
    Api {
        base: app.url(""),
        ..api.clone()
    }
}

/// Every order of the shop as listed: id → its summary.
async fn all_orders(api: &Api, shop: &PhotoShop, min_position: u64) -> BTreeMap<String, Value> {
    let mut orders = BTreeMap::new();
    let mut after = String::new();
    loop {
        let path = format!("/orders?limit=200&min_position={min_position}{after}");
        let page = api.get(&shop.path(&path)).await.expect(200);
        for order in page.body["items"].as_array().expect("items") {
            let id = order["order_id"].as_str().expect("id").to_string();
            orders.insert(id, order.clone());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => after = format!("&after={cursor}"),
            None => return orders,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_and_invoices_acknowledged_before_a_kill_9_survive_it_and_retries_double_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_in(dir.path()).await;
    let mut shop = photo_shop(&app, "Studio Crash").await;
    let mut acknowledged: BTreeMap<String, Option<String>> = BTreeMap::new();
    for kill in 0..KILLS {
        let seen = load_and_kill(&app, &shop).await;
        app.wait_exit().await;
        app = spawn_app_in(dir.path()).await;
        shop.manager = rebased(&shop.manager, &app);
        let storefront = shop.as_role("storefront");
        let mut retried = 0;
        for client in seen {
            acknowledged.extend(client.orders);
            let Some(request) = client.unanswered else {
                continue;
            };
            // The same request again, as a client does after a timeout: once, whatever the
            // first attempt left behind.
            let (status, body) = send(&storefront, &request).await.expect("an answer");
            assert!(status == 201 || status == 200, "{status} {body}");
            if request.path.ends_with("/orders") {
                let order_id = body["order_id"].as_str().expect("order id").to_string();
                acknowledged.entry(order_id).or_insert(None);
            } else {
                let order_id = body["order_id"].as_str().expect("order id").to_string();
                acknowledged.insert(order_id, Some(invoice_of(&body)));
            }
            retried += 1;
        }
        eprintln!(
            "kill {kill}: {} orders acknowledged in all, {retried} unanswered requests retried",
            acknowledged.len()
        );
    }

    let head = shop.manager.head_position().await;
    let orders = all_orders(&shop.manager, &shop, head).await;
    // Every acknowledged order is there, paid with the invoice it was answered with.
    for (order_id, invoice) in &acknowledged {
        let order = orders
            .get(order_id)
            .unwrap_or_else(|| panic!("acknowledged order {order_id} lost"));
        if let Some(number) = invoice {
            assert_eq!(order["invoice_number"], json!(number), "{order}");
        }
    }
    // Nothing doubled: each order the shop holds is one a client was answered for, first or on
    // its retry (a place request the kill left unanswered was retried with its key, and the
    // order it answered is known; a second order for the same key would be unknown).
    let unknown: Vec<_> = orders
        .keys()
        .filter(|id| !acknowledged.contains_key(*id))
        .collect();
    assert!(unknown.is_empty(), "orders no client knows of: {unknown:?}");
    // One gap-free invoice series, every number once.
    let accountant = shop.as_role("accountant");
    let numbers = all_numbers(&accountant, &shop.path("/invoices"), head).await;
    let seqs: Vec<u64> = numbers.iter().map(|n| seq_of(n)).collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected, "invoice numbers {numbers:?}");
    assert!(
        acknowledged.values().flatten().count() <= numbers.len(),
        "more invoices acknowledged than issued"
    );
    assert!(
        acknowledged.len() >= KILLS,
        "the load placed too few orders"
    );
}
