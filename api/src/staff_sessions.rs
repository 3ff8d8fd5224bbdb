//! When staff sessions were last used, for the 90 minutes of inactivity after which a session
//! ends (seed 000: "La durée de votre connexion à Back-Office est limitée à 90 minutes sans
//! activité").
//!
//! Sign-ins and sign-outs are events in the member's stream; the last activity of a session is
//! not: recording every request would grow the log with every click. It is kept here, in
//! memory. After a restart a session's activity restarts from its sign-in, so a session signed
//! in more than 90 minutes before a restart ends with it: the strict side of a lost reading.

use std::collections::HashMap;
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

/// Session id → the time of its last request, on the decisions' clock.
#[derive(Default)]
pub struct SessionActivity {
    last_seen: Mutex<HashMap<Uuid, DateTime<Utc>>>,
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
        true
    }
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
