//! Hot aggregate state kept in memory, derived from the log and keyed by stream.
//!
//! Each entry holds the state folded up to a **durable** version, plus, for streams whose writers
//! are sequenced (document series), an optional state **ahead** of the log: the result of appends
//! queued at the writer but not yet acknowledged. Deciding on the ahead state lets the next number
//! be decided while the previous one is still being flushed, so a series issues many documents per
//! group commit. The log stays the judge: an append decided on a state that never became durable
//! fails its version check, and the entry falls back to its durable state and catches up.
//!
//! An entry that lost a version check is marked stale; the next load reads the stream's tail from
//! the log. Once the cache holds [`CACHED_STREAMS_MAX`] streams, the least recently loaded are
//! evicted (never one that is ahead); an evicted stream is simply folded again on its next use.
//! Least recently used, not any: a shop's document series or catalog is loaded by every order
//! and is as long as the shop's history (one event per invoice), so evicting it by chance could
//! make some request fold tens of thousands of events.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use comptoir_domain::Aggregate;
use comptoir_eventlog::{EventStore, Position, StreamVersion};
use comptoir_projections::codec::decode_event;
use uuid::Uuid;

use super::{CommandError, STREAM_PAGE_EVENTS};

/// Streams whose state the cache holds at most. An order's entry takes about 3 KB (its state,
/// its applied commands, the map's share): `http-bench --orders 250000` peaked at 974 MB with
/// 200,000 streams and at 495 MB with 50,000, at the same CPU per order (0.301 and 0.306 ms),
/// since what is evicted is what was least recently used, and folding it again is one short
/// stream read.
pub const CACHED_STREAMS_MAX: usize = 50_000;
/// Entries dropped at once when the cache is full: a fraction, so eviction is rare and cheap.
const EVICT_BATCH: usize = CACHED_STREAMS_MAX / 16;
/// Mutexes that sequence writers of contended streams; streams share them by hash.
pub const SEQUENCE_STRIPES: usize = 64;

const _: () = assert!(EVICT_BATCH > 0 && EVICT_BATCH < CACHED_STREAMS_MAX);

type AnyState = Arc<dyn Any + Send + Sync>;

/// A command seen in a stream: where its first event in that stream is, and the fingerprint of
/// the request that caused it (stored in the events' metadata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedCommand {
    pub first_position: Position,
    pub fingerprint: Option<String>,
}

type Commands = Arc<Mutex<HashMap<Uuid, AppliedCommand>>>;

#[derive(Clone)]
struct Snapshot {
    version: StreamVersion,
    state: AnyState,
}

#[derive(Clone)]
struct Entry {
    durable: Snapshot,
    ahead: Option<Snapshot>,
    stale: bool,
    commands: Commands,
    /// The cache's tick when the entry was last loaded or stored.
    last_used: u64,
}

/// A stream's state as a decision sees it.
pub struct Loaded<A> {
    pub state: Arc<A>,
    pub version: StreamVersion,
    pub commands: Commands,
}

impl<A> Clone for Loaded<A> {
    fn clone(&self) -> Self {
        Loaded {
            state: self.state.clone(),
            version: self.version,
            commands: self.commands.clone(),
        }
    }
}

/// The streams' entries and the tick that orders their uses.
#[derive(Default)]
struct Entries {
    by_stream: HashMap<String, Entry>,
    tick: u64,
}

impl Entries {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }
}

pub struct StateCache {
    entries: Mutex<Entries>,
    stripes: Vec<tokio::sync::Mutex<()>>,
}

impl Default for StateCache {
    fn default() -> Self {
        StateCache {
            entries: Mutex::new(Entries::default()),
            stripes: (0..SEQUENCE_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }
}

/// Locks a std mutex, ignoring poisoning: the map is always left consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl StateCache {
    /// The stripe mutex sequencing writers of `stream`.
    pub fn stripe(&self, stream: &str) -> usize {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        stream.hash(&mut hasher);
        (hasher.finish() % SEQUENCE_STRIPES as u64) as usize
    }

    pub fn stripe_mutex(&self, stripe: usize) -> &tokio::sync::Mutex<()> {
        &self.stripes[stripe % SEQUENCE_STRIPES]
    }

    /// The newest state of `stream` (ahead of the log when a sequenced append is in flight),
    /// folding or catching up from the log when the cache has nothing fresh.
    pub fn load<A: Aggregate, S: EventStore + ?Sized>(
        &self,
        store: &S,
        stream: &str,
    ) -> Result<Loaded<A>, CommandError> {
        let cached = {
            let mut entries = lock(&self.entries);
            let tick = entries.next_tick();
            entries.by_stream.get_mut(stream).map(|entry| {
                entry.last_used = tick;
                entry.clone()
            })
        };
        let base = match cached {
            Some(entry) if !entry.stale => {
                let snapshot = entry.ahead.as_ref().unwrap_or(&entry.durable);
                if let Ok(state) = snapshot.state.clone().downcast::<A>() {
                    return Ok(Loaded {
                        state,
                        version: snapshot.version,
                        commands: entry.commands,
                    });
                }
                None
            }
            Some(entry) => entry
                .durable
                .state
                .clone()
                .downcast::<A>()
                .ok()
                .map(|state| Loaded {
                    state,
                    version: entry.durable.version,
                    commands: entry.commands,
                }),
            None => None,
        };
        let loaded = catch_up(store, stream, base)?;
        self.store_durable(stream, &loaded);
        Ok(loaded)
    }

    /// Records a durable state, unless the cache already knows a newer one.
    fn store_durable<A: Aggregate>(&self, stream: &str, loaded: &Loaded<A>) {
        let mut entries = lock(&self.entries);
        let tick = entries.next_tick();
        if let Some(entry) = entries.by_stream.get_mut(stream) {
            if entry.durable.version > loaded.version {
                return;
            }
            entry.durable = Snapshot {
                version: loaded.version,
                state: loaded.state.clone(),
            };
            entry.stale = false;
            entry.commands = loaded.commands.clone();
            if entry
                .ahead
                .as_ref()
                .is_some_and(|ahead| ahead.version <= loaded.version)
            {
                entry.ahead = None;
            }
            return;
        }
        evict_least_recently_used(&mut entries.by_stream, CACHED_STREAMS_MAX, EVICT_BATCH);
        entries.by_stream.insert(
            stream.to_string(),
            Entry {
                durable: Snapshot {
                    version: loaded.version,
                    state: loaded.state.clone(),
                },
                ahead: None,
                stale: false,
                commands: loaded.commands.clone(),
                last_used: tick,
            },
        );
    }

    /// After an acknowledged append: the stream is durably at `version` with `state`, and
    /// `command`, when given, is recorded in it.
    pub fn commit(
        &self,
        stream: &str,
        version: StreamVersion,
        state: AnyState,
        command: Option<(Uuid, AppliedCommand)>,
    ) {
        let mut entries = lock(&self.entries);
        let Some(entry) = entries.by_stream.get_mut(stream) else {
            return;
        };
        if let Some((command_id, applied)) = command {
            lock(&entry.commands).insert(command_id, applied);
        }
        if entry.durable.version < version {
            entry.durable = Snapshot { version, state };
        }
        if entry
            .ahead
            .as_ref()
            .is_some_and(|ahead| ahead.version <= version)
        {
            entry.ahead = None;
        }
    }

    /// While a sequenced append is queued: the stream will be at `version` if it lands.
    pub fn set_ahead(
        &self,
        stream: &str,
        expected: StreamVersion,
        version: StreamVersion,
        state: AnyState,
    ) {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.by_stream.get_mut(stream) {
            let current = entry.ahead.as_ref().unwrap_or(&entry.durable).version;
            if current == expected {
                entry.ahead = Some(Snapshot { version, state });
            }
        }
    }

    /// An append decided at `expected` failed: whatever was built on it is void, and the log may
    /// hold versions the cache has not seen.
    pub fn invalidate(&self, stream: &str, expected: StreamVersion) {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.by_stream.get_mut(stream) {
            if entry
                .ahead
                .as_ref()
                .is_some_and(|ahead| ahead.version > expected)
            {
                entry.ahead = None;
            }
            entry.stale = true;
        }
    }

    /// Forgets a stream entirely, so the next load folds it from the log.
    pub fn forget(&self, stream: &str) {
        lock(&self.entries).by_stream.remove(stream);
    }
}

/// When `entries` holds `capacity` streams or more, drops the `batch` least recently used of
/// those not ahead of the log (one pass over the map per `batch` insertions).
fn evict_least_recently_used(entries: &mut HashMap<String, Entry>, capacity: usize, batch: usize) {
    if entries.len() < capacity {
        return;
    }
    let mut candidates: Vec<(u64, &String)> = entries
        .iter()
        .filter(|(_, entry)| entry.ahead.is_none())
        .map(|(stream, entry)| (entry.last_used, stream))
        .collect();
    let batch = batch.min(candidates.len());
    if batch == 0 {
        return;
    }
    candidates.select_nth_unstable(batch - 1);
    let victims: Vec<String> = candidates[..batch]
        .iter()
        .map(|(_, stream)| (*stream).clone())
        .collect();
    for stream in victims {
        entries.remove(&stream);
    }
}

/// Folds the events of `stream` after `base` (or from the start) into the state.
fn catch_up<A: Aggregate, S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    base: Option<Loaded<A>>,
) -> Result<Loaded<A>, CommandError> {
    let (mut state, mut version, commands) = match base {
        Some(loaded) => (
            Arc::unwrap_or_clone(loaded.state),
            loaded.version,
            loaded.commands,
        ),
        None => (A::default(), 0, Commands::default()),
    };
    loop {
        let page = store.read_stream(stream, version + 1, STREAM_PAGE_EVENTS)?;
        let page_len = page.len();
        for recorded in page {
            // The pair of the log's check on append: versions replay densely from 1.
            if recorded.stream_version != version + 1 {
                return Err(CommandError::Replay {
                    stream: stream.to_string(),
                    expected: version + 1,
                    found: recorded.stream_version,
                });
            }
            let event: A::Event = decode_event(&recorded)?;
            state = state.evolve(&event);
            version = recorded.stream_version;
            if let Some(command_id) = recorded.metadata.causation_id {
                lock(&commands).entry(command_id).or_insert(AppliedCommand {
                    first_position: recorded.position,
                    fingerprint: recorded.metadata.idempotency_key.clone(),
                });
            }
        }
        if page_len < STREAM_PAGE_EVENTS {
            return Ok(Loaded {
                state: Arc::new(state),
                version,
                commands,
            });
        }
    }
}

#[cfg(test)]
mod eviction_tests {
    use super::*;

    fn entry(last_used: u64, ahead: bool) -> Entry {
        let snapshot = Snapshot {
            version: 1,
            state: Arc::new(()),
        };
        Entry {
            durable: snapshot.clone(),
            ahead: ahead.then_some(snapshot),
            stale: false,
            commands: Commands::default(),
            last_used,
        }
    }

    // Proves a full cache drops the least recently used streams, never one ahead of the log,
    // and nothing while below capacity.
    #[test]
    fn eviction_drops_the_least_recently_used_streams_that_are_not_ahead() {
        let mut entries: HashMap<String, Entry> = [
            ("series", entry(90, false)),
            ("old-order", entry(3, false)),
            ("older-order", entry(2, false)),
            ("oldest-but-ahead", entry(1, true)),
            ("catalog", entry(95, false)),
            ("recent-order", entry(50, false)),
        ]
        .into_iter()
        .map(|(stream, entry)| (stream.to_string(), entry))
        .collect();
        evict_least_recently_used(&mut entries, 7, 2);
        assert_eq!(entries.len(), 6, "below capacity, nothing goes");
        evict_least_recently_used(&mut entries, 6, 2);
        let mut kept: Vec<&str> = entries.keys().map(String::as_str).collect();
        kept.sort_unstable();
        assert_eq!(
            kept,
            ["catalog", "oldest-but-ahead", "recent-order", "series"]
        );
    }
}
