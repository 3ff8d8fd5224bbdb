//! comptoir's HTTP API: configuration, the router, the one error type, and the glue that runs
//! domain commands against the event log.
//!
//! Architecture Invariant: only `api` knows HTTP. It never touches sled; it reaches the log only
//! through `comptoir_eventlog`'s public API.

pub mod auth;
pub mod backup;
pub mod clock;
pub mod commands;
mod config;
pub mod demo;
pub mod docs;
pub mod dto;
mod error;
pub mod extract;
mod health;
pub mod idempotency;
pub mod mail;
pub mod message_notifier;
pub mod owner_client;
mod passwords;
pub mod rebuild_client;
pub mod report_scheduler;
pub mod routes;
mod server;
mod staff_sessions;
pub mod welcome_mailer;

pub use config::{Config, DATA_DIR_DEFAULT, LISTEN_DEFAULT, MAIL_FROM_DEFAULT};
pub use error::ApiError;
pub use server::{
    router, serve, shutdown_signal, AppState, ServeError, READ_WAIT_MAX, REQUEST_BODY_BYTES_MAX,
};
