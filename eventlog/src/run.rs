//! The byte layout of an index run, read in place (no decoding) so that a lookup costs one binary
//! search over the stored bytes, however large the run. The bytes come from a `RunSource`: one
//! stored value, or pages of it.
//!
//! ```text
//! run     := 0x52 'R' | format u8 (= 1) | first_position u64 | last_position u64
//!            | id_count u32 | stream_count u32
//!            | ids[id_count]              (sorted by id)   id: uuid[16] | position u64
//!            | stream_offsets[stream_count] (sorted by stream name) u32, from the run's start
//!            | streams                     name_len u16 | name | first_version u64 | count u32 | positions u64[count]
//! ```
//! All integers big-endian.

use std::borrow::Cow;

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

/// Where a run's bytes are read from: one stored value (runs written before pages), or its pages
/// (`index.rs`), which sled can evict where it keeps a large value in memory once read.
pub trait RunSource {
    /// The `len` bytes at `at`; `None` past the end or when the bytes cannot be read.
    fn bytes(&self, at: usize, len: usize) -> Option<Cow<'_, [u8]>>;
}

/// A run held as one slice.
pub struct Contiguous<'a>(pub &'a [u8]);

impl RunSource for Contiguous<'_> {
    fn bytes(&self, at: usize, len: usize) -> Option<Cow<'_, [u8]>> {
        self.0.get(at..at.checked_add(len)?).map(Cow::Borrowed)
    }
}

fn read_array<const N: usize>(source: &dyn RunSource, at: usize) -> Option<[u8; N]> {
    source.bytes(at, N)?.as_ref().try_into().ok()
}

fn read_u64(source: &dyn RunSource, at: usize) -> Option<u64> {
    read_array(source, at).map(u64::from_be_bytes)
}

fn read_u32(source: &dyn RunSource, at: usize) -> Option<u32> {
    read_array(source, at).map(u32::from_be_bytes)
}

fn read_u16(source: &dyn RunSource, at: usize) -> Option<u16> {
    read_array(source, at).map(u16::from_be_bytes)
}

/// A stored run, checked once for shape and then read in place, a few bytes at a time.
pub struct RunView<'a> {
    source: &'a dyn RunSource,
    id_count: usize,
    stream_count: usize,
}

/// One stream's entry in a run.
pub struct RunStreamView<'a> {
    pub first_version: StreamVersion,
    positions: Cow<'a, [u8]>,
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
    pub fn new(source: &'a dyn RunSource) -> Result<Self, String> {
        let header = source.bytes(0, HEADER_BYTES).ok_or("not an index run")?;
        if header[0] != MAGIC || header[1] != FORMAT_V1 {
            return Err("not an index run".into());
        }
        let id_count = read_u32(source, 18).ok_or("short run header")? as usize;
        let stream_count = read_u32(source, 22).ok_or("short run header")? as usize;
        let fixed = HEADER_BYTES + id_count * ID_ENTRY_BYTES + stream_count * 4;
        if source.bytes(fixed - 1, 1).is_none() {
            return Err("run shorter than its tables".into());
        }
        Ok(RunView {
            source,
            id_count,
            stream_count,
        })
    }

    /// The position of the run's last event.
    pub fn last_position(&self) -> Position {
        read_u64(self.source, 10).expect("checked in new")
    }

    fn id_at(&self, index: usize) -> Option<([u8; 16], Position)> {
        let at = HEADER_BYTES + index * ID_ENTRY_BYTES;
        Some((
            read_array(self.source, at)?,
            read_u64(self.source, at + 16)?,
        ))
    }

    /// The position of `event_id`, if the run holds it; `Err` when the run cannot be read.
    pub fn position_of(&self, event_id: &Uuid) -> Result<Option<Position>, String> {
        let wanted = event_id.as_bytes();
        let (mut low, mut high) = (0, self.id_count);
        while low < high {
            let middle = (low + high) / 2;
            let (id, position) = self.id_at(middle).ok_or("damaged id entry in run")?;
            match id.cmp(wanted) {
                std::cmp::Ordering::Equal => return Ok(Some(position)),
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
            }
        }
        Ok(None)
    }

    /// Every event id of the run, in id order; `Err` for one that cannot be read.
    pub fn ids(&self) -> impl Iterator<Item = Result<[u8; 16], String>> + '_ {
        (0..self.id_count).map(|index| {
            self.id_at(index)
                .map(|(id, _)| id)
                .ok_or_else(|| "damaged id entry in run".to_string())
        })
    }

    /// Every stream name of the run, in name order; `Err` for a damaged entry.
    pub fn stream_names(&self) -> impl Iterator<Item = Result<Cow<'a, [u8]>, String>> + '_ {
        (0..self.stream_count).map(|index| {
            self.stream_at(index)
                .map(|(name, _)| name)
                .ok_or_else(|| "damaged stream entry in run".to_string())
        })
    }

    fn stream_at(&self, index: usize) -> Option<(Cow<'a, [u8]>, RunStreamView<'a>)> {
        let offsets_at = HEADER_BYTES + self.id_count * ID_ENTRY_BYTES;
        let at = read_u32(self.source, offsets_at + index * 4)? as usize;
        let name_len = read_u16(self.source, at)? as usize;
        let name = self.source.bytes(at + 2, name_len)?;
        let first_version = read_u64(self.source, at + 2 + name_len)?;
        let count = read_u32(self.source, at + 10 + name_len)? as usize;
        let positions = self.source.bytes(at + 14 + name_len, count * 8)?;
        Some((
            name,
            RunStreamView {
                first_version,
                positions,
            },
        ))
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
            match found.as_ref().cmp(wanted) {
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
        let source = Contiguous(&bytes);
        let run = RunView::new(&source).unwrap();
        for (id, position) in &ids {
            assert_eq!(run.position_of(id).unwrap(), Some(*position));
        }
        assert_eq!(run.position_of(&Uuid::from_u128(1)).unwrap(), None);
        let z = run.stream("z").unwrap().unwrap();
        assert_eq!((z.first_version, z.last_version()), (9, 11));
        assert_eq!(z.positions().collect::<Vec<_>>(), vec![13, 14, 15]);
        assert!(run.stream("b").unwrap().is_none());
        assert!(RunView::new(&Contiguous(&bytes[..10])).is_err());
    }
}
