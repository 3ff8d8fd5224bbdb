//! The files of an order (the photos to print), one stream per order: `order-files-{order_id}`.
//!
//! The bytes live outside the log, content-addressed by their SHA-256; this stream records which
//! name of the order holds which content. It is appended atomically with the pack's
//! `QuotaConsumed` for the same bytes, so a stored file is always paid for, and a retried upload of
//! the same content under the same name records nothing and consumes nothing.
//!
//! A name, once stored, keeps its content: the printer may already have printed it, and a later
//! different photo under the same name would make the print history lie.

use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Files one order may hold.
pub const FILES_PER_ORDER_MAX: usize = 1_000;
/// Characters of a file name.
pub const FILE_NAME_CHARS_MAX: usize = 128;
/// Characters of a SHA-256 in hex.
const SHA256_HEX_CHARS: usize = 64;

/// Stream of one order's files.
pub fn stream_id(order_id: Uuid) -> String {
    format!("{}-{order_id}", OrderFiles::STREAM_KIND)
}

/// Accepts names safe in a URL path segment, a file system and a zip entry: ASCII letters, digits,
/// `.`, `_` and `-`, not starting with a dot (no hidden files, no `..`).
pub fn validate_file_name(name: &str) -> Result<(), DomainError> {
    let allowed = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > FILE_NAME_CHARS_MAX || !allowed || name.starts_with('.') {
        return Err(DomainError::validation(
            "name",
            format!(
                "1 to {FILE_NAME_CHARS_MAX} characters among A-Z a-z 0-9 . _ -, not starting with a dot"
            ),
        ));
    }
    Ok(())
}

fn validate_sha256(sha256: &str) -> Result<(), DomainError> {
    let hex = sha256
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if sha256.len() != SHA256_HEX_CHARS || !hex {
        return Err(DomainError::validation(
            "sha256",
            "64 lower-case hex characters",
        ));
    }
    Ok(())
}

/// One stored file of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub sha256: String,
    pub bytes: u64,
    pub stored_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum OrderFilesCommand {
    Store {
        shop_id: Uuid,
        order_id: Uuid,
        name: String,
        sha256: String,
        bytes: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderFilesEvent {
    OrderFileStored {
        shop_id: Uuid,
        order_id: Uuid,
        name: String,
        sha256: String,
        bytes: u64,
        stored_at: DateTime<Utc>,
    },
}

impl DomainEvent for OrderFilesEvent {
    fn event_type(&self) -> &'static str {
        match self {
            OrderFilesEvent::OrderFileStored { .. } => "OrderFileStored",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFiles {
    pub shop_id: Option<Uuid>,
    /// By name, in name order.
    pub files: BTreeMap<String, StoredFile>,
}

impl OrderFiles {
    fn decide_store(
        &self,
        (shop_id, order_id): (Uuid, Uuid),
        name: &str,
        sha256: &str,
        bytes: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<OrderFilesEvent>, DomainError> {
        validate_file_name(name)?;
        validate_sha256(sha256)?;
        if self.shop_id.is_some_and(|id| id != shop_id) {
            return Err(DomainError::not_found("order", order_id));
        }
        if let Some(existing) = self.files.get(name) {
            // The same upload retried is not an error and is not counted twice.
            return if existing.sha256 == sha256 {
                Ok(vec![])
            } else {
                Err(DomainError::conflict(
                    "order-file-exists",
                    format!("the order already has another file named {name}"),
                ))
            };
        }
        if self.files.len() >= FILES_PER_ORDER_MAX {
            return Err(DomainError::LimitExceeded {
                what: "files per order",
                limit: FILES_PER_ORDER_MAX as u64,
            });
        }
        Ok(vec![OrderFilesEvent::OrderFileStored {
            shop_id,
            order_id,
            name: name.to_owned(),
            sha256: sha256.to_owned(),
            bytes,
            stored_at: now,
        }])
    }
}

impl Aggregate for OrderFiles {
    type Command = OrderFilesCommand;
    type Event = OrderFilesEvent;
    const STREAM_KIND: &'static str = "order-files";

    fn decide(
        &self,
        command: &OrderFilesCommand,
        env: &dyn Environment,
    ) -> Result<Vec<OrderFilesEvent>, DomainError> {
        match command {
            OrderFilesCommand::Store {
                shop_id,
                order_id,
                name,
                sha256,
                bytes,
            } => self.decide_store((*shop_id, *order_id), name, sha256, *bytes, env.now()),
        }
    }

    fn evolve(mut self, event: &OrderFilesEvent) -> Self {
        match event {
            OrderFilesEvent::OrderFileStored {
                shop_id,
                name,
                sha256,
                bytes,
                stored_at,
                ..
            } => {
                self.shop_id = Some(*shop_id);
                let file = StoredFile {
                    sha256: sha256.clone(),
                    bytes: *bytes,
                    stored_at: *stored_at,
                };
                self.files.insert(name.clone(), file);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::given;

    fn store(name: &str, sha256: &str) -> OrderFilesCommand {
        OrderFilesCommand::Store {
            shop_id: Uuid::from_u128(1),
            order_id: Uuid::from_u128(2),
            name: name.into(),
            sha256: sha256.into(),
            bytes: 10,
        }
    }

    #[test]
    fn a_name_keeps_its_content_and_a_retry_records_nothing() {
        // Proves the same upload twice records once, and another content under the name is refused.
        let first = OrderFiles::default()
            .decide(
                &store("a.jpg", &"a".repeat(64)),
                &crate::testing::TestEnvironment::new(),
            )
            .expect("stored");
        assert_eq!(first.len(), 1);
        given::<OrderFiles>(first.clone())
            .when(store("a.jpg", &"a".repeat(64)))
            .then(vec![]);
        given::<OrderFiles>(first)
            .when(store("a.jpg", &"b".repeat(64)))
            .then_err_code("order-file-exists");
    }

    #[test]
    fn unsafe_names_are_refused() {
        // Proves path tricks and hidden names never reach the disk or a zip entry.
        for name in ["", "../x", ".hidden", "a/b", "a b", &"x".repeat(129)] {
            assert!(validate_file_name(name).is_err(), "{name:?}");
        }
        assert!(validate_file_name("IMG_0001.jpg").is_ok());
    }
}
