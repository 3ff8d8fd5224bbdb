use super::*;
use crate::coupon::{CouponScope, Reduction};
use crate::fixtures::*;
use crate::order::{
    CouponToApply, Order, OrderCommand, OrderCustomer, PaymentMethod, PlaceOrder, ReturnLine,
    Settlement,
};
use crate::pricing::BasketLine;
use crate::testing::{given, replay, test_now, TestEnvironment};
use chrono::TimeZone;
use std::sync::Arc;

const INVOICE_PATTERN: &str = "FA-{YYYY}-{seq:06}";

fn order_events() -> Vec<crate::order::OrderEvent> {
    order_events_with(None)
}

/// Placed (60 prints, a guide, Colissimo: 40.80), paid, shipped, the guide returned.
fn order_events_with(coupon: Option<CouponToApply>) -> Vec<crate::order::OrderEvent> {
    let place = PlaceOrder {
        order_id: id(0x0D),
        shop_id: shop_id(),
        customer: OrderCustomer {
            customer_id: None,
            email: "claire.martin@example.fr".into(),
            name: "Claire Martin".into(),
            billing_address: Some(address()),
        },
        lines: vec![
            BasketLine {
                sku: "TIR-10x15".into(),
                quantity: 60,
            },
            BasketLine {
                sku: "GUIDE-LYON".into(),
                quantity: 1,
            },
        ],
        delivery_method_id: id(COLISSIMO),
        pickup_point_id: None,
        shipping_address: Some(address()),
        catalog: Arc::new(catalog()),
        prices_include_tax: true,
        currency: "EUR".into(),
        coupon,
        email_moved_to: None,
    };
    let commands = [
        OrderCommand::Place(Box::new(place)),
        OrderCommand::MarkPaid {
            payment_id: id(0x9A),
            method: PaymentMethod::Card,
            operator: "anne".into(),
        },
        OrderCommand::Ship {
            shipped_by: "anne".into(),
            tracking_number: Some("6A1".into()),
        },
        OrderCommand::RecordReturn {
            credit_id: id(0xCC),
            lines: vec![ReturnLine {
                line_number: 2,
                quantity: 1,
            }],
            refund_shipping: false,
            settlement: Settlement::StoreCredit,
            credited_by: "anne".into(),
        },
    ];
    let mut events = Vec::new();
    for command in commands {
        let state = replay::<Order>(&events);
        events.extend(
            state
                .decide(&command, &TestEnvironment::new())
                .expect("setup"),
        );
    }
    events
}

fn order_after(count: usize) -> Order {
    replay::<Order>(&order_events()[..count])
}

fn paid_order() -> Order {
    order_after(3)
}

fn invoice() -> Box<InvoiceBody> {
    Box::new(invoice_body(&shop_profile(), &paid_order()).expect("paid order has an invoice"))
}

fn issue(body: DocumentBody) -> DocumentCommand {
    let pattern = body
        .kind()
        .pattern(&shop_profile().document_patterns)
        .to_owned();
    DocumentCommand::Issue {
        shop_id: shop_id(),
        pattern,
        body,
    }
}

fn invoice_issued(seq: u64, year: i32, at: chrono::DateTime<Utc>) -> DocumentEvent {
    DocumentEvent::InvoiceIssued {
        shop_id: shop_id(),
        number: DocumentNumber {
            number: format_document_number(INVOICE_PATTERN, year, seq),
            seq,
            year,
        },
        issued_at: at,
        invoice: invoice(),
    }
}

#[test]
fn the_first_invoice_is_number_one() {
    // Proves the first document of a series gets sequence 1 formatted with the shop's pattern.
    let series = given::<DocumentSeries>([])
        .when(issue(DocumentBody::Invoice(invoice())))
        .then([invoice_issued(1, 2025, test_now())]);
    assert_eq!(
        series.last.map(|n| n.number),
        Some("FA-2025-000001".to_owned())
    );
}

#[test]
fn numbers_follow_without_gap() {
    // Proves a thousand successive issues give exactly 1..=1000, all distinct.
    let env = TestEnvironment::new();
    let mut series = DocumentSeries::default();
    let mut numbers = std::collections::BTreeSet::new();
    for expected_seq in 1..=1000u64 {
        let events = series
            .decide(&issue(DocumentBody::Invoice(invoice())), &env)
            .expect("issued");
        assert_eq!(events[0].number().seq, expected_seq);
        numbers.insert(events[0].number().number.clone());
        series = events.iter().fold(series, |s, e| s.evolve(e));
    }
    assert_eq!(numbers.len(), 1000);
    assert_eq!(series.issued_count, 1000);
}

#[test]
fn a_yearly_pattern_restarts_on_january_first() {
    // Proves {YYYY} series restart at 1 in a new year, and series without the year continue.
    let new_year = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 1)
        .single()
        .expect("date");
    given::<DocumentSeries>([invoice_issued(41, 2025, test_now())])
        .at(new_year)
        .when(issue(DocumentBody::Invoice(invoice())))
        .then([invoice_issued(1, 2026, new_year)]);
    let continuous = DocumentCommand::Issue {
        shop_id: shop_id(),
        pattern: "FA{seq:05}".into(),
        body: DocumentBody::Invoice(invoice()),
    };
    let events = given::<DocumentSeries>([invoice_issued(41, 2025, test_now())])
        .at(new_year)
        .when(continuous)
        .events();
    assert_eq!(
        events[0].number(),
        &DocumentNumber {
            number: "FA00042".into(),
            seq: 42,
            year: 2026
        }
    );
}

#[test]
fn issue_dates_never_go_backwards() {
    // Proves a clock stepped back dates the next document at the last one's date, keeping the order.
    let later = test_now() + chrono::Duration::hours(1);
    given::<DocumentSeries>([invoice_issued(1, 2025, later)])
        .when(issue(DocumentBody::Invoice(invoice())))
        .then([invoice_issued(2, 2025, later)]);
}

#[test]
fn a_series_numbers_one_kind_of_one_shop() {
    // Proves a series refuses another kind, another shop and an invalid pattern.
    let slip = Box::new(delivery_slip_body(&shop_profile(), &paid_order_shipped()).expect("slip"));
    given::<DocumentSeries>([invoice_issued(1, 2025, test_now())])
        .when(issue(DocumentBody::DeliverySlip(slip)))
        .then_err_code("series-kind-mismatch");
    let other_shop = DocumentCommand::Issue {
        shop_id: id(1),
        pattern: INVOICE_PATTERN.into(),
        body: DocumentBody::Invoice(invoice()),
    };
    given::<DocumentSeries>([invoice_issued(1, 2025, test_now())])
        .when(other_shop)
        .then_err_code("shop-mismatch");
    let bad_pattern = DocumentCommand::Issue {
        shop_id: shop_id(),
        pattern: "FA".into(),
        body: DocumentBody::Invoice(invoice()),
    };
    given::<DocumentSeries>([])
        .when(bad_pattern)
        .then_err_code("validation");
}

fn paid_order_shipped() -> Order {
    order_after(4)
}

#[test]
fn the_invoice_carries_the_legal_mentions_and_adds_up() {
    // Proves the invoice snapshot: seller identity, customer, lines incl. shipping, totals per rate, terms.
    let invoice = invoice();
    assert_eq!(invoice.seller.organisation.siren, "812345678");
    assert_eq!(invoice.seller.organisation.vat_id, "FR45812345678");
    assert_eq!(invoice.customer.email, "claire.martin@example.fr");
    assert_eq!(invoice.payment_terms, "Payable à la commande");
    assert_eq!(invoice.lines.len(), 3, "two products and the shipping");
    let net: rust_decimal::Decimal = invoice.lines.iter().map(|l| l.total_excl_vat).sum();
    let vat: rust_decimal::Decimal = invoice.lines.iter().map(|l| l.total_vat).sum();
    assert_eq!(net, invoice.totals.total_excl_vat);
    assert_eq!(vat, invoice.totals.total_vat);
    assert_eq!(invoice.totals.total_incl_vat, d("40.80"));
    assert_eq!(invoice.payments.len(), 1);
    assert_eq!(invoice.payments[0].recorded_by, "anne");
}

#[test]
fn only_a_paid_order_is_invoiced() {
    // Proves the glue cannot build an invoice for an unpaid order or for another shop.
    let placed = order_after(1);
    assert_eq!(
        invoice_body(&shop_profile(), &placed).map_err(|e| e.code()),
        Err("invalid-transition")
    );
    assert_eq!(
        invoice_body(&shop_profile(), &Order::default()).map_err(|e| e.code()),
        Err("not-found")
    );
    let mut other = shop_profile();
    other.shop_id = id(1);
    assert_eq!(
        invoice_body(&other, &paid_order()).map_err(|e| e.code()),
        Err("shop-mismatch")
    );
}

#[test]
fn the_credit_note_references_its_invoice() {
    // Proves the credit note body carries the invoice number, returned lines, totals and settlement.
    let order = order_after(5);
    let credit_note =
        credit_note_body(&shop_profile(), &order, id(0xCC), "FA-2025-000001").expect("credit note");
    assert_eq!(credit_note.invoice_number, "FA-2025-000001");
    assert_eq!(credit_note.lines.len(), 1);
    assert_eq!(credit_note.totals.total_incl_vat, d("18.50"));
    assert_eq!(credit_note.settlement, Settlement::StoreCredit);
    let events = given::<DocumentSeries>([])
        .when(issue(DocumentBody::CreditNote(Box::new(credit_note))))
        .events();
    assert_eq!(events[0].number().number, "AV-2025-000001");
    assert_eq!(events[0].event_type(), "CreditNoteIssued");
    assert_eq!(
        credit_note_body(&shop_profile(), &order, id(1), "FA-1").map_err(|e| e.code()),
        Err("not-found")
    );
    assert_eq!(
        credit_note_body(&shop_profile(), &order, id(0xCC), " ").map_err(|e| e.code()),
        Err("validation")
    );
}

#[test]
fn the_delivery_slip_needs_a_shipped_order() {
    // Proves slips are issued for shipped orders only and list quantities and weight.
    assert_eq!(
        delivery_slip_body(&shop_profile(), &paid_order()).map_err(|e| e.code()),
        Err("invalid-transition")
    );
    let slip = delivery_slip_body(&shop_profile(), &paid_order_shipped()).expect("slip");
    assert_eq!(slip.tracking_number.as_deref(), Some("6A1"));
    assert_eq!(slip.lines.len(), 2);
    assert_eq!(slip.total_weight_g, 650);
    let events = given::<DocumentSeries>([])
        .when(issue(DocumentBody::DeliverySlip(Box::new(slip))))
        .events();
    assert_eq!(events[0].number().number, "BL-2025-000001");
}

#[test]
fn stream_names_carry_shop_and_kind() {
    // Proves the series stream names the glue appends to.
    assert_eq!(
        stream_id(id(1), DocumentKind::CreditNote),
        "document-series-00000000-0000-0000-0000-000000000001-credit_note"
    );
}

/// `order_events` with 10 % off the products (TIRAGES10): 3.59 off, 37.21 to pay.
fn discounted_events() -> Vec<crate::order::OrderEvent> {
    order_events_with(Some(CouponToApply {
        coupon: Arc::new(coupon_with(
            CouponScope::Order {
                reduction: Reduction::Percent(d("10")),
            },
            "0",
        )),
        code: "tirages10".into(),
    }))
}

#[test]
fn the_invoice_of_a_discounted_order_shows_the_discount_per_rate() {
    // Proves the invoice keeps catalog-priced lines, adds one allowance per VAT rate for the
    // coupon, and per rate its lines less its allowances are its totals, which are what was paid.
    let order = replay::<Order>(&discounted_events()[..3]);
    let invoice = invoice_body(&shop_profile(), &order).expect("invoice");
    let gross: rust_decimal::Decimal = invoice.lines.iter().map(|l| l.total_incl_vat).sum();
    assert_eq!(gross, d("40.80"));
    let allowances: Vec<_> = invoice
        .allowances
        .iter()
        .map(|a| (a.vat_rate, a.amount_excl_vat, a.vat, a.amount_incl_vat))
        .collect();
    assert_eq!(
        allowances,
        vec![
            (d("5.5"), d("1.76"), d("0.09"), d("1.85")),
            (d("20"), d("1.45"), d("0.29"), d("1.74")),
        ]
    );
    assert_eq!(invoice.allowances[1].reason, "Remise coupon TIRAGES10");
    for rate in &invoice.totals.vat_breakdown {
        let lines: rust_decimal::Decimal = invoice
            .lines
            .iter()
            .filter(|l| l.vat_rate == rate.vat_rate)
            .map(|l| l.total_vat)
            .sum();
        let allowed: rust_decimal::Decimal = invoice
            .allowances
            .iter()
            .filter(|a| a.vat_rate == rate.vat_rate)
            .map(|a| a.vat)
            .sum();
        assert_eq!(lines - allowed, rate.vat_amount, "{rate:?}");
    }
    assert_eq!(
        (invoice.totals.total_vat, invoice.totals.total_incl_vat),
        (d("4.30"), d("37.21"))
    );
    let paid: rust_decimal::Decimal = invoice.payments.iter().map(|p| p.amount).sum();
    assert_eq!(paid, d("37.21"));
}

#[test]
fn the_credit_note_of_a_discounted_order_refunds_what_was_paid() {
    // Proves the returned guide (18.50, 1.85 off) is credited at 18.50 less a 1.85 allowance:
    // 16.65 refunded, VAT 0.87 at 5.5 %; an invoice without a coupon shows no allowance at all.
    let order = replay::<Order>(&discounted_events());
    let note =
        credit_note_body(&shop_profile(), &order, id(0xCC), "FA-2025-000001").expect("credit note");
    assert_eq!(note.lines[0].total_incl_vat, d("18.50"));
    assert_eq!(note.allowances.len(), 1);
    assert_eq!(note.allowances[0].amount_incl_vat, d("1.85"));
    assert_eq!(
        (note.totals.total_incl_vat, note.totals.total_vat),
        (d("16.65"), d("0.87"))
    );
    assert!(invoice().allowances.is_empty());
}

#[test]
fn the_year_of_a_number_is_the_shops_year() {
    // Proves a document issued at 23:30Z on 31 December is of the new year in Paris (the default
    // zone) and restarts its series there, while a shop in UTC still numbers it in the old year.
    let eve = Utc
        .with_ymd_and_hms(2025, 12, 31, 23, 30, 0)
        .single()
        .expect("date");
    given::<DocumentSeries>([invoice_issued(41, 2025, test_now())])
        .at(eve)
        .when(issue(DocumentBody::Invoice(invoice())))
        .then([invoice_issued(1, 2026, eve)]);
    let mut in_utc = invoice();
    in_utc.seller.time_zone = Some("UTC".into());
    let events = given::<DocumentSeries>([invoice_issued(41, 2025, test_now())])
        .at(eve)
        .when(issue(DocumentBody::Invoice(in_utc)))
        .events();
    assert_eq!(events[0].number().number, "FA-2025-000042");
}
