//! `Idempotency-Key` for every POST and PUT, as one layer in front of the handlers.
//!
//! The key, scoped by the caller's credential, the method and the path, is turned into the
//! command id by a name-based UUID, so a retry of the same request is the same command and the
//! log's own idempotency (event ids derived from the command id) makes sure it is recorded once,
//! even across restarts. The request's fingerprint (SHA-256 of method, path and body) travels with
//! the command into the events' metadata, so a retry with another body is refused with 422 even
//! when nothing is cached.
//!
//! On top of that, finished responses are kept in memory (bounded, [`IDEMPOTENT_RESPONSES_MAX`])
//! and on disk (bounded, [`durable`]) and replayed byte for byte, also after a restart, and
//! concurrent duplicates wait for the first one to finish.

pub mod durable;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{too_large, CommandIds};
use crate::server::{AppState, REQUEST_BODY_BYTES_MAX};
use durable::DurableResponses;

/// Finished responses kept for replay; the oldest are forgotten first.
pub const IDEMPOTENT_RESPONSES_MAX: usize = 10_000;
/// Largest response body kept for replay; larger ones are recomputed from the log on a retry.
pub const IDEMPOTENT_RESPONSE_BYTES_MAX: usize = 256 * 1024;
/// Characters of an `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;
/// How long a duplicate waits for the first request with its key before answering 409.
const DUPLICATE_WAIT: Duration = Duration::from_secs(30);

const _: () = assert!(IDEMPOTENT_RESPONSE_BYTES_MAX <= REQUEST_BODY_BYTES_MAX);

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a response replayed from memory.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Namespace of command ids derived from idempotency keys.
const COMMAND_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_5b7e_1f0a_4c61_9a55_3e0b_7c2d_8f41);
/// Response headers worth replaying.
const REPLAYED_HEADERS: [&str; 4] = ["content-type", "location", "etag", "comptoir-position"];

/// Set by a handler on its response when a replay must answer with another status than the first
/// answer: the printer bridge's contract wants 201 for a job report recorded, 200 for its retry.
#[derive(Clone, Copy, Debug)]
pub struct ReplayStatus(pub StatusCode);

/// Set by a handler on a response that carries a secret shown once (an API key, an activation
/// code): such a response is flushed to disk before it is sent, since a retry after a crash
/// could otherwise not show the secret again and would mint another.
#[derive(Clone, Copy, Debug)]
pub struct CarriesSecret;

#[derive(Clone)]
struct Stored {
    fingerprint: String,
    /// What a replay answers with: the first answer's status unless it carried a `ReplayStatus`.
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Default)]
struct Inner {
    done: HashMap<Uuid, Stored>,
    order: VecDeque<Uuid>,
    in_flight: HashMap<Uuid, watch::Receiver<()>>,
}

#[derive(Default)]
pub struct IdempotencyCache {
    inner: Mutex<Inner>,
    /// None only in unit tests that need no data dir.
    durable: Option<DurableResponses>,
}

fn lock(cache: &IdempotencyCache) -> MutexGuard<'_, Inner> {
    cache.inner.lock().unwrap_or_else(|p| p.into_inner())
}

enum Turn {
    Replay(Stored),
    Wait(watch::Receiver<()>),
    /// This request runs; dropping the guard wakes the duplicates.
    Run(InFlight),
}

struct InFlight {
    cache: Arc<IdempotencyCache>,
    command_id: Uuid,
    _done: watch::Sender<()>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.cache).in_flight.remove(&self.command_id);
    }
}

impl IdempotencyCache {
    /// The cache backed by the response store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, durable::OpenError> {
        Ok(IdempotencyCache {
            inner: Mutex::default(),
            durable: Some(DurableResponses::open(data_dir)?),
        })
    }

    /// Writes the stored responses out; called on a graceful shutdown.
    pub fn flush(&self) {
        if let Some(durable) = &self.durable {
            durable.flush();
        }
    }

    /// Flushes the stored responses off the async workers.
    async fn flush_durably(self: &Arc<Self>) {
        let cache = self.clone();
        if let Err(error) = tokio::task::spawn_blocking(move || cache.flush()).await {
            tracing::error!(%error, "the response flush task failed");
        }
    }

    /// The response stored on disk for `command_id`, promoted to memory.
    fn stored_on_disk(&self, command_id: Uuid) -> Option<Stored> {
        let stored = self.durable.as_ref()?.get(command_id)?;
        self.remember(command_id, stored.clone());
        Some(stored)
    }

    fn turn(self: &Arc<Self>, command_id: Uuid) -> Turn {
        let mut inner = lock(self);
        if let Some(stored) = inner.done.get(&command_id) {
            return Turn::Replay(stored.clone());
        }
        if let Some(receiver) = inner.in_flight.get(&command_id) {
            return Turn::Wait(receiver.clone());
        }
        let (sender, receiver) = watch::channel(());
        inner.in_flight.insert(command_id, receiver);
        Turn::Run(InFlight {
            cache: self.clone(),
            command_id,
            _done: sender,
        })
    }

    fn store(&self, command_id: Uuid, stored: Stored) {
        if let Some(durable) = &self.durable {
            durable.put(command_id, &stored);
        }
        self.remember(command_id, stored);
    }

    fn remember(&self, command_id: Uuid, stored: Stored) {
        let mut inner = lock(self);
        if inner.done.insert(command_id, stored).is_none() {
            inner.order.push_back(command_id);
        }
        while inner.order.len() > IDEMPOTENT_RESPONSES_MAX {
            if let Some(oldest) = inner.order.pop_front() {
                inner.done.remove(&oldest);
            }
        }
    }
}

/// The layer: see the module doc. Also enforces the body limit for every POST and PUT with a
/// problem.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // PUT is a write too: a retried mapping change must be answered like the first one.
    if request.method() != Method::POST && request.method() != Method::PUT {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, REQUEST_BODY_BYTES_MAX).await else {
        return too_large().into_response();
    };
    let fingerprint = fingerprint(&parts.method, parts.uri.path(), &bytes);
    let key = match idempotency_key(&parts.headers) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let command_id = key.as_deref().map_or_else(Uuid::now_v7, |key| {
        derive_command_id(&parts.headers, &parts.method, parts.uri.path(), key)
    });
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(CommandIds {
        command_id,
        fingerprint: Some(fingerprint.clone()),
    });
    if key.is_none() {
        return next.run(request).await;
    }
    run_once(&state.idempotency, command_id, fingerprint, request, next).await
}

async fn run_once(
    cache: &Arc<IdempotencyCache>,
    command_id: Uuid,
    fingerprint: String,
    request: Request,
    next: Next,
) -> Response {
    loop {
        match cache.turn(command_id) {
            Turn::Replay(stored) => return replay(stored, &fingerprint),
            Turn::Wait(mut receiver) => {
                // The sender is dropped when the first request finishes, whatever happened.
                let waited = tokio::time::timeout(DUPLICATE_WAIT, receiver.changed()).await;
                if waited.is_err() {
                    return ApiError::VersionMismatch {
                        detail: "a request with this Idempotency-Key is still running".into(),
                    }
                    .into_response();
                }
            }
            Turn::Run(in_flight) => {
                // Not in memory: answered before a restart, perhaps. Looked up only once this
                // request holds the key, so a concurrent duplicate waits instead of racing.
                if let Some(stored) = cache.stored_on_disk(command_id) {
                    drop(in_flight);
                    return replay(stored, &fingerprint);
                }
                let response = next.run(request).await;
                let response = keep(cache, command_id, fingerprint, response).await;
                drop(in_flight);
                return response;
            }
        }
    }
}

/// Buffers the response and keeps it for replay when it is final (not a 5xx, not a conflict
/// the client should retry).
async fn keep(
    cache: &Arc<IdempotencyCache>,
    command_id: Uuid,
    fingerprint: String,
    response: Response,
) -> Response {
    let status = response.status();
    let replayable = !status.is_server_error() && status != StatusCode::CONFLICT;
    if !replayable {
        return response;
    }
    let (parts, body) = response.into_parts();
    let replay_status = parts
        .extensions
        .get::<ReplayStatus>()
        .map_or(status, |replay| replay.0);
    let flush_now = parts.extensions.get::<CarriesSecret>().is_some();
    let Ok(body) = axum::body::to_bytes(body, IDEMPOTENT_RESPONSE_BYTES_MAX).await else {
        return ApiError::Internal.into_response();
    };
    let headers = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = parts.headers.get(*name)?.clone();
            Some((HeaderName::from_static(name), value))
        })
        .collect();
    cache.store(
        command_id,
        Stored {
            fingerprint,
            status: replay_status,
            headers,
            body: body.clone(),
        },
    );
    if flush_now {
        cache.flush_durably().await;
    }
    Response::from_parts(parts, Body::from(body))
}

fn replay(stored: Stored, fingerprint: &str) -> Response {
    if stored.fingerprint != fingerprint {
        return ApiError::IdempotencyMismatch {
            detail: "this Idempotency-Key was used with another request".into(),
        }
        .into_response();
    }
    let mut response = (stored.status, stored.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        headers.insert(name, value);
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|key| !key.is_empty() && key.chars().count() <= IDEMPOTENCY_KEY_CHARS_MAX)
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_string()))
}

/// Keys are scoped by credential, method and path: two clients never share a command by chance.
fn derive_command_id(headers: &HeaderMap, method: &Method, path: &str, key: &str) -> Uuid {
    let credential = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    for part in [
        credential,
        method.as_str().as_bytes(),
        path.as_bytes(),
        key.as_bytes(),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    Uuid::new_v5(&COMMAND_NAMESPACE, &hasher.finalize())
}

/// SHA-256 of method, path and body, shortened: it must only tell two requests apart.
fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for part in [method.as_str().as_bytes(), path.as_bytes(), body] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_are_scoped_and_deterministic() {
        // Proves one key gives one command per caller and path, and different ones otherwise.
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer a"));
        let first = derive_command_id(&headers, &Method::POST, "/v1/x", "k");
        assert_eq!(
            first,
            derive_command_id(&headers, &Method::POST, "/v1/x", "k")
        );
        assert_ne!(
            first,
            derive_command_id(&headers, &Method::POST, "/v1/y", "k")
        );
        headers.insert("authorization", HeaderValue::from_static("Bearer b"));
        assert_ne!(
            first,
            derive_command_id(&headers, &Method::POST, "/v1/x", "k")
        );
    }

    #[test]
    fn the_response_cache_is_bounded() {
        // Proves the oldest stored responses are forgotten beyond the bound.
        let cache = IdempotencyCache::default();
        for n in 0..(IDEMPOTENT_RESPONSES_MAX as u128 + 10) {
            let stored = Stored {
                fingerprint: String::new(),
                status: StatusCode::OK,
                headers: Vec::new(),
                body: Bytes::new(),
            };
            cache.store(Uuid::from_u128(n), stored);
        }
        let inner = lock(&cache);
        assert_eq!(inner.done.len(), IDEMPOTENT_RESPONSES_MAX);
        assert!(!inner.done.contains_key(&Uuid::from_u128(0)));
    }
}
