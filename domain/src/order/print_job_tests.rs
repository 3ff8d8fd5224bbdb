//! Print jobs on an order: reports idempotent by job and status, late reports, reprints.

use super::tests::{after, mark_paid, place_with};
use super::*;
use crate::fixtures::*;
use crate::testing::{given, test_now};

const JOB: u128 = 0x70B;
const REPRINT: u128 = 0x70C;

/// Placed (two lines) and paid.
fn paid() -> Vec<OrderEvent> {
    let place = OrderCommand::Place(Box::new(place_with(
        COLISSIMO,
        &[("TIR-10x15", 60), ("GUIDE-LYON", 1)],
    )));
    after(after(vec![], place), mark_paid())
}

fn report(status: PrintJobStatus, reason: &str) -> OrderCommand {
    OrderCommand::ReportPrintJob(PrintJobReport {
        job_id: id(JOB),
        line: 1,
        device: "ipp://localhost:631/ipp/print".into(),
        status,
        reason: reason.into(),
        reported_by: "bridge".into(),
    })
}

fn record(reason: &str) -> PrintJobRecord {
    PrintJobRecord {
        shop_id: shop_id(),
        order_id: id(super::tests::ORDER),
        job_id: id(JOB),
        line: 1,
        device: "ipp://localhost:631/ipp/print".into(),
        reason: reason.into(),
        reported_by: "bridge".into(),
        reported_at: test_now(),
    }
}

fn reprint() -> OrderCommand {
    OrderCommand::RequestReprint {
        job_id: id(JOB),
        new_job_id: id(REPRINT),
        requested_by: "anne".into(),
    }
}

#[test]
fn each_status_is_recorded_once() {
    // Proves submitted then completed are recorded, and the same status again records nothing.
    let submitted = OrderEvent::PrintJobSubmitted(record(""));
    given::<Order>(paid())
        .when(report(PrintJobStatus::Submitted, "accepted"))
        .then([submitted.clone()]);
    let completed = OrderEvent::PrintJobCompleted(record(""));
    let state = given::<Order>([paid(), vec![submitted.clone()]].concat())
        .when(report(PrintJobStatus::Completed, ""))
        .then([completed.clone()]);
    let job = &state.print_jobs[&id(JOB)];
    assert_eq!(job.status, Some(PrintJobStatus::Completed));
    given::<Order>([paid(), vec![submitted.clone(), completed]].concat())
        .when(report(PrintJobStatus::Completed, ""))
        .then([]);
    given::<Order>([paid(), vec![submitted]].concat())
        .when(report(PrintJobStatus::Submitted, ""))
        .then([]);
}

#[test]
fn a_late_submitted_never_replaces_an_outcome() {
    // Proves a "submitted" arriving after the job failed records nothing and the job stays failed.
    let failed = OrderEvent::PrintJobFailed(record("media-empty"));
    let state = given::<Order>([paid(), vec![failed]].concat())
        .when(report(PrintJobStatus::Submitted, ""))
        .then([]);
    let job = &state.print_jobs[&id(JOB)];
    assert_eq!(job.status, Some(PrintJobStatus::Failed));
    assert_eq!(job.reason, "media-empty");
}

#[test]
fn two_different_outcomes_are_refused() {
    // Proves a completed job cannot also fail: that is a reprint's business.
    let completed = OrderEvent::PrintJobCompleted(record(""));
    given::<Order>([paid(), vec![completed]].concat())
        .when(report(PrintJobStatus::Failed, "jam"))
        .then_err_code("print-job-final");
}

#[test]
fn a_failure_keeps_the_device_reason_storable() {
    // Proves control characters in a device's message become spaces instead of refusing the fact.
    given::<Order>(paid())
        .when(report(PrintJobStatus::Failed, "aborted\nmedia-jam\t"))
        .then([OrderEvent::PrintJobFailed(record("aborted media-jam"))]);
}

#[test]
fn reports_name_an_existing_line_of_a_placed_order() {
    // Proves a report on an unknown order or a line past the order's lines is refused.
    given::<Order>(vec![])
        .when(report(PrintJobStatus::Submitted, ""))
        .then_err_code("not-found");
    let OrderCommand::ReportPrintJob(mut far) = report(PrintJobStatus::Submitted, "") else {
        unreachable!("report builds a report");
    };
    far.line = 2;
    given::<Order>(paid())
        .when(OrderCommand::ReportPrintJob(far))
        .then_err_code("validation");
}

#[test]
fn a_reprint_is_a_new_job_on_the_same_line() {
    // Proves a reprint names the new job, its line and the job it reprints, and starts unreported.
    let failed = OrderEvent::PrintJobFailed(record("jam"));
    let requested = OrderEvent::PrintJobReprintRequested(ReprintRecord {
        shop_id: shop_id(),
        order_id: id(super::tests::ORDER),
        job_id: id(REPRINT),
        line: 1,
        reprint_of: id(JOB),
        requested_by: "anne".into(),
        requested_at: test_now(),
    });
    let state = given::<Order>([paid(), vec![failed.clone()]].concat())
        .when(reprint())
        .then([requested.clone()]);
    let job = &state.print_jobs[&id(REPRINT)];
    assert_eq!((job.status, job.reprint_of), (None, Some(id(JOB))));
    given::<Order>([paid(), vec![failed, requested]].concat())
        .when(reprint())
        .then_err_code("already-exists");
}

#[test]
fn only_known_jobs_of_live_orders_are_reprinted() {
    // Proves a reprint of an unknown job, or of a cancelled order's job, is refused.
    given::<Order>(paid())
        .when(reprint())
        .then_err_code("not-found");
    let completed = OrderEvent::PrintJobCompleted(record(""));
    let cancel = OrderCommand::Cancel {
        cancelled_by: "anne".into(),
        reason: "client".into(),
        settlement: Some(Settlement::StoreCredit),
    };
    let history = after([paid(), vec![completed]].concat(), cancel);
    given::<Order>(history)
        .when(reprint())
        .then_err_code("order-cancelled");
}
