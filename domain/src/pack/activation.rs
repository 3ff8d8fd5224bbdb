//! Activation codes: minted by the platform operator, each redeemed once by one shop.
//!
//! One stream per code (`activation-code-{code_hash}`). Only the SHA-256 of the code is ever
//! stored: the code is a bearer secret printed on the pack's invoice, and the log must not be
//! enough to redeem it. The glue hashes what the user typed and loads this stream; an empty stream
//! means an unknown code.

use super::PackTerms;
use crate::limits::{ACTIVATION_CODE_HASH_CHARS, REFERENCE_CHARS_MAX};
use crate::text::validate_text;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream of one activation code, named by its hash.
pub fn activation_code_stream_id(code_hash: &str) -> String {
    format!("{}-{code_hash}", ActivationCode::STREAM_KIND)
}

/// Accepts a SHA-256 in lower-case hex.
pub fn validate_code_hash(code_hash: &str) -> Result<(), DomainError> {
    let hex = code_hash
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if code_hash.len() != ACTIVATION_CODE_HASH_CHARS || !hex {
        return Err(DomainError::validation(
            "code_hash",
            format!("{ACTIVATION_CODE_HASH_CHARS} lower-case hex characters (SHA-256)"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub enum ActivationCodeCommand {
    /// The platform operator sells a pack.
    Mint {
        code_hash: String,
        terms: PackTerms,
        minted_by: String,
    },
    /// A shop's staff entered the code.
    Redeem { shop_id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActivationCodeEvent {
    ActivationCodeMinted {
        code_hash: String,
        terms: PackTerms,
        minted_by: String,
        minted_at: DateTime<Utc>,
    },
    ActivationCodeRedeemed {
        code_hash: String,
        shop_id: Uuid,
        redeemed_at: DateTime<Utc>,
    },
}

impl DomainEvent for ActivationCodeEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ActivationCodeEvent::ActivationCodeMinted { .. } => "ActivationCodeMinted",
            ActivationCodeEvent::ActivationCodeRedeemed { .. } => "ActivationCodeRedeemed",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivationCode {
    pub code_hash: Option<String>,
    pub terms: Option<PackTerms>,
    pub redeemed_by: Option<Uuid>,
}

impl ActivationCode {
    fn decide_mint(
        &self,
        code_hash: &str,
        terms: &PackTerms,
        minted_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ActivationCodeEvent>, DomainError> {
        if let Some(existing) = &self.terms {
            return if existing == terms {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("activation code", code_hash))
            };
        }
        validate_code_hash(code_hash)?;
        terms.validate()?;
        validate_text("minted_by", minted_by, REFERENCE_CHARS_MAX)?;
        Ok(vec![ActivationCodeEvent::ActivationCodeMinted {
            code_hash: code_hash.to_owned(),
            terms: terms.clone(),
            minted_by: minted_by.to_owned(),
            minted_at: now,
        }])
    }

    fn decide_redeem(
        &self,
        shop_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<ActivationCodeEvent>, DomainError> {
        let Some(code_hash) = &self.code_hash else {
            return Err(DomainError::conflict(
                "activation-code-unknown",
                "no pack was sold with this activation code",
            ));
        };
        match self.redeemed_by {
            // The same shop's retry: the pack already holds this code, nothing more to record.
            Some(by) if by == shop_id => Ok(vec![]),
            Some(_) => Err(DomainError::conflict(
                "activation-code-used",
                "this activation code has already been used",
            )),
            None => Ok(vec![ActivationCodeEvent::ActivationCodeRedeemed {
                code_hash: code_hash.clone(),
                shop_id,
                redeemed_at: now,
            }]),
        }
    }
}

impl Aggregate for ActivationCode {
    type Command = ActivationCodeCommand;
    type Event = ActivationCodeEvent;
    const STREAM_KIND: &'static str = "activation-code";

    fn decide(
        &self,
        command: &ActivationCodeCommand,
        env: &dyn Environment,
    ) -> Result<Vec<ActivationCodeEvent>, DomainError> {
        match command {
            ActivationCodeCommand::Mint {
                code_hash,
                terms,
                minted_by,
            } => self.decide_mint(code_hash, terms, minted_by, env.now()),
            ActivationCodeCommand::Redeem { shop_id } => self.decide_redeem(*shop_id, env.now()),
        }
    }

    fn evolve(mut self, event: &ActivationCodeEvent) -> Self {
        match event {
            ActivationCodeEvent::ActivationCodeMinted {
                code_hash, terms, ..
            } => {
                self.code_hash = Some(code_hash.clone());
                self.terms = Some(terms.clone());
            }
            ActivationCodeEvent::ActivationCodeRedeemed { shop_id, .. } => {
                self.redeemed_by = Some(*shop_id);
            }
        }
        self
    }
}
