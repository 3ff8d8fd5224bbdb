//! `GET /health`: liveness plus the log's durable head, so that operators and tests can see the
//! server is up and how far the log goes.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::server::AppState;

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    head_position: u64,
    version: &'static str,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        head_position: state.log.head_position(),
        version: env!("CARGO_PKG_VERSION"),
    })
}
