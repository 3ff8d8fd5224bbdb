//! Times a full rebuild of every projection over a log of sample orders.
//!
//! `cargo run --release -p comptoir-api --bin rebuild-bench -- --orders 100000` builds the log
//! directly through the domain (no HTTP: `comptoir_projections::sample`), closes it, then
//! rebuilds all projections from position 1 in a fresh process, as an operator's `comptoir
//! rebuild` would, and prints one JSON line last: events, rebuild_s, events_per_s, rss_mb (the
//! rebuilding process's peak resident set) and generate_rss_mb (the generating one's).

use clap::Parser;
use comptoir_eventlog::{EventLog, LogOptions, OfflineLog};
use comptoir_projections::sample::{merge_into_append, SampleShop};
use comptoir_projections::{rebuild_projections, ProjectionName};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The allocator of the `comptoir` binary, whose `rebuild` command this times.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Orders merged into one append: each brings its own stream, and all share the 3 document
/// series and a few store-credit streams, within the log's 32 streams per append.
const ORDERS_PER_APPEND: u64 = 16;

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
    if let (true, Some(dir)) = (args.rebuild_only, &args.data_dir) {
        return rebuild(dir, args.orders);
    }
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.unwrap_or_else(|| temp.path().to_path_buf());
    generate(&dir, args.orders).await?;
    let child = std::process::Command::new(std::env::current_exe()?)
        .arg("--rebuild-only")
        .arg("--data-dir")
        .arg(&dir)
        .args(["--orders", &args.orders.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !child.status.success() {
        return Err(format!("the rebuilding process failed: {}", child.status).into());
    }
    let stdout = String::from_utf8_lossy(&child.stdout);
    let mut line: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|last| serde_json::from_str(last).ok())
        .ok_or("the rebuilding process printed no figures")?;
    line["generate_rss_mb"] = peak_rss_mb().into();
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
    let outcomes = rebuild_projections(dir, &log, &ProjectionName::ALL, &mut |_, _| {})?;
    let rebuild_s = rebuilt.elapsed().as_secs_f64();
    for outcome in &outcomes {
        let digest = hex::encode(outcome.digest);
        eprintln!("{} sha256 {digest}", outcome.projection.as_str());
    }
    let line = serde_json::json!({
        "events": events,
        "orders": orders,
        "rebuild_s": (rebuild_s * 1000.0).round() / 1000.0,
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
