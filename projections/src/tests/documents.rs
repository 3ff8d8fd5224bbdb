//! Invoices, credit notes and delivery slips, and their links from the order.

use super::*;
use comptoir_domain::store_credit::StoreCreditEvent;

fn golden_document(json: &str, shop_id: Uuid, order_id: Uuid) -> DocumentEvent {
    let mut event: DocumentEvent = serde_json::from_str(json).expect("fixture");
    match &mut event {
        DocumentEvent::CreditNoteIssued {
            shop_id: shop,
            credit_note,
            ..
        } => {
            *shop = shop_id;
            credit_note.order_id = order_id;
        }
        DocumentEvent::DeliverySlipIssued {
            shop_id: shop,
            delivery_slip,
            ..
        } => {
            *shop = shop_id;
            delivery_slip.order_id = order_id;
        }
        DocumentEvent::InvoiceIssued { .. }
        | DocumentEvent::QuoteIssued { .. }
        | DocumentEvent::PurchaseOrderIssued { .. } => {}
    }
    event
}

/// The golden `CreditNoteUsed`: shop 0x5100, the golden credit note's number, at 10:00.
fn golden_credit_note_used() -> StoreCreditEvent {
    serde_json::from_str(include_str!(
        "../../../domain/tests/golden/store-credit.CreditNoteUsed.json"
    ))
    .expect("fixture")
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_are_found_by_number_and_linked_from_their_order() {
    // Proves each document kind is stored whole, found by number, listed, and that the order
    // shows its invoice, slip and credit-note numbers; a used credit note shows when.
    let harness = Harness::new();
    let (shop, order) = (id(0x5100), id(2));
    harness
        .append(
            &order_stream(order),
            &[
                order_placed(shop, order, at(0)),
                payment(shop, order, id(10), "53.20"),
                order_paid(shop, order),
            ],
        )
        .await;
    let documents = [
        invoice_issued(shop, order, 1, at(3)),
        golden_document(
            include_str!("../../../domain/tests/golden/document-series.DeliverySlipIssued.json"),
            shop,
            order,
        ),
        golden_document(
            include_str!("../../../domain/tests/golden/document-series.CreditNoteIssued.json"),
            shop,
            order,
        ),
    ];
    harness.append("series", &documents).await;
    harness
        .append("store-credit-x", &[golden_credit_note_used()])
        .await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let p = &harness.projections;

    let invoice = p.invoice(shop, "FA-2025-000001").unwrap().expect("invoice");
    assert_eq!(invoice.body.order_id, order);
    assert_eq!(invoice.body.totals.total_incl_vat, d("53.20"));
    assert_eq!(
        p.invoice_number_for_order(shop, order).unwrap().as_deref(),
        Some("FA-2025-000001")
    );
    let view = p.order(shop, order).unwrap().expect("order");
    let slip_number = view.delivery_slip_numbers[0].clone();
    let credit_number = view.credit_note_numbers[0].clone();
    assert!(p.delivery_slip(shop, &slip_number).unwrap().is_some());
    let credit = p
        .credit_note(shop, &credit_number)
        .unwrap()
        .expect("credit note");
    assert_eq!(
        credit.used_at,
        Some(at(0)),
        "the golden CreditNoteUsed is at 10:00"
    );
    let all = PageRequest::first(10);
    assert_eq!(
        p.credit_notes(shop, &Default::default(), &all)
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        p.delivery_slips(shop, &Default::default(), &all)
            .unwrap()
            .items
            .len(),
        1
    );

    let json = serde_json::to_value(&invoice).unwrap();
    assert_eq!(json["number"], "FA-2025-000001");
    assert_eq!(
        json["totals"]["total_incl_vat"], "53.20",
        "money is a decimal string"
    );
    assert!(json["seller"]["organisation"]["siren"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn invoices_are_listed_by_issue_date_range() {
    // Proves the date range is half-open [from, until) on the issue date.
    let harness = Harness::new();
    let shop = id(1);
    let invoices: Vec<DocumentEvent> = (1..=5)
        .map(|seq| invoice_issued(shop, id(100 + u128::from(seq)), seq, at(seq as i64 * 60)))
        .collect();
    harness.append("series", &invoices).await;
    let _runner = harness.spawn_runner();
    harness.caught_up().await;
    let range = crate::DateRange {
        from: Some(at(120)),
        until: Some(at(240)),
    };
    let page = harness
        .projections
        .invoices(shop, &range, &PageRequest::first(10))
        .unwrap();
    let numbers: Vec<&str> = page.items.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(numbers, ["FA-2025-000002", "FA-2025-000003"]);
    assert!(page.next_cursor.is_none());
}
