//! How storefronts show the catalog, beside what it sells and for how much (seed 000):
//! - a product's details ("Détails des produits"): a description and images, shown once
//!   `visible`;
//! - a delivery method's presentation ("D'autres éléments peuvent être personnalisés"): a
//!   description under its icon, colours, font, icon and background image;
//! - a pickup group ("nouvelle catégorie" of pickup points, by the group name its points give):
//!   whether and when its points are offered (placing an order at one is refused otherwise,
//!   409 `pickup-point-unavailable`) and its presentation.
//!
//! Managers set them; every role that reads the catalog reads them. They live in the catalog's
//! stream (`ProductDetailsChanged`, `DeliveryMethodPresentationChanged`) apart from the product
//! or method, whose own `ETag` (and the snapshot an order keeps) they leave alone.

use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use comptoir_domain::catalog::{
    Catalog, CatalogChange, DeliveryMethodPresentation, PickupGroup, ProductDetails,
};
use comptoir_domain::shop::Permission;
use comptoir_domain::Environment;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::catalog::{catalog_of, change_catalog, delivery_method, id_page, product_of};
use super::{content_etag, required_if_match, Answer};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_product_details, put_product_details))
        .routes(routes!(list_product_details))
        .routes(routes!(
            get_delivery_presentation,
            put_delivery_presentation
        ))
        .routes(routes!(list_pickup_groups))
        .routes(routes!(get_pickup_group, put_pickup_group))
}

/// A product's page content.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductDetailsDto {
    /// Whether storefronts show the details; needs a description or an image.
    pub visible: bool,
    /// Paragraphs, at most 5,000 characters.
    #[serde(default)]
    #[schema(example = "Papier brillant, tirage en une heure.")]
    pub description: Option<String>,
    /// Absolute http(s) URLs, at most 8, the first one the main image.
    #[serde(default)]
    pub images: Vec<String>,
}

impl From<ProductDetailsDto> for ProductDetails {
    fn from(dto: ProductDetailsDto) -> Self {
        ProductDetails {
            visible: dto.visible,
            description: dto.description,
            images: dto.images,
        }
    }
}

impl From<ProductDetails> for ProductDetailsDto {
    fn from(details: ProductDetails) -> Self {
        ProductDetailsDto {
            visible: details.visible,
            description: details.description,
            images: details.images,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDetailsWritten {
    #[serde(flatten)]
    pub details: ProductDetailsDto,
    pub position: u64,
}

/// One product's details (the empty default until set), with their `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/products/{product_id}/details", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("product_id" = Uuid, Path)),
    responses((status = 200, body = ProductDetailsDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_product_details(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, product_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<ProductDetailsDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    product_of(&catalog, product_id)?;
    let details = catalog.product_details_of(product_id);
    let etag = content_etag(&details);
    let mut answer = Answer::ok(details.into(), state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// Replaces a product's details (manager). Send `If-Match` with their `ETag`: none answers
/// 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/products/{product_id}/details", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("product_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ProductDetailsDto,
    responses((status = 200, body = ProductDetailsWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_product_details(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, product_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<ProductDetailsDto>,
) -> Result<Answer<ProductDetailsWritten>, ApiError> {
    let if_match = required_if_match(&headers, "the product details'")?;
    let details = ProductDetails::from(body.clone());
    let etag = content_etag(&details);
    let change = CatalogChange::SetProductDetails {
        product_id,
        details,
    };
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(if_match)).await?;
    let mut answer = Answer::ok(
        ProductDetailsWritten {
            details: body,
            position,
        },
        position,
    );
    answer.etag = Some(etag);
    Ok(answer)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailsPage {
    /// The `next_cursor` of the previous page.
    pub after: Option<Uuid>,
    /// Items per page, at most 200.
    pub limit: Option<usize>,
    /// `true`: only the details storefronts show.
    pub visible: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDetailsItem {
    pub product_id: Uuid,
    #[serde(flatten)]
    pub details: ProductDetailsDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDetailsPage {
    pub items: Vec<ProductDetailsItem>,
    pub next_cursor: Option<Uuid>,
}

/// The details of every product that has some, in product id order and paged (a storefront
/// draws its catalog pages from one call rather than one per product).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/product-details", tag = "catalog",
    params(("shop_id" = Uuid, Path), DetailsPage),
    responses((status = 200, body = ProductDetailsPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_product_details(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<DetailsPage>,
) -> Result<Answer<ProductDetailsPage>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let (items, next_cursor) = id_page(
        &catalog.product_details,
        (page.after, page.limit),
        |details| page.visible != Some(true) || details.visible,
        |product_id, details| ProductDetailsItem {
            product_id,
            details: details.clone().into(),
        },
    );
    let body = ProductDetailsPage { items, next_cursor };
    Ok(Answer::ok(body, state.log.head_position()))
}

/// How a storefront draws a delivery method; every part optional.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPresentationDto {
    /// Shown under the method's icon; at most 500 characters.
    #[serde(default)]
    #[schema(example = "Livré chez vous en 48 h.")]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(example = "#1A2B3C")]
    pub background_color: Option<String>,
    /// For the method's name.
    #[serde(default)]
    #[schema(example = "#FFFFFF")]
    pub text_color: Option<String>,
    #[serde(default)]
    #[schema(example = "Open Sans")]
    pub font: Option<String>,
    #[serde(default)]
    pub icon_url: Option<String>,
    #[serde(default)]
    pub background_image_url: Option<String>,
}

impl From<DeliveryPresentationDto> for DeliveryMethodPresentation {
    fn from(dto: DeliveryPresentationDto) -> Self {
        DeliveryMethodPresentation {
            description: dto.description,
            background_color: dto.background_color,
            text_color: dto.text_color,
            font: dto.font,
            icon_url: dto.icon_url,
            background_image_url: dto.background_image_url,
        }
    }
}

impl From<DeliveryMethodPresentation> for DeliveryPresentationDto {
    fn from(presentation: DeliveryMethodPresentation) -> Self {
        DeliveryPresentationDto {
            description: presentation.description,
            background_color: presentation.background_color,
            text_color: presentation.text_color,
            font: presentation.font,
            icon_url: presentation.icon_url,
            background_image_url: presentation.background_image_url,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPresentationWritten {
    #[serde(flatten)]
    pub presentation: DeliveryPresentationDto,
    pub position: u64,
}

/// A delivery method's presentation (empty until set), with its `ETag`. The method's list and
/// its own `GET` carry it too.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}/presentation", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("delivery_method_id" = Uuid, Path)),
    responses((status = 200, body = DeliveryPresentationDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_delivery_presentation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, delivery_method_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<DeliveryPresentationDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    delivery_method(&catalog, delivery_method_id)?;
    let presentation = catalog.delivery_presentation_of(delivery_method_id);
    let etag = content_etag(&presentation);
    let mut answer = Answer::ok(presentation.into(), state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// Replaces a delivery method's presentation (manager). Send `If-Match` with its `ETag`: none
/// answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}/presentation", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("delivery_method_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DeliveryPresentationDto,
    responses((status = 200, body = DeliveryPresentationWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_delivery_presentation(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, delivery_method_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<DeliveryPresentationDto>,
) -> Result<Answer<DeliveryPresentationWritten>, ApiError> {
    let if_match = required_if_match(&headers, "the delivery method's presentation")?;
    let presentation = DeliveryMethodPresentation::from(body.clone());
    let etag = content_etag(&presentation);
    let change = CatalogChange::SetDeliveryMethodPresentation {
        delivery_method_id,
        presentation,
    };
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(if_match)).await?;
    let mut answer = Answer::ok(
        DeliveryPresentationWritten {
            presentation: body,
            position,
        },
        position,
    );
    answer.etag = Some(etag);
    Ok(answer)
}

/// Whether and when the points of a pickup group are offered, and how storefronts draw it.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupGroupDto {
    pub visible: bool,
    #[serde(default)]
    pub available_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub available_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub presentation: DeliveryPresentationDto,
}

impl From<PickupGroupDto> for PickupGroup {
    fn from(dto: PickupGroupDto) -> Self {
        PickupGroup {
            visible: dto.visible,
            available_from: dto.available_from,
            available_until: dto.available_until,
            presentation: dto.presentation.into(),
        }
    }
}

impl From<PickupGroup> for PickupGroupDto {
    fn from(group: PickupGroup) -> Self {
        PickupGroupDto {
            visible: group.visible,
            available_from: group.available_from,
            available_until: group.available_until,
            presentation: group.presentation.into(),
        }
    }
}

/// A pickup group as listed: its settings, its points and whether they are offered now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PickupGroupView {
    pub name: String,
    #[serde(flatten)]
    pub group: PickupGroupDto,
    pub pickup_point_ids: Vec<Uuid>,
    pub offered_now: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickupGroupWritten {
    #[serde(flatten)]
    pub group: PickupGroupDto,
    pub position: u64,
}

/// The group `name` of the catalog, or 404 when no point gives it and nobody configured it.
fn pickup_group_of(catalog: &Catalog, name: &str) -> Result<PickupGroup, ApiError> {
    if !catalog.has_pickup_group(name) {
        return Err(ApiError::not_found("pickup group"));
    }
    Ok(catalog.pickup_group(name))
}

/// Every pickup group (the names the points give and the ones configured), by name.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/pickup-groups", tag = "catalog",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = Vec<PickupGroupView>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_pickup_groups(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<Vec<PickupGroupView>>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let now = state.clock.now();
    let mut points: std::collections::BTreeMap<&str, Vec<Uuid>> = catalog
        .pickup_groups
        .keys()
        .map(|name| (name.as_str(), Vec::new()))
        .collect();
    for point in catalog.pickup_points.values() {
        points
            .entry(point.group.as_str())
            .or_default()
            .push(point.pickup_point_id);
    }
    let groups = points
        .into_iter()
        .map(|(name, pickup_point_ids)| {
            let group = catalog.pickup_group(name);
            PickupGroupView {
                name: name.to_owned(),
                offered_now: group.check_offered(name, now).is_ok(),
                group: group.into(),
                pickup_point_ids,
            }
        })
        .collect();
    Ok(Answer::ok(groups, state.log.head_position()))
}

/// One pickup group's settings (the default, offered, until configured), with their `ETag`.
/// The name goes in the path percent-encoded (`Lyon%202e`).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/pickup-groups/{name}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("name" = String, Path)),
    responses((status = 200, body = PickupGroupDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_pickup_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, name)): ApiPath<(Uuid, String)>,
) -> Result<Answer<PickupGroupDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let group = pickup_group_of(&catalog, &name)?;
    let etag = content_etag(&group);
    let mut answer = Answer::ok(group.into(), state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// Replaces a pickup group's settings (manager): a group some point gives, or one configured
/// before. Send `If-Match` with its `ETag`: none answers 428, a stale one 412. Orders placed
/// at its points while it is hidden or outside its dates are refused (409
/// `pickup-point-unavailable`); orders placed before keep their point.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/pickup-groups/{name}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("name" = String, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PickupGroupDto,
    responses((status = 200, body = PickupGroupWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_pickup_group(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, name)): ApiPath<(Uuid, String)>,
    JsonBody(body): JsonBody<PickupGroupDto>,
) -> Result<Answer<PickupGroupWritten>, ApiError> {
    let if_match = required_if_match(&headers, "the pickup group's")?;
    let group = PickupGroup::from(body.clone());
    let etag = content_etag(&group);
    let change = CatalogChange::SetPickupGroup { name, group };
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(if_match)).await?;
    let mut answer = Answer::ok(
        PickupGroupWritten {
            group: body,
            position,
        },
        position,
    );
    answer.etag = Some(etag);
    Ok(answer)
}
