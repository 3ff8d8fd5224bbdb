//! `http-bench`: the REST API's benchmark program (a program, not a test).
//!
//! Builds and starts the release `comptoir serve` as a child process over a temporary data dir,
//! sets up a shop and a catalog over HTTP, then `--connections` clients place `--orders` orders
//! (3 lines each) and pay every second one, over real loopback HTTP. Every 201/200 means the
//! events are durable. The last line printed is one JSON object with the figures, among them the
//! server's peak resident memory (`server_peak_rss_mb`) and how long after the last answer its
//! read models held every event (`read_models_caught_up_ms`). `--keep-data-dir DIR` serves from DIR
//! (which must not exist) and keeps it, to look at the log a loaded server wrote.
//!
//! Client and server share the machine's cores, so the client is kept lean: each of its
//! connections is one bare hyper HTTP/1.1 keep-alive connection, the order body is encoded once,
//! and of a placed order only the id and the total are decoded. Its own CPU time per order is
//! reported (`client_cpu_ms_per_order`) beside the server's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long the server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections at most, to keep the benchmark's own footprint bounded.
const CONNECTIONS_MAX: usize = 1_024;

struct Args {
    connections: usize,
    orders: usize,
    keep_data_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        connections: 64,
        orders: 20_000,
        keep_data_dir: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let value = iter.next().ok_or(format!("{flag} needs a value"))?;
        if flag == "--keep-data-dir" {
            args.keep_data_dir = Some(PathBuf::from(value));
            continue;
        }
        let number: usize = value.parse().map_err(|_| format!("{flag}: not a number"))?;
        match flag.as_str() {
            "--connections" => args.connections = number.clamp(1, CONNECTIONS_MAX),
            "--orders" => args.orders = number.max(1),
            other => {
                return Err(format!(
                    "unknown flag {other} (use --connections N --orders N [--keep-data-dir DIR])"
                ))
            }
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(args).await {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let binary = build_server()?;
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = match &args.keep_data_dir {
        Some(kept) if kept.exists() => {
            return Err(format!("{} exists; name a new directory", kept.display()))
        }
        Some(kept) => kept.clone(),
        None => temp.path().to_path_buf(),
    };
    let token = format!("bench-{}", uuid::Uuid::now_v7());
    let (mut child, address) = start_server(&binary, &dir, &token).await?;
    let setup = setup(&address, &token).await?;
    eprintln!(
        "shop ready; {} orders over {} connections",
        args.orders, args.connections
    );
    let server = child.id().ok_or("the server has no pid")?;
    write_back_dirty_pages().await;
    let machine_speed = machine_sha256_mb_per_s();
    let mut figures = load(&address, &setup, &args, server).await;
    figures["machine_sha256_mb_per_s"] = json!(machine_speed);
    let _ = child.start_kill();
    let _ = child.wait().await;
    println!("{figures}");
    Ok(())
}

/// Bytes hashed to gauge the machine: a few tens of milliseconds.
const GAUGE_BYTES: usize = 64 * 1024 * 1024;

/// How fast one core hashes, measured just before the load while the server is idle. This
/// machine is shared and its speed drifts by 15-20% within an hour; this gauge of one core's raw
/// speed catches part of it (BENCHMARKS.md: not the part in memory, caches or I/O).
fn machine_sha256_mb_per_s() -> f64 {
    use sha2::{Digest, Sha256};
    let block = vec![0x5a_u8; 1024 * 1024];
    let started = Instant::now();
    let mut hasher = Sha256::new();
    for _ in 0..GAUGE_BYTES / block.len() {
        hasher.update(&block);
    }
    std::hint::black_box(hasher.finalize());
    let seconds = started.elapsed().as_secs_f64().max(f64::EPSILON);
    round2(GAUGE_BYTES as f64 / 1e6 / seconds)
}

/// Names a `comptoir` binary to benchmark instead of building the current one: comparing two
/// versions in the same hour of a shared machine needs both at hand.
const SERVER_BINARY_ENV: &str = "COMPTOIR_BENCH_SERVER";

/// The release `comptoir` binary, built by cargo so that it is never stale (or the one named by
/// [`SERVER_BINARY_ENV`]).
fn build_server() -> Result<PathBuf, String> {
    if let Some(binary) = std::env::var_os(SERVER_BINARY_ENV) {
        return Ok(PathBuf::from(binary));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "comptoir-api",
            "--bin",
            "comptoir",
        ])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err("building comptoir failed".into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "comptoir")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo reported no comptoir executable".into())
}

/// Starts `binary` serving `dir` and returns it with the `host:port` it listens on.
async fn start_server(binary: &Path, dir: &Path, token: &str) -> Result<(Child, String), String> {
    let mut child = Command::new(binary)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("COMPTOIR_ADMIN_TOKEN", token)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start comptoir: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let address = tokio::time::timeout(START_TIMEOUT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(address) = line.strip_prefix("listening on http://") {
                return Some(address.trim().to_string());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or("the server printed no address")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, address))
}

struct Setup {
    shop_path: String,
    key: String,
    delivery_method_id: String,
    /// The owner token, for the log's head.
    owner_token: String,
}

/// Sets up a shop and its catalog over one connection of the kind the load uses.
async fn setup(address: &str, token: &str) -> Result<Setup, String> {
    let mut client = Connection::open(address).await?;
    let shop = json!({
        "name": "Bench", "currency": "EUR", "prices_include_tax": true,
        "organisation": {"name": "Bench SARL", "siren": "812345678", "vat_id": "FR45812345678",
            "address": {"line1": "1 rue A", "postal_code": "69002", "city": "Lyon", "country": "FR"}},
        "document_patterns": {"invoice": "FA-{YYYY}-{seq:06}", "credit_note": "AV-{YYYY}-{seq:06}", "delivery_slip": "BL-{YYYY}-{seq:06}"},
        "payment_terms": "Payable à la commande",
    });
    let shop_id = client.post_json("/v1/shops", token, &shop).await?["shop_id"]
        .as_str()
        .ok_or("no shop id")?
        .to_string();
    let shop_path = format!("/v1/shops/{shop_id}");
    let key = json!({"role": "manager", "label": "bench"});
    let key = client
        .post_json(&format!("{shop_path}/api-keys"), token, &key)
        .await?["secret"]
        .as_str()
        .ok_or("no secret")?
        .to_string();
    // Orders need an active pack: the owner mints a code and the shop redeems it.
    let pack = json!({"level": "Bench", "validity": {"days": 30},
        "transfer_allowance_bytes": 1_000_000_000_u64, "order_allowance": 10_000_000_u64});
    let code = client
        .post_json("/v1/activation-codes", token, &pack)
        .await?;
    let code = json!({"code": code["code"]});
    client
        .post_json(&format!("{shop_path}/pack/activations"), &key, &code)
        .await?;
    let category = json!({"name": "Tirages"});
    let category = client
        .post_json(&format!("{shop_path}/categories"), &key, &category)
        .await?;
    for (sku, price) in [
        ("TIR-10x15", "0.35"),
        ("TIR-13x18", "0.69"),
        ("AGR-20x30", "4.90"),
    ] {
        let product = json!({"sku": sku, "name": sku, "category_id": category["category_id"], "vat_rate": "20", "weight_g": 10,
            "tiers": [{"min_quantity": 1, "unit_price": price}, {"min_quantity": 50, "unit_price": "0.25"}]});
        client
            .post_json(&format!("{shop_path}/products"), &key, &product)
            .await?;
    }
    let method = json!({"name": "Retrait", "kind": "store_pickup", "payment_mode": "in_store", "price": "0.00", "vat_rate": "20"});
    let method = client
        .post_json(&format!("{shop_path}/delivery-methods"), &key, &method)
        .await?;
    Ok(Setup {
        owner_token: token.to_string(),
        shop_path,
        key,
        delivery_method_id: method["delivery_method_id"]
            .as_str()
            .ok_or("no method id")?
            .to_string(),
    })
}

#[derive(Default)]
struct Samples {
    place_us: Vec<u64>,
    pay_us: Vec<u64>,
}

/// Failed requests: how many, and the first one's story (what a reader of the figures needs to
/// tell a limit from a bug).
#[derive(Default)]
struct Errors {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl Errors {
    fn record(&self, error: String) {
        if self.count.fetch_add(1, Ordering::Relaxed) == 0 {
            if let Ok(mut first) = self.first.lock() {
                first.get_or_insert(error);
            }
        }
    }

    fn first(&self) -> Option<String> {
        self.first.lock().ok().and_then(|first| first.clone())
    }
}

async fn load(address: &str, setup: &Setup, args: &Args, server: u32) -> Value {
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = server_cpu_ms(server);
    let client_cpu_before = server_cpu_ms(std::process::id());
    let cpu = CpuSampler::start(server, next.clone());
    let errors = Arc::new(Errors::default());
    let samples = Arc::new(Mutex::new(Samples::default()));
    let order = Bytes::from(
        json!({
            "customer": {"email": "bench@example.fr", "name": "Bench Client"},
            "lines": [{"sku": "TIR-10x15", "quantity": 60}, {"sku": "TIR-13x18", "quantity": 12}, {"sku": "AGR-20x30", "quantity": 2}],
            "delivery_method_id": setup.delivery_method_id,
        })
        .to_string(),
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let worker = Worker {
                address: address.to_string(),
                orders_path: format!("{}/orders", setup.shop_path),
                authorization: format!("Bearer {}", setup.key),
                order: order.clone(),
            };
            let (next, errors, samples, total) =
                (next.clone(), errors.clone(), samples.clone(), args.orders);
            tokio::spawn(async move { worker.run(next, total, errors, samples).await })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The client's share of the two cores the bench shares with the server.
    let client_cpu = match (client_cpu_before, server_cpu_ms(std::process::id())) {
        (Some(before), Some(after)) => Some(round3((after - before) / args.orders as f64)),
        _ => None,
    };
    let read_models_caught_up_ms = read_models_caught_up_ms(address, setup).await;
    let cpu = cpu.finish(args.orders).await;
    let cpu_total = match (cpu_before, server_cpu_ms_when_idle(server).await) {
        (Some(before), Some(after)) => Some(round3((after - before) / args.orders as f64)),
        _ => None,
    };
    let samples = samples
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    let server_peak_rss_mb = peak_rss_mb(server);
    json!({
        "connections": args.connections,
        "orders": args.orders,
        "payments": samples.pay_us.len(),
        "elapsed_s": round2(elapsed),
        "orders_per_s": round2(args.orders as f64 / elapsed),
        "place_p50_ms": percentile_ms(samples.place_us.clone(), 50.0),
        "place_p99_ms": percentile_ms(samples.place_us, 99.0),
        "pay_p99_ms": percentile_ms(samples.pay_us, 99.0),
        "errors": errors.count.load(Ordering::Relaxed),
        "first_error": errors.first(),
        "server_cpu_ms_per_order": cpu_total,
        "server_cpu_ms_per_order_first_quarter": cpu.first_quarter,
        "server_cpu_ms_per_order_last_quarter": cpu.last_quarter,
        "client_cpu_ms_per_order": client_cpu,
        "server_peak_rss_mb": server_peak_rss_mb,
        "read_models_caught_up_ms": read_models_caught_up_ms,
    })
}

/// How long after the last answer the read models held every event of the load: a read at the
/// log's head (`?min_position=`), timed. The runner applies events behind the writers, so this
/// says how far behind it was when the load stopped. `None` when a request failed, e.g. when
/// the wait went past the server's bound (`READ_WAIT_MAX`).
async fn read_models_caught_up_ms(address: &str, setup: &Setup) -> Option<f64> {
    let started = Instant::now();
    let mut connection = Connection::open(address).await.ok()?;
    let owner = format!("Bearer {}", setup.owner_token);
    let head = connection.get("/v1/admin/log/head", &owner).await.ok()?;
    let position = serde_json::from_slice::<Value>(&head).ok()?["position"].as_u64()?;
    let read = format!("{}?min_position={position}", setup.shop_path);
    let key = format!("Bearer {}", setup.key);
    connection.get(&read, &key).await.ok()?;
    Some(round2(started.elapsed().as_secs_f64() * 1000.0))
}

/// A process's peak resident memory in MiB, from `/proc/<pid>/status`.
fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?;
    let kilobytes: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kilobytes / 1024)
}

/// Linux reports CPU times in USER_HZ ticks, 100 a second on every architecture it runs on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// A process's CPU time (user + system) so far, in milliseconds, from `/proc/<pid>/stat`: the
/// server's, or this client's own.
/// Throughput is noisy on a shared machine; CPU time per order is not.
fn server_cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 * 1000.0 / CLOCK_TICKS_PER_SECOND)
}

/// Samples the server's CPU time against the orders taken, to compare the first and the last
/// quarter of the run: CPU per order must not grow with the log.
struct CpuSampler {
    pid: u32,
    samples: Arc<Mutex<Vec<(usize, f64)>>>,
    task: tokio::task::JoinHandle<()>,
}

struct CpuQuarters {
    first_quarter: Option<f64>,
    last_quarter: Option<f64>,
}

/// How often the sampler reads the server's CPU time.
const CPU_SAMPLE_EVERY: Duration = Duration::from_millis(20);

impl CpuSampler {
    fn start(pid: u32, taken: Arc<AtomicUsize>) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let into = samples.clone();
        let task = tokio::spawn(async move {
            loop {
                if let (Some(cpu), Ok(mut samples)) = (server_cpu_ms(pid), into.lock()) {
                    samples.push((taken.load(Ordering::Relaxed), cpu));
                }
                tokio::time::sleep(CPU_SAMPLE_EVERY).await;
            }
        });
        CpuSampler { pid, samples, task }
    }

    async fn finish(self, orders: usize) -> CpuQuarters {
        self.task.abort();
        let _ = self.task.await;
        let mut samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        // Every order is answered now: the last figure is taken here, not at the last tick,
        // which may have come before the last order was taken.
        if let Some(cpu) = server_cpu_ms(self.pid) {
            samples.push((orders, cpu));
        }
        // The CPU time when orders were first taken at or past `index`.
        let at = |index: usize| samples.iter().find(|(taken, _)| *taken >= index).copied();
        let per_order = |from: usize, to: usize| {
            let ((taken_from, cpu_from), (taken_to, cpu_to)) = (at(from)?, at(to)?);
            (taken_to > taken_from)
                .then(|| round3((cpu_to - cpu_from) / (taken_to - taken_from) as f64))
        };
        let quarter = orders / 4;
        CpuQuarters {
            first_quarter: per_order(0, quarter),
            last_quarter: per_order(orders - quarter, orders),
        }
    }
}

/// Has the kernel write back the dirty pages left before the load (a previous run leaves some
/// 300 MB per 20,000 orders), so that their writeback does not land in this measurement.
async fn write_back_dirty_pages() {
    if let Err(error) = Command::new("sync").status().await {
        eprintln!("http-bench: cannot run sync ({error}); measuring anyway");
    }
}

/// How long the server may stay busy after the last answer (read models catching up).
const SETTLE_MAX: Duration = Duration::from_secs(20);
/// The server is idle once its CPU time grows by less than this over [`SETTLE_EVERY`].
const SETTLE_IDLE_MS: f64 = 20.0;
const SETTLE_EVERY: Duration = Duration::from_millis(500);

/// Waits until the server is idle again (work deferred past the answers, such as the read
/// models applied live, is part of an order's cost) and returns its CPU time then.
async fn server_cpu_ms_when_idle(pid: u32) -> Option<f64> {
    let deadline = Instant::now() + SETTLE_MAX;
    let mut last = server_cpu_ms(pid)?;
    loop {
        tokio::time::sleep(SETTLE_EVERY).await;
        let now = server_cpu_ms(pid)?;
        if now - last < SETTLE_IDLE_MS || Instant::now() >= deadline {
            return Some(now);
        }
        last = now;
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

struct Worker {
    address: String,
    orders_path: String,
    authorization: String,
    order: Bytes,
}

/// What the bench reads of a placed order; serde skips the rest without building it.
#[derive(serde::Deserialize)]
struct Placed {
    order_id: String,
    pricing: PlacedPricing,
}

#[derive(serde::Deserialize)]
struct PlacedPricing {
    totals: PlacedTotals,
}

#[derive(serde::Deserialize)]
struct PlacedTotals {
    total_incl_vat: String,
}

impl Worker {
    /// Takes order numbers until `total`; pays the even ones. One keep-alive connection,
    /// reopened after a failure.
    async fn run(
        self,
        next: Arc<AtomicUsize>,
        total: usize,
        errors: Arc<Errors>,
        samples: Arc<Mutex<Samples>>,
    ) {
        let mut place_us = Vec::new();
        let mut pay_us = Vec::new();
        let mut connection: Option<Connection> = None;
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= total {
                break;
            }
            let started = Instant::now();
            let placed = self
                .post(&mut connection, &self.orders_path, self.order.clone())
                .await;
            place_us.push(started.elapsed().as_micros() as u64);
            let placed = placed.and_then(|body| {
                serde_json::from_slice::<Placed>(&body).map_err(|e| e.to_string())
            });
            let placed = match placed {
                Ok(placed) => placed,
                Err(error) => {
                    errors.record(format!("placing order {index}: {error}"));
                    continue;
                }
            };
            if index % 2 == 1 {
                continue;
            }
            let path = format!("{}/{}/payments", self.orders_path, placed.order_id);
            let body = format!(
                r#"{{"method":"card","amount":"{}"}}"#,
                placed.pricing.totals.total_incl_vat
            );
            let started = Instant::now();
            let paid = self.post(&mut connection, &path, Bytes::from(body)).await;
            pay_us.push(started.elapsed().as_micros() as u64);
            if let Err(error) = paid {
                errors.record(format!("paying order {index}: {error}"));
            }
        }
        if let Ok(mut all) = samples.lock() {
            all.place_us.extend(place_us);
            all.pay_us.extend(pay_us);
        }
    }

    /// POSTs `body` as JSON over the worker's connection (opened when there is none) and
    /// returns the body of a 2xx answer. A failed request drops the connection.
    async fn post(
        &self,
        connection: &mut Option<Connection>,
        path: &str,
        body: Bytes,
    ) -> Result<Bytes, String> {
        if connection.is_none() {
            *connection = Some(Connection::open(&self.address).await?);
        }
        let Some(open) = connection.as_mut() else {
            return Err("no connection".into());
        };
        let answer = open.post(path, &self.authorization, body).await;
        if answer.is_err() {
            *connection = None;
        }
        answer
    }
}

/// One HTTP/1.1 keep-alive connection to the server.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// The `host:port` it was opened to: its requests' `Host`.
    host: String,
}

impl Connection {
    async fn open(address: &str) -> Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| format!("connect {address}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection {
            sender,
            host: address.to_string(),
        })
    }

    /// POSTs `body` as JSON and decodes the JSON answer (the setup's few requests).
    async fn post_json(&mut self, path: &str, token: &str, body: &Value) -> Result<Value, String> {
        let authorization = format!("Bearer {token}");
        let answer = self
            .post(path, &authorization, Bytes::from(body.to_string()))
            .await?;
        serde_json::from_slice(&answer).map_err(|e| format!("{path}: {e}"))
    }

    /// POSTs `body` as JSON; returns the body of a 2xx answer.
    async fn post(
        &mut self,
        path: &str,
        authorization: &str,
        body: Bytes,
    ) -> Result<Bytes, String> {
        let request = hyper::Request::post(path)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body));
        self.send(path, authorization, request).await
    }

    /// GETs `path`; returns the body of a 2xx answer.
    async fn get(&mut self, path: &str, authorization: &str) -> Result<Bytes, String> {
        let request = hyper::Request::get(path).body(Full::new(Bytes::new()));
        self.send(path, authorization, request).await
    }

    async fn send(
        &mut self,
        path: &str,
        authorization: &str,
        request: Result<hyper::Request<Full<Bytes>>, hyper::http::Error>,
    ) -> Result<Bytes, String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let mut request = request.map_err(|e| e.to_string())?;
        let headers = request.headers_mut();
        let host = self
            .host
            .parse()
            .map_err(|_| format!("host {}", self.host))?;
        headers.insert(hyper::header::HOST, host);
        let authorization = authorization
            .parse()
            .map_err(|_| "authorization".to_string())?;
        headers.insert(hyper::header::AUTHORIZATION, authorization);
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "{path}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(body)
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn percentile_ms(mut micros: Vec<u64>, percentile: f64) -> f64 {
    if micros.is_empty() {
        return 0.0;
    }
    micros.sort_unstable();
    let rank = ((percentile / 100.0) * (micros.len() - 1) as f64).round() as usize;
    round2(micros[rank.min(micros.len() - 1)] as f64 / 1000.0)
}
