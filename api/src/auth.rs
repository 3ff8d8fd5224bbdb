//! Who is calling: the owner (a token from `COMPTOIR_ADMIN_TOKEN` or minted by
//! `comptoir token create`), an API key of one shop with one role, or a staff member signed in
//! with a password (a session token, see `staff_sessions`), with a role per shop.
//!
//! Secrets are high-entropy random strings, so they are stored and compared as SHA-256 digests
//! (argon2 is for human passwords, and would cost milliseconds per request). An API key secret
//! names its shop (`ck_{shop_id}_{random}`): authenticating reads that shop's key table from the
//! hot state, which is derived from the shop's stream, so a key works as soon as its creation is
//! acknowledged and stops working as soon as its revocation is.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use comptoir_domain::shop::{role_allows, Permission, Role, Shop};
use comptoir_domain::staff::{self, StaffAccount, StaffRole};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::server::AppState;

/// File of the data dir holding the hex SHA-256 of each minted owner token, one per line.
pub const OWNER_TOKENS_FILE: &str = "owner-tokens";
/// Prefix of API key secrets.
const API_KEY_PREFIX: &str = "ck_";
/// Prefix of minted owner tokens.
const OWNER_TOKEN_PREFIX: &str = "cot_";
/// Prefix of staff session tokens.
const SESSION_TOKEN_PREFIX: &str = "cs_";
/// Prefix of staff password reset tokens.
const RESET_TOKEN_PREFIX: &str = "cr_";
/// A staff member's device token (`cd_…`): never a credential by itself.
const DEVICE_TOKEN_PREFIX: &str = "cd_";
/// Random bytes in a secret: 256 bits, far beyond guessing.
const SECRET_RANDOM_BYTES: usize = 32;
/// Longest `Authorization` value looked at; longer ones are refused without hashing.
const CREDENTIAL_BYTES_MAX: usize = 512;

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_hex() -> String {
    let bytes: [u8; SECRET_RANDOM_BYTES] = rand::random();
    hex::encode(bytes)
}

/// A new API key secret for `shop_id`.
pub fn new_api_key_secret(shop_id: Uuid) -> String {
    format!("{API_KEY_PREFIX}{}_{}", shop_id.simple(), random_hex())
}

/// A new owner token.
pub fn new_owner_token() -> String {
    format!("{OWNER_TOKEN_PREFIX}{}", random_hex())
}

/// A new session token of staff member `staff_id`; like an API key it names whose it is, so
/// authenticating reads one member's stream.
pub fn new_session_token(staff_id: Uuid) -> String {
    format!(
        "{SESSION_TOKEN_PREFIX}{}_{}",
        staff_id.simple(),
        random_hex()
    )
}

/// A new device token: a staff member's browser keeps it and sends it with later sign-ins, so
/// that a lockout others caused does not stop it (see `comptoir_domain::staff::SignInDevice`).
pub fn new_device_token() -> String {
    format!("{DEVICE_TOKEN_PREFIX}{}", random_hex())
}

/// A new password reset token of staff member `staff_id` (mailed, never stored).
pub fn new_reset_token(staff_id: Uuid) -> String {
    format!("{RESET_TOKEN_PREFIX}{}_{}", staff_id.simple(), random_hex())
}

/// The staff member a reset token names, if it is shaped like one.
pub fn reset_token_staff(token: &str) -> Option<Uuid> {
    named_id(token, RESET_TOKEN_PREFIX)
}

/// The owner tokens' digests: the one from the environment, and those minted into the data dir.
pub struct OwnerTokens {
    digests: RwLock<HashSet<String>>,
    file: PathBuf,
}

impl OwnerTokens {
    pub fn new(data_dir: &Path, env_token: Option<&str>) -> Self {
        let digests = env_token
            .filter(|token| !token.is_empty())
            .map(sha256_hex)
            .into_iter()
            .collect();
        let tokens = OwnerTokens {
            digests: RwLock::new(digests),
            file: data_dir.join(OWNER_TOKENS_FILE),
        };
        tokens.reload();
        tokens
    }

    /// Re-reads the minted tokens, so that `comptoir token create` works on a running server.
    fn reload(&self) {
        let Ok(text) = std::fs::read_to_string(&self.file) else {
            return;
        };
        let mut digests = self.digests.write().unwrap_or_else(|p| p.into_inner());
        digests.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }

    fn contains(&self, digest: &str) -> bool {
        self.digests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(digest)
    }

    pub fn verify(&self, token: &str) -> bool {
        let digest = sha256_hex(token);
        if self.contains(&digest) {
            return true;
        }
        self.reload();
        self.contains(&digest)
    }
}

/// Mints an owner token into `data_dir` and returns it; only its digest is stored.
pub fn mint_owner_token(data_dir: &Path) -> std::io::Result<String> {
    use std::io::Write;
    std::fs::create_dir_all(data_dir)?;
    let token = new_owner_token();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join(OWNER_TOKENS_FILE))?;
    writeln!(file, "{}", sha256_hex(&token))?;
    file.sync_all()?;
    Ok(token)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Owner,
    Key {
        shop_id: Uuid,
        key_id: Uuid,
        role: Role,
    },
    /// A signed-in staff member, with the roles their account held when the request came.
    Staff {
        staff_id: Uuid,
        session_id: Uuid,
        grants: BTreeMap<Uuid, StaffRole>,
    },
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
}

impl Caller {
    /// The name recorded as actor and operator in events.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Owner => "owner".into(),
            Principal::Key { key_id, .. } => format!("api-key:{key_id}"),
            Principal::Staff { staff_id, .. } => format!("staff:{staff_id}"),
        }
    }

    pub fn is_owner(&self) -> bool {
        self.principal == Principal::Owner
    }

    /// The caller's role in `shop_id`: `None` for the owner, who may do everything. Another
    /// shop's key, or a member without a role there, gets "not found" rather than "forbidden": it
    /// must not even learn that the shop exists.
    pub fn role_in(&self, shop_id: Uuid) -> Result<Option<Role>, ApiError> {
        match &self.principal {
            Principal::Owner => Ok(None),
            Principal::Key {
                shop_id: own, role, ..
            } if *own == shop_id => Ok(Some(*role)),
            Principal::Staff { grants, .. } => grants
                .get(&shop_id)
                .map(|role| Some(role.role()))
                .ok_or_else(|| ApiError::not_found("shop")),
            Principal::Key { .. } => Err(ApiError::not_found("shop")),
        }
    }

    /// Checks the caller may use `permission` in `shop_id` (see [`Caller::role_in`]).
    pub fn authorize(&self, shop_id: Uuid, permission: Permission) -> Result<(), ApiError> {
        match self.role_in(shop_id)? {
            None => Ok(()),
            Some(role) if role_allows(role, permission) => Ok(()),
            Some(role) => Err(ApiError::Forbidden {
                detail: format!("the {role:?} role may not {permission:?}").to_lowercase(),
            }),
        }
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized {
        detail: detail.into(),
    }
}

/// The credential of the `Authorization` header, bounded in length.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <API key or owner token>`"))?;
    header
        .to_str()
        .ok()
        .filter(|value| value.len() <= CREDENTIAL_BYTES_MAX)
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <secret>`"))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = bearer(parts)?;
        if named_id(credential, SESSION_TOKEN_PREFIX).is_some() {
            return StaffSession::authenticate(state, credential)?.into_caller();
        }
        authenticate(state, credential)
    }
}

/// A signed-in staff member, for the routes of their own account (`/v1/staff/me`, sign-out):
/// these stay open while the member still has to change the temporary password or accept the
/// terms, which every other route waits for.
#[derive(Clone, Debug)]
pub struct StaffSession {
    pub staff_id: Uuid,
    pub session_id: Uuid,
    pub grants: BTreeMap<Uuid, StaffRole>,
    pub needs_password_change: bool,
    pub needs_terms: bool,
}

impl StaffSession {
    fn authenticate(state: &AppState, token: &str) -> Result<StaffSession, ApiError> {
        let refused = || unauthorized("the session token matches no open session; sign in");
        let staff_id = named_id(token, SESSION_TOKEN_PREFIX).ok_or_else(refused)?;
        let loaded = state
            .cache
            .load::<StaffAccount, _>(state.log.as_ref(), &staff::stream_id(staff_id))?;
        let member = loaded.state.member().ok_or_else(refused)?;
        let session = member
            .session_by_token_hash(&sha256_hex(token))
            .filter(|_| member.has_access())
            .ok_or_else(refused)?;
        let now = comptoir_domain::Environment::now(state.clock.as_ref());
        if !state
            .staff_sessions
            .touch(session.session_id, session.signed_in_at, now)
        {
            return Err(unauthorized(&format!(
                "the session ended after {} minutes without activity; sign in again",
                crate::staff_sessions::SESSION_IDLE_MINUTES
            )));
        }
        Ok(StaffSession {
            staff_id,
            session_id: session.session_id,
            grants: member.grants.clone(),
            needs_password_change: member.needs_password_change(),
            needs_terms: member.needs_terms(),
        })
    }

    /// The caller for every route but the member's own: refused with 403 while the temporary
    /// password is not changed or the terms not accepted, naming what to do.
    fn into_caller(self) -> Result<Caller, ApiError> {
        if self.needs_password_change {
            return Err(ApiError::StaffRefused {
                code: "password-change-required",
                detail: "change the temporary password first: POST /v1/staff/me/password".into(),
            });
        }
        if self.needs_terms {
            return Err(ApiError::StaffRefused {
                code: "terms-acceptance-required",
                detail: "accept the terms of use first: POST /v1/staff/me/terms".into(),
            });
        }
        Ok(Caller {
            principal: Principal::Staff {
                staff_id: self.staff_id,
                session_id: self.session_id,
                grants: self.grants,
            },
        })
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = bearer(parts)?;
        if named_id(credential, SESSION_TOKEN_PREFIX).is_none() {
            return Err(ApiError::Forbidden {
                detail: "this route is for a signed-in staff member (a session token)".into(),
            });
        }
        StaffSession::authenticate(state, credential)
    }
}

fn authenticate(state: &AppState, credential: &str) -> Result<Caller, ApiError> {
    if let Some(shop_id) = named_id(credential, API_KEY_PREFIX) {
        let shop = state.cache.load::<Shop, _>(
            state.log.as_ref(),
            &comptoir_domain::shop::stream_id(shop_id),
        )?;
        let digest = sha256_hex(credential);
        if let Some(key) = shop.state.active_key_by_hash(&digest) {
            return Ok(Caller {
                principal: Principal::Key {
                    shop_id,
                    key_id: key.key_id,
                    role: key.role,
                },
            });
        }
    } else if state.owner_tokens.verify(credential) {
        return Ok(Caller {
            principal: Principal::Owner,
        });
    }
    Err(unauthorized(
        "the credential matches no active API key or owner token",
    ))
}

/// The id a secret shaped `{prefix}{id}_{random}` names (an API key's shop, a session's or a
/// reset's staff member).
fn named_id(credential: &str, prefix: &str) -> Option<Uuid> {
    let rest = credential.strip_prefix(prefix)?;
    let (id, _random) = rest.split_once('_')?;
    Uuid::try_parse(id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_name_their_shop_and_differ() {
        // Proves API key secrets carry their shop id and are never repeated.
        let shop_id = Uuid::now_v7();
        let first = new_api_key_secret(shop_id);
        let second = new_api_key_secret(shop_id);
        assert_ne!(first, second);
        assert_eq!(named_id(&first, API_KEY_PREFIX), Some(shop_id));
        assert_eq!(named_id("ck_nonsense_x", API_KEY_PREFIX), None);
        assert_eq!(named_id(&new_owner_token(), API_KEY_PREFIX), None);
        let session = new_session_token(shop_id);
        assert_eq!(named_id(&session, SESSION_TOKEN_PREFIX), Some(shop_id));
        assert_eq!(named_id(&session, API_KEY_PREFIX), None);
        assert_eq!(reset_token_staff(&new_reset_token(shop_id)), Some(shop_id));
        assert_eq!(reset_token_staff(&session), None);
    }

    #[test]
    fn minted_owner_tokens_verify_by_digest_only() {
        // Proves a minted token is accepted, the file holds only its digest, and others are refused.
        let dir = tempfile::tempdir().expect("temp dir");
        let tokens = OwnerTokens::new(dir.path(), Some("from-env"));
        let minted = mint_owner_token(dir.path()).expect("mint");
        let stored = std::fs::read_to_string(dir.path().join(OWNER_TOKENS_FILE)).expect("read");
        assert!(!stored.contains(&minted));
        assert!(tokens.verify(&minted));
        assert!(tokens.verify("from-env"));
        assert!(!tokens.verify("guess"));
    }
}
