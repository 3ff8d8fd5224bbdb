//! Where the server's decisions get the time: the system clock, or, only when `comptoir serve
//! --test-clock` was given, the system clock moved by an offset that end-to-end tests set over
//! HTTP (`PUT /v1/test-clock`, owner only). Without the flag the route does not exist and the
//! offset cannot be set, so production can never run on a moved clock.
//!
//! An offset rather than a frozen instant keeps time flowing: events still get increasing
//! timestamps and time-ordered ids between two moves.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use comptoir_domain::Environment;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::server::AppState;

/// The decisions' clock.
#[derive(Debug, Default)]
pub struct Clock {
    /// `Some` only under `--test-clock`: nanoseconds added to the system time. Nanoseconds, the
    /// system clock's own precision, so that the clock never reads before an instant it was just
    /// set to (a truncated offset read up to a millisecond early).
    offset_ns: Option<AtomicI64>,
}

impl Clock {
    /// A clock tests may move; see the module doc.
    pub fn test() -> Self {
        Clock {
            offset_ns: Some(AtomicI64::new(0)),
        }
    }

    pub fn is_test(&self) -> bool {
        self.offset_ns.is_some()
    }

    /// Moves a test clock so that it reads `now` at this instant; a system clock refuses.
    fn set(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        let offset = self
            .offset_ns
            .as_ref()
            .ok_or_else(|| ApiError::not_found("test clock"))?;
        let offset_ns =
            (now - Utc::now())
                .num_nanoseconds()
                .ok_or_else(|| ApiError::InvalidRequest {
                    detail: "now: the test clock moves at most 292 years from the system time"
                        .into(),
                })?;
        offset.store(offset_ns, Ordering::SeqCst);
        Ok(())
    }
}

impl Environment for Clock {
    fn now(&self) -> DateTime<Utc> {
        let offset_ns = self
            .offset_ns
            .as_ref()
            .map_or(0, |offset| offset.load(Ordering::SeqCst));
        Utc::now() + Duration::nanoseconds(offset_ns)
    }

    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

#[derive(Debug, Deserialize, Serialize)]
struct ClockDto {
    now: DateTime<Utc>,
}

/// The test-clock route, present only when the clock is a test clock. Kept out of the OpenAPI
/// document on purpose: it is no part of the public API.
pub fn router(state: &AppState) -> Router {
    if !state.clock.is_test() {
        return Router::new();
    }
    Router::new()
        .route("/v1/test-clock", get(read_clock).put(set_clock))
        .with_state(state.clone())
}

async fn read_clock(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ClockDto>, ApiError> {
    owner_only(&caller)?;
    Ok(Json(ClockDto {
        now: state.clock.now(),
    }))
}

async fn set_clock(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ClockDto>,
) -> Result<Json<ClockDto>, ApiError> {
    owner_only(&caller)?;
    state.clock.set(body.now)?;
    Ok(Json(ClockDto {
        now: state.clock.now(),
    }))
}

pub fn owner_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_owner() {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            detail: "only the platform operator (an owner token) may do this".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_never_reads_before_the_instant_it_was_set_to() {
        // Proves the offset keeps the system clock's precision: set to instants with sub-
        // millisecond parts, in the future and in the past, the clock reads them or later,
        // and within a second of them.
        let clock = Clock::test();
        for n in 0..2_000i64 {
            let shift = Duration::days(if n % 2 == 0 { 35 } else { -400 });
            let instant = Utc::now() + shift + Duration::nanoseconds(n * 999_937);
            clock.set(instant).expect("a test clock moves");
            let read = clock.now();
            assert!(read >= instant, "{read} before {instant}");
            assert!(read - instant < Duration::seconds(1), "{read} vs {instant}");
        }
    }

    #[test]
    fn the_system_clock_cannot_be_moved() {
        assert!(Clock::default().set(Utc::now()).is_err());
    }
}
