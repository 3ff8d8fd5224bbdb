//! A day at the demo shop, made through the API's own routes: the server's router is called in
//! process (no socket), with the demo's manager key, exactly as a client would call it. Orders
//! are placed and paid online and at the counter, shipped, collected and delivered; one is
//! partly returned as store credit that pays part of a later order; one stays new; a quote is
//! accepted, ordered and paid by cheque, and the shop writes in a customer's space. A newcomer
//! then finds every kind of document, statistics and a balanced ledger at once.
//!
//! Why through the router and not through the commands, as the catalog is loaded: placing and
//! paying involve pricing, the pack's quota, the number series and the invoice issued in the
//! same append, all in the routes; calling them keeps one implementation.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;
use tower::ServiceExt;
use uuid::Uuid;

use super::coupons::FixtureCoupon;
use super::{demo_id, DemoError};

/// The photo the print orders carry (a 600×400 gradient, 4 KB), so that a printer bridge
/// following the demo shop has something to print.
const PHOTO: &[u8] = include_bytes!("../../fixtures/demo-photo.jpg");
/// How long the demo's quote stays valid.
const QUOTE_VALID_DAYS: u64 = 30;
/// Answers larger than this are not demo answers: refused rather than read whole.
const ANSWER_BYTES_MAX: usize = 1024 * 1024;

/// What the day made, counted from the answers: orders placed, documents issued by kind.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DayReport {
    pub coupons_created: usize,
    pub orders_placed: usize,
    pub messages_sent: usize,
    pub issued: BTreeMap<String, usize>,
    /// The employee the manager hired, to try staff sign-in with: email, temporary password.
    pub employee: Option<(String, String)>,
}

impl std::fmt::Display for DayReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "coupons: {}, orders placed: {}, messages: {}, issued:",
            self.coupons_created, self.orders_placed, self.messages_sent
        )?;
        for (kind, count) in &self.issued {
            write!(f, " {kind} {count}")?;
        }
        Ok(())
    }
}

/// The demo's manager, calling the router.
struct Counter {
    router: Router,
    shop_id: Uuid,
    authorization: String,
    report: Mutex<DayReport>,
}

impl Counter {
    /// Calls the shop's `path` (`/orders`, …) as the demo's manager.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DemoError> {
        let uri = format!("/v1/shops/{}{path}", self.shop_id);
        self.call_at(method, &uri, body).await
    }

    /// As [`Counter::call`], at `uri`, which may lie outside the shop's paths (`/v1/staff`).
    async fn call_at(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Result<Value, DemoError> {
        let mut request = self.request_at(method.clone(), uri);
        if method == Method::POST {
            // Every creating POST carries a key, as the API asks of its clients; derived from
            // the step, so the same step is the same command.
            let key = demo_id(&format!("day:{uri}:{body:?}"));
            request = request
                .header("Idempotency-Key", key.to_string())
                .header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |value| Body::from(value.to_string()));
        self.send(request, body).await
    }

    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        self.request_at(method, &format!("/v1/shops/{}{path}", self.shop_id))
    }

    /// A request to a path outside the shop's (`/v1/staff`).
    fn request_at(&self, method: Method, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, &self.authorization)
    }

    /// Sends `request` with `body` through the router; the answer's JSON, `Null` when empty.
    async fn send(
        &self,
        request: axum::http::request::Builder,
        body: Body,
    ) -> Result<Value, DemoError> {
        let (method, uri) = (
            request.method_ref().cloned().unwrap_or_default(),
            request.uri_ref().cloned().unwrap_or_default(),
        );
        let failed =
            |what: &dyn std::fmt::Display| DemoError::Day(format!("{method} {uri}: {what}"));
        let request = request.body(body).map_err(|error| failed(&error))?;
        let answer = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|error| failed(&error))?;
        let status = answer.status();
        let bytes = axum::body::to_bytes(answer.into_body(), ANSWER_BYTES_MAX)
            .await
            .map_err(|error| failed(&error))?;
        if !status.is_success() {
            return Err(failed(&format!(
                "{status} {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|error| failed(&format!("an answer that is not JSON: {error}")))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, DemoError> {
        let answer = self.call(Method::POST, path, Some(body)).await?;
        let issued = answer["issued"].as_array().into_iter().flatten();
        for document in issued {
            self.record_issued(document["kind"].as_str().unwrap_or("document"));
        }
        Ok(answer)
    }

    fn record_issued(&self, kind: &str) {
        *self
            .lock_report()
            .issued
            .entry(kind.to_string())
            .or_default() += 1;
    }

    /// A step of an order's lifecycle: `POST /orders/{order}/{step}`.
    async fn step(&self, order: &str, step: &str, body: Value) -> Result<Value, DemoError> {
        self.post(&format!("/orders/{order}/{step}"), body).await
    }

    /// Uploads the demo photo as the order's file `name`.
    async fn upload_photo(&self, order: &str, name: &str) -> Result<(), DemoError> {
        let request = self
            .request(Method::PUT, &format!("/orders/{order}/files/{name}"))
            .header(header::CONTENT_TYPE, "image/jpeg");
        self.send(request, Body::from(PHOTO)).await?;
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Value, DemoError> {
        self.call(Method::GET, path, None).await
    }

    fn lock_report(&self) -> std::sync::MutexGuard<'_, DayReport> {
        // The report is only counts: one left half-updated by a panic is still worth printing.
        self.report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Places an order that the staff opens at once (it is no longer new); returns its id and
    /// what is left to pay.
    async fn place_and_open(&self, order: Value) -> Result<(String, String), DemoError> {
        let (id, total) = self.place(order).await?;
        self.step(&id, "open", json!({})).await?;
        Ok((id, total))
    }

    /// Places an order; returns its id and what is left to pay (its total, after any coupon).
    async fn place(&self, order: Value) -> Result<(String, String), DemoError> {
        let placed = self.post("/orders", order).await?;
        self.lock_report().orders_placed += 1;
        let id = text(&placed, &["order_id"])?;
        let total = text(&placed, &["outstanding"])?;
        Ok((id, total))
    }
}

fn text(value: &Value, path: &[&str]) -> Result<String, DemoError> {
    path.iter()
        .try_fold(value, |value, field| value.get(field))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| DemoError::Day(format!("an answer without {}: {value}", path.join("."))))
}

fn delivery(key: &str) -> String {
    demo_id(&format!("delivery:{key}")).to_string()
}

fn address(line1: &str, postal_code: &str, city: &str) -> Value {
    json!({"line1": line1, "postal_code": postal_code, "city": city, "country": "FR"})
}

/// Runs the day, unless the shop already has orders (a restart with `--demo`: the day is
/// in the log already, and the printed key is new, so its requests would be new commands).
pub async fn run(
    router: Router,
    shop_id: Uuid,
    secret: &str,
    coupons: &[FixtureCoupon],
) -> Result<Option<DayReport>, DemoError> {
    let counter = Counter {
        router,
        shop_id,
        authorization: format!("Bearer {secret}"),
        report: Mutex::default(),
    };
    let existing = counter.get("/orders?limit=1").await?;
    if existing["items"]
        .as_array()
        .is_some_and(|items| !items.is_empty())
    {
        return Ok(None);
    }
    create_coupons(&counter, coupons).await?;
    let prints_code = coupons.iter().find_map(|coupon| coupon.code.clone());
    prints_shipped_to_claire(&counter, prints_code.as_deref()).await?;
    book_collected_by_jules(&counter).await?;
    let credit = prints_partly_returned_by_amelie(&counter).await?;
    panoramas_paid_with_store_credit(&counter, &credit).await?;
    mugs_ordered_by_a_guest(&counter).await?;
    enlargements_quoted_to_jules(&counter).await?;
    credit_announced_to_amelie(&counter, shop_id).await?;
    hire_lea(&counter).await?;
    Ok(Some(
        counter
            .report
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    ))
}

/// The manager creates an employee's back-office account, whose temporary password the server
/// prints, so a newcomer can try staff sign-in too.
async fn hire_lea(counter: &Counter) -> Result<(), DemoError> {
    let email = "lea.martin@studio-lumiere.example";
    let body = json!({"email": email, "first_name": "Léa", "last_name": "Martin",
        "grants": [{"shop_id": counter.shop_id, "role": "employee"}]});
    let created = counter
        .call_at(Method::POST, "/v1/staff", Some(body))
        .await?;
    let password = text(&created, &["temporary_password"])?;
    counter.lock_report().employee = Some((email.to_owned(), password));
    Ok(())
}

/// The fixture's coupons, each with its codes, as the manager creates them.
async fn create_coupons(counter: &Counter, coupons: &[FixtureCoupon]) -> Result<(), DemoError> {
    let today = chrono::Utc::now().date_naive();
    for coupon in coupons {
        let created = counter.post("/coupons", coupon.body(today)?).await?;
        let coupon_id = text(&created, &["coupon_id"])?;
        counter
            .post(&format!("/coupons/{coupon_id}/codes"), coupon.codes())
            .await?;
        counter.lock_report().coupons_created += 1;
    }
    Ok(())
}

/// 120 prints at the 100+ tier and a printed guide (5.5% VAT), with the prints' coupon when the
/// fixture has one, paid by card, shipped, delivered.
async fn prints_shipped_to_claire(
    counter: &Counter,
    coupon_code: Option<&str>,
) -> Result<(), DemoError> {
    let (order, total) = counter
        .place_and_open(json!({
            "customer": {"email": "claire.martin@example.fr", "name": "Claire Martin"},
            "lines": [{"sku": "TIR-10x15", "quantity": 120}, {"sku": "GUIDE-LYON", "quantity": 1}],
            "delivery_method_id": delivery("colissimo"),
            "shipping_address": address("3 place Bellecour", "69002", "Lyon"),
            "coupon_code": coupon_code,
        }))
        .await?;
    counter.upload_photo(&order, "bellecour.jpg").await?;
    let payment = json!({"method": "card", "amount": total, "transaction_id": "demo-cb-0001"});
    paid_shipped_delivered(counter, &order, payment, "6A00000000001").await
}

/// An order paid online with `payment`, then shipped with `tracking_number` and delivered.
async fn paid_shipped_delivered(
    counter: &Counter,
    order: &str,
    payment: Value,
    tracking_number: &str,
) -> Result<(), DemoError> {
    counter.step(order, "payments", payment).await?;
    let tracking = json!({"tracking_number": tracking_number});
    counter.step(order, "ship", tracking).await?;
    counter.step(order, "deliver", json!({})).await?;
    Ok(())
}

/// A photo book and two enlargements collected at the shop, paid in cash at the counter.
async fn book_collected_by_jules(counter: &Counter) -> Result<(), DemoError> {
    let (order, _) = counter
        .place_and_open(json!({
            "customer": {"email": "jules.bernard@example.fr", "name": "Jules Bernard"},
            "lines": [{"sku": "LIVRE-A4-24", "quantity": 1}, {"sku": "AGR-20x30", "quantity": 2}],
            "delivery_method_id": delivery("retrait"),
        }))
        .await?;
    counter.upload_photo(&order, "fourviere.jpg").await?;
    let cash = json!({"method": "cash", "operator": "Camille"});
    counter.step(&order, "mark-paid", cash).await?;
    counter.step(&order, "ready-for-pickup", json!({})).await?;
    counter.step(&order, "deliver", json!({})).await?;
    Ok(())
}

/// 60 matte prints by PayPal, shipped to a relay point, 10 of them returned as store credit.
/// Returns the credit's amount including VAT.
async fn prints_partly_returned_by_amelie(counter: &Counter) -> Result<String, DemoError> {
    let (order, total) = counter
        .place_and_open(json!({
            "customer": {"email": "amelie.dubois@example.fr", "name": "Amélie Dubois"},
            "lines": [{"sku": "TIR-13x18", "quantity": 60}],
            "delivery_method_id": delivery("relais"),
            "shipping_address": address("8 rue Pasteur", "69300", "Caluire-et-Cuire"),
        }))
        .await?;
    counter.upload_photo(&order, "croix-rousse.jpg").await?;
    let payment = json!({"method": "paypal", "amount": total, "transaction_id": "demo-pp-0001"});
    paid_shipped_delivered(counter, &order, payment, "RL0000000001").await?;
    let returned = json!({"lines": [{"line_number": 1, "quantity": 10}], "settlement": {"type": "store_credit"}});
    let returned = counter.step(&order, "returns", returned).await?;
    returned
        .pointer("/credits/0/totals/total_incl_vat")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| DemoError::Day(format!("a return without its credit: {returned}")))
}

/// Three panoramas for Amélie, paid first with her store credit, the rest by card.
async fn panoramas_paid_with_store_credit(
    counter: &Counter,
    credit: &str,
) -> Result<(), DemoError> {
    let (order, total) = counter
        .place_and_open(json!({
            "customer": {"email": "amelie.dubois@example.fr", "name": "Amélie Dubois"},
            "lines": [{"sku": "PANO-10x30", "quantity": 3}],
            "delivery_method_id": delivery("colissimo"),
            "shipping_address": address("8 rue Pasteur", "69300", "Caluire-et-Cuire"),
        }))
        .await?;
    counter.upload_photo(&order, "saone.jpg").await?;
    let (credit, total) = (decimal(credit)?, decimal(&total)?);
    let from_credit = credit.min(total);
    let from_credit_payment = json!({"method": "store_credit", "amount": from_credit.to_string()});
    counter
        .step(&order, "payments", from_credit_payment)
        .await?;
    let rest = total - from_credit;
    if !rest.is_zero() {
        let payment =
            json!({"method": "card", "amount": rest.to_string(), "transaction_id": "demo-cb-0002"});
        counter.step(&order, "payments", payment).await?;
    }
    Ok(())
}

/// Two mugs for a guest who has no account, not paid yet: the order stays new.
async fn mugs_ordered_by_a_guest(counter: &Counter) -> Result<(), DemoError> {
    counter
        .place(json!({
            "customer": {"email": "leo.petit@example.fr", "name": "Léo Petit"},
            "lines": [{"sku": "MUG-BLANC", "quantity": 2}],
            "delivery_method_id": delivery("colissimo"),
            "shipping_address": address("21 cours Gambetta", "69007", "Lyon"),
        }))
        .await?;
    Ok(())
}

/// A quote for a print run of enlargements with retouching, accepted, ordered by purchase order
/// and paid by cheque at the counter: the customer space's quotes and purchase orders.
async fn enlargements_quoted_to_jules(counter: &Counter) -> Result<(), DemoError> {
    let customer_id = customer_id(counter.shop_id, "jules.bernard@example.fr")?;
    let valid_until = chrono::Utc::now().date_naive() + chrono::Days::new(QUOTE_VALID_DAYS);
    let quote = counter
        .post(
            "/quotes",
            json!({
                "customer_id": customer_id,
                "valid_until": valid_until,
                "lines": [
                    {"sku": "AGR-30x45", "quantity": 12, "unit_price_excl_vat": "7.50"},
                    {"description": "Retouche et calibrage des fichiers", "quantity": 12,
                        "unit_price_excl_vat": "2.00", "vat_rate": "20"}
                ],
            }),
        )
        .await?;
    let number = text(&quote, &["number"])?;
    counter.record_issued("quote");
    counter
        .post(
            &format!("/quotes/{number}/accept"),
            json!({"accepted_by": "Jules Bernard"}),
        )
        .await?;
    let ordered = counter
        .post("/purchase-orders", json!({"quote_number": number}))
        .await?;
    let order_number = text(&ordered, &["number"])?;
    counter.record_issued("purchase_order");
    let total = text(&ordered, &["totals", "total_incl_vat"])?;
    let cheque = json!({"method": "cheque", "amount": total, "operator": "Camille"});
    counter
        .post(
            &format!("/purchase-orders/{order_number}/mark-paid"),
            cheque,
        )
        .await?;
    Ok(())
}

/// A message from the shop in Amélie's customer space about the store credit her return gave.
async fn credit_announced_to_amelie(counter: &Counter, shop_id: Uuid) -> Result<(), DemoError> {
    let customer_id = customer_id(shop_id, "amelie.dubois@example.fr")?;
    let message = json!({"body": "Bonjour Amélie, l'avoir de vos dix tirages retournés est \
        disponible sur votre compte et a servi pour vos panoramiques. À bientôt !"});
    counter
        .post(&format!("/customers/{customer_id}/messages"), message)
        .await?;
    counter.lock_report().messages_sent += 1;
    Ok(())
}

/// The id of the account `email` opened in the shop, as the API derives it.
fn customer_id(shop_id: Uuid, email: &str) -> Result<Uuid, DemoError> {
    let email = comptoir_domain::customer::normalise_email(email)
        .map_err(|error| DemoError::Day(format!("{email}: {error}")))?;
    Ok(comptoir_domain::customer::customer_id_for(shop_id, &email))
}

fn decimal(text: &str) -> Result<rust_decimal::Decimal, DemoError> {
    text.parse()
        .map_err(|error| DemoError::Day(format!("an amount that does not parse ({text}): {error}")))
}
