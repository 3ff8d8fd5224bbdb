//! Which account an order belongs to, answered in one place for placing it, the messages about it
//! and its store credit, so that they cannot disagree.
//!
//! An account keeps its id (derived from its first email) when it moves to another email; the new
//! email's customer stream then carries a claim naming it (`Customer::claimed_by`). So an email's
//! account is the one that moved to it, if one did, else the one derived from it; and an order that
//! names its account (`OrderCustomer::customer_id`, checked against the claim when it was placed)
//! belongs to that account. The rule itself is the domain's `coupon::customer_key`; this module only
//! reads the claim it needs, from a decision's session or from the hot state.

use comptoir_domain::coupon;
use comptoir_domain::customer::{self, customer_id_for, normalise_email, Customer};
use comptoir_domain::order::{OrderCustomer, PlacedOrder};
use comptoir_domain::DomainError;
use comptoir_eventlog::EventLog;
use uuid::Uuid;

use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::server::AppState;

/// The account of an order's customer, with the claim it was resolved through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomerAccount {
    pub account_id: Uuid,
    /// The account that moved to the order's email, if one did; `PlaceOrder` checks the named
    /// account against it.
    pub email_moved_to: Option<Uuid>,
}

/// The account of an order about to be placed: its email's account, and the account the order
/// names must be that one (a validation error otherwise). Inside a decision, so the claim read is
/// the one the append is checked against.
pub fn customer_account(
    session: &mut Session<'_, EventLog>,
    shop_id: Uuid,
    customer: &OrderCustomer,
) -> Result<CustomerAccount, CommandError> {
    account_through(shop_id, customer, |stream| {
        Ok(session.load::<Customer>(stream)?.claimed_by)
    })
}

/// As [`customer_account`], for reads that decide nothing (the cart preview): from the hot state.
pub fn cached_customer_account(
    state: &AppState,
    shop_id: Uuid,
    customer: &OrderCustomer,
) -> Result<CustomerAccount, ApiError> {
    let account = account_through(shop_id, customer, |stream| {
        let loaded = state
            .cache
            .load::<Customer, _>(state.log.as_ref(), stream)?;
        Ok(loaded.state.claimed_by)
    })?;
    Ok(account)
}

/// The account a placed order belongs to: the one it names, else its email's account.
///
/// The named account was checked when the order was placed and is kept as recorded, so a later
/// claim of the email cannot take the order from it. An order that names none (a guest's, or a
/// storefront that did not send the id) follows its email's claim as it stands now.
pub fn order_account(
    session: &mut Session<'_, EventLog>,
    placed: &PlacedOrder,
) -> Result<Uuid, CommandError> {
    match placed.customer.customer_id {
        Some(account_id) => Ok(account_id),
        None => Ok(customer_account(session, placed.shop_id, &placed.customer)?.account_id),
    }
}

/// Reads the claim of the customer's email with `claim_of` (given the email's customer stream),
/// then applies the domain's rule.
fn account_through(
    shop_id: Uuid,
    customer: &OrderCustomer,
    claim_of: impl FnOnce(&str) -> Result<Option<Uuid>, CommandError>,
) -> Result<CustomerAccount, CommandError> {
    let email_moved_to = claim_of(&email_stream_id(shop_id, &customer.email)?)?;
    let account_id = coupon::customer_key(shop_id, customer, email_moved_to)?;
    Ok(CustomerAccount {
        account_id,
        email_moved_to,
    })
}

/// The customer stream of an email: it names the account that moved to the email, if one did.
fn email_stream_id(shop_id: Uuid, email: &str) -> Result<String, DomainError> {
    let email = normalise_email(email)?;
    Ok(customer::stream_id(customer_id_for(shop_id, &email)))
}
