//! NF525 periodic closures (spec §9): a manager closes a day, a month or a year of the shop's
//! calendar once it is over; managers and accountants list, read and verify them.
//!
//! Closing waits for the read models to hold every event appended before the request (so no
//! invoice of the period can be missing: the period is over, so anything appended later is dated
//! after it), sums the period's day rows at that position, scans which earlier days had
//! activity, and hands these facts to the domain, which checks them against the closures already
//! recorded (order, sub-periods closed, month = sum of its days, arithmetic) and chains the hash.
//! Verification re-reads the closures from the log itself, recomputes each hash, sequence,
//! perpetual total and sum, and compares each day with the read model's day row now.

use axum::extract::State;
use chrono::NaiveDate;
use comptoir_domain::calendar::Tz;
use comptoir_domain::closure::{
    self, Activity, ClosePeriod, ClosureCommand, ClosureEvent, ClosureKind, ClosurePeriod,
    Closures, PeriodClosed,
};
use comptoir_domain::shop::{FiscalCalendar, Permission, Shop};
use comptoir_domain::Aggregate;
use comptoir_projections::closures::ClosureView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::paging::PageQuery;
use super::{run, session_shop, shop_profile, written_position, Answer, ReadAt};
use crate::auth::Caller;
use crate::commands::{CommandError, STREAM_PAGE_EVENTS};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

/// Closures one verification re-reads at most (about 27 years of day closures with their months
/// and years): past it, the answer is 422 `limit-exceeded` rather than an unbounded scan.
pub const CLOSURES_VERIFY_MAX: usize = 10_000;
/// Disagreements one verification lists at most; the count is always complete.
pub const CLOSURE_DISAGREEMENTS_MAX: usize = 100;
/// The longest period name accepted (`YYYY-MM-DD`).
const PERIOD_CHARS_MAX: usize = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(close_period, list_closures))
        .routes(routes!(verify_closures))
        .routes(routes!(get_closure))
}

/// The period to close.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    #[schema(value_type = crate::dto::ClosureKindDto)]
    pub kind: ClosureKind,
    /// `2026-11-20` for a day, `2026-11` for a month, in the shop's calendar; `2026` for a year:
    /// the shop's fiscal year closing in 2026 (the FEC's `year`, with the same bounds).
    #[schema(example = "2026-11-20")]
    pub date: String,
}

/// `?kind=&from=&to=`: which closures to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClosureFilter {
    /// Only closures of this kind (`day`, `month`, `year`).
    #[param(value_type = Option<crate::dto::ClosureKindDto>)]
    pub kind: Option<ClosureKind>,
    /// Only periods starting on or after this day (`YYYY-MM-DD`).
    pub from: Option<NaiveDate>,
    /// Only periods starting on or before this day.
    pub to: Option<NaiveDate>,
}

/// The period `text` names; a year is the fiscal year of `calendar` closing in it.
fn parse_period(
    kind: ClosureKind,
    text: &str,
    calendar: &FiscalCalendar,
) -> Result<ClosurePeriod, ApiError> {
    if text.len() > PERIOD_CHARS_MAX {
        return Err(ApiError::Domain(comptoir_domain::DomainError::validation(
            "date",
            "is too long for a period name",
        )));
    }
    Ok(ClosurePeriod::parse(kind, text, calendar)?)
}

/// The shop's fiscal years, as its hot state folds them; 404 for an unknown shop.
fn shop_calendar(state: &AppState, shop_id: Uuid) -> Result<FiscalCalendar, ApiError> {
    let shop = state.cache.load::<Shop, _>(
        state.log.as_ref(),
        &comptoir_domain::shop::stream_id(shop_id),
    )?;
    if shop.state.profile.is_none() {
        return Err(ApiError::not_found("shop"));
    }
    Ok(shop.state.fiscal_calendar.clone())
}

/// The command closing `period`, from what the read models say at their current position about
/// it (its totals, where activity was) and the closures in `closures`. Run inside the decision,
/// so the facts are scanned from the very state `decide` checks them against, again on each
/// retry after a conflict.
fn close_command(
    state: &AppState,
    (shop_id, time_zone, fiscal_calendar): (Uuid, Tz, FiscalCalendar),
    closures: &Closures,
    period: ClosurePeriod,
) -> Result<ClosureCommand, CommandError> {
    let covers_up_to = state.projections.position();
    let log_hash = hex::encode(state.log.hash_at(covers_up_to)?);
    let totals =
        state
            .projections
            .closure_period_totals(shop_id, period.starts_on, period.ends_before)?;
    let scanned_from = closures.chain(period.kind).closed_until();
    let first_active_day_before =
        state
            .projections
            .first_active_day(shop_id, scanned_from, period.starts_on)?;
    Ok(ClosureCommand::Close(Box::new(ClosePeriod {
        shop_id,
        period,
        time_zone,
        fiscal_calendar,
        covers_up_to,
        log_hash,
        totals: totals.totals,
        activity: Activity {
            scanned_from,
            first_active_day_before,
            last_active_day_in: totals.last_active_day,
        },
    })))
}

/// Closes a day, a month or a fiscal year of the shop's calendar for good (a year is the sum of
/// the months of the fiscal year, twelve or, for a year a change of closing day reshaped, its
/// real number; the sum of its days when it begins or ends inside a month). 409
/// `period-closed` when it is closed already; 422 `period-not-over` for a period that is not
/// over, `earlier-period-unclosed` when an earlier period with sales or payments is not closed,
/// `sub-periods-unclosed` when a day of the month (a month, or a day, of the year) with activity
/// is not closed.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/closures", tag = "closures",
    request_body = CloseInput,
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = crate::dto::Closure), (status = 409, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 422, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn close_period(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<CloseInput>,
) -> Result<Answer<ClosureView>, ApiError> {
    caller.authorize(shop_id, Permission::ClosePeriods)?;
    let period = parse_period(body.kind, &body.date, &shop_calendar(&state, shop_id)?)?;
    // Every event appended before this request must be in the totals: wait for the head.
    state.read_at(Some(state.log.head_position())).await?;
    let stream = closure::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let time_zone = session_shop(session, shop_id)?.zone();
        // The calendar decide checks the year against is the one of this decision's state.
        let shop = session.load::<Shop>(&comptoir_domain::shop::stream_id(shop_id))?;
        let calendar = shop.fiscal_calendar.clone();
        let closures = session.load::<Closures>(&stream)?;
        let command = close_command(&state, (shop_id, time_zone, calendar), &closures, period)?;
        session.decide::<Closures>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    state.read_at(Some(position)).await?;
    let view = state
        .projections
        .closure(shop_id, period.kind, period.starts_on)?
        .ok_or_else(|| {
            tracing::error!(%shop_id, period = %period.label(), "a recorded closure is not in the read models");
            ApiError::Internal
        })?;
    Ok(Answer::created(
        view,
        position,
        format!(
            "/v1/shops/{shop_id}/closures/{}/{}",
            period.kind.as_str(),
            period.label()
        ),
    ))
}

/// A page of closures.
#[derive(Debug, Serialize)]
pub struct ClosurePage {
    pub items: Vec<ClosureView>,
    pub next_cursor: Option<String>,
}

/// The shop's closures: days, then months, then years, each by period.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/closures", tag = "closures",
    params(("shop_id" = Uuid, Path), ClosureFilter, PageQuery),
    responses((status = 200, body = crate::dto::ClosurePage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_closures(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(filter): ApiQuery<ClosureFilter>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<ClosurePage>, ApiError> {
    caller.authorize(shop_id, Permission::ReadClosures)?;
    state.read_at(paging.min_position).await?;
    let page =
        state
            .projections
            .closures(shop_id, filter.kind, filter.from, filter.to, &paging.page())?;
    let body = ClosurePage {
        items: page.items,
        next_cursor: page.next_cursor,
    };
    Ok(Answer::ok(body, state.projections.position()))
}

/// One closure, by kind (`day`, `month`, `year`) and period (`2026-11-20`, `2026-11`, `2026`).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/closures/{kind}/{period}", tag = "closures",
    params(("shop_id" = Uuid, Path), ("kind" = crate::dto::ClosureKindDto, Path), ("period" = String, Path), ReadAt),
    responses((status = 200, body = crate::dto::Closure), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_closure(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, kind, period)): ApiPath<(Uuid, String, String)>,
    ApiQuery(read_at): ApiQuery<ReadAt>,
) -> Result<Answer<ClosureView>, ApiError> {
    caller.authorize(shop_id, Permission::ReadClosures)?;
    let period = parse_period(
        ClosureKind::parse(&kind)?,
        &period,
        &shop_calendar(&state, shop_id)?,
    )?;
    state.read_at(read_at.min_position).await?;
    let view = state
        .projections
        .closure(shop_id, period.kind, period.starts_on)?
        .ok_or_else(|| ApiError::not_found("closure"))?;
    Ok(Answer::ok(view, state.projections.position()))
}

/// One closure that disagrees with what it should be, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureDisagreement {
    #[schema(value_type = crate::dto::ClosureKindDto)]
    pub kind: ClosureKind,
    pub label: String,
    pub sequence: u64,
    /// What differs, in words.
    pub problems: Vec<String>,
}

/// The outcome of re-checking every closure of the shop.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureVerification {
    /// Closures re-checked (all of the shop's).
    pub checked: u64,
    /// True when no closure disagrees.
    pub all_good: bool,
    /// How many closures disagree.
    pub disagreeing: u64,
    /// The first disagreeing closures, oldest first within each kind (at most 100).
    pub disagreements: Vec<ClosureDisagreement>,
    /// The log position the read models were at when the day rows were compared.
    pub position: u64,
}

/// Re-checks every closure of the shop from the log: its hash over its content and the previous
/// hash of its kind, its sequence, its perpetual total, that its figures add up, that a month is
/// the sum of its day closures and a year of its months, that a day still equals the read model's
/// day row, and that the read model holds the same closure.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/closures/verify", tag = "closures",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = ClosureVerification), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn verify_closures(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<ClosureVerification>, ApiError> {
    caller.authorize(shop_id, Permission::ReadClosures)?;
    shop_profile(&state, shop_id)?;
    state.read_at(Some(state.log.head_position())).await?;
    let position = state.projections.position();
    let recorded = read_closures(&state, shop_id)?;
    let mut verifier = Verifier::default();
    let mut disagreements = Vec::new();
    let mut disagreeing = 0u64;
    for closed in &recorded {
        let mut problems = verifier.check(closed);
        problems.extend(compare_with_read_models(&state, closed)?);
        if !problems.is_empty() {
            disagreeing += 1;
            if disagreements.len() < CLOSURE_DISAGREEMENTS_MAX {
                disagreements.push(ClosureDisagreement {
                    kind: closed.period.kind,
                    label: closed.period.label(),
                    sequence: closed.sequence,
                    problems,
                });
            }
        }
    }
    let body = ClosureVerification {
        checked: recorded.len() as u64,
        all_good: disagreeing == 0,
        disagreeing,
        disagreements,
        position,
    };
    Ok(Answer::ok(body, position))
}

/// The shop's closures as the log holds them, in the order they were recorded.
fn read_closures(state: &AppState, shop_id: Uuid) -> Result<Vec<PeriodClosed>, ApiError> {
    let stream = closure::stream_id(shop_id);
    let mut closures = Vec::new();
    let mut next_version = 1;
    loop {
        let page = state
            .log
            .read_stream(&stream, next_version, STREAM_PAGE_EVENTS)?;
        for recorded in &page {
            if closures.len() == CLOSURES_VERIFY_MAX {
                return Err(ApiError::LimitExceeded {
                    detail: format!("at most {CLOSURES_VERIFY_MAX} closures are verified at once"),
                });
            }
            let event: ClosureEvent =
                comptoir_projections::codec::decode_event(recorded).map_err(CommandError::from)?;
            let ClosureEvent::PeriodClosed(closed) = event;
            closures.push(*closed);
        }
        if page.len() < STREAM_PAGE_EVENTS {
            return Ok(closures);
        }
        next_version += page.len() as u64;
    }
}

/// The closures before the one checked, folded as the aggregate folds them: the head of each
/// kind's chain, and the closures each month and year must sum.
#[derive(Default)]
struct Verifier {
    closures: Closures,
}

impl Verifier {
    /// What is wrong with `closed` given the closures before it in the log.
    fn check(&mut self, closed: &PeriodClosed) -> Vec<String> {
        let mut problems = Vec::new();
        if closed.hash != closed.computed_hash() {
            problems.push("its hash does not match its content".to_string());
        }
        let chain = self.closures.chain(closed.period.kind);
        let (sequence, perpetual) = (chain.sequence, chain.perpetual_total_incl_vat);
        if closed.sequence != sequence + 1 {
            problems.push(format!(
                "sequence {} follows {sequence}: a closure is missing",
                closed.sequence
            ));
        }
        if closed.previous_hash != chain.last_hash {
            problems.push("its previous hash is not the hash of the previous closure".to_string());
        }
        if closed.perpetual_total_incl_vat != perpetual + closed.totals.total_incl_vat {
            problems.push(format!(
                "its perpetual total {} is not the previous {perpetual} plus {}",
                closed.perpetual_total_incl_vat, closed.totals.total_incl_vat
            ));
        }
        if let Err(error) = closed.totals.check() {
            problems.push(error.to_string());
        }
        if self
            .closures
            .sum_of_parts(&closed.period)
            .is_some_and(|sum| sum != closed.totals)
        {
            problems.push("its totals are not the sum of its closed sub-periods".to_string());
        }
        let event = ClosureEvent::PeriodClosed(Box::new(closed.clone()));
        self.closures = std::mem::take(&mut self.closures).evolve(&event);
        problems
    }
}

/// What differs between `closed` and the read models now: its row in the closure list, and for
/// a day the day row it was computed from.
fn compare_with_read_models(
    state: &AppState,
    closed: &PeriodClosed,
) -> Result<Vec<String>, ApiError> {
    let mut problems = Vec::new();
    let period = closed.period;
    match state
        .projections
        .closure(closed.shop_id, period.kind, period.starts_on)?
    {
        Some(view) if view.closed == *closed => {}
        Some(_) => problems.push("the read models hold another version of it".to_string()),
        None => problems.push("the read models do not hold it".to_string()),
    }
    // The closure anchored the log: the log must still lead to the same hash there.
    if let Some(anchored) = &closed.log_hash {
        let now = hex::encode(state.log.hash_at(closed.covers_up_to)?);
        if now != *anchored {
            problems.push(format!(
                "the log's hash at position {} is {now} where the closure anchored {anchored}: the log was rewritten before it",
                closed.covers_up_to
            ));
        }
    }
    if period.kind == ClosureKind::Day {
        let now = state.projections.closure_period_totals(
            closed.shop_id,
            period.starts_on,
            period.ends_before,
        )?;
        if now.totals != closed.totals {
            problems.push(format!(
                "the day's documents and payments now total {} where the closure says {}",
                now.totals.total_incl_vat, closed.totals.total_incl_vat
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use comptoir_domain::calendar::default_time_zone;
    use comptoir_domain::closure::ClosureTotals;
    use comptoir_domain::fold;
    use comptoir_domain::order::PaymentMethod;
    use comptoir_domain::pricing::{Totals, VatSubtotal};
    use comptoir_domain::testing::TestEnvironment;
    use rust_decimal::Decimal;

    fn closure_of(history: &[ClosureEvent], kind: ClosureKind, text: &str) -> PeriodClosed {
        let state = fold::<Closures>(history);
        let period = ClosurePeriod::parse(kind, text, &FiscalCalendar::default()).expect("period");
        let mut totals = ClosureTotals::default();
        let days: Vec<&PeriodClosed> = history
            .iter()
            .map(|ClosureEvent::PeriodClosed(closed)| closed.as_ref())
            .filter(|closed| closed.period.kind == ClosureKind::Day)
            .collect();
        match kind {
            ClosureKind::Day => {
                let twelve = Decimal::new(12, 0);
                let invoice = Totals {
                    vat_breakdown: vec![VatSubtotal {
                        vat_rate: Decimal::new(20, 0),
                        base_excl_vat: Decimal::TEN,
                        vat_amount: Decimal::TWO,
                        total_incl_vat: twelve,
                    }],
                    total_excl_vat: Decimal::TEN,
                    total_vat: Decimal::TWO,
                    total_incl_vat: twelve,
                };
                totals.add_invoice(&format!("FA-{text}"), &invoice);
                totals.add_payment(PaymentMethod::Card, twelve);
            }
            _ => days.iter().for_each(|day| totals.absorb(&day.totals)),
        }
        let close = ClosePeriod {
            shop_id: Uuid::from_u128(7),
            period,
            time_zone: default_time_zone(),
            fiscal_calendar: FiscalCalendar::default(),
            covers_up_to: 10,
            log_hash: "0".repeat(64),
            totals,
            activity: Activity {
                scanned_from: state.chain(kind).closed_until(),
                first_active_day_before: None,
                last_active_day_in: None,
            },
        };
        let now = "2026-12-02T09:00:00Z".parse().expect("instant");
        let events = state
            .decide(
                &ClosureCommand::Close(Box::new(close)),
                &TestEnvironment::at(now),
            )
            .expect("closes");
        let ClosureEvent::PeriodClosed(closed) = &events[0];
        (**closed).clone()
    }

    /// Two days and their month, as recorded.
    fn chain() -> Vec<PeriodClosed> {
        let mut history = Vec::new();
        for (kind, text) in [
            (ClosureKind::Day, "2026-11-19"),
            (ClosureKind::Day, "2026-11-20"),
            (ClosureKind::Month, "2026-11"),
        ] {
            let closed = closure_of(&history, kind, text);
            history.push(ClosureEvent::PeriodClosed(Box::new(closed)));
        }
        history
            .into_iter()
            .map(|ClosureEvent::PeriodClosed(closed)| *closed)
            .collect()
    }

    fn problems(closures: &[PeriodClosed]) -> Vec<Vec<String>> {
        let mut verifier = Verifier::default();
        closures
            .iter()
            .map(|closed| verifier.check(closed))
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        // Proves recorded closures pass every check of the verifier.
        assert!(problems(&chain()).iter().all(Vec::is_empty));
    }

    #[test]
    fn an_altered_figure_breaks_its_hash() {
        // Proves a figure changed without its hash is reported, on that closure only.
        let mut closures = chain();
        closures[1].totals.payments[0].received += Decimal::ONE;
        let found = problems(&closures);
        assert!(found[0].is_empty());
        assert!(found[1].iter().any(|p| p.contains("hash does not match")));
    }

    #[test]
    fn a_missing_closure_breaks_the_sequence_and_the_chain() {
        // Proves removing a day closure is seen on the next one (sequence and previous hash),
        // and on its month, which no longer sums its days.
        let mut closures = chain();
        closures.remove(0);
        let found = problems(&closures);
        assert!(found[0].iter().any(|p| p.contains("a closure is missing")));
        assert!(found[0].iter().any(|p| p.contains("previous hash")));
        assert!(found[0].iter().any(|p| p.contains("perpetual total")));
        assert!(found[1].iter().any(|p| p.contains("sum of its closed")));
    }

    #[test]
    fn a_rehashed_month_that_is_not_its_days_sum_is_reported() {
        // Proves a consistent-looking month (its hash recomputed) still fails the sum check.
        let mut closures = chain();
        closures[2].totals = ClosureTotals::default();
        closures[2].perpetual_total_incl_vat = Decimal::ZERO;
        closures[2].hash = closures[2].computed_hash();
        let found = problems(&closures);
        assert_eq!(
            found[2],
            ["its totals are not the sum of its closed sub-periods"]
        );
    }
}
