//! Messages between customers and the shop (seed 003): each customer's thread oldest first, its
//! unread counts per side, and the staff's inbox of threads with unread customer messages.
//!
//! A message's row is keyed by its thread and its sequence in the thread (the log order of the
//! sends), so a cursor into a thread never moves. The inbox is the thread table filtered on
//! "unread by the shop", in customer-id order.
//!
//! Messages from the shop waiting for their e-mail also sit in a small index of their own
//! (`Table::MessageNotification`), left on `CustomerMessageNotified` or when the customer reads
//! the message first, so the notifier finds them without walking every thread.

use crate::error::ProjectionResult;
use crate::keys::{id_key, key, shop_prefix, Table};
use crate::paging::{Page, PageRequest};
use crate::store::{self, decode_value, ListRange, WriteSet};
use crate::Projections;
use chrono::{DateTime, Utc};
use comptoir_domain::customer_messages::{MessageEvent, Side};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One message as both sides see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub message_id: Uuid,
    /// Position in the thread, from 1.
    pub seq: u32,
    pub from: Side,
    pub order_id: Option<Uuid>,
    pub body: String,
    pub sent_at: DateTime<Utc>,
    /// When the recipient marked it read.
    pub read_at: Option<DateTime<Utc>>,
    pub archived_by_customer: bool,
    pub archived_by_shop: bool,
    /// A message to the customer waits for its e-mail notification until it is sent or the
    /// customer reads the message first.
    pub awaits_notification: bool,
    /// When the customer was e-mailed about it (rows stored before notifications have none).
    #[serde(default)]
    pub notified_at: Option<DateTime<Utc>>,
}

/// A message from the shop whose e-mail to the customer is not sent yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNotification {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub message_id: Uuid,
}

impl MessageView {
    /// Archived by `side`, so hidden from its default listing.
    pub fn archived_by(&self, side: Side) -> bool {
        match side {
            Side::Customer => self.archived_by_customer,
            Side::Shop => self.archived_by_shop,
        }
    }
}

/// One customer's thread, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageThreadView {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    pub messages: u32,
    /// Messages from the shop the customer has not marked read.
    pub unread_by_customer: u32,
    /// Messages from the customer the staff have not marked read.
    pub unread_by_shop: u32,
    /// Messages to the customer waiting for their e-mail notification.
    pub awaiting_notification: u32,
    pub last_message_at: DateTime<Utc>,
}

/// Where a message's row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct MessageLocation {
    customer_id: Uuid,
    seq: u32,
}

fn thread_prefix(shop_id: Uuid, customer_id: Uuid) -> Vec<u8> {
    key(Table::Message, shop_id, customer_id.as_bytes())
}

fn message_key(shop_id: Uuid, customer_id: Uuid, seq: u32) -> Vec<u8> {
    let mut key = thread_prefix(shop_id, customer_id);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Which messages a thread listing shows to the side reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveFilter {
    /// Those the reader has not archived (the seed's main page).
    #[default]
    Current,
    /// Only those the reader archived.
    Archived,
    /// Everything.
    All,
}

impl Projections {
    /// The customer's thread counts, or `None` before the first message.
    pub fn message_thread(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
    ) -> ProjectionResult<Option<MessageThreadView>> {
        store::get(
            &self.tree(),
            &id_key(Table::MessageThread, shop_id, customer_id),
        )
    }

    /// The customer's messages, oldest first, as `reader` filters them by its own archive.
    pub fn messages(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
        reader: Side,
        filter: ArchiveFilter,
        page: &PageRequest,
    ) -> ProjectionResult<Page<MessageView>> {
        let range = ListRange {
            list_tag: Table::Message as u8,
            prefix: thread_prefix(shop_id, customer_id),
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, |message: MessageView| {
            let archived = message.archived_by(reader);
            let shown = match filter {
                ArchiveFilter::Current => !archived,
                ArchiveFilter::Archived => archived,
                ArchiveFilter::All => true,
            };
            shown.then_some(message)
        })
    }

    /// One message of the shop, with the customer it belongs to.
    pub fn message(
        &self,
        shop_id: Uuid,
        message_id: Uuid,
    ) -> ProjectionResult<Option<MessageView>> {
        // One tree for both reads: an online rebuild may swap the tree between them.
        let tree = self.tree();
        let location: Option<MessageLocation> =
            store::get(&tree, &id_key(Table::MessageId, shop_id, message_id))?;
        match location {
            Some(at) => store::get(&tree, &message_key(shop_id, at.customer_id, at.seq)),
            None => Ok(None),
        }
    }

    /// Up to `limit` messages waiting for their e-mail, across all shops, in key order. Sent
    /// or read messages leave the index, so the same call returns the next ones.
    pub fn pending_message_notifications(
        &self,
        limit: usize,
    ) -> ProjectionResult<Vec<PendingNotification>> {
        let mut pending = Vec::new();
        for entry in self
            .tree()
            .scan_prefix([Table::MessageNotification as u8])
            .take(limit)
        {
            let (key, value) = entry?;
            pending.push(decode_value(&key, &value)?);
        }
        Ok(pending)
    }

    /// The staff's inbox: threads with messages the shop has not read, by customer id.
    pub fn message_inbox(
        &self,
        shop_id: Uuid,
        page: &PageRequest,
    ) -> ProjectionResult<Page<MessageThreadView>> {
        let range = ListRange {
            list_tag: Table::MessageThread as u8,
            prefix: shop_prefix(Table::MessageThread, shop_id),
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, |thread: MessageThreadView| {
            (thread.unread_by_shop > 0).then_some(thread)
        })
    }
}

/// Applies one message event to the thread, its counts and the message's row.
pub(crate) fn apply(writes: &mut WriteSet, event: &MessageEvent) -> ProjectionResult<()> {
    match event {
        MessageEvent::CustomerMessageSent {
            shop_id,
            customer_id,
            message_id,
            from,
            order_id,
            body,
            sent_at,
            ..
        } => {
            let thread_key = id_key(Table::MessageThread, *shop_id, *customer_id);
            let mut thread =
                writes
                    .get::<MessageThreadView>(&thread_key)?
                    .unwrap_or(MessageThreadView {
                        shop_id: *shop_id,
                        customer_id: *customer_id,
                        messages: 0,
                        unread_by_customer: 0,
                        unread_by_shop: 0,
                        awaiting_notification: 0,
                        last_message_at: *sent_at,
                    });
            thread.messages += 1;
            thread.last_message_at = *sent_at;
            let awaits_notification = *from == Side::Shop;
            match from {
                Side::Shop => {
                    thread.unread_by_customer += 1;
                    thread.awaiting_notification += 1;
                }
                Side::Customer => thread.unread_by_shop += 1,
            }
            let view = MessageView {
                shop_id: *shop_id,
                customer_id: *customer_id,
                message_id: *message_id,
                seq: thread.messages,
                from: *from,
                order_id: *order_id,
                body: body.clone(),
                sent_at: *sent_at,
                read_at: None,
                archived_by_customer: false,
                archived_by_shop: false,
                awaits_notification,
                notified_at: None,
            };
            if awaits_notification {
                let pending = PendingNotification {
                    shop_id: *shop_id,
                    customer_id: *customer_id,
                    message_id: *message_id,
                };
                writes.put(
                    id_key(Table::MessageNotification, *shop_id, *message_id),
                    &pending,
                )?;
            }
            let location = MessageLocation {
                customer_id: *customer_id,
                seq: thread.messages,
            };
            writes.put(id_key(Table::MessageId, *shop_id, *message_id), &location)?;
            writes.put(message_key(*shop_id, *customer_id, view.seq), &view)?;
            writes.put(thread_key, &thread)
        }
        MessageEvent::CustomerMessageRead {
            shop_id,
            message_id,
            read_at,
            ..
        } => change_message(writes, *shop_id, *message_id, |message, thread| {
            if message.read_at.is_some() {
                return None;
            }
            message.read_at = Some(*read_at);
            match message.from {
                Side::Shop => {
                    thread.unread_by_customer = thread.unread_by_customer.saturating_sub(1)
                }
                Side::Customer => thread.unread_by_shop = thread.unread_by_shop.saturating_sub(1),
            }
            // Read before its mail went out: the customer knows, no mail is needed.
            stop_awaiting(message, thread)
        }),
        MessageEvent::CustomerMessageNotified {
            shop_id,
            message_id,
            notified_at,
            ..
        } => change_message(writes, *shop_id, *message_id, |message, thread| {
            if message.notified_at.is_none() {
                message.notified_at = Some(*notified_at);
            }
            stop_awaiting(message, thread)
        }),
        MessageEvent::CustomerMessageArchived {
            shop_id,
            message_id,
            by,
            ..
        } => change_message(writes, *shop_id, *message_id, |message, _| {
            set_archived(message, *by, true);
            None
        }),
        MessageEvent::CustomerMessageUnarchived {
            shop_id,
            message_id,
            by,
            ..
        } => change_message(writes, *shop_id, *message_id, |message, _| {
            set_archived(message, *by, false);
            None
        }),
    }
}

/// Clears the message's pending notification; answers the index key to remove, if any.
fn stop_awaiting(message: &mut MessageView, thread: &mut MessageThreadView) -> Option<Vec<u8>> {
    if !message.awaits_notification {
        return None;
    }
    message.awaits_notification = false;
    thread.awaiting_notification = thread.awaiting_notification.saturating_sub(1);
    Some(id_key(
        Table::MessageNotification,
        message.shop_id,
        message.message_id,
    ))
}

fn set_archived(message: &mut MessageView, side: Side, archived: bool) {
    match side {
        Side::Customer => message.archived_by_customer = archived,
        Side::Shop => message.archived_by_shop = archived,
    }
}

/// Loads a message and its thread, lets `change` edit both, and stores them back; `change`
/// answers an index key to remove along with them, if any.
fn change_message(
    writes: &mut WriteSet,
    shop_id: Uuid,
    message_id: Uuid,
    change: impl FnOnce(&mut MessageView, &mut MessageThreadView) -> Option<Vec<u8>>,
) -> ProjectionResult<()> {
    let Some(at) = writes.get::<MessageLocation>(&id_key(Table::MessageId, shop_id, message_id))?
    else {
        tracing::warn!(%shop_id, %message_id, "change of an unknown message ignored");
        return Ok(());
    };
    let row_key = message_key(shop_id, at.customer_id, at.seq);
    let thread_key = id_key(Table::MessageThread, shop_id, at.customer_id);
    let (Some(mut message), Some(mut thread)) = (
        writes.get::<MessageView>(&row_key)?,
        writes.get::<MessageThreadView>(&thread_key)?,
    ) else {
        tracing::warn!(%shop_id, %message_id, "message index without its row or thread");
        return Ok(());
    };
    if let Some(stale) = change(&mut message, &mut thread) {
        writes.remove(stale);
    }
    writes.put(row_key, &message)?;
    writes.put(thread_key, &thread)
}
