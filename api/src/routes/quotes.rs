//! Quotes (devis) and purchase orders (bons de commande), seed 003. Staff issue them and move
//! them along; whoever reads documents reads them. Issuing numbers the document in the shop's own
//! series and opens its stream in one append (see `comptoir_domain::quote`); a purchase order made
//! from a quote also records the conversion on the quote, in the same append.

use axum::extract::State;
use chrono::NaiveDate;
use comptoir_domain::catalog::{self, Catalog};
use comptoir_domain::customer::{self, Customer};
use comptoir_domain::documents::{
    self, DocumentBody, DocumentCommand, DocumentEvent, DocumentKind, DocumentSeries,
};
use comptoir_domain::pricing::Totals;
use comptoir_domain::quote::{
    purchase_order_body, purchase_order_body_from_quote, purchase_order_stream_id, quote_body,
    quote_stream_id, PurchaseOrder, PurchaseOrderCommand, Quote, QuoteCommand, QuoteLineInput,
    QuoteStatus,
};
use comptoir_domain::shop::{Permission, ShopProfile};
use comptoir_domain::{DomainError, Environment};
use comptoir_eventlog::{EventLog, Position};
use comptoir_projections::codec::decode_event;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::documents::{list_documents, one_document, DocumentDto, DocumentPage, IssuedBetween};
use super::orders::PaymentMethodDto;
use super::paging::PageQuery;
use super::{run, session_shop, written_position, Answer, ReadAt};
use crate::auth::Caller;
use crate::commands::{CommandError, Executed, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

/// Characters of a document number in a path: far above what a pattern can produce
/// (`DOCUMENT_PATTERN_CHARS_MAX` plus the sequence), so anything longer names no document.
const NUMBER_CHARS_MAX: usize = 128;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_quote, list_quotes))
        .routes(routes!(get_quote))
        .routes(routes!(accept_quote))
        .routes(routes!(decline_quote))
        .routes(routes!(create_purchase_order, list_purchase_orders))
        .routes(routes!(get_purchase_order))
        .routes(routes!(mark_purchase_order_paid))
}

/// A line: a catalog product (`sku`) or free text (`description` and `vat_rate`), at a unit
/// price excluding VAT.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct QuoteLineDto {
    #[serde(default)]
    pub sku: Option<String>,
    /// Required for free text; defaults to the product's name.
    #[serde(default)]
    pub description: Option<String>,
    pub quantity: u32,
    #[schema(value_type = crate::dto::Money)]
    pub unit_price_excl_vat: Decimal,
    /// Percent; required for free text, the product's own rate otherwise.
    #[serde(default)]
    #[schema(value_type = Option<crate::dto::Money>)]
    pub vat_rate: Option<Decimal>,
}

impl From<&QuoteLineDto> for QuoteLineInput {
    fn from(line: &QuoteLineDto) -> Self {
        QuoteLineInput {
            sku: line.sku.clone(),
            description: line.description.clone(),
            quantity: line.quantity,
            unit_price_excl_vat: line.unit_price_excl_vat,
            vat_rate: line.vat_rate,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct QuoteInput {
    /// A registered customer of the shop.
    pub customer_id: Uuid,
    /// Last day (inclusive) the quote may be accepted: today at the earliest.
    pub valid_until: NaiveDate,
    pub lines: Vec<QuoteLineDto>,
}

/// A purchase order from an accepted quote (`quote_number`), or directly (`customer_id` and
/// `lines`), never both.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PurchaseOrderInput {
    #[serde(default)]
    pub quote_number: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default)]
    pub lines: Option<Vec<QuoteLineDto>>,
}

/// A document just issued: its number, totals and the log position of the write.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedReceipt {
    pub number: String,
    #[schema(value_type = crate::dto::Totals)]
    pub totals: Totals,
    pub position: Position,
}

/// A quote's new status.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteReceipt {
    pub number: String,
    #[schema(value_type = crate::dto::QuoteStatusDto)]
    pub status: QuoteStatus,
    pub position: Position,
}

/// A purchase order marked paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaidReceipt {
    pub number: String,
    pub paid: bool,
    pub position: Position,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct AcceptInput {
    /// Who took the customer's agreement; defaults to the API key.
    #[serde(default)]
    pub accepted_by: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct DeclineInput {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct MarkPurchaseOrderPaidInput {
    pub method: PaymentMethodDto,
    /// The whole purchase order's total including VAT.
    #[schema(value_type = crate::dto::Money)]
    pub amount: Decimal,
    /// The operator at the counter; defaults to the API key.
    #[serde(default)]
    pub operator: Option<String>,
}

/// A number from a path that could name a document; anything else is simply not found.
fn checked_number(number: &str, what: &str) -> Result<(), ApiError> {
    let plausible = !number.is_empty()
        && number.chars().count() <= NUMBER_CHARS_MAX
        && number.chars().all(|c| c.is_ascii_graphic());
    if plausible {
        Ok(())
    } else {
        Err(ApiError::not_found(what))
    }
}

/// Inside a decision: a registered customer of the shop, and the shop's catalog.
fn customer_and_catalog(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    customer_id: Uuid,
) -> Result<(customer::RegisteredCustomer, std::sync::Arc<Catalog>), CommandError> {
    let customer = session.load::<Customer>(&customer::stream_id(customer_id))?;
    let registered = customer
        .registered
        .clone()
        .filter(|registered| registered.shop_id == shop_id)
        .ok_or_else(|| DomainError::not_found("customer", customer_id))?;
    let catalog = session.load::<Catalog>(&catalog::stream_id(shop_id))?;
    Ok((registered, catalog))
}

/// Numbers `body` in the shop's series of its kind; returns the number and issue instant.
fn issue(
    session: &mut Session<'_, EventLog>,
    profile: &ShopProfile,
    body: DocumentBody,
) -> Result<(String, chrono::DateTime<chrono::Utc>), CommandError> {
    let kind = body.kind();
    let command = DocumentCommand::Issue {
        shop_id: profile.shop_id,
        pattern: kind.pattern(&profile.document_patterns).to_owned(),
        body,
    };
    let stream = documents::stream_id(profile.shop_id, kind);
    let events = session.decide::<DocumentSeries>(&stream, &command)?;
    let event = events
        .last()
        .ok_or_else(|| DomainError::conflict("document-not-issued", "the series issued nothing"))?;
    Ok((event.number().number.clone(), event.issued_at()))
}

/// The number and totals of the quote or purchase order a replayed command issued: its first
/// event, the series' `…Issued`, says both.
fn issued_at_position(state: &AppState, first: Position) -> Result<(String, Totals), ApiError> {
    let events = state.log.read_all(first, 1).map_err(ApiError::from)?;
    let recorded = events.first().ok_or(ApiError::Internal)?;
    let event: DocumentEvent = decode_event(recorded).map_err(|error| {
        tracing::error!(%error, "a replayed issue is not a document event");
        ApiError::Internal
    })?;
    let totals = match &event {
        DocumentEvent::QuoteIssued { quote, .. } => quote.totals.clone(),
        DocumentEvent::PurchaseOrderIssued { purchase_order, .. } => purchase_order.totals.clone(),
        _ => return Err(ApiError::Internal),
    };
    Ok((event.number().number.clone(), totals))
}

/// Answers an issuing command: 201 with the number, totals and position, on a replay too.
fn issued_answer(
    state: &AppState,
    executed: Executed<(String, Totals)>,
    collection: &str,
    shop_id: Uuid,
) -> Result<Answer<IssuedReceipt>, ApiError> {
    let position = written_position(state, &executed);
    let (number, totals) = match executed {
        Executed::Applied { output, .. } => output,
        Executed::Replayed { first_position } => issued_at_position(state, first_position)?,
    };
    let location = format!("/v1/shops/{shop_id}/{collection}/{number}");
    let receipt = IssuedReceipt {
        number,
        totals,
        position,
    };
    Ok(Answer::created(receipt, position, location))
}

/// Issues a quote to a customer of the shop; numbered in the shop's quote series.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/quotes", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = QuoteInput,
    responses((status = 201, body = IssuedReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_quote(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<QuoteInput>,
) -> Result<Answer<IssuedReceipt>, ApiError> {
    caller.authorize(shop_id, Permission::ManageQuotes)?;
    let lines: Vec<QuoteLineInput> = body.lines.iter().map(Into::into).collect();
    let series = documents::stream_id(shop_id, DocumentKind::Quote);
    let executed = run(&state, &ids, &caller, vec![series], |session| {
        let profile = session_shop(session, shop_id)?;
        let (customer, catalog) = customer_and_catalog(session, shop_id, body.customer_id)?;
        let today = comptoir_domain::calendar::local_date(state.clock.now(), profile.zone());
        let quote = quote_body(
            &profile,
            &customer,
            &catalog,
            &lines,
            body.valid_until,
            today,
        )?;
        let totals = quote.totals.clone();
        let (number, issued_at) = issue(
            session,
            &profile,
            DocumentBody::Quote(Box::new(quote.clone())),
        )?;
        let open = QuoteCommand::Open {
            shop_id,
            number: number.clone(),
            issued_at,
            quote: Box::new(quote),
        };
        session.decide::<Quote>(&quote_stream_id(shop_id, &number), &open)?;
        Ok((number, totals))
    })
    .await?;
    issued_answer(&state, executed, "quotes", shop_id)
}

/// Quotes by issue date; `status` is as of today (an unanswered quote past its date is expired).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/quotes", tag = "quotes",
    params(("shop_id" = Uuid, Path), IssuedBetween, PageQuery),
    responses((status = 200, body = crate::dto::QuotePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_quotes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(issued): ApiQuery<IssuedBetween>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<DocumentPage>, ApiError> {
    list_documents(&state, &caller, shop_id, (issued, paging), |range, page| {
        let mut page = state.projections.quotes(shop_id, range, page)?;
        let today = super::shop_today(&state, shop_id)?;
        page.items = page.items.into_iter().map(|q| q.as_of(today)).collect();
        Ok(page)
    })
    .await
}

/// One quote by number (print it at `/printable/quotes/{number}`).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/quotes/{number}", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("number" = String, Path), ReadAt),
    responses((status = 200, body = crate::dto::Quote), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_quote(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, number)): ApiPath<(Uuid, String)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<DocumentDto>, ApiError> {
    one_document(
        &state,
        &caller,
        shop_id,
        (read_at.min_position, "quote"),
        || {
            checked_number(&number, "quote")?;
            let today = super::shop_today(&state, shop_id)?;
            let quote = state.projections.quote(shop_id, &number)?;
            Ok(quote.map(|q| q.as_of(today)))
        },
    )
    .await
}

/// Runs `command` on the quote `number` and answers with its new status.
async fn quote_transition(
    state: &AppState,
    caller: &Caller,
    ids: &CommandIds,
    (shop_id, number): (Uuid, String),
    command: QuoteCommand,
) -> Result<Answer<QuoteReceipt>, ApiError> {
    checked_number(&number, "quote")?;
    let stream = quote_stream_id(shop_id, &number);
    let executed = run(state, ids, caller, vec![], |session| {
        session_shop(session, shop_id)?;
        let quote = session.load::<Quote>(&stream)?;
        if quote.opened.is_none() {
            return Err(DomainError::not_found("quote", &number).into());
        }
        session.decide::<Quote>(&stream, &command)?;
        let quote = session.load::<Quote>(&stream)?;
        Ok(quote.status.unwrap_or(QuoteStatus::Issued))
    })
    .await?;
    let position = written_position(state, &executed);
    let status = match executed {
        Executed::Applied { output, .. } => output,
        Executed::Replayed { .. } => {
            let quote = state.cache.load::<Quote, _>(state.log.as_ref(), &stream)?;
            quote.state.status.unwrap_or(QuoteStatus::Issued)
        }
    };
    let receipt = QuoteReceipt {
        number,
        status,
        position,
    };
    Ok(Answer::ok(receipt, position))
}

/// Records the customer's acceptance, within the validity date.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/quotes/{number}/accept", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("number" = String, Path)),
    request_body = AcceptInput,
    responses((status = 200, body = QuoteReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn accept_quote(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, String)>,
    JsonBody(body): JsonBody<AcceptInput>,
) -> Result<Answer<QuoteReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageQuotes)?;
    let command = QuoteCommand::Accept {
        shop_id: path.0,
        accepted_by: body.accepted_by.unwrap_or_else(|| caller.actor()),
    };
    quote_transition(&state, &caller, &ids, path, command).await
}

/// Records the customer's refusal, within the validity date.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/quotes/{number}/decline", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("number" = String, Path)),
    request_body = DeclineInput,
    responses((status = 200, body = QuoteReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn decline_quote(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(path): ApiPath<(Uuid, String)>,
    JsonBody(body): JsonBody<DeclineInput>,
) -> Result<Answer<QuoteReceipt>, ApiError> {
    caller.authorize(path.0, Permission::ManageQuotes)?;
    let command = QuoteCommand::Decline {
        shop_id: path.0,
        declined_by: caller.actor(),
        reason: body.reason,
    };
    quote_transition(&state, &caller, &ids, path, command).await
}

/// The purchase order's body: from the accepted quote (recording the conversion once its number
/// is known, by the caller), or from typed lines.
enum OrderSource {
    Quote(String),
    Direct(Uuid, Vec<QuoteLineInput>),
}

impl OrderSource {
    fn of(body: &PurchaseOrderInput) -> Result<OrderSource, ApiError> {
        match (&body.quote_number, body.customer_id, &body.lines) {
            (Some(number), None, None) => {
                checked_number(number, "quote")?;
                Ok(OrderSource::Quote(number.clone()))
            }
            (None, Some(customer_id), Some(lines)) => Ok(OrderSource::Direct(
                customer_id,
                lines.iter().map(Into::into).collect(),
            )),
            _ => Err(ApiError::Domain(DomainError::validation(
                "quote_number",
                "give either quote_number, or customer_id and lines",
            ))),
        }
    }
}

fn decide_purchase_order(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    source: &OrderSource,
) -> Result<(String, Totals), CommandError> {
    let profile = session_shop(session, shop_id)?;
    let (body, quote_number) = match source {
        OrderSource::Quote(number) => {
            let quote = session.load::<Quote>(&quote_stream_id(shop_id, number))?;
            let opened = quote
                .opened_in(shop_id)
                .map_err(|_| DomainError::not_found("quote", number))?;
            let body = purchase_order_body_from_quote(&profile, number, &opened.body);
            (body, Some(number.clone()))
        }
        OrderSource::Direct(customer_id, lines) => {
            let (customer, catalog) = customer_and_catalog(session, shop_id, *customer_id)?;
            (
                purchase_order_body(&profile, &customer, &catalog, lines)?,
                None,
            )
        }
    };
    let totals = body.totals.clone();
    let currency = body.currency.clone();
    let (number, issued_at) = issue(
        session,
        &profile,
        DocumentBody::PurchaseOrder(Box::new(body)),
    )?;
    if let Some(quote_number) = &quote_number {
        let convert = QuoteCommand::Convert {
            shop_id,
            purchase_order_number: number.clone(),
        };
        session.decide::<Quote>(&quote_stream_id(shop_id, quote_number), &convert)?;
    }
    let open = PurchaseOrderCommand::Open {
        shop_id,
        number: number.clone(),
        issued_at,
        quote_number,
        currency,
        total_incl_vat: totals.total_incl_vat,
    };
    session.decide::<PurchaseOrder>(&purchase_order_stream_id(shop_id, &number), &open)?;
    Ok((number, totals))
}

/// Issues a purchase order, from an accepted quote or directly; numbered in its own series.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/purchase-orders", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PurchaseOrderInput,
    responses((status = 201, body = IssuedReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<PurchaseOrderInput>,
) -> Result<Answer<IssuedReceipt>, ApiError> {
    caller.authorize(shop_id, Permission::ManageQuotes)?;
    let source = OrderSource::of(&body)?;
    let series = documents::stream_id(shop_id, DocumentKind::PurchaseOrder);
    let executed = run(&state, &ids, &caller, vec![series], |session| {
        decide_purchase_order(session, shop_id, &source)
    })
    .await?;
    issued_answer(&state, executed, "purchase-orders", shop_id)
}

/// Purchase orders by issue date, paid ones marked.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/purchase-orders", tag = "quotes",
    params(("shop_id" = Uuid, Path), IssuedBetween, PageQuery),
    responses((status = 200, body = crate::dto::PurchaseOrderPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_purchase_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(issued): ApiQuery<IssuedBetween>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<DocumentPage>, ApiError> {
    list_documents(&state, &caller, shop_id, (issued, paging), |range, page| {
        Ok(state.projections.purchase_orders(shop_id, range, page)?)
    })
    .await
}

/// One purchase order by number (print it at `/printable/purchase-orders/{number}`).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/purchase-orders/{number}", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("number" = String, Path), ReadAt),
    responses((status = 200, body = crate::dto::PurchaseOrder), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, number)): ApiPath<(Uuid, String)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<DocumentDto>, ApiError> {
    let read = (read_at.min_position, "purchase order");
    one_document(&state, &caller, shop_id, read, || {
        checked_number(&number, "purchase order")?;
        Ok(state.projections.purchase_order(shop_id, &number)?)
    })
    .await
}

/// Marks the whole purchase order paid (method, amount, operator); it then shows as paid.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/purchase-orders/{number}/mark-paid", tag = "quotes",
    params(("shop_id" = Uuid, Path), ("number" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MarkPurchaseOrderPaidInput,
    responses((status = 200, body = PaidReceipt), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn mark_purchase_order_paid(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, number)): ApiPath<(Uuid, String)>,
    JsonBody(body): JsonBody<MarkPurchaseOrderPaidInput>,
) -> Result<Answer<PaidReceipt>, ApiError> {
    caller.authorize(shop_id, Permission::MarkPaid)?;
    checked_number(&number, "purchase order")?;
    let command = PurchaseOrderCommand::MarkPaid {
        shop_id,
        payment_id: ids.derived_id("payment"),
        method: body.method.into(),
        amount: body.amount,
        operator: body.operator.unwrap_or_else(|| caller.actor()),
    };
    let stream = purchase_order_stream_id(shop_id, &number);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session_shop(session, shop_id)?;
        let order = session.load::<PurchaseOrder>(&stream)?;
        if order.opened.is_none() {
            return Err(DomainError::not_found("purchase order", &number).into());
        }
        session.decide::<PurchaseOrder>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let receipt = PaidReceipt {
        number,
        paid: true,
        position,
    };
    Ok(Answer::ok(receipt, position))
}
