//! How sled 0.34's memory grows with the rows a tree holds, past its page cache (BENCHMARKS.md,
//! "Memory"): stores rows of 150 bytes under 25-byte keys in a fresh database with an 8 MiB
//! cache and prints the process's RSS after each million.
//!
//! Usage: `cargo run --release -p comptoir-projections --example sled_rows_memory -- [ROWS]
//! [scattered]`. Keys go in order unless `scattered` is given (then in a multiplicative hash's
//! order, as random keys would).

use std::process::ExitCode;

const ROWS_DEFAULT: u64 = 5_000_000;
const REPORT_EVERY_ROWS: u64 = 1_000_000;
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
const VALUE_BYTES: usize = 150;
/// A table tag and a 16-byte id before the row's own 8 bytes, as the projections' keys.
const KEY_PREFIX: [u8; 17] = [1; 17];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let rows = match args.next().map(|text| text.parse::<u64>()) {
        None => ROWS_DEFAULT,
        Some(Ok(rows)) => rows,
        Some(Err(_)) => {
            eprintln!("usage: sled_rows_memory [ROWS] [scattered]");
            return ExitCode::from(2);
        }
    };
    let scattered = args.next().as_deref() == Some("scattered");
    match probe(rows, scattered) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sled_rows_memory: {error}");
            ExitCode::FAILURE
        }
    }
}

fn probe(rows: u64, scattered: bool) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(CACHE_BYTES)
        .open()?;
    let tree = db.open_tree("rows")?;
    let value = [7u8; VALUE_BYTES];
    println!("start: RSS {} MB", rss_mb()?);
    for row in 0..rows {
        let suffix = if scattered {
            row.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        } else {
            row
        };
        let mut key = KEY_PREFIX.to_vec();
        key.extend_from_slice(&suffix.to_be_bytes());
        tree.insert(key, &value[..])?;
        if (row + 1) % REPORT_EVERY_ROWS == 0 {
            db.flush()?;
            println!("{} rows: RSS {} MB", row + 1, rss_mb()?);
        }
    }
    Ok(())
}

fn rss_mb() -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or("no VmRSS in /proc/self/status")?
        .parse::<u64>()?;
    Ok(kib / 1024)
}
