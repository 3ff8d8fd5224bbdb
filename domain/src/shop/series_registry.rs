//! The document number series of one legal entity (one SIREN), across its shops.
//!
//! A company's invoice numbers must be unique across the company, not only within a shop (CGI
//! art. 242 nonies A: several series are allowed when each is distinguishable), and its FEC
//! gathers every shop's pieces in one file. Each shop numbers its own series, so two shops of one
//! SIREN must not have invoice or credit note patterns that could print the same number (slips,
//! quotes and purchase orders are no accounting pieces and may share theirs): a shop claims them
//! here (stream `series-registry-{siren}`) in the same append that creates it or changes its
//! patterns or SIREN, and a claim is refused when one of its patterns could print a number a
//! pattern another shop claimed (now or before) could print.
//!
//! Shops created before this registry claimed nothing: the glue records them as they stand
//! (`RecordExisting`, unchecked) in the append of the next claim in their SIREN, which is then
//! checked against them too.

use super::{patterns_may_overlap, DocumentPatterns};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The registry's stream for `siren`.
pub fn series_registry_stream(siren: &str) -> String {
    format!("{}-{siren}", SeriesRegistry::STREAM_KIND)
}

/// Every pattern each shop of the SIREN claimed, in the order claimed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesRegistry {
    claims: Vec<(Uuid, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeriesRegistryCommand {
    /// `shop_id` numbers its documents with `patterns` from now on.
    Claim {
        shop_id: Uuid,
        patterns: DocumentPatterns,
    },
    /// `shop_id`, created before this registry existed, numbers with `patterns`: recorded as it
    /// stands, unchecked (its numbers may be printed already), so that the claims after it are
    /// checked against it. Nothing when the shop has claimed already.
    RecordExisting {
        shop_id: Uuid,
        patterns: DocumentPatterns,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesRegistryEvent {
    /// `shop_id` numbers its documents with `patterns`; no other shop of the SIREN may claim a
    /// pattern that could print one of their numbers.
    DocumentSeriesClaimed {
        shop_id: Uuid,
        patterns: DocumentPatterns,
    },
}

impl DomainEvent for SeriesRegistryEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SeriesRegistryEvent::DocumentSeriesClaimed { .. } => "DocumentSeriesClaimed",
        }
    }
}

/// The patterns of `patterns` the law wants unique across the company: invoices and credit
/// notes (which are invoices too). Slips, quotes and purchase orders are no accounting pieces.
fn in_force(patterns: &DocumentPatterns) -> [&str; 2] {
    [patterns.invoice.as_str(), patterns.credit_note.as_str()]
}

impl SeriesRegistry {
    /// The shop whose claimed pattern could print a number `pattern` could, other than
    /// `shop_id`, with that pattern.
    fn overlapping(&self, shop_id: Uuid, pattern: &str) -> Option<(Uuid, &str)> {
        self.claims
            .iter()
            .filter(|(owner, _)| *owner != shop_id)
            .flat_map(|(owner, claimed)| claimed.iter().map(move |c| (*owner, c.as_str())))
            .find(|(_, claimed)| patterns_may_overlap(claimed, pattern))
    }

    /// True once `shop_id` has claimed patterns (or was recorded as it stood).
    pub fn has_claimed(&self, shop_id: Uuid) -> bool {
        self.claimed_by(shop_id).is_some()
    }

    fn claimed_by(&self, shop_id: Uuid) -> Option<&Vec<String>> {
        self.claims
            .iter()
            .find(|(owner, _)| *owner == shop_id)
            .map(|(_, patterns)| patterns)
    }
}

impl Aggregate for SeriesRegistry {
    type Command = SeriesRegistryCommand;
    type Event = SeriesRegistryEvent;
    const STREAM_KIND: &'static str = "series-registry";

    fn decide(
        &self,
        command: &Self::Command,
        _env: &dyn Environment,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let (shop_id, patterns) = match command {
            SeriesRegistryCommand::Claim { shop_id, patterns } => (shop_id, patterns),
            SeriesRegistryCommand::RecordExisting { shop_id, patterns } => {
                if self.has_claimed(*shop_id) {
                    return Ok(vec![]);
                }
                return Ok(vec![SeriesRegistryEvent::DocumentSeriesClaimed {
                    shop_id: *shop_id,
                    patterns: patterns.clone(),
                }]);
            }
        };
        let wanted = in_force(patterns);
        if let Some(claimed) = self.claimed_by(*shop_id) {
            if wanted
                .iter()
                .all(|pattern| claimed.iter().any(|c| c == pattern))
            {
                return Ok(vec![]);
            }
        }
        for pattern in wanted {
            if let Some((other, claimed)) = self.overlapping(*shop_id, pattern) {
                return Err(DomainError::conflict(
                    "document-series-taken",
                    format!(
                        "the pattern {pattern:?} could print a number of the series {claimed:?} of shop {other}, of the same SIREN: give each shop of a company its own prefix (e.g. \"LY-FA-{{YYYY}}-{{seq:06}}\")"
                    ),
                ));
            }
        }
        Ok(vec![SeriesRegistryEvent::DocumentSeriesClaimed {
            shop_id: *shop_id,
            patterns: patterns.clone(),
        }])
    }

    fn evolve(mut self, event: &Self::Event) -> Self {
        let SeriesRegistryEvent::DocumentSeriesClaimed { shop_id, patterns } = event;
        let wanted = in_force(patterns).map(str::to_string);
        match self.claims.iter_mut().find(|(owner, _)| owner == shop_id) {
            Some((_, claimed)) => {
                for pattern in wanted {
                    if !claimed.contains(&pattern) {
                        claimed.push(pattern);
                    }
                }
            }
            None => self.claims.push((*shop_id, wanted.to_vec())),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold;
    use crate::testing::TestEnvironment;

    fn patterns(prefix: &str) -> DocumentPatterns {
        DocumentPatterns {
            invoice: format!("{prefix}FA-{{YYYY}}-{{seq:06}}"),
            credit_note: format!("{prefix}AV-{{YYYY}}-{{seq:06}}"),
            delivery_slip: format!("{prefix}BL-{{YYYY}}-{{seq:06}}"),
            quote: None,
            purchase_order: None,
        }
    }

    fn claim(shop: u128, prefix: &str) -> SeriesRegistryCommand {
        SeriesRegistryCommand::Claim {
            shop_id: Uuid::from_u128(shop),
            patterns: patterns(prefix),
        }
    }

    fn given(claims: &[SeriesRegistryCommand]) -> SeriesRegistry {
        let env = TestEnvironment::default();
        claims
            .iter()
            .fold(SeriesRegistry::default(), |state, command| {
                let events = state.decide(command, &env).expect("given claim");
                fold_onto(state, &events)
            })
    }

    fn fold_onto(state: SeriesRegistry, events: &[SeriesRegistryEvent]) -> SeriesRegistry {
        events
            .iter()
            .fold(state, |state, event| state.evolve(event))
    }

    #[test]
    fn a_first_shop_claims_its_series() {
        // Given no claim, when a shop claims the default patterns, then they are claimed.
        let events = SeriesRegistry::default()
            .decide(&claim(1, ""), &TestEnvironment::default())
            .expect("claim");
        assert_eq!(
            events,
            vec![SeriesRegistryEvent::DocumentSeriesClaimed {
                shop_id: Uuid::from_u128(1),
                patterns: patterns("")
            }]
        );
        assert_eq!(fold::<SeriesRegistry>(&events).claims.len(), 1);
    }

    #[test]
    fn a_second_shop_with_the_same_series_is_refused() {
        // Given shop 1 with FA-…, when shop 2 claims the same patterns, then a conflict names
        // the pattern and shop 1, and a prefix of its own is accepted.
        let state = given(&[claim(1, "")]);
        let env = TestEnvironment::default();
        let refused = state.decide(&claim(2, ""), &env).expect_err("same series");
        assert!(
            matches!(&refused, DomainError::Conflict { code: "document-series-taken", message } if message.contains(&Uuid::from_u128(1).to_string())),
            "{refused:?}"
        );
        assert_eq!(
            state
                .decide(&claim(2, "PA-"), &env)
                .expect("own prefix")
                .len(),
            1
        );
    }

    #[test]
    fn a_pattern_that_could_print_another_shops_number_is_refused() {
        // Given shop 1 numbering invoices F{seq}, when shop 2 claims F1{seq} (F1 then 7 prints
        // F17, which F{seq} prints for 17), then it is refused.
        let mut first = patterns("X");
        first.invoice = "F{seq}".into();
        let mut second = patterns("Y");
        second.invoice = "F1{seq}".into();
        let state = given(&[SeriesRegistryCommand::Claim {
            shop_id: Uuid::from_u128(1),
            patterns: first,
        }]);
        let claim = SeriesRegistryCommand::Claim {
            shop_id: Uuid::from_u128(2),
            patterns: second,
        };
        assert!(state.decide(&claim, &TestEnvironment::default()).is_err());
    }

    fn existing(shop: u128, prefix: &str) -> SeriesRegistryCommand {
        SeriesRegistryCommand::RecordExisting {
            shop_id: Uuid::from_u128(shop),
            patterns: patterns(prefix),
        }
    }

    #[test]
    fn shops_from_before_the_registry_are_recorded_as_they_stand_then_checked_against() {
        // Given shops 1 and 2 created before the registry, both numbering FA-… (nothing can
        // undo that), when they are recorded, then both are, unchecked, once each; and then a
        // third shop claiming FA-… is refused because of them.
        let env = TestEnvironment::default();
        let state = given(&[existing(1, ""), existing(2, "")]);
        assert!(state.has_claimed(Uuid::from_u128(1)) && state.has_claimed(Uuid::from_u128(2)));
        assert_eq!(
            state.decide(&existing(1, "LY-"), &env).expect("again"),
            vec![]
        );
        let refused = state.decide(&claim(3, ""), &env).expect_err("taken");
        assert_eq!(refused.code(), "document-series-taken");
        assert_eq!(state.decide(&claim(3, "MA-"), &env).expect("own").len(), 1);
        let claimed = given(&[claim(4, "")]);
        assert_eq!(
            claimed.decide(&existing(4, "X-"), &env).expect("claimed"),
            vec![]
        );
    }

    #[test]
    fn earlier_patterns_stay_claimed_and_a_repeated_claim_records_nothing() {
        // Given shop 1 that moved from FA-… to LY-FA-…, when shop 2 claims FA-…, then it is
        // refused (numbers FA-… were printed); shop 1 claiming LY-FA-… again records nothing.
        let state = given(&[claim(1, ""), claim(1, "LY-")]);
        let env = TestEnvironment::default();
        assert!(state.decide(&claim(2, ""), &env).is_err());
        assert_eq!(state.decide(&claim(1, "LY-"), &env).expect("again"), vec![]);
        assert_eq!(state.decide(&claim(2, "PA-"), &env).expect("own").len(), 1);
    }
}
