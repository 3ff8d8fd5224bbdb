//! Store credit of one customer in one shop: granted by credit notes settled as store credit,
//! spent as a payment on later orders, never below zero.
//!
//! One stream per customer (`store-credit-{customer_id}`, the id from `customer::customer_id_for`,
//! which also exists for guests since it derives from the email). Spending allocates the oldest
//! credit notes first; a credit note whose amount is fully spent is marked used (`CreditNoteUsed`).
//! The glue appends `StoreCreditSpent` atomically with the order's `PaymentRecorded` (method
//! `store_credit`, same `payment_id`), with this stream's exact expected version, so two orders can
//! never spend the same euro.

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
}

impl DomainEvent for StoreCreditEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StoreCreditEvent::StoreCreditGranted { .. } => "StoreCreditGranted",
            StoreCreditEvent::StoreCreditSpent { .. } => "StoreCreditSpent",
            StoreCreditEvent::CreditNoteUsed { .. } => "CreditNoteUsed",
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
    /// payment id → (order id, amount).
    pub spends: BTreeMap<Uuid, (Uuid, Decimal)>,
}

impl StoreCredit {
    pub fn balance(&self) -> Decimal {
        self.grants.iter().map(|g| g.remaining).sum()
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
        if let Some((existing_order, existing_amount)) = self.spends.get(&payment_id) {
            let same = *existing_order == order_id && *existing_amount == amount;
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
                self.spends.insert(*payment_id, (*order_id, *amount));
            }
            StoreCreditEvent::CreditNoteUsed { .. } => {}
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

    fn spent(payment: u128, amount: &str, allocations: &[(&str, &str)]) -> StoreCreditEvent {
        StoreCreditEvent::StoreCreditSpent {
            shop_id: shop_id(),
            customer_id: id(CUSTOMER),
            payment_id: id(payment),
            order_id: id(0x0D),
            amount: d(amount),
            allocations: allocations
                .iter()
                .map(|(n, a)| CreditAllocation {
                    credit_note_number: (*n).into(),
                    amount: d(a),
                })
                .collect(),
            spent_at: test_now(),
        }
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
