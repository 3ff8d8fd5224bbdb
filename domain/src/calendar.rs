//! Calendar notions in a shop's time zone.
//!
//! Instants stay UTC everywhere (events, the API); only *calendar* questions — which day an
//! order was placed on, where "yesterday" or "last month" begins — are answered in the shop's
//! IANA time zone. The zone is part of the shop's events (`ShopCreated`, `TimeZoneChanged`),
//! never read from the machine, so a replay answers the same on any server.

use crate::DomainError;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
pub use chrono_tz::Tz;

/// The zone of a shop that never chose one (every shop created before zones existed).
pub const DEFAULT_TIME_ZONE: &str = "Europe/Paris";

/// Longest zone name accepted (the longest IANA name is 32 characters).
pub const TIME_ZONE_CHARS_MAX: usize = 64;

/// The default zone, typed.
pub fn default_time_zone() -> Tz {
    chrono_tz::Europe::Paris
}

/// An IANA zone name such as `Europe/Paris`, checked against the embedded tz database.
pub fn parse_time_zone(name: &str) -> Result<Tz, DomainError> {
    if name.len() > TIME_ZONE_CHARS_MAX {
        return Err(DomainError::validation(
            "time_zone",
            "must be an IANA time zone name such as Europe/Paris",
        ));
    }
    name.parse::<Tz>().map_err(|_| {
        DomainError::validation(
            "time_zone",
            format!("{name:?} is not an IANA time zone name such as Europe/Paris"),
        )
    })
}

/// The zone a stored (already validated) name means; the default for none. A name the embedded
/// database no longer knows falls back to the default rather than failing a replay.
pub fn zone_or_default(name: Option<&str>) -> Tz {
    name.and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or_else(default_time_zone)
}

/// The calendar day `instant` falls on in `zone`.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// The instant `day` begins in `zone`. Where a DST change skips midnight (e.g.
/// America/Santiago), the day begins at the first local time that exists.
pub fn start_of_day(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    // Gaps last at most a few hours: step an hour at a time until the local time exists.
    (0..=24)
        .find_map(|hours| {
            zone.from_local_datetime(&(midnight + Duration::hours(hours)))
                .earliest()
        })
        .map_or_else(
            || Utc.from_utc_datetime(&midnight),
            |local| local.with_timezone(&Utc),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn an_evening_order_after_the_spring_change_is_on_the_next_paris_day() {
        // Proves 2026-03-29T22:30Z (after the switch to summer time, UTC+2) is 30 March in Paris.
        let paris = default_time_zone();
        assert_eq!(
            local_date(utc("2026-03-29T22:30:00Z"), paris),
            day(2026, 3, 30)
        );
        assert_eq!(
            local_date(utc("2026-03-29T21:59:59Z"), paris),
            day(2026, 3, 29)
        );
        assert_eq!(
            local_date(utc("2026-03-29T22:30:00Z"), Tz::UTC),
            day(2026, 3, 29)
        );
    }

    #[test]
    fn days_around_dst_changes_are_23_and_25_hours_long() {
        // Proves day starts follow the zone's offset on both sides of each change.
        let paris = default_time_zone();
        assert_eq!(
            start_of_day(day(2026, 3, 29), paris),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            start_of_day(day(2026, 3, 30), paris),
            utc("2026-03-29T22:00:00Z")
        );
        assert_eq!(
            start_of_day(day(2026, 10, 25), paris),
            utc("2026-10-24T22:00:00Z")
        );
        assert_eq!(
            start_of_day(day(2026, 10, 26), paris),
            utc("2026-10-25T23:00:00Z")
        );
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_first_existing_time() {
        // Proves a day whose midnight does not exist (Santiago, 2026-09-06) still has a start.
        let santiago: Tz = "America/Santiago".parse().expect("zone");
        let start = start_of_day(day(2026, 9, 6), santiago);
        assert_eq!(local_date(start, santiago), day(2026, 9, 6));
        assert_eq!(start, utc("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn zone_names_are_checked() {
        // Proves IANA names parse and anything else is a validation error.
        assert!(parse_time_zone("America/New_York").is_ok());
        for bad in ["Paris", "", "Europe/Pariss", "UTC+2", &"x".repeat(100)] {
            let error = parse_time_zone(bad).expect_err(bad);
            assert_eq!(error.code(), "validation", "{bad}");
        }
        assert_eq!(zone_or_default(None), default_time_zone());
    }
}
