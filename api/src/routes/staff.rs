//! Staff accounts and their sign-in (spec §1; seeds 000 and 001).
//!
//! A staff member belongs to one organisation (the SIREN of its shops) and holds a role, manager
//! or employee, in some of its shops. The owner creates anyone; a manager creates and manages
//! employees of the shops they manage. A new member gets a temporary password, shown once, and
//! must replace it (and accept the terms of use) before any other route answers them.
//!
//! Access follows seed 001: a member reaches the back office while not locked, not archived,
//! with a role in some shop, and holding one of the organisation's seats. Every change that
//! gives or takes access takes or releases the seat in the same append as the change, so the
//! seats taken never exceed the plan's, and a lock ends the member's sessions at once.
//!
//! Sign-in, a member's own account and password resets are `staff_sign_in`'s.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use comptoir_domain::customer::normalise_email;
use comptoir_domain::shop::Permission;
use comptoir_domain::staff::{
    self, staff_id_for, StaffAccount, StaffCommand, StaffEvent, StaffGrant, StaffMember, StaffRole,
    StaffRoster, StaffRosterCommand,
};
use comptoir_domain::DomainError;
use comptoir_eventlog::EventLog;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{run, session_shop, with_secret, written_position, Answer};
use crate::auth::{Caller, Principal};
use crate::commands::{CommandError, Executed, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds, JsonBody};
use crate::passwords::temporary_password;
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_member))
        .routes(routes!(get_member))
        .routes(routes!(list_shop_staff))
        .routes(routes!(list_organisation_staff))
        .routes(routes!(add_grant))
        .routes(routes!(delete_grant))
        .routes(routes!(lock_member))
        .routes(routes!(unlock_member))
        .routes(routes!(archive_member))
        .routes(routes!(unarchive_member))
        .routes(routes!(issue_temporary_password))
        .routes(routes!(get_seats, put_seats))
}

/// A staff member's role in a shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRoleDto {
    /// Responsable de magasin: everything in the shop, employees included.
    Manager,
    /// Employé de magasin: reads, and handles orders at the counter.
    Employee,
}

impl From<StaffRoleDto> for StaffRole {
    fn from(role: StaffRoleDto) -> Self {
        match role {
            StaffRoleDto::Manager => StaffRole::Manager,
            StaffRoleDto::Employee => StaffRole::Employee,
        }
    }
}

impl From<StaffRole> for StaffRoleDto {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::Manager => StaffRoleDto::Manager,
            StaffRole::Employee => StaffRoleDto::Employee,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffGrantDto {
    pub shop_id: Uuid,
    pub role: StaffRoleDto,
}

/// A new staff member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffMember {
    /// Their sign-in: one account per email in the whole installation.
    #[schema(example = "lea.martin@studio-lumiere.fr")]
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// 1 to 64 shops of one organisation (SIREN), each with a role. A manager may only grant
    /// the employee role, in shops they manage.
    pub grants: Vec<StaffGrantDto>,
}

/// A staff member as staff see them: never a password or token hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMemberDto {
    pub staff_id: Uuid,
    pub organisation_siren: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub grants: Vec<StaffGrantDto>,
    pub locked: bool,
    pub archived: bool,
    /// Whether they may sign in now: not locked or archived, with a role and a seat.
    pub has_access: bool,
    /// The temporary password is not replaced yet.
    pub must_change_password: bool,
    /// The version of the terms of use they accepted, if any.
    pub terms_accepted_version: Option<u32>,
    pub open_sessions: usize,
    pub created_at: DateTime<Utc>,
}

impl From<&StaffMember> for StaffMemberDto {
    fn from(member: &StaffMember) -> Self {
        StaffMemberDto {
            staff_id: member.staff_id,
            organisation_siren: member.organisation_siren.clone(),
            email: member.email.clone(),
            first_name: member.first_name.clone(),
            last_name: member.last_name.clone(),
            grants: member
                .grants
                .iter()
                .map(|(shop_id, role)| StaffGrantDto {
                    shop_id: *shop_id,
                    role: (*role).into(),
                })
                .collect(),
            locked: member.locked,
            archived: member.archived,
            has_access: member.has_access(),
            must_change_password: member.needs_password_change(),
            terms_accepted_version: member.terms_accepted_version,
            open_sessions: member.sessions.len(),
            created_at: member.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMemberCreated {
    #[serde(flatten)]
    pub member: StaffMemberDto,
    /// Shown once (only its argon2id hash is stored): hand it to the member, who must replace
    /// it at first sign-in. `null` on a replay of the creation.
    pub temporary_password: Option<String>,
    pub position: u64,
}

/// A staff member and the log position the answer reflects.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMemberWritten {
    #[serde(flatten)]
    pub member: StaffMemberDto,
    pub position: u64,
}

fn member_not_found() -> ApiError {
    ApiError::not_found("staff member")
}

/// The member's current state, from the hot state.
pub(super) fn load_member(state: &AppState, staff_id: Uuid) -> Result<StaffMember, ApiError> {
    let loaded = state
        .cache
        .load::<StaffAccount, _>(state.log.as_ref(), &staff::stream_id(staff_id))?;
    loaded.state.member().cloned().ok_or_else(member_not_found)
}

/// Turns the domain's staff refusals into their statuses: a lost access is 403, a sign-in
/// lockout 429.
pub(super) fn staff_refusal(error: ApiError) -> ApiError {
    match error {
        ApiError::Domain(DomainError::Conflict {
            code: "staff-access-revoked",
            message,
        }) => ApiError::StaffRefused {
            code: "staff-access-revoked",
            detail: message,
        },
        ApiError::Domain(DomainError::Conflict {
            code: "sign-in-locked-out",
            message,
        }) => ApiError::SignInLockedOut { detail: message },
        other => other,
    }
}

/// The answer of a write on a member: the member as it is now, at the write's position.
pub(super) fn member_written<T>(
    state: &AppState,
    staff_id: Uuid,
    executed: &Executed<T>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let position = written_position(state, executed);
    let member = StaffMemberDto::from(&load_member(state, staff_id)?);
    Ok(Answer::ok(
        StaffMemberWritten { member, position },
        position,
    ))
}

/// Inside a decision: the organisation (SIREN) of the granted shops, which must be one.
fn organisation_of(
    session: &mut Session<'_, EventLog>,
    grants: &[StaffGrant],
) -> Result<String, CommandError> {
    let mut siren: Option<String> = None;
    for grant in grants {
        let shop_siren = session_shop(session, grant.shop_id)?.organisation.siren;
        match &siren {
            Some(first) if *first != shop_siren => {
                return Err(DomainError::validation(
                    "grants",
                    "every shop must belong to the same organisation (SIREN)",
                )
                .into())
            }
            _ => siren = Some(shop_siren),
        }
    }
    siren.ok_or_else(|| DomainError::validation("grants", "give at least one shop").into())
}

/// Inside a decision: `command` on the member, and the seat taken or released in the same
/// append when the command gives or takes their access.
fn decide_member(
    session: &mut Session<'_, EventLog>,
    staff_id: Uuid,
    command: &StaffCommand,
) -> Result<Vec<StaffEvent>, CommandError> {
    let stream = staff::stream_id(staff_id);
    let had_access = session
        .load::<StaffAccount>(&stream)?
        .member()
        .is_some_and(StaffMember::has_access);
    let events = session.decide::<StaffAccount>(&stream, command)?;
    let after = session.load::<StaffAccount>(&stream)?;
    let Some(member) = after.member() else {
        return Ok(events);
    };
    if member.has_access() != had_access {
        let roster = staff::roster_stream_id(&member.organisation_siren);
        let seat = match member.has_access() {
            true => StaffRosterCommand::TakeSeat { staff_id },
            false => StaffRosterCommand::ReleaseSeat { staff_id },
        };
        session.decide::<StaffRoster>(&roster, &seat)?;
    }
    Ok(events)
}

/// Whether the caller may see `member`: the owner, the member, or a manager (`ManageStaff`) of
/// a shop the member has a role in. Others get 404, as for another shop's resources.
fn authorize_read(caller: &Caller, member: &StaffMember) -> Result<(), ApiError> {
    let manages_a_shop = member
        .grants
        .keys()
        .any(|shop_id| caller.authorize(*shop_id, Permission::ManageStaff).is_ok());
    match &caller.principal {
        Principal::Owner => Ok(()),
        Principal::Staff { staff_id, .. } if *staff_id == member.staff_id => Ok(()),
        _ if manages_a_shop => Ok(()),
        _ => Err(member_not_found()),
    }
}

/// Whether the caller may change `member`'s access: the owner; or a manager of every shop the
/// member has a role in, when the member is an employee everywhere and not the caller.
fn authorize_change(caller: &Caller, member: &StaffMember) -> Result<(), ApiError> {
    authorize_read(caller, member)?;
    if caller.is_owner() {
        return Ok(());
    }
    if matches!(&caller.principal, Principal::Staff { staff_id, .. } if *staff_id == member.staff_id)
    {
        return Err(ApiError::Forbidden {
            detail: "a staff member cannot change their own access".into(),
        });
    }
    for (shop_id, role) in &member.grants {
        caller.authorize(*shop_id, Permission::ManageStaff)?;
        if *role == StaffRole::Manager {
            return Err(ApiError::Forbidden {
                detail: "only the owner manages managers".into(),
            });
        }
    }
    Ok(())
}

/// Whether the caller may give `role` in `shop_id`: the owner any; a manager of the shop the
/// employee role only.
fn authorize_grant(caller: &Caller, shop_id: Uuid, role: StaffRole) -> Result<(), ApiError> {
    caller.authorize(shop_id, Permission::ManageStaff)?;
    if !caller.is_owner() && role == StaffRole::Manager {
        return Err(ApiError::Forbidden {
            detail: "only the owner gives the manager role".into(),
        });
    }
    Ok(())
}

/// Creates a staff member with a temporary password, shown once.
#[utoipa::path(post, path = "/v1/staff", tag = "staff",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateStaffMember,
    responses((status = 201, body = StaffMemberCreated), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_member(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    JsonBody(body): JsonBody<CreateStaffMember>,
) -> Result<Response, ApiError> {
    let grants: Vec<StaffGrant> = body
        .grants
        .iter()
        .map(|grant| StaffGrant {
            shop_id: grant.shop_id,
            role: grant.role.into(),
        })
        .collect();
    for grant in &grants {
        authorize_grant(&caller, grant.shop_id, grant.role)?;
    }
    let staff_id = staff_id_for(&normalise_email(&body.email)?);
    let password = temporary_password();
    let password_hash = state.passwords.hash(password.clone()).await?;
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let organisation_siren = organisation_of(session, &grants)?;
        let create = StaffCommand::Create {
            staff_id,
            organisation_siren: organisation_siren.clone(),
            email: body.email.clone(),
            first_name: body.first_name.clone(),
            last_name: body.last_name.clone(),
            grants: grants.clone(),
            password_hash: password_hash.clone(),
            created_by: caller.actor(),
        };
        session.decide::<StaffAccount>(&staff::stream_id(staff_id), &create)?;
        let roster = staff::roster_stream_id(&organisation_siren);
        session.decide::<StaffRoster>(&roster, &StaffRosterCommand::Join { staff_id })?;
        session.decide::<StaffRoster>(&roster, &StaffRosterCommand::TakeSeat { staff_id })?;
        Ok(())
    })
    .await?;
    let position = written_position(&state, &executed);
    if let (Some(mailer), Executed::Applied { .. }) = (state.mailer.get(), &executed) {
        // With mail, the member also gets a link to choose a password themselves; the
        // temporary one still works until then. Its own command id: a retry of the creation
        // is answered from above and mails nothing again.
        let invitation = CommandIds {
            command_id: ids.derived_id("staff-invitation"),
            fingerprint: ids.fingerprint.clone(),
        };
        let kind = super::staff_sign_in::LinkMail::Invitation;
        let mailed =
            super::staff_sign_in::mail_link(&state, mailer.clone(), &invitation, staff_id, kind);
        // The account exists: a failed invitation leaves the temporary password to hand over.
        if let Err(error) = mailed.await {
            tracing::warn!(%error, %staff_id, "recording a staff invitation failed");
        }
    }
    let member = load_member(&state, staff_id)?;
    let body = StaffMemberCreated {
        member: StaffMemberDto::from(&member),
        // A replay cannot show the password again: it was never stored.
        temporary_password: matches!(executed, Executed::Applied { .. }).then_some(password),
        position,
    };
    let location = format!("/v1/staff/{staff_id}");
    Ok(with_secret(Answer::created(body, position, location)))
}

/// One staff member: for the owner, the member, and managers of a shop the member works in.
#[utoipa::path(get, path = "/v1/staff/{staff_id}", tag = "staff",
    params(("staff_id" = Uuid, Path)),
    responses((status = 200, body = StaffMemberDto), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> Result<Answer<StaffMemberDto>, ApiError> {
    let member = load_member(&state, staff_id)?;
    authorize_read(&caller, &member)?;
    Ok(Answer::ok((&member).into(), state.log.head_position()))
}

/// The staff members with a role in the shop, archived ones included (manager, owner).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/staff", tag = "staff",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = Vec<StaffMemberDto>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_shop_staff(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<Vec<StaffMemberDto>>, ApiError> {
    caller.authorize(shop_id, Permission::ManageStaff)?;
    let siren = super::shop_profile(&state, shop_id)?.organisation.siren;
    let members = roster_members(&state, &siren, |member| {
        member.grants.contains_key(&shop_id)
    })?;
    Ok(Answer::ok(members, state.log.head_position()))
}

/// Every staff member of the organisation, with a role or not, archived ones included (owner).
#[utoipa::path(get, path = "/v1/organisations/{siren}/staff", tag = "staff",
    params(("siren" = String, Path)),
    responses((status = 200, body = Vec<StaffMemberDto>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_organisation_staff(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(siren): ApiPath<String>,
) -> Result<Answer<Vec<StaffMemberDto>>, ApiError> {
    owner_only(&caller, &siren)?;
    let members = roster_members(&state, &siren, |_| true)?;
    Ok(Answer::ok(members, state.log.head_position()))
}

/// The organisation's members that `keep` keeps, in id order: at most `ROSTER_MEMBERS_MAX`,
/// each from the hot state.
fn roster_members(
    state: &AppState,
    siren: &str,
    keep: impl Fn(&StaffMember) -> bool,
) -> Result<Vec<StaffMemberDto>, ApiError> {
    let roster = state
        .cache
        .load::<StaffRoster, _>(state.log.as_ref(), &staff::roster_stream_id(siren))?;
    let mut members = Vec::new();
    for staff_id in roster.state.members() {
        let member = load_member(state, *staff_id)?;
        if keep(&member) {
            members.push(StaffMemberDto::from(&member));
        }
    }
    Ok(members)
}

/// Runs `command` on the member, as `actor`, with the seat bookkeeping of [`decide_member`]
/// and the staff refusals' statuses.
pub(super) async fn write_member(
    state: &AppState,
    actor: &Caller,
    ids: &CommandIds,
    staff_id: Uuid,
    command: &StaffCommand,
) -> Result<Executed<Vec<StaffEvent>>, ApiError> {
    run(state, ids, actor, vec![], |session| {
        decide_member(session, staff_id, command)
    })
    .await
    .map_err(staff_refusal)
}

/// Runs `command` on a member the caller may change, and answers with the member after it.
async fn change_member(
    state: &AppState,
    caller: &Caller,
    ids: &CommandIds,
    staff_id: Uuid,
    command: StaffCommand,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    authorize_change(caller, &load_member(state, staff_id)?)?;
    let executed = write_member(state, caller, ids, staff_id, &command).await?;
    member_written(state, staff_id, &executed)
}

/// Gives the member a role in a shop of their organisation, or changes the role they have there
/// (the same role again changes nothing); access and a seat come with a first role.
#[utoipa::path(post, path = "/v1/staff/{staff_id}/grants", tag = "staff",
    params(("staff_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = StaffGrantDto,
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_grant(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(staff_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<StaffGrantDto>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let (shop_id, role) = (body.shop_id, StaffRole::from(body.role));
    authorize_grant(&caller, shop_id, role)?;
    let member = load_member(&state, staff_id)?;
    // A manager may bring an employee of the organisation into their shop, even one who has no
    // role left in any shop they manage; the owner anyone.
    if !caller.is_owner() && member.grants.values().any(|r| *r == StaffRole::Manager) {
        return Err(ApiError::Forbidden {
            detail: "only the owner manages managers".into(),
        });
    }
    let command = StaffCommand::Grant {
        shop_id,
        role,
        by: caller.actor(),
    };
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let shop_siren = session_shop(session, shop_id)?.organisation.siren;
        if shop_siren != member.organisation_siren {
            return Err(DomainError::validation(
                "shop_id",
                "the shop belongs to another organisation (SIREN) than the member",
            )
            .into());
        }
        decide_member(session, staff_id, &command)
    })
    .await
    .map_err(staff_refusal)?;
    member_written(&state, staff_id, &executed)
}

/// Takes the member's role in the shop away; without any role left they lose access (their
/// sessions end) and free their seat.
#[utoipa::path(delete, path = "/v1/staff/{staff_id}/grants/{shop_id}", tag = "staff",
    params(("staff_id" = Uuid, Path), ("shop_id" = Uuid, Path)),
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete_grant(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((staff_id, shop_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageStaff)?;
    let by = caller.actor();
    let command = StaffCommand::Revoke { shop_id, by };
    change_member(&state, &caller, &ids, staff_id, command).await
}

/// Locks the member: access ends at once (sessions too) and the seat is freed.
#[utoipa::path(post, path = "/v1/staff/{staff_id}/lock", tag = "staff",
    params(("staff_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn lock_member(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let command = StaffCommand::Lock { by: caller.actor() };
    change_member(&state, &caller, &ids, staff_id, command).await
}

/// Unlocks the member: access comes back if nothing else prevents it and a seat is free (409
/// `no-free-seat` otherwise).
#[utoipa::path(post, path = "/v1/staff/{staff_id}/unlock", tag = "staff",
    params(("staff_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unlock_member(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let command = StaffCommand::Unlock { by: caller.actor() };
    change_member(&state, &caller, &ids, staff_id, command).await
}

/// Archives the member (they left): access ends at once and the seat is freed.
#[utoipa::path(post, path = "/v1/staff/{staff_id}/archive", tag = "staff",
    params(("staff_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn archive_member(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let command = StaffCommand::Archive { by: caller.actor() };
    change_member(&state, &caller, &ids, staff_id, command).await
}

/// Brings an archived member back, as `unlock` does.
#[utoipa::path(post, path = "/v1/staff/{staff_id}/unarchive", tag = "staff",
    params(("staff_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unarchive_member(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let command = StaffCommand::Unarchive { by: caller.actor() };
    change_member(&state, &caller, &ids, staff_id, command).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemporaryPasswordIssued {
    #[serde(flatten)]
    pub member: StaffMemberDto,
    /// Shown once: hand it to the member, who must replace it at the next sign-in. `null` on a
    /// replay.
    pub temporary_password: Option<String>,
    pub position: u64,
}

/// Replaces a member's forgotten password by a temporary one, shown once (the way back in when
/// the server sends no mail); the member's sessions end and the next sign-in must change it.
#[utoipa::path(post, path = "/v1/staff/{staff_id}/temporary-password", tag = "staff",
    params(("staff_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = TemporaryPasswordIssued), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn issue_temporary_password(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    authorize_change(&caller, &load_member(&state, staff_id)?)?;
    let password = temporary_password();
    let command = StaffCommand::IssueTemporaryPassword {
        password_hash: state.passwords.hash(password.clone()).await?,
        by: caller.actor(),
    };
    let executed = write_member(&state, &caller, &ids, staff_id, &command).await?;
    let position = written_position(&state, &executed);
    let body = TemporaryPasswordIssued {
        member: StaffMemberDto::from(&load_member(&state, staff_id)?),
        temporary_password: matches!(executed, Executed::Applied { .. }).then_some(password),
        position,
    };
    Ok(with_secret(Answer::ok(body, position)))
}

/// An organisation's staff seats.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffSeats {
    pub organisation_siren: String,
    /// Seats of the plan.
    pub seats: u32,
    /// Members holding one (those with access).
    pub taken: u32,
    pub members: usize,
    pub position: u64,
}

/// The seats with their `ETag`, which follows the plan's seats alone (not who holds them).
fn seats_answer(roster: &StaffRoster, siren: String, position: u64) -> Answer<StaffSeats> {
    let body = StaffSeats {
        organisation_siren: siren,
        seats: roster.seats(),
        taken: roster.seats() - roster.free_seats(),
        members: roster.members().len(),
        position,
    };
    let mut answer = Answer::ok(body, position);
    answer.etag = Some(seats_etag(roster.seats()));
    answer
}

fn seats_etag(seats: u32) -> String {
    super::content_etag(&seats)
}

/// Only the owner reads an organisation's staff and sets its seats; the organisation is named
/// by its nine-digit SIREN.
fn owner_only(caller: &Caller, siren: &str) -> Result<(), ApiError> {
    if !caller.is_owner() {
        return Err(ApiError::Forbidden {
            detail: "only the owner reads an organisation's staff and sets its seats".into(),
        });
    }
    if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::validation("siren", "must be nine digits").into());
    }
    Ok(())
}

/// The organisation's staff seats (owner).
#[utoipa::path(get, path = "/v1/organisations/{siren}/staff-seats", tag = "staff",
    params(("siren" = String, Path)),
    responses((status = 200, body = StaffSeats), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_seats(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(siren): ApiPath<String>,
) -> Result<Answer<StaffSeats>, ApiError> {
    owner_only(&caller, &siren)?;
    let roster = state
        .cache
        .load::<StaffRoster, _>(state.log.as_ref(), &staff::roster_stream_id(&siren))?;
    Ok(seats_answer(
        &roster.state,
        siren,
        state.log.head_position(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSeats {
    /// 0 to 1,000, not below the seats taken.
    pub seats: u32,
}

/// Sets the organisation's staff seats, as its plan allows (owner). Send `If-Match` with the
/// seats' `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/organisations/{siren}/staff-seats", tag = "staff",
    params(("siren" = String, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PutSeats,
    responses((status = 200, body = StaffSeats), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_seats(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(siren): ApiPath<String>,
    JsonBody(body): JsonBody<PutSeats>,
) -> Result<Answer<StaffSeats>, ApiError> {
    owner_only(&caller, &siren)?;
    let wanted_etag = super::required_if_match(&headers, "the seats'")?;
    let stream = staff::roster_stream_id(&siren);
    let command = StaffRosterCommand::SetSeats { seats: body.seats };
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let current = session.load::<StaffRoster>(&stream)?.seats();
        super::check_etag(
            &wanted_etag,
            &seats_etag(current),
            current == body.seats,
            "the seats",
        )?;
        session.decide::<StaffRoster>(&stream, &command)
    })
    .await
    .map_err(super::precondition_to_412)?;
    let position = written_position(&state, &executed);
    let roster = state
        .cache
        .load::<StaffRoster, _>(state.log.as_ref(), &stream)?;
    Ok(seats_answer(&roster.state, siren, position))
}
