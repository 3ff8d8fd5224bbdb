//! Printable documents over the sample history.

use super::ledger::sample_log;
use super::Harness;
use crate::render::{money, to_html, to_pdf, Printable};
use crate::PageRequest;
use std::process::Command;

// Proves an invoice's PDF, read back with poppler's pdftotext, carries its number, its totals and
// its VAT lines with the same figures as the JSON, accents and euro sign included; the HTML too.
#[tokio::test]
async fn invoice_pdf_and_html_show_the_json_figures() {
    let harness = Harness::new();
    let shop = sample_log(&harness, 4, 4).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let invoices = harness
        .projections
        .invoices(shop.shop_id, &Default::default(), &PageRequest::first(10))
        .expect("invoices");
    // The first order has prints at 20 % and a book at 5.5 %.
    let invoice = &invoices.items[0];
    let printable = Printable::invoice(invoice);
    let pdf = to_pdf(&printable).expect("pdf");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let output = Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils, installed by .ci/run)");
    let text = String::from_utf8_lossy(&output.stdout);
    let html = to_html(&printable);
    let totals = &invoice.body.totals;
    let mut expected = vec![
        invoice.number.clone(),
        format!("Total TTC"),
        money(totals.total_incl_vat, "EUR"),
        money(totals.total_vat, "EUR"),
        "Désignation".to_string(),
    ];
    for subtotal in &totals.vat_breakdown {
        expected.push(money(subtotal.vat_amount, "EUR"));
        expected.push(money(subtotal.base_excl_vat, "EUR"));
    }
    assert!(totals.vat_breakdown.len() == 2, "two VAT rates");
    for needle in &expected {
        assert!(
            text.contains(needle.as_str()),
            "PDF lacks {needle:?}:\n{text}"
        );
        assert!(html.contains(needle.as_str()), "HTML lacks {needle:?}");
    }
    assert!(
        text.contains("TVA 5,5 %") && text.contains("TVA 20 %"),
        "{text}"
    );
}
