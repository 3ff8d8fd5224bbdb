//! When staff sessions were last used, for the 90 minutes of inactivity after which a session
//! ends (seed 000: "La durée de votre connexion à Back-Office est limitée à 90 minutes sans
//! activité").
//!
//! Sign-ins and sign-outs are events in the member's stream; the last activity of a session is
//! not: recording every request would grow the log with every click. It is kept here, in
//! memory, and saved to a small file of the data dir ([`ACTIVITY_FILE`]) every
//! [`SAVE_EVERY_SECONDS`] and at shutdown, so a restart does not sign out every member who
//! signed in more than 90 minutes before it. A reading lost with the process (a crash between
//! two saves, a damaged file) makes a session count from its last saved activity or its
//! sign-in: it ends sooner, never later.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Minutes without a request after which a session ends.
pub const SESSION_IDLE_MINUTES: i64 = 90;
/// Sessions whose activity is remembered; past it, the idle ones are forgotten first, then the
/// least recently used (which then count from their sign-in: ended sooner, never later).
pub const SESSIONS_TRACKED_MAX: usize = 100_000;

fn idle_limit() -> Duration {
    Duration::minutes(SESSION_IDLE_MINUTES)
}

/// The file in the data dir the activity is saved to.
pub const ACTIVITY_FILE: &str = "staff-activity.bin";
/// How often the activity is saved while the server runs.
pub const SAVE_EVERY_SECONDS: u64 = 60;
/// The saved file's first bytes: its format.
const FILE_MAGIC: &[u8; 8] = b"cstaff1\n";
/// Bytes of one saved session: its id and its last request in microseconds since 1970.
const ENTRY_BYTES: usize = 16 + 8;

/// Session id → the time of its last request, on the decisions' clock.
#[derive(Default)]
pub struct SessionActivity {
    last_seen: Mutex<HashMap<Uuid, DateTime<Utc>>>,
    /// Whether a request was recorded since the last save.
    unsaved: AtomicBool,
}

impl SessionActivity {
    /// Records a request of the session at `now`, unless it was idle too long since its last
    /// request (or since `signed_in_at`, when none is remembered): then false, and the session
    /// stays ended whatever comes after.
    pub fn touch(&self, session_id: Uuid, signed_in_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let mut last_seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
        let seen = last_seen
            .get(&session_id)
            .copied()
            .unwrap_or(signed_in_at)
            .max(signed_in_at);
        if now - seen > idle_limit() {
            last_seen.remove(&session_id);
            return false;
        }
        if last_seen.len() >= SESSIONS_TRACKED_MAX && !last_seen.contains_key(&session_id) {
            make_room(&mut last_seen, now);
        }
        last_seen.insert(session_id, now.max(seen));
        self.unsaved.store(true, Ordering::Relaxed);
        true
    }

    /// The activity saved in `path`; none when the file is absent or not one this writes (the
    /// sessions then count from their sign-in).
    pub fn load(path: &Path) -> Self {
        let activity = SessionActivity::default();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return activity,
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "staff activity not read; sessions count from their sign-in");
                return activity;
            }
        };
        match decode(&bytes) {
            Some(entries) => {
                let mut last_seen = activity.last_seen.lock().unwrap_or_else(|p| p.into_inner());
                last_seen.extend(entries.into_iter().take(SESSIONS_TRACKED_MAX));
            }
            None => {
                tracing::warn!(path = %path.display(), "staff activity file damaged; sessions count from their sign-in")
            }
        }
        activity
    }

    /// Saves the activity to `path` if a request came since the last save: written to a
    /// temporary file, synced, then renamed over the old one, so a crash leaves one or the
    /// other whole.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if !self.unsaved.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let bytes = {
            let last_seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
            encode(&last_seen)
        };
        let written = write_atomically(path, &bytes);
        if written.is_err() {
            self.unsaved.store(true, Ordering::Relaxed);
        }
        written
    }
}

fn encode(last_seen: &HashMap<Uuid, DateTime<Utc>>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(FILE_MAGIC.len() + last_seen.len() * ENTRY_BYTES);
    bytes.extend_from_slice(FILE_MAGIC);
    for (session_id, seen) in last_seen {
        bytes.extend_from_slice(session_id.as_bytes());
        bytes.extend_from_slice(&seen.timestamp_micros().to_be_bytes());
    }
    bytes
}

fn decode(bytes: &[u8]) -> Option<Vec<(Uuid, DateTime<Utc>)>> {
    let entries = bytes.strip_prefix(FILE_MAGIC)?;
    if entries.len() % ENTRY_BYTES != 0 {
        return None;
    }
    entries
        .chunks_exact(ENTRY_BYTES)
        .map(|entry| {
            let (id, micros) = entry.split_at(16);
            let session_id = Uuid::from_slice(id).ok()?;
            let micros = i64::from_be_bytes(micros.try_into().ok()?);
            Some((session_id, DateTime::from_timestamp_micros(micros)?))
        })
        .collect()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Forgets the idle sessions; if none is idle, the tenth least recently used.
fn make_room(last_seen: &mut HashMap<Uuid, DateTime<Utc>>, now: DateTime<Utc>) {
    last_seen.retain(|_, seen| now - *seen <= idle_limit());
    if last_seen.len() < SESSIONS_TRACKED_MAX {
        return;
    }
    let mut by_age: Vec<(DateTime<Utc>, Uuid)> =
        last_seen.iter().map(|(id, seen)| (*seen, *id)).collect();
    by_age.sort_unstable();
    for (_, id) in by_age.iter().take(SESSIONS_TRACKED_MAX / 10) {
        last_seen.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_saved_and_loaded_keeps_a_session_past_90_minutes_from_its_sign_in() {
        // Proves a saved reading survives a restart (a session active at 80 minutes still
        // answers at 100), a save without news writes nothing, and a damaged or foreign file
        // loads as no reading (the session then counts from its sign-in and has ended).
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(ACTIVITY_FILE);
        let session = Uuid::from_u128(7);
        let activity = SessionActivity::default();
        assert!(activity.touch(session, at(0), at(80)));
        activity.save(&path).expect("saved");
        std::fs::remove_file(&path).expect("removed");
        activity.save(&path).expect("nothing new");
        assert!(!path.exists(), "nothing new, nothing written");
        assert!(activity.touch(session, at(0), at(81)));
        activity.save(&path).expect("saved");
        assert!(SessionActivity::load(&path).touch(session, at(0), at(100)));
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.pop();
        std::fs::write(&path, &bytes).expect("damaged");
        assert!(!SessionActivity::load(&path).touch(session, at(0), at(100)));
        std::fs::write(&path, b"something else").expect("foreign");
        assert!(!SessionActivity::load(&path).touch(session, at(0), at(100)));
        let missing = dir.path().join("absent.bin");
        assert!(!SessionActivity::load(&missing).touch(session, at(0), at(100)));
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn a_session_ends_after_90_idle_minutes_and_activity_keeps_it() {
        // Proves activity moves the deadline, 90 minutes are allowed, 91 are not, and an ended
        // session stays ended.
        let activity = SessionActivity::default();
        let (session, signed_in) = (Uuid::from_u128(1), at(0));
        assert!(activity.touch(session, signed_in, at(90)));
        assert!(activity.touch(session, signed_in, at(170)));
        assert!(!activity.touch(session, signed_in, at(261)));
        assert!(!activity.touch(session, signed_in, at(262)));
        let fresh = Uuid::from_u128(2);
        assert!(
            !activity.touch(fresh, signed_in, at(91)),
            "counted from sign-in"
        );
    }

    #[test]
    fn the_table_is_bounded() {
        // Proves the table never holds more than its bound, forgetting idle sessions first.
        let mut last_seen: HashMap<Uuid, DateTime<Utc>> = (0..SESSIONS_TRACKED_MAX as u128)
            .map(|n| (Uuid::from_u128(n), at(if n % 2 == 0 { 0 } else { 100 })))
            .collect();
        make_room(&mut last_seen, at(150));
        assert_eq!(last_seen.len(), SESSIONS_TRACKED_MAX / 2);
        let mut all_recent: HashMap<Uuid, DateTime<Utc>> = (0..SESSIONS_TRACKED_MAX as u128)
            .map(|n| (Uuid::from_u128(n), at(n as i64 % 60)))
            .collect();
        make_room(&mut all_recent, at(60));
        assert_eq!(
            all_recent.len(),
            SESSIONS_TRACKED_MAX - SESSIONS_TRACKED_MAX / 10
        );
    }
}
