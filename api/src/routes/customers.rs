//! Customer accounts: one per shop per email, compared case-insensitively.

use axum::extract::State;
use axum::http::HeaderMap;
use comptoir_domain::customer::{
    self, customer_id_for, normalise_email, Customer, CustomerCommand, CustomerProfile,
    RegisteredCustomer,
};
use comptoir_domain::shop::Permission;
use comptoir_domain::DomainError;
use comptoir_eventlog::EventLog;
use comptoir_projections::store_credit::StoreCreditView;
use comptoir_projections::{CustomerQuery, CustomerView, Page};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::account_form::session_account_form;
use super::paging::PageQuery;
use super::shops::AddressDto;
use super::{
    precondition_to_412, required_if_match, run, stale_etag, written_position, Answer, ReadAt,
};
use crate::auth::Caller;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_customer, list_customers))
        .routes(routes!(get_customer, update_customer))
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
    /// Agreed to receive newsletters and offers (false unless given).
    #[serde(default)]
    pub marketing_consent: bool,
    /// Answers to the shop's additional fields, by their key (`GET /account-form` lists them
    /// and which the shop requires).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
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
    let profile = CustomerProfile {
        first_name: body.first_name.clone(),
        last_name: body.last_name.clone(),
        phone: body.phone.clone(),
        address: body.address.clone().map(Into::into),
        marketing_consent: body.marketing_consent,
        extra: body.extra.clone(),
    };
    let stream = customer::stream_id(customer_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let command = CustomerCommand::Register {
            shop_id,
            email: body.email.clone(),
            profile: profile.clone(),
            form: session_account_form(session, shop_id)?,
        };
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
pub struct CustomerSearch {
    /// Case-insensitive part of the email or name.
    pub search: Option<String>,
}

/// A customer account with its store credit (read models): the account's fields, then
/// `store_credit`, which a storefront needs to offer paying with it.
#[derive(Debug, Serialize)]
pub struct CustomerDto {
    #[serde(flatten)]
    pub customer: CustomerView,
    pub store_credit: StoreCreditView,
}

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
    params(("shop_id" = Uuid, Path), CustomerSearch, PageQuery),
    responses((status = 200, body = CustomerPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CustomerSearch>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<CustomerPage>, ApiError> {
    caller.authorize(shop_id, Permission::ReadCustomers)?;
    state.read_at(paging.min_position).await?;
    let filter = CustomerQuery {
        search: query.search,
    };
    let found = state
        .projections
        .customers(shop_id, &filter, &paging.page())?;
    Ok(Answer::ok(found.into(), state.projections.position()))
}

/// One customer account, with the store credit it can spend.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers/{customer_id}", tag = "customers",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ReadAt),
    responses((status = 200, body = crate::dto::CustomerAccount), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
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
    // The ETag comes from the hot state, which is never behind a write, so a client that GETs
    // right after another's change is not refused for reading a lagging read model.
    let current = registered_customer(&state, shop_id, customer_id)?;
    // Store credit is keyed by the account id, which an email change keeps.
    let store_credit = state.projections.store_credit(shop_id, customer_id)?;
    let body = CustomerDto {
        customer,
        store_credit,
    };
    let mut answer = Answer::ok(body, state.projections.position());
    answer.etag = Some(profile_etag(&current.email, &current.profile));
    Ok(answer)
}

/// The account from the hot state, or 404 (also when it belongs to another shop).
fn registered_customer(
    state: &AppState,
    shop_id: Uuid,
    customer_id: Uuid,
) -> Result<RegisteredCustomer, ApiError> {
    let loaded = state
        .cache
        .load::<Customer, _>(state.log.as_ref(), &customer::stream_id(customer_id))?;
    loaded
        .state
        .registered
        .clone()
        .filter(|registered| registered.shop_id == shop_id)
        .ok_or_else(|| ApiError::not_found("customer"))
}

/// Inside a decision: moves the account to `typed` and claims that email's stream for it (the
/// account's first email is its own stream already), in the same append, so a sign-up with the
/// email and the move cannot both succeed.
fn change_email(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    customer_id: Uuid,
    typed: &str,
) -> Result<(), CommandError> {
    let stream = customer::stream_id(customer_id);
    let change = CustomerCommand::ChangeEmail {
        email: typed.to_owned(),
    };
    session.decide::<Customer>(&stream, &change)?;
    let target = customer_id_for(shop_id, &normalise_email(typed)?);
    if target != customer_id {
        let claim = CustomerCommand::ClaimEmail {
            shop_id,
            email: typed.to_owned(),
            for_customer: customer_id,
        };
        session.decide::<Customer>(&customer::stream_id(target), &claim)?;
    }
    Ok(())
}

/// A strong ETag from the account's email and profile: it changes exactly when they do.
fn profile_etag(email: &str, profile: &CustomerProfile) -> String {
    let json = serde_json::to_vec(&(email, profile)).unwrap_or_default();
    format!("\"{}\"", hex::encode(&Sha256::digest(json)[..12]))
}

/// A stale `If-Match` is refused, unless the account already is what is asked for: then the
/// request is a retry whose first answer was lost.
fn check_if_match(
    current: &RegisteredCustomer,
    wanted_email: &str,
    wanted: &CustomerProfile,
    etag: &str,
) -> Result<(), CommandError> {
    let done = current.email == wanted_email && current.profile == *wanted;
    if etag != "*" && etag != profile_etag(&current.email, &current.profile) && !done {
        return Err(stale_etag("the customer's profile"));
    }
    Ok(())
}

/// Everything of a profile a customer (or the staff for them) may change.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerProfileInput {
    /// A new email moves the account (its id stays); refused with 409 when another account has
    /// it. The account keeps its earlier emails: no one else can register them.
    #[serde(default)]
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<AddressDto>,
    #[serde(default)]
    pub marketing_consent: bool,
    /// Answers to the shop's additional fields, by key; omitted, the current answers stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerProfileWritten {
    pub customer_id: Uuid,
    #[serde(flatten)]
    pub profile: CustomerProfileInput,
    pub position: u64,
}

/// Replaces the customer's profile (names, phone, postal address, marketing consent) and moves
/// it to another email if one is sent. Send `If-Match` with the customer's `ETag`: none answers
/// 428, a stale one 412; an email another account has answers 409.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/customers/{customer_id}", tag = "customers",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CustomerProfileInput,
    responses((status = 200, body = CustomerProfileWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath((shop_id, customer_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<CustomerProfileInput>,
) -> Result<Answer<CustomerProfileWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageCustomers)?;
    let if_match = required_if_match(&headers, "the customer's")?;
    let current = registered_customer(&state, shop_id, customer_id)?;
    let email = match &body.email {
        Some(typed) => normalise_email(typed)?,
        None => current.email.clone(),
    };
    let profile = CustomerProfile {
        first_name: body.first_name.clone(),
        last_name: body.last_name.clone(),
        phone: body.phone.clone(),
        address: body.address.clone().map(Into::into),
        marketing_consent: body.marketing_consent,
        extra: body
            .extra
            .clone()
            .unwrap_or_else(|| current.profile.extra.clone()),
    };
    let stream = customer::stream_id(customer_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let change_profile = CustomerCommand::ChangeProfile {
            profile: profile.clone(),
            form: session_account_form(session, shop_id)?,
        };
        let account = session.load::<Customer>(&stream)?;
        let Some(registered) = account.registered.as_ref().filter(|r| r.shop_id == shop_id) else {
            return Err(DomainError::not_found("customer", customer_id).into());
        };
        check_if_match(registered, &email, &profile, &if_match)?;
        session.decide::<Customer>(&stream, &change_profile)?;
        if let Some(typed) = body.email.as_ref().filter(|_| email != registered.email) {
            change_email(session, shop_id, customer_id, typed)?;
        }
        Ok(())
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let etag = profile_etag(&email, &profile);
    let body = CustomerProfileWritten {
        customer_id,
        profile: body,
        position,
    };
    let mut answer = Answer::ok(body, position);
    answer.etag = Some(etag);
    Ok(answer)
}
