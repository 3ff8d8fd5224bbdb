//! Extractors that turn every malformed request into a problem+json answer instead of axum's
//! plain-text rejections: JSON bodies, path ids, query strings, and the command identity the
//! idempotency layer derived for the request.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;

/// A JSON request body of type `T`.
pub struct JsonBody<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType {
                detail: "send the body as Content-Type: application/json".into(),
            });
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| ApiError::invalid(format!("the JSON body is invalid: {error}")))
    }
}

pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::invalid(format!("cannot read the body: {rejection}"))
}

pub fn too_large() -> ApiError {
    ApiError::PayloadTooLarge {
        detail: format!(
            "the body exceeds {} bytes",
            crate::server::REQUEST_BODY_BYTES_MAX
        ),
    }
}

/// Path parameters; a malformed id names no resource, so it answers 404.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::NotFound {
                detail: format!("no such resource: {rejection}"),
            })
    }
}

/// A query string of type `T`.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::invalid(format!("invalid query: {rejection}")))
    }
}

/// The identity of a write: its command id (derived from `Idempotency-Key` when sent, fresh
/// otherwise) and the fingerprint of the request, both set by the idempotency layer.
#[derive(Clone, Debug)]
pub struct CommandIds {
    pub command_id: Uuid,
    pub fingerprint: Option<String>,
}

impl CommandIds {
    /// The id of the `what` entity this command creates: the same on every retry.
    pub fn derived_id(&self, what: &str) -> Uuid {
        Uuid::new_v5(&self.command_id, what.as_bytes())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CommandIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(parts
            .extensions
            .get::<CommandIds>()
            .cloned()
            .unwrap_or_else(|| CommandIds {
                command_id: Uuid::now_v7(),
                fingerprint: None,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        // Proves which media types count as JSON bodies.
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
