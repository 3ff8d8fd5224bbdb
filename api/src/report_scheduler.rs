//! The scheduled-reports sender: a background task that, on every tick of the server's clock
//! (the test clock under `--test-clock`), walks the live schedules, asks each aggregate which
//! period is due in its shop's time zone, renders that period's statistics as the schedule's
//! file, mails it, and records `ScheduledReportSent`.
//!
//! Exactly once, as far as one process can promise it: the schedule's own state says which
//! periods were sent, so a restart sends nothing twice; the record's command id is derived from
//! (schedule, period), so a record retried after a lost answer is recognised by the log and
//! appends nothing; and the data dir's lock keeps a second server off the same log. The one
//! window left is a crash after the SMTP server accepted a mail and before its record was
//! flushed: that period is sent again on restart (a duplicate rather than a lost report). The
//! copy carries the first mail's `Message-ID` (derived from schedule and period,
//! [`report_delivery_key`]), so receivers can recognise it, and mail systems that deduplicate by
//! `Message-ID` show the report once.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use comptoir_domain::calendar::Tz;
use comptoir_domain::report_schedule::{
    self, ReportPeriod, ReportSchedule, ReportScheduleCommand, ReportSettings,
};
use comptoir_domain::{Aggregate, Environment};
use comptoir_projections::statistics::{GroupBy, StatisticsQuery, StatusFilter};
use uuid::Uuid;

use crate::commands::{execute_many, CommandInput};
use crate::error::ApiError;
use crate::mail::{delivery_key, MailAttachment, MailError, Mailer, OutgoingMail};
use crate::routes::reports::statistics::statistics_export;
use crate::routes::shop_profile;
use crate::server::{AppState, READ_WAIT_MAX};

/// Time between two passes over the schedules with the system clock: periods end at midnight,
/// so a report leaves within this long after its period closes.
pub const TICK_SYSTEM_CLOCK: Duration = Duration::from_secs(30);
/// Time between two passes under a test clock, which tests move by days at once.
pub const TICK_TEST_CLOCK: Duration = Duration::from_millis(200);
/// Longest wait before a schedule that failed is tried again (SMTP down, a period too large to
/// report): failures back off exponentially from one tick up to this.
pub const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(3600);
/// Namespace of the command ids of recorded deliveries (UUID v5 of schedule and period).
const DELIVERY_NAMESPACE: Uuid = Uuid::from_u128(0x8c1e_5e4d_2f0b_4c8a_9e61_7a4d_3b2c_0d15);

/// Why one mail task's unit of work (a report, a notification) failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Starts the task; it runs until the runtime stops.
pub fn spawn(state: AppState, mailer: Mailer) -> tokio::task::JoinHandle<()> {
    let (mut interval, mut failures) = ticking(&state);
    tokio::spawn(async move {
        loop {
            interval.tick().await;
            pass(&state, &mailer, &mut failures).await;
        }
    })
}

/// The pass interval of a mail task (short under a test clock, which tests move by days at
/// once) and its empty failure record.
pub(crate) fn ticking(state: &AppState) -> (tokio::time::Interval, Failures) {
    let tick = if state.clock.is_test() {
        TICK_TEST_CLOCK
    } else {
        TICK_SYSTEM_CLOCK
    };
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    (interval, Failures::new(tick))
}

/// Things (schedules, messages to notify) whose last attempt failed: how many times in a row,
/// and when to try again.
pub(crate) struct Failures {
    tick: Duration,
    by_schedule: HashMap<Uuid, (u32, Instant)>,
}

impl Failures {
    pub(crate) fn new(tick: Duration) -> Self {
        Failures {
            tick,
            by_schedule: HashMap::new(),
        }
    }

    pub(crate) fn may_try(&self, schedule_id: Uuid, now: Instant) -> bool {
        self.by_schedule
            .get(&schedule_id)
            .is_none_or(|(_, next_try)| now >= *next_try)
    }

    pub(crate) fn failed(&mut self, schedule_id: Uuid, now: Instant) -> Duration {
        let attempts = self.by_schedule.get(&schedule_id).map_or(0, |(n, _)| *n) + 1;
        let wait = self
            .tick
            .saturating_mul(1 << attempts.min(16))
            .min(RETRY_BACKOFF_MAX);
        self.by_schedule.insert(schedule_id, (attempts, now + wait));
        wait
    }

    pub(crate) fn succeeded(&mut self, schedule_id: Uuid) {
        self.by_schedule.remove(&schedule_id);
    }

    /// Forgets whatever `keep` rejects (work that is gone), so the record stays as small as
    /// the work still pending.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Uuid) -> bool) {
        self.by_schedule.retain(|id, _| keep(id));
    }
}

/// One pass over every live schedule; a schedule that fails is logged and tried again after a
/// backoff.
async fn pass(state: &AppState, mailer: &Mailer, failures: &mut Failures) {
    let schedules = match state.projections.live_report_schedules() {
        Ok(schedules) => schedules,
        Err(error) => {
            tracing::error!(%error, "reading the report schedules failed");
            return;
        }
    };
    for (shop_id, schedule_id) in schedules {
        if !failures.may_try(schedule_id, Instant::now()) {
            continue;
        }
        match send_due(state, mailer, shop_id, schedule_id).await {
            Ok(()) => failures.succeeded(schedule_id),
            Err(error) => {
                let retry_in = failures.failed(schedule_id, Instant::now());
                tracing::error!(%error, %shop_id, %schedule_id, retry_in_s = retry_in.as_secs(), "sending a scheduled report failed");
            }
        }
    }
}

/// Sends the schedule's due period, if any, and records it.
async fn send_due(
    state: &AppState,
    mailer: &Mailer,
    shop_id: Uuid,
    schedule_id: Uuid,
) -> Result<(), SendError> {
    let stream = report_schedule::stream_id(schedule_id);
    let loaded = state
        .cache
        .load::<ReportSchedule, _>(state.log.as_ref(), &stream)
        .map_err(ApiError::from)?;
    let zone = shop_profile(state, shop_id)?.zone();
    let Some(period) = loaded.state.due_period(state.clock.now(), zone) else {
        return Ok(());
    };
    let Some(settings) = loaded.state.live_settings().cloned() else {
        return Ok(());
    };
    let mail = render(state, (shop_id, schedule_id), &settings, period, zone).await?;
    mailer.send(mail).await?;
    tracing::info!(%shop_id, %schedule_id, starts_on = %period.starts_on, ends_before = %period.ends_before, "scheduled report sent");
    record_sent(state, schedule_id, period, settings.recipients).await?;
    Ok(())
}

/// The period's statistics as the schedule's file, in a mail to its recipients.
async fn render(
    state: &AppState,
    (shop_id, schedule_id): (Uuid, Uuid),
    settings: &ReportSettings,
    period: ReportPeriod,
    zone: Tz,
) -> Result<OutgoingMail, ApiError> {
    // Orders placed up to now are in the log; the report waits until the read models hold them.
    state
        .projections
        .wait_for(state.log.head_position(), READ_WAIT_MAX)
        .await?;
    let (from, until) = period.instants(zone);
    let query = StatisticsQuery {
        from,
        until,
        group_by: GroupBy::parse(settings.group_by.as_str())?,
        // A mailed report is the statistics' default: sales, i.e. paid orders.
        status: StatusFilter::Paid,
        zone,
    };
    let projections = state.projections.clone();
    let statistics =
        tokio::task::spawn_blocking(move || projections.statistics(&[shop_id], &query))
            .await
            .map_err(|_| ApiError::Internal)??;
    let format = match settings.format {
        report_schedule::ReportFormat::Csv => "csv",
        report_schedule::ReportFormat::Xlsx => "xlsx",
        report_schedule::ReportFormat::Xml => "xml",
    };
    let file = statistics_export(&statistics, format, zone)?;
    let shop_name = shop_profile(state, shop_id)?.name;
    let last_day = period.ends_before.pred_opt().unwrap_or(period.starts_on);
    Ok(OutgoingMail {
        to: settings.recipients.clone(),
        subject: format!(
            "{shop_name} : statistiques du {} au {}",
            period.starts_on.format("%d/%m/%Y"),
            last_day.format("%d/%m/%Y")
        ),
        text: format!(
            "Bonjour,\n\nVous trouverez ci-joint les statistiques de {shop_name} du {} au {} \
             (fuseau {}) : {} commandes, {} TTC.\n",
            period.starts_on.format("%d/%m/%Y"),
            last_day.format("%d/%m/%Y"),
            zone.name(),
            statistics.totals.orders,
            statistics.totals.gross,
        ),
        attachment: Some(MailAttachment {
            file_name: file.file_name,
            content_type: file.content_type.to_string(),
            bytes: file.bytes,
        }),
        delivery: Some(report_delivery_key(schedule_id, &period)),
    })
}

/// The delivery key of `period`'s report for `schedule_id`, its mail's `Message-ID`: the same
/// in every process, so a report sent again after a crash is recognisably the same mail.
pub fn report_delivery_key(schedule_id: Uuid, period: &ReportPeriod) -> Uuid {
    let name = format!("{schedule_id}/{}/{}", period.starts_on, period.ends_before);
    delivery_key("scheduled-report", &name)
}

/// The command id of the record of `period` for `schedule_id`: the same in every process.
pub fn delivery_command_id(schedule_id: Uuid, period: &ReportPeriod) -> Uuid {
    let name = format!("{schedule_id}/{}/{}", period.starts_on, period.ends_before);
    Uuid::new_v5(&DELIVERY_NAMESPACE, name.as_bytes())
}

async fn record_sent(
    state: &AppState,
    schedule_id: Uuid,
    period: ReportPeriod,
    recipients: Vec<String>,
) -> Result<(), ApiError> {
    let record = TaskRecord {
        command_id: delivery_command_id(schedule_id, &period),
        fingerprint: format!("scheduled-report/{schedule_id}/{}", period.starts_on),
        actor: "report-scheduler",
    };
    let command = ReportScheduleCommand::RecordSent { period, recipients };
    let stream = report_schedule::stream_id(schedule_id);
    record_done::<ReportSchedule>(state, record, &stream, &command).await
}

/// Who records a mail task's work, and under which command identity.
pub(crate) struct TaskRecord {
    /// Derived from the work (schedule and period, message), never random: a record retried
    /// after a lost answer, or by the next process, is recognised by the log and appends nothing.
    pub(crate) command_id: Uuid,
    pub(crate) fingerprint: String,
    pub(crate) actor: &'static str,
}

/// Records what a mail task did (a report sent, a message notified) as one decision on `stream`.
pub(crate) async fn record_done<A: Aggregate>(
    state: &AppState,
    record: TaskRecord,
    stream: &str,
    command: &A::Command,
) -> Result<(), ApiError>
where
    A::Command: Sync,
{
    let input = CommandInput {
        command_id: record.command_id,
        fingerprint: Some(record.fingerprint),
        actor: Some(record.actor.into()),
        sequenced: vec![],
    };
    execute_many(&state.executor(), &input, |session| {
        session.decide::<A>(stream, command)
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn failures_back_off_until_a_success() {
        // Proves a failing schedule waits 2, 4, 8… ticks (capped), others are not held back, and
        // a success clears its record.
        let tick = Duration::from_secs(30);
        let mut failures = Failures::new(tick);
        let (failing, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let now = Instant::now();
        assert_eq!(failures.failed(failing, now), tick * 2);
        assert!(!failures.may_try(failing, now + tick));
        assert!(failures.may_try(failing, now + tick * 2));
        assert!(failures.may_try(other, now));
        assert_eq!(failures.failed(failing, now), tick * 4);
        for _ in 0..20 {
            failures.failed(failing, now);
        }
        assert_eq!(failures.failed(failing, now), RETRY_BACKOFF_MAX);
        failures.succeeded(failing);
        assert!(failures.may_try(failing, now));
        // Work that is gone is forgotten; work still pending keeps its backoff.
        failures.failed(failing, now);
        failures.failed(other, now);
        failures.retain(|id| *id == failing);
        assert!(!failures.may_try(failing, now) && failures.may_try(other, now));
    }

    #[test]
    fn delivery_ids_depend_on_schedule_and_period_only() {
        // Proves the record's command id is stable across processes and differs per period.
        let schedule = Uuid::from_u128(7);
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");
        let first = ReportPeriod {
            starts_on: day(29),
            ends_before: day(30),
        };
        let second = ReportPeriod {
            starts_on: day(30),
            ends_before: day(31),
        };
        assert_eq!(
            delivery_command_id(schedule, &first),
            delivery_command_id(schedule, &first)
        );
        assert_ne!(
            delivery_command_id(schedule, &first),
            delivery_command_id(schedule, &second)
        );
        assert_ne!(
            delivery_command_id(Uuid::from_u128(8), &first),
            delivery_command_id(schedule, &first)
        );
    }

    #[test]
    fn a_report_mail_is_named_by_its_schedule_and_period() {
        // Proves the Message-ID key of a report is the same for the same (schedule, period),
        // in any process, and differs for another period or another schedule.
        let schedule = Uuid::from_u128(7);
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");
        let period = |first, last| ReportPeriod {
            starts_on: day(first),
            ends_before: day(last),
        };
        let key = report_delivery_key(schedule, &period(29, 30));
        assert_eq!(key, report_delivery_key(schedule, &period(29, 30)));
        assert_ne!(key, report_delivery_key(schedule, &period(30, 31)));
        assert_ne!(key, report_delivery_key(schedule, &period(29, 31)));
        assert_ne!(
            key,
            report_delivery_key(Uuid::from_u128(8), &period(29, 30))
        );
        assert_ne!(key, delivery_command_id(schedule, &period(29, 30)));
    }
}
