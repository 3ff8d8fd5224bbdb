//! Online rebuilds of the projections (platform operator only): `POST /v1/admin/rebuilds` starts
//! one inside the running server, `GET /v1/admin/rebuilds/{rebuild_id}` follows it.
//!
//! The rebuild itself is `Projections::rebuild_online`, run on a blocking thread: reads keep
//! answering from the current trees until the swap. Only one runs at a time (a second is a 409);
//! what each did is kept in memory, the last `REBUILD_HISTORY_MAX`, and lost at restart (the
//! rebuilt projections are not: the swap is on disk).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use comptoir_domain::DomainError;
use comptoir_eventlog::Position;
use comptoir_projections::{ProjectionError, ProjectionName, RebuildOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::clock::owner_only;
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::server::AppState;

/// Rebuilds whose status is kept (the newest); older ones are forgotten.
pub const REBUILD_HISTORY_MAX: usize = 16;
/// Projection names one request may list (each projection once is all there is to ask).
pub const REBUILD_NAMES_MAX: usize = 8;

const _: () = assert!(REBUILD_HISTORY_MAX > 0);
const _: () = assert!(REBUILD_NAMES_MAX >= ProjectionName::ALL.len());

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_rebuild))
        .routes(routes!(get_rebuild))
}

/// Which projections to rebuild.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildRequest {
    /// `read_models` (also spelled `read-models`) and/or `ledger`; absent or empty means all.
    #[serde(default)]
    pub projections: Vec<String>,
}

/// Where a rebuild stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebuildState {
    Running,
    Succeeded,
    Failed,
}

/// One rebuilt projection: the position it was swapped in at and its state's SHA-256 there (the
/// digest `comptoir rebuild` and `comptoir verify --projections` print).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RebuiltProjection {
    pub projection: String,
    pub position: Position,
    /// Hex SHA-256 of the projection's state at `position`.
    pub digest: String,
}

/// An online rebuild's status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RebuildStatus {
    pub rebuild_id: Uuid,
    pub status: RebuildState,
    /// The projections being rebuilt.
    pub projections: Vec<String>,
    /// Last position the fresh trees hold.
    pub applied: Position,
    /// The log's head when `applied` was reached.
    pub head: Position,
    /// Events replayed per second since the start, rounded down.
    pub events_per_s: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Once succeeded: each rebuilt projection's position and digest.
    pub outcomes: Vec<RebuiltProjection>,
    /// Once failed: why. The projections in force before stay in force.
    pub failure: Option<String>,
}

/// The statuses of the last `REBUILD_HISTORY_MAX` rebuilds, newest first.
#[derive(Debug, Default)]
pub struct Rebuilds {
    history: Mutex<VecDeque<RebuildStatus>>,
}

impl Rebuilds {
    fn get(&self, rebuild_id: Uuid) -> Option<RebuildStatus> {
        self.lock()
            .iter()
            .find(|status| status.rebuild_id == rebuild_id)
            .cloned()
    }

    /// Records `status` as the running rebuild, unless one is running already.
    fn start(&self, status: RebuildStatus) -> Result<(), ApiError> {
        let mut history = self.lock();
        if let Some(running) = history.iter().find(|s| s.status == RebuildState::Running) {
            return Err(DomainError::conflict(
                "rebuild-running",
                format!(
                    "rebuild {} is still running; follow it at /v1/admin/rebuilds/{}",
                    running.rebuild_id, running.rebuild_id
                ),
            )
            .into());
        }
        history.push_front(status);
        // Only the newest can be running, so the ones forgotten are finished.
        history.truncate(REBUILD_HISTORY_MAX);
        Ok(())
    }

    fn update(&self, rebuild_id: Uuid, change: impl FnOnce(&mut RebuildStatus)) {
        if let Some(status) = self
            .lock()
            .iter_mut()
            .find(|status| status.rebuild_id == rebuild_id)
        {
            change(status);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<RebuildStatus>> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Starts an online rebuild of the projections (platform operator only).
///
/// The server keeps serving meanwhile: reads answer from the current projections until the
/// rebuilt ones are swapped in, at the projection runner's position. Answers 202 with the
/// rebuild's status and its `Location`; a second rebuild while one runs is a 409
/// `rebuild-running`; an unknown projection name a 422 `validation`.
#[utoipa::path(post, path = "/v1/admin/rebuilds", tag = "admin",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = RebuildRequest,
    responses((status = 202, body = RebuildStatus, headers(("Location" = String))), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn start_rebuild(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    JsonBody(body): JsonBody<RebuildRequest>,
) -> Result<Response, ApiError> {
    owner_only(&caller)?;
    let projections = projection_names(&body.projections)?;
    // The command id: a retry with the same `Idempotency-Key` is answered with the same rebuild.
    let rebuild_id = ids.command_id;
    let status = RebuildStatus {
        rebuild_id,
        status: RebuildState::Running,
        projections: projections.iter().map(|p| p.as_str().to_string()).collect(),
        applied: 0,
        head: state.log.head_position(),
        events_per_s: 0,
        started_at: Utc::now(),
        finished_at: None,
        outcomes: Vec::new(),
        failure: None,
    };
    state.rebuilds.start(status.clone())?;
    spawn_rebuild(&state, rebuild_id, projections);
    let location = format!("/v1/admin/rebuilds/{rebuild_id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(status),
    )
        .into_response())
}

/// One rebuild's status (platform operator only).
#[utoipa::path(get, path = "/v1/admin/rebuilds/{rebuild_id}", tag = "admin",
    params(("rebuild_id" = Uuid, Path)),
    responses((status = 200, body = RebuildStatus), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_rebuild(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(rebuild_id): ApiPath<Uuid>,
) -> Result<Json<RebuildStatus>, ApiError> {
    owner_only(&caller)?;
    state
        .rebuilds
        .get(rebuild_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("rebuild"))
}

/// The projections named, each once, in their own order; none named means all.
fn projection_names(names: &[String]) -> Result<Vec<ProjectionName>, ApiError> {
    if names.len() > REBUILD_NAMES_MAX {
        return Err(ApiError::LimitExceeded {
            detail: format!("at most {REBUILD_NAMES_MAX} projection names"),
        });
    }
    if names.is_empty() {
        return Ok(ProjectionName::ALL.to_vec());
    }
    let mut parsed = names
        .iter()
        .map(|name| {
            ProjectionName::parse(&name.replace('-', "_")).map_err(|error| {
                ApiError::from(DomainError::validation("projections", error.to_string()))
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

/// Runs the rebuild on a blocking thread and records its progress and end in `state.rebuilds`.
fn spawn_rebuild(state: &AppState, rebuild_id: Uuid, projections: Vec<ProjectionName>) {
    let (log, read_models, rebuilds) = (
        state.log.clone(),
        state.projections.clone(),
        state.rebuilds.clone(),
    );
    let started = Instant::now();
    let progress_rebuilds = rebuilds.clone();
    let rebuilding = tokio::task::spawn_blocking(move || {
        let mut progress = |applied: Position, head: Position| {
            progress_rebuilds.update(rebuild_id, |status| {
                status.applied = applied;
                status.head = head;
                status.events_per_s = per_second(applied, started);
            });
        };
        tracing::info!(%rebuild_id, ?projections, "online rebuild starting");
        read_models.rebuild_online(&log, &projections, &mut progress)
    });
    // Awaited apart, so that even a panicking rebuild ends as `failed` rather than leaving a
    // `running` status that would refuse every later rebuild.
    tokio::spawn(async move {
        let outcome = rebuilding.await.unwrap_or_else(|error| {
            Err(ProjectionError::RebuildStopped {
                reason: format!("the rebuild task failed: {error}"),
            })
        });
        finish(&rebuilds, rebuild_id, outcome, started);
    });
}

fn finish(
    rebuilds: &Arc<Rebuilds>,
    rebuild_id: Uuid,
    outcome: Result<Vec<RebuildOutcome>, ProjectionError>,
    started: Instant,
) {
    match &outcome {
        Ok(outcomes) => tracing::info!(%rebuild_id, ?outcomes, "online rebuild succeeded"),
        Err(error) => tracing::error!(%rebuild_id, %error, "online rebuild failed"),
    }
    rebuilds.update(rebuild_id, |status| {
        status.finished_at = Some(Utc::now());
        match outcome {
            Ok(outcomes) => {
                status.status = RebuildState::Succeeded;
                if let Some(last) = outcomes.iter().map(|o| o.position).max() {
                    status.applied = status.applied.max(last);
                    status.head = status.head.max(last);
                }
                status.events_per_s = per_second(status.applied, started);
                status.outcomes = outcomes
                    .into_iter()
                    .map(|outcome| RebuiltProjection {
                        projection: outcome.projection.as_str().to_string(),
                        position: outcome.position,
                        digest: hex::encode(outcome.digest),
                    })
                    .collect();
            }
            Err(error) => {
                status.status = RebuildState::Failed;
                status.failure = Some(error.to_string());
            }
        }
    });
}

/// Events per second over the time since `started`, rounded down.
fn per_second(events: Position, started: Instant) -> u64 {
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    events.saturating_mul(1_000) / elapsed_ms.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(n: u128) -> RebuildStatus {
        RebuildStatus {
            rebuild_id: Uuid::from_u128(n),
            status: RebuildState::Running,
            projections: vec!["ledger".into()],
            applied: 0,
            head: 0,
            events_per_s: 0,
            started_at: Utc::now(),
            finished_at: None,
            outcomes: Vec::new(),
            failure: None,
        }
    }

    #[test]
    fn one_rebuild_runs_at_a_time_and_the_history_is_bounded() {
        // Proves a second start while one runs is a 409 `rebuild-running`, a start after it ended
        // is accepted, and only the newest REBUILD_HISTORY_MAX statuses are kept.
        let rebuilds = Rebuilds::default();
        rebuilds.start(running(1)).expect("first");
        let refused = rebuilds
            .start(running(2))
            .expect_err("second while running");
        assert_eq!(
            (refused.status(), refused.code()),
            (StatusCode::CONFLICT, "rebuild-running")
        );
        assert!(rebuilds.get(Uuid::from_u128(2)).is_none());
        for n in 1..=(REBUILD_HISTORY_MAX as u128 + 4) {
            rebuilds.update(Uuid::from_u128(n), |s| s.status = RebuildState::Succeeded);
            rebuilds
                .start(running(n + 1))
                .expect("after the previous ended");
        }
        assert_eq!(rebuilds.lock().len(), REBUILD_HISTORY_MAX);
        assert!(rebuilds.get(Uuid::from_u128(1)).is_none());
        let newest = REBUILD_HISTORY_MAX as u128 + 5;
        let kept = rebuilds.get(Uuid::from_u128(newest)).expect("newest kept");
        assert_eq!(kept.status, RebuildState::Running);
    }

    #[test]
    fn projection_names_take_both_spellings_and_refuse_unknown_ones() {
        // Proves none named means all, `read-models` and `read_models` both name the read models
        // (each once), and an unknown name is a 422 `validation` naming the known ones.
        assert_eq!(projection_names(&[]).expect("all"), ProjectionName::ALL);
        let names = ["ledger", "read-models", "read_models"].map(String::from);
        assert_eq!(projection_names(&names).expect("both"), ProjectionName::ALL);
        let unknown = projection_names(&["stock".to_string()]).expect_err("unknown");
        assert_eq!(
            (unknown.status(), unknown.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation")
        );
        assert!(unknown.to_string().contains("read_models"), "{unknown}");
        let many = vec!["ledger".to_string(); REBUILD_NAMES_MAX + 1];
        let too_many = projection_names(&many).expect_err("too many");
        assert_eq!(too_many.code(), "limit-exceeded");
    }
}
