//! Who is calling: the owner (a token from `COMPTOIR_ADMIN_TOKEN` or minted by
//! `comptoir token create`) or an API key of one shop with one role.
//!
//! Secrets are high-entropy random strings, so they are stored and compared as SHA-256 digests
//! (argon2 is for human passwords, and would cost milliseconds per request). An API key secret
//! names its shop (`ck_{shop_id}_{random}`): authenticating reads that shop's key table from the
//! hot state, which is derived from the shop's stream, so a key works as soon as its creation is
//! acknowledged and stops working as soon as its revocation is.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use comptoir_domain::shop::{role_allows, Permission, Role, Shop};
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
        }
    }

    pub fn is_owner(&self) -> bool {
        self.principal == Principal::Owner
    }

    /// Checks the caller may use `permission` in `shop_id`. Another shop's key gets "not found"
    /// rather than "forbidden": it must not even learn that the shop exists.
    pub fn authorize(&self, shop_id: Uuid, permission: Permission) -> Result<(), ApiError> {
        match &self.principal {
            Principal::Owner => Ok(()),
            Principal::Key { shop_id: own, .. } if *own != shop_id => {
                Err(ApiError::not_found("shop"))
            }
            Principal::Key { role, .. } if role_allows(*role, permission) => Ok(()),
            Principal::Key { role, .. } => Err(ApiError::Forbidden {
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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("send `Authorization: Bearer <API key or owner token>`"))?;
        let credential = header
            .to_str()
            .ok()
            .filter(|value| value.len() <= CREDENTIAL_BYTES_MAX)
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <secret>`"))?;
        authenticate(state, credential)
    }
}

fn authenticate(state: &AppState, credential: &str) -> Result<Caller, ApiError> {
    if let Some(shop_id) = api_key_shop(credential) {
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

/// The shop an API key secret names, if it is shaped like one.
fn api_key_shop(credential: &str) -> Option<Uuid> {
    let rest = credential.strip_prefix(API_KEY_PREFIX)?;
    let (shop, _random) = rest.split_once('_')?;
    Uuid::try_parse(shop).ok()
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
        assert_eq!(api_key_shop(&first), Some(shop_id));
        assert_eq!(api_key_shop("ck_nonsense_x"), None);
        assert_eq!(api_key_shop(&new_owner_token()), None);
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
