use super::*;
use crate::fixtures::id;
use crate::testing::{given, replay, test_now, TestEnvironment};
use crate::Aggregate;
use proptest::prelude::*;
use uuid::Uuid;

fn staff(n: u128) -> Uuid {
    id(0x57AF_0000 + n)
}

fn seats_set(seats: u32) -> StaffRosterEvent {
    StaffRosterEvent::StaffSeatsSet {
        seats,
        at: test_now(),
    }
}

fn joined(n: u128) -> StaffRosterEvent {
    StaffRosterEvent::StaffMemberJoined {
        staff_id: staff(n),
        at: test_now(),
    }
}

fn taken(n: u128) -> StaffRosterEvent {
    StaffRosterEvent::StaffSeatTaken {
        staff_id: staff(n),
        at: test_now(),
    }
}

fn released(n: u128) -> StaffRosterEvent {
    StaffRosterEvent::StaffSeatReleased {
        staff_id: staff(n),
        at: test_now(),
    }
}

/// `count` members, each holding a seat.
fn holders(count: u128) -> Vec<StaffRosterEvent> {
    (1..=count).flat_map(|n| [joined(n), taken(n)]).collect()
}

#[test]
fn a_roster_never_set_has_the_default_seats() {
    // Proves an organisation without a plan gets 5 seats, all free.
    let roster = StaffRoster::default();
    assert_eq!(roster.seats(), DEFAULT_STAFF_SEATS);
    assert_eq!(roster.free_seats(), DEFAULT_STAFF_SEATS);
    assert!(roster.members().is_empty() && roster.seat_holders().is_empty());
}

#[test]
fn sets_the_plan_s_seats() {
    // Proves seats are set once per change, up to 1,000, and the default counts as set.
    let state = given::<StaffRoster>([])
        .when(StaffRosterCommand::SetSeats { seats: 10 })
        .then([seats_set(10)]);
    assert_eq!((state.seats(), state.free_seats()), (10, 10));
    given::<StaffRoster>([seats_set(10)])
        .when(StaffRosterCommand::SetSeats { seats: 10 })
        .then([]);
    given::<StaffRoster>([])
        .when(StaffRosterCommand::SetSeats {
            seats: DEFAULT_STAFF_SEATS,
        })
        .then([]);
    given::<StaffRoster>([])
        .when(StaffRosterCommand::SetSeats {
            seats: STAFF_SEATS_MAX + 1,
        })
        .then_err_code("validation");
    given::<StaffRoster>([])
        .when(StaffRosterCommand::SetSeats {
            seats: STAFF_SEATS_MAX,
        })
        .then([seats_set(STAFF_SEATS_MAX)]);
}

#[test]
fn seats_cannot_go_below_those_taken() {
    // Proves a plan is not lowered under its holders, says how many hold one, and may be
    // lowered to exactly that many.
    given::<StaffRoster>(holders(3))
        .when(StaffRosterCommand::SetSeats { seats: 2 })
        .then_err(|e| e.code() == "seats-in-use" && e.to_string().contains("3 seats are taken"));
    let state = given::<StaffRoster>(holders(3))
        .when(StaffRosterCommand::SetSeats { seats: 3 })
        .then([seats_set(3)]);
    assert_eq!(state.free_seats(), 0);
}

#[test]
fn joins_once() {
    // Proves a member joins once and a second join appends nothing.
    let state = given::<StaffRoster>([])
        .when(StaffRosterCommand::Join { staff_id: staff(1) })
        .then([joined(1)]);
    assert!(state.members().contains(&staff(1)));
    given::<StaffRoster>([joined(1)])
        .when(StaffRosterCommand::Join { staff_id: staff(1) })
        .then([]);
}

#[test]
fn an_organisation_has_at_most_1000_members() {
    // Proves the roster's member limit.
    let full: Vec<StaffRosterEvent> = (1..=ROSTER_MEMBERS_MAX as u128).map(joined).collect();
    given::<StaffRoster>(full.clone())
        .when(StaffRosterCommand::Join {
            staff_id: staff(0xFFFF),
        })
        .then_err_code("limit-exceeded");
    given::<StaffRoster>(full)
        .when(StaffRosterCommand::Join { staff_id: staff(1) })
        .then([]);
}

#[test]
fn takes_a_free_seat_for_a_member() {
    // Proves a member takes a seat once, and someone not in the roster takes none.
    let state = given::<StaffRoster>([joined(1)])
        .when(StaffRosterCommand::TakeSeat { staff_id: staff(1) })
        .then([taken(1)]);
    assert_eq!(state.free_seats(), DEFAULT_STAFF_SEATS - 1);
    assert!(state.seat_holders().contains(&staff(1)));
    given::<StaffRoster>([joined(1), taken(1)])
        .when(StaffRosterCommand::TakeSeat { staff_id: staff(1) })
        .then([]);
    given::<StaffRoster>([joined(1)])
        .when(StaffRosterCommand::TakeSeat { staff_id: staff(2) })
        .then_err_code("not-found");
}

#[test]
fn no_seat_is_taken_when_all_are_held() {
    // Proves the plan's seats bound access, and the refusal names the seats and holders.
    let mut history = vec![seats_set(2)];
    history.extend(holders(2));
    history.push(joined(3));
    given::<StaffRoster>(history.clone())
        .when(StaffRosterCommand::TakeSeat { staff_id: staff(3) })
        .then_err(|e| {
            e.code() == "no-free-seat"
                && e.to_string().contains("2 seats")
                && e.to_string().contains("2 holders")
        });
    history.push(released(1));
    given::<StaffRoster>(history)
        .when(StaffRosterCommand::TakeSeat { staff_id: staff(3) })
        .then([taken(3)]);
}

#[test]
fn releases_a_held_seat_only() {
    // Proves a release frees the seat and one not held appends nothing.
    let state = given::<StaffRoster>(holders(1))
        .when(StaffRosterCommand::ReleaseSeat { staff_id: staff(1) })
        .then([released(1)]);
    assert_eq!(state.free_seats(), DEFAULT_STAFF_SEATS);
    assert!(state.members().contains(&staff(1)));
    given::<StaffRoster>([joined(1)])
        .when(StaffRosterCommand::ReleaseSeat { staff_id: staff(1) })
        .then([]);
}

#[test]
fn roster_events_are_written_with_the_listed_field_names() {
    // Proves the on-disk names of the roster's events.
    let events = [
        (seats_set(5), "StaffSeatsSet", ["at", "seats"]),
        (joined(1), "StaffMemberJoined", ["at", "staff_id"]),
        (taken(1), "StaffSeatTaken", ["at", "staff_id"]),
        (released(1), "StaffSeatReleased", ["at", "staff_id"]),
    ];
    for (event, name, fields) in events {
        let value = serde_json::to_value(&event).expect("serializes");
        let mut keys: Vec<&String> = value[name].as_object().expect(name).keys().collect();
        keys.sort();
        assert_eq!(keys, fields, "{name}");
        assert_eq!(crate::DomainEvent::event_type(&event), name);
    }
}

fn roster_command() -> impl Strategy<Value = StaffRosterCommand> {
    let member = (0u128..8).prop_map(staff);
    prop_oneof![
        (0u32..12).prop_map(|seats| StaffRosterCommand::SetSeats { seats }),
        member
            .clone()
            .prop_map(|staff_id| StaffRosterCommand::Join { staff_id }),
        member
            .clone()
            .prop_map(|staff_id| StaffRosterCommand::TakeSeat { staff_id }),
        member.prop_map(|staff_id| StaffRosterCommand::ReleaseSeat { staff_id }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seats_held_never_exceed_the_plan_and_holders_are_members(
        commands in proptest::collection::vec(roster_command(), 0..60)
    ) {
        // Proves that whatever the roster is asked, its holders fit its seats and belong to it.
        let env = TestEnvironment::new();
        let mut history = Vec::new();
        for command in commands {
            let roster = replay::<StaffRoster>(&history);
            if let Ok(events) = roster.decide(&command, &env) {
                history.extend(events);
            }
            let roster = replay::<StaffRoster>(&history);
            prop_assert!(roster.seat_holders().len() <= roster.seats() as usize);
            prop_assert!(roster.seat_holders().is_subset(roster.members()));
            prop_assert_eq!(
                roster.free_seats() as usize,
                roster.seats() as usize - roster.seat_holders().len()
            );
        }
    }
}
