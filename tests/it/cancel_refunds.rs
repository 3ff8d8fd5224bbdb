//! A partly paid order cancelled over HTTP: its payments go back the way they came in, in the
//! ledger (cash from 530, card from 512, store credit to the customer's 4191) and in the day's
//! NF525 closure (refunds per method); store credit is spendable again, note by note.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::api::{
    cents, home_order, place, set_clock, ship_and_return_as_store_credit, value_cents, Api,
    PhotoShop,
};
use crate::customer_space::{claire, position};
use crate::fiscal_year::shop_on_clock;

/// The trial balance of `month` (YYYYMM) once `at` is projected, as account → (debit, credit)
/// in cents, checked to balance.
pub(crate) async fn month_trial_balance(
    api: &Api,
    shop: &PhotoShop,
    month: &str,
    at: u64,
) -> BTreeMap<String, (i64, i64)> {
    let path = format!("/ledger/trial-balance?from_month={month}&min_position={at}");
    let trial = api.get(&shop.path(&path)).await.expect(200).body;
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

/// The journal of the local day `day` (`YYYY-MM-DD`) once `at` is projected.
async fn journal_of_day(api: &Api, shop: &PhotoShop, day: &str, at: u64) -> Value {
    let path = format!("/ledger/journal?from={day}&to={day}&min_position={at}");
    api.get(&shop.path(&path)).await.expect(200).body
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
    let (_dir, _app, owner, shop) =
        shop_on_clock("2026-11-18T09:00:00Z", "Studio Annulation", None).await;
    let lines = json!([{"sku": "TIR-10x15", "quantity": 40}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let body = home_order(&shop, "claire.martin@example.fr", lines);
    let (order_id, total) = place(&shop.manager, &shop, &body).await;
    let (cash, card) = ("10.00", "5.50");
    assert!(
        cents(cash) + cents(card) < cents(&total),
        "only partly paid"
    );
    for (method, amount) in [("cash", cash), ("card", card)] {
        pay(&shop, &order_id, method, amount).await;
    }
    let at = cancel(&shop, &order_id, "Client a changé d'avis").await;
    let order = shop
        .manager
        .get(&shop.path(&format!("/orders/{order_id}?min_position={at}")))
        .await
        .expect(200)
        .body;
    assert_eq!(order["status"], "cancelled", "{order}");
    assert_eq!(value_cents(&order["refund_due"]), cents(cash) + cents(card));
    // The counter reads what to give back by method on the order itself.
    let mut refunds: Vec<(String, i64)> = order["refunds"]
        .as_array()
        .expect("refunds")
        .iter()
        .map(|row| {
            (
                row["method"].as_str().expect("method").to_owned(),
                value_cents(&row["amount"]),
            )
        })
        .collect();
    refunds.sort();
    let wanted = vec![
        ("card".to_owned(), cents(card)),
        ("cash".to_owned(), cents(cash)),
    ];
    assert_eq!(refunds, wanted, "{order}");

    let accountant = shop.as_role("accountant");
    let journal = journal_of_day(&accountant, &shop, "2026-11-18", at).await;
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

    let trial = month_trial_balance(&accountant, &shop, "202611", at).await;
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

/// An order of Claire's account (home delivery) for `lines`; returns (order id, total).
async fn claires_order(shop: &PhotoShop, customer_id: &str, lines: Value) -> (String, String) {
    let mut body = home_order(shop, "claire.martin@example.fr", lines);
    body["customer"]["customer_id"] = json!(customer_id);
    place(&shop.manager, shop, &body).await
}

/// Pays `amount` of the order with `method`; returns the write's position.
async fn pay(shop: &PhotoShop, order_id: &str, method: &str, amount: &str) -> u64 {
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    let body = json!({"method": method, "amount": amount});
    position(&shop.manager.post(&path, &body).await.expect(200).body)
}

/// Cancels `order_id` for `reason` as the manager; returns the position of the cancellation.
async fn cancel(shop: &PhotoShop, order_id: &str, reason: &str) -> u64 {
    let path = shop.path(&format!("/orders/{order_id}/cancel"));
    let body = json!({ "reason": reason });
    position(&shop.manager.post(&path, &body).await.expect(200).body)
}

/// The account's store credit as `GET /customers/{id}` shows it once `at` is read.
async fn store_credit_at(shop: &PhotoShop, customer_id: &str, at: u64) -> Value {
    let path = shop.path(&format!("/customers/{customer_id}?min_position={at}"));
    shop.manager.get(&path).await.expect(200).body["store_credit"].clone()
}

/// A first order paid by card, shipped, and its guide returned as store credit: the credit
/// note's number and the credit it granted, in cents.
async fn credit_note_as_store_credit(shop: &PhotoShop, customer_id: &str) -> (String, i64) {
    let lines = json!([{"sku": "TIR-10x15", "quantity": 10}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let (order_id, total) = claires_order(shop, customer_id, lines).await;
    pay(shop, &order_id, "card", &total).await;
    let lines = json!([{"line_number": 2, "quantity": 1}]);
    let returned = ship_and_return_as_store_credit(shop, &order_id, lines).await;
    (returned.number, cents(&returned.credited))
}

/// The store credit shows `available` cents spendable and its one note `used` cents used, with
/// a used mark exactly when nothing of it is left.
#[track_caller]
fn assert_one_note(store_credit: &Value, number: &str, available: i64, used: i64) {
    assert_eq!(
        value_cents(&store_credit["available"]),
        available,
        "{store_credit}"
    );
    assert_eq!(value_cents(&store_credit["used"]), used, "{store_credit}");
    let note = &store_credit["credit_notes"][0];
    assert_eq!(note["credit_note_number"], number, "{store_credit}");
    assert_eq!(value_cents(&note["remaining"]), available, "{store_credit}");
    assert_eq!(
        note["used_at"].is_string(),
        available == 0,
        "{store_credit}"
    );
}

/// The customer's 4191 in the period's journal, as credit − debit in cents; every 4191 posting
/// must name one auxiliary account, the customer's.
fn customer_credit_in_journal(journal: &Value) -> i64 {
    let mut aux_accounts = std::collections::BTreeSet::new();
    let mut balance = 0;
    for entry in journal["entries"].as_array().expect("entries") {
        for posting in entry["postings"].as_array().expect("postings") {
            if posting["account"] == "4191" {
                aux_accounts.insert(posting["aux_account"].to_string());
                balance += value_cents(&posting["credit"]) - value_cents(&posting["debit"]);
            }
        }
    }
    assert_eq!(aux_accounts.len(), 1, "one customer's 4191: {journal}");
    balance
}

#[tokio::test]
async fn a_cancelled_order_gives_its_store_credit_back_spendable_again() {
    // Proves an order paid partly with a whole credit note's store credit and partly in cash,
    // once cancelled, gives the credit back in the same append: the account's balance and the
    // note are whole again and no longer marked used (account, customer space, credit note),
    // the customer's 4191 equals that balance in a balanced ledger, a retried or repeated
    // cancellation appends nothing, and the credit pays a new order.
    let (_dir, _app, _owner, shop) =
        shop_on_clock("2026-11-18T09:00:00Z", "Studio Avoir", None).await;
    let (customer_id, _) = claire(&shop).await;
    let (number, granted) = credit_note_as_store_credit(&shop, &customer_id).await;
    assert!(granted > 0);

    let lines = json!([{"sku": "TIR-10x15", "quantity": 40}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let (order_id, total) = claires_order(&shop, &customer_id, lines).await;
    let cash = "1.00";
    assert!(granted + cents(cash) < cents(&total), "only partly paid");
    let granted_euros = format!("{}.{:02}", granted / 100, granted % 100);
    pay(&shop, &order_id, "store_credit", &granted_euros).await;
    let paid_at = pay(&shop, &order_id, "cash", cash).await;
    assert_one_note(
        &store_credit_at(&shop, &customer_id, paid_at).await,
        &number,
        0,
        granted,
    );

    let cancel = shop.path(&format!("/orders/{order_id}/cancel"));
    let reason = json!({"reason": "Client a changé d'avis"});
    let cancelled = shop
        .manager
        .post_with_key(&cancel, &reason, "cancel-avoir")
        .await
        .expect(200);
    let at = position(&cancelled.body);
    let store_credit = store_credit_at(&shop, &customer_id, at).await;
    assert_one_note(&store_credit, &number, granted, 0);
    let path = format!("/customers/{customer_id}/space?min_position={at}");
    let space = shop.manager.get(&shop.path(&path)).await.expect(200).body;
    assert_eq!(space["store_credit"], store_credit, "{space}");
    let listed: Vec<&Value> = space["credit_notes"]
        .as_array()
        .expect("credit notes")
        .iter()
        .filter(|note| note["number"] == number.as_str())
        .collect();
    assert_eq!(listed.len(), 1, "{space}");
    assert!(listed[0]["used_at"].is_null(), "{space}");
    assert_eq!(
        value_cents(&listed[0]["store_credit"]["remaining"]),
        granted
    );
    let accountant = shop.as_role("accountant");
    let note_path = format!("/credit-notes/{number}?min_position={at}");
    let note = accountant
        .get(&shop.path(&note_path))
        .await
        .expect(200)
        .body;
    assert!(note["used_at"].is_null(), "{note}");

    let journal = journal_of_day(&accountant, &shop, "2026-11-18", at).await;
    assert_eq!(customer_credit_in_journal(&journal), granted, "{journal}");
    let trial = month_trial_balance(&accountant, &shop, "202611", at).await;
    let (debit, credit) = trial["4191"];
    assert_eq!(credit - debit, granted, "{trial:?}");

    // The same request again, then a new one: the order is cancelled already, nothing appended.
    let head = shop.manager.head_position().await;
    shop.manager
        .post_with_key(&cancel, &reason, "cancel-avoir")
        .await
        .expect(200);
    shop.manager
        .post_with_key(&cancel, &reason, "cancel-avoir-2")
        .await
        .expect(200);
    assert_eq!(shop.manager.head_position().await, head, "nothing appended");

    // The credit pays a new order, taken from the same note.
    let lines = json!([{"sku": "TIR-10x15", "quantity": 40}]);
    let (next_id, _) = claires_order(&shop, &customer_id, lines).await;
    let spent_at = pay(&shop, &next_id, "store_credit", &granted_euros).await;
    let store_credit = store_credit_at(&shop, &customer_id, spent_at).await;
    assert_one_note(&store_credit, &number, 0, granted);
}

/// A guest order (naming no account) for `lines` with `email`; returns (order id, total).
async fn guest_order(shop: &PhotoShop, email: &str, lines: Value) -> (String, String) {
    place(&shop.manager, shop, &home_order(shop, email, lines)).await
}

#[tokio::test]
async fn a_guest_order_cancelled_after_its_email_was_claimed_restores_where_it_spent() {
    // Proves a guest order that spent its email's store credit, cancelled after an account
    // claimed the email (so the order now follows the account), gives the credit back to the
    // store credit it was spent from, in the cancellation's append, instead of being refused.
    let (_dir, _app, _owner, shop) =
        shop_on_clock("2026-11-18T09:00:00Z", "Studio Invité", None).await;
    let email = "invite@example.fr";
    let lines = json!([{"sku": "TIR-10x15", "quantity": 10}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let (first_id, first_total) = guest_order(&shop, email, lines.clone()).await;
    pay(&shop, &first_id, "card", &first_total).await;
    let lines_back = json!([{"line_number": 2, "quantity": 1}]);
    let credited = ship_and_return_as_store_credit(&shop, &first_id, lines_back)
        .await
        .credited;
    let (order_id, total) = guest_order(&shop, email, lines).await;
    assert!(
        cents(&credited) + cents("1.00") < cents(&total),
        "only partly paid"
    );
    pay(&shop, &order_id, "store_credit", &credited).await;
    pay(&shop, &order_id, "cash", "1.00").await;

    // Claire's account moves to the guest's email: the guest orders follow it from now on.
    let (customer_id, registered_at) = claire(&shop).await;
    let account = shop.path(&format!("/customers/{customer_id}"));
    let read_at = format!("{account}?min_position={registered_at}");
    let etag = shop.manager.get(&read_at).await.expect(200).etag;
    let moved = json!({"email": email, "first_name": "Claire", "last_name": "Martin"});
    shop.manager
        .put(&account, &moved, Some(&etag), None)
        .await
        .expect(200);

    let at = cancel(&shop, &order_id, "Doublon").await;
    let page = shop
        .manager
        .get(&shop.path("/events?after=0&limit=500"))
        .await
        .expect(200)
        .body;
    let events = page["events"].as_array().expect("events");
    let stream_of = |event_type: &str| -> Vec<(String, u64)> {
        events
            .iter()
            .filter(|e| e["event_type"] == event_type && e["data"].to_string().contains(&order_id))
            .map(|e| {
                let stream = e["stream"].as_str().expect("stream").to_string();
                (stream, e["position"].as_u64().expect("position"))
            })
            .collect()
    };
    let spent = stream_of("StoreCreditSpent");
    let restored = stream_of("StoreCreditRestored");
    assert_eq!(spent.len(), 1, "{page}");
    assert_eq!(restored.len(), 1, "{page}");
    assert_eq!(
        restored[0].0, spent[0].0,
        "restored where it was spent: {page}"
    );
    assert!(!restored[0].0.ends_with(&customer_id), "{page}");
    assert_eq!(
        restored[0].1,
        at - 1,
        "in the cancellation's append, then the used-up note's CreditNoteUseReverted"
    );
}
