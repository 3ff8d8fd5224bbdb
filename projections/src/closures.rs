//! The read models of NF525 closures: per shop and local day, the totals a day closure records
//! (invoices and credit notes per VAT rate, payments and refunds per method, a cancelled order's
//! refunds included), and the closures themselves, listed by kind then period.
//!
//! A day row is the day its event's instant falls on in the shop's zone in force when the event
//! is applied (as the ledger's days), so a later zone change moves nothing between days; the API
//! closes the periods of the current zone. Rows exist only for days with activity, which is how
//! the API tells a day with sales from a quiet one.

use crate::apply::shop::shop_zone;
use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::{key, shop_prefix, Table};
use crate::paging::{Page, PageRequest};
use crate::store::{self, decode_value, ListRange, WriteSet};
use crate::usage::day_bytes;
use crate::Projections;
use chrono::{DateTime, NaiveDate, Utc};
use comptoir_domain::calendar::local_date;
use comptoir_domain::closure::{ClosureEvent, ClosureKind, ClosureTotals, PeriodClosed};
use comptoir_domain::documents::DocumentEvent;
use comptoir_domain::order::OrderEvent;
use comptoir_eventlog::{Position, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Day rows one totals query sums at most: the longest period closed is a fiscal year, which a
/// change of closing day may stretch to 24 months (731 days with a 29 February).
pub const CLOSURE_DAYS_MAX: usize = 731;
/// Whole years in the longest fiscal year, each with at most one 29 February in four.
const LONGEST_FISCAL_YEARS: usize = comptoir_domain::shop::FISCAL_YEAR_MONTHS_MAX as usize / 12;
const _: () =
    assert!(CLOSURE_DAYS_MAX >= 365 * LONGEST_FISCAL_YEARS + LONGEST_FISCAL_YEARS.div_ceil(4));

/// What happened in a shop on one local day, as a day closure counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureDayRow {
    pub day: NaiveDate,
    pub totals: ClosureTotals,
}

/// A recorded closure, as listed and read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureView {
    /// The period as the API names it: `2026-11-20`, `2026-11` or `2026` (the fiscal year
    /// closing in 2026).
    pub label: String,
    /// The log position of the `PeriodClosed` event.
    pub position: Position,
    #[serde(flatten)]
    pub closed: PeriodClosed,
}

/// The sum of a period's day rows and where its activity was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodTotals {
    pub totals: ClosureTotals,
    pub first_active_day: Option<NaiveDate>,
    pub last_active_day: Option<NaiveDate>,
}

fn kind_byte(kind: ClosureKind) -> u8 {
    match kind {
        ClosureKind::Day => 1,
        ClosureKind::Month => 2,
        ClosureKind::Year => 3,
    }
}

fn closure_suffix(kind: ClosureKind, starts_on: NaiveDate) -> Vec<u8> {
    let mut suffix = vec![kind_byte(kind)];
    suffix.extend_from_slice(&day_bytes(starts_on));
    suffix
}

fn change_day(
    writes: &mut WriteSet,
    shop_id: Uuid,
    at: DateTime<Utc>,
    change: impl FnOnce(&mut ClosureTotals),
) -> ProjectionResult<()> {
    let day = local_date(at, shop_zone(writes, shop_id)?);
    let row_key = key(Table::ClosureDay, shop_id, &day_bytes(day));
    let absent = || ClosureDayRow {
        day,
        totals: ClosureTotals::default(),
    };
    writes.update_decoded(row_key, absent, |row| change(&mut row.totals))
}

/// Invoices and credit notes count on the day they were issued.
pub(crate) fn apply_document(writes: &mut WriteSet, event: &DocumentEvent) -> ProjectionResult<()> {
    match event {
        DocumentEvent::InvoiceIssued {
            shop_id,
            number,
            issued_at,
            invoice,
        } => change_day(writes, *shop_id, *issued_at, |totals| {
            totals.add_invoice(&number.number, &invoice.totals);
        }),
        DocumentEvent::CreditNoteIssued {
            shop_id,
            number,
            issued_at,
            credit_note,
        } => change_day(writes, *shop_id, *issued_at, |totals| {
            totals.add_credit_note(&number.number, &credit_note.totals, credit_note.settlement);
        }),
        _ => Ok(()),
    }
}

/// Payments count on the day they were recorded; the refunds of a cancelled, partly paid order on
/// the day it was cancelled, per method. A cancellation recorded before refunds had methods
/// (no rows) counts nothing, as before, so days already closed keep the rows they were closed on.
pub(crate) fn apply_order(writes: &mut WriteSet, event: &OrderEvent) -> ProjectionResult<()> {
    match event {
        OrderEvent::PaymentRecorded {
            shop_id, payment, ..
        } => change_day(writes, *shop_id, payment.recorded_at, |totals| {
            totals.add_payment(payment.method, payment.amount);
        }),
        OrderEvent::OrderCancelled {
            shop_id,
            refunds,
            cancelled_at,
            ..
        } if !refunds.is_empty() => change_day(writes, *shop_id, *cancelled_at, |totals| {
            for refund in refunds {
                totals.add_refund(refund.method, refund.amount);
            }
        }),
        _ => Ok(()),
    }
}

pub(crate) fn apply_closure(
    writes: &mut WriteSet,
    recorded: &RecordedEvent,
    event: &ClosureEvent,
) -> ProjectionResult<()> {
    let ClosureEvent::PeriodClosed(closed) = event;
    let row_key = key(
        Table::Closure,
        closed.shop_id,
        &closure_suffix(closed.period.kind, closed.period.starts_on),
    );
    let view = ClosureView {
        label: closed.period.label(),
        position: recorded.position,
        closed: (**closed).clone(),
    };
    writes.put(row_key, &view)
}

impl Projections {
    /// The sum of the shop's day rows from `from` up to, not including, `until`, and the first and
    /// last days with activity among them; at most [`CLOSURE_DAYS_MAX`] rows, more is an error.
    pub fn closure_period_totals(
        &self,
        shop_id: Uuid,
        from: NaiveDate,
        until: NaiveDate,
    ) -> ProjectionResult<PeriodTotals> {
        if from >= until {
            return Ok(PeriodTotals::default());
        }
        let start = key(Table::ClosureDay, shop_id, &day_bytes(from));
        let end = key(Table::ClosureDay, shop_id, &day_bytes(until));
        // A sum of rows: it must not see half of a commit (`snapshot`).
        self.read_models_snapshot(|| {
            let mut period = PeriodTotals::default();
            for (index, entry) in self.tree().range(start.clone()..end.clone()).enumerate() {
                if index == CLOSURE_DAYS_MAX {
                    return Err(ProjectionError::TooLarge {
                        what: "days of one closure".into(),
                        limit: CLOSURE_DAYS_MAX,
                    });
                }
                let (row_key, value) = entry?;
                let row: ClosureDayRow = decode_value(&row_key, &value)?;
                period.first_active_day.get_or_insert(row.day);
                period.last_active_day = Some(row.day);
                period.totals.absorb(&row.totals);
            }
            Ok(period)
        })
    }

    /// The first day with activity from `from` (the shop's first day when `None`) up to, not
    /// including, `until`.
    pub fn first_active_day(
        &self,
        shop_id: Uuid,
        from: Option<NaiveDate>,
        until: NaiveDate,
    ) -> ProjectionResult<Option<NaiveDate>> {
        let start = match from {
            Some(from) if from >= until => return Ok(None),
            Some(from) => key(Table::ClosureDay, shop_id, &day_bytes(from)),
            None => shop_prefix(Table::ClosureDay, shop_id),
        };
        let end = key(Table::ClosureDay, shop_id, &day_bytes(until));
        match self.tree().range(start..end).next() {
            Some(entry) => {
                let (row_key, value) = entry?;
                let row: ClosureDayRow = decode_value(&row_key, &value)?;
                Ok(Some(row.day))
            }
            None => Ok(None),
        }
    }

    /// The shop's closures, by kind (days, months, years) then period; `kind` keeps one kind,
    /// `from`/`to` the periods starting in `[from, to]`.
    pub fn closures(
        &self,
        shop_id: Uuid,
        kind: Option<ClosureKind>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: &PageRequest,
    ) -> ProjectionResult<Page<ClosureView>> {
        let range = match kind {
            Some(kind) => ListRange {
                list_tag: Table::Closure as u8,
                prefix: shop_prefix(Table::Closure, shop_id),
                lower: Some(closure_suffix(kind, from.unwrap_or(NaiveDate::MIN))),
                upper: Some(match to.and_then(|to| to.succ_opt()) {
                    Some(after) => closure_suffix(kind, after),
                    None => vec![kind_byte(kind) + 1],
                }),
            },
            None => ListRange {
                list_tag: Table::Closure as u8,
                prefix: shop_prefix(Table::Closure, shop_id),
                lower: None,
                upper: None,
            },
        };
        let in_range = move |view: &ClosureView| {
            let starts_on = view.closed.period.starts_on;
            from.is_none_or(|from| from <= starts_on) && to.is_none_or(|to| starts_on <= to)
        };
        self.read_models_page(&range, page, |view: ClosureView| {
            in_range(&view).then_some(view)
        })
    }

    /// One closure by kind and first day.
    pub fn closure(
        &self,
        shop_id: Uuid,
        kind: ClosureKind,
        starts_on: NaiveDate,
    ) -> ProjectionResult<Option<ClosureView>> {
        store::get(
            &self.tree(),
            &key(Table::Closure, shop_id, &closure_suffix(kind, starts_on)),
        )
    }
}
