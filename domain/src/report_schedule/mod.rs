//! Scheduled reports by e-mail (spec §7): a manager asks for the shop's statistics of every
//! complete day, week, month, half-year or year to be mailed to up to 20 recipients, as CSV,
//! XLSX or XML, grouped one way.
//!
//! One stream per schedule (`report-schedule-{schedule_id}`): its settings, its deletion, and
//! every period sent (`ScheduledReportSent`). Which period is due is a rule of this aggregate
//! ([`ReportSchedule::due_period`]): the last complete period of the frequency in the shop's
//! zone, if it ended after the schedule was created and was not sent yet. The glue records a
//! sent period with a command id derived from (schedule, period), so the log recognises a
//! second record of the same period and the aggregate appends nothing for it.

#[cfg(test)]
mod tests;

use crate::calendar::{local_date, start_of_day, Tz};
use crate::customer::normalise_email;
use crate::limits::REPORT_RECIPIENTS_MAX;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Stream of one schedule.
pub fn stream_id(schedule_id: Uuid) -> String {
    format!("{}-{schedule_id}", ReportSchedule::STREAM_KIND)
}

/// How often a report is sent: once per complete period of this length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    /// Calendar weeks, Monday to Sunday.
    Weekly,
    Monthly,
    /// January to June, July to December.
    HalfYearly,
    Yearly,
}

impl Frequency {
    /// The period of this frequency that `day` falls in.
    pub fn period_containing(self, day: NaiveDate) -> Option<ReportPeriod> {
        let first = match self {
            Frequency::Daily => Some(day),
            Frequency::Weekly => {
                day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
            }
            Frequency::Monthly => day.with_day(1),
            Frequency::HalfYearly => {
                NaiveDate::from_ymd_opt(day.year(), if day.month() <= 6 { 1 } else { 7 }, 1)
            }
            Frequency::Yearly => NaiveDate::from_ymd_opt(day.year(), 1, 1),
        }?;
        let ends_before = match self {
            Frequency::Daily => first.checked_add_days(Days::new(1)),
            Frequency::Weekly => first.checked_add_days(Days::new(7)),
            Frequency::Monthly => first.checked_add_months(Months::new(1)),
            Frequency::HalfYearly => first.checked_add_months(Months::new(6)),
            Frequency::Yearly => first.checked_add_months(Months::new(12)),
        }?;
        Some(ReportPeriod {
            starts_on: first,
            ends_before,
        })
    }

    /// The last complete period before the one `today` falls in.
    pub fn previous_period(self, today: NaiveDate) -> Option<ReportPeriod> {
        let current = self.period_containing(today)?;
        let last_day = current.starts_on.checked_sub_days(Days::new(1))?;
        self.period_containing(last_day)
    }
}

/// The file the report is attached as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Csv,
    Xlsx,
    Xml,
}

/// How the report's rows are formed (the statistics' groupings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportGrouping {
    OrderNumber,
    Customer,
    ProductType,
    OrderDay,
    PaymentType,
}

impl ReportGrouping {
    /// The name the statistics use for this grouping.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportGrouping::OrderNumber => "order_number",
            ReportGrouping::Customer => "customer",
            ReportGrouping::ProductType => "product_type",
            ReportGrouping::OrderDay => "order_day",
            ReportGrouping::PaymentType => "payment_type",
        }
    }
}

/// What a schedule sends, to whom, how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSettings {
    /// 1 to [`REPORT_RECIPIENTS_MAX`] distinct addresses, lower-cased.
    pub recipients: Vec<String>,
    pub frequency: Frequency,
    pub format: ReportFormat,
    pub group_by: ReportGrouping,
}

impl ReportSettings {
    /// The settings with their addresses normalised (trimmed, lower-cased), or why they are
    /// refused.
    pub fn normalised(&self) -> Result<ReportSettings, DomainError> {
        if self.recipients.is_empty() || self.recipients.len() > REPORT_RECIPIENTS_MAX {
            return Err(DomainError::validation(
                "recipients",
                format!("give 1 to {REPORT_RECIPIENTS_MAX} e-mail addresses"),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut recipients = Vec::with_capacity(self.recipients.len());
        for (index, address) in self.recipients.iter().enumerate() {
            let normalised = normalise_email(address).map_err(|error| match error {
                DomainError::Validation { message, .. } => {
                    DomainError::validation(format!("recipients[{index}]"), message)
                }
                other => other,
            })?;
            if !seen.insert(normalised.clone()) {
                return Err(DomainError::validation(
                    format!("recipients[{index}]"),
                    "is listed twice",
                ));
            }
            recipients.push(normalised);
        }
        Ok(ReportSettings {
            recipients,
            ..self.clone()
        })
    }
}

/// A period of the shop's calendar: the days from `starts_on` up to, not including,
/// `ends_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReportPeriod {
    pub starts_on: NaiveDate,
    pub ends_before: NaiveDate,
}

impl ReportPeriod {
    /// The period's instants `[from, until)` in `zone`.
    pub fn instants(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            start_of_day(self.starts_on, zone),
            start_of_day(self.ends_before, zone),
        )
    }
}

#[derive(Debug, Clone)]
pub enum ReportScheduleCommand {
    Create {
        shop_id: Uuid,
        schedule_id: Uuid,
        settings: ReportSettings,
    },
    Update {
        settings: ReportSettings,
    },
    Delete,
    /// The report of `period` went out to `recipients`.
    RecordSent {
        period: ReportPeriod,
        recipients: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReportScheduleEvent {
    ReportScheduleCreated {
        shop_id: Uuid,
        schedule_id: Uuid,
        settings: ReportSettings,
        created_at: DateTime<Utc>,
    },
    ReportScheduleUpdated {
        shop_id: Uuid,
        schedule_id: Uuid,
        settings: ReportSettings,
        updated_at: DateTime<Utc>,
    },
    ReportScheduleDeleted {
        shop_id: Uuid,
        schedule_id: Uuid,
        deleted_at: DateTime<Utc>,
    },
    ScheduledReportSent {
        shop_id: Uuid,
        schedule_id: Uuid,
        period: ReportPeriod,
        recipients: Vec<String>,
        sent_at: DateTime<Utc>,
    },
}

impl DomainEvent for ReportScheduleEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ReportScheduleEvent::ReportScheduleCreated { .. } => "ReportScheduleCreated",
            ReportScheduleEvent::ReportScheduleUpdated { .. } => "ReportScheduleUpdated",
            ReportScheduleEvent::ReportScheduleDeleted { .. } => "ReportScheduleDeleted",
            ReportScheduleEvent::ScheduledReportSent { .. } => "ScheduledReportSent",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSchedule {
    pub shop_id: Option<Uuid>,
    pub schedule_id: Option<Uuid>,
    pub settings: Option<ReportSettings>,
    pub created_at: Option<DateTime<Utc>>,
    /// When the settings last changed (creation, update or deletion).
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// Every period sent, whatever the frequency was then.
    pub sent: BTreeSet<ReportPeriod>,
}

impl ReportSchedule {
    /// The settings of a schedule that exists and is not deleted.
    pub fn live_settings(&self) -> Option<&ReportSettings> {
        self.settings.as_ref().filter(|_| !self.deleted)
    }

    fn ids_or_not_found(&self) -> Result<(Uuid, Uuid), DomainError> {
        match (self.shop_id, self.schedule_id) {
            (Some(shop_id), Some(schedule_id)) => Ok((shop_id, schedule_id)),
            _ => Err(DomainError::not_found("report schedule", "this schedule")),
        }
    }

    /// The period to send now: the last complete period of the frequency in the shop's `zone`,
    /// unless it ended before the schedule existed or was sent already. `None` for a deleted
    /// schedule.
    pub fn due_period(&self, now: DateTime<Utc>, zone: Tz) -> Option<ReportPeriod> {
        let settings = self.live_settings()?;
        let created_at = self.created_at?;
        let period = settings.frequency.previous_period(local_date(now, zone))?;
        let (_, until) = period.instants(zone);
        if until <= created_at || self.sent.contains(&period) {
            return None;
        }
        Some(period)
    }

    fn decide_create(
        &self,
        shop_id: Uuid,
        schedule_id: Uuid,
        settings: &ReportSettings,
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportScheduleEvent>, DomainError> {
        let settings = settings.normalised()?;
        if self.schedule_id.is_some() {
            // A retry with the same content is answered with no new event.
            let same = self.shop_id == Some(shop_id) && self.settings.as_ref() == Some(&settings);
            return if same && !self.deleted {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("report schedule", schedule_id))
            };
        }
        Ok(vec![ReportScheduleEvent::ReportScheduleCreated {
            shop_id,
            schedule_id,
            settings,
            created_at: now,
        }])
    }

    fn decide_update(
        &self,
        settings: &ReportSettings,
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportScheduleEvent>, DomainError> {
        let (shop_id, schedule_id) = self.ids_or_not_found()?;
        let current = self
            .live_settings()
            .ok_or_else(|| DomainError::not_found("report schedule", schedule_id))?;
        let settings = settings.normalised()?;
        if *current == settings {
            return Ok(vec![]);
        }
        Ok(vec![ReportScheduleEvent::ReportScheduleUpdated {
            shop_id,
            schedule_id,
            settings,
            updated_at: now,
        }])
    }

    fn decide_delete(&self, now: DateTime<Utc>) -> Result<Vec<ReportScheduleEvent>, DomainError> {
        let (shop_id, schedule_id) = self.ids_or_not_found()?;
        if self.deleted {
            return Ok(vec![]);
        }
        Ok(vec![ReportScheduleEvent::ReportScheduleDeleted {
            shop_id,
            schedule_id,
            deleted_at: now,
        }])
    }

    /// A period is recorded once; a deleted schedule still records a report that went out
    /// while it was being deleted, because the mail did leave.
    fn decide_record_sent(
        &self,
        period: ReportPeriod,
        recipients: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportScheduleEvent>, DomainError> {
        let (shop_id, schedule_id) = self.ids_or_not_found()?;
        if period.starts_on >= period.ends_before {
            return Err(DomainError::validation(
                "period",
                "must end after it starts",
            ));
        }
        if recipients.is_empty() || recipients.len() > REPORT_RECIPIENTS_MAX {
            return Err(DomainError::validation(
                "recipients",
                format!("give 1 to {REPORT_RECIPIENTS_MAX} e-mail addresses"),
            ));
        }
        if self.sent.contains(&period) {
            return Ok(vec![]);
        }
        Ok(vec![ReportScheduleEvent::ScheduledReportSent {
            shop_id,
            schedule_id,
            period,
            recipients: recipients.to_vec(),
            sent_at: now,
        }])
    }
}

impl Aggregate for ReportSchedule {
    type Command = ReportScheduleCommand;
    type Event = ReportScheduleEvent;
    const STREAM_KIND: &'static str = "report-schedule";

    fn decide(
        &self,
        command: &ReportScheduleCommand,
        env: &dyn Environment,
    ) -> Result<Vec<ReportScheduleEvent>, DomainError> {
        let now = env.now();
        match command {
            ReportScheduleCommand::Create {
                shop_id,
                schedule_id,
                settings,
            } => self.decide_create(*shop_id, *schedule_id, settings, now),
            ReportScheduleCommand::Update { settings } => self.decide_update(settings, now),
            ReportScheduleCommand::Delete => self.decide_delete(now),
            ReportScheduleCommand::RecordSent { period, recipients } => {
                self.decide_record_sent(*period, recipients, now)
            }
        }
    }

    fn evolve(mut self, event: &ReportScheduleEvent) -> Self {
        match event {
            ReportScheduleEvent::ReportScheduleCreated {
                shop_id,
                schedule_id,
                settings,
                created_at,
            } => {
                self.shop_id = Some(*shop_id);
                self.schedule_id = Some(*schedule_id);
                self.settings = Some(settings.clone());
                self.created_at = Some(*created_at);
                self.updated_at = Some(*created_at);
            }
            ReportScheduleEvent::ReportScheduleUpdated {
                settings,
                updated_at,
                ..
            } => {
                self.settings = Some(settings.clone());
                self.updated_at = Some(*updated_at);
            }
            ReportScheduleEvent::ReportScheduleDeleted { deleted_at, .. } => {
                self.deleted = true;
                self.updated_at = Some(*deleted_at);
            }
            ReportScheduleEvent::ScheduledReportSent { period, .. } => {
                self.sent.insert(*period);
            }
        }
        self
    }
}
