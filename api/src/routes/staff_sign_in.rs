//! Staff sign-in and a member's own account: sessions, the forced password change, the terms,
//! and password reset by a mailed single-use link (spec §1, seed 000, seed 001's "Mot de passe
//! oublié"). Accounts themselves are `staff`'s.
//!
//! Sign-in answers a session token (`cs_…`), sent as `Authorization: Bearer`; 90 minutes
//! without a request end it (`staff_sessions`). Wrong passwords are recorded: five in a row lock
//! sign-in for 15 minutes, across restarts. A forgotten password is reset through a link mailed
//! to the member, valid 60 minutes and once; the answer is the same whether or not the email
//! belongs to anyone, and an unknown email costs the same argon2 check as a known one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use comptoir_domain::customer::normalise_email;
use comptoir_domain::staff::{
    self, staff_id_for, SignInDevice, StaffAccount, StaffCommand, StaffEvent, StaffMember,
    CURRENT_TERMS_VERSION,
};
use comptoir_domain::{DomainError, Environment};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::staff::{
    load_member, member_written, staff_refusal, write_member, StaffGrantDto, StaffMemberDto,
    StaffMemberWritten,
};
use super::{run, with_secret, written_position, Answer};
use crate::auth::{
    new_device_token, new_reset_token, new_session_token, reset_token_staff, sha256_hex, Caller,
    Principal, StaffSession,
};
use crate::commands::Executed;
use crate::error::ApiError;
use crate::extract::{CommandIds, JsonBody};
use crate::mail::OutgoingMail;
use crate::passwords::check_new_password;
use crate::server::AppState;
use crate::staff_sessions::SESSION_IDLE_MINUTES;

/// The page a password reset mail links to (outside `/v1`: it is for people, not clients).
pub const RESET_PAGE_PATH: &str = "/staff/reset-password";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(get_me))
        .routes(routes!(change_password))
        .routes(routes!(accept_terms))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
}

/// The actor recorded for what a member does before a session exists (sign-in, reset).
fn member_actor(staff_id: Uuid) -> Caller {
    Caller {
        principal: Principal::Staff {
            staff_id,
            session_id: Uuid::nil(),
            grants: Default::default(),
        },
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    /// The `device_token` an earlier sign-in of this member answered on this device: a
    /// lockout others caused with wrong passwords does not stop it.
    #[serde(default)]
    pub device_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// Send as `Authorization: Bearer <token>`; shown once.
    pub token: String,
    pub session_id: Uuid,
    pub staff_id: Uuid,
    /// Keep it on this device and send it with the next sign-ins (`device_token`): a lockout
    /// after someone else's wrong passwords does not stop a device the member signed in from.
    /// It is no credential by itself, and a new password forgets every device.
    pub device_token: String,
    /// Minutes without a request after which the session ends.
    pub idle_timeout_minutes: i64,
    /// Until the temporary password is changed, only `/v1/staff/me…` answers.
    pub must_change_password: bool,
    /// The terms version to accept before other routes answer, if any.
    pub terms_to_accept: Option<u32>,
    pub grants: Vec<StaffGrantDto>,
    pub position: u64,
}

/// Longest device token looked at; a longer one is treated as none (ours are 67 characters).
const DEVICE_TOKEN_CHARS_MAX: usize = 128;

fn wrong_credentials() -> ApiError {
    ApiError::Unauthorized {
        detail: "the email or the password is wrong".into(),
    }
}

/// Signs a staff member in with their email and password; answers a session token.
#[utoipa::path(post, path = "/v1/staff/sessions", tag = "staff",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = SignIn,
    responses((status = 201, body = SignedIn), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")))]
pub async fn sign_in(
    State(state): State<AppState>,
    ids: CommandIds,
    JsonBody(body): JsonBody<SignIn>,
) -> Result<Response, ApiError> {
    let member = normalise_email(&body.email)
        .ok()
        .and_then(|email| load_member(&state, staff_id_for(&email)).ok());
    let now = state.clock.now();
    let presented = body
        .device_token
        .as_deref()
        .filter(|token| token.len() <= DEVICE_TOKEN_CHARS_MAX)
        .map(sha256_hex);
    let lockout = member
        .as_ref()
        .and_then(|m| m.sign_in_lockout(now, presented.as_deref()));
    if let Some(refusal) = lockout {
        return Err(staff_refusal(refusal.into()));
    }
    let stored_hash = member.as_ref().map(|m| m.password_hash.clone());
    let matches = state.passwords.verify(body.password, stored_hash).await?;
    let member = member.ok_or_else(wrong_credentials)?;
    let token = new_session_token(member.staff_id);
    let session_id = ids.derived_id("staff-session");
    let fresh_device = new_device_token();
    let command = StaffCommand::SignIn {
        session_id,
        token_hash: sha256_hex(&token),
        password_matches: matches,
        device: SignInDevice {
            presented_hash: presented.clone(),
            fresh_hash: sha256_hex(&fresh_device),
        },
    };
    let stream = staff::stream_id(member.staff_id);
    let executed = run(
        &state,
        &ids,
        &member_actor(member.staff_id),
        vec![],
        |session| session.decide::<StaffAccount>(&stream, &command),
    )
    .await
    .map_err(staff_refusal)?;
    let position = written_position(&state, &executed);
    let Executed::Applied { output: events, .. } = executed else {
        return Err(ApiError::Domain(DomainError::conflict(
            "sign-in-replayed",
            "this sign-in was answered before; sign in again with another Idempotency-Key",
        )));
    };
    let Some(StaffEvent::StaffSignedIn { device_hash, .. }) = events.first() else {
        return Err(wrong_credentials());
    };
    // The session was opened from the device presented when it is trusted, else from the new one.
    let device_token = match (&body.device_token, device_hash) {
        (Some(sent), Some(hash)) if presented.as_ref() == Some(hash) => sent.clone(),
        _ => fresh_device,
    };
    let member = load_member(&state, member.staff_id)?;
    let signed_in = SignedIn {
        token,
        device_token,
        session_id,
        staff_id: member.staff_id,
        idle_timeout_minutes: SESSION_IDLE_MINUTES,
        must_change_password: member.needs_password_change(),
        terms_to_accept: member.needs_terms().then_some(CURRENT_TERMS_VERSION),
        grants: StaffMemberDto::from(&member).grants,
        position,
    };
    let location = format!("/v1/staff/{}", member.staff_id);
    Ok(with_secret(Answer::created(signed_in, position, location)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedOut {
    pub session_id: Uuid,
    pub position: u64,
}

/// Ends the session whose token is sent.
#[utoipa::path(delete, path = "/v1/staff/sessions/current", tag = "staff",
    responses((status = 200, body = SignedOut), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn sign_out(
    State(state): State<AppState>,
    me: StaffSession,
    ids: CommandIds,
) -> Result<Answer<SignedOut>, ApiError> {
    let command = StaffCommand::SignOut {
        session_id: me.session_id,
    };
    let executed = run(
        &state,
        &ids,
        &member_actor(me.staff_id),
        vec![],
        |session| session.decide::<StaffAccount>(&staff::stream_id(me.staff_id), &command),
    )
    .await?;
    let position = written_position(&state, &executed);
    let body = SignedOut {
        session_id: me.session_id,
        position,
    };
    Ok(Answer::ok(body, position))
}

/// The signed-in member's own account, with what they must do before other routes answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub member: StaffMemberDto,
    pub session_id: Uuid,
    /// The terms version to accept, if any (`POST /v1/staff/me/terms`).
    pub terms_to_accept: Option<u32>,
}

/// The signed-in member's account; answers even before the password change and the terms.
#[utoipa::path(get, path = "/v1/staff/me", tag = "staff",
    responses((status = 200, body = Me), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_me(
    State(state): State<AppState>,
    me: StaffSession,
) -> Result<Answer<Me>, ApiError> {
    let member = load_member(&state, me.staff_id)?;
    let body = Me {
        member: (&member).into(),
        session_id: me.session_id,
        terms_to_accept: member.needs_terms().then_some(CURRENT_TERMS_VERSION),
    };
    Ok(Answer::ok(body, state.log.head_position()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// 12 to 128 characters, not the email, not the current password.
    pub new_password: String,
}

/// Replaces the member's password (first of all the temporary one); every other session of
/// the member ends.
#[utoipa::path(post, path = "/v1/staff/me/password", tag = "staff",
    request_body = ChangePassword,
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    me: StaffSession,
    ids: CommandIds,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let member = load_member(&state, me.staff_id)?;
    check_new_password("new_password", &body.new_password, &member.email)?;
    if body.new_password == body.current_password {
        return Err(
            DomainError::validation("new_password", "must differ from the current one").into(),
        );
    }
    let current = state
        .passwords
        .verify(body.current_password, Some(member.password_hash.clone()))
        .await?;
    if !current {
        return Err(DomainError::validation("current_password", "is wrong").into());
    }
    let command = StaffCommand::ChangePassword {
        password_hash: state.passwords.hash(body.new_password).await?,
        keep_session: Some(me.session_id),
    };
    own_change(&state, &me, &ids, command).await
}

/// Runs `command` on the signed-in member's own account.
async fn own_change(
    state: &AppState,
    me: &StaffSession,
    ids: &CommandIds,
    command: StaffCommand,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let executed = write_member(
        state,
        &member_actor(me.staff_id),
        ids,
        me.staff_id,
        &command,
    )
    .await?;
    member_written(state, me.staff_id, &executed)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptTerms {
    /// The version accepted, as `terms_to_accept` gave it.
    pub version: u32,
}

/// Records that the member accepted the terms of use.
#[utoipa::path(post, path = "/v1/staff/me/terms", tag = "staff",
    request_body = AcceptTerms,
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn accept_terms(
    State(state): State<AppState>,
    me: StaffSession,
    ids: CommandIds,
    JsonBody(body): JsonBody<AcceptTerms>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let command = StaffCommand::AcceptTerms {
        version: body.version,
    };
    own_change(&state, &me, &ids, command).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestPasswordReset {
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetRequested {
    /// Always true: whether the email belongs to a member is not told.
    pub accepted: bool,
    /// Minutes the mailed link stays valid.
    pub valid_minutes: i64,
}

/// Mails a single-use reset link to the member with this email, if there is one with access.
/// The answer is the same either way. Needs SMTP on the server (503 without).
#[utoipa::path(post, path = "/v1/staff/password-resets", tag = "staff",
    request_body = RequestPasswordReset,
    responses((status = 202, body = PasswordResetRequested), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ids: CommandIds,
    JsonBody(body): JsonBody<RequestPasswordReset>,
) -> Result<Response, ApiError> {
    let Some(mailer) = state.mailer.get().cloned() else {
        return Err(ApiError::StaffRefused {
            code: "password-reset-unavailable",
            detail: "this server sends no mail (no SMTP configured), so it cannot mail reset \
                     links: ask the owner or a manager for a temporary password"
                .into(),
        });
    };
    let staff_id = staff_id_for(&normalise_email(&body.email)?);
    if load_member(&state, staff_id).is_ok() {
        mail_link(&state, mailer, &ids, staff_id, LinkMail::Reset).await?;
    }
    let body = PasswordResetRequested {
        accepted: true,
        valid_minutes: staff::PASSWORD_RESET_VALID_MINUTES,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

/// Why a member gets a link to choose a password.
#[derive(Clone, Copy, Debug)]
pub(super) enum LinkMail {
    /// They asked: the password was forgotten.
    Reset,
    /// Their account was just created: they choose their first password themselves.
    Invitation,
}

/// Records a reset link for the member (nothing when the domain records none: no access, or a
/// link asked within the minute) and mails it beside the answer, so the answer's timing does not
/// tell whether the email exists.
pub(super) async fn mail_link(
    state: &AppState,
    mailer: crate::mail::Mailer,
    ids: &CommandIds,
    staff_id: Uuid,
    kind: LinkMail,
) -> Result<(), ApiError> {
    let token = new_reset_token(staff_id);
    let command = StaffCommand::RequestPasswordReset {
        token_hash: sha256_hex(&token),
    };
    let executed = run(state, ids, &member_actor(staff_id), vec![], |session| {
        session.decide::<StaffAccount>(&staff::stream_id(staff_id), &command)
    })
    .await?;
    let Executed::Applied { output, .. } = executed else {
        return Ok(());
    };
    let Some(StaffEvent::StaffPasswordResetRequested { expires_at, .. }) = output.first() else {
        return Ok(());
    };
    let mail = link_mail(
        state,
        &load_member(state, staff_id)?,
        &token,
        *expires_at,
        kind,
    );
    tokio::spawn(async move {
        if let Err(error) = mailer.send(mail).await {
            tracing::warn!(%error, %staff_id, ?kind, "a password link mail failed");
        }
    });
    Ok(())
}

fn link_mail(
    state: &AppState,
    member: &StaffMember,
    token: &str,
    expires_at: DateTime<Utc>,
    kind: LinkMail,
) -> OutgoingMail {
    let base = state.public_url.get().cloned().unwrap_or_default();
    let (subject, why_fr, why_en, unasked) = match kind {
        LinkMail::Reset => (
            "Réinitialisation de votre mot de passe / Password reset",
            "Pour choisir un nouveau mot de passe",
            "To choose a new password",
            "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.",
        ),
        LinkMail::Invitation => (
            "Votre accès au back-office / Your back-office access",
            "Votre compte vient d'être créé. Pour choisir votre mot de passe",
            "Your account was just created. To choose your password",
            "Passé ce délai, demandez un nouveau lien depuis « Mot de passe oublié ».",
        ),
    };
    let text = format!(
        "Bonjour {first_name},\n\n\
         {why_fr}, ouvrez ce lien (valable jusqu'au {expires} UTC, une seule fois) :\n\
         {base}{RESET_PAGE_PATH}#token={token}\n\n{unasked}\n\n\
         Hello {first_name},\n\n{why_en}, open the link above (valid until {expires} UTC, \
         once).\n",
        first_name = crate::mail::one_line(&member.first_name),
        expires = expires_at.format("%Y-%m-%d %H:%M"),
    );
    OutgoingMail {
        to: vec![member.email.clone()],
        subject: subject.into(),
        text,
        attachment: None,
        delivery: None,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletePasswordReset {
    /// The token of the mailed link.
    pub token: String,
    /// 12 to 128 characters, not the email.
    pub new_password: String,
}

fn reset_invalid() -> ApiError {
    ApiError::Domain(DomainError::unprocessable(
        "password-reset-invalid",
        "this reset link is unknown, used or expired",
    ))
}

/// Sets a new password with a mailed reset token; the token then stops working and every
/// session of the member ends.
#[utoipa::path(post, path = "/v1/staff/password-resets/complete", tag = "staff",
    request_body = CompletePasswordReset,
    responses((status = 200, body = StaffMemberWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")))]
pub async fn complete_password_reset(
    State(state): State<AppState>,
    ids: CommandIds,
    JsonBody(body): JsonBody<CompletePasswordReset>,
) -> Result<Answer<StaffMemberWritten>, ApiError> {
    let staff_id = reset_token_staff(&body.token).ok_or_else(reset_invalid)?;
    let member = load_member(&state, staff_id).map_err(|_| reset_invalid())?;
    check_new_password("new_password", &body.new_password, &member.email)?;
    let command = StaffCommand::CompletePasswordReset {
        token_hash: sha256_hex(&body.token),
        password_hash: state.passwords.hash(body.new_password).await?,
    };
    let executed = write_member(&state, &member_actor(staff_id), &ids, staff_id, &command).await?;
    member_written(&state, staff_id, &executed)
}

/// The page a reset mail links to: a form that posts the token (kept in the URL's fragment,
/// which browsers never send to servers or logs) and the new password to the API.
pub async fn reset_page() -> Html<&'static str> {
    Html(include_str!("staff_reset.html"))
}
