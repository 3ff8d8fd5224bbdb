//! Print jobs of an order: what the printer bridge reports of each device job, and staff reprints.
//!
//! They live in the order's own stream (`order-{order_id}`) so that a job's outcome is part of the
//! order's history and the bridge, which follows the shop's feed, sees a reprint request in the same
//! stream as the `OrderPaid` that caused the first print.
//!
//! A job is identified by a client-chosen `job_id` (the bridge derives it from order and line), so
//! a report is idempotent by `job_id` + status: reporting what is already recorded records nothing.
//! Reports can arrive out of order (a bridge retrying "submitted" after a crash, when "completed" is
//! already in), so a late "submitted" never replaces a final status; two different final statuses
//! for one job are contradictory facts and are refused. A reprint is always a new job.
//!
//! `line` is the 0-based index of the order line (its `line_number` − 1), as the bridge counts.

use super::{Order, OrderEvent, OrderStatus};
use crate::limits::{DEVICE_CHARS_MAX, PRINT_JOBS_PER_ORDER_MAX, TEXT_CHARS_MAX};
use crate::text::validate_text;
use crate::DomainError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a job stands, as its device reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintJobStatus {
    /// The device accepted the job.
    Submitted,
    /// The device finished it.
    Completed,
    /// The device aborted or cancelled it, or it could not be built.
    Failed,
}

impl PrintJobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintJobStatus::Submitted => "submitted",
            PrintJobStatus::Completed => "completed",
            PrintJobStatus::Failed => "failed",
        }
    }

    /// Nothing more happens to a job with this status.
    pub fn is_final(self) -> bool {
        matches!(self, PrintJobStatus::Completed | PrintJobStatus::Failed)
    }
}

/// A job's status as a device reported it (`ReportPrintJob`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJobReport {
    pub job_id: Uuid,
    /// 0-based index of the order line the job prints.
    pub line: u32,
    /// Which device took the job (`ipp://…`, `hot-folder:/path`).
    pub device: String,
    pub status: PrintJobStatus,
    /// The device's words; kept only for a failure.
    pub reason: String,
    pub reported_by: String,
}

/// Payload of `PrintJobSubmitted`, `PrintJobCompleted` and `PrintJobFailed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJobRecord {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub job_id: Uuid,
    /// 0-based index of the order line.
    pub line: u32,
    pub device: String,
    /// Why the job failed, as the device said it; absent from the other outcomes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
}

/// Payload of `PrintJobReprintRequested`: print `line` again under the new `job_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReprintRecord {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    /// The new job.
    pub job_id: Uuid,
    pub line: u32,
    /// The job it prints again.
    pub reprint_of: Uuid,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

/// A job as the order knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    pub job_id: Uuid,
    pub line: u32,
    /// Empty until a device reports on it.
    pub device: String,
    /// `None` for a reprint requested and not yet reported on.
    pub status: Option<PrintJobStatus>,
    pub reason: String,
    pub reprint_of: Option<Uuid>,
}

/// The event a report causes, or none when it tells nothing new.
pub(super) fn decide_report(
    order: &Order,
    report: &PrintJobReport,
    now: DateTime<Utc>,
) -> Result<Vec<OrderEvent>, DomainError> {
    let placed = order.placed_or_not_found()?;
    validate_line(order, report.line)?;
    validate_text("device", &report.device, DEVICE_CHARS_MAX)?;
    validate_text("reported_by", &report.reported_by, TEXT_CHARS_MAX)?;
    match order.print_jobs.get(&report.job_id) {
        Some(job) => {
            if job.line != report.line {
                return Err(DomainError::validation(
                    "line",
                    format!("job {} prints line {}", job.job_id, job.line),
                ));
            }
            if !changes_status(job.status, report.status)? {
                return Ok(Vec::new());
            }
        }
        None if order.print_jobs.len() >= PRINT_JOBS_PER_ORDER_MAX => {
            return Err(DomainError::LimitExceeded {
                what: "print jobs per order",
                limit: PRINT_JOBS_PER_ORDER_MAX as u64,
            });
        }
        None => {}
    }
    let record = PrintJobRecord {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        job_id: report.job_id,
        line: report.line,
        device: report.device.clone(),
        reason: match report.status {
            PrintJobStatus::Failed => device_reason(&report.reason),
            _ => String::new(),
        },
        reported_by: report.reported_by.clone(),
        reported_at: now,
    };
    Ok(vec![match report.status {
        PrintJobStatus::Submitted => OrderEvent::PrintJobSubmitted(record),
        PrintJobStatus::Completed => OrderEvent::PrintJobCompleted(record),
        PrintJobStatus::Failed => OrderEvent::PrintJobFailed(record),
    }])
}

/// Whether reporting `reported` on a job at `current` records anything: a repeated status or a
/// late "submitted" does not; a second, different outcome is a contradiction.
fn changes_status(
    current: Option<PrintJobStatus>,
    reported: PrintJobStatus,
) -> Result<bool, DomainError> {
    match current {
        None => Ok(true),
        Some(current) if current == reported => Ok(false),
        Some(PrintJobStatus::Submitted) => Ok(true),
        Some(_) if reported == PrintJobStatus::Submitted => Ok(false),
        Some(current) => Err(DomainError::conflict(
            "print-job-final",
            format!(
                "the job is already {}; ask for a reprint instead",
                current.as_str()
            ),
        )),
    }
}

/// Staff ask for `job_id`'s line to be printed again, as the new job `new_job_id`.
pub(super) fn decide_reprint(
    order: &Order,
    job_id: Uuid,
    new_job_id: Uuid,
    requested_by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<OrderEvent>, DomainError> {
    let placed = order.placed_or_not_found()?;
    validate_text("requested_by", requested_by, TEXT_CHARS_MAX)?;
    let job = order
        .print_jobs
        .get(&job_id)
        .ok_or_else(|| DomainError::not_found("print job", job_id))?;
    if order.status == OrderStatus::Cancelled {
        return Err(DomainError::conflict(
            "order-cancelled",
            "a cancelled order is not printed again",
        ));
    }
    if order.print_jobs.contains_key(&new_job_id) {
        return Err(DomainError::already_exists("print job", new_job_id));
    }
    if order.print_jobs.len() >= PRINT_JOBS_PER_ORDER_MAX {
        return Err(DomainError::LimitExceeded {
            what: "print jobs per order",
            limit: PRINT_JOBS_PER_ORDER_MAX as u64,
        });
    }
    Ok(vec![OrderEvent::PrintJobReprintRequested(ReprintRecord {
        shop_id: placed.shop_id,
        order_id: placed.order_id,
        job_id: new_job_id,
        line: job.line,
        reprint_of: job_id,
        requested_by: requested_by.to_string(),
        requested_at: now,
    })])
}

fn validate_line(order: &Order, line: u32) -> Result<(), DomainError> {
    let lines = order.placed.as_ref().map_or(0, |p| p.pricing.lines.len());
    if line as usize >= lines {
        return Err(DomainError::validation(
            "line",
            format!("the order has {lines} lines, indexed from 0"),
        ));
    }
    Ok(())
}

/// A device's message, made storable: control characters become spaces and it is cut at
/// `TEXT_CHARS_MAX`. Refusing it instead would leave the bridge retrying a fact for ever.
fn device_reason(reason: &str) -> String {
    let cleaned: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(TEXT_CHARS_MAX)
        .collect();
    cleaned.trim().to_string()
}

/// The order's side of the print-job events; no rule, never fails.
pub(super) fn evolve(order: &mut Order, event: &OrderEvent) {
    let (record, status) = match event {
        OrderEvent::PrintJobSubmitted(record) => (record, PrintJobStatus::Submitted),
        OrderEvent::PrintJobCompleted(record) => (record, PrintJobStatus::Completed),
        OrderEvent::PrintJobFailed(record) => (record, PrintJobStatus::Failed),
        OrderEvent::PrintJobReprintRequested(reprint) => {
            order.print_jobs.insert(
                reprint.job_id,
                PrintJob {
                    job_id: reprint.job_id,
                    line: reprint.line,
                    device: String::new(),
                    status: None,
                    reason: String::new(),
                    reprint_of: Some(reprint.reprint_of),
                },
            );
            return;
        }
        _ => return,
    };
    let job = order
        .print_jobs
        .entry(record.job_id)
        .or_insert_with(|| PrintJob {
            job_id: record.job_id,
            line: record.line,
            device: String::new(),
            status: None,
            reason: String::new(),
            reprint_of: None,
        });
    job.device = record.device.clone();
    job.status = Some(status);
    job.reason = record.reason.clone();
}
