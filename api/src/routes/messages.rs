//! Messages between a customer and the shop (seed 003): a thread per customer, the staff's inbox.
//!
//! There is no customer login: the storefront acts for its customers, as it does when it places
//! their orders. So the side a caller writes and reads for is its role's: a `storefront` key is
//! the customer, staff keys (manager, employee) and the owner are the shop. Both need
//! `ManageCustomers`, which the other roles lack: messages are private correspondence.

use axum::extract::State;
use comptoir_domain::customer::{self, Customer};
use comptoir_domain::customer_messages::{
    self, CustomerMessages, MessageOrder, MessagesCommand, NewMessage, Side,
};
use comptoir_domain::order::{self, Order};
use comptoir_domain::shop::{Permission, Role};
use comptoir_domain::DomainError;
use comptoir_eventlog::EventLog;
use comptoir_projections::messages::{ArchiveFilter, MessageThreadView, MessageView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::accounts::order_account;
use super::paging::PageQuery;
use super::{run, session_shop, written_position, Answer};
use crate::auth::Caller;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_message, list_messages))
        .routes(routes!(mark_read))
        .routes(routes!(archive_message))
        .routes(routes!(unarchive_message))
        .routes(routes!(message_inbox))
}

/// The side the caller speaks for, after checking it may handle messages at all.
fn side_of(caller: &Caller, shop_id: Uuid) -> Result<Side, ApiError> {
    caller.authorize(shop_id, Permission::ManageCustomers)?;
    Ok(match caller.role_in(shop_id)? {
        Some(Role::Storefront) => Side::Customer,
        _ => Side::Shop,
    })
}

/// Inside a decision: the customer exists in this shop, or "not found".
fn session_customer(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    customer_id: Uuid,
) -> Result<(), CommandError> {
    session_shop(session, shop_id)?;
    let account = session.load::<Customer>(&customer::stream_id(customer_id))?;
    match &account.registered {
        Some(registered) if registered.shop_id == shop_id => Ok(()),
        _ => Err(DomainError::not_found("customer", customer_id).into()),
    }
}

/// Inside a decision: the order the message is about, with the account it belongs to.
fn session_order(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    order_id: Uuid,
) -> Result<MessageOrder, CommandError> {
    let order = session.load::<Order>(&order::stream_id(order_id))?;
    match &order.placed {
        Some(placed) if placed.shop_id == shop_id => Ok(MessageOrder {
            order_id,
            account_id: order_account(session, placed)?,
        }),
        _ => Err(DomainError::not_found("order", order_id).into()),
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// The text: not blank, at most 5,000 characters; line breaks and tabs allowed.
    pub body: String,
    /// An order of this customer the message is about.
    #[serde(default)]
    pub order_id: Option<Uuid>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SideDto {
    Customer,
    Shop,
}

impl From<Side> for SideDto {
    fn from(side: Side) -> Self {
        match side {
            Side::Customer => SideDto::Customer,
            Side::Shop => SideDto::Shop,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageSent {
    pub message_id: Uuid,
    pub customer_id: Uuid,
    /// The side the caller's role speaks for: `customer` for a storefront key, else `shop`.
    pub from: SideDto,
    pub position: u64,
}

/// Sends a message in the customer's thread, from the customer (a storefront key) or the shop.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/customers/{customer_id}/messages", tag = "messages",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MessageInput,
    responses((status = 201, body = MessageSent), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, customer_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<MessageInput>,
) -> Result<Answer<MessageSent>, ApiError> {
    let from = side_of(&caller, shop_id)?;
    let message_id = ids.derived_id("message");
    let stream = customer_messages::stream_id(customer_id);
    let author = caller.actor();
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_customer(session, shop_id, customer_id)?;
        let order = body
            .order_id
            .map(|order_id| session_order(session, shop_id, order_id))
            .transpose()?;
        let command = MessagesCommand::Send(NewMessage {
            shop_id,
            customer_id,
            message_id,
            from,
            author: author.clone(),
            order,
            body: body.body.clone(),
        });
        session.decide::<CustomerMessages>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let location = format!("/v1/shops/{shop_id}/customers/{customer_id}/messages/{message_id}");
    let sent = MessageSent {
        message_id,
        customer_id,
        from: from.into(),
        position,
    };
    Ok(Answer::created(sent, position, location))
}

/// Which of its messages a side lists.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveFilterDto {
    /// Those the caller's side has not archived.
    #[default]
    Current,
    /// Only those it archived.
    Archived,
    All,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageFilter {
    /// `current` (default), `archived` or `all`, as the caller's side archived them.
    #[param(inline)]
    pub archived: Option<ArchiveFilterDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Counts of the whole thread; null before its first message.
    #[schema(value_type = Option<crate::dto::MessageThread>)]
    pub thread: Option<MessageThreadView>,
    /// Oldest first (the order they were sent in).
    #[schema(value_type = Vec<crate::dto::Message>)]
    pub items: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

/// The customer's thread, oldest message first, without what the caller's side archived unless
/// asked; with the unread counts of both sides.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/customers/{customer_id}/messages", tag = "messages",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), MessageFilter, PageQuery),
    responses((status = 200, body = MessagePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, customer_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<MessageFilter>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<MessagePage>, ApiError> {
    let reader = side_of(&caller, shop_id)?;
    state.read_at(paging.min_position).await?;
    if state.projections.customer(shop_id, customer_id)?.is_none() {
        return Err(ApiError::not_found("customer"));
    }
    let filter = match query.archived.unwrap_or_default() {
        ArchiveFilterDto::Current => ArchiveFilter::Current,
        ArchiveFilterDto::Archived => ArchiveFilter::Archived,
        ArchiveFilterDto::All => ArchiveFilter::All,
    };
    let found = state
        .projections
        .messages(shop_id, customer_id, reader, filter, &paging.page())?;
    let thread = state.projections.message_thread(shop_id, customer_id)?;
    let body = MessagePage {
        thread,
        items: found.items,
        next_cursor: found.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageChanged {
    pub message_id: Uuid,
    /// Log position of the change (or of the head when nothing needed changing).
    pub position: u64,
}

/// Runs one change of a message of the customer's thread for the caller's side.
async fn change_message(
    state: &AppState,
    caller: &Caller,
    ids: &CommandIds,
    (shop_id, customer_id, message_id): (Uuid, Uuid, Uuid),
    command: impl Fn(Side) -> MessagesCommand,
) -> Result<Answer<MessageChanged>, ApiError> {
    let side = side_of(caller, shop_id)?;
    let command = command(side);
    let stream = customer_messages::stream_id(customer_id);
    let executed = run(state, ids, caller, vec![], |session| {
        session_customer(session, shop_id, customer_id)?;
        session.decide::<CustomerMessages>(&stream, &command)
    })
    .await?;
    let position = written_position(state, &executed);
    Ok(Answer::ok(
        MessageChanged {
            message_id,
            position,
        },
        position,
    ))
}

/// Marks a message read; only its recipient may (the shop for a customer's message, the
/// storefront for the shop's). Marking it again changes nothing.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/customers/{customer_id}/messages/{message_id}/read", tag = "messages",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ("message_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = MessageChanged), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> Result<Answer<MessageChanged>, ApiError> {
    let message_id = path.2;
    change_message(&state, &caller, &ids, path, |by| {
        MessagesCommand::MarkRead { message_id, by }
    })
    .await
}

/// Archives a message for the caller's side only (the other side still sees it).
#[utoipa::path(post, path = "/v1/shops/{shop_id}/customers/{customer_id}/messages/{message_id}/archive", tag = "messages",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ("message_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = MessageChanged), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn archive_message(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> Result<Answer<MessageChanged>, ApiError> {
    let message_id = path.2;
    change_message(&state, &caller, &ids, path, |by| MessagesCommand::Archive {
        message_id,
        by,
    })
    .await
}

/// Brings an archived message back to the caller's side's current messages.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/customers/{customer_id}/messages/{message_id}/unarchive", tag = "messages",
    params(("shop_id" = Uuid, Path), ("customer_id" = Uuid, Path), ("message_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = MessageChanged), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unarchive_message(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> Result<Answer<MessageChanged>, ApiError> {
    let message_id = path.2;
    change_message(&state, &caller, &ids, path, |by| {
        MessagesCommand::Unarchive { message_id, by }
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    /// Threads with customer messages the shop has not read, by customer id.
    #[schema(value_type = Vec<crate::dto::MessageThread>)]
    pub items: Vec<MessageThreadView>,
    pub next_cursor: Option<String>,
}

/// The staff's inbox: every customer thread with messages the shop has not read yet.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/messages/inbox", tag = "messages",
    params(("shop_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = InboxPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn message_inbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Answer<InboxPage>, ApiError> {
    if side_of(&caller, shop_id)? != Side::Shop {
        return Err(ApiError::Forbidden {
            detail: "the inbox is the staff's; a storefront reads one customer's thread".into(),
        });
    }
    state.read_at(query.min_position).await?;
    let found = state.projections.message_inbox(shop_id, &query.page())?;
    let body = InboxPage {
        items: found.items,
        next_cursor: found.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}
