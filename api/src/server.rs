//! Wiring: the shared state, the router merged from resource modules, and the serve loop with its
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::serve::ListenerExt;
use axum::Router;
use std::time::Duration;

use comptoir_eventlog::{EventLog, EventStore, LogError, LogOptions, Position};
use comptoir_projections::{ProjectionError, Projections};
use tokio::net::TcpListener;

use crate::auth::OwnerTokens;
use crate::clock::Clock;
use crate::commands::{Executor, StateCache};
use crate::config::Config;
use crate::error::ApiError;
use crate::health;
use crate::idempotency::IdempotencyCache;
use crate::routes::order_flow::InvoiceNumbers;

/// Largest request body any route accepts. Events are capped at 1 MiB by the log; a request may
/// carry a little more than one event's worth of JSON, and nothing legitimate needs more.
pub const REQUEST_BODY_BYTES_MAX: usize = 2 * 1024 * 1024;

const _: () = assert!(comptoir_eventlog::limits::EVENT_BYTES_MAX <= REQUEST_BODY_BYTES_MAX);

/// How long a shutdown waits for the projection runner to commit its current chunk.
const RUNNER_STOP_WAIT: Duration = Duration::from_secs(10);

/// How long a read with `?min_position=` waits for the read models at most.
pub const READ_WAIT_MAX: Duration = Duration::from_secs(10);

/// What every handler can reach, behind one `Arc`: a request clones the state several times
/// (the middleware, the `State` extractor, each route's service), and one shared counter costs
/// less than one per field, each bounced between the cores on every clone and drop.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct SharedState {
    pub log: Arc<EventLog>,
    /// Read models, followed by their runner.
    pub projections: Arc<Projections>,
    /// Hot aggregate state derived from the log (shops, catalogs, series, orders).
    pub cache: Arc<StateCache>,
    pub idempotency: Arc<IdempotencyCache>,
    pub owner_tokens: Arc<OwnerTokens>,
    /// Order id → invoice number, as issued by this process or read from the projections.
    pub invoice_numbers: Arc<InvoiceNumbers>,
    /// The decisions' clock: the system's, or a test clock under `serve --test-clock`.
    pub clock: Arc<Clock>,
    /// The online rebuilds of the projections, the running one and the last few finished.
    pub rebuilds: Arc<crate::routes::rebuilds::Rebuilds>,
    /// When each staff session was last used (90 idle minutes end it).
    pub staff_sessions: crate::staff_sessions::SessionActivity,
    /// Staff password hashing, bounded.
    pub passwords: crate::passwords::Passwords,
    /// The mailer, once `serve` started one (SMTP configured): password reset links need it.
    pub mailer: std::sync::OnceLock<crate::mail::Mailer>,
    /// The address staff reach this server at, for links in mails (`serve` sets it).
    pub public_url: std::sync::OnceLock<String>,
}

impl AppState {
    /// State over an open log; opens the read models in the log's data dir (the runner is
    /// started by `serve`, or by the caller in tests).
    pub fn open(log: Arc<EventLog>, admin_token: Option<&str>) -> Result<Self, ServeError> {
        Self::open_with_clock(log, admin_token, Clock::default())
    }

    /// As [`AppState::open`], with the decisions' clock given (`serve --test-clock`).
    pub fn open_with_clock(
        log: Arc<EventLog>,
        admin_token: Option<&str>,
        clock: Clock,
    ) -> Result<Self, ServeError> {
        let data_dir = log.data_dir().to_path_buf();
        Ok(AppState(Arc::new(SharedState {
            projections: Projections::open(&data_dir).map_err(ServeError::Projections)?,
            cache: Arc::new(StateCache::default()),
            idempotency: Arc::new(
                IdempotencyCache::open(&data_dir).map_err(ServeError::Responses)?,
            ),
            owner_tokens: Arc::new(OwnerTokens::new(&data_dir, admin_token)),
            invoice_numbers: Arc::new(InvoiceNumbers::default()),
            clock: Arc::new(clock),
            rebuilds: Arc::default(),
            staff_sessions: crate::staff_sessions::SessionActivity::load(
                &data_dir.join(crate::staff_sessions::ACTIVITY_FILE),
            ),
            passwords: Default::default(),
            mailer: std::sync::OnceLock::new(),
            public_url: std::sync::OnceLock::new(),
            log,
        })))
    }

    pub fn executor(&self) -> Executor<'_, EventLog> {
        Executor {
            store: self.log.as_ref(),
            cache: &self.cache,
            env: self.clock.as_ref(),
            hints: Some(self.projections.hints()),
        }
    }

    /// Waits until the read models hold `min_position` (read-your-writes), bounded.
    pub async fn read_at(&self, min_position: Option<Position>) -> Result<(), ApiError> {
        if let Some(position) = min_position {
            self.projections.wait_for(position, READ_WAIT_MAX).await?;
        }
        Ok(())
    }

    pub fn start_projections(&self) -> tokio::task::JoinHandle<Result<(), ProjectionError>> {
        let log: Arc<dyn EventStore> = self.log.clone();
        self.projections.spawn_runner(log)
    }
}

/// Every route, merged once, with the body limit, the idempotency layer and the problem+json
/// fallbacks.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = crate::routes::api_router().split_for_parts();
    Router::new()
        .merge(health::router(state.clone()))
        .merge(crate::docs::router(openapi))
        .merge(crate::clock::router(&state))
        .route(
            crate::routes::staff_sign_in::RESET_PAGE_PATH,
            axum::routing::get(crate::routes::staff_sign_in::reset_page),
        )
        .merge(api.with_state(state.clone()))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX))
}

async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::NotFound {
        detail: format!("no route for {}", uri.path()),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        detail: format!("{method} is not allowed on {}", uri.path()),
    }
}

/// Why `serve` could not start or stopped with an error. The messages are what an operator reads.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "data dir {} is in use by another comptoir process; stop that process or pass another --data-dir",
        data_dir.display()
    )]
    DataDirLocked { data_dir: PathBuf },
    #[error(
        "cannot open the event log in {}: {source}\n\
         comptoir refuses to serve from a log it cannot trust. Run `comptoir verify --data-dir {}` \
         to find the first bad position; if the log is damaged, restore the data dir from a backup.",
        data_dir.display(),
        data_dir.display()
    )]
    OpenLog { data_dir: PathBuf, source: LogError },
    #[error("cannot listen on {listen}: {source}")]
    Bind {
        listen: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the read models: {0}")]
    Projections(ProjectionError),
    #[error("{0}")]
    Responses(crate::idempotency::durable::OpenError),
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("{0}\nfix COMPTOIR_SMTP_URL / COMPTOIR_MAIL_FROM, or unset COMPTOIR_SMTP_URL to run without mail")]
    Mail(crate::mail::MailError),
}

/// Saves the staff sessions' activity every `SAVE_EVERY_SECONDS` (see `staff_sessions`).
fn start_activity_saver(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(crate::staff_sessions::SAVE_EVERY_SECONDS);
        loop {
            tokio::time::sleep(every).await;
            save_activity(state.clone()).await;
        }
    })
}

/// Writes the staff sessions' activity to its file, off the async workers (it syncs).
async fn save_activity(state: AppState) {
    let saved = tokio::task::spawn_blocking(move || {
        let path = state
            .log
            .data_dir()
            .join(crate::staff_sessions::ACTIVITY_FILE);
        state.staff_sessions.save(&path)
    })
    .await;
    match saved {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "saving the staff sessions' activity failed"),
        Err(error) => tracing::warn!(%error, "the staff activity save task failed"),
    }
}

/// Starts the mail senders (scheduled reports, new-message notifications) when SMTP is
/// configured, sharing one mailer, and says at start-up whether mail will be sent.
fn start_mail_tasks(
    state: &AppState,
    mail: Option<&crate::mail::MailConfig>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, crate::mail::MailError> {
    let Some(mail) = mail else {
        tracing::info!("scheduled reports are off: no SMTP configured (set COMPTOIR_SMTP_URL)");
        tracing::info!("message notifications are off: no SMTP configured (set COMPTOIR_SMTP_URL)");
        tracing::info!("welcome mails are off: no SMTP configured (set COMPTOIR_SMTP_URL)");
        tracing::info!("staff password resets are off: no SMTP configured (set COMPTOIR_SMTP_URL)");
        return Ok(Vec::new());
    };
    let mailer = crate::mail::Mailer::start(mail)?;
    // Only `serve` starts a mailer, once per state.
    let _ = state.mailer.set(mailer.clone());
    tracing::info!(from = %mail.from, "scheduled reports are on");
    tracing::info!(from = %mail.from, "message notifications are on");
    tracing::info!(from = %mail.from, "welcome mails are on");
    tracing::info!(from = %mail.from, "staff password resets are on");
    Ok(vec![
        crate::report_scheduler::spawn(state.clone(), mailer.clone()),
        crate::message_notifier::spawn(state.clone(), mailer.clone()),
        crate::welcome_mailer::spawn(state.clone(), mailer).map_err(|error| {
            crate::mail::MailError::Config(format!("the welcome mailer cannot start: {error}"))
        })?,
    ])
}

/// After an upgrade that changed a projection's stored format, the projection starts empty and
/// is replayed from the whole log. Answering meanwhile would serve empty lists, books and
/// documents to reads without `min_position`, so requests wait in the listener's backlog until
/// the replay reaches the head the log had at start.
async fn replay_before_serving(state: &AppState) -> Result<(), ProjectionError> {
    if !state.projections.replays_whole_log() {
        return Ok(());
    }
    let head = state.log.head_position();
    tracing::warn!(
        head,
        "projections in an older format: replaying the log before serving"
    );
    state
        .projections
        .wait_until_applied(head, &mut |reached| {
            tracing::info!(reached, head, "replaying the log before serving");
        })
        .await?;
    tracing::info!(head, "projections replayed; serving");
    Ok(())
}

/// Places the demo day's orders through the router before it serves; a failure is logged and
/// the server serves anyway (the shop and its catalog are there).
async fn run_demo_day(app: Router, secret: &str) {
    match crate::demo::run_day(app, secret).await {
        Ok(Some(report)) => {
            println!("demo day loaded: {report}");
            if let Some((email, password)) = &report.employee {
                println!("demo employee: {email}, temporary password {password} (sign in with POST /v1/staff/sessions)");
            }
        }
        Ok(None) => println!("demo day already in the log"),
        Err(error) => tracing::error!(%error, "loading the demo day failed"),
    }
}

/// Opens the log, serves until `shutdown` resolves, lets in-flight requests finish, then flushes
/// and closes the log. Prints `listening on http://ADDR` once it accepts connections.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let log = open_log(&config.data_dir).await?;
    let listener = match TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(source) => {
            close_log(log).await;
            return Err(ServeError::Bind {
                listen: config.listen,
                source,
            });
        }
    };
    let address = listener.local_addr().map_err(ServeError::Serve)?;
    // Tests and scripts read this line to find the port; keep its shape.
    println!("listening on http://{address}");
    tracing::info!(%address, data_dir = %config.data_dir.display(), head_position = log.head_position(), "serving");
    let clock = match config.test_clock {
        true => Clock::test(),
        false => Clock::default(),
    };
    let state = match AppState::open_with_clock(log.clone(), config.admin_token.as_deref(), clock) {
        Ok(state) => state,
        Err(error) => {
            close_log(log).await;
            return Err(error);
        }
    };
    let public_url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{address}"),
    };
    // Set once, here: the state is new.
    let _ = state.public_url.set(public_url);
    let runner = state.start_projections();
    if let Err(error) = replay_before_serving(&state).await {
        runner.abort();
        close_log(log).await;
        return Err(ServeError::Projections(error));
    }
    let mail_tasks = match start_mail_tasks(&state, config.mail.as_ref()) {
        Ok(tasks) => tasks,
        Err(error) => {
            runner.abort();
            close_log(log).await;
            return Err(ServeError::Mail(error));
        }
    };
    let demo_secret = match config.demo {
        true => crate::demo::load(&state, address)
            .await
            .inspect_err(|error| tracing::error!(%error, "loading the demo shop failed"))
            .ok(),
        false => None,
    };
    let projections = state.projections.clone();
    let idempotency = state.idempotency.clone();
    let activity_saver = start_activity_saver(state.clone());
    let saved_state = state.clone();
    let app = router(state);
    if let Some(secret) = demo_secret {
        run_demo_day(app.clone(), &secret).await;
    }
    // Answers go out as soon as they are written: an answer that leaves in two writes (a
    // streamed body, Server-Sent Events) would otherwise wait for the client's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    stop_runner(&projections, runner).await;
    for task in mail_tasks {
        task.abort();
    }
    activity_saver.abort();
    save_activity(saved_state).await;
    if let Err(error) = projections.flush().await {
        tracing::error!(%error, "flushing the read models failed");
    }
    drop(projections);
    idempotency.flush();
    close_log(log).await;
    tracing::info!("stopped");
    served.map_err(ServeError::Serve)
}

/// Lets the projection runner finish the chunk it is applying, so the flush that follows sees
/// every commit; a runner that does not stop in time is aborted (its trees stay consistent:
/// state and checkpoint commit together).
async fn stop_runner(
    projections: &Projections,
    runner: tokio::task::JoinHandle<Result<(), ProjectionError>>,
) {
    projections.stop_runner();
    let abort = runner.abort_handle();
    match tokio::time::timeout(RUNNER_STOP_WAIT, runner).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => {
            tracing::error!(%error, "the projection runner had stopped on an error")
        }
        Ok(Err(error)) => tracing::error!(%error, "the projection runner task failed"),
        Err(_) => {
            tracing::warn!("the projection runner did not stop in time; aborting it");
            abort.abort();
        }
    }
}

async fn open_log(data_dir: &Path) -> Result<Arc<EventLog>, ServeError> {
    let dir = data_dir.to_path_buf();
    // Opening recovers the head and catches the index up from the log: blocking work.
    let opened = tokio::task::spawn_blocking(move || EventLog::open(&dir, LogOptions::default()))
        .await
        .map_err(|join| LogError::Storage(format!("the open task failed: {join}")));
    match opened.and_then(|result| result) {
        Ok(log) => Ok(Arc::new(log)),
        Err(LogError::DataDirLocked { .. }) => Err(ServeError::DataDirLocked {
            data_dir: data_dir.to_path_buf(),
        }),
        Err(source) => Err(ServeError::OpenLog {
            data_dir: data_dir.to_path_buf(),
            source,
        }),
    }
}

/// Stops the writer after its queue drains and flushes both databases, off the async workers.
async fn close_log(log: Arc<EventLog>) {
    let closed = tokio::task::spawn_blocking(move || log.shutdown()).await;
    if let Err(error) = closed {
        tracing::error!(%error, "closing the event log failed");
    }
}

/// Installs the SIGINT and SIGTERM handlers now and returns a future that resolves on the first
/// of them. Installing eagerly matters: a signal that arrives between "listening" and the first
/// poll of a lazily installed handler would kill the process without a flush.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT received, shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{to_bytes, Body};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn app() -> (tempfile::TempDir, Router) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = EventLog::open(dir.path(), LogOptions::default()).expect("open log");
        let state = AppState::open(Arc::new(log), None).expect("open state");
        (dir, router(state))
    }

    async fn call(app: Router, method: &str, path: &str) -> (StatusCode, String, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, content_type, String::from_utf8_lossy(&body).into())
    }

    #[tokio::test]
    async fn health_reports_the_head_position() {
        // Proves /health answers JSON with status, head position and version on an empty log.
        let (_dir, app) = app().await;
        let (status, content_type, body) = call(app, "GET", "/health").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("application/json"));
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(json["status"], "ok");
        assert_eq!(json["head_position"], 0);
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    }

    #[tokio::test]
    async fn unknown_routes_and_methods_answer_problem_json() {
        // Proves the fallbacks speak RFC 9457 with stable types, not axum's plain text.
        let (_dir, app) = app().await;
        let (status, content_type, body) = call(app.clone(), "GET", "/nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(content_type, "application/problem+json");
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(json["type"], "https://comptoir.dev/problems/not-found");
        assert_eq!(json["status"], 404);
        let (status, content_type, body) = call(app, "DELETE", "/health").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains("method-not-allowed"));
    }
}
