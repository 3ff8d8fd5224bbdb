//! Issue 6 end to end: a shop closing its fiscal year on another day than 31 December exports
//! the FEC of the fiscal year closing in the year asked for, named by its closing day; a closing
//! day that is not a day of every year is a 422 that appends nothing.

use std::path::Path;

use serde_json::{json, Value};

use crate::api::set_clock;
use crate::api::{
    big_pack, fixture, home_order, photo_shop, photo_shop_from_body, place, shop_body, Api,
    PhotoShop,
};
use crate::reports::{assert_fec_checks, fec_file};
use crate::shop_profile::invoice_number;
use crate::support::{spawn_app, spawn_app_with_test_clock};
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
    let read = shop.manager.get(&shop.path("")).await.expect(200);
    let mut body = read.body.clone();
    body["fiscal_year_end"] = json!(end);
    (body, read.etag)
}

#[tokio::test]
async fn a_closing_day_must_be_a_day_of_every_year() {
    // Proves 29 February is refused at creation and by an update with a 422 naming the reason,
    // appending nothing; a shop without a closing day reads back 12-31 and exports calendar
    // years; an update to 06-30 is read back and names the next FEC by 30 June.
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
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
