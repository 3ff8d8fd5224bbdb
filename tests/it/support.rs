//! Helpers: build and locate the real binary, start it on a free port over a temporary data dir,
//! fill and damage logs through the public log API and sled.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use comptoir_eventlog::{
    AppendRequest, EventLog, EventMetadata, ExpectedVersion, LogOptions, NewEvent,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a server may take to print its address, or to exit after a signal.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);
/// The owner token every test server accepts.
pub const ADMIN_TOKEN: &str = "test-owner-token";
/// The payload every filler event carries; tests search for it in stored bytes.
pub const FILLER_PAYLOAD: &[u8] = b"payload-of-some-length";

/// The `comptoir` binary, built once per test run with the same profile as the tests.
///
/// `CARGO_BIN_EXE_*` only exists for a package's own tests, and this package is not the one that
/// owns the binary, so ask cargo to build it and to say where it put it. That also guarantees the
/// binary is never stale.
pub fn comptoir_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(build_comptoir)
}

fn build_comptoir() -> PathBuf {
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
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == "comptoir")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no comptoir executable")
}

/// Runs `comptoir ARGS` to completion: exit status, stdout, stderr.
pub async fn run_comptoir(args: &[&str]) -> (ExitStatus, String, String) {
    let child = Command::new(comptoir_bin())
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PROCESS_TIMEOUT, child)
        .await
        .expect("comptoir finished in time")
        .expect("run comptoir");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A running `comptoir serve`; killed when dropped.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// What it printed after its address, line by line.
    stdout: Arc<Mutex<Vec<String>>>,
}

/// Starts the real server on a free port over a fresh temporary data dir.
pub async fn spawn_app() -> (tempfile::TempDir, TestApp) {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_in(dir.path()).await;
    (dir, app)
}

/// Starts the real server over `data_dir` and waits for the address it prints.
pub async fn spawn_app_in(data_dir: &Path) -> TestApp {
    spawn_app_with(data_dir, &[]).await
}

/// Starts the real server with a clock the owner token can move (`serve --test-clock`).
pub async fn spawn_app_with_test_clock() -> (tempfile::TempDir, TestApp) {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(dir.path(), &["--test-clock"]).await;
    (dir, app)
}

/// Starts the real server over `data_dir` with extra `serve` arguments.
pub async fn spawn_app_with(data_dir: &Path, extra_args: &[&str]) -> TestApp {
    let mut child = serve_command(data_dir)
        .args(extra_args)
        .spawn()
        .expect("spawn comptoir serve");
    let stderr = collect_stderr(&mut child);
    let stdout = child.stdout.take().expect("piped stdout");
    let printed = Arc::new(Mutex::new(Vec::new()));
    let address =
        tokio::time::timeout(PROCESS_TIMEOUT, read_address(stdout, printed.clone())).await;
    let Ok(Some(address)) = address else {
        let status = child.try_wait().ok().flatten();
        let log = stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!("comptoir serve printed no address (exit {status:?}); stderr:\n{log}");
    };
    TestApp {
        address,
        client: reqwest::Client::new(),
        child,
        stderr,
        stdout: printed,
    }
}

pub fn serve_command(data_dir: &Path) -> Command {
    let mut command = Command::new(comptoir_bin());
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("COMPTOIR_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Drains stderr in the background so the child never blocks on a full pipe, keeping it for
/// failure messages.
fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let collected = Arc::new(Mutex::new(String::new()));
    if let Some(mut stderr) = child.stderr.take() {
        let sink = collected.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut chunk).await {
                if read == 0 {
                    break;
                }
                if let Ok(mut text) = sink.lock() {
                    text.push_str(&String::from_utf8_lossy(&chunk[..read]));
                }
            }
        });
    }
    collected
}

async fn read_address(
    stdout: tokio::process::ChildStdout,
    printed: Arc<Mutex<Vec<String>>>,
) -> Option<SocketAddr> {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(address) = line.strip_prefix("listening on http://") {
            // Keep draining stdout so later prints never block the server, keeping the lines.
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(mut printed) = printed.lock() {
                        printed.push(line);
                    }
                }
            });
            return address.trim().parse().ok();
        }
    }
    None
}

impl TestApp {
    /// The first line printed after the address that starts with `prefix`, waiting for it.
    pub async fn printed_line(&self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + PROCESS_TIMEOUT;
        loop {
            let found = self.stdout.lock().ok().and_then(|printed| {
                printed
                    .iter()
                    .find(|line| line.starts_with(prefix))
                    .cloned()
            });
            if let Some(line) = found {
                return line;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server printed no line starting with {prefix:?}; stderr:\n{}",
                self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the server.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.id().expect("server still running");
        let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped) has no memory effects.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(result, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits for the server to exit by itself; returns its status and everything it logged.
    pub async fn wait_exit(mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(PROCESS_TIMEOUT, self.child.wait())
            .await
            .expect("server exited in time")
            .expect("wait for server");
        // Give the stderr task a moment to read what the process wrote last.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let log = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        (status, log)
    }

    /// Stops the server as an operator would (SIGTERM), checks that it exited cleanly, and
    /// returns everything it logged.
    pub async fn stop(self) -> String {
        self.signal(libc::SIGTERM);
        let (status, log) = self.wait_exit().await;
        assert!(status.success(), "exit {status:?}; stderr:\n{log}");
        log
    }
}

/// Appends `batches` appends of `events_per_batch` events each, stream `s{batch}`, and closes the log.
pub async fn fill_log(dir: &Path, batches: u64, events_per_batch: u64) {
    let log = EventLog::open(dir, LogOptions::default()).expect("open log");
    for batch in 1..=batches {
        let events = (0..events_per_batch)
            .map(|index| NewEvent {
                event_id: uuid::Uuid::from_u128(u128::from(batch * 1_000 + index)),
                event_type: "ThingHappened".into(),
                schema_version: 1,
                payload: FILLER_PAYLOAD.to_vec(),
                metadata: EventMetadata::default(),
            })
            .collect();
        let request = AppendRequest::single(format!("s{batch}"), ExpectedVersion::NoStream, events);
        log.append(request).await.expect("append");
    }
    log.shutdown();
}

/// Opens the sled database at `path` once the process's previous handle on it has let go of its
/// file lock: sled releases it from a background thread after the handle is dropped, so right
/// after a shutdown the lock can still be held for a moment on a loaded machine.
pub fn open_sled_when_released(path: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(error) if std::time::Instant::now() < deadline => {
                eprintln!(
                    "sled at {} not released yet ({error}); retrying",
                    path.display()
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(error) => panic!("cannot open sled at {}: {error}", path.display()),
        }
    }
}

/// Waits until no handle holds the sled database at `path` (sled locks its `db` file), so that
/// what opens it next, in this process or a server started now, finds it free.
pub fn wait_for_sled_release(path: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let file = std::fs::File::open(path.join("db")).expect("sled's db file");
    loop {
        match file.try_lock() {
            Ok(()) => {
                file.unlock().expect("unlock");
                return;
            }
            Err(error) if std::time::Instant::now() < deadline => {
                eprintln!("sled at {} still held ({error}); waiting", path.display());
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(error) => panic!("sled at {} still held: {error}", path.display()),
        }
    }
}

/// Runs `change` on the sled database at `path`, as an attacker or a bad disk would write,
/// flushes it and returns once sled has let go of it (`wait_for_sled_release`).
pub fn with_sled<T>(path: &Path, change: impl FnOnce(&sled::Db) -> T) -> T {
    let db = open_sled_when_released(path);
    let outcome = change(&db);
    db.flush().expect("flush");
    drop(db);
    wait_for_sled_release(path);
    outcome
}

/// Flips one byte inside the `nth` (from 0) filler payload of the batch stored at key
/// `batch_first_position`, writing through sled directly as an attacker or a bad disk would.
pub fn flip_payload_byte(dir: &Path, batch_first_position: u64, nth: usize) {
    with_sled(&dir.join("log"), |db| {
        flip_in_tree(db, batch_first_position, nth)
    });
}

fn flip_in_tree(db: &sled::Db, batch_first_position: u64, nth: usize) {
    let tree = db.open_tree("log").expect("log tree");
    let key = batch_first_position.to_be_bytes();
    let mut value = tree.get(key).expect("get").expect("batch exists").to_vec();
    let offset = value
        .windows(FILLER_PAYLOAD.len())
        .enumerate()
        .filter(|(_, window)| *window == FILLER_PAYLOAD)
        .nth(nth)
        .expect("payload present")
        .0;
    value[offset + 3] ^= 0x01;
    tree.insert(key, value).expect("insert");
}

/// Changes one letter of the first stored record holding `text`, through sled directly, as an
/// attacker with the disk would.
pub fn alter_text(dir: &Path, text: &[u8]) {
    let altered = with_sled(&dir.join("log"), |db| {
        let tree = db.open_tree("log").expect("log tree");
        for item in tree.iter() {
            let (key, value) = item.expect("batch");
            let Some(offset) = value.windows(text.len()).position(|w| w == text) else {
                continue;
            };
            let mut value = value.to_vec();
            value[offset] ^= 0x20;
            tree.insert(key, value).expect("insert");
            return true;
        }
        false
    });
    assert!(altered, "no record holds {}", String::from_utf8_lossy(text));
}

/// Recomputes every record's hash from the genesis, as an attacker covering a change would.
pub fn rechain(dir: &Path) {
    use comptoir_eventlog::codec::{chain_hash, BatchBuilder, BatchReader, GENESIS_HASH};
    with_sled(&dir.join("log"), |db| {
        let tree = db.open_tree("log").expect("log tree");
        let mut previous = GENESIS_HASH;
        let batches: Vec<_> = tree.iter().map(|item| item.expect("batch")).collect();
        for (key, value) in batches {
            let mut reader = BatchReader::new(&value).expect("batch");
            let mut builder = BatchBuilder::new(reader.first_position());
            while let Some(record) = reader.next_record() {
                let record = record.expect("record");
                previous = chain_hash(&previous, record.envelope);
                builder.push(record.envelope, &previous);
            }
            tree.insert(key, builder.finish()).expect("insert");
        }
    });
}
