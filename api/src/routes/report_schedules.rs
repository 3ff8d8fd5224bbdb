//! Scheduled reports by e-mail (spec §7): a manager creates, reads, changes and deletes the
//! shop's schedules and reads which periods each one sent. The sending itself is
//! `report_scheduler`'s, and only runs when SMTP is configured.
//!
//! A schedule read by id comes from the hot state (never behind a write) with an `ETag`; lists
//! and deliveries come from the projections and accept `?min_position=`.

use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use comptoir_domain::report_schedule::{
    self, Frequency, ReportFormat, ReportGrouping, ReportSchedule, ReportScheduleCommand,
    ReportSettings,
};
use comptoir_domain::shop::Permission;
use comptoir_domain::DomainError;
use comptoir_projections::report_schedules::{ReportDeliveryView, ReportScheduleView};
use comptoir_projections::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::PageQuery;
use super::{
    content_etag, if_match, precondition_to_412, required_if_match, run, session_shop, stale_etag,
    written_position, Answer,
};
use crate::auth::Caller;
use crate::commands::CommandError;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

/// Live schedules one shop may have. Checked against the read models before a creation, so
/// concurrent creations may pass it by a few; it bounds the scheduler's work, not money.
pub const REPORT_SCHEDULES_PER_SHOP_MAX: usize = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_schedule, list_schedules))
        .routes(routes!(get_schedule, put_schedule, delete_schedule))
        .routes(routes!(list_deliveries))
}

/// How often: once per complete period in the shop's time zone.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum FrequencyDto {
    Daily,
    Weekly,
    Monthly,
    HalfYearly,
    Yearly,
}

/// The attached file's format.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ReportFormatDto {
    Csv,
    Xlsx,
    Xml,
}

/// How the report's rows are formed (as the statistics' `group_by`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ReportGroupingDto {
    OrderNumber,
    Customer,
    ProductType,
    OrderDay,
    PaymentType,
}

fn default_grouping() -> ReportGrouping {
    ReportGrouping::OrderDay
}

/// What a schedule sends, to whom, how often.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportScheduleInput {
    /// 1 to 20 distinct e-mail addresses.
    #[schema(example = json!(["gerant@studio-lumiere.fr"]))]
    pub recipients: Vec<String>,
    #[schema(value_type = FrequencyDto)]
    pub frequency: Frequency,
    #[schema(value_type = ReportFormatDto)]
    pub format: ReportFormat,
    /// `order_day` when omitted.
    #[serde(default = "default_grouping")]
    #[schema(value_type = Option<ReportGroupingDto>)]
    pub group_by: ReportGrouping,
}

impl ReportScheduleInput {
    fn settings(&self) -> ReportSettings {
        ReportSettings {
            recipients: self.recipients.clone(),
            frequency: self.frequency,
            format: self.format,
            group_by: self.group_by,
        }
    }
}

/// A schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportScheduleDto {
    pub shop_id: Uuid,
    pub schedule_id: Uuid,
    pub recipients: Vec<String>,
    #[schema(value_type = FrequencyDto)]
    pub frequency: Frequency,
    #[schema(value_type = ReportFormatDto)]
    pub format: ReportFormat,
    #[schema(value_type = ReportGroupingDto)]
    pub group_by: ReportGrouping,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReportScheduleView> for ReportScheduleDto {
    fn from(view: ReportScheduleView) -> Self {
        ReportScheduleDto {
            shop_id: view.shop_id,
            schedule_id: view.schedule_id,
            recipients: view.settings.recipients,
            frequency: view.settings.frequency,
            format: view.settings.format,
            group_by: view.settings.group_by,
            created_at: view.created_at,
            updated_at: view.updated_at,
        }
    }
}

/// A schedule as written, with the log position of the write.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportScheduleWritten {
    pub schedule_id: Uuid,
    /// The recipients as recorded (trimmed, lower-cased).
    pub recipients: Vec<String>,
    #[schema(value_type = FrequencyDto)]
    pub frequency: Frequency,
    #[schema(value_type = ReportFormatDto)]
    pub format: ReportFormat,
    #[schema(value_type = ReportGroupingDto)]
    pub group_by: ReportGrouping,
    pub position: u64,
}

fn written(schedule_id: Uuid, settings: ReportSettings, position: u64) -> ReportScheduleWritten {
    ReportScheduleWritten {
        schedule_id,
        recipients: settings.recipients,
        frequency: settings.frequency,
        format: settings.format,
        group_by: settings.group_by,
        position,
    }
}

/// Creates a schedule; its first report covers the first period that ends after now.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/report-schedules", tag = "reports",
    request_body = ReportScheduleInput,
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = ReportScheduleWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<ReportScheduleInput>,
) -> Result<Answer<ReportScheduleWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageReportSchedules)?;
    let settings = body.settings().normalised()?;
    let existing = state
        .projections
        .report_schedules(shop_id, &PageRequest::first(REPORT_SCHEDULES_PER_SHOP_MAX))?;
    if existing.items.len() >= REPORT_SCHEDULES_PER_SHOP_MAX {
        return Err(ApiError::LimitExceeded {
            detail: format!("at most {REPORT_SCHEDULES_PER_SHOP_MAX} report schedules per shop"),
        });
    }
    let schedule_id = ids.derived_id("report-schedule");
    let command = ReportScheduleCommand::Create {
        shop_id,
        schedule_id,
        settings: settings.clone(),
    };
    let stream = report_schedule::stream_id(schedule_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_shop(session, shop_id)?;
        session.decide::<ReportSchedule>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let mut answer = Answer::created(
        written(schedule_id, settings.clone(), position),
        position,
        format!("/v1/shops/{shop_id}/report-schedules/{schedule_id}"),
    );
    answer.etag = Some(content_etag(&settings));
    Ok(answer)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSchedulePage {
    pub items: Vec<ReportScheduleDto>,
    pub next_cursor: Option<String>,
}

/// The shop's schedules (deleted ones left out), by id.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/report-schedules", tag = "reports",
    params(("shop_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = ReportSchedulePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_schedules(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<PageQuery>,
) -> Result<Answer<ReportSchedulePage>, ApiError> {
    caller.authorize(shop_id, Permission::ManageReportSchedules)?;
    state.read_at(params.min_position).await?;
    let page = state
        .projections
        .report_schedules(shop_id, &params.page())?;
    let body = ReportSchedulePage {
        items: page
            .items
            .into_iter()
            .map(ReportScheduleDto::from)
            .collect(),
        next_cursor: page.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}

/// The live schedule of this shop, from the hot state.
fn load_schedule(
    state: &AppState,
    shop_id: Uuid,
    schedule_id: Uuid,
) -> Result<ReportSchedule, ApiError> {
    let loaded = state
        .cache
        .load::<ReportSchedule, _>(state.log.as_ref(), &report_schedule::stream_id(schedule_id))?;
    let schedule = (*loaded.state).clone();
    let of_shop = schedule.shop_id == Some(shop_id) && schedule.live_settings().is_some();
    if !of_shop {
        return Err(ApiError::not_found("report schedule"));
    }
    Ok(schedule)
}

/// One schedule, with its `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/report-schedules/{schedule_id}", tag = "reports",
    params(("shop_id" = Uuid, Path), ("schedule_id" = Uuid, Path)),
    responses((status = 200, body = ReportScheduleDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, schedule_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<ReportScheduleDto>, ApiError> {
    caller.authorize(shop_id, Permission::ManageReportSchedules)?;
    let schedule = load_schedule(&state, shop_id, schedule_id)?;
    let (Some(settings), Some(created_at)) = (schedule.live_settings(), schedule.created_at) else {
        return Err(ApiError::not_found("report schedule"));
    };
    let etag = content_etag(settings);
    let body = ReportScheduleDto {
        shop_id,
        schedule_id,
        recipients: settings.recipients.clone(),
        frequency: settings.frequency,
        format: settings.format,
        group_by: settings.group_by,
        created_at,
        updated_at: schedule.updated_at.unwrap_or(created_at),
    };
    let mut answer = Answer::ok(body, state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// Inside a decision: the live schedule of this shop, and a stale `If-Match` refused unless
/// the schedule already holds `wanted` (a retry whose first answer was lost).
fn check_schedule(
    schedule: &ReportSchedule,
    shop_id: Uuid,
    etag: Option<&str>,
    wanted: Option<&ReportSettings>,
) -> Result<(), CommandError> {
    let Some(current) = schedule
        .live_settings()
        .filter(|_| schedule.shop_id == Some(shop_id))
    else {
        return Err(DomainError::not_found("report schedule", "this schedule").into());
    };
    if let Some(etag) = etag {
        let retry = wanted.is_some_and(|wanted| wanted == current);
        if etag != "*" && etag != content_etag(current) && !retry {
            return Err(stale_etag("the schedule"));
        }
    }
    Ok(())
}

/// Replaces a schedule's settings. Send `If-Match` with its `ETag`: none answers 428, a stale
/// one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/report-schedules/{schedule_id}", tag = "reports",
    request_body = ReportScheduleInput,
    params(("shop_id" = Uuid, Path), ("schedule_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ReportScheduleWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, schedule_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<ReportScheduleInput>,
) -> Result<Answer<ReportScheduleWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageReportSchedules)?;
    let etag = required_if_match(&headers, "the schedule's")?;
    let settings = body.settings().normalised()?;
    let command = ReportScheduleCommand::Update {
        settings: settings.clone(),
    };
    let stream = report_schedule::stream_id(schedule_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let schedule = session.load::<ReportSchedule>(&stream)?;
        check_schedule(&schedule, shop_id, Some(&etag), Some(&settings))?;
        session.decide::<ReportSchedule>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let mut answer = Answer::ok(written(schedule_id, settings.clone(), position), position);
    answer.etag = Some(content_etag(&settings));
    Ok(answer)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportScheduleDeleted {
    pub schedule_id: Uuid,
    pub deleted: bool,
    pub position: u64,
}

/// Deletes a schedule: nothing more is sent; the periods it sent stay readable.
#[utoipa::path(delete, path = "/v1/shops/{shop_id}/report-schedules/{schedule_id}", tag = "reports",
    params(("shop_id" = Uuid, Path), ("schedule_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ReportScheduleDeleted), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, schedule_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<ReportScheduleDeleted>, ApiError> {
    caller.authorize(shop_id, Permission::ManageReportSchedules)?;
    let etag = if_match(&headers)?;
    let stream = report_schedule::stream_id(schedule_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let schedule = session.load::<ReportSchedule>(&stream)?;
        if schedule.deleted && schedule.shop_id == Some(shop_id) {
            // Deleting again (a retry) is answered as done.
            return Ok(vec![]);
        }
        check_schedule(&schedule, shop_id, etag.as_deref(), None)?;
        session.decide::<ReportSchedule>(&stream, &ReportScheduleCommand::Delete)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let body = ReportScheduleDeleted {
        schedule_id,
        deleted: true,
        position,
    };
    Ok(Answer::ok(body, position))
}

/// One period a schedule sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDeliveryDto {
    pub schedule_id: Uuid,
    /// First day of the period, in the shop's time zone.
    pub starts_on: chrono::NaiveDate,
    /// The day after the period's last day.
    pub ends_before: chrono::NaiveDate,
    pub recipients: Vec<String>,
    pub sent_at: DateTime<Utc>,
}

impl From<ReportDeliveryView> for ReportDeliveryDto {
    fn from(view: ReportDeliveryView) -> Self {
        ReportDeliveryDto {
            schedule_id: view.schedule_id,
            starts_on: view.period.starts_on,
            ends_before: view.period.ends_before,
            recipients: view.recipients,
            sent_at: view.sent_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDeliveryPage {
    pub items: Vec<ReportDeliveryDto>,
    pub next_cursor: Option<String>,
}

/// The periods a schedule sent, oldest first (deleted schedules' too).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/report-schedules/{schedule_id}/deliveries", tag = "reports",
    params(("shop_id" = Uuid, Path), ("schedule_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = ReportDeliveryPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, schedule_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<PageQuery>,
) -> Result<Answer<ReportDeliveryPage>, ApiError> {
    caller.authorize(shop_id, Permission::ManageReportSchedules)?;
    state.read_at(params.min_position).await?;
    if state
        .projections
        .report_schedule(shop_id, schedule_id)?
        .is_none()
    {
        return Err(ApiError::not_found("report schedule"));
    }
    let page = state
        .projections
        .report_deliveries(shop_id, schedule_id, &params.page())?;
    let body = ReportDeliveryPage {
        items: page
            .items
            .into_iter()
            .map(ReportDeliveryDto::from)
            .collect(),
        next_cursor: page.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}
