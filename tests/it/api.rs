//! Helpers for the REST tests: a client bound to one credential, and a photo shop set up over
//! HTTP from the fixture (`api/fixtures/photo-shop.json`, a copy of the shared one).

use std::collections::HashMap;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{TestApp, ADMIN_TOKEN};

/// An answer: status, selected headers, JSON body (Null when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub replayed: bool,
    /// The `ETag` header, empty when absent.
    pub etag: String,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    pub fn id(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {}", self.raw))
            .to_string()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.raw);
        self
    }

    /// Asserts a 4xx problem+json with this problem code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.raw);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.raw
        );
        assert_eq!(
            self.body["type"],
            format!("https://comptoir.dev/problems/{code}"),
            "{}",
            self.raw
        );
    }
}

/// Sends requests as one caller.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(app: &TestApp, token: &str) -> Self {
        Api {
            client: app.client.clone(),
            base: app.url(""),
            token: token.to_string(),
        }
    }

    pub fn owner(app: &TestApp) -> Self {
        Api::new(app, ADMIN_TOKEN)
    }

    pub fn as_key(&self, token: &str) -> Self {
        Api {
            token: token.to_string(),
            ..self.clone()
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        read(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), None).await
    }

    pub async fn post_with_key(&self, path: &str, body: &Value, key: &str) -> Reply {
        self.send(Method::POST, path, Some(body), Some(key)).await
    }

    /// A PUT with an optional `If-Match` and an optional idempotency key.
    pub async fn put(
        &self,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
        key: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        read(request.send().await.expect("request")).await
    }

    /// Sends raw bytes with a content type (for malformed bodies).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        read(request.send().await.expect("request")).await
    }

    pub async fn head_position(&self) -> u64 {
        let reply = self.get("/health").await;
        reply.body["head_position"].as_u64().expect("head position")
    }
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let content_type = header("content-type");
    let replayed = header("idempotent-replayed") == "true";
    let etag = header("etag");
    let raw = response.text().await.expect("body");
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        replayed,
        etag,
        body,
        raw,
    }
}

/// A shop set up from the fixture: ids by fixture key and a key per role.
pub struct PhotoShop {
    pub shop_id: String,
    pub manager: Api,
    pub keys: HashMap<&'static str, String>,
    pub delivery: HashMap<String, String>,
    pub fixture: Value,
}

impl PhotoShop {
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/shops/{}{rest}", self.shop_id)
    }

    pub fn as_role(&self, role: &str) -> Api {
        self.manager.as_key(&self.keys[role])
    }
}

pub fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/fixtures/photo-shop.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_json::from_str(&text).expect("fixture json")
}

pub fn shop_body(fixture: &Value, name: &str) -> Value {
    let shop = &fixture["shop"];
    json!({
        "name": name,
        "organisation": fixture["organisation"],
        "currency": shop["currency"],
        "prices_include_tax": shop["prices_include_tax"],
        "document_patterns": {
            "invoice": shop["invoice_pattern"],
            "credit_note": shop["credit_note_pattern"],
            "delivery_slip": shop["delivery_slip_pattern"],
        },
        "payment_terms": "Payable à la commande",
    })
}

/// Creates the fixture's shop, keys of every role, its catalog and delivery methods over HTTP,
/// with a pack large enough for any test.
pub async fn photo_shop(app: &TestApp, name: &str) -> PhotoShop {
    photo_shop_with_pack(app, name, Some(&big_pack())).await
}

/// As [`photo_shop`], with a pack of these terms, or none.
pub async fn photo_shop_with_pack(app: &TestApp, name: &str, pack: Option<&Value>) -> PhotoShop {
    photo_shop_from_body(app, &shop_body(&fixture(), name), pack).await
}

/// As [`photo_shop_with_pack`], the shop created from this `POST /v1/shops` body.
pub async fn photo_shop_from_body(app: &TestApp, body: &Value, pack: Option<&Value>) -> PhotoShop {
    let owner = Api::owner(app);
    let fixture = fixture();
    let shop_id = create_shop_with_own_series(&owner, body).await;
    let mut keys = HashMap::new();
    for role in ["manager", "employee", "storefront", "accountant", "printer"] {
        let body = json!({"role": role, "label": format!("{role} key")});
        let path = format!("/v1/shops/{shop_id}/api-keys");
        let secret = owner.post(&path, &body).await.expect(201).id("secret");
        keys.insert(role, secret);
    }
    let manager = owner.as_key(&keys["manager"]);
    if let Some(terms) = pack {
        activate_pack(&owner, &manager, &shop_id, terms).await;
    }
    let shop = PhotoShop {
        shop_id,
        manager,
        keys,
        delivery: HashMap::new(),
        fixture,
    };
    load_catalog(shop).await
}

/// Creates the shop of `body`; when another shop of the SIREN already numbers with its invoice
/// or credit note pattern (409 `document-series-taken`), the shop takes its own prefix, as a
/// company's second shop must: `S2-FA-…`, then `S3-…`. A test's first shop keeps the fixture's
/// numbers.
async fn create_shop_with_own_series(owner: &Api, body: &Value) -> String {
    const PREFIXES_TRIED_MAX: usize = 20;
    let mut body = body.clone();
    let patterns = body["document_patterns"].clone();
    for n in 2..PREFIXES_TRIED_MAX {
        let created = owner.post("/v1/shops", &body).await;
        if created.status.as_u16() != 409 {
            return created.expect(201).id("shop_id");
        }
        created.expect_problem(409, "document-series-taken");
        for kind in ["invoice", "credit_note"] {
            let pattern = patterns[kind].as_str().expect("pattern");
            body["document_patterns"][kind] = json!(format!("S{n}-{pattern}"));
        }
    }
    panic!("no free series prefix for {body}");
}

/// The shop's profile as read, changed by `change` into the body of an update, with the
/// `ETag` to send it with.
pub async fn profile_update(shop: &PhotoShop, change: impl FnOnce(&mut Value)) -> (Value, String) {
    let read = shop.manager.get(&shop.path("")).await.expect(200);
    let mut body = read.body.clone();
    change(&mut body);
    (body, read.etag)
}

/// A shop body of the fixture under another SIREN: another company's shop.
pub fn stranger_shop_body(name: &str) -> Value {
    let mut body = shop_body(&fixture(), name);
    body["organisation"]["siren"] = json!("999999999");
    body["organisation"]["vat_id"] = json!("FR00999999999");
    body
}

/// Pack terms large enough that no test runs out by accident.
pub fn big_pack() -> Value {
    json!({"level": "Pro", "validity": {"months": 12},
        "transfer_allowance_bytes": 50_000_000_000_u64, "order_allowance": 1_000_000})
}

/// Mints a code with `terms` as the owner and redeems it as `staff`; returns the pack view.
pub async fn activate_pack(owner: &Api, staff: &Api, shop_id: &str, terms: &Value) -> Reply {
    let code = owner
        .post("/v1/activation-codes", terms)
        .await
        .expect(201)
        .id("code");
    let path = format!("/v1/shops/{shop_id}/pack/activations");
    staff.post(&path, &json!({"code": code})).await.expect(200)
}

async fn load_catalog(mut shop: PhotoShop) -> PhotoShop {
    let mut categories = HashMap::new();
    for category in shop.fixture["categories"].as_array().expect("categories") {
        let body = json!({"name": category["name"]});
        let reply = shop.manager.post(&shop.path("/categories"), &body).await;
        let key = category["key"].as_str().expect("key").to_string();
        categories.insert(key, reply.expect(201).id("category_id"));
    }
    for product in shop.fixture["products"].as_array().expect("products") {
        let tiers: Vec<Value> = product["tiers"]
            .as_array()
            .expect("tiers")
            .iter()
            .map(|t| json!({"min_quantity": t["min_qty"], "unit_price": t["unit_price"]}))
            .collect();
        let category = &categories[product["category"].as_str().expect("category")];
        let body = json!({
            "sku": product["sku"], "name": product["name"], "category_id": category,
            "vat_rate": product["vat_rate"], "weight_g": product["weight_g"], "tiers": tiers,
        });
        shop.manager
            .post(&shop.path("/products"), &body)
            .await
            .expect(201);
    }
    for method in shop.fixture["delivery_methods"]
        .as_array()
        .expect("methods")
    {
        let mode = match method["payment_mode"].as_str() {
            Some("stripe") => "card",
            other => other.expect("mode"),
        };
        let body = json!({
            "name": method["name"], "kind": method["kind"], "payment_mode": mode,
            "visible": method["visible"], "price": method["price"], "vat_rate": "20",
            "min_weight_g": method["min_weight_g"],
        });
        let reply = shop
            .manager
            .post(&shop.path("/delivery-methods"), &body)
            .await;
        let key = method["key"].as_str().expect("key").to_string();
        shop.delivery
            .insert(key, reply.expect(201).id("delivery_method_id"));
    }
    shop
}

pub fn address() -> Value {
    json!({"line1": "3 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"})
}

/// An order body for home delivery by Colissimo.
pub fn home_order(shop: &PhotoShop, email: &str, lines: Value) -> Value {
    json!({
        "customer": {"email": email, "name": "Claire Martin"},
        "lines": lines,
        "delivery_method_id": shop.delivery["colissimo"],
        "shipping_address": address(),
    })
}

/// Places an order and returns (order id, total incl. VAT).
pub async fn place(api: &Api, shop: &PhotoShop, body: &Value) -> (String, String) {
    let reply = api.post(&shop.path("/orders"), body).await.expect(201);
    let total = reply.body["pricing"]["totals"]["total_incl_vat"]
        .as_str()
        .expect("total")
        .to_string();
    (reply.id("order_id"), total)
}

/// Ships the order as `api` (which must be allowed to) and returns the answer's body (its
/// delivery slip under `issued`).
pub async fn ship(api: &Api, shop: &PhotoShop, order_id: &str) -> Value {
    let path = shop.path(&format!("/orders/{order_id}/ship"));
    let body = json!({"tracking_number": "6A123"});
    api.post(&path, &body).await.expect(200).body
}

/// Takes back `lines` (`[{"line_number", "quantity"}]`) of a shipped order, settled as
/// `settlement`, as the manager; returns the answer's body (the credit note under `issued`).
pub async fn return_lines(
    shop: &PhotoShop,
    order_id: &str,
    lines: Value,
    settlement: Value,
) -> Value {
    let path = shop.path(&format!("/orders/{order_id}/returns"));
    let body = json!({"lines": lines, "settlement": settlement});
    shop.manager.post(&path, &body).await.expect(201).body
}

/// What a return settled as store credit issued (`ship_and_return_as_store_credit`).
pub struct StoreCreditReturn {
    /// The credit note's number.
    pub number: String,
    /// Its total incl. VAT, as the API writes money.
    pub credited: String,
    /// The log position of the return.
    pub position: u64,
}

/// Ships the paid order `order_id` and takes back `lines` as store credit, as the manager.
pub async fn ship_and_return_as_store_credit(
    shop: &PhotoShop,
    order_id: &str,
    lines: Value,
) -> StoreCreditReturn {
    ship(&shop.manager, shop, order_id).await;
    let returned = return_lines(shop, order_id, lines, json!({"type": "store_credit"})).await;
    let text = |value: &Value| value.as_str().expect("a string").to_string();
    StoreCreditReturn {
        number: text(&returned["issued"][0]["number"]),
        credited: text(&returned["credits"][0]["totals"]["total_incl_vat"]),
        position: returned["position"].as_u64().expect("position"),
    }
}

/// The sequence part of document numbers such as `FA-2026-000042`.
pub fn seq_of(number: &str) -> u64 {
    number
        .rsplit('-')
        .next()
        .and_then(|seq| seq.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered document: {number}"))
}

/// Every document number of a list route, following the cursor.
pub async fn all_numbers(api: &Api, path: &str, min_position: u64) -> Vec<String> {
    let mut numbers = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map(|c| format!("&after={c}"))
            .unwrap_or_default();
        let reply = api
            .get(&format!(
                "{path}?limit=200&min_position={min_position}{cursor}"
            ))
            .await
            .expect(200);
        for item in reply.body["items"].as_array().expect("items") {
            numbers.push(item["number"].as_str().expect("number").to_string());
        }
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => return numbers,
        }
    }
}

/// Moves the server's test clock (`serve --test-clock`) so that it reads `now` (RFC 3339).
pub async fn set_clock(owner: &Api, now: &str) {
    owner
        .send(
            Method::PUT,
            "/v1/test-clock",
            Some(&json!({"now": now})),
            None,
        )
        .await
        .expect(200);
}

/// An amount as the API writes it ("4.40", "12", "-0.5") in cents, so tests compute exactly;
/// more than two decimals fails the test.
pub fn cents(amount: &str) -> i64 {
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(digits) => (-1, digits),
        None => (1, amount),
    };
    let (units, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(fraction.len() <= 2, "not a cent amount: {amount}");
    let units: i64 = units.parse().expect("units");
    let fraction: i64 = format!("{fraction:0<2}").parse().expect("cents");
    sign * (units * 100 + fraction)
}

/// `cents` of a JSON amount, which must be a decimal string.
pub fn value_cents(amount: &Value) -> i64 {
    cents(
        amount
            .as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {amount}")),
    )
}
