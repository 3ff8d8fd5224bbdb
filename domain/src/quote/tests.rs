use super::*;
use crate::customer::{CustomerProfile, RegisteredCustomer};
use crate::documents::{
    DocumentBody, DocumentCommand, DocumentEvent, DocumentKind, DocumentSeries,
};
use crate::fixtures::*;
use crate::testing::{given, test_now, TestEnvironment};
use chrono::{Duration, NaiveDate};

fn customer() -> RegisteredCustomer {
    RegisteredCustomer {
        shop_id: shop_id(),
        customer_id: id(0xC5),
        email: "claire.martin@example.fr".into(),
        profile: CustomerProfile {
            first_name: "Claire".into(),
            last_name: "Martin".into(),
            phone: None,
            address: Some(address()),
            marketing_consent: false,
            extra: Default::default(),
        },
        previous_emails: Vec::new(),
        welcome_mailed_at: None,
    }
}

fn line(
    sku: Option<&str>,
    description: Option<&str>,
    quantity: u32,
    price: &str,
    rate: Option<&str>,
) -> QuoteLineInput {
    QuoteLineInput {
        sku: sku.map(str::to_owned),
        description: description.map(str::to_owned),
        quantity,
        unit_price_excl_vat: d(price),
        vat_rate: rate.map(d),
    }
}

/// Three 3-cent lines at 20 % (VAT 0.018 on their sum, 0.006 each) and a guide at 5.5 %.
fn lines() -> Vec<QuoteLineInput> {
    vec![
        line(Some("TIR-10x15"), None, 1, "0.03", None),
        line(
            Some("MUG-BLANC"),
            Some("Mug personnalisé"),
            1,
            "0.03",
            Some("20"),
        ),
        line(None, Some("Retouche"), 1, "0.03", Some("20")),
        line(Some("GUIDE-LYON"), None, 1, "18.00", None),
    ]
}

fn today() -> NaiveDate {
    test_now().date_naive()
}

fn valid_until() -> NaiveDate {
    today() + Duration::days(30)
}

fn body() -> QuoteBody {
    quote_body(
        &shop_profile(),
        &customer(),
        &catalog(),
        &lines(),
        valid_until(),
        today(),
    )
    .expect("a valid quote")
}

const NUMBER: &str = "DE-2025-000001";

fn opened() -> QuoteEvent {
    QuoteEvent::QuoteOpened {
        shop_id: shop_id(),
        number: NUMBER.into(),
        issued_at: test_now(),
        quote: Box::new(body()),
    }
}

fn accepted() -> QuoteEvent {
    QuoteEvent::QuoteAccepted {
        shop_id: shop_id(),
        number: NUMBER.into(),
        accepted_by: "anne".into(),
        accepted_at: test_now(),
    }
}

fn accept() -> QuoteCommand {
    QuoteCommand::Accept {
        shop_id: shop_id(),
        accepted_by: "anne".into(),
    }
}

fn decline() -> QuoteCommand {
    QuoteCommand::Decline {
        shop_id: shop_id(),
        declined_by: "anne".into(),
        reason: Some("trop cher".into()),
    }
}

fn convert() -> QuoteCommand {
    QuoteCommand::Convert {
        shop_id: shop_id(),
        purchase_order_number: "BC-2025-000001".into(),
    }
}

#[test]
fn vat_is_computed_per_rate_on_the_sum_of_the_lines() {
    // Proves a quote is priced like an invoice: VAT per rate on the sum, rounded once (0.02, not
    // three roundings of 0.006 to 0.01), and the lines add up to the totals exactly.
    let quote = body();
    let breakdown = &quote.totals.vat_breakdown;
    assert_eq!(breakdown.len(), 2);
    assert_eq!(
        (
            breakdown[0].vat_rate,
            breakdown[0].base_excl_vat,
            breakdown[0].vat_amount
        ),
        (d("5.5"), d("18.00"), d("0.99"))
    );
    assert_eq!(
        (
            breakdown[1].vat_rate,
            breakdown[1].base_excl_vat,
            breakdown[1].vat_amount
        ),
        (d("20"), d("0.09"), d("0.02"))
    );
    assert_eq!(quote.totals.total_excl_vat, d("18.09"));
    assert_eq!(quote.totals.total_vat, d("1.01"));
    assert_eq!(quote.totals.total_incl_vat, d("19.10"));
    let line_vat: rust_decimal::Decimal = quote.lines.iter().map(|l| l.total_vat).sum();
    let line_total: rust_decimal::Decimal = quote.lines.iter().map(|l| l.total_incl_vat).sum();
    assert_eq!(line_vat, quote.totals.total_vat);
    assert_eq!(line_total, quote.totals.total_incl_vat);
    assert_eq!(quote.lines[0].description, "Produit TIR-10x15");
    assert_eq!(quote.lines[1].description, "Mug personnalisé");
    assert_eq!(quote.lines[2].sku, None);
    assert_eq!(quote.customer.customer_id, Some(id(0xC5)));
}

#[test]
fn bad_lines_are_refused_with_the_field_named() {
    // Proves each malformed line is a validation error naming its field, and unknown SKUs are not found.
    let refuse = |lines: Vec<QuoteLineInput>| {
        quote_body(
            &shop_profile(),
            &customer(),
            &catalog(),
            &lines,
            valid_until(),
            today(),
        )
        .expect_err("refused")
    };
    assert_eq!(refuse(vec![]).code(), "validation");
    let free_without_rate = refuse(vec![line(None, Some("Retouche"), 1, "1", None)]);
    assert!(
        free_without_rate.to_string().contains("lines[0].vat_rate"),
        "{free_without_rate}"
    );
    assert!(refuse(vec![line(None, None, 1, "1", Some("20"))])
        .to_string()
        .contains("lines[0].description"));
    assert!(refuse(vec![line(None, Some("x"), 0, "1", Some("20"))])
        .to_string()
        .contains("quantity"));
    assert!(refuse(vec![line(None, Some("x"), 1, "-1", Some("20"))])
        .to_string()
        .contains("unit_price"));
    assert!(refuse(vec![line(None, Some("x"), 1, "1.001", Some("20"))])
        .to_string()
        .contains("unit_price"));
    assert!(
        refuse(vec![line(Some("GUIDE-LYON"), None, 1, "1", Some("20"))])
            .to_string()
            .contains("5.5")
    );
    assert_eq!(
        refuse(vec![line(Some("NOPE"), None, 1, "1", None)]).code(),
        "not-found"
    );
    let too_many =
        vec![line(None, Some("x"), 1, "1", Some("20")); crate::limits::LINES_PER_QUOTE_MAX + 1];
    assert_eq!(refuse(too_many).code(), "limit-exceeded");
}

#[test]
fn the_validity_date_is_today_or_later_and_bounded() {
    // Proves a quote valid only in the past, or for more than a year, is refused.
    let with = |until: NaiveDate| {
        quote_body(
            &shop_profile(),
            &customer(),
            &catalog(),
            &lines(),
            until,
            today(),
        )
    };
    assert!(with(today()).is_ok());
    assert!(with(today() - Duration::days(1)).is_err());
    assert!(with(today() + Duration::days(crate::limits::QUOTE_VALIDITY_DAYS_MAX + 1)).is_err());
}

#[test]
fn another_shops_customer_is_not_found() {
    // Proves a quote cannot be made out to a customer of another shop.
    let mut stranger = customer();
    stranger.shop_id = id(0x9999);
    let error = quote_body(
        &shop_profile(),
        &stranger,
        &catalog(),
        &lines(),
        valid_until(),
        today(),
    )
    .expect_err("refused");
    assert_eq!(error.code(), "not-found");
}

#[test]
fn quotes_have_their_own_gap_free_series_with_the_default_pattern() {
    // Proves the quote series numbers DE-2025-000001, 000002... apart from the invoices.
    let pattern = DocumentKind::Quote
        .pattern(&shop_profile().document_patterns)
        .to_owned();
    assert_eq!(pattern, "DE-{YYYY}-{seq:06}");
    let env = TestEnvironment::new();
    let mut series = DocumentSeries::default();
    for seq in 1..=3u64 {
        let command = DocumentCommand::Issue {
            shop_id: shop_id(),
            pattern: pattern.clone(),
            body: DocumentBody::Quote(Box::new(body())),
        };
        let events = series.decide(&command, &env).expect("issued");
        assert!(matches!(&events[0], DocumentEvent::QuoteIssued { .. }));
        assert_eq!(events[0].number().number, format!("DE-2025-{seq:06}"));
        series = events.iter().fold(series, |s, e| s.evolve(e));
    }
    assert_eq!(
        DocumentKind::PurchaseOrder.pattern(&shop_profile().document_patterns),
        "BC-{YYYY}-{seq:06}"
    );
}

#[test]
fn a_shop_chooses_its_quote_patterns_and_every_series_pattern_differs() {
    // Proves the quote and purchase-order patterns are the shop's when given, and that a pattern
    // shared with another series is refused (two series would print the same number).
    use crate::shop::{Shop, ShopCommand};
    let mut profile = shop_profile();
    profile.document_patterns.quote = Some("DEV-{YY}-{seq:05}".into());
    let shop = given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile.clone())))
        .events();
    assert_eq!(shop.len(), 1);
    assert_eq!(
        DocumentKind::Quote.pattern(&profile.document_patterns),
        "DEV-{YY}-{seq:05}"
    );
    profile.document_patterns.purchase_order = Some("DEV-{YY}-{seq:05}".into());
    given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile.clone())))
        .then_err_code("validation");
    profile.document_patterns.purchase_order = Some(profile.document_patterns.invoice.clone());
    given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile.clone())))
        .then_err_code("validation");
    profile.document_patterns.purchase_order = Some("BC-{seq".into());
    given::<Shop>([])
        .when(ShopCommand::Create(Box::new(profile)))
        .then_err_code("validation");
}

#[test]
fn an_issued_quote_is_opened_once() {
    // Proves the quote stream records the issued quote, and a second opening of its number is refused.
    let open = QuoteCommand::Open {
        shop_id: shop_id(),
        number: NUMBER.into(),
        issued_at: test_now(),
        quote: Box::new(body()),
    };
    let quote = given::<Quote>([]).when(open.clone()).then([opened()]);
    assert_eq!(quote.status, Some(QuoteStatus::Issued));
    given::<Quote>([opened()])
        .when(open)
        .then_err_code("already-exists");
}

#[test]
fn an_issued_quote_is_accepted() {
    // Proves acceptance within the validity date records who accepted and when.
    let quote = given::<Quote>([opened()]).when(accept()).then([accepted()]);
    assert_eq!(quote.status, Some(QuoteStatus::Accepted));
}

#[test]
fn an_issued_quote_is_declined() {
    // Proves a decline records who declined, why and when, and then nothing else is possible.
    let declined = QuoteEvent::QuoteDeclined {
        shop_id: shop_id(),
        number: NUMBER.into(),
        declined_by: "anne".into(),
        reason: Some("trop cher".into()),
        declined_at: test_now(),
    };
    given::<Quote>([opened()])
        .when(decline())
        .then([declined.clone()]);
    given::<Quote>([opened(), declined.clone()])
        .when(accept())
        .then_err_code("invalid-transition");
    given::<Quote>([opened(), declined])
        .when(convert())
        .then_err_code("invalid-transition");
}

#[test]
fn a_quote_past_its_validity_date_has_expired() {
    // Proves expiry comes from the clock, in the shop's calendar: the last second of the last
    // valid day in Paris still accepts, the next second refuses, and the read side derives the
    // same status.
    let last_local = valid_until().and_hms_opt(23, 59, 59).expect("time");
    let last_day = chrono::TimeZone::from_local_datetime(&body().zone(), &last_local)
        .single()
        .expect("an unambiguous time")
        .with_timezone(&chrono::Utc);
    assert_eq!(
        last_day.date_naive(),
        valid_until(),
        "Paris is ahead of UTC"
    );
    given::<Quote>([opened()])
        .at(last_day)
        .when(accept())
        .then([QuoteEvent::QuoteAccepted {
            shop_id: shop_id(),
            number: NUMBER.into(),
            accepted_by: "anne".into(),
            accepted_at: last_day,
        }]);
    let next_day = last_day + Duration::seconds(1);
    given::<Quote>([opened()])
        .at(next_day)
        .when(accept())
        .then_err_code("quote-expired");
    given::<Quote>([opened()])
        .at(next_day)
        .when(decline())
        .then_err_code("quote-expired");
    assert_eq!(
        QuoteStatus::Issued.at(valid_until(), valid_until() + Duration::days(1)),
        QuoteStatus::Expired
    );
    assert_eq!(
        QuoteStatus::Accepted.at(valid_until(), valid_until() + Duration::days(1)),
        QuoteStatus::Accepted
    );
}

#[test]
fn only_an_accepted_quote_becomes_one_purchase_order() {
    // Proves conversion needs acceptance, happens once, and survives the validity date.
    given::<Quote>([opened()])
        .when(convert())
        .then_err_code("invalid-transition");
    let converted = QuoteEvent::QuoteConverted {
        shop_id: shop_id(),
        number: NUMBER.into(),
        purchase_order_number: "BC-2025-000001".into(),
        converted_at: test_now(),
    };
    given::<Quote>([opened(), accepted()])
        .when(convert())
        .then([converted.clone()]);
    let later = test_now() + Duration::days(90);
    given::<Quote>([opened(), accepted()])
        .at(later)
        .when(convert())
        .events();
    given::<Quote>([opened(), accepted(), converted])
        .when(convert())
        .then_err_code("quote-already-ordered");
    given::<Quote>([opened(), accepted()])
        .when(accept())
        .then_err_code("invalid-transition");
}

#[test]
fn another_shop_or_no_quote_is_not_found() {
    // Proves a quote is invisible to other shops and an unknown number is not found.
    given::<Quote>([]).when(accept()).then_err_code("not-found");
    given::<Quote>([opened()])
        .when(QuoteCommand::Accept {
            shop_id: id(0x9999),
            accepted_by: "anne".into(),
        })
        .then_err_code("not-found");
}

#[test]
fn a_purchase_order_from_a_quote_copies_its_lines_and_totals() {
    // Proves the purchase order says exactly what the accepted quote said, and references it.
    let quote = body();
    let order = purchase_order_body_from_quote(&shop_profile(), NUMBER, &quote);
    assert_eq!(order.lines, quote.lines);
    assert_eq!(order.totals, quote.totals);
    assert_eq!(order.customer, quote.customer);
    assert_eq!(order.quote_number.as_deref(), Some(NUMBER));
    let direct =
        purchase_order_body(&shop_profile(), &customer(), &catalog(), &lines()).expect("valid");
    assert_eq!(direct.totals, quote.totals);
    assert_eq!(direct.quote_number, None);
}

const ORDER_NUMBER: &str = "BC-2025-000001";

fn order_opened() -> PurchaseOrderEvent {
    PurchaseOrderEvent::PurchaseOrderOpened {
        shop_id: shop_id(),
        number: ORDER_NUMBER.into(),
        issued_at: test_now(),
        quote_number: Some(NUMBER.into()),
        currency: "EUR".into(),
        total_incl_vat: d("19.10"),
    }
}

fn mark_paid(amount: &str, method: PaymentMethod) -> PurchaseOrderCommand {
    PurchaseOrderCommand::MarkPaid {
        shop_id: shop_id(),
        payment_id: id(0x9A),
        method,
        amount: d(amount),
        operator: "anne".into(),
    }
}

#[test]
fn a_purchase_order_is_marked_paid_once_in_full() {
    // Proves the payment records method, amount, operator and time, and a second one is refused.
    let paid = PurchaseOrderEvent::PurchaseOrderPaid {
        shop_id: shop_id(),
        number: ORDER_NUMBER.into(),
        payment: PaymentRecord {
            payment_id: id(0x9A),
            method: PaymentMethod::Cheque,
            amount: d("19.10"),
            transaction_id: None,
            external_payment_id: None,
            recorded_by: "anne".into(),
            recorded_at: test_now(),
        },
    };
    let order = given::<PurchaseOrder>([order_opened()])
        .when(mark_paid("19.10", PaymentMethod::Cheque))
        .then([paid.clone()]);
    assert!(order.payment.is_some());
    given::<PurchaseOrder>([order_opened(), paid])
        .when(mark_paid("19.10", PaymentMethod::Cash))
        .then_err_code("already-paid");
}

#[test]
fn a_wrong_payment_is_refused() {
    // Proves a partial, excessive, negative or store-credit payment and an unknown order are refused.
    let on_opened = |command| given::<PurchaseOrder>([order_opened()]).when(command);
    on_opened(mark_paid("19.00", PaymentMethod::Cash)).then_err_code("amount-mismatch");
    on_opened(mark_paid("20.00", PaymentMethod::Cash)).then_err_code("amount-mismatch");
    on_opened(mark_paid("-19.10", PaymentMethod::Cash)).then_err_code("validation");
    on_opened(mark_paid("19.10", PaymentMethod::StoreCredit)).then_err_code("validation");
    given::<PurchaseOrder>([])
        .when(mark_paid("19.10", PaymentMethod::Cash))
        .then_err_code("not-found");
}
