//! The feed position up to which every paid order has its job outcomes recorded in the API.

use std::path::{Path, PathBuf};

use crate::durable::write_atomic;

const CHECKPOINT_FILE: &str = "feed-position";

/// The checkpoint file under the state dir.
pub struct Checkpoint {
    path: PathBuf,
}

impl Checkpoint {
    pub fn new(state_dir: &Path) -> Checkpoint {
        Checkpoint {
            path: state_dir.join(CHECKPOINT_FILE),
        }
    }

    /// The stored position; 0 (the start of the feed) when none was stored yet.
    pub fn load(&self) -> std::io::Result<u64> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => text.trim().parse().map_err(|_| {
                std::io::Error::other(format!(
                    "checkpoint {} does not hold a position: {text:?}",
                    self.path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error),
        }
    }

    pub fn store(&self, position: u64) -> std::io::Result<()> {
        write_atomic(&self.path, format!("{position}\n").as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_loads_positions_and_refuses_garbage() {
        // Proves a missing checkpoint means "from the start" and a damaged one is an error, not 0.
        let dir = tempfile::tempdir().expect("temp dir");
        let checkpoint = Checkpoint::new(dir.path());
        assert_eq!(checkpoint.load().expect("load"), 0);
        checkpoint.store(42).expect("store");
        assert_eq!(checkpoint.load().expect("load"), 42);
        std::fs::write(dir.path().join(CHECKPOINT_FILE), "forty").expect("write");
        assert!(checkpoint.load().is_err());
    }
}
