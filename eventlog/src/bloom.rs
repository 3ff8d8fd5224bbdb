//! A small Bloom filter with a hash that is fixed forever, because filters are persisted: a hash
//! that changed between builds would turn stored filters into false negatives.

const BITS_PER_ITEM: usize = 10;
const HASH_COUNT: u64 = 7;
const FORMAT_V1: u8 = 1;

/// FNV-1a, then two splitmix64 finalisers for double hashing.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    pub fn with_capacity(items: usize) -> Self {
        let bits = (items * BITS_PER_ITEM).max(64);
        Bloom {
            words: vec![0; bits.div_ceil(64)],
        }
    }

    fn bit_indexes(&self, hash: u64) -> impl Iterator<Item = usize> {
        let bit_count = self.words.len() as u64 * 64;
        let first = mix(hash);
        let step = mix(hash ^ 0x5555_5555_5555_5555) | 1;
        (0..HASH_COUNT)
            .map(move |i| (first.wrapping_add(i.wrapping_mul(step)) % bit_count) as usize)
    }

    pub fn insert(&mut self, hash: u64) {
        for bit in self.bit_indexes(hash).collect::<Vec<_>>() {
            self.words[bit / 64] |= 1 << (bit % 64);
        }
    }

    pub fn may_contain(&self, hash: u64) -> bool {
        self.bit_indexes(hash)
            .all(|bit| self.words[bit / 64] & (1 << (bit % 64)) != 0)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(1 + self.words.len() * 8);
        bytes.push(FORMAT_V1);
        for word in &self.words {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let (format, body) = bytes.split_first().ok_or("empty bloom filter")?;
        if *format != FORMAT_V1 || body.is_empty() || body.len() % 8 != 0 {
            return Err("malformed bloom filter".into());
        }
        let words = body
            .chunks_exact(8)
            .map(|chunk| u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
            .collect();
        Ok(Bloom { words })
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Proves there are no false negatives and few false positives at the configured density.
    #[test]
    fn no_false_negatives_and_rare_false_positives() {
        let mut bloom = Bloom::with_capacity(10_000);
        for i in 0..10_000u64 {
            bloom.insert(stable_hash(&i.to_le_bytes()));
        }
        assert!((0..10_000u64).all(|i| bloom.may_contain(stable_hash(&i.to_le_bytes()))));
        let false_positives = (10_000..110_000u64)
            .filter(|i| bloom.may_contain(stable_hash(&i.to_le_bytes())))
            .count();
        assert!(
            false_positives < 3_000,
            "{false_positives} false positives in 100000"
        );
        assert_eq!(Bloom::from_bytes(&bloom.to_bytes()).unwrap(), bloom);
    }

    // Proves the hash is the one persisted filters were built with.
    #[test]
    fn hash_is_stable() {
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
