//! What `comptoir serve` needs to start.

use std::net::SocketAddr;
use std::path::PathBuf;

pub use crate::mail::MailConfig;

/// The `From:` of outgoing mail when only `COMPTOIR_SMTP_URL` is set.
pub const MAIL_FROM_DEFAULT: &str = "comptoir <comptoir@localhost>";

/// Where the log lives when nothing else is said: beside the working directory, so that a fresh
/// checkout runs with no setup.
pub const DATA_DIR_DEFAULT: &str = "./data";
/// Loopback only by default: exposing the API is a deliberate choice.
pub const LISTEN_DEFAULT: &str = "127.0.0.1:8080";

/// Settings of one server process.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory holding the event log (sled databases and the lock file); created if missing.
    /// One process at a time may use it.
    pub data_dir: PathBuf,
    /// Address the HTTP server binds; port 0 picks a free port, which is then printed.
    pub listen: SocketAddr,
    /// Owner token accepted for `POST /v1/shops` and every shop (`COMPTOIR_ADMIN_TOKEN`); only
    /// its SHA-256 is kept in memory. Tokens minted by `comptoir token create` work too.
    pub admin_token: Option<String>,
    /// Load the photo-shop demo (through the same commands as the API) and print an API key.
    pub demo: bool,
    /// Let the owner move the decisions' clock over HTTP (`PUT /v1/test-clock`), for end-to-end
    /// tests of expiry. Never on unless `serve --test-clock` is given.
    pub test_clock: bool,
    /// SMTP for outgoing mail (`COMPTOIR_SMTP_URL`, `COMPTOIR_MAIL_FROM`); scheduled reports
    /// are sent only when it is set.
    pub mail: Option<MailConfig>,
    /// The base URL of links in mails (`COMPTOIR_PUBLIC_URL`); `http://` and the bound address
    /// when `None`.
    pub public_url: Option<String>,
}

/// The token is a secret: never print it.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("demo", &self.demo)
            .field("test_clock", &self.test_clock)
            .field("mail", &self.mail)
            .field("public_url", &self.public_url)
            .finish()
    }
}
