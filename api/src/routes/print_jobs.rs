//! Print jobs of an order, the API side of the printer bridge's contract (printer-bridge/README.md):
//! a bridge reports what a device did with each job, lists the jobs it already reported, and staff
//! ask for reprints. Everything lands in the order's own stream, so the outcomes show in the order's
//! history and the bridge sees reprint requests in the shop's feed.
//!
//! Reports are idempotent twice over: the bridge sends `Idempotency-Key: {job_id}:{status}` (the
//! layer's replay, answered 200 here as the contract asks), and the domain records each job and
//! status once whatever the key, so a report repeated after a restart or by a second bridge changes
//! nothing. The job list reads the hot state folded from the log rather than a read model: a bridge
//! that just reported must see its report when it asks again, or it could print twice.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comptoir_domain::order::{self, Order, OrderCommand, PrintJob, PrintJobReport, PrintJobStatus};
use comptoir_domain::shop::Permission;
use comptoir_eventlog::Position;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::order_flow::order_in_shop;
use super::{run, written_position, Answer};
use crate::auth::Caller;
use crate::commands::Executed;
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::idempotency::ReplayStatus;
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_print_job, list_print_jobs))
        .routes(routes!(request_reprint))
}

/// What a device did with a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrintJobStatusDto {
    /// The device accepted the job.
    Submitted,
    /// The device finished it.
    Completed,
    /// The device aborted or cancelled it, or it could not be built.
    Failed,
}

impl From<PrintJobStatusDto> for PrintJobStatus {
    fn from(status: PrintJobStatusDto) -> Self {
        match status {
            PrintJobStatusDto::Submitted => PrintJobStatus::Submitted,
            PrintJobStatusDto::Completed => PrintJobStatus::Completed,
            PrintJobStatusDto::Failed => PrintJobStatus::Failed,
        }
    }
}

impl From<PrintJobStatus> for PrintJobStatusDto {
    fn from(status: PrintJobStatus) -> Self {
        match status {
            PrintJobStatus::Submitted => PrintJobStatusDto::Submitted,
            PrintJobStatus::Completed => PrintJobStatusDto::Completed,
            PrintJobStatus::Failed => PrintJobStatusDto::Failed,
        }
    }
}

/// A bridge's report on one job.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PrintJobReportInput {
    /// Chosen by the bridge (UUID v5 of order and line), the same on every run.
    pub job_id: Uuid,
    /// 0-based index of the order line (its `line_number` − 1).
    pub line: u32,
    /// The device that took the job: `ipp://…` or `hot-folder:/path`.
    pub device: String,
    pub status: PrintJobStatusDto,
    /// The device's words; kept for a failure.
    #[serde(default)]
    pub reason: String,
}

/// A job with its last reported status.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintJobDto {
    pub job_id: Uuid,
    pub line: u32,
    pub device: String,
    pub status: PrintJobStatusDto,
    pub reason: String,
    /// For a reprint, the job it prints again.
    pub reprint_of: Option<Uuid>,
}

/// A reprint asked for and not reported on by any device yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestedReprintDto {
    pub job_id: Uuid,
    pub line: u32,
    pub reprint_of: Uuid,
}

/// The order's print jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintJobList {
    /// Jobs a device reported on, each with its last status.
    pub jobs: Vec<PrintJobDto>,
    /// Reprints waiting for a bridge to take them.
    pub requested: Vec<RequestedReprintDto>,
}

/// Answer of a report: the job as it now stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintJobAnswer {
    #[serde(flatten)]
    pub job: PrintJobDto,
    /// Log position to pass as `min_position` when reading the order back.
    pub position: Position,
}

/// Answer of a reprint request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReprintAnswer {
    /// The new job's id.
    pub job_id: Uuid,
    pub line: u32,
    pub reprint_of: Uuid,
    pub position: Position,
}

fn reported(job: &PrintJob) -> Option<PrintJobDto> {
    Some(PrintJobDto {
        job_id: job.job_id,
        line: job.line,
        device: job.device.clone(),
        status: job.status?.into(),
        reason: job.reason.clone(),
        reprint_of: job.reprint_of,
    })
}

/// Records a device's report on a job: `PrintJobSubmitted`, `PrintJobCompleted` or
/// `PrintJobFailed` in the order's stream. 201 when recorded, 200 when already known (a retry, a
/// repeated status, or a late "submitted" after an outcome).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/print-jobs", tag = "print-jobs",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "`{job_id}:{status}`")),
    request_body = PrintJobReportInput,
    responses((status = 201, body = PrintJobAnswer, description = "recorded"),
        (status = 200, body = PrintJobAnswer, description = "already recorded; nothing changed"),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn report_print_job(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, order_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<PrintJobReportInput>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ReportPrintJobs)?;
    let command = OrderCommand::ReportPrintJob(PrintJobReport {
        job_id: body.job_id,
        line: body.line,
        device: body.device,
        status: body.status.into(),
        reason: body.reason,
        reported_by: caller.actor(),
    });
    let stream = order::stream_id(order_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        order_in_shop(session, shop_id, order_id)?;
        session.decide::<Order>(&stream, &command)?;
        session.load::<Order>(&stream)
    })
    .await?;
    let position = written_position(&state, &executed);
    let (recorded, order) = match executed {
        Executed::Applied { output, positions } => (positions.is_some(), output),
        Executed::Replayed { .. } => (false, current_order(&state, shop_id, order_id)?),
    };
    let job = order
        .print_jobs
        .get(&body.job_id)
        .and_then(reported)
        .ok_or(ApiError::Internal)?;
    let mut answer = Answer::ok(PrintJobAnswer { job, position }, position);
    if recorded {
        answer.status = StatusCode::CREATED;
    }
    let mut response = answer.into_response();
    // A retry replayed from memory says "already recorded", like one answered from the log.
    response
        .extensions_mut()
        .insert(ReplayStatus(StatusCode::OK));
    Ok(response)
}

/// The order's print jobs with their last status, read from the log's hot state (never stale).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/orders/{order_id}/print-jobs", tag = "print-jobs",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, body = PrintJobList), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_print_jobs(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, order_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<PrintJobList>, ApiError> {
    caller.authorize(shop_id, Permission::ReadOrders)?;
    let order = current_order(&state, shop_id, order_id)?;
    let jobs = order.print_jobs.values().filter_map(reported).collect();
    let requested = order
        .print_jobs
        .values()
        .filter(|job| job.status.is_none())
        .filter_map(|job| {
            Some(RequestedReprintDto {
                job_id: job.job_id,
                line: job.line,
                reprint_of: job.reprint_of?,
            })
        })
        .collect();
    let body = PrintJobList { jobs, requested };
    Ok(Answer::ok(body, state.log.head_position()))
}

/// Asks for a job's line to be printed again as a new job: a `PrintJobReprintRequested` in the
/// order's stream, which the bridge follows. Without an `Idempotency-Key`, every call is a new
/// reprint; with one, a retry names the same new job.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/orders/{order_id}/print-jobs/{job_id}/reprint",
    tag = "print-jobs",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("job_id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ReprintAnswer), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn request_reprint(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, order_id, job_id)): ApiPath<(Uuid, Uuid, Uuid)>,
) -> Result<Answer<ReprintAnswer>, ApiError> {
    caller.authorize(shop_id, Permission::RequestReprints)?;
    let new_job_id = ids.derived_id("print-job");
    let command = OrderCommand::RequestReprint {
        job_id,
        new_job_id,
        requested_by: caller.actor(),
    };
    let stream = order::stream_id(order_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        order_in_shop(session, shop_id, order_id)?;
        session.decide::<Order>(&stream, &command)?;
        session.load::<Order>(&stream)
    })
    .await?;
    let position = written_position(&state, &executed);
    let order = match executed {
        Executed::Applied { output, .. } => output,
        Executed::Replayed { .. } => current_order(&state, shop_id, order_id)?,
    };
    let job = order
        .print_jobs
        .get(&new_job_id)
        .ok_or(ApiError::Internal)?;
    let body = ReprintAnswer {
        job_id: new_job_id,
        line: job.line,
        reprint_of: job_id,
        position,
    };
    let location = format!("/v1/shops/{shop_id}/orders/{order_id}/print-jobs");
    Ok(Answer::created(body, position, location))
}

/// The order from the hot state, if it belongs to the shop (another shop's order is not found).
fn current_order(state: &AppState, shop_id: Uuid, order_id: Uuid) -> Result<Arc<Order>, ApiError> {
    let order = state
        .cache
        .load::<Order, _>(state.log.as_ref(), &order::stream_id(order_id))?
        .state;
    match &order.placed {
        Some(placed) if placed.shop_id == shop_id => Ok(order),
        _ => Err(ApiError::not_found("order")),
    }
}
