//! Store credit of one customer in one shop: granted by credit notes settled as store credit,
//! spent as a payment on later orders, never below zero.
//!
//! One stream per customer (`store-credit-{customer_id}`, the id from `customer::customer_id_for`,
//! which also exists for guests since it derives from the email). Spending allocates the oldest
//! credit notes first; a credit note whose amount is fully spent is marked used (`CreditNoteUsed`).
//! The glue appends `StoreCreditSpent` atomically with the order's `PaymentRecorded` (method
//! `store_credit`, same `payment_id`), with this stream's exact expected version, so two orders can
//! never spend the same euro.
//!
//! A cancelled, partly paid order gives back what it spent (`Restore` → `StoreCreditRestored`),
//! note by note through the spends' own allocations, so each note's remainder is again what it
//! was before the order; a note that the order had used up is available again
//! (`CreditNoteUseReverted`, the counterpart of `CreditNoteUsed`). The glue appends it with the
//! order's `OrderCancelled`, whose store-credit refund row it must match to the cent.

use crate::limits::{REFERENCE_CHARS_MAX, STORE_CREDIT_GRANTS_MAX};
use crate::money::validate_amount;
use crate::text::validate_text;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Stream of one customer's store credit.
pub fn stream_id(customer_id: Uuid) -> String {
    format!("{}-{customer_id}", StoreCredit::STREAM_KIND)
}

#[derive(Debug, Clone)]
pub enum StoreCreditCommand {
    Grant {
        shop_id: Uuid,
        customer_id: Uuid,
        credit_note_number: String,
        amount: Decimal,
    },
    Spend {
        shop_id: Uuid,
        customer_id: Uuid,
        payment_id: Uuid,
        order_id: Uuid,
        amount: Decimal,
    },
    /// Gives back everything `order_id` spent, which must be `amount` (the store-credit part of
    /// the order's cancellation refund), so the stream never disagrees with the books.
    Restore {
        shop_id: Uuid,
        customer_id: Uuid,
        order_id: Uuid,
        amount: Decimal,
    },
}

/// How much of one credit note a spend used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditAllocation {
    pub credit_note_number: String,
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreCreditEvent {
    StoreCreditGranted {
        shop_id: Uuid,
        customer_id: Uuid,
        credit_note_number: String,
        amount: Decimal,
        granted_at: DateTime<Utc>,
    },
    StoreCreditSpent {
        shop_id: Uuid,
        customer_id: Uuid,
        payment_id: Uuid,
        order_id: Uuid,
        amount: Decimal,
        allocations: Vec<CreditAllocation>,
        spent_at: DateTime<Utc>,
    },
    /// The whole amount of this credit note has been spent.
    CreditNoteUsed {
        shop_id: Uuid,
        customer_id: Uuid,
        credit_note_number: String,
        used_at: DateTime<Utc>,
    },
    /// What a cancelled order spent, given back to the notes it was taken from (`allocations`:
    /// the order's spends summed per note, in the order the notes were granted).
    StoreCreditRestored {
        shop_id: Uuid,
        customer_id: Uuid,
        order_id: Uuid,
        amount: Decimal,
        allocations: Vec<CreditAllocation>,
        restored_at: DateTime<Utc>,
    },
    /// This credit note, used up, has credit again (a restore gave some of it back).
    CreditNoteUseReverted {
        shop_id: Uuid,
        customer_id: Uuid,
        credit_note_number: String,
        reverted_at: DateTime<Utc>,
    },
}

impl DomainEvent for StoreCreditEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StoreCreditEvent::StoreCreditGranted { .. } => "StoreCreditGranted",
            StoreCreditEvent::StoreCreditSpent { .. } => "StoreCreditSpent",
            StoreCreditEvent::CreditNoteUsed { .. } => "CreditNoteUsed",
            StoreCreditEvent::StoreCreditRestored { .. } => "StoreCreditRestored",
            StoreCreditEvent::CreditNoteUseReverted { .. } => "CreditNoteUseReverted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditGrant {
    pub credit_note_number: String,
    pub amount: Decimal,
    pub remaining: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreCredit {
    pub shop_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// In the order granted; spending takes the oldest first.
    pub grants: Vec<CreditGrant>,
    /// payment id → the spend; one per payment, as before restores existed, so a restore adds
    /// no entry: it marks its order's spends restored and drops their allocations.
    pub spends: BTreeMap<Uuid, CreditSpend>,
}

/// One payment made with store credit, as a retried payment and a restore need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditSpend {
    pub order_id: Uuid,
    pub amount: Decimal,
    /// Where it was taken from, until it is given back (then empty: nothing reads it again).
    /// At most one more than the notes this spend used up, so never more than the grants.
    pub allocations: Vec<CreditAllocation>,
    pub restored: bool,
}

impl StoreCredit {
    pub fn balance(&self) -> Decimal {
        self.grants.iter().map(|g| g.remaining).sum()
    }

    /// Whether `order_id` spent any of this credit (given back since or not).
    pub fn spent_by(&self, order_id: Uuid) -> bool {
        self.spends.values().any(|spend| spend.order_id == order_id)
    }

    fn check_owner(&self, shop_id: Uuid, customer_id: Uuid) -> Result<(), DomainError> {
        let other_shop = self.shop_id.is_some_and(|id| id != shop_id);
        let other_customer = self.customer_id.is_some_and(|id| id != customer_id);
        if other_shop || other_customer {
            return Err(DomainError::conflict(
                "shop-mismatch",
                "this store credit belongs to another customer",
            ));
        }
        Ok(())
    }

    fn decide_grant(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        number: &str,
        amount: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreCreditEvent>, DomainError> {
        if let Some(existing) = self.grants.iter().find(|g| g.credit_note_number == number) {
            // A credit note grants its credit once; the same grant retried is not an error.
            return if existing.amount == amount {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("store credit", number))
            };
        }
        validate_text("credit_note_number", number, REFERENCE_CHARS_MAX)?;
        validate_amount("amount", amount, false)?;
        if self.grants.len() >= STORE_CREDIT_GRANTS_MAX {
            return Err(DomainError::LimitExceeded {
                what: "store credit grants",
                limit: STORE_CREDIT_GRANTS_MAX as u64,
            });
        }
        Ok(vec![StoreCreditEvent::StoreCreditGranted {
            shop_id,
            customer_id,
            credit_note_number: number.to_owned(),
            amount,
            granted_at: now,
        }])
    }

    fn decide_spend(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        payment_id: Uuid,
        order_id: Uuid,
        amount: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreCreditEvent>, DomainError> {
        if let Some(existing) = self.spends.get(&payment_id) {
            let same = existing.order_id == order_id && existing.amount == amount;
            return if same {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("payment", payment_id))
            };
        }
        validate_amount("amount", amount, false)?;
        let available = self.balance();
        if amount > available {
            return Err(DomainError::InsufficientStoreCredit {
                available,
                requested: amount,
            });
        }
        let (allocations, used) = self.allocate(amount);
        let mut events = vec![StoreCreditEvent::StoreCreditSpent {
            shop_id,
            customer_id,
            payment_id,
            order_id,
            amount,
            allocations,
            spent_at: now,
        }];
        events.extend(used.into_iter().map(|credit_note_number| {
            StoreCreditEvent::CreditNoteUsed {
                shop_id,
                customer_id,
                credit_note_number,
                used_at: now,
            }
        }));
        Ok(events)
    }

    fn decide_restore(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        order_id: Uuid,
        amount: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreCreditEvent>, DomainError> {
        validate_amount("amount", amount, false)?;
        let spends: Vec<&CreditSpend> = self
            .spends
            .values()
            .filter(|spend| spend.order_id == order_id)
            .collect();
        let sum = |restored: bool| -> Decimal {
            let matching = spends.iter().filter(|spend| spend.restored == restored);
            matching.map(|spend| spend.amount).sum()
        };
        let (outstanding, restored) = (sum(false), sum(true));
        if outstanding.is_zero() && restored.is_zero() {
            return Err(DomainError::conflict(
                "store-credit-not-spent",
                format!("order {order_id} spent no store credit of this customer"),
            ));
        }
        if outstanding.is_zero() {
            // The same restore retried: already given back, nothing more to record.
            return if restored == amount {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists(
                    "store credit restore",
                    order_id,
                ))
            };
        }
        if outstanding != amount {
            return Err(DomainError::conflict(
                "store-credit-mismatch",
                format!("order {order_id} spent {outstanding} of store credit, not {amount}"),
            ));
        }
        let allocations = self.allocations_of(&spends);
        // A note that had nothing left is spendable again: its "used" mark goes.
        let reverted: Vec<String> = allocations
            .iter()
            .filter(|allocation| {
                self.grants.iter().any(|g| {
                    g.credit_note_number == allocation.credit_note_number && g.remaining.is_zero()
                })
            })
            .map(|allocation| allocation.credit_note_number.clone())
            .collect();
        let mut events = vec![StoreCreditEvent::StoreCreditRestored {
            shop_id,
            customer_id,
            order_id,
            amount,
            allocations,
            restored_at: now,
        }];
        events.extend(reverted.into_iter().map(|credit_note_number| {
            StoreCreditEvent::CreditNoteUseReverted {
                shop_id,
                customer_id,
                credit_note_number,
                reverted_at: now,
            }
        }));
        Ok(events)
    }

    /// The not yet restored `spends` summed per note, in the order the notes were granted.
    fn allocations_of(&self, spends: &[&CreditSpend]) -> Vec<CreditAllocation> {
        let mut per_note: BTreeMap<&str, Decimal> = BTreeMap::new();
        for spend in spends.iter().filter(|spend| !spend.restored) {
            for allocation in &spend.allocations {
                *per_note
                    .entry(allocation.credit_note_number.as_str())
                    .or_default() += allocation.amount;
            }
        }
        self.grants
            .iter()
            .filter_map(|grant| {
                let amount = per_note.get(grant.credit_note_number.as_str())?;
                Some(CreditAllocation {
                    credit_note_number: grant.credit_note_number.clone(),
                    amount: *amount,
                })
            })
            .collect()
    }

    /// Oldest credit notes first; returns the allocations and the notes this spend exhausts.
    fn allocate(&self, amount: Decimal) -> (Vec<CreditAllocation>, Vec<String>) {
        let mut left = amount;
        let mut allocations = Vec::new();
        let mut used = Vec::new();
        for grant in self.grants.iter().filter(|g| !g.remaining.is_zero()) {
            if left.is_zero() {
                break;
            }
            let taken = left.min(grant.remaining);
            left -= taken;
            allocations.push(CreditAllocation {
                credit_note_number: grant.credit_note_number.clone(),
                amount: taken,
            });
            if taken == grant.remaining {
                used.push(grant.credit_note_number.clone());
            }
        }
        (allocations, used)
    }
}

impl Aggregate for StoreCredit {
    type Command = StoreCreditCommand;
    type Event = StoreCreditEvent;
    const STREAM_KIND: &'static str = "store-credit";

    fn decide(
        &self,
        command: &StoreCreditCommand,
        env: &dyn Environment,
    ) -> Result<Vec<StoreCreditEvent>, DomainError> {
        match command {
            StoreCreditCommand::Grant {
                shop_id,
                customer_id,
                credit_note_number,
                amount,
            } => {
                self.check_owner(*shop_id, *customer_id)?;
                self.decide_grant(
                    *shop_id,
                    *customer_id,
                    credit_note_number,
                    *amount,
                    env.now(),
                )
            }
            StoreCreditCommand::Spend {
                shop_id,
                customer_id,
                payment_id,
                order_id,
                amount,
            } => {
                self.check_owner(*shop_id, *customer_id)?;
                self.decide_spend(
                    *shop_id,
                    *customer_id,
                    *payment_id,
                    *order_id,
                    *amount,
                    env.now(),
                )
            }
            StoreCreditCommand::Restore {
                shop_id,
                customer_id,
                order_id,
                amount,
            } => {
                self.check_owner(*shop_id, *customer_id)?;
                self.decide_restore(*shop_id, *customer_id, *order_id, *amount, env.now())
            }
        }
    }

    fn evolve(mut self, event: &StoreCreditEvent) -> Self {
        match event {
            StoreCreditEvent::StoreCreditGranted {
                shop_id,
                customer_id,
                credit_note_number,
                amount,
                ..
            } => {
                self.shop_id = Some(*shop_id);
                self.customer_id = Some(*customer_id);
                self.grants.push(CreditGrant {
                    credit_note_number: credit_note_number.clone(),
                    amount: *amount,
                    remaining: *amount,
                });
            }
            StoreCreditEvent::StoreCreditSpent {
                payment_id,
                order_id,
                amount,
                allocations,
                ..
            } => {
                for allocation in allocations {
                    if let Some(grant) = self
                        .grants
                        .iter_mut()
                        .find(|g| g.credit_note_number == allocation.credit_note_number)
                    {
                        grant.remaining -= allocation.amount;
                    }
                }
                self.spends.insert(
                    *payment_id,
                    CreditSpend {
                        order_id: *order_id,
                        amount: *amount,
                        allocations: allocations.clone(),
                        restored: false,
                    },
                );
            }
            StoreCreditEvent::StoreCreditRestored {
                order_id,
                allocations,
                ..
            } => {
                for allocation in allocations {
                    if let Some(grant) = self
                        .grants
                        .iter_mut()
                        .find(|g| g.credit_note_number == allocation.credit_note_number)
                    {
                        grant.remaining += allocation.amount;
                    }
                }
                let restored = self.spends.values_mut().filter(|s| s.order_id == *order_id);
                for spend in restored {
                    spend.restored = true;
                    spend.allocations = Vec::new();
                }
            }
            StoreCreditEvent::CreditNoteUsed { .. }
            | StoreCreditEvent::CreditNoteUseReverted { .. } => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{d, id, shop_id};
    use crate::testing::{given, test_now};

    const CUSTOMER: u128 = 0xC0;

    fn grant(number: &str, amount: &str) -> StoreCreditCommand {
        StoreCreditCommand::Grant {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            credit_note_number: number.into(),
            amount: d(amount),
        }
    }

    fn granted(number: &str, amount: &str) -> StoreCreditEvent {
        StoreCreditEvent::StoreCreditGranted {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            credit_note_number: number.into(),
            amount: d(amount),
            granted_at: test_now(),
        }
    }

    fn spend(payment: u128, amount: &str) -> StoreCreditCommand {
        StoreCreditCommand::Spend {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            payment_id: id(payment),
            order_id: id(0x0D),
            amount: d(amount),
        }
    }

    fn used(number: &str) -> StoreCreditEvent {
        StoreCreditEvent::CreditNoteUsed {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            credit_note_number: number.into(),
            used_at: test_now(),
        }
    }

    fn allocations_of(allocations: &[(&str, &str)]) -> Vec<CreditAllocation> {
        allocations
            .iter()
            .map(|(n, a)| CreditAllocation {
                credit_note_number: (*n).into(),
                amount: d(a),
            })
            .collect()
    }

    fn spent(payment: u128, amount: &str, allocations: &[(&str, &str)]) -> StoreCreditEvent {
        spent_by(payment, 0x0D, amount, allocations)
    }

    fn spent_by(
        payment: u128,
        order: u128,
        amount: &str,
        allocations: &[(&str, &str)],
    ) -> StoreCreditEvent {
        StoreCreditEvent::StoreCreditSpent {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            payment_id: id(payment),
            order_id: id(order),
            amount: d(amount),
            allocations: allocations_of(allocations),
            spent_at: test_now(),
        }
    }

    fn restore(order: u128, amount: &str) -> StoreCreditCommand {
        StoreCreditCommand::Restore {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            order_id: id(order),
            amount: d(amount),
        }
    }

    fn restored(order: u128, amount: &str, allocations: &[(&str, &str)]) -> StoreCreditEvent {
        StoreCreditEvent::StoreCreditRestored {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            order_id: id(order),
            amount: d(amount),
            allocations: allocations_of(allocations),
            restored_at: test_now(),
        }
    }

    fn reverted(number: &str) -> StoreCreditEvent {
        StoreCreditEvent::CreditNoteUseReverted {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            credit_note_number: number.into(),
            reverted_at: test_now(),
        }
    }

    fn remainders(state: &StoreCredit) -> Vec<(String, Decimal)> {
        state
            .grants
            .iter()
            .map(|g| (g.credit_note_number.clone(), g.remaining))
            .collect()
    }

    #[test]
    fn a_restore_gives_back_what_the_order_spent_note_by_note() {
        // Proves an order that spent across two notes in two payments gets each note's part back
        // (summed per note, in grant order), the used-up note loses its mark, the remainders are
        // those before the order, and the next spend takes exactly what the order had taken.
        let history = [
            granted("AV-1", "10.00"),
            granted("AV-2", "5.00"),
            granted("AV-3", "1.00"),
            spent_by(1, 0x0D, "4.00", &[("AV-1", "4.00")]),
            spent_by(2, 0x0D, "8.00", &[("AV-1", "6.00"), ("AV-2", "2.00")]),
            used("AV-1"),
            spent_by(3, 0x0E, "1.00", &[("AV-2", "1.00")]),
        ];
        let state_events = [
            restored(0x0D, "12.00", &[("AV-1", "10.00"), ("AV-2", "2.00")]),
            reverted("AV-1"),
        ];
        let state = given::<StoreCredit>(history.clone())
            .when(restore(0x0D, "12.00"))
            .then(state_events.clone());
        assert_eq!(
            state.balance(),
            d("15.00"),
            "only order 0x0E's spend remains"
        );
        assert!(state.spent_by(id(0x0D)) && state.spent_by(id(0x0E)) && !state.spent_by(id(0x0F)));
        let expected = [("AV-1", "10.00"), ("AV-2", "4.00"), ("AV-3", "1.00")]
            .map(|(n, a)| (n.to_string(), d(a)));
        assert_eq!(remainders(&state), expected);
        // The restored spends stay (a retried payment is still recognised) without allocations.
        assert_eq!(state.spends.len(), 3);
        let restored_spends = state.spends.values().filter(|s| s.restored);
        assert!(restored_spends.clone().all(|s| s.allocations.is_empty()));
        assert_eq!(restored_spends.count(), 2);
        let spend_again = StoreCreditCommand::Spend {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            payment_id: id(4),
            order_id: id(0x0F),
            amount: d("14.00"),
        };
        given::<StoreCredit>(history.into_iter().chain(state_events))
            .when(spend_again)
            .then([
                spent_by(4, 0x0F, "14.00", &[("AV-1", "10.00"), ("AV-2", "4.00")]),
                used("AV-1"),
                used("AV-2"),
            ]);
        // A restore that leaves a partly used note partly used reverts no mark.
        given::<StoreCredit>([
            granted("AV-1", "10.00"),
            spent_by(1, 0x0D, "3.00", &[("AV-1", "3.00")]),
        ])
        .when(restore(0x0D, "3.00"))
        .then([restored(0x0D, "3.00", &[("AV-1", "3.00")])]);
    }

    #[test]
    fn a_second_restore_of_the_same_order_records_nothing() {
        // Proves the restore is idempotent per order: retried with the same amount it appends
        // nothing, with another amount it is refused, and the balance is given back once only.
        let history = [
            granted("AV-1", "10.00"),
            spent_by(1, 0x0D, "10.00", &[("AV-1", "10.00")]),
            used("AV-1"),
            restored(0x0D, "10.00", &[("AV-1", "10.00")]),
            reverted("AV-1"),
        ];
        let state = given::<StoreCredit>(history.clone())
            .when(restore(0x0D, "10.00"))
            .then([]);
        assert_eq!(state.balance(), d("10.00"));
        given::<StoreCredit>(history)
            .when(restore(0x0D, "9.00"))
            .then_err_code("already-exists");
    }

    #[test]
    fn a_restore_of_an_order_that_spent_nothing_is_refused() {
        // Proves nothing is given back for an order this customer's credit did not pay, nor an
        // amount other than what the order spent, nor a zero or negative amount.
        let history = [
            granted("AV-1", "10.00"),
            spent_by(1, 0x0D, "4.00", &[("AV-1", "4.00")]),
        ];
        given::<StoreCredit>(history.clone())
            .when(restore(0x0E, "4.00"))
            .then_err_code("store-credit-not-spent");
        given::<StoreCredit>([])
            .when(restore(0x0D, "4.00"))
            .then_err_code("store-credit-not-spent");
        given::<StoreCredit>(history.clone())
            .when(restore(0x0D, "4.01"))
            .then_err_code("store-credit-mismatch");
        given::<StoreCredit>(history.clone())
            .when(restore(0x0D, "0"))
            .then_err_code("validation");
        given::<StoreCredit>(history)
            .when(restore(0x0D, "-4.00"))
            .then_err_code("validation");
    }

    #[test]
    fn a_credit_note_grants_credit_once() {
        // Proves grants are recorded, retried idempotently, and one credit note cannot grant twice.
        let state = given::<StoreCredit>([])
            .when(grant("AV-2025-000001", "12.50"))
            .then([granted("AV-2025-000001", "12.50")]);
        assert_eq!(state.balance(), d("12.50"));
        given::<StoreCredit>([granted("AV-2025-000001", "12.50")])
            .when(grant("AV-2025-000001", "12.50"))
            .then([]);
        given::<StoreCredit>([granted("AV-2025-000001", "12.50")])
            .when(grant("AV-2025-000001", "13"))
            .then_err_code("already-exists");
        given::<StoreCredit>([])
            .when(grant("AV-1", "0"))
            .then_err_code("validation");
        given::<StoreCredit>([])
            .when(grant("", "1"))
            .then_err_code("validation");
    }

    #[test]
    fn spending_takes_the_oldest_credit_first_and_marks_it_used() {
        // Proves allocation order and that an exhausted credit note is marked used.
        let history = [granted("AV-1", "10.00"), granted("AV-2", "5.00")];
        let state = given::<StoreCredit>(history.clone())
            .when(spend(1, "12.00"))
            .then([
                spent(1, "12.00", &[("AV-1", "10.00"), ("AV-2", "2.00")]),
                used("AV-1"),
            ]);
        assert_eq!(state.balance(), d("3.00"));
        given::<StoreCredit>(history)
            .when(spend(1, "4.00"))
            .then([spent(1, "4.00", &[("AV-1", "4.00")])]);
    }

    #[test]
    fn credit_never_goes_below_zero() {
        // Proves a spend above the balance is refused with its own code.
        given::<StoreCredit>([granted("AV-1", "10.00")]).when(spend(1, "10.01")).then_err(|e| {
            matches!(e, DomainError::InsufficientStoreCredit { available, requested } if *available == d("10.00") && *requested == d("10.01"))
        });
        given::<StoreCredit>([])
            .when(spend(1, "1"))
            .then_err_code("insufficient-store-credit");
        let history = [
            granted("AV-1", "10.00"),
            spent(1, "10.00", &[("AV-1", "10.00")]),
            used("AV-1"),
        ];
        given::<StoreCredit>(history)
            .when(spend(2, "0.01"))
            .then_err_code("insufficient-store-credit");
    }

    #[test]
    fn a_spend_is_recorded_once_per_payment() {
        // Proves a retried spend with the same payment id records nothing, another amount is refused.
        let history = [
            granted("AV-1", "10.00"),
            spent(1, "4.00", &[("AV-1", "4.00")]),
        ];
        given::<StoreCredit>(history.clone())
            .when(spend(1, "4.00"))
            .then([]);
        given::<StoreCredit>(history)
            .when(spend(1, "5.00"))
            .then_err_code("already-exists");
        given::<StoreCredit>([granted("AV-1", "10.00")])
            .when(spend(3, "-1"))
            .then_err_code("validation");
    }

    #[test]
    fn credit_belongs_to_one_customer() {
        // Proves a command for another customer is refused on this stream.
        let other = StoreCreditCommand::Grant {
            shop_id: shop_id(),
            customer_id: id(0xFF),
            credit_note_number: "AV-9".into(),
            amount: d("1"),
        };
        given::<StoreCredit>([granted("AV-1", "10.00")])
            .when(other)
            .then_err_code("shop-mismatch");
    }
}
