use super::{FiscalCalendar, FiscalYear, FiscalYearEnd, FISCAL_YEAR_MONTHS_MAX};
use chrono::{Days, Months, NaiveDate};
use proptest::prelude::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn end(text: &str) -> FiscalYearEnd {
    FiscalYearEnd::parse(text).expect("closing day")
}

fn year(first: NaiveDate, closing: NaiveDate) -> FiscalYear {
    FiscalYear {
        first_day: first,
        closing_day: closing,
    }
}

fn calendar_year() -> FiscalCalendar {
    FiscalCalendar::new(FiscalYearEnd::default())
}

#[test]
fn without_a_change_every_year_is_twelve_months_closing_on_the_first_end() {
    // Proves the regular cut: the year closing in N runs from the day after N-1's closing day.
    let june = FiscalCalendar::new(end("06-30"));
    assert_eq!(
        june.year_closing_in(2026),
        Some(year(day(2025, 7, 1), day(2026, 6, 30)))
    );
    assert_eq!(
        june.year_containing(day(2026, 7, 1)),
        Some(year(day(2026, 7, 1), day(2027, 6, 30)))
    );
    assert_eq!(
        calendar_year().year_containing(day(2026, 3, 5)),
        Some(year(day(2026, 1, 1), day(2026, 12, 31)))
    );
    // 28 February closes every year; in a leap year the 29th opens the next one.
    let february = FiscalCalendar::new(end("02-28"));
    assert_eq!(
        february.year_closing_in(2029),
        Some(year(day(2028, 2, 29), day(2029, 2, 28)))
    );
    assert_eq!(calendar_year().year_closing_in(i32::MAX), None);
}

#[test]
fn a_change_before_the_new_day_shortens_the_year_in_progress() {
    // Proves 31 December changed to 30 June on 10 March 2026 closes the year in progress on
    // 30 June 2026 (six months), then runs July to June; 2025 keeps its calendar year.
    let changed = calendar_year().with_change(day(2026, 3, 10), end("06-30"));
    assert_eq!(
        changed.year_closing_in(2025),
        Some(year(day(2025, 1, 1), day(2025, 12, 31)))
    );
    assert_eq!(
        changed.year_closing_in(2026),
        Some(year(day(2026, 1, 1), day(2026, 6, 30)))
    );
    assert_eq!(
        changed.year_closing_in(2027),
        Some(year(day(2026, 7, 1), day(2027, 6, 30)))
    );
    assert!(changed.check_change(day(2026, 3, 10), end("06-30")).is_ok());
}

#[test]
fn a_change_after_the_new_day_lengthens_the_year_in_progress() {
    // Proves 31 December changed to 30 June on 10 August 2026 makes 1 January 2026 – 30 June
    // 2027 one eighteen-month year, so no fiscal year closes in 2026.
    let changed = calendar_year().with_change(day(2026, 8, 10), end("06-30"));
    assert_eq!(changed.year_closing_in(2026), None);
    assert_eq!(
        changed.year_closing_in(2027),
        Some(year(day(2026, 1, 1), day(2027, 6, 30)))
    );
    assert_eq!(
        changed.year_containing(day(2026, 12, 31)),
        Some(year(day(2026, 1, 1), day(2027, 6, 30)))
    );
    assert_eq!(
        changed.year_closing_in(2028),
        Some(year(day(2027, 7, 1), day(2028, 6, 30)))
    );
}

#[test]
fn a_year_never_closes_twice_in_one_calendar_year() {
    // Proves the new closing day is taken in a later calendar year than the previous closing:
    // 31 March changed to 30 September in May 2026 closes on 30 September 2027, not 2026.
    let changed = FiscalCalendar::new(end("03-31")).with_change(day(2026, 5, 1), end("09-30"));
    assert_eq!(
        changed.year_closing_in(2026),
        Some(year(day(2025, 4, 1), day(2026, 3, 31)))
    );
    assert_eq!(
        changed.year_closing_in(2027),
        Some(year(day(2026, 4, 1), day(2027, 9, 30)))
    );
}

#[test]
fn a_second_change_in_the_same_year_reshapes_it_and_changing_back_undoes_it() {
    // Proves changes within one year in progress replace each other, from its first day.
    let once = calendar_year().with_change(day(2026, 3, 10), end("06-30"));
    let twice = once.with_change(day(2026, 4, 1), end("09-30"));
    assert_eq!(twice.changes.len(), 1);
    assert_eq!(
        twice.year_closing_in(2026),
        Some(year(day(2026, 1, 1), day(2026, 9, 30)))
    );
    assert_eq!(
        once.with_change(day(2026, 4, 1), end("12-31")),
        calendar_year()
    );
    // Stating the closing day in force changes nothing.
    assert_eq!(
        calendar_year().with_change(day(2026, 4, 1), end("12-31")),
        calendar_year()
    );
}

#[test]
fn a_change_making_the_year_longer_than_24_months_is_refused() {
    // Proves the cap: an 18-month year moved again late in its course to 31 May would run
    // 29 months, and is refused with the field named.
    let long = calendar_year().with_change(day(2026, 8, 10), end("06-30"));
    let error = long
        .check_change(day(2027, 6, 20), end("05-31"))
        .expect_err("29 months");
    assert_eq!(error.code(), "validation");
    assert!(error.to_string().contains("fiscal_year_end"), "{error}");
    assert!(long.check_change(day(2026, 9, 1), end("09-30")).is_ok());
}

/// A calendar built from a first closing day and changes at increasing days.
fn arbitrary_calendar() -> impl Strategy<Value = (FiscalCalendar, Vec<(NaiveDate, FiscalYearEnd)>)>
{
    let closing_day = (1u32..=12, 1u32..=31).prop_filter_map("a day of every year", |(m, d)| {
        FiscalYearEnd::parse(&format!("{m:02}-{d:02}")).ok()
    });
    (
        closing_day.clone(),
        prop::collection::vec((0u64..500, closing_day), 0..6),
    )
        .prop_map(|(first_end, steps)| {
            let mut on = day(2024, 1, 1);
            let changes: Vec<(NaiveDate, FiscalYearEnd)> = steps
                .into_iter()
                .map(|(gap, end)| {
                    on = on + Days::new(gap);
                    (on, end)
                })
                .collect();
            (FiscalCalendar::new(first_end), changes)
        })
}

/// Every fiscal year meeting the days from 2022 to 2034, in order.
fn years_of(calendar: &FiscalCalendar) -> Vec<FiscalYear> {
    let mut years = Vec::new();
    let mut on = day(2022, 1, 1);
    while on < day(2035, 1, 1) {
        let year = calendar.year_containing(on).expect("a fiscal year");
        years.push(year);
        on = year.day_after().expect("a next day");
    }
    years
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn years_tile_the_days_and_are_named_once_per_calendar_year(
        (mut calendar, changes) in arbitrary_calendar()
    ) {
        // Proves every day belongs to one fiscal year, years follow one another without gap
        // or overlap, no two close in one calendar year, and `year_closing_in` finds each.
        for (on, end) in changes {
            calendar = calendar.with_change(on, end);
        }
        let years = years_of(&calendar);
        for pair in years.windows(2) {
            prop_assert_eq!(pair[0].day_after(), Some(pair[1].first_day));
            prop_assert!(pair[0].name() < pair[1].name());
        }
        for year in &years {
            prop_assert!(year.first_day <= year.closing_day);
            prop_assert_eq!(calendar.year_closing_in(year.name()), Some(*year));
            prop_assert_eq!(calendar.year_containing(year.closing_day), Some(*year));
            prop_assert_eq!(calendar.year_containing(year.first_day), Some(*year));
        }
        for name in 2023..2034 {
            let named = years.iter().find(|year| year.name() == name).copied();
            prop_assert_eq!(calendar.year_closing_in(name), named);
        }
    }

    #[test]
    fn a_change_keeps_every_year_over_and_reshapes_only_the_year_in_progress(
        (mut calendar, changes) in arbitrary_calendar()
    ) {
        // Proves a change never moves a year that closed before the change day (nothing is
        // exported twice or lost), keeps the first day of the year in progress, and, when
        // allowed, leaves no year longer than 24 months; a refused change is never recorded.
        for (on, end) in changes {
            let before = calendar.clone();
            let allowed = before.check_change(on, end).is_ok();
            let after = before.with_change(on, end);
            let in_progress = before.year_containing(on).expect("in progress");
            for year in years_of(&before).into_iter().filter(|year| year.closing_day < on) {
                prop_assert_eq!(after.year_containing(year.first_day), Some(year));
            }
            let reshaped = after.year_containing(on).expect("reshaped");
            prop_assert_eq!(reshaped.first_day, in_progress.first_day);
            prop_assert!(reshaped.closing_day >= on);
            if allowed {
                let limit = reshaped.first_day + Months::new(FISCAL_YEAR_MONTHS_MAX);
                prop_assert!(reshaped.closing_day < limit);
                prop_assert_eq!(after.end_in_force(), end);
                calendar = after;
            }
        }
    }
}

#[test]
fn changing_back_after_the_old_closing_day_passed_does_not_reclose_the_year() {
    // Found by the property above: 31 January, changed to 10 May on 1 February 2027 (the year
    // 2027-02-01 runs to 10 May 2028), then back to 31 January on 1 February 2028. Undoing the
    // first change would close the year on 31 January 2028, a day already past.
    let (january, may) = (end("01-31"), end("05-10"));
    let calendar = FiscalCalendar::new(january)
        .with_change(day(2027, 2, 1), may)
        .with_change(day(2028, 2, 1), january);
    let year = calendar.year_containing(day(2028, 2, 1)).expect("a year");
    assert_eq!(year.first_day, day(2027, 2, 1));
    assert_eq!(year.closing_day, day(2029, 1, 31));
    assert_eq!(calendar.end_in_force(), january);
}
