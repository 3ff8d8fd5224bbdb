//! An SMTP server for tests: accepts every message and keeps it, so end-to-end tests see what
//! the server mailed (scheduled reports, message notifications).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::spawn_app_with;

/// One message the sink received: its envelope recipients and its DATA.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub data: String,
}

impl Received {
    /// The value of the `Message-ID` header, if the message has one.
    pub fn message_id(&self) -> Option<String> {
        let headers = &self.data[..self.data.find("\n\n").unwrap_or(self.data.len())];
        headers.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_string())
        })
    }
}

/// A minimal SMTP server that accepts every message and keeps it.
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::start_losing_answers(0).await
    }

    /// A sink that keeps the first `lost` messages but hangs up instead of answering their
    /// DATA: the sender cannot tell they were delivered, as after a crash between the server's
    /// acceptance and the sender's record of it.
    pub async fn start_losing_answers(lost: usize) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let lost = Arc::new(AtomicUsize::new(lost));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, store.clone(), lost.clone()));
            }
        });
        SmtpSink { port, received }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("sink lock").clone()
    }

    /// Waits until `count` messages arrived (or fails after 20 s).
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        self.wait_for_where(count, |_| true).await
    }

    /// The messages received that `keep` keeps.
    pub fn messages_where(&self, keep: fn(&Received) -> bool) -> Vec<Received> {
        self.messages().into_iter().filter(keep).collect()
    }

    /// Waits until `count` messages that `keep` keeps arrived (or fails after 20 s).
    pub async fn wait_for_where(&self, count: usize, keep: fn(&Received) -> bool) -> Vec<Received> {
        for _ in 0..200 {
            let messages = self.messages_where(keep);
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{count} messages expected, got {:?}", self.messages());
    }
}

/// True for the confirmation mail a sign-up sends (`welcome_mailer`).
pub fn is_welcome(mail: &Received) -> bool {
    plain_text(&mail.data).contains("votre compte client de la boutique")
}

/// True for every mail but the sign-ups' confirmations: what tests of other mails count.
pub fn is_not_welcome(mail: &Received) -> bool {
    !is_welcome(mail)
}

async fn converse(
    stream: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    lost: Arc<AtomicUsize>,
) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let _ = writer.write_all(b"220 sink ESMTP\r\n").await;
    let mut recipients = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let command = line.to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command.starts_with("RCPT TO:") {
            recipients.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if command.starts_with("DATA") {
            let _ = writer.write_all(b"354 go on\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(&line);
                data.push('\n');
            }
            let message = Received {
                recipients: std::mem::take(&mut recipients),
                data,
            };
            store.lock().expect("sink lock").push(message);
            let lose = lost
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if lose {
                return;
            }
            b"250 queued\r\n"
        } else if command.starts_with("QUIT") {
            let _ = writer.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if writer.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// Serves `dir` with the test clock, mailing through `sink`.
pub async fn serve_with_mail(dir: &std::path::Path, sink: &SmtpSink) -> crate::support::TestApp {
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    spawn_app_with(
        dir,
        &[
            "--test-clock",
            "--smtp-url",
            &url,
            "--mail-from",
            "comptoir <rapports@example.fr>",
        ],
    )
    .await
}

/// The plain-text body of a single-part message, decoded from quoted-printable (the encoding
/// the mailer picks for mostly-ASCII French text) or taken as is for 7-bit text.
pub fn plain_text(data: &str) -> String {
    let body = &data[data.find("\n\n").expect("headers end") + 2..];
    if !data.contains("Content-Transfer-Encoding: quoted-printable") {
        return body.to_string();
    }
    let joined = body.replace("=\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'=' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).expect("ascii");
            bytes.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).expect("utf-8 body")
}
