//! The shop's customer account form (seed 000, "Comptes clients"), end to end: a manager sets
//! which standard fields are required and adds fields of the shop's own; sign-ups and profile
//! changes are checked against it, and the answers are kept with the account.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{photo_shop, Api, PhotoShop, Reply};
use crate::openapi::{conforms, served_document};
use crate::reports::{download, python, READ_XLSX};
use crate::support::spawn_app;

const FORM: &str = "/v1/shops/{shop_id}/account-form";

fn photo_club_form() -> Value {
    json!({
        "phone": "mandatory",
        "address": "hidden",
        "extra_fields": [
            {"key": "civilite", "label": "Civilité", "options": ["M.", "Mme"], "mandatory": true},
            {"key": "club", "label": "Photo-club", "description": "Le club dont vous êtes membre"},
        ],
    })
}

fn sign_up(extra: Value, phone: Option<&str>) -> Value {
    json!({"email": "claire@example.fr", "first_name": "Claire", "last_name": "Martin",
        "phone": phone, "extra": extra})
}

/// Expects `reply` to be a 422 naming `field`, with nothing appended since `before`.
async fn refused(api: &Api, reply: Reply, field: &str, before: u64) {
    reply.expect_problem(422, "validation");
    assert!(
        reply.raw.contains(field),
        "{field} not named: {}",
        reply.raw
    );
    assert_eq!(api.head_position().await, before, "nothing appended");
}

async fn set_form(shop: &PhotoShop, form: &Value) -> Reply {
    let path = shop.path("/account-form");
    let etag = shop.manager.get(&path).await.expect(200).etag;
    shop.manager.put(&path, form, Some(&etag), None).await
}

#[tokio::test]
async fn sign_ups_and_profile_changes_fill_what_the_shops_account_form_asks() {
    // Proves the default form, who may read and set it, and that registrations and profile
    // changes must fill its mandatory fields with allowed answers; answers are kept with the
    // account (and exported, a column per field), survive a change that omits them, and one to a field removed since may stay
    // but not change.
    let (_dir, app) = spawn_app().await;
    let document = served_document(&Api::owner(&app)).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let storefront = shop.as_role("storefront");
    let path = shop.path("/account-form");
    let default = storefront.get(&path).await.expect(200);
    conforms(&document, Method::GET, FORM, &default);
    assert_eq!(
        default.body,
        json!({"phone": "optional", "address": "optional", "extra_fields": []})
    );
    shop.as_role("employee")
        .put(&path, &photo_club_form(), Some(&default.etag), None)
        .await
        .expect_problem(403, "forbidden");
    shop.manager
        .put(&path, &photo_club_form(), None, None)
        .await
        .expect_problem(428, "precondition-required");
    let mut four = photo_club_form();
    for key in ["a", "b"] {
        four["extra_fields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": key, "label": key}));
    }
    let before = shop.manager.head_position().await;
    refused(
        &shop.manager,
        set_form(&shop, &four).await,
        "extra_fields",
        before,
    )
    .await;
    let set = set_form(&shop, &photo_club_form()).await.expect(200);
    conforms(&document, Method::PUT, FORM, &set);
    assert_ne!(set.etag, default.etag);

    let customers = shop.path("/customers");
    let before = storefront.head_position().await;
    let cases = [
        (sign_up(json!({"civilite": "Mme"}), None), "phone"),
        (
            sign_up(json!({"club": "Les Déclencheurs"}), Some("0478000000")),
            "civilite",
        ),
        (
            sign_up(json!({"civilite": "Dr"}), Some("0478000000")),
            "M., Mme",
        ),
        (
            sign_up(json!({"civilite": "Mme", "age": "40"}), Some("0478000000")),
            "extra.age",
        ),
    ];
    for (body, field) in cases {
        refused(
            &storefront,
            storefront.post(&customers, &body).await,
            field,
            before,
        )
        .await;
    }
    let answers = json!({"civilite": "Mme", "club": "Les Déclencheurs"});
    let created = storefront
        .post(&customers, &sign_up(answers.clone(), Some("0478000000")))
        .await
        .expect(201);
    conforms(
        &document,
        Method::POST,
        "/v1/shops/{shop_id}/customers",
        &created,
    );
    let one = format!("{customers}/{}", created.id("customer_id"));
    let read = |at: u64| format!("{one}?min_position={at}");
    let at = created.body["position"].as_u64().expect("position");
    let account = storefront.get(&read(at)).await.expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/customers/{customer_id}",
        &account,
    );
    assert_eq!(account.body["extra"], answers);
    let export = shop
        .manager
        .get(&shop.path(&format!("/customers/export?min_position={at}")))
        .await
        .expect(200);
    let mut lines = export.raw.lines();
    assert_eq!(
        lines.next(),
        Some("customer_id,email,first_name,last_name,phone,registered_at,civilite,club"),
        "one column per field of the shop's own: {}",
        export.raw
    );
    let row = lines.next().expect("Claire's row");
    assert!(row.ends_with(",Mme,Les Déclencheurs"), "{row}");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = shop.path(&format!("/customers/export?format=xlsx&min_position={at}"));
    let xlsx = download(
        &shop.manager,
        &path,
        dir.path(),
        "c.xlsx",
        "application/vnd",
    )
    .await;
    let rows = python(READ_XLSX, &xlsx);
    let rows: Vec<&str> = rows.lines().collect();
    assert!(rows[0].ends_with("|str=civilite|str=club"), "{rows:?}");
    assert!(
        rows[1].ends_with("|str=Mme|str=Les Déclencheurs"),
        "{rows:?}"
    );

    let profile = json!({"first_name": "Claire", "last_name": "Martin-Roux",
        "phone": "0478000000"});
    let changed = storefront
        .put(&one, &profile, Some(&account.etag), None)
        .await
        .expect(200);
    let at = changed.body["position"].as_u64().expect("position");
    let account = storefront.get(&read(at)).await.expect(200);
    assert_eq!(account.body["extra"], answers, "omitted answers stay");

    let mut without_club = photo_club_form();
    without_club["extra_fields"].as_array_mut().unwrap().pop();
    set_form(&shop, &without_club).await.expect(200);
    let mut kept = profile.clone();
    kept["extra"] = answers.clone();
    kept["last_name"] = json!("Martin");
    let account = storefront.get(&read(at)).await.expect(200);
    let written = storefront
        .put(&one, &kept, Some(&account.etag), None)
        .await
        .expect(200);
    let at = written.body["position"].as_u64().expect("position");
    let mut altered = kept.clone();
    altered["extra"]["club"] = json!("Un autre club");
    let account = storefront.get(&read(at)).await.expect(200);
    let before = storefront.head_position().await;
    let reply = storefront
        .put(&one, &altered, Some(&account.etag), None)
        .await;
    refused(&storefront, reply, "extra.club", before).await;
}
