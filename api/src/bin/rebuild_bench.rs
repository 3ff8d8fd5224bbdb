//! Times a full rebuild of every projection over a log of sample orders.
//!
//! `cargo run --release -p comptoir-api --bin rebuild-bench -- --orders 100000` builds the log
//! directly through the domain (no HTTP: `comptoir_projections::sample`), closes it, then
//! rebuilds all projections from position 1 in a fresh process, as an operator's `comptoir
//! rebuild` would, and prints one JSON line last: events, rebuild_s, events_per_s, rss_mb (the
//! rebuilding process's peak resident set) and generate_rss_mb (the generating one's); replay_s
//! is the part of rebuild_s until the last event was applied (the rest digests the new trees,
//! swaps them in and drops the old ones).
//!
//! It then measures the storage's floor for the same result, in a third process: the rows the
//! rebuild left, read into memory first, written in key order (sled's fastest order) into a
//! fresh database of the same settings. `floor_rows`, `floor_s` and `floor_events_per_s` (the
//! log's events over `floor_s`) say how fast a rebuild could be if it did nothing but store its
//! result.

use clap::Parser;
use comptoir_eventlog::{EventLog, LogOptions, OfflineLog};
use comptoir_projections::limits::{FLUSH_INTERVAL_MS, OFFLINE_CACHE_BYTES};
use comptoir_projections::sample::{merge_into_append, SampleShop};
use comptoir_projections::{rebuild_projections, ProjectionName, PROJECTIONS_DIR};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The allocator of the `comptoir` binary, whose `rebuild` command this times.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Orders merged into one append: each brings its own stream, and all share the 3 document
/// series and a few store-credit streams, within the log's 32 streams per append.
const ORDERS_PER_APPEND: u64 = 16;

/// Rows per `apply_batch` when measuring the storage floor: about what one rebuild commit
/// stores. Not more: sled 0.34 applies a batch under one epoch guard, so it frees none of the
/// nodes the batch replaces before the batch ends; with 4,096 rows a batch the same rows took
/// 3.9 s to store, against 2.5–2.8 s with 128 to 1,024.
const FLOOR_BATCH_ROWS: usize = 1024;

/// Where the floor is measured, under the data dir; deleted afterwards.
const FLOOR_DIR: &str = "sled-floor";

#[derive(Debug, Parser)]
#[command(
    name = "rebuild-bench",
    about = "Time a full rebuild of the projections"
)]
struct Args {
    /// Orders in the generated log (each with payments and documents, ~6 events).
    #[arg(long, default_value_t = 100_000)]
    orders: u64,
    /// Where to build the log; a temporary directory by default.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Only rebuild the log already in `--data-dir` (the child process of a run).
    #[arg(long, requires = "data_dir")]
    rebuild_only: bool,
    /// Only measure the storage floor of the projections already in `--data-dir` (the third
    /// process of a run).
    #[arg(long, requires = "data_dir")]
    floor_only: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

async fn run(args: Args) -> BenchResult<()> {
    match (&args.data_dir, args.rebuild_only, args.floor_only) {
        (Some(dir), true, _) => return rebuild(dir, args.orders),
        (Some(dir), _, true) => return storage_floor(dir),
        _ => {}
    }
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.unwrap_or_else(|| temp.path().to_path_buf());
    generate(&dir, args.orders).await?;
    let mut line = child_figures(&dir, "--rebuild-only", args.orders)?;
    line["generate_rss_mb"] = peak_rss_mb().into();
    let floor = child_figures(&dir, "--floor-only", args.orders)?;
    let events = line["events"].as_f64().unwrap_or_default();
    let floor_s = floor["floor_s"].as_f64().unwrap_or_default();
    line["floor_rows"] = floor["floor_rows"].clone();
    line["floor_s"] = floor["floor_s"].clone();
    line["floor_events_per_s"] = (events / floor_s).round().into();
    println!("{line}");
    Ok(())
}

/// Runs this program again on `dir` in `mode` and returns the JSON of its last line. Dirty pages
/// are written back first: the generated log is ~700 MB, which the kernel would otherwise write
/// back while the rebuild runs, a cost an operator's rebuild of an old log does not share.
fn child_figures(dir: &Path, mode: &str, orders: u64) -> BenchResult<serde_json::Value> {
    if let Err(error) = std::process::Command::new("sync").status() {
        eprintln!("rebuild-bench: cannot run sync ({error}); measuring anyway");
    }
    let child = std::process::Command::new(std::env::current_exe()?)
        .arg(mode)
        .arg("--data-dir")
        .arg(dir)
        .args(["--orders", &orders.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !child.status.success() {
        return Err(format!("the {mode} process failed: {}", child.status).into());
    }
    let stdout = String::from_utf8_lossy(&child.stdout);
    stdout
        .lines()
        .last()
        .and_then(|last| serde_json::from_str(last).ok())
        .ok_or_else(|| format!("the {mode} process printed no figures").into())
}

/// Every row of every tree of the projections' database in `dir` (the rebuilt ones: the old
/// trees were dropped), tree by tree, in key order.
type TreeRows = Vec<(sled::IVec, Vec<(sled::IVec, sled::IVec)>)>;

fn rebuilt_rows(dir: &Path) -> BenchResult<TreeRows> {
    let db = sled::Config::new()
        .path(dir.join(PROJECTIONS_DIR))
        .cache_capacity(OFFLINE_CACHE_BYTES)
        .open()?;
    let mut trees = Vec::new();
    for name in db.tree_names() {
        let rows = db.open_tree(&name)?.iter().collect::<Result<Vec<_>, _>>()?;
        trees.push((name, rows));
    }
    Ok(trees)
}

/// Writes the rebuilt rows into a fresh database as fast as sled takes them and prints the time.
fn storage_floor(dir: &Path) -> BenchResult<()> {
    let trees = rebuilt_rows(dir)?;
    let scratch = dir.join(FLOOR_DIR);
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    let db = sled::Config::new()
        .path(&scratch)
        .cache_capacity(OFFLINE_CACHE_BYTES)
        .flush_every_ms(Some(FLUSH_INTERVAL_MS))
        .open()?;
    let started = Instant::now();
    for (name, rows) in &trees {
        let tree = db.open_tree(name)?;
        for chunk in rows.chunks(FLOOR_BATCH_ROWS) {
            let mut batch = sled::Batch::default();
            for (key, value) in chunk {
                batch.insert(key, value);
            }
            tree.apply_batch(batch)?;
        }
    }
    db.flush()?;
    let floor_s = started.elapsed().as_secs_f64();
    drop(db);
    std::fs::remove_dir_all(&scratch)?;
    let rows: usize = trees.iter().map(|(_, rows)| rows.len()).sum();
    let line = serde_json::json!({
        "floor_rows": rows,
        "floor_s": (floor_s * 1000.0).round() / 1000.0,
    });
    println!("{line}");
    Ok(())
}

/// Builds a log of `orders` sample orders in `dir` and closes it.
async fn generate(dir: &Path, orders: u64) -> BenchResult<()> {
    let log = EventLog::open(dir, LogOptions::default())?;
    let generated = Instant::now();
    let start = chrono::DateTime::from_timestamp(1_735_689_600, 0).unwrap_or_default();
    let mut shop = SampleShop::new(1, start);
    log.append(merge_into_append(vec![shop.open()?])).await?;
    let mut steps = Vec::new();
    for n in 0..orders {
        steps.push(shop.order(n)?);
        if steps.len() as u64 == ORDERS_PER_APPEND || n + 1 == orders {
            log.append(merge_into_append(std::mem::take(&mut steps)))
                .await?;
        }
    }
    eprintln!(
        "generated {} events for {orders} orders in {:.1} s",
        log.head_position(),
        generated.elapsed().as_secs_f64()
    );
    log.shutdown();
    Ok(())
}

/// Rebuilds every projection of the log in `dir` and prints the figures of this process.
fn rebuild(dir: &Path, orders: u64) -> BenchResult<()> {
    let log = OfflineLog::open(dir)?;
    let events = log.head_position();
    let rebuilt = Instant::now();
    let mut replay_s = 0.0;
    let outcomes = rebuild_projections(dir, &log, &ProjectionName::ALL, &mut |applied, head| {
        if applied == head {
            replay_s = rebuilt.elapsed().as_secs_f64();
        }
    })?;
    let rebuild_s = rebuilt.elapsed().as_secs_f64();
    for outcome in &outcomes {
        let digest = hex::encode(outcome.digest);
        eprintln!("{} sha256 {digest}", outcome.projection.as_str());
    }
    let line = serde_json::json!({
        "events": events,
        "orders": orders,
        "rebuild_s": (rebuild_s * 1000.0).round() / 1000.0,
        "replay_s": (replay_s * 1000.0).round() / 1000.0,
        "events_per_s": (events as f64 / rebuild_s).round(),
        "rss_mb": peak_rss_mb(),
    });
    println!("{line}");
    Ok(())
}

/// Peak resident set of this process in MiB, from /proc (0 where there is none).
fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb / 1024)
}
