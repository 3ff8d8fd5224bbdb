//! Customer accounts, listed by email.

use crate::error::ProjectionResult;
use crate::keys::{id_key, key, Table};
use crate::store::WriteSet;
use crate::views::CustomerView;
use comptoir_domain::customer::customer_id_for;
use comptoir_domain::customer::CustomerEvent;
use comptoir_eventlog::RecordedEvent;
use uuid::Uuid;

pub(crate) fn apply(
    writes: &mut WriteSet,
    recorded: &RecordedEvent,
    event: &CustomerEvent,
) -> ProjectionResult<()> {
    match event {
        CustomerEvent::CustomerRegistered {
            shop_id,
            customer_id,
            email,
            email_as_typed,
            profile,
            registered_at,
        } => {
            let view = CustomerView {
                shop_id: *shop_id,
                customer_id: *customer_id,
                email: email.clone(),
                email_as_typed: email_as_typed.clone(),
                previous_emails: Vec::new(),
                first_name: profile.first_name.clone(),
                last_name: profile.last_name.clone(),
                phone: profile.phone.clone(),
                address: profile.address.clone(),
                marketing_consent: profile.marketing_consent,
                extra: profile.extra.clone(),
                registered_at: *registered_at,
                updated_at: *registered_at,
                version: recorded.stream_version,
            };
            writes.put(id_key(Table::CustomerId, *shop_id, *customer_id), email)?;
            writes.put(key(Table::Customer, *shop_id, email.as_bytes()), &view)
        }
        CustomerEvent::CustomerProfileChanged {
            shop_id,
            customer_id,
            profile,
            changed_at,
        } => {
            let Some(email) =
                writes.get::<String>(&id_key(Table::CustomerId, *shop_id, *customer_id))?
            else {
                tracing::warn!(%shop_id, %customer_id, "profile change of an unknown customer ignored");
                return Ok(());
            };
            let view_key = key(Table::Customer, *shop_id, email.as_bytes());
            let Some(mut view) = writes.get::<CustomerView>(&view_key)? else {
                tracing::warn!(%shop_id, %customer_id, "customer index without its view");
                return Ok(());
            };
            view.first_name = profile.first_name.clone();
            view.last_name = profile.last_name.clone();
            view.phone = profile.phone.clone();
            view.address = profile.address.clone();
            view.marketing_consent = profile.marketing_consent;
            view.extra = profile.extra.clone();
            view.updated_at = *changed_at;
            view.version = recorded.stream_version;
            writes.put(view_key, &view)
        }
        CustomerEvent::CustomerEmailChanged {
            shop_id,
            customer_id,
            email,
            email_as_typed,
            previous_email,
            changed_at,
        } => {
            let old_key = key(Table::Customer, *shop_id, previous_email.as_bytes());
            let Some(mut view) = writes.get::<CustomerView>(&old_key)? else {
                tracing::warn!(%shop_id, %customer_id, "email change of an unknown customer ignored");
                return Ok(());
            };
            // The list is by email: the row moves to its new key.
            writes.remove(old_key);
            view.previous_emails.retain(|e| e != email);
            view.previous_emails.push(previous_email.clone());
            view.email = email.clone();
            view.email_as_typed = email_as_typed.clone();
            view.updated_at = *changed_at;
            view.version = recorded.stream_version;
            writes.put(id_key(Table::CustomerId, *shop_id, *customer_id), email)?;
            writes.put(key(Table::Customer, *shop_id, email.as_bytes()), &view)
        }
        CustomerEvent::CustomerEmailClaimed {
            shop_id,
            email_id,
            claimed_by,
            ..
        } => writes.put(
            id_key(Table::CustomerAlias, *shop_id, *email_id),
            claimed_by,
        ),
        // The welcome mailer's own record (it reads it from the account's stream): no read
        // model shows it, so the customer rows, and their digest, stay as they were.
        CustomerEvent::CustomerWelcomeMailed { .. } => Ok(()),
    }
}

/// The account `email` belongs to: the one that claimed it after moving to it, else the one it
/// derives to (registered or not: guests' orders are keyed the same way).
pub(crate) fn account_of(writes: &WriteSet, shop_id: Uuid, email: &str) -> ProjectionResult<Uuid> {
    let derived = customer_id_for(shop_id, email);
    let alias = writes.get::<Uuid>(&id_key(Table::CustomerAlias, shop_id, derived))?;
    Ok(alias.unwrap_or(derived))
}
