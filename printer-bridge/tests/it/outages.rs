//! The device or the API down for a while, then back.

use std::time::Duration;

use comptoir_printer_bridge::model::JobStatus;
use uuid::Uuid;

use crate::stand_in::StandIn;
use crate::support::{
    free_port, image_bytes, ipp_unavailable, print_line, wait_until, BridgeSetup, Driver, Printer,
};

/// How long an outage lasts in these tests: many backoff rounds at the test config's bounds.
const OUTAGE: Duration = Duration::from_millis(1_500);

fn all_completed(api: &StandIn, orders: &[Uuid]) -> bool {
    orders.iter().all(|order| {
        let jobs = api.jobs(*order);
        !jobs.is_empty() && jobs.iter().all(|job| job.status == JobStatus::Completed)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_wait_for_a_printer_that_is_off_and_print_once_it_is_on() {
    // Proves a device that refuses connections makes the bridge retry with backoff, not fail or
    // drop jobs: nothing is reported while it is off, and every job prints once when it comes on.
    if ipp_unavailable() {
        return;
    }
    let mut printer = Printer::stopped(free_port());
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::Ipp(&printer.uri()));
    let mut child = bridge.spawn();
    let orders: Vec<Uuid> = (0..3)
        .map(|n| {
            let files = vec![("a.jpg".to_string(), image_bytes(n, 3_000))];
            api.add_paid_order(vec![print_line("P", "tirages", 1, &[])], files)
        })
        .collect();
    tokio::time::sleep(OUTAGE).await;
    assert!(
        child.try_wait().expect("poll bridge").is_none(),
        "the bridge keeps running"
    );
    assert!(
        api.reports().is_empty(),
        "nothing reported while the printer is off"
    );

    printer.power_on();
    wait_until("every job completed", || all_completed(&api, &orders)).await;
    child.kill().expect("stop bridge");
    child.wait().expect("reap bridge");
    assert_eq!(printer.documents().len(), 3, "log:\n{}", bridge.log());
    assert!(bridge.log().contains("device unavailable; retrying"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_waits_for_the_api_and_resumes_where_it_was() {
    // Proves an API outage (refused connections, cut event stream) is waited out: the bridge
    // stays up, and once the API is back it prints the orders paid meanwhile, and only those.
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::HotFolder(folder.path()));
    let mut child = bridge.spawn();
    let pay = |n: u64| {
        let files = vec![("a.jpg".to_string(), image_bytes(n, 2_000))];
        api.add_paid_order(vec![print_line("P", "tirages", 1, &[])], files)
    };
    let first = pay(1);
    wait_until("the first order", || all_completed(&api, &[first])).await;

    api.go_down();
    let later = [pay(2), pay(3)];
    tokio::time::sleep(OUTAGE).await;
    assert!(
        child.try_wait().expect("poll bridge").is_none(),
        "the bridge keeps running"
    );
    let placed = || std::fs::read_dir(folder.path()).expect("list").count();
    assert_eq!(placed(), 1, "nothing new without the API");

    api.go_up().await;
    wait_until("the orders paid during the outage", || {
        all_completed(&api, &later)
    })
    .await;
    child.kill().expect("stop bridge");
    child.wait().expect("reap bridge");
    assert_eq!(placed(), 3);
    assert!(bridge.log().contains("retrying"), "log:\n{}", bridge.log());
}
