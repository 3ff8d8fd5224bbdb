//! A shop's fiscal calendar: every fiscal year, past and present, from the history of its
//! closing days. The FEC export and the NF525 year closures both ask it, so they never disagree
//! on where a fiscal year begins and ends.
//!
//! Before any change, fiscal years are twelve months closing on the shop's first closing day.
//! **A change of closing day takes effect for the fiscal year in progress on the (local) day it
//! is recorded** (French practice: the general meeting changing the closing day shortens or
//! lengthens the current year; closed years are never reopened). That year keeps its first day
//! and closes on the first new closing day that is on or after the change day *and* in a later
//! calendar year than the previous closing, so no two fiscal years close in one calendar year and
//! every fiscal year is named by the year it closes in (the FEC's `year=N`, the year closure
//! `N`). The transitional year it makes may be shorter or longer than twelve months, but not
//! longer than [`FISCAL_YEAR_MONTHS_MAX`]: a change that would lengthen it further is refused.
//! Later years are twelve months closing on the new day. Changing again within the same year in
//! progress reshapes it again from its first day; changing back to the previous day undoes the
//! change, unless the previous day of that year is already past (the year is then reshaped to
//! the next one).
//!
//! Example: closing on 31 December, changed to 30 June on 10 March 2026: the year in progress
//! runs 1 January – 30 June 2026 (six months), then 1 July 2026 – 30 June 2027. Changed on
//! 10 August 2026 instead, it runs 1 January 2026 – 30 June 2027 (eighteen months: 30 June 2026
//! is already past), and no fiscal year closes in 2026.

use super::fiscal_year::{FiscalYearEnd, FISCAL_YEAR_END_FIELD};
use crate::calendar::{local_date, Tz};
use crate::DomainError;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Changes of closing day a shop may record: each one reshapes a fiscal year, so a few per
/// decade is already unusual.
pub const FISCAL_YEAR_CHANGES_MAX: usize = 64;
/// The longest fiscal year a change of closing day may make (French practice caps a
/// lengthened fiscal year at 24 months).
pub const FISCAL_YEAR_MONTHS_MAX: u32 = 24;

/// One fiscal year: its first and its closing day (both local days of the shop, included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FiscalYear {
    pub first_day: NaiveDate,
    pub closing_day: NaiveDate,
}

impl FiscalYear {
    /// The year it is named by: the calendar year it closes in.
    pub fn name(&self) -> i32 {
        self.closing_day.year()
    }

    /// True when `day` is one of its days.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first_day <= day && day <= self.closing_day
    }

    /// The first day of the next fiscal year; `None` beyond chrono's dates.
    pub fn day_after(&self) -> Option<NaiveDate> {
        self.closing_day.succ_opt()
    }

    /// True when it begins on a 1st and closes on a month's last day, so that it is made of
    /// whole calendar months.
    pub fn is_whole_months(&self) -> bool {
        self.first_day.day() == 1 && self.day_after().is_some_and(|after| after.day() == 1)
    }

    /// True when it is no longer than `months` months from its first day.
    fn fits_in_months(&self, months: u32) -> bool {
        self.first_day
            .checked_add_months(Months::new(months))
            .is_some_and(|limit| self.closing_day < limit)
    }

    /// The twelve-month fiscal year closing on `end` that contains `day`.
    fn regular(end: FiscalYearEnd, day: NaiveDate) -> Option<FiscalYear> {
        let this_year = end.closing_date(day.year())?;
        let closing_day = if this_year >= day {
            this_year
        } else {
            end.closing_date(day.year().checked_add(1)?)?
        };
        let previous = end.closing_date(closing_day.year().checked_sub(1)?)?;
        Some(FiscalYear {
            first_day: previous.succ_opt()?,
            closing_day,
        })
    }
}

/// A recorded change of closing day, as the calendar keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalYearChange {
    /// The local day the change was recorded on.
    pub changed_on: NaiveDate,
    /// The fiscal year that was in progress that day, as the change reshaped it.
    pub year: FiscalYear,
    /// The closing day of every later fiscal year.
    pub end: FiscalYearEnd,
}

/// Every fiscal year of a shop: its first closing day and the changes recorded since, oldest
/// first. Built from the shop's events only (`ShopCreated`, then each `ShopProfileUpdated` on
/// the local day of its `updated_at` in the zone in force), so a replay gives the same calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalCalendar {
    /// The closing day the shop was created with.
    pub first_end: FiscalYearEnd,
    /// Each change, oldest first; their years are in order and never overlap.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FiscalYearChange>,
}

impl FiscalCalendar {
    /// A shop's calendar before any change: twelve-month years closing on `end`.
    pub fn new(end: FiscalYearEnd) -> Self {
        FiscalCalendar {
            first_end: end,
            changes: Vec::new(),
        }
    }

    /// The closing day of the years after the last change.
    pub fn end_in_force(&self) -> FiscalYearEnd {
        self.changes
            .last()
            .map_or(self.first_end, |change| change.end)
    }

    /// The fiscal year `day` belongs to; `None` beyond chrono's dates.
    pub fn year_containing(&self, day: NaiveDate) -> Option<FiscalYear> {
        let last_change = self
            .changes
            .iter()
            .rev()
            .find(|change| change.year.first_day <= day);
        match last_change {
            None => FiscalYear::regular(self.first_end, day),
            Some(change) if day <= change.year.closing_day => Some(change.year),
            Some(change) => FiscalYear::regular(change.end, day),
        }
    }

    /// The fiscal year closing in the calendar year `year`: there is at most one. `None` when no
    /// fiscal year closes in it (a transitional year spans it) or beyond chrono's dates.
    pub fn year_closing_in(&self, year: i32) -> Option<FiscalYear> {
        let last_day = NaiveDate::from_ymd_opt(year, 12, 31)?;
        let spanning = self.year_containing(last_day)?;
        if spanning.name() == year {
            return Some(spanning);
        }
        let before = self.year_containing(spanning.first_day.pred_opt()?)?;
        (before.name() == year).then_some(before)
    }

    /// The calendar once the closing day `end` is recorded on the local day `on` (see the
    /// module's rule). Applies what was recorded and never fails: the rules are in
    /// [`FiscalCalendar::check_change`]. A day before the last change counts as the last
    /// change's day, so the years stay in order whatever the clock did.
    pub fn with_change(&self, on: NaiveDate, end: FiscalYearEnd) -> FiscalCalendar {
        if end == self.end_in_force() {
            // Stating the closing day in force (any other profile edit) changes no year.
            return self.clone();
        }
        let on = self
            .changes
            .last()
            .map_or(on, |last| on.max(last.changed_on));
        let Some(in_progress) = self.year_containing(on) else {
            return self.clone();
        };
        let mut calendar = self.clone();
        // A second change within the same year in progress reshapes it from its first day again.
        if calendar
            .changes
            .last()
            .is_some_and(|last| last.year.first_day == in_progress.first_day)
        {
            calendar.changes.pop();
        }
        // Changing back undoes the change, unless the year would then have closed before the
        // change day: a closing day already past is never reinstated, the year is reshaped.
        let undone = calendar.year_containing(in_progress.first_day);
        if end == calendar.end_in_force() && undone.is_some_and(|year| year.closing_day >= on) {
            return calendar;
        }
        let Some(closing_day) = transitional_closing(in_progress, on, end) else {
            return self.clone();
        };
        calendar.changes.push(FiscalYearChange {
            changed_on: on,
            year: FiscalYear {
                first_day: in_progress.first_day,
                closing_day,
            },
            end,
        });
        calendar
    }

    /// The calendar once a profile update recorded at `updated_at` states `fiscal_year_end`
    /// (`None` is 31 December): the change counts on its local day in the shop's `zone`. The
    /// shop aggregate and the ledger both fold updates through this, so they agree.
    pub fn after_update(
        &self,
        updated_at: DateTime<Utc>,
        zone: Tz,
        fiscal_year_end: Option<&str>,
    ) -> FiscalCalendar {
        self.with_change(
            local_date(updated_at, zone),
            FiscalYearEnd::or_default(fiscal_year_end),
        )
    }

    /// Whether recording the closing day `end` on the local day `on` is allowed: the year in
    /// progress it reshapes stays within [`FISCAL_YEAR_MONTHS_MAX`] months, and the history
    /// within [`FISCAL_YEAR_CHANGES_MAX`] changes.
    pub fn check_change(&self, on: NaiveDate, end: FiscalYearEnd) -> Result<(), DomainError> {
        let changed = self.with_change(on, end);
        if changed.changes.len() > FISCAL_YEAR_CHANGES_MAX {
            return Err(DomainError::LimitExceeded {
                what: "changes of fiscal year end",
                limit: FISCAL_YEAR_CHANGES_MAX as u64,
            });
        }
        let Some(reshaped) = changed.changes.last().filter(|_| changed != *self) else {
            return Ok(());
        };
        if !reshaped.year.fits_in_months(FISCAL_YEAR_MONTHS_MAX) {
            return Err(DomainError::validation(
                FISCAL_YEAR_END_FIELD,
                format!(
                    "closing on {} would make the fiscal year in progress run from {} to {}, \
                     longer than {FISCAL_YEAR_MONTHS_MAX} months",
                    end.text(),
                    reshaped.year.first_day,
                    reshaped.year.closing_day
                ),
            ));
        }
        Ok(())
    }
}

/// The closing day of the year in progress once `end` is chosen on `on`: the first `end` on or
/// after `on` that lies in a later calendar year than the previous closing.
fn transitional_closing(
    in_progress: FiscalYear,
    on: NaiveDate,
    end: FiscalYearEnd,
) -> Option<NaiveDate> {
    let previous_closing = in_progress.first_day.pred_opt()?;
    let earliest = on.max(NaiveDate::from_ymd_opt(
        previous_closing.year().checked_add(1)?,
        1,
        1,
    )?);
    let this_year = end.closing_date(earliest.year())?;
    if this_year >= earliest {
        Some(this_year)
    } else {
        end.closing_date(earliest.year().checked_add(1)?)
    }
}
