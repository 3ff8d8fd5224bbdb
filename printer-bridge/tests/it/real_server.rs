//! The bridge against the real `comptoir serve`: the contract around the device. The feed's real
//! paging and tagged payloads, the real order view (category by id, file names), job reports with
//! their idempotency keys, the job list, and staff reprints arriving through the feed.
//! The device tests against the real server are in `hot_folder.rs`, `ipp.rs`, `crash.rs` and
//! `outages.rs`.

use comptoir_printer_bridge::plan;
use serde_json::Value;
use uuid::Uuid;

use crate::real_api::{RealApi, SKU_PRINT_10X15};
use crate::support::{image_bytes, BridgeSetup, Driver};

/// The PrintJob* events of an order's stream.
fn print_events(types: &[String]) -> Vec<&str> {
    types
        .iter()
        .map(String::as_str)
        .filter(|event_type| event_type.starts_with("PrintJob"))
        .collect()
}

fn final_status(job: &Value) -> bool {
    matches!(job["status"].as_str(), Some("completed" | "failed"))
}

#[tokio::test]
async fn every_paid_order_gets_one_recorded_outcome_per_job_on_the_real_server() {
    // Proves, over the real server: each paid order's printable line gets the bridge's job id and
    // one final outcome in the order's stream (completed with files, failed "no file" without);
    // a second run records nothing more; a staff reprint reaches the bridge through the feed and
    // becomes a new job with `reprint_of`.
    let api = RealApi::start().await;
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::with_key(
        &api.url,
        api.shop_id,
        Driver::HotFolder(folder.path()),
        &api.printer_key,
        &api.category_id,
    );
    let photo = [("photo.jpg".to_string(), image_bytes(7, 2_000))];
    let mut orders = Vec::new();
    for (quantity, files) in [(1, &photo[..]), (3, &photo[..]), (12, &[][..])] {
        orders.push(
            api.add_paid_order(&[(SKU_PRINT_10X15, quantity)], files)
                .await,
        );
    }
    bridge.run_once().await;
    for (index, order_id) in orders.iter().enumerate() {
        let jobs = api.jobs(*order_id).await;
        assert_eq!(jobs.len(), 1, "{jobs:?}\n{}", bridge.log());
        let expected_id = plan::job_id(*order_id, 0).to_string();
        assert_eq!(jobs[0]["job_id"], expected_id.as_str());
        let expected_status = if index < 2 { "completed" } else { "failed" };
        assert_eq!(jobs[0]["status"], expected_status, "{jobs:?}");
        let types = api.order_event_types(*order_id).await;
        let final_events = types
            .iter()
            .filter(|t| *t == "PrintJobCompleted" || *t == "PrintJobFailed")
            .count();
        assert_eq!(final_events, 1, "{types:?}");
    }
    assert!(api.jobs(orders[2]).await[0]["reason"]
        .as_str()
        .is_some_and(|reason| reason.contains("no file")));
    let checkpoint = bridge.checkpoint().expect("checkpoint written");
    let before: Vec<usize> = futures::future::join_all(
        orders
            .iter()
            .map(|order| async { print_events(&api.order_event_types(*order).await).len() }),
    )
    .await;

    bridge.run_once().await;
    for (order_id, count) in orders.iter().zip(&before) {
        let types = api.order_event_types(*order_id).await;
        assert_eq!(
            print_events(&types).len(),
            *count,
            "a second run records nothing"
        );
    }
    assert!(bridge.checkpoint() >= Some(checkpoint));

    let first_job = plan::job_id(orders[0], 0).to_string();
    let reprint: Uuid = api
        .reprint(orders[0], &first_job)
        .await
        .parse()
        .expect("uuid");
    bridge.run_once().await;
    let jobs = api.jobs(orders[0]).await;
    let reprinted = jobs
        .iter()
        .find(|job| job["job_id"] == reprint.to_string().as_str())
        .unwrap_or_else(|| panic!("the reprint is reported: {jobs:?}\n{}", bridge.log()));
    assert_eq!(reprinted["reprint_of"], first_job.as_str());
    assert_eq!(reprinted["line"], 0);
    assert!(final_status(reprinted));
    let types = api.order_event_types(orders[0]).await;
    assert!(types.iter().any(|t| t == "PrintJobReprintRequested"));
    assert_eq!(
        types.iter().filter(|t| *t == "PrintJobCompleted").count(),
        2,
        "the original and the reprint: {types:?}"
    );
}
