//! Reading many stored batches through a long-lived database without keeping them in memory.
//!
//! sled 0.34 counts page accesses in 256 LRU shards and only looks at a shard once 64 accesses
//! are queued in it; until then nothing in that shard is evicted. A scan touches each leaf of the
//! log a handful of times, so on a log of a few thousand leaves no shard ever fills and every
//! page read stays in memory (a 572 MB scan held 517 MB whatever `cache_capacity` said). An
//! `EvictingScan` that starts far behind the head reads the current key again `SLED_LRU_QUEUE_ACCESSES` times every
//! `NUDGE_EVERY_VALUES` values: that fills the leaf's shard, which then evicts its oldest pages
//! past the cache's share. Measured on that scan: 25 MB, at the same speed. Offline readers
//! reopen the database instead (`offline.rs`), which also frees pages of logs written before
//! batches were kept small (sled's cache never evicts a blob page; see
//! `STORED_BATCH_BYTES_TARGET`).

use sled::IVec;

/// Accesses after which sled 0.34 processes an LRU shard's queue (its `MAX_QUEUE_ITEMS`).
const SLED_LRU_QUEUE_ACCESSES: usize = 64;
/// Values read between two nudges: about half a leaf (sled splits leaves past 16 keys).
const NUDGE_EVERY_VALUES: usize = 8;
/// How far behind the head a scan must start to nudge at all: a live reader's fresh batches are
/// what the writer just cached anyway, and 64 reads per nudge would be a share of following the
/// log under load (the projection runner reads up to ~1,000 events a call).
pub(crate) const NUDGE_BEHIND_HEAD_EVENTS: u64 = 16_384;

/// A range of a tree, in key order, that lets sled evict what it read.
pub struct EvictingScan {
    tree: sled::Tree,
    values: sled::Iter,
    values_read: usize,
    nudging: bool,
}

impl EvictingScan {
    /// `values` of `tree`; `nudging` when the scan starts at least `NUDGE_BEHIND_HEAD_EVENTS`
    /// behind the head.
    pub(crate) fn new(tree: &sled::Tree, values: sled::Iter, nudging: bool) -> Self {
        EvictingScan {
            tree: tree.clone(),
            values,
            values_read: 0,
            nudging,
        }
    }

    fn nudge(&self, key: &IVec) {
        for _ in 0..SLED_LRU_QUEUE_ACCESSES {
            // Only a nudge: a failed read here is the next read's error to report.
            if self.tree.get(key).is_err() {
                return;
            }
        }
    }
}

impl Iterator for EvictingScan {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.values.next()?;
        if let Ok((key, _)) = &item {
            self.values_read += 1;
            if self.nudging && self.values_read.is_multiple_of(NUDGE_EVERY_VALUES) {
                self.nudge(key);
            }
        }
        Some(item)
    }
}
