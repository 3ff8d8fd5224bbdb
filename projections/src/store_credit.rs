//! A customer's store credit (issue 4): what each credit note settled as store credit granted,
//! how much of it later orders spent, and what is left to spend.
//!
//! The row mirrors the domain's `store-credit-{customer_id}` stream event for event: it is keyed
//! by the `customer_id` the events carry (the account the glue resolved when granting and
//! spending, which keeps its id across email changes), and spends are applied through their
//! recorded allocations, so the per-note remainders are the ones the next spend will use and the
//! balance is exactly what `StoreCredit::balance` would answer. Nothing depends on the clock or
//! on hash order, so a replay gives the same bytes.

use crate::error::ProjectionResult;
use crate::keys::{id_key, Table};
use crate::store::{self, WriteSet};
use crate::Projections;
use chrono::{DateTime, Utc};
use comptoir_domain::store_credit::{CreditAllocation, StoreCreditEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One credit note turned into store credit. The row holds at most
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

    fn grant(&mut self, number: &str, amount: Decimal, granted_at: DateTime<Utc>) {
        // The domain grants a credit note once; a repeated event would count the credit twice.
        if self.credit_note(number).is_some() {
            tracing::warn!(
                credit_note_number = number,
                "store credit granted twice ignored"
            );
            return;
        }
        self.credit_notes.push(StoreCreditNoteView {
            credit_note_number: number.to_owned(),
            granted: amount,
            used: Decimal::ZERO,
            remaining: amount,
            granted_at,
            used_at: None,
        });
        self.granted += amount;
        self.available += amount;
    }

    fn spend(&mut self, allocations: &[CreditAllocation]) {
        for allocation in allocations {
            let note = self
                .credit_notes
                .iter_mut()
                .find(|note| note.credit_note_number == allocation.credit_note_number);
            let Some(note) = note else {
                tracing::warn!(
                    credit_note_number = allocation.credit_note_number,
                    "spend of store credit never granted ignored"
                );
                continue;
            };
            note.used += allocation.amount;
            note.remaining -= allocation.amount;
            self.used += allocation.amount;
            self.available -= allocation.amount;
        }
    }

    /// A cancelled order's spend given back to the notes it came from: the opposite of `spend`,
    /// so `used` counts what is spent for good.
    fn restore(&mut self, allocations: &[CreditAllocation]) {
        for allocation in allocations {
            let note = self
                .credit_notes
                .iter_mut()
                .find(|note| note.credit_note_number == allocation.credit_note_number);
            let Some(note) = note else {
                tracing::warn!(
                    credit_note_number = allocation.credit_note_number,
                    "restore of store credit never granted ignored"
                );
                continue;
            };
            note.used -= allocation.amount;
            note.remaining += allocation.amount;
            self.used -= allocation.amount;
            self.available += allocation.amount;
        }
    }

    fn unmark_used(&mut self, number: &str) {
        if let Some(note) = self
            .credit_notes
            .iter_mut()
            .find(|note| note.credit_note_number == number)
        {
            note.used_at = None;
        }
    }

    fn mark_used(&mut self, number: &str, used_at: DateTime<Utc>) {
        if let Some(note) = self
            .credit_notes
            .iter_mut()
            .find(|note| note.credit_note_number == number)
        {
            note.used_at = Some(used_at);
        }
    }
}

impl Projections {
    /// The customer's store credit (an empty one if none was ever granted).
    pub fn store_credit(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
    ) -> ProjectionResult<StoreCreditView> {
        let view: Option<StoreCreditView> = store::get(
            &self.tree(),
            &id_key(Table::StoreCredit, shop_id, customer_id),
        )?;
        Ok(view.unwrap_or_else(|| StoreCreditView::empty(customer_id)))
    }
}

/// Applies one event of a store credit stream to its customer's row.
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
    let row_key = id_key(Table::StoreCredit, shop_id, customer_id);
    // Kept decoded between events: the row lists every credit note the customer was granted.
    let mut view = writes
        .take_decoded::<StoreCreditView>(&row_key)?
        .unwrap_or_else(|| StoreCreditView::empty(customer_id));
    match event {
        StoreCreditEvent::StoreCreditGranted {
            credit_note_number,
            amount,
            granted_at,
            ..
        } => view.grant(credit_note_number, *amount, *granted_at),
        StoreCreditEvent::StoreCreditSpent { allocations, .. } => view.spend(allocations),
        StoreCreditEvent::CreditNoteUsed {
            credit_note_number,
            used_at,
            ..
        } => view.mark_used(credit_note_number, *used_at),
        StoreCreditEvent::StoreCreditRestored { allocations, .. } => view.restore(allocations),
        StoreCreditEvent::CreditNoteUseReverted {
            credit_note_number, ..
        } => view.unmark_used(credit_note_number),
    }
    // Paired with the domain's refusal to overspend: the row must agree with the stream.
    debug_assert_eq!(
        view.available,
        view.credit_notes
            .iter()
            .map(|note| note.remaining)
            .sum::<Decimal>(),
        "store credit balance of {customer_id} disagrees with its notes"
    );
    writes.put_decoded(row_key, view);
    Ok(())
}
