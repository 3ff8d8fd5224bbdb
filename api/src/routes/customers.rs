//! Customer accounts: one per shop per email, compared case-insensitively.

use axum::extract::State;
use comptoir_domain::customer::{
    self, customer_id_for, normalise_email, Customer, CustomerCommand, CustomerProfile,
};
use comptoir_domain::shop::Permission;
use comptoir_projections::{CustomerQuery, CustomerView, Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::shops::AddressDto;
use super::{run, session_shop, written_position, Answer, ReadAt};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_customer, list_customers))
        .routes(routes!(get_customer))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CustomerInput {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<AddressDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerRegistered {
    /// Derived from the shop and the normalised email: the same email is the same account.
    pub customer_id: Uuid,
    #[serde(flatten)]
    pub customer: CustomerInput,
    pub position: u64,
}

/// Registers a customer account (one per email, case-insensitive).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/customers", tag = "customers",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CustomerInput,
    responses((status = 201, body = CustomerRegistered), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn register_customer(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<CustomerInput>,
) -> Result<Answer<CustomerRegistered>, ApiError> {
    caller.authorize(shop_id, Permission::ManageCustomers)?;
    let email = normalise_email(&body.email)?;
    let customer_id = customer_id_for(shop_id, &email);
    let command = CustomerCommand::Register {
        shop_id,
        email: body.email.clone(),
        profile: CustomerProfile {
            first_name: body.first_name.clone(),
            last_name: body.last_name.clone(),
            phone: body.phone.clone(),
            address: body.address.clone().map(Into::into),
        },
    };
    let stream = customer::stream_id(customer_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_shop(session, shop_id)?;
        session.decide::<Customer>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let location = format!("/v1/shops/{shop_id}/customers/{customer_id}");
    let body = CustomerRegistered {
        customer_id,
        customer: body,
        position,
    };
    Ok(Answer::created(body, position, location))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerList {
    /// Case-insensitive part of the email or name.
    pub search: Option<String>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Items per page (default 50, at most 200).
    pub limit: Option<usize>,
    pub min_position: Option<u64>,
}

/// A customer account (read model).
#[derive(Debug, Serialize)]
pub struct CustomerDto(pub CustomerView);

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    #[schema(value_type = Vec<crate::dto::Customer>)]
    pub items: Vec<CustomerView>,
    pub next_cursor: Option<String>,
}

impl From<Page<CustomerView>> for CustomerPage {
    fn from(page: Page<CustomerView>) -> Self {
        CustomerPage {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

/// The shop's customers by email.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers", tag = "customers",
    params(("shop_id" = Uuid, Path), CustomerList),
    responses((status = 200, body = CustomerPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CustomerList>,
) -> Result<Answer<CustomerPage>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCustomers)?;
    state.read_at(query.min_position).await?;
    let page = PageRequest {
        after: query.after,
        limit: query.limit.unwrap_or(0),
    };
    let filter = CustomerQuery {
        search: query.search,
    };
    let found = state.projections.customers(shop_id, &filter, &page)?;
    Ok(Answer::ok(found.into(), state.projections.position()))
}

/// One customer account.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers/{customer_id}", tag = "customers",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ReadAt),
    responses((status = 200, body = crate::dto::Customer), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, customer_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<CustomerDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCustomers)?;
    state.read_at(read_at.min_position).await?;
    let customer = state
        .projections
        .customer(shop_id, customer_id)?
        .ok_or_else(|| ApiError::not_found("customer"))?;
    Ok(Answer::ok(
        CustomerDto(customer),
        state.projections.position(),
    ))
}
