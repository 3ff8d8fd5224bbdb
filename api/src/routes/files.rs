//! Order files (the photos to print): upload one, download one, list them, or download the order
//! as a zip.
//!
//! Storage is content-addressed under `DATA_DIR/files/{sha256}`. An upload streams the body into
//! a temp file in that directory while hashing it, syncs it, renames it into place and syncs the
//! directory, and only then appends `OrderFileStored` and the pack's `QuotaConsumed` in one
//! append: a recorded file always has its bytes on disk, whatever crashes. A refused append
//! removes the bytes again when this upload put them there, so a refused upload leaves nothing
//! behind; a crash between the rename and the append leaves unrecorded bytes, which a retry reuses
//! and which nothing lists. Uploads of one content are serialized (striped locks by SHA-256), so
//! a refused upload never removes bytes that a concurrent one just recorded.
//!
//! Metering: the pack's allowance is the data sent to the shop's printing system, so uploads and
//! downloads by the storefront and printer roles count, and are refused (problem `pack-expired`,
//! `quota-exhausted`, ...) when the pack cannot cover them. Staff (manager, employee, accountant)
//! and the platform operator download without counting and are never refused: staff must still
//! read everything when the shop is deactivated. A download is counted in full when it starts.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use comptoir_domain::order_files::{self, validate_file_name, OrderFiles, OrderFilesCommand};
use comptoir_domain::pack::{self, Pack, PackCommand};
use comptoir_domain::shop::{Permission, Role};
use comptoir_domain::{DomainError, Environment};
use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::order_flow::order_in_shop;
use super::packs::current_pack;
use super::{run, written_position, Answer};
use crate::auth::{Caller, Principal};
use crate::error::ApiError;
use crate::extract::{ApiPath, CommandIds};
use crate::server::AppState;

/// Largest order file: a full-resolution photo or a print-ready PDF page fits many times over.
pub const FILE_BYTES_MAX: u64 = 200 * 1024 * 1024;
/// Bytes read from disk per chunk of a download.
const DOWNLOAD_CHUNK_BYTES: usize = 64 * 1024;
/// Directory of the data dir holding the files.
pub const FILES_DIR: &str = "files";
/// Locks serializing the settling and recording of one content; contents share them by hash.
const CONTENT_LOCK_STRIPES: usize = 64;

static CONTENT_LOCKS: std::sync::LazyLock<Vec<tokio::sync::Mutex<()>>> =
    std::sync::LazyLock::new(|| {
        (0..CONTENT_LOCK_STRIPES)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect()
    });

fn content_lock(sha256: &str) -> &'static tokio::sync::Mutex<()> {
    // The hash is uniformly distributed already: its first bytes pick the stripe.
    let stripe = u64::from_str_radix(sha256.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    &CONTENT_LOCKS[(stripe % CONTENT_LOCK_STRIPES as u64) as usize]
}

const _: () = assert!(FILE_BYTES_MAX <= comptoir_domain::limits::PACK_TRANSFER_ALLOWANCE_BYTES_MAX);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_file, download_file))
        .routes(routes!(list_files))
        .routes(routes!(download_zip))
}

/// Roles whose transfers count against the pack (see the module doc).
fn is_metered(caller: &Caller) -> bool {
    matches!(
        caller.principal,
        Principal::Key {
            role: Role::Storefront | Role::Printer,
            ..
        }
    )
}

fn files_dir(state: &AppState) -> PathBuf {
    state.log.data_dir().join(FILES_DIR)
}

fn blob_path(state: &AppState, sha256: &str) -> PathBuf {
    files_dir(state).join(sha256)
}

fn storage_error(error: std::io::Error) -> ApiError {
    tracing::error!(%error, "order file storage failed");
    ApiError::Internal
}

/// The files of an order of the shop, from the hot state; another shop's order is not found.
fn order_files_of(
    state: &AppState,
    shop_id: Uuid,
    order_id: Uuid,
) -> Result<std::sync::Arc<OrderFiles>, ApiError> {
    let order = state
        .cache
        .load::<comptoir_domain::order::Order, _>(
            state.log.as_ref(),
            &comptoir_domain::order::stream_id(order_id),
        )?
        .state;
    if order
        .placed
        .as_ref()
        .is_none_or(|placed| placed.shop_id != shop_id)
    {
        return Err(ApiError::not_found("order"));
    }
    Ok(state
        .cache
        .load::<OrderFiles, _>(state.log.as_ref(), &order_files::stream_id(order_id))?
        .state)
}

/// Refuses a transfer of `bytes` the pack cannot cover, before any byte moves.
fn check_allowance(pack: &Pack, bytes: u64, now: DateTime<Utc>) -> Result<(), ApiError> {
    pack.ensure_active(now)?;
    if bytes > pack.bytes_left() {
        return Err(DomainError::conflict(
            "quota-exhausted",
            format!(
                "{bytes} bytes to transfer but only {} left in the pack",
                pack.bytes_left()
            ),
        )
        .into());
    }
    Ok(())
}

/// A temp file received in full: where, its SHA-256 and its size.
struct Received {
    temp: PathBuf,
    sha256: String,
    bytes: u64,
}

/// Streams `body` into a temp file of `dir`, hashing it, refusing beyond `limit` bytes.
async fn receive(dir: &Path, body: Body, limit: u64) -> Result<Received, ApiError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(storage_error)?;
    let temp = dir.join(format!(".upload-{}", Uuid::now_v7()));
    let result = write_temp(&temp, body, limit).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    let (sha256, bytes) = result?;
    Ok(Received {
        temp,
        sha256,
        bytes,
    })
}

async fn write_temp(temp: &Path, body: Body, limit: u64) -> Result<(String, u64), ApiError> {
    let mut file = tokio::fs::File::create(temp).await.map_err(storage_error)?;
    let mut hasher = Sha256::new();
    let mut bytes: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::invalid(format!("cannot read the body: {error}")))?;
        bytes = bytes.saturating_add(chunk.len() as u64);
        if bytes > limit {
            return Err(too_large(limit));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(storage_error)?;
    }
    // Durable before the append that records it.
    file.sync_all().await.map_err(storage_error)?;
    Ok((hex::encode(hasher.finalize()), bytes))
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge {
        detail: format!("an order file is at most {limit} bytes"),
    }
}

/// Moves the temp file into place durably, or drops it when the content is already stored.
/// Returns true when this call put the content in place.
async fn settle_blob(state: &AppState, received: &Received) -> Result<bool, ApiError> {
    let target = blob_path(state, &received.sha256);
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        let _ = tokio::fs::remove_file(&received.temp).await;
        return Ok(false);
    }
    if let Err(error) = tokio::fs::rename(&received.temp, &target).await {
        let _ = tokio::fs::remove_file(&received.temp).await;
        return Err(storage_error(error));
    }
    // The rename must be on disk before an event says the bytes are there.
    let dir = tokio::fs::File::open(files_dir(state))
        .await
        .map_err(storage_error)?;
    dir.sync_all().await.map_err(storage_error)?;
    Ok(true)
}

/// A stored file as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
    pub stored_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredFileAnswer {
    #[serde(flatten)]
    pub file: FileView,
    /// False when the same content was already stored under this name (nothing counted).
    pub recorded: bool,
    pub position: u64,
}

/// Uploads an order file (raw body, any content type). Limits: `FILE_BYTES_MAX` bytes, and what
/// the pack has left (checked against `Content-Length` before reading when it is sent).
#[utoipa::path(put, path = "/v1/shops/{shop_id}/orders/{order_id}/files/{name}", tag = "files",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("name" = String, Path)),
    request_body(content = crate::dto::Binary, content_type = "application/octet-stream"),
    responses((status = 201, body = StoredFileAnswer), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn upload_file(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, order_id, name)): ApiPath<(Uuid, Uuid, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Answer<StoredFileAnswer>, ApiError> {
    caller.authorize(shop_id, Permission::PlaceOrders)?;
    validate_file_name(&name)?;
    order_files_of(&state, shop_id, order_id)?;
    let pack = current_pack(&state, shop_id)?;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > FILE_BYTES_MAX) {
        return Err(too_large(FILE_BYTES_MAX));
    }
    check_allowance(&pack, announced.unwrap_or(0), state.clock.now())?;
    let received = receive(&files_dir(&state), body, FILE_BYTES_MAX).await?;
    let _content = content_lock(&received.sha256).lock().await;
    let put_in_place = settle_blob(&state, &received).await?;
    let recorded =
        record_upload(&state, &caller, &ids, (shop_id, order_id), &name, &received).await;
    let (recorded, position) = match recorded {
        Ok(outcome) => outcome,
        Err(error) => {
            if put_in_place {
                let _ = tokio::fs::remove_file(blob_path(&state, &received.sha256)).await;
            }
            return Err(error);
        }
    };
    let files = order_files_of(&state, shop_id, order_id)?;
    let stored = files.files.get(&name).ok_or(ApiError::Internal)?;
    let answer = StoredFileAnswer {
        file: file_view(&name, stored),
        recorded,
        position,
    };
    let location = format!("/v1/shops/{shop_id}/orders/{order_id}/files/{name}");
    Ok(Answer::created(answer, position, location))
}

/// Appends `OrderFileStored` and the pack's `QuotaConsumed` together; nothing when the same
/// content is already stored under the name.
async fn record_upload(
    state: &AppState,
    caller: &Caller,
    ids: &CommandIds,
    (shop_id, order_id): (Uuid, Uuid),
    name: &str,
    received: &Received,
) -> Result<(bool, u64), ApiError> {
    let store = OrderFilesCommand::Store {
        shop_id,
        order_id,
        name: name.to_string(),
        sha256: received.sha256.clone(),
        bytes: received.bytes,
    };
    let consume = PackCommand::ConsumeTransfer {
        bytes: received.bytes,
        reference: format!("upload {order_id}/{name}"),
    };
    let files_stream = order_files::stream_id(order_id);
    let pack_stream = pack::stream_id(shop_id);
    let executed = run(state, ids, caller, vec![pack_stream.clone()], |session| {
        order_in_shop(session, shop_id, order_id)?;
        let stored = !session
            .decide::<OrderFiles>(&files_stream, &store)?
            .is_empty();
        if stored {
            session.decide::<Pack>(&pack_stream, &consume)?;
        }
        Ok(stored)
    })
    .await?;
    let position = written_position(state, &executed);
    let recorded = match executed {
        crate::commands::Executed::Applied { output, .. } => output,
        crate::commands::Executed::Replayed { .. } => false,
    };
    Ok((recorded, position))
}

fn file_view(name: &str, file: &order_files::StoredFile) -> FileView {
    FileView {
        name: name.to_string(),
        sha256: file.sha256.clone(),
        bytes: file.bytes,
        stored_at: file.stored_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileList {
    /// In name order.
    pub files: Vec<FileView>,
}

/// The order's files, by name.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/orders/{order_id}/files", tag = "files",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, body = FileList), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_files(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, order_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<FileList>, ApiError> {
    caller.authorize(shop_id, Permission::ReadOrders)?;
    let files = order_files_of(&state, shop_id, order_id)?;
    let body = FileList {
        files: files.files.iter().map(|(n, f)| file_view(n, f)).collect(),
    };
    Ok(Answer::ok(body, state.log.head_position()))
}

/// Counts a download of `bytes` for metered callers, refusing what the pack cannot cover.
async fn meter_download(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    bytes: u64,
    reference: String,
) -> Result<(), ApiError> {
    if !is_metered(caller) || bytes == 0 {
        return Ok(());
    }
    let pack = current_pack(state, shop_id)?;
    check_allowance(&pack, bytes, state.clock.now())?;
    let ids = CommandIds {
        command_id: Uuid::now_v7(),
        fingerprint: None,
    };
    let stream = pack::stream_id(shop_id);
    let consume = PackCommand::ConsumeTransfer { bytes, reference };
    run(state, &ids, caller, vec![stream.clone()], |session| {
        session.decide::<Pack>(&stream, &consume)
    })
    .await?;
    Ok(())
}

/// A file on disk as a streamed body, read a chunk at a time.
async fn file_body(path: &Path) -> Result<Body, ApiError> {
    let file = tokio::fs::File::open(path).await.map_err(storage_error)?;
    Ok(Body::from_stream(chunks_of(file)))
}

/// Downloads one order file (counted for the storefront and printer roles).
#[utoipa::path(get, path = "/v1/shops/{shop_id}/orders/{order_id}/files/{name}", tag = "files",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path), ("name" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = crate::dto::Binary), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn download_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, order_id, name)): ApiPath<(Uuid, Uuid, String)>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ReadOrders)?;
    let files = order_files_of(&state, shop_id, order_id)?;
    let file = files
        .files
        .get(&name)
        .ok_or_else(|| ApiError::not_found("file"))?;
    let path = blob_path(&state, &file.sha256);
    let reference = format!("download {order_id}/{name}");
    meter_download(&state, &caller, shop_id, file.bytes, reference).await?;
    let body = file_body(&path).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, file.bytes.to_string()),
        ],
        body,
    )
        .into_response())
}

/// Downloads all the order's files as one zip (entries stored uncompressed: photos do not
/// compress). zip 2 writes to a seekable sink only, so the archive is built in an unnamed temp
/// file, then streamed. Counted as the sum of the files' sizes.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/orders/{order_id}/files.zip", tag = "files",
    params(("shop_id" = Uuid, Path), ("order_id" = Uuid, Path)),
    responses((status = 200, content_type = "application/zip", body = crate::dto::Binary), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn download_zip(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, order_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ReadOrders)?;
    let files = order_files_of(&state, shop_id, order_id)?;
    let total: u64 = files.files.values().map(|f| f.bytes).sum();
    let entries: Vec<(String, PathBuf)> = files
        .files
        .iter()
        .map(|(name, file)| (name.clone(), blob_path(&state, &file.sha256)))
        .collect();
    meter_download(
        &state,
        &caller,
        shop_id,
        total,
        format!("download {order_id}.zip"),
    )
    .await?;
    let dir = files_dir(&state);
    let archive = tokio::task::spawn_blocking(move || build_zip(&dir, &entries))
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(storage_error)?;
    let body = Body::from_stream(chunks_of(tokio::fs::File::from_std(archive)));
    let disposition = format!("attachment; filename=\"order-{order_id}.zip\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

fn chunks_of(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures::stream::unfold(file, |mut file| async move {
        let mut buffer = vec![0u8; DOWNLOAD_CHUNK_BYTES];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok(buffer), file))
            }
            Err(error) => Some((Err(error), file)),
        }
    })
}

/// Writes the zip into an unnamed temp file of `dir` and rewinds it for reading.
fn build_zip(dir: &Path, entries: &[(String, PathBuf)]) -> std::io::Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    std::fs::create_dir_all(dir)?;
    let temp = tempfile::tempfile_in(dir)?;
    let mut writer = zip::ZipWriter::new(temp);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, path) in entries {
        writer
            .start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        let mut source = std::fs::File::open(path)?;
        std::io::copy(&mut source, &mut writer)?;
    }
    let mut file = writer.finish().map_err(std::io::Error::other)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}
