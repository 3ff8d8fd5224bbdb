//! The legal mentions of French documents end to end: a shop created with its legal form, share
//! capital, RCS city and VAT exemption prints them on its invoice PDF, and a credit note's PDF
//! cites its invoice's number and day.

use serde_json::{json, Value};

use crate::api::set_clock;
use crate::api::{big_pack, fixture, home_order, photo_shop_from_body, place, shop_body, Api};
use crate::reports::{download, pdf_text};
use crate::support::spawn_app_with_test_clock;
use crate::time_zones::pay;

fn shop_with_mentions() -> Value {
    let mut body = shop_body(&fixture(), "Studio Lumière — mentions");
    let organisation = &mut body["organisation"];
    organisation["legal_form"] = json!("SARL");
    organisation["share_capital"] = json!("7500.00");
    organisation["rcs_city"] = json!("Lyon");
    organisation["vat_exemption_mention"] = json!("TVA non applicable, art. 293 B du CGI");
    body
}

#[tokio::test]
async fn bad_legal_mentions_are_refused_and_append_nothing() {
    // Proves a negative capital, a capital with three decimals, an overlong legal form and an
    // empty RCS city are each a 422 that creates no shop, and good ones read back as sent.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    let spoilers: [(&str, Value); 4] = [
        ("share_capital", json!("-1")),
        ("share_capital", json!("12.345")),
        ("legal_form", json!("S".repeat(65))),
        ("rcs_city", json!(" ")),
    ];
    for (field, value) in spoilers {
        let mut body = shop_with_mentions();
        body["organisation"][field] = value;
        let head = owner.head_position().await;
        owner
            .post("/v1/shops", &body)
            .await
            .expect_problem(422, "validation");
        assert_eq!(owner.head_position().await, head, "{field}");
    }
    let created = owner
        .post("/v1/shops", &shop_with_mentions())
        .await
        .expect(201);
    let organisation = &created.body["organisation"];
    assert_eq!(organisation["legal_form"], "SARL");
    assert_eq!(organisation["share_capital"], "7500.00");
    assert_eq!(organisation["rcs_city"], "Lyon");
    let shop_id = created.id("shop_id");
    let read = owner.get(&format!("/v1/shops/{shop_id}")).await.expect(200);
    assert_eq!(read.body["organisation"], *organisation);
}

#[tokio::test]
async fn invoice_and_credit_note_pdfs_carry_the_legal_mentions() {
    // Proves the invoice PDF of a shop created with its legal mentions shows SIREN, RCS city,
    // VAT id, legal form and share capital, the payment terms, the late-payment penalties and
    // the 40 € indemnity; and that its credit note's PDF cites the invoice's number and its day
    // in the shop's zone (paid at 23:30 UTC on 2 March, already 3 March in Paris).
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-03-02T23:30:00Z").await;
    let shop = photo_shop_from_body(&app, &shop_with_mentions(), Some(&big_pack())).await;
    let storefront = shop.as_role("storefront");
    let lines = json!([{"sku": "TIR-10x15", "quantity": 30}]);
    let (order_id, total) = place(
        &storefront,
        &shop,
        &home_order(&shop, "claire@example.fr", lines),
    )
    .await;
    let position = pay(&shop, &order_id, &total).await;
    let order = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_id}?min_position={position}")))
        .await
        .expect(200);
    let invoice = order.body["invoice_number"]
        .as_str()
        .expect("invoiced")
        .to_string();
    let accountant = shop.as_role("accountant");
    let path = shop.path(&format!(
        "/printable/invoices/{invoice}?format=pdf&min_position={position}"
    ));
    let pdf = download(
        &accountant,
        &path,
        dir.path(),
        "invoice.pdf",
        "application/pdf",
    )
    .await;
    let text = pdf_text(&pdf);
    for expected in [
        invoice.as_str(),
        "03/03/2026",
        "SIREN 812345678 RCS Lyon",
        "TVA FR45812345678",
        "SARL au capital de 7500,00 €",
        "Conditions de paiement : Payable à la commande",
        "pénalités",
        "40 €",
        "TVA non applicable, art. 293 B du CGI",
    ] {
        assert!(
            text.contains(expected),
            "invoice lacks {expected:?}:\n{text}"
        );
    }

    set_clock(&owner, "2026-03-10T10:00:00Z").await;
    let ship = shop.path(&format!("/orders/{order_id}/ship"));
    shop.manager.post(&ship, &json!({})).await.expect(200);
    let returns = shop.path(&format!("/orders/{order_id}/returns"));
    let credit = json!({"lines": [{"line_number": 1, "quantity": 10}], "settlement": {"type": "store_credit"}});
    let returned = shop.manager.post(&returns, &credit).await.expect(201);
    let credit_note = returned.body["issued"][0]["number"]
        .as_str()
        .expect("credit note")
        .to_string();
    let position = returned.body["position"].as_u64().expect("position");
    let read = accountant
        .get(&shop.path(&format!(
            "/credit-notes/{credit_note}?min_position={position}"
        )))
        .await
        .expect(200);
    let invoice_read = accountant
        .get(&shop.path(&format!("/invoices/{invoice}")))
        .await
        .expect(200);
    assert_eq!(
        read.body["invoice_issued_at"],
        invoice_read.body["issued_at"]
    );
    let path = shop.path(&format!(
        "/printable/credit-notes/{credit_note}?format=pdf&min_position={position}"
    ));
    let pdf = download(
        &accountant,
        &path,
        dir.path(),
        "credit-note.pdf",
        "application/pdf",
    )
    .await;
    let text = pdf_text(&pdf);
    let citation = format!("Avoir sur la facture {invoice} du 03/03/2026");
    for expected in [
        credit_note.as_str(),
        citation.as_str(),
        "10/03/2026",
        "SARL au capital de 7500,00 €",
    ] {
        assert!(
            text.contains(expected),
            "credit note lacks {expected:?}:\n{text}"
        );
    }
}
