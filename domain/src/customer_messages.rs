//! Messages between a customer and the shop (seed 003): one thread per customer account, each
//! message optionally about one of the customer's orders.
//!
//! A message is sent by one side (the customer, through the storefront acting for them, or the
//! shop's staff) and marked read by the other side only: the seed's "notify that this new message
//! was read" is the recipient's gesture. Each side archives and unarchives for itself, so a customer
//! tidying their space hides nothing from the staff. The thread is bounded
//! (`MESSAGES_PER_THREAD_MAX`), and so is each message (`MESSAGE_CHARS_MAX`).
//!
//! A message from the shop is also e-mailed to the customer; once the SMTP server accepted the
//! mail, the notifier records `CustomerMessageNotified`, at most once per message. Messages from
//! the customer are not e-mailed: the staff read them in their inbox.

use std::collections::BTreeMap;

use crate::limits::{MESSAGES_PER_THREAD_MAX, MESSAGE_CHARS_MAX, REFERENCE_CHARS_MAX};
use crate::text::validate_text;
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream of one customer's message thread.
pub fn stream_id(customer_id: Uuid) -> String {
    format!("{}-{customer_id}", CustomerMessages::STREAM_KIND)
}

/// Who wrote a message, or who reads or archives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Customer,
    Shop,
}

/// An order a message is about, as the glue found it: `account_id` is the account the order
/// belongs to (derived from its email, as the customer space does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageOrder {
    pub order_id: Uuid,
    pub account_id: Uuid,
}

/// A message about to be sent.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub shop_id: Uuid,
    pub customer_id: Uuid,
    /// Chosen by the glue from the request's command id, so a retry names the same message.
    pub message_id: Uuid,
    pub from: Side,
    /// Who pressed send: an API key or the owner (for the record, not for display).
    pub author: String,
    pub order: Option<MessageOrder>,
    pub body: String,
}

#[derive(Debug, Clone)]
pub enum MessagesCommand {
    Send(NewMessage),
    MarkRead {
        message_id: Uuid,
        by: Side,
    },
    Archive {
        message_id: Uuid,
        by: Side,
    },
    Unarchive {
        message_id: Uuid,
        by: Side,
    },
    /// The e-mail telling the customer of this message from the shop was accepted for delivery.
    RecordNotified {
        message_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MessageEvent {
    CustomerMessageSent {
        shop_id: Uuid,
        customer_id: Uuid,
        message_id: Uuid,
        from: Side,
        author: String,
        order_id: Option<Uuid>,
        body: String,
        sent_at: DateTime<Utc>,
    },
    CustomerMessageRead {
        shop_id: Uuid,
        customer_id: Uuid,
        message_id: Uuid,
        by: Side,
        read_at: DateTime<Utc>,
    },
    CustomerMessageArchived {
        shop_id: Uuid,
        customer_id: Uuid,
        message_id: Uuid,
        by: Side,
        archived_at: DateTime<Utc>,
    },
    CustomerMessageUnarchived {
        shop_id: Uuid,
        customer_id: Uuid,
        message_id: Uuid,
        by: Side,
        unarchived_at: DateTime<Utc>,
    },
    /// The customer was e-mailed about a message from the shop.
    CustomerMessageNotified {
        shop_id: Uuid,
        customer_id: Uuid,
        message_id: Uuid,
        notified_at: DateTime<Utc>,
    },
}

impl DomainEvent for MessageEvent {
    fn event_type(&self) -> &'static str {
        match self {
            MessageEvent::CustomerMessageSent { .. } => "CustomerMessageSent",
            MessageEvent::CustomerMessageRead { .. } => "CustomerMessageRead",
            MessageEvent::CustomerMessageArchived { .. } => "CustomerMessageArchived",
            MessageEvent::CustomerMessageUnarchived { .. } => "CustomerMessageUnarchived",
            MessageEvent::CustomerMessageNotified { .. } => "CustomerMessageNotified",
        }
    }
}

/// What the rules need of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub from: Side,
    pub order_id: Option<Uuid>,
    pub body: String,
    pub read: bool,
    pub archived_by_customer: bool,
    pub archived_by_shop: bool,
    /// The customer was e-mailed about it.
    pub notified: bool,
}

impl MessageState {
    /// A message the notifier should still e-mail: from the shop, neither notified nor already
    /// read by the customer (who then knows of it, so a mail would only be noise).
    pub fn awaits_notification(&self) -> bool {
        self.from == Side::Shop && !self.notified && !self.read
    }

    fn archived_by(&self, side: Side) -> bool {
        match side {
            Side::Customer => self.archived_by_customer,
            Side::Shop => self.archived_by_shop,
        }
    }

    fn set_archived(&mut self, side: Side, archived: bool) {
        match side {
            Side::Customer => self.archived_by_customer = archived,
            Side::Shop => self.archived_by_shop = archived,
        }
    }
}

/// One customer's thread.
#[derive(Debug, Clone, Default)]
pub struct CustomerMessages {
    /// Shop and customer, once the first message is sent.
    pub owner: Option<(Uuid, Uuid)>,
    pub messages: BTreeMap<Uuid, MessageState>,
}

/// A message text: paragraphs of at most `MESSAGE_CHARS_MAX` characters.
fn validate_body(body: &str) -> Result<(), DomainError> {
    crate::text::validate_paragraphs("body", body, MESSAGE_CHARS_MAX)
}

impl CustomerMessages {
    /// The thread's shop and customer, and the message, or "not found".
    fn message(&self, message_id: Uuid) -> Result<((Uuid, Uuid), &MessageState), DomainError> {
        match (self.owner, self.messages.get(&message_id)) {
            (Some(owner), Some(message)) => Ok((owner, message)),
            _ => Err(DomainError::not_found("message", message_id)),
        }
    }

    fn decide_send(
        &self,
        new: &NewMessage,
        now: DateTime<Utc>,
    ) -> Result<Vec<MessageEvent>, DomainError> {
        let order_id = new.order.map(|o| o.order_id);
        if let Some(existing) = self.messages.get(&new.message_id) {
            // The same send retried records nothing; another message under this id is refused.
            let retry = existing.from == new.from
                && existing.order_id == order_id
                && existing.body == new.body;
            return if retry {
                Ok(vec![])
            } else {
                Err(DomainError::already_exists("message", new.message_id))
            };
        }
        if self
            .owner
            .is_some_and(|owner| owner != (new.shop_id, new.customer_id))
        {
            return Err(DomainError::conflict(
                "wrong-thread",
                "this thread belongs to another customer",
            ));
        }
        validate_body(&new.body)?;
        validate_text("author", &new.author, REFERENCE_CHARS_MAX)?;
        if new
            .order
            .is_some_and(|order| order.account_id != new.customer_id)
        {
            return Err(DomainError::validation(
                "order_id",
                "is not an order of this customer",
            ));
        }
        if self.messages.len() >= MESSAGES_PER_THREAD_MAX {
            return Err(DomainError::LimitExceeded {
                what: "messages in one customer's thread",
                limit: MESSAGES_PER_THREAD_MAX as u64,
            });
        }
        Ok(vec![MessageEvent::CustomerMessageSent {
            shop_id: new.shop_id,
            customer_id: new.customer_id,
            message_id: new.message_id,
            from: new.from,
            author: new.author.clone(),
            order_id,
            body: new.body.clone(),
            sent_at: now,
        }])
    }

    fn decide_read(
        &self,
        message_id: Uuid,
        by: Side,
        now: DateTime<Utc>,
    ) -> Result<Vec<MessageEvent>, DomainError> {
        let ((shop_id, customer_id), message) = self.message(message_id)?;
        if message.from == by {
            return Err(DomainError::conflict(
                "own-message",
                "a message is marked read by the side it was sent to, not by its sender",
            ));
        }
        if message.read {
            return Ok(vec![]);
        }
        Ok(vec![MessageEvent::CustomerMessageRead {
            shop_id,
            customer_id,
            message_id,
            by,
            read_at: now,
        }])
    }

    fn decide_notified(
        &self,
        message_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<MessageEvent>, DomainError> {
        let ((shop_id, customer_id), message) = self.message(message_id)?;
        if message.from != Side::Shop {
            return Err(DomainError::conflict(
                "not-notifiable",
                "only messages from the shop are e-mailed to the customer",
            ));
        }
        // A second record (a retry, or a mail sent twice around a crash) changes nothing. A
        // message read while its mail was on the way is still recorded: the mail did go out.
        if message.notified {
            return Ok(vec![]);
        }
        Ok(vec![MessageEvent::CustomerMessageNotified {
            shop_id,
            customer_id,
            message_id,
            notified_at: now,
        }])
    }

    fn decide_archive(
        &self,
        message_id: Uuid,
        by: Side,
        archived: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<MessageEvent>, DomainError> {
        let ((shop_id, customer_id), message) = self.message(message_id)?;
        // Archiving what is archived (or the reverse) is a retry, not an error.
        if message.archived_by(by) == archived {
            return Ok(vec![]);
        }
        let event = if archived {
            MessageEvent::CustomerMessageArchived {
                shop_id,
                customer_id,
                message_id,
                by,
                archived_at: now,
            }
        } else {
            MessageEvent::CustomerMessageUnarchived {
                shop_id,
                customer_id,
                message_id,
                by,
                unarchived_at: now,
            }
        };
        Ok(vec![event])
    }
}

impl Aggregate for CustomerMessages {
    type Command = MessagesCommand;
    type Event = MessageEvent;
    const STREAM_KIND: &'static str = "customer-messages";

    fn decide(
        &self,
        command: &MessagesCommand,
        env: &dyn Environment,
    ) -> Result<Vec<MessageEvent>, DomainError> {
        match command {
            MessagesCommand::Send(new) => self.decide_send(new, env.now()),
            MessagesCommand::MarkRead { message_id, by } => {
                self.decide_read(*message_id, *by, env.now())
            }
            MessagesCommand::Archive { message_id, by } => {
                self.decide_archive(*message_id, *by, true, env.now())
            }
            MessagesCommand::Unarchive { message_id, by } => {
                self.decide_archive(*message_id, *by, false, env.now())
            }
            MessagesCommand::RecordNotified { message_id } => {
                self.decide_notified(*message_id, env.now())
            }
        }
    }

    fn evolve(mut self, event: &MessageEvent) -> Self {
        match event {
            MessageEvent::CustomerMessageSent {
                shop_id,
                customer_id,
                message_id,
                from,
                order_id,
                body,
                ..
            } => {
                self.owner = Some((*shop_id, *customer_id));
                self.messages.insert(
                    *message_id,
                    MessageState {
                        from: *from,
                        order_id: *order_id,
                        body: body.clone(),
                        read: false,
                        archived_by_customer: false,
                        archived_by_shop: false,
                        notified: false,
                    },
                );
            }
            MessageEvent::CustomerMessageRead { message_id, .. } => {
                if let Some(message) = self.messages.get_mut(message_id) {
                    message.read = true;
                }
            }
            MessageEvent::CustomerMessageArchived { message_id, by, .. } => {
                if let Some(message) = self.messages.get_mut(message_id) {
                    message.set_archived(*by, true);
                }
            }
            MessageEvent::CustomerMessageUnarchived { message_id, by, .. } => {
                if let Some(message) = self.messages.get_mut(message_id) {
                    message.set_archived(*by, false);
                }
            }
            MessageEvent::CustomerMessageNotified { message_id, .. } => {
                if let Some(message) = self.messages.get_mut(message_id) {
                    message.notified = true;
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::shop_id;
    use crate::testing::{given, replay, test_now};

    fn customer_id() -> Uuid {
        Uuid::from_u128(0xc0)
    }

    fn message_id(n: u128) -> Uuid {
        Uuid::from_u128(0x1000 + n)
    }

    fn new_message(n: u128, from: Side, body: &str) -> NewMessage {
        NewMessage {
            shop_id: shop_id(),
            customer_id: customer_id(),
            message_id: message_id(n),
            from,
            author: "api-key:1".into(),
            order: None,
            body: body.into(),
        }
    }

    fn send(n: u128, from: Side, body: &str) -> MessagesCommand {
        MessagesCommand::Send(new_message(n, from, body))
    }

    fn sent(n: u128, from: Side, body: &str) -> MessageEvent {
        MessageEvent::CustomerMessageSent {
            shop_id: shop_id(),
            customer_id: customer_id(),
            message_id: message_id(n),
            from,
            author: "api-key:1".into(),
            order_id: None,
            body: body.into(),
            sent_at: test_now(),
        }
    }

    fn read(n: u128, by: Side) -> MessageEvent {
        MessageEvent::CustomerMessageRead {
            shop_id: shop_id(),
            customer_id: customer_id(),
            message_id: message_id(n),
            by,
            read_at: test_now(),
        }
    }

    #[test]
    fn either_side_sends_and_a_retry_records_nothing() {
        // Proves both sides write to the thread, and the same send retried adds nothing.
        let thread = given::<CustomerMessages>([])
            .when(send(1, Side::Customer, "Bonjour,\nmes tirages ?"))
            .then([sent(1, Side::Customer, "Bonjour,\nmes tirages ?")]);
        assert_eq!(thread.owner, Some((shop_id(), customer_id())));
        given::<CustomerMessages>([sent(1, Side::Customer, "Bonjour")])
            .when(send(2, Side::Shop, "Ils partent demain."))
            .then([sent(2, Side::Shop, "Ils partent demain.")]);
        given::<CustomerMessages>([sent(1, Side::Customer, "Bonjour")])
            .when(send(1, Side::Customer, "Bonjour"))
            .then([]);
        given::<CustomerMessages>([sent(1, Side::Customer, "Bonjour")])
            .when(send(1, Side::Customer, "Autre chose"))
            .then_err_code("already-exists");
    }

    #[test]
    fn refuses_bad_bodies_and_foreign_orders() {
        // Proves blank, oversized or control-character bodies and another customer's order are refused.
        let too_long = "a".repeat(MESSAGE_CHARS_MAX + 1);
        for bad in ["", "  \n ", "bip\u{7}", too_long.as_str()] {
            given::<CustomerMessages>([])
                .when(send(1, Side::Customer, bad))
                .then_err_code("validation");
        }
        let longest = "a".repeat(MESSAGE_CHARS_MAX);
        given::<CustomerMessages>([])
            .when(send(1, Side::Customer, &longest))
            .then([sent(1, Side::Customer, &longest)]);
        let mut about_order = new_message(1, Side::Shop, "Votre commande");
        about_order.order = Some(MessageOrder {
            order_id: Uuid::from_u128(7),
            account_id: Uuid::from_u128(8),
        });
        given::<CustomerMessages>([])
            .when(MessagesCommand::Send(about_order.clone()))
            .then_err_code("validation");
        about_order.order = Some(MessageOrder {
            order_id: Uuid::from_u128(7),
            account_id: customer_id(),
        });
        let events = given::<CustomerMessages>([])
            .when(MessagesCommand::Send(about_order))
            .events();
        assert!(matches!(
            events.as_slice(),
            [MessageEvent::CustomerMessageSent { order_id: Some(o), .. }] if *o == Uuid::from_u128(7)
        ));
    }

    #[test]
    fn a_thread_holds_a_bounded_number_of_messages() {
        // Proves the thread refuses the message past MESSAGES_PER_THREAD_MAX.
        let history: Vec<MessageEvent> = (0..MESSAGES_PER_THREAD_MAX as u128)
            .map(|n| sent(n, Side::Customer, "m"))
            .collect();
        given::<CustomerMessages>(history)
            .when(send(u128::MAX >> 8, Side::Shop, "one too many"))
            .then_err_code("limit-exceeded");
    }

    #[test]
    fn only_the_recipient_marks_read_once() {
        // Proves the other side marks a message read, the sender cannot, and a second mark is a no-op.
        let history = [sent(1, Side::Customer, "Bonjour")];
        given::<CustomerMessages>(history.clone())
            .when(MessagesCommand::MarkRead {
                message_id: message_id(1),
                by: Side::Shop,
            })
            .then([read(1, Side::Shop)]);
        given::<CustomerMessages>(history.clone())
            .when(MessagesCommand::MarkRead {
                message_id: message_id(1),
                by: Side::Customer,
            })
            .then_err_code("own-message");
        given::<CustomerMessages>([history[0].clone(), read(1, Side::Shop)])
            .when(MessagesCommand::MarkRead {
                message_id: message_id(1),
                by: Side::Shop,
            })
            .then([]);
        given::<CustomerMessages>(history)
            .when(MessagesCommand::MarkRead {
                message_id: message_id(2),
                by: Side::Shop,
            })
            .then_err_code("not-found");
    }

    #[test]
    fn each_side_archives_for_itself() {
        // Proves archiving is per side, idempotent, and undone by unarchiving.
        let archived = MessageEvent::CustomerMessageArchived {
            shop_id: shop_id(),
            customer_id: customer_id(),
            message_id: message_id(1),
            by: Side::Customer,
            archived_at: test_now(),
        };
        let thread = given::<CustomerMessages>([sent(1, Side::Shop, "Bienvenue")])
            .when(MessagesCommand::Archive {
                message_id: message_id(1),
                by: Side::Customer,
            })
            .then([archived.clone()]);
        let state = &thread.messages[&message_id(1)];
        assert!(state.archived_by_customer && !state.archived_by_shop);
        let history = [sent(1, Side::Shop, "Bienvenue"), archived];
        given::<CustomerMessages>(history.clone())
            .when(MessagesCommand::Archive {
                message_id: message_id(1),
                by: Side::Customer,
            })
            .then([]);
        given::<CustomerMessages>(history.clone())
            .when(MessagesCommand::Unarchive {
                message_id: message_id(1),
                by: Side::Customer,
            })
            .then([MessageEvent::CustomerMessageUnarchived {
                shop_id: shop_id(),
                customer_id: customer_id(),
                message_id: message_id(1),
                by: Side::Customer,
                unarchived_at: test_now(),
            }]);
        given::<CustomerMessages>(history)
            .when(MessagesCommand::Unarchive {
                message_id: message_id(1),
                by: Side::Shop,
            })
            .then([]);
        given::<CustomerMessages>([])
            .when(MessagesCommand::Archive {
                message_id: message_id(1),
                by: Side::Shop,
            })
            .then_err_code("not-found");
    }

    fn notified(n: u128) -> MessageEvent {
        MessageEvent::CustomerMessageNotified {
            shop_id: shop_id(),
            customer_id: customer_id(),
            message_id: message_id(n),
            notified_at: test_now(),
        }
    }

    fn record_notified(n: u128) -> MessagesCommand {
        MessagesCommand::RecordNotified {
            message_id: message_id(n),
        }
    }

    #[test]
    fn a_shop_message_is_recorded_notified_once() {
        // Proves the notification of a shop message is recorded, a second record is a no-op, and
        // the state stops awaiting it.
        let thread = given::<CustomerMessages>([sent(1, Side::Shop, "Vos tirages sont prêts.")])
            .when(record_notified(1))
            .then([notified(1)]);
        let state = &thread.messages[&message_id(1)];
        assert!(state.notified && !state.awaits_notification());
        given::<CustomerMessages>([sent(1, Side::Shop, "Prêts."), notified(1)])
            .when(record_notified(1))
            .then([]);
    }

    #[test]
    fn only_unread_shop_messages_await_a_notification() {
        // Proves customer messages are never notified, a read message needs no mail (yet a mail
        // that went out anyway is recorded), and an unknown message is not found.
        let thread = replay::<CustomerMessages>(&[
            sent(1, Side::Shop, "Prêts."),
            sent(2, Side::Customer, "Merci"),
        ]);
        assert!(thread.messages[&message_id(1)].awaits_notification());
        assert!(!thread.messages[&message_id(2)].awaits_notification());
        given::<CustomerMessages>([sent(2, Side::Customer, "Merci")])
            .when(record_notified(2))
            .then_err_code("not-notifiable");
        let read_first = [sent(1, Side::Shop, "Prêts."), read(1, Side::Customer)];
        let thread = replay::<CustomerMessages>(&read_first);
        assert!(!thread.messages[&message_id(1)].awaits_notification());
        given::<CustomerMessages>(read_first)
            .when(record_notified(1))
            .then([notified(1)]);
        given::<CustomerMessages>([])
            .when(record_notified(1))
            .then_err_code("not-found");
    }
}
