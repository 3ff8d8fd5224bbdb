//! The comptoir API as the bridge sees it: a small trait, so the engine can be tested, and its
//! HTTP implementation (JSON paging to catch up, server-sent events to follow).

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::limits::{
    API_REQUEST_TIMEOUT_MS, FILE_BYTES_MAX, SSE_BATCH_QUIET_MS, SSE_EVENT_BYTES_MAX, SSE_WAIT_MS,
};
use crate::model::{EventPage, FeedEvent, JobList, JobRecord, JobReport, OrderView};

/// What can go wrong talking to the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API could not be reached or answered 5xx/429: wait and try again.
    #[error("API unavailable: {0}")]
    Unavailable(String),
    /// The API refused the request (4xx): trying again the same way will not help.
    #[error("API refused {what}: HTTP {status}: {body}")]
    Refused {
        what: String,
        status: u16,
        body: String,
    },
    /// The API answered something that does not follow the contract.
    #[error("API answered an unexpected body for {what}: {detail}")]
    Malformed { what: String, detail: String },
}

impl ApiError {
    /// Whether waiting and trying again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::Unavailable(_))
    }

    /// Whether the API said the thing does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Refused { status: 404, .. })
    }
}

/// The calls the bridge makes. Every method is safe to retry.
#[async_trait]
pub trait Api: Send + Sync {
    /// Up to `limit` events after position `after`. With `wait`, when none is pending, waits a
    /// bounded time for new ones (an empty page then means "nothing new yet").
    async fn events(&self, after: u64, limit: u32, wait: bool) -> Result<EventPage, ApiError>;
    /// The order as of at least feed position `min_position` (the read models may lag the log).
    async fn order(&self, order_id: Uuid, min_position: u64) -> Result<OrderView, ApiError>;
    async fn order_file(&self, order_id: Uuid, name: &str) -> Result<Vec<u8>, ApiError>;
    /// The order's print jobs with their last status.
    async fn print_jobs(&self, order_id: Uuid) -> Result<Vec<JobRecord>, ApiError>;
    /// Records a job's status; the same job id and status again changes nothing.
    async fn report(&self, order_id: Uuid, report: &JobReport) -> Result<(), ApiError>;
}

/// The real API over HTTP.
pub struct HttpApi {
    client: reqwest::Client,
    shop_url: String,
    api_key: String,
}

impl HttpApi {
    pub fn new(base_url: &str, shop_id: Uuid, api_key: String) -> Result<HttpApi, ApiError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(API_REQUEST_TIMEOUT_MS))
            .build()
            .map_err(|error| ApiError::Unavailable(error.to_string()))?;
        let shop_url = format!("{}/v1/shops/{shop_id}", base_url.trim_end_matches('/'));
        Ok(HttpApi {
            client,
            shop_url,
            api_key,
        })
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.shop_url))
            .header(AUTHORIZATION, format!("Bearer {}", self.api_key))
    }

    /// Sends a request with the usual timeout and sorts failures into transient and permanent.
    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        let request = request.timeout(Duration::from_millis(API_REQUEST_TIMEOUT_MS));
        let response = request
            .send()
            .await
            .map_err(|error| ApiError::Unavailable(format!("{what}: {error}")))?;
        check_status(what, response).await
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = self.send(what, request).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|error| ApiError::Unavailable(format!("{what}: {error}")))?;
        serde_json::from_slice(&bytes).map_err(|error| ApiError::Malformed {
            what: what.to_string(),
            detail: error.to_string(),
        })
    }

    /// Follows the feed as server-sent events from `after` for a bounded time.
    async fn follow(&self, after: u64, limit: u32) -> Result<EventPage, ApiError> {
        let what = "event stream";
        let request = self
            .get("/events")
            .query(&[("after", after)])
            .header(ACCEPT, "text/event-stream")
            .header("Last-Event-ID", after.to_string());
        let response = request
            .send()
            .await
            .map_err(|error| ApiError::Unavailable(format!("{what}: {error}")))?;
        let response = check_status(what, response).await?;
        let events = read_sse(response, limit).await?;
        let next_after = events.last().map_or(after, |event| event.position);
        Ok(EventPage { events, next_after })
    }
}

async fn check_status(
    what: &str,
    response: reqwest::Response,
) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(ApiError::Unavailable(format!(
            "{what}: HTTP {status}: {body}"
        )));
    }
    Err(ApiError::Refused {
        what: what.to_string(),
        status: status.as_u16(),
        body,
    })
}

/// Reads SSE frames until `limit` events, a quiet gap after at least one event, or the wait
/// bound. Returning and reconnecting with `Last-Event-ID` keeps the engine's loop simple and
/// means a dropped connection costs nothing but a reconnect.
async fn read_sse(response: reqwest::Response, limit: u32) -> Result<Vec<FeedEvent>, ApiError> {
    let mut body = response.bytes_stream();
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(SSE_WAIT_MS);
    loop {
        let wait_until = if events.is_empty() {
            deadline
        } else {
            tokio::time::Instant::now() + Duration::from_millis(SSE_BATCH_QUIET_MS)
        };
        let chunk = match tokio::time::timeout_at(wait_until.min(deadline), body.next()).await {
            Err(_elapsed) => return Ok(events),
            // The server closed the stream: what we have is what there is.
            Ok(None) => return Ok(events),
            Ok(Some(Err(error))) if events.is_empty() => {
                return Err(ApiError::Unavailable(format!("event stream: {error}")))
            }
            Ok(Some(Err(_))) => return Ok(events),
            Ok(Some(Ok(chunk))) => chunk,
        };
        for data in parser.push(&chunk)? {
            let event: FeedEvent =
                serde_json::from_str(&data).map_err(|error| ApiError::Malformed {
                    what: "event stream".into(),
                    detail: error.to_string(),
                })?;
            events.push(event);
        }
        if events.len() >= limit as usize {
            return Ok(events);
        }
    }
}

/// Incremental parser of `text/event-stream`: yields the `data` of each complete frame.
#[derive(Default)]
pub struct SseParser {
    buffer: String,
    data: Vec<String>,
}

impl SseParser {
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<String>, ApiError> {
        self.buffer.push_str(&String::from_utf8_lossy(chunk));
        if self.buffer.len() > SSE_EVENT_BYTES_MAX {
            return Err(ApiError::Malformed {
                what: "event stream".into(),
                detail: format!("a frame is longer than {SSE_EVENT_BYTES_MAX} bytes"),
            });
        }
        let mut frames = Vec::new();
        while let Some(end) = self.buffer.find('\n') {
            let line: String = self.buffer.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    frames.push(self.data.join("\n"));
                    self.data.clear();
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_string());
            }
            // `id:` and `event:` repeat what the data object says; comments keep the line alive.
        }
        Ok(frames)
    }
}

#[async_trait]
impl Api for HttpApi {
    async fn events(&self, after: u64, limit: u32, wait: bool) -> Result<EventPage, ApiError> {
        let page: EventPage = self
            .json(
                "event page",
                self.get("/events")
                    .query(&[("after", after), ("limit", u64::from(limit))]),
            )
            .await?;
        // Follow live only when caught up: an empty page whose `next_after` moved on only
        // skipped other shops' events, and the next page may hold ours.
        if page.events.is_empty() && page.next_after <= after && wait {
            return self.follow(after, limit).await;
        }
        Ok(page)
    }

    async fn order(&self, order_id: Uuid, min_position: u64) -> Result<OrderView, ApiError> {
        let request = self
            .get(&format!("/orders/{order_id}"))
            .query(&[("min_position", min_position)]);
        self.json("order", request).await
    }

    async fn order_file(&self, order_id: Uuid, name: &str) -> Result<Vec<u8>, ApiError> {
        let what = format!("file {name} of order {order_id}");
        let request = self.get(&format!("/orders/{order_id}/files/{name}"));
        let response = self.send(&what, request).await?;
        if response.content_length().unwrap_or(0) > FILE_BYTES_MAX {
            return Err(too_big(&what));
        }
        let mut body = response.bytes_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| ApiError::Unavailable(format!("{what}: {error}")))?;
            if bytes.len() as u64 + chunk.len() as u64 > FILE_BYTES_MAX {
                return Err(too_big(&what));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    async fn print_jobs(&self, order_id: Uuid) -> Result<Vec<JobRecord>, ApiError> {
        let list: JobList = self
            .json(
                "print jobs",
                self.get(&format!("/orders/{order_id}/print-jobs")),
            )
            .await?;
        Ok(list.jobs)
    }

    async fn report(&self, order_id: Uuid, report: &JobReport) -> Result<(), ApiError> {
        let request = self
            .client
            .post(format!("{}/orders/{order_id}/print-jobs", self.shop_url))
            .header(AUTHORIZATION, format!("Bearer {}", self.api_key))
            .header(
                "Idempotency-Key",
                format!("{}:{}", report.job_id, report.status.as_str()),
            )
            .json(report);
        self.send("print job report", request).await.map(drop)
    }
}

fn too_big(what: &str) -> ApiError {
    ApiError::Refused {
        what: what.to_string(),
        status: 413,
        body: format!("larger than {FILE_BYTES_MAX} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames_split_across_chunks_are_reassembled() {
        // Proves the parser yields each frame's data once, whatever the chunk boundaries, and
        // skips comments (keep-alives) and the id/event lines.
        let mut parser = SseParser::default();
        let mut frames = parser
            .push(b": keep-alive\n\nid: 1\nevent: OrderPaid\nda")
            .expect("ok");
        frames.extend(
            parser
                .push(b"ta: {\"a\":1}\n\nid: 2\r\ndata: {\"b\"")
                .expect("ok"),
        );
        frames.extend(parser.push(b":2}\r\n\r\n").expect("ok"));
        assert_eq!(
            frames,
            vec!["{\"a\":1}".to_string(), "{\"b\":2}".to_string()]
        );
    }
}
