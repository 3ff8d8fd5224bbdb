//! The ledger (journal, trial balance, FEC export), printable documents (HTML, PDF, zip bundles),
//! statistics and exports, read from the projections. The books need `ReadLedger`, statistics
//! `ReadStatistics`, the customer export `ExportCustomers`, and printable documents
//! `ReadDocuments` (so a storefront can print its customers' invoices but not read the books);
//! zip bundles of a whole period need `ListDocuments`, which a storefront does not hold.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use comptoir_domain::Environment;
use comptoir_projections::ledger::PeriodBound;
use comptoir_projections::limits::FEC_SHOPS_MAX;
use comptoir_projections::render::{to_html, to_pdf, Printable};
use comptoir_projections::PageRequest;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::documents::{prepare, prepare_for};
use super::{off_the_workers, Answer, ReadAt};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::reports::statistics::shops_of;
use crate::server::AppState;
use comptoir_domain::calendar::local_date;
use comptoir_domain::shop::{Permission, Shop};

mod bundles;
mod customer_space;
pub(crate) mod statistics;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trial_balance))
        .routes(routes!(journal))
        .routes(routes!(general_ledger))
        .routes(routes!(fec_export))
        .routes(routes!(fiscal_years))
        .routes(routes!(printable_document))
        .routes(routes!(bundles::document_bundle))
        .routes(routes!(statistics::statistics))
        .routes(routes!(statistics::customer_export))
        .routes(routes!(customer_space::customer_space))
}

/// What every read of the books starts with: `ReadLedger` (which a storefront does not hold),
/// then the read models at `min_position`.
async fn prepare_ledger(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    min_position: Option<u64>,
) -> Result<(), ApiError> {
    prepare_for(
        state,
        caller,
        (shop_id, Permission::ReadLedger),
        min_position,
    )
    .await
}

fn json_of<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|_| ApiError::Internal)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthRange {
    /// First month included, YYYYMM (e.g. 202503), a month of the shop's time zone.
    pub from_month: u32,
    /// Last month included, YYYYMM; `from_month` by default.
    pub to_month: Option<u32>,
    pub min_position: Option<u64>,
}

/// Debits, credits and balance per account over whole months; the totals are equal.
///
/// Months are those of the shop's time zone: an entry counts in the month of the local day it
/// was booked on.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/trial-balance", tag = "ledger",
    params(("shop_id" = Uuid, Path), MonthRange),
    responses((status = 200, body = crate::dto::TrialBalance), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<MonthRange>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    prepare_ledger(&state, &caller, shop_id, query.min_position).await?;
    let to_month = query.to_month.unwrap_or(query.from_month);
    let balance = off_the_workers(&state, move |projections| {
        json_of(&projections.trial_balance(shop_id, query.from_month, to_month)?)
    })
    .await?;
    Ok(Answer::ok(balance, state.projections.position()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Start of the period, included: a day `YYYY-MM-DD` of the shop's time zone (entries
    /// booked on it or later) or an RFC 3339 instant (entries dated at or after it).
    pub from: String,
    /// End of the period, excluded: a day `YYYY-MM-DD` of the shop's time zone (entries booked
    /// before it) or an RFC 3339 instant (entries dated before it). Give `until` or `to`.
    pub until: Option<String>,
    /// Last day included, `YYYY-MM-DD` in the shop's time zone. Give `until` or `to`.
    pub to: Option<NaiveDate>,
    pub min_position: Option<u64>,
}

/// Longest `from`/`until` accepted (an RFC 3339 instant with nanoseconds and an offset is 35).
const PERIOD_BOUND_CHARS_MAX: usize = 40;

/// A day of the shop's calendar (`YYYY-MM-DD`) or an RFC 3339 instant.
fn period_bound(name: &str, text: &str) -> Result<PeriodBound, ApiError> {
    let invalid = || ApiError::InvalidRequest {
        detail: format!(
            "{name}: expected a day YYYY-MM-DD (in the shop's time zone) or an RFC 3339 instant"
        ),
    };
    if text.len() > PERIOD_BOUND_CHARS_MAX {
        return Err(invalid());
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(PeriodBound::Day(day));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| PeriodBound::Instant(at.with_timezone(&Utc)))
        .map_err(|_| invalid())
}

impl Period {
    /// The period's bounds, `[from, until)`.
    fn bounds(&self) -> Result<(PeriodBound, PeriodBound), ApiError> {
        let from = period_bound("from", &self.from)?;
        let until = match (&self.until, self.to) {
            (Some(until), None) => period_bound("until", until)?,
            (None, Some(to)) => {
                let next =
                    to.checked_add_days(Days::new(1))
                        .ok_or_else(|| ApiError::InvalidRequest {
                            detail: format!("to: no day follows {to}"),
                        })?;
                PeriodBound::Day(next)
            }
            _ => {
                return Err(ApiError::InvalidRequest {
                    detail: "give the end of the period as either until or to".into(),
                })
            }
        };
        Ok((from, until))
    }
}

/// Cursor paging of the journal and the general ledger, for periods longer than one read allows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerPaging {
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Entries per page (default 50, at most 200). Without `limit` and `after`, the whole
    /// period comes in one answer, up to 20,000 entries (more is refused: page it).
    pub limit: Option<usize>,
}

impl LedgerPaging {
    /// The page asked for; `None` for the whole period in one answer.
    fn request(self) -> Option<PageRequest> {
        if self.after.is_none() && self.limit.is_none() {
            return None;
        }
        Some(PageRequest {
            after: self.after,
            limit: self.limit.unwrap_or(0),
        })
    }
}

/// The journal: every entry of the period in date order, each balanced.
///
/// Days are those of the shop's time zone: each entry carries the local day it was booked on
/// (`local_date`), fixed by the zone in force when it was posted.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/journal", tag = "ledger",
    params(("shop_id" = Uuid, Path), Period, LedgerPaging),
    responses((status = 200, body = crate::dto::JournalPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn journal(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<Period>,
    ApiQuery(paging): ApiQuery<LedgerPaging>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    prepare_ledger(&state, &caller, shop_id, query.min_position).await?;
    let (from, until) = query.bounds()?;
    let body = off_the_workers(&state, move |projections| {
        let (entries, next_cursor) = match paging.request() {
            None => (projections.ledger_entries(shop_id, from, until)?, None),
            Some(request) => {
                let page = projections.ledger_entries_page(shop_id, from, until, &request)?;
                (page.items, page.next_cursor)
            }
        };
        Ok(serde_json::json!({ "entries": json_of(&entries)?, "next_cursor": next_cursor }))
    })
    .await?;
    Ok(Answer::ok(body, state.projections.position()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GeneralLedgerParams {
    /// Only the accounts whose number starts with these 1 to 10 digits (e.g. `411`, or `4` for
    /// every third-party account); every account moved in the period by default.
    pub account: Option<String>,
    /// Start of the period, included: a day `YYYY-MM-DD` of the shop's time zone or an RFC 3339
    /// instant, as for the journal.
    pub from: String,
    /// End of the period, excluded: a day `YYYY-MM-DD` of the shop's time zone or an RFC 3339
    /// instant. Give `until` or `to`.
    pub until: Option<String>,
    /// Last day included, `YYYY-MM-DD` in the shop's time zone. Give `until` or `to`.
    pub to: Option<NaiveDate>,
    pub min_position: Option<u64>,
}

/// Longest account prefix accepted: the longest account number a mapping may give.
const ACCOUNT_PREFIX_DIGITS_MAX: usize = comptoir_domain::shop::ACCOUNT_DIGITS_MAX;

/// The account filter, checked: digits only, so it cannot select by accident on labels or
/// match nothing silently because of a typo such as `41I`.
fn account_prefix(account: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(account) = account else {
        return Ok(None);
    };
    let valid = (1..=ACCOUNT_PREFIX_DIGITS_MAX).contains(&account.len())
        && account.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(ApiError::InvalidRequest {
            detail: format!(
                "account: expected 1 to {ACCOUNT_PREFIX_DIGITS_MAX} digits, the start of an account number"
            ),
        });
    }
    Ok(Some(account))
}

/// The general ledger (grand livre): per account moved in the period, in account order, its
/// postings in date order with the running balance, and its totals.
///
/// Days are those of the shop's time zone, as for the journal; over a period the accounts'
/// totals are the trial balance's. A period holding more than the journal's entry limit
/// answers 400 unless paged: with `limit` or `after`, a page holds up to `limit` entries'
/// lines, account after account; an account continued from the previous page opens with its
/// `opening_balance` there, and its totals and running balances go on from the period's
/// start, so the pages' lines, account by account, are the one-answer general ledger and the
/// last page's totals are its totals.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/general-ledger", tag = "ledger",
    params(("shop_id" = Uuid, Path), GeneralLedgerParams, LedgerPaging),
    responses((status = 200, body = crate::dto::GeneralLedger), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn general_ledger(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<GeneralLedgerParams>,
    ApiQuery(paging): ApiQuery<LedgerPaging>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    prepare_ledger(&state, &caller, shop_id, query.min_position).await?;
    let account = account_prefix(query.account.as_deref())?;
    let period = Period {
        from: query.from.clone(),
        until: query.until.clone(),
        to: query.to,
        min_position: query.min_position,
    };
    let (from, until) = period.bounds()?;
    let account = account.map(str::to_string);
    let body = off_the_workers(&state, move |projections| match paging.request() {
        None => {
            let ledger =
                projections.general_ledger_accounts(shop_id, account.as_deref(), from, until)?;
            let mut body = json_of(&ledger)?;
            body["next_cursor"] = serde_json::Value::Null;
            Ok(body)
        }
        Some(request) => json_of(&projections.general_ledger_page(
            shop_id,
            account.as_deref(),
            from,
            until,
            &request,
        )?),
    })
    .await?;
    Ok(Answer::ok(body, state.projections.position()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiscalYear {
    /// The fiscal year closing in this year, e.g. 2026, in local days of the shop's time zone:
    /// twelve months to the shop's closing day (`fiscal_year_end`, 31 December by default), so
    /// a shop closing on 30 June exports 2026 as 1 July 2025 – 30 June 2026. A change of
    /// closing day reshapes the fiscal year in progress on the day it is recorded (it keeps its
    /// first day and closes on the first new closing day on or after that day, in a later
    /// calendar year than the previous closing, 24 months at most); earlier years keep their
    /// bounds. So every fiscal year, past or present, is one file with its real bounds, and
    /// 400 `invalid-request` answers a year no fiscal year closes in (spanned by a longer one).
    pub year: i32,
    /// Other shops of the same legal entity (same SIREN) to export with this one in one file,
    /// comma-separated ids: the FEC is due per SIREN. Needs a token that reads the ledger of
    /// every shop (the owner token); their fiscal years must coincide (else 400). With several
    /// shops, `EcritureNum` numbers the file's entries from 1 in date order, each shop's day in
    /// the order given.
    pub shop_ids: Option<String>,
    pub min_position: Option<u64>,
}

/// The FEC (Fichier des Écritures Comptables) of a fiscal year, as `{SIREN}FEC{AAAAMMJJ}.txt`
/// where `AAAAMMJJ` is the fiscal year's closing day.
///
/// Entries belong to the fiscal year of the day they were booked on in the shop's time zone,
/// and `EcritureDate`, `PieceDate` and `ValidDate` are that local day.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/fec", tag = "ledger",
    params(("shop_id" = Uuid, Path), FiscalYear),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn fec_export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<FiscalYear>,
) -> Result<Response, ApiError> {
    prepare_ledger(&state, &caller, shop_id, query.min_position).await?;
    let shops = shops_of(
        &state,
        &caller,
        shop_id,
        query.shop_ids.as_deref(),
        (Permission::ReadLedger, FEC_SHOPS_MAX),
    )?;
    let year = query.year;
    let fec = off_the_workers(&state, move |projections| {
        Ok(projections.fec_export(&shops, year)?)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("shop"))?;
    let disposition = format!("attachment; filename=\"{}\"", fec.file_name);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        fec.content,
    )
        .into_response())
}

/// The shop's fiscal years, oldest first, from the one of its first ledger entry to the one in
/// progress: the `year` to ask the FEC (`ledger/fec?year=`) and a year closure for, with the
/// real bounds a change of closing day gave it and the name of its FEC file.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/ledger/fiscal-years", tag = "ledger",
    params(("shop_id" = Uuid, Path), ReadAt),
    responses((status = 200, body = crate::dto::FiscalYears), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn fiscal_years(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<serde_json::Value>, ApiError> {
    prepare_ledger(&state, &caller, shop_id, read_at.min_position).await?;
    let shop = state.cache.load::<Shop, _>(
        state.log.as_ref(),
        &comptoir_domain::shop::stream_id(shop_id),
    )?;
    let profile = shop
        .state
        .profile
        .as_ref()
        .ok_or_else(|| ApiError::not_found("shop"))?;
    let today = local_date(state.clock.now(), profile.zone());
    let years = state
        .projections
        .fiscal_years(shop_id, today)?
        .ok_or_else(|| ApiError::not_found("shop"))?;
    let body = json_of(&serde_json::json!({ "fiscal_years": years }))?;
    Ok(Answer::ok(body, state.projections.position()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintFormat {
    /// `html` (default) or `pdf`.
    pub format: Option<String>,
    pub min_position: Option<u64>,
}

/// A document ready to print: `kind` is `invoices`, `credit-notes`, `delivery-slips`, `quotes`
/// or `purchase-orders`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/printable/{kind}/{number}", tag = "documents",
    params(("shop_id" = Uuid, Path), ("kind" = String, Path), ("number" = String, Path), PrintFormat),
    responses((status = 200, content_type = "text/html", body = String),
        (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn printable_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, kind, number)): ApiPath<(Uuid, String, String)>,
    ApiQuery(query): ApiQuery<PrintFormat>,
) -> Result<Response, ApiError> {
    prepare(&state, &caller, shop_id, query.min_position).await?;
    let projections = &state.projections;
    let printable = match kind.as_str() {
        "invoices" => projections
            .invoice(shop_id, &number)?
            .map(|v| Printable::invoice(&v)),
        "credit-notes" => projections
            .credit_note(shop_id, &number)?
            .map(|v| Printable::credit_note(&v)),
        "delivery-slips" => projections
            .delivery_slip(shop_id, &number)?
            .map(|v| Printable::delivery_slip(&v)),
        // A quote prints its status as of today, like its JSON.
        "quotes" => projections
            .quote(shop_id, &number)?
            .map(|v| Printable::quote(&v.as_of(state.clock.now().date_naive()))),
        "purchase-orders" => projections
            .purchase_order(shop_id, &number)?
            .map(|v| Printable::purchase_order(&v)),
        _ => return Err(ApiError::not_found("document kind")),
    }
    .ok_or_else(|| ApiError::not_found("document"))?;
    match query.format.as_deref().unwrap_or("html") {
        "html" => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            to_html(&printable),
        )
            .into_response()),
        "pdf" => {
            let pdf = to_pdf(&printable)?;
            Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
        }
        other => Err(ApiError::InvalidRequest {
            detail: format!("unknown format {other:?}: html or pdf"),
        }),
    }
}
