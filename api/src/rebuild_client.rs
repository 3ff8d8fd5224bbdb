//! `comptoir rebuild --server URL`: starts an online rebuild in a running server over HTTP
//! (`POST /v1/admin/rebuilds`) and follows it (`GET` of the `Location`) until it ends.

use std::time::Duration;

use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::owner_client::{self, get_json, refusal};

/// How often the status is asked for.
pub const REBUILD_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Longest one request to the server may take.
pub const REBUILD_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Failed status requests in a row after which the client gives up (the rebuild goes on in the
/// server; its status stays readable at its URL).
pub const REBUILD_POLL_FAILURES_MAX: u32 = 25;

/// What the client reads of a rebuild's status (`routes::rebuilds::RebuildStatus`).
#[derive(Debug, Deserialize)]
pub struct RemoteRebuild {
    pub rebuild_id: String,
    pub status: String,
    pub applied: u64,
    pub head: u64,
    #[serde(default)]
    pub outcomes: Vec<RemoteOutcome>,
    pub failure: Option<String>,
}

/// One rebuilt projection as the server reports it.
#[derive(Debug, Deserialize)]
pub struct RemoteOutcome {
    pub projection: String,
    pub position: u64,
    pub digest: String,
}

/// Starts the rebuild of `projection` (all when `None`) in the server at `server` with the
/// owner `token`, calls `progress` with each status read, and returns the final status once it
/// succeeded. The error is a sentence for the operator.
pub async fn rebuild_online(
    server: &str,
    token: &str,
    projection: Option<&str>,
    progress: &mut dyn FnMut(&RemoteRebuild),
) -> Result<RemoteRebuild, String> {
    let client = owner_client::client(REBUILD_REQUEST_TIMEOUT)?;
    let base = server.trim_end_matches('/');
    let projections: Vec<&str> = projection.into_iter().collect();
    let started = client
        .post(format!("{base}/v1/admin/rebuilds"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "projections": projections }))
        .send()
        .await
        .map_err(|error| format!("cannot reach {base}: {error}"))?;
    if started.status() != StatusCode::ACCEPTED {
        return Err(refusal(started).await);
    }
    let location = started
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(|path| format!("{base}{path}"))
        .ok_or_else(|| "the server answered without the rebuild's Location".to_string())?;
    let mut failures = 0;
    loop {
        tokio::time::sleep(REBUILD_POLL_INTERVAL).await;
        let status = match get_json(&client, &location, token, "a rebuild's status").await {
            Ok(status) => status,
            Err(error) if failures < REBUILD_POLL_FAILURES_MAX => {
                failures += 1;
                tracing::warn!(%error, "reading the rebuild's status failed; retrying");
                continue;
            }
            Err(error) => {
                return Err(format!(
                    "{error}; the rebuild goes on in the server, see {location}"
                ))
            }
        };
        failures = 0;
        progress(&status);
        match status.status.as_str() {
            "running" => continue,
            "succeeded" => return Ok(status),
            _ => {
                let reason = status.failure.as_deref().unwrap_or("no reason given");
                return Err(format!(
                    "rebuild {} failed, the previous projections stay in force: {reason}",
                    status.rebuild_id
                ));
            }
        }
    }
}
