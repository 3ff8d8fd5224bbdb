//! Staff of an organisation (identified by its SIREN): managers and employees with a role per
//! shop, who sign in to the back office with their email and a password.
//!
//! Two aggregates:
//! - [`StaffAccount`] (`staff-{staff_id}`): one member's identity, grants per shop, lock and
//!   archive, password, sessions, accepted terms and password reset. The id is derived from the
//!   normalised email ([`staff_id_for`]), so the glue creates it with "no stream" and two
//!   concurrent creations with one email cannot both succeed: one account per email across the
//!   installation, since staff sign in by email alone.
//! - [`StaffRoster`] (`staff-roster-{siren}`): the organisation's members and the seats of its
//!   plan. Access needs a seat: the glue takes one (`TakeSeat`) in the same append that creates
//!   or restores a member, and releases it when the member loses access.
//!
//! Passwords and tokens never enter the domain: the glue hashes them (argon2 for passwords, a
//! digest for session and reset tokens) and passes the hashes and whether a password matched.

mod account;
#[cfg(test)]
mod account_tests;
mod roster;
#[cfg(test)]
mod roster_tests;

pub use account::{
    SignInDevice, StaffAccount, StaffCommand, StaffEvent, StaffMember, StaffSession, TrustedDevice,
    CURRENT_TERMS_VERSION, PASSWORD_RESET_REQUEST_INTERVAL_SECONDS, PASSWORD_RESET_VALID_MINUTES,
    SIGN_IN_FAILURES_MAX, SIGN_IN_LOCKOUT_MINUTES, STAFF_GRANTS_MAX, STAFF_NAME_CHARS_MAX,
    STAFF_SESSIONS_MAX, TRUSTED_DEVICES_MAX,
};
pub use roster::{
    StaffRoster, StaffRosterCommand, StaffRosterEvent, DEFAULT_STAFF_SEATS, ROSTER_MEMBERS_MAX,
    STAFF_SEATS_MAX,
};

use crate::shop::Role;
use crate::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The namespace staff ids are derived in. Part of the on-disk format: changing it would give
/// every existing email a new id, and so a second account.
const STAFF_ID_NAMESPACE: Uuid = Uuid::from_u128(0x04ff_ee24_3f22_4836_ab19_7abc_7b41_feb1);

/// The id of the staff account of `normalised_email`: the same email always gives the same id.
pub fn staff_id_for(normalised_email: &str) -> Uuid {
    Uuid::new_v5(&STAFF_ID_NAMESPACE, normalised_email.as_bytes())
}

/// Stream of one staff account.
pub fn stream_id(staff_id: Uuid) -> String {
    format!("{}-{staff_id}", StaffAccount::STREAM_KIND)
}

/// Stream of the staff roster of the organisation `siren`.
pub fn roster_stream_id(siren: &str) -> String {
    format!("{}-{siren}", StaffRoster::STREAM_KIND)
}

/// What a staff member is in one shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Responsable de magasin.
    Manager,
    /// Employé de magasin.
    Employee,
}

impl StaffRole {
    /// The role whose permissions the member has in the shop.
    pub fn role(self) -> Role {
        match self {
            StaffRole::Manager => Role::Manager,
            StaffRole::Employee => Role::Employee,
        }
    }
}

/// A role in one shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffGrant {
    pub shop_id: Uuid,
    pub role: StaffRole,
}
