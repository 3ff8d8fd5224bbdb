//! `comptoir serve`: health, problem+json, signals, the data-dir lock, a damaged log.

use comptoir_eventlog::{EventLog, LogOptions};

use crate::support::{
    fill_log, flip_payload_byte, run_comptoir, serve_command, spawn_app, spawn_app_in, with_sled,
};

#[tokio::test]
async fn health_answers_with_the_log_head_position() {
    // Proves the server opens the existing log in its data dir and reports its durable head.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 3, 2).await;
    let app = spawn_app_in(dir.path()).await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["head_position"], 6);
    assert!(body["version"].is_string());
}

#[tokio::test]
async fn unknown_route_answers_404_problem_json() {
    // Proves errors reach clients as RFC 9457 problem+json with a stable type.
    let (_dir, app) = spawn_app().await;
    let response = app.get("/v1/nothing-here").await;
    assert_eq!(response.status(), 404);
    let content_type = response.headers()["content-type"].to_str().expect("ascii");
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["type"], "https://comptoir.dev/problems/not-found");
    assert_eq!(body["status"], 404);
    assert!(body["title"].is_string() && body["detail"].is_string());
}

#[tokio::test]
async fn sigterm_exits_zero_and_leaves_a_log_that_reopens_and_verifies() {
    // Proves graceful shutdown on SIGTERM flushes and releases the data dir cleanly.
    let (dir, app) = spawn_app().await;
    assert_eq!(app.get("/health").await.status(), 200);
    app.stop().await;
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(status.success(), "verify failed: {stdout}{stderr}");
    let reopened = EventLog::open(dir.path(), LogOptions::default()).expect("reopen");
    assert_eq!(reopened.head_position(), 0);
}

#[tokio::test]
async fn sigint_also_shuts_down_gracefully() {
    // Proves Ctrl-C (SIGINT) takes the same clean path as SIGTERM.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 2, 3).await;
    let app = spawn_app_in(dir.path()).await;
    app.signal(libc::SIGINT);
    let (status, log) = app.wait_exit().await;
    assert!(status.success(), "exit {status:?}; stderr:\n{log}");
    let reopened = EventLog::open(dir.path(), LogOptions::default()).expect("reopen");
    assert_eq!(reopened.head_position(), 6);
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused_clearly() {
    // Proves the data-dir lock keeps a second process out with a clear message and a failing exit.
    let (dir, app) = spawn_app().await;
    let second = serve_command(dir.path()).output();
    let output = tokio::time::timeout(crate::support::PROCESS_TIMEOUT, second)
        .await
        .expect("second server exited in time")
        .expect("run second server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("in use by another comptoir process"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn a_damaged_last_batch_stops_serve_with_advice() {
    // Proves serve refuses a log whose last batch fails its chain, naming the dir and `verify`.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 3, 2).await;
    // The third append is the last batch; its key is its first position, 5.
    flip_payload_byte(dir.path(), 5, 1);
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) =
        run_comptoir(&["serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0"]).await;
    assert!(!status.success());
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(stderr.contains(data_dir), "{stderr}");
    assert!(stderr.contains("comptoir verify"), "{stderr}");
    assert!(stderr.contains("backup"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn read_models_in_an_older_format_are_replayed_before_the_server_answers() {
    // Proves an upgrade that changes the read models' stored format replays them before serving:
    // their format mark is removed (as in a data dir written before it); the restarted server
    // says it replays the log before serving, and its first request, with no `min_position`,
    // already finds the order in the read models.
    use crate::api::{home_order, photo_shop, place, Api};
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Upgraded").await;
    let body = home_order(
        &shop,
        "upgrade@example.fr",
        serde_json::json!([{"sku": "AGR-30x45", "quantity": 2}]),
    );
    let (order_id, _) = place(&shop.manager, &shop, &body).await;
    app.signal(libc::SIGTERM);
    app.wait_exit().await;
    remove_read_models_format_mark(dir.path());

    let app = spawn_app_in(dir.path()).await;
    let api = Api::new(&app, &shop.keys["manager"]);
    let order = api
        .get(&shop.path(&format!("/orders/{order_id}")))
        .await
        .expect(200);
    assert_eq!(order.body["order_id"], order_id.as_str());
    let orders = api.get(&shop.path("/orders")).await.expect(200);
    assert_eq!(
        orders.body["items"][0]["order_id"],
        order_id.as_str(),
        "{}",
        orders.body
    );
    app.signal(libc::SIGTERM);
    let (_, log) = app.wait_exit().await;
    assert!(
        log.contains("replaying the log before serving") && log.contains("projections replayed"),
        "{log}"
    );
}

/// Removes the format mark of the read models' current tree (`0x00 'f'`, beside the checkpoint).
fn remove_read_models_format_mark(data_dir: &std::path::Path) {
    with_sled(&data_dir.join("projections"), |db| {
        let meta = db.open_tree("meta").expect("meta");
        let current = meta
            .get("read_models")
            .expect("meta read")
            .map_or_else(|| b"state".to_vec(), |name| name.to_vec());
        let tree = db.open_tree(current).expect("tree");
        assert!(
            tree.remove([0x00, b'f']).expect("remove").is_some(),
            "the read models carry a format mark"
        );
    });
}
