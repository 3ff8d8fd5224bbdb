//! Statistics, exports and document bundles over HTTP, and replay determinism of the projections
//! through the real binary: rebuilds, and a kill -9 during catch-up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

use crate::api::{
    fixture, home_order, photo_shop, place, stranger_shop_body, value_cents, Api, PhotoShop,
};
use crate::support::{run_comptoir, spawn_app, spawn_app_in};

/// The Python with openpyxl (installed from the distribution's `python3-openpyxl`).
const PYTHON: &str = "/usr/bin/python3";
/// Groupings of the statistics route.
const GROUPINGS: [&str; 5] = [
    "order_number",
    "customer",
    "product_type",
    "order_day",
    "payment_type",
];

/// Measures of one group as the test computes them: items, net, vat, gross, discounts, credits.
type Sums = [i64; 6];

fn add(sums: &mut BTreeMap<String, Sums>, key: String, values: Sums) {
    let entry = sums.entry(key).or_default();
    for (total, value) in entry.iter_mut().zip(values) {
        *total += value;
    }
}

fn sum_cents<'a>(values: impl Iterator<Item = &'a Value>) -> i64 {
    values.map(value_cents).sum()
}

/// One order's measures taken whole.
fn whole(order: &Value) -> Sums {
    let lines = order["lines"].as_array().expect("lines");
    let items = lines
        .iter()
        .map(|l| l["quantity"].as_i64().expect("qty"))
        .sum();
    let before = sum_cents(lines.iter().map(|l| &l["total_incl_vat"]))
        + value_cents(&order["shipping"]["total_incl_vat"]);
    let totals = &order["totals"];
    let credits = order["credits"].as_array().expect("credits");
    [
        items,
        value_cents(&totals["total_excl_vat"]),
        value_cents(&totals["total_vat"]),
        value_cents(&totals["total_incl_vat"]),
        before - value_cents(&totals["total_incl_vat"]),
        sum_cents(credits.iter().map(|c| &c["totals"]["total_incl_vat"])),
    ]
}

fn payment_type(order: &Value) -> String {
    let methods: BTreeSet<&str> = order["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .map(|p| p["method"].as_str().expect("method"))
        .collect();
    match methods.len() {
        0 => "unpaid".into(),
        1 => methods.into_iter().next().unwrap_or_default().into(),
        _ => "mixed".into(),
    }
}

/// The gross per product type (category name, and `shipping`), from the order lines.
fn gross_by_product_type(
    orders: &[Value],
    categories: &BTreeMap<String, String>,
) -> BTreeMap<String, i64> {
    let mut gross = BTreeMap::new();
    for order in orders {
        for line in order["lines"].as_array().expect("lines") {
            let category = &categories[line["category_id"].as_str().expect("category")];
            *gross.entry(category.clone()).or_default() += value_cents(&line["total_incl_vat"]);
        }
        *gross.entry("shipping".to_string()).or_default() +=
            value_cents(&order["shipping"]["total_incl_vat"]);
    }
    gross
}

/// The sums the statistics must show per group, computed from the orders themselves.
fn expected(orders: &[Value], group_by: &str) -> BTreeMap<String, Sums> {
    let mut sums = BTreeMap::new();
    for order in orders {
        let key = match group_by {
            "order_number" => order["order_id"].as_str().expect("id").to_string(),
            "customer" => match order["customer"]["customer_id"].as_str() {
                Some(id) => id.to_string(),
                None => order["customer"]["email"]
                    .as_str()
                    .expect("email")
                    .to_string(),
            },
            "order_day" => shop_day(order["placed_at"].as_str().expect("placed_at")),
            "payment_type" => payment_type(order),
            other => panic!("no whole-order grouping {other}"),
        };
        add(&mut sums, key, whole(order));
    }
    sums
}

fn row_sums(row: &Value) -> Sums {
    [
        row["items"].as_i64().expect("items"),
        value_cents(&row["net"]),
        value_cents(&row["vat"]),
        value_cents(&row["gross"]),
        value_cents(&row["discounts"]),
        value_cents(&row["credit_notes"]),
    ]
}

pub(crate) async fn pay(
    api: &Api,
    shop: &PhotoShop,
    order_id: &str,
    method: &str,
    amount: &str,
) -> u64 {
    let body = json!({"method": method, "amount": amount});
    let path = shop.path(&format!("/orders/{order_id}/payments"));
    api.post(&path, &body).await.expect(200).body["position"]
        .as_u64()
        .expect("position")
}

/// A varied history over HTTP: a registered and guest customers, card, cash and mixed payments,
/// an unpaid order, a shipped order with a return credited as store credit, a cancelled paid
/// order. Returns the order ids and the last position.
pub(crate) async fn varied_history(shop: &PhotoShop) -> (Vec<String>, u64) {
    let storefront = shop.as_role("storefront");
    let customer =
        json!({"email": "claire@example.fr", "first_name": "Claire", "last_name": "Martin"});
    storefront
        .post(&shop.path("/customers"), &customer)
        .await
        .expect(201);
    let baskets = [
        (
            "claire@example.fr",
            json!([{"sku": "TIR-10x15", "quantity": 60}, {"sku": "GUIDE-LYON", "quantity": 1}]),
        ),
        (
            "paul@example.fr",
            json!([{"sku": "AGR-20x30", "quantity": 2}, {"sku": "MUG-BLANC", "quantity": 1}]),
        ),
        (
            "claire@example.fr",
            json!([{"sku": "TIR-13x18", "quantity": 5}]),
        ),
        (
            "guest@example.fr",
            json!([{"sku": "LIVRE-A4-24", "quantity": 1}]),
        ),
        (
            "paul@example.fr",
            json!([{"sku": "PANO-10x30", "quantity": 3}, {"sku": "TIR-10x15", "quantity": 10}]),
        ),
    ];
    let mut orders = Vec::new();
    for (email, lines) in baskets {
        orders.push(place(&storefront, shop, &home_order(shop, email, lines)).await);
    }
    let manager = &shop.manager;
    pay(manager, shop, &orders[0].0, "card", &orders[0].1).await;
    let ship = shop.path(&format!("/orders/{}/ship", orders[0].0));
    manager.post(&ship, &json!({})).await.expect(200);
    let returns = shop.path(&format!("/orders/{}/returns", orders[0].0));
    let credit = json!({"lines": [{"line_number": 1, "quantity": 10}], "settlement": {"type": "store_credit"}});
    manager.post(&returns, &credit).await.expect(201);
    let mark_paid = shop.path(&format!("/orders/{}/mark-paid", orders[1].0));
    manager
        .post(&mark_paid, &json!({"method": "cash"}))
        .await
        .expect(200);
    pay(manager, shop, &orders[3].0, "card", &orders[3].1).await;
    let cancel = shop.path(&format!("/orders/{}/cancel", orders[3].0));
    let body = json!({"reason": "doublon", "settlement": {"type": "refund", "method": "card"}});
    manager.post(&cancel, &body).await.expect(200);
    pay(manager, shop, &orders[4].0, "card", "1.00").await;
    let mark_paid = shop.path(&format!("/orders/{}/mark-paid", orders[4].0));
    let last = manager
        .post(&mark_paid, &json!({"method": "cash"}))
        .await
        .expect(200);
    let position = last.body["position"].as_u64().expect("position");
    (orders.into_iter().map(|(id, _)| id).collect(), position)
}

/// The orders the statistics should count with `status`: not cancelled, and for `paid` those
/// that have an invoice (decided from the documents, not from the status names).
async fn counted_orders(
    shop: &PhotoShop,
    ids: &[String],
    position: u64,
    status: &str,
) -> Vec<Value> {
    let mut orders = Vec::new();
    for id in ids {
        let path = shop.path(&format!("/orders/{id}?min_position={position}"));
        let order = shop.manager.get(&path).await.expect(200).body;
        let invoiced = order["invoice_number"].is_string();
        if order["status"] != "cancelled" && (status == "all" || invoiced) {
            orders.push(order);
        }
    }
    orders
}

/// The label an `order_number` row must carry: the invoice number, else `CMD-` and the first
/// 12 hex digits of the order id in capitals.
fn order_label(order: &Value) -> String {
    match order["invoice_number"].as_str() {
        Some(number) => number.to_string(),
        None => {
            let hex: String = order["order_id"]
                .as_str()
                .expect("id")
                .chars()
                .filter(|c| *c != '-')
                .take(12)
                .collect();
            format!("CMD-{}", hex.to_uppercase())
        }
    }
}

/// The day an RFC 3339 instant falls on for the fixture's shops, which count days in Paris.
pub(crate) fn shop_day(instant: &str) -> String {
    let instant = chrono::DateTime::parse_from_rfc3339(instant).expect("an RFC 3339 instant");
    instant
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
        .to_string()
}

pub(crate) fn period_around_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // Whole UTC days around now: the orders were placed within the last minutes.
    let day = 86_400;
    let from = (now / day - 1) * day;
    let until = (now / day + 2) * day;
    format!("from={}&until={}", rfc3339(from), rfc3339(until))
}

/// Seconds since the epoch (a midnight) as `YYYY-MM-DDT00:00:00Z`, via civil-from-days.
pub(crate) fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T00:00:00Z")
}

async fn category_names(shop: &PhotoShop) -> BTreeMap<String, String> {
    let reply = shop
        .manager
        .get(&shop.path("/categories"))
        .await
        .expect(200);
    let list = reply.body["items"]
        .as_array()
        .or(reply.body.as_array())
        .cloned()
        .expect("categories");
    list.iter()
        .map(|c| {
            (
                c["category_id"].as_str().expect("id").to_string(),
                c["name"].as_str().expect("name").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn statistics_grouped_each_way_equal_sums_computed_from_the_orders() {
    // Proves, over HTTP on orders placed through the API, that every grouping's rows equal sums
    // computed here from the orders themselves (cancelled left out, and unpaid ones too unless
    // `status=all`), that the totals agree, that order rows are labelled with the invoice number
    // or the order's reference, that an empty preset period has no rows, that an unknown status
    // is refused, and that a key of another shop gets 404.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (ids, position) = varied_history(&shop).await;
    let accountant = shop.as_role("accountant");
    let period = period_around_now();
    // No `status` is the default, `paid`.
    for (status, param, count) in [("paid", "", 3), ("all", "&status=all", 4)] {
        let orders = counted_orders(&shop, &ids, position, status).await;
        assert_eq!(
            orders.len(),
            count,
            "one of five orders is cancelled, one unpaid"
        );
        let query = format!("{period}{param}&min_position={position}");
        check_groupings(&shop, &query, &orders).await;
        check_order_labels(&shop, &query, &orders).await;
    }
    let payment_rows = shop.path(&format!("/statistics?{period}&group_by=payment_type"));
    let keys: Vec<Value> = accountant.get(&payment_rows).await.expect(200).body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["key"].clone())
        .collect();
    assert_eq!(keys, vec![json!("card"), json!("cash"), json!("mixed")]);
    let with_unpaid = format!("{}&status=all", payment_rows);
    let rows = accountant.get(&with_unpaid).await.expect(200).body;
    assert_eq!(rows["status"], "all");
    assert_eq!(rows["rows"][3]["key"], "unpaid", "{rows}");
    accountant
        .get(&shop.path(&format!("/statistics?{period}&status=unpaid")))
        .await
        .expect_problem(400, "invalid-request");
    let last_month = accountant
        .get(&shop.path("/statistics?preset=last_month"))
        .await
        .expect(200);
    assert_eq!(last_month.body["totals"]["orders"], 0);
    let other = photo_shop(&app, "Autre boutique").await;
    other
        .manager
        .get(&shop.path("/statistics?preset=today"))
        .await
        .expect_problem(404, "not-found");
    accountant
        .get(&shop.path("/statistics?preset=someday"))
        .await
        .expect_problem(400, "invalid-request");
}

/// Every grouping's rows and totals against the sums computed from `orders`.
async fn check_groupings(shop: &PhotoShop, query: &str, orders: &[Value]) {
    let accountant = shop.as_role("accountant");
    let mut all_orders: Sums = [0; 6];
    for order in orders {
        for (total, value) in all_orders.iter_mut().zip(whole(order)) {
            *total += value;
        }
    }
    for group_by in GROUPINGS {
        let path = shop.path(&format!("/statistics?{query}&group_by={group_by}"));
        let statistics = accountant.get(&path).await.expect(200).body;
        assert_eq!(statistics["totals"]["orders"], orders.len(), "{statistics}");
        assert_eq!(row_sums(&statistics["totals"]), all_orders, "{group_by}");
        let rows = statistics["rows"].as_array().expect("rows");
        if group_by == "product_type" {
            let expected = gross_by_product_type(orders, &category_names(shop).await);
            for (key, gross) in &expected {
                let row = rows
                    .iter()
                    .find(|r| r["key"] == key.as_str())
                    .expect("category row");
                assert_eq!(value_cents(&row["gross"]), *gross, "{key}");
            }
            let total: i64 = rows.iter().map(|r| value_cents(&r["gross"])).sum();
            assert_eq!(total, all_orders[3]);
            continue;
        }
        let actual: BTreeMap<String, Sums> = rows
            .iter()
            .map(|r| (r["key"].as_str().expect("key").to_string(), row_sums(r)))
            .collect();
        assert_eq!(actual, expected(orders, group_by), "{group_by}");
    }
}

/// `order_number` rows: one per counted order, labelled as `order_label` says.
async fn check_order_labels(shop: &PhotoShop, query: &str, orders: &[Value]) {
    let path = shop.path(&format!("/statistics?{query}&group_by=order_number"));
    let statistics = shop.manager.get(&path).await.expect(200).body;
    let labels: BTreeMap<String, String> = statistics["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let key = r["key"].as_str().expect("key").to_string();
            (key, r["label"].as_str().expect("label").to_string())
        })
        .collect();
    let expected: BTreeMap<String, String> = orders
        .iter()
        .map(|o| {
            (
                o["order_id"].as_str().expect("id").to_string(),
                order_label(o),
            )
        })
        .collect();
    assert_eq!(labels, expected);
}

/// Downloads `path` into `dir/name`; asserts 200 and the content type's start.
pub(crate) async fn download(
    api: &Api,
    path: &str,
    dir: &Path,
    name: &str,
    content_type: &str,
) -> std::path::PathBuf {
    let response = api
        .client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let actual = response.headers()["content-type"]
        .to_str()
        .expect("type")
        .to_string();
    assert!(actual.starts_with(content_type), "{actual}");
    let file = dir.join(name);
    std::fs::write(&file, response.bytes().await.expect("body")).expect("write");
    file
}

/// Runs a Python snippet with `sys.argv[1]` = `file`; returns its stdout, asserting success.
pub(crate) fn python(script: &str, file: &Path) -> String {
    let output = std::process::Command::new(PYTHON)
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Prints each row of the first sheet as `repr` of its cells' Python types and values.
pub(crate) const READ_XLSX: &str = r#"
import sys, openpyxl
sheet = openpyxl.load_workbook(sys.argv[1]).active
for row in sheet.iter_rows(values_only=True):
    print("|".join(type(v).__name__ + "=" + str(v) for v in row))
"#;

#[tokio::test]
async fn statistics_and_customers_export_as_csv_xlsx_and_xml() {
    // Proves the exports are real files: openpyxl opens the XLSX, its header is text, counts and
    // amounts are numbers equal to the JSON, order days are dates; CSV and XML carry the same
    // totals, paid orders only by default and every order with `status=all` (which the XML
    // names); the customer export honours the search, as CSV and as XLSX.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (_, position) = varied_history(&shop).await;
    let period = period_around_now();
    let base = format!("/statistics?{period}&group_by=order_day&min_position={position}");
    let json = shop.manager.get(&shop.path(&base)).await.expect(200).body;
    let gross = json["totals"]["gross"].as_str().expect("gross").to_string();
    let xlsx_path = shop.path(&format!("{base}&format=xlsx"));
    let xlsx = download(
        &shop.manager,
        &xlsx_path,
        dir.path(),
        "s.xlsx",
        "application/vnd.openxml",
    )
    .await;
    let rows: Vec<String> = python(READ_XLSX, &xlsx).lines().map(String::from).collect();
    assert!(
        rows[0].starts_with("str=order_day|str=label|str=orders|str=items|str=net"),
        "{rows:?}"
    );
    assert!(
        rows[1].starts_with("datetime="),
        "an order day is a date: {}",
        rows[1]
    );
    assert!(
        rows[1].contains("|int=3|") || rows[1].contains("|float=3.0|"),
        "{}",
        rows[1]
    );
    let total = rows.last().expect("total row");
    assert!(total.starts_with("str=total|"), "{total}");
    let gross_cell: f64 = total
        .split('|')
        .nth(6)
        .and_then(|c| c.split_once('='))
        .expect("gross cell")
        .1
        .parse()
        .expect("a number");
    assert!(
        (gross_cell - gross.parse::<f64>().expect("gross")).abs() < 0.005,
        "{total}"
    );
    let csv_path = shop.path(&format!("{base}&format=csv"));
    let csv = download(&shop.manager, &csv_path, dir.path(), "s.csv", "text/csv").await;
    let csv = std::fs::read_to_string(csv).expect("csv");
    assert!(
        csv.lines().last().expect("line").split(',').nth(6) == Some(gross.as_str()),
        "{csv}"
    );
    let xml = shop
        .manager
        .get(&shop.path(&format!("{base}&format=xml")))
        .await
        .expect(200);
    assert!(
        xml.raw.contains(&format!("<gross>{gross}</gross>")),
        "{}",
        xml.raw
    );
    assert!(xml.raw.contains("status=\"paid\""), "{}", xml.raw);
    let all = format!("{base}&status=all");
    let all_json = shop.manager.get(&shop.path(&all)).await.expect(200).body;
    assert_eq!(all_json["totals"]["orders"], 4, "{all_json}");
    let all_gross = all_json["totals"]["gross"].as_str().expect("gross");
    assert!(value_cents(&all_json["totals"]["gross"]) > value_cents(&json["totals"]["gross"]));
    let all_xml = shop
        .manager
        .get(&shop.path(&format!("{all}&format=xml")))
        .await
        .expect(200);
    assert!(all_xml.raw.contains("status=\"all\""), "{}", all_xml.raw);
    assert!(all_xml.raw.contains(&format!("<gross>{all_gross}</gross>")));
    let all_csv = download(
        &shop.manager,
        &shop.path(&format!("{all}&format=csv")),
        dir.path(),
        "all.csv",
        "text/csv",
    )
    .await;
    let all_csv = std::fs::read_to_string(all_csv).expect("csv");
    assert_eq!(
        all_csv.lines().last().expect("line").split(',').nth(6),
        Some(all_gross),
        "{all_csv}"
    );

    let storefront = shop.as_role("storefront");
    let other = json!({"email": "zoe@example.fr", "first_name": "Zoé", "last_name": "=cmd"});
    let position = storefront
        .post(&shop.path("/customers"), &other)
        .await
        .expect(201)
        .body["position"]
        .as_u64()
        .expect("pos");
    let customers = format!("/customers/export?search=zo&min_position={position}");
    let csv = download(
        &shop.manager,
        &shop.path(&customers),
        dir.path(),
        "c.csv",
        "text/csv",
    )
    .await;
    let csv = std::fs::read_to_string(csv).expect("csv");
    assert_eq!(csv.lines().count(), 2, "header and Zoé only: {csv}");
    assert!(
        csv.contains("zoe@example.fr,Zoé,'=cmd"),
        "formulas are defused: {csv}"
    );
    let xlsx_path = shop.path(&format!("{customers}&format=xlsx"));
    let xlsx = download(
        &shop.manager,
        &xlsx_path,
        dir.path(),
        "c.xlsx",
        "application/vnd.openxml",
    )
    .await;
    let rows: Vec<String> = python(READ_XLSX, &xlsx).lines().map(String::from).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1].contains("str=zoe@example.fr"), "{rows:?}");
    assert!(
        rows[1]
            .split('|')
            .next_back()
            .unwrap_or_default()
            .starts_with("datetime="),
        "{rows:?}"
    );
}

#[tokio::test]
async fn statistics_span_shops_of_one_organisation_only() {
    // Proves the owner can add shops of the same organisation (totals add up), a shop key cannot
    // reach another shop (404), and no one can mix in another organisation's shop (400).
    let (_dir, app) = spawn_app().await;
    let lyon = photo_shop(&app, "Lumière Lyon").await;
    let paris = photo_shop(&app, "Lumière Paris").await;
    let storefront = paris.as_role("storefront");
    let lines = json!([{"sku": "TIR-10x15", "quantity": 30}]);
    place(
        &storefront,
        &paris,
        &home_order(&paris, "a@example.fr", lines.clone()),
    )
    .await;
    place(
        &lyon.as_role("storefront"),
        &lyon,
        &home_order(&lyon, "b@example.fr", lines),
    )
    .await;
    let position = lyon.manager.head_position().await;
    let owner = Api::owner(&app);
    // The orders are not paid: `all` counts them.
    let query = format!(
        "/statistics?{}&status=all&min_position={position}",
        period_around_now()
    );
    let both = lyon.path(&format!("{query}&shop_ids={}", paris.shop_id));
    let both = owner.get(&both).await.expect(200).body;
    assert_eq!(both["totals"]["orders"], 2, "{both}");
    assert_eq!(both["shop_ids"], json!([lyon.shop_id, paris.shop_id]));
    let one = owner.get(&lyon.path(&query)).await.expect(200).body;
    assert_eq!(one["totals"]["orders"], 1);
    let from_key = lyon.path(&format!("{query}&shop_ids={}", paris.shop_id));
    lyon.manager
        .get(&from_key)
        .await
        .expect_problem(404, "not-found");
    let stranger = owner
        .post("/v1/shops", &stranger_shop_body("Concurrent"))
        .await
        .expect(201)
        .id("shop_id");
    let mixed = lyon.path(&format!("{query}&shop_ids={stranger}"));
    owner
        .get(&mixed)
        .await
        .expect_problem(400, "invalid-request");
}

/// "49.80" as the documents print it: "49,80 €".
fn printed_euros(amount: &str) -> String {
    format!("{} €", amount.replace('.', ","))
}

/// Extracts the zip at `file` into `dir` with Python's zipfile; returns the entry names in order.
pub(crate) fn unzip(file: &Path, dir: &Path) -> Vec<String> {
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nz.extractall(sys.argv[1] + '.d')\nprint('\\n'.join(z.namelist()))";
    let names = python(script, file);
    assert!(dir
        .join(format!(
            "{}.d",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        ))
        .is_dir());
    names.lines().map(String::from).collect()
}

pub(crate) fn pdf_text(file: &Path) -> String {
    let output = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(file)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils, installed by .ci/run)");
    assert!(
        output.status.success(),
        "pdftotext failed on {}",
        file.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn invoices_of_a_period_download_as_a_zip_of_pdfs_that_pdftotext_reads() {
    // Proves the bundle route over HTTP: one PDF per invoice of the period, named by number,
    // each read back by pdftotext with its number and its total; the HTML variant; an unknown
    // kind is 404 and a period is required.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (_, position) = varied_history(&shop).await;
    let accountant = shop.as_role("accountant");
    let listed = accountant
        .get(&shop.path(&format!("/invoices?limit=200&min_position={position}")))
        .await
        .expect(200)
        .body;
    let invoices = listed["items"].as_array().expect("items").clone();
    assert_eq!(invoices.len(), 4, "four orders were paid");
    let query = format!("{}&min_position={position}", period_around_now());
    let path = shop.path(&format!("/printable/invoices.zip?{query}"));
    let zip = download(
        &accountant,
        &path,
        dir.path(),
        "invoices.zip",
        "application/zip",
    )
    .await;
    let names = unzip(&zip, dir.path());
    let expected: Vec<String> = invoices
        .iter()
        .map(|i| format!("{}.pdf", i["number"].as_str().expect("number")))
        .collect();
    assert_eq!(names, expected);
    for invoice in &invoices {
        let number = invoice["number"].as_str().expect("number");
        let text = pdf_text(&dir.path().join(format!("invoices.zip.d/{number}.pdf")));
        let total = printed_euros(invoice["totals"]["total_incl_vat"].as_str().expect("total"));
        assert!(
            text.contains(number) && text.contains(&total),
            "{number} {total}:\n{text}"
        );
    }
    let html = shop.path(&format!("/printable/credit-notes.zip?{query}&format=html"));
    let zip = download(
        &accountant,
        &html,
        dir.path(),
        "credit-notes.zip",
        "application/zip",
    )
    .await;
    let names = unzip(&zip, dir.path());
    assert_eq!(
        names.len(),
        2,
        "a return and a cancelled paid order: {names:?}"
    );
    assert!(names.iter().all(|n| n.ends_with(".html")), "{names:?}");
    accountant
        .get(&shop.path(&format!("/printable/receipts.zip?{query}")))
        .await
        .expect_problem(404, "not-found");
    let no_period = accountant.get(&shop.path("/printable/invoices.zip")).await;
    assert_eq!(no_period.status.as_u16(), 400, "{}", no_period.raw);
}

/// Orders placed and paid in bulk by the replay test, so that catching up takes several commits
/// of `COMMIT_EVENTS_MAX` (1,024) events: about four events each.
const BULK_ORDERS: usize = 512;
/// Requests in flight while placing the bulk orders.
const BULK_CONCURRENCY: usize = 32;
/// How long after "listening" each successive server is killed: from before the runner starts
/// to well into its catch-up.
const KILL_DELAYS_MS: [u64; 5] = [0, 5, 20, 60, 150];

async fn bulk_orders(shop: &PhotoShop) {
    let storefront = shop.as_role("storefront");
    for chunk in 0..BULK_ORDERS.div_ceil(BULK_CONCURRENCY) {
        let placing = (0..BULK_CONCURRENCY).map(|i| {
            let (storefront, manager) = (storefront.clone(), shop.manager.clone());
            let email = format!("bulk{}@example.fr", chunk * BULK_CONCURRENCY + i);
            let lines = json!([{"sku": "TIR-10x15", "quantity": 1 + i}, {"sku": "MUG-BLANC", "quantity": 1}]);
            async move {
                let (order_id, total) = place(&storefront, shop, &home_order(shop, &email, lines)).await;
                pay(&manager, shop, &order_id, "card", &total).await
            }
        });
        futures::future::join_all(placing).await;
    }
}

/// Each projection's (name, position, digest) from `rebuild` or `verify --projections` output.
pub(crate) fn digests(stdout: &str) -> BTreeMap<String, (u64, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [name, "position", position, "sha256", digest, ..] => Some((
                    name.to_string(),
                    (position.parse().ok()?, digest.to_string()),
                )),
                _ => None,
            }
        })
        .collect()
}

pub(crate) async fn comptoir_ok(args: &[&str]) -> String {
    let (status, stdout, stderr) = run_comptoir(args).await;
    assert!(
        status.success(),
        "comptoir {args:?} failed:\n{stdout}{stderr}"
    );
    stdout
}

#[tokio::test]
async fn rebuilds_and_kills_during_catch_up_give_the_same_digests() {
    // Proves replay determinism through the real binary: a varied log built over HTTP rebuilds
    // twice to equal digests; then with the projections deleted, servers killed with SIGKILL at
    // successive moments of their catch-up and a last one left to finish end with projections
    // that `verify --projections` accepts and whose digests equal the clean rebuild's.
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path").to_string();
    let app = spawn_app_in(dir.path()).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    varied_history(&shop).await;
    bulk_orders(&shop).await;
    let head = shop.manager.head_position().await;
    assert!(
        head > 1_024 * 2,
        "catching up takes several commits: {head}"
    );
    app.stop().await;

    let first = digests(&comptoir_ok(&["rebuild", "--data-dir", &data_dir]).await);
    let second = digests(&comptoir_ok(&["rebuild", "--data-dir", &data_dir]).await);
    assert_eq!(first.len(), 2, "read_models and ledger: {first:?}");
    assert!(
        first.values().all(|(position, _)| *position == head),
        "{first:?}"
    );
    assert_eq!(first, second);

    std::fs::remove_dir_all(dir.path().join("projections")).expect("delete the projections");
    for delay_ms in KILL_DELAYS_MS {
        let app = spawn_app_in(dir.path()).await;
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        app.signal(libc::SIGKILL);
        app.wait_exit().await;
    }
    let app = spawn_app_in(dir.path()).await;
    let owner = Api::owner(&app);
    let caught_up = shop.path(&format!("/orders?limit=1&min_position={head}"));
    owner.get(&caught_up).await.expect(200);
    app.stop().await;
    let verified = comptoir_ok(&["verify", "--data-dir", &data_dir, "--projections"]).await;
    assert_eq!(digests(&verified), first, "{verified}");
}

#[tokio::test]
async fn a_customer_space_lists_their_orders_documents_and_payments() {
    // Proves the customer space over HTTP: a registered customer's two orders (one paid, shipped
    // and partly returned, one unpaid), its invoice, its unused credit note and its payment, and
    // nobody else's; an unknown customer and another shop's key get 404.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (ids, position) = varied_history(&shop).await;
    let search = shop.path(&format!("/customers?search=claire&min_position={position}"));
    let listed = shop.manager.get(&search).await.expect(200).body;
    let customer_id = listed["items"][0]["customer_id"]
        .as_str()
        .expect("claire")
        .to_string();
    let path = shop.path(&format!(
        "/customers/{customer_id}/space?min_position={position}"
    ));
    let space = shop.as_role("employee").get(&path).await.expect(200).body;
    let orders: Vec<&str> = space["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["order_id"].as_str().expect("id"))
        .collect();
    assert_eq!(orders.len(), 2, "{space}");
    assert!(
        orders.contains(&ids[0].as_str()) && orders.contains(&ids[2].as_str()),
        "{space}"
    );
    assert_eq!(
        space["invoices"].as_array().expect("invoices").len(),
        1,
        "{space}"
    );
    assert_eq!(space["invoices"][0]["order_id"], ids[0].as_str());
    assert_eq!(
        space["credit_notes"]
            .as_array()
            .expect("credit notes")
            .len(),
        1,
        "{space}"
    );
    assert_eq!(space["credit_notes"][0]["used_at"], Value::Null);
    assert_eq!(
        space["payments"].as_array().expect("payments").len(),
        1,
        "{space}"
    );
    assert_eq!(space["payments"][0]["method"], "card");
    let unknown = shop.path(&format!("/customers/{}/space", ids[1]));
    shop.manager
        .get(&unknown)
        .await
        .expect_problem(404, "not-found");
    let other = photo_shop(&app, "Autre boutique").await;
    other
        .manager
        .get(&path)
        .await
        .expect_problem(404, "not-found");
}

/// Places a goods-only order (prints at 20 %, shipping at 20 %) and pays it by card; returns the
/// payment's position.
async fn placed_and_paid(shop: &PhotoShop, email: &str) -> u64 {
    let lines = json!([{"sku": "TIR-10x15", "quantity": 12}]);
    let storefront = shop.as_role("storefront");
    let (order_id, total) = place(&storefront, shop, &home_order(shop, email, lines)).await;
    pay(&shop.manager, shop, &order_id, "card", &total).await
}

/// The accounts posted to by the journal's entries before (`early`) or after `boundary`.
fn journal_accounts(journal: &Value, boundary: u64, early: bool) -> BTreeSet<String> {
    let entries = journal["entries"].as_array().expect("entries");
    entries
        .iter()
        .filter(|e| (e["position"].as_u64().expect("position") < boundary) == early)
        .flat_map(|e| e["postings"].as_array().expect("postings").iter())
        .map(|p| p["account"].as_str().expect("account").to_string())
        .collect()
}

/// Who may read and change the mapping, and the `If-Match`/`Idempotency-Key` rules of a change;
/// returns the change's position.
async fn remapped(shop: &PhotoShop) -> u64 {
    let path = shop.path("/ledger/mapping");
    let read = shop.as_role("accountant").get(&path).await.expect(200);
    assert_eq!(read.body["goods_sales"], "707");
    assert_eq!(read.body["vat_by_rate"]["20"], "445712");
    shop.as_role("employee")
        .get(&path)
        .await
        .expect_problem(403, "forbidden");
    let mut mapping = read.body.clone();
    mapping["goods_sales"] = json!("7071");
    mapping["vat_by_rate"]["20"] = json!("4457120");
    shop.as_role("accountant")
        .put(&path, &mapping, Some(&read.etag), None)
        .await
        .expect_problem(403, "forbidden");
    let mut invalid = mapping.clone();
    invalid["bank"] = json!("51A");
    let manager = &shop.manager;
    manager
        .put(&path, &invalid, Some(&read.etag), None)
        .await
        .expect_problem(422, "validation");
    manager
        .put(&path, &mapping, Some("\"stale\""), None)
        .await
        .expect_problem(412, "precondition-failed");
    let changed = manager
        .put(&path, &mapping, Some(&read.etag), Some("remap-1"))
        .await
        .expect(200);
    assert_ne!(changed.etag, read.etag);
    let position = changed.body["position"].as_u64().expect("position");
    let head = manager.head_position().await;
    let again = manager
        .put(&path, &mapping, Some(&read.etag), Some("remap-1"))
        .await
        .expect(200);
    assert!(again.replayed, "{}", again.raw);
    assert_eq!(again.body["position"].as_u64(), Some(position));
    assert_eq!(manager.head_position().await, head);
    let now = shop.as_role("accountant").get(&path).await.expect(200);
    assert_eq!(now.body["goods_sales"], "7071");
    assert_eq!(now.etag, changed.etag);
    position
}

#[tokio::test]
async fn a_ledger_mapping_change_posts_later_orders_to_the_new_accounts_only() {
    // Proves the per-shop mapping end to end: an accountant reads it, only a manager changes it
    // (If-Match and Idempotency-Key honoured); an order paid before the change keeps 707/445712 in
    // the journal and the FEC, one paid after uses 7071/4457120; the trial balance stays zero and
    // the FEC still passes tests/tools/fec_check.py.
    let (dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    placed_and_paid(&shop, "avant@example.fr").await;
    let change = remapped(&shop).await;
    let last = placed_and_paid(&shop, "apres@example.fr").await;

    let journal_path = format!(
        "/ledger/journal?{}&min_position={last}",
        period_around_now()
    );
    let journal = shop
        .as_role("accountant")
        .get(&shop.path(&journal_path))
        .await
        .expect(200)
        .body;
    let before = journal_accounts(&journal, change, true);
    let after = journal_accounts(&journal, change, false);
    for account in ["707", "445712", "411", "512"] {
        assert!(before.contains(account), "{account} before: {before:?}");
    }
    assert!(
        !before.contains("7071") && !before.contains("4457120"),
        "{before:?}"
    );
    for account in ["7071", "4457120", "411", "512"] {
        assert!(after.contains(account), "{account} after: {after:?}");
    }
    assert!(
        !after.contains("707") && !after.contains("445712"),
        "{after:?}"
    );

    // The ledger's months and fiscal years are the shop's (the fixture's shop is in Paris).
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Paris);
    let month = now.format("%Y%m");
    let trial_path = format!("/ledger/trial-balance?from_month={month}&min_position={last}");
    let trial = shop.manager.get(&shop.path(&trial_path)).await.expect(200);
    assert_eq!(
        trial.body["total_debit"], trial.body["total_credit"],
        "{}",
        trial.raw
    );

    let year = chrono::Datelike::year(&now);
    let (name, text) = fec_file(&shop, year, last).await;
    let accounts: BTreeSet<&str> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').nth(4))
        .collect();
    for account in ["707", "7071", "445712", "4457120"] {
        assert!(accounts.contains(account), "{account} in FEC: {accounts:?}");
    }
    assert_fec_checks(dir.path(), &name, &text);
}

/// The FEC of `year` as (file name, content), read with the manager's key.
pub(crate) async fn fec_file(shop: &PhotoShop, year: i32, position: u64) -> (String, String) {
    let path = shop.path(&format!("/ledger/fec?year={year}&min_position={position}"));
    fec_download(&shop.manager, &path).await
}

/// The FEC at `path` as (file name, content), read by `api`.
pub(crate) async fn fec_download(api: &Api, path: &str) -> (String, String) {
    let response = api
        .client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_string();
    let name = disposition
        .split("filename=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("file name")
        .to_string();
    (name, response.text().await.expect("body"))
}

/// Runs the shared FEC checker (`tests/tools/fec_check.py`) on `content` saved as `name`.
pub(crate) fn assert_fec_checks(dir: &Path, name: &str, content: &str) {
    let file = dir.join(name);
    std::fs::write(&file, content).expect("write");
    let siren = fixture()["organisation"]["siren"]
        .as_str()
        .expect("siren")
        .to_string();
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/fec_check.py");
    let output = std::process::Command::new(PYTHON)
        .arg(&checker)
        .arg(&file)
        .args(["--siren", &siren])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "fec_check: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
