//! The `comptoir` binary: parses the command line into one command and runs it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use comptoir_api::mail::MailConfig;
use comptoir_api::{Config, DATA_DIR_DEFAULT, LISTEN_DEFAULT, MAIL_FROM_DEFAULT};
use tracing_subscriber::EnvFilter;

/// jemalloc rather than the system allocator: a request, its events and the read models applied
/// live allocate and free many short-lived buffers across threads, and glibc's malloc spent a
/// quarter of the server's CPU on that (consolidating and unlinking free chunks) under load.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
        /// Tests only: let the owner token move the clock (`PUT /v1/test-clock`).
        #[arg(long)]
        test_clock: bool,
        /// SMTP server for outgoing mail, `smtp://[user:password@]host[:port]`; without it
        /// scheduled reports are off.
        #[arg(long, env = "COMPTOIR_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The `From:` address of outgoing mail.
        #[arg(long, env = "COMPTOIR_MAIL_FROM", default_value = MAIL_FROM_DEFAULT)]
        mail_from: String,
        /// The address staff reach this server at (behind a proxy, say), for the links of
        /// password reset mails; `http://` and the listening address when omitted.
        #[arg(long, env = "COMPTOIR_PUBLIC_URL")]
        public_url: Option<String>,
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
        /// Also check that each projection's stored state matches a fresh rebuild.
        #[arg(long)]
        projections: bool,
    },
    /// Rebuild projections from position 1 into fresh trees, swap them in, print their digests:
    /// offline on a data dir, or inside a running server with `--server`.
    Rebuild {
        /// Directory of the event log (no server may be running on it); ignored with `--server`.
        #[arg(long, env = "COMPTOIR_DATA_DIR", default_value = DATA_DIR_DEFAULT)]
        data_dir: PathBuf,
        /// Only this projection (read_models or ledger); all of them by default.
        #[arg(long)]
        projection: Option<String>,
        /// Rebuild online in the server at this URL (e.g. `http://127.0.0.1:8080`), which keeps
        /// serving meanwhile (`POST /v1/admin/rebuilds`).
        #[arg(long)]
        server: Option<String>,
        /// The owner token for `--server`.
        #[arg(long, env = "COMPTOIR_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Back up the log of a running server into a file, or bring that file up to date: every
    /// record is checked against the hash chain (`GET /v1/admin/log/records`).
    Backup {
        /// The server's URL, e.g. `http://127.0.0.1:8080`.
        #[arg(long)]
        server: String,
        /// The owner token.
        #[arg(long, env = "COMPTOIR_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The backup file (JSON Lines); extended when it exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Make the log of an empty data dir from a backup file: the same log, byte for byte. The
    /// server rebuilds the projections when it starts on it.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The data dir to create (it must hold no log).
        #[arg(long)]
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
            test_clock,
            smtp_url,
            mail_from,
            public_url,
        } => serve(Config {
            data_dir,
            listen,
            admin_token: std::env::var("COMPTOIR_ADMIN_TOKEN").ok(),
            demo,
            test_clock,
            mail: smtp_url.map(|smtp_url| MailConfig {
                smtp_url,
                from: mail_from,
            }),
            public_url,
        }),
        Command::Verify {
            data_dir,
            projections,
        } => match verify(&data_dir) {
            code if code == ExitCode::SUCCESS && projections => verify_projections(&data_dir),
            code => code,
        },
        Command::Rebuild {
            data_dir,
            projection,
            server: None,
            token: _,
        } => rebuild(&data_dir, projection.as_deref()),
        Command::Rebuild {
            projection,
            server: Some(server),
            token,
            data_dir: _,
        } => rebuild_online(&server, token.as_deref(), projection.as_deref()),
        Command::Token {
            command: TokenCommand::Create { data_dir },
        } => create_token(&data_dir),
        Command::Backup { server, token, out } => backup(&server, token.as_deref(), &out),
        Command::Restore { from, data_dir } => restore(&from, &data_dir),
    }
}

fn backup(server: &str, token: Option<&str>, out: &Path) -> ExitCode {
    let Some(token) = token else {
        eprintln!("error: backup needs the owner token: pass --token or set COMPTOIR_ADMIN_TOKEN");
        return ExitCode::FAILURE;
    };
    let Some(runtime) = runtime(tokio::runtime::Builder::new_current_thread()) else {
        return ExitCode::FAILURE;
    };
    let bar = progress_bar(0);
    let outcome = runtime.block_on(comptoir_api::backup::backup(server, token, out, &mut |n| {
        bar.set_length(n);
        bar.set_position(n);
    }));
    bar.finish_and_clear();
    match outcome {
        Ok(outcome) => {
            println!("records kept: {}", outcome.kept);
            println!("records added: {}", outcome.added);
            println!("head position: {}", outcome.head);
            println!("head hash: {}", hex::encode(outcome.head_hash));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn restore(from: &Path, data_dir: &Path) -> ExitCode {
    let report = comptoir_api::backup::read_backup(from)
        .and_then(|records| comptoir_eventlog::restore_data_dir(data_dir, records));
    match report {
        Ok(report) if report.is_intact() => {
            println!("events restored: {}", report.events_checked);
            println!("head position: {}", report.head_position);
            println!("head hash: {}", hex::encode(report.head_hash));
            ExitCode::SUCCESS
        }
        Ok(report) => {
            let (position, reason) = report.first_bad.unwrap_or_default();
            eprintln!(
                "CORRUPT: the restored log does not verify at position {position}: {reason}; \
                 nothing was left in {}",
                data_dir.display()
            );
            ExitCode::from(EXIT_CORRUPT)
        }
        Err(comptoir_eventlog::LogError::Corrupt { position, reason }) => {
            eprintln!("CORRUPT: the backup is damaged at position {position}: {reason}");
            ExitCode::from(EXIT_CORRUPT)
        }
        Err(error) => {
            eprintln!("error: cannot restore into {}: {error}", data_dir.display());
            ExitCode::FAILURE
        }
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

/// The async runtime `builder` describes, or `None` once it said why it cannot start.
fn runtime(mut builder: tokio::runtime::Builder) -> Option<tokio::runtime::Runtime> {
    match builder.enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            None
        }
    }
}

fn serve(config: Config) -> ExitCode {
    let Some(runtime) = runtime(tokio::runtime::Builder::new_multi_thread()) else {
        return ExitCode::FAILURE;
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

/// Opens the log of an existing data dir for an offline command, or says why it cannot;
/// `when_locked` is added to the message when a running server holds the data dir.
fn open_log_offline(data_dir: &Path, when_locked: &str) -> Option<comptoir_eventlog::OfflineLog> {
    if !data_dir.is_dir() {
        eprintln!(
            "error: no data dir at {} (pass --data-dir)",
            data_dir.display()
        );
        return None;
    }
    match comptoir_eventlog::OfflineLog::open(data_dir) {
        Ok(log) => Some(log),
        Err(error @ comptoir_eventlog::LogError::DataDirLocked { .. }) => {
            eprintln!(
                "error: cannot open the log in {}: {error}{when_locked}",
                data_dir.display()
            );
            None
        }
        Err(error) => {
            eprintln!(
                "error: cannot open the log in {}: {error}",
                data_dir.display()
            );
            None
        }
    }
}

fn rebuild(data_dir: &Path, projection: Option<&str>) -> ExitCode {
    use comptoir_projections::ProjectionName;
    let projections = match projection.map(ProjectionName::parse).transpose() {
        Ok(Some(one)) => vec![one],
        Ok(None) => ProjectionName::ALL.to_vec(),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(log) = open_log_offline(data_dir, REBUILD_WHEN_LOCKED) else {
        return ExitCode::FAILURE;
    };
    let bar = progress_bar(log.head_position());
    let outcome = comptoir_projections::rebuild_projections(
        data_dir,
        &log,
        &projections,
        &mut |applied, _head| bar.set_position(applied),
    );
    bar.finish_and_clear();
    match outcome {
        Ok(outcomes) => {
            for outcome in outcomes {
                let digest = hex::encode(outcome.digest);
                print_digest(outcome.projection.as_str(), outcome.position, &digest);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: rebuild failed, the previous projections stay in force: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What `comptoir rebuild` says when a running server holds the data dir.
const REBUILD_WHEN_LOCKED: &str =
    "\nA server is running on this data dir: rebuild online instead, \
     `comptoir rebuild --server http://ADDR --token OWNER_TOKEN [--projection NAME]` \
     (POST /v1/admin/rebuilds), or stop the server first.";

/// The rebuilds' progress bar over `head` events.
fn progress_bar(head: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(head);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} events, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// One rebuilt projection's line, the same offline and online (scripts compare them).
fn print_digest(name: &str, position: u64, digest: &str) {
    println!("{name} position {position} sha256 {digest}");
}

fn rebuild_online(server: &str, token: Option<&str>, projection: Option<&str>) -> ExitCode {
    let Some(token) = token else {
        eprintln!(
            "error: --server needs the owner token: pass --token or set COMPTOIR_ADMIN_TOKEN"
        );
        return ExitCode::FAILURE;
    };
    let Some(runtime) = runtime(tokio::runtime::Builder::new_current_thread()) else {
        return ExitCode::FAILURE;
    };
    let bar = progress_bar(0);
    let outcome = runtime.block_on(comptoir_api::rebuild_client::rebuild_online(
        server,
        token,
        projection,
        &mut |status| {
            bar.set_length(status.head.max(status.applied));
            bar.set_position(status.applied);
        },
    ));
    bar.finish_and_clear();
    match outcome {
        Ok(status) => {
            for outcome in &status.outcomes {
                print_digest(&outcome.projection, outcome.position, &outcome.digest);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn verify_projections(data_dir: &Path) -> ExitCode {
    let Some(log) = open_log_offline(data_dir, "") else {
        return ExitCode::FAILURE;
    };
    let outcomes = match comptoir_projections::verify_projections(data_dir, &log) {
        Ok(outcomes) => outcomes,
        Err(error) => {
            eprintln!("error: cannot verify the projections: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut intact = true;
    for outcome in &outcomes {
        let name = outcome.projection.as_str();
        let stored = hex::encode(outcome.stored_digest);
        if outcome.matches() {
            println!(
                "{name} position {} sha256 {stored} matches a fresh rebuild",
                outcome.position
            );
        } else {
            intact = false;
            let fresh = hex::encode(outcome.fresh_digest);
            eprintln!(
                "MISMATCH: {name} at position {} is {stored}, a fresh rebuild gives {fresh}; \
                 run `comptoir rebuild --projection {name}`",
                outcome.position
            );
        }
    }
    if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CORRUPT)
    }
}
