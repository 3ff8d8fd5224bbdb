//! The one error type of the domain. Each variant has a stable machine code (see [`DomainError::code`])
//! that the HTTP layer maps to a problem+json `type`; messages are for humans and may change.

use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An input is malformed or out of range.
    #[error("invalid {field}: {message}")]
    Validation { field: String, message: String },
    /// A referenced entity does not exist (in this shop).
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// The entity exists already with other content; a retry with the same content is not an error.
    #[error("{entity} {id} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    /// The action is not allowed from the current state.
    #[error("cannot {action} an order that is {from}")]
    InvalidTransition {
        from: &'static str,
        action: &'static str,
    },
    /// A business rule refused the command; `code` is stable and kebab-case.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A rule refuses the command for now: the request is well formed but its time has not come
    /// (a period that is not over, an earlier period left open); `code` is stable and kebab-case.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// A named limit would be exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded { what: &'static str, limit: u64 },
    /// A return asks for more of a line than is still uncredited.
    #[error(
        "line {line_number}: {requested} requested but only {returnable} can still be returned"
    )]
    QuantityExceedsReturnable {
        line_number: u32,
        requested: u32,
        returnable: u32,
    },
    /// A store-credit spend larger than the balance.
    #[error("store credit balance {available} is less than {requested}")]
    InsufficientStoreCredit {
        available: Decimal,
        requested: Decimal,
    },
}

impl DomainError {
    /// Stable kebab-case code, part of the public API (problem+json `type`).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation { .. } => "validation",
            DomainError::NotFound { .. } => "not-found",
            DomainError::AlreadyExists { .. } => "already-exists",
            DomainError::InvalidTransition { .. } => "invalid-transition",
            DomainError::Conflict { code, .. } => code,
            DomainError::Unprocessable { code, .. } => code,
            DomainError::LimitExceeded { .. } => "limit-exceeded",
            DomainError::QuantityExceedsReturnable { .. } => "quantity-exceeds-returnable",
            DomainError::InsufficientStoreCredit { .. } => "insufficient-store-credit",
        }
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        DomainError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn already_exists(entity: &'static str, id: impl ToString) -> Self {
        DomainError::AlreadyExists {
            entity,
            id: id.to_string(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Unprocessable {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_kebab_case() {
        // Proves the codes the HTTP layer depends on do not drift.
        let cases = [
            (DomainError::validation("f", "m"), "validation"),
            (DomainError::not_found("order", "1"), "not-found"),
            (DomainError::already_exists("sku", "A"), "already-exists"),
            (
                DomainError::InvalidTransition {
                    from: "placed",
                    action: "ship",
                },
                "invalid-transition",
            ),
            (
                DomainError::conflict("payment-exceeds-balance", "m"),
                "payment-exceeds-balance",
            ),
            (
                DomainError::unprocessable("period-not-over", "m"),
                "period-not-over",
            ),
            (
                DomainError::LimitExceeded {
                    what: "lines",
                    limit: 1,
                },
                "limit-exceeded",
            ),
            (
                DomainError::QuantityExceedsReturnable {
                    line_number: 1,
                    requested: 2,
                    returnable: 1,
                },
                "quantity-exceeds-returnable",
            ),
            (
                DomainError::InsufficientStoreCredit {
                    available: Decimal::ZERO,
                    requested: Decimal::ONE,
                },
                "insufficient-store-credit",
            ),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code);
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        }
    }
}
