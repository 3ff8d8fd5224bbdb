//! Online rebuilds through the real binary: `POST /v1/admin/rebuilds` while orders keep coming,
//! `comptoir rebuild --server`, and the refusal of an offline rebuild while a server runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{home_order, photo_shop, place, Api, PhotoShop};
use crate::openapi::{conforms, served_document};
use crate::reports::{comptoir_ok, digests, pay, varied_history};
use crate::support::{run_comptoir, spawn_app_in, TestApp, ADMIN_TOKEN};

/// Orders placed and paid before the rebuild, so that replaying takes a while.
const ORDERS_BEFORE: usize = 240;
/// Orders placed at once while filling the log.
const FILL_CONCURRENCY: usize = 16;
/// Longest a test waits for a rebuild to end.
const REBUILD_WAIT: Duration = Duration::from_secs(120);

/// Places an order for `email` and pays it in full; returns the payment's position.
async fn paid_order(shop: &PhotoShop, storefront: &Api, email: &str, quantity: usize) -> u64 {
    let lines =
        json!([{"sku": "TIR-10x15", "quantity": quantity}, {"sku": "MUG-BLANC", "quantity": 1}]);
    let (order_id, total) = place(storefront, shop, &home_order(shop, email, lines)).await;
    pay(&shop.manager, shop, &order_id, "card", &total).await
}

async fn fill(shop: &PhotoShop) {
    let storefront = shop.as_role("storefront");
    for chunk in 0..ORDERS_BEFORE.div_ceil(FILL_CONCURRENCY) {
        let placing = (0..FILL_CONCURRENCY).map(|i| {
            let email = format!("fill{}@example.fr", chunk * FILL_CONCURRENCY + i);
            let storefront = storefront.clone();
            async move { paid_order(shop, &storefront, &email, 1 + i).await }
        });
        futures::future::join_all(placing).await;
    }
}

/// Polls the rebuild at `location` until it is no longer running; returns its last status.
async fn finished(owner: &Api, location: &str) -> Value {
    let deadline = Instant::now() + REBUILD_WAIT;
    loop {
        let status = owner.get(location).await.expect(200).body;
        if status["status"] != "running" {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the rebuild did not end: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads that must be the same from the online-rebuilt and the offline-rebuilt projections.
async fn reads(shop: &PhotoShop, at: u64) -> Vec<Value> {
    let invoices = shop
        .manager
        .get(&shop.path(&format!("/invoices?limit=200&min_position={at}")))
        .await
        .expect(200)
        .body;
    let first = invoices["items"][0]["number"]
        .as_str()
        .expect("an invoice")
        .to_string();
    let paths = [
        format!("/invoices/{first}?min_position={at}"),
        format!("/ledger/trial-balance?from_month=202001&to_month=210012&min_position={at}"),
        format!(
            "/statistics?from=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z\
             &group_by=payment_type&status=all&min_position={at}"
        ),
        format!("/orders?limit=200&min_position={at}"),
    ];
    let mut answers = vec![invoices];
    for path in paths {
        answers.push(shop.manager.get(&shop.path(&path)).await.expect(200).body);
    }
    answers
}

/// Invoices of the shop, counted page by page.
async fn invoice_count(shop: &PhotoShop, at: u64) -> usize {
    let mut count = 0;
    let mut after = String::new();
    loop {
        let path = shop.path(&format!("/invoices?limit=200&min_position={at}{after}"));
        let page = shop.manager.get(&path).await.expect(200).body;
        count += page["items"].as_array().expect("items").len();
        match page["next_cursor"].as_str() {
            Some(cursor) => after = format!("&after={cursor}"),
            None => return count,
        }
    }
}

/// Keeps placing and paying orders, and reading with `min_position`, until `stop`; counts what
/// it did and every answer that was not the expected one.
struct Load {
    stop: Arc<AtomicBool>,
    paid: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
}

impl Load {
    fn start(shop: &Arc<PhotoShop>) -> (Self, tokio::task::JoinHandle<()>) {
        let load = Load {
            stop: Arc::default(),
            paid: Arc::default(),
            failures: Arc::default(),
        };
        let (stop, paid, failures) = (load.stop.clone(), load.paid.clone(), load.failures.clone());
        let shop = shop.clone();
        let task = tokio::spawn(async move {
            let storefront = shop.as_role("storefront");
            let mut n = 0;
            while !stop.load(Ordering::Acquire) {
                n += 1;
                let at = paid_order(&shop, &storefront, &format!("live{n}@example.fr"), 2).await;
                paid.fetch_add(1, Ordering::AcqRel);
                let order_list = shop.path(&format!("/orders?limit=5&min_position={at}"));
                let balance = shop.path(&format!(
                    "/ledger/trial-balance?from_month=202001&to_month=210012&min_position={at}"
                ));
                for path in [order_list, balance] {
                    if shop.manager.get(&path).await.status != 200 {
                        failures.fetch_add(1, Ordering::AcqRel);
                    }
                }
            }
        });
        (load, task)
    }
}

#[tokio::test]
async fn an_online_rebuild_under_load_keeps_serving_and_matches_an_offline_rebuild() {
    // Proves issue 6 through the real binary: while orders are placed, paid and read, the owner
    // rebuilds both projections online; every request meanwhile succeeds (a failing `expect`
    // in the load would panic its task), no invoice is lost, `verify --projections` accepts the
    // result, and an online rebuild and an offline `comptoir rebuild` of the same log print the
    // same digests and leave the same reads.
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path").to_string();
    let app = spawn_app_in(dir.path()).await;
    let shop = Arc::new(photo_shop(&app, "Studio Lumière").await);
    varied_history(&shop).await;
    fill(&shop).await;
    let owner = Api::owner(&app);
    let head_before = owner.head_position().await;
    let invoices_before = invoice_count(&shop, head_before).await;

    let (load, load_task) = Load::start(&shop);
    // Let the load run before, during and after the rebuild.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paid_before = load.paid.load(Ordering::Acquire);
    let started = app
        .client
        .post(app.url("/v1/admin/rebuilds"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"projections": ["read-models", "ledger"]}))
        .send()
        .await
        .expect("request");
    assert_eq!(started.status().as_u16(), 202);
    let location = started
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .expect("Location")
        .to_string();
    let body: Value = started.json().await.expect("status JSON");
    assert_eq!(
        location,
        format!(
            "/v1/admin/rebuilds/{}",
            body["rebuild_id"].as_str().expect("id")
        )
    );
    assert_eq!(body["status"], "running");
    let second = owner.post("/v1/admin/rebuilds", &json!({})).await;
    let status = finished(&owner, &location).await;
    if second.status == 409 {
        second.expect_problem(409, "rebuild-running");
    } else {
        // Accepted only if the first had ended before the second was asked.
        assert_eq!(second.status.as_u16(), 202, "{}", second.raw);
        assert!(instant(&second.body["started_at"]) >= instant(&status["finished_at"]));
        finished(
            &owner,
            &format!("/v1/admin/rebuilds/{}", second.id("rebuild_id")),
        )
        .await;
    }
    let paid_during = load.paid.load(Ordering::Acquire);
    tokio::time::sleep(Duration::from_millis(300)).await;
    load.stop.store(true, Ordering::Release);
    load_task
        .await
        .expect("every request of the load succeeded");
    assert_eq!(load.failures.load(Ordering::Acquire), 0);
    assert!(
        paid_during > paid_before,
        "orders were paid during the rebuild: {paid_before} before, {paid_during} at its end"
    );

    assert_eq!(status["status"], "succeeded", "{status}");
    assert!(status["finished_at"].is_string(), "{status}");
    assert!(status["failure"].is_null(), "{status}");
    let outcomes = status["outcomes"].as_array().expect("outcomes");
    assert_eq!(outcomes.len(), 2, "{status}");
    for outcome in outcomes {
        assert!(outcome["position"].as_u64().expect("position") >= head_before);
        let digest = outcome["digest"].as_str().expect("digest");
        assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    let head = owner.head_position().await;
    let paid_total = load.paid.load(Ordering::Acquire) as usize;
    assert_eq!(
        invoice_count(&shop, head).await,
        invoices_before + paid_total
    );
    // An offline rebuild is refused while the server holds the data dir, naming the online way.
    let (refused, _, stderr) = run_comptoir(&["rebuild", "--data-dir", &data_dir]).await;
    assert!(!refused.success());
    assert!(
        stderr.contains("--server") && stderr.contains("/v1/admin/rebuilds"),
        "{stderr}"
    );
    // Quiet now: an online rebuild through the CLI, at the head.
    let online = cli_rebuild_online(&app).await;
    assert!(
        online.values().all(|(position, _)| *position == head),
        "{online:?}"
    );
    let online_reads = reads(&shop, head).await;

    app.stop().await;
    let verified = comptoir_ok(&["verify", "--data-dir", &data_dir, "--projections"]).await;
    assert_eq!(digests(&verified), online, "{verified}");
    assert!(!dir.path().join("projections-verify").exists());
    let offline = digests(&comptoir_ok(&["rebuild", "--data-dir", &data_dir]).await);
    assert_eq!(offline, online);
    let app = spawn_app_in(dir.path()).await;
    let mut shop = Arc::try_unwrap(shop).unwrap_or_else(|_| panic!("the load let go of the shop"));
    shop.manager = Api::new(&app, &shop.manager.token);
    assert_eq!(reads(&shop, head).await, online_reads);
}

async fn cli_rebuild_online(app: &TestApp) -> std::collections::BTreeMap<String, (u64, String)> {
    let server = app.url("");
    let stdout = comptoir_ok(&["rebuild", "--server", &server, "--token", ADMIN_TOKEN]).await;
    let printed = digests(&stdout);
    assert_eq!(printed.len(), 2, "{stdout}");
    printed
}

fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("not an instant: {value}"))
}

#[tokio::test]
async fn rebuild_routes_are_for_the_owner_and_check_their_input() {
    // Proves the admin routes' refusals: no credential 401, a shop's manager key 403, an unknown
    // projection 422 `validation` (nothing started), an unknown rebuild 404; that one projection
    // can be rebuilt alone, its status naming only it; and that the answers match /openapi.json.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_in(dir.path()).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let owner = Api::owner(&app);
    let body = json!({"projections": ["ledger"]});

    let anonymous = app
        .client
        .post(app.url("/v1/admin/rebuilds"))
        .json(&body)
        .send()
        .await
        .expect("request");
    crate::api::read(anonymous)
        .await
        .expect_problem(401, "unauthorized");
    shop.manager
        .post("/v1/admin/rebuilds", &body)
        .await
        .expect_problem(403, "forbidden");
    let unknown = json!({"projections": ["ledger", "stock"]});
    owner
        .post("/v1/admin/rebuilds", &unknown)
        .await
        .expect_problem(422, "validation");
    let missing = format!("/v1/admin/rebuilds/{}", uuid::Uuid::from_u128(7));
    owner.get(&missing).await.expect_problem(404, "not-found");

    let started = owner.post("/v1/admin/rebuilds", &body).await.expect(202);
    assert_eq!(started.body["projections"], json!(["ledger"]));
    let document = served_document(&owner).await;
    conforms(&document, Method::POST, "/v1/admin/rebuilds", &started);
    let location = format!("/v1/admin/rebuilds/{}", started.id("rebuild_id"));
    shop.manager
        .get(&location)
        .await
        .expect_problem(403, "forbidden");
    let status = finished(&owner, &location).await;
    assert_eq!(status["status"], "succeeded", "{status}");
    let answer = owner.get(&location).await.expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/admin/rebuilds/{rebuild_id}",
        &answer,
    );
    let outcomes = status["outcomes"].as_array().expect("outcomes");
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["projection"], "ledger");
}
