//! NF525 periodic closures (spec §9): a day, a month or a year of a shop's sales is closed once
//! it is over, with its totals, a perpetual grand total and a hash chaining it to the previous
//! closure of the same kind, so that no figure can change afterwards unnoticed.
//!
//! One stream per shop (`closures-{shop_id}`) holds every closure of every kind, so one decision
//! sees the day closures a month is made of. A day and a month are the shop's calendar's; a year
//! is the shop's fiscal year ([`FiscalCalendar`], the one the FEC export is cut by), named by the
//! calendar year it closes in, with its real months (a year a change of closing day reshaped has
//! more or fewer than twelve). The rules, in the shop's calendar:
//! - a period closes only once it is over (the injected clock, the shop's zone, plus
//!   [`CLOSURE_SETTLE_MINUTES`] so that writes decided just before its end are in), never twice,
//!   and after the last closure of its kind: each kind is one chain, numbered 1, 2, 3… without gap;
//! - no earlier period with activity (a document or a payment) may be left unclosed, so the
//!   perpetual total of a chain misses nothing;
//! - a month closes only when each of its days with activity is closed, a year only when each of
//!   its months with activity is (each of its days, for a fiscal year cut inside a month); a day
//!   of a closed month (or a month whose last day is in a closed year) can no longer be closed;
//! - a day's totals are the read model's; a month's totals **are the sum of its day closures** and
//!   a year's the sum of its month closures (as NF525 cash systems do), or of its day closures
//!   when the fiscal year begins or ends inside a month (a closing day other than a month's last:
//!   such a month belongs to two years, so neither can sum it whole): the API computes them from
//!   the read model too, and a difference refuses the closure (a closed day would have changed);
//! - the perpetual grand total is the previous closure's of the same kind plus this period's gross
//!   (`total_incl_vat`, invoices less credit notes);
//! - the hash is SHA-256 of the closure's canonical text ([`PeriodClosed::canonical_text`]),
//!   which includes the previous closure's hash.
//!
//! Which days had activity is a fact of the read model: the glue passes it in ([`Activity`])
//! together with the state it scanned from, and `decide` refuses facts scanned from another state.

#[cfg(test)]
mod tests;
mod totals;

pub use totals::{method_name, method_rank, ClosureTotals, DocumentTally, MethodTotal, VatTotal};

use crate::calendar::{local_date, Tz};
use crate::shop::{FiscalCalendar, FISCAL_YEAR_MONTHS_MAX};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use uuid::Uuid;

/// Day closures kept in the state until both their month and their fiscal year are closed (a
/// year cut inside a month is the sum of its days): the longest fiscal year (24 months, 731
/// days) and two months more. Past it, the month or the year must be closed before another day.
pub const CLOSURE_OPEN_DAYS_MAX: usize = 800;
/// Month closures kept in the state until their year is closed: every month of the longest
/// fiscal year (a change of closing day may stretch one to 24 months), and a year's more.
pub const CLOSURE_OPEN_MONTHS_MAX: usize = 36;
const _: () = assert!(CLOSURE_OPEN_MONTHS_MAX >= FISCAL_YEAR_MONTHS_MAX as usize);
/// The earliest year a closure may name: shops on this system sell after it.
pub const CLOSURE_YEAR_MIN: i32 = 2000;
/// The latest year a closure may name.
pub const CLOSURE_YEAR_MAX: i32 = 9999;
/// How long a period must have been over before it closes. A write decided just before midnight
/// reaches the log a moment later; waiting this long after the end lets every write dated in the
/// period land before the closure sums it (decisions give up long before: bounded retries).
pub const CLOSURE_SETTLE_MINUTES: i64 = 5;

/// Stream of one shop's closures.
pub fn stream_id(shop_id: Uuid) -> String {
    format!("{}-{shop_id}", Closures::STREAM_KIND)
}

/// The length of a closed period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureKind {
    Day,
    Month,
    Year,
}

impl ClosureKind {
    pub const ALL: [ClosureKind; 3] = [ClosureKind::Day, ClosureKind::Month, ClosureKind::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            ClosureKind::Day => "day",
            ClosureKind::Month => "month",
            ClosureKind::Year => "year",
        }
    }

    /// `day`, `month` or `year`.
    pub fn parse(text: &str) -> Result<ClosureKind, DomainError> {
        ClosureKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| DomainError::validation("kind", "must be day, month or year"))
    }
}

/// A period of the shop's calendar: the days from `starts_on` up to, not including, `ends_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClosurePeriod {
    pub kind: ClosureKind,
    pub starts_on: NaiveDate,
    pub ends_before: NaiveDate,
}

impl ClosurePeriod {
    /// The period of `kind` that `day` falls in: its calendar day or month, or its fiscal year
    /// in `calendar` (the shop's, the one its FEC exports are cut by).
    pub fn containing(
        kind: ClosureKind,
        day: NaiveDate,
        calendar: &FiscalCalendar,
    ) -> Option<ClosurePeriod> {
        let (starts_on, ends_before) = match kind {
            ClosureKind::Day => (day, day.succ_opt()?),
            ClosureKind::Month => {
                let first = day.with_day(1)?;
                (first, first.checked_add_months(Months::new(1))?)
            }
            ClosureKind::Year => {
                let year = calendar.year_containing(day)?;
                (year.first_day, year.day_after()?)
            }
        };
        Some(ClosurePeriod {
            kind,
            starts_on,
            ends_before,
        })
    }

    /// Parses a period as the API names it: `2026-11-20`, `2026-11` or `2026`, the fiscal year
    /// of `calendar` closing in 2026.
    pub fn parse(
        kind: ClosureKind,
        text: &str,
        calendar: &FiscalCalendar,
    ) -> Result<ClosurePeriod, DomainError> {
        let expected = match kind {
            ClosureKind::Day => "a day YYYY-MM-DD",
            ClosureKind::Month => "a month YYYY-MM",
            ClosureKind::Year => "a year YYYY",
        };
        let invalid = || DomainError::validation("date", format!("must be {expected}"));
        let parts: Vec<&str> = text.split('-').collect();
        let widths: &[usize] = match kind {
            ClosureKind::Day => &[4, 2, 2],
            ClosureKind::Month => &[4, 2],
            ClosureKind::Year => &[4],
        };
        let well_formed = parts.len() == widths.len()
            && parts.iter().zip(widths).all(|(part, width)| {
                part.len() == *width && part.bytes().all(|b| b.is_ascii_digit())
            });
        if !well_formed {
            return Err(invalid());
        }
        let number = |index: usize| parts.get(index).and_then(|part| part.parse::<u32>().ok());
        let year = number(0)
            .and_then(|year| i32::try_from(year).ok())
            .filter(|year| (CLOSURE_YEAR_MIN..=CLOSURE_YEAR_MAX).contains(year))
            .ok_or_else(|| {
                DomainError::validation(
                    "date",
                    format!("the year must be from {CLOSURE_YEAR_MIN} to {CLOSURE_YEAR_MAX}"),
                )
            })?;
        if kind == ClosureKind::Year {
            let fiscal_year = calendar.year_closing_in(year).ok_or_else(|| {
                DomainError::validation(
                    "date",
                    format!(
                        "no fiscal year of the shop closes in {year} (a longer fiscal year spans it)"
                    ),
                )
            })?;
            return ClosurePeriod::containing(kind, fiscal_year.first_day, calendar)
                .ok_or_else(invalid);
        }
        let first = NaiveDate::from_ymd_opt(year, number(1).unwrap_or(1), number(2).unwrap_or(1))
            .ok_or_else(invalid)?;
        ClosurePeriod::containing(kind, first, calendar).ok_or_else(invalid)
    }

    /// The period as the API names it: `2026-11-20`, `2026-11` or `2026`, a fiscal year being
    /// named by the calendar year it closes in (as the FEC's `year`).
    pub fn label(&self) -> String {
        match self.kind {
            ClosureKind::Day => self.starts_on.format("%Y-%m-%d").to_string(),
            ClosureKind::Month => self.starts_on.format("%Y-%m").to_string(),
            ClosureKind::Year => self
                .ends_before
                .pred_opt()
                .unwrap_or(self.starts_on)
                .format("%Y")
                .to_string(),
        }
    }

    /// Its last day.
    pub fn last_day(&self) -> NaiveDate {
        self.ends_before.pred_opt().unwrap_or(self.starts_on)
    }

    /// True when it begins on a 1st and ends before a 1st: whole calendar months.
    pub fn is_whole_months(&self) -> bool {
        self.starts_on.day() == 1 && self.ends_before.day() == 1
    }

    /// True when `day` falls in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day < self.ends_before
    }

    /// True when `inner` lies entirely in this period.
    pub fn covers(&self, inner: &ClosurePeriod) -> bool {
        self.starts_on <= inner.starts_on && inner.ends_before <= self.ends_before
    }
}

/// What the read model says about activity (days with a document or a payment), scanned by the
/// glue for one closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Where the scan began: the end of the last closure of the kind, `None` for the first one
    /// (then the scan began with the shop's first day).
    pub scanned_from: Option<NaiveDate>,
    /// The first day with activity from `scanned_from` up to the period's start.
    pub first_active_day_before: Option<NaiveDate>,
    /// The last day with activity in the period.
    pub last_active_day_in: Option<NaiveDate>,
}

/// Everything a closure needs from outside the aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosePeriod {
    pub shop_id: Uuid,
    pub period: ClosurePeriod,
    /// The shop's zone: "over" and "today" are its calendar's.
    pub time_zone: Tz,
    /// The shop's fiscal years: a year closure closes one of them.
    pub fiscal_calendar: FiscalCalendar,
    /// The log position the totals were computed at (the read models had applied it).
    pub covers_up_to: u64,
    /// The event log's chain hash (hex SHA-256) at `covers_up_to`: recorded in the closure, it
    /// makes every closure an anchor of the log outside the log's own chain.
    pub log_hash: String,
    /// The period's totals, summed from the read model's day rows.
    pub totals: ClosureTotals,
    pub activity: Activity,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClosureCommand {
    Close(Box<ClosePeriod>),
}

/// A closed period, as recorded (and hashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodClosed {
    pub shop_id: Uuid,
    pub period: ClosurePeriod,
    /// 1, 2, 3… per kind, without gap.
    pub sequence: u64,
    /// The IANA zone the period's days are counted in.
    pub time_zone: String,
    /// The log position the totals cover.
    pub covers_up_to: u64,
    /// The event log's chain hash (hex) at `covers_up_to`; `None` in closures recorded before it
    /// was kept (their hash text is format 1, without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_hash: Option<String>,
    pub totals: ClosureTotals,
    /// The grand total since the first closure of the kind: the previous closure's plus this
    /// period's `total_incl_vat`.
    pub perpetual_total_incl_vat: Decimal,
    /// The hash of the previous closure of the same kind; `None` for the first.
    pub previous_hash: Option<String>,
    /// SHA-256 (hex) of [`PeriodClosed::canonical_text`].
    pub hash: String,
    pub closed_at: DateTime<Utc>,
}

/// True for 64 lowercase hex digits, as `hex::encode` writes a SHA-256.
fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes a decimal with its trailing zeros removed, so that 10.5 and 10.50 hash the same.
fn canonical_decimal(value: Decimal) -> String {
    value.normalize().to_string()
}

impl PeriodClosed {
    /// The text the hash is computed over: one `name=value` line per figure, in a fixed order,
    /// decimals without trailing zeros, absent values empty. An auditor can rebuild it by hand.
    pub fn canonical_text(&self) -> String {
        let mut text = String::with_capacity(1024);
        let mut line = |name: &str, value: &str| {
            text.push_str(name);
            text.push('=');
            text.push_str(value);
            text.push('\n');
        };
        let totals = &self.totals;
        // Format 2 adds the log's hash; a closure without one keeps the text it was hashed with.
        let format = match self.log_hash {
            Some(_) => "comptoir-closure-2",
            None => "comptoir-closure-1",
        };
        line("format", format);
        line("shop_id", &self.shop_id.to_string());
        line("kind", self.period.kind.as_str());
        line("sequence", &self.sequence.to_string());
        line("starts_on", &self.period.starts_on.to_string());
        line("ends_before", &self.period.ends_before.to_string());
        line("time_zone", &self.time_zone);
        line("covers_up_to", &self.covers_up_to.to_string());
        if let Some(log_hash) = &self.log_hash {
            line("log_hash", log_hash);
        }
        line("closed_at", &self.closed_at.to_rfc3339());
        for rate in &totals.vat {
            let value = [
                rate.vat_rate,
                rate.total_excl_vat,
                rate.total_vat,
                rate.total_incl_vat,
            ]
            .map(canonical_decimal)
            .join(";");
            line("vat", &value);
        }
        line("total_excl_vat", &canonical_decimal(totals.total_excl_vat));
        line("total_vat", &canonical_decimal(totals.total_vat));
        line("total_incl_vat", &canonical_decimal(totals.total_incl_vat));
        for (name, tally) in [
            ("invoices", &totals.invoices),
            ("credit_notes", &totals.credit_notes),
        ] {
            let value = format!(
                "{};{};{};{}",
                tally.count,
                tally.first.as_deref().unwrap_or_default(),
                tally.last.as_deref().unwrap_or_default(),
                canonical_decimal(tally.total_incl_vat)
            );
            line(name, &value);
        }
        for method in &totals.payments {
            let value = format!(
                "{};{};{}",
                method_name(method.method),
                canonical_decimal(method.received),
                canonical_decimal(method.refunded)
            );
            line("payment", &value);
        }
        line(
            "perpetual_total_incl_vat",
            &canonical_decimal(self.perpetual_total_incl_vat),
        );
        line(
            "previous_hash",
            self.previous_hash.as_deref().unwrap_or_default(),
        );
        text
    }

    /// SHA-256 of the canonical text, lower-case hex.
    pub fn computed_hash(&self) -> String {
        let digest = Sha256::digest(self.canonical_text().as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClosureEvent {
    PeriodClosed(Box<PeriodClosed>),
}

impl DomainEvent for ClosureEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ClosureEvent::PeriodClosed(_) => "PeriodClosed",
        }
    }
}

/// The head of one kind's chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Closures of the kind so far (the last one's sequence).
    pub sequence: u64,
    pub last: Option<ClosurePeriod>,
    pub last_hash: Option<String>,
    pub perpetual_total_incl_vat: Decimal,
    pub covers_up_to: u64,
}

impl Chain {
    /// The first day after the last closure; `None` before the first.
    pub fn closed_until(&self) -> Option<NaiveDate> {
        self.last.map(|period| period.ends_before)
    }

    /// True when `day` lies before the end of the last closure.
    fn has_closed(&self, day: NaiveDate) -> bool {
        self.closed_until().is_some_and(|until| day < until)
    }
}

/// A shop's closures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closures {
    pub shop_id: Option<Uuid>,
    pub days: Chain,
    pub months: Chain,
    pub years: Chain,
    /// Day closures that a month or a year closure may still sum (their month or their year is
    /// not closed yet), oldest first.
    pub open_days: Vec<(ClosurePeriod, ClosureTotals)>,
    /// Month closures not summed into a year closure yet, oldest first.
    pub open_months: Vec<(ClosurePeriod, ClosureTotals)>,
}

impl Closures {
    pub fn chain(&self, kind: ClosureKind) -> &Chain {
        match kind {
            ClosureKind::Day => &self.days,
            ClosureKind::Month => &self.months,
            ClosureKind::Year => &self.years,
        }
    }

    fn chain_mut(&mut self, kind: ClosureKind) -> &mut Chain {
        match kind {
            ClosureKind::Day => &mut self.days,
            ClosureKind::Month => &mut self.months,
            ClosureKind::Year => &mut self.years,
        }
    }

    /// The kind of closures `period` is the sum of: days for a month and for a year cut inside a
    /// month, months for a year of whole months; `None` for a day.
    fn part_kind(period: &ClosurePeriod) -> Option<ClosureKind> {
        match period.kind {
            ClosureKind::Day => None,
            ClosureKind::Month => Some(ClosureKind::Day),
            ClosureKind::Year if period.is_whole_months() => Some(ClosureKind::Month),
            ClosureKind::Year => Some(ClosureKind::Day),
        }
    }

    /// The sum of the closures of the kind below `period`'s that it must equal; `None` for a
    /// day. `verify` checks recorded closures with it, folding them as `evolve` does.
    pub fn sum_of_parts(&self, period: &ClosurePeriod) -> Option<ClosureTotals> {
        let parts = match Self::part_kind(period)? {
            ClosureKind::Day => &self.open_days,
            _ => &self.open_months,
        };
        let mut sum = ClosureTotals::default();
        for (_, totals) in parts.iter().filter(|(part, _)| period.covers(part)) {
            sum.absorb(totals);
        }
        Some(sum)
    }

    fn check_order(&self, close: &ClosePeriod, today: NaiveDate) -> Result<(), DomainError> {
        let period = close.period;
        let label = period.label();
        let kind = period.kind.as_str();
        if ClosurePeriod::containing(period.kind, period.starts_on, &close.fiscal_calendar)
            != Some(period)
        {
            return Err(DomainError::validation(
                "date",
                "is not a day, month or fiscal year of the shop's calendar",
            ));
        }
        if period.ends_before > today {
            return Err(DomainError::unprocessable(
                "period-not-over",
                format!(
                    "the {kind} {label} is not over yet in the shop's time zone (or ended less than {CLOSURE_SETTLE_MINUTES} minutes ago)"
                ),
            ));
        }
        let chain = self.chain(period.kind);
        if chain.has_closed(period.starts_on) {
            return Err(DomainError::conflict(
                "period-closed",
                format!(
                    "the {kind} {label} is closed already, or lies before the last {kind} closure"
                ),
            ));
        }
        let parent_closed = match period.kind {
            ClosureKind::Day => self.months.has_closed(period.starts_on),
            // A month that a fiscal year ends inside of belongs to the next year too.
            ClosureKind::Month => self.years.has_closed(period.last_day()),
            ClosureKind::Year => false,
        };
        if parent_closed {
            return Err(DomainError::conflict(
                "period-closed",
                format!("the {kind} {label} lies in a closed period"),
            ));
        }
        Ok(())
    }

    fn check_activity(&self, close: &ClosePeriod) -> Result<(), DomainError> {
        let period = close.period;
        let activity = &close.activity;
        if activity.scanned_from != self.chain(period.kind).closed_until() {
            // The glue scanned from another state: another closure was recorded meanwhile.
            return Err(DomainError::conflict(
                "closures-changed",
                "another closure was recorded meanwhile; send the request again",
            ));
        }
        if let Some(day) = activity
            .first_active_day_before
            .filter(|day| *day < period.starts_on)
        {
            let earlier = ClosurePeriod::containing(period.kind, day, &close.fiscal_calendar)
                .map_or_else(|| day.to_string(), |earlier| earlier.label());
            return Err(DomainError::unprocessable(
                "earlier-period-unclosed",
                format!(
                    "the {} {earlier} had sales or payments and is not closed; close it first",
                    period.kind.as_str()
                ),
            ));
        }
        let Some(last_active) = activity.last_active_day_in else {
            return Ok(());
        };
        let Some(part_kind) = Self::part_kind(&period) else {
            return Ok(());
        };
        if self.chain(part_kind).has_closed(last_active) {
            return Ok(());
        }
        let part = ClosurePeriod::containing(part_kind, last_active, &close.fiscal_calendar)
            .map_or_else(|| last_active.to_string(), |part| part.label());
        Err(DomainError::unprocessable(
            "sub-periods-unclosed",
            format!(
                "close every {} of {} with sales or payments first: {part} is not closed",
                part_kind.as_str(),
                period.label()
            ),
        ))
    }

    fn check_room(&self, kind: ClosureKind) -> Result<(), DomainError> {
        let (open, max, parent) = match kind {
            ClosureKind::Day => (
                self.open_days.len(),
                CLOSURE_OPEN_DAYS_MAX,
                "month or fiscal year",
            ),
            ClosureKind::Month => (self.open_months.len(), CLOSURE_OPEN_MONTHS_MAX, "year"),
            ClosureKind::Year => return Ok(()),
        };
        if open >= max {
            return Err(DomainError::unprocessable(
                "closure-limit",
                format!(
                    "{open} {} closures wait for their {parent} closure: close the {parent} first",
                    kind.as_str()
                ),
            ));
        }
        Ok(())
    }

    fn decide_close(
        &self,
        close: &ClosePeriod,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClosureEvent>, DomainError> {
        if self.shop_id.is_some_and(|shop_id| shop_id != close.shop_id) {
            return Err(DomainError::not_found("closures of shop", close.shop_id));
        }
        let settled = now - chrono::Duration::minutes(CLOSURE_SETTLE_MINUTES);
        self.check_order(close, local_date(settled, close.time_zone))?;
        self.check_activity(close)?;
        self.check_room(close.period.kind)?;
        close.totals.check()?;
        if let Some(parts) = self.sum_of_parts(&close.period) {
            if parts != close.totals {
                return Err(DomainError::conflict(
                    "closure-totals-mismatch",
                    format!(
                        "the totals of {} differ from the sum of its closed sub-periods: a closed period changed; run closures/verify",
                        close.period.label()
                    ),
                ));
            }
        }
        let chain = self.chain(close.period.kind);
        if close.covers_up_to < chain.covers_up_to {
            return Err(DomainError::conflict(
                "closures-changed",
                "the read models are behind the last closure; send the request again",
            ));
        }
        if !is_sha256_hex(&close.log_hash) {
            return Err(DomainError::validation(
                "log_hash",
                "must be a SHA-256 in 64 lowercase hex digits",
            ));
        }
        let mut closed = PeriodClosed {
            shop_id: close.shop_id,
            period: close.period,
            sequence: chain.sequence + 1,
            time_zone: close.time_zone.name().to_string(),
            covers_up_to: close.covers_up_to,
            log_hash: Some(close.log_hash.clone()),
            totals: close.totals.clone(),
            perpetual_total_incl_vat: chain.perpetual_total_incl_vat + close.totals.total_incl_vat,
            previous_hash: chain.last_hash.clone(),
            hash: String::new(),
            closed_at: now,
        };
        closed.hash = closed.computed_hash();
        Ok(vec![ClosureEvent::PeriodClosed(Box::new(closed))])
    }
}

impl Aggregate for Closures {
    type Command = ClosureCommand;
    type Event = ClosureEvent;
    const STREAM_KIND: &'static str = "closures";

    fn decide(
        &self,
        command: &ClosureCommand,
        env: &dyn Environment,
    ) -> Result<Vec<ClosureEvent>, DomainError> {
        match command {
            ClosureCommand::Close(close) => self.decide_close(close, env.now()),
        }
    }

    fn evolve(mut self, event: &ClosureEvent) -> Self {
        let ClosureEvent::PeriodClosed(closed) = event;
        self.shop_id = Some(closed.shop_id);
        let period = closed.period;
        let chain = self.chain_mut(period.kind);
        chain.sequence = closed.sequence;
        chain.last = Some(period);
        chain.last_hash = Some(closed.hash.clone());
        chain.perpetual_total_incl_vat = closed.perpetual_total_incl_vat;
        chain.covers_up_to = closed.covers_up_to;
        match period.kind {
            ClosureKind::Day => self.open_days.push((period, closed.totals.clone())),
            ClosureKind::Month => self.open_months.push((period, closed.totals.clone())),
            // No later year can sum a month that ends by this year's end.
            ClosureKind::Year => self
                .open_months
                .retain(|(month, _)| month.ends_before > period.ends_before),
        }
        // A day is summed by its month, and by its year when that year is cut inside a month.
        let (months, years) = (&self.months, &self.years);
        self.open_days.retain(|(day, _)| {
            !(months.has_closed(day.starts_on) && years.has_closed(day.starts_on))
        });
        self
    }
}
