//! The JSON shapes of the comptoir API that the bridge reads and writes (see README.md for the
//! full contract). Unknown fields are ignored so that the API can grow without breaking the bridge.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One event of `GET /v1/shops/{shop_id}/events`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FeedEvent {
    /// Position in the shop's feed: dense enough to resume from, strictly increasing.
    pub position: u64,
    /// The stream the event belongs to, e.g. `order-{order_id}`.
    pub stream: String,
    pub stream_version: u64,
    pub event_type: String,
    #[serde(default)]
    pub recorded_at: Option<String>,
    /// The event's payload JSON.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// A JSON page of the feed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EventPage {
    pub events: Vec<FeedEvent>,
    /// The position to pass as `after` for the next page.
    pub next_after: u64,
}

/// One line of `GET /v1/shops/{shop_id}/orders/{order_id}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OrderLine {
    pub sku: String,
    #[serde(default, alias = "name")]
    pub product_name: String,
    /// Key of the product's category (e.g. `tirages`); the bridge maps it to a print size.
    #[serde(default)]
    pub category_key: String,
    /// The category's id, which print rules may name instead of its key.
    #[serde(default)]
    pub category_id: Option<Uuid>,
    pub quantity: u32,
    /// Names of the order files this line prints; absent or empty means every file of the order.
    #[serde(default)]
    pub files: Vec<String>,
}

/// The parts of the order view the bridge needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OrderView {
    pub order_id: Uuid,
    pub lines: Vec<OrderLine>,
    /// Names of the files uploaded with the order (`GET …/orders/{order_id}/files/{name}`).
    #[serde(default)]
    pub files: Vec<String>,
}

/// Where a print job stands, as reported to the API.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// The device accepted the job.
    Submitted,
    /// The device finished the job.
    Completed,
    /// The device aborted or cancelled the job, or it could not be built (missing file).
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Submitted => "submitted",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        }
    }

    /// Whether the job has an outcome: nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed)
    }
}

/// Body of `POST /v1/shops/{shop_id}/orders/{order_id}/print-jobs`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobReport {
    pub job_id: Uuid,
    /// Index of the order line the job prints.
    pub line: u32,
    /// Which device took the job (`ipp://…` or `hot-folder:/path`).
    pub device: String,
    pub status: JobStatus,
    /// The device's words (job-state-message, reasons) or why the job could not be built.
    #[serde(default)]
    pub reason: String,
}

/// One entry of `GET /v1/shops/{shop_id}/orders/{order_id}/print-jobs`: a job and its last status.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobRecord {
    pub job_id: Uuid,
    pub line: u32,
    #[serde(default)]
    pub device: String,
    pub status: JobStatus,
    #[serde(default)]
    pub reason: String,
    /// For a reprint, the job it reprints.
    #[serde(default)]
    pub reprint_of: Option<Uuid>,
}

/// Body of the job list.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct JobList {
    pub jobs: Vec<JobRecord>,
}

/// Payload of a `PrintJobReprintRequested` event: staff asked to print a line again under a new
/// job id (from `POST …/print-jobs/{job_id}/reprint`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReprintRequested {
    pub job_id: Uuid,
    pub line: u32,
    pub reprint_of: Uuid,
}

/// Event type that makes an order printable.
pub const EVENT_ORDER_PAID: &str = "OrderPaid";
/// Event type of a staff reprint request.
pub const EVENT_REPRINT_REQUESTED: &str = "PrintJobReprintRequested";
/// Prefix of an order's stream name.
pub const ORDER_STREAM_PREFIX: &str = "order-";

/// The order id of an order stream's name, if it is one.
pub fn order_id_of_stream(stream: &str) -> Option<Uuid> {
    stream
        .strip_prefix(ORDER_STREAM_PREFIX)
        .and_then(|id| Uuid::parse_str(id).ok())
}
