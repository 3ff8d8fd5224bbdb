//! The bridge's TOML configuration (`--config FILE`).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use uuid::Uuid;

use crate::limits::{
    CONFIG_BYTES_MAX, COPIES_MAX, IPP_POLL_INTERVAL_DEFAULT_MS, JOBS_IN_FLIGHT_DEFAULT,
    JOBS_IN_FLIGHT_MAX, RETRY_BACKOFF_INITIAL_DEFAULT_MS, RETRY_BACKOFF_MAX_DEFAULT_MS,
};

/// Settings of one bridge process: one shop, one device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the comptoir API, e.g. `http://127.0.0.1:8080`.
    pub api_url: String,
    /// The shop whose paid orders this bridge prints.
    pub shop_id: Uuid,
    /// API key (role allowed to read orders and report print jobs). Prefer `api_key_env`.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Name of the environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Directory for the feed checkpoint and the hot-folder journal; created if missing.
    pub state_dir: PathBuf,
    /// Jobs on the device at once.
    #[serde(default = "jobs_in_flight_default")]
    pub jobs_in_flight_max: usize,
    #[serde(default)]
    pub retry: RetryConfig,
    /// How order lines become prints; lines that match no rule are not printed.
    #[serde(default, rename = "print")]
    pub print_rules: Vec<PrintRule>,
    pub driver: DriverConfig,
}

/// Exponential backoff bounds after the device or the API failed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial_backoff_ms: RETRY_BACKOFF_INITIAL_DEFAULT_MS,
            max_backoff_ms: RETRY_BACKOFF_MAX_DEFAULT_MS,
        }
    }
}

/// One mapping from a product (by SKU) or a category (by key) to a print size.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintRule {
    /// Matches lines with this SKU; checked before categories.
    #[serde(default)]
    pub sku: Option<String>,
    /// Matches lines whose product is in this category, by key (`tirages`) or by id.
    #[serde(default)]
    pub category: Option<String>,
    /// IPP media keyword (PWG 5101.1), e.g. `photo_4x6_4x6in`.
    pub media: String,
    /// Copies of each image per unit of quantity.
    #[serde(default = "one")]
    pub copies_per_unit: u32,
}

/// The device jobs go to.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DriverConfig {
    /// A folder watched by the kiosk software (DSLab and the like): one DPOF folder per job.
    HotFolder { path: PathBuf },
    /// An IPP printer, e.g. `ipp://localhost:631/ipp/print`.
    Ipp {
        uri: String,
        #[serde(default = "poll_interval_default")]
        poll_interval_ms: u64,
    },
}

fn jobs_in_flight_default() -> usize {
    JOBS_IN_FLIGHT_DEFAULT
}
fn one() -> u32 {
    1
}
fn poll_interval_default() -> u64 {
    IPP_POLL_INTERVAL_DEFAULT_MS
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config file {path} is not valid: {error}")]
    Parse { path: PathBuf, error: String },
    #[error("config: {0}")]
    Invalid(String),
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let read_error = |error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(read_error)?
            .take(CONFIG_BYTES_MAX)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        let config: Config = toml::from_str(&text).map_err(|error| ConfigError::Parse {
            path: path.to_path_buf(),
            error: error.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if !(1..=JOBS_IN_FLIGHT_MAX).contains(&self.jobs_in_flight_max) {
            return invalid(format!(
                "jobs_in_flight_max must be 1 to {JOBS_IN_FLIGHT_MAX}"
            ));
        }
        if self.retry.initial_backoff_ms == 0
            || self.retry.initial_backoff_ms > self.retry.max_backoff_ms
        {
            return invalid("retry: 0 < initial_backoff_ms <= max_backoff_ms".into());
        }
        for rule in &self.print_rules {
            if rule.sku.is_none() == rule.category.is_none() {
                return invalid("each [[print]] rule names exactly one of sku or category".into());
            }
            if !(1..=COPIES_MAX).contains(&rule.copies_per_unit) {
                return invalid(format!("copies_per_unit must be 1 to {COPIES_MAX}"));
            }
        }
        Ok(())
    }

    /// The API key, from the file or the environment variable it names.
    pub fn api_key(&self) -> Result<String, ConfigError> {
        if let Some(key) = &self.api_key {
            return Ok(key.clone());
        }
        let Some(variable) = &self.api_key_env else {
            return Err(ConfigError::Invalid("set api_key or api_key_env".into()));
        };
        std::env::var(variable).map_err(|_| {
            ConfigError::Invalid(format!(
                "environment variable {variable} (api_key_env) is not set"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_loads() {
        // Proves the shipped example is a valid configuration.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bridge.example.toml");
        let config = Config::load(&path).expect("example loads");
        assert_eq!(config.print_rules.len(), 2);
        assert!(matches!(config.driver, DriverConfig::Ipp { .. }));
    }

    #[test]
    fn rules_must_name_one_matcher() {
        // Proves a rule with both a SKU and a category is refused instead of guessed at.
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bridge.toml");
        let text = "api_url = \"http://x\"\nshop_id = \"00000000-0000-0000-0000-000000000001\"\n\
                    api_key = \"k\"\nstate_dir = \"s\"\n[[print]]\nsku = \"A\"\ncategory = \"B\"\n\
                    media = \"m\"\n[driver]\nkind = \"hot_folder\"\npath = \"h\"\n";
        std::fs::write(&path, text).expect("write");
        assert!(matches!(Config::load(&path), Err(ConfigError::Invalid(_))));
    }
}
