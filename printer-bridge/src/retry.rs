//! Exponential backoff between attempts when the device or the API is down.

use std::time::Duration;

use crate::config::RetryConfig;

/// Doubling waits from the initial bound up to the maximum, which then repeats forever: a paid
/// order is never dropped because a device stayed down long.
pub struct Backoff {
    next_ms: u64,
    max_ms: u64,
}

impl Backoff {
    pub fn new(config: &RetryConfig) -> Backoff {
        Backoff {
            next_ms: config.initial_backoff_ms,
            max_ms: config.max_backoff_ms,
        }
    }

    /// The wait before the next attempt, then doubles it within the bound.
    pub fn next_delay(&mut self) -> Duration {
        let delay = Duration::from_millis(self.next_ms);
        self.next_ms = self.next_ms.saturating_mul(2).min(self.max_ms);
        delay
    }

    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_bound() {
        // Proves the waits grow exponentially and stop growing at max_backoff_ms.
        let mut backoff = Backoff::new(&RetryConfig {
            initial_backoff_ms: 100,
            max_backoff_ms: 500,
        });
        let delays: Vec<u64> = (0..5)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![100, 200, 400, 500, 500]);
    }
}
