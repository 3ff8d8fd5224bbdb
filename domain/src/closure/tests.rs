use super::*;
use crate::calendar::default_time_zone;
use crate::fixtures::{d, shop_id};
use crate::order::{PaymentMethod, Settlement};
use crate::pricing::{Totals, VatSubtotal};
use crate::shop::{FiscalCalendar, FiscalYearEnd};
use crate::testing::{given, replay};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339")
}

/// 2026-12-02 10:00 in Paris: November and its days are over, December is not.
fn december_2nd() -> DateTime<Utc> {
    utc("2026-12-02T09:00:00Z")
}

fn document(lines: &[(&str, &str, &str)]) -> Totals {
    let vat_breakdown: Vec<VatSubtotal> = lines
        .iter()
        .map(|(rate, net, vat)| VatSubtotal {
            vat_rate: d(rate),
            base_excl_vat: d(net),
            vat_amount: d(vat),
            total_incl_vat: d(net) + d(vat),
        })
        .collect();
    Totals {
        total_excl_vat: vat_breakdown.iter().map(|v| v.base_excl_vat).sum(),
        total_vat: vat_breakdown.iter().map(|v| v.vat_amount).sum(),
        total_incl_vat: vat_breakdown.iter().map(|v| v.total_incl_vat).sum(),
        vat_breakdown,
    }
}

/// A day with an invoice at 20 % and 5.5 %, paid by card.
fn busy_day(number: &str) -> ClosureTotals {
    let mut totals = ClosureTotals::default();
    let invoice = document(&[("20", "10.00", "2.00"), ("5.5", "20.00", "1.10")]);
    totals.add_invoice(number, &invoice);
    totals.add_payment(PaymentMethod::Card, invoice.total_incl_vat);
    totals
}

/// A day with a credit note of 12.00 refunded in cash.
fn return_day(number: &str) -> ClosureTotals {
    let mut totals = ClosureTotals::default();
    let credit = document(&[("20", "10.00", "2.00")]);
    totals.add_credit_note(
        number,
        &credit,
        Settlement::Refund {
            method: PaymentMethod::Cash,
        },
    );
    totals
}

fn period(kind: ClosureKind, text: &str) -> ClosurePeriod {
    ClosurePeriod::parse(kind, text, &FiscalCalendar::default()).expect("period")
}

fn close(
    kind: ClosureKind,
    text: &str,
    scanned_from: Option<NaiveDate>,
    totals: ClosureTotals,
) -> ClosureCommand {
    close_in(&FiscalCalendar::default(), kind, text, scanned_from, totals)
}

/// The log's chain hash the glue reads at `covers_up_to`.
const LOG_HASH: &str = "5f1d6a2c0e9b8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170655";

/// A closure of a shop whose fiscal years are `calendar`'s.
fn close_in(
    calendar: &FiscalCalendar,
    kind: ClosureKind,
    text: &str,
    scanned_from: Option<NaiveDate>,
    totals: ClosureTotals,
) -> ClosureCommand {
    ClosureCommand::Close(Box::new(ClosePeriod {
        shop_id: shop_id(),
        period: ClosurePeriod::parse(kind, text, calendar).expect("period"),
        time_zone: default_time_zone(),
        fiscal_calendar: calendar.clone(),
        covers_up_to: 100,
        log_hash: LOG_HASH.into(),
        totals,
        activity: Activity {
            scanned_from,
            first_active_day_before: None,
            last_active_day_in: None,
        },
    }))
}

fn with_activity(
    command: ClosureCommand,
    before: Option<NaiveDate>,
    last_in: Option<NaiveDate>,
) -> ClosureCommand {
    let ClosureCommand::Close(mut close) = command;
    close.activity.first_active_day_before = before;
    close.activity.last_active_day_in = last_in;
    ClosureCommand::Close(close)
}

/// The events of closing `commands` one after the other at `december_2nd`.
fn history(commands: Vec<ClosureCommand>) -> Vec<ClosureEvent> {
    let mut events = Vec::new();
    for command in commands {
        let new = given::<Closures>(events.clone())
            .at(december_2nd())
            .when(command)
            .events();
        events.extend(new);
    }
    events
}

fn closed(event: &ClosureEvent) -> &PeriodClosed {
    let ClosureEvent::PeriodClosed(closed) = event;
    closed
}

fn two_days() -> Vec<ClosureEvent> {
    history(vec![
        close(ClosureKind::Day, "2026-11-19", None, busy_day("FA-1")),
        close(
            ClosureKind::Day,
            "2026-11-20",
            Some(day(2026, 11, 20)),
            return_day("AV-1"),
        ),
    ])
}

#[test]
fn a_day_closure_records_its_totals_sequence_perpetual_total_and_hash() {
    // Proves the first day closure is number 1, starts the perpetual total and hashes its content.
    let events = given::<Closures>([])
        .at(december_2nd())
        .when(close(
            ClosureKind::Day,
            "2026-11-19",
            None,
            busy_day("FA-1"),
        ))
        .events();
    let closed = closed(&events[0]);
    assert_eq!(closed.sequence, 1);
    assert_eq!(closed.period.starts_on, day(2026, 11, 19));
    assert_eq!(closed.period.ends_before, day(2026, 11, 20));
    assert_eq!(closed.totals.total_incl_vat, d("33.10"));
    assert_eq!(closed.perpetual_total_incl_vat, d("33.10"));
    assert_eq!(closed.previous_hash, None);
    assert_eq!(closed.time_zone, "Europe/Paris");
    assert_eq!(closed.closed_at, december_2nd());
    assert_eq!(closed.hash, closed.computed_hash());
    assert_eq!(closed.hash.len(), 64);
    assert_eq!(closed.log_hash.as_deref(), Some(LOG_HASH));
}

#[test]
fn a_closure_anchors_the_log_hash_in_its_own_hash() {
    // Proves the log's hash is part of what the closure's hash covers (format 2), and that a
    // closure recorded before it was kept (no log hash) is hashed over its format 1 text, so
    // its stored hash still checks out.
    let events = two_days();
    let original = closed(&events[0]).clone();
    assert!(original
        .canonical_text()
        .starts_with("format=comptoir-closure-2\n"));
    assert!(original
        .canonical_text()
        .contains(&format!("\nlog_hash={LOG_HASH}\n")));
    let mut altered = original.clone();
    altered.log_hash = Some("0".repeat(64));
    assert_ne!(altered.computed_hash(), original.hash);
    let mut before = original.clone();
    before.log_hash = None;
    assert!(before
        .canonical_text()
        .starts_with("format=comptoir-closure-1\n"));
    assert!(!before.canonical_text().contains("log_hash"));
    assert_ne!(before.computed_hash(), original.hash);
}

#[test]
fn a_log_hash_that_is_not_a_sha256_is_refused() {
    // Proves the glue's hash is checked before it is recorded: not 64 lowercase hex digits → 422.
    for wrong in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"0".repeat(63)] {
        let ClosureCommand::Close(mut command) =
            close(ClosureKind::Day, "2026-11-19", None, busy_day("FA-1"));
        command.log_hash = wrong.to_string();
        given::<Closures>([])
            .at(december_2nd())
            .when(ClosureCommand::Close(command))
            .then_err_code("validation");
    }
}

#[test]
fn the_next_day_chains_the_previous_hash_and_perpetual_total() {
    // Proves the second closure's sequence, perpetual total (33.10 − 12.00) and previous hash.
    let events = two_days();
    let (first, second) = (closed(&events[0]), closed(&events[1]));
    assert_eq!(second.sequence, 2);
    assert_eq!(second.totals.total_incl_vat, d("-12.00"));
    assert_eq!(second.perpetual_total_incl_vat, d("21.10"));
    assert_eq!(second.previous_hash.as_deref(), Some(first.hash.as_str()));
    assert_eq!(second.hash, second.computed_hash());
}

#[test]
fn changing_any_figure_changes_the_hash() {
    // Proves the hash covers the totals, the perpetual total and the previous hash.
    let events = two_days();
    let original = closed(&events[1]).clone();
    let mut altered = original.clone();
    altered.totals.vat[0].total_vat += d("0.01");
    assert_ne!(altered.computed_hash(), original.hash);
    let mut altered = original.clone();
    altered.perpetual_total_incl_vat += d("1");
    assert_ne!(altered.computed_hash(), original.hash);
    let mut altered = original.clone();
    altered.previous_hash = Some("0".repeat(64));
    assert_ne!(altered.computed_hash(), original.hash);
    // The scale of a decimal is not a figure: 12.0 and 12.00 hash the same.
    let mut rescaled = original.clone();
    rescaled.totals.total_incl_vat = d("-12.0");
    assert_eq!(rescaled.computed_hash(), original.hash);
}

#[test]
fn a_day_that_is_not_over_is_refused() {
    // Proves today (in the shop's zone) cannot be closed: 2026-12-01 23:30 UTC is 2 December in Paris.
    given::<Closures>([])
        .at(utc("2026-12-01T23:30:00Z"))
        .when(close(
            ClosureKind::Day,
            "2026-12-02",
            None,
            ClosureTotals::default(),
        ))
        .then_err_code("period-not-over");
    given::<Closures>([])
        .at(utc("2026-12-01T23:30:00Z"))
        .when(close(
            ClosureKind::Day,
            "2026-12-01",
            None,
            ClosureTotals::default(),
        ))
        .events();
    given::<Closures>([])
        .at(december_2nd())
        .when(close(
            ClosureKind::Month,
            "2026-12",
            None,
            ClosureTotals::default(),
        ))
        .then_err_code("period-not-over");
}

#[test]
fn a_day_closes_only_once_it_has_settled_for_a_few_minutes() {
    // Proves a write decided just before midnight has time to land: at 00:02 in Paris the day
    // before is not closable yet, at 00:06 it is.
    let closing = || {
        close(
            ClosureKind::Day,
            "2026-11-19",
            None,
            ClosureTotals::default(),
        )
    };
    given::<Closures>([])
        .at(utc("2026-11-19T23:02:00Z"))
        .when(closing())
        .then_err_code("period-not-over");
    given::<Closures>([])
        .at(utc("2026-11-19T23:06:00Z"))
        .when(closing())
        .events();
}

#[test]
fn a_day_cannot_be_closed_twice_nor_before_the_last_closure() {
    // Proves the chain only moves forward: the same day, and an earlier one, are refused with 409.
    let events = two_days();
    given::<Closures>(events.clone())
        .at(december_2nd())
        .when(close(
            ClosureKind::Day,
            "2026-11-20",
            Some(day(2026, 11, 21)),
            ClosureTotals::default(),
        ))
        .then_err_code("period-closed");
    given::<Closures>(events)
        .at(december_2nd())
        .when(close(
            ClosureKind::Day,
            "2026-11-02",
            Some(day(2026, 11, 21)),
            ClosureTotals::default(),
        ))
        .then_err_code("period-closed");
}

#[test]
fn an_earlier_day_with_activity_must_be_closed_first() {
    // Proves a day with sales left open before the asked day refuses the closure (422).
    given::<Closures>([])
        .at(december_2nd())
        .when(with_activity(
            close(ClosureKind::Day, "2026-11-20", None, return_day("AV-1")),
            Some(day(2026, 11, 19)),
            Some(day(2026, 11, 20)),
        ))
        .then_err(|error| {
            error.code() == "earlier-period-unclosed" && error.to_string().contains("2026-11-19")
        });
}

#[test]
fn activity_scanned_from_another_state_is_refused() {
    // Proves facts scanned before another closure landed are not trusted.
    given::<Closures>(two_days())
        .at(december_2nd())
        .when(close(
            ClosureKind::Day,
            "2026-11-22",
            Some(day(2026, 11, 20)),
            ClosureTotals::default(),
        ))
        .then_err_code("closures-changed");
}

#[test]
fn a_month_is_the_sum_of_its_day_closures() {
    // Proves a month closes with the sum of its days and starts its own chain.
    let mut month = busy_day("FA-1");
    month.absorb(&return_day("AV-1"));
    let events = given::<Closures>(two_days())
        .at(december_2nd())
        .when(with_activity(
            close(ClosureKind::Month, "2026-11", None, month.clone()),
            None,
            Some(day(2026, 11, 20)),
        ))
        .events();
    let closed = closed(&events[0]);
    assert_eq!(closed.sequence, 1);
    assert_eq!(closed.totals, month);
    assert_eq!(closed.totals.invoices.first.as_deref(), Some("FA-1"));
    assert_eq!(closed.totals.credit_notes.last.as_deref(), Some("AV-1"));
    assert_eq!(closed.totals.vat.len(), 2);
    assert_eq!(closed.totals.vat[1].total_incl_vat, d("0.00"));
    assert_eq!(closed.totals.payments.len(), 2);
    assert_eq!(closed.perpetual_total_incl_vat, d("21.10"));
    let state = replay::<Closures>(&[two_days(), events].concat());
    assert_eq!(
        state.open_days.len(),
        2,
        "the days stay until their fiscal year is closed too"
    );
    assert_eq!(state.open_months.len(), 1);
}

#[test]
fn a_month_whose_totals_differ_from_its_days_is_refused() {
    // Proves a closed day that changed afterwards (read model ≠ day closures) blocks the month.
    let mut month = busy_day("FA-1");
    month.absorb(&return_day("AV-1"));
    month.absorb(&busy_day("FA-2"));
    given::<Closures>(two_days())
        .at(december_2nd())
        .when(with_activity(
            close(ClosureKind::Month, "2026-11", None, month),
            None,
            Some(day(2026, 11, 20)),
        ))
        .then_err_code("closure-totals-mismatch");
}

#[test]
fn a_month_with_an_unclosed_active_day_is_refused() {
    // Proves each day of the month with activity must be closed before the month (422).
    given::<Closures>(two_days())
        .at(december_2nd())
        .when(with_activity(
            close(
                ClosureKind::Month,
                "2026-11",
                None,
                ClosureTotals::default(),
            ),
            None,
            Some(day(2026, 11, 27)),
        ))
        .then_err(|error| {
            error.code() == "sub-periods-unclosed" && error.to_string().contains("2026-11-27")
        });
}

#[test]
fn a_day_of_a_closed_month_can_no_longer_be_closed() {
    // Proves a closed month freezes its days, even the quiet ones left open.
    let mut month = busy_day("FA-1");
    month.absorb(&return_day("AV-1"));
    let mut events = two_days();
    events.extend(history_on(
        &events,
        with_activity(
            close(ClosureKind::Month, "2026-11", None, month),
            None,
            Some(day(2026, 11, 20)),
        ),
    ));
    given::<Closures>(events)
        .at(december_2nd())
        .when(close(
            ClosureKind::Day,
            "2026-11-25",
            Some(day(2026, 11, 21)),
            ClosureTotals::default(),
        ))
        .then_err_code("period-closed");
}

fn history_on(events: &[ClosureEvent], command: ClosureCommand) -> Vec<ClosureEvent> {
    given::<Closures>(events.to_vec())
        .at(december_2nd())
        .when(command)
        .events()
}

#[test]
fn a_year_is_the_sum_of_its_month_closures() {
    // Proves a year closes with the sum of its months once the year is over.
    let mut month = busy_day("FA-1");
    month.absorb(&return_day("AV-1"));
    let mut events = two_days();
    events.extend(history_on(
        &events,
        with_activity(
            close(ClosureKind::Month, "2026-11", None, month.clone()),
            None,
            Some(day(2026, 11, 20)),
        ),
    ));
    let year = given::<Closures>(events)
        .at(utc("2027-01-01T09:00:00Z"))
        .when(with_activity(
            close(ClosureKind::Year, "2026", None, month.clone()),
            None,
            Some(day(2026, 11, 20)),
        ))
        .events();
    assert_eq!(closed(&year[0]).totals, month);
    assert_eq!(closed(&year[0]).perpetual_total_incl_vat, d("21.10"));
}

#[test]
fn totals_that_do_not_add_up_are_refused() {
    // Proves decide checks the arithmetic: net + VAT = gross, invoices less credit notes = gross.
    let mut totals = busy_day("FA-1");
    totals.total_incl_vat += d("1");
    given::<Closures>([])
        .at(december_2nd())
        .when(close(ClosureKind::Day, "2026-11-19", None, totals))
        .then_err_code("closure-totals-mismatch");
}

#[test]
fn periods_parse_strictly() {
    // Proves the API's period names: day, month, year, and nothing else.
    assert_eq!(
        period(ClosureKind::Month, "2026-02").ends_before,
        day(2026, 3, 1)
    );
    assert_eq!(
        period(ClosureKind::Year, "2026").ends_before,
        day(2027, 1, 1)
    );
    assert_eq!(period(ClosureKind::Day, "2026-11-20").label(), "2026-11-20");
    assert_eq!(period(ClosureKind::Month, "2026-11").label(), "2026-11");
    for (kind, bad) in [
        (ClosureKind::Day, "2026-11"),
        (ClosureKind::Day, "2026-02-30"),
        (ClosureKind::Day, "2026-1-05"),
        (ClosureKind::Day, "+026-11-20"),
        (ClosureKind::Month, "2026-13"),
        (ClosureKind::Month, "2026-11-01"),
        (ClosureKind::Year, "1999"),
        (ClosureKind::Year, "26"),
        (ClosureKind::Year, ""),
    ] {
        let error = ClosurePeriod::parse(kind, bad, &FiscalCalendar::default()).expect_err(bad);
        assert_eq!(error.code(), "validation", "{bad}");
    }
    assert_eq!(
        ClosureKind::parse("week").expect_err("week").code(),
        "validation"
    );
}

#[test]
fn too_many_days_waiting_for_their_month_or_year_are_refused() {
    // Proves the state stays bounded: past CLOSURE_OPEN_DAYS_MAX open days, the month or the
    // fiscal year comes first.
    let mut state = Closures::default();
    let first = day(2024, 6, 1);
    for offset in 0..CLOSURE_OPEN_DAYS_MAX as u64 {
        let on = first + chrono::Days::new(offset);
        let period = ClosurePeriod::containing(ClosureKind::Day, on, &FiscalCalendar::default())
            .expect("day");
        state.open_days.push((period, ClosureTotals::default()));
        state.days.last = Some(period);
    }
    let next = state.days.closed_until();
    let label = next.expect("closed until").to_string();
    let error = state
        .decide(
            &close(ClosureKind::Day, &label, next, ClosureTotals::default()),
            &crate::testing::TestEnvironment::at(december_2nd()),
        )
        .expect_err("limit");
    assert_eq!(error.code(), "closure-limit");
}

fn closing_on(text: &str) -> FiscalCalendar {
    FiscalCalendar::new(FiscalYearEnd::parse(text).expect("closing day"))
}

/// Days and months of a shop closing on 30 June: June 2025 (before its fiscal year 2026), July
/// 2025 and June 2026 (its first and last months), each month the sum of its one day.
fn july_to_june_months(calendar: &FiscalCalendar) -> Vec<ClosureEvent> {
    let steps = [
        (ClosureKind::Day, "2025-06-15", None, busy_day("FA-1")),
        (ClosureKind::Month, "2025-06", None, busy_day("FA-1")),
        (
            ClosureKind::Day,
            "2025-07-10",
            Some(day(2025, 6, 16)),
            busy_day("FA-2"),
        ),
        (
            ClosureKind::Month,
            "2025-07",
            Some(day(2025, 7, 1)),
            busy_day("FA-2"),
        ),
        (
            ClosureKind::Day,
            "2026-06-20",
            Some(day(2025, 7, 11)),
            return_day("AV-1"),
        ),
        (
            ClosureKind::Month,
            "2026-06",
            Some(day(2025, 8, 1)),
            return_day("AV-1"),
        ),
    ];
    history(
        steps
            .into_iter()
            .map(|(kind, text, from, totals)| close_in(calendar, kind, text, from, totals))
            .collect(),
    )
}

#[test]
fn a_fiscal_year_closure_is_the_sum_of_exactly_its_months() {
    // Proves the year 2026 of a shop closing on 30 June runs July 2025 to June 2026, is named
    // 2026, and sums those months only: June 2025 belongs to the year before.
    let calendar = closing_on("06-30");
    let events = july_to_june_months(&calendar);
    let mut sum = busy_day("FA-2");
    sum.absorb(&return_day("AV-1"));
    let year = history_on(
        &events,
        with_activity(
            close_in(&calendar, ClosureKind::Year, "2026", None, sum.clone()),
            None,
            Some(day(2026, 6, 20)),
        ),
    );
    let closed = closed(&year[0]);
    assert_eq!(closed.period.starts_on, day(2025, 7, 1));
    assert_eq!(closed.period.ends_before, day(2026, 7, 1));
    assert_eq!(closed.period.label(), "2026");
    assert_eq!(closed.totals, sum);
    let mut with_june_2025 = sum;
    with_june_2025.absorb(&busy_day("FA-1"));
    given::<Closures>(events)
        .at(december_2nd())
        .when(close_in(
            &calendar,
            ClosureKind::Year,
            "2026",
            None,
            with_june_2025,
        ))
        .then_err_code("closure-totals-mismatch");
}

#[test]
fn a_calendar_year_is_not_a_year_of_a_shop_closing_in_june() {
    // Proves decide checks a year closure against the shop's fiscal calendar: January to
    // December is refused for a shop whose years close on 30 June.
    let ClosureCommand::Close(mut calendar_year) =
        close(ClosureKind::Year, "2025", None, ClosureTotals::default());
    calendar_year.fiscal_calendar = closing_on("06-30");
    given::<Closures>([])
        .at(december_2nd())
        .when(ClosureCommand::Close(calendar_year))
        .then_err_code("validation");
}

#[test]
fn a_transitional_fiscal_year_closes_with_its_real_months() {
    // Proves a shop moving from 31 December to 30 June on 10 March 2026 closes 2026 as January
    // to June 2026 (six months, the sum of its month closures), not as a calendar year.
    let calendar = FiscalCalendar::default().with_change(
        day(2026, 3, 10),
        FiscalYearEnd::parse("06-30").expect("closing day"),
    );
    let events = history(vec![
        close_in(
            &calendar,
            ClosureKind::Day,
            "2026-01-10",
            None,
            busy_day("FA-1"),
        ),
        close_in(
            &calendar,
            ClosureKind::Month,
            "2026-01",
            None,
            busy_day("FA-1"),
        ),
    ]);
    let year = given::<Closures>(events.clone())
        .at(utc("2026-07-01T09:00:00Z"))
        .when(with_activity(
            close_in(&calendar, ClosureKind::Year, "2026", None, busy_day("FA-1")),
            None,
            Some(day(2026, 1, 10)),
        ))
        .events();
    let closed = closed(&year[0]);
    assert_eq!(closed.period.starts_on, day(2026, 1, 1));
    assert_eq!(closed.period.ends_before, day(2026, 7, 1));
    assert_eq!(closed.totals, busy_day("FA-1"));
    // A month of it with activity left open blocks it.
    given::<Closures>(events)
        .at(utc("2026-07-01T09:00:00Z"))
        .when(with_activity(
            close_in(&calendar, ClosureKind::Year, "2026", None, busy_day("FA-1")),
            None,
            Some(day(2026, 5, 3)),
        ))
        .then_err_code("sub-periods-unclosed");
}

/// Closing `totals` for the period `text` of a shop closing on 15 June, with its scan starting
/// at `scanned_from` and its last active day `last_in`.
fn close_mid_june(
    kind: ClosureKind,
    text: &str,
    scanned_from: Option<NaiveDate>,
    last_in: NaiveDate,
    totals: ClosureTotals,
) -> ClosureCommand {
    let calendar = closing_on("06-15");
    with_activity(
        close_in(&calendar, kind, text, scanned_from, totals),
        None,
        Some(last_in),
    )
}

/// Closing the fiscal year 2026 (16 June 2025 – 15 June 2026) of a shop closing on 15 June,
/// after its year 2025, its last active day being `last_in`.
fn year_2026_mid_june(last_in: NaiveDate, totals: ClosureTotals) -> ClosureCommand {
    let scanned_from = Some(day(2025, 6, 16));
    close_mid_june(ClosureKind::Year, "2026", scanned_from, last_in, totals)
}

fn sum(parts: &[ClosureTotals]) -> ClosureTotals {
    let mut total = ClosureTotals::default();
    for part in parts {
        total.absorb(part);
    }
    total
}

/// A shop closing on 15 June: a busy day on 10 June 2025 (fiscal year 2025, closed), then on
/// 20 June 2025 (fiscal year 2026), June 2025 closed with both, and a busy day on 10 June 2026.
fn mid_june_history() -> Vec<ClosureEvent> {
    history(vec![
        close_mid_june(
            ClosureKind::Day,
            "2025-06-10",
            None,
            day(2025, 6, 10),
            busy_day("FA-1"),
        ),
        close_mid_june(
            ClosureKind::Year,
            "2025",
            None,
            day(2025, 6, 10),
            busy_day("FA-1"),
        ),
        close_mid_june(
            ClosureKind::Day,
            "2025-06-20",
            Some(day(2025, 6, 11)),
            day(2025, 6, 20),
            busy_day("FA-2"),
        ),
        close_mid_june(
            ClosureKind::Month,
            "2025-06",
            None,
            day(2025, 6, 20),
            sum(&[busy_day("FA-1"), busy_day("FA-2")]),
        ),
        close_mid_june(
            ClosureKind::Day,
            "2026-06-10",
            Some(day(2025, 6, 21)),
            day(2026, 6, 10),
            busy_day("FA-3"),
        ),
    ])
}

#[test]
fn a_fiscal_year_cut_inside_a_month_is_the_sum_of_its_days() {
    // Proves a fiscal year from 16 June to 15 June closes with the sum of its day closures: the
    // 20 June 2025 day, kept after June 2025 closed because its year was not, and 10 June 2026.
    // June 2025, whose first half belonged to the year 2025 already closed, closed meanwhile.
    let year = history_on(
        &mid_june_history(),
        year_2026_mid_june(day(2026, 6, 10), sum(&[busy_day("FA-2"), busy_day("FA-3")])),
    );
    let closed = closed(&year[0]);
    assert_eq!(closed.period.starts_on, day(2025, 6, 16));
    assert_eq!(closed.period.ends_before, day(2026, 6, 16));
    assert_eq!(closed.sequence, 2);
    assert_eq!(closed.totals.invoices.first.as_deref(), Some("FA-2"));
    assert_eq!(closed.totals.invoices.last.as_deref(), Some("FA-3"));
    let state = replay::<Closures>(&[mid_june_history(), year].concat());
    let kept: Vec<NaiveDate> = state.open_days.iter().map(|(d, _)| d.starts_on).collect();
    assert_eq!(kept, [day(2026, 6, 10)], "June 2026 is not closed yet");
    assert!(
        state.open_months.is_empty(),
        "no later year can sum June 2025"
    );
}

#[test]
fn a_month_that_a_closed_year_ends_inside_still_closes() {
    // Proves June 2026, whose first half belongs to the fiscal year 2026 (closed) and second half
    // to 2027, closes afterwards as the sum of its days, and that its days then stay only for
    // the year 2027.
    let mut events = mid_june_history();
    events.extend(history_on(
        &events,
        year_2026_mid_june(day(2026, 6, 10), sum(&[busy_day("FA-2"), busy_day("FA-3")])),
    ));
    events.extend(history_on(
        &events,
        close_mid_june(
            ClosureKind::Day,
            "2026-06-20",
            Some(day(2026, 6, 11)),
            day(2026, 6, 20),
            busy_day("FA-4"),
        ),
    ));
    let june = history_on(
        &events,
        close_mid_june(
            ClosureKind::Month,
            "2026-06",
            Some(day(2025, 7, 1)),
            day(2026, 6, 20),
            sum(&[busy_day("FA-3"), busy_day("FA-4")]),
        ),
    );
    assert_eq!(closed(&june[0]).period.starts_on, day(2026, 6, 1));
    let state = replay::<Closures>(&[events, june].concat());
    let kept: Vec<NaiveDate> = state.open_days.iter().map(|(d, _)| d.starts_on).collect();
    assert_eq!(
        kept,
        [day(2026, 6, 20)],
        "only the year 2027 still needs a day"
    );
}

#[test]
fn a_cut_fiscal_year_needs_its_active_days_closed_and_their_exact_sum() {
    // Proves a year cut inside a month checks its days as a whole year checks its months: an
    // active day left open blocks it, and totals other than its days' sum are refused.
    let events = mid_june_history();
    given::<Closures>(events.clone())
        .at(december_2nd())
        .when(year_2026_mid_june(
            day(2026, 6, 12),
            sum(&[busy_day("FA-2"), busy_day("FA-3")]),
        ))
        .then_err_code("sub-periods-unclosed");
    given::<Closures>(events)
        .at(december_2nd())
        .when(year_2026_mid_june(day(2026, 6, 10), busy_day("FA-3")))
        .then_err_code("closure-totals-mismatch");
}
