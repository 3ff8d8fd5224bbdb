//! Quotes and purchase orders: stored, changed by their own streams' events, printed, listed in
//! the customer space, and never posted to the ledger.

use super::*;
use crate::ledger::PeriodBound;
use crate::render::{to_html, Printable};
use comptoir_domain::quote::{PurchaseOrderEvent, QuoteEvent, QuoteStatus};

fn golden<E: serde::de::DeserializeOwned>(json: &str) -> E {
    serde_json::from_str(json).expect("fixture")
}

/// The golden quote scenario: customer registered, quote DE-2025-000001 issued, accepted and
/// ordered as BC-2025-000001, which is paid by cheque; all on 2025-03-14.
async fn quote_history(harness: &Harness, paid: bool) {
    let registered: CustomerEvent = golden(include_str!(
        "../../../domain/tests/golden/customer.CustomerRegistered.json"
    ));
    harness.append("customer-x", &[registered]).await;
    let quote: DocumentEvent = golden(include_str!(
        "../../../domain/tests/golden/document-series.QuoteIssued.json"
    ));
    let order: DocumentEvent = golden(include_str!(
        "../../../domain/tests/golden/document-series.PurchaseOrderIssued.json"
    ));
    harness.append("quote-series", &[quote]).await;
    let accepted: QuoteEvent = golden(include_str!(
        "../../../domain/tests/golden/quote.QuoteAccepted.json"
    ));
    let converted: QuoteEvent = golden(include_str!(
        "../../../domain/tests/golden/quote.QuoteConverted.json"
    ));
    harness.append("quote-x", &[accepted]).await;
    harness.append("order-series", &[order]).await;
    harness.append("quote-x", &[converted]).await;
    if paid {
        let paid: PurchaseOrderEvent = golden(include_str!(
            "../../../domain/tests/golden/purchase-order.PurchaseOrderPaid.json"
        ));
        harness.append("purchase-order-x", &[paid]).await;
    }
}

fn day(text: &str) -> chrono::NaiveDate {
    text.parse().expect("date")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quote_and_its_paid_purchase_order_are_read_printed_and_listed() {
    // Proves the quote shows accepted and ordered, the purchase order paid, both print with the
    // JSON's totals, and the customer space lists them (paid marked, expiry derived from the day).
    let harness = Harness::new();
    quote_history(&harness, true).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let shop = id(0x5100);

    let quote = p.quote(shop, "DE-2025-000001").unwrap().expect("quote");
    assert_eq!(quote.status, QuoteStatus::Accepted);
    assert_eq!(quote.decided_by.as_deref(), Some("anne"));
    assert_eq!(
        quote.purchase_order_number.as_deref(),
        Some("BC-2025-000001")
    );
    let order = p
        .purchase_order(shop, "BC-2025-000001")
        .unwrap()
        .expect("order");
    assert!(order.paid);
    let payment = order.payment.as_ref().expect("payment");
    assert_eq!(payment.amount, order.document.body.totals.total_incl_vat);
    assert_eq!(order.document.body.totals, quote.document.body.totals);
    let all = PageRequest::first(10);
    assert_eq!(
        p.quotes(shop, &Default::default(), &all)
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        p.purchase_orders(shop, &Default::default(), &all)
            .unwrap()
            .items
            .len(),
        1
    );

    let html = to_html(&Printable::purchase_order(&order));
    assert!(html.contains("Bon de commande n° BC-2025-000001"), "{html}");
    assert!(html.contains("Acquitté le 14/03/2025"), "{html}");
    let total = crate::render::money(order.document.body.totals.total_incl_vat, "EUR");
    assert!(html.contains(&total), "{html}");
    let quote_html = to_html(&Printable::quote(&quote));
    assert!(quote_html.contains("Devis accepté"), "{quote_html}");
    let valid_until = quote.document.body.valid_until.format("%d/%m/%Y");
    let validity = format!("Devis valable jusqu'au {valid_until}");
    assert!(quote_html.contains(&validity), "{quote_html}");

    let customer = quote.document.body.customer.customer_id.expect("customer");
    let space = p
        .customer_space(shop, customer, day("2025-03-14"))
        .unwrap()
        .expect("space");
    assert_eq!(space.quotes.len(), 1);
    assert_eq!(space.quotes[0].status, QuoteStatus::Accepted);
    assert_eq!(space.purchase_orders.len(), 1);
    assert!(space.purchase_orders[0].paid);
    assert_eq!(space.purchase_orders[0].paid_at, Some(payment.recorded_at));

    let from = PeriodBound::Instant(at(-86_400));
    let until = PeriodBound::Instant(at(86_400 * 400));
    assert!(
        p.ledger_entries(shop, from, until).unwrap().is_empty(),
        "a quote is not a sale"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_quote_expires_on_the_read_side_only() {
    // Proves an issued quote is read as expired after its validity date, and as issued before.
    let harness = Harness::new();
    let quote: DocumentEvent = golden(include_str!(
        "../../../domain/tests/golden/document-series.QuoteIssued.json"
    ));
    let registered: CustomerEvent = golden(include_str!(
        "../../../domain/tests/golden/customer.CustomerRegistered.json"
    ));
    harness.append("customer-x", &[registered]).await;
    harness.append("quote-series", &[quote]).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;
    let shop = id(0x5100);
    let view = p.quote(shop, "DE-2025-000001").unwrap().expect("quote");
    let until = view.document.body.valid_until;
    assert_eq!(view.status, QuoteStatus::Issued);
    assert_eq!(view.clone().as_of(until).status, QuoteStatus::Issued);
    let after = until.succ_opt().expect("a next day");
    assert_eq!(view.clone().as_of(after).status, QuoteStatus::Expired);
    let customer = view.document.body.customer.customer_id.expect("customer");
    let space = p
        .customer_space(shop, customer, after)
        .unwrap()
        .expect("space");
    assert_eq!(space.quotes[0].status, QuoteStatus::Expired);
    assert!(space.purchase_orders.is_empty());
}
