//! `comptoir backup` from a running server and `comptoir restore` into a new data dir: the same
//! log, the same documents, and a damaged backup or a rewritten log refused.

use serde_json::{json, Value};

use crate::api::{home_order, photo_shop, place, Api, PhotoShop};
use crate::support::{alter_text, rechain, run_comptoir, spawn_app_in, ADMIN_TOKEN};
use crate::time_zones::pay;

/// Places and pays an order for `email`; returns the position of the payment.
async fn paid_order(shop: &PhotoShop, email: &str) -> u64 {
    let lines = json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let storefront = shop.as_role("storefront");
    let (order_id, total) = place(&storefront, shop, &home_order(shop, email, lines)).await;
    pay(shop, &order_id, &total).await
}

/// `comptoir backup` of the server at `url` into `out`: exit success and what it printed.
async fn backup(url: &str, out: &std::path::Path) -> (bool, String) {
    let out = out.to_str().expect("utf-8 path");
    let args = [
        "backup",
        "--server",
        url,
        "--token",
        ADMIN_TOKEN,
        "--out",
        out,
    ];
    let (status, stdout, stderr) = run_comptoir(&args).await;
    (status.success(), format!("{stdout}{stderr}"))
}

/// The invoices of the shop, as the accountant lists them once the log up to `position` is in.
async fn invoices(api: &Api, shop: &PhotoShop, position: u64) -> Value {
    let path = shop.path(&format!("/invoices?limit=200&min_position={position}"));
    api.get(&path).await.expect(200).body["items"].clone()
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_the_same_log_and_documents() {
    // Proves a backup needs no downtime and grows incrementally (the second run adds only what
    // is new), that `restore` makes the same log (same head and hash) on which a server serves
    // the same invoices, and that a damaged backup, a non-empty data dir and a server whose log
    // was rewritten since the backup are each refused.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_in(dir.path()).await;
    let shop = photo_shop(&app, "Studio Sauvegarde").await;
    paid_order(&shop, "sauve1@example.fr").await;
    let work = tempfile::tempdir().expect("work dir");
    let file = work.path().join("comptoir.backup");
    let (ok, printed) = backup(&app.url(""), &file).await;
    assert!(ok, "{printed}");
    assert!(printed.contains("records kept: 0"), "{printed}");

    let position = paid_order(&shop, "sauve2@example.fr").await;
    let lines = json!([{"sku": "TIR-10x15", "quantity": 3}]);
    let keyed = home_order(&shop, "sauve3@example.fr", lines);
    let storefront = shop.as_role("storefront");
    let placed = storefront
        .post_with_key(&shop.path("/orders"), &keyed, "before-the-backup")
        .await
        .expect(201);
    let (ok, printed) = backup(&app.url(""), &file).await;
    assert!(ok, "{printed}");
    let owner = Api::owner(&app);
    let head = owner.get("/v1/admin/log/head").await.expect(200).body;
    let head_line = format!(
        "head position: {}\nhead hash: {}",
        head["position"],
        head["hash"].as_str().unwrap_or_default()
    );
    assert!(printed.contains(&head_line), "{printed} / {head}");
    assert!(!printed.contains("records kept: 0"), "{printed}");
    let accountant = shop.as_role("accountant");
    let served = invoices(&accountant, &shop, position).await;
    assert_eq!(served.as_array().map(Vec::len), Some(2));

    let restored_dir = work.path().join("restored");
    let restored = restored_dir.to_str().expect("utf-8 path");
    let from = file.to_str().expect("utf-8 path");
    let args = ["restore", "--from", from, "--data-dir", restored];
    let (status, stdout, stderr) = run_comptoir(&args).await;
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&head_line), "{stdout} / {head}");
    let (status, _, stderr) = run_comptoir(&args).await;
    assert!(
        !status.success() && stderr.contains("already holds a log"),
        "{stderr}"
    );

    let copy = spawn_app_in(&restored_dir).await;
    let copy_accountant = Api::new(&copy, &shop.keys["accountant"]);
    assert_eq!(invoices(&copy_accountant, &shop, position).await, served);
    let copy_head = Api::owner(&copy)
        .get("/v1/admin/log/head")
        .await
        .expect(200);
    assert_eq!(copy_head.body, head);
    // A retry of a request made before the backup places nothing twice on the restored log
    // (its stored answer is not in the backup: the answer is made anew, for the same order).
    let retried = Api::new(&copy, &shop.keys["storefront"])
        .post_with_key(&shop.path("/orders"), &keyed, "before-the-backup")
        .await;
    assert!(retried.status.is_success(), "{}", retried.raw);
    assert_eq!(
        retried.body["order_id"], placed.body["order_id"],
        "{}",
        retried.raw
    );
    let after_retry = Api::owner(&copy)
        .get("/v1/admin/log/head")
        .await
        .expect(200);
    assert_eq!(after_retry.body, head, "nothing appended by the retry");

    // One character of one record changed in the file: restore names that record.
    let text = std::fs::read_to_string(&file).expect("backup");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line: Value = serde_json::from_str(&lines[5]).expect("a record line");
    let envelope = line["envelope"].as_str().expect("envelope");
    let flipped = if envelope.starts_with('A') { "B" } else { "A" };
    let damaged = json!({"position": line["position"], "hash": line["hash"],
        "envelope": format!("{flipped}{}", &envelope[1..])});
    lines[5] = damaged.to_string();
    let damaged_file = work.path().join("damaged.backup");
    std::fs::write(&damaged_file, lines.join("\n") + "\n").expect("write");
    let other = work.path().join("other");
    let args = [
        "restore",
        "--from",
        damaged_file.to_str().expect("utf-8"),
        "--data-dir",
        other.to_str().expect("utf-8"),
    ];
    let (status, _, stderr) = run_comptoir(&args).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    let position_5 = format!("position {}", line["position"]);
    assert!(stderr.contains(&position_5), "{stderr}");
    assert!(!other.join("log").exists());

    // The server's log rewritten (a record changed, every later hash recomputed): the next
    // backup run refuses, and the file keeps what the log was.
    app.signal(libc::SIGTERM);
    app.wait_exit().await;
    alter_text(dir.path(), b"sauve1@example.fr");
    rechain(dir.path());
    let app = spawn_app_in(dir.path()).await;
    let before = std::fs::read(&file).expect("backup");
    let (ok, printed) = backup(&app.url(""), &file).await;
    assert!(!ok && printed.contains("rewritten"), "{printed}");
    assert_eq!(
        std::fs::read(&file).expect("backup"),
        before,
        "the backup is kept as it was"
    );
}
