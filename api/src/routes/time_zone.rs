//! The shop's time zone: read it, change it.
//!
//! The zone lives on the shop stream (`ShopCreated`, then `TimeZoneChanged`), so a read is never
//! behind a write. Instants stay UTC in the API; the zone says where the shop's calendar days
//! begin (statistics presets, order days, document dates, dashboard days, report periods).

use axum::extract::State;
use axum::http::HeaderMap;
use comptoir_domain::shop::{self, Permission, Shop, ShopCommand};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    check_etag, content_etag, precondition_to_412, required_if_match, run, session_shop,
    shop_profile, written_position, Answer,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_time_zone, put_time_zone))
}

/// A shop's time zone.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneDto {
    /// An IANA time zone name.
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeZoneWritten {
    pub time_zone: String,
    pub position: u64,
}

fn zone_etag(time_zone: &str) -> String {
    content_etag(&time_zone)
}

/// The zone in force, with its `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/time-zone", tag = "shops",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = TimeZoneDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_time_zone(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<TimeZoneDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let time_zone = shop_profile(&state, shop_id)?.zone().name().to_string();
    let mut answer = Answer::ok(
        TimeZoneDto {
            time_zone: time_zone.clone(),
        },
        state.log.head_position(),
    );
    answer.etag = Some(zone_etag(&time_zone));
    Ok(answer)
}

/// Moves the shop's calendar to another IANA zone: days are counted in it from now on (and
/// documents issued from now on print their dates in it). Send `If-Match` with the zone's
/// `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/time-zone", tag = "shops",
    params(("shop_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = TimeZoneDto,
    responses((status = 200, body = TimeZoneWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_time_zone(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<TimeZoneDto>,
) -> Result<Answer<TimeZoneWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let wanted_etag = required_if_match(&headers, "the time zone's")?;
    let command = ShopCommand::SetTimeZone {
        time_zone: body.time_zone.clone(),
    };
    let wanted = body.time_zone.clone();
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let profile = session_shop(session, shop_id)?;
        let current = profile.zone().name().to_string();
        // A stale ETag is refused, unless the zone already is the one asked for: then the
        // request is a retry whose first answer was lost.
        check_etag(
            &wanted_etag,
            &zone_etag(&current),
            current == wanted,
            "the time zone",
        )?;
        session.decide::<Shop>(&shop::stream_id(shop_id), &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let mut answer = Answer::ok(
        TimeZoneWritten {
            time_zone: body.time_zone.clone(),
            position,
        },
        position,
    );
    answer.etag = Some(zone_etag(&body.time_zone));
    Ok(answer)
}
