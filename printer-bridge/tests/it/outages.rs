//! The device or the API down for a while, then back: a real printer powered off and on, and the
//! real `comptoir serve` stopped (SIGTERM) and started again on the same data dir and port.

use std::time::{Duration, Instant};

use comptoir_printer_bridge::plan::job_id;
use uuid::Uuid;

use crate::real_api::{print_job_events, RealApi, SKU_PRINT_10X15};
use crate::support::{
    free_port, image_bytes, ipp_unavailable, BridgeSetup, Driver, Printer, WAIT_MAX,
};

/// How long an outage lasts in these tests: many backoff rounds at the test config's bounds.
const OUTAGE: Duration = Duration::from_millis(1_500);

/// Places, uploads and pays an order of one print of one image.
async fn pay(api: &RealApi, seed: u64) -> Uuid {
    let files = [("a.jpg".to_string(), image_bytes(seed, 3_000))];
    api.add_paid_order(&[(SKU_PRINT_10X15, 1)], &files).await
}

async fn all_completed(api: &RealApi, orders: &[Uuid]) -> bool {
    for order in orders {
        let jobs = api.jobs(*order).await;
        if jobs.is_empty() || jobs.iter().any(|job| job["status"] != "completed") {
            return false;
        }
    }
    true
}

async fn wait_completed(api: &RealApi, orders: &[Uuid], bridge: &BridgeSetup) {
    let start = Instant::now();
    while !all_completed(api, orders).await {
        assert!(
            start.elapsed() < WAIT_MAX,
            "jobs not completed in time; bridge log:\n{}",
            bridge.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_wait_for_a_printer_that_is_off_and_print_once_it_is_on() {
    // Proves a real printer that is off (connections refused) makes the bridge retry with
    // backoff, not fail or drop jobs: the real API records nothing while it is off, and every
    // job prints once, completed, when it comes on.
    if ipp_unavailable() {
        return;
    }
    let mut printer = Printer::stopped(free_port());
    let api = RealApi::start().await;
    let bridge = BridgeSetup::for_real(&api, Driver::Ipp(&printer.uri()));
    let mut child = bridge.spawn();
    let mut orders = Vec::new();
    for seed in 0..3 {
        orders.push(pay(&api, seed).await);
    }
    tokio::time::sleep(OUTAGE).await;
    assert!(
        child.try_wait().expect("poll bridge").is_none(),
        "the bridge keeps running"
    );
    for order in &orders {
        let jobs = api.jobs(*order).await;
        assert!(
            jobs.is_empty(),
            "nothing recorded while the printer is off: {jobs:?}"
        );
    }

    printer.power_on();
    wait_completed(&api, &orders, &bridge).await;
    child.kill().expect("stop bridge");
    child.wait().expect("reap bridge");
    assert_eq!(printer.documents().len(), 3, "log:\n{}", bridge.log());
    assert!(bridge.log().contains("device unavailable; retrying"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_waits_for_the_api_and_resumes_where_it_was() {
    // Proves a real API outage (comptoir serve stopped with SIGTERM, then started again on the
    // same data dir and port) is waited out: the bridge stays up, retries, reconnects to the
    // feed, finishes the orders paid just before the stop and prints those paid after the
    // restart, each exactly once with one recorded outcome.
    let mut api = RealApi::start().await;
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::for_real(&api, Driver::HotFolder(folder.path()));
    let mut child = bridge.spawn();
    let first = pay(&api, 1).await;
    wait_completed(&api, &[first], &bridge).await;

    // Paid right before the stop: the bridge may be anywhere in them when the API goes away.
    let racing = [pay(&api, 2).await, pay(&api, 3).await];
    api.stop().await;
    tokio::time::sleep(OUTAGE).await;
    assert!(
        child.try_wait().expect("poll bridge").is_none(),
        "the bridge keeps running"
    );

    api.restart().await;
    let later = [pay(&api, 4).await, pay(&api, 5).await];
    let orders: Vec<Uuid> = [first].into_iter().chain(racing).chain(later).collect();
    wait_completed(&api, &orders, &bridge).await;
    child.kill().expect("stop bridge");
    child.wait().expect("reap bridge");

    let mut placed: Vec<String> = std::fs::read_dir(folder.path())
        .expect("list")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .collect();
    placed.sort();
    let mut expected: Vec<String> = orders.iter().map(|o| job_id(*o, 0).to_string()).collect();
    expected.sort();
    assert_eq!(placed, expected, "each order placed once");
    let completed = print_job_events(&api.feed().await)
        .into_iter()
        .filter(|(_, event_type, _)| event_type == "PrintJobCompleted")
        .count();
    assert_eq!(completed, orders.len(), "one outcome per job");
    let log = bridge.log();
    assert!(
        log.contains("cannot read the event feed; retrying"),
        "log:\n{log}\nserver log:\n{}",
        api.log()
    );
}
