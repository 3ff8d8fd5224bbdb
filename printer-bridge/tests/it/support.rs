//! Helpers: a real IPP printer (ippeveprinter on a private D-Bus), the bridge binary run as a
//! child process with a generated config, test images, and polling with a deadline.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use comptoir_printer_bridge::model::OrderLine;
use tempfile::TempDir;
use uuid::Uuid;

use crate::real_api::RealApi;
use crate::stand_in::API_KEY;

/// How long any awaited condition may take before the test fails.
pub const WAIT_MAX: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const PRINTER_START_MAX: Duration = Duration::from_secs(20);

/// Media names offered by the test printer; the bridge's config maps products onto them.
const PRINTER_ATTRIBUTES: &str = "ATTR keyword media-supported photo_4x6_4x6in,na_5x7_5x7in,iso_a4_210x297mm\n\
ATTR keyword media-default photo_4x6_4x6in\n\
ATTR mimeMediaType document-format-supported image/jpeg,image/png,application/octet-stream,application/pdf\n";

/// Polls `condition` until it holds; panics with `what` after `WAIT_MAX`.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WAIT_MAX, "timed out waiting for {what}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("address").port()
}

/// Bytes that look like a JPEG (SOI marker, then noise, then EOI) and differ per seed.
pub fn image_bytes(seed: u64, length: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while bytes.len() < length.saturating_sub(2) {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        bytes.push((state >> 33) as u8);
    }
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

pub fn print_line(sku: &str, category: &str, quantity: u32, files: &[&str]) -> OrderLine {
    OrderLine {
        sku: sku.to_string(),
        product_name: format!("product {sku}"),
        category_key: category.to_string(),
        category_id: None,
        quantity,
        files: files.iter().map(|name| name.to_string()).collect(),
    }
}

/// Whether the machine lacks ippeveprinter, in which case a test may skip, except in CI, where
/// the printer is part of the contract of `.ci/run` and its absence must fail.
pub fn ipp_unavailable() -> bool {
    let present = Path::new("/usr/sbin/ippeveprinter").exists()
        || Command::new("sh")
            .args(["-c", "command -v ippeveprinter"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    if present {
        return false;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "ippeveprinter is missing in CI: .ci/run must install cups-ipp-utils and dbus"
    );
    eprintln!("SKIPPED: ippeveprinter (Debian cups-ipp-utils) is not installed");
    true
}

/// A real IPP printer: ippeveprinter keeping every job's document in a spool dir.
pub struct Printer {
    pub port: u16,
    pub dir: TempDir,
    dbus_pid: Option<i32>,
    process: Option<Child>,
}

impl Printer {
    /// Starts a printer on a free port.
    pub fn start() -> Printer {
        let mut printer = Printer::stopped(free_port());
        printer.power_on();
        printer
    }

    /// A printer that is off (nothing listens on its port) until `power_on`.
    pub fn stopped(port: u16) -> Printer {
        let dir = tempfile::tempdir().expect("printer dir");
        std::fs::create_dir(dir.path().join("spool")).expect("spool dir");
        std::fs::write(dir.path().join("attrs.txt"), PRINTER_ATTRIBUTES).expect("attrs");
        let script = dir.path().join("done.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&script, mode).expect("chmod");
        let dbus_pid = start_dbus(dir.path());
        Printer {
            port,
            dir,
            dbus_pid: Some(dbus_pid),
            process: None,
        }
    }

    pub fn uri(&self) -> String {
        format!("ipp://localhost:{}/ipp/print", self.port)
    }

    pub fn spool(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    pub fn power_on(&mut self) {
        assert!(self.process.is_none(), "printer already on");
        let dir = self.dir.path();
        let child = Command::new("ippeveprinter")
            .args(["-n", "localhost", "-p", &self.port.to_string(), "-k", "-d"])
            .arg(self.spool())
            .arg("-a")
            .arg(dir.join("attrs.txt"))
            .arg("-c")
            .arg(dir.join("done.sh"))
            // Without `-r off` it registers with avahi, which asserts and kills it here.
            .args(["-r", "off", "Test Printer"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", dbus_address(dir))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("printer.log")).expect("log"))
            .spawn()
            .expect("start ippeveprinter");
        self.process = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < PRINTER_START_MAX,
                "ippeveprinter did not listen"
            );
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    pub fn power_off(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Spool documents by job name: (job name, bytes). Only the documents the bridge sent
    /// (the `.prn` files are the print script's output).
    pub fn documents(&self) -> Vec<(String, Vec<u8>)> {
        let mut documents = Vec::new();
        for entry in std::fs::read_dir(self.spool())
            .expect("read spool")
            .flatten()
        {
            let file_name = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = file_name.strip_suffix(".jpg") else {
                continue;
            };
            // `<printer job id>-<job name>.jpg`
            let Some((_, job_name)) = stem.split_once('-') else {
                continue;
            };
            let bytes = std::fs::read(entry.path()).expect("read document");
            documents.push((job_name.to_string(), bytes));
        }
        documents
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        self.power_off();
        if let Some(pid) = self.dbus_pid.take() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

fn dbus_address(dir: &Path) -> String {
    format!("unix:path={}", dir.join("dbus.sock").display())
}

/// A private D-Bus for ippeveprinter, which needs one; returns its pid.
fn start_dbus(dir: &Path) -> i32 {
    let output = Command::new("dbus-daemon")
        .args(["--session", "--fork", "--print-pid"])
        .arg(format!("--address={}", dbus_address(dir)))
        .stderr(Stdio::inherit())
        .output()
        .expect("start dbus-daemon (Debian package dbus)");
    assert!(output.status.success(), "dbus-daemon failed");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("dbus-daemon printed its pid")
}

/// The driver section of a bridge config.
pub enum Driver<'a> {
    HotFolder(&'a Path),
    Ipp(&'a str),
}

/// A bridge's state dir and config file.
pub struct BridgeSetup {
    pub dir: TempDir,
    /// The API key the bridge runs with.
    api_key: String,
}

impl BridgeSetup {
    /// A bridge of the stand-in API, whose lines name the category by key (`tirages`).
    pub fn new(api_url: &str, shop_id: Uuid, driver: Driver) -> BridgeSetup {
        BridgeSetup::with_key(api_url, shop_id, driver, API_KEY, "tirages")
    }

    /// A bridge using `api_key`, printing the category `category` (a key or an id) on 4x6.
    pub fn with_key(
        api_url: &str,
        shop_id: Uuid,
        driver: Driver,
        api_key: &str,
        category: &str,
    ) -> BridgeSetup {
        let dir = tempfile::tempdir().expect("bridge dir");
        let driver = match driver {
            Driver::HotFolder(path) => {
                format!("kind = \"hot_folder\"\npath = \"{}\"\n", path.display())
            }
            Driver::Ipp(uri) => format!("kind = \"ipp\"\nuri = \"{uri}\"\npoll_interval_ms = 50\n"),
        };
        let config = format!(
            "api_url = \"{api_url}\"\nshop_id = \"{shop_id}\"\napi_key_env = \"BRIDGE_TEST_KEY\"\n\
             state_dir = \"{state}\"\njobs_in_flight_max = 4\n\n\
             [retry]\ninitial_backoff_ms = 20\nmax_backoff_ms = 200\n\n\
             [[print]]\nsku = \"PRINT-13X18\"\nmedia = \"na_5x7_5x7in\"\n\n\
             [[print]]\ncategory = \"{category}\"\nmedia = \"photo_4x6_4x6in\"\ncopies_per_unit = 2\n\n\
             [driver]\n{driver}",
            state = dir.path().join("state").display(),
        );
        std::fs::write(dir.path().join("bridge.toml"), config).expect("write config");
        BridgeSetup {
            dir,
            api_key: api_key.to_string(),
        }
    }

    /// A bridge of the real server, with its printer key, printing its photo category.
    pub fn for_real(api: &RealApi, driver: Driver) -> BridgeSetup {
        BridgeSetup::with_key(
            &api.url,
            api.shop_id,
            driver,
            &api.printer_key,
            &api.category_id,
        )
    }

    pub fn checkpoint(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.dir.path().join("state/feed-position")).ok()?;
        text.trim().parse().ok()
    }

    fn command(&self, once: bool) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_comptoir-printer-bridge"));
        command
            .arg("--config")
            .arg(self.dir.path().join("bridge.toml"));
        if once {
            command.arg("--once");
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("bridge.log"))
            .expect("log file");
        command
            .env("BRIDGE_TEST_KEY", &self.api_key)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        command
    }

    /// Starts the bridge following the feed.
    pub fn spawn(&self) -> Child {
        self.command(false).spawn().expect("start bridge")
    }

    /// Runs `--once` to its end and asserts it succeeded.
    pub async fn run_once(&self) {
        let mut child = tokio::process::Command::from(self.command(true))
            .spawn()
            .expect("start bridge");
        let status = tokio::time::timeout(WAIT_MAX, child.wait())
            .await
            .expect("bridge --once finishes")
            .expect("wait for bridge");
        assert!(
            status.success(),
            "bridge --once failed; log:\n{}",
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bridge.log")).unwrap_or_default()
    }
}

/// What the printer says of each job: (job name, copies, media), through Get-Jobs.
pub async fn printer_jobs(uri: &str) -> Vec<(String, i32, String)> {
    use ipp::prelude::*;
    let uri: Uri = uri.parse().expect("printer uri");
    let mut request: IppRequestResponse = IppOperationBuilder::get_jobs(uri.clone())
        .build()
        .expect("Get-Jobs")
        .into();
    let attributes = request.attributes_mut();
    let keyword = |value: &str| IppValue::new_keyword(value).expect("keyword");
    let which = IppAttribute::with_name("which-jobs", keyword("all")).expect("attribute");
    attributes.add(DelimiterTag::OperationAttributes, which);
    let requested = IppValue::Array(vec![
        keyword("job-name"),
        keyword("copies"),
        keyword("media"),
    ]);
    let requested = IppAttribute::with_name("requested-attributes", requested).expect("attribute");
    attributes.add(DelimiterTag::OperationAttributes, requested);
    let response = AsyncIppClient::new(uri)
        .send(request)
        .await
        .expect("Get-Jobs answer");
    response
        .attributes()
        .groups_of(DelimiterTag::JobAttributes)
        .map(|group| {
            let text = |name: &str| {
                group
                    .get(name)
                    .map(|a| a.value().to_string())
                    .unwrap_or_default()
            };
            let copies = group
                .get("copies")
                .and_then(|a| a.value().as_integer().copied())
                .unwrap_or(0);
            (text("job-name"), copies, text("media"))
        })
        .collect()
}
