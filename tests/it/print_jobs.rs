//! Print jobs over HTTP, the API side of the printer bridge's contract (printer-bridge/README.md):
//! reports with `Idempotency-Key: {job_id}:{status}`, the job list, reprints in the order's stream,
//! and who may do what.

use serde_json::{json, Value};

use crate::api::{home_order, photo_shop, place, Api, PhotoShop, Reply};
use crate::support::spawn_app;

const DEVICE: &str = "ipp://localhost:8631/ipp/print";

/// A printer-role key for the shop (the fixture's keys cover the other roles).
async fn printer(shop: &PhotoShop) -> Api {
    let body = json!({"role": "printer", "label": "kiosk bridge"});
    let path = shop.path("/api-keys");
    let secret = shop
        .manager
        .post(&path, &body)
        .await
        .expect(201)
        .id("secret");
    shop.manager.as_key(&secret)
}

/// A paid two-line order; returns its id.
async fn paid_order(shop: &PhotoShop) -> String {
    let employee = shop.as_role("employee");
    let lines = json!([{"sku": "TIR-10x15", "quantity": 20}, {"sku": "AGR-20x30", "quantity": 1}]);
    let body = home_order(shop, "claire@example.fr", lines);
    let (order_id, _) = place(&employee, shop, &body).await;
    let path = shop.path(&format!("/orders/{order_id}/mark-paid"));
    employee
        .post(&path, &json!({"method": "cash"}))
        .await
        .expect(200);
    order_id
}

fn report_body(job_id: &str, line: u32, status: &str, reason: &str) -> Value {
    json!({"job_id": job_id, "line": line, "device": DEVICE, "status": status, "reason": reason})
}

async fn report(api: &Api, shop: &PhotoShop, order_id: &str, body: &Value) -> Reply {
    let key = format!(
        "{}:{}",
        body["job_id"].as_str().expect("job_id"),
        body["status"].as_str().expect("status")
    );
    let path = shop.path(&format!("/orders/{order_id}/print-jobs"));
    api.post_with_key(&path, body, &key).await
}

async fn jobs(api: &Api, shop: &PhotoShop, order_id: &str) -> Value {
    let path = shop.path(&format!("/orders/{order_id}/print-jobs"));
    api.get(&path).await.expect(200).body
}

/// The order's event types, from the shop's feed, in log order.
async fn order_event_types(api: &Api, shop: &PhotoShop, order_id: &str) -> Vec<String> {
    let page = api.get(&shop.path("/events?limit=500")).await.expect(200);
    let stream = format!("order-{order_id}");
    page.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["stream"] == stream.as_str())
        .map(|event| event["event_type"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn reports_are_recorded_once_and_shown_on_the_order() {
    // Proves submitted, completed and failed reports land in the order's stream (201), a retry with
    // the same key and body answers 200 without a new event, another body under that key is 422,
    // and the order view lists each job with its last status.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Print").await;
    let bridge = printer(&shop).await;
    let order_id = paid_order(&shop).await;
    let first = "8f1d6a2e-0000-5000-8000-000000000001";
    let second = "8f1d6a2e-0000-5000-8000-000000000002";
    report(
        &bridge,
        &shop,
        &order_id,
        &report_body(first, 0, "submitted", ""),
    )
    .await
    .expect(201);
    let completed = report_body(first, 0, "completed", "");
    let done = report(&bridge, &shop, &order_id, &completed)
        .await
        .expect(201);
    assert_eq!(done.body["status"], "completed");
    let retry = report(&bridge, &shop, &order_id, &completed)
        .await
        .expect(200);
    assert!(retry.replayed, "a retry is answered from the first answer");
    report(
        &bridge,
        &shop,
        &order_id,
        &report_body(first, 0, "completed", "other words"),
    )
    .await
    .expect_problem(422, "idempotency-mismatch");
    let failed = report_body(second, 1, "failed", "media-empty-error");
    report(&bridge, &shop, &order_id, &failed).await.expect(201);

    let listed = jobs(&bridge, &shop, &order_id).await;
    let mut statuses: Vec<(String, String, String)> = listed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            (
                j["job_id"].as_str().unwrap_or("").into(),
                j["status"].as_str().unwrap_or("").into(),
                j["reason"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    statuses.sort();
    let expected = vec![
        (first.to_string(), "completed".to_string(), String::new()),
        (
            second.to_string(),
            "failed".to_string(),
            "media-empty-error".to_string(),
        ),
    ];
    assert_eq!(statuses, expected);
    let position = done.body["position"].as_u64().expect("position") + 1;
    let view = bridge
        .get(&shop.path(&format!("/orders/{order_id}?min_position={position}")))
        .await
        .expect(200);
    let on_order = view.body["print_jobs"]
        .as_array()
        .expect("print_jobs on the order");
    assert_eq!(on_order.len(), 2, "{}", view.raw);
    assert_eq!(on_order[0]["status"], "completed");
    assert_eq!(on_order[1]["reason"], "media-empty-error");
    let types = order_event_types(&bridge, &shop, &order_id).await;
    let print_events: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| t.starts_with("PrintJob"))
        .collect();
    assert_eq!(
        print_events,
        ["PrintJobSubmitted", "PrintJobCompleted", "PrintJobFailed"]
    );
}

#[tokio::test]
async fn a_late_submitted_does_not_replace_an_outcome() {
    // Proves a "submitted" arriving after "completed" (a bridge retrying after a crash) answers 200,
    // records nothing, and leaves the job completed.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Late").await;
    let bridge = printer(&shop).await;
    let order_id = paid_order(&shop).await;
    let job = "8f1d6a2e-0000-5000-8000-000000000003";
    report(
        &bridge,
        &shop,
        &order_id,
        &report_body(job, 0, "completed", ""),
    )
    .await
    .expect(201);
    let head = bridge.head_position().await;
    let late = report(
        &bridge,
        &shop,
        &order_id,
        &report_body(job, 0, "submitted", ""),
    )
    .await;
    let late = late.expect(200);
    assert_eq!(late.body["status"], "completed");
    assert_eq!(bridge.head_position().await, head, "nothing was appended");
    let listed = jobs(&bridge, &shop, &order_id).await;
    assert_eq!(listed["jobs"][0]["status"], "completed");
    report(
        &bridge,
        &shop,
        &order_id,
        &report_body(job, 0, "failed", "jam"),
    )
    .await
    .expect_problem(409, "print-job-final");
}

#[tokio::test]
async fn a_reprint_is_a_new_job_in_the_order_stream() {
    // Proves staff reprints answer 201 with a new job id on the same line, emit
    // PrintJobReprintRequested (job_id, line, reprint_of) in the order's stream, and show as requested
    // until a device reports on the new job.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Reprint").await;
    let bridge = printer(&shop).await;
    let employee = shop.as_role("employee");
    let order_id = paid_order(&shop).await;
    let job = "8f1d6a2e-0000-5000-8000-000000000004";
    report(
        &bridge,
        &shop,
        &order_id,
        &report_body(job, 1, "failed", "jam"),
    )
    .await
    .expect(201);
    let path = shop.path(&format!("/orders/{order_id}/print-jobs/{job}/reprint"));
    let reprint = employee.post(&path, &json!({})).await.expect(201);
    let new_job = reprint.id("job_id");
    assert_ne!(new_job, job);
    assert_eq!(reprint.body["line"], 1);
    let again = employee.post(&path, &json!({})).await.expect(201);
    assert_ne!(
        again.id("job_id"),
        new_job,
        "each call without a key is a new reprint"
    );

    let page = bridge
        .get(&shop.path("/events?limit=500"))
        .await
        .expect(200);
    let requested: Vec<&Value> = page.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event_type"] == "PrintJobReprintRequested")
        .collect();
    assert_eq!(requested.len(), 2);
    assert_eq!(requested[0]["stream"], format!("order-{order_id}"));
    let data = &requested[0]["data"]["PrintJobReprintRequested"];
    assert_eq!(
        (
            data["job_id"].as_str(),
            data["line"].as_u64(),
            data["reprint_of"].as_str()
        ),
        (Some(new_job.as_str()), Some(1), Some(job))
    );

    let listed = jobs(&bridge, &shop, &order_id).await;
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["requested"].as_array().map(Vec::len), Some(2));
    report(
        &bridge,
        &shop,
        &order_id,
        &report_body(&new_job, 1, "completed", ""),
    )
    .await
    .expect(201);
    let listed = jobs(&bridge, &shop, &order_id).await;
    let reprinted = listed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["job_id"] == new_job.as_str())
        .cloned();
    assert_eq!(reprinted.map(|j| j["reprint_of"].clone()), Some(json!(job)));
    let unknown = shop.path(&format!(
        "/orders/{order_id}/print-jobs/8f1d6a2e-0000-5000-8000-0000000000ff/reprint"
    ));
    employee
        .post(&unknown, &json!({}))
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn roles_and_shops_are_enforced() {
    // Proves only a printer (or manager) key reports jobs (403 for an accountant or storefront), a
    // printer may not ask for reprints, and another shop's key or order is 404.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Roles").await;
    let other = photo_shop(&app, "Studio Ailleurs").await;
    let bridge = printer(&shop).await;
    let other_bridge = printer(&other).await;
    let order_id = paid_order(&shop).await;
    let job = "8f1d6a2e-0000-5000-8000-000000000005";
    let body = report_body(job, 0, "submitted", "");
    for role in ["accountant", "storefront", "employee"] {
        report(&shop.as_role(role), &shop, &order_id, &body)
            .await
            .expect_problem(403, "forbidden");
    }
    report(&other_bridge, &shop, &order_id, &body)
        .await
        .expect_problem(404, "not-found");
    let foreign_path = other.path(&format!("/orders/{order_id}/print-jobs"));
    let key = format!("{job}:submitted");
    other_bridge
        .post_with_key(&foreign_path, &body, &key)
        .await
        .expect_problem(404, "not-found");
    other_bridge
        .get(&foreign_path)
        .await
        .expect_problem(404, "not-found");
    report(&bridge, &shop, &order_id, &body).await.expect(201);
    let reprint = shop.path(&format!("/orders/{order_id}/print-jobs/{job}/reprint"));
    bridge
        .post(&reprint, &json!({}))
        .await
        .expect_problem(403, "forbidden");
    let bad_line = report_body("8f1d6a2e-0000-5000-8000-000000000006", 7, "submitted", "");
    report(&bridge, &shop, &order_id, &bad_line)
        .await
        .expect_problem(422, "validation");
}
