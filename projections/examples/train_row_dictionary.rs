//! Trains the zstd dictionary the projections compress their rows with (`src/row_bytes.rs`).
//!
//! Usage: `cargo run --release -p comptoir-projections --example train_row_dictionary --
//! <data_dir>/projections <output file>`, over a data dir whose projections were built from a
//! varied log (e.g. the one `rebuild-bench --data-dir` leaves). The dictionary is part of the
//! stored format: a new one needs a new tag in `row_bytes.rs`, with the old kept for reading.

use std::process::ExitCode;

/// Every Nth JSON value is a sample: enough for zstd's trainer, and spread over the tables.
const SAMPLE_EVERY: usize = 20;
const DICTIONARY_BYTES: usize = 16 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db_path, output] = args.as_slice() else {
        eprintln!("usage: train_row_dictionary <projections db dir> <output file>");
        return ExitCode::from(2);
    };
    match train(db_path, output) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("train_row_dictionary: {error}");
            ExitCode::FAILURE
        }
    }
}

fn train(db_path: &str, output: &str) -> Result<String, Box<dyn std::error::Error>> {
    let db = sled::Config::new().path(db_path).open()?;
    let mut samples = Vec::new();
    let mut seen = 0usize;
    for name in db.tree_names() {
        for entry in db.open_tree(&name)?.iter() {
            let (_, value) = entry?;
            // Only plain JSON rows: key suffixes and counters are stored raw and never compressed.
            if !matches!(value.first(), Some(b'{' | b'[')) {
                continue;
            }
            if seen.is_multiple_of(SAMPLE_EVERY) {
                samples.push(value.to_vec());
            }
            seen += 1;
        }
    }
    let dictionary = zstd::dict::from_samples(&samples, DICTIONARY_BYTES)?;
    std::fs::write(output, &dictionary)?;
    Ok(format!(
        "{} samples of {seen} JSON rows; dictionary of {} bytes written to {output}",
        samples.len(),
        dictionary.len()
    ))
}
