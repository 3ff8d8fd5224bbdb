//! Customer accounts, listed by email.

use crate::error::ProjectionResult;
use crate::keys::{id_key, key, Table};
use crate::store::WriteSet;
use crate::views::CustomerView;
use comptoir_domain::customer::CustomerEvent;
use comptoir_eventlog::RecordedEvent;

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
                first_name: profile.first_name.clone(),
                last_name: profile.last_name.clone(),
                phone: profile.phone.clone(),
                address: profile.address.clone(),
                marketing_consent: profile.marketing_consent,
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
            view.updated_at = *changed_at;
            view.version = recorded.stream_version;
            writes.put(view_key, &view)
        }
    }
}
