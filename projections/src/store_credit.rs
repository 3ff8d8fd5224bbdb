//! A customer's store credit (issue 4): what each credit note settled as store credit granted,
//! how much of it later orders spent, and what is left to spend.
//!
//! The rows mirror the domain's `store-credit-{customer_id}` stream event for event: they are keyed
//! by the `customer_id` the events carry (the account the glue resolved when granting and
//! spending, which keeps its id across email changes), and spends are applied through their
//! recorded allocations, so the per-note remainders are the ones the next spend will use and the
//! balance is exactly what `StoreCredit::balance` would answer. Nothing depends on the clock or
//! on hash order, so a replay gives the same bytes.

use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::{id_key, Table};
use crate::store::{self, WriteSet};
use crate::Projections;
use chrono::{DateTime, Utc};
use comptoir_domain::limits::STORE_CREDIT_GRANTS_MAX;
use comptoir_domain::store_credit::{CreditAllocation, StoreCreditEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One credit note turned into store credit. A customer holds at most
/// `comptoir_domain::limits::STORE_CREDIT_GRANTS_MAX` of them, the domain's own bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCreditNoteView {
    pub credit_note_number: String,
    /// The credit the note granted (its total incl. VAT).
    pub granted: Decimal,
    /// Spent on later orders so far, less what their cancellations gave back.
    pub used: Decimal,
    /// `granted − used`: still spendable.
    pub remaining: Decimal,
    pub granted_at: DateTime<Utc>,
    /// When the last of it was spent; `None` again once a restore gives some of it back.
    pub used_at: Option<DateTime<Utc>>,
}

/// A customer's store credit: the balance and every credit note that makes it, oldest first
/// (the order spending takes them in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCreditView {
    pub customer_id: Uuid,
    /// Spendable now: the sum of the notes' remainders.
    pub available: Decimal,
    /// All credit ever granted.
    pub granted: Decimal,
    /// All credit spent, less what cancelled orders gave back.
    pub used: Decimal,
    pub credit_notes: Vec<StoreCreditNoteView>,
}

impl StoreCreditView {
    /// The store credit of a customer who was never granted any.
    pub fn empty(customer_id: Uuid) -> Self {
        StoreCreditView {
            customer_id,
            available: Decimal::ZERO,
            granted: Decimal::ZERO,
            used: Decimal::ZERO,
            credit_notes: Vec::new(),
        }
    }

    /// The note `number`, if it granted credit to this customer.
    pub fn credit_note(&self, number: &str) -> Option<&StoreCreditNoteView> {
        self.credit_notes
            .iter()
            .find(|note| note.credit_note_number == number)
    }
}

/// What a customer's store credit adds up to, stored apart from its notes: a grant, a spend or
/// a use then rewrites this small row and the notes it touches, never the whole list (up to
/// `STORE_CREDIT_GRANTS_MAX` notes, re-encoded on every change when they were one row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoreCreditTotals {
    available: Decimal,
    granted: Decimal,
    used: Decimal,
    /// Notes granted so far: the sequence of the next one.
    notes: u32,
}

/// One note as stored, with its place in the grant order (the order spending takes them in and
/// the list shows them in), since the rows are keyed by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredNote {
    seq: u32,
    note: StoreCreditNoteView,
}

fn totals_key(shop_id: Uuid, customer_id: Uuid) -> Vec<u8> {
    id_key(Table::StoreCredit, shop_id, customer_id)
}

/// Keyed by number, so that a spend or a use reaches its note without an index.
fn note_key(shop_id: Uuid, customer_id: Uuid, number: &str) -> Vec<u8> {
    let mut key = notes_prefix(shop_id, customer_id);
    key.extend_from_slice(number.as_bytes());
    key
}

fn notes_prefix(shop_id: Uuid, customer_id: Uuid) -> Vec<u8> {
    id_key(Table::StoreCreditNote, shop_id, customer_id)
}

impl Projections {
    /// The customer's store credit (an empty one if none was ever granted).
    pub fn store_credit(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
    ) -> ProjectionResult<StoreCreditView> {
        // The totals and the notes as of one commit, so that they agree.
        self.read_models_snapshot(|| self.read_store_credit(shop_id, customer_id))
    }

    pub(crate) fn read_store_credit(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
    ) -> ProjectionResult<StoreCreditView> {
        let tree = self.tree();
        let Some(totals) =
            store::get::<StoreCreditTotals>(&tree, &totals_key(shop_id, customer_id))?
        else {
            return Ok(StoreCreditView::empty(customer_id));
        };
        let mut notes = Vec::new();
        for entry in tree.scan_prefix(notes_prefix(shop_id, customer_id)) {
            // The domain grants at most this many; more rows would be a damaged tree.
            if notes.len() == STORE_CREDIT_GRANTS_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "store credit notes of one customer".into(),
                    limit: STORE_CREDIT_GRANTS_MAX,
                });
            }
            let (key, value) = entry?;
            notes.push(store::decode_value::<StoredNote>(&key, &value)?);
        }
        notes.sort_by_key(|stored| stored.seq);
        Ok(StoreCreditView {
            customer_id,
            available: totals.available,
            granted: totals.granted,
            used: totals.used,
            credit_notes: notes.into_iter().map(|stored| stored.note).collect(),
        })
    }
}

/// Applies one event of a store credit stream to its customer's rows.
pub(crate) fn apply(writes: &mut WriteSet, event: &StoreCreditEvent) -> ProjectionResult<()> {
    let (shop_id, customer_id) = match event {
        StoreCreditEvent::StoreCreditGranted {
            shop_id,
            customer_id,
            ..
        }
        | StoreCreditEvent::StoreCreditSpent {
            shop_id,
            customer_id,
            ..
        }
        | StoreCreditEvent::CreditNoteUsed {
            shop_id,
            customer_id,
            ..
        }
        | StoreCreditEvent::StoreCreditRestored {
            shop_id,
            customer_id,
            ..
        }
        | StoreCreditEvent::CreditNoteUseReverted {
            shop_id,
            customer_id,
            ..
        } => (*shop_id, *customer_id),
    };
    let row_key = totals_key(shop_id, customer_id);
    // Kept decoded between events: a customer's grants and spends often share a commit.
    let mut totals = writes
        .take_decoded::<StoreCreditTotals>(&row_key)?
        .unwrap_or(StoreCreditTotals {
            available: Decimal::ZERO,
            granted: Decimal::ZERO,
            used: Decimal::ZERO,
            notes: 0,
        });
    let applied = match event {
        StoreCreditEvent::StoreCreditGranted {
            credit_note_number,
            amount,
            granted_at,
            ..
        } => grant(
            writes,
            (shop_id, customer_id),
            &mut totals,
            credit_note_number,
            *amount,
            *granted_at,
        ),
        StoreCreditEvent::StoreCreditSpent { allocations, .. } => move_credit(
            writes,
            (shop_id, customer_id),
            &mut totals,
            (allocations, Direction::Spend),
        ),
        StoreCreditEvent::StoreCreditRestored { allocations, .. } => move_credit(
            writes,
            (shop_id, customer_id),
            &mut totals,
            (allocations, Direction::Restore),
        ),
        StoreCreditEvent::CreditNoteUsed {
            credit_note_number,
            used_at,
            ..
        } => change_note(writes, (shop_id, customer_id), credit_note_number, |note| {
            note.used_at = Some(*used_at);
        })
        .map(|_| ()),
        StoreCreditEvent::CreditNoteUseReverted {
            credit_note_number, ..
        } => change_note(writes, (shop_id, customer_id), credit_note_number, |note| {
            note.used_at = None;
        })
        .map(|_| ()),
    };
    // Put back even when a note failed to read: the write set is then dropped with its cache.
    writes.put_decoded(row_key, totals);
    applied
}

/// The shop and the customer whose store credit an event changes.
type Holder = (Uuid, Uuid);

fn grant(
    writes: &mut WriteSet,
    (shop_id, customer_id): Holder,
    totals: &mut StoreCreditTotals,
    number: &str,
    amount: Decimal,
    granted_at: DateTime<Utc>,
) -> ProjectionResult<()> {
    let key = note_key(shop_id, customer_id, number);
    // The domain grants a credit note once; a repeated event would count the credit twice.
    if writes.get::<StoredNote>(&key)?.is_some() {
        tracing::warn!(
            credit_note_number = number,
            "store credit granted twice ignored"
        );
        return Ok(());
    }
    totals.notes += 1;
    totals.granted += amount;
    totals.available += amount;
    let stored = StoredNote {
        seq: totals.notes,
        note: StoreCreditNoteView {
            credit_note_number: number.to_owned(),
            granted: amount,
            used: Decimal::ZERO,
            remaining: amount,
            granted_at,
            used_at: None,
        },
    };
    writes.put(key, &stored)
}

/// Moves each allocation's amount from available to used: a spend (`Direction::Spend`), or back
/// for a cancelled order's spend given back to the notes it came from (`Direction::Restore`), so
/// `used` counts what is spent for good.
fn move_credit(
    writes: &mut WriteSet,
    holder: Holder,
    totals: &mut StoreCreditTotals,
    (allocations, direction): (&[CreditAllocation], Direction),
) -> ProjectionResult<()> {
    for allocation in allocations {
        let amount = match direction {
            Direction::Spend => allocation.amount,
            Direction::Restore => -allocation.amount,
        };
        let moved = change_note(writes, holder, &allocation.credit_note_number, |note| {
            note.used += amount;
            note.remaining -= amount;
            // Paired with the domain's refusal to overspend: a note never goes below zero.
            debug_assert!(note.remaining >= Decimal::ZERO, "{note:?} overspent");
        })?;
        if moved {
            totals.used += amount;
            totals.available -= amount;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Direction {
    Spend,
    Restore,
}

/// Changes the note `number` of the holder; false (logged) when it was never granted to them.
fn change_note(
    writes: &mut WriteSet,
    (shop_id, customer_id): Holder,
    number: &str,
    change: impl FnOnce(&mut StoreCreditNoteView),
) -> ProjectionResult<bool> {
    let key = note_key(shop_id, customer_id, number);
    let Some(mut stored) = writes.get::<StoredNote>(&key)? else {
        tracing::warn!(
            credit_note_number = number,
            "store credit of a note never granted ignored"
        );
        return Ok(false);
    };
    change(&mut stored.note);
    writes.put(key, &stored)?;
    Ok(true)
}
