//! Outgoing e-mail over SMTP, for scheduled reports and later for other notifications.
//!
//! One worker task owns the SMTP transport and sends one message at a time from a bounded queue
//! (`MAIL_QUEUE_MAX`): a caller whose mail does not fit is told so at once instead of piling up
//! memory behind a slow or dead server, and every send is bounded by `MAIL_SEND_TIMEOUT`. Each
//! caller gets its own outcome back, so it records a delivery only once the server accepted it.
//!
//! A mail that stands for one delivery which may be sent again (a scheduled report's period, a
//! message's notification: both are recorded only after the server accepted the mail, so a crash
//! in between sends it again) carries a `Message-ID` derived from what it delivers
//! ([`delivery_key`]), the same on every try: the copy is recognisable, and mail systems that
//! deduplicate by `Message-ID` show it once. Other mails get their id from the relay.
//!
//! Configured with `COMPTOIR_SMTP_URL` (`smtp://host:port`, credentials in the URL if needed) and
//! `COMPTOIR_MAIL_FROM`; without them there is no mailer and whatever needs one is off.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Messages waiting for the worker, at most.
pub const MAIL_QUEUE_MAX: usize = 32;
/// Longest one SMTP conversation may take, connection included.
pub const MAIL_SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest attachment accepted: common mail servers refuse messages past 10 to 25 MB, and base64
/// grows the bytes by a third.
pub const MAIL_ATTACHMENT_BYTES_MAX: usize = 10 * 1024 * 1024;
/// The SMTP port when the URL names none.
pub const SMTP_PORT_DEFAULT: u16 = 25;
/// Recipients of one message, at most.
pub const MAIL_RECIPIENTS_MAX: usize = 50;
/// Namespace of delivery keys (UUID v5 of the kind and name of what a mail delivers).
const DELIVERY_KEY_NAMESPACE: Uuid = Uuid::from_u128(0x5b7d_2c94_81e3_4f0a_b6d2_3e9c_47a1_0f68);

/// `text` fit for a header (a subject naming a shop): control characters, line breaks among
/// them, as spaces, since headers carry no line breaks.
pub fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.trim().to_string()
}

/// The key of one delivery: `kind` says what is delivered (`scheduled-report`), `name` which one
/// (its schedule and period). The same in every process and on every try, so a mail sent again
/// after a crash carries the `Message-ID` of the first.
pub fn delivery_key(kind: &str, name: &str) -> Uuid {
    Uuid::new_v5(&DELIVERY_KEY_NAMESPACE, format!("{kind}/{name}").as_bytes())
}

/// Where and as whom mail is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `smtp://[user:password@]host[:port]`; may hold a password, so never printed.
    pub smtp_url: String,
    /// The `From:` address, e.g. `comptoir <rapports@example.fr>`.
    pub from: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &"<set>")
            .field("from", &self.from)
            .finish()
    }
}

/// A file attached to a mail.
#[derive(Debug, Clone)]
pub struct MailAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub to: Vec<String>,
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    pub attachment: Option<MailAttachment>,
    /// The delivery this mail stands for ([`delivery_key`]): its `Message-ID` is then
    /// `<{key}@{the From domain}>`. `None`: the relay names the message.
    pub delivery: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail configuration is invalid: {0}")]
    Config(String),
    #[error("the message cannot be built: {0}")]
    Message(String),
    #[error("the mail queue is full ({MAIL_QUEUE_MAX} messages waiting)")]
    QueueFull,
    #[error("the SMTP server did not answer within {} s", MAIL_SEND_TIMEOUT.as_secs())]
    Timeout,
    #[error("the SMTP server refused the message: {0}")]
    Smtp(String),
    #[error("the mailer stopped")]
    Stopped,
}

struct Job {
    message: Message,
    done: oneshot::Sender<Result<(), MailError>>,
}

/// A handle on the mail worker; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Job>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the configuration and starts the worker on the current tokio runtime.
    pub fn start(config: &MailConfig) -> Result<Mailer, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|error| MailError::Config(format!("COMPTOIR_MAIL_FROM: {error}")))?;
        let transport = transport(&config.smtp_url)?;
        let (queue, jobs) = mpsc::channel(MAIL_QUEUE_MAX);
        tokio::spawn(work(transport, jobs));
        Ok(Mailer { queue, from })
    }

    /// Queues `mail` and waits until the SMTP server accepted or refused it.
    pub async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        let (done, outcome) = oneshot::channel();
        self.queue
            .try_send(Job { message, done })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => MailError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => MailError::Stopped,
            })?;
        outcome.await.map_err(|_| MailError::Stopped)?
    }

    fn build(&self, mail: OutgoingMail) -> Result<Message, MailError> {
        if mail.to.is_empty() || mail.to.len() > MAIL_RECIPIENTS_MAX {
            return Err(MailError::Message(format!(
                "give 1 to {MAIL_RECIPIENTS_MAX} recipients"
            )));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject);
        if let Some(key) = mail.delivery {
            builder = builder.message_id(Some(message_id(key, &self.from)));
        }
        for address in &mail.to {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|error| MailError::Message(format!("recipient {address:?}: {error}")))?;
            builder = builder.to(mailbox);
        }
        let text = SinglePart::plain(mail.text);
        let built = match mail.attachment {
            None => builder.singlepart(text),
            Some(attachment) => {
                let part = attachment_part(attachment)?;
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(part))
            }
        };
        built.map_err(|error| MailError::Message(error.to_string()))
    }
}

/// The `Message-ID` of delivery `key` sent as `from`: the id on the right of the `@` is the
/// sender's domain, so ids stay unique across the senders a receiver sees (RFC 5322 §3.6.4).
fn message_id(key: Uuid, from: &Mailbox) -> String {
    format!("<{key}@{}>", from.email.domain())
}

/// The transport an `smtp://[user:password@]host[:port]` URL names (port 25 by default). This
/// build speaks plain SMTP only: point it at a local relay (Postfix, an SMTP sidecar) that
/// handles TLS to the outside, rather than at a public server over the internet.
fn transport(smtp_url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let invalid = |why: &str| MailError::Config(format!("COMPTOIR_SMTP_URL: {why}"));
    let url = reqwest::Url::parse(smtp_url).map_err(|error| invalid(&error.to_string()))?;
    if url.scheme() != "smtp" {
        return Err(invalid(
            "only smtp://host[:port] is supported (TLS is left to a local relay)",
        ));
    }
    let host = url.host_str().ok_or_else(|| invalid("names no host"))?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(SMTP_PORT_DEFAULT))
        .timeout(Some(MAIL_SEND_TIMEOUT));
    if !url.username().is_empty() {
        let password = url.password().unwrap_or_default();
        builder = builder.credentials(Credentials::new(
            url.username().to_string(),
            password.to_string(),
        ));
    }
    Ok(builder.build())
}

fn attachment_part(attachment: MailAttachment) -> Result<SinglePart, MailError> {
    if attachment.bytes.len() > MAIL_ATTACHMENT_BYTES_MAX {
        return Err(MailError::Message(format!(
            "the attachment is larger than {MAIL_ATTACHMENT_BYTES_MAX} bytes"
        )));
    }
    let content_type = ContentType::parse(&attachment.content_type)
        .map_err(|error| MailError::Message(format!("content type: {error}")))?;
    // Base64 whatever the content: a CSV's own line breaks and characters then reach the
    // recipient byte for byte, which 7bit or quoted-printable would not promise.
    let body = Body::new_with_encoding(attachment.bytes, ContentTransferEncoding::Base64)
        .map_err(|_| MailError::Message("the attachment cannot be encoded".into()))?;
    Ok(Attachment::new(attachment.file_name).body(body, content_type))
}

/// Sends the queued messages one at a time until every handle is dropped.
async fn work(transport: AsyncSmtpTransport<Tokio1Executor>, mut jobs: mpsc::Receiver<Job>) {
    while let Some(job) = jobs.recv().await {
        let outcome =
            match tokio::time::timeout(MAIL_SEND_TIMEOUT, transport.send(job.message)).await {
                Err(_) => Err(MailError::Timeout),
                Ok(Err(error)) => Err(MailError::Smtp(error.to_string())),
                Ok(Ok(_)) => Ok(()),
            };
        // The caller may have given up waiting; the outcome is then only logged by it, if at all.
        let _ = job.done.send(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_plain_smtp_with_a_host() {
        // Proves smtp:// URLs (with or without credentials) are accepted and anything this build
        // cannot speak is refused at start-up with the variable's name.
        assert!(transport("smtp://127.0.0.1:2525").is_ok());
        assert!(transport("smtp://user:secret@relay.example.fr").is_ok());
        for bad in [
            "smtps://relay.example.fr",
            "relay.example.fr:25",
            "smtp://:25",
            "",
        ] {
            let error = transport(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(
                error.to_string().contains("COMPTOIR_SMTP_URL"),
                "{bad}: {error}"
            );
        }
    }

    #[tokio::test]
    async fn a_delivery_keeps_its_message_id_on_every_try() {
        // Proves a mail for a delivery carries `<key@sender's domain>` as its Message-ID, the
        // same whenever it is built again, another delivery another id, and a plain mail none
        // of ours.
        let config = MailConfig {
            smtp_url: "smtp://127.0.0.1:1".into(),
            from: "comptoir <rapports@example.fr>".into(),
        };
        let mailer = Mailer::start(&config).expect("mailer");
        let mail = |delivery| OutgoingMail {
            to: vec!["gerant@example.fr".into()],
            subject: "Rapport".into(),
            text: "Bonjour".into(),
            attachment: None,
            delivery,
        };
        let header_of = |delivery| {
            let message = mailer.build(mail(delivery)).expect("message");
            let text = String::from_utf8(message.formatted()).expect("utf-8");
            text.lines()
                .find(|line| line.to_ascii_lowercase().starts_with("message-id:"))
                .map(str::to_string)
        };
        let key = delivery_key("scheduled-report", "schedule/2027-03-28/2027-03-29");
        let expected = format!("Message-ID: <{key}@example.fr>");
        assert_eq!(header_of(Some(key)).as_deref(), Some(expected.as_str()));
        assert_eq!(header_of(Some(key)), header_of(Some(key)));
        let other = delivery_key("scheduled-report", "schedule/2027-03-29/2027-03-30");
        assert_ne!(header_of(Some(other)), header_of(Some(key)));
        assert_eq!(header_of(None), None, "the relay names a plain mail");
    }

    #[test]
    fn delivery_keys_depend_on_what_is_delivered_only() {
        // Proves keys are stable and differ by kind and by name.
        let key = delivery_key("scheduled-report", "a");
        assert_eq!(key, delivery_key("scheduled-report", "a"));
        assert_ne!(key, delivery_key("scheduled-report", "b"));
        assert_ne!(key, delivery_key("message-notification", "a"));
    }

    #[tokio::test]
    async fn a_bad_sender_or_recipient_is_refused_before_queueing() {
        // Proves the From address is checked at start and recipients when a message is built.
        let config = |from: &str| MailConfig {
            smtp_url: "smtp://127.0.0.1:1".into(),
            from: from.into(),
        };
        assert!(matches!(
            Mailer::start(&config("not an address")),
            Err(MailError::Config(_))
        ));
        let mailer = Mailer::start(&config("comptoir <rapports@example.fr>")).expect("mailer");
        let mail = OutgoingMail {
            to: vec!["nobody".into()],
            subject: "s".into(),
            text: "t".into(),
            attachment: None,
            delivery: None,
        };
        assert!(matches!(
            mailer.send(mail).await,
            Err(MailError::Message(_))
        ));
    }
}
