//! The day a shop's fiscal year closes ("date de clôture de l'exercice").
//!
//! Written `MM-DD` on the profile (e.g. `06-30`), as the shop's events carry it. It must be a
//! day of every year: 29 February is refused, since a fiscal year closing on it would have no
//! closing day three years in four.

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The field the profile and the API carry the closing day in.
pub const FISCAL_YEAR_END_FIELD: &str = "fiscal_year_end";

/// A year with no 29 February: a closing day must exist in it to exist in every year.
const NON_LEAP_YEAR: i32 = 2025;

/// The closing month and day of a shop's fiscal years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalYearEnd {
    month: u32,
    day: u32,
}

impl Default for FiscalYearEnd {
    /// 31 December: the calendar year, for every shop that never chose a closing day.
    fn default() -> Self {
        FiscalYearEnd { month: 12, day: 31 }
    }
}

impl FiscalYearEnd {
    /// Parses `MM-DD` (two digits each) naming a day of a non-leap year.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let malformed = || {
            DomainError::validation(
                FISCAL_YEAR_END_FIELD,
                format!("{text:?} is not a closing day written MM-DD, e.g. 06-30 or 12-31"),
            )
        };
        let bytes = text.as_bytes();
        let digits_at = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 5 || bytes[2] != b'-' || !digits_at(0..2) || !digits_at(3..5) {
            return Err(malformed());
        }
        let month: u32 = text[0..2].parse().map_err(|_| malformed())?;
        let day: u32 = text[3..5].parse().map_err(|_| malformed())?;
        if (month, day) == (2, 29) {
            return Err(DomainError::validation(
                FISCAL_YEAR_END_FIELD,
                "29 February is not a closing day: it does not exist three years in four; \
                 choose 02-28",
            ));
        }
        if NaiveDate::from_ymd_opt(NON_LEAP_YEAR, month, day).is_none() {
            return Err(DomainError::validation(
                FISCAL_YEAR_END_FIELD,
                format!("{text:?} is not a day of the year (MM-DD, e.g. 06-30 or 12-31)"),
            ));
        }
        Ok(FiscalYearEnd { month, day })
    }

    /// The closing day a stored (already validated) text means; the default for none. Text that
    /// does not parse falls back to the default rather than failing a replay.
    pub fn or_default(text: Option<&str>) -> Self {
        text.and_then(|text| Self::parse(text).ok())
            .unwrap_or_default()
    }

    /// `MM-DD`, as the profile and the API write it.
    pub fn text(self) -> String {
        format!("{:02}-{:02}", self.month, self.day)
    }

    /// The day the fiscal year closing in `year` closes on; `None` beyond chrono's years. Any
    /// year has it, since 29 February is refused.
    pub fn closing_date(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }

    /// Whether this is the calendar year's 31 December.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}
