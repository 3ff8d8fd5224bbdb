//! Printable documents over the sample history.

use super::ledger::sample_log;
use super::{at, d, id, Harness};
use crate::render::{money, to_html, to_pdf, Printable};
use crate::PageRequest;
use chrono::{DateTime, TimeZone, Utc};
use comptoir_domain::documents::{DocumentEvent, Seller};
use comptoir_domain::order::OrderCustomer;
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

/// Every kind of printed document of the golden scenario, projected: invoice FA-2025-000001
/// (issued at `invoice_issued_at`), its credit note AV-2025-000001, a delivery slip, a quote and
/// its purchase order.
struct Documents {
    invoice: crate::InvoiceView,
    credit_note: crate::CreditNoteView,
    delivery_slip: crate::DeliverySlipView,
    quote: crate::QuoteView,
    purchase_order: crate::PurchaseOrderView,
}

fn golden_document(json: &str) -> DocumentEvent {
    serde_json::from_str(json).expect("golden fixture decodes")
}

async fn projected_documents(invoice_issued_at: DateTime<Utc>) -> Documents {
    let harness = Harness::new();
    let mut invoice = golden_document(include_str!(
        "../../../domain/tests/golden/document-series.InvoiceIssued.json"
    ));
    if let DocumentEvent::InvoiceIssued { issued_at, .. } = &mut invoice {
        *issued_at = invoice_issued_at;
    }
    let others = [
        include_str!("../../../domain/tests/golden/document-series.CreditNoteIssued.json"),
        include_str!("../../../domain/tests/golden/document-series.DeliverySlipIssued.json"),
        include_str!("../../../domain/tests/golden/document-series.QuoteIssued.json"),
        include_str!("../../../domain/tests/golden/document-series.PurchaseOrderIssued.json"),
    ];
    harness.append("invoice-series", &[invoice]).await;
    for json in others {
        harness.append("series", &[golden_document(json)]).await;
    }
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let shop = id(0x5100);
    Documents {
        invoice: p.invoice(shop, "FA-2025-000001").unwrap().expect("invoice"),
        credit_note: p
            .credit_note(shop, "AV-2025-000001")
            .unwrap()
            .expect("credit note"),
        delivery_slip: p
            .delivery_slip(shop, "BL-2025-000001")
            .unwrap()
            .expect("delivery slip"),
        quote: p.quote(shop, "DE-2025-000001").unwrap().expect("quote"),
        purchase_order: p
            .purchase_order(shop, "BC-2025-000001")
            .unwrap()
            .expect("purchase order"),
    }
}

impl Documents {
    /// Changes the seller and the customer of every document alike.
    fn with(mut self, seller: impl Fn(&mut Seller), customer: impl Fn(&mut OrderCustomer)) -> Self {
        let parts = [
            (
                &mut self.invoice.body.seller,
                &mut self.invoice.body.customer,
            ),
            (
                &mut self.credit_note.document.body.seller,
                &mut self.credit_note.document.body.customer,
            ),
            (
                &mut self.delivery_slip.body.seller,
                &mut self.delivery_slip.body.customer,
            ),
            (
                &mut self.quote.document.body.seller,
                &mut self.quote.document.body.customer,
            ),
            (
                &mut self.purchase_order.document.body.seller,
                &mut self.purchase_order.document.body.customer,
            ),
        ];
        for (s, c) in parts {
            seller(s);
            customer(c);
        }
        self
    }

    /// The five printables, named, with the priced ones flagged.
    fn printables(&self) -> Vec<(&'static str, bool, Printable)> {
        vec![
            ("invoice", true, Printable::invoice(&self.invoice)),
            (
                "credit note",
                true,
                Printable::credit_note(&self.credit_note),
            ),
            (
                "delivery slip",
                false,
                Printable::delivery_slip(&self.delivery_slip),
            ),
            ("quote", true, Printable::quote(&self.quote)),
            (
                "purchase order",
                true,
                Printable::purchase_order(&self.purchase_order),
            ),
        ]
    }
}

fn full_identity(seller: &mut Seller) {
    let org = &mut seller.organisation;
    org.legal_form = Some("SARL".into());
    org.share_capital = Some(d("10000"));
    org.rcs_city = Some("Lyon".into());
    org.vat_exemption_mention = Some("TVA non applicable, art. 293 B du CGI".into());
}

fn two_line_address(customer: &mut OrderCustomer) {
    if let Some(address) = &mut customer.billing_address {
        address.line2 = Some("Bâtiment B".into());
    }
}

fn all_text(printable: &Printable) -> String {
    [
        &printable.seller,
        &printable.customer,
        &printable.references,
        &printable.mentions,
    ]
    .iter()
    .flat_map(|lines| lines.iter())
    .cloned()
    .collect::<Vec<_>>()
    .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn legal_mentions_print_on_every_document_when_the_shop_states_them() {
    // Proves legal form, share capital, RCS city and the customer's full address print on all
    // five documents, the VAT exemption on the four priced ones, in the HTML and the PDF alike.
    let documents = projected_documents(at(0))
        .await
        .with(full_identity, two_line_address);
    for (name, priced, printable) in documents.printables() {
        assert!(
            printable
                .seller
                .contains(&"SARL au capital de 10000,00 €".to_string()),
            "{name}: {:?}",
            printable.seller
        );
        assert!(
            printable
                .seller
                .contains(&"SIREN 812345678 RCS Lyon — TVA FR45812345678".to_string()),
            "{name}: {:?}",
            printable.seller
        );
        let customer = printable.customer.join("\n");
        assert!(
            customer.contains("12 rue des Arts\nBâtiment B\n69002 Lyon FR"),
            "{name}: {customer}"
        );
        let exemption = "TVA non applicable, art. 293 B du CGI".to_string();
        assert_eq!(
            printable.mentions.contains(&exemption),
            priced,
            "{name}: {:?}",
            printable.mentions
        );
        let html = to_html(&printable);
        assert!(html.contains("SARL au capital de 10000,00 €"), "{name}");
        assert!(html.contains("Bâtiment B"), "{name}");
    }
    let invoice = Printable::invoice(&documents.invoice);
    let text = pdf_text(&invoice);
    for needle in [
        "SARL au capital de 10000,00 €",
        "SIREN 812345678 RCS Lyon",
        "TVA non applicable, art. 293 B du CGI",
        "Bâtiment B",
    ] {
        assert!(text.contains(needle), "PDF lacks {needle:?}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn legal_mentions_a_shop_never_stated_are_not_printed() {
    // Proves a seller without legal form, capital, RCS or exemption prints none of their words,
    // and a customer address without a second line prints no empty line.
    let documents = projected_documents(at(0)).await;
    for (name, _priced, printable) in documents.printables() {
        let text = all_text(&printable);
        for absent in ["au capital", "Capital social", "RCS", "TVA non applicable"] {
            assert!(!text.contains(absent), "{name} prints {absent:?}:\n{text}");
        }
        assert!(
            printable
                .seller
                .contains(&"SIREN 812345678 — TVA FR45812345678".to_string()),
            "{name}: {:?}",
            printable.seller
        );
        let customer = printable.customer.join("\n");
        assert!(
            customer.contains("12 rue des Arts\n69002 Lyon FR"),
            "{name}: {customer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legal_form_or_a_capital_alone_prints_alone() {
    // Proves each half of the company line prints without the other.
    let form_only = projected_documents(at(0)).await.with(
        |seller| seller.organisation.legal_form = Some("SAS".into()),
        |_| {},
    );
    let seller = Printable::invoice(&form_only.invoice).seller;
    assert!(seller.contains(&"SAS".to_string()), "{seller:?}");
    assert!(!seller.join("\n").contains("capital"), "{seller:?}");
    let capital_only = form_only.with(
        |seller| {
            seller.organisation.legal_form = None;
            seller.organisation.share_capital = Some(d("1500.5"));
        },
        |_| {},
    );
    let seller = Printable::invoice(&capital_only.invoice).seller;
    assert!(
        seller.contains(&"Capital social : 1500,50 €".to_string()),
        "{seller:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invoice_prints_its_payment_terms_and_late_payment_mentions_once() {
    // Proves the payment terms, the late-payment penalties and the 40 € indemnity are on the
    // invoice, each exactly once.
    let documents = projected_documents(at(0)).await;
    let printable = Printable::invoice(&documents.invoice);
    let text = all_text(&printable);
    assert_eq!(
        text.matches("Conditions de paiement : Payable à la commande")
            .count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("pénalités").count(), 1, "{text}");
    assert_eq!(text.matches("40 €").count(), 1, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credit_note_cites_its_invoice_number_and_day() {
    // Proves the credit note keeps its invoice's issue instant and prints the invoice's day in
    // the seller's zone: 23:30 UTC on 2 March is 3 March in Paris.
    let invoice_issued_at = Utc
        .with_ymd_and_hms(2025, 3, 2, 23, 30, 0)
        .single()
        .expect("date");
    let documents = projected_documents(invoice_issued_at).await;
    assert_eq!(
        documents.credit_note.invoice_issued_at,
        Some(invoice_issued_at)
    );
    let printable = Printable::credit_note(&documents.credit_note);
    assert_eq!(
        printable.references,
        vec!["Avoir sur la facture FA-2025-000001 du 03/03/2025".to_string()]
    );
    let text = pdf_text(&printable);
    assert!(
        text.contains("Avoir sur la facture FA-2025-000001 du 03/03/2025"),
        "{text}"
    );
    // A row stored before the date was kept still prints the number.
    let mut older = documents.credit_note.clone();
    older.invoice_issued_at = None;
    assert_eq!(
        Printable::credit_note(&older).references,
        vec!["Avoir sur la facture FA-2025-000001".to_string()]
    );
}

/// The PDF of `printable` as poppler's pdftotext reads it.
fn pdf_text(printable: &Printable) -> String {
    let pdf = to_pdf(printable).expect("pdf");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let output = Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils, installed by .ci/run)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
