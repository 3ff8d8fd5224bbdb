//! The online shop's banners (seed 000, "Bannières"): a manager creates, changes, enables,
//! disables and deletes them; every role reads them, and a storefront asks for the ones to
//! draw now (`?showing=now`).
//!
//! All of a shop's banners live on one stream (`shop-banners-{shop_id}`) and are read from the
//! hot state, so a read is never behind a write and needs no read model. A banner pointing at a
//! product or a category is checked against the catalog in the same decision.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use comptoir_domain::banner::{
    self, Banner, BannerAction, BannerCommand, BannerContent, BannerImages, ShopBanners,
};
use comptoir_domain::catalog::{self, Catalog};
use comptoir_domain::shop::Permission;
use comptoir_domain::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    check_etag, content_etag, if_match, precondition_to_412, required_if_match, run, session_shop,
    shop_profile, written_position, Answer,
};
use crate::auth::Caller;
use crate::commands::CommandError;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_banner, list_banners))
        .routes(routes!(get_banner, put_banner, delete_banner))
        .routes(routes!(enable_banner))
        .routes(routes!(disable_banner))
}

/// What the banner's button leads to: `{"type": "none"}` (no button), `{"type": "link", "url":
/// ..}`, `{"type": "product", "product_id": ..}` or `{"type": "category", "category_id": ..}`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BannerActionDto {
    None,
    /// Another site: an http(s) URL of at most 2,048 characters.
    Link {
        url: String,
    },
    /// A product of the shop's catalog (not retired).
    Product {
        product_id: Uuid,
    },
    /// A category of the shop's catalog.
    Category {
        category_id: Uuid,
    },
}

impl From<BannerActionDto> for BannerAction {
    fn from(action: BannerActionDto) -> Self {
        match action {
            BannerActionDto::None => BannerAction::None,
            BannerActionDto::Link { url } => BannerAction::Link { url },
            BannerActionDto::Product { product_id } => BannerAction::Product { product_id },
            BannerActionDto::Category { category_id } => BannerAction::Category { category_id },
        }
    }
}

impl From<BannerAction> for BannerActionDto {
    fn from(action: BannerAction) -> Self {
        match action {
            BannerAction::None => BannerActionDto::None,
            BannerAction::Link { url } => BannerActionDto::Link { url },
            BannerAction::Product { product_id } => BannerActionDto::Product { product_id },
            BannerAction::Category { category_id } => BannerActionDto::Category { category_id },
        }
    }
}

/// The banner's images, as http(s) URLs.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerImagesDto {
    /// Square, shown on the left.
    #[serde(default)]
    pub square: Option<String>,
    /// Landscape, for desktops (required).
    #[schema(example = "https://cdn.example.fr/noel.jpg")]
    pub landscape: String,
    /// Landscape, for phones; storefronts show `landscape` when absent.
    #[serde(default)]
    pub landscape_phone: Option<String>,
}

impl From<BannerImagesDto> for BannerImages {
    fn from(images: BannerImagesDto) -> Self {
        BannerImages {
            square: images.square,
            landscape: images.landscape,
            landscape_phone: images.landscape_phone,
        }
    }
}

impl From<BannerImages> for BannerImagesDto {
    fn from(images: BannerImages) -> Self {
        BannerImagesDto {
            square: images.square,
            landscape: images.landscape,
            landscape_phone: images.landscape_phone,
        }
    }
}

/// A banner as a manager writes it. A PUT replaces every field.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerInput {
    /// Names the banner in the back office (1 to 80 characters); customers never see it.
    #[schema(example = "Noël 2025")]
    pub name: String,
    pub action: BannerActionDto,
    /// Shown on the banner (1 to 120 characters).
    #[schema(example = "Vos photos sous le sapin")]
    pub title: String,
    /// Shown under the title (at most 500 characters, line breaks allowed).
    #[serde(default)]
    pub description: Option<String>,
    /// "À partir de 9 €": only with a `product` or `category` action; at least 0, two decimals.
    #[serde(default)]
    #[schema(value_type = Option<crate::dto::Money>)]
    pub from_price: Option<Decimal>,
    /// The button's text (1 to 40 characters): required with an action, refused with `none`.
    #[serde(default)]
    #[schema(example = "Je commande")]
    pub button_text: Option<String>,
    /// Banners show by this number (0 to 9999, 0 when omitted), then in creation order.
    #[serde(default)]
    pub display_order: u32,
    pub images: BannerImagesDto,
    /// The banner shows from this instant on.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// The banner shows until this instant, excluded; after `starts_at`.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Creation: true when omitted. PUT: switches the banner on or off too when given.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl BannerInput {
    fn content(&self) -> BannerContent {
        BannerContent {
            name: self.name.clone(),
            action: self.action.clone().into(),
            title: self.title.clone(),
            description: self.description.clone(),
            from_price: self.from_price,
            button_text: self.button_text.clone(),
            display_order: self.display_order,
            images: self.images.clone().into(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }
}

/// A banner as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct BannerDto {
    pub banner_id: Uuid,
    pub shop_id: Uuid,
    pub name: String,
    pub action: BannerActionDto,
    pub title: String,
    pub description: Option<String>,
    #[schema(value_type = Option<crate::dto::Money>)]
    pub from_price: Option<Decimal>,
    pub button_text: Option<String>,
    pub display_order: u32,
    pub images: BannerImagesDto,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Off: storefronts do not draw it, whatever its dates.
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BannerDto {
    fn of(shop_id: Uuid, banner: &Banner) -> Self {
        let content = banner.content.clone();
        BannerDto {
            banner_id: banner.banner_id,
            shop_id,
            name: content.name,
            action: content.action.into(),
            title: content.title,
            description: content.description,
            from_price: content.from_price,
            button_text: content.button_text,
            display_order: content.display_order,
            images: content.images.into(),
            starts_at: content.starts_at,
            ends_at: content.ends_at,
            enabled: banner.enabled,
            created_at: banner.created_at,
            updated_at: banner.updated_at,
        }
    }
}

/// A banner after a write, with the log position of the write.
#[derive(Debug, Serialize, ToSchema)]
pub struct BannerWritten {
    #[serde(flatten)]
    pub banner: BannerDto,
    pub position: u64,
}

/// The `ETag` of a banner: it changes with its content and its toggle.
fn banner_etag(banner: &Banner) -> String {
    content_etag(&(&banner.content, banner.enabled))
}

/// The shop's banners from the hot state; 404 for no shop.
fn shop_banners(state: &AppState, shop_id: Uuid) -> Result<Arc<ShopBanners>, ApiError> {
    shop_profile(state, shop_id)?;
    let loaded = state
        .cache
        .load::<ShopBanners, _>(state.log.as_ref(), &banner::stream_id(shop_id))?;
    Ok(loaded.state)
}

fn banner_of(banners: &ShopBanners, banner_id: Uuid) -> Result<&Banner, ApiError> {
    banners
        .banners
        .get(&banner_id)
        .ok_or_else(|| ApiError::not_found("banner"))
}

/// The banner as written, read back from the hot state, with its `ETag`.
fn written(
    state: &AppState,
    shop_id: Uuid,
    banner_id: Uuid,
    position: u64,
) -> Result<(BannerWritten, String), ApiError> {
    let banners = shop_banners(state, shop_id)?;
    let banner = banner_of(&banners, banner_id)?;
    let body = BannerWritten {
        banner: BannerDto::of(shop_id, banner),
        position,
    };
    Ok((body, banner_etag(banner)))
}

/// What a write expects of the banner before it: the `If-Match` sent, and the content (and
/// toggle) the write leaves, which a retry whose first answer was lost finds already there.
struct Expected<'a> {
    etag: Option<String>,
    wanted: Option<(&'a BannerContent, Option<bool>)>,
}

impl Expected<'_> {
    fn none() -> Self {
        Expected {
            etag: None,
            wanted: None,
        }
    }

    fn check(&self, banners: &ShopBanners, banner_id: Uuid) -> Result<(), CommandError> {
        let Some(etag) = &self.etag else {
            return Ok(());
        };
        let banner = banners
            .banners
            .get(&banner_id)
            .ok_or_else(|| DomainError::not_found("banner", banner_id))?;
        let already_done = self.wanted.is_some_and(|(content, enabled)| {
            banner.content == *content && enabled.is_none_or(|on| on == banner.enabled)
        });
        check_etag(etag, &banner_etag(banner), already_done, "the banner")
    }
}

/// Decides `commands` on the shop's banners in one decision (the caller authorised it): the
/// shop must exist, `expected` must hold for `banner_id`, and a product or category a command
/// points at must be in the catalog. Returns the write's position.
async fn decide_banners(
    state: &AppState,
    ids: &CommandIds,
    caller: &Caller,
    (shop_id, banner_id): (Uuid, Uuid),
    expected: Expected<'_>,
    commands: &[BannerCommand],
) -> Result<u64, ApiError> {
    let stream = banner::stream_id(shop_id);
    let executed = run(state, ids, caller, vec![], |session| {
        session_shop(session, shop_id)?;
        let before = session.load::<ShopBanners>(&stream)?;
        // Deciding first lets a retry of this very command be recognised before any check.
        for command in commands {
            session.decide::<ShopBanners>(&stream, command)?;
        }
        expected.check(&before, banner_id)?;
        let target = commands.iter().find_map(|command| match command {
            BannerCommand::Create { content, .. } | BannerCommand::Change { content, .. } => {
                Some(&content.action)
            }
            _ => None,
        });
        if let Some(action) = target {
            let catalog = session.load::<Catalog>(&catalog::stream_id(shop_id))?;
            banner::check_target(action, &catalog)?;
        }
        Ok(())
    })
    .await
    .map_err(precondition_to_412)?;
    Ok(written_position(state, &executed))
}

/// Creates a banner (manager); it shows at once unless `enabled` is false or its dates say
/// otherwise.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/banners", tag = "banners",
    request_body = BannerInput,
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = BannerWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_banner(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<BannerInput>,
) -> Result<Answer<BannerWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let banner_id = ids.derived_id("banner");
    let command = BannerCommand::Create {
        shop_id,
        banner_id,
        content: body.content(),
        enabled: body.enabled.unwrap_or(true),
    };
    let ids_of = (shop_id, banner_id);
    let position =
        decide_banners(&state, &ids, &caller, ids_of, Expected::none(), &[command]).await?;
    let (body, etag) = written(&state, shop_id, banner_id, position)?;
    let location = format!("/v1/shops/{shop_id}/banners/{banner_id}");
    let mut answer = Answer::created(body, position, location);
    answer.etag = Some(etag);
    Ok(answer)
}

/// `showing`'s one value.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Showing {
    /// The server's current time.
    Now,
}

/// Filters of the banner list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BannerQuery {
    /// `now`: only what a storefront draws now, enabled banners inside their dates.
    #[param(inline)]
    pub showing: Option<Showing>,
    /// The same at another instant (RFC 3339), e.g. to preview Christmas.
    pub showing_at: Option<DateTime<Utc>>,
    /// Only banners whose name or title contains this text, ignoring case.
    pub q: Option<String>,
}

impl BannerQuery {
    /// The instant the list must show at, if any.
    fn instant(&self, state: &AppState) -> Result<Option<DateTime<Utc>>, ApiError> {
        match (self.showing, self.showing_at) {
            (Some(_), Some(_)) => Err(ApiError::invalid("give showing or showing_at, not both")),
            (Some(Showing::Now), None) => Ok(Some(comptoir_domain::Environment::now(
                state.clock.as_ref(),
            ))),
            (None, at) => Ok(at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerList {
    /// By display order, then creation.
    pub items: Vec<BannerDto>,
}

/// The shop's banners in the order a storefront shows them (at most 50, so on one page).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/banners", tag = "banners",
    params(("shop_id" = Uuid, Path), BannerQuery),
    responses((status = 200, body = BannerList), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_banners(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<BannerQuery>,
) -> Result<Answer<BannerList>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let instant = query.instant(&state)?;
    let banners = shop_banners(&state, shop_id)?;
    let items = banners
        .ordered()
        .into_iter()
        .filter(|banner| instant.is_none_or(|at| banner.shows_at(at)))
        .filter(|banner| query.q.as_deref().is_none_or(|q| banner.matches(q)))
        .map(|banner| BannerDto::of(shop_id, banner))
        .collect();
    Ok(Answer::ok(BannerList { items }, state.log.head_position()))
}

/// One banner, with its `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/banners/{banner_id}", tag = "banners",
    params(("shop_id" = Uuid, Path), ("banner_id" = Uuid, Path)),
    responses((status = 200, body = BannerDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_banner(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, banner_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<BannerDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let banners = shop_banners(&state, shop_id)?;
    let banner = banner_of(&banners, banner_id)?;
    let mut answer = Answer::ok(BannerDto::of(shop_id, banner), state.log.head_position());
    answer.etag = Some(banner_etag(banner));
    Ok(answer)
}

/// Replaces a banner's fields (manager). Send `If-Match` with its `ETag`: none answers 428, a
/// stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/banners/{banner_id}", tag = "banners",
    request_body = BannerInput,
    params(("shop_id" = Uuid, Path), ("banner_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = BannerWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_banner(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, banner_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<BannerInput>,
) -> Result<Answer<BannerWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let etag = required_if_match(&headers, "the banner's")?;
    let content = body.content();
    let mut commands = vec![BannerCommand::Change {
        banner_id,
        content: content.clone(),
    }];
    commands.extend(body.enabled.map(|on| toggle(banner_id, on)));
    let expected = Expected {
        etag: Some(etag),
        wanted: Some((&content, body.enabled)),
    };
    let ids_of = (shop_id, banner_id);
    let position = decide_banners(&state, &ids, &caller, ids_of, expected, &commands).await?;
    let (body, etag) = written(&state, shop_id, banner_id, position)?;
    let mut answer = Answer::ok(body, position);
    answer.etag = Some(etag);
    Ok(answer)
}

fn toggle(banner_id: Uuid, enabled: bool) -> BannerCommand {
    if enabled {
        BannerCommand::Enable { banner_id }
    } else {
        BannerCommand::Disable { banner_id }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerDeleted {
    pub banner_id: Uuid,
    pub deleted: bool,
    pub position: u64,
}

/// Deletes a banner (manager): it disappears. With `If-Match`, only if it did not change since.
#[utoipa::path(delete, path = "/v1/shops/{shop_id}/banners/{banner_id}", tag = "banners",
    params(("shop_id" = Uuid, Path), ("banner_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = BannerDeleted), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete_banner(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, banner_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<BannerDeleted>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let expected = Expected {
        etag: if_match(&headers)?,
        wanted: None,
    };
    let command = BannerCommand::Delete { banner_id };
    let ids_of = (shop_id, banner_id);
    let position = decide_banners(&state, &ids, &caller, ids_of, expected, &[command]).await?;
    let body = BannerDeleted {
        banner_id,
        deleted: true,
        position,
    };
    Ok(Answer::ok(body, position))
}

/// Switches a banner on (manager); a banner already on stays as it is.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/banners/{banner_id}/enable", tag = "banners",
    params(("shop_id" = Uuid, Path), ("banner_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = BannerWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn enable_banner(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, banner_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<BannerWritten>, ApiError> {
    switch(state, caller, ids, (shop_id, banner_id), true).await
}

/// Switches a banner off (manager): storefronts stop drawing it; it stays editable.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/banners/{banner_id}/disable", tag = "banners",
    params(("shop_id" = Uuid, Path), ("banner_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = BannerWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn disable_banner(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, banner_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<BannerWritten>, ApiError> {
    switch(state, caller, ids, (shop_id, banner_id), false).await
}

async fn switch(
    state: AppState,
    caller: Caller,
    ids: CommandIds,
    (shop_id, banner_id): (Uuid, Uuid),
    enabled: bool,
) -> Result<Answer<BannerWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let command = toggle(banner_id, enabled);
    let ids_of = (shop_id, banner_id);
    let position =
        decide_banners(&state, &ids, &caller, ids_of, Expected::none(), &[command]).await?;
    let (body, etag) = written(&state, shop_id, banner_id, position)?;
    let mut answer = Answer::ok(body, position);
    answer.etag = Some(etag);
    Ok(answer)
}
