//! The single writer: the only code that assigns positions and extends the hash chain.
//!
//! It takes every append request waiting in its queue (up to the commit limits), decides each one
//! against the streams' current versions and the id index, writes all accepted events as stored
//! batches of whole appends (sled values of about `STORED_BATCH_BYTES_TARGET`) in position order,
//! flushes once, and only then publishes the new head and answers the callers. Positions
//! are therefore dense and a reader never sees a position before all smaller ones are durable.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::clock::Clock;
use crate::codec::{self, BatchBuilder, EnvelopeRef, Hash};
use crate::error::{LogError, LogResult};
use crate::index::IndexEntry;
use crate::limits::{
    COMMIT_BYTES_MAX, COMMIT_EVENTS_MAX, RECORD_FRAME_BYTES_ESTIMATE, STORED_BATCH_BYTES_TARGET,
};
use crate::store::Shared;
use crate::types::{
    AppendOutcome, ExpectedVersion, NewEvent, Position, StreamAppendOutcome, StreamVersion,
};

pub(crate) struct PreparedEvent {
    pub event: NewEvent,
    pub digest: Hash,
}

pub(crate) struct PreparedStream {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<PreparedEvent>,
}

pub(crate) struct AppendJob {
    pub streams: Vec<PreparedStream>,
    pub event_count: usize,
    pub byte_count: usize,
    pub reply: oneshot::Sender<LogResult<AppendOutcome>>,
}

pub(crate) enum WriterMessage {
    Append(AppendJob),
}

/// What the log remembers of an event id, to answer retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IdEntry {
    position: Position,
    stream_version: StreamVersion,
    digest: Hash,
}

/// What the batch being built has already claimed, on top of the indexes.
#[derive(Default)]
struct Staging {
    stream_heads: HashMap<String, StreamVersion>,
    ids: HashMap<Uuid, IdEntry>,
}

pub(crate) struct Writer {
    pub shared: Arc<Shared>,
    pub receiver: mpsc::Receiver<WriterMessage>,
    pub clock: Arc<dyn Clock>,
    pub next_position: Position,
    pub last_hash: Hash,
}

impl Writer {
    pub fn run(mut self) {
        let mut carried: Option<AppendJob> = None;
        loop {
            let first = match carried.take() {
                Some(job) => job,
                None => match self.receiver.blocking_recv() {
                    Some(WriterMessage::Append(job)) => job,
                    None => return,
                },
            };
            let (jobs, next) = self.gather(first);
            carried = next;
            self.commit(jobs);
        }
    }

    /// Takes what is already queued, within the commit limits. No artificial wait: while one
    /// flush runs, the next batch fills by itself, which is what makes throughput grow with writers.
    fn gather(&mut self, first: AppendJob) -> (Vec<AppendJob>, Option<AppendJob>) {
        let mut events = first.event_count;
        let mut bytes = first.byte_count;
        let mut jobs = vec![first];
        while let Ok(WriterMessage::Append(job)) = self.receiver.try_recv() {
            if events + job.event_count > COMMIT_EVENTS_MAX
                || bytes + job.byte_count > COMMIT_BYTES_MAX
            {
                return (jobs, Some(job));
            }
            events += job.event_count;
            bytes += job.byte_count;
            jobs.push(job);
        }
        (jobs, None)
    }

    fn commit(&mut self, jobs: Vec<AppendJob>) {
        if self.shared.poisoned.load(Ordering::Acquire) {
            for job in jobs {
                let _ = job.reply.send(Err(LogError::Unavailable));
            }
            return;
        }
        let mut batches = CommitBatches::new(self.next_position);
        let mut staging = Staging::default();
        let mut published = Vec::new();
        let recorded_at_micros = self.clock.now().timestamp_micros();
        let outcomes: Vec<LogResult<AppendOutcome>> = jobs
            .iter()
            .map(|job| {
                let batch = batches.room_for(job, self.next_position);
                self.decide(job, &mut staging, batch, &mut published, recorded_at_micros)
            })
            .collect();
        let stored = batches.finish();
        if !stored.is_empty() {
            if let Err(error) = self.shared.persist_batches(stored) {
                tracing::error!(%error, "flushing the log failed; refusing further appends");
                self.shared.poisoned.store(true, Ordering::Release);
                for job in jobs {
                    let _ = job.reply.send(Err(LogError::Storage(error.to_string())));
                }
                return;
            }
            self.shared.index.publish(published);
            self.shared.publish_head(self.next_position - 1);
        }
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            // The caller may have gone away; its events are stored all the same.
            let _ = job.reply.send(outcome);
        }
    }

    fn decide(
        &mut self,
        job: &AppendJob,
        staging: &mut Staging,
        batch: &mut BatchBuilder,
        published: &mut Vec<IndexEntry>,
        recorded_at_micros: i64,
    ) -> LogResult<AppendOutcome> {
        if let Some(outcome) = self.replay_if_stored(job, staging)? {
            return Ok(outcome);
        }
        let mut currents = Vec::with_capacity(job.streams.len());
        for stream in &job.streams {
            let current = match staging.stream_heads.get(&stream.stream) {
                Some(version) => *version,
                None => self.shared.index.stream_head(&stream.stream)?,
            };
            if !stream.expected.accepts(current) {
                return Err(LogError::VersionConflict {
                    stream: stream.stream.clone(),
                    expected: stream.expected.to_string(),
                    current,
                });
            }
            currents.push(current);
        }
        let first_position = self.next_position;
        let mut stream_outcomes = Vec::with_capacity(job.streams.len());
        for (stream, current) in job.streams.iter().zip(currents) {
            for (offset, prepared) in stream.events.iter().enumerate() {
                let version = current + 1 + offset as u64;
                self.write_event(
                    stream,
                    prepared,
                    version,
                    recorded_at_micros,
                    batch,
                    staging,
                    published,
                );
            }
            let last_version = current + stream.events.len() as u64;
            staging
                .stream_heads
                .insert(stream.stream.clone(), last_version);
            stream_outcomes.push(StreamAppendOutcome {
                stream: stream.stream.clone(),
                first_version: current + 1,
                last_version,
            });
        }
        Ok(AppendOutcome {
            first_position,
            last_position: self.next_position - 1,
            streams: stream_outcomes,
            already_stored: false,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn write_event(
        &mut self,
        stream: &PreparedStream,
        prepared: &PreparedEvent,
        version: StreamVersion,
        recorded_at_micros: i64,
        batch: &mut BatchBuilder,
        staging: &mut Staging,
        published: &mut Vec<IndexEntry>,
    ) {
        let position = self.next_position;
        let event = &prepared.event;
        let envelope = codec::encode_envelope(&EnvelopeRef {
            position,
            stream: &stream.stream,
            stream_version: version,
            event_id: event.event_id,
            event_type: &event.event_type,
            schema_version: event.schema_version,
            recorded_at_micros,
            metadata: &event.metadata,
            payload: &event.payload,
        });
        let hash = codec::chain_hash(&self.last_hash, &envelope);
        batch.push(&envelope, &hash);
        self.last_hash = hash;
        self.next_position += 1;
        let id = IdEntry {
            position,
            stream_version: version,
            digest: prepared.digest,
        };
        staging.ids.insert(event.event_id, id);
        published.push(IndexEntry {
            event_id: event.event_id,
            stream: Arc::from(stream.stream.as_str()),
            position,
            stream_version: version,
        });
    }

    /// A request whose events are all stored already (a retry) gets the original outcome back and
    /// writes nothing. Any id stored with other content, or a request that only partly matches
    /// stored events, is refused: the client reused ids for something else.
    fn replay_if_stored(
        &self,
        job: &AppendJob,
        staging: &Staging,
    ) -> LogResult<Option<AppendOutcome>> {
        let mut stored = Vec::with_capacity(job.event_count);
        for stream in &job.streams {
            for prepared in &stream.events {
                let id = prepared.event.event_id;
                let entry = match staging.ids.get(&id) {
                    Some(entry) => Some(*entry),
                    None => self.stored_entry(&id)?,
                };
                match entry {
                    Some(entry) if entry.digest != prepared.digest => {
                        return Err(LogError::IdempotencyMismatch { event_id: id });
                    }
                    Some(entry) => stored.push((id, entry)),
                    None => {}
                }
            }
        }
        if stored.is_empty() {
            return Ok(None);
        }
        if stored.len() != job.event_count {
            return Err(LogError::IdempotencyMismatch {
                event_id: stored[0].0,
            });
        }
        Ok(Some(outcome_of_stored(job, &stored)))
    }
}

/// The stored batches of one commit: the sealed ones and the one being filled.
struct CommitBatches {
    sealed: Vec<(Position, Vec<u8>)>,
    first_position: Position,
    current: BatchBuilder,
}

impl CommitBatches {
    fn new(first_position: Position) -> Self {
        CommitBatches {
            sealed: Vec::new(),
            first_position,
            current: BatchBuilder::new(first_position),
        }
    }

    /// The batch `job` is to be written into: the current one, or a new one starting at
    /// `next_position` when the job would take the current one past the target.
    fn room_for(&mut self, job: &AppendJob, next_position: Position) -> &mut BatchBuilder {
        let estimate = job.byte_count + job.event_count * RECORD_FRAME_BYTES_ESTIMATE;
        if !self.current.is_empty()
            && self.current.len_bytes() + estimate > STORED_BATCH_BYTES_TARGET
        {
            let full = std::mem::replace(&mut self.current, BatchBuilder::new(next_position));
            self.sealed.push((self.first_position, full.finish()));
            self.first_position = next_position;
        }
        &mut self.current
    }

    /// Every non-empty batch, keyed by its first position, in order.
    fn finish(mut self) -> Vec<(Position, Vec<u8>)> {
        if !self.current.is_empty() {
            self.sealed
                .push((self.first_position, self.current.finish()));
        }
        self.sealed
    }
}

impl Writer {
    /// Rare (retries only): the stored event is read back to compare its content.
    fn stored_entry(&self, event_id: &Uuid) -> LogResult<Option<IdEntry>> {
        let Some(position) = self.shared.index.lookup_id(event_id)? else {
            return Ok(None);
        };
        let stored = self.shared.read_one(position, &mut None)?;
        if stored.event_id != *event_id {
            return Err(LogError::Corrupt {
                position,
                reason: format!("index points {event_id} at another event"),
            });
        }
        Ok(Some(IdEntry {
            position,
            stream_version: stored.stream_version,
            digest: codec::recorded_digest(&stored),
        }))
    }
}

fn outcome_of_stored(job: &AppendJob, stored: &[(Uuid, IdEntry)]) -> AppendOutcome {
    let positions = stored.iter().map(|(_, entry)| entry.position);
    let first_position = positions.clone().min().unwrap_or(0);
    let last_position = positions.max().unwrap_or(0);
    let mut entries = stored.iter();
    let streams = job
        .streams
        .iter()
        .map(|stream| {
            let versions: Vec<StreamVersion> = entries
                .by_ref()
                .take(stream.events.len())
                .map(|(_, entry)| entry.stream_version)
                .collect();
            StreamAppendOutcome {
                stream: stream.stream.clone(),
                first_version: versions.iter().copied().min().unwrap_or(0),
                last_version: versions.iter().copied().max().unwrap_or(0),
            }
        })
        .collect();
    AppendOutcome {
        first_position,
        last_position,
        streams,
        already_stored: true,
    }
}
