//! The IPP driver against a real printer (ippeveprinter) and the real `comptoir serve`; one
//! restart check uses the stand-in (see its comment).

use comptoir_printer_bridge::model::JobStatus;
use comptoir_printer_bridge::plan::job_id;
use uuid::Uuid;

use crate::real_api::{RealApi, SKU_GUIDE, SKU_PRINT_10X15, SKU_PRINT_13X18};
use crate::stand_in::StandIn;
use crate::support::{
    image_bytes, ipp_unavailable, print_line, printer_jobs, BridgeSetup, Driver, Printer,
};

#[tokio::test]
async fn paid_orders_print_on_a_real_ipp_printer_with_copies_and_media() {
    // Proves, with the real server and a real printer: each printable line becomes one IPP job
    // per order file, named after the job id, whose spooled document is byte-identical to the
    // uploaded file, with the rule's copies and media; a book line prints nothing; outcomes are
    // recorded with the printer's URI; a second run prints nothing again.
    if ipp_unavailable() {
        return;
    }
    let printer = Printer::start();
    let api = RealApi::start().await;
    let (photo, poster) = (image_bytes(1, 4_000), image_bytes(2, 9_000));
    let files = [
        ("photo.jpg".to_string(), photo.clone()),
        ("poster.jpg".to_string(), poster.clone()),
    ];
    let lines = [(SKU_PRINT_13X18, 3), (SKU_GUIDE, 1), (SKU_PRINT_10X15, 1)];
    let order_id = api.add_paid_order(&lines, &files).await;
    let bridge = BridgeSetup::for_real(&api, Driver::Ipp(&printer.uri()));
    bridge.run_once().await;

    // Every line prints every order file, in name order: `{job_id}-001` is photo.jpg.
    let first = job_id(order_id, 0).to_string();
    let third = job_id(order_id, 2).to_string();
    let mut documents = printer.documents();
    documents.sort();
    let mut expected = vec![
        (format!("{first}-001"), photo.clone()),
        (format!("{first}-002"), poster.clone()),
        (format!("{third}-001"), photo),
        (format!("{third}-002"), poster),
    ];
    expected.sort();
    assert_eq!(documents, expected, "log:\n{}", bridge.log());
    let mut attributes = printer_jobs(&printer.uri()).await;
    attributes.sort();
    let mut expected = vec![
        (format!("{first}-001"), 3, "na_5x7_5x7in".to_string()),
        (format!("{first}-002"), 3, "na_5x7_5x7in".to_string()),
        (format!("{third}-001"), 2, "photo_4x6_4x6in".to_string()),
        (format!("{third}-002"), 2, "photo_4x6_4x6in".to_string()),
    ];
    expected.sort();
    let rules = "SKU rule: 3 x 1 copies on 5x7; category rule: 1 x 2 copies on 4x6";
    assert_eq!(attributes, expected, "{rules}");
    let jobs = api.jobs(order_id).await;
    assert_eq!(jobs.len(), 2, "the guide is not a print: {jobs:?}");
    assert!(
        jobs.iter().all(|job| job["status"] == "completed"),
        "{jobs:?}"
    );
    assert!(jobs
        .iter()
        .all(|job| job["device"] == printer.uri().as_str()));

    bridge.run_once().await;
    assert_eq!(printer.documents().len(), 4, "a second run prints nothing");
}

// STAND-IN on purpose: the real log is append-only, so its job records cannot be made to vanish;
// only the stand-in can stage "the printer has the job, the API knows nothing of it".
#[tokio::test]
async fn a_job_the_printer_already_has_is_not_sent_again_after_lost_reports() {
    // Proves the restart check on IPP: with the checkpoint and every API record gone (a crash
    // right after Print-Job), the bridge finds the job on the printer by name (Get-Jobs), waits
    // for it and reports it, and the printer receives no second copy.
    if ipp_unavailable() {
        return;
    }
    let printer = Printer::start();
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let files = vec![("a.jpg".to_string(), image_bytes(4, 3_000))];
    let order_id = api.add_paid_order(vec![print_line("P", "tirages", 1, &[])], files);
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::Ipp(&printer.uri()));
    bridge.run_once().await;
    api.forget_jobs();
    std::fs::remove_file(bridge.dir.path().join("state/feed-position")).expect("drop checkpoint");
    bridge.run_once().await;

    assert_eq!(printer.documents().len(), 1, "log:\n{}", bridge.log());
    assert!(bridge.log().contains("the device already holds this job"));
    let jobs = api.jobs(order_id);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, JobStatus::Completed);
}
