//! A given/when/then harness for business rules, with no storage, runtime or HTTP (after cqrs-es).
//!
//! ```
//! use comptoir_domain::testing::given;
//! use comptoir_domain::shop::{Shop, ShopCommand};
//! # fn demo(create: ShopCommand) {
//! given::<Shop>([]).when(create).then_err_code("validation");
//! # }
//! ```
//! Usable from other crates' tests too: it panics with a readable message on a mismatch.

use crate::{fold, Aggregate, DomainError, Environment};
use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// A fixed clock and sequential identifiers, so tests state their expected events literally.
#[derive(Debug)]
pub struct TestEnvironment {
    now: DateTime<Utc>,
    next_id: AtomicU64,
}

impl TestEnvironment {
    /// Fixed at [`test_now`], ids from 00000000-0000-0000-0000-000000000001 upward.
    pub fn new() -> Self {
        Self::at(test_now())
    }

    pub fn at(now: DateTime<Utc>) -> Self {
        TestEnvironment {
            now,
            next_id: AtomicU64::new(1),
        }
    }

    /// The id that the `n`th call to `new_id` returns (from 1).
    pub fn nth_id(n: u64) -> Uuid {
        Uuid::from_u128(u128::from(n))
    }
}

impl Default for TestEnvironment {
    fn default() -> Self {
        Self::new()
    }
}

impl Environment for TestEnvironment {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    fn new_id(&self) -> Uuid {
        Self::nth_id(self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

/// The default fixed instant of [`TestEnvironment`]: 2025-03-14T10:00:00Z.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 10, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The state of `A` after `events`, from `A::default()`.
pub fn replay<A: Aggregate>(events: &[A::Event]) -> A {
    fold::<A>(events)
}

/// Starts a scenario from past events.
pub fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    Given {
        history: events.into_iter().collect(),
        env: TestEnvironment::new(),
    }
}

pub struct Given<A: Aggregate> {
    history: Vec<A::Event>,
    env: TestEnvironment,
}

impl<A: Aggregate> Given<A> {
    /// Runs the scenario under another clock.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.env = TestEnvironment::at(now);
        self
    }

    /// Decides `command` against the state folded from the history.
    pub fn when(self, command: A::Command) -> When<A> {
        let state = replay::<A>(&self.history);
        let result = state.decide(&command, &self.env);
        When {
            state,
            result,
            env: self.env,
        }
    }
}

pub struct When<A: Aggregate> {
    state: A,
    result: Result<Vec<A::Event>, DomainError>,
    env: TestEnvironment,
}

impl<A: Aggregate> When<A> {
    /// Asserts the command produced exactly `expected`, and that they evolve the state without panic.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "the command produced other events");
                events
                    .iter()
                    .fold(self.state, |state, event| state.evolve(event))
            }
            Err(error) => panic!("expected events {expected:#?}, got error {error:?}"),
        }
    }

    /// Asserts the command was refused with an error matching `predicate`.
    #[track_caller]
    pub fn then_err(self, predicate: impl FnOnce(&DomainError) -> bool) {
        match self.result {
            Ok(events) => panic!("expected an error, got events {events:#?}"),
            Err(error) => assert!(predicate(&error), "unexpected error {error:?}"),
        }
    }

    /// Asserts the command was refused with the stable code `code`.
    #[track_caller]
    pub fn then_err_code(self, code: &str) {
        match self.result {
            Ok(events) => panic!("expected error code {code}, got events {events:#?}"),
            Err(error) => assert_eq!(error.code(), code, "unexpected error {error:?}"),
        }
    }

    /// Returns the produced events for assertions the other forms cannot state.
    #[track_caller]
    pub fn events(self) -> Vec<A::Event> {
        match self.result {
            Ok(events) => events,
            Err(error) => panic!("expected events, got error {error:?}"),
        }
    }

    /// The environment the command ran under, to predict ids it drew.
    pub fn env(&self) -> &TestEnvironment {
        &self.env
    }
}
