//! `comptoir verify`: an intact log, a flipped byte, a missing directory; and an auditor's own
//! check of the hash chain over HTTP (`tests/tools/chain_audit.py`).

use std::path::Path;

use serde_json::{json, Value};

use crate::api::{home_order, photo_shop, place, Api, PhotoShop};
use crate::support::{
    alter_text, fill_log, flip_payload_byte, rechain, run_comptoir, spawn_app_in, TestApp,
};

#[tokio::test]
async fn verify_reports_an_intact_log_and_exits_zero() {
    // Proves verify walks every event and prints the count, head position and head hash.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 5, 4).await;
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("events checked: 20"), "{stdout}");
    assert!(stdout.contains("head position: 20"), "{stdout}");
    let hash = stdout
        .lines()
        .find_map(|line| line.strip_prefix("head hash: "))
        .expect("a head hash line");
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
}

#[tokio::test]
async fn verify_names_the_position_of_one_flipped_byte() {
    // Proves one altered byte of a stored record makes verify fail and name its position.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 5, 4).await;
    // Batch 3 holds positions 9..=12; the second payload in it is position 10's.
    flip_payload_byte(dir.path(), 9, 1);
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(!status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("events checked: 9"), "{stdout}");
    assert!(stderr.contains("position 10"), "{stderr}");
}

#[tokio::test]
async fn verify_of_a_missing_dir_fails_without_creating_it() {
    // Proves a mistyped --data-dir is an error, not a fresh empty log that "verifies".
    let parent = tempfile::tempdir().expect("temp dir");
    let missing = parent.path().join("nope");
    let data_dir = missing.to_str().expect("utf-8 path");
    let (status, _stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(!status.success());
    assert!(stderr.contains("no data dir"), "{stderr}");
    assert!(!missing.exists());
}

/// Runs the auditor's script against `app` from `anchor` (the genesis when `None`); returns its
/// exit code and what it printed.
async fn chain_audit(app: &TestApp, anchor: Option<&Value>) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/chain_audit.py");
    let mut command = tokio::process::Command::new("python3");
    command
        .arg(script)
        .arg(app.url(""))
        .arg(crate::support::ADMIN_TOKEN);
    if let Some(anchor) = anchor {
        command.arg(format!(
            "--anchor={}:{}",
            anchor["position"],
            anchor["hash"].as_str().unwrap_or("")
        ));
    }
    let output = command.output().await.expect("run chain_audit.py");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), printed)
}

async fn place_for(shop: &PhotoShop, email: &str) {
    let lines = json!([{"sku": "TIR-10x15", "quantity": 2}]);
    place(
        &shop.as_role("storefront"),
        shop,
        &home_order(shop, email, lines),
    )
    .await;
}

#[tokio::test]
async fn an_auditor_recomputes_the_chain_over_http_and_finds_the_record_an_attacker_changed() {
    // Proves the chain can be checked by a third party from the records the server serves:
    // intact from the genesis and from an anchor kept earlier; after one letter of a stored
    // record was changed on disk, the check fails at the very position `comptoir verify` names.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_in(dir.path()).await;
    let shop = photo_shop(&app, "Studio Audit").await;
    for n in 1..=3 {
        place_for(&shop, &format!("audit{n}@example.fr")).await;
    }
    let owner = Api::owner(&app);
    let anchor = owner.get("/v1/admin/log/head").await.expect(200).body;
    let (code, printed) = chain_audit(&app, None).await;
    assert_eq!(code, 0, "{printed}");
    let head = format!(
        "head {} hash {}",
        anchor["position"],
        anchor["hash"].as_str().unwrap_or("")
    );
    assert!(printed.contains(&head), "{printed} / {anchor}");
    shop.as_role("manager")
        .get("/v1/admin/log/head")
        .await
        .expect_problem(403, "forbidden");

    place_for(&shop, "audit4@example.fr").await;
    let (code, printed) = chain_audit(&app, Some(&anchor)).await;
    assert_eq!(code, 0, "{printed}");
    assert!(
        printed.contains(&format!("checked after {}", anchor["position"])),
        "{printed}"
    );

    app.signal(libc::SIGTERM);
    app.wait_exit().await;
    alter_text(dir.path(), b"audit2@example.fr");
    let app = spawn_app_in(dir.path()).await;
    let (code, printed) = chain_audit(&app, None).await;
    assert_eq!(code, 2, "{printed}");
    let position: u64 = printed
        .strip_prefix("altered at position ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no position in {printed}"));
    // Before the anchor: checking from the anchor alone does not cover it.
    let (code, printed) = chain_audit(&app, Some(&anchor)).await;
    assert_eq!(code, 0, "{printed}");
    app.signal(libc::SIGTERM);
    app.wait_exit().await;
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(!status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("position {position}:")),
        "{stderr} / {position}"
    );

    // A thorough attacker recomputes every hash after the change: the chain is whole again, so
    // `verify` and a check from the genesis pass; the anchor kept outside does not.
    rechain(dir.path());
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(status.success(), "{stdout}{stderr}");
    let app = spawn_app_in(dir.path()).await;
    let (code, printed) = chain_audit(&app, None).await;
    assert_eq!(code, 0, "{printed}");
    assert!(!printed.contains(&head), "the head hash changed: {printed}");
    let (code, printed) = chain_audit(&app, Some(&anchor)).await;
    assert_eq!(code, 2, "{printed}");
    assert!(
        printed.starts_with(&format!("altered at position {}", anchor["position"])),
        "{printed}"
    );
}
