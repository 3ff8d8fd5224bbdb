//! The welcome mailer: e-mails each customer who opens an account a confirmation of it (seed
//! 002: "Vous recevez également un mail de confirmation"), and records `CustomerWelcomeMailed`
//! on the account once the SMTP server accepted the mail.
//!
//! It follows the log from a durable checkpoint of its own (`CHECKPOINT`, kept by the log)
//! rather than a read model: which sign-ups to mail is a fact of the log after the mailer
//! started, where a read model replayed from position 1 would list every account ever opened.
//! On its first start it begins at the log's head, so accounts opened before the shop had mail
//! are not mailed long after.
//!
//! At least once, like the other mail tasks: the account's stream says whether its mail went
//! out, so a sign-up read again after a restart mails nothing; the one window left is a crash
//! between the SMTP server's acceptance and the record, which sends the mail again with the
//! first one's `Message-ID`. A mail that cannot be built (an address the mailer refuses) or
//! whose account or shop cannot be found is logged and passed over; a server that does not
//! take mail, or a log that does not answer, stops the pass, to resume there.

use comptoir_domain::customer::{self, Customer, CustomerCommand, CustomerEvent};
use comptoir_projections::codec::decode_event;
use uuid::Uuid;

use crate::error::ApiError;
use crate::mail::{delivery_key, one_line, MailError, Mailer, OutgoingMail};
use crate::report_scheduler::{record_done, ticking, SendError, TaskRecord};
use crate::routes::shop_profile;
use crate::server::AppState;

/// The log checkpoint holding the last position the mailer is done with.
pub const CHECKPOINT: &str = "welcome-mailer";
/// Events read from the log in one pass, at most.
pub const EVENTS_PER_PASS: usize = 1_000;
/// Mails sent in one pass, at most, so one pass stays short whatever the backlog.
pub const MAILS_PER_PASS: usize = 20;
/// Namespace of the command ids of recorded welcome mails (UUID v5 of the account id).
const WELCOME_NAMESPACE: Uuid = Uuid::from_u128(0x6b1e_42d7_93a0_4c55_8e1f_d20c_7a94_3b61);

/// Starts the task; it runs until the runtime stops. Where it starts is read now, before the
/// server takes requests: without a checkpoint, the head of the log as it is now, so that every
/// account opened once the server serves is mailed.
pub fn spawn(state: AppState, mailer: Mailer) -> Result<tokio::task::JoinHandle<()>, ApiError> {
    let (mut interval, _) = ticking(&state);
    let stored = state.log.load_checkpoint(CHECKPOINT)?;
    let mut done_until = stored.unwrap_or_else(|| state.log.head_position());
    Ok(tokio::spawn(async move {
        if stored.is_none() {
            if let Err(error) = state.log.save_checkpoint(CHECKPOINT, done_until).await {
                tracing::error!(%error, "storing where the welcome mailer starts failed");
            }
        }
        loop {
            interval.tick().await;
            // A pass cut by its bounds leaves more behind: the next one goes at once, so a busy
            // log is followed at its pace, not a page per tick.
            loop {
                match pass(&state, &mailer, &mut done_until).await {
                    Ok(Pass::MoreToDo) => tokio::task::yield_now().await,
                    Ok(Pass::Done) => break,
                    Err(error) => {
                        tracing::error!(%error, "the welcome mailer's pass failed");
                        break;
                    }
                }
            }
        }
    }))
}

/// How a pass ended.
#[derive(Debug, PartialEq, Eq)]
enum Pass {
    /// Caught up with the log, or stopped by a mail server that does not take mail.
    Done,
    /// Stopped by `EVENTS_PER_PASS` or `MAILS_PER_PASS` with more to read.
    MoreToDo,
}

/// One pass: the sign-ups after `done_until`, each mailed unless it was already, then the
/// checkpoint moved past what is done.
async fn pass(state: &AppState, mailer: &Mailer, done_until: &mut u64) -> Result<Pass, ApiError> {
    let from = *done_until + 1;
    let log = state.log.clone();
    let events = tokio::task::spawn_blocking(move || log.read_all(from, EVENTS_PER_PASS))
        .await
        .map_err(|error| internal("reading the log", error))??;
    let mut reached = *done_until;
    let mut sent = 0;
    let mut ended = if events.len() == EVENTS_PER_PASS {
        Pass::MoreToDo
    } else {
        Pass::Done
    };
    for event in &events {
        if event.event_type == "CustomerRegistered" {
            if sent == MAILS_PER_PASS {
                ended = Pass::MoreToDo;
                break;
            }
            let decoded = decode_event::<CustomerEvent>(event)
                .map_err(|error| internal("decoding a sign-up", error))?;
            let CustomerEvent::CustomerRegistered { customer_id, .. } = decoded else {
                return Err(internal("decoding a sign-up", "another customer event"));
            };
            match welcome(state, mailer, customer_id).await {
                Ok(mailed) => sent += usize::from(mailed),
                // Neither would change on the next pass: waiting would stop every later mail.
                Err(SendError::Mail(MailError::Message(reason))) => {
                    tracing::error!(%customer_id, %reason, "a welcome mail cannot be built: passed over");
                }
                Err(SendError::Api(error @ ApiError::NotFound { .. })) => {
                    tracing::error!(%customer_id, %error, "a welcome mail without its account or shop: passed over");
                }
                Err(SendError::Mail(error)) => {
                    tracing::error!(%error, %customer_id, "the SMTP server did not take a welcome mail; next pass");
                    ended = Pass::Done;
                    break;
                }
                Err(SendError::Api(error)) => return Err(error),
            }
        }
        reached = event.position;
    }
    if reached > *done_until {
        state.log.save_checkpoint(CHECKPOINT, reached).await?;
        *done_until = reached;
    }
    Ok(ended)
}

/// Logs what failed and why; the task's error carries no more than that something did.
fn internal(what: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "the welcome mailer failed {what}");
    ApiError::Internal
}

/// Mails the account its welcome unless it went out already, and records it; answers whether a
/// mail went out.
async fn welcome(state: &AppState, mailer: &Mailer, customer_id: Uuid) -> Result<bool, SendError> {
    let stream = customer::stream_id(customer_id);
    let account = state
        .cache
        .load::<Customer, _>(state.log.as_ref(), &stream)
        .map_err(ApiError::from)?;
    let Some(registered) = account.state.registered.as_ref() else {
        return Err(ApiError::not_found("customer").into());
    };
    if registered.welcome_mailed_at.is_some() {
        return Ok(false);
    }
    let shop_name = shop_profile(state, registered.shop_id)?.name;
    mailer
        .send(OutgoingMail {
            to: vec![registered.email.clone()],
            subject: subject(&shop_name),
            text: text(
                &shop_name,
                &registered.profile.first_name,
                &registered.email,
            ),
            attachment: None,
            // Sent again after a crash (before its record), it keeps its id.
            delivery: Some(delivery_key("welcome", &customer_id.to_string())),
        })
        .await?;
    tracing::info!(shop_id = %registered.shop_id, %customer_id, "welcome mail sent");
    let record = TaskRecord {
        command_id: Uuid::new_v5(&WELCOME_NAMESPACE, customer_id.as_bytes()),
        fingerprint: format!("welcome-mailed/{customer_id}"),
        actor: "welcome-mailer",
    };
    record_done::<Customer>(
        state,
        record,
        &stream,
        &CustomerCommand::RecordWelcomeMailed,
    )
    .await?;
    Ok(true)
}

/// The mail's subject, naming the shop on one line.
fn subject(shop_name: &str) -> String {
    format!("{} : votre compte client est créé", one_line(shop_name))
}

/// The mail's plain-text body.
fn text(shop_name: &str, first_name: &str, email: &str) -> String {
    format!(
        "Bonjour {first_name},\n\nvotre compte client de la boutique {shop_name} est créé, \
         avec l'adresse {email}.\n\nVotre espace client rassemble vos commandes, factures, \
         devis et avoirs, vos messages avec la boutique et votre carte de fidélité.\n\n\
         Si vous n'avez pas ouvert ce compte, répondez à la boutique depuis son site ; les \
         réponses à cet e-mail ne sont pas lues.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_names_the_shop_the_customer_and_the_address() {
        // Proves the confirmation greets the customer, names the shop and the account's address,
        // and keeps the subject on one line.
        let mail = text("Photo Lyon", "Claire", "claire@example.fr");
        assert!(mail.starts_with("Bonjour Claire,"));
        assert!(mail.contains("boutique Photo Lyon est créé"));
        assert!(mail.contains("claire@example.fr"));
        assert_eq!(
            subject("Photo\nLyon"),
            "Photo Lyon : votre compte client est créé"
        );
    }
}
