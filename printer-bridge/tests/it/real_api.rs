//! The real `comptoir serve` for the bridge's tests: built through cargo (never stale), started on
//! a free port over a temporary data dir, and a photo shop set up over HTTP with a printer key,
//! an active pack and three products. It can be stopped (SIGTERM) and started again on the same
//! data dir and port, as an operator restarting the API would.
//! The bridge still depends on no comptoir crate: the server is only a process it talks HTTP to.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::support::WAIT_MAX;

const OWNER_TOKEN: &str = "bridge-test-owner-token";

/// The `comptoir` binary, built once per test run with the tests' profile.
pub fn comptoir_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut command = std::process::Command::new(env!("CARGO"));
        command.args(["build", "-p", "comptoir-api", "--bin", "comptoir"]);
        command.args([
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ]);
        command.arg(manifest);
        if !cfg!(debug_assertions) {
            command.arg("--release");
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo");
        assert!(output.status.success(), "cargo build of comptoir failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| message["target"]["name"] == "comptoir")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no comptoir executable")
    })
}

/// SKU of a 10x15 print: the bridge prints it by its category's rule (4x6, 2 copies per unit).
pub const SKU_PRINT_10X15: &str = "TIR-10x15";
/// SKU of a 13x18 print: the bridge's SKU rule wins over the category (5x7, 1 copy per unit).
pub const SKU_PRINT_13X18: &str = "PRINT-13X18";
/// SKU of a book: its category has no rule, so the bridge prints nothing for it.
pub const SKU_GUIDE: &str = "GUIDE";

/// How long a stopped server may take to flush and exit after SIGTERM.
const STOP_MAX: std::time::Duration = std::time::Duration::from_secs(20);

/// A running server (killed when dropped) with one shop ready to take paid orders.
pub struct RealApi {
    pub url: String,
    pub shop_id: Uuid,
    /// A `printer` key: what the bridge runs with.
    pub printer_key: String,
    /// The category the bridge's rule names by id (categories have no key in comptoir).
    pub category_id: String,
    client: reqwest::Client,
    employee_key: String,
    /// Reads the feed, which a counter employee may not.
    manager_key: String,
    delivery_method_id: String,
    /// `None` while stopped.
    child: Option<Child>,
    dir: TempDir,
    /// The server's stderr, kept outside the data dir.
    log_dir: TempDir,
}

impl RealApi {
    pub async fn start() -> RealApi {
        let dir = tempfile::tempdir().expect("data dir");
        let log_dir = tempfile::tempdir().expect("server log dir");
        let (child, address) = spawn_server(dir.path(), log_dir.path(), "127.0.0.1:0").await;
        let mut api = RealApi {
            url: format!("http://{address}"),
            shop_id: Uuid::nil(),
            printer_key: String::new(),
            category_id: String::new(),
            client: reqwest::Client::new(),
            employee_key: String::new(),
            manager_key: String::new(),
            delivery_method_id: String::new(),
            child: Some(child),
            dir,
            log_dir,
        };
        api.set_up_shop().await;
        api
    }

    /// Stops the server as an operator would (SIGTERM: it finishes requests, flushes, exits).
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        let pid = child.id().expect("the server has a pid");
        let signalled = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "SIGTERM to comptoir serve");
        let status = tokio::time::timeout(STOP_MAX, child.wait())
            .await
            .unwrap_or_else(|_| panic!("comptoir serve still runs {STOP_MAX:?} after SIGTERM"))
            .expect("wait for comptoir serve");
        assert!(status.success(), "comptoir serve stopped with {status}");
    }

    /// Starts the server again on the same data dir and port.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is stopped");
        let listen = self.url.trim_start_matches("http://").to_string();
        let (child, address) = spawn_server(self.dir.path(), self.log_dir.path(), &listen).await;
        assert_eq!(address, listen, "the same port");
        self.child = Some(child);
    }

    /// The server's stderr, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_dir.path().join("server.log")).unwrap_or_default()
    }

    async fn send(&self, token: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let request = match body {
            Some(body) => self.client.post(url).json(body),
            None => self.client.get(url),
        };
        let response = request.bearer_auth(token).send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POSTs and expects `status`; returns the body.
    async fn post(&self, token: &str, path: &str, body: Value, status: u16) -> Value {
        let (got, answer) = self.send(token, path, Some(&body)).await;
        assert_eq!(got, status, "POST {path}: {answer}");
        answer
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, answer) = self.send(&self.manager_key, path, None).await;
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }

    pub fn shop_path(&self, rest: &str) -> String {
        format!("/v1/shops/{}{rest}", self.shop_id)
    }

    async fn set_up_shop(&mut self) {
        let fixture_path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/fixtures/photo-shop.json");
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture_path).expect("fixture"))
                .expect("json");
        let shop = &fixture["shop"];
        let body = json!({
            "name": "Studio Bridge", "organisation": fixture["organisation"],
            "currency": shop["currency"], "prices_include_tax": shop["prices_include_tax"],
            "document_patterns": {"invoice": shop["invoice_pattern"],
                "credit_note": shop["credit_note_pattern"], "delivery_slip": shop["delivery_slip_pattern"]},
            "payment_terms": "Payable à la commande",
        });
        let created = self.post(OWNER_TOKEN, "/v1/shops", body, 201).await;
        self.shop_id = created["shop_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("shop id");
        self.printer_key = self.key("printer").await;
        self.employee_key = self.key("employee").await;
        let manager = self.key("manager").await;
        self.manager_key = manager.clone();
        // Shops take orders only with an active pack: the operator mints a code, the shop redeems it.
        let pack = json!({"level": "Pro", "validity": {"days": 30},
            "transfer_allowance_bytes": 1_000_000_000_u64, "order_allowance": 1_000});
        let code = self
            .post(OWNER_TOKEN, "/v1/activation-codes", pack, 201)
            .await;
        let activation = json!({"code": code["code"]});
        self.post(
            &manager,
            &self.shop_path("/pack/activations"),
            activation,
            200,
        )
        .await;
        let category = self
            .post(
                &manager,
                &self.shop_path("/categories"),
                json!({"name": "Tirages photo"}),
                201,
            )
            .await;
        self.category_id = category["category_id"]
            .as_str()
            .expect("category id")
            .to_string();
        let books = self
            .post(
                &manager,
                &self.shop_path("/categories"),
                json!({"name": "Livres"}),
                201,
            )
            .await;
        let products = [
            (SKU_PRINT_10X15, "Tirage 10x15", &category["category_id"]),
            (SKU_PRINT_13X18, "Tirage 13x18", &category["category_id"]),
            (SKU_GUIDE, "Guide du tirage", &books["category_id"]),
        ];
        for (sku, name, category_id) in products {
            let product = json!({"sku": sku, "name": name, "category_id": category_id,
                "vat_rate": "20", "weight_g": 5, "tiers": [{"min_quantity": 1, "unit_price": "0.35"}]});
            self.post(&manager, &self.shop_path("/products"), product, 201)
                .await;
        }
        let method = json!({"name": "Colissimo", "kind": "home_delivery", "payment_mode": "card",
            "visible": true, "price": "4.90", "vat_rate": "20", "min_weight_g": 0});
        let method = self
            .post(&manager, &self.shop_path("/delivery-methods"), method, 201)
            .await;
        self.delivery_method_id = method["delivery_method_id"]
            .as_str()
            .expect("method id")
            .to_string();
    }

    async fn key(&self, role: &str) -> String {
        let body = json!({"role": role, "label": format!("{role} key")});
        let answer = self
            .post(OWNER_TOKEN, &self.shop_path("/api-keys"), body, 201)
            .await;
        answer["secret"].as_str().expect("secret").to_string()
    }

    /// Places an order of `lines` (SKU, quantity), uploads its `files` (name, bytes) as the
    /// storefront would, then marks it paid at the counter; returns its id.
    pub async fn add_paid_order(&self, lines: &[(&str, u32)], files: &[(String, Vec<u8>)]) -> Uuid {
        let order_id = self.place_order(lines).await;
        for (name, bytes) in files {
            self.upload(order_id, name, bytes.clone()).await;
        }
        self.mark_paid(order_id).await;
        order_id
    }

    pub async fn place_order(&self, lines: &[(&str, u32)]) -> Uuid {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
            .collect();
        let body = json!({
            "customer": {"email": "claire@example.fr", "name": "Claire Martin"},
            "lines": lines,
            "delivery_method_id": self.delivery_method_id,
            "shipping_address": {"line1": "3 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"},
        });
        let placed = self
            .post(&self.employee_key, &self.shop_path("/orders"), body, 201)
            .await;
        placed["order_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("order id")
    }

    /// `PUT …/files/{name}` with the raw bytes, as staff (not counted against the pack).
    pub async fn upload(&self, order_id: Uuid, name: &str, bytes: Vec<u8>) {
        let path = self.shop_path(&format!("/orders/{order_id}/files/{name}"));
        let response = self
            .client
            .put(format!("{}{path}", self.url))
            .bearer_auth(&self.employee_key)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "PUT {path}: {text}");
    }

    pub async fn mark_paid(&self, order_id: Uuid) {
        let path = self.shop_path(&format!("/orders/{order_id}/mark-paid"));
        self.post(&self.employee_key, &path, json!({"method": "cash"}), 200)
            .await;
    }

    /// Staff ask for a reprint of `job_id`; returns the new job id.
    pub async fn reprint(&self, order_id: Uuid, job_id: &str) -> String {
        let path = self.shop_path(&format!("/orders/{order_id}/print-jobs/{job_id}/reprint"));
        let answer = self.post(&self.employee_key, &path, json!({}), 201).await;
        answer["job_id"].as_str().expect("new job id").to_string()
    }

    /// The order's jobs as the API lists them.
    pub async fn jobs(&self, order_id: Uuid) -> Vec<Value> {
        let answer = self
            .get(&self.shop_path(&format!("/orders/{order_id}/print-jobs")))
            .await;
        answer["jobs"].as_array().cloned().unwrap_or_default()
    }

    /// Every event of the shop's feed, paged through as a JSON client would.
    pub async fn feed(&self) -> Vec<Value> {
        let (mut events, mut after) = (Vec::new(), 0_u64);
        loop {
            let page = self
                .get(&self.shop_path(&format!("/events?after={after}&limit=500")))
                .await;
            let batch = page["events"].as_array().cloned().unwrap_or_default();
            let next_after = page["next_after"].as_u64().expect("next_after");
            if batch.is_empty() && next_after <= after {
                return events;
            }
            events.extend(batch);
            after = next_after;
        }
    }

    /// The shop's event types in the order's stream, in log order.
    pub async fn order_event_types(&self, order_id: Uuid) -> Vec<String> {
        let stream = format!("order-{order_id}");
        self.feed()
            .await
            .iter()
            .filter(|event| event["stream"] == stream.as_str())
            .filter_map(|event| event["event_type"].as_str().map(str::to_string))
            .collect()
    }
}

/// The `PrintJob*` events of a feed as (order id, event type, job id), in log order.
pub fn print_job_events(feed: &[Value]) -> Vec<(Uuid, String, Uuid)> {
    feed.iter()
        .filter_map(|event| {
            let event_type = event["event_type"].as_str()?;
            if !event_type.starts_with("PrintJob") {
                return None;
            }
            let order_id = event["stream"]
                .as_str()?
                .strip_prefix("order-")?
                .parse()
                .ok()?;
            // Payloads are externally tagged: `{"PrintJobCompleted": {..}}`.
            let job_id = event["data"][event_type]["job_id"].as_str()?.parse().ok()?;
            Some((order_id, event_type.to_string(), job_id))
        })
        .collect()
}

/// Starts `comptoir serve` on `data_dir`, listening on `listen`; returns it and its address.
async fn spawn_server(data_dir: &Path, log_dir: &Path, listen: &str) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join("server.log"))
        .expect("server log");
    let mut child = Command::new(comptoir_bin())
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", listen])
        .env("COMPTOIR_ADMIN_TOKEN", OWNER_TOKEN)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn comptoir serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let address = tokio::time::timeout(WAIT_MAX, read_address(stdout))
        .await
        .expect("comptoir serve printed its address in time")
        .expect("comptoir serve printed its address");
    (child, address)
}

async fn read_address(stdout: tokio::process::ChildStdout) -> Option<String> {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(address) = line.strip_prefix("listening on http://") {
            // Keep draining stdout so later prints never block the server.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Some(address.trim().to_string());
        }
    }
    None
}
