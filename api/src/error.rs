//! The one error type of the HTTP layer and its RFC 9457 `application/problem+json` rendering.
//!
//! Every failure a handler can return becomes an [`ApiError`] here, once: log errors, domain
//! errors and command-glue errors each have one `From` impl. The problem `type` URIs are stable
//! and part of the public API; titles and details are for humans and may change.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use comptoir_domain::DomainError;
use comptoir_eventlog::LogError;
use comptoir_projections::ProjectionError;
use serde::Serialize;

use crate::commands::CommandError;

/// Prefix of every problem `type`; the suffix is a stable kebab-case code.
pub const PROBLEM_TYPE_BASE: &str = "https://comptoir.dev/problems/";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No route, or no such resource.
    #[error("{detail}")]
    NotFound { detail: String },
    /// The route exists but not for this method.
    #[error("{detail}")]
    MethodNotAllowed { detail: String },
    /// The request is malformed.
    #[error("{detail}")]
    InvalidRequest { detail: String },
    /// The stream moved on since the client (or our retries) last read it.
    #[error("{detail}")]
    VersionMismatch { detail: String },
    /// A client-chosen id was reused with other content.
    #[error("{detail}")]
    IdempotencyMismatch { detail: String },
    /// A named limit was exceeded.
    #[error("{detail}")]
    LimitExceeded { detail: String },
    /// A business rule refused the command; carries its own stable code.
    #[error(transparent)]
    Domain(DomainError),
    /// No credentials, or credentials that match no owner token or active API key.
    #[error("{detail}")]
    Unauthorized { detail: String },
    /// The caller's role does not grant the permission the route needs.
    #[error("{detail}")]
    Forbidden { detail: String },
    /// A staff member may not go on: the temporary password is not changed yet, the terms not
    /// accepted, or the account lost its access; `code` says which.
    #[error("{detail}")]
    StaffRefused { code: &'static str, detail: String },
    /// Too many wrong passwords in a row: sign-in waits until the lockout ends.
    #[error("{detail}")]
    SignInLockedOut { detail: String },
    /// The body is larger than `REQUEST_BODY_BYTES_MAX`.
    #[error("{detail}")]
    PayloadTooLarge { detail: String },
    /// The body is not JSON.
    #[error("{detail}")]
    UnsupportedMediaType { detail: String },
    /// `If-Match` names a representation that is no longer current.
    #[error("{detail}")]
    PreconditionFailed { detail: String },
    /// An update that must name the representation it changes came without `If-Match`.
    #[error("{detail}")]
    PreconditionRequired { detail: String },
    /// The read models did not reach the asked position in time.
    #[error("{detail}")]
    ProjectionTimeout { detail: String },
    /// The log is shutting down or stopped after a failure.
    #[error("the service is shutting down or unavailable")]
    Unavailable,
    /// Anything internal. The cause is logged where it is converted, never sent to the client.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::VersionMismatch { .. } => StatusCode::CONFLICT,
            ApiError::IdempotencyMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::LimitExceeded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::StaffRefused { .. } => StatusCode::FORBIDDEN,
            ApiError::SignInLockedOut { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired { .. } => StatusCode::PRECONDITION_REQUIRED,
            ApiError::ProjectionTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Domain(error) => domain_status(error),
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code that ends the problem `type` URI.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::InvalidRequest { .. } => "invalid-request",
            ApiError::VersionMismatch { .. } => "version-mismatch",
            ApiError::IdempotencyMismatch { .. } => "idempotency-mismatch",
            ApiError::LimitExceeded { .. } => "limit-exceeded",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::StaffRefused { code, .. } => code,
            ApiError::SignInLockedOut { .. } => "sign-in-locked-out",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType { .. } => "unsupported-media-type",
            ApiError::PreconditionFailed { .. } => "precondition-failed",
            ApiError::PreconditionRequired { .. } => "precondition-required",
            ApiError::ProjectionTimeout { .. } => "projection-timeout",
            ApiError::Domain(error) => error.code(),
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }
}

fn domain_status(error: &DomainError) -> StatusCode {
    match error {
        DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
        DomainError::AlreadyExists { .. }
        | DomainError::InvalidTransition { .. }
        | DomainError::Conflict { .. } => StatusCode::CONFLICT,
        DomainError::Validation { .. }
        | DomainError::Unprocessable { .. }
        | DomainError::LimitExceeded { .. }
        | DomainError::QuantityExceedsReturnable { .. }
        | DomainError::InsufficientStoreCredit { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<LogError> for ApiError {
    fn from(error: LogError) -> Self {
        match error {
            LogError::VersionConflict { .. } => ApiError::VersionMismatch {
                detail: error.to_string(),
            },
            LogError::IdempotencyMismatch { .. } => ApiError::IdempotencyMismatch {
                detail: error.to_string(),
            },
            LogError::LimitExceeded { .. } => ApiError::LimitExceeded {
                detail: error.to_string(),
            },
            LogError::InvalidAppend(_) => ApiError::InvalidRequest {
                detail: error.to_string(),
            },
            LogError::Unavailable => ApiError::Unavailable,
            // Storage details (paths, sled messages, corruption) are for operators, not clients.
            LogError::DataDirLocked { .. }
            | LogError::Open { .. }
            | LogError::Corrupt { .. }
            | LogError::Storage(_) => {
                tracing::error!(%error, "event log failure");
                ApiError::Internal
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError::Domain(error)
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Domain(error) => ApiError::Domain(error),
            CommandError::Log(error) => ApiError::from(error),
            CommandError::Projection(error) => ApiError::from(error),
            CommandError::Contended { .. } => ApiError::VersionMismatch {
                detail: error.to_string(),
            },
            // A stored event we cannot read back is a bug or a missing upcaster: operators only.
            CommandError::Codec(_)
            | CommandError::Replay { .. }
            | CommandError::AlreadyApplied(_) => {
                tracing::error!(%error, "command failed on stored events");
                ApiError::Internal
            }
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::InvalidCursor | ProjectionError::InvalidQuery { .. } => {
                ApiError::InvalidRequest {
                    detail: error.to_string(),
                }
            }
            ProjectionError::TooLarge { .. } => ApiError::LimitExceeded {
                detail: error.to_string(),
            },
            ProjectionError::WaitTimeout { .. } => ApiError::ProjectionTimeout {
                detail: error.to_string(),
            },
            ProjectionError::RunnerStopped { .. } => {
                tracing::error!(%error, "read models stopped");
                ApiError::Unavailable
            }
            _ => {
                tracing::error!(%error, "read model failure");
                ApiError::Internal
            }
        }
    }
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound {
            detail: format!("{what} not found"),
        }
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        ApiError::InvalidRequest {
            detail: detail.into(),
        }
    }
}

/// RFC 9457 problem details; `instance` is left out until requests carry ids.
#[derive(Debug, Serialize)]
struct Problem {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'static str,
    status: u16,
    detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = Problem {
            problem_type: format!("{PROBLEM_TYPE_BASE}{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        // Serializing a struct of strings cannot fail; fall back to an empty object regardless.
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the oversized body was never read, so this connection cannot carry
            // another request; saying so stops keep-alive clients from reusing it (they would get
            // a broken pipe on their next request).
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_errors_map_to_stable_problems_and_hide_storage_details() {
        // Proves each LogError lands on its documented status and code, and storage text never leaks.
        let cases = [
            (
                LogError::VersionConflict {
                    stream: "s".into(),
                    expected: "1".into(),
                    current: 2,
                },
                StatusCode::CONFLICT,
                "version-mismatch",
            ),
            (
                LogError::IdempotencyMismatch {
                    event_id: uuid::Uuid::nil(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-mismatch",
            ),
            (
                LogError::LimitExceeded {
                    what: "events per append",
                    actual: 2,
                    max: 1,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                "limit-exceeded",
            ),
            (
                LogError::Storage("/secret/path is on fire".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (log_error, status, code) in cases {
            let api_error = ApiError::from(log_error);
            assert_eq!((api_error.status(), api_error.code()), (status, code));
            assert!(!api_error.to_string().contains("secret"));
        }
    }

    #[test]
    fn domain_errors_keep_their_codes() {
        // Proves domain codes pass through unchanged into the problem type.
        let error = ApiError::from(DomainError::not_found("order", "42"));
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        assert_eq!(error.code(), "not-found");
        let error = ApiError::from(DomainError::conflict("coupon-exhausted", "no uses left"));
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert_eq!(error.code(), "coupon-exhausted");
    }
}
