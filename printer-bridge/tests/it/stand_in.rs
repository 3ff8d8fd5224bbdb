//! STAND-IN for the real comptoir API: an in-memory axum server implementing the contract in
//! printer-bridge/README.md (event feed as JSON pages and SSE, order view, order files, print-job
//! reports with idempotency). Every other test runs against the real `comptoir serve`; the
//! stand-in is kept only for situations the real server cannot be made to produce on purpose:
//! refusing job reports while serving everything else (`refuse_reports`) and job records that
//! vanish (`forget_jobs`; the real log is append-only). The devices in those tests are real.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use comptoir_printer_bridge::model::{
    EventPage, FeedEvent, JobList, JobRecord, JobReport, JobStatus, OrderLine, OrderView,
};
use futures::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::watch;
use uuid::Uuid;

/// The API key the stand-in accepts.
pub const API_KEY: &str = "ck_test_printer_bridge";
/// Largest page the stand-in serves, like the real API's bound.
const PAGE_EVENTS_MAX: usize = 500;

#[derive(Default)]
struct Inner {
    events: Vec<FeedEvent>,
    orders: HashMap<Uuid, OrderView>,
    files: HashMap<(Uuid, String), Vec<u8>>,
    /// Per order, its jobs with their last status.
    jobs: HashMap<Uuid, Vec<JobRecord>>,
    /// Idempotency keys seen, to answer retries with the original outcome.
    keys: HashMap<String, JobReport>,
}

struct Shared {
    shop_id: Uuid,
    inner: Mutex<Inner>,
    head: watch::Sender<u64>,
    /// Answer 503 to job reports only, to stop a bridge between placing a job and recording it.
    refuse_reports: AtomicBool,
}

/// A running stand-in, serving until the test's runtime ends.
pub struct StandIn {
    shared: Arc<Shared>,
    address: SocketAddr,
}

impl StandIn {
    pub async fn start(shop_id: Uuid) -> StandIn {
        let (head, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            shop_id,
            inner: Mutex::new(Inner::default()),
            head,
            refuse_reports: AtomicBool::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let address = listener.local_addr().expect("address");
        spawn_server(listener, shared.clone());
        StandIn { shared, address }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn refuse_reports(&self, refuse: bool) {
        self.shared.refuse_reports.store(refuse, Ordering::SeqCst);
    }

    /// Places and pays an order (two events, as the real log would hold) with its files.
    pub fn add_paid_order(&self, lines: Vec<OrderLine>, files: Vec<(String, Vec<u8>)>) -> Uuid {
        let order_id = Uuid::new_v4();
        let mut inner = self.shared.inner.lock().expect("lock");
        let view = OrderView {
            order_id,
            lines,
            files: files.iter().map(|(name, _)| name.clone()).collect(),
        };
        for (name, bytes) in files {
            inner.files.insert((order_id, name), bytes);
        }
        inner.orders.insert(order_id, view);
        let stream = format!("order-{order_id}");
        let data = serde_json::json!({ "order_id": order_id });
        append(
            &self.shared,
            &mut inner,
            &stream,
            "OrderPlaced",
            data.clone(),
        );
        append(&self.shared, &mut inner, &stream, "OrderPaid", data);
        order_id
    }

    pub fn jobs(&self, order_id: Uuid) -> Vec<JobRecord> {
        let inner = self.shared.inner.lock().expect("lock");
        inner.jobs.get(&order_id).cloned().unwrap_or_default()
    }

    /// Forgets every recorded job, as if the reports had never arrived.
    pub fn forget_jobs(&self) {
        let mut inner = self.shared.inner.lock().expect("lock");
        inner.jobs.clear();
        inner.keys.clear();
    }
}

fn spawn_server(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let shop = "/v1/shops/{shop_id}";
    let router = Router::new()
        .route(&format!("{shop}/events"), get(events))
        .route(&format!("{shop}/orders/{{order_id}}"), get(order))
        .route(
            &format!("{shop}/orders/{{order_id}}/files/{{name}}"),
            get(file),
        )
        .route(
            &format!("{shop}/orders/{{order_id}}/print-jobs"),
            get(list_jobs).post(report),
        )
        .with_state(shared);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

fn append(
    shared: &Shared,
    inner: &mut Inner,
    stream: &str,
    event_type: &str,
    data: serde_json::Value,
) {
    let position = inner.events.len() as u64 + 1;
    let stream_version = inner.events.iter().filter(|e| e.stream == stream).count() as u64 + 1;
    inner.events.push(FeedEvent {
        position,
        stream: stream.to_string(),
        stream_version,
        event_type: event_type.to_string(),
        recorded_at: Some(chrono::Utc::now().to_rfc3339()),
        data,
    });
    shared.head.send_replace(position);
}

/// Refuses calls without the key, or for another shop.
fn guard(shared: &Shared, headers: &HeaderMap, shop_id: Uuid) -> Result<(), StatusCode> {
    let authorized = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(format!("Bearer {API_KEY}").as_str());
    if !authorized {
        return Err(StatusCode::UNAUTHORIZED);
    }
    if shop_id != shared.shop_id {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(())
}

#[derive(Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

async fn events(
    State(shared): State<Arc<Shared>>,
    Path(shop_id): Path<Uuid>,
    Query(query): Query<FeedQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(status) = guard(&shared, &headers, shop_id) {
        return status.into_response();
    }
    let wants_sse = headers
        .get("accept")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_sse {
        let last_id = headers
            .get("last-event-id")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or(query.after);
        return Sse::new(sse_stream(shared, last_id))
            .keep_alive(KeepAlive::default())
            .into_response();
    }
    let inner = shared.inner.lock().expect("lock");
    let limit = query.limit.unwrap_or(PAGE_EVENTS_MAX).min(PAGE_EVENTS_MAX);
    let events: Vec<FeedEvent> = inner
        .events
        .iter()
        .skip(query.after as usize)
        .take(limit)
        .cloned()
        .collect();
    let next_after = events.last().map_or(query.after, |event| event.position);
    Json(EventPage { events, next_after }).into_response()
}

/// Events after `after`, then new ones as they are appended.
fn sse_stream(
    shared: Arc<Shared>,
    after: u64,
) -> impl Stream<Item = Result<Event, std::convert::Infallible>> {
    let head = shared.head.subscribe();
    stream::unfold(
        (shared, after, head),
        |(shared, after, mut head)| async move {
            loop {
                let next = shared
                    .inner
                    .lock()
                    .expect("lock")
                    .events
                    .get(after as usize)
                    .cloned();
                if let Some(event) = next {
                    let frame = Event::default()
                        .id(event.position.to_string())
                        .event(event.event_type.clone())
                        .json_data(&event)
                        .expect("event serializes");
                    return Some((Ok(frame), (shared, event.position, head)));
                }
                // Wake on a new event, or soon anyway.
                let _ = tokio::time::timeout(Duration::from_millis(200), head.changed()).await;
            }
        },
    )
}

async fn order(
    State(shared): State<Arc<Shared>>,
    Path((shop_id, order_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Response {
    if let Err(status) = guard(&shared, &headers, shop_id) {
        return status.into_response();
    }
    match shared.inner.lock().expect("lock").orders.get(&order_id) {
        Some(view) => Json(view.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn file(
    State(shared): State<Arc<Shared>>,
    Path((shop_id, order_id, name)): Path<(Uuid, Uuid, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(status) = guard(&shared, &headers, shop_id) {
        return status.into_response();
    }
    match shared
        .inner
        .lock()
        .expect("lock")
        .files
        .get(&(order_id, name))
    {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn list_jobs(
    State(shared): State<Arc<Shared>>,
    Path((shop_id, order_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Response {
    if let Err(status) = guard(&shared, &headers, shop_id) {
        return status.into_response();
    }
    let inner = shared.inner.lock().expect("lock");
    if !inner.orders.contains_key(&order_id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let jobs = inner.jobs.get(&order_id).cloned().unwrap_or_default();
    Json(JobList { jobs }).into_response()
}

async fn report(
    State(shared): State<Arc<Shared>>,
    Path((shop_id, order_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
    Json(body): Json<JobReport>,
) -> Response {
    if let Err(status) = guard(&shared, &headers, shop_id) {
        return status.into_response();
    }
    if shared.refuse_reports.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let key = format!("{}:{}", body.job_id, body.status.as_str());
    let given = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    if given != Some(key.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            "Idempotency-Key must be {job_id}:{status}",
        )
            .into_response();
    }
    let mut inner = shared.inner.lock().expect("lock");
    if !inner.orders.contains_key(&order_id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(original) = inner.keys.get(&key) {
        // Same key, same content: the original outcome; other content: refused.
        return if *original == body {
            StatusCode::OK.into_response()
        } else {
            StatusCode::UNPROCESSABLE_ENTITY.into_response()
        };
    }
    record_report(&shared, &mut inner, order_id, key, body);
    StatusCode::CREATED.into_response()
}

fn record_report(shared: &Shared, inner: &mut Inner, order_id: Uuid, key: String, body: JobReport) {
    inner.keys.insert(key, body.clone());
    let jobs = inner.jobs.entry(order_id).or_default();
    match jobs.iter_mut().find(|job| job.job_id == body.job_id) {
        // A late "submitted" never hides an outcome.
        Some(job) if job.status.is_final() => {}
        Some(job) => {
            job.status = body.status;
            job.reason = body.reason.clone();
            job.device = body.device.clone();
        }
        None => jobs.push(JobRecord {
            job_id: body.job_id,
            line: body.line,
            device: body.device.clone(),
            status: body.status,
            reason: body.reason.clone(),
            reprint_of: None,
        }),
    }
    let event_type = match body.status {
        JobStatus::Submitted => "PrintJobSubmitted",
        JobStatus::Completed => "PrintJobCompleted",
        JobStatus::Failed => "PrintJobFailed",
    };
    let data = serde_json::to_value(&body).expect("report serializes");
    append(
        shared,
        inner,
        &format!("order-{order_id}"),
        event_type,
        data,
    );
}
