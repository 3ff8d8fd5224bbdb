//! The new-message notifier: a background task that e-mails a customer each message the shop
//! sends them (seed 003), and records `CustomerMessageNotified` once the SMTP server accepted
//! the mail.
//!
//! The read model's index of pending notifications says where to look (bounded, without walking
//! every thread); the thread's hot aggregate state decides, so a message already notified or
//! read by the customer in the meantime is not mailed even while the read model lags. A message
//! the customer read before its mail went out gets no mail: they have seen it. Messages from
//! the customer to the shop are never mailed: the staff see them in their inbox.
//!
//! At least once, like the scheduled reports: the record's command id is derived from the
//! message id, so a restart or a retried record never sends or appends twice; the one window
//! left is a crash between the SMTP server's acceptance and the record, which sends the mail
//! again on restart (a duplicate rather than a lost notification), with the first mail's
//! `Message-ID` (derived from the message id), so the customer's mail system can recognise it.

use tokio::time::Instant;

use comptoir_domain::customer::{self, Customer};
use comptoir_domain::customer_messages::{self, CustomerMessages, MessagesCommand};
use comptoir_projections::messages::PendingNotification;
use uuid::Uuid;

use crate::error::ApiError;
use crate::mail::{delivery_key, one_line, MailError, Mailer, OutgoingMail};
use crate::report_scheduler::{record_done, ticking, Failures, SendError, TaskRecord};
use crate::routes::shop_profile;
use crate::server::AppState;

/// Pending notifications read from the index in one pass, at most: enough to step past a few
/// messages waiting out a backoff without scanning an unbounded table.
pub const PENDING_SCAN_MAX: usize = 500;
/// Mails sent in one pass, at most, so one pass stays short whatever the backlog.
pub const NOTIFICATIONS_PER_PASS: usize = 20;
/// Characters of the message quoted in the mail; a longer message is cut and the customer
/// reads the rest in their space.
pub const QUOTED_CHARS_MAX: usize = 2000;
/// Namespace of the command ids of recorded notifications (UUID v5 of the message id).
const NOTIFICATION_NAMESPACE: Uuid = Uuid::from_u128(0x3f0c_9a71_5d2e_4b86_a1c4_e27b_90d3_6f58);

/// Starts the task; it runs until the runtime stops.
pub fn spawn(state: AppState, mailer: Mailer) -> tokio::task::JoinHandle<()> {
    let (mut interval, mut failures) = ticking(&state);
    tokio::spawn(async move {
        loop {
            interval.tick().await;
            pass(&state, &mailer, &mut failures).await;
        }
    })
}

/// One pass over the pending notifications; a message whose mail fails waits out a backoff,
/// and an SMTP server that does not take mail ends the pass (the next messages would fail too).
async fn pass(state: &AppState, mailer: &Mailer, failures: &mut Failures) {
    let projections = state.projections.clone();
    let pending = tokio::task::spawn_blocking(move || {
        projections.pending_message_notifications(PENDING_SCAN_MAX)
    })
    .await;
    let pending = match pending {
        Ok(Ok(pending)) => pending,
        Ok(Err(error)) => {
            tracing::error!(%error, "reading the pending message notifications failed");
            return;
        }
        Err(error) => {
            tracing::error!(%error, "the pending notifications task failed");
            return;
        }
    };
    // Messages read or notified meanwhile leave the index: their failures are forgotten.
    let listed: std::collections::HashSet<Uuid> = pending.iter().map(|p| p.message_id).collect();
    if pending.len() < PENDING_SCAN_MAX {
        failures.retain(|id| listed.contains(id));
    }
    let mut sent = 0;
    for pending in pending {
        if sent == NOTIFICATIONS_PER_PASS {
            break;
        }
        let message_id = pending.message_id;
        if !failures.may_try(message_id, Instant::now()) {
            continue;
        }
        match notify(state, mailer, &pending).await {
            Ok(mailed) => {
                failures.succeeded(message_id);
                sent += usize::from(mailed);
            }
            Err(error) => {
                let retry_in = failures.failed(message_id, Instant::now());
                tracing::error!(%error, shop_id = %pending.shop_id, %message_id, retry_in_s = retry_in.as_secs(), "notifying a customer of a message failed");
                let server_down = matches!(
                    error,
                    SendError::Mail(
                        MailError::Timeout
                            | MailError::Smtp(_)
                            | MailError::QueueFull
                            | MailError::Stopped
                    )
                );
                if server_down {
                    return;
                }
            }
        }
    }
}

/// Mails the message if it still awaits its notification, and records it; answers whether a
/// mail went out.
async fn notify(
    state: &AppState,
    mailer: &Mailer,
    pending: &PendingNotification,
) -> Result<bool, SendError> {
    let stream = customer_messages::stream_id(pending.customer_id);
    let thread = state
        .cache
        .load::<CustomerMessages, _>(state.log.as_ref(), &stream)
        .map_err(ApiError::from)?;
    let Some(message) = thread.state.messages.get(&pending.message_id) else {
        return Err(ApiError::not_found("message").into());
    };
    if thread.state.owner != Some((pending.shop_id, pending.customer_id)) {
        return Err(ApiError::not_found("message").into());
    }
    // Read or recorded meanwhile: the read model drops it from the index once it catches up.
    if !message.awaits_notification() {
        return Ok(false);
    }
    // The account's e-mail as it is now, from its own stream (the read model may lag a move).
    let account = state
        .cache
        .load::<Customer, _>(
            state.log.as_ref(),
            &customer::stream_id(pending.customer_id),
        )
        .map_err(ApiError::from)?;
    let Some(email) = account
        .state
        .registered
        .as_ref()
        .filter(|account| account.shop_id == pending.shop_id)
        .map(|account| account.email.clone())
    else {
        return Err(ApiError::not_found("customer").into());
    };
    let shop_name = shop_profile(state, pending.shop_id)?.name;
    mailer
        .send(OutgoingMail {
            to: vec![email],
            subject: subject(&shop_name),
            text: text(&shop_name, &message.body),
            attachment: None,
            // A notification mailed again after a crash (before its record) keeps its id.
            delivery: Some(delivery_key(
                "message-notification",
                &pending.message_id.to_string(),
            )),
        })
        .await?;
    tracing::info!(shop_id = %pending.shop_id, message_id = %pending.message_id, "customer notified of a message");
    record_notified(state, pending).await?;
    Ok(true)
}

/// The mail's subject, naming the shop on one line.
fn subject(shop_name: &str) -> String {
    format!("{} : nouveau message", one_line(shop_name))
}

/// The mail's plain-text body: the message quoted line by line (cut past `QUOTED_CHARS_MAX`),
/// then how to answer. Plain text needs no escaping; quoting keeps the shop's words apart from
/// ours.
fn text(shop_name: &str, body: &str) -> String {
    let normalised = body.replace("\r\n", "\n").replace('\r', "\n");
    let cut = normalised.chars().count() > QUOTED_CHARS_MAX;
    let quoted: String = normalised.chars().take(QUOTED_CHARS_MAX).collect();
    let mut text = format!("Bonjour,\n\n{shop_name} vous a envoyé un message :\n\n");
    for line in quoted.trim_end().lines() {
        text.push_str("> ");
        text.push_str(line);
        text.push('\n');
    }
    if cut {
        text.push_str(
            "> […]\n\nLe message est abrégé ; lisez-le en entier dans votre espace client.\n",
        );
    }
    text.push_str(&format!(
        "\nPour répondre, écrivez depuis la rubrique Messages de votre espace client sur la \
         boutique {shop_name} ; les réponses à cet e-mail ne sont pas lues.\n"
    ));
    text
}

/// The command id of the record of `message_id`'s notification: the same in every process.
pub fn notification_command_id(message_id: Uuid) -> Uuid {
    Uuid::new_v5(&NOTIFICATION_NAMESPACE, message_id.as_bytes())
}

async fn record_notified(state: &AppState, pending: &PendingNotification) -> Result<(), ApiError> {
    let message_id = pending.message_id;
    let record = TaskRecord {
        command_id: notification_command_id(message_id),
        fingerprint: format!("message-notified/{message_id}"),
        actor: "message-notifier",
    };
    let command = MessagesCommand::RecordNotified { message_id };
    let stream = customer_messages::stream_id(pending.customer_id);
    record_done::<CustomerMessages>(state, record, &stream, &command).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_quotes_the_message_and_says_how_to_answer() {
        // Proves the body quotes every line, normalises line breaks, and names the shop.
        let mail = text("Photo Lyon", "Bonjour,\r\nvos tirages\rsont prêts.");
        assert!(mail.contains("> Bonjour,\n> vos tirages\n> sont prêts.\n"));
        assert!(mail.contains("Messages de votre espace client"));
        assert!(mail.contains("Photo Lyon"));
        assert!(!mail.contains('\r'));
        assert!(!mail.contains("abrégé"));
        assert_eq!(subject("Photo\nLyon"), "Photo Lyon : nouveau message");
    }

    #[test]
    fn a_long_message_is_cut() {
        // Proves the quote stops at QUOTED_CHARS_MAX and says so.
        let long = "é".repeat(QUOTED_CHARS_MAX + 10);
        let mail = text("Photo Lyon", &long);
        assert!(mail.contains(&"é".repeat(QUOTED_CHARS_MAX)));
        assert!(!mail.contains(&"é".repeat(QUOTED_CHARS_MAX + 1)));
        assert!(mail.contains("abrégé"));
    }

    #[test]
    fn notification_ids_depend_on_the_message_only() {
        // Proves the record's command id is stable across processes and differs per message.
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(notification_command_id(a), notification_command_id(a));
        assert_ne!(notification_command_id(a), notification_command_id(b));
    }
}
