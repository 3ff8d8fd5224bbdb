//! The shop's customer account form (seed 000, "Comptes clients"): which standard fields a
//! storefront shows and requires, and up to three fields of the shop's own. Storefronts read it
//! to draw their sign-up and profile forms; `POST /customers` and `PUT /customers/{id}` check
//! what they receive against it (422 naming the field).
//!
//! The form lives on the shop stream (`AccountFormChanged`), so a read is never behind a write.

use axum::extract::State;
use axum::http::HeaderMap;
use comptoir_domain::shop::{
    self, AccountForm, ExtraField, FieldRule, Permission, Shop, ShopCommand,
};
use comptoir_domain::DomainError;
use comptoir_eventlog::EventLog;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    check_etag, content_etag, precondition_to_412, required_if_match, run, written_position, Answer,
};
use crate::auth::Caller;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_account_form, put_account_form))
}

/// Whether a storefront shows a standard field and whether the customer must fill it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldRuleDto {
    Hidden,
    Optional,
    Mandatory,
}

impl From<FieldRuleDto> for FieldRule {
    fn from(rule: FieldRuleDto) -> Self {
        match rule {
            FieldRuleDto::Hidden => FieldRule::Hidden,
            FieldRuleDto::Optional => FieldRule::Optional,
            FieldRuleDto::Mandatory => FieldRule::Mandatory,
        }
    }
}

impl From<FieldRule> for FieldRuleDto {
    fn from(rule: FieldRule) -> Self {
        match rule {
            FieldRule::Hidden => FieldRuleDto::Hidden,
            FieldRule::Optional => FieldRuleDto::Optional,
            FieldRule::Mandatory => FieldRuleDto::Mandatory,
        }
    }
}

/// A field of the shop's own.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraFieldDto {
    /// The answer's key in a customer's `extra`: 1 to 40 of a-z, 0-9, `_`, `-`.
    #[schema(example = "civilite")]
    pub key: String,
    /// The name the storefront shows.
    #[schema(example = "Civilité")]
    pub label: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The answers allowed (at most 20); empty or absent for free text.
    #[serde(default)]
    #[schema(example = json!(["M.", "Mme"]))]
    pub options: Vec<String>,
    #[serde(default)]
    pub mandatory: bool,
}

/// The form. The names and the email are always required: documents are addressed to them.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountFormDto {
    pub phone: FieldRuleDto,
    /// The postal address (street, postcode, city, country) as one field.
    pub address: FieldRuleDto,
    /// At most 3.
    #[serde(default)]
    pub extra_fields: Vec<ExtraFieldDto>,
}

impl From<&AccountFormDto> for AccountForm {
    fn from(dto: &AccountFormDto) -> Self {
        AccountForm {
            phone: dto.phone.into(),
            address: dto.address.into(),
            extra_fields: dto
                .extra_fields
                .iter()
                .map(|field| ExtraField {
                    key: field.key.clone(),
                    label: field.label.clone(),
                    description: field.description.clone(),
                    options: field.options.clone(),
                    mandatory: field.mandatory,
                })
                .collect(),
        }
    }
}

impl From<&AccountForm> for AccountFormDto {
    fn from(form: &AccountForm) -> Self {
        AccountFormDto {
            phone: form.phone.into(),
            address: form.address.into(),
            extra_fields: form
                .extra_fields
                .iter()
                .map(|field| ExtraFieldDto {
                    key: field.key.clone(),
                    label: field.label.clone(),
                    description: field.description.clone(),
                    options: field.options.clone(),
                    mandatory: field.mandatory,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountFormWritten {
    #[serde(flatten)]
    pub form: AccountFormDto,
    pub position: u64,
}

fn form_etag(form: &AccountForm) -> String {
    content_etag(form)
}

/// The shop's form in force, from the hot state; 404 for no shop.
pub(crate) fn shop_account_form(state: &AppState, shop_id: Uuid) -> Result<AccountForm, ApiError> {
    Ok(super::shop_state(state, shop_id)?.account_form.clone())
}

/// Inside a decision: the shop's form in force, or "not found" for no shop.
pub(super) fn session_account_form(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
) -> Result<AccountForm, CommandError> {
    let shop = session.load::<Shop>(&shop::stream_id(shop_id))?;
    if shop.profile.is_none() {
        return Err(DomainError::not_found("shop", shop_id).into());
    }
    Ok(shop.account_form.clone())
}

/// The form in force (phone and address optional and no field of the shop's own until a
/// manager sets one), with its `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/account-form", tag = "customers",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = AccountFormDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_account_form(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<AccountFormDto>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let form = shop_account_form(&state, shop_id)?;
    let mut answer = Answer::ok((&form).into(), state.log.head_position());
    answer.etag = Some(form_etag(&form));
    Ok(answer)
}

/// Replaces the form (manager). Accounts opened before keep their answers; each is checked
/// against the new form at its next profile change. Send `If-Match` with the form's `ETag`.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/account-form", tag = "customers",
    params(("shop_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AccountFormDto,
    responses((status = 200, body = AccountFormWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_account_form(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<AccountFormDto>,
) -> Result<Answer<AccountFormWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let wanted_etag = required_if_match(&headers, "the account form's")?;
    let wanted = AccountForm::from(&body);
    let command = ShopCommand::SetAccountForm(Box::new(wanted.clone()));
    let stream = shop::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let current = session_account_form(session, shop_id)?;
        check_etag(
            &wanted_etag,
            &form_etag(&current),
            current == wanted,
            "the account form",
        )?;
        session.decide::<Shop>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let mut answer = Answer::ok(
        AccountFormWritten {
            form: body,
            position,
        },
        position,
    );
    answer.etag = Some(form_etag(&wanted));
    Ok(answer)
}
