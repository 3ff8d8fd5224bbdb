//! Events a writer in this process just appended, handed to the runner as the values they were
//! encoded from, so that the runner does not parse their JSON back.
//!
//! Why: under load the runner decodes every event the API has just encoded, and that parse was
//! 4.2% of the server's CPU samples under `http-bench` (0.5% with hints, plus 0.6% for the
//! copies the API makes). The log stays the only truth:
//! - a hint is used only for the position it was offered for, and only when the recorded event
//!   there has the hint's event id and the type and schema version the hint encodes as;
//!   otherwise the runner decodes the stored bytes as before;
//! - a hint is the very value whose JSON the log stored, and serde gives that value back from
//!   its JSON, so the projections are the same bytes either way (debug builds, hence every test,
//!   decode the bytes too and compare);
//! - the table is bounded ([`DECODED_HINTS_MAX`]): a hint that does not fit, or comes after the
//!   runner passed its position, is dropped, and that event is decoded.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use comptoir_eventlog::{Position, RecordedEvent};
use uuid::Uuid;

/// Hints kept at most. In an `http-bench` run slowed by `perf` the runner fell more than 4,096
/// events behind the writers at times (a quarter of the events were then parsed anyway);
/// 16,384 covered that run. Held only while the runner lags: +12 MB of peak RSS over 60,000
/// orders.
pub const DECODED_HINTS_MAX: usize = 16_384;

/// A domain event as it was before being encoded.
pub type HintedEvent = Box<dyn Any + Send>;

struct Hint {
    event_id: Uuid,
    event: HintedEvent,
}

#[derive(Default)]
struct Table {
    by_position: BTreeMap<Position, Hint>,
    /// The last position the runner asked for: later offers at or below it are useless.
    taken_up_to: Position,
}

/// See the module doc.
#[derive(Default)]
pub struct DecodedHints {
    table: Mutex<Table>,
}

impl DecodedHints {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offers `event`, recorded at `position` with id `event_id`, to the runner.
    pub fn offer(&self, position: Position, event_id: Uuid, event: HintedEvent) {
        let mut table = self.table();
        if position <= table.taken_up_to || table.by_position.len() >= DECODED_HINTS_MAX {
            return;
        }
        table.by_position.insert(position, Hint { event_id, event });
    }

    /// The hint for `recorded`, if one was offered for it; forgets every hint at or below its
    /// position.
    pub fn take(&self, recorded: &RecordedEvent) -> Option<HintedEvent> {
        let mut table = self.table();
        table.taken_up_to = table.taken_up_to.max(recorded.position);
        while let Some(entry) = table.by_position.first_entry() {
            if *entry.key() > recorded.position {
                return None;
            }
            let (position, hint) = entry.remove_entry();
            if position == recorded.position && hint.event_id == recorded.event_id {
                return Some(hint.event);
            }
        }
        None
    }

    /// Hints waiting for the runner.
    pub fn len(&self) -> usize {
        self.table().by_position.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comptoir_eventlog::EventMetadata;

    fn recorded(position: Position, event_id: Uuid) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: "s".into(),
            stream_version: position,
            event_id,
            event_type: "T".into(),
            schema_version: 1,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            metadata: EventMetadata::default(),
            payload: Vec::new(),
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn value(hint: Option<HintedEvent>) -> Option<u32> {
        hint.map(|event| *event.downcast::<u32>().expect("a u32"))
    }

    #[test]
    fn a_hint_is_taken_once_for_its_position_and_event_id() {
        let hints = DecodedHints::default();
        hints.offer(1, id(1), Box::new(10_u32));
        hints.offer(2, id(2), Box::new(20_u32));
        assert_eq!(value(hints.take(&recorded(1, id(1)))), Some(10));
        assert_eq!(value(hints.take(&recorded(1, id(1)))), None);
        assert_eq!(value(hints.take(&recorded(2, id(2)))), Some(20));
        assert!(hints.is_empty());
    }

    #[test]
    fn a_hint_for_another_event_id_is_not_used() {
        let hints = DecodedHints::default();
        hints.offer(5, id(99), Box::new(1_u32));
        assert_eq!(value(hints.take(&recorded(5, id(5)))), None);
        assert!(hints.is_empty(), "the wrong hint is forgotten");
    }

    #[test]
    fn hints_the_runner_passed_are_forgotten_and_later_offers_for_them_refused() {
        let hints = DecodedHints::default();
        hints.offer(3, id(3), Box::new(3_u32));
        hints.offer(9, id(9), Box::new(9_u32));
        assert_eq!(value(hints.take(&recorded(7, id(7)))), None);
        assert_eq!(hints.len(), 1, "the hint at 3 is gone, the one at 9 waits");
        hints.offer(6, id(6), Box::new(6_u32));
        assert_eq!(hints.len(), 1, "an offer behind the runner is refused");
        assert_eq!(value(hints.take(&recorded(9, id(9)))), Some(9));
    }

    #[test]
    fn the_table_is_bounded() {
        let hints = DecodedHints::default();
        let beyond = DECODED_HINTS_MAX as u64 + 10;
        for position in 1..=beyond {
            hints.offer(position, id(position.into()), Box::new(0_u32));
        }
        assert_eq!(hints.len(), DECODED_HINTS_MAX);
        assert_eq!(
            value(hints.take(&recorded(beyond, id(beyond.into())))),
            None
        );
        assert!(hints.is_empty());
    }
}
