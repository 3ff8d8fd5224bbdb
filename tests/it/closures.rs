//! NF525 periodic closures over HTTP: days then the month of a shop with two VAT rates, a
//! refunded return and payments by two methods, on the test clock.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{
    home_order, photo_shop, place, return_lines, set_clock, ship, Api, PhotoShop, Reply,
};
use crate::fiscal_year::{change_closing_day, shop_on_clock};
use crate::openapi::{conforms, served_document};
use crate::reports::fec_file;
use crate::support::{spawn_app_with_test_clock, TestApp};

/// An amount as the API writes it ("4.40", "-12", "5.5") in hundredths, so sums are exact.
fn cents(amount: &Value) -> i64 {
    let text = amount
        .as_str()
        .unwrap_or_else(|| panic!("not an amount: {amount}"));
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => (-1, digits),
        None => (1, text),
    };
    let (units, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    assert!(fraction.len() <= 2, "not a cent amount: {text}");
    let units: i64 = units.parse().expect("units");
    let fraction: i64 = format!("{fraction:0<2}").parse().expect("cents");
    sign * (units * 100 + fraction)
}

/// What the test expects of a period, summed here from the documents and payments it made.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expected {
    /// VAT rate (as written, e.g. "5.5") → (net, VAT, gross) in cents, invoices less credit notes.
    per_rate: BTreeMap<String, (i64, i64, i64)>,
    gross: i64,
    invoices: Vec<String>,
    credit_notes: Vec<String>,
    /// method → (received, refunded) in cents.
    payments: BTreeMap<String, (i64, i64)>,
}

impl Expected {
    fn add_document(&mut self, document: &Value, sign: i64) {
        for rate in document["totals"]["vat_breakdown"]
            .as_array()
            .expect("breakdown")
        {
            let name = rate["vat_rate"].as_str().expect("rate").to_string();
            let entry = self.per_rate.entry(name).or_default();
            entry.0 += sign * cents(&rate["base_excl_vat"]);
            entry.1 += sign * cents(&rate["vat_amount"]);
            entry.2 += sign * cents(&rate["total_incl_vat"]);
        }
        self.gross += sign * cents(&document["totals"]["total_incl_vat"]);
        let number = document["number"].as_str().expect("number").to_string();
        if sign > 0 {
            self.invoices.push(number);
        } else {
            self.credit_notes.push(number);
        }
    }

    fn add_payment(&mut self, method: &str, amount: &str) {
        self.payments.entry(method.to_string()).or_default().0 += cents(&json!(amount));
    }

    fn add_refund(&mut self, method: &str, amount: &Value) {
        self.payments.entry(method.to_string()).or_default().1 += cents(amount);
    }

    fn absorb(&mut self, later: &Expected) {
        for (rate, (net, vat, gross)) in &later.per_rate {
            let entry = self.per_rate.entry(rate.clone()).or_default();
            entry.0 += net;
            entry.1 += vat;
            entry.2 += gross;
        }
        self.gross += later.gross;
        self.invoices.extend(later.invoices.iter().cloned());
        self.credit_notes.extend(later.credit_notes.iter().cloned());
        for (method, (received, refunded)) in &later.payments {
            let entry = self.payments.entry(method.clone()).or_default();
            entry.0 += received;
            entry.1 += refunded;
        }
    }

    /// Asserts a closure's totals are these figures.
    #[track_caller]
    fn assert_matches(&self, totals: &Value) {
        let per_rate: BTreeMap<String, (i64, i64, i64)> = totals["vat"]
            .as_array()
            .expect("vat")
            .iter()
            .map(|rate| {
                let name = rate["vat_rate"].as_str().expect("rate").to_string();
                let figures = (
                    cents(&rate["total_excl_vat"]),
                    cents(&rate["total_vat"]),
                    cents(&rate["total_incl_vat"]),
                );
                (name, figures)
            })
            .collect();
        assert_eq!(per_rate, self.per_rate, "{totals}");
        let net: i64 = self.per_rate.values().map(|r| r.0).sum();
        let vat: i64 = self.per_rate.values().map(|r| r.1).sum();
        assert_eq!(cents(&totals["total_excl_vat"]), net, "{totals}");
        assert_eq!(cents(&totals["total_vat"]), vat, "{totals}");
        assert_eq!(cents(&totals["total_incl_vat"]), self.gross, "{totals}");
        assert_eq!(net + vat, self.gross, "the test's own figures add up");
        for (tally, numbers) in [
            (&totals["invoices"], &self.invoices),
            (&totals["credit_notes"], &self.credit_notes),
        ] {
            assert_eq!(tally["count"], numbers.len(), "{totals}");
            assert_eq!(tally["first"].as_str(), numbers.first().map(String::as_str));
            assert_eq!(tally["last"].as_str(), numbers.last().map(String::as_str));
        }
        let payments: BTreeMap<String, (i64, i64)> = totals["payments"]
            .as_array()
            .expect("payments")
            .iter()
            .map(|method| {
                let name = method["method"].as_str().expect("method").to_string();
                (
                    name,
                    (cents(&method["received"]), cents(&method["refunded"])),
                )
            })
            .collect();
        assert_eq!(payments, self.payments, "{totals}");
    }
}

async fn pay(shop: &PhotoShop, order_id: &str, method: &str, amount: &str) -> Reply {
    shop.manager
        .post(
            &shop.path(&format!("/orders/{order_id}/payments")),
            &json!({"method": method, "amount": amount}),
        )
        .await
        .expect(200)
}

/// The invoice or credit note `number` as the read models hold it.
async fn document(shop: &PhotoShop, kind: &str, number: &str, position: u64) -> Value {
    shop.manager
        .get(&shop.path(&format!("/{kind}/{number}?min_position={position}")))
        .await
        .expect(200)
        .body
}

/// Places an order of `lines` and pays it with `payments` (method, share of the total in
/// hundredths, the last one taking the rest); returns the order id and its invoice.
async fn sell(
    shop: &PhotoShop,
    expected: &mut Expected,
    lines: Value,
    methods: &[&str],
) -> (String, Value) {
    let body = home_order(shop, "claire.martin@example.fr", lines);
    let (order_id, total) = place(&shop.manager, shop, &body).await;
    let total_cents = cents(&json!(total));
    let mut paid = 0;
    let mut reply = None;
    for (index, method) in methods.iter().enumerate() {
        let share = if index + 1 == methods.len() {
            total_cents - paid
        } else {
            total_cents / 2
        };
        paid += share;
        let amount = format!("{}.{:02}", share / 100, share % 100);
        expected.add_payment(method, &amount);
        reply = Some(pay(shop, &order_id, method, &amount).await);
    }
    let reply = reply.expect("a payment");
    let number = reply.id("invoice_number");
    let position = reply.body["position"].as_u64().expect("position");
    let invoice = document(shop, "invoices", &number, position).await;
    expected.add_document(&invoice, 1);
    (order_id, invoice)
}

/// A server on the test clock, set to 18 November 2026 at 10:00 in Paris, and a photo shop on it.
async fn shop_on_18_november(name: &str) -> (tempfile::TempDir, TestApp, Api, PhotoShop) {
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-11-18T09:00:00Z").await;
    let shop = photo_shop(&app, name).await;
    (dir, app, owner, shop)
}

/// `closures/verify` read by `api`, which must find everything good (`all_good`) or not.
async fn verification(api: &Api, shop: &PhotoShop, all_good: bool) -> Reply {
    let verified = api.get(&shop.path("/closures/verify")).await.expect(200);
    assert_eq!(verified.body["all_good"], all_good, "{}", verified.raw);
    verified
}

async fn close(shop: &PhotoShop, kind: &str, date: &str) -> Reply {
    shop.manager
        .post(
            &shop.path("/closures"),
            &json!({"kind": kind, "date": date}),
        )
        .await
}

#[tokio::test]
async fn days_then_their_month_close_with_exact_chained_totals_and_verify_clean() {
    // Proves a day closes only once over and after every earlier active day, never twice; each
    // day's totals per VAT rate, documents and payment methods are the sums computed here from
    // the documents; the month needs its days, is their sum, and the perpetual totals and hashes
    // chain; reads and the verification agree; refusals append nothing.
    let (_dir, _app, owner, shop) = shop_on_18_november("Studio Clôture").await;

    // 18 November: prints (20 %) and a guide (5.5 %), paid by card.
    let mut day_18 = Expected::default();
    let lines = json!([{"sku": "TIR-10x15", "quantity": 30}, {"sku": "GUIDE-LYON", "quantity": 1}]);
    let (first_order, _) = sell(&shop, &mut day_18, lines, &["card"]).await;

    // 19 November, 23:30 in Paris (22:30 UTC): two guides paid half in cash, half by card; the
    // 18th's prints are returned and refunded in cash.
    set_clock(&owner, "2026-11-19T22:30:00Z").await;
    let mut day_19 = Expected::default();
    let lines = json!([{"sku": "GUIDE-LYON", "quantity": 2}]);
    sell(&shop, &mut day_19, lines, &["cash", "card"]).await;
    ship(&shop.manager, &shop, &first_order).await;
    let lines = json!([{"line_number": 1, "quantity": 10}]);
    let settlement = json!({"type": "refund", "method": "cash"});
    let returned = return_lines(&shop, &first_order, lines, settlement).await;
    let number = returned["issued"][0]["number"]
        .as_str()
        .expect("credit note");
    let position = returned["position"].as_u64().expect("position");
    let credit_note = document(&shop, "credit-notes", number, position).await;
    day_19.add_document(&credit_note, -1);
    day_19.add_refund("cash", &credit_note["totals"]["total_incl_vat"]);

    // 20 November: a mug paid by card.
    set_clock(&owner, "2026-11-20T10:00:00Z").await;
    let mut day_20 = Expected::default();
    let lines = json!([{"sku": "MUG-BLANC", "quantity": 1}]);
    sell(&shop, &mut day_20, lines, &["card"]).await;

    // 1 December, 10:00 in Paris.
    set_clock(&owner, "2026-12-01T09:00:00Z").await;
    let head = owner.head_position().await;
    close(&shop, "day", "2026-11-19")
        .await
        .expect_problem(422, "earlier-period-unclosed");
    close(&shop, "day", "2026-12-01")
        .await
        .expect_problem(422, "period-not-over");
    close(&shop, "month", "2026-11")
        .await
        .expect_problem(422, "sub-periods-unclosed");
    close(&shop, "month", "2026-12")
        .await
        .expect_problem(422, "period-not-over");
    close(&shop, "week", "2026-11-19")
        .await
        .expect_problem(400, "invalid-request");
    close(&shop, "day", "2026-11-31")
        .await
        .expect_problem(422, "validation");
    shop.as_role("accountant")
        .post(
            &shop.path("/closures"),
            &json!({"kind": "day", "date": "2026-11-18"}),
        )
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(
        owner.head_position().await,
        head,
        "no refusal appended an event"
    );

    // The days, in order. Two managers closing the same day at once: one closure, one 409.
    let (one, other) = tokio::join!(
        close(&shop, "day", "2026-11-18"),
        close(&shop, "day", "2026-11-18")
    );
    let (first, loser) = if one.status.as_u16() == 201 {
        (one, other)
    } else {
        (other, one)
    };
    let first = first.expect(201);
    loser.expect_problem(409, "period-closed");
    // A retry with the same key answers the same closure; without it, 409.
    let second = shop
        .manager
        .post_with_key(
            &shop.path("/closures"),
            &json!({"kind": "day", "date": "2026-11-19"}),
            "close-19",
        )
        .await
        .expect(201);
    let again = shop
        .manager
        .post_with_key(
            &shop.path("/closures"),
            &json!({"kind": "day", "date": "2026-11-19"}),
            "close-19",
        )
        .await
        .expect(201);
    assert_eq!(again.body, second.body);
    close(&shop, "day", "2026-11-19")
        .await
        .expect_problem(409, "period-closed");
    let third = close(&shop, "day", "2026-11-20").await.expect(201);
    let days = [(&first, &day_18), (&second, &day_19), (&third, &day_20)];
    let mut perpetual = 0;
    let mut previous_hash = Value::Null;
    for (sequence, (closure, expected)) in days.iter().enumerate() {
        let body = &closure.body;
        expected.assert_matches(&body["totals"]);
        perpetual += expected.gross;
        assert_eq!(body["sequence"], sequence as u64 + 1);
        assert_eq!(cents(&body["perpetual_total_incl_vat"]), perpetual);
        assert_eq!(body["previous_hash"], previous_hash);
        assert_eq!(body["time_zone"], "Europe/Paris");
        assert_eq!(body["hash"].as_str().map(str::len), Some(64));
        previous_hash = body["hash"].clone();
    }
    assert_eq!(day_19.credit_notes.len(), 1, "a credit note on the 19th");
    assert_eq!(day_19.payments.len(), 2, "two methods on the 19th");
    assert_eq!(day_18.per_rate.len(), 2, "two VAT rates on the 18th");

    // The month: the sum of its days, computed here independently.
    let month = close(&shop, "month", "2026-11").await.expect(201);
    let mut november = day_18.clone();
    november.absorb(&day_19);
    november.absorb(&day_20);
    november.assert_matches(&month.body["totals"]);
    assert_eq!(month.body["sequence"], 1);
    assert_eq!(month.body["previous_hash"], Value::Null);
    assert_eq!(cents(&month.body["perpetual_total_incl_vat"]), perpetual);
    assert_eq!(month.body["totals"]["invoices"]["count"], 3);
    close(&shop, "month", "2026-11")
        .await
        .expect_problem(409, "period-closed");
    close(&shop, "day", "2026-11-25")
        .await
        .expect_problem(409, "period-closed");

    // Reads, for the accountant too; other roles read nothing.
    let accountant = shop.as_role("accountant");
    let position = month.body["position"].as_u64().expect("position");
    let listed = accountant
        .get(&shop.path(&format!("/closures?kind=day&min_position={position}")))
        .await
        .expect(200);
    let labels: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["label"].as_str())
        .collect();
    assert_eq!(labels, ["2026-11-18", "2026-11-19", "2026-11-20"]);
    let paged = accountant
        .get(&shop.path("/closures?kind=day&from=2026-11-19&limit=1"))
        .await
        .expect(200);
    assert_eq!(paged.body["items"][0]["label"], "2026-11-19");
    let cursor = paged.body["next_cursor"].as_str().expect("a next page");
    let next = accountant
        .get(&shop.path(&format!(
            "/closures?kind=day&from=2026-11-19&limit=1&after={cursor}"
        )))
        .await
        .expect(200);
    assert_eq!(next.body["items"][0]["label"], "2026-11-20");
    let one = accountant
        .get(&shop.path("/closures/month/2026-11"))
        .await
        .expect(200);
    assert_eq!(one.body["hash"], month.body["hash"]);
    accountant
        .get(&shop.path("/closures/day/2026-11-21"))
        .await
        .expect_problem(404, "not-found");
    shop.as_role("employee")
        .get(&shop.path("/closures"))
        .await
        .expect_problem(403, "forbidden");

    // The year, once over: the sum of its one closed month.
    set_clock(&owner, "2027-01-02T09:00:00Z").await;
    let year = close(&shop, "year", "2026").await.expect(201);
    november.assert_matches(&year.body["totals"]);
    assert_eq!(year.body["sequence"], 1);
    assert_eq!(cents(&year.body["perpetual_total_incl_vat"]), perpetual);

    let verified = accountant
        .get(&shop.path("/closures/verify"))
        .await
        .expect(200);
    assert_eq!(verified.body["checked"], 5, "{}", verified.raw);
    assert_eq!(verified.body["all_good"], true, "{}", verified.raw);
    assert_eq!(verified.body["disagreements"], json!([]));

    // Every kind of answer is the one the served OpenAPI document declares.
    let document = served_document(&owner).await;
    let list = "/v1/shops/{shop_id}/closures";
    let one = "/v1/shops/{shop_id}/closures/{kind}/{period}";
    conforms(&document, Method::POST, list, &first);
    conforms(&document, Method::POST, list, &month);
    let refused = close(&shop, "month", "2026-11").await;
    conforms(&document, Method::POST, list, &refused);
    let early = close(&shop, "day", "2026-12-01").await;
    conforms(&document, Method::POST, list, &early);
    conforms(&document, Method::GET, list, &listed);
    conforms(
        &document,
        Method::GET,
        one,
        &one_reply(&accountant, &shop).await,
    );
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/closures/verify",
        &verified,
    );
}

async fn one_reply(api: &Api, shop: &PhotoShop) -> Reply {
    api.get(&shop.path("/closures/day/2026-11-19"))
        .await
        .expect(200)
}

#[tokio::test]
async fn a_sale_dated_in_a_closed_day_is_reported_by_verify_and_blocks_the_month() {
    // Proves a closed day whose figures change afterwards (a clock set back) does not go
    // unnoticed: verify names the day, and its month cannot be closed with figures that differ
    // from its day closures.
    let (_dir, _app, owner, shop) = shop_on_18_november("Studio Horloge").await;
    let mut day_18 = Expected::default();
    let lines = json!([{"sku": "GUIDE-LYON", "quantity": 1}]);
    sell(&shop, &mut day_18, lines.clone(), &["card"]).await;
    set_clock(&owner, "2026-11-19T09:00:00Z").await;
    let closed = close(&shop, "day", "2026-11-18").await.expect(201);
    day_18.assert_matches(&closed.body["totals"]);
    let accountant = shop.as_role("accountant");
    verification(&accountant, &shop, true).await;

    set_clock(&owner, "2026-11-18T15:00:00Z").await;
    sell(&shop, &mut Expected::default(), lines, &["cash"]).await;
    let verified = verification(&accountant, &shop, false).await;
    assert_eq!(verified.body["disagreeing"], 1);
    let disagreement = &verified.body["disagreements"][0];
    assert_eq!(disagreement["label"], "2026-11-18");
    assert_eq!(disagreement["kind"], "day");
    assert!(
        disagreement["problems"][0]
            .as_str()
            .is_some_and(|problem| problem.contains("documents and payments now total")),
        "{disagreement}"
    );

    set_clock(&owner, "2026-12-01T09:00:00Z").await;
    let head = owner.head_position().await;
    close(&shop, "month", "2026-11")
        .await
        .expect_problem(409, "closure-totals-mismatch");
    assert_eq!(owner.head_position().await, head, "no event appended");
}

/// Sells one guide at `at` (paid by card) into `expected`.
async fn sell_at(owner: &Api, shop: &PhotoShop, at: &str, expected: &mut Expected) {
    set_clock(owner, at).await;
    let lines = json!([{"sku": "GUIDE-LYON", "quantity": 1}]);
    sell(shop, expected, lines, &["card"]).await;
}

/// Closes each (kind, date) in order, expecting 201 each time.
async fn close_all(shop: &PhotoShop, periods: &[(&str, &str)]) {
    for (kind, date) in periods {
        close(shop, kind, date).await.expect(201);
    }
}

#[tokio::test]
async fn a_fiscal_year_closing_on_30_june_closes_as_the_sum_of_exactly_its_months() {
    // Proves a shop closing on 30 June closes its year 2026 as July 2025 – June 2026, named
    // 2026, with the sum of those months only (June 2025 is the year 2025's), only once the
    // year 2025, which had a sale, is closed; and that verify agrees.
    let (_dir, _app, owner, shop) =
        shop_on_clock("2025-06-20T08:00:00Z", "Studio Clôture Juin", Some("06-30")).await;
    let mut june_2025 = Expected::default();
    sell_at(&owner, &shop, "2025-06-20T09:00:00Z", &mut june_2025).await;
    let mut fiscal_2026 = Expected::default();
    sell_at(&owner, &shop, "2025-07-15T09:00:00Z", &mut fiscal_2026).await;
    sell_at(&owner, &shop, "2026-06-10T09:00:00Z", &mut fiscal_2026).await;

    set_clock(&owner, "2026-07-02T09:00:00Z").await;
    close_all(
        &shop,
        &[
            ("day", "2025-06-20"),
            ("month", "2025-06"),
            ("day", "2025-07-15"),
            ("month", "2025-07"),
            ("day", "2026-06-10"),
        ],
    )
    .await;
    close(&shop, "year", "2026")
        .await
        .expect_problem(422, "earlier-period-unclosed");
    let year_2025 = close(&shop, "year", "2025").await.expect(201);
    june_2025.assert_matches(&year_2025.body["totals"]);
    assert_eq!(year_2025.body["period"]["starts_on"], "2024-07-01");
    assert_eq!(year_2025.body["period"]["ends_before"], "2025-07-01");
    let head = owner.head_position().await;
    close(&shop, "year", "2026")
        .await
        .expect_problem(422, "sub-periods-unclosed");
    assert_eq!(owner.head_position().await, head, "no event appended");
    close(&shop, "month", "2026-06").await.expect(201);
    let year_2026 = close(&shop, "year", "2026").await.expect(201);
    fiscal_2026.assert_matches(&year_2026.body["totals"]);
    assert_eq!(year_2026.body["label"], "2026");
    assert_eq!(year_2026.body["period"]["starts_on"], "2025-07-01");
    assert_eq!(year_2026.body["period"]["ends_before"], "2026-07-01");
    assert_eq!(year_2026.body["sequence"], 2);
    let mut both = june_2025.clone();
    both.absorb(&fiscal_2026);
    assert_eq!(
        cents(&year_2026.body["perpetual_total_incl_vat"]),
        both.gross
    );
    let read = shop
        .as_role("accountant")
        .get(&shop.path("/closures/year/2026"))
        .await
        .expect(200);
    assert_eq!(read.body["hash"], year_2026.body["hash"]);
    let verified = verification(&shop.as_role("accountant"), &shop, true).await;
    assert_eq!(verified.body["checked"], 8, "{}", verified.raw);
}

#[tokio::test]
async fn a_fiscal_year_closing_on_15_june_closes_as_the_sum_of_its_days() {
    // Proves a shop closing on 15 June closes its year 2026 as 16 June 2025 – 15 June 2026 with
    // the sum of its days: the sale of 10 June 2025 (year 2025) stays out, those of 20 June 2025
    // and 10 June 2026 are in; June 2025, split between the two years, still closes as the sum
    // of its days after the year 2025 is closed; June 2026 waits for its end; verify agrees with
    // all of it.
    let (_dir, _app, owner, shop) =
        shop_on_clock("2025-06-09T08:00:00Z", "Studio Mi-Juin", Some("06-15")).await;
    let mut fiscal_2025 = Expected::default();
    sell_at(&owner, &shop, "2025-06-10T09:00:00Z", &mut fiscal_2025).await;
    let mut fiscal_2026 = Expected::default();
    sell_at(&owner, &shop, "2025-06-20T09:00:00Z", &mut fiscal_2026).await;
    sell_at(&owner, &shop, "2026-06-10T09:00:00Z", &mut fiscal_2026).await;

    set_clock(&owner, "2026-06-16T09:00:00Z").await;
    close_all(&shop, &[("day", "2025-06-10")]).await;
    let year_2025 = close(&shop, "year", "2025").await.expect(201);
    fiscal_2025.assert_matches(&year_2025.body["totals"]);
    assert_eq!(year_2025.body["period"]["ends_before"], "2025-06-16");
    close_all(
        &shop,
        &[
            ("day", "2025-06-20"),
            ("month", "2025-06"),
            ("day", "2026-06-10"),
        ],
    )
    .await;
    let year_2026 = close(&shop, "year", "2026").await.expect(201);
    fiscal_2026.assert_matches(&year_2026.body["totals"]);
    assert_eq!(year_2026.body["label"], "2026");
    assert_eq!(year_2026.body["period"]["starts_on"], "2025-06-16");
    assert_eq!(year_2026.body["period"]["ends_before"], "2026-06-16");
    assert_eq!(year_2026.body["sequence"], 2);
    close(&shop, "month", "2026-06")
        .await
        .expect_problem(422, "period-not-over");
    let verified = verification(&shop.as_role("accountant"), &shop, true).await;
    assert_eq!(verified.body["checked"], 6, "{}", verified.raw);
}

#[tokio::test]
async fn a_transitional_fiscal_year_closes_with_its_real_months() {
    // Proves a shop moving from 31 December to 30 June on 10 March 2026 closes 2026 as January
    // to June 2026 (six months, as its FEC of 2026), the sum of those months only, before its
    // end the calendar year would have had; July 2026 belongs to the year 2027.
    let name = "Studio Clôture Transition";
    let (_dir, _app, owner, shop) = shop_on_clock("2026-01-05T08:00:00Z", name, None).await;
    let mut transitional = Expected::default();
    sell_at(&owner, &shop, "2026-01-15T09:00:00Z", &mut transitional).await;
    set_clock(&owner, "2026-03-10T09:00:00Z").await;
    change_closing_day(&shop, "06-30").await;
    sell_at(&owner, &shop, "2026-06-10T09:00:00Z", &mut transitional).await;
    sell_at(
        &owner,
        &shop,
        "2026-07-05T09:00:00Z",
        &mut Expected::default(),
    )
    .await;

    set_clock(&owner, "2026-08-02T09:00:00Z").await;
    close_all(
        &shop,
        &[
            ("day", "2026-01-15"),
            ("month", "2026-01"),
            ("day", "2026-06-10"),
            ("month", "2026-06"),
            ("day", "2026-07-05"),
            ("month", "2026-07"),
        ],
    )
    .await;
    let year = close(&shop, "year", "2026").await.expect(201);
    transitional.assert_matches(&year.body["totals"]);
    assert_eq!(year.body["period"]["starts_on"], "2026-01-01");
    assert_eq!(year.body["period"]["ends_before"], "2026-07-01");
    assert_eq!(year.body["label"], "2026");
    close(&shop, "year", "2027")
        .await
        .expect_problem(422, "period-not-over");
    let position = year.body["position"].as_u64().expect("position");
    let (name, _) = fec_file(&shop, 2026, position).await;
    assert!(name.ends_with("FEC20260630.txt"), "{name}");
}

#[tokio::test]
async fn a_closure_anchors_the_log_and_verify_tells_when_the_log_was_rewritten_before_it() {
    // Proves each closure records the log's chain hash at the position it covers (the hash the
    // audit records serve there), and that an attacker who changes a record and recomputes
    // every hash after it (so that the chain is whole again) is caught by closures/verify.
    let (dir, app, owner, shop) = shop_on_18_november("Studio Ancre").await;
    let lines = json!([{"sku": "GUIDE-LYON", "quantity": 1}]);
    sell(&shop, &mut Expected::default(), lines, &["card"]).await;
    set_clock(&owner, "2026-11-19T09:00:00Z").await;
    let closed = close(&shop, "day", "2026-11-18").await.expect(201);
    let covers = closed.body["covers_up_to"].as_u64().expect("covers_up_to");
    let records = owner
        .get(&format!(
            "/v1/admin/log/records?after={}&limit=1",
            covers - 1
        ))
        .await
        .expect(200);
    assert_eq!(records.body["records"][0]["position"], covers);
    assert_eq!(
        closed.body["log_hash"], records.body["records"][0]["hash"],
        "{}",
        closed.raw
    );
    let accountant = shop.as_role("accountant");
    verification(&accountant, &shop, true).await;

    app.signal(libc::SIGTERM);
    app.wait_exit().await;
    crate::support::alter_text(dir.path(), "Studio Ancre".as_bytes());
    crate::support::rechain(dir.path());
    let app = crate::support::spawn_app_with(dir.path(), &["--test-clock"]).await;
    let accountant = Api::new(&app, &shop.keys["accountant"]);
    let verified = verification(&accountant, &shop, false).await;
    let problems = verified.body["disagreements"][0]["problems"].to_string();
    assert!(
        problems.contains("the log was rewritten before it"),
        "{problems}"
    );
}
