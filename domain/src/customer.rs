//! Registered customers: one account per shop per email, compared case-insensitively.
//!
//! Uniqueness holds under concurrency by construction: the customer id is derived from the shop
//! and the normalised email ([`customer_id_for`], a name-based UUID v5), and so is the stream
//! (`customer-{customer_id}`). The glue appends `CustomerRegistered` with "expected version: no
//! stream", so two concurrent sign-ups with one email cannot both succeed. Guest orders carry an
//! email only.
//!
//! An account may move to another email, and uniqueness holds through the same streams: the move
//! (`CustomerEmailChanged` on the account's stream) is appended together with a claim of the new
//! email's stream (`CustomerEmailClaimed` on `customer-{customer_id_for(new email)}`, naming the
//! account), so a sign-up with that email and the move cannot both succeed, and a claimed email
//! cannot be registered or claimed by another account. The account keeps its id (derived from
//! its first email, which therefore stays its own) and every email it claimed: no one else can
//! take them, and it can move back to any of them.

use crate::limits::{EMAIL_CHARS_MAX, NAME_CHARS_MAX, PREVIOUS_EMAILS_PER_CUSTOMER_MAX};
use crate::shop::{AccountForm, Address, FilledIn};
use crate::text::{validate_optional_text, validate_text};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Characters in the local part of an email (RFC 5321).
const EMAIL_LOCAL_CHARS_MAX: usize = 64;

/// Trims and lower-cases an email and checks its shape: one '@', a non-empty local part, a domain
/// with a dot, no spaces or control characters.
pub fn normalise_email(email: &str) -> Result<String, DomainError> {
    let normalised = email.trim().to_lowercase();
    let invalid = |message: &str| Err(DomainError::validation("email", message));
    if normalised.chars().count() > EMAIL_CHARS_MAX {
        return invalid("too long");
    }
    if normalised
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid("must not contain spaces");
    }
    let Some((local, domain)) = normalised.split_once('@') else {
        return invalid("must contain '@'");
    };
    if local.is_empty() || local.chars().count() > EMAIL_LOCAL_CHARS_MAX || domain.contains('@') {
        return invalid("must be of the form name@domain");
    }
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if !domain_ok {
        return invalid("the domain must be like example.fr");
    }
    Ok(normalised)
}

/// The id of the account of `normalised_email` in `shop_id`: the same inputs always give the same id.
pub fn customer_id_for(shop_id: Uuid, normalised_email: &str) -> Uuid {
    Uuid::new_v5(&shop_id, normalised_email.as_bytes())
}

/// Stream of one customer account.
pub fn stream_id(customer_id: Uuid) -> String {
    format!("{}-{customer_id}", Customer::STREAM_KIND)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProfile {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub address: Option<Address>,
    /// Agreed to receive the shop's newsletters and offers. Absent from the bytes when false, as
    /// in every profile stored before the consent existed, so those decode and re-encode unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub marketing_consent: bool,
    /// Answers to the shop's additional fields (`AccountForm::extra_fields`), by field key.
    /// Absent from the bytes when empty, as in every profile stored before forms existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl CustomerProfile {
    /// What the shop's account form judges of this profile.
    fn filled_in(&self) -> FilledIn<'_> {
        FilledIn {
            phone: self.phone.as_deref(),
            has_address: self.address.is_some(),
            extra: &self.extra,
        }
    }

    fn validate(&self) -> Result<(), DomainError> {
        validate_text("first_name", &self.first_name, NAME_CHARS_MAX)?;
        validate_text("last_name", &self.last_name, NAME_CHARS_MAX)?;
        validate_optional_text("phone", self.phone.as_deref(), 32)?;
        self.address
            .as_ref()
            .map_or(Ok(()), |a| a.validate("address"))
    }
}

#[derive(Debug, Clone)]
pub enum CustomerCommand {
    /// `form` is the shop's account form in force, read by the glue from the shop's stream.
    Register {
        shop_id: Uuid,
        email: String,
        profile: CustomerProfile,
        form: AccountForm,
    },
    ChangeProfile {
        profile: CustomerProfile,
        form: AccountForm,
    },
    /// Moves the account to `email`. The glue also decides `ClaimEmail` on the new email's stream
    /// (unless it is the account's own), in the same append.
    ChangeEmail { email: String },
    /// Reserves `email` (whose stream this is) for the account `for_customer`.
    ClaimEmail {
        shop_id: Uuid,
        email: String,
        for_customer: Uuid,
    },
    /// Records that the sign-up's confirmation mail went out to the account's email (seed 002).
    RecordWelcomeMailed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CustomerEvent {
    CustomerRegistered {
        shop_id: Uuid,
        customer_id: Uuid,
        /// Normalised (lower-case): the identity of the account.
        email: String,
        /// As typed, for display.
        email_as_typed: String,
        profile: CustomerProfile,
        registered_at: DateTime<Utc>,
    },
    CustomerProfileChanged {
        shop_id: Uuid,
        customer_id: Uuid,
        profile: CustomerProfile,
        changed_at: DateTime<Utc>,
    },
    /// The account moved to another email; its id does not change.
    CustomerEmailChanged {
        shop_id: Uuid,
        customer_id: Uuid,
        /// Normalised: the email orders and look-ups now use.
        email: String,
        email_as_typed: String,
        previous_email: String,
        changed_at: DateTime<Utc>,
    },
    /// On the stream of `email` (`customer-{email_id}`): the email belongs to `claimed_by`.
    CustomerEmailClaimed {
        shop_id: Uuid,
        /// The id `email` derives to (the stream's), not an account's.
        email_id: Uuid,
        email: String,
        claimed_by: Uuid,
        claimed_at: DateTime<Utc>,
    },
    /// The sign-up's confirmation mail was accepted by the mail server for `email`.
    CustomerWelcomeMailed {
        shop_id: Uuid,
        customer_id: Uuid,
        email: String,
        mailed_at: DateTime<Utc>,
    },
}

impl DomainEvent for CustomerEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CustomerEvent::CustomerRegistered { .. } => "CustomerRegistered",
            CustomerEvent::CustomerProfileChanged { .. } => "CustomerProfileChanged",
            CustomerEvent::CustomerEmailChanged { .. } => "CustomerEmailChanged",
            CustomerEvent::CustomerEmailClaimed { .. } => "CustomerEmailClaimed",
            CustomerEvent::CustomerWelcomeMailed { .. } => "CustomerWelcomeMailed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCustomer {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub email: String,
    pub profile: CustomerProfile,
    /// Emails the account moved away from, oldest first, without the current one.
    pub previous_emails: Vec<String>,
    /// When its confirmation mail went out; `None` before (or for accounts older than mails).
    pub welcome_mailed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct Customer {
    pub registered: Option<RegisteredCustomer>,
    /// On the stream of an email another account moved to: that account.
    pub claimed_by: Option<Uuid>,
}

impl Customer {
    fn decide_register(
        &self,
        shop_id: Uuid,
        email: &str,
        profile: &CustomerProfile,
        form: &AccountForm,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, DomainError> {
        let normalised = normalise_email(email)?;
        if self.claimed_by.is_some() {
            return Err(DomainError::already_exists("customer", normalised));
        }
        if let Some(existing) = &self.registered {
            // The same sign-up retried is not an error; another sign-up with this email is.
            let retry = existing.email == normalised && existing.profile == *profile;
            return if retry {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("customer", normalised))
            };
        }
        profile.validate()?;
        form.check(&profile.filled_in())?;
        Ok(vec![CustomerEvent::CustomerRegistered {
            shop_id,
            customer_id: customer_id_for(shop_id, &normalised),
            email: normalised,
            email_as_typed: email.trim().to_owned(),
            profile: profile.clone(),
            registered_at: now,
        }])
    }

    fn registered_or_not_found(&self) -> Result<&RegisteredCustomer, DomainError> {
        self.registered
            .as_ref()
            .ok_or_else(|| DomainError::not_found("customer", "this account"))
    }

    fn decide_change(
        &self,
        profile: &CustomerProfile,
        form: &AccountForm,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, DomainError> {
        let existing = self.registered_or_not_found()?;
        if existing.profile == *profile {
            return Ok(vec![]);
        }
        profile.validate()?;
        form.check_change(&profile.filled_in(), &existing.profile.extra)?;
        Ok(vec![CustomerEvent::CustomerProfileChanged {
            shop_id: existing.shop_id,
            customer_id: existing.customer_id,
            profile: profile.clone(),
            changed_at: now,
        }])
    }
}

impl Customer {
    /// Once per account: a second record (a mail sent again after a crash) adds nothing.
    fn decide_welcome_mailed(&self, now: DateTime<Utc>) -> Result<Vec<CustomerEvent>, DomainError> {
        let existing = self.registered_or_not_found()?;
        if existing.welcome_mailed_at.is_some() {
            return Ok(vec![]);
        }
        Ok(vec![CustomerEvent::CustomerWelcomeMailed {
            shop_id: existing.shop_id,
            customer_id: existing.customer_id,
            email: existing.email.clone(),
            mailed_at: now,
        }])
    }

    fn decide_change_email(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, DomainError> {
        let existing = self.registered_or_not_found()?;
        let normalised = normalise_email(email)?;
        if normalised == existing.email {
            return Ok(vec![]);
        }
        // Moving back to an email the account held adds none; each new one stays reserved.
        let new_email = !existing.previous_emails.contains(&normalised);
        if new_email && existing.previous_emails.len() >= PREVIOUS_EMAILS_PER_CUSTOMER_MAX {
            return Err(DomainError::LimitExceeded {
                what: "earlier emails of one customer account",
                limit: PREVIOUS_EMAILS_PER_CUSTOMER_MAX as u64,
            });
        }
        Ok(vec![CustomerEvent::CustomerEmailChanged {
            shop_id: existing.shop_id,
            customer_id: existing.customer_id,
            email: normalised,
            email_as_typed: email.trim().to_owned(),
            previous_email: existing.email.clone(),
            changed_at: now,
        }])
    }

    fn decide_claim_email(
        &self,
        shop_id: Uuid,
        email: &str,
        for_customer: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, DomainError> {
        let normalised = normalise_email(email)?;
        let email_id = customer_id_for(shop_id, &normalised);
        if email_id == for_customer {
            // An account's first email is its own stream: nothing to claim.
            return Ok(vec![]);
        }
        match (&self.registered, self.claimed_by) {
            (None, Some(owner)) if owner == for_customer => Ok(vec![]),
            (None, None) => Ok(vec![CustomerEvent::CustomerEmailClaimed {
                shop_id,
                email_id,
                email: normalised,
                claimed_by: for_customer,
                claimed_at: now,
            }]),
            _ => Err(DomainError::already_exists("customer", normalised)),
        }
    }
}

impl Aggregate for Customer {
    type Command = CustomerCommand;
    type Event = CustomerEvent;
    const STREAM_KIND: &'static str = "customer";

    fn decide(
        &self,
        command: &CustomerCommand,
        env: &dyn Environment,
    ) -> Result<Vec<CustomerEvent>, DomainError> {
        match command {
            CustomerCommand::Register {
                shop_id,
                email,
                profile,
                form,
            } => self.decide_register(*shop_id, email, profile, form, env.now()),
            CustomerCommand::ChangeProfile { profile, form } => {
                self.decide_change(profile, form, env.now())
            }
            CustomerCommand::ChangeEmail { email } => self.decide_change_email(email, env.now()),
            CustomerCommand::ClaimEmail {
                shop_id,
                email,
                for_customer,
            } => self.decide_claim_email(*shop_id, email, *for_customer, env.now()),
            CustomerCommand::RecordWelcomeMailed => self.decide_welcome_mailed(env.now()),
        }
    }

    fn evolve(mut self, event: &CustomerEvent) -> Self {
        match event {
            CustomerEvent::CustomerRegistered {
                shop_id,
                customer_id,
                email,
                profile,
                ..
            } => {
                self.registered = Some(RegisteredCustomer {
                    shop_id: *shop_id,
                    customer_id: *customer_id,
                    email: email.clone(),
                    profile: profile.clone(),
                    previous_emails: Vec::new(),
                    welcome_mailed_at: None,
                });
            }
            CustomerEvent::CustomerProfileChanged { profile, .. } => {
                if let Some(registered) = self.registered.as_mut() {
                    registered.profile = profile.clone();
                }
            }
            CustomerEvent::CustomerEmailChanged {
                email,
                previous_email,
                ..
            } => {
                if let Some(registered) = self.registered.as_mut() {
                    registered.previous_emails.retain(|e| e != email);
                    registered.previous_emails.push(previous_email.clone());
                    registered.email = email.clone();
                }
            }
            CustomerEvent::CustomerEmailClaimed { claimed_by, .. } => {
                self.claimed_by = Some(*claimed_by);
            }
            CustomerEvent::CustomerWelcomeMailed { mailed_at, .. } => {
                if let Some(registered) = self.registered.as_mut() {
                    registered.welcome_mailed_at = Some(*mailed_at);
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{address, shop_id};
    use crate::testing::{given, test_now};

    fn profile() -> CustomerProfile {
        CustomerProfile {
            first_name: "Jules".into(),
            last_name: "Bernard".into(),
            phone: None,
            address: Some(address()),
            marketing_consent: false,
            extra: BTreeMap::new(),
        }
    }

    fn register(email: &str) -> CustomerCommand {
        CustomerCommand::Register {
            shop_id: shop_id(),
            email: email.into(),
            profile: profile(),
            form: AccountForm::default(),
        }
    }

    fn registered() -> CustomerEvent {
        registered_as("Jules.Bernard@Example.fr", profile())
    }

    /// Jules's sign-up, typed as `email_as_typed`, with `profile`.
    fn registered_as(email_as_typed: &str, profile: CustomerProfile) -> CustomerEvent {
        CustomerEvent::CustomerRegistered {
            shop_id: shop_id(),
            customer_id: customer_id_for(shop_id(), "jules.bernard@example.fr"),
            email: "jules.bernard@example.fr".into(),
            email_as_typed: email_as_typed.into(),
            profile,
            registered_at: test_now(),
        }
    }

    #[test]
    fn the_welcome_mail_is_recorded_once() {
        // Proves the confirmation mail's record names the account's email, and a second record
        // (the mail sent again after a crash) adds nothing.
        let mailed = CustomerEvent::CustomerWelcomeMailed {
            shop_id: shop_id(),
            customer_id: customer_id_for(shop_id(), "jules.bernard@example.fr"),
            email: "jules.bernard@example.fr".into(),
            mailed_at: test_now(),
        };
        given::<Customer>([registered()])
            .when(CustomerCommand::RecordWelcomeMailed)
            .then([mailed.clone()]);
        given::<Customer>([registered(), mailed])
            .when(CustomerCommand::RecordWelcomeMailed)
            .then([]);
        given::<Customer>([])
            .when(CustomerCommand::RecordWelcomeMailed)
            .then_err_code("not-found");
    }

    #[test]
    fn registers_with_a_normalised_email() {
        // Proves the account is keyed by the lower-cased email and keeps the typed form for display.
        given::<Customer>([])
            .when(register(" Jules.Bernard@Example.fr "))
            .then([registered()]);
    }

    #[test]
    fn one_account_per_email_case_insensitively() {
        // Proves the same email in any case maps to the same id and stream, and a second sign-up fails.
        let upper = customer_id_for(
            shop_id(),
            &normalise_email("JULES.BERNARD@EXAMPLE.FR").expect("valid"),
        );
        assert_eq!(
            upper,
            customer_id_for(shop_id(), "jules.bernard@example.fr")
        );
        assert_ne!(
            upper,
            customer_id_for(Uuid::nil(), "jules.bernard@example.fr"),
            "ids are per shop"
        );
        let mut other = profile();
        other.first_name = "Julie".into();
        let command = CustomerCommand::Register {
            shop_id: shop_id(),
            email: "JULES.bernard@example.fr".into(),
            profile: other,
            form: AccountForm::default(),
        };
        given::<Customer>([registered()])
            .when(command)
            .then_err_code("already-exists");
        // The very same sign-up retried records nothing new.
        given::<Customer>([registered()])
            .when(register("jules.bernard@example.fr"))
            .then([]);
    }

    #[test]
    fn refuses_malformed_emails() {
        // Proves the email shape is checked.
        for bad in [
            "",
            "jules",
            "@example.fr",
            "jules@",
            "jules@example",
            "ju les@example.fr",
            "a@b@c.fr",
            "a@.fr",
            "a@b..fr",
        ] {
            assert_eq!(
                normalise_email(bad).map_err(|e| e.code()),
                Err("validation"),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.fr", "a".repeat(EMAIL_CHARS_MAX));
        assert!(normalise_email(&long).is_err());
        given::<Customer>([])
            .when(register("nope"))
            .then_err_code("validation");
    }

    #[test]
    fn validates_the_profile() {
        // Proves names are required.
        let mut bad = profile();
        bad.last_name = String::new();
        let command = CustomerCommand::Register {
            shop_id: shop_id(),
            email: "a@b.fr".into(),
            profile: bad,
            form: AccountForm::default(),
        };
        given::<Customer>([])
            .when(command)
            .then_err_code("validation");
    }

    fn account_id() -> Uuid {
        customer_id_for(shop_id(), "jules.bernard@example.fr")
    }

    #[test]
    fn moves_to_another_email_claimed_once() {
        // Proves an account changes its email (same id), the new email's stream is claimed for it,
        // and a claimed or registered email can be neither registered nor claimed by another.
        let moved = CustomerEvent::CustomerEmailChanged {
            shop_id: shop_id(),
            customer_id: account_id(),
            email: "jules@ailleurs.fr".into(),
            email_as_typed: "Jules@Ailleurs.fr".into(),
            previous_email: "jules.bernard@example.fr".into(),
            changed_at: test_now(),
        };
        let customer = given::<Customer>([registered()])
            .when(CustomerCommand::ChangeEmail {
                email: " Jules@Ailleurs.fr".into(),
            })
            .then([moved]);
        let current = customer.registered.expect("registered");
        assert_eq!(
            (current.customer_id, current.email.as_str()),
            (account_id(), "jules@ailleurs.fr")
        );
        given::<Customer>([registered()])
            .when(CustomerCommand::ChangeEmail {
                email: "JULES.BERNARD@example.fr".into(),
            })
            .then([]);
        given::<Customer>([registered()])
            .when(CustomerCommand::ChangeEmail {
                email: "pas un email".into(),
            })
            .then_err_code("validation");
        // At most PREVIOUS_EMAILS_PER_CUSTOMER_MAX earlier emails; moving back adds none.
        let mut history = vec![registered()];
        let mut current = "jules.bernard@example.fr".to_string();
        for n in 0..PREVIOUS_EMAILS_PER_CUSTOMER_MAX {
            let email = format!("jules{n}@example.fr");
            history.push(CustomerEvent::CustomerEmailChanged {
                shop_id: shop_id(),
                customer_id: account_id(),
                email: email.clone(),
                email_as_typed: email.clone(),
                previous_email: current,
                changed_at: test_now(),
            });
            current = email;
        }
        given::<Customer>(history.clone())
            .when(CustomerCommand::ChangeEmail {
                email: "jules.encore@example.fr".into(),
            })
            .then_err_code("limit-exceeded");
        let back = given::<Customer>(history)
            .when(CustomerCommand::ChangeEmail {
                email: "jules.bernard@example.fr".into(),
            })
            .events();
        assert_eq!(back.len(), 1, "moving back to an earlier email is allowed");

        let claim = |for_customer: Uuid| CustomerCommand::ClaimEmail {
            shop_id: shop_id(),
            email: "Jules@Ailleurs.fr".into(),
            for_customer,
        };
        let claimed = CustomerEvent::CustomerEmailClaimed {
            shop_id: shop_id(),
            email_id: customer_id_for(shop_id(), "jules@ailleurs.fr"),
            email: "jules@ailleurs.fr".into(),
            claimed_by: account_id(),
            claimed_at: test_now(),
        };
        let stream = given::<Customer>([])
            .when(claim(account_id()))
            .then([claimed.clone()]);
        assert_eq!(stream.claimed_by, Some(account_id()));
        given::<Customer>([claimed.clone()])
            .when(claim(account_id()))
            .then([]);
        given::<Customer>([claimed.clone()])
            .when(claim(Uuid::from_u128(9)))
            .then_err_code("already-exists");
        given::<Customer>([claimed])
            .when(register("jules@ailleurs.fr"))
            .then_err_code("already-exists");
        given::<Customer>([registered()])
            .when(CustomerCommand::ClaimEmail {
                shop_id: shop_id(),
                email: "jules.bernard@example.fr".into(),
                for_customer: Uuid::from_u128(9),
            })
            .then_err_code("already-exists");
    }

    #[test]
    fn changes_the_profile() {
        // Proves a registered customer can change their profile, and an unknown one cannot.
        let mut changed = profile();
        changed.phone = Some("+33 6 00 00 00 00".into());
        changed.marketing_consent = true;
        let expected = CustomerEvent::CustomerProfileChanged {
            shop_id: shop_id(),
            customer_id: customer_id_for(shop_id(), "jules.bernard@example.fr"),
            profile: changed.clone(),
            changed_at: test_now(),
        };
        let customer = given::<Customer>([registered()])
            .when(CustomerCommand::ChangeProfile {
                profile: changed.clone(),
                form: AccountForm::default(),
            })
            .then([expected]);
        assert_eq!(
            customer.registered.map(|r| r.profile),
            Some(changed.clone())
        );
        given::<Customer>([registered()])
            .when(CustomerCommand::ChangeProfile {
                profile: profile(),
                form: AccountForm::default(),
            })
            .then([]);
        given::<Customer>([])
            .when(CustomerCommand::ChangeProfile {
                profile: changed,
                form: AccountForm::default(),
            })
            .then_err_code("not-found");
    }

    #[test]
    fn the_shops_account_form_is_checked_on_sign_up_and_on_profile_changes() {
        // Proves a sign-up missing a field the form requires, or answering one it lacks, is
        // refused; a change may keep an answer to a field removed since, not change it.
        use crate::shop::{ExtraField, FieldRule};
        let form = AccountForm {
            phone: FieldRule::Mandatory,
            address: FieldRule::Optional,
            extra_fields: vec![ExtraField {
                key: "civilite".into(),
                label: "Civilité".into(),
                description: None,
                options: vec!["M.".into(), "Mme".into()],
                mandatory: true,
            }],
        };
        let sign_up = |profile: CustomerProfile| CustomerCommand::Register {
            shop_id: shop_id(),
            email: "jules.bernard@example.fr".into(),
            profile,
            form: form.clone(),
        };
        given::<Customer>([])
            .when(sign_up(profile()))
            .then_err_code("validation");
        let mut answered = profile();
        answered.phone = Some("0478000000".into());
        answered.extra.insert("civilite".into(), "M.".into());
        let signed_up = registered_as("jules.bernard@example.fr", answered.clone());
        given::<Customer>([])
            .when(sign_up(answered.clone()))
            .then([signed_up.clone()]);
        let mut off_list = answered.clone();
        off_list.extra.insert("civilite".into(), "Dr".into());
        given::<Customer>([])
            .when(sign_up(off_list))
            .then_err_code("validation");

        let history = [signed_up];
        let change = |profile: CustomerProfile| CustomerCommand::ChangeProfile {
            profile,
            form: AccountForm::default(),
        };
        let mut kept = answered.clone();
        kept.first_name = "Julien".into();
        given::<Customer>(history.clone())
            .when(change(kept.clone()))
            .then([CustomerEvent::CustomerProfileChanged {
                shop_id: shop_id(),
                customer_id: customer_id_for(shop_id(), "jules.bernard@example.fr"),
                profile: kept.clone(),
                changed_at: test_now(),
            }]);
        let mut altered = kept;
        altered.extra.insert("civilite".into(), "Mme".into());
        given::<Customer>(history)
            .when(change(altered))
            .then_err_code("validation");
    }
}
