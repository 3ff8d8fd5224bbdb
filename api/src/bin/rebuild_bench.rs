//! Times a full rebuild of every projection over a log of sample orders.
//!
//! `cargo run --release -p comptoir-api --bin rebuild-bench -- --orders 100000` builds the log
//! directly through the domain (no HTTP: `comptoir_projections::sample`), then rebuilds all
//! projections from position 1 and prints one JSON line last: events, rebuild_s, events_per_s,
//! rss_mb (the process's peak resident set, generation included).

use clap::Parser;
use comptoir_eventlog::{EventLog, LogOptions};
use comptoir_projections::sample::{merge_into_append, SampleShop};
use comptoir_projections::{rebuild_projections, ProjectionName};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.unwrap_or_else(|| temp.path().to_path_buf());
    let log = EventLog::open(&dir, LogOptions::default())?;
    let generated = Instant::now();
    let start = chrono::DateTime::from_timestamp(1_735_689_600, 0).unwrap_or_default();
    let mut shop = SampleShop::new(1, start);
    log.append(merge_into_append(vec![shop.open()?])).await?;
    let mut steps = Vec::new();
    for n in 0..args.orders {
        steps.push(shop.order(n)?);
        if steps.len() as u64 == ORDERS_PER_APPEND || n + 1 == args.orders {
            log.append(merge_into_append(std::mem::take(&mut steps)))
                .await?;
        }
    }
    let events = log.head_position();
    eprintln!(
        "generated {events} events for {} orders in {:.1} s",
        args.orders,
        generated.elapsed().as_secs_f64()
    );
    let rebuilt = Instant::now();
    let outcomes = rebuild_projections(&dir, &log, &ProjectionName::ALL, &mut |_, _| {})?;
    let rebuild_s = rebuilt.elapsed().as_secs_f64();
    for outcome in &outcomes {
        let digest = hex::encode(outcome.digest);
        eprintln!("{} sha256 {digest}", outcome.projection.as_str());
    }
    let line = serde_json::json!({
        "events": events,
        "orders": args.orders,
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
