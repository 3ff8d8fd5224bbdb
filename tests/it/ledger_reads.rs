//! Who reads the books, the statistics and the customer export, and the general ledger over HTTP.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{home_order, photo_shop, place, return_lines, ship, value_cents, Api, PhotoShop};
use crate::cancel_refunds::month_trial_balance;
use crate::openapi::{conforms, served_document};
use crate::support::spawn_app;

/// Places a home-delivery order with the storefront key and has the manager take its payment
/// by card; returns (order id, invoice number, position of the payment).
async fn paid_order(shop: &PhotoShop, email: &str, quantity: u32) -> (String, String, u64) {
    let lines = json!([{"sku": "TIR-10x15", "quantity": quantity}]);
    let storefront = shop.as_role("storefront");
    let (order_id, total) = place(&storefront, shop, &home_order(shop, email, lines)).await;
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    let paid = shop
        .manager
        .post(&path, &json!({"method": "card", "amount": total}))
        .await
        .expect(200);
    let invoice = paid.body["invoice_number"]
        .as_str()
        .expect("invoiced")
        .to_string();
    let position = paid.body["position"].as_u64().expect("position");
    (order_id, invoice, position)
}

/// Ships the order and takes back `quantity` prints of its first line as store credit: a credit
/// note. Returns the position of the return.
async fn credited(shop: &PhotoShop, order_id: &str, quantity: u32) -> u64 {
    ship(&shop.as_role("employee"), shop, order_id).await;
    let lines = json!([{"line_number": 1, "quantity": quantity}]);
    let returned = return_lines(shop, order_id, lines, json!({"type": "store_credit"})).await;
    assert!(
        returned["issued"][0]["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("AV-")),
        "{returned}"
    );
    returned["position"].as_u64().expect("position")
}

/// The fixture's shops count days in Paris: the current month there, as its first and last days.
fn current_month() -> (NaiveDate, NaiveDate) {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let first = today.with_day(1).expect("a first day");
    let next = first.checked_add_months(Months::new(1)).expect("a month");
    (first, next.pred_opt().expect("a last day"))
}

/// Asserts `reply` is the 403 problem a role without the permission gets.
fn assert_forbidden(path: &str, reply: &crate::api::Reply) {
    assert_eq!(reply.status.as_u16(), 403, "{path}: {}", reply.raw);
    reply.expect_problem(403, "forbidden");
}

#[tokio::test]
async fn a_storefront_key_reads_neither_the_books_nor_statistics_nor_the_customer_list() {
    // Proves the audit's fix: a storefront key gets 403 problem+json on the trial balance,
    // journal, general ledger, FEC, statistics and their file exports, and the customer export,
    // while managers and accountants get 200; the storefront still reads its order's invoice,
    // JSON and printable, and employees read statistics but not the books.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (_, invoice, at) = paid_order(&shop, "zoe@example.fr", 12).await;
    let (first, last) = current_month();
    let year = first.year();
    let month = first.format("%Y%m");
    let period = format!("from={first}&to={last}&min_position={at}");
    let reads = [
        format!("/ledger/trial-balance?from_month={month}&min_position={at}"),
        format!("/ledger/journal?{period}"),
        format!("/ledger/general-ledger?{period}"),
        format!("/ledger/fec?year={year}&min_position={at}"),
        format!("/statistics?preset=current_month&min_position={at}"),
        format!("/statistics?preset=current_month&format=csv&min_position={at}"),
        format!("/statistics?preset=current_month&format=xlsx&min_position={at}"),
        format!("/statistics?preset=current_month&format=xml&min_position={at}"),
        format!("/customers/export?min_position={at}"),
        format!("/customers/export?format=xlsx&min_position={at}"),
    ];
    let storefront = shop.as_role("storefront");
    let head = shop.manager.head_position().await;
    for read in &reads {
        let path = shop.path(read);
        assert_forbidden(read, &storefront.get(&path).await);
        for role in ["manager", "accountant"] {
            let reply = shop.as_role(role).get(&path).await;
            assert_eq!(reply.status.as_u16(), 200, "{role} {read}: {}", reply.raw);
        }
    }
    // Reads append nothing.
    assert_eq!(shop.manager.head_position().await, head);

    let employee = shop.as_role("employee");
    for read in &reads[..4] {
        assert_forbidden(read, &employee.get(&shop.path(read)).await);
    }
    for read in &reads[4..] {
        employee.get(&shop.path(read)).await.expect(200);
    }
    let printer = shop.as_role("printer");
    for read in &reads {
        assert_forbidden(read, &printer.get(&shop.path(read)).await);
    }

    // What checkout and the customer space need stays open to the storefront.
    let document = format!("/invoices/{invoice}?min_position={at}");
    let read = storefront.get(&shop.path(&document)).await.expect(200);
    assert_eq!(read.body["number"], invoice.as_str(), "{}", read.raw);
    let printable = format!("/printable/invoices/{invoice}?min_position={at}");
    let html = storefront.get(&shop.path(&printable)).await.expect(200);
    assert!(html.raw.contains(&invoice), "{}", html.raw);
}

/// Checks one account of the general ledger: lines in date order (then posting order), each
/// running balance the sum so far, and totals the sums of the lines.
fn assert_account_adds_up(account: &Value) -> (String, (i64, i64)) {
    let number = account["account"].as_str().expect("account").to_string();
    let lines = account["lines"].as_array().expect("lines");
    assert!(!lines.is_empty(), "{account}");
    let (mut debit, mut credit) = (0, 0);
    let mut previous: Option<(String, u64)> = None;
    for line in lines {
        let day = line["local_date"].as_str().expect("day").to_string();
        let entry = line["entry_number"].as_u64().expect("entry number");
        if let Some((previous_day, previous_entry)) = &previous {
            assert!(
                (previous_day.as_str(), *previous_entry) <= (day.as_str(), entry),
                "{number}: lines out of date order: {account}"
            );
        }
        previous = Some((day, entry));
        debit += value_cents(&line["debit"]);
        credit += value_cents(&line["credit"]);
        assert_eq!(
            value_cents(&line["running_balance"]),
            debit - credit,
            "{number}"
        );
    }
    assert_eq!(value_cents(&account["total_debit"]), debit, "{number}");
    assert_eq!(value_cents(&account["total_credit"]), credit, "{number}");
    assert_eq!(value_cents(&account["balance"]), debit - credit, "{number}");
    (number, (debit, credit))
}

#[tokio::test]
async fn the_general_ledger_of_a_month_adds_up_to_its_trial_balance() {
    // Proves the general ledger route: after three paid orders and a credit note, every account
    // of the month has its lines in date order with running balances, totals equal to the trial
    // balance of the same month account by account, and an account filter keeps only the
    // accounts it starts; bad filters or periods answer 400 and append nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (credited_order, _, _) = paid_order(&shop, "anna@example.fr", 12).await;
    paid_order(&shop, "bruno@example.fr", 60).await;
    paid_order(&shop, "anna@example.fr", 120).await;
    let at = credited(&shop, &credited_order, 2).await;

    let (first, last) = current_month();
    let month = first.format("%Y%m").to_string();
    let accountant = shop.as_role("accountant");
    let path = format!("/ledger/general-ledger?from={first}&to={last}&min_position={at}");
    let ledger = accountant.get(&shop.path(&path)).await.expect(200).body;
    let accounts = ledger["accounts"].as_array().expect("accounts");
    let totals: BTreeMap<String, (i64, i64)> =
        accounts.iter().map(assert_account_adds_up).collect();
    let numbers: Vec<&String> = totals.keys().collect();
    let listed: Vec<&str> = accounts
        .iter()
        .map(|a| a["account"].as_str().expect("account"))
        .collect();
    assert_eq!(listed, numbers, "accounts in account order");
    for account in ["411", "512", "4191"] {
        assert!(totals.contains_key(account), "{account}: {numbers:?}");
    }
    assert_eq!(
        totals,
        month_trial_balance(&accountant, &shop, &month, at).await
    );
    let debit: i64 = totals.values().map(|(d, _)| d).sum();
    assert_eq!(value_cents(&ledger["total_debit"]), debit);
    assert_eq!(ledger["total_debit"], ledger["total_credit"], "{ledger}");
    // The customer account holds the three invoices, their payments and the credit note settled
    // as store credit: every order is paid, so 411 ends at zero.
    let customers = &accounts[listed.iter().position(|a| *a == "411").expect("411")];
    assert!(
        customers["lines"].as_array().map(Vec::len) >= Some(6),
        "{customers}"
    );
    assert_eq!(value_cents(&customers["balance"]), 0, "{customers}");

    // `until` the next month's first day is the same period as `to` its last day.
    let next = last.succ_opt().expect("a day");
    let until = format!("/ledger/general-ledger?from={first}&until={next}&min_position={at}");
    let same = accountant.get(&shop.path(&until)).await.expect(200).body;
    assert_eq!(same, ledger);

    let filtered =
        format!("/ledger/general-ledger?account=41&from={first}&to={last}&min_position={at}");
    let only = accountant.get(&shop.path(&filtered)).await.expect(200).body;
    let kept: Vec<&str> = only["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["account"].as_str().expect("account"))
        .collect();
    let expected: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|a| a.starts_with("41"))
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(
        only["accounts"][0],
        accounts[listed.iter().position(|a| a.starts_with("41")).expect("41")]
    );

    // A day before any entry: an empty ledger, not an error.
    let empty = "/ledger/general-ledger?from=2000-01-01&to=2000-01-31";
    let nothing = accountant.get(&shop.path(empty)).await.expect(200).body;
    assert_eq!(nothing["accounts"], json!([]));

    let head = shop.manager.head_position().await;
    for bad in [
        format!("account=41I&from={first}&to={last}"),
        format!("account=&from={first}&to={last}"),
        format!("account=12345678901&from={first}&to={last}"),
        format!("from={first}"),
        format!("from=yesterday&to={last}"),
        format!("from={first}&to={last}&until={next}"),
    ] {
        accountant
            .get(&shop.path(&format!("/ledger/general-ledger?{bad}")))
            .await
            .expect_problem(400, "invalid-request");
    }
    assert_eq!(shop.manager.head_position().await, head);
}

#[tokio::test]
async fn a_storefront_reads_one_document_by_number_but_neither_lists_nor_bundles() {
    // Proves least privilege on documents: a storefront key gets 403 problem+json on every
    // document list and every zip bundle, and appends nothing, while it still reads its order's
    // invoice by number, JSON and printable (HTML and PDF); managers, employees and accountants
    // list them all and download the bundles.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (order_id, invoice, _) = paid_order(&shop, "zoe@example.fr", 12).await;
    let at = credited(&shop, &order_id, 2).await;
    let kinds = [
        "invoices",
        "credit-notes",
        "delivery-slips",
        "quotes",
        "purchase-orders",
    ];
    let period = crate::reports::period_around_now();
    let lists: Vec<String> = kinds
        .iter()
        .map(|kind| format!("/{kind}?min_position={at}"))
        .collect();
    let bundles: Vec<String> = kinds
        .iter()
        .map(|kind| format!("/printable/{kind}.zip?{period}&format=html&min_position={at}"))
        .collect();
    let storefront = shop.as_role("storefront");
    let head = shop.manager.head_position().await;
    for read in lists.iter().chain(&bundles) {
        assert_forbidden(read, &storefront.get(&shop.path(read)).await);
        assert_forbidden(read, &shop.as_role("printer").get(&shop.path(read)).await);
        for role in ["manager", "employee", "accountant"] {
            let reply = shop.as_role(role).get(&shop.path(read)).await;
            assert_eq!(reply.status.as_u16(), 200, "{role} {read}: {}", reply.raw);
        }
    }
    assert_eq!(shop.manager.head_position().await, head);

    // The lists a staff member sees do hold the documents the storefront cannot enumerate.
    let accountant = shop.as_role("accountant");
    for (kind, prefix) in [("invoices", "FA-"), ("credit-notes", "AV-")] {
        let listed = accountant
            .get(&shop.path(&format!("/{kind}?min_position={at}")))
            .await
            .expect(200);
        let items = listed.body["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{kind}: {}", listed.raw);
        let number = items[0]["number"].as_str().expect("number");
        assert!(number.starts_with(prefix), "{number}");
    }

    // One document by number stays the storefront's, JSON and printable.
    let document = format!("/invoices/{invoice}?min_position={at}");
    let read = storefront.get(&shop.path(&document)).await.expect(200);
    assert_eq!(read.body["number"], invoice.as_str(), "{}", read.raw);
    let printable = format!("/printable/invoices/{invoice}?min_position={at}");
    let html = storefront.get(&shop.path(&printable)).await.expect(200);
    assert!(html.raw.contains(&invoice), "{}", html.raw);
    let pdf = storefront
        .get(&shop.path(&format!("{printable}&format=pdf")))
        .await
        .expect(200);
    assert!(pdf.raw.starts_with("%PDF"), "not a PDF");
}

/// Three paid orders, the second partly credited as store credit: invoices, card payments and
/// a credit note in the current month. Returns the position of the last write.
async fn three_orders_one_credited(shop: &PhotoShop) -> u64 {
    let mut at = 0;
    for (n, email) in ["ana@example.fr", "bob@example.fr", "cem@example.fr"]
        .iter()
        .enumerate()
    {
        let (order_id, _, paid_at) = paid_order(shop, email, 10 + n as u32).await;
        at = paid_at;
        if n == 1 {
            at = credited(shop, &order_id, 2).await;
        }
    }
    at
}

/// The entry numbers of a journal answer.
fn entry_numbers(journal: &Value) -> Vec<u64> {
    journal["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["entry_number"].as_u64().expect("entry number"))
        .collect()
}

#[tokio::test]
async fn the_journal_read_page_by_page_is_the_journal_read_at_once() {
    // Proves journal paging: pages of 2 entries, each cursor followed, give exactly the entries
    // of the one-answer journal in the same order, the last page has no cursor, the one-answer
    // journal has none either, and a forged cursor or a negative limit is refused as bad input.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let at = three_orders_one_credited(&shop).await;
    let (first, last) = current_month();
    let period = format!("from={first}&to={last}&min_position={at}");
    let accountant = shop.as_role("accountant");
    let whole = accountant
        .get(&shop.path(&format!("/ledger/journal?{period}")))
        .await
        .expect(200)
        .body;
    assert_eq!(whole["next_cursor"], Value::Null, "{whole}");
    let expected = entry_numbers(&whole);
    assert!(expected.len() >= 5, "{whole}");

    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..=expected.len() {
        let cursor = after
            .as_ref()
            .map_or(String::new(), |c| format!("&after={c}"));
        let path = format!("/ledger/journal?{period}&limit=2{cursor}");
        let page = accountant.get(&shop.path(&path)).await.expect(200).body;
        let numbers = entry_numbers(&page);
        assert!(numbers.len() <= 2, "{page}");
        paged.extend(numbers);
        match page["next_cursor"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, expected);

    for bad in ["&after=not-a-cursor", "&limit=-1"] {
        let path = format!("/ledger/journal?{period}{bad}");
        let reply = accountant.get(&shop.path(&path)).await;
        let status = reply.status.as_u16();
        assert!(status == 400 || status == 422, "{bad}: {}", reply.raw);
    }
}

/// Reads the general ledger at `path` page by page with `limit`, following each cursor, and
/// joins the parts of each account: the first part's opening balance, every part's lines, the
/// last part's totals. Checks on the way that each part opens at the balance the account's
/// previous part closed at, and that a page holds at most `limit` lines (one posting per
/// entry and account here). Returns the joined ledger in the one-answer shape.
async fn general_ledger_by_pages(api: &Api, path: &str, limit: usize) -> Value {
    let mut accounts: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    let mut last = Value::Null;
    for _ in 0..1_000 {
        let cursor = after
            .as_ref()
            .map_or(String::new(), |c| format!("&after={c}"));
        let page = api
            .get(&format!("{path}&limit={limit}{cursor}"))
            .await
            .expect(200)
            .body;
        let mut lines_on_page = 0;
        for part in page["accounts"].as_array().expect("accounts") {
            let lines = part["lines"].as_array().expect("lines");
            lines_on_page += lines.len();
            let opening = value_cents(&part["opening_balance"]);
            let mut balance = opening;
            for line in lines {
                balance += value_cents(&line["debit"]) - value_cents(&line["credit"]);
                assert_eq!(value_cents(&line["running_balance"]), balance, "{part}");
            }
            assert_eq!(value_cents(&part["balance"]), balance, "{part}");
            match accounts.last_mut() {
                Some(joined) if joined["account"] == part["account"] => {
                    assert_eq!(value_cents(&joined["balance"]), opening, "{part}");
                    let joined_lines = joined["lines"].as_array_mut().expect("lines");
                    joined_lines.extend(lines.iter().cloned());
                    for total in ["total_debit", "total_credit", "balance"] {
                        joined[total] = part[total].clone();
                    }
                }
                _ => {
                    assert_eq!(opening, 0, "an account's first part opens at zero: {part}");
                    accounts.push(part.clone());
                }
            }
        }
        assert!(lines_on_page <= limit, "{page}");
        last = page.clone();
        match page["next_cursor"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(last["next_cursor"], Value::Null, "the pages end");
    json!({
        "accounts": accounts,
        "total_debit": last["total_debit"],
        "total_credit": last["total_credit"],
        "next_cursor": Value::Null,
    })
}

#[tokio::test]
async fn the_general_ledger_read_page_by_page_is_the_general_ledger_read_at_once() {
    // Proves general ledger paging: with pages of 1, 2 and 5 lines, each cursor followed, the
    // accounts' parts joined give exactly the one-answer general ledger (lines, running and
    // opening balances, totals), whose accounts' totals are the trial balance the test reads
    // and whose lines add up; an account filter pages the same way; a journal cursor, a
    // forged cursor or one naming an account outside the filter is refused as bad input and
    // appends nothing.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let at = three_orders_one_credited(&shop).await;
    let (first, last) = current_month();
    let month = first.format("%Y%m").to_string();
    let accountant = shop.as_role("accountant");
    let period = format!("from={first}&to={last}&min_position={at}");
    let path = shop.path(&format!("/ledger/general-ledger?{period}"));
    let whole = accountant.get(&path).await.expect(200).body;
    assert_eq!(whole["next_cursor"], Value::Null, "{whole}");
    let accounts = whole["accounts"].as_array().expect("accounts");
    let totals: BTreeMap<String, (i64, i64)> =
        accounts.iter().map(assert_account_adds_up).collect();
    assert_eq!(
        totals,
        month_trial_balance(&accountant, &shop, &month, at).await
    );
    let lines: usize = accounts
        .iter()
        .map(|a| a["lines"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(lines > 10, "enough lines to span pages: {whole}");
    for limit in [1, 2, 5] {
        let paged = general_ledger_by_pages(&accountant, &path, limit).await;
        assert_eq!(paged, whole, "pages of {limit}");
    }
    // A page and the whole answer are the shape the served OpenAPI document declares.
    let document = served_document(&Api::owner(&app)).await;
    let template = "/v1/shops/{shop_id}/ledger/general-ledger";
    let page = accountant.get(&format!("{path}&limit=2")).await.expect(200);
    assert!(page.body["next_cursor"].is_string(), "{}", page.raw);
    conforms(&document, Method::GET, template, &page);
    let at_once = accountant.get(&path).await.expect(200);
    conforms(&document, Method::GET, template, &at_once);

    let filtered = shop.path(&format!("/ledger/general-ledger?account=41&{period}"));
    let customers = accountant.get(&filtered).await.expect(200).body;
    assert!(
        customers["accounts"].as_array().map(Vec::len) >= Some(2),
        "{customers}"
    );
    assert_eq!(
        general_ledger_by_pages(&accountant, &filtered, 2).await,
        customers
    );

    let head = shop.manager.head_position().await;
    let journal_cursor = accountant
        .get(&shop.path(&format!("/ledger/journal?{period}&limit=1")))
        .await
        .expect(200)
        .body["next_cursor"]
        .as_str()
        .expect("a journal cursor")
        .to_string();
    // A cursor of the unfiltered ledger handed out once a page reached 512 names 512 or a later
    // account, none of them under 41: the filtered query must refuse it.
    let mut outside = None;
    let mut after = String::new();
    for _ in 0..lines {
        let page = accountant
            .get(&format!("{path}&limit=1{after}"))
            .await
            .expect(200)
            .body;
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        after = format!("&after={cursor}");
        let last_account = page["accounts"]
            .as_array()
            .and_then(|a| a.last())
            .and_then(|a| a["account"].as_str())
            .unwrap_or_default();
        if last_account.starts_with('5') {
            outside = Some(cursor.to_string());
            break;
        }
    }
    let outside = outside.expect("a cursor within a 5xx account");
    for bad in [
        format!("{path}&after={journal_cursor}"),
        format!("{path}&after=47zz"),
        format!("{path}&after=4700"),
        format!("{filtered}&after={outside}"),
    ] {
        accountant
            .get(&bad)
            .await
            .expect_problem(400, "invalid-request");
    }
    assert_eq!(shop.manager.head_position().await, head);
}
