//! Kill -9 crash test: a child appends in a loop and prints each acknowledged append; it is
//! killed at random moments; after every reopen, every acknowledged event must be present at its
//! position, positions dense and the chain intact.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use comptoir_eventlog::{EventLog, LogOptions};
use futures::StreamExt;
use rand::Rng;
use uuid::Uuid;

struct Ack {
    first: u64,
    ids: Vec<Uuid>,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ACK ")?.split(' ');
    let first = parts.next()?.parse().ok()?;
    let last: u64 = parts.next()?.parse().ok()?;
    let ids: Vec<Uuid> = parts
        .next()?
        .split(',')
        .map(|id| id.parse().ok())
        .collect::<Option<_>>()?;
    (last + 1 - first == ids.len() as u64).then_some(Ack { first, ids })
}

/// Runs the child until killed after `run_ms`; returns the acknowledged appends. With `large`,
/// 16 writers append events of ~1.5 KB, so that group commits span several stored batches.
fn run_and_kill(dir: &std::path::Path, run_ms: u64, large: bool) -> Vec<Ack> {
    let (writers, pad) = if large { ("16", "1500") } else { ("8", "0") };
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventlog-crash-child"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--writers", writers, "--payload-pad-bytes", pad])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start child");
    let stdout = child.stdout.take().expect("piped stdout");
    let (lines_tx, lines_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready = lines_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("child became ready");
    assert!(ready.starts_with("READY"), "unexpected first line {ready}");
    std::thread::sleep(Duration::from_millis(run_ms));
    child.kill().expect("SIGKILL the child");
    let _ = child.wait();
    reader.join().expect("reader thread");
    // Everything the child printed before dying was acknowledged by the log.
    lines_rx
        .try_iter()
        .filter_map(|line| parse_ack(&line))
        .collect()
}

fn check_after_reopen(dir: &std::path::Path, acked: &[Ack]) -> u64 {
    let log = EventLog::open(dir, LogOptions::default()).expect("reopen after kill -9");
    let report = log.verify().expect("verify");
    assert!(
        report.is_intact(),
        "chain broken after crash: {:?}",
        report.first_bad
    );
    assert_eq!(
        report.events_checked,
        log.head_position(),
        "positions must be dense"
    );
    for ack in acked {
        let stored = log
            .read_all(ack.first, ack.ids.len())
            .expect("read acknowledged events");
        let stored_ids: Vec<Uuid> = stored.iter().map(|e| e.event_id).collect();
        assert_eq!(
            stored_ids, ack.ids,
            "acknowledged append at {} lost or moved",
            ack.first
        );
    }
    log.head_position()
}

// Proves that no acknowledged event is lost, positions stay dense and the chain verifies across
// many SIGKILLs at random moments, every other cycle with events large enough that a group
// commit is stored as several batches (inserted in position order, so a crash keeps a prefix).
// COMPTOIR_CRASH_CYCLES sets the number of cycles (default 12).
#[test]
fn acknowledged_events_survive_kill_minus_nine() {
    let cycles: u32 = std::env::var("COMPTOIR_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = rand::thread_rng();
    let mut all_acked = Vec::new();
    for cycle in 0..cycles {
        let acked = run_and_kill(dir.path(), rng.gen_range(50..400), cycle % 2 == 1);
        let acked_events: usize = acked.iter().map(|a| a.ids.len()).sum();
        all_acked.extend(acked);
        let head = check_after_reopen(dir.path(), &all_acked);
        eprintln!("cycle {cycle}: {acked_events} events acknowledged before SIGKILL, head {head}, chain intact");
    }
    assert!(
        !all_acked.is_empty(),
        "the child must have acknowledged appends"
    );
    assert!(
        some_commit_spans_several_batches(dir.path()),
        "the large cycles must have stored commits as several batches"
    );
}

/// Whether a group commit of the log in `dir` (its events share `recorded_at`) was stored as
/// more than one batch.
fn some_commit_spans_several_batches(dir: &std::path::Path) -> bool {
    let log = EventLog::open(dir, LogOptions::default()).expect("reopen");
    let head = log.head_position();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut batches = log.subscribe_batches(1);
        let (mut read, mut previous_end) = (0, None);
        while read < head {
            let batch = batches.next().await.expect("a batch").expect("readable");
            read = batch[batch.len() - 1].position;
            if previous_end == Some(batch[0].recorded_at) {
                return true;
            }
            previous_end = Some(batch[batch.len() - 1].recorded_at);
        }
        false
    })
}
