//! One staff member's account (`staff-{staff_id}`).
//!
//! Access is a state, not a check made once: it holds while the member is neither locked nor
//! archived, has a role in at least one shop and a full name and email (seed 001). Any event
//! that leaves the member without access ends every session and drops any pending password
//! reset in the same fold, so a revoked member is out at once, not at the next sign-in. Unlocking
//! or unarchiving restores access; the member then signs in again.

use super::{staff_id_for, StaffGrant, StaffRole};
use crate::customer::normalise_email;
use crate::limits::REFERENCE_CHARS_MAX;
use crate::shop::validate_siren;
use crate::text::validate_text;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Sessions one member may hold at once; signing in beyond ends the oldest.
pub const STAFF_SESSIONS_MAX: usize = 8;
/// Wrong passwords in a row that lock sign-in for [`SIGN_IN_LOCKOUT_MINUTES`].
pub const SIGN_IN_FAILURES_MAX: u32 = 5;
/// Minutes sign-in stays refused after [`SIGN_IN_FAILURES_MAX`] wrong passwords.
pub const SIGN_IN_LOCKOUT_MINUTES: i64 = 15;
/// Devices a member signed in from that a lockout does not stop, at most; the oldest goes.
pub const TRUSTED_DEVICES_MAX: usize = 10;
/// Minutes an e-mailed password reset link stays usable.
pub const PASSWORD_RESET_VALID_MINUTES: i64 = 60;
/// Seconds after a reset request during which another one mails nothing: a form submitted
/// twice, or someone filling a member's inbox (and the log) with links.
pub const PASSWORD_RESET_REQUEST_INTERVAL_SECONDS: i64 = 60;
/// Shops one member may have a role in.
pub const STAFF_GRANTS_MAX: usize = 64;
/// The version of the terms of use every member must have accepted.
pub const CURRENT_TERMS_VERSION: u32 = 1;
/// Characters of a first or last name.
pub const STAFF_NAME_CHARS_MAX: usize = 100;
/// Characters of a password hash: an argon2 PHC string is about 100, with room for stronger
/// parameters.
const PASSWORD_HASH_CHARS_MAX: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    Create {
        staff_id: Uuid,
        organisation_siren: String,
        email: String,
        first_name: String,
        last_name: String,
        grants: Vec<StaffGrant>,
        password_hash: String,
        created_by: String,
    },
    Grant {
        shop_id: Uuid,
        role: StaffRole,
        by: String,
    },
    Revoke {
        shop_id: Uuid,
        by: String,
    },
    Lock {
        by: String,
    },
    Unlock {
        by: String,
    },
    Archive {
        by: String,
    },
    Unarchive {
        by: String,
    },
    /// The glue checked the password against `password_hash()` (argon2 lives in the glue).
    SignIn {
        session_id: Uuid,
        token_hash: String,
        password_matches: bool,
        /// The device the request comes from: the hash of the device token it sent (a device
        /// this member signed in from before is trusted), or of a fresh one the glue hands out
        /// if this sign-in succeeds.
        device: SignInDevice,
    },
    SignOut {
        session_id: Uuid,
    },
    /// Ends every session except `keep_session` (the one that changed it).
    ChangePassword {
        password_hash: String,
        keep_session: Option<Uuid>,
    },
    AcceptTerms {
        version: u32,
    },
    RequestPasswordReset {
        token_hash: String,
    },
    CompletePasswordReset {
        token_hash: String,
        password_hash: String,
    },
    /// Replaces a forgotten password by a temporary one handed over by the owner or a manager
    /// (the way back in on a server that sends no mail); the member must change it again.
    IssueTemporaryPassword {
        password_hash: String,
        by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffEvent {
    StaffMemberCreated {
        staff_id: Uuid,
        organisation_siren: String,
        /// Normalised (lower-case): the identity the member signs in with.
        email: String,
        first_name: String,
        last_name: String,
        grants: Vec<StaffGrant>,
        password_hash: String,
        created_by: String,
        created_at: DateTime<Utc>,
    },
    /// A role in a shop given, or changed when the member had another there.
    StaffAccessGranted {
        shop_id: Uuid,
        role: StaffRole,
        by: String,
        at: DateTime<Utc>,
    },
    StaffAccessRevoked {
        shop_id: Uuid,
        by: String,
        at: DateTime<Utc>,
    },
    StaffMemberLocked {
        by: String,
        at: DateTime<Utc>,
    },
    StaffMemberUnlocked {
        by: String,
        at: DateTime<Utc>,
    },
    StaffMemberArchived {
        by: String,
        at: DateTime<Utc>,
    },
    StaffMemberUnarchived {
        by: String,
        at: DateTime<Utc>,
    },
    StaffSignedIn {
        session_id: Uuid,
        token_hash: String,
        at: DateTime<Utc>,
        /// The device the session was opened from, trusted from now on (absent from sign-ins
        /// recorded before devices were).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_hash: Option<String>,
    },
    /// A wrong password. Recorded, so that restarting the server does not reset the count.
    StaffSignInFailed {
        /// Wrong passwords in a row, this one included.
        failures: u32,
        /// Set when `failures` reached [`SIGN_IN_FAILURES_MAX`]; the count then starts again.
        locked_out_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    },
    StaffSignedOut {
        session_id: Uuid,
        at: DateTime<Utc>,
    },
    StaffPasswordChanged {
        password_hash: String,
        /// The session the change was made from, which stays open; every other one ends.
        kept_session: Option<Uuid>,
        at: DateTime<Utc>,
    },
    StaffTermsAccepted {
        version: u32,
        at: DateTime<Utc>,
    },
    /// A reset link was mailed; it replaces any earlier one.
    StaffPasswordResetRequested {
        token_hash: String,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    StaffPasswordResetCompleted {
        password_hash: String,
        at: DateTime<Utc>,
    },
    /// Every session ends, a pending reset link and a sign-in lockout too.
    StaffTemporaryPasswordIssued {
        password_hash: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// A wrong password from a trusted device: it counts against that device only, and the
    /// fifth in a row makes it untrusted. Appended last so older variants keep their encoding.
    StaffTrustedDeviceSignInFailed {
        device_hash: String,
        failures: u32,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for StaffEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StaffEvent::StaffMemberCreated { .. } => "StaffMemberCreated",
            StaffEvent::StaffAccessGranted { .. } => "StaffAccessGranted",
            StaffEvent::StaffAccessRevoked { .. } => "StaffAccessRevoked",
            StaffEvent::StaffMemberLocked { .. } => "StaffMemberLocked",
            StaffEvent::StaffMemberUnlocked { .. } => "StaffMemberUnlocked",
            StaffEvent::StaffMemberArchived { .. } => "StaffMemberArchived",
            StaffEvent::StaffMemberUnarchived { .. } => "StaffMemberUnarchived",
            StaffEvent::StaffSignedIn { .. } => "StaffSignedIn",
            StaffEvent::StaffSignInFailed { .. } => "StaffSignInFailed",
            StaffEvent::StaffSignedOut { .. } => "StaffSignedOut",
            StaffEvent::StaffPasswordChanged { .. } => "StaffPasswordChanged",
            StaffEvent::StaffTermsAccepted { .. } => "StaffTermsAccepted",
            StaffEvent::StaffPasswordResetRequested { .. } => "StaffPasswordResetRequested",
            StaffEvent::StaffPasswordResetCompleted { .. } => "StaffPasswordResetCompleted",
            StaffEvent::StaffTemporaryPasswordIssued { .. } => "StaffTemporaryPasswordIssued",
            StaffEvent::StaffTrustedDeviceSignInFailed { .. } => "StaffTrustedDeviceSignInFailed",
        }
    }
}

/// Which device a sign-in comes from, as hashes of device tokens (high-entropy secrets the
/// glue makes and the member's browser keeps).
///
/// Why devices: a lockout after wrong passwords stops guessing, but anyone who knows a
/// member's e-mail could keep them locked out for good. A device the member signed in from
/// before is not stopped by a lockout others caused; its own wrong passwords count against it
/// alone, and the fifth makes it a stranger again (OWASP's "device cookies").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInDevice {
    /// The token the request sent, if any.
    pub presented_hash: Option<String>,
    /// A fresh token, trusted from now on if this sign-in succeeds from an untrusted device.
    pub fresh_hash: String,
}

/// A device the member signed in from, which their lockout does not stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDevice {
    pub device_hash: String,
    pub trusted_at: DateTime<Utc>,
    /// Wrong passwords in a row from this device.
    pub failures: u32,
}

/// An open back-office session; the glue keeps the token, the domain its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub session_id: Uuid,
    pub token_hash: String,
    pub signed_in_at: DateTime<Utc>,
}

/// The reset link mailed last, until it is used, replaced or the member loses access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingReset {
    pub(crate) token_hash: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub staff_id: Uuid,
    pub organisation_siren: String,
    /// Normalised (lower-case).
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The member's role in each shop it may enter.
    pub grants: BTreeMap<Uuid, StaffRole>,
    pub locked: bool,
    pub archived: bool,
    /// True until the member chooses a password: the one a manager gave at creation is known
    /// to someone else.
    pub must_change_password: bool,
    pub terms_accepted_version: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub sessions: BTreeMap<Uuid, StaffSession>,
    pub password_hash: String,
    /// Wrong passwords in a row since the last sign-in, reset or lockout.
    pub failed_sign_ins: u32,
    /// Sign-in is refused until then; an instant in the past no longer blocks.
    pub locked_out_until: Option<DateTime<Utc>>,
    pub(crate) pending_reset: Option<PendingReset>,
    /// Oldest first, at most [`TRUSTED_DEVICES_MAX`].
    pub trusted_devices: Vec<TrustedDevice>,
}

impl StaffMember {
    /// The account's prerequisites of access hold (seed 001). The plan's seat is the roster's
    /// to say ([`super::StaffRoster::seat_holders`]).
    pub fn has_access(&self) -> bool {
        !self.locked
            && !self.archived
            && !self.grants.is_empty()
            && !self.first_name.is_empty()
            && !self.last_name.is_empty()
            && !self.email.is_empty()
    }

    pub fn role_in(&self, shop_id: Uuid) -> Option<StaffRole> {
        self.grants.get(&shop_id).copied()
    }

    /// The open session whose token hashes to `hash`.
    pub fn session_by_token_hash(&self, hash: &str) -> Option<&StaffSession> {
        self.sessions.values().find(|s| s.token_hash == hash)
    }

    pub fn needs_password_change(&self) -> bool {
        self.must_change_password
    }

    /// The member has not accepted the current terms yet.
    pub fn needs_terms(&self) -> bool {
        self.terms_accepted_version
            .is_none_or(|version| version < CURRENT_TERMS_VERSION)
    }

    /// The trusted device with this token hash, if it is one.
    pub fn trusted_device(&self, device_hash: Option<&str>) -> Option<&TrustedDevice> {
        let hash = device_hash?;
        self.trusted_devices.iter().find(|d| d.device_hash == hash)
    }

    /// The refusal of a sign-in at `now` from `device_hash` while too many wrong passwords
    /// lock it, if they do; a trusted device is never locked out by them. Public so that the
    /// glue refuses before it spends an argon2 check on the password.
    pub fn sign_in_lockout(
        &self,
        now: DateTime<Utc>,
        device_hash: Option<&str>,
    ) -> Option<DomainError> {
        if self.trusted_device(device_hash).is_some() {
            return None;
        }
        let until = self.locked_out_until.filter(|until| *until > now)?;
        Some(DomainError::conflict(
            "sign-in-locked-out",
            format!(
                "too many wrong passwords: sign-in is refused until {}",
                until.to_rfc3339()
            ),
        ))
    }

    fn reset_is_valid(&self, token_hash: &str, now: DateTime<Utc>) -> bool {
        self.has_access()
            && self
                .pending_reset
                .as_ref()
                .is_some_and(|reset| reset.token_hash == token_hash && reset.expires_at > now)
    }

    fn oldest_session(&self) -> Option<Uuid> {
        self.sessions
            .values()
            .min_by_key(|s| (s.signed_in_at, s.session_id))
            .map(|s| s.session_id)
    }
}

/// One refusal for every way a reset link can be wrong, so that trying links teaches nothing.
fn reset_invalid() -> DomainError {
    DomainError::unprocessable(
        "password-reset-invalid",
        "this reset link is unknown, used or expired",
    )
}

fn access_revoked() -> DomainError {
    DomainError::conflict(
        "staff-access-revoked",
        "this staff member has no access: locked, archived or without a role in any shop",
    )
}

fn minutes_after(now: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    now.checked_add_signed(Duration::minutes(minutes))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The trimmed name, or why it is refused.
fn staff_name(field: &str, name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    validate_text(field, name, STAFF_NAME_CHARS_MAX)?;
    Ok(name.to_owned())
}

fn check_derived_id(staff_id: Uuid, normalised_email: &str) -> Result<(), DomainError> {
    if staff_id != staff_id_for(normalised_email) {
        return Err(DomainError::validation(
            "staff_id",
            "must be the id derived from the email (staff_id_for)",
        ));
    }
    Ok(())
}

fn check_siren(siren: &str) -> Result<(), DomainError> {
    validate_siren(siren).map_err(|error| match error {
        DomainError::Validation { message, .. } => {
            DomainError::validation("organisation_siren", message)
        }
        other => other,
    })
}

fn check_new_grants(grants: &[StaffGrant]) -> Result<(), DomainError> {
    if grants.is_empty() || grants.len() > STAFF_GRANTS_MAX {
        return Err(DomainError::validation(
            "grants",
            format!("give a role in 1 to {STAFF_GRANTS_MAX} shops"),
        ));
    }
    let mut shops = BTreeSet::new();
    if let Some(twice) = grants.iter().find(|g| !shops.insert(g.shop_id)) {
        return Err(DomainError::validation(
            "grants",
            format!("shop {} is listed twice", twice.shop_id),
        ));
    }
    Ok(())
}

fn check_password_hash(hash: &str) -> Result<(), DomainError> {
    validate_text("password_hash", hash, PASSWORD_HASH_CHARS_MAX)
}

fn check_token_hash(hash: &str) -> Result<(), DomainError> {
    validate_text("token_hash", hash, REFERENCE_CHARS_MAX)
}

/// Who made a change: an operator name or principal, as the other aggregates record it.
fn check_operator(field: &str, by: &str) -> Result<(), DomainError> {
    validate_text(field, by, REFERENCE_CHARS_MAX)
}

/// A lock or archive flag moved to `wanted`; nothing when it is there already.
fn set_flag(
    current: bool,
    wanted: bool,
    by: &str,
    now: DateTime<Utc>,
    event: fn(String, DateTime<Utc>) -> StaffEvent,
) -> Result<Vec<StaffEvent>, DomainError> {
    check_operator("by", by)?;
    if current == wanted {
        return Ok(vec![]);
    }
    Ok(vec![event(by.to_owned(), now)])
}

/// The command on an empty stream: only a creation is possible.
fn decide_on_empty(
    command: &StaffCommand,
    now: DateTime<Utc>,
) -> Result<Vec<StaffEvent>, DomainError> {
    match command {
        StaffCommand::Create {
            staff_id,
            organisation_siren,
            email,
            first_name,
            last_name,
            grants,
            password_hash,
            created_by,
        } => {
            let email = normalise_email(email)?;
            check_derived_id(*staff_id, &email)?;
            let first_name = staff_name("first_name", first_name)?;
            let last_name = staff_name("last_name", last_name)?;
            check_siren(organisation_siren)?;
            check_new_grants(grants)?;
            check_password_hash(password_hash)?;
            check_operator("created_by", created_by)?;
            Ok(vec![StaffEvent::StaffMemberCreated {
                staff_id: *staff_id,
                organisation_siren: organisation_siren.clone(),
                email,
                first_name,
                last_name,
                grants: grants.clone(),
                password_hash: password_hash.clone(),
                created_by: created_by.clone(),
                created_at: now,
            }])
        }
        // A link naming an account that does not exist is refused like any other wrong link,
        // so that trying links does not tell which emails have an account.
        StaffCommand::CompletePasswordReset { .. } => Err(reset_invalid()),
        _ => Err(DomainError::not_found("staff member", "this account")),
    }
}

impl StaffMember {
    fn decide(
        &self,
        command: &StaffCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        use StaffEvent as E;
        match command {
            StaffCommand::Create { staff_id, .. } => {
                Err(DomainError::already_exists("staff member", staff_id))
            }
            StaffCommand::Grant { shop_id, role, by } => {
                self.decide_grant(*shop_id, *role, by, now)
            }
            StaffCommand::Revoke { shop_id, by } => self.decide_revoke(*shop_id, by, now),
            StaffCommand::Lock { by } => set_flag(self.locked, true, by, now, |by, at| {
                E::StaffMemberLocked { by, at }
            }),
            StaffCommand::Unlock { by } => set_flag(self.locked, false, by, now, |by, at| {
                E::StaffMemberUnlocked { by, at }
            }),
            StaffCommand::Archive { by } => set_flag(self.archived, true, by, now, |by, at| {
                E::StaffMemberArchived { by, at }
            }),
            StaffCommand::Unarchive { by } => set_flag(self.archived, false, by, now, |by, at| {
                E::StaffMemberUnarchived { by, at }
            }),
            StaffCommand::SignIn {
                session_id,
                token_hash,
                password_matches,
                device,
            } => self.decide_sign_in(*session_id, token_hash, *password_matches, device, now),
            StaffCommand::SignOut { session_id } => Ok(self.decide_sign_out(*session_id, now)),
            StaffCommand::ChangePassword {
                password_hash,
                keep_session,
            } => self.decide_change_password(password_hash, *keep_session, now),
            StaffCommand::AcceptTerms { version } => self.decide_accept_terms(*version, now),
            StaffCommand::RequestPasswordReset { token_hash } => {
                self.decide_request_reset(token_hash, now)
            }
            StaffCommand::CompletePasswordReset {
                token_hash,
                password_hash,
            } => self.decide_complete_reset(token_hash, password_hash, now),
            StaffCommand::IssueTemporaryPassword { password_hash, by } => {
                self.decide_temporary_password(password_hash, by, now)
            }
        }
    }

    fn decide_grant(
        &self,
        shop_id: Uuid,
        role: StaffRole,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        if self.archived {
            return Err(DomainError::conflict(
                "staff-member-archived",
                "this staff member is archived: unarchive it before giving it a role",
            ));
        }
        check_operator("by", by)?;
        match self.grants.get(&shop_id) {
            Some(held) if *held == role => return Ok(vec![]),
            None if self.grants.len() >= STAFF_GRANTS_MAX => {
                return Err(DomainError::LimitExceeded {
                    what: "shops one staff member has a role in",
                    limit: STAFF_GRANTS_MAX as u64,
                })
            }
            _ => {}
        }
        Ok(vec![StaffEvent::StaffAccessGranted {
            shop_id,
            role,
            by: by.to_owned(),
            at: now,
        }])
    }

    /// Revoking the last role is allowed: the member then has no access.
    fn decide_revoke(
        &self,
        shop_id: Uuid,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        check_operator("by", by)?;
        if !self.grants.contains_key(&shop_id) {
            return Ok(vec![]);
        }
        Ok(vec![StaffEvent::StaffAccessRevoked {
            shop_id,
            by: by.to_owned(),
            at: now,
        }])
    }

    /// A lockout is checked before the password, so guessing during it teaches nothing; a
    /// wrong password is counted before access, so a guesser cannot tell a revoked member from
    /// a wrong guess.
    fn decide_sign_in(
        &self,
        session_id: Uuid,
        token_hash: &str,
        password_matches: bool,
        device: &SignInDevice,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        check_token_hash(token_hash)?;
        check_token_hash(&device.fresh_hash)?;
        let presented = device.presented_hash.as_deref();
        if let Some(refusal) = self.sign_in_lockout(now, presented) {
            return Err(refusal);
        }
        let trusted = self.trusted_device(presented);
        if let (false, Some(trusted)) = (password_matches, trusted) {
            return Ok(vec![StaffEvent::StaffTrustedDeviceSignInFailed {
                device_hash: trusted.device_hash.clone(),
                failures: trusted.failures.saturating_add(1),
                at: now,
            }]);
        }
        if !password_matches {
            let failures = self.failed_sign_ins.saturating_add(1);
            let locked_out_until = (failures >= SIGN_IN_FAILURES_MAX)
                .then(|| minutes_after(now, SIGN_IN_LOCKOUT_MINUTES));
            return Ok(vec![StaffEvent::StaffSignInFailed {
                failures,
                locked_out_until,
                at: now,
            }]);
        }
        if !self.has_access() {
            return Err(access_revoked());
        }
        if self.sessions.contains_key(&session_id) {
            return Err(DomainError::already_exists("session", session_id));
        }
        let device_hash = trusted.map_or(&device.fresh_hash, |d| &d.device_hash);
        Ok(vec![StaffEvent::StaffSignedIn {
            session_id,
            token_hash: token_hash.to_owned(),
            at: now,
            device_hash: Some(device_hash.clone()),
        }])
    }

    fn decide_sign_out(&self, session_id: Uuid, now: DateTime<Utc>) -> Vec<StaffEvent> {
        if !self.sessions.contains_key(&session_id) {
            return vec![];
        }
        vec![StaffEvent::StaffSignedOut {
            session_id,
            at: now,
        }]
    }

    fn decide_change_password(
        &self,
        password_hash: &str,
        keep_session: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        if !self.has_access() {
            return Err(access_revoked());
        }
        check_password_hash(password_hash)?;
        if let Some(kept) = keep_session.filter(|kept| !self.sessions.contains_key(kept)) {
            return Err(DomainError::not_found("session", kept));
        }
        Ok(vec![StaffEvent::StaffPasswordChanged {
            password_hash: password_hash.to_owned(),
            kept_session: keep_session,
            at: now,
        }])
    }

    /// Refused on a member without access: unlocking or unarchiving comes first.
    fn decide_temporary_password(
        &self,
        password_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        if !self.has_access() {
            return Err(access_revoked());
        }
        check_password_hash(password_hash)?;
        check_operator("by", by)?;
        Ok(vec![StaffEvent::StaffTemporaryPasswordIssued {
            password_hash: password_hash.to_owned(),
            by: by.to_owned(),
            at: now,
        }])
    }

    fn decide_accept_terms(
        &self,
        version: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        if !(1..=CURRENT_TERMS_VERSION).contains(&version) {
            return Err(DomainError::validation(
                "version",
                format!("the terms have versions 1 to {CURRENT_TERMS_VERSION}"),
            ));
        }
        if self.terms_accepted_version >= Some(version) {
            return Ok(vec![]);
        }
        Ok(vec![StaffEvent::StaffTermsAccepted { version, at: now }])
    }

    /// Nothing for a member without access: the glue answers the same either way, so nobody
    /// learns whether an email has an account.
    fn decide_request_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        check_token_hash(token_hash)?;
        if !self.has_access() {
            return Ok(vec![]);
        }
        let interval = chrono::Duration::seconds(PASSWORD_RESET_REQUEST_INTERVAL_SECONDS);
        let just_asked = self
            .pending_reset
            .as_ref()
            .is_some_and(|pending| now - pending.requested_at < interval);
        if just_asked {
            return Ok(vec![]);
        }
        Ok(vec![StaffEvent::StaffPasswordResetRequested {
            token_hash: token_hash.to_owned(),
            expires_at: minutes_after(now, PASSWORD_RESET_VALID_MINUTES),
            at: now,
        }])
    }

    /// The link is checked before the new password, so every wrong link gets the same answer
    /// whatever comes with it.
    fn decide_complete_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        if !self.reset_is_valid(token_hash, now) {
            return Err(reset_invalid());
        }
        check_password_hash(password_hash)?;
        Ok(vec![StaffEvent::StaffPasswordResetCompleted {
            password_hash: password_hash.to_owned(),
            at: now,
        }])
    }
}

impl StaffMember {
    fn created(event: &StaffEvent) -> Option<StaffMember> {
        let StaffEvent::StaffMemberCreated {
            staff_id,
            organisation_siren,
            email,
            first_name,
            last_name,
            grants,
            password_hash,
            created_at,
            ..
        } = event
        else {
            return None;
        };
        Some(StaffMember {
            staff_id: *staff_id,
            organisation_siren: organisation_siren.clone(),
            email: email.clone(),
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            grants: grants.iter().map(|g| (g.shop_id, g.role)).collect(),
            locked: false,
            archived: false,
            must_change_password: true,
            terms_accepted_version: None,
            created_at: *created_at,
            sessions: BTreeMap::new(),
            password_hash: password_hash.clone(),
            failed_sign_ins: 0,
            locked_out_until: None,
            pending_reset: None,
            trusted_devices: Vec::new(),
        })
    }

    fn apply(&mut self, event: &StaffEvent) {
        match event {
            // A stream holds one creation, folded by `StaffAccount::evolve`.
            StaffEvent::StaffMemberCreated { .. } => {}
            StaffEvent::StaffAccessGranted { shop_id, role, .. } => {
                self.grants.insert(*shop_id, *role);
            }
            StaffEvent::StaffAccessRevoked { shop_id, .. } => {
                self.grants.remove(shop_id);
            }
            StaffEvent::StaffMemberLocked { .. } => self.locked = true,
            StaffEvent::StaffMemberUnlocked { .. } => self.locked = false,
            StaffEvent::StaffMemberArchived { .. } => self.archived = true,
            StaffEvent::StaffMemberUnarchived { .. } => self.archived = false,
            StaffEvent::StaffSignedIn {
                session_id,
                token_hash,
                at,
                device_hash,
            } => {
                self.open_session(*session_id, token_hash, *at);
                if let Some(device_hash) = device_hash {
                    self.trust_device(device_hash, *at);
                }
            }
            StaffEvent::StaffTrustedDeviceSignInFailed {
                device_hash,
                failures,
                ..
            } => {
                if *failures >= SIGN_IN_FAILURES_MAX {
                    self.trusted_devices
                        .retain(|d| d.device_hash != *device_hash);
                } else if let Some(device) = self
                    .trusted_devices
                    .iter_mut()
                    .find(|d| d.device_hash == *device_hash)
                {
                    device.failures = *failures;
                }
            }
            StaffEvent::StaffSignInFailed {
                failures,
                locked_out_until,
                ..
            } => {
                self.failed_sign_ins = if locked_out_until.is_some() {
                    0
                } else {
                    *failures
                };
                self.locked_out_until = *locked_out_until;
            }
            StaffEvent::StaffSignedOut { session_id, .. } => {
                self.sessions.remove(session_id);
            }
            StaffEvent::StaffPasswordChanged {
                password_hash,
                kept_session,
                ..
            } => {
                self.password_hash = password_hash.clone();
                self.must_change_password = false;
                self.sessions.retain(|id, _| Some(*id) == *kept_session);
                // A link asked for before the change would undo it: it dies with the old password.
                self.pending_reset = None;
                // Whoever signed in with the old password keeps no way around a lockout.
                self.trusted_devices.clear();
            }
            StaffEvent::StaffTermsAccepted { version, .. } => {
                self.terms_accepted_version = Some(*version);
            }
            StaffEvent::StaffPasswordResetRequested {
                token_hash,
                expires_at,
                at,
            } => {
                self.pending_reset = Some(PendingReset {
                    token_hash: token_hash.clone(),
                    expires_at: *expires_at,
                    requested_at: *at,
                });
            }
            StaffEvent::StaffPasswordResetCompleted { password_hash, .. } => {
                self.start_afresh(password_hash, false);
            }
            StaffEvent::StaffTemporaryPasswordIssued { password_hash, .. } => {
                self.start_afresh(password_hash, true);
            }
        }
        if !self.has_access() {
            self.sessions.clear();
            self.pending_reset = None;
        }
    }

    /// A password set from outside any session (a reset link, a temporary password): every
    /// session, the pending link and a lockout end with the old one.
    fn start_afresh(&mut self, password_hash: &str, must_change_password: bool) {
        self.password_hash = password_hash.to_owned();
        self.must_change_password = must_change_password;
        self.pending_reset = None;
        self.sessions.clear();
        self.failed_sign_ins = 0;
        self.locked_out_until = None;
        self.trusted_devices.clear();
    }

    /// Trusts the device a session was opened from (again, with its count of wrong passwords
    /// back to zero), dropping the oldest beyond [`TRUSTED_DEVICES_MAX`].
    fn trust_device(&mut self, device_hash: &str, at: DateTime<Utc>) {
        if let Some(device) = self
            .trusted_devices
            .iter_mut()
            .find(|d| d.device_hash == device_hash)
        {
            device.failures = 0;
            return;
        }
        if self.trusted_devices.len() >= TRUSTED_DEVICES_MAX {
            self.trusted_devices.remove(0);
        }
        self.trusted_devices.push(TrustedDevice {
            device_hash: device_hash.to_owned(),
            trusted_at: at,
            failures: 0,
        });
    }

    /// Opens a session, ending the oldest ones so that no more than [`STAFF_SESSIONS_MAX`] stay.
    fn open_session(&mut self, session_id: Uuid, token_hash: &str, at: DateTime<Utc>) {
        while self.sessions.len() >= STAFF_SESSIONS_MAX {
            let Some(oldest) = self.oldest_session() else {
                break;
            };
            self.sessions.remove(&oldest);
        }
        self.sessions.insert(
            session_id,
            StaffSession {
                session_id,
                token_hash: token_hash.to_owned(),
                signed_in_at: at,
            },
        );
        self.failed_sign_ins = 0;
        self.locked_out_until = None;
    }
}

/// One staff member's account; empty until `StaffMemberCreated`.
#[derive(Default, Clone, Debug)]
pub struct StaffAccount {
    member: Option<StaffMember>,
}

impl StaffAccount {
    pub fn member(&self) -> Option<&StaffMember> {
        self.member.as_ref()
    }
}

impl Aggregate for StaffAccount {
    type Command = StaffCommand;
    type Event = StaffEvent;
    const STREAM_KIND: &'static str = "staff";

    fn decide(
        &self,
        command: &StaffCommand,
        env: &dyn Environment,
    ) -> Result<Vec<StaffEvent>, DomainError> {
        let now = env.now();
        match &self.member {
            None => decide_on_empty(command, now),
            Some(member) => member.decide(command, now),
        }
    }

    fn evolve(mut self, event: &StaffEvent) -> Self {
        if let Some(created) = StaffMember::created(event) {
            self.member = Some(created);
        } else if let Some(member) = self.member.as_mut() {
            member.apply(event);
        }
        self
    }
}
