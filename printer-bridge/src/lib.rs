//! comptoir's printer bridge: a separate process that follows a shop's event feed over HTTP and
//! prints each paid order on a hot folder or an IPP printer, exactly once. See README.md for the
//! API contract it relies on.

pub mod api;
pub mod checkpoint;
pub mod config;
pub mod driver;
pub mod durable;
pub mod engine;
pub mod limits;
pub mod model;
pub mod plan;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::api::HttpApi;
use crate::checkpoint::Checkpoint;
use crate::config::{Config, DriverConfig};
use crate::driver::hot_folder::HotFolder;
use crate::driver::ipp::IppPrinter;
use crate::driver::Device;
use crate::engine::{Bridge, Mode};

/// Why the bridge could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("state dir {path}: {error}")]
    StateDir {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("device: {0}")]
    Device(String),
    #[error("API client: {0}")]
    Api(#[from] api::ApiError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
}

fn device(config: &Config) -> Result<Arc<dyn Device>, BridgeError> {
    match &config.driver {
        DriverConfig::HotFolder { path } => {
            let driver = HotFolder::new(path, &config.state_dir)
                .map_err(|error| BridgeError::Device(format!("{}: {error}", path.display())))?;
            Ok(Arc::new(driver))
        }
        DriverConfig::Ipp {
            uri,
            poll_interval_ms,
        } => {
            let driver = IppPrinter::new(uri, Duration::from_millis(*poll_interval_ms))
                .map_err(BridgeError::Device)?;
            Ok(Arc::new(driver))
        }
    }
}

/// Builds the bridge from its configuration and runs it.
pub async fn run(config: Config, mode: Mode) -> Result<(), BridgeError> {
    std::fs::create_dir_all(&config.state_dir).map_err(|error| BridgeError::StateDir {
        path: config.state_dir.clone(),
        error,
    })?;
    let api = HttpApi::new(&config.api_url, config.shop_id, config.api_key()?)?;
    let bridge = Bridge {
        api: Arc::new(api),
        device: device(&config)?,
        rules: config.print_rules.clone(),
        retry: config.retry.clone(),
        jobs_in_flight: Arc::new(Semaphore::new(config.jobs_in_flight_max)),
    };
    let checkpoint = Checkpoint::new(&config.state_dir);
    engine::run(Arc::new(bridge), checkpoint, mode).await?;
    Ok(())
}
