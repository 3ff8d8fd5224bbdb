//! The bridge against the real `comptoir serve` (not the stand-in): the feed's real paging and
//! tagged payloads, the real order view (category by id), job reports with their idempotency keys,
//! the job list, and staff reprints arriving through the feed.
//!
//! The real API does not serve order files yet (they come with the coupons/packs work), so every
//! job here ends "failed: no files" without reaching a device; the device tests keep the stand-in
//! until `GET …/orders/{id}/files/{name}` exists. What this proves is the contract around the
//! device: each job gets exactly one outcome recorded in the order's stream, across runs.

use comptoir_printer_bridge::plan;
use serde_json::Value;
use uuid::Uuid;

use crate::real_api::RealApi;
use crate::support::{BridgeSetup, Driver};

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
    // one final outcome in the order's stream; a second run records nothing more; a staff reprint
    // reaches the bridge through the feed and becomes a new job with `reprint_of`.
    let api = RealApi::start().await;
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::with_key(
        &api.url,
        api.shop_id,
        Driver::HotFolder(folder.path()),
        &api.printer_key,
        &api.category_id,
    );
    let mut orders = Vec::new();
    for quantity in [1, 3, 12] {
        orders.push(api.add_paid_order(quantity).await);
    }
    bridge.run_once().await;
    for order_id in &orders {
        let jobs = api.jobs(*order_id).await;
        assert_eq!(jobs.len(), 1, "{jobs:?}\n{}", bridge.log());
        let expected_id = plan::job_id(*order_id, 0).to_string();
        assert_eq!(jobs[0]["job_id"], expected_id.as_str());
        assert!(final_status(&jobs[0]), "{jobs:?}");
        let types = api.order_event_types(*order_id).await;
        assert_eq!(print_events(&types).len(), 1, "{types:?}");
    }
    let checkpoint = bridge.checkpoint().expect("checkpoint written");

    bridge.run_once().await;
    for order_id in &orders {
        let types = api.order_event_types(*order_id).await;
        assert_eq!(
            print_events(&types).len(),
            1,
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
    assert_eq!(print_events(&types).len(), 3, "{types:?}");
    assert!(types.iter().any(|t| t == "PrintJobReprintRequested"));
}
