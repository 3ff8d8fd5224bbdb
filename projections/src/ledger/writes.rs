//! The ledger's tree: its layout, and the write set of one commit.

use super::post::post_event;
use super::{AccountBalance, LedgerEntry};
use crate::apply::Decoded;
use crate::commit_journal::TreeUse;
use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::display_key;
use crate::packed::{self, PackedItem};
use crate::rows::{RowCache, Typed};
use crate::store::{cached_get, commit_rows, json_of, take_cached};
use chrono::{Datelike, NaiveDate};
use comptoir_eventlog::{Position, RecordedEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use uuid::Uuid;

/// The tables of the ledger tree. The tag values are part of the stored format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum LedgerTable {
    /// Bookkeeping: the checkpoint (excluded from the digest).
    Meta = 0x00,
    /// shop → `LedgerShop`.
    Shop = 0x01,
    /// shop, SKU → the product's category id.
    ProductCategory = 0x02,
    /// The journal's list: shop, local day (YYYYMMDD, u32 BE), entry number. Up to format 4 each
    /// entry was a row under this tag; since, the tag only marks the journal's cursors (which
    /// hold that key suffix) and the entries are stored packed (`EntryPack`). Not to be reused.
    Entry = 0x04,
    /// shop → the last entry number given.
    EntryCounter = 0x05,
    /// shop, local month (YYYYMM, u32 BE), account → `AccountBalance`.
    Balance = 0x06,
    /// shop, order id → `OrderParty`.
    OrderParty = 0x07,
    /// shop → the IANA name of the zone its days are counted in, as its events last set it.
    TimeZone = 0x08,
    /// shop, id an email derives to → the account that moved to that email (its claim).
    CustomerAlias = 0x09,
    /// shop, local day, entry number / `ITEMS_PER_PACKED_ROW` → up to that many `LedgerEntry`s
    /// of the day, by number (`crate::packed`).
    EntryPack = 0x0a,
}

pub(crate) const LEDGER_CHECKPOINT_KEY: &[u8] = &[LedgerTable::Meta as u8, b'c'];

/// Where the stored format of the tree is written (bookkeeping: excluded from the digest).
pub(crate) const LEDGER_FORMAT_KEY: &[u8] = &[LedgerTable::Meta as u8, b'f'];

/// The stored format of the ledger tree, written with every commit. A tree holding entries
/// without it, or with another number, was written by other code and is replayed from the log
/// (`engine::open_current_tree`). Format 1 (never written) keyed entries and balances by UTC
/// day and month; format 2 keys them by the shop's local day and month and adds the zone table;
/// format 3 adds the alias table and posts an order placed with an email an account moved to on
/// that account's auxiliary account (format 2 posted it on the id the email derives to); format 4
/// keeps each shop's fiscal calendar (every closing day and when it changed) where format 3 kept
/// only the closing day in force; format 5 stores the entries 32 to a row (`EntryPack`, see
/// `crate::packed`) where format 4 stored a row per entry (`Entry`).
pub(crate) const LEDGER_FORMAT: u32 = 5;

pub(crate) fn ledger_key(table: LedgerTable, shop_id: Uuid, suffix: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 16 + suffix.len());
    key.push(table as u8);
    key.extend_from_slice(shop_id.as_bytes());
    key.extend_from_slice(suffix);
    key
}

/// A month as the 4 big-endian bytes of YYYYMM, so months sort in time order.
pub(crate) fn month_bytes(day: NaiveDate) -> [u8; 4] {
    month_number(day.year(), day.month()).to_be_bytes()
}

/// A day as the 4 big-endian bytes of YYYYMMDD, so days sort in time order.
pub(crate) fn day_bytes(day: NaiveDate) -> [u8; 4] {
    (month_number(day.year(), day.month()) * 100 + day.day()).to_be_bytes()
}

pub(crate) fn month_number(year: i32, month: u32) -> u32 {
    (year.max(0) as u32) * 100 + month
}

/// An entry's place in the journal: its local day, then its number.
impl PackedItem for LedgerEntry {
    const SUFFIX_BYTES: usize = 4 + 8;
    const COUNTER_BYTES: usize = 8;

    fn suffix(&self) -> Vec<u8> {
        let mut suffix = day_bytes(self.local_date).to_vec();
        suffix.extend_from_slice(&self.entry_number.to_be_bytes());
        suffix
    }
}

/// Where a shop's entries are stored (packed, `LedgerTable::EntryPack`).
pub(crate) fn entries_prefix(shop_id: Uuid) -> Vec<u8> {
    ledger_key(LedgerTable::EntryPack, shop_id, &[])
}

/// The writes of one commit, read back by later events of the same commit. Rows stay decoded in
/// a `RowCache` across commits (the shop and its mapping, the entry counter and the month's
/// balances are read by nearly every posting); the commit encodes each changed row once.
pub(crate) struct LedgerWrites<'a> {
    tree: &'a sled::Tree,
    rows: RefCell<&'a mut RowCache>,
    committed: bool,
}

impl<'a> LedgerWrites<'a> {
    pub fn new(tree: &'a sled::Tree, rows: &'a mut RowCache) -> Self {
        LedgerWrites {
            tree,
            rows: RefCell::new(rows),
            committed: false,
        }
    }

    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> ProjectionResult<Option<T>> {
        cached_get(self.tree, &mut self.rows.borrow_mut(), key)
    }

    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> ProjectionResult<()> {
        let json = json_of(&key, value)?;
        self.rows.get_mut().put_json(key, json);
        Ok(())
    }

    /// Adds `entry` to the shop's journal.
    pub fn add_entry(&mut self, shop_id: Uuid, entry: LedgerEntry) -> ProjectionResult<()> {
        packed::add(
            self.tree,
            self.rows.get_mut(),
            &entries_prefix(shop_id),
            entry,
        )
    }

    /// Adds `debit` and `credit` to the balance under `key`.
    pub fn add_to_balance(
        &mut self,
        key: Vec<u8>,
        debit: rust_decimal::Decimal,
        credit: rust_decimal::Decimal,
    ) -> ProjectionResult<()> {
        // Kept decoded: every posting of the month adds to it.
        let rows = self.rows.get_mut();
        let mut balance = take_cached::<AccountBalance>(self.tree, rows, &key)?.unwrap_or_default();
        balance.debit += debit;
        balance.credit += credit;
        rows.insert(key, Box::new(Typed(balance)), true);
        Ok(())
    }

    /// Writes every change, the format and the checkpoint as one commit, atomic across a crash
    /// for a tree in use (`commit_journal`, `TreeUse`).
    pub fn commit(mut self, checkpoint: Position, tree_use: TreeUse) -> ProjectionResult<()> {
        // The format goes with every commit, so any tree holding entries says which it is in.
        let bookkeeping: [(&[u8], &[u8]); 2] = [
            (LEDGER_CHECKPOINT_KEY, &checkpoint.to_be_bytes()),
            (LEDGER_FORMAT_KEY, &LEDGER_FORMAT.to_be_bytes()),
        ];
        commit_rows(self.tree, self.rows.get_mut(), &bookkeeping, tree_use)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for LedgerWrites<'_> {
    /// Rows written by a commit that did not happen must not be read as stored.
    fn drop(&mut self) {
        if !self.committed {
            self.rows.get_mut().clear();
        }
    }
}

/// The checkpoint stored in the ledger tree; 0 when nothing was posted yet.
pub(crate) fn load_ledger_checkpoint(tree: &sled::Tree) -> ProjectionResult<Position> {
    match tree.get(LEDGER_CHECKPOINT_KEY)? {
        Some(bytes) => {
            let array: [u8; 8] =
                bytes
                    .as_ref()
                    .try_into()
                    .map_err(|_| ProjectionError::Corrupt {
                        key: display_key(LEDGER_CHECKPOINT_KEY),
                        reason: "the checkpoint is not 8 bytes".into(),
                    })?;
            Ok(Position::from_be_bytes(array))
        }
        None => Ok(0),
    }
}

/// True when `tree` holds a ledger written in a format other than `LEDGER_FORMAT` (a tree that
/// never committed holds nothing to misread).
pub(crate) fn ledger_format_is_stale(tree: &sled::Tree) -> ProjectionResult<bool> {
    if load_ledger_checkpoint(tree)? == 0 {
        return Ok(false);
    }
    let stored = tree.get(LEDGER_FORMAT_KEY)?;
    Ok(stored.as_deref() != Some(&LEDGER_FORMAT.to_be_bytes()[..]))
}

/// Posts `events` (decoded once by the caller) and commits them with `checkpoint`.
pub(crate) fn apply_chunk(
    tree: &sled::Tree,
    rows: &mut RowCache,
    events: &[(&RecordedEvent, Option<&Decoded>)],
    checkpoint: Position,
    tree_use: TreeUse,
) -> ProjectionResult<()> {
    let mut writes = LedgerWrites::new(tree, rows);
    for (recorded, decoded) in events {
        if let Some(decoded) = decoded {
            post_event(&mut writes, recorded, decoded)?;
        }
    }
    writes.commit(checkpoint, tree_use)
}
