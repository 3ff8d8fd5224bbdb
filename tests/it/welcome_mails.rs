//! The confirmation mail of a sign-up (seed 002), end to end: the SMTP sink receives it once,
//! a retried sign-up and a restart send nothing more, and accounts opened before the server had
//! mail are not mailed when it gets it.

use std::time::Duration;

use serde_json::json;

use crate::api::{photo_shop, Api, PhotoShop};
use crate::smtp_sink::{is_welcome, plain_text, serve_with_mail, SmtpSink};
use crate::support::spawn_app_with;

async fn sign_up(shop: &PhotoShop, email: &str, first_name: &str) {
    let body = json!({"email": email, "first_name": first_name, "last_name": "Martin"});
    shop.as_role("storefront")
        .post_with_key(&shop.path("/customers"), &body, email)
        .await
        .expect(201);
}

#[tokio::test]
async fn a_sign_up_is_confirmed_by_mail_once() {
    // Proves a new account gets one confirmation mail at its address, naming the shop and the
    // customer; a retried sign-up and a restart send nothing more, and the next account gets
    // its own.
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = serve_with_mail(dir.path(), &sink).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    sign_up(&shop, "Claire.Martin@Example.fr", "Claire").await;
    let mails = sink.wait_for_where(1, is_welcome).await;
    assert_eq!(mails[0].recipients, ["claire.martin@example.fr"]);
    let body = plain_text(&mails[0].data);
    assert!(body.starts_with("Bonjour Claire,"), "{body}");
    assert!(body.contains("Studio Lumière"), "{body}");
    assert!(mails[0].message_id().is_some());

    sign_up(&shop, "Claire.Martin@Example.fr", "Claire").await;
    app.stop().await;
    let app = serve_with_mail(dir.path(), &sink).await;
    let shop = PhotoShop {
        manager: Api::new(&app, &shop.manager.token),
        ..shop
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages_where(is_welcome).len(), 1, "no second mail");
    sign_up(&shop, "jules.bernard@example.fr", "Jules").await;
    let mails = sink.wait_for_where(2, is_welcome).await;
    assert_eq!(mails[1].recipients, ["jules.bernard@example.fr"]);
    assert_ne!(mails[0].message_id(), mails[1].message_id());
}

#[tokio::test]
async fn accounts_opened_before_the_server_had_mail_are_not_mailed() {
    // Proves a server that gets an SMTP server starts confirming from then on: the account
    // opened while it had none gets no mail, the next one does.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(dir.path(), &["--test-clock"]).await;
    let shop = photo_shop(&app, "Studio Avant").await;
    sign_up(&shop, "paul@example.fr", "Paul").await;
    app.stop().await;

    let sink = SmtpSink::start().await;
    let app = serve_with_mail(dir.path(), &sink).await;
    let shop = PhotoShop {
        manager: Api::new(&app, &shop.manager.token),
        ..shop
    };
    sign_up(&shop, "lea@example.fr", "Léa").await;
    let mails = sink.wait_for_where(1, is_welcome).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails_now = sink.messages_where(is_welcome);
    assert_eq!(mails_now.len(), 1, "{mails:?}");
    assert_eq!(mails_now[0].recipients, ["lea@example.fr"]);
}

#[tokio::test]
async fn a_burst_of_sign_ups_is_mailed_in_one_tick_not_twenty_a_tick() {
    // Proves the catch-up loop: with the real clock's 30 s tick, more sign-ups than one pass
    // mails (`MAILS_PER_PASS`, 20) all go out in the same tick, not 20 per tick (which would
    // spread these 45 over a minute).
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let app = spawn_app_with(
        dir.path(),
        &[
            "--smtp-url",
            &url,
            "--mail-from",
            "comptoir <rapports@example.fr>",
        ],
    )
    .await;
    let shop = photo_shop(&app, "Studio Rafale").await;
    const SIGN_UPS: usize = 45;
    for n in 0..SIGN_UPS {
        sign_up(&shop, &format!("client{n}@example.fr"), "Client").await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    let first_seen = loop {
        if !sink.messages_where(is_welcome).is_empty() {
            break std::time::Instant::now();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no welcome mail in 45 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    while sink.messages_where(is_welcome).len() < SIGN_UPS {
        assert!(
            first_seen.elapsed() < Duration::from_secs(10),
            "only {} of {SIGN_UPS} mails within 10 s of the first",
            sink.messages_where(is_welcome).len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
