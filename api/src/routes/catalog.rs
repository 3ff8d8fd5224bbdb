//! The catalog: categories, products with degressive tiers, delivery methods, pickup points.
//! Reads come from the hot catalog (derived from its stream), so they are never behind a write.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use comptoir_domain::catalog::{
    self, Catalog, CatalogChange, CatalogCommand, Category, DeliveryKind, DeliveryMethod,
    PaymentMode, PickupPoint, PriceTier, Product,
};
use comptoir_domain::shop::Permission;
use comptoir_domain::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::shops::AddressDto;
use super::{
    check_etag, content_etag, precondition_to_412, required_if_match, run, session_shop,
    shop_profile, written_position, Answer,
};
use crate::auth::Caller;
use crate::commands::CommandError;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

/// Products one list page holds at most.
pub const PRODUCT_PAGE_MAX: usize = 200;
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_category, list_categories))
        .routes(routes!(get_category, rename_category))
        .routes(routes!(add_product, list_products))
        .routes(routes!(get_product, update_product))
        .routes(routes!(retire_product))
        .routes(routes!(add_delivery_method, list_delivery_methods))
        .routes(routes!(get_delivery_method, change_delivery_method))
        .routes(routes!(set_delivery_method_visibility))
        .routes(routes!(add_pickup_point, list_pickup_points))
        .routes(routes!(get_pickup_point, update_pickup_point))
}

/// The shop's catalog, after checking the caller may read it.
pub(super) fn catalog_of(state: &AppState, shop_id: Uuid) -> Result<Arc<Catalog>, ApiError> {
    shop_profile(state, shop_id)?;
    let loaded = state
        .cache
        .load::<Catalog, _>(state.log.as_ref(), &catalog::stream_id(shop_id))?;
    Ok(loaded.state)
}

/// Applies one catalog change for the shop; returns the write's position.
pub(super) async fn change_catalog(
    state: &AppState,
    caller: &Caller,
    ids: &CommandIds,
    shop_id: Uuid,
    change: CatalogChange,
    if_match: Option<String>,
) -> Result<u64, ApiError> {
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let command = CatalogCommand { shop_id, change };
    let stream = catalog::stream_id(shop_id);
    let executed = run(state, ids, caller, vec![], |session| {
        session_shop(session, shop_id)?;
        if let Some(etag) = &if_match {
            let current = session.load::<Catalog>(&stream)?;
            check_if_match(&current, &command.change, etag)?;
        }
        session.decide::<Catalog>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    Ok(written_position(state, &executed))
}

/// Checks `If-Match` against the entity the change updates: a product's or a delivery method's
/// own `ETag`, so a change elsewhere in the catalog does not make it stale.
fn check_if_match(
    catalog: &Catalog,
    change: &CatalogChange,
    etag: &str,
) -> Result<(), CommandError> {
    match change {
        CatalogChange::UpdateProduct(wanted) => {
            let product_id = wanted.product_id;
            let product = catalog
                .products
                .get(&product_id)
                .ok_or_else(|| DomainError::not_found("product", product_id))?;
            check_etag(
                etag,
                &product_etag(product),
                product == wanted,
                "the product",
            )
        }
        CatalogChange::SetDeliveryMethodVisibility {
            delivery_method_id,
            visible,
        } => {
            let method = catalog
                .delivery_methods
                .get(delivery_method_id)
                .ok_or_else(|| DomainError::not_found("delivery method", *delivery_method_id))?;
            let etag_now = content_etag(method);
            check_etag(
                etag,
                &etag_now,
                method.visible == *visible,
                "the delivery method",
            )
        }
        CatalogChange::RenameCategory { category_id, name } => {
            let category = catalog
                .categories
                .get(category_id)
                .ok_or_else(|| DomainError::not_found("category", *category_id))?;
            check_etag(
                etag,
                &content_etag(category),
                category.name == *name,
                "the category",
            )
        }
        CatalogChange::ChangeDeliveryMethodTerms(wanted) => {
            let method = catalog
                .delivery_methods
                .get(&wanted.delivery_method_id)
                .ok_or_else(|| {
                    DomainError::not_found("delivery method", wanted.delivery_method_id)
                })?;
            check_etag(
                etag,
                &content_etag(method),
                method == wanted,
                "the delivery method",
            )
        }
        CatalogChange::UpdatePickupPoint(wanted) => {
            let point = catalog
                .pickup_points
                .get(&wanted.pickup_point_id)
                .ok_or_else(|| DomainError::not_found("pickup point", wanted.pickup_point_id))?;
            check_etag(
                etag,
                &content_etag(point),
                point == wanted,
                "the pickup point",
            )
        }
        CatalogChange::SetDeliveryMethodPresentation {
            delivery_method_id,
            presentation,
        } => {
            if !catalog.delivery_methods.contains_key(delivery_method_id) {
                return Err(DomainError::not_found("delivery method", *delivery_method_id).into());
            }
            let current = catalog.delivery_presentation_of(*delivery_method_id);
            check_etag(
                etag,
                &content_etag(&current),
                current == *presentation,
                "the delivery method's presentation",
            )
        }
        CatalogChange::SetPickupGroup { name, group } => {
            if !catalog.has_pickup_group(name) {
                return Err(DomainError::not_found("pickup group", name).into());
            }
            let current = catalog.pickup_group(name);
            check_etag(
                etag,
                &content_etag(&current),
                current == *group,
                "the pickup group",
            )
        }
        CatalogChange::SetProductDetails {
            product_id,
            details,
        } => {
            if !catalog.products.contains_key(product_id) {
                return Err(DomainError::not_found("product", *product_id).into());
            }
            let current = catalog.product_details_of(*product_id);
            check_etag(
                etag,
                &content_etag(&current),
                current == *details,
                "the product's details",
            )
        }
        // Creations and retirement are not updates of a representation a client read: they
        // take no `If-Match` (their routes pass none).
        CatalogChange::AddCategory(_)
        | CatalogChange::AddProduct(_)
        | CatalogChange::RetireProduct { .. }
        | CatalogChange::AddDeliveryMethod(_)
        | CatalogChange::AddPickupPoint(_) => Ok(()),
    }
}

/// One page of `entries` in id order after the cursor, at most `limit` (bounded by
/// [`PRODUCT_PAGE_MAX`]) of those `keep` accepts, each made by `item`; and the next page's
/// cursor when this one is full.
pub(super) fn id_page<V, T>(
    entries: &std::collections::BTreeMap<Uuid, V>,
    (after, limit): (Option<Uuid>, Option<usize>),
    keep: impl Fn(&V) -> bool,
    item: impl Fn(Uuid, &V) -> T,
) -> (Vec<T>, Option<Uuid>) {
    let limit = limit.unwrap_or(PRODUCT_PAGE_MAX).clamp(1, PRODUCT_PAGE_MAX);
    let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
    let page: Vec<(Uuid, T)> = entries
        .range((start, std::ops::Bound::Unbounded))
        .filter(|(_, value)| keep(value))
        .take(limit)
        .map(|(id, value)| (*id, item(*id, value)))
        .collect();
    let next_cursor = (page.len() == limit)
        .then(|| page.last().map(|(id, _)| *id))
        .flatten();
    (
        page.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    )
}

pub(super) fn product_of(catalog: &Catalog, product_id: Uuid) -> Result<&Product, ApiError> {
    catalog
        .products
        .get(&product_id)
        .ok_or_else(|| ApiError::not_found("product"))
}

/// A strong ETag from the product's content: it changes exactly when the product does.
fn product_etag(product: &Product) -> String {
    content_etag(product)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CategoryInput {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    pub category_id: Uuid,
    pub name: String,
}

impl From<&Category> for CategoryDto {
    fn from(c: &Category) -> Self {
        CategoryDto {
            category_id: c.category_id,
            name: c.name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCreated {
    #[serde(flatten)]
    pub category: CategoryDto,
    pub position: u64,
}

/// Adds a category (product type).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/categories", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CategoryInput,
    responses((status = 201, body = CategoryCreated), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_category(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<CategoryInput>,
) -> Result<Answer<CategoryCreated>, ApiError> {
    let category = Category {
        category_id: ids.derived_id("category"),
        name: body.name,
    };
    let change = CatalogChange::AddCategory(category.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, None).await?;
    let location = format!("/v1/shops/{shop_id}/categories/{}", category.category_id);
    let body = CategoryCreated {
        category: (&category).into(),
        position,
    };
    Ok(Answer::created(body, position, location))
}

/// The shop's categories.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/categories", tag = "catalog",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = Vec<CategoryDto>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_categories(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<Vec<CategoryDto>>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let list = catalog.categories.values().map(CategoryDto::from).collect();
    Ok(Answer::ok(list, state.log.head_position()))
}

/// One category, with its `ETag` for a conditional rename.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/categories/{category_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("category_id" = Uuid, Path)),
    responses((status = 200, body = CategoryDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_category(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, category_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<CategoryDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let category = catalog
        .categories
        .get(&category_id)
        .ok_or_else(|| ApiError::not_found("category"))?;
    let mut answer = Answer::ok(CategoryDto::from(category), state.log.head_position());
    answer.etag = Some(content_etag(category));
    Ok(answer)
}

/// Renames a category. Products keep their category; orders, documents and statistics already
/// computed keep what they recorded. Renaming to the name it has changes nothing. Send
/// `If-Match` with the category's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/categories/{category_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("category_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CategoryInput,
    responses((status = 200, body = CategoryCreated), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn rename_category(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, category_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<CategoryInput>,
) -> Result<Answer<CategoryCreated>, ApiError> {
    // Authorised first, so a caller without the right learns nothing from a 428.
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let etag = required_if_match(&headers, "the category's")?;
    let change = CatalogChange::RenameCategory {
        category_id,
        name: body.name.clone(),
    };
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(etag)).await?;
    let category = Category {
        category_id,
        name: body.name,
    };
    let mut answer = Answer::ok(
        CategoryCreated {
            category: (&category).into(),
            position,
        },
        position,
    );
    answer.etag = Some(content_etag(&category));
    Ok(answer)
}

/// From `min_quantity` units on, each unit costs `unit_price` (shop's tax mode).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct TierDto {
    pub min_quantity: u32,
    #[schema(value_type = crate::dto::Money)]
    pub unit_price: Decimal,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub category_id: Uuid,
    /// Percent, e.g. "20" or "5.5".
    #[schema(value_type = crate::dto::Money)]
    pub vat_rate: Decimal,
    pub weight_g: u32,
    pub tiers: Vec<TierDto>,
}

impl ProductInput {
    fn into_product(self, product_id: Uuid) -> Product {
        Product {
            product_id,
            sku: self.sku,
            name: self.name,
            category_id: self.category_id,
            vat_rate: self.vat_rate,
            weight_g: self.weight_g,
            tiers: self
                .tiers
                .into_iter()
                .map(|t| PriceTier {
                    min_quantity: t.min_quantity,
                    unit_price: t.unit_price,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDto {
    pub product_id: Uuid,
    #[serde(flatten)]
    pub product: ProductInput,
    pub retired: bool,
}

impl ProductDto {
    fn of(product: &Product, retired: bool) -> Self {
        let input = ProductInput {
            sku: product.sku.clone(),
            name: product.name.clone(),
            category_id: product.category_id,
            vat_rate: product.vat_rate,
            weight_g: product.weight_g,
            tiers: product
                .tiers
                .iter()
                .map(|t| TierDto {
                    min_quantity: t.min_quantity,
                    unit_price: t.unit_price,
                })
                .collect(),
        };
        ProductDto {
            product_id: product.product_id,
            product: input,
            retired,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductWritten {
    #[serde(flatten)]
    pub product: ProductDto,
    pub position: u64,
}

/// Adds a product with its VAT rate and degressive price tiers.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/products", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ProductInput,
    responses((status = 201, body = ProductWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_product(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<ProductInput>,
) -> Result<Answer<ProductWritten>, ApiError> {
    let product = body.into_product(ids.derived_id("product"));
    let change = CatalogChange::AddProduct(product.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, None).await?;
    let location = format!("/v1/shops/{shop_id}/products/{}", product.product_id);
    let etag = product_etag(&product);
    let body = ProductWritten {
        product: ProductDto::of(&product, false),
        position,
    };
    let mut answer = Answer::created(body, position, location);
    answer.etag = Some(etag);
    Ok(answer)
}

/// Cursor paging over a list ordered by id.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdPage {
    /// The `next_cursor` of the previous page.
    pub after: Option<Uuid>,
    /// Items per page, at most 200.
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductDto>,
    pub next_cursor: Option<Uuid>,
}

/// The shop's products by id, retired ones included.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/products", tag = "catalog",
    params(("shop_id" = Uuid, Path), IdPage),
    responses((status = 200, body = ProductPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<IdPage>,
) -> Result<Answer<ProductPage>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let (items, next_cursor) = id_page(
        &catalog.products,
        (page.after, page.limit),
        |_| true,
        |id, p| ProductDto::of(p, catalog.is_retired(id)),
    );
    let body = ProductPage { items, next_cursor };
    Ok(Answer::ok(body, state.log.head_position()))
}

/// One product, with its `ETag` for a conditional update.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/products/{product_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("product_id" = Uuid, Path)),
    responses((status = 200, body = ProductDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, product_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<ProductDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let product = product_of(&catalog, product_id)?;
    let mut answer = Answer::ok(
        ProductDto::of(product, catalog.is_retired(product_id)),
        state.log.head_position(),
    );
    answer.etag = Some(product_etag(product));
    Ok(answer)
}

/// Replaces a product's name, category, VAT rate, weight and tiers (the SKU never changes).
/// Send `If-Match` with the product's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/products/{product_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("product_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ProductInput,
    responses((status = 200, body = ProductWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, product_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<ProductInput>,
) -> Result<Answer<ProductWritten>, ApiError> {
    // Authorised first, so a caller without the right learns nothing from a 428.
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let etag = required_if_match(&headers, "the product's")?;
    let product = body.into_product(product_id);
    let change = CatalogChange::UpdateProduct(product.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(etag)).await?;
    let catalog = catalog_of(&state, shop_id)?;
    let retired = catalog.is_retired(product_id);
    let mut answer = Answer::ok(
        ProductWritten {
            product: ProductDto::of(&product, retired),
            position,
        },
        position,
    );
    answer.etag = Some(product_etag(&product));
    Ok(answer)
}

/// Withdraws a product from sale: new orders refuse it, past orders and documents keep their
/// snapshot, and it stays listed with `retired: true`. Retiring a retired product changes nothing.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/products/{product_id}/retire", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("product_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ProductWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn retire_product(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, product_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<ProductWritten>, ApiError> {
    let change = CatalogChange::RetireProduct { product_id };
    let position = change_catalog(&state, &caller, &ids, shop_id, change, None).await?;
    let catalog = catalog_of(&state, shop_id)?;
    let product = product_of(&catalog, product_id)?;
    let mut answer = Answer::ok(
        ProductWritten {
            product: ProductDto::of(product, catalog.is_retired(product_id)),
            position,
        },
        position,
    );
    answer.etag = Some(product_etag(product));
    Ok(answer)
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKindDto {
    HomeDelivery,
    StorePickup,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentModeDto {
    InStore,
    Card,
    Paypal,
    Cheque,
    BankTransfer,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct DeliveryMethodInput {
    pub name: String,
    pub kind: DeliveryKindDto,
    /// Exactly one payment mode per method.
    pub payment_mode: PaymentModeDto,
    #[serde(default = "visible_default")]
    pub visible: bool,
    #[serde(default)]
    pub available_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub available_until: Option<DateTime<Utc>>,
    #[schema(value_type = crate::dto::Money)]
    pub price: Decimal,
    #[schema(value_type = crate::dto::Money)]
    pub vat_rate: Decimal,
    #[serde(default)]
    pub min_weight_g: u32,
}

fn visible_default() -> bool {
    true
}

impl DeliveryMethodInput {
    fn into_method(self, delivery_method_id: Uuid) -> DeliveryMethod {
        DeliveryMethod {
            delivery_method_id,
            name: self.name,
            kind: match self.kind {
                DeliveryKindDto::HomeDelivery => DeliveryKind::HomeDelivery,
                DeliveryKindDto::StorePickup => DeliveryKind::StorePickup,
            },
            payment_mode: match self.payment_mode {
                PaymentModeDto::InStore => PaymentMode::InStore,
                PaymentModeDto::Card => PaymentMode::Card,
                PaymentModeDto::Paypal => PaymentMode::Paypal,
                PaymentModeDto::Cheque => PaymentMode::Cheque,
                PaymentModeDto::BankTransfer => PaymentMode::BankTransfer,
            },
            visible: self.visible,
            available_from: self.available_from,
            available_until: self.available_until,
            price: self.price,
            vat_rate: self.vat_rate,
            min_weight_g: self.min_weight_g,
        }
    }
}

/// A delivery method as stored (domain shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryMethodDto {
    #[schema(value_type = crate::dto::DeliveryMethod)]
    #[serde(flatten)]
    pub method: DeliveryMethod,
    /// How storefronts draw it, once a manager set it (`PUT …/presentation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presentation: Option<super::catalog_presentation::DeliveryPresentationDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
}

/// Adds a delivery method (home delivery or store pickup).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/delivery-methods", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DeliveryMethodInput,
    responses((status = 201, body = DeliveryMethodDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_delivery_method(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<DeliveryMethodInput>,
) -> Result<Answer<DeliveryMethodDto>, ApiError> {
    let method = body.into_method(ids.derived_id("delivery-method"));
    let change = CatalogChange::AddDeliveryMethod(method.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, None).await?;
    let location = format!(
        "/v1/shops/{shop_id}/delivery-methods/{}",
        method.delivery_method_id
    );
    let body = DeliveryMethodDto {
        method,
        presentation: None,
        position: Some(position),
    };
    Ok(Answer::created(body, position, location))
}

/// The shop's delivery methods, hidden ones included.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/delivery-methods", tag = "catalog",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = Vec<DeliveryMethodDto>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_delivery_methods(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<Vec<DeliveryMethodDto>>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let list = catalog
        .delivery_methods
        .values()
        .map(|method| method_dto(&catalog, method))
        .collect();
    Ok(Answer::ok(list, state.log.head_position()))
}

/// One delivery method, hidden or not, with its `ETag` for a conditional update.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("delivery_method_id" = Uuid, Path)),
    responses((status = 200, body = DeliveryMethodDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_delivery_method(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, delivery_method_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<DeliveryMethodDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let method = delivery_method(&catalog, delivery_method_id)?;
    let etag = content_etag(&method.method);
    let mut answer = Answer::ok(method, state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// A method as its reads show it: with its presentation, when it has one.
fn method_dto(catalog: &Catalog, method: &DeliveryMethod) -> DeliveryMethodDto {
    DeliveryMethodDto {
        method: method.clone(),
        presentation: catalog
            .delivery_presentations
            .get(&method.delivery_method_id)
            .map(|presentation| presentation.clone().into()),
        position: None,
    }
}

pub(super) fn delivery_method(
    catalog: &Catalog,
    delivery_method_id: Uuid,
) -> Result<DeliveryMethodDto, ApiError> {
    let method = catalog
        .delivery_methods
        .get(&delivery_method_id)
        .ok_or_else(|| ApiError::not_found("delivery method"))?;
    Ok(method_dto(catalog, method))
}

/// Replaces a delivery method's terms: label, payment mode (exactly one), visibility, date
/// window, price, VAT rate and minimum weight; the kind never changes (422: add another method).
/// The body is the whole method, as at creation (`visible` omitted means visible). Carts priced
/// and orders placed from now on use the new terms; orders already placed keep their shipping.
/// Send `If-Match` with the delivery method's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("delivery_method_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DeliveryMethodInput,
    responses((status = 200, body = DeliveryMethodDto), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn change_delivery_method(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, delivery_method_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<DeliveryMethodInput>,
) -> Result<Answer<DeliveryMethodDto>, ApiError> {
    // Authorised first, so a caller without the right learns nothing from a 428.
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let etag = required_if_match(&headers, "the delivery method's")?;
    let method = body.into_method(delivery_method_id);
    let change = CatalogChange::ChangeDeliveryMethodTerms(method.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(etag)).await?;
    let etag = content_etag(&method);
    // The presentation is the catalog's, untouched by the terms.
    let catalog = catalog_of(&state, shop_id)?;
    let mut written = method_dto(&catalog, &method);
    written.position = Some(position);
    let mut answer = Answer::ok(written, position);
    answer.etag = Some(etag);
    Ok(answer)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityInput {
    /// False hides the method from checkout; orders already placed with it are unaffected.
    pub visible: bool,
}

/// Shows or hides a delivery method at checkout. Setting the visibility it already has changes
/// nothing. Send `If-Match` with the delivery method's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/delivery-methods/{delivery_method_id}/visibility", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("delivery_method_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = VisibilityInput,
    responses((status = 200, body = DeliveryMethodDto), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_delivery_method_visibility(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, delivery_method_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<VisibilityInput>,
) -> Result<Answer<DeliveryMethodDto>, ApiError> {
    // Authorised first, so a caller without the right learns nothing from a 428.
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let etag = required_if_match(&headers, "the delivery method's")?;
    let change = CatalogChange::SetDeliveryMethodVisibility {
        delivery_method_id,
        visible: body.visible,
    };
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(etag)).await?;
    let catalog = catalog_of(&state, shop_id)?;
    let mut method = delivery_method(&catalog, delivery_method_id)?;
    method.position = Some(position);
    let etag = content_etag(&method.method);
    let mut answer = Answer::ok(method, position);
    answer.etag = Some(etag);
    Ok(answer)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PickupPointInput {
    pub name: String,
    /// Display group, e.g. a city.
    pub group: String,
    pub address: AddressDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickupPointDto {
    pub pickup_point_id: Uuid,
    #[serde(flatten)]
    pub point: PickupPointInput,
}

fn pickup_dto(point: &PickupPoint) -> PickupPointDto {
    PickupPointDto {
        pickup_point_id: point.pickup_point_id,
        point: PickupPointInput {
            name: point.name.clone(),
            group: point.group.clone(),
            address: point.address.clone().into(),
        },
    }
}

/// Adds a pickup point.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/pickup-points", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PickupPointInput,
    responses((status = 201, body = PickupPointDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_pickup_point(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<PickupPointInput>,
) -> Result<Answer<PickupPointDto>, ApiError> {
    let point = PickupPoint {
        pickup_point_id: ids.derived_id("pickup-point"),
        name: body.name,
        group: body.group,
        address: body.address.into(),
    };
    let change = CatalogChange::AddPickupPoint(point.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, None).await?;
    let location = format!(
        "/v1/shops/{shop_id}/pickup-points/{}",
        point.pickup_point_id
    );
    Ok(Answer::created(pickup_dto(&point), position, location))
}

/// The shop's pickup points.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/pickup-points", tag = "catalog",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = Vec<PickupPointDto>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_pickup_points(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<Vec<PickupPointDto>>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let list = catalog.pickup_points.values().map(pickup_dto).collect();
    Ok(Answer::ok(list, state.log.head_position()))
}

fn pickup_point_of(catalog: &Catalog, pickup_point_id: Uuid) -> Result<&PickupPoint, ApiError> {
    catalog
        .pickup_points
        .get(&pickup_point_id)
        .ok_or_else(|| ApiError::not_found("pickup point"))
}

/// One pickup point, with its `ETag` for a conditional update.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/pickup-points/{pickup_point_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("pickup_point_id" = Uuid, Path)),
    responses((status = 200, body = PickupPointDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_pickup_point(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, pickup_point_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<PickupPointDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let catalog = catalog_of(&state, shop_id)?;
    let point = pickup_point_of(&catalog, pickup_point_id)?;
    let mut answer = Answer::ok(pickup_dto(point), state.log.head_position());
    answer.etag = Some(content_etag(point));
    Ok(answer)
}

/// Replaces a pickup point's name, group and address. Orders already placed keep the pickup
/// point they name. Send `If-Match` with the pickup point's `ETag`: none answers 428, a stale
/// one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/pickup-points/{pickup_point_id}", tag = "catalog",
    params(("shop_id" = Uuid, Path), ("pickup_point_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PickupPointInput,
    responses((status = 200, body = PickupPointWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_pickup_point(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, pickup_point_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<PickupPointInput>,
) -> Result<Answer<PickupPointWritten>, ApiError> {
    // Authorised first, so a caller without the right learns nothing from a 428.
    caller.authorize(shop_id, Permission::ManageCatalog)?;
    let etag = required_if_match(&headers, "the pickup point's")?;
    let point = PickupPoint {
        pickup_point_id,
        name: body.name,
        group: body.group,
        address: body.address.into(),
    };
    let change = CatalogChange::UpdatePickupPoint(point.clone());
    let position = change_catalog(&state, &caller, &ids, shop_id, change, Some(etag)).await?;
    let mut answer = Answer::ok(
        PickupPointWritten {
            point: pickup_dto(&point),
            position,
        },
        position,
    );
    answer.etag = Some(content_etag(&point));
    Ok(answer)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickupPointWritten {
    #[serde(flatten)]
    pub point: PickupPointDto,
    pub position: u64,
}
