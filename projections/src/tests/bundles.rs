//! Document bundles over the sample history.

use super::ledger::sample_log;
use super::Harness;
use crate::bundles::{zip_bundle, BundleFormat, DocumentKind, BUNDLE_DOCUMENTS_MAX};
use crate::{DateRange, ProjectionError};

#[tokio::test]
async fn bundles_hold_each_document_once_and_refuse_past_their_bound() {
    // Proves a bundle holds one file per document of the period, named by number, and that a
    // period with more than BUNDLE_DOCUMENTS_MAX documents is refused before rendering.
    let harness = Harness::new();
    let _runner = harness.spawn_runner();
    let orders = BUNDLE_DOCUMENTS_MAX as u64 + 5;
    let shop = sample_log(&harness, orders, 8).await;
    harness.caught_up().await;
    let projections = &harness.projections;
    let slips = projections
        .printables(
            shop.shop_id,
            DocumentKind::DeliverySlips,
            &DateRange::default(),
        )
        .expect("slips");
    assert!(!slips.is_empty() && slips.len() <= BUNDLE_DOCUMENTS_MAX);
    let zip = zip_bundle(&slips[..3], BundleFormat::Html).expect("zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip reads");
    assert_eq!(archive.len(), 3);
    let first = archive.by_index(0).expect("entry").name().to_string();
    assert_eq!(first, format!("{}.html", slips[0].number));
    let all = projections.printables(shop.shop_id, DocumentKind::Invoices, &DateRange::default());
    assert!(
        matches!(all, Err(ProjectionError::TooLarge { .. })),
        "{all:?}"
    );
}
