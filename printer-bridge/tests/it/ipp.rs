//! The IPP driver against a real printer (ippeveprinter).

use comptoir_printer_bridge::model::JobStatus;
use comptoir_printer_bridge::plan::job_id;
use uuid::Uuid;

use crate::stand_in::StandIn;
use crate::support::{
    image_bytes, ipp_unavailable, print_line, printer_jobs, BridgeSetup, Driver, Printer,
};

#[tokio::test]
async fn paid_orders_print_on_a_real_ipp_printer_with_copies_and_media() {
    // Proves each printable line becomes one IPP job per image, named after the job id, whose
    // spooled document is byte-identical to the order file; that outcomes are reported; that a
    // non-print line prints nothing; and that a second run prints nothing again.
    if ipp_unavailable() {
        return;
    }
    let printer = Printer::start();
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let (photo, poster, extra) = (
        image_bytes(1, 4_000),
        image_bytes(2, 9_000),
        image_bytes(3, 5_000),
    );
    api.add_other_event();
    let order_id = api.add_paid_order(
        vec![
            print_line("PRINT-13X18", "tirages", 3, &["photo.jpg"]),
            print_line("GUIDE", "livres", 1, &[]),
            print_line("PRINT-10X15", "tirages", 1, &["poster.jpg", "extra.jpg"]),
        ],
        vec![
            ("photo.jpg".into(), photo.clone()),
            ("poster.jpg".into(), poster.clone()),
            ("extra.jpg".into(), extra.clone()),
        ],
    );
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::Ipp(&printer.uri()));
    bridge.run_once().await;

    let first = job_id(order_id, 0).to_string();
    let third = job_id(order_id, 2).to_string();
    let mut documents = printer.documents();
    documents.sort();
    let mut expected = vec![
        (first.clone(), photo),
        (format!("{third}-001"), poster),
        (format!("{third}-002"), extra),
    ];
    expected.sort();
    assert_eq!(documents, expected, "log:\n{}", bridge.log());
    let mut attributes = printer_jobs(&printer.uri()).await;
    attributes.sort();
    let mut expected = vec![
        (first.clone(), 3, "na_5x7_5x7in".to_string()),
        (format!("{third}-001"), 2, "photo_4x6_4x6in".to_string()),
        (format!("{third}-002"), 2, "photo_4x6_4x6in".to_string()),
    ];
    expected.sort();
    let rules = "SKU rule: 3 x 1 copies on 5x7; category rule: 1 x 2 copies on 4x6";
    assert_eq!(attributes, expected, "{rules}");
    let jobs = api.jobs(order_id);
    assert_eq!(jobs.len(), 2, "the guide is not a print");
    assert!(
        jobs.iter().all(|job| job.status == JobStatus::Completed),
        "{jobs:?}"
    );
    assert!(jobs.iter().all(|job| job.device == printer.uri()));

    bridge.run_once().await;
    assert_eq!(printer.documents().len(), 3, "a second run prints nothing");
    assert_eq!(bridge.checkpoint(), Some(api.last_position()));
}

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
