//! The engine: follows the feed, turns paid orders and reprint requests into device jobs, and
//! moves the checkpoint only past events whose jobs all have their outcome recorded in the API.
//!
//! Exactly once rests on three things: a job's id is derived from (order, line), so every run
//! names it the same; before submitting, the engine asks the API (is there an outcome?) and the
//! device (does it hold a job of that name?); and the checkpoint never passes an event whose
//! outcome is not recorded, so a crash only ever replays work that those two checks recognise.

use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};
use uuid::Uuid;

use crate::api::{Api, ApiError};
use crate::checkpoint::Checkpoint;
use crate::config::{PrintRule, RetryConfig};
use crate::driver::{Device, DeviceError, Found, Image, Outcome};
use crate::limits::{FEED_PAGE_EVENTS, PENDING_EVENTS_MAX};
use crate::model::{
    order_id_of_stream, FeedEvent, JobRecord, JobReport, JobStatus, ReprintRequested,
    EVENT_ORDER_PAID, EVENT_REPRINT_REQUESTED,
};
use crate::plan::{self, JobSpec};
use crate::retry::Backoff;

/// Whether to keep following the feed or stop once it is drained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Follow,
    Once,
}

/// Everything a job task needs, shared.
pub struct Bridge {
    pub api: Arc<dyn Api>,
    pub device: Arc<dyn Device>,
    pub rules: Vec<PrintRule>,
    pub retry: RetryConfig,
    /// One permit per job allowed on the device at once.
    pub jobs_in_flight: Arc<Semaphore>,
}

/// A feed event waiting for its jobs; `None` when the event needs no job.
type PendingEvent = (u64, Option<JoinHandle<()>>);

/// Why the engine stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] std::io::Error),
    #[error("a job task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Runs the bridge from the stored checkpoint; returns only in `Once` mode or on a fatal error.
pub async fn run(
    bridge: Arc<Bridge>,
    checkpoint: Checkpoint,
    mode: Mode,
) -> Result<(), EngineError> {
    let start = checkpoint.load()?;
    info!(position = start, ?mode, "bridge starts");
    let (sender, receiver) = mpsc::channel::<PendingEvent>(PENDING_EVENTS_MAX);
    let committer = tokio::spawn(commit_in_order(receiver, checkpoint, start));
    read_feed(&bridge, start, mode, sender).await;
    committer.await?
}

/// Reads the feed from `after` and starts a task per printable event, in feed order.
async fn read_feed(
    bridge: &Arc<Bridge>,
    mut after: u64,
    mode: Mode,
    sender: mpsc::Sender<PendingEvent>,
) {
    let mut backoff = Backoff::new(&bridge.retry);
    loop {
        let wait = mode == Mode::Follow;
        let page = match bridge.api.events(after, FEED_PAGE_EVENTS, wait).await {
            Ok(page) => page,
            Err(error) => {
                warn!(%error, after, "cannot read the event feed; retrying");
                backoff.wait().await;
                continue;
            }
        };
        backoff = Backoff::new(&bridge.retry);
        // The real feed moves `next_after` past other shops' events even when a page holds none
        // of ours: only an empty page that does not move on means "caught up".
        let caught_up = page.events.is_empty() && page.next_after <= after;
        if caught_up && mode == Mode::Once {
            return;
        }
        for event in page.events {
            if event.position <= after {
                // Seen already (an overlapping page or a server replaying): never twice.
                warn!(
                    position = event.position,
                    after, "feed went backwards; event skipped"
                );
                continue;
            }
            after = event.position;
            let task = start_event(bridge, event);
            // A full channel means PENDING_EVENTS_MAX events await their jobs: wait here.
            if sender.send((after, task)).await.is_err() {
                return;
            }
        }
        after = after.max(page.next_after);
    }
}

/// The task printing what an event asks for, if it asks for anything.
fn start_event(bridge: &Arc<Bridge>, event: FeedEvent) -> Option<JoinHandle<()>> {
    let order_id = order_id_of_stream(&event.stream)?;
    let bridge = bridge.clone();
    let position = event.position;
    match event.event_type.as_str() {
        EVENT_ORDER_PAID => Some(tokio::spawn(async move {
            print_order(&bridge, order_id, position).await;
        })),
        EVENT_REPRINT_REQUESTED => {
            let data = payload_body(&event.event_type, event.data);
            let reprint = match serde_json::from_value::<ReprintRequested>(data) {
                Ok(reprint) => reprint,
                Err(error) => {
                    error!(position = event.position, %error, "reprint event without job_id/line; skipped");
                    return None;
                }
            };
            Some(tokio::spawn(async move {
                print_reprint(&bridge, order_id, position, reprint).await;
            }))
        }
        _ => None,
    }
}

/// The payload's fields: comptoir's log stores events externally tagged (`{"Type": {..}}`).
fn payload_body(event_type: &str, data: serde_json::Value) -> serde_json::Value {
    match data {
        serde_json::Value::Object(mut fields) if fields.len() == 1 => {
            match fields.remove(event_type) {
                Some(body) => body,
                None => serde_json::Value::Object(fields),
            }
        }
        other => other,
    }
}

/// Stores the checkpoint after each event whose task finished, in feed order, batching the
/// writes of events that finish together.
async fn commit_in_order(
    mut receiver: mpsc::Receiver<PendingEvent>,
    checkpoint: Checkpoint,
    start: u64,
) -> Result<(), EngineError> {
    let (mut done, mut stored) = (start, start);
    while let Some((position, task)) = receiver.recv().await {
        if let Some(task) = task {
            if !task.is_finished() && done > stored {
                checkpoint.store(done)?;
                stored = done;
            }
            task.await?;
        }
        assert!(position > done, "events are committed in feed order");
        done = position;
        if receiver.is_empty() {
            checkpoint.store(done)?;
            stored = done;
            debug!(position = done, "checkpoint stored");
        }
    }
    if done > stored {
        checkpoint.store(done)?;
    }
    Ok(())
}

/// Calls the API until it answers; a paid order is never given up because the API is down.
async fn api_retry<T, F, Fut>(bridge: &Bridge, what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut backoff = Backoff::new(&bridge.retry);
    loop {
        match call().await {
            Ok(value) => return value,
            Err(error) if error.is_transient() => warn!(%error, what, "API unavailable; retrying"),
            // A refusal will not heal by itself, but dropping the order would lose it: keep
            // trying, loudly, so that someone fixes the key or the contract.
            Err(error) => error!(%error, what, "API refused; retrying"),
        }
        backoff.wait().await;
    }
}

async fn print_order(bridge: &Arc<Bridge>, order_id: Uuid, position: u64) {
    let order = api_retry(bridge, "read order", || {
        bridge.api.order(order_id, position)
    })
    .await;
    let existing = api_retry(bridge, "list jobs", || bridge.api.print_jobs(order_id)).await;
    let lines = u32::try_from(order.lines.len()).unwrap_or(u32::MAX);
    let tasks: Vec<_> = (0..lines)
        .filter_map(|line| {
            let job_id = plan::job_id(order_id, line);
            let spec = plan::plan_line(&bridge.rules, &order, line, job_id)?;
            let status = last_status(&existing, job_id);
            let bridge = bridge.clone();
            Some(tokio::spawn(async move {
                run_job(&bridge, order_id, line, job_id, spec, status).await;
            }))
        })
        .collect();
    for task in tasks {
        if let Err(error) = task.await {
            // A panicking job must not let the checkpoint pass its order.
            std::panic::resume_unwind(error.into_panic());
        }
    }
}

async fn print_reprint(
    bridge: &Arc<Bridge>,
    order_id: Uuid,
    position: u64,
    reprint: ReprintRequested,
) {
    let order = api_retry(bridge, "read order", || {
        bridge.api.order(order_id, position)
    })
    .await;
    let existing = api_retry(bridge, "list jobs", || bridge.api.print_jobs(order_id)).await;
    let Some(spec) = plan::plan_line(&bridge.rules, &order, reprint.line, reprint.job_id) else {
        warn!(%order_id, line = reprint.line, "reprint of a line that is not a print; skipped");
        return;
    };
    let status = last_status(&existing, reprint.job_id);
    run_job(bridge, order_id, reprint.line, reprint.job_id, spec, status).await;
}

fn last_status(jobs: &[JobRecord], job_id: Uuid) -> Option<JobStatus> {
    jobs.iter()
        .filter(|job| job.job_id == job_id)
        .map(|job| job.status)
        .max_by_key(|status| status.is_final())
}

/// Takes one job to its recorded outcome.
async fn run_job(
    bridge: &Bridge,
    order_id: Uuid,
    line: u32,
    job_id: Uuid,
    spec: Result<JobSpec, plan::PlanError>,
    status: Option<JobStatus>,
) {
    if status.is_some_and(JobStatus::is_final) {
        debug!(%job_id, "job already has its outcome");
        return;
    }
    let outcome = match &spec {
        Err(error) => Outcome::Failed {
            reason: error.to_string(),
        },
        Ok(spec) => {
            let _permit = bridge.jobs_in_flight.acquire().await;
            device_retry(bridge, spec, status == Some(JobStatus::Submitted)).await
        }
    };
    let (status, reason) = match outcome {
        Outcome::Completed { detail } => (JobStatus::Completed, detail),
        Outcome::Failed { reason } => (JobStatus::Failed, reason),
    };
    info!(%order_id, line, %job_id, status = status.as_str(), %reason, "job finished");
    report(bridge, order_id, line, job_id, status, reason).await;
    if let Ok(spec) = &spec {
        if let Err(error) = bridge.device.forget(spec).await {
            // Only tidiness is lost: the API's record now recognises the job.
            warn!(%job_id, %error, "cannot drop the job's journal entry");
        }
    }
}

async fn report(
    bridge: &Bridge,
    order_id: Uuid,
    line: u32,
    job_id: Uuid,
    status: JobStatus,
    reason: String,
) {
    let report = JobReport {
        job_id,
        line,
        device: bridge.device.describe(),
        status,
        reason,
    };
    api_retry(bridge, "report job", || {
        bridge.api.report(order_id, &report)
    })
    .await;
}

/// What stopped one attempt at a job.
enum AttemptError {
    Api(ApiError),
    Device(DeviceError),
}

/// Attempts the job until the device gives an outcome, backing off while it or the API is down.
async fn device_retry(bridge: &Bridge, spec: &JobSpec, reported_submitted: bool) -> Outcome {
    let mut backoff = Backoff::new(&bridge.retry);
    let mut reported_submitted = reported_submitted;
    loop {
        match attempt(bridge, spec, &mut reported_submitted).await {
            Ok(outcome) => return outcome,
            Err(AttemptError::Device(DeviceError::Refused(reason))) => {
                return Outcome::Failed { reason }
            }
            Err(AttemptError::Api(error)) if error.is_not_found() => {
                return Outcome::Failed {
                    reason: format!("cannot get the job's files: {error}"),
                }
            }
            Err(AttemptError::Device(error)) => {
                warn!(job_id = %spec.job_id, %error, "device unavailable; retrying")
            }
            Err(AttemptError::Api(error)) => {
                warn!(job_id = %spec.job_id, %error, "API unavailable; retrying")
            }
        }
        backoff.wait().await;
    }
}

/// One pass: ask the device what it holds, give it what it lacks, record the submission, wait.
async fn attempt(
    bridge: &Bridge,
    spec: &JobSpec,
    reported_submitted: &mut bool,
) -> Result<Outcome, AttemptError> {
    let found = bridge
        .device
        .find(spec)
        .await
        .map_err(AttemptError::Device)?;
    let missing = found.missing();
    let found = if missing.is_empty() {
        if !*reported_submitted {
            info!(job_id = %spec.job_id, "the device already holds this job; not submitting again");
        }
        found
    } else if *reported_submitted {
        // The API says the device took every image, yet the device no longer lists some: it
        // dropped them from its history. Printing again could print twice; staff can reprint.
        return Ok(Outcome::Failed {
            reason: "the device no longer lists this job; its outcome is unknown".into(),
        });
    } else {
        let images = fetch_images(bridge, spec, &missing).await?;
        submit(bridge, spec, &found, images).await?
    };
    if !*reported_submitted {
        let report = JobReport {
            job_id: spec.job_id,
            line: spec.line,
            device: bridge.device.describe(),
            status: JobStatus::Submitted,
            reason: format!("device jobs {:?}", found.device_jobs),
        };
        bridge
            .api
            .report(spec.order_id, &report)
            .await
            .map_err(AttemptError::Api)?;
        *reported_submitted = true;
    }
    bridge
        .device
        .wait(spec, &found)
        .await
        .map_err(AttemptError::Device)
}

async fn submit(
    bridge: &Bridge,
    spec: &JobSpec,
    found: &Found,
    images: Vec<Image>,
) -> Result<Found, AttemptError> {
    info!(job_id = %spec.job_id, images = images.len(), copies = spec.copies, "submitting");
    bridge
        .device
        .submit(spec, found, images)
        .await
        .map_err(AttemptError::Device)
}

async fn fetch_images(
    bridge: &Bridge,
    spec: &JobSpec,
    indices: &[usize],
) -> Result<Vec<Image>, AttemptError> {
    let mut images = Vec::with_capacity(indices.len());
    for &index in indices {
        let name = &spec.files[index];
        let bytes = bridge
            .api
            .order_file(spec.order_id, name)
            .await
            .map_err(AttemptError::Api)?;
        images.push(Image {
            name: name.clone(),
            bytes,
        });
    }
    Ok(images)
}
