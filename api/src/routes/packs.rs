//! Packs (seed 000, "Forfaits"): the platform operator (an owner token) mints activation codes;
//! a shop's manager or employee enters one to activate or renew the shop's pack; unsubscribing
//! keeps the pack usable until it ends.
//!
//! An activation code is shown once, when minted: only its SHA-256 is in the log (it names the
//! `activation-code-{sha256}` stream), like API keys. Redeeming appends `ActivationCodeRedeemed` and
//! `PackActivated`/`PackRenewed` in one append, so a code activates exactly one pack once.
//!
//! Shops created before packs existed have no pack stream: they answer `pack-not-activated` to
//! orders and uploads until a code is entered, like any new shop. There is no silent grandfathering,
//! since an unmetered shop is exactly what packs exist to prevent; `serve --demo` activates a pack
//! for its demo shop, and an operator activates existing shops by minting one code per shop.

use axum::extract::State;
use chrono::{DateTime, Utc};
use comptoir_domain::pack::{
    self, activation_code_stream_id, pack_status, ActivationCode, ActivationCodeCommand, Pack,
    PackCommand, PackStatus, PackTerms, PackValidity,
};
use comptoir_domain::shop::Role;
use comptoir_domain::{DomainError, Environment};
use comptoir_eventlog::EventLog;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{run, session_shop, written_position, Answer};
use crate::auth::{sha256_hex, Caller};
use crate::clock::owner_only;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::server::AppState;

/// Symbols of activation codes: no 0, 1, I or O, which people misread when typing from paper.
const ACTIVATION_CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Symbols of an activation code: 5 random bits each, 100 bits in all, far beyond guessing.
const ACTIVATION_CODE_SYMBOLS: usize = 20;
/// Symbols between two dashes when a code is shown.
const ACTIVATION_CODE_GROUP: usize = 5;
/// Characters of a code as typed (dashes and spaces included) looked at; longer is refused.
const ACTIVATION_CODE_INPUT_CHARS_MAX: usize = 64;

const _: () = assert!(ACTIVATION_CODE_SYMBOLS * 5 >= 96);
const _: () = assert!(ACTIVATION_CODE_SYMBOLS.is_multiple_of(ACTIVATION_CODE_GROUP));

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mint_activation_code))
        .routes(routes!(get_pack))
        .routes(routes!(activate_pack))
        .routes(routes!(unsubscribe_pack))
}

/// Allows the owner and keys of `shop_id` with one of `roles`; other keys of the shop get 403,
/// another shop's keys 404 (as `Caller::authorize`).
pub fn authorize_roles(caller: &Caller, shop_id: Uuid, roles: &[Role]) -> Result<(), ApiError> {
    match caller.role_in(shop_id)? {
        None => Ok(()),
        Some(role) if roles.contains(&role) => Ok(()),
        Some(role) => Err(ApiError::Forbidden {
            detail: format!("the {role:?} role may not do this").to_lowercase(),
        }),
    }
}

/// Staff who read the back office: everything but the storefront.
pub const STAFF_READERS: &[Role] = &[Role::Manager, Role::Employee, Role::Accountant];

/// A fresh code, shown with dashes every few symbols.
fn new_activation_code() -> String {
    let symbols: Vec<char> = (0..ACTIVATION_CODE_SYMBOLS)
        .map(|_| {
            let index = rand::random::<u8>() as usize % ACTIVATION_CODE_ALPHABET.len();
            char::from(ACTIVATION_CODE_ALPHABET[index])
        })
        .collect();
    symbols
        .chunks(ACTIVATION_CODE_GROUP)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The SHA-256 a code is stored under: of its symbols, upper-cased, without dashes or spaces, so
/// a code typed in any case or grouping is the same code.
fn activation_code_hash(code: &str) -> Result<String, ApiError> {
    if code.len() > ACTIVATION_CODE_INPUT_CHARS_MAX {
        return Err(DomainError::validation("code", "not an activation code").into());
    }
    let symbols: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if symbols.len() != ACTIVATION_CODE_SYMBOLS {
        return Err(DomainError::validation(
            "code",
            format!("{ACTIVATION_CODE_SYMBOLS} letters and digits, dashes optional"),
        )
        .into());
    }
    Ok(sha256_hex(&symbols))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidityDto {
    Days(u32),
    Months(u32),
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PackTermsDto {
    /// The account level shown on the dashboard, e.g. "Pro".
    pub level: String,
    /// `{"days": 30}` or `{"months": 12}`.
    pub validity: ValidityDto,
    pub transfer_allowance_bytes: u64,
    pub order_allowance: u64,
}

impl From<&PackTermsDto> for PackTerms {
    fn from(terms: &PackTermsDto) -> Self {
        PackTerms {
            level: terms.level.clone(),
            validity: match terms.validity {
                ValidityDto::Days(days) => PackValidity::Days(days),
                ValidityDto::Months(months) => PackValidity::Months(months),
            },
            transfer_allowance_bytes: terms.transfer_allowance_bytes,
            order_allowance: terms.order_allowance,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MintedCode {
    /// Shown this once: only its SHA-256 is stored.
    pub code: String,
    #[serde(flatten)]
    pub terms: PackTermsDto,
    pub position: u64,
}

/// Mints a single-use activation code for a pack sold outside (platform operator only).
///
/// The code is random and only its hash is recorded, so a retry with the same `Idempotency-Key`
/// is answered from the stored response, which is on disk before the code is sent.
#[utoipa::path(post, path = "/v1/activation-codes", tag = "packs",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = PackTermsDto,
    responses((status = 201, body = MintedCode), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn mint_activation_code(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    JsonBody(body): JsonBody<PackTermsDto>,
) -> Result<axum::response::Response, ApiError> {
    owner_only(&caller)?;
    let code = new_activation_code();
    let code_hash = activation_code_hash(&code)?;
    let command = ActivationCodeCommand::Mint {
        code_hash: code_hash.clone(),
        terms: PackTerms::from(&body),
        minted_by: caller.actor(),
    };
    let stream = activation_code_stream_id(&code_hash);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session.decide::<ActivationCode>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let body = MintedCode {
        code,
        terms: body,
        position,
    };
    let answer = Answer::created(body, position, "/v1/activation-codes".into());
    Ok(super::with_secret(answer))
}

/// A shop's pack as the dashboard and the back office show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackView {
    pub shop_id: Uuid,
    /// Absent before the first activation.
    pub level: Option<String>,
    pub ends_at: Option<DateTime<Utc>>,
    /// `{"status": "active"}` or `{"status": "deactivated", "reason": "pack_expired"}`.
    #[schema(value_type = crate::dto::PackStatus)]
    pub status: PackStatus,
    /// The stable problem code orders and uploads are refused with, when deactivated.
    pub deactivation_code: Option<String>,
    pub unsubscribed: bool,
    pub transfer_allowance_bytes: u64,
    pub transfer_bytes_used: u64,
    pub transfer_bytes_left: u64,
    pub order_allowance: u64,
    pub orders_used: u64,
    pub orders_left: u64,
    pub position: u64,
}

pub fn pack_view(shop_id: Uuid, pack: &Pack, now: DateTime<Utc>, position: u64) -> PackView {
    let status = pack_status(pack, now);
    let deactivation_code = match status {
        PackStatus::Active => None,
        PackStatus::Deactivated { reason } => Some(reason.code().to_string()),
    };
    PackView {
        shop_id,
        level: pack.level.clone(),
        ends_at: pack.ends_at,
        status,
        deactivation_code,
        unsubscribed: pack.unsubscribed,
        transfer_allowance_bytes: pack.transfer_allowance_bytes,
        transfer_bytes_used: pack.bytes_used,
        transfer_bytes_left: pack.bytes_left(),
        order_allowance: pack.order_allowance,
        orders_used: pack.orders_used,
        orders_left: pack.orders_left(),
        position,
    }
}

/// The shop's pack from the hot state (so it reflects every acknowledged write).
pub fn current_pack(state: &AppState, shop_id: Uuid) -> Result<std::sync::Arc<Pack>, ApiError> {
    Ok(state
        .cache
        .load::<Pack, _>(state.log.as_ref(), &pack::stream_id(shop_id))?
        .state)
}

/// The shop's pack: level, end, status, allowances and what is left.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/pack", tag = "packs",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = PackView), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_pack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<PackView>, ApiError> {
    authorize_roles(&caller, shop_id, STAFF_READERS)?;
    super::shop_profile(&state, shop_id)?;
    let pack = current_pack(&state, shop_id)?;
    let position = state.log.head_position();
    let view = pack_view(shop_id, &pack, state.clock.now(), position);
    Ok(Answer::ok(view, position))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivationInput {
    /// The activation code as sold; case, dashes and spaces do not matter.
    pub code: String,
}

/// Redeems the code and activates or renews the pack, in one append.
pub fn decide_activation(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    code_hash: &str,
) -> Result<std::sync::Arc<Pack>, CommandError> {
    session_shop(session, shop_id)?;
    let code_stream = activation_code_stream_id(code_hash);
    session.decide::<ActivationCode>(&code_stream, &ActivationCodeCommand::Redeem { shop_id })?;
    let code = session.load::<ActivationCode>(&code_stream)?;
    let terms = code.terms.clone().ok_or_else(|| {
        DomainError::conflict(
            "activation-code-unknown",
            "no pack was sold with this activation code",
        )
    })?;
    let command = PackCommand::Activate {
        shop_id,
        code_hash: code_hash.to_string(),
        terms,
    };
    let pack_stream = pack::stream_id(shop_id);
    session.decide::<Pack>(&pack_stream, &command)?;
    session.load::<Pack>(&pack_stream)
}

/// Activates the shop's pack, or renews it (a running pack is extended, a lapsed one restarts
/// now); the shop takes orders again at once. Unknown code: 409 `activation-code-unknown`; a code
/// another shop redeemed: 409 `activation-code-used`.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/pack/activations", tag = "packs",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ActivationInput,
    responses((status = 200, body = PackView), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn activate_pack(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<ActivationInput>,
) -> Result<Answer<PackView>, ApiError> {
    authorize_roles(&caller, shop_id, &[Role::Manager, Role::Employee])?;
    let code_hash = activation_code_hash(&body.code)?;
    let sequenced = vec![pack::stream_id(shop_id)];
    let executed = run(&state, &ids, &caller, sequenced, |session| {
        decide_activation(session, shop_id, &code_hash)
    })
    .await?;
    let position = written_position(&state, &executed);
    let pack = current_pack(&state, shop_id)?;
    let view = pack_view(shop_id, &pack, state.clock.now(), position);
    Ok(Answer::ok(view, position))
}

/// Unsubscribes: nothing changes but a flag, the pack stays usable until it ends.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/pack/unsubscribe", tag = "packs",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = PackView), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unsubscribe_pack(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<PackView>, ApiError> {
    authorize_roles(&caller, shop_id, &[Role::Manager])?;
    let command = PackCommand::Unsubscribe {
        unsubscribed_by: caller.actor(),
    };
    let stream = pack::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![stream.clone()], |session| {
        session_shop(session, shop_id)?;
        session.decide::<Pack>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let pack = current_pack(&state, shop_id)?;
    let view = pack_view(shop_id, &pack, state.clock.now(), position);
    Ok(Answer::ok(view, position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_hash_the_same_however_typed() {
        // Proves case, dashes and spaces do not change a code's hash, and malformed codes are refused.
        let code = new_activation_code();
        assert_eq!(code.len(), ACTIVATION_CODE_SYMBOLS + 3);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(
            activation_code_hash(&code).expect("hash"),
            activation_code_hash(&typed).expect("hash")
        );
        assert!(activation_code_hash("SHORT").is_err());
        assert_ne!(new_activation_code(), code);
    }
}
