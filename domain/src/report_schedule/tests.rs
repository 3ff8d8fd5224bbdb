use super::*;
use crate::calendar::default_time_zone;
use crate::fixtures::{id, shop_id};
use crate::testing::{given, replay, test_now};

fn schedule_id() -> Uuid {
    id(0x5C4E)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339")
}

fn settings(frequency: Frequency) -> ReportSettings {
    ReportSettings {
        recipients: vec![
            "gerant@studio-lumiere.fr".into(),
            "compta@example.fr".into(),
        ],
        frequency,
        format: ReportFormat::Csv,
        group_by: ReportGrouping::OrderDay,
    }
}

fn create(settings: ReportSettings) -> ReportScheduleCommand {
    ReportScheduleCommand::Create {
        shop_id: shop_id(),
        schedule_id: schedule_id(),
        settings,
    }
}

fn created_at(frequency: Frequency, at: DateTime<Utc>) -> ReportScheduleEvent {
    ReportScheduleEvent::ReportScheduleCreated {
        shop_id: shop_id(),
        schedule_id: schedule_id(),
        settings: settings(frequency),
        created_at: at,
    }
}

fn created(frequency: Frequency) -> ReportScheduleEvent {
    created_at(frequency, test_now())
}

fn period(from: NaiveDate, until: NaiveDate) -> ReportPeriod {
    ReportPeriod {
        starts_on: from,
        ends_before: until,
    }
}

fn sent(period: ReportPeriod) -> ReportScheduleEvent {
    ReportScheduleEvent::ScheduledReportSent {
        shop_id: shop_id(),
        schedule_id: schedule_id(),
        period,
        recipients: settings(Frequency::Daily).recipients,
        sent_at: test_now(),
    }
}

#[test]
fn creates_a_schedule_with_normalised_recipients() {
    // Proves addresses are trimmed and lower-cased before they are recorded, and a retry with
    // the same content appends nothing.
    let mut given_settings = settings(Frequency::Weekly);
    given_settings.recipients[0] = "  Gerant@Studio-Lumiere.FR ".into();
    given::<ReportSchedule>([])
        .when(create(given_settings.clone()))
        .then([created(Frequency::Weekly)]);
    given::<ReportSchedule>([created(Frequency::Weekly)])
        .when(create(given_settings))
        .then([]);
    given::<ReportSchedule>([created(Frequency::Weekly)])
        .when(create(settings(Frequency::Daily)))
        .then_err_code("already-exists");
}

#[test]
fn recipients_are_one_to_twenty_valid_distinct_addresses() {
    // Proves empty, oversized, malformed and duplicate recipient lists are refused.
    let mut none = settings(Frequency::Daily);
    none.recipients.clear();
    let mut too_many = settings(Frequency::Daily);
    too_many.recipients = (0..21).map(|n| format!("r{n}@example.fr")).collect();
    let mut malformed = settings(Frequency::Daily);
    malformed.recipients[1] = "compta-at-example.fr".into();
    let mut twice = settings(Frequency::Daily);
    twice.recipients[1] = "GERANT@studio-lumiere.fr".into();
    for bad in [none, too_many, malformed, twice] {
        given::<ReportSchedule>([])
            .when(create(bad))
            .then_err_code("validation");
    }
    let mut twenty = settings(Frequency::Daily);
    twenty.recipients = (0..20).map(|n| format!("r{n}@example.fr")).collect();
    assert_eq!(
        given::<ReportSchedule>([])
            .when(create(twenty))
            .events()
            .len(),
        1
    );
}

#[test]
fn updates_and_deletes() {
    // Proves an update records the new settings once, a deleted schedule cannot be updated, and
    // deleting twice appends nothing.
    let updated = ReportScheduleEvent::ReportScheduleUpdated {
        shop_id: shop_id(),
        schedule_id: schedule_id(),
        settings: settings(Frequency::Monthly),
        updated_at: test_now(),
    };
    given::<ReportSchedule>([created(Frequency::Daily)])
        .when(ReportScheduleCommand::Update {
            settings: settings(Frequency::Monthly),
        })
        .then([updated.clone()]);
    given::<ReportSchedule>([created(Frequency::Daily), updated])
        .when(ReportScheduleCommand::Update {
            settings: settings(Frequency::Monthly),
        })
        .then([]);
    let deleted = ReportScheduleEvent::ReportScheduleDeleted {
        shop_id: shop_id(),
        schedule_id: schedule_id(),
        deleted_at: test_now(),
    };
    given::<ReportSchedule>([created(Frequency::Daily)])
        .when(ReportScheduleCommand::Delete)
        .then([deleted.clone()]);
    given::<ReportSchedule>([created(Frequency::Daily), deleted.clone()])
        .when(ReportScheduleCommand::Delete)
        .then([]);
    given::<ReportSchedule>([created(Frequency::Daily), deleted])
        .when(ReportScheduleCommand::Update {
            settings: settings(Frequency::Monthly),
        })
        .then_err_code("not-found");
    given::<ReportSchedule>([])
        .when(ReportScheduleCommand::Delete)
        .then_err_code("not-found");
}

#[test]
fn a_period_is_recorded_once() {
    // Proves the first record of a period appends `ScheduledReportSent` and a second none.
    let march_13 = period(day(2025, 3, 13), day(2025, 3, 14));
    let record = ReportScheduleCommand::RecordSent {
        period: march_13,
        recipients: settings(Frequency::Daily).recipients,
    };
    given::<ReportSchedule>([created(Frequency::Daily)])
        .when(record.clone())
        .then([sent(march_13)]);
    given::<ReportSchedule>([created(Frequency::Daily), sent(march_13)])
        .when(record)
        .then([]);
    let backwards = ReportScheduleCommand::RecordSent {
        period: period(day(2025, 3, 14), day(2025, 3, 13)),
        recipients: settings(Frequency::Daily).recipients,
    };
    given::<ReportSchedule>([created(Frequency::Daily)])
        .when(backwards)
        .then_err_code("validation");
}

#[test]
fn previous_periods_of_each_frequency() {
    // Proves the last complete day, week (Monday to Sunday), month, half-year and year before
    // Wednesday 2026-07-15.
    let today = day(2026, 7, 15);
    let cases = [
        (Frequency::Daily, day(2026, 7, 14), day(2026, 7, 15)),
        (Frequency::Weekly, day(2026, 7, 6), day(2026, 7, 13)),
        (Frequency::Monthly, day(2026, 6, 1), day(2026, 7, 1)),
        (Frequency::HalfYearly, day(2026, 1, 1), day(2026, 7, 1)),
        (Frequency::Yearly, day(2025, 1, 1), day(2026, 1, 1)),
    ];
    for (frequency, from, until) in cases {
        assert_eq!(
            frequency.previous_period(today),
            Some(period(from, until)),
            "{frequency:?}"
        );
    }
    // On 1 January the previous month and half-year are of the year before.
    let new_year = day(2027, 1, 1);
    assert_eq!(
        Frequency::Monthly.previous_period(new_year),
        Some(period(day(2026, 12, 1), day(2027, 1, 1)))
    );
    assert_eq!(
        Frequency::HalfYearly.previous_period(new_year),
        Some(period(day(2026, 7, 1), day(2027, 1, 1)))
    );
}

#[test]
fn the_due_period_is_the_last_complete_one_of_the_shops_calendar() {
    // Proves a daily schedule created on 29 March is due nothing that evening in UTC terms, but
    // at 22:30Z (already 30 March in Paris, summer time) the Paris day of the 29th is due; once
    // sent it is not due again; a deleted schedule is never due.
    let paris = default_time_zone();
    let schedule =
        replay::<ReportSchedule>(&[created_at(Frequency::Daily, utc("2026-03-29T08:00:00Z"))]);
    assert_eq!(
        schedule.due_period(utc("2026-03-29T21:30:00Z"), paris),
        None
    );
    let march_29 = period(day(2026, 3, 29), day(2026, 3, 30));
    assert_eq!(
        schedule.due_period(utc("2026-03-29T22:30:00Z"), paris),
        Some(march_29)
    );
    assert_eq!(
        schedule.due_period(utc("2026-03-29T22:30:00Z"), Tz::UTC),
        None
    );
    assert_eq!(
        march_29.instants(paris),
        (utc("2026-03-28T23:00:00Z"), utc("2026-03-29T22:00:00Z"))
    );
    let after_send = replay::<ReportSchedule>(&[
        created_at(Frequency::Daily, utc("2026-03-29T08:00:00Z")),
        sent(march_29),
    ]);
    assert_eq!(
        after_send.due_period(utc("2026-03-29T23:00:00Z"), paris),
        None
    );
    let deleted = replay::<ReportSchedule>(&[
        created_at(Frequency::Daily, utc("2026-03-29T08:00:00Z")),
        ReportScheduleEvent::ReportScheduleDeleted {
            shop_id: shop_id(),
            schedule_id: schedule_id(),
            deleted_at: utc("2026-03-29T09:00:00Z"),
        },
    ]);
    assert_eq!(deleted.due_period(utc("2026-03-30T10:00:00Z"), paris), None);
}
