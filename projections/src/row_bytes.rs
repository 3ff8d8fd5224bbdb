//! The bytes a JSON row is stored as: zstd with a dictionary trained on our own rows, tagged so
//! that plain JSON rows (those written before compression, and small ones) still read.
//!
//! Why: sled keeps what a tree holds in memory and rewrites whole nodes on every insert, so the
//! projections' cost in time and memory follows the bytes of their rows. Their rows are JSON
//! whose field names repeat in every row; against a dictionary that already holds them, a row
//! shrinks about six times (measured on the rebuild bench's log: 188 MB of rows to 29 MB).
//!
//! The stored bytes are deterministic (one zstd version from the lock file, one level, one
//! dictionary, no multithreading), so a replay stores the same bytes; the digest still hashes
//! the JSON itself (`logical`) so that it does not depend on how the rows are stored.

use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::display_key;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// First byte of a row compressed with dictionary 1. No JSON text starts with it (JSON starts
/// with whitespace, `{`, `[`, `"`, a digit, `-`, `t`, `f` or `n`), which tells the two apart.
const TAG_DICTIONARY_1: u8 = 0xC1;
/// Trained by `examples/train_row_dictionary.rs`; part of the stored format, never changed in
/// place (a new dictionary gets a new tag, and this one stays to read old rows).
static DICTIONARY_1: &[u8] = include_bytes!("../assets/row-dictionary-1.zdict");
/// zstd level: 3 compresses our rows as small as higher levels, at about level 1's speed.
const LEVEL: i32 = 3;
/// Rows shorter than this stay plain: zstd's frame header would eat what it saves.
const COMPRESS_FROM_BYTES: usize = 96;
/// The largest row a compressed frame may claim to expand to; a larger claim is corruption,
/// refused before any allocation.
const ROW_BYTES_MAX: u64 = 64 * 1024 * 1024;

fn encoder_dictionary() -> &'static EncoderDictionary<'static> {
    static DICTIONARY: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    DICTIONARY.get_or_init(|| EncoderDictionary::copy(DICTIONARY_1, LEVEL))
}

fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static DICTIONARY: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    DICTIONARY.get_or_init(|| DecoderDictionary::copy(DICTIONARY_1))
}

/// A compressor with a checksum in each frame, so a damaged row is refused rather than misread.
fn new_compressor() -> std::io::Result<zstd::bulk::Compressor<'static>> {
    let mut compressor = zstd::bulk::Compressor::with_prepared_dictionary(encoder_dictionary())?;
    compressor.set_parameter(zstd::stream::raw::CParameter::ChecksumFlag(true))?;
    Ok(compressor)
}

thread_local! {
    // A context per thread: creating one costs more than compressing a row.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored form of the JSON row `json` under `key`: the JSON itself, or a new compressed
/// frame.
pub(crate) fn stored<'a>(key: &[u8], json: &'a [u8]) -> ProjectionResult<Cow<'a, [u8]>> {
    if json.len() < COMPRESS_FROM_BYTES {
        return Ok(Cow::Borrowed(json));
    }
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(
                new_compressor()
                    .map_err(|error| corrupt(key, "cannot start compressing", error))?,
            ),
        };
        // The buffer is written from its start, so the tag goes in front afterwards.
        let mut out = Vec::with_capacity(1 + zstd::zstd_safe::compress_bound(json.len()));
        compressor
            .compress_to_buffer(json, &mut out)
            .map_err(|error| corrupt(key, "cannot compress", error))?;
        out.insert(0, TAG_DICTIONARY_1);
        // A row that does not shrink is kept plain: reading it then costs nothing.
        Ok(if out.len() < json.len() {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(json)
        })
    })
}

/// The JSON of the stored row `bytes` under `key`.
pub(crate) fn logical<'a>(key: &[u8], bytes: &'a [u8]) -> ProjectionResult<Cow<'a, [u8]>> {
    match bytes.split_first() {
        Some((&TAG_DICTIONARY_1, frame)) => decompress(key, frame).map(Cow::Owned),
        _ => Ok(Cow::Borrowed(bytes)),
    }
}

fn decompress(key: &[u8], frame: &[u8]) -> ProjectionResult<Vec<u8>> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= ROW_BYTES_MAX => size as usize,
        Ok(Some(size)) => {
            return Err(corrupt(key, "compressed row too large", size));
        }
        Ok(None) | Err(_) => {
            return Err(corrupt(key, "compressed row", "no content size"));
        }
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(decompressor) => decompressor,
            None => slot.insert(
                zstd::bulk::Decompressor::with_prepared_dictionary(decoder_dictionary())
                    .map_err(|error| corrupt(key, "cannot start decompressing", error))?,
            ),
        };
        let json = decompressor
            .decompress(frame, size)
            .map_err(|error| corrupt(key, "cannot decompress", error))?;
        if json.len() != size {
            return Err(corrupt(
                key,
                "compressed row",
                "shorter than its header says",
            ));
        }
        Ok(json)
    })
}

fn corrupt(key: &[u8], what: &str, detail: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Corrupt {
        key: display_key(key),
        reason: format!("{what}: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_like_row(n: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "order_id": format!("00000000-0000-0001-0000-{n:012}"),
            "status": "paid",
            "lines": [{"sku": "TIR-10x15", "quantity": n, "unit_price": "0.35",
                       "total_excl_vat": "0.29", "total_vat": "0.06", "total_incl_vat": "0.35"}],
            "placed_at": "2025-01-01T00:37:00Z",
        }))
        .expect("json")
    }

    #[test]
    fn a_large_row_is_stored_compressed_and_reads_back_as_its_json() {
        let json = order_like_row(7);
        let stored = stored(b"k", &json).expect("stored");
        assert_eq!(stored[0], TAG_DICTIONARY_1);
        assert!(
            stored.len() < json.len() / 2,
            "{} of {}",
            stored.len(),
            json.len()
        );
        assert_eq!(
            logical(b"k", &stored).expect("logical").as_ref(),
            json.as_slice()
        );
    }

    #[test]
    fn a_small_row_and_a_row_written_before_compression_read_as_they_are() {
        let small = br#"{"a":1}"#.to_vec();
        assert_eq!(stored(b"k", &small).expect("stored").as_ref(), small);
        let old = order_like_row(3);
        assert_eq!(
            logical(b"k", &old).expect("logical").as_ref(),
            old.as_slice()
        );
    }

    #[test]
    fn storing_is_deterministic() {
        let first = stored(b"k", &order_like_row(42))
            .expect("stored")
            .into_owned();
        let again = std::thread::spawn(|| {
            stored(b"k", &order_like_row(42))
                .expect("stored")
                .into_owned()
        })
        .join()
        .expect("thread");
        assert_eq!(first, again);
    }

    #[test]
    fn a_damaged_compressed_row_is_refused_not_misread() {
        let stored = stored(b"k", &order_like_row(9))
            .expect("stored")
            .into_owned();
        for cut in [1, 2, stored.len() / 2, stored.len() - 1] {
            assert!(logical(b"k", &stored[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = stored.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x55;
        assert!(logical(b"k", &flipped).is_err());
    }
}
