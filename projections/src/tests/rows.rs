//! The row cache: rows stay decoded across commits, the stored bytes are those of encoding each
//! write, a write set that never commits leaves nothing behind, and the cache keeps its bound.

use crate::apply::{apply_event, Decoded};
use crate::commit_journal::TreeUse;
use crate::keys::{id_key, Table, CHECKPOINT_KEY, FORMAT_KEY};
use crate::loyalty::LoyaltyOrder;
use crate::rows::RowCache;
use crate::store::{get, load_checkpoint, WriteSet};
use crate::usage::DailyUsage;
use crate::views::OrderView;
use chrono::NaiveDate;
use comptoir_eventlog::{EventMetadata, RecordedEvent};
use rust_decimal::Decimal;
use uuid::Uuid;

fn tree() -> (tempfile::TempDir, sled::Tree) {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new().path(dir.path()).open().unwrap();
    let tree = db.open_tree("state").unwrap();
    (dir, tree)
}

/// A tree whose row `key` was written as `day(1)` by commit 1, and the writer's row cache.
fn stored_once(key: &[u8]) -> (tempfile::TempDir, sled::Tree, RowCache) {
    let (dir, tree) = tree();
    let mut rows = RowCache::new(16);
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.to_vec(), &day(1)).unwrap();
    writes.commit(1, TreeUse::Current).unwrap();
    (dir, tree, rows)
}

fn day(orders: u64) -> DailyUsage {
    let mut day = DailyUsage::empty(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap());
    day.orders = orders;
    day
}

#[test]
fn a_commit_stores_each_write_as_json_with_the_checkpoint() {
    // Proves a cached write reaches the tree, as the JSON a direct encode gives, only at commit.
    let (_dir, tree) = tree();
    let mut rows = RowCache::new(16);
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::nil());
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(1)).unwrap();
    writes.put(key.clone(), &day(2)).unwrap();
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), Some(day(2)));
    assert!(
        tree.get(&key).unwrap().is_none(),
        "nothing stored before the commit"
    );
    writes.commit(7, TreeUse::Current).unwrap();
    let stored = tree.get(&key).unwrap().unwrap();
    assert_eq!(
        stored.as_ref(),
        serde_json::to_vec(&day(2)).unwrap().as_slice()
    );
    assert_eq!(load_checkpoint(&tree).unwrap(), 7);
    assert_eq!(rows.len(), 1, "the row stays decoded for the next commit");
}

#[test]
fn the_next_commit_reads_the_cached_row_and_stores_only_what_changed() {
    // Proves rows are read back from the cache across commits, and a row only read is not
    // written again (the tree is changed behind the cache to tell the two apart).
    let (_dir, tree) = tree();
    let mut rows = RowCache::new(16);
    let (a, b) = (
        id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(1)),
        id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(2)),
    );
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(a.clone(), &day(1)).unwrap();
    writes.put(b.clone(), &day(1)).unwrap();
    writes.commit(1, TreeUse::Current).unwrap();
    tree.insert(&a, serde_json::to_vec(&day(9)).unwrap())
        .unwrap();
    let mut writes = WriteSet::new(&tree, &mut rows);
    assert_eq!(writes.get::<DailyUsage>(&a).unwrap(), Some(day(1)));
    writes.put(b.clone(), &day(3)).unwrap();
    writes.commit(2, TreeUse::Current).unwrap();
    assert_eq!(get::<DailyUsage>(&tree, &a).unwrap(), Some(day(9)));
    assert_eq!(get::<DailyUsage>(&tree, &b).unwrap(), Some(day(3)));
}

#[test]
fn a_write_set_dropped_without_its_commit_empties_the_cache() {
    // Proves the writes of a commit that did not happen are never read as stored.
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::nil());
    let (_dir, tree, mut rows) = stored_once(&key);
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(5)).unwrap();
    drop(writes);
    assert_eq!(rows.len(), 0);
    let writes = WriteSet::new(&tree, &mut rows);
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), Some(day(1)));
    assert!(tree.get(CHECKPOINT_KEY).unwrap().is_some());
}

#[test]
fn a_row_cached_as_one_type_reads_as_another_through_its_json() {
    // Proves a read with another type sees what a read from the tree would (here, raw JSON).
    let (_dir, tree) = tree();
    let mut rows = RowCache::new(16);
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::nil());
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(4)).unwrap();
    let raw = writes.get::<serde_json::Value>(&key).unwrap().unwrap();
    assert_eq!(raw["orders"], serde_json::json!(4));
}

#[test]
fn past_its_bound_the_cache_keeps_only_the_rows_of_the_last_commit() {
    // Proves the cache stays bounded however many rows a replay touches.
    let (_dir, tree) = tree();
    let mut rows = RowCache::new(4);
    for commit in 0..3u64 {
        let mut writes = WriteSet::new(&tree, &mut rows);
        for n in 0..3u128 {
            let key = id_key(
                Table::DailyUsage,
                Uuid::nil(),
                Uuid::from_u128(u128::from(commit) * 10 + n),
            );
            writes.put(key, &day(1)).unwrap();
        }
        writes.commit(commit + 1, TreeUse::Current).unwrap();
        assert!(rows.len() <= 4, "{} rows cached", rows.len());
    }
    assert_eq!(rows.len(), 3);
    // Nine rows, the checkpoint and the format mark.
    assert_eq!(tree.len(), 3 * 3 + 2);
}

#[test]
fn a_removed_row_reads_as_absent_and_the_commit_deletes_it() {
    // Proves a deletion hides the stored row at once (the tree is not asked), is done by the
    // commit, and a write after it brings the row back.
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::nil());
    let (_dir, tree, mut rows) = stored_once(&key);
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.remove(key.clone());
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), None);
    assert!(tree.get(&key).unwrap().is_some(), "deleted only at commit");
    writes.commit(2, TreeUse::Current).unwrap();
    assert!(tree.get(&key).unwrap().is_none());
    let mut writes = WriteSet::new(&tree, &mut rows);
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), None);
    writes.remove(key.clone());
    writes.put(key.clone(), &day(4)).unwrap();
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), Some(day(4)));
    writes.commit(3, TreeUse::Current).unwrap();
    assert_eq!(get::<DailyUsage>(&tree, &key).unwrap(), Some(day(4)));
}

#[test]
fn a_row_written_then_removed_is_deleted_by_the_next_commit_and_only_once_written() {
    // Proves the commit visits each dirty key once, whatever happened to it in between: written
    // twice then removed, the tree loses it; written again in a later commit, it is back.
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(9));
    let (_dir, tree, mut rows) = stored_once(&key);
    assert!(tree.get(&key).unwrap().is_some());

    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(2)).unwrap();
    writes.remove(key.clone());
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), None);
    writes.commit(2, TreeUse::Current).unwrap();
    assert!(tree.get(&key).unwrap().is_none());
    assert_eq!(
        rows.len(),
        1,
        "a removed row stays known as absent after its commit"
    );

    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(3)).unwrap();
    writes.commit(3, TreeUse::Current).unwrap();
    assert_eq!(get::<DailyUsage>(&tree, &key).unwrap(), Some(day(3)));
}

#[test]
fn a_row_kept_decoded_by_a_read_is_still_stored_when_it_was_written() {
    // Proves `read_decoded` keeps a written row dirty (the commit stores it) and a row only read
    // clean (the commit leaves the tree alone: it is changed behind the cache to tell).
    let (_dir, tree) = tree();
    let mut rows = RowCache::new(16);
    let (written, read) = (
        id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(1)),
        id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(2)),
    );
    tree.insert(&read, serde_json::to_vec(&day(5)).unwrap())
        .unwrap();
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(written.clone(), &day(1)).unwrap();
    let orders = |row: Option<&DailyUsage>| row.map(|row| row.orders);
    assert_eq!(writes.read_decoded(&written, orders).unwrap(), Some(1));
    assert_eq!(writes.read_decoded(&read, orders).unwrap(), Some(5));
    tree.insert(&read, serde_json::to_vec(&day(6)).unwrap())
        .unwrap();
    let updated = id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(3));
    for _ in 0..2 {
        writes
            .update_decoded(updated.clone(), || day(0), |row| row.orders += 1)
            .unwrap();
    }
    writes.commit(1, TreeUse::Current).unwrap();
    assert_eq!(get::<DailyUsage>(&tree, &written).unwrap(), Some(day(1)));
    assert_eq!(get::<DailyUsage>(&tree, &updated).unwrap(), Some(day(2)));
    assert_eq!(
        get::<DailyUsage>(&tree, &read).unwrap(),
        Some(day(6)),
        "a row only read is not written back"
    );
}

#[test]
fn a_row_missing_from_the_tree_is_looked_up_once_and_a_later_write_still_shows() {
    // Proves the cache remembers a miss (a row many events look for and few create is read from
    // the tree once; a row added behind the cache stays unseen, which tells the two apart), and
    // that a write after the miss is read back and stored.
    let (_dir, tree) = tree();
    let mut rows = RowCache::new(16);
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::from_u128(7));
    let writes = WriteSet::new(&tree, &mut rows);
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), None);
    tree.insert(&key, serde_json::to_vec(&day(9)).unwrap())
        .unwrap();
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), None);
    writes.commit(1, TreeUse::Current).unwrap();
    let mut writes = WriteSet::new(&tree, &mut rows);
    assert_eq!(
        writes.get::<DailyUsage>(&key).unwrap(),
        None,
        "across commits too"
    );
    writes
        .update_decoded(key.clone(), || day(0), |row| row.orders += 2)
        .unwrap();
    assert_eq!(writes.get::<DailyUsage>(&key).unwrap(), Some(day(2)));
    writes.commit(2, TreeUse::Current).unwrap();
    assert_eq!(get::<DailyUsage>(&tree, &key).unwrap(), Some(day(2)));
}

#[test]
fn the_format_mark_is_stored_by_a_writer_once_and_again_after_a_failed_commit() {
    // Proves a writer's later commits leave the unchanged format mark out of their batch (the
    // mark is changed behind the cache to tell), the checkpoint is stored by each, and a write
    // set dropped without its commit makes the next commit store the mark again.
    let key = id_key(Table::DailyUsage, Uuid::nil(), Uuid::nil());
    let (_dir, tree, mut rows) = stored_once(&key);
    let mark = tree
        .get(FORMAT_KEY)
        .unwrap()
        .expect("the first commit stores the mark");
    tree.insert(FORMAT_KEY, b"behind".to_vec()).unwrap();
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(2)).unwrap();
    writes.commit(2, TreeUse::Current).unwrap();
    assert_eq!(load_checkpoint(&tree).unwrap(), 2);
    assert_eq!(tree.get(FORMAT_KEY).unwrap().unwrap().as_ref(), b"behind");
    drop(WriteSet::new(&tree, &mut rows));
    let mut writes = WriteSet::new(&tree, &mut rows);
    writes.put(key.clone(), &day(3)).unwrap();
    writes.commit(3, TreeUse::Current).unwrap();
    assert_eq!(tree.get(FORMAT_KEY).unwrap().unwrap(), mark);
}

#[test]
fn an_order_keeps_its_loyalty_in_its_row_and_reads_as_its_view() {
    // Proves what an order earned is stored in the order's row and read back from the tree by a
    // writer with an empty cache, while a query decodes the same row as the plain view.
    let (_dir, tree) = tree();
    let shop = Uuid::from_u128(0x5100);
    let order_id = Uuid::from_u128(2);
    let loyalty = LoyaltyOrder {
        customer_id: Uuid::from_u128(0xC0),
        points_per_unit: Decimal::ONE,
        paid_total: Decimal::new(5320, 2),
        credited_total: Decimal::ZERO,
        points: 53,
    };
    let recorded = RecordedEvent {
        position: 1,
        stream: format!("order-{order_id}"),
        stream_version: 1,
        event_id: Uuid::from_u128(1),
        event_type: "OrderPlaced".into(),
        schema_version: 1,
        recorded_at: super::at(1),
        metadata: EventMetadata::default(),
        payload: Vec::new(),
    };
    let placed = Decoded::Order(super::order_placed(shop, order_id, super::at(1)));
    let key = id_key(Table::Order, shop, order_id);
    let mut rows = RowCache::new(16);
    let mut writes = WriteSet::new(&tree, &mut rows);
    apply_event(&mut writes, &recorded, &placed).unwrap();
    let mut order = writes.take_order(&key).unwrap().expect("placed");
    let view = order.view.clone();
    order.loyalty = Some(loyalty.clone());
    writes.put_order(key.clone(), order);
    writes.commit(1, TreeUse::Current).unwrap();
    assert_eq!(get::<OrderView>(&tree, &key).unwrap(), Some(view.clone()));
    let mut fresh = RowCache::new(16);
    let mut writes = WriteSet::new(&tree, &mut fresh);
    let stored = writes.take_order(&key).unwrap().expect("the order");
    assert_eq!((stored.view, stored.loyalty), (view, Some(loyalty)));
}
