//! A partly paid order cancelled over HTTP: its payments go back the way they came in, in the
//! ledger (cash from 530, card from 512) and in the day's NF525 closure (refunds per method).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::api::{cents, home_order, photo_shop, place, set_clock, value_cents, Api};
use crate::support::spawn_app_with_test_clock;

/// The trial balance at `path` as account → (debit, credit) in cents, checked to balance.
async fn trial_balance(api: &Api, path: &str) -> BTreeMap<String, (i64, i64)> {
    let trial = api.get(path).await.expect(200).body;
    assert_eq!(trial["total_debit"], trial["total_credit"], "{trial}");
    trial["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let account = row["account"].as_str().expect("account").to_string();
            let sums = (value_cents(&row["debit"]), value_cents(&row["credit"]));
            (account, sums)
        })
        .collect()
}

/// The journal's entries of one piece (an order's `CMD-` reference) whose label starts with
/// `label`, as (journal, account, debit, credit) per posting, in cents.
fn postings_of(journal: &Value, label: &str) -> Vec<(String, String, i64, i64)> {
    let mut postings = Vec::new();
    for entry in journal["entries"].as_array().expect("entries") {
        if !entry["label"]
            .as_str()
            .is_some_and(|l| l.starts_with(label))
        {
            continue;
        }
        for posting in entry["postings"].as_array().expect("postings") {
            postings.push((
                entry["journal"].as_str().expect("journal").to_string(),
                posting["account"].as_str().expect("account").to_string(),
                value_cents(&posting["debit"]),
                value_cents(&posting["credit"]),
            ));
        }
    }
    postings
}

#[tokio::test]
async fn a_partly_paid_order_cancelled_is_refunded_per_method_in_the_books_and_the_closure() {
    // Proves a cancelled order paid in part by cash and by card gives each method its part back:
    // the ledger credits 530 (journal CA) with the cash and 512 (BQ) with the card and debits
    // the customer 411 with both, so 411, 512 and 530 are back at zero and the trial balance
    // balances; the day closure counts each method's payment and refund, with no document.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-11-18T09:00:00Z").await;
    let shop = photo_shop(&app, "Studio Annulation").await;
    let lines = json!([{"sku": "TIR-10x15", "quantity": 40}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let body = home_order(&shop, "claire.martin@example.fr", lines);
    let (order_id, total) = place(&shop.manager, &shop, &body).await;
    let (cash, card) = ("10.00", "5.50");
    assert!(
        cents(cash) + cents(card) < cents(&total),
        "only partly paid"
    );
    for (method, amount) in [("cash", cash), ("card", card)] {
        shop.manager
            .post(
                &shop.path(&format!("/orders/{order_id}/payments")),
                &json!({"method": method, "amount": amount}),
            )
            .await
            .expect(200);
    }
    let cancelled = shop
        .manager
        .post(
            &shop.path(&format!("/orders/{order_id}/cancel")),
            &json!({"reason": "Client a changé d'avis"}),
        )
        .await
        .expect(200);
    let at = cancelled.body["position"].as_u64().expect("position");
    let order = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_id}?min_position={at}")))
        .await
        .expect(200)
        .body;
    assert_eq!(order["status"], "cancelled", "{order}");
    assert_eq!(value_cents(&order["refund_due"]), cents(cash) + cents(card));

    let accountant = shop.as_role("accountant");
    let period = format!("from=2026-11-18&to=2026-11-18&min_position={at}");
    let journal = accountant
        .get(&shop.path(&format!("/ledger/journal?{period}")))
        .await
        .expect(200)
        .body;
    let mut refunds = postings_of(&journal, "Remboursement");
    refunds.sort();
    let expected = [
        ("BQ", "411", cents(card), 0),
        ("BQ", "512", 0, cents(card)),
        ("CA", "411", cents(cash), 0),
        ("CA", "530", 0, cents(cash)),
    ]
    .map(|(j, a, d, c)| (j.to_string(), a.to_string(), d, c));
    assert_eq!(refunds, expected, "{journal}");

    let path = shop.path(&format!(
        "/ledger/trial-balance?from_month=202611&min_position={at}"
    ));
    let trial = trial_balance(&accountant, &path).await;
    let both = cents(cash) + cents(card);
    let expected: BTreeMap<String, (i64, i64)> = [
        ("411", (both, both)),
        ("512", (cents(card), cents(card))),
        ("530", (cents(cash), cents(cash))),
    ]
    .into_iter()
    .map(|(account, sums)| (account.to_string(), sums))
    .collect();
    assert_eq!(
        trial, expected,
        "no invoice, only the payments and their refunds"
    );

    // The next morning the 18th is over: its closure lists each method's payment and refund.
    set_clock(&owner, "2026-11-19T09:00:00Z").await;
    let closed = shop
        .manager
        .post(
            &shop.path("/closures"),
            &json!({"kind": "day", "date": "2026-11-18"}),
        )
        .await
        .expect(201);
    let totals = &closed.body["totals"];
    let methods: Vec<(String, i64, i64)> = totals["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .map(|m| {
            let name = m["method"].as_str().expect("method").to_string();
            (
                name,
                value_cents(&m["received"]),
                value_cents(&m["refunded"]),
            )
        })
        .collect();
    let expected = vec![
        ("cash".to_string(), cents(cash), cents(cash)),
        ("card".to_string(), cents(card), cents(card)),
    ];
    assert_eq!(methods, expected, "{totals}");
    assert_eq!(totals["invoices"]["count"], 0, "{totals}");
    assert_eq!(value_cents(&totals["total_incl_vat"]), 0, "{totals}");
    let verified = accountant
        .get(&shop.path("/closures/verify"))
        .await
        .expect(200)
        .body;
    assert_eq!(verified["all_good"], true, "{verified}");
    assert_eq!(verified["disagreements"], json!([]), "{verified}");
}
