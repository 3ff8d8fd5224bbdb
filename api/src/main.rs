//! The `comptoir` binary: parses the command line into one command and runs it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use comptoir_api::{Config, DATA_DIR_DEFAULT, LISTEN_DEFAULT};
use tracing_subscriber::EnvFilter;

/// Exit status when `verify` found a damaged record (1 is any other failure).
const EXIT_CORRUPT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "comptoir",
    version,
    about = "Event-sourced order and ledger engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API over the event log in the data dir.
    Serve {
        /// Directory of the event log.
        #[arg(long, env = "COMPTOIR_DATA_DIR", default_value = DATA_DIR_DEFAULT)]
        data_dir: PathBuf,
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, env = "COMPTOIR_LISTEN", default_value = LISTEN_DEFAULT)]
        listen: SocketAddr,
        /// Load the photo-shop demo (through the API's own commands) and print an API key.
        #[arg(long)]
        demo: bool,
    },
    /// Owner tokens (they create shops and API keys).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Walk the log's hash chain and report the first damaged record, if any.
    Verify {
        /// Directory of the event log.
        #[arg(long, env = "COMPTOIR_DATA_DIR", default_value = DATA_DIR_DEFAULT)]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Mint an owner token into the data dir (only its SHA-256 is stored) and print it once.
    Create {
        /// Directory of the event log.
        #[arg(long, env = "COMPTOIR_DATA_DIR", default_value = DATA_DIR_DEFAULT)]
        data_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    init_tracing();
    match Cli::parse().command {
        Command::Serve {
            data_dir,
            listen,
            demo,
        } => serve(Config {
            data_dir,
            listen,
            admin_token: std::env::var("COMPTOIR_ADMIN_TOKEN").ok(),
            demo,
        }),
        Command::Verify { data_dir } => verify(&data_dir),
        Command::Token {
            command: TokenCommand::Create { data_dir },
        } => create_token(&data_dir),
    }
}

fn create_token(data_dir: &Path) -> ExitCode {
    match comptoir_api::auth::mint_owner_token(data_dir) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!(
                "error: cannot store a token in {}: {error}",
                data_dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr so that stdout carries only the lines scripts read.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn serve(config: Config) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let shutdown = match comptoir_api::shutdown_signal() {
            Ok(shutdown) => shutdown,
            Err(error) => {
                eprintln!("error: cannot install the SIGINT/SIGTERM handlers: {error}");
                return false;
            }
        };
        match comptoir_api::serve(config, shutdown).await {
            Ok(()) => true,
            Err(error) => {
                eprintln!("error: {error}");
                false
            }
        }
    });
    if served {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn verify(data_dir: &Path) -> ExitCode {
    // The log creates missing directories when opened; verifying a typo must not do that.
    if !data_dir.is_dir() {
        eprintln!(
            "error: no data dir at {} (pass --data-dir)",
            data_dir.display()
        );
        return ExitCode::FAILURE;
    }
    let report = match comptoir_eventlog::verify_data_dir(data_dir) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: cannot verify {}: {error}", data_dir.display());
            return ExitCode::FAILURE;
        }
    };
    println!("events checked: {}", report.events_checked);
    println!("head position: {}", report.head_position);
    println!("head hash: {}", hex::encode(report.head_hash));
    match report.first_bad {
        None => {
            println!("log intact");
            ExitCode::SUCCESS
        }
        Some((position, reason)) => {
            eprintln!(
                "CORRUPT: first bad record at position {position}: {reason}\n\
                 Positions 1 to {} check out. Stop any server on this data dir and restore it \
                 from a backup; keep this copy for investigation.",
                report.head_position
            );
            ExitCode::from(EXIT_CORRUPT)
        }
    }
}
