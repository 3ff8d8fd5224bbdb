//! Every bound of the bridge, with its unit last. Relations are checked at compile time.

/// Events asked for per feed page.
pub const FEED_PAGE_EVENTS: u32 = 100;
/// Events read ahead of the checkpoint at most: past it the bridge waits for the oldest to finish,
/// so a stuck job cannot make it buffer the whole feed.
pub const PENDING_EVENTS_MAX: usize = 1_000;
/// Default and ceiling of jobs on devices at once.
pub const JOBS_IN_FLIGHT_DEFAULT: usize = 4;
pub const JOBS_IN_FLIGHT_MAX: usize = 64;
/// Images one job may carry (one DPOF `[JOB]` or IPP job each).
pub const IMAGES_PER_JOB_MAX: usize = 500;
/// DPOF `PRT QTY` has three digits.
pub const COPIES_MAX: u32 = 999;
/// Largest order file downloaded.
pub const FILE_BYTES_MAX: u64 = 200 * 1024 * 1024;
/// Largest config file read.
pub const CONFIG_BYTES_MAX: u64 = 1024 * 1024;

/// One API request, connection included (not the SSE follow, bounded by `SSE_WAIT_MS`).
pub const API_REQUEST_TIMEOUT_MS: u64 = 30_000;
/// How long one SSE connection waits for new events before reconnecting.
pub const SSE_WAIT_MS: u64 = 25_000;
/// Once some events arrived, how long a pause ends the batch.
pub const SSE_BATCH_QUIET_MS: u64 = 50;
/// Longest SSE frame accepted.
pub const SSE_EVENT_BYTES_MAX: usize = 1024 * 1024;

/// One IPP request, document upload included.
pub const IPP_REQUEST_TIMEOUT_MS: u64 = 60_000;
/// Default interval between two Get-Job-Attributes polls.
pub const IPP_POLL_INTERVAL_DEFAULT_MS: u64 = 500;
/// Default bounds of the exponential backoff after a failure of the device or the API.
pub const RETRY_BACKOFF_INITIAL_DEFAULT_MS: u64 = 200;
pub const RETRY_BACKOFF_MAX_DEFAULT_MS: u64 = 30_000;

const _: () = assert!(JOBS_IN_FLIGHT_DEFAULT <= JOBS_IN_FLIGHT_MAX);
const _: () = assert!(FEED_PAGE_EVENTS as usize <= PENDING_EVENTS_MAX);
const _: () = assert!(SSE_BATCH_QUIET_MS < SSE_WAIT_MS);
const _: () = assert!(SSE_WAIT_MS < API_REQUEST_TIMEOUT_MS);
const _: () = assert!(RETRY_BACKOFF_INITIAL_DEFAULT_MS <= RETRY_BACKOFF_MAX_DEFAULT_MS);
