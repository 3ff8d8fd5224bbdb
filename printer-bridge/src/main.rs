//! `comptoir-printer-bridge --config FILE [--once]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use comptoir_printer_bridge::config::Config;
use comptoir_printer_bridge::engine::Mode;
use tracing::{error, info};

/// Prints a shop's paid orders on a hot folder or an IPP printer, exactly once.
#[derive(Parser)]
#[command(name = "comptoir-printer-bridge", version)]
struct Arguments {
    /// The bridge's TOML configuration.
    #[arg(long)]
    config: PathBuf,
    /// Process what is pending in the feed, then exit.
    #[arg(long)]
    once: bool,
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match Config::load(&arguments.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("comptoir-printer-bridge: {error}");
            return ExitCode::from(2);
        }
    };
    let mode = if arguments.once {
        Mode::Once
    } else {
        Mode::Follow
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("comptoir-printer-bridge: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        // Stopping at any moment is safe (the checkpoint trails the recorded outcomes), so a
        // signal just ends the process.
        tokio::select! {
            result = comptoir_printer_bridge::run(config, mode) => match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    error!(%error, "bridge stopped");
                    ExitCode::FAILURE
                }
            },
            signal = stop_signal() => {
                info!(signal, "stopping");
                ExitCode::SUCCESS
            }
        }
    })
}

/// Waits for SIGINT or SIGTERM.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return "SIGINT";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}
