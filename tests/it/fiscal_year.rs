//! Issue 6 end to end: a shop closing its fiscal year on another day than 31 December exports
//! the FEC of the fiscal year closing in the year asked for, named by its closing day; a closing
//! day that is not a day of every year is a 422 that appends nothing. A change of closing day
//! reshapes the fiscal year in progress only: every fiscal year, before, during and after the
//! change, is one FEC with its real bounds.

use std::path::Path;

use serde_json::{json, Value};

use crate::api::set_clock;
use crate::api::{
    big_pack, fixture, home_order, photo_shop, photo_shop_from_body, place, profile_update,
    shop_body, stranger_shop_body, Api, PhotoShop,
};
use crate::reports::{assert_fec_checks, fec_download, fec_file};
use crate::shop_profile::invoice_number;
use crate::support::{spawn_app_with_test_clock, TestApp};
use crate::time_zones::pay;

/// Places an order of 10 prints at the clock's `placed_at`, pays it at `paid_at`; returns its
/// invoice number and the position of the payment.
async fn order_paid_at(
    owner: &Api,
    shop: &PhotoShop,
    email: &str,
    (placed_at, paid_at): (&str, &str),
) -> (String, u64) {
    set_clock(owner, placed_at).await;
    let lines = json!([{"sku": "TIR-10x15", "quantity": 10}]);
    let storefront = shop.as_role("storefront");
    let (order_id, total) = place(&storefront, shop, &home_order(shop, email, lines)).await;
    set_clock(owner, paid_at).await;
    let position = pay(shop, &order_id, &total).await;
    (invoice_number(shop, &order_id, position).await, position)
}

/// The FEC's lines (header left out), as their cells.
fn fec_rows(content: &str) -> Vec<Vec<&str>> {
    content
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect()
}

fn siren() -> String {
    fixture()["organisation"]["siren"]
        .as_str()
        .expect("siren")
        .to_string()
}

#[tokio::test]
async fn the_fec_of_a_year_is_the_fiscal_year_closing_in_it() {
    // Proves, for a Paris shop closing on 30 June: an invoice paid at 23:30 on 30 June 2026 is
    // in the FEC of 2026, named {SIREN}FEC20260630.txt, and one paid at 00:30 on 1 July 2026 is
    // in the FEC of 2027, named {SIREN}FEC20270630.txt; each holds only its own and passes the
    // shared checker, and the shop reads back its closing day.
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-06-30T20:00:00Z").await;
    let mut body = shop_body(&fixture(), "Studio Lumière — clôture au 30 juin");
    body["fiscal_year_end"] = json!("06-30");
    let shop = photo_shop_from_body(&app, &body, Some(&big_pack())).await;
    let read = shop.manager.get(&shop.path("")).await.expect(200);
    assert_eq!(read.body["fiscal_year_end"], "06-30");

    // Paris is UTC+2 in summer.
    let june_times = ("2026-06-30T21:20:00Z", "2026-06-30T21:30:00Z");
    let (june, _) = order_paid_at(&owner, &shop, "juin@example.fr", june_times).await;
    let july_times = ("2026-06-30T22:20:00Z", "2026-06-30T22:30:00Z");
    let (july, position) = order_paid_at(&owner, &shop, "juillet@example.fr", july_times).await;

    let dir = dir.path();
    let expected = FecOfYear {
        year: 2026,
        closing_day: "20260630",
        entry_day: "20260630",
    };
    expected
        .assert_holds(dir, &shop, position, &june, &july)
        .await;
    let expected = FecOfYear {
        year: 2027,
        closing_day: "20270630",
        entry_day: "20260701",
    };
    expected
        .assert_holds(dir, &shop, position, &july, &june)
        .await;
}

/// What the FEC of a fiscal year is expected to be.
struct FecOfYear {
    year: i32,
    /// `AAAAMMJJ` of the file name.
    closing_day: &'static str,
    /// `EcritureDate` of every line.
    entry_day: &'static str,
}

impl FecOfYear {
    /// Downloads the FEC of `self.year` once `position` is projected and checks its name, that it
    /// holds the invoice `own` and not `other`, its lines' dates, and the shared checker.
    async fn assert_holds(
        &self,
        dir: &Path,
        shop: &PhotoShop,
        position: u64,
        own: &str,
        other: &str,
    ) {
        let (name, content) = fec_file(shop, self.year, position).await;
        assert_eq!(name, format!("{}FEC{}.txt", siren(), self.closing_day));
        let rows = fec_rows(&content);
        assert!(rows.iter().any(|cells| cells[8] == own), "{content}");
        assert!(!content.contains(other), "{content}");
        assert!(
            rows.iter().all(|cells| cells[3] == self.entry_day),
            "{content}"
        );
        assert_fec_checks(dir, &name, &content);
    }
}

/// The shop as read, with its `ETag`, turned into the body of an update closing on `end`.
async fn closing_on(shop: &PhotoShop, end: &str) -> (Value, String) {
    profile_update(shop, |body| body["fiscal_year_end"] = json!(end)).await
}

#[tokio::test]
async fn a_closing_day_must_be_a_day_of_every_year() {
    // Proves 29 February is refused at creation and by an update with a 422 naming the reason,
    // appending nothing; a shop without a closing day reads back 12-31 and exports calendar
    // years; an update to 06-30 on 10 March 2026 is read back and names the FEC of the year in
    // progress, 2026, by 30 June.
    let (_dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-03-10T09:00:00Z").await;
    let mut body = shop_body(&fixture(), "Studio Lumière — 29 février");
    body["fiscal_year_end"] = json!("02-29");
    let head = owner.head_position().await;
    let refused = owner.post("/v1/shops", &body).await;
    refused.expect_problem(422, "validation");
    assert!(refused.raw.contains("29 February"), "{}", refused.raw);
    assert_eq!(owner.head_position().await, head);

    let shop = photo_shop(&app, "Studio Lumière").await;
    let read = shop.manager.get(&shop.path("")).await.expect(200);
    assert_eq!(read.body["fiscal_year_end"], "12-31");
    let (name, _) = fec_file(&shop, 2026, owner.head_position().await).await;
    assert_eq!(name, format!("{}FEC20261231.txt", siren()));

    let (leap, etag) = closing_on(&shop, "02-29").await;
    let head = owner.head_position().await;
    let refused = shop
        .manager
        .put(&shop.path(""), &leap, Some(&etag), None)
        .await;
    refused.expect_problem(422, "validation");
    assert!(refused.raw.contains("fiscal_year_end"), "{}", refused.raw);
    assert_eq!(owner.head_position().await, head);

    let (june, etag) = closing_on(&shop, "06-30").await;
    let written = shop
        .manager
        .put(&shop.path(""), &june, Some(&etag), None)
        .await
        .expect(200);
    assert_eq!(written.body["fiscal_year_end"], "06-30");
    let position = written.body["position"].as_u64().expect("position");
    let (name, _) = fec_file(&shop, 2026, position).await;
    assert_eq!(name, format!("{}FEC20260630.txt", siren()));
}

/// Pack terms valid five years, for shops whose tests span several fiscal years.
fn long_pack() -> Value {
    json!({"level": "Pro", "validity": {"months": 60},
        "transfer_allowance_bytes": 50_000_000_000_u64, "order_allowance": 1_000_000})
}

/// A server on the test clock set to `start`, and a photo shop named `name` created then,
/// closing on `end` (31 December when `None`), with a pack valid five years.
pub(crate) async fn shop_on_clock(
    start: &str,
    name: &str,
    end: Option<&str>,
) -> (tempfile::TempDir, TestApp, Api, PhotoShop) {
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, start).await;
    let mut body = shop_body(&fixture(), name);
    if let Some(end) = end {
        body["fiscal_year_end"] = json!(end);
    }
    let shop = photo_shop_from_body(&app, &body, Some(&long_pack())).await;
    (dir, app, owner, shop)
}

/// Changes the shop's closing day to `end` (the test clock's day is the change day); returns
/// the position of the update.
pub(crate) async fn change_closing_day(shop: &PhotoShop, end: &str) -> u64 {
    let (body, etag) = closing_on(shop, end).await;
    let written = shop
        .manager
        .put(&shop.path(""), &body, Some(&etag), None)
        .await
        .expect(200);
    written.body["position"].as_u64().expect("position")
}

/// The FECs of the years `years`, once `position` is projected: for each, the year, the closing
/// day of its file name, and its rows.
async fn fecs(
    dir: &Path,
    shop: &PhotoShop,
    years: std::ops::RangeInclusive<i32>,
    position: u64,
) -> Vec<(i32, String, String)> {
    let mut files = Vec::new();
    for year in years {
        let (name, content) = fec_file(shop, year, position).await;
        assert_fec_checks(dir, &name, &content);
        let closing_day = name
            .strip_prefix(&format!("{}FEC", siren()))
            .and_then(|rest| rest.strip_suffix(".txt"))
            .expect("{SIREN}FEC{AAAAMMJJ}.txt")
            .to_string();
        files.push((year, closing_day, content));
    }
    files
}

/// Asserts every line of `content` is dated from `first_day` to `closing_day` (`AAAAMMJJ`) and
/// that debits equal credits.
#[track_caller]
fn assert_within(content: &str, first_day: &str, closing_day: &str) {
    let (mut debit, mut credit) = (0i64, 0i64);
    for cells in fec_rows(content) {
        assert!(
            (first_day..=closing_day).contains(&cells[3]),
            "{} outside {first_day}..{closing_day}: {content}",
            cells[3]
        );
        let amount = |text: &str| crate::api::cents(&text.replace(',', "."));
        debit += amount(cells[11]);
        credit += amount(cells[12]);
    }
    assert_eq!(debit, credit, "{content}");
}

#[tokio::test]
async fn a_change_of_closing_day_gives_one_fec_per_fiscal_year_with_its_real_bounds() {
    // Proves a Paris shop closing on 31 December that moves to 30 June on 10 March 2026 exports
    // 2025 as the calendar year, 2026 as the transitional year 1 January – 30 June 2026 (file
    // named 20260630) and 2027 as 1 July 2026 – 30 June 2027; each invoice, booked on either
    // side of each boundary, is in exactly one of the files of 2024 to 2028, whose lines lie
    // within their year's bounds, balance, and pass the shared checker.
    let name = "Studio Lumière — changement de clôture";
    let (dir, _app, owner, shop) = shop_on_clock("2025-06-01T08:00:00Z", name, None).await;

    // Paris is UTC+1 in winter, UTC+2 in summer.
    let sales = [
        (
            "juin25@example.fr",
            ("2025-06-10T08:00:00Z", "2025-06-10T08:10:00Z"),
        ),
        (
            "reveillon@example.fr",
            ("2025-12-31T22:20:00Z", "2025-12-31T22:30:00Z"),
        ),
        (
            "nouvelan@example.fr",
            ("2025-12-31T23:20:00Z", "2025-12-31T23:30:00Z"),
        ),
        (
            "fevrier@example.fr",
            ("2026-02-15T10:00:00Z", "2026-02-15T10:10:00Z"),
        ),
    ];
    let mut invoices = Vec::new();
    for (email, times) in sales {
        invoices.push(order_paid_at(&owner, &shop, email, times).await.0);
    }
    set_clock(&owner, "2026-03-10T09:00:00Z").await;
    change_closing_day(&shop, "06-30").await;
    let sales = [
        (
            "trentejuin@example.fr",
            ("2026-06-30T21:20:00Z", "2026-06-30T21:30:00Z"),
        ),
        (
            "premierjuillet@example.fr",
            ("2026-06-30T22:20:00Z", "2026-06-30T22:30:00Z"),
        ),
        (
            "mars27@example.fr",
            ("2027-03-01T10:00:00Z", "2027-03-01T10:10:00Z"),
        ),
    ];
    let mut position = 0;
    for (email, times) in sales {
        let (invoice, paid) = order_paid_at(&owner, &shop, email, times).await;
        invoices.push(invoice);
        position = paid;
    }

    let files = fecs(dir.path(), &shop, 2024..=2028, position).await;
    let expected = [
        (2024, "20241231", "20240101", &[][..]),
        (2025, "20251231", "20250101", &invoices[0..2]),
        (2026, "20260630", "20260101", &invoices[2..5]),
        (2027, "20270630", "20260701", &invoices[5..7]),
        (2028, "20280630", "20270701", &[][..]),
    ];
    let mut entry_numbers = Vec::new();
    for ((year, closing_day, content), (want_year, want_closing, first_day, own)) in
        files.iter().zip(expected)
    {
        assert_eq!((*year, closing_day.as_str()), (want_year, want_closing));
        assert_within(content, first_day, want_closing);
        assert_eq!(invoices_in(content, &invoices), own, "{year}: {content}");
        let mut numbers: Vec<u64> = fec_rows(content)
            .iter()
            .map(|cells| cells[2].parse().expect("EcritureNum"))
            .collect();
        numbers.dedup();
        entry_numbers.extend(numbers);
    }
    // Every entry of the books is in one file, once: numbers run 1, 2, 3… across the files.
    entry_numbers.sort_unstable();
    let count = entry_numbers.len() as u64;
    assert!(
        count >= 14,
        "two entries per paid order at least: {entry_numbers:?}"
    );
    assert_eq!(entry_numbers, (1..=count).collect::<Vec<_>>());

    // The listing names the same years (from the first entry's to the one in progress on the
    // clock's day, 1 March 2027), with the bounds and file names the FECs above came with.
    let listed = shop
        .as_role("accountant")
        .get(&shop.path(&format!("/ledger/fiscal-years?min_position={position}")))
        .await
        .expect(200)
        .body;
    let rows: Vec<(i64, &str, &str, Value, bool, String)> = listed["fiscal_years"]
        .as_array()
        .expect("fiscal years")
        .iter()
        .map(|year| {
            (
                year["year"].as_i64().expect("year"),
                year["first_day"].as_str().expect("first day"),
                year["closing_day"].as_str().expect("closing day"),
                year["months"].clone(),
                year["in_progress"].as_bool().expect("in progress"),
                year["fec_file_name"].as_str().expect("file").to_string(),
            )
        })
        .collect();
    let file = |closing: &str| format!("{}FEC{closing}.txt", siren());
    let wanted = vec![
        (
            2025,
            "2025-01-01",
            "2025-12-31",
            json!(12),
            false,
            file("20251231"),
        ),
        (
            2026,
            "2026-01-01",
            "2026-06-30",
            json!(6),
            false,
            file("20260630"),
        ),
        (
            2027,
            "2026-07-01",
            "2027-06-30",
            json!(12),
            true,
            file("20270630"),
        ),
    ];
    assert_eq!(rows, wanted, "{listed}");
    // The books are for the roles that read the ledger, not for a storefront.
    shop.as_role("storefront")
        .get(&shop.path("/ledger/fiscal-years"))
        .await
        .expect(403);
}

/// The invoices of `all` a FEC names as a piece, in the order of `all`.
fn invoices_in(content: &str, all: &[String]) -> Vec<String> {
    let rows = fec_rows(content);
    all.iter()
        .filter(|number| rows.iter().any(|cells| cells[8] == number.as_str()))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_late_change_lengthens_the_fiscal_year_and_a_longer_one_is_refused() {
    // Proves a change to 30 June recorded on 10 August 2026 makes 1 January 2026 – 30 June 2027
    // one fiscal year exported as one FEC named 20270630 (no fiscal year closes in 2026: 400),
    // and a later change that would stretch it past 24 months is a 422 appending nothing.
    let name = "Studio Lumière — exercice long";
    let (dir, _app, owner, shop) = shop_on_clock("2026-01-05T08:00:00Z", name, None).await;
    let times = ("2026-02-15T10:00:00Z", "2026-02-15T10:10:00Z");
    let (february, _) = order_paid_at(&owner, &shop, "fevrier@example.fr", times).await;
    set_clock(&owner, "2026-08-10T09:00:00Z").await;
    change_closing_day(&shop, "06-30").await;
    let times = ("2027-06-30T09:00:00Z", "2027-06-30T09:10:00Z");
    let (june, position) = order_paid_at(&owner, &shop, "juin27@example.fr", times).await;

    shop.manager
        .get(&shop.path(&format!("/ledger/fec?year=2026&min_position={position}")))
        .await
        .expect_problem(400, "invalid-request");
    let files = fecs(dir.path(), &shop, 2027..=2027, position).await;
    let (_, closing_day, content) = &files[0];
    assert_eq!(closing_day, "20270630");
    assert_within(content, "20260101", "20270630");
    let both = [february, june];
    assert_eq!(invoices_in(content, &both), both);

    // On 20 June 2027 the 18-month year is nearly over: closing on 31 May would end it in
    // May 2028, 29 months after it began.
    set_clock(&owner, "2027-06-20T09:00:00Z").await;
    let (may, etag) = closing_on(&shop, "05-31").await;
    let head = owner.head_position().await;
    let refused = shop
        .manager
        .put(&shop.path(""), &may, Some(&etag), None)
        .await;
    refused.expect_problem(422, "validation");
    assert!(refused.raw.contains("24 months"), "{}", refused.raw);
    assert_eq!(owner.head_position().await, head);
}

#[tokio::test]
async fn one_fec_gathers_the_shops_of_one_siren() {
    // Proves a company with two shops hands in one FEC per fiscal year: with the owner token,
    // `shop_ids` adds the other shop; the file is named by the SIREN, passes the shared checker,
    // holds exactly the lines of the two shops' own FECs, numbers its entries 1..n in date
    // order (on a day both shops booked, the path shop's entries first) and keeps every entry
    // balanced. A shop's key cannot reach the other shop (404), and a shop of another SIREN or
    // with another fiscal year is refused (400).
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2025-03-01T09:00:00Z").await;
    let new_shop = |name: &str| shop_body(&fixture(), name);
    let lyon = photo_shop_from_body(&app, &new_shop("Lumière Lyon"), Some(&long_pack())).await;
    let paris = photo_shop_from_body(&app, &new_shop("Lumière Paris"), Some(&long_pack())).await;
    let days = [
        (&paris, "2025-03-10T08:00:00Z", "2025-03-10T08:30:00Z"),
        (&lyon, "2025-03-10T09:00:00Z", "2025-03-10T09:30:00Z"),
        (&paris, "2025-04-05T09:00:00Z", "2025-04-05T09:30:00Z"),
        (&lyon, "2025-05-20T09:00:00Z", "2025-05-20T09:30:00Z"),
    ];
    let mut position = 0;
    for (n, (shop, placed_at, paid_at)) in days.into_iter().enumerate() {
        let email = format!("client{n}@example.fr");
        (_, position) = order_paid_at(&owner, shop, &email, (placed_at, paid_at)).await;
    }
    let (_, lyon_alone) = fec_file(&lyon, 2025, position).await;
    let (_, paris_alone) = fec_file(&paris, 2025, position).await;
    let both_path = lyon.path(&format!(
        "/ledger/fec?year=2025&shop_ids={}&min_position={position}",
        paris.shop_id
    ));
    let (name, both) = fec_download(&owner, &both_path).await;
    assert_eq!(name, format!("{}FEC20251231.txt", siren()));
    assert_fec_checks(dir.path(), &name, &both);

    // The file is, day by day, Lyon's lines of the day (the path shop's) then Paris's, each as
    // in its shop's own FEC, but for EcritureNum. (Both shops number invoices FA-2025-…, so
    // only whole lines in order tell them apart.)
    let rows = fec_rows(&both);
    let without_number = |cells: &Vec<&str>| {
        let mut cells: Vec<String> = cells.iter().map(|cell| cell.to_string()).collect();
        cells.remove(2);
        cells
    };
    let (lyon_rows, paris_rows) = (fec_rows(&lyon_alone), fec_rows(&paris_alone));
    let days: std::collections::BTreeSet<&str> = rows.iter().map(|cells| cells[3]).collect();
    let expected: Vec<Vec<String>> = days
        .iter()
        .flat_map(|day| {
            let of_day = |rows: &Vec<Vec<&str>>| -> Vec<Vec<String>> {
                rows.iter()
                    .filter(|cells| cells[3] == *day)
                    .map(without_number)
                    .collect()
            };
            let mut lines = of_day(&lyon_rows);
            lines.extend(of_day(&paris_rows));
            lines
        })
        .collect();
    assert!(rows.len() >= 8, "{both}");
    assert_eq!(rows.len(), lyon_rows.len() + paris_rows.len());
    assert_eq!(
        rows.iter().map(without_number).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(days.len(), 3, "{both}");

    // Entries numbered 1..n in the file's order, each one balanced.
    let mut numbers: Vec<u64> = Vec::new();
    let mut sums: std::collections::BTreeMap<u64, f64> = Default::default();
    for cells in &rows {
        let number: u64 = cells[2].parse().expect("EcritureNum");
        if numbers.last() != Some(&number) {
            numbers.push(number);
        }
        let amount = |cell: &str| cell.replace(',', ".").parse::<f64>().expect("amount");
        *sums.entry(number).or_default() += amount(cells[11]) - amount(cells[12]);
    }
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
    assert!(sums.values().all(|sum| sum.abs() < 0.005), "{sums:?}");

    lyon.manager
        .get(&both_path)
        .await
        .expect_problem(404, "not-found");
    let stranger = stranger_shop_body("Concurrent");
    let stranger = photo_shop_from_body(&app, &stranger, Some(&long_pack())).await;
    let mut june = new_shop("Lumière Marseille");
    june["fiscal_year_end"] = json!("06-30");
    let june = photo_shop_from_body(&app, &june, Some(&long_pack())).await;
    let head = owner.head_position().await;
    for (other, says) in [(&stranger, "organisation"), (&june, "fiscal years")] {
        let path = lyon.path(&format!(
            "/ledger/fec?year=2025&shop_ids={}&min_position={head}",
            other.shop_id
        ));
        let refused = owner.get(&path).await;
        refused.expect_problem(400, "invalid-request");
        assert!(refused.raw.contains(says), "{}", refused.raw);
    }
}
