//! Staff passwords: argon2id hashes stored as PHC strings, the rule a new password must meet, and
//! a bound on how many hashes run at once.
//!
//! People choose passwords, so they are hashed with a memory-hard function (argon2id, OWASP's
//! minimum: 19 MiB, 2 passes, 1 lane), unlike API keys and session tokens, which are random
//! secrets hashed with SHA-256. A hash takes tens of milliseconds of one core and its memory, so
//! hashing runs on tokio's blocking pool behind a semaphore: a burst of sign-ins queues instead
//! of taking both cores of a shop's till and every request with them.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use comptoir_domain::DomainError;
use rand::Rng;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Characters a password has at least: length is what makes a password hard to guess.
pub const PASSWORD_CHARS_MIN: usize = 12;
/// Characters a password has at most: argon2 reads all of it, so an endless one would be work.
pub const PASSWORD_CHARS_MAX: usize = 128;
/// Hashes computed at once (each holds `ARGON2_MEMORY_KIB` while it runs).
pub const PASSWORD_HASHES_AT_ONCE: usize = 2;
/// Characters of a temporary password handed out when a member is created.
pub const TEMPORARY_PASSWORD_CHARS: usize = 16;
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
/// No 0/O, 1/l/I: a temporary password is read off a screen or a mail and typed.
const TEMPORARY_PASSWORD_ALPHABET: &[u8] =
    b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, None)
        .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| {
            tracing::error!(%error, "hashing a password failed");
            ApiError::Internal
        })
}

/// Whether `password` matches `phc`; a hash that does not parse matches nothing. The stored
/// parameters are used, so hashes made with older parameters keep working.
fn verify_now(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password is checked against in earnest: verifying an unknown email against it
/// costs what a real check costs, so the answer's timing does not tell whether the email exists.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now("comptoir decoy password").unwrap_or_default())
}

/// The password hasher: argon2id on the blocking pool, at most [`PASSWORD_HASHES_AT_ONCE`] at once.
pub struct Passwords {
    permits: Semaphore,
}

impl Default for Passwords {
    fn default() -> Self {
        Passwords {
            permits: Semaphore::new(PASSWORD_HASHES_AT_ONCE),
        }
    }
}

impl Passwords {
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| ApiError::Internal)
    }

    /// The PHC string of a new salted argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches the stored hash; `None` checks against a decoy (see
    /// [`decoy_hash`]) and is always false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, ApiError> {
        self.run(move || match phc {
            Some(phc) => verify_now(&password, &phc),
            None => {
                verify_now(&password, decoy_hash());
                false
            }
        })
        .await
    }
}

/// Refuses a new password that is too short or too long, or is the member's email: 422 naming
/// `field` and the rule, so a form can say what to fix.
pub fn check_new_password(field: &str, password: &str, email: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    let refuse = |message: String| Err(ApiError::Domain(DomainError::validation(field, message)));
    if chars < PASSWORD_CHARS_MIN {
        return refuse(format!(
            "must have at least {PASSWORD_CHARS_MIN} characters"
        ));
    }
    if chars > PASSWORD_CHARS_MAX {
        return refuse(format!("must have at most {PASSWORD_CHARS_MAX} characters"));
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return refuse("must not be the email address".into());
    }
    Ok(())
}

/// A random password for a new member, who must replace it at first sign-in.
pub fn temporary_password() -> String {
    let mut rng = rand::thread_rng();
    (0..TEMPORARY_PASSWORD_CHARS)
        .map(|_| {
            let index = rng.gen_range(0..TEMPORARY_PASSWORD_ALPHABET.len());
            char::from(TEMPORARY_PASSWORD_ALPHABET[index])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        // Proves hashes are salted argon2id PHC strings that accept their password and no other.
        let passwords = Passwords::default();
        let first = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        let second = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(first, second, "each hash has its own salt");
        let right = passwords.verify("correct horse battery".into(), Some(first.clone()));
        assert!(right.await.unwrap());
        let wrong = passwords.verify("correct horse battery!".into(), Some(first));
        assert!(!wrong.await.unwrap());
        let garbage = passwords.verify("x".into(), Some("not a hash".into()));
        assert!(!garbage.await.unwrap());
        let unknown = passwords.verify("comptoir decoy password".into(), None);
        assert!(!unknown.await.unwrap(), "the decoy never matches");
    }

    #[test]
    fn new_passwords_follow_the_rule() {
        // Proves the length bounds and the email rule, and that temporary passwords pass them.
        let email = "lea.martin@studio-lumiere.fr";
        assert!(check_new_password("password", "short", email).is_err());
        assert!(check_new_password("password", &"x".repeat(129), email).is_err());
        assert!(check_new_password("password", "LEA.martin@studio-lumiere.fr", email).is_err());
        assert!(check_new_password("password", "twelve chars", email).is_ok());
        let temporary = temporary_password();
        assert_eq!(temporary.chars().count(), TEMPORARY_PASSWORD_CHARS);
        assert!(check_new_password("password", &temporary, email).is_ok());
        assert_ne!(temporary, temporary_password());
    }
}
