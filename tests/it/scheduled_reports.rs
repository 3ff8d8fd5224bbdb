//! Scheduled reports by e-mail end to end: a real SMTP conversation with a sink in this test,
//! the server's test clock moved past period boundaries, and a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::api::set_clock;
use crate::api::{home_order, photo_shop, place, Api, PhotoShop};
use crate::smtp_sink::{serve_with_mail, SmtpSink};
use crate::support::spawn_app_with;
use crate::time_zones::pay;

/// The bytes of the message's attachment (base64 between its headers and the next boundary).
fn attachment(data: &str) -> (String, Vec<u8>) {
    let start = data
        .find("Content-Disposition: attachment")
        .unwrap_or_else(|| panic!("no attachment in {data}"));
    let part = &data[start..];
    // The name may come as `filename="…"` or, folded per RFC 2231, as `filename*0="…"`.
    let name_at = part
        .find("filename")
        .unwrap_or_else(|| panic!("no file name in {part}"));
    let name_start = name_at + part[name_at..].find('"').expect("opening quote") + 1;
    let name_end = name_start + part[name_start..].find('"').expect("closing quote");
    let body_start = part.find("\n\n").expect("headers end") + 2;
    let encoded: String = part[body_start..]
        .lines()
        .take_while(|line| !line.starts_with("--"))
        .collect();
    (part[name_start..name_end].to_string(), base64(&encoded))
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    bytes
}

async fn statistics_csv(shop: &PhotoShop, from: &str, until: &str, position: u64) -> Vec<u8> {
    let path = shop.path(&format!(
        "/statistics?group_by=order_day&format=csv&from={from}&until={until}&min_position={position}"
    ));
    let response = shop
        .manager
        .client
        .get(format!("{}{path}", shop.manager.base))
        .bearer_auth(&shop.manager.token)
        .send()
        .await
        .expect("statistics");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("bytes").to_vec()
}

async fn deliveries(shop: &PhotoShop, schedule_id: &str, count: usize) -> Vec<Value> {
    let path = shop.path(&format!("/report-schedules/{schedule_id}/deliveries"));
    for _ in 0..100 {
        let reply = shop.manager.get(&path).await.expect(200);
        let items = reply.body["items"].as_array().expect("items").clone();
        if items.len() >= count {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{count} deliveries expected");
}

#[tokio::test]
async fn a_daily_report_is_mailed_once_per_paris_day_and_not_again_after_a_restart() {
    // Proves a daily CSV schedule mails the Paris day of 28 March 2027 once it closes (22:00Z,
    // summer time): the order of 21:30Z is in it, the one of 22:30Z (the 29th in Paris) is not;
    // the attachment is byte for byte the statistics endpoint's CSV of that day; the delivery is
    // listed; a restarted server does not send it again, yet sends the next day's.
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = serve_with_mail(dir.path(), &sink).await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2027-03-28T18:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière — rapports").await;
    let body = json!({
        "recipients": ["gerant@example.fr", " Compta@Example.FR "],
        "frequency": "daily",
        "format": "csv",
        "group_by": "order_day",
    });
    let created = shop
        .manager
        .post_with_key(&shop.path("/report-schedules"), &body, "schedule-1")
        .await
        .expect(201);
    let schedule_id = created.id("schedule_id");
    assert_eq!(
        created.body["recipients"],
        json!(["gerant@example.fr", "compta@example.fr"])
    );

    let storefront = shop.as_role("storefront");
    set_clock(&owner, "2027-03-28T21:30:00Z").await;
    let (evening, evening_total) = place(
        &storefront,
        &shop,
        &home_order(&shop, "a@example.fr", lines()),
    )
    .await;
    pay(&shop, &evening, &evening_total).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        sink.messages().is_empty(),
        "nothing is due before the day closes"
    );
    set_clock(&owner, "2027-03-28T22:30:00Z").await;
    let (night, night_total) = place(
        &storefront,
        &shop,
        &home_order(&shop, "b@example.fr", lines()),
    )
    .await;
    let position = pay(&shop, &night, &night_total).await;

    let messages = sink.wait_for(1).await;
    let mail = &messages[0];
    assert_eq!(mail.recipients, ["gerant@example.fr", "compta@example.fr"]);
    assert!(mail.data.contains("Subject:"), "{}", mail.data);
    let (file_name, csv) = attachment(&mail.data);
    let from = "2027-03-27T23:00:00Z";
    let until = "2027-03-28T22:00:00Z";
    assert_eq!(file_name, "statistics-order_day-20270328-20270329.csv");
    assert_eq!(csv, statistics_csv(&shop, from, until, position).await);
    let text = String::from_utf8(csv).expect("utf-8");
    assert!(text.contains("2027-03-28"), "{text}");
    assert!(!text.contains("2027-03-29"), "{text}");
    assert!(text.contains(&evening_total), "{text}");
    let sent = deliveries(&shop, &schedule_id, 1).await;
    assert_eq!(sent[0]["starts_on"], "2027-03-28");
    assert_eq!(sent[0]["ends_before"], "2027-03-29");

    let log = app.stop().await;
    assert!(log.contains("scheduled reports are on"), "{log}");
    let app = serve_with_mail(dir.path(), &sink).await;
    let owner = Api::owner(&app);
    let shop = PhotoShop {
        manager: Api::new(&app, &shop.manager.token),
        ..shop
    };
    set_clock(&owner, "2027-03-28T23:00:00Z").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1, "the 28th is not sent twice");
    set_clock(&owner, "2027-03-29T22:05:00Z").await;
    let messages = sink.wait_for(2).await;
    let (_, csv) = attachment(&messages[1].data);
    let text = String::from_utf8(csv).expect("utf-8");
    assert!(
        text.contains("2027-03-29") && text.contains(&night_total),
        "{text}"
    );
    assert_eq!(deliveries(&shop, &schedule_id, 2).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.messages().len(), 2);
}

fn lines() -> Value {
    json!([{"sku": "TIR-10x15", "quantity": 10}])
}

/// Whether `id` is `<uuid@example.fr>`, the shape of a delivery's Message-ID for the test sender.
fn is_delivery_message_id(id: &str) -> bool {
    let Some(inner) = id.strip_prefix('<').and_then(|id| id.strip_suffix('>')) else {
        return false;
    };
    inner
        .split_once('@')
        .is_some_and(|(key, domain)| uuid::Uuid::parse_str(key).is_ok() && domain == "example.fr")
}

#[tokio::test]
async fn a_report_sent_again_after_a_lost_answer_keeps_its_message_id() {
    // Proves a report the SMTP server took but never acknowledged (as after a crash before the
    // record) is mailed again with the same Message-ID, derived from schedule and period, and
    // recorded once; the next period's report gets another Message-ID.
    let sink = SmtpSink::start_losing_answers(1).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = serve_with_mail(dir.path(), &sink).await;
    let owner = Api::owner(&app);
    set_clock(&owner, "2027-03-28T18:00:00Z").await;
    let shop = photo_shop(&app, "Studio Lumière — rapports").await;
    let body = json!({"recipients": ["gerant@example.fr"], "frequency": "daily",
        "format": "csv", "group_by": "order_day"});
    let schedule_id = shop
        .manager
        .post_with_key(&shop.path("/report-schedules"), &body, "schedule-1")
        .await
        .expect(201)
        .id("schedule_id");

    set_clock(&owner, "2027-03-28T22:30:00Z").await;
    let messages = sink.wait_for(2).await;
    let first = messages[0].message_id().expect("a Message-ID");
    assert!(is_delivery_message_id(&first), "{first}");
    assert_eq!(
        messages[1].message_id().as_deref(),
        Some(first.as_str()),
        "the copy is recognisably the same mail"
    );
    assert_eq!(deliveries(&shop, &schedule_id, 1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        sink.messages().len(),
        2,
        "recorded, so not sent a third time"
    );
    assert_eq!(deliveries(&shop, &schedule_id, 1).await.len(), 1);

    set_clock(&owner, "2027-03-29T22:05:00Z").await;
    let messages = sink.wait_for(3).await;
    let next = messages[2].message_id().expect("a Message-ID");
    assert!(is_delivery_message_id(&next), "{next}");
    assert_ne!(next, first, "another period, another Message-ID");
}

#[tokio::test]
async fn schedules_are_validated_changed_with_if_match_and_deleted() {
    // Proves bad recipients and frequencies are refused with nothing appended, employees are
    // forbidden, GET gives an ETag that PUT needs (stale → 412), DELETE hides the schedule, and
    // a server without SMTP says at start-up that scheduled reports are off.
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(dir.path(), &[]).await;
    let owner = Api::owner(&app);
    let shop = photo_shop(&app, "Studio Lumière — planning").await;
    let path = shop.path("/report-schedules");
    let head = owner.head_position().await;
    let many: Vec<String> = (0..21).map(|n| format!("r{n}@example.fr")).collect();
    let refused = [
        json!({"recipients": [], "frequency": "daily", "format": "csv"}),
        json!({"recipients": many, "frequency": "daily", "format": "csv"}),
        json!({"recipients": ["not-an-address"], "frequency": "daily", "format": "csv"}),
        json!({"recipients": ["a@example.fr", "A@example.fr"], "frequency": "daily", "format": "csv"}),
    ];
    for body in &refused {
        shop.manager
            .post(&path, body)
            .await
            .expect_problem(422, "validation");
    }
    let unknown = json!({"recipients": ["a@example.fr"], "frequency": "hourly", "format": "csv"});
    assert_eq!(shop.manager.post(&path, &unknown).await.status, 400);
    let body = json!({"recipients": ["a@example.fr"], "frequency": "weekly", "format": "xlsx"});
    shop.as_role("employee")
        .post(&path, &body)
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(
        owner.head_position().await,
        head,
        "refusals appended nothing"
    );

    let created = shop.manager.post(&path, &body).await.expect(201);
    let schedule_id = created.id("schedule_id");
    assert_eq!(created.body["group_by"], "order_day");
    let one = format!("{path}/{schedule_id}");
    let read = shop.manager.get(&one).await.expect(200);
    assert_eq!(read.body["frequency"], "weekly");
    let monthly = json!({"recipients": ["a@example.fr"], "frequency": "half_yearly", "format": "xml", "group_by": "payment_type"});
    shop.manager
        .put(&one, &monthly, Some("\"stale\""), None)
        .await
        .expect_problem(412, "precondition-failed");
    let changed = shop
        .manager
        .put(&one, &monthly, Some(&read.etag), None)
        .await
        .expect(200);
    let position = changed.body["position"].as_u64().expect("position");
    let listed = shop
        .manager
        .get(&format!("{path}?min_position={position}"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"][0]["frequency"], "half_yearly");
    assert_eq!(listed.body["items"][0]["group_by"], "payment_type");
    let deleted = shop
        .manager
        .send(Method::DELETE, &one, None, None)
        .await
        .expect(200);
    let position = deleted.body["position"].as_u64().expect("position");
    let listed = shop
        .manager
        .get(&format!("{path}?min_position={position}"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"], json!([]));
    shop.manager
        .get(&one)
        .await
        .expect_problem(404, "not-found");
    shop.manager
        .get(&format!("{one}/deliveries"))
        .await
        .expect(200);

    app.signal(libc::SIGTERM);
    let (_, log) = app.wait_exit().await;
    assert!(log.contains("scheduled reports are off"), "{log}");
}
