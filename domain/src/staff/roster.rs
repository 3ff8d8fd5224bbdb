//! The staff roster of one organisation (`staff-roster-{siren}`): who belongs to it and who
//! holds one of its plan's seats.
//!
//! Seats are counted here, on one stream per organisation, so two members given access at once
//! cannot both take the last seat: each append expects the version its state was folded from.

use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Seats a plan may have.
pub const STAFF_SEATS_MAX: u32 = 1_000;
/// Seats of an organisation whose plan never set them.
pub const DEFAULT_STAFF_SEATS: u32 = 5;
/// Staff members one organisation may have, archived ones included (they stay members).
pub const ROSTER_MEMBERS_MAX: usize = 1_000;

// Every seat can be held: holders are members.
const _: () = assert!(STAFF_SEATS_MAX as usize <= ROSTER_MEMBERS_MAX);
const _: () = assert!(DEFAULT_STAFF_SEATS <= STAFF_SEATS_MAX);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRosterCommand {
    /// The plan now has `seats` seats.
    SetSeats { seats: u32 },
    /// `staff_id` belongs to the organisation.
    Join { staff_id: Uuid },
    /// `staff_id` gets access and so holds a seat.
    TakeSeat { staff_id: Uuid },
    /// `staff_id` lost access; its seat is free again.
    ReleaseSeat { staff_id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffRosterEvent {
    StaffSeatsSet { seats: u32, at: DateTime<Utc> },
    StaffMemberJoined { staff_id: Uuid, at: DateTime<Utc> },
    StaffSeatTaken { staff_id: Uuid, at: DateTime<Utc> },
    StaffSeatReleased { staff_id: Uuid, at: DateTime<Utc> },
}

impl DomainEvent for StaffRosterEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StaffRosterEvent::StaffSeatsSet { .. } => "StaffSeatsSet",
            StaffRosterEvent::StaffMemberJoined { .. } => "StaffMemberJoined",
            StaffRosterEvent::StaffSeatTaken { .. } => "StaffSeatTaken",
            StaffRosterEvent::StaffSeatReleased { .. } => "StaffSeatReleased",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffRoster {
    /// `None` until a plan sets them: [`DEFAULT_STAFF_SEATS`] then.
    seats: Option<u32>,
    members: BTreeSet<Uuid>,
    seat_holders: BTreeSet<Uuid>,
}

impl StaffRoster {
    pub fn seats(&self) -> u32 {
        self.seats.unwrap_or(DEFAULT_STAFF_SEATS)
    }

    pub fn members(&self) -> &BTreeSet<Uuid> {
        &self.members
    }

    pub fn seat_holders(&self) -> &BTreeSet<Uuid> {
        &self.seat_holders
    }

    pub fn free_seats(&self) -> u32 {
        self.seats().saturating_sub(self.seats_taken())
    }

    fn seats_taken(&self) -> u32 {
        u32::try_from(self.seat_holders.len()).unwrap_or(u32::MAX)
    }

    fn decide_set_seats(
        &self,
        seats: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffRosterEvent>, DomainError> {
        if seats > STAFF_SEATS_MAX {
            return Err(DomainError::validation(
                "seats",
                format!("at most {STAFF_SEATS_MAX}"),
            ));
        }
        if seats == self.seats() {
            return Ok(vec![]);
        }
        let taken = self.seats_taken();
        if seats < taken {
            return Err(DomainError::conflict(
                "seats-in-use",
                format!(
                    "{taken} seats are taken: release some before lowering the plan to {seats}"
                ),
            ));
        }
        Ok(vec![StaffRosterEvent::StaffSeatsSet { seats, at: now }])
    }

    fn decide_join(
        &self,
        staff_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffRosterEvent>, DomainError> {
        if self.members.contains(&staff_id) {
            return Ok(vec![]);
        }
        if self.members.len() >= ROSTER_MEMBERS_MAX {
            return Err(DomainError::LimitExceeded {
                what: "staff members of one organisation",
                limit: ROSTER_MEMBERS_MAX as u64,
            });
        }
        Ok(vec![StaffRosterEvent::StaffMemberJoined {
            staff_id,
            at: now,
        }])
    }

    fn decide_take_seat(
        &self,
        staff_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaffRosterEvent>, DomainError> {
        if !self.members.contains(&staff_id) {
            return Err(DomainError::not_found("staff member", staff_id));
        }
        if self.seat_holders.contains(&staff_id) {
            return Ok(vec![]);
        }
        if self.free_seats() == 0 {
            return Err(DomainError::conflict(
                "no-free-seat",
                format!(
                    "the plan's {} seats are all held ({} holders): release one or add seats",
                    self.seats(),
                    self.seat_holders.len()
                ),
            ));
        }
        Ok(vec![StaffRosterEvent::StaffSeatTaken { staff_id, at: now }])
    }

    fn decide_release_seat(&self, staff_id: Uuid, now: DateTime<Utc>) -> Vec<StaffRosterEvent> {
        if !self.seat_holders.contains(&staff_id) {
            return vec![];
        }
        vec![StaffRosterEvent::StaffSeatReleased { staff_id, at: now }]
    }
}

impl Aggregate for StaffRoster {
    type Command = StaffRosterCommand;
    type Event = StaffRosterEvent;
    const STREAM_KIND: &'static str = "staff-roster";

    fn decide(
        &self,
        command: &StaffRosterCommand,
        env: &dyn Environment,
    ) -> Result<Vec<StaffRosterEvent>, DomainError> {
        let now = env.now();
        match command {
            StaffRosterCommand::SetSeats { seats } => self.decide_set_seats(*seats, now),
            StaffRosterCommand::Join { staff_id } => self.decide_join(*staff_id, now),
            StaffRosterCommand::TakeSeat { staff_id } => self.decide_take_seat(*staff_id, now),
            StaffRosterCommand::ReleaseSeat { staff_id } => {
                Ok(self.decide_release_seat(*staff_id, now))
            }
        }
    }

    fn evolve(mut self, event: &StaffRosterEvent) -> Self {
        match event {
            StaffRosterEvent::StaffSeatsSet { seats, .. } => self.seats = Some(*seats),
            StaffRosterEvent::StaffMemberJoined { staff_id, .. } => {
                self.members.insert(*staff_id);
            }
            StaffRosterEvent::StaffSeatTaken { staff_id, .. } => {
                self.seat_holders.insert(*staff_id);
            }
            StaffRosterEvent::StaffSeatReleased { staff_id, .. } => {
                self.seat_holders.remove(staff_id);
            }
        }
        self
    }
}
