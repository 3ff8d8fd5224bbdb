//! Coupon codes: their shape, their generation from the environment's identifiers, and the shop's
//! registry that keeps them unique.

use crate::limits::{
    COUPON_CODES_PER_SHOP_MAX, COUPON_CODE_CHARS_MAX, COUPON_CODE_CHARS_MIN,
    GENERATED_CODE_BITS_PER_CHAR,
};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Symbols of generated codes: upper-case letters and digits without 0, 1, I and O, which people
/// misread when typing a code from paper. 32 symbols, so each carries exactly 5 random bits and
/// no symbol is likelier than another.
const GENERATED_CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const _: () = assert!(1 << GENERATED_CODE_BITS_PER_CHAR == GENERATED_CODE_ALPHABET.len());

/// Draws allowed beyond the codes asked for before generation gives up; with random identifiers a
/// single collision is already unlikely, so running out means the identifiers are not random.
const GENERATION_EXTRA_DRAWS: usize = 64;

/// Trims and upper-cases a code, then checks it is made of letters and digits within the length
/// bounds. Customers may type a code in any case.
pub fn normalise_code(code: &str) -> Result<String, DomainError> {
    let normalised = code.trim().to_ascii_uppercase();
    let length = normalised.chars().count();
    if !(COUPON_CODE_CHARS_MIN..=COUPON_CODE_CHARS_MAX).contains(&length) {
        return Err(DomainError::validation(
            "code",
            format!("from {COUPON_CODE_CHARS_MIN} to {COUPON_CODE_CHARS_MAX} characters"),
        ));
    }
    if !normalised
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(DomainError::validation(
            "code",
            "only letters A-Z and digits 0-9",
        ));
    }
    Ok(normalised)
}

/// The random bits of an identifier. The low 32 bits are random in both a v4 and a v7 UUID
/// (uuid's v7 keeps its monotonic counter above them), so they are the safe part to draw from.
fn random_low_bits(id: Uuid) -> u64 {
    id.as_u128() as u64 & u64::from(u32::MAX)
}

/// One code of `chars` symbols from two fresh identifiers (64 random bits, of which it uses
/// `5 × chars`). Deterministic given the environment, so tests know the codes in advance.
fn random_code(env: &dyn Environment, chars: usize) -> String {
    let bits = (random_low_bits(env.new_id()) << 32) | random_low_bits(env.new_id());
    (0..chars)
        .map(|index| {
            let symbol = (bits >> (GENERATED_CODE_BITS_PER_CHAR * index)) & 0x1f;
            char::from(GENERATED_CODE_ALPHABET[symbol as usize])
        })
        .collect()
}

/// `count` distinct codes of `chars` symbols, none of which `is_taken`.
pub(super) fn generate_codes(
    env: &dyn Environment,
    count: usize,
    chars: usize,
    is_taken: impl Fn(&str) -> bool,
) -> Result<Vec<String>, DomainError> {
    let mut codes = Vec::with_capacity(count);
    let mut seen = BTreeSet::new();
    let mut draws_left = count.saturating_mul(2) + GENERATION_EXTRA_DRAWS;
    while codes.len() < count {
        if draws_left == 0 {
            return Err(DomainError::conflict(
                "coupon-code-generation-failed",
                "could not draw enough distinct codes; try again",
            ));
        }
        draws_left -= 1;
        let code = random_code(env, chars);
        if is_taken(&code) || !seen.insert(code.clone()) {
            continue;
        }
        codes.push(code);
    }
    Ok(codes)
}

/// Stream of the code registry of one shop.
pub fn registry_stream_id(shop_id: Uuid) -> String {
    format!("{}-{shop_id}", CouponCodeRegistry::STREAM_KIND)
}

#[derive(Debug, Clone)]
pub enum CouponCodeRegistryCommand {
    Reserve {
        shop_id: Uuid,
        coupon_id: Uuid,
        codes: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CouponCodeRegistryEvent {
    CouponCodesReserved {
        shop_id: Uuid,
        coupon_id: Uuid,
        codes: Vec<String>,
        reserved_at: DateTime<Utc>,
    },
}

impl DomainEvent for CouponCodeRegistryEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CouponCodeRegistryEvent::CouponCodesReserved { .. } => "CouponCodesReserved",
        }
    }
}

/// Every code of one shop and the coupon it belongs to. Codes are never released: a code once
/// handed to customers keeps meaning the same coupon, which also makes reading the registry
/// without a version check safe at checkout (an entry, once there, never changes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CouponCodeRegistry {
    pub shop_id: Option<Uuid>,
    codes: BTreeMap<String, Uuid>,
}

impl CouponCodeRegistry {
    /// The coupon of `code`, typed in any case.
    pub fn coupon_for(&self, code: &str) -> Option<Uuid> {
        let normalised = normalise_code(code).ok()?;
        self.codes.get(&normalised).copied()
    }

    pub fn is_taken(&self, normalised_code: &str) -> bool {
        self.codes.contains_key(normalised_code)
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    fn decide_reserve(
        &self,
        shop_id: Uuid,
        coupon_id: Uuid,
        codes: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<CouponCodeRegistryEvent>, DomainError> {
        if self.shop_id.is_some_and(|id| id != shop_id) {
            return Err(DomainError::conflict(
                "shop-mismatch",
                "this code registry belongs to another shop",
            ));
        }
        let mut fresh = BTreeSet::new();
        for code in codes {
            let normalised = normalise_code(code)?;
            match self.codes.get(&normalised) {
                Some(owner) if *owner == coupon_id => {}
                Some(_) => return Err(code_taken(&normalised)),
                None => {
                    if !fresh.insert(normalised.clone()) {
                        return Err(DomainError::validation("codes", "a code appears twice"));
                    }
                }
            }
        }
        // The same reservation retried finds every code already its own.
        if fresh.is_empty() {
            return Ok(vec![]);
        }
        if self.codes.len() + fresh.len() > COUPON_CODES_PER_SHOP_MAX {
            return Err(DomainError::LimitExceeded {
                what: "coupon codes per shop",
                limit: COUPON_CODES_PER_SHOP_MAX as u64,
            });
        }
        let codes = codes
            .iter()
            .filter_map(|code| normalise_code(code).ok())
            .filter(|code| fresh.contains(code))
            .collect();
        Ok(vec![CouponCodeRegistryEvent::CouponCodesReserved {
            shop_id,
            coupon_id,
            codes,
            reserved_at: now,
        }])
    }
}

pub(super) fn code_taken(code: &str) -> DomainError {
    DomainError::conflict(
        "coupon-code-taken",
        format!("the code {code} is already used by another coupon of this shop"),
    )
}

impl Aggregate for CouponCodeRegistry {
    type Command = CouponCodeRegistryCommand;
    type Event = CouponCodeRegistryEvent;
    const STREAM_KIND: &'static str = "coupon-codes";

    fn decide(
        &self,
        command: &CouponCodeRegistryCommand,
        env: &dyn Environment,
    ) -> Result<Vec<CouponCodeRegistryEvent>, DomainError> {
        match command {
            CouponCodeRegistryCommand::Reserve {
                shop_id,
                coupon_id,
                codes,
            } => self.decide_reserve(*shop_id, *coupon_id, codes, env.now()),
        }
    }

    fn evolve(mut self, event: &CouponCodeRegistryEvent) -> Self {
        match event {
            CouponCodeRegistryEvent::CouponCodesReserved {
                shop_id,
                coupon_id,
                codes,
                ..
            } => {
                self.shop_id = Some(*shop_id);
                for code in codes {
                    self.codes.insert(code.clone(), *coupon_id);
                }
            }
        }
        self
    }
}
