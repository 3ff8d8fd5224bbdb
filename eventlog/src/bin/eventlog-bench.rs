//! Measures the event log against the ceiling of its storage.
//!
//! `cargo run --release -p comptoir-eventlog --bin eventlog-bench -- --writers 64 --events 200000 --event-bytes 200`
//!
//! Prints what it measures, then ONE JSON object as the last line. The raw sled ceiling runs in a
//! child process so that its cache does not count in this process's RSS.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use comptoir_eventlog::{
    AppendRequest, EventLog, EventMetadata, ExpectedVersion, LogOptions, NewEvent,
};
use uuid::Uuid;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser, Debug)]
#[command(about = "Benchmark of comptoir's event log")]
struct Args {
    /// Concurrent appenders, each appending one event per request.
    #[arg(long, default_value_t = 64)]
    writers: u64,
    /// Events appended in total.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Payload size of each event.
    #[arg(long, default_value_t = 200)]
    event_bytes: usize,
    /// Internal: only measure raw sled and print events/s.
    #[arg(long, hide = true)]
    raw_sled_only: bool,
}

const RAW_BATCH_RECORDS: u64 = 4_096;

fn main() {
    let args = Args::parse();
    if args.raw_sled_only {
        println!(
            "{:.0}",
            raw_sled_events_per_s(args.events, args.event_bytes)
        );
        return;
    }
    let raw = run_raw_sled_child(&args);
    eprintln!("raw sled apply_batch({RAW_BATCH_RECORDS})+flush: {raw:.0} events/s");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let log = Arc::new(EventLog::open(dir.path(), LogOptions::default()).expect("open log"));
    let (elapsed, mut latencies_us) = runtime.block_on(run_appenders(&log, &args));
    let events_per_s = args.events as f64 / elapsed.as_secs_f64();
    latencies_us.sort_unstable();
    let p50 = percentile_ms(&latencies_us, 0.50);
    let p99 = percentile_ms(&latencies_us, 0.99);
    eprintln!("log: {} events by {} writers in {:.2}s: {events_per_s:.0} events/s, p50 {p50:.3} ms, p99 {p99:.3} ms", args.events, args.writers, elapsed.as_secs_f64());
    eprintln!("rss after appends: {:.1} MB", rss_mb("VmRSS:"));
    let read_all_events_per_s = measure_read_all(&log, args.events);
    eprintln!("rss after read all: {:.1} MB", rss_mb("VmRSS:"));
    eprintln!("read all: {read_all_events_per_s:.0} events/s");
    let rss_mb = rss_mb("VmHWM:");
    log.shutdown();
    let disk_bytes_per_event = dir_bytes(dir.path()) as f64 / args.events as f64;
    println!(
        "{{\"writers\":{},\"events\":{},\"event_bytes\":{},\"events_per_s\":{:.0},\"append_p50_ms\":{:.3},\"append_p99_ms\":{:.3},\"raw_sled_events_per_s\":{:.0},\"ratio_to_raw_sled\":{:.3},\"read_all_events_per_s\":{:.0},\"rss_mb\":{:.1},\"disk_bytes_per_event\":{:.0}}}",
        args.writers, args.events, args.event_bytes, events_per_s, p50, p99, raw, events_per_s / raw, read_all_events_per_s, rss_mb, disk_bytes_per_event
    );
}

async fn run_appenders(log: &Arc<EventLog>, args: &Args) -> (Duration, Vec<u32>) {
    let per_writer = args.events / args.writers;
    let remainder = args.events % args.writers;
    let payload = Arc::new(vec![b'x'; args.event_bytes]);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.writers)
        .map(|writer| {
            let log = log.clone();
            let payload = payload.clone();
            let count = per_writer + u64::from(writer < remainder);
            tokio::spawn(async move { append_loop(&log, writer, count, &payload).await })
        })
        .collect();
    let mut latencies = Vec::with_capacity(args.events as usize);
    for task in tasks {
        latencies.extend(task.await.expect("writer task"));
    }
    (started.elapsed(), latencies)
}

async fn append_loop(log: &EventLog, writer: u64, count: u64, payload: &[u8]) -> Vec<u32> {
    let stream = format!("bench-{writer}");
    let mut latencies = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let event = NewEvent {
            event_id: Uuid::new_v4(),
            event_type: "BenchEventRecorded".into(),
            schema_version: 1,
            payload: payload.to_vec(),
            metadata: EventMetadata::default(),
        };
        let started = Instant::now();
        log.append(AppendRequest::single(
            stream.clone(),
            ExpectedVersion::Any,
            vec![event],
        ))
        .await
        .expect("append");
        latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
    }
    latencies
}

fn percentile_ms(sorted_us: &[u32], quantile: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let index = ((sorted_us.len() as f64 * quantile).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[index]) / 1_000.0
}

fn measure_read_all(log: &EventLog, expected: u64) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    let mut payload_bytes = 0usize;
    for event in log.iter_all(1).expect("iterate") {
        payload_bytes += event.expect("read").payload.len();
        count += 1;
    }
    assert_eq!(count, expected, "read_all must return every appended event");
    std::hint::black_box(payload_bytes);
    count as f64 / started.elapsed().as_secs_f64()
}

fn run_raw_sled_child(args: &Args) -> f64 {
    let exe = std::env::current_exe().expect("own path");
    let output = Command::new(exe)
        .args([
            "--raw-sled-only",
            "--events",
            &args.events.to_string(),
            "--event-bytes",
            &args.event_bytes.to_string(),
        ])
        .output()
        .expect("run raw sled child");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("raw sled figure")
}

/// The ceiling: sled `apply_batch` of 4096 records then `flush`, repeated, on a fresh tree.
fn raw_sled_events_per_s(events: u64, event_bytes: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(comptoir_eventlog::limits::CACHE_BYTES_DEFAULT)
        .flush_every_ms(None)
        .mode(sled::Mode::HighThroughput)
        .open()
        .expect("open sled");
    let tree = db.open_tree("raw").expect("tree");
    let value = vec![b'x'; event_bytes];
    let started = Instant::now();
    let mut written = 0u64;
    while written < events {
        let mut batch = sled::Batch::default();
        let size = RAW_BATCH_RECORDS.min(events - written);
        for key in written..written + size {
            batch.insert(&key.to_be_bytes()[..], value.as_slice());
        }
        tree.apply_batch(batch).expect("apply_batch");
        db.flush().expect("flush");
        written += size;
    }
    events as f64 / started.elapsed().as_secs_f64()
}

/// A line of /proc/self/status in MB: `VmHWM:` is the peak resident set, `VmRSS:` the current one.
fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}
