//! The byte layout of an index run, read in place (no decoding) so that a lookup costs one binary
//! search over the stored value, however large the run.
//!
//! ```text
//! run     := 0x52 'R' | format u8 (= 1) | first_position u64 | last_position u64
//!            | id_count u32 | stream_count u32
//!            | ids[id_count]              (sorted by id)   id: uuid[16] | position u64
//!            | stream_offsets[stream_count] (sorted by stream name) u32, from the run's start
//!            | streams                     name_len u16 | name | first_version u64 | count u32 | positions u64[count]
//! ```
//! All integers big-endian.

use uuid::Uuid;

use crate::types::{Position, StreamVersion};

const MAGIC: u8 = b'R';
const FORMAT_V1: u8 = 1;
const HEADER_BYTES: usize = 2 + 8 + 8 + 4 + 4;
const ID_ENTRY_BYTES: usize = 16 + 8;

/// One stream's slice of a run: versions `first_version..` at the given positions.
pub struct RunStreamInput<'a> {
    pub name: &'a str,
    pub first_version: StreamVersion,
    pub positions: Vec<Position>,
}

/// Encodes a run; `ids` and `streams` must be sorted (by id, by name).
pub fn encode_run(
    first_position: Position,
    last_position: Position,
    ids: &[(Uuid, Position)],
    streams: &[RunStreamInput<'_>],
) -> Vec<u8> {
    debug_assert!(ids.windows(2).all(|w| w[0].0 < w[1].0));
    debug_assert!(streams.windows(2).all(|w| w[0].name < w[1].name));
    let mut bytes =
        Vec::with_capacity(HEADER_BYTES + ids.len() * ID_ENTRY_BYTES + streams.len() * 64);
    bytes.extend_from_slice(&[MAGIC, FORMAT_V1]);
    bytes.extend_from_slice(&first_position.to_be_bytes());
    bytes.extend_from_slice(&last_position.to_be_bytes());
    bytes.extend_from_slice(&(ids.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&(streams.len() as u32).to_be_bytes());
    for (id, position) in ids {
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(&position.to_be_bytes());
    }
    let offsets_at = bytes.len();
    bytes.resize(offsets_at + streams.len() * 4, 0);
    for (index, stream) in streams.iter().enumerate() {
        let offset = bytes.len() as u32;
        bytes[offsets_at + index * 4..offsets_at + index * 4 + 4]
            .copy_from_slice(&offset.to_be_bytes());
        bytes.extend_from_slice(&(stream.name.len() as u16).to_be_bytes());
        bytes.extend_from_slice(stream.name.as_bytes());
        bytes.extend_from_slice(&stream.first_version.to_be_bytes());
        bytes.extend_from_slice(&(stream.positions.len() as u32).to_be_bytes());
        for position in &stream.positions {
            bytes.extend_from_slice(&position.to_be_bytes());
        }
    }
    bytes
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

/// A stored run, checked once for shape and then read in place.
pub struct RunView<'a> {
    bytes: &'a [u8],
    id_count: usize,
    stream_count: usize,
}

/// One stream's entry in a run.
pub struct RunStreamView<'a> {
    pub first_version: StreamVersion,
    positions: &'a [u8],
}

impl RunStreamView<'_> {
    pub fn len(&self) -> usize {
        self.positions.len() / 8
    }

    pub fn last_version(&self) -> StreamVersion {
        self.first_version + self.len() as u64 - 1
    }

    pub fn positions(&self) -> impl Iterator<Item = Position> + '_ {
        self.positions
            .chunks_exact(8)
            .map(|chunk| u64::from_be_bytes(chunk.try_into().expect("8 bytes")))
    }
}

impl<'a> RunView<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < HEADER_BYTES || bytes[0] != MAGIC || bytes[1] != FORMAT_V1 {
            return Err("not an index run".into());
        }
        let id_count = read_u32(bytes, 18).ok_or("short run header")? as usize;
        let stream_count = read_u32(bytes, 22).ok_or("short run header")? as usize;
        let fixed = HEADER_BYTES + id_count * ID_ENTRY_BYTES + stream_count * 4;
        if bytes.len() < fixed {
            return Err("run shorter than its tables".into());
        }
        Ok(RunView {
            bytes,
            id_count,
            stream_count,
        })
    }

    fn id_at(&self, index: usize) -> (&'a [u8], Position) {
        let at = HEADER_BYTES + index * ID_ENTRY_BYTES;
        let position = read_u64(self.bytes, at + 16).expect("checked in new");
        (&self.bytes[at..at + 16], position)
    }

    pub fn position_of(&self, event_id: &Uuid) -> Option<Position> {
        let wanted = event_id.as_bytes().as_slice();
        let (mut low, mut high) = (0, self.id_count);
        while low < high {
            let middle = (low + high) / 2;
            let (id, position) = self.id_at(middle);
            match id.cmp(wanted) {
                std::cmp::Ordering::Equal => return Some(position),
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
            }
        }
        None
    }

    fn stream_at(&self, index: usize) -> Option<(&'a [u8], RunStreamView<'a>)> {
        let offsets_at = HEADER_BYTES + self.id_count * ID_ENTRY_BYTES;
        let at = read_u32(self.bytes, offsets_at + index * 4)? as usize;
        let name_len = read_u16(self.bytes, at)? as usize;
        let name = self.bytes.get(at + 2..at + 2 + name_len)?;
        let first_version = read_u64(self.bytes, at + 2 + name_len)?;
        let count = read_u32(self.bytes, at + 10 + name_len)? as usize;
        let start = at + 14 + name_len;
        let positions = self.bytes.get(start..start + count * 8)?;
        Some((
            name,
            RunStreamView {
                first_version,
                positions,
            },
        ))
    }

    /// The position of the run's last event.
    pub fn last_position(&self) -> Position {
        read_u64(self.bytes, 10).expect("checked in new")
    }

    /// Every event id of the run, in id order.
    pub fn ids(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.id_count).map(|index| self.id_at(index).0)
    }

    /// Every stream name of the run, in name order; `Err` for a damaged entry.
    pub fn stream_names(&self) -> impl Iterator<Item = Result<&'a [u8], String>> + '_ {
        (0..self.stream_count).map(|index| {
            self.stream_at(index)
                .map(|(name, _)| name)
                .ok_or_else(|| "damaged stream entry in run".to_string())
        })
    }

    /// The stream's entry, or `Err` when the run's bytes are damaged.
    pub fn stream(&self, name: &str) -> Result<Option<RunStreamView<'a>>, String> {
        let wanted = name.as_bytes();
        let (mut low, mut high) = (0, self.stream_count);
        while low < high {
            let middle = (low + high) / 2;
            let (found, view) = self
                .stream_at(middle)
                .ok_or("damaged stream entry in run")?;
            match found.cmp(wanted) {
                std::cmp::Ordering::Equal => return Ok(Some(view)),
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Proves ids and streams are found in place, and absent ones are not.
    #[test]
    fn lookups_read_the_encoded_run_in_place() {
        let mut ids: Vec<(Uuid, Position)> = (0..100u128)
            .map(|i| (Uuid::from_u128(i * 7919), 10 + i as u64))
            .collect();
        ids.sort_unstable_by_key(|(id, _)| *id);
        let streams = vec![
            RunStreamInput {
                name: "a",
                first_version: 3,
                positions: vec![10, 12],
            },
            RunStreamInput {
                name: "order-1",
                first_version: 1,
                positions: vec![11],
            },
            RunStreamInput {
                name: "z",
                first_version: 9,
                positions: vec![13, 14, 15],
            },
        ];
        let bytes = encode_run(10, 109, &ids, &streams);
        let run = RunView::new(&bytes).unwrap();
        for (id, position) in &ids {
            assert_eq!(run.position_of(id), Some(*position));
        }
        assert_eq!(run.position_of(&Uuid::from_u128(1)), None);
        let z = run.stream("z").unwrap().unwrap();
        assert_eq!((z.first_version, z.last_version()), (9, 11));
        assert_eq!(z.positions().collect::<Vec<_>>(), vec![13, 14, 15]);
        assert!(run.stream("b").unwrap().is_none());
        assert!(RunView::new(&bytes[..10]).is_err());
    }
}
