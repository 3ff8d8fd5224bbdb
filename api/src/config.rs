//! What `comptoir serve` needs to start.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the log lives when nothing else is said: beside the working directory, so that a fresh
/// checkout runs with no setup.
pub const DATA_DIR_DEFAULT: &str = "./data";
/// Loopback only by default: exposing the API is a deliberate choice.
pub const LISTEN_DEFAULT: &str = "127.0.0.1:8080";

/// Settings of one server process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Directory holding the event log (sled databases and the lock file); created if missing.
    /// One process at a time may use it.
    pub data_dir: PathBuf,
    /// Address the HTTP server binds; port 0 picks a free port, which is then printed.
    pub listen: SocketAddr,
}
