//! The bridge as README shows it to a newcomer: `comptoir serve --demo`, then the bridge with
//! `bridge.demo.toml` prints the demo day's paid print orders into a hot folder.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

use crate::real_api::comptoir_bin;
use crate::support::WAIT_MAX;

/// The line of `lines` that starts with `prefix`, skipping the ones before it.
async fn line_starting(lines: &mut Lines<BufReader<ChildStdout>>, prefix: &str) -> String {
    let found = tokio::time::timeout(WAIT_MAX, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with(prefix) {
                return Some(line);
            }
        }
        None
    })
    .await;
    found
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("comptoir serve --demo printed no line starting with {prefix:?}"))
}

/// `bridge.demo.toml` as committed, pointed at `api_url` and at temporary directories.
fn demo_config(api_url: &str, dir: &Path) -> String {
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("bridge.demo.toml"))
            .expect("bridge.demo.toml");
    let replaced = [
        (
            "api_url = \"http://127.0.0.1:8080\"",
            format!("api_url = \"{api_url}\""),
        ),
        (
            "state_dir = \"demo-bridge-state\"",
            format!("state_dir = \"{}\"", dir.join("state").display()),
        ),
        (
            "path = \"demo-hotfolder\"",
            format!("path = \"{}\"", dir.join("hot").display()),
        ),
    ];
    replaced.iter().fold(committed, |config, (from, to)| {
        assert!(
            config.contains(from),
            "bridge.demo.toml no longer says {from}"
        );
        config.replace(from, to)
    })
}

#[tokio::test]
async fn the_demo_configuration_prints_the_demo_days_photo_orders() {
    // Proves the committed demo configuration works against `serve --demo`: the printable lines
    // of the four paid orders (120 and 60 prints, 2 enlargements, 3 panoramas, each order with
    // its photo) become four hot-folder jobs with their copies, none fails, and the book, the
    // guide and the unpaid mugs print nothing.
    let data = tempfile::tempdir().expect("data dir");
    let mut server = Command::new(comptoir_bin())
        .arg("serve")
        .arg("--demo")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn comptoir serve --demo");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let listening = line_starting(&mut lines, "listening on ").await;
    let api_url = listening.trim_start_matches("listening on ").to_string();
    let shop_line = line_starting(&mut lines, "demo shop ").await;
    let key = shop_line
        .rsplit("manager API key: ")
        .next()
        .expect("a key")
        .to_string();
    line_starting(&mut lines, "demo day loaded").await;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let bridge_dir = tempfile::tempdir().expect("bridge dir");
    let config = bridge_dir.path().join("bridge.toml");
    std::fs::write(&config, demo_config(&api_url, bridge_dir.path())).expect("write config");
    let run = Command::new(env!("CARGO_BIN_EXE_comptoir-printer-bridge"))
        .arg("--config")
        .arg(&config)
        .arg("--once")
        .env("COMPTOIR_BRIDGE_API_KEY", &key)
        .output();
    let output = tokio::time::timeout(WAIT_MAX, run)
        .await
        .expect("the bridge finished in time")
        .expect("run the bridge");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");

    let jobs = std::fs::read_dir(bridge_dir.path().join("hot")).expect("hot folder");
    let mut quantities = Vec::new();
    for job in jobs {
        let job = job.expect("job folder").path();
        let mark = std::fs::read_to_string(job.join("MISC/AUTPRINT.MRK")).expect("DPOF file");
        let images = std::fs::read_dir(job.join("IMAGES"))
            .expect("images")
            .count();
        assert_eq!(images, 1, "{mark}");
        let quantity = mark
            .lines()
            .find_map(|line| line.strip_prefix("PRT QTY = "))
            .expect("a quantity")
            .to_string();
        quantities.push(quantity);
    }
    quantities.sort();
    assert_eq!(quantities, ["002", "003", "060", "120"], "{log}");
    assert!(!log.contains("status=\"failed\""), "{log}");
}
