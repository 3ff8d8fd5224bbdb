//! Print jobs on the order view: the view's side of the domain's print-job `evolve`. The domain
//! already refused what must not change a job (a late "submitted", a second outcome), so every
//! event here is applied as it comes.

use crate::views::OrderView;
use comptoir_domain::order::{OrderEvent, PrintJob, PrintJobStatus};

pub(super) fn apply(view: &mut OrderView, event: &OrderEvent) {
    let (record, status) = match event {
        OrderEvent::PrintJobSubmitted(record) => (record, PrintJobStatus::Submitted),
        OrderEvent::PrintJobCompleted(record) => (record, PrintJobStatus::Completed),
        OrderEvent::PrintJobFailed(record) => (record, PrintJobStatus::Failed),
        OrderEvent::PrintJobReprintRequested(reprint) => {
            view.print_jobs.push(PrintJob {
                job_id: reprint.job_id,
                line: reprint.line,
                device: String::new(),
                status: None,
                reason: String::new(),
                reprint_of: Some(reprint.reprint_of),
            });
            return;
        }
        _ => return,
    };
    let position = view
        .print_jobs
        .iter()
        .position(|job| job.job_id == record.job_id);
    let index = position.unwrap_or_else(|| {
        view.print_jobs.push(PrintJob {
            job_id: record.job_id,
            line: record.line,
            device: String::new(),
            status: None,
            reason: String::new(),
            reprint_of: None,
        });
        view.print_jobs.len() - 1
    });
    let job = &mut view.print_jobs[index];
    job.device = record.device.clone();
    job.status = Some(status);
    job.reason = record.reason.clone();
}
