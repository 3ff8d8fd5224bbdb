//! E-mail notification of a new message to the customer (seed 003), end to end: the SMTP sink
//! receives the mail of a staff message, a restart does not send it again, and a message from
//! the customer sends nothing.

use std::time::Duration;

use serde_json::{json, Value};

use crate::api::{photo_shop, Api, PhotoShop};
use crate::customer_space::{claire, position};
use crate::smtp_sink::{is_not_welcome, plain_text, serve_with_mail, SmtpSink};

/// The message as the staff list it, once the read model is at `at` and `ready` holds.
async fn staff_view(
    shop: &PhotoShop,
    customer_id: &str,
    message_id: &str,
    at: u64,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let path = shop.path(&format!(
        "/customers/{customer_id}/messages?archived=all&min_position={at}"
    ));
    let employee = shop.as_role("employee");
    for _ in 0..100 {
        let page = employee.get(&path).await.expect(200).body;
        let found = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|m| m["message_id"] == message_id)
            .cloned();
        if let Some(message) = found.filter(|m| ready(m)) {
            return message;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("message {message_id} never got ready");
}

#[tokio::test]
async fn a_staff_message_is_mailed_to_the_customer_once_and_hers_are_not() {
    // Proves a customer's own message mails nothing; a staff message is mailed to the account's
    // e-mail with the shop's name, the text quoted and how to answer, and its `notified_at` is
    // listed; a restarted server does not send it again, yet mails the next staff message.
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = serve_with_mail(dir.path(), &sink).await;
    let shop = photo_shop(&app, "Studio Lumière").await;
    let (customer_id, _) = claire(&shop).await;
    let messages = shop.path(&format!("/customers/{customer_id}/messages"));

    let asked = shop
        .as_role("storefront")
        .post(&messages, &json!({"body": "Mes tirages sont-ils partis ?"}))
        .await
        .expect(201);
    let asked_id = asked.id("message_id");
    let asked_view = staff_view(
        &shop,
        &customer_id,
        &asked_id,
        position(&asked.body),
        |_| true,
    )
    .await;
    assert_eq!(asked_view["awaits_notification"], false);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        sink.messages_where(is_not_welcome).is_empty(),
        "a customer's message mails nothing"
    );

    let text = "Bonjour Claire,\nvos tirages partent demain matin.\nL'équipe";
    let answered = shop
        .as_role("employee")
        .post(&messages, &json!({"body": text}))
        .await
        .expect(201);
    let answer_id = answered.id("message_id");
    let mails = sink.wait_for_where(1, is_not_welcome).await;
    assert_eq!(mails[0].recipients, ["claire.martin@example.fr"]);
    assert!(mails[0].data.contains("Subject:"), "{}", mails[0].data);
    let body = plain_text(&mails[0].data);
    assert!(
        body.contains("> Bonjour Claire,\n> vos tirages partent demain matin.\n> L'équipe\n"),
        "{body}"
    );
    assert!(body.contains("Studio Lumière"), "{body}");
    assert!(body.contains("Pour répondre"), "{body}");
    let notified = staff_view(
        &shop,
        &customer_id,
        &answer_id,
        position(&answered.body),
        |m| !m["notified_at"].is_null(),
    )
    .await;
    assert_eq!(notified["awaits_notification"], false);

    let log = app.stop().await;
    assert!(log.contains("message notifications are on"), "{log}");
    let app = serve_with_mail(dir.path(), &sink).await;
    let shop = PhotoShop {
        manager: Api::new(&app, &shop.manager.token),
        ..shop
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sink.messages_where(is_not_welcome).len(),
        1,
        "a recorded notification is not sent again"
    );
    let again = staff_view(&shop, &customer_id, &answer_id, 0, |_| true).await;
    assert_eq!(again["notified_at"], notified["notified_at"]);

    let next = shop
        .as_role("employee")
        .post(&messages, &json!({"body": "Colis remis au transporteur."}))
        .await
        .expect(201);
    let mails = sink.wait_for_where(2, is_not_welcome).await;
    assert!(plain_text(&mails[1].data).contains("> Colis remis au transporteur."));
    // Each notification is named by its message, so a copy sent after a crash is recognisable.
    let ids: Vec<String> = mails
        .iter()
        .map(|mail| mail.message_id().expect("a Message-ID"))
        .collect();
    assert!(ids.iter().all(|id| id.ends_with("@example.fr>")), "{ids:?}");
    assert_ne!(ids[0], ids[1], "one Message-ID per message");
    staff_view(
        &shop,
        &customer_id,
        &next.id("message_id"),
        position(&next.body),
        |m| !m["notified_at"].is_null(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.messages_where(is_not_welcome).len(), 2);
}
