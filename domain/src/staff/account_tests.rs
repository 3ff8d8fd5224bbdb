use super::account::PendingReset;
use super::*;
use crate::fixtures::{id, shop_id};
use crate::shop::Role;
use crate::testing::{given, replay, test_now, TestEnvironment};
use crate::{Aggregate, DomainError};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

const EMAIL: &str = "anne.dupont@studio-lumiere.fr";
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA";

fn staff_id() -> Uuid {
    staff_id_for(EMAIL)
}

fn other_shop() -> Uuid {
    id(0x5101)
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

fn create() -> StaffCommand {
    StaffCommand::Create {
        staff_id: staff_id(),
        organisation_siren: "812345678".into(),
        email: "  Anne.Dupont@Studio-Lumiere.FR ".into(),
        first_name: " Anne ".into(),
        last_name: "Dupont".into(),
        grants: vec![StaffGrant {
            shop_id: shop_id(),
            role: StaffRole::Employee,
        }],
        password_hash: HASH.into(),
        created_by: "owner@studio-lumiere.fr".into(),
    }
}

fn created() -> StaffEvent {
    StaffEvent::StaffMemberCreated {
        staff_id: staff_id(),
        organisation_siren: "812345678".into(),
        email: EMAIL.into(),
        first_name: "Anne".into(),
        last_name: "Dupont".into(),
        grants: vec![StaffGrant {
            shop_id: shop_id(),
            role: StaffRole::Employee,
        }],
        password_hash: HASH.into(),
        created_by: "owner@studio-lumiere.fr".into(),
        created_at: test_now(),
    }
}

fn by() -> String {
    "owner@studio-lumiere.fr".into()
}

fn granted(shop: Uuid, role: StaffRole) -> StaffEvent {
    StaffEvent::StaffAccessGranted {
        shop_id: shop,
        role,
        by: by(),
        at: test_now(),
    }
}

fn revoked(shop: Uuid) -> StaffEvent {
    StaffEvent::StaffAccessRevoked {
        shop_id: shop,
        by: by(),
        at: test_now(),
    }
}

fn locked() -> StaffEvent {
    StaffEvent::StaffMemberLocked {
        by: by(),
        at: test_now(),
    }
}

fn unlocked() -> StaffEvent {
    StaffEvent::StaffMemberUnlocked {
        by: by(),
        at: test_now(),
    }
}

fn archived() -> StaffEvent {
    StaffEvent::StaffMemberArchived {
        by: by(),
        at: test_now(),
    }
}

fn unarchived() -> StaffEvent {
    StaffEvent::StaffMemberUnarchived {
        by: by(),
        at: test_now(),
    }
}

fn session(n: u128) -> Uuid {
    id(0x5E55_0000 + n)
}

fn token(n: u128) -> String {
    format!("{n:064x}")
}

/// The hash of the device token the glue makes for sign-in `n`.
fn device(n: u128) -> String {
    format!("{:064x}", 0x00DE_71CE_0000 + n)
}

fn signed_in_at(n: u128, at: DateTime<Utc>) -> StaffEvent {
    StaffEvent::StaffSignedIn {
        session_id: session(n),
        token_hash: token(n),
        at,
        device_hash: Some(device(n)),
    }
}

fn signed_in(n: u128) -> StaffEvent {
    signed_in_at(n, test_now())
}

fn sign_in(n: u128, password_matches: bool) -> StaffCommand {
    sign_in_from(n, password_matches, None)
}

/// Sign-in `n` from the device whose token hashes to `presented`, if any.
fn sign_in_from(n: u128, password_matches: bool, presented: Option<String>) -> StaffCommand {
    StaffCommand::SignIn {
        session_id: session(n),
        token_hash: token(n),
        password_matches,
        device: SignInDevice {
            presented_hash: presented,
            fresh_hash: device(n),
        },
    }
}

fn failed(failures: u32, locked_out_until: Option<DateTime<Utc>>) -> StaffEvent {
    StaffEvent::StaffSignInFailed {
        failures,
        locked_out_until,
        at: test_now(),
    }
}

fn reset_requested(token_hash: &str, at: DateTime<Utc>) -> StaffEvent {
    StaffEvent::StaffPasswordResetRequested {
        token_hash: token_hash.into(),
        expires_at: at + minutes(PASSWORD_RESET_VALID_MINUTES),
        at,
    }
}

fn complete_reset(token_hash: &str) -> StaffCommand {
    StaffCommand::CompletePasswordReset {
        token_hash: token_hash.into(),
        password_hash: NEW_HASH.into(),
    }
}

fn member(state: &StaffAccount) -> &StaffMember {
    state.member().expect("a member")
}

fn member_after(events: &[StaffEvent]) -> StaffMember {
    member(&replay::<StaffAccount>(events)).clone()
}

fn reset_invalid() -> DomainError {
    DomainError::unprocessable(
        "password-reset-invalid",
        "this reset link is unknown, used or expired",
    )
}

#[test]
fn creates_a_member_who_must_change_the_password_and_accept_the_terms() {
    // Proves the email is normalised, the names trimmed, and a new member has access but must
    // choose a password and accept the terms at first sign-in.
    let state = given::<StaffAccount>([]).when(create()).then([created()]);
    let member = member(&state);
    assert_eq!(member.email, EMAIL);
    assert_eq!(member.first_name, "Anne");
    assert_eq!(member.role_in(shop_id()), Some(StaffRole::Employee));
    assert_eq!(member.role_in(other_shop()), None);
    assert!(member.has_access());
    assert!(member.needs_password_change());
    assert!(member.needs_terms());
    assert_eq!(member.terms_accepted_version, None);
    assert!(member.sessions.is_empty());
}

#[test]
fn a_second_creation_on_the_stream_is_refused() {
    // Proves one account per email: the stream of a derived id is created once.
    given::<StaffAccount>([created()])
        .when(create())
        .then_err(|e| *e == DomainError::already_exists("staff member", staff_id()));
}

#[test]
fn the_id_must_be_the_one_derived_from_the_email() {
    // Proves a caller cannot create an account under an id another email derives to.
    let mut command = create();
    set(&mut command, |f| {
        *f.staff_id = staff_id_for("someone.else@studio-lumiere.fr")
    });
    given::<StaffAccount>([])
        .when(command)
        .then_err(|e| matches!(e, DomainError::Validation { field, .. } if field == "staff_id"));
}

#[test]
fn creation_inputs_are_checked() {
    // Proves a bad email, name, SIREN, grant list, password hash or author refuses the creation.
    type Change = fn(&mut StaffCommand);
    let long_name = "é".repeat(STAFF_NAME_CHARS_MAX + 1);
    let cases: [(&str, Change); 14] = [
        ("email", |c| set(c, |f| *f.email = "anne-at-studio".into())),
        ("first_name", |c| set(c, |f| *f.first_name = "  ".into())),
        ("last_name", |c| set(c, |f| *f.last_name = String::new())),
        ("last_name", |c| {
            set(c, |f| *f.last_name = "Du\u{7}pont".into())
        }),
        ("organisation_siren", |c| {
            set(c, |f| *f.organisation_siren = "81234567".into())
        }),
        ("organisation_siren", |c| {
            set(c, |f| *f.organisation_siren = "81234567A".into())
        }),
        ("grants", |c| set(c, |f| f.grants.clear())),
        ("grants", |c| {
            set(c, |f| {
                *f.grants = (0..=STAFF_GRANTS_MAX as u128)
                    .map(|n| StaffGrant {
                        shop_id: id(n + 1),
                        role: StaffRole::Employee,
                    })
                    .collect()
            })
        }),
        ("grants", |c| {
            set(c, |f| {
                let twice = f.grants[0];
                f.grants.push(StaffGrant {
                    role: StaffRole::Manager,
                    ..twice
                })
            })
        }),
        ("password_hash", |c| set(c, |f| f.password_hash.clear())),
        ("password_hash", |c| {
            set(c, |f| *f.password_hash = "x".repeat(513))
        }),
        ("created_by", |c| set(c, |f| f.created_by.clear())),
        ("created_by", |c| {
            set(c, |f| *f.created_by = " owner".into())
        }),
        ("email", |c| set(c, |f| *f.email = "anne@localhost".into())),
    ];
    for (field, change) in cases {
        let mut command = create();
        change(&mut command);
        given::<StaffAccount>([])
            .when(command)
            .then_err(|e| matches!(e, DomainError::Validation { field: f, .. } if f == field));
    }
    let mut command = create();
    set(&mut command, |f| *f.first_name = long_name.clone());
    given::<StaffAccount>([])
        .when(command)
        .then_err_code("validation");
    let mut longest = create();
    set(&mut longest, |f| {
        *f.first_name = "é".repeat(STAFF_NAME_CHARS_MAX)
    });
    assert_eq!(given::<StaffAccount>([]).when(longest).events().len(), 1);
}

/// The fields of a `Create`, to change one in a test.
struct CreateFields<'a> {
    staff_id: &'a mut Uuid,
    organisation_siren: &'a mut String,
    email: &'a mut String,
    first_name: &'a mut String,
    last_name: &'a mut String,
    grants: &'a mut Vec<StaffGrant>,
    password_hash: &'a mut String,
    created_by: &'a mut String,
}

fn set(command: &mut StaffCommand, change: impl FnOnce(CreateFields<'_>)) {
    if let StaffCommand::Create {
        staff_id,
        organisation_siren,
        email,
        first_name,
        last_name,
        grants,
        password_hash,
        created_by,
    } = command
    {
        change(CreateFields {
            staff_id,
            organisation_siren,
            email,
            first_name,
            last_name,
            grants,
            password_hash,
            created_by,
        });
    }
}

#[test]
fn every_other_command_on_an_empty_stream_finds_no_member() {
    // Proves nothing happens to an account that does not exist, and that a reset link naming
    // one is refused like any wrong link (nobody learns which emails have an account).
    let commands = [
        StaffCommand::Grant {
            shop_id: shop_id(),
            role: StaffRole::Manager,
            by: by(),
        },
        StaffCommand::Revoke {
            shop_id: shop_id(),
            by: by(),
        },
        StaffCommand::Lock { by: by() },
        StaffCommand::Unlock { by: by() },
        StaffCommand::Archive { by: by() },
        StaffCommand::Unarchive { by: by() },
        sign_in(1, true),
        StaffCommand::SignOut {
            session_id: session(1),
        },
        StaffCommand::ChangePassword {
            password_hash: NEW_HASH.into(),
            keep_session: None,
        },
        StaffCommand::AcceptTerms { version: 1 },
        StaffCommand::RequestPasswordReset {
            token_hash: token(9),
        },
    ];
    for command in commands {
        given::<StaffAccount>([])
            .when(command)
            .then_err_code("not-found");
    }
    given::<StaffAccount>([])
        .when(complete_reset(&token(9)))
        .then_err(|e| *e == reset_invalid());
}

#[test]
fn grants_a_role_in_a_new_shop_or_changes_the_role_held() {
    // Proves a grant adds a shop, changes the role in a shop held, and the same role again
    // appends nothing.
    let grant = |shop, role| StaffCommand::Grant {
        shop_id: shop,
        role,
        by: by(),
    };
    let state = given::<StaffAccount>([created()])
        .when(grant(other_shop(), StaffRole::Manager))
        .then([granted(other_shop(), StaffRole::Manager)]);
    assert_eq!(
        member(&state).role_in(other_shop()),
        Some(StaffRole::Manager)
    );
    given::<StaffAccount>([created()])
        .when(grant(shop_id(), StaffRole::Manager))
        .then([granted(shop_id(), StaffRole::Manager)]);
    given::<StaffAccount>([created()])
        .when(grant(shop_id(), StaffRole::Employee))
        .then([]);
}

#[test]
fn an_archived_member_is_given_no_role() {
    // Proves roles are given to members in use only: unarchive first.
    given::<StaffAccount>([created(), archived()])
        .when(StaffCommand::Grant {
            shop_id: other_shop(),
            role: StaffRole::Manager,
            by: by(),
        })
        .then_err_code("staff-member-archived");
}

#[test]
fn a_member_has_a_role_in_at_most_64_shops() {
    // Proves the grant limit refuses a new shop but lets a role held change.
    let mut history = vec![created()];
    history.extend((1..STAFF_GRANTS_MAX as u128).map(|n| granted(id(n), StaffRole::Employee)));
    assert_eq!(member_after(&history).grants.len(), STAFF_GRANTS_MAX);
    given::<StaffAccount>(history.clone())
        .when(StaffCommand::Grant {
            shop_id: other_shop(),
            role: StaffRole::Employee,
            by: by(),
        })
        .then_err(|e| {
            *e == DomainError::LimitExceeded {
                what: "shops one staff member has a role in",
                limit: STAFF_GRANTS_MAX as u64,
            }
        });
    given::<StaffAccount>(history)
        .when(StaffCommand::Grant {
            shop_id: id(1),
            role: StaffRole::Manager,
            by: by(),
        })
        .then([granted(id(1), StaffRole::Manager)]);
}

#[test]
fn the_author_of_a_change_is_named() {
    // Proves an empty or oversized `by` refuses a change.
    for by in [String::new(), "x".repeat(201)] {
        given::<StaffAccount>([created()])
            .when(StaffCommand::Lock { by })
            .then_err_code("validation");
    }
}

#[test]
fn revokes_a_role_and_nothing_for_a_shop_without_one() {
    // Proves a revoke removes the shop, and a shop without a role appends nothing.
    let revoke = |shop| StaffCommand::Revoke {
        shop_id: shop,
        by: by(),
    };
    given::<StaffAccount>([created(), granted(other_shop(), StaffRole::Manager)])
        .when(revoke(other_shop()))
        .then([revoked(other_shop())]);
    given::<StaffAccount>([created()])
        .when(revoke(other_shop()))
        .then([]);
}

#[test]
fn revoking_the_last_role_is_allowed_and_ends_access() {
    // Proves a member may be left without any shop, and is then out at once.
    let state = given::<StaffAccount>([created(), signed_in(1)])
        .when(StaffCommand::Revoke {
            shop_id: shop_id(),
            by: by(),
        })
        .then([revoked(shop_id())]);
    let member = member(&state);
    assert!(!member.has_access());
    assert!(member.sessions.is_empty());
}

#[test]
fn lock_unlock_archive_unarchive_append_nothing_when_already_so() {
    // Proves each change happens once and a repeat is answered with no event.
    let cases = [
        (
            vec![created()],
            StaffCommand::Lock { by: by() },
            Some(locked()),
        ),
        (
            vec![created(), locked()],
            StaffCommand::Lock { by: by() },
            None,
        ),
        (
            vec![created(), locked()],
            StaffCommand::Unlock { by: by() },
            Some(unlocked()),
        ),
        (vec![created()], StaffCommand::Unlock { by: by() }, None),
        (
            vec![created()],
            StaffCommand::Archive { by: by() },
            Some(archived()),
        ),
        (
            vec![created(), archived()],
            StaffCommand::Archive { by: by() },
            None,
        ),
        (
            vec![created(), archived()],
            StaffCommand::Unarchive { by: by() },
            Some(unarchived()),
        ),
        (vec![created()], StaffCommand::Unarchive { by: by() }, None),
    ];
    for (history, command, expected) in cases {
        given::<StaffAccount>(history).when(command).then(expected);
    }
}

#[test]
fn unarchiving_leaves_a_lock_in_place() {
    // Proves lock and archive are independent: a locked member archived then unarchived is
    // still locked, and has no access until unlocked.
    let state = given::<StaffAccount>([created(), locked(), archived()])
        .when(StaffCommand::Unarchive { by: by() })
        .then([unarchived()]);
    assert!(member(&state).locked);
    assert!(!member(&state).has_access());
    let state = given::<StaffAccount>([created(), locked(), archived(), unarchived()])
        .when(StaffCommand::Unlock { by: by() })
        .then([unlocked()]);
    assert!(member(&state).has_access());
}

#[test]
fn losing_access_ends_every_session_and_the_pending_reset_at_once() {
    // Proves a lock, an archive or the last revoke leaves the member with no session and no
    // usable reset link, and that regaining access brings neither back.
    let before = [
        created(),
        signed_in(1),
        signed_in(2),
        reset_requested(&token(9), test_now()),
    ];
    assert_eq!(member_after(&before).sessions.len(), 2);
    for loss in [locked(), archived(), revoked(shop_id())] {
        let mut history = before.to_vec();
        history.push(loss.clone());
        let member = member_after(&history);
        assert!(!member.has_access(), "{loss:?}");
        assert!(member.sessions.is_empty(), "{loss:?}");
        assert_eq!(member.pending_reset, None, "{loss:?}");
        assert_eq!(member.session_by_token_hash(&token(1)), None);
    }
    let restored = member_after(&[before.to_vec(), vec![locked(), unlocked()]].concat());
    assert!(restored.has_access());
    assert!(restored.sessions.is_empty());
    assert_eq!(restored.pending_reset, None);
}

#[test]
fn signs_in_with_the_right_password() {
    // Proves a sign-in opens a session found by its token's hash, and clears the wrong
    // passwords counted before it.
    let state = given::<StaffAccount>([created(), failed(1, None), failed(2, None)])
        .when(sign_in(1, true))
        .then([signed_in(1)]);
    let member = member(&state);
    assert_eq!(member.failed_sign_ins, 0);
    assert_eq!(
        member.session_by_token_hash(&token(1)),
        Some(&StaffSession {
            session_id: session(1),
            token_hash: token(1),
            signed_in_at: test_now(),
        })
    );
    assert_eq!(member.session_by_token_hash(&token(2)), None);
}

#[test]
fn a_sign_in_carries_a_token_hash_and_a_new_session() {
    // Proves an empty session or device token hash is refused and a session id already open
    // is not reused.
    given::<StaffAccount>([created()])
        .when(StaffCommand::SignIn {
            session_id: session(1),
            token_hash: String::new(),
            password_matches: true,
            device: SignInDevice {
                presented_hash: None,
                fresh_hash: device(1),
            },
        })
        .then_err_code("validation");
    given::<StaffAccount>([created()])
        .when(StaffCommand::SignIn {
            session_id: session(1),
            token_hash: token(1),
            password_matches: true,
            device: SignInDevice {
                presented_hash: None,
                fresh_hash: String::new(),
            },
        })
        .then_err_code("validation");
    given::<StaffAccount>([created(), signed_in(1)])
        .when(sign_in(1, true))
        .then_err_code("already-exists");
}

#[test]
fn a_wrong_password_is_counted_and_the_fifth_locks_sign_in_out() {
    // Proves failures are recorded one by one, the fifth in a row locks sign-in out for 15
    // minutes, and the count then starts again.
    given::<StaffAccount>([created()])
        .when(sign_in(1, false))
        .then([failed(1, None)]);
    let four: Vec<StaffEvent> = std::iter::once(created())
        .chain((1..SIGN_IN_FAILURES_MAX).map(|n| failed(n, None)))
        .collect();
    let until = test_now() + minutes(SIGN_IN_LOCKOUT_MINUTES);
    let state = given::<StaffAccount>(four)
        .when(sign_in(1, false))
        .then([failed(SIGN_IN_FAILURES_MAX, Some(until))]);
    assert_eq!(member(&state).failed_sign_ins, 0);
    assert_eq!(member(&state).locked_out_until, Some(until));
}

#[test]
fn sign_in_is_refused_during_a_lockout_and_allowed_after_it() {
    // Proves a lockout refuses even the right password, names when it ends, and no longer
    // blocks from that instant.
    let until = test_now() + minutes(SIGN_IN_LOCKOUT_MINUTES);
    let history = [created(), failed(SIGN_IN_FAILURES_MAX, Some(until))];
    for password_matches in [true, false] {
        given::<StaffAccount>(history.clone())
            .at(until - Duration::seconds(1))
            .when(sign_in(1, password_matches))
            .then_err(|e| {
                e.code() == "sign-in-locked-out" && e.to_string().contains(&until.to_rfc3339())
            });
    }
    let state = given::<StaffAccount>(history)
        .at(until)
        .when(sign_in(1, true))
        .then([signed_in_at(1, until)]);
    assert_eq!(member(&state).locked_out_until, None);
}

#[test]
fn the_right_password_without_access_is_refused() {
    // Proves a locked, archived or shopless member cannot sign in, while a wrong password is
    // still counted (a guesser cannot tell the two apart).
    for loss in [locked(), archived(), revoked(shop_id())] {
        given::<StaffAccount>([created(), loss.clone()])
            .when(sign_in(1, true))
            .then_err_code("staff-access-revoked");
        given::<StaffAccount>([created(), loss])
            .when(sign_in(1, false))
            .then([failed(1, None)]);
    }
}

#[test]
fn a_ninth_session_ends_the_oldest() {
    // Proves a member never holds more than 8 sessions: the one signed in first ends, ties
    // broken by the smaller session id.
    let mut history = vec![created()];
    history.push(signed_in_at(2, test_now() - minutes(10)));
    history.push(signed_in_at(1, test_now() - minutes(10)));
    history.extend((3..=STAFF_SESSIONS_MAX as u128).map(signed_in));
    assert_eq!(member_after(&history).sessions.len(), STAFF_SESSIONS_MAX);
    let state = given::<StaffAccount>(history.clone())
        .when(sign_in(9, true))
        .then([signed_in(9)]);
    let sessions = &member(&state).sessions;
    assert_eq!(sessions.len(), STAFF_SESSIONS_MAX);
    assert!(!sessions.contains_key(&session(1)));
    assert!(sessions.contains_key(&session(2)));
    assert!(sessions.contains_key(&session(9)));
}

#[test]
fn signs_out_an_open_session_only() {
    // Proves sign-out ends that session and an unknown one appends nothing.
    let sign_out = |n| StaffCommand::SignOut {
        session_id: session(n),
    };
    let state = given::<StaffAccount>([created(), signed_in(1), signed_in(2)])
        .when(sign_out(1))
        .then([StaffEvent::StaffSignedOut {
            session_id: session(1),
            at: test_now(),
        }]);
    assert_eq!(
        member(&state).sessions.keys().copied().collect::<Vec<_>>(),
        [session(2)]
    );
    given::<StaffAccount>([created(), signed_in(1)])
        .when(sign_out(3))
        .then([]);
}

#[test]
fn changing_the_password_keeps_only_the_session_it_was_made_from() {
    // Proves the new hash is taken, the forced change is done, and every other session ends
    // (all of them when none is kept).
    let change = |keep_session| StaffCommand::ChangePassword {
        password_hash: NEW_HASH.into(),
        keep_session,
    };
    let changed = |kept_session| StaffEvent::StaffPasswordChanged {
        password_hash: NEW_HASH.into(),
        kept_session,
        at: test_now(),
    };
    let history = [created(), signed_in(1), signed_in(2)];
    let state = given::<StaffAccount>(history.clone())
        .when(change(Some(session(2))))
        .then([changed(Some(session(2)))]);
    let member = member(&state);
    assert_eq!(member.password_hash, NEW_HASH);
    assert!(!member.needs_password_change());
    assert_eq!(
        member.sessions.keys().copied().collect::<Vec<_>>(),
        [session(2)]
    );
    let state = given::<StaffAccount>(history)
        .when(change(None))
        .then([changed(None)]);
    assert!(state.member().is_some_and(|m| m.sessions.is_empty()));
}

#[test]
fn changing_the_password_ends_a_pending_reset_link() {
    // Proves a reset link asked for before a password change no longer works after it.
    let changed = StaffEvent::StaffPasswordChanged {
        password_hash: NEW_HASH.into(),
        kept_session: None,
        at: test_now(),
    };
    given::<StaffAccount>([created(), reset_requested("reset-1", test_now()), changed])
        .when(complete_reset("reset-1"))
        .then_err(|error| *error == reset_invalid());
}

#[test]
fn changing_the_password_needs_access_a_hash_and_an_open_kept_session() {
    // Proves a member without access, an empty hash or an unknown kept session is refused.
    given::<StaffAccount>([created(), signed_in(1), locked()])
        .when(StaffCommand::ChangePassword {
            password_hash: NEW_HASH.into(),
            keep_session: None,
        })
        .then_err_code("staff-access-revoked");
    given::<StaffAccount>([created()])
        .when(StaffCommand::ChangePassword {
            password_hash: String::new(),
            keep_session: None,
        })
        .then_err_code("validation");
    given::<StaffAccount>([created(), signed_in(1)])
        .when(StaffCommand::ChangePassword {
            password_hash: NEW_HASH.into(),
            keep_session: Some(session(2)),
        })
        .then_err(|e| *e == DomainError::not_found("session", session(2)));
}

#[test]
fn accepts_the_current_terms_once() {
    // Proves versions outside 1..=current are refused, the current one is recorded once and
    // the member then needs no terms.
    for version in [0, CURRENT_TERMS_VERSION + 1] {
        given::<StaffAccount>([created()])
            .when(StaffCommand::AcceptTerms { version })
            .then_err_code("validation");
    }
    let accepted = StaffEvent::StaffTermsAccepted {
        version: CURRENT_TERMS_VERSION,
        at: test_now(),
    };
    let state = given::<StaffAccount>([created()])
        .when(StaffCommand::AcceptTerms {
            version: CURRENT_TERMS_VERSION,
        })
        .then([accepted.clone()]);
    assert!(!member(&state).needs_terms());
    given::<StaffAccount>([created(), accepted])
        .when(StaffCommand::AcceptTerms {
            version: CURRENT_TERMS_VERSION,
        })
        .then([]);
}

#[test]
fn a_reset_link_is_mailed_to_a_member_with_access_only() {
    // Proves a request records a link valid 60 minutes, a later one replaces it (not within a
    // minute of the last: nothing then), and a member without access gets none (the glue
    // answers the same either way).
    let request = |n| StaffCommand::RequestPasswordReset {
        token_hash: token(n),
    };
    let first = reset_requested(&token(8), test_now() - minutes(5));
    let state = given::<StaffAccount>([created(), first])
        .when(request(9))
        .then([reset_requested(&token(9), test_now())]);
    assert_eq!(
        member(&state).pending_reset,
        Some(PendingReset {
            token_hash: token(9),
            expires_at: test_now() + minutes(PASSWORD_RESET_VALID_MINUTES),
            requested_at: test_now(),
        })
    );
    let just_before =
        test_now() - chrono::Duration::seconds(PASSWORD_RESET_REQUEST_INTERVAL_SECONDS - 1);
    given::<StaffAccount>([created(), reset_requested(&token(8), just_before)])
        .when(request(9))
        .then([]);
    for loss in [locked(), archived(), revoked(shop_id())] {
        given::<StaffAccount>([created(), loss])
            .when(request(9))
            .then([]);
    }
    given::<StaffAccount>([created()])
        .when(StaffCommand::RequestPasswordReset {
            token_hash: String::new(),
        })
        .then_err_code("validation");
}

#[test]
fn a_reset_link_sets_the_password_once_and_ends_every_session() {
    // Proves the reset takes the member's chosen password, cannot be used twice, ends every
    // session and clears a lockout.
    let until = test_now() + minutes(SIGN_IN_LOCKOUT_MINUTES);
    let history = [
        created(),
        signed_in(1),
        failed(SIGN_IN_FAILURES_MAX, Some(until)),
        reset_requested(&token(9), test_now() - minutes(5)),
    ];
    let completed = StaffEvent::StaffPasswordResetCompleted {
        password_hash: NEW_HASH.into(),
        at: test_now(),
    };
    let state = given::<StaffAccount>(history.clone())
        .when(complete_reset(&token(9)))
        .then([completed.clone()]);
    let member = member(&state);
    assert_eq!(member.password_hash, NEW_HASH);
    assert_eq!(member.pending_reset, None);
    assert!(!member.needs_password_change());
    assert!(member.sessions.is_empty());
    assert_eq!((member.failed_sign_ins, member.locked_out_until), (0, None));
    let mut used = history.to_vec();
    used.push(completed);
    given::<StaffAccount>(used)
        .when(complete_reset(&token(9)))
        .then_err(|e| *e == reset_invalid());
}

#[test]
fn every_wrong_reset_link_gets_the_same_answer() {
    // Proves an unknown, replaced, expired or never-requested link, and one for a member who
    // lost access since, are all refused with one and the same error.
    let requested_at = test_now() - minutes(PASSWORD_RESET_VALID_MINUTES);
    let expires_at = requested_at + minutes(PASSWORD_RESET_VALID_MINUTES);
    let cases: [(Vec<StaffEvent>, &str); 5] = [
        (vec![created()], "never requested"),
        (
            vec![created(), reset_requested(&token(8), test_now())],
            "another token",
        ),
        (
            vec![
                created(),
                reset_requested(&token(9), test_now()),
                reset_requested(&token(8), test_now()),
            ],
            "replaced",
        ),
        (
            vec![created(), reset_requested(&token(9), requested_at)],
            "expired",
        ),
        (
            vec![
                created(),
                reset_requested(&token(9), test_now()),
                locked(),
                unlocked(),
            ],
            "access lost since",
        ),
    ];
    assert_eq!(expires_at, test_now());
    for (history, case) in cases {
        let result = replay::<StaffAccount>(&history)
            .decide(&complete_reset(&token(9)), &TestEnvironment::new());
        assert_eq!(result, Err(reset_invalid()), "{case}");
    }
    given::<StaffAccount>([created(), reset_requested(&token(9), test_now()), locked()])
        .when(complete_reset(&token(9)))
        .then_err(|e| *e == reset_invalid());
}

#[test]
fn a_reset_needs_a_new_password_hash() {
    // Proves a valid link with an empty hash is refused and the link stays usable.
    given::<StaffAccount>([created(), reset_requested(&token(9), test_now())])
        .when(StaffCommand::CompletePasswordReset {
            token_hash: token(9),
            password_hash: String::new(),
        })
        .then_err_code("validation");
}

#[test]
fn staff_ids_and_streams_are_stable() {
    // Proves the id of an email never drifts (it is the stream name of existing accounts) and
    // the stream names are those the glue appends to.
    assert_eq!(staff_id_for(EMAIL), staff_id_for(EMAIL));
    assert_ne!(staff_id_for(EMAIL), staff_id_for("other@studio-lumiere.fr"));
    assert_eq!(
        staff_id_for(EMAIL).to_string(),
        "7704b9f9-c772-5d01-9b6f-23d95dc60710"
    );
    let staff = Uuid::from_u128(0xABC);
    assert_eq!(
        stream_id(staff),
        "staff-00000000-0000-0000-0000-000000000abc"
    );
    assert_eq!(roster_stream_id("812345678"), "staff-roster-812345678");
}

#[test]
fn staff_roles_are_shop_roles() {
    // Proves a staff role gives the permissions of the shop role of the same name, and is
    // written in snake case.
    assert_eq!(StaffRole::Manager.role(), Role::Manager);
    assert_eq!(StaffRole::Employee.role(), Role::Employee);
    let json = serde_json::to_value(StaffGrant {
        shop_id: shop_id(),
        role: StaffRole::Employee,
    })
    .expect("serializes");
    assert_eq!(json["role"], "employee");
    assert_eq!(
        json["shop_id"],
        serde_json::Value::String(shop_id().to_string())
    );
}

/// The event's type and its field names, as written to the log.
fn field_names(event: &impl serde::Serialize) -> (String, Vec<String>) {
    let value = serde_json::to_value(event).expect("serializes");
    let (name, fields) = value
        .as_object()
        .and_then(|o| o.iter().next())
        .expect("externally tagged");
    let mut names: Vec<String> = fields
        .as_object()
        .expect("fields")
        .keys()
        .cloned()
        .collect();
    names.sort();
    (name.clone(), names)
}

#[test]
fn events_are_written_with_the_listed_field_names() {
    // Proves the on-disk names of the staff account's events.
    let until = Some(test_now());
    let events = [
        (created(), "created_at created_by email first_name grants last_name organisation_siren password_hash staff_id"),
        (granted(shop_id(), StaffRole::Manager), "at by role shop_id"),
        (revoked(shop_id()), "at by shop_id"),
        (locked(), "at by"),
        (unlocked(), "at by"),
        (archived(), "at by"),
        (unarchived(), "at by"),
        (signed_in(1), "at device_hash session_id token_hash"),
        (failed(5, until), "at failures locked_out_until"),
        (device_failed(1, 2), "at device_hash failures"),
        (StaffEvent::StaffSignedOut { session_id: session(1), at: test_now() }, "at session_id"),
        (
            StaffEvent::StaffPasswordChanged { password_hash: NEW_HASH.into(), kept_session: None, at: test_now() },
            "at kept_session password_hash",
        ),
        (StaffEvent::StaffTermsAccepted { version: 1, at: test_now() }, "at version"),
        (reset_requested(&token(9), test_now()), "at expires_at token_hash"),
        (
            StaffEvent::StaffPasswordResetCompleted { password_hash: NEW_HASH.into(), at: test_now() },
            "at password_hash",
        ),
    ];
    for (event, fields) in events {
        let (name, names) = field_names(&event);
        assert_eq!(name, crate::DomainEvent::event_type(&event));
        assert_eq!(names.join(" "), fields, "{name}");
        let back: StaffEvent =
            serde_json::from_value(serde_json::to_value(&event).expect("serializes"))
                .expect("deserializes");
        assert_eq!(back, event);
    }
    let grant =
        &serde_json::to_value(created()).expect("serializes")["StaffMemberCreated"]["grants"][0];
    let mut grant_fields: Vec<&String> = grant.as_object().expect("grant").keys().collect();
    grant_fields.sort();
    assert_eq!(grant_fields, ["role", "shop_id"]);
}

#[test]
fn a_temporary_password_replaces_a_forgotten_one_and_must_be_changed_again() {
    // Proves the owner's or a manager's temporary password: taken, to be changed at the next
    // sign-in, every session, a pending reset link and a lockout ended; refused without access.
    let until = test_now() + minutes(SIGN_IN_LOCKOUT_MINUTES);
    let reset_before = reset_requested(&token(9), test_now() - minutes(5));
    let changed = StaffEvent::StaffPasswordChanged {
        password_hash: HASH.into(),
        kept_session: None,
        at: test_now(),
    };
    let history = [
        created(),
        changed,
        signed_in(1),
        failed(SIGN_IN_FAILURES_MAX, Some(until)),
        reset_before,
    ];
    let issue = || StaffCommand::IssueTemporaryPassword {
        password_hash: NEW_HASH.into(),
        by: "owner".into(),
    };
    let state = given::<StaffAccount>(history.clone()).when(issue()).then([
        StaffEvent::StaffTemporaryPasswordIssued {
            password_hash: NEW_HASH.into(),
            by: "owner".into(),
            at: test_now(),
        },
    ]);
    let member = member(&state);
    assert_eq!(member.password_hash, NEW_HASH);
    assert!(member.needs_password_change());
    assert!(member.sessions.is_empty());
    assert_eq!(member.locked_out_until, None);
    given::<StaffAccount>(
        history
            .into_iter()
            .chain([StaffEvent::StaffTemporaryPasswordIssued {
                password_hash: NEW_HASH.into(),
                by: "owner".into(),
                at: test_now(),
            }]),
    )
    .when(complete_reset(&token(9)))
    .then_err(|error| *error == reset_invalid());
    given::<StaffAccount>([created(), locked()])
        .when(issue())
        .then_err_code("staff-access-revoked");
    given::<StaffAccount>([])
        .when(issue())
        .then_err_code("not-found");
}

fn device_failed(n: u128, failures: u32) -> StaffEvent {
    StaffEvent::StaffTrustedDeviceSignInFailed {
        device_hash: device(n),
        failures,
        at: test_now(),
    }
}

/// A member who signed in once (from device 1), then was locked out by five wrong passwords
/// from elsewhere.
fn locked_out_by_a_stranger() -> Vec<StaffEvent> {
    let until = test_now() + minutes(SIGN_IN_LOCKOUT_MINUTES);
    vec![
        created(),
        signed_in(1),
        failed(SIGN_IN_FAILURES_MAX, Some(until)),
    ]
}

#[test]
fn a_device_signed_in_from_before_is_not_locked_out_by_a_stranger() {
    // Proves the lockout others caused stops unknown devices and no device, but not the one
    // the member signed in from, which signs in with its own token again.
    let history = locked_out_by_a_stranger();
    given::<StaffAccount>(history.clone())
        .when(sign_in(2, true))
        .then_err_code("sign-in-locked-out");
    given::<StaffAccount>(history.clone())
        .when(sign_in_from(2, true, Some(device(9))))
        .then_err_code("sign-in-locked-out");
    let account = given::<StaffAccount>(history)
        .when(sign_in_from(2, true, Some(device(1))))
        .then([StaffEvent::StaffSignedIn {
            session_id: session(2),
            token_hash: token(2),
            at: test_now(),
            device_hash: Some(device(1)),
        }]);
    let member = account.member().expect("member");
    assert_eq!(
        member.trusted_devices.len(),
        1,
        "the same device, not a second one"
    );
    assert_eq!(member.locked_out_until, None);
}

#[test]
fn a_trusted_devices_wrong_passwords_count_against_it_alone() {
    // Proves a trusted device's wrong passwords leave the account's count alone, and the fifth
    // in a row makes it a stranger, which the account's lockout then stops like any other.
    let mut history = vec![created(), signed_in(1)];
    for failures in 1..SIGN_IN_FAILURES_MAX {
        let account = given::<StaffAccount>(history.clone())
            .when(sign_in_from(2, false, Some(device(1))))
            .then([device_failed(1, failures)]);
        assert_eq!(account.member().expect("member").failed_sign_ins, 0);
        history.push(device_failed(1, failures));
    }
    let account = given::<StaffAccount>(history.clone())
        .when(sign_in_from(2, false, Some(device(1))))
        .then([device_failed(1, SIGN_IN_FAILURES_MAX)]);
    assert!(account.member().expect("member").trusted_devices.is_empty());
    history.push(device_failed(1, SIGN_IN_FAILURES_MAX));
    given::<StaffAccount>(history)
        .when(sign_in_from(2, false, Some(device(1))))
        .then([failed(1, None)]);
}

#[test]
fn a_new_password_forgets_every_device_and_devices_are_bounded() {
    // Proves a password change forgets the devices signed in with the old password, and only
    // the latest TRUSTED_DEVICES_MAX devices stay trusted.
    let changed = StaffEvent::StaffPasswordChanged {
        password_hash: "$argon2id$v=19$new".into(),
        kept_session: Some(session(1)),
        at: test_now(),
    };
    let account = crate::testing::replay::<StaffAccount>(&[created(), signed_in(1), changed]);
    assert!(account.member().expect("member").trusted_devices.is_empty());
    let many: Vec<StaffEvent> = std::iter::once(created())
        .chain((1..=TRUSTED_DEVICES_MAX as u128 + 2).map(signed_in))
        .collect();
    let account = crate::testing::replay::<StaffAccount>(&many);
    let devices: Vec<String> = account
        .member()
        .expect("member")
        .trusted_devices
        .iter()
        .map(|d| d.device_hash.clone())
        .collect();
    let latest: Vec<String> = (3..=TRUSTED_DEVICES_MAX as u128 + 2).map(device).collect();
    assert_eq!(devices, latest);
}
