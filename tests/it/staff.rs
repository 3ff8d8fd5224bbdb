//! Staff accounts and sign-in (spec §1, seeds 000 and 001), end to end: a manager creates an
//! employee with a temporary password; the employee signs in, must change it and accept the
//! terms before anything else answers; access follows locks, archives and the organisation's
//! seats; wrong passwords lock sign-in; idle sessions end; forgotten passwords are reset by a
//! mailed single-use link.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{fixture, photo_shop, set_clock, stranger_shop_body, Api, PhotoShop, Reply};
use crate::smtp_sink::{plain_text, serve_with_mail, Received, SmtpSink};
use crate::support::{spawn_app, spawn_app_in, spawn_app_with_test_clock, TestApp};

const NEW_PASSWORD: &str = "un mot de passe solide";

/// Sets the organisation's seats as the owner, with the `If-Match` of a fresh read.
async fn set_seats(owner: &Api, seats: u32) -> crate::api::Reply {
    let path = format!("/v1/organisations/{}/staff-seats", siren());
    let etag = owner.get(&path).await.expect(200).etag;
    owner
        .put(&path, &json!({"seats": seats}), Some(&etag), None)
        .await
}

fn siren() -> String {
    fixture()["organisation"]["siren"]
        .as_str()
        .expect("siren")
        .to_owned()
}

/// Creates a member with `role` in the shop as `api`; returns the answer.
async fn create_member(api: &Api, shop: &PhotoShop, email: &str, role: &str) -> crate::api::Reply {
    let body = json!({"email": email, "first_name": "Léa", "last_name": "Martin",
        "grants": [{"shop_id": shop.shop_id, "role": role}]});
    api.post("/v1/staff", &body).await
}

/// Creates an employee as the shop's manager key: (staff id, temporary password).
async fn employee(shop: &PhotoShop, email: &str) -> (String, String) {
    let created = create_member(&shop.manager, shop, email, "employee")
        .await
        .expect(201);
    (created.id("staff_id"), created.id("temporary_password"))
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Reply {
    let anonymous = Api::new(app, "none");
    let body = json!({"email": email, "password": password});
    anonymous.post("/v1/staff/sessions", &body).await
}

/// Signs in and returns a client bound to the session token.
async fn session(app: &TestApp, email: &str, password: &str) -> Api {
    let token = sign_in(app, email, password).await.expect(201).id("token");
    Api::new(app, &token)
}

/// An employee past the first sign-in: password changed and terms accepted.
async fn ready_employee(app: &TestApp, shop: &PhotoShop, email: &str) -> (String, Api) {
    let (staff_id, temporary) = employee(shop, email).await;
    let api = session(app, email, &temporary).await;
    let change = json!({"current_password": temporary, "new_password": NEW_PASSWORD});
    api.post("/v1/staff/me/password", &change).await.expect(200);
    api.post("/v1/staff/me/terms", &json!({"version": 1}))
        .await
        .expect(200);
    (staff_id, api)
}

#[tokio::test]
async fn an_employee_changes_the_temporary_password_and_accepts_the_terms_before_working() {
    // Proves the first sign-in's path: temporary password shown once and refused once changed;
    // every other route waits for the password change, then for the terms; then the employee
    // works with the employee role in their shop only.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let other = crate::api::photo_shop_from_body(&app, &stranger_shop_body("Ailleurs"), None).await;
    let email = "lea.martin@studio-lumiere.fr";
    let (staff_id, temporary) = employee(&shop, email).await;
    assert_eq!(temporary.chars().count(), 16);

    let signed_in = sign_in(&app, "Lea.Martin@Studio-Lumiere.fr", &temporary)
        .await
        .expect(201);
    assert_eq!(signed_in.body["must_change_password"], true);
    assert_eq!(signed_in.body["terms_to_accept"], 1);
    assert_eq!(signed_in.body["idle_timeout_minutes"], 90);
    let me = Api::new(&app, &signed_in.id("token"));
    me.get(&shop.path("/orders"))
        .await
        .expect_problem(403, "password-change-required");
    let own = me.get("/v1/staff/me").await.expect(200);
    assert_eq!(own.body["staff_id"], staff_id.as_str());
    assert_eq!(own.body["email"], email);

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    me.post(
        "/v1/staff/me/password",
        &change("wrong password!", NEW_PASSWORD),
    )
    .await
    .expect_problem(422, "validation");
    me.post("/v1/staff/me/password", &change(&temporary, "court"))
        .await
        .expect_problem(422, "validation");
    me.post("/v1/staff/me/password", &change(&temporary, NEW_PASSWORD))
        .await
        .expect(200);
    me.get(&shop.path("/orders"))
        .await
        .expect_problem(403, "terms-acceptance-required");
    me.post("/v1/staff/me/terms", &json!({"version": 2}))
        .await
        .expect_problem(422, "validation");
    me.post("/v1/staff/me/terms", &json!({"version": 1}))
        .await
        .expect(200);

    me.get(&shop.path("/orders")).await.expect(200);
    let shops = me.get("/v1/shops").await.expect(200);
    assert_eq!(shops.body["items"].as_array().expect("items").len(), 1);
    let key = json!({"role": "storefront", "label": "x"});
    me.post(&shop.path("/api-keys"), &key)
        .await
        .expect_problem(403, "forbidden");
    me.get(&other.path("/orders"))
        .await
        .expect_problem(404, "not-found");
    create_member(&me, &shop, "someone@studio-lumiere.fr", "employee")
        .await
        .expect_problem(403, "forbidden");

    sign_in(&app, email, &temporary)
        .await
        .expect_problem(401, "unauthorized");
    let again = session(&app, email, NEW_PASSWORD).await;
    again.get(&shop.path("/orders")).await.expect(200);
    me.send(Method::DELETE, "/v1/staff/sessions/current", None, None)
        .await
        .expect(200);
    me.get("/v1/staff/me")
        .await
        .expect_problem(401, "unauthorized");
    again.get(&shop.path("/orders")).await.expect(200);
}

#[tokio::test]
async fn access_follows_locks_archives_and_the_organisations_seats() {
    // Proves seed 001's rules: a lock ends the member's sessions and frees the seat, a member
    // cannot be created or unlocked without a free seat (nothing appended), archiving frees a
    // seat, and only the owner manages managers.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let owner = Api::owner(&app);
    let seats_path = format!("/v1/organisations/{}/staff-seats", siren());
    let seats = owner.get(&seats_path).await.expect(200);
    assert_eq!(
        (seats.body["seats"].as_u64(), seats.body["taken"].as_u64()),
        (Some(5), Some(0))
    );
    set_seats(&owner, 1).await.expect(200);
    shop.manager
        .get(&seats_path)
        .await
        .expect_problem(403, "forbidden");

    let (lea, lea_api) = ready_employee(&app, &shop, "lea@studio-lumiere.fr").await;
    let before = owner.head_position().await;
    create_member(&shop.manager, &shop, "jules@studio-lumiere.fr", "employee")
        .await
        .expect_problem(409, "no-free-seat");
    assert_eq!(owner.head_position().await, before, "nothing appended");
    set_seats(&owner, 0)
        .await
        .expect_problem(409, "seats-in-use");

    let locked = shop
        .manager
        .post(&format!("/v1/staff/{lea}/lock"), &json!({}))
        .await
        .expect(200);
    assert_eq!(locked.body["has_access"], false);
    assert_eq!(locked.body["open_sessions"], 0);
    lea_api
        .get(&shop.path("/orders"))
        .await
        .expect_problem(401, "unauthorized");
    sign_in(&app, "lea@studio-lumiere.fr", NEW_PASSWORD)
        .await
        .expect_problem(403, "staff-access-revoked");
    assert_eq!(owner.get(&seats_path).await.body["taken"], 0);

    let (jules, _) = employee(&shop, "jules@studio-lumiere.fr").await;
    let unlock = format!("/v1/staff/{lea}/unlock");
    shop.manager
        .post(&unlock, &json!({}))
        .await
        .expect_problem(409, "no-free-seat");
    shop.manager
        .post(&format!("/v1/staff/{jules}/archive"), &json!({}))
        .await
        .expect(200);
    shop.manager.post(&unlock, &json!({})).await.expect(200);
    session(&app, "lea@studio-lumiere.fr", NEW_PASSWORD)
        .await
        .get(&shop.path("/orders"))
        .await
        .expect(200);

    set_seats(&owner, 3).await.expect(200);
    create_member(&shop.manager, &shop, "chef@studio-lumiere.fr", "manager")
        .await
        .expect_problem(403, "forbidden");
    let chef = create_member(&owner, &shop, "chef@studio-lumiere.fr", "manager")
        .await
        .expect(201)
        .id("staff_id");
    shop.manager
        .post(&format!("/v1/staff/{chef}/lock"), &json!({}))
        .await
        .expect_problem(403, "forbidden");
    let listed = shop.manager.get(&shop.path("/staff")).await.expect(200);
    let emails: Vec<&str> = listed
        .body
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails.len(), 3, "{emails:?}");
    assert!(emails.contains(&"chef@studio-lumiere.fr"));
    let roster = format!("/v1/organisations/{}/staff", siren());
    shop.manager
        .get(&roster)
        .await
        .expect_problem(403, "forbidden");
    let everyone = owner.get(&roster).await.expect(200);
    assert_eq!(everyone.body.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn bad_staff_requests_are_refused_and_append_nothing() {
    // Proves creation refuses a taken email, an invalid email, an unknown shop, shops of two
    // organisations and unknown fields, each with its problem and no event; a retried creation
    // with its Idempotency-Key creates nothing more.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let other = crate::api::photo_shop_from_body(&app, &stranger_shop_body("Ailleurs"), None).await;
    let owner = Api::owner(&app);
    let body = json!({"email": "lea@studio-lumiere.fr", "first_name": "Léa", "last_name": "Martin",
        "grants": [{"shop_id": shop.shop_id, "role": "employee"}]});
    let first = owner
        .post_with_key("/v1/staff", &body, "create-lea")
        .await
        .expect(201);
    let before = owner.head_position().await;
    let retry = owner
        .post_with_key("/v1/staff", &body, "create-lea")
        .await
        .expect(201);
    assert_eq!(retry.body["staff_id"], first.body["staff_id"]);

    let with = |change: &dyn Fn(&mut Value)| {
        let mut changed = body.clone();
        changed["email"] = json!("jules@studio-lumiere.fr");
        change(&mut changed);
        changed
    };
    let cases = [
        (
            with(&|b| b["email"] = json!("LEA@studio-lumiere.fr")),
            409,
            "already-exists",
        ),
        (
            with(&|b| b["email"] = json!("pas un email")),
            422,
            "validation",
        ),
        (with(&|b| b["first_name"] = json!("  ")), 422, "validation"),
        (with(&|b| b["grants"] = json!([])), 422, "validation"),
        (
            with(&|b| b["grants"][0]["shop_id"] = json!(uuid::Uuid::nil())),
            404,
            "not-found",
        ),
        (
            with(&|b| {
                b["grants"] = json!([{"shop_id": shop.shop_id, "role": "employee"},
            {"shop_id": other.shop_id, "role": "employee"}])
            }),
            422,
            "validation",
        ),
        (
            with(&|b| b["password"] = json!("chosen")),
            400,
            "invalid-request",
        ),
    ];
    for (case, status, code) in cases {
        owner
            .post("/v1/staff", &case)
            .await
            .expect_problem(status, code);
        assert_eq!(
            owner.head_position().await,
            before,
            "nothing appended for {case}"
        );
    }
}

#[tokio::test]
async fn five_wrong_passwords_lock_sign_in_for_15_minutes_even_across_a_restart() {
    // Proves wrong passwords are counted in the log: the fifth locks sign-in (429, even with
    // the right password, and after a restart), 15 minutes later the right password works.
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-06-01T09:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (_, temporary) = employee(&shop, "lea@studio-lumiere.fr").await;
    for _ in 0..5 {
        sign_in(&app, "lea@studio-lumiere.fr", "devine-devine")
            .await
            .expect_problem(401, "unauthorized");
    }
    sign_in(&app, "lea@studio-lumiere.fr", &temporary)
        .await
        .expect_problem(429, "sign-in-locked-out");
    app.stop().await;
    let app = spawn_app_in_with_clock(dir.path()).await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-06-01T09:10:00Z").await;
    sign_in(&app, "lea@studio-lumiere.fr", &temporary)
        .await
        .expect_problem(429, "sign-in-locked-out");
    set_clock(&owner, "2026-06-01T09:16:00Z").await;
    sign_in(&app, "lea@studio-lumiere.fr", &temporary)
        .await
        .expect(201);
    sign_in(&app, "nobody@studio-lumiere.fr", &temporary)
        .await
        .expect_problem(401, "unauthorized");
}

async fn sign_in_from(app: &TestApp, email: &str, password: &str, device: &str) -> Reply {
    let anonymous = Api::new(app, "none");
    let body = json!({"email": email, "password": password, "device_token": device});
    anonymous.post("/v1/staff/sessions", &body).await
}

#[tokio::test]
async fn a_stranger_s_wrong_passwords_do_not_lock_out_a_device_the_member_signed_in_from() {
    // Proves the lockout-as-denial-of-service is closed: after someone else's five wrong
    // passwords, sign-in without a device token or with a made-up one is refused (429), while
    // the member's own device signs in; that device's own five wrong passwords make it a
    // stranger again, which the next lockout stops.
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let email = "lea@studio-lumiere.fr";
    let (_, temporary) = employee(&shop, email).await;
    let first = sign_in(&app, email, &temporary).await.expect(201);
    let device = first.body["device_token"]
        .as_str()
        .expect("a device token")
        .to_string();
    assert!(device.starts_with("cd_"), "{device}");
    let again = sign_in_from(&app, email, &temporary, &device)
        .await
        .expect(201);
    assert_eq!(
        again.body["device_token"],
        device.as_str(),
        "the same device"
    );

    for _ in 0..5 {
        sign_in(&app, email, "devine-devine")
            .await
            .expect_problem(401, "unauthorized");
    }
    sign_in(&app, email, &temporary)
        .await
        .expect_problem(429, "sign-in-locked-out");
    let made_up = format!("cd_{}", "0".repeat(64));
    sign_in_from(&app, email, &temporary, &made_up)
        .await
        .expect_problem(429, "sign-in-locked-out");
    sign_in_from(&app, email, &temporary, &device)
        .await
        .expect(201);

    for _ in 0..5 {
        sign_in_from(&app, email, "devine-devine", &device)
            .await
            .expect_problem(401, "unauthorized");
    }
    for _ in 0..5 {
        sign_in(&app, email, "devine-devine")
            .await
            .expect_problem(401, "unauthorized");
    }
    sign_in_from(&app, email, &temporary, &device)
        .await
        .expect_problem(429, "sign-in-locked-out");
}

async fn spawn_app_in_with_clock(dir: &std::path::Path) -> TestApp {
    crate::support::spawn_app_with(dir, &["--test-clock"]).await
}

/// A server on a test clock with an employee signed in at 09:00 who made a request at 10:20:
/// its data dir, the server, the owner, the shop and the employee's session.
async fn signed_in_at_9_used_at_10_20() -> (tempfile::TempDir, TestApp, Api, PhotoShop, Api) {
    let (dir, app) = spawn_app_with_test_clock().await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-06-01T09:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (_, me) = ready_employee(&app, &shop, "lea@studio-lumiere.fr").await;
    set_clock(&owner, "2026-06-01T10:20:00Z").await;
    me.get(&shop.path("/orders")).await.expect(200);
    (dir, app, owner, shop, me)
}

#[tokio::test]
async fn a_session_ends_after_90_minutes_without_a_request() {
    // Proves activity keeps a session open past 90 minutes from its sign-in, and 90 idle
    // minutes end it for good.
    let (_dir, _app, owner, shop, me) = signed_in_at_9_used_at_10_20().await;
    set_clock(&owner, "2026-06-01T11:49:00Z").await;
    me.get(&shop.path("/orders")).await.expect(200);
    set_clock(&owner, "2026-06-01T13:20:00Z").await;
    me.get(&shop.path("/orders"))
        .await
        .expect_problem(401, "unauthorized");
    set_clock(&owner, "2026-06-01T13:21:00Z").await;
    me.get("/v1/staff/me")
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_restart_keeps_the_activity_that_keeps_a_session_open() {
    // Proves the sessions' activity outlives a restart: a session signed in at 09:00 and used
    // at 10:20 still answers at 10:40 on a restarted server (100 minutes after its sign-in, 20
    // after its last request), and still ends after 90 idle minutes.
    let (dir, app, _, shop, me) = signed_in_at_9_used_at_10_20().await;
    app.stop().await;

    let app = spawn_app_in_with_clock(dir.path()).await;
    let owner = Api::owner(&app);
    let me = Api::new(&app, &me.token);
    set_clock(&owner, "2026-06-01T10:40:00Z").await;
    me.get(&shop.path("/orders")).await.expect(200);
    set_clock(&owner, "2026-06-01T12:11:00Z").await;
    me.get(&shop.path("/orders"))
        .await
        .expect_problem(401, "unauthorized");
}

fn is_reset(mail: &Received) -> bool {
    plain_text(&mail.data).contains("To choose a new password")
}

fn is_invitation(mail: &Received) -> bool {
    plain_text(&mail.data).contains("Your account was just created")
}

/// The token of the `count`th mail that `keep` keeps.
async fn mailed_token(sink: &SmtpSink, count: usize, keep: fn(&Received) -> bool) -> String {
    let mails = sink.wait_for_where(count, keep).await;
    let text = plain_text(&mails[count - 1].data);
    let start = text.find("#token=").expect("a reset link") + "#token=".len();
    text[start..]
        .split_whitespace()
        .next()
        .expect("token")
        .to_owned()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_mailed_single_use_link() {
    // Proves the reset path: a mail with a link to the server's reset page for a known email,
    // none for an unknown one (same answer) nor for the same request again within a minute; the token sets a new password once, ends the
    // member's sessions, and an expired token is refused.
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = serve_with_mail(dir.path(), &sink).await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2026-06-01T09:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let email = "lea@studio-lumiere.fr";
    let (_, me) = ready_employee(&app, &shop, email).await;
    sink.wait_for_where(1, is_invitation).await;
    // Past the minute in which the invitation's link stands for any other request.
    set_clock(&owner, "2026-06-01T09:05:00Z").await;
    let anonymous = Api::new(&app, "none");
    let ask = |email: &str| json!({"email": email});
    let unknown = anonymous
        .post(
            "/v1/staff/password-resets",
            &ask("nobody@studio-lumiere.fr"),
        )
        .await
        .expect(202);
    let known = anonymous
        .post("/v1/staff/password-resets", &ask(email))
        .await
        .expect(202);
    assert_eq!(unknown.body, known.body);
    // The form sent twice: the second request within the minute mails nothing more.
    anonymous
        .post("/v1/staff/password-resets", &ask(email))
        .await
        .expect(202);
    let token = mailed_token(&sink, 1, is_reset).await;
    let resets = sink.messages_where(is_reset);
    let mail = plain_text(&resets[0].data);
    assert!(
        mail.contains(&app.url("/staff/reset-password#token=")),
        "{mail}"
    );
    assert_eq!(resets[0].recipients, [email]);
    let page = app.get("/staff/reset-password").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page
        .text()
        .await
        .expect("page")
        .contains("/v1/staff/password-resets/complete"));

    let complete = |token: &str, password: &str| json!({"token": token, "new_password": password});
    anonymous
        .post(
            "/v1/staff/password-resets/complete",
            &complete(&token, "trop court"),
        )
        .await
        .expect_problem(422, "validation");
    anonymous
        .post(
            "/v1/staff/password-resets/complete",
            &complete(&token, "un tout autre secret"),
        )
        .await
        .expect(200);
    anonymous
        .post(
            "/v1/staff/password-resets/complete",
            &complete(&token, "encore un autre secret"),
        )
        .await
        .expect_problem(422, "password-reset-invalid");
    me.get("/v1/staff/me")
        .await
        .expect_problem(401, "unauthorized");
    sign_in(&app, email, NEW_PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    session(&app, email, "un tout autre secret").await;

    anonymous
        .post("/v1/staff/password-resets", &ask(email))
        .await
        .expect(202);
    let late = mailed_token(&sink, 2, is_reset).await;
    set_clock(&owner, "2026-06-01T10:06:00Z").await;
    anonymous
        .post(
            "/v1/staff/password-resets/complete",
            &complete(&late, "un secret trop tardif"),
        )
        .await
        .expect_problem(422, "password-reset-invalid");
    assert_eq!(
        sink.messages_where(is_reset).len(),
        2,
        "no mail for the unknown email"
    );
}

#[tokio::test]
async fn with_mail_a_new_member_is_invited_to_choose_a_password() {
    // Proves the invitation: creating a member on a server with mail sends them a link to
    // choose their password; with it, they sign in with no password change to make (the terms
    // still to accept), and the temporary password stops working. A retried creation sends
    // nothing more.
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = serve_with_mail(dir.path(), &sink).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let email = "lea@studio-lumiere.fr";
    let body = json!({"email": email, "first_name": "Léa", "last_name": "Martin",
        "grants": [{"shop_id": shop.shop_id, "role": "employee"}]});
    let created = shop
        .manager
        .post_with_key("/v1/staff", &body, "hire-lea")
        .await
        .expect(201);
    let temporary = created.id("temporary_password");
    let token = mailed_token(&sink, 1, is_invitation).await;
    let invitation = sink.messages_where(is_invitation);
    assert_eq!(invitation[0].recipients, [email]);
    assert!(plain_text(&invitation[0].data).starts_with("Bonjour Léa,"));
    shop.manager
        .post_with_key("/v1/staff", &body, "hire-lea")
        .await
        .expect(201);

    let chosen = json!({"token": token, "new_password": "mon propre secret"});
    Api::new(&app, "none")
        .post("/v1/staff/password-resets/complete", &chosen)
        .await
        .expect(200);
    sign_in(&app, email, &temporary)
        .await
        .expect_problem(401, "unauthorized");
    let signed_in = sign_in(&app, email, "mon propre secret").await.expect(201);
    assert_eq!(signed_in.body["must_change_password"], false);
    assert_eq!(signed_in.body["terms_to_accept"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        sink.messages_where(is_invitation).len(),
        1,
        "one invitation"
    );
}

#[tokio::test]
async fn a_server_without_mail_says_it_cannot_reset_passwords() {
    // Proves a reset asked of a server with no SMTP is refused plainly (not a silent 202).
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_in(dir.path()).await;
    Api::new(&app, "none")
        .post(
            "/v1/staff/password-resets",
            &json!({"email": "lea@example.fr"}),
        )
        .await
        .expect_problem(403, "password-reset-unavailable");
}

#[tokio::test]
async fn staff_answers_match_the_served_openapi_document() {
    // Proves every staff route's answer, success and problem, validates against /openapi.json.
    use crate::openapi::{conforms, served_document};
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let document = served_document(&owner).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let email = "lea@studio-lumiere.fr";
    let created = create_member(&shop.manager, &shop, email, "employee")
        .await
        .expect(201);
    conforms(&document, Method::POST, "/v1/staff", &created);
    let (staff_id, temporary) = (created.id("staff_id"), created.id("temporary_password"));
    let signed_in = sign_in(&app, email, &temporary).await.expect(201);
    conforms(&document, Method::POST, "/v1/staff/sessions", &signed_in);
    let me = Api::new(&app, &signed_in.id("token"));
    conforms(
        &document,
        Method::GET,
        "/v1/staff/me",
        &me.get("/v1/staff/me").await,
    );
    let refused = me.get(&shop.path("/orders")).await;
    conforms(
        &document,
        Method::GET,
        "/v1/shops/{shop_id}/orders",
        &refused,
    );
    let change = json!({"current_password": temporary, "new_password": NEW_PASSWORD});
    let changed = me.post("/v1/staff/me/password", &change).await.expect(200);
    conforms(&document, Method::POST, "/v1/staff/me/password", &changed);
    let terms = me.post("/v1/staff/me/terms", &json!({"version": 1})).await;
    conforms(
        &document,
        Method::POST,
        "/v1/staff/me/terms",
        &terms.expect(200),
    );

    let one = format!("/v1/staff/{staff_id}");
    conforms(
        &document,
        Method::GET,
        "/v1/staff/{staff_id}",
        &me.get(&one).await.expect(200),
    );
    let listed = shop.manager.get(&shop.path("/staff")).await.expect(200);
    conforms(&document, Method::GET, "/v1/shops/{shop_id}/staff", &listed);
    let grant = json!({"shop_id": shop.shop_id, "role": "manager"});
    let granted = owner
        .post(&format!("{one}/grants"), &grant)
        .await
        .expect(200);
    conforms(
        &document,
        Method::POST,
        "/v1/staff/{staff_id}/grants",
        &granted,
    );
    assert_eq!(granted.body["grants"][0]["role"], "manager");
    let locked = owner
        .post(&format!("{one}/lock"), &json!({}))
        .await
        .expect(200);
    conforms(
        &document,
        Method::POST,
        "/v1/staff/{staff_id}/lock",
        &locked,
    );
    let roster = owner
        .get(&format!("/v1/organisations/{}/staff", siren()))
        .await
        .expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/organisations/{siren}/staff",
        &roster,
    );
    let seats_path = format!("/v1/organisations/{}/staff-seats", siren());
    let seats = owner.get(&seats_path).await.expect(200);
    conforms(
        &document,
        Method::GET,
        "/v1/organisations/{siren}/staff-seats",
        &seats,
    );
    let set = set_seats(&owner, 2).await;
    conforms(
        &document,
        Method::PUT,
        "/v1/organisations/{siren}/staff-seats",
        &set.expect(200),
    );
    owner
        .post(&format!("{one}/unlock"), &json!({}))
        .await
        .expect(200);
    let again = session(&app, email, NEW_PASSWORD).await;
    let out = again
        .send(Method::DELETE, "/v1/staff/sessions/current", None, None)
        .await
        .expect(200);
    conforms(
        &document,
        Method::DELETE,
        "/v1/staff/sessions/current",
        &out,
    );
    let wrong = sign_in(&app, email, "pas le bon mot de passe").await;
    conforms(&document, Method::POST, "/v1/staff/sessions", &wrong);
}

#[tokio::test]
async fn a_manager_replaces_a_forgotten_password_by_a_temporary_one() {
    // Proves the way back in without mail: a manager issues a temporary password, shown once;
    // the member's sessions and old password stop working, and the temporary one must be
    // changed at sign-in. The member cannot do it for themselves, a manager not for a manager.
    use crate::openapi::{conforms, served_document};
    let (_dir, app) = spawn_app().await;
    let owner = Api::owner(&app);
    let document = served_document(&owner).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let email = "lea@studio-lumiere.fr";
    let (lea, me) = ready_employee(&app, &shop, email).await;
    let path = format!("/v1/staff/{lea}/temporary-password");
    me.post(&path, &json!({}))
        .await
        .expect_problem(403, "forbidden");
    let issued = shop.manager.post(&path, &json!({})).await.expect(200);
    conforms(
        &document,
        Method::POST,
        "/v1/staff/{staff_id}/temporary-password",
        &issued,
    );
    assert_eq!(issued.body["must_change_password"], true);
    me.get("/v1/staff/me")
        .await
        .expect_problem(401, "unauthorized");
    sign_in(&app, email, NEW_PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    let temporary = issued.id("temporary_password");
    let again = sign_in(&app, email, &temporary).await.expect(201);
    assert_eq!(again.body["must_change_password"], true);

    let chef = create_member(&owner, &shop, "chef@studio-lumiere.fr", "manager")
        .await
        .expect(201)
        .id("staff_id");
    shop.manager
        .post(&format!("/v1/staff/{chef}/temporary-password"), &json!({}))
        .await
        .expect_problem(403, "forbidden");
    owner
        .post(&format!("/v1/staff/{chef}/temporary-password"), &json!({}))
        .await
        .expect(200);
}

#[tokio::test]
async fn the_shops_event_feed_shows_staff_roles_but_no_password_or_token_hash() {
    // Proves what integrations following the shop's feed see of its staff: the roles given and
    // taken once an account exists (events naming the shop; the creation lists its shops in
    // its grants and is the account's, not the shop's), never a password hash, a session's or a
    // reset's token hash (those events name no shop).
    let (_dir, app) = spawn_app().await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (lea, _) = ready_employee(&app, &shop, "lea@studio-lumiere.fr").await;
    shop.manager
        .send(
            Method::DELETE,
            &format!("/v1/staff/{lea}/grants/{}", shop.shop_id),
            None,
            None,
        )
        .await
        .expect(200);
    let feed = shop
        .as_role("accountant")
        .get(&shop.path("/events?after=0&limit=500"))
        .await
        .expect(200);
    let types: Vec<&str> = feed.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["event_type"].as_str())
        .filter(|name| name.starts_with("Staff"))
        .collect();
    assert_eq!(types, ["StaffAccessRevoked"], "{}", feed.raw);
    for secret in ["password_hash", "token_hash", "device_hash", "$argon2id$"] {
        assert!(!feed.raw.contains(secret), "{secret} in the feed");
    }
}
