//! The consent request as an e-mail, and the [`Mailer`] that sends a run's
//! worth of them: over SMTP with a few connections reused for the whole run
//! (see `smtp.rs`), or as `.eml` files for the demo and tests.
//!
//! Each message is multipart plain text + HTML in the customer's language,
//! with a Message-ID derived from the request, so that a message sent again
//! after a crash is recognisably the same message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, Transport as _};
use sha2::{Digest, Sha256};

use super::smtp::{self, Target};
use super::texts::EmailTexts;
use super::{
    is_loopback, output_dir, Channel, Credentials, ErrorClass, Job, Outcomes, Problem, SendError,
    Texts,
};
use crate::config::{Email, EmailTransport, Tls};
use crate::token::hex;

/// The environment variables that hold the SMTP login.
pub const USERNAME_VAR: &str = "CONSENT_SMTP_USERNAME";
pub const PASSWORD_VAR: &str = "CONSENT_SMTP_PASSWORD";

/// The most SMTP connections one run opens, whatever the configuration says.
const MAX_CONCURRENCY: usize = 64;
/// The longest address quoted back in a reason.
const MAX_QUOTED: usize = 80;

/// One consent request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub request_id: i64,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// See [`message_id`].
    pub message_id: String,
    /// A file attached after the text (a receipt's record as JSON).
    pub attachment: Option<Attachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type, such as `application/json`.
    pub content_type: &'static str,
    pub body: String,
}

/// The Message-ID of a request's e-mail: the same for every send of it,
/// and different for every request of every register, yet saying nothing
/// of the link: `<consent-{hash}@{from domain}>`, where the hash is the
/// first 16 bytes (hex) of SHA-256 over a domain string, the request id
/// and the page id. Message-IDs end up in mail-server logs, archives and
/// the References of every reply; the page id, which is as good as the
/// link, cannot be read back from it.
pub fn message_id(request_id: i64, page_id: &str, from_domain: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"consent-message-id\0");
    h.update(request_id.to_be_bytes());
    h.update(page_id.as_bytes());
    let digest = h.finalize();
    format!("<consent-{}@{from_domain}>", hex(&digest[..16]))
}

/// The e-mail asking for consent: who asks, the link, how long it is
/// valid. No images, no tracking. In the request's language
/// ([`Job::language`], its page's), not the run's.
/// `from_domain` is the domain of `email.from` ([`Mailer::from_domain`]).
pub fn compose(run: &Texts, job: &Job, from_domain: &str) -> EmailMessage {
    let texts = EmailTexts::new(job.language, &run.business_name, run.expiry_days);
    let text = format!(
        "{}\n\n{}\n\n{}\n\n{}\n\n{}\n",
        texts.greeting, texts.asks, job.link, texts.expiry, texts.why
    );
    let link = escape(&job.link);
    let html = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"{lang}\">\n\
         <head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{subject}</title>\n\
         </head>\n\
         <body>\n\
         <p>{greeting}</p>\n\
         <p>{asks}</p>\n\
         <p><a href=\"{link}\">{label}</a></p>\n\
         <p>{link}</p>\n\
         <p>{expiry}</p>\n\
         <p>{why}</p>\n\
         </body>\n\
         </html>\n",
        lang = texts.lang,
        subject = escape(&texts.subject),
        greeting = escape(texts.greeting),
        asks = escape(&texts.asks),
        label = escape(texts.link_label),
        expiry = escape(&texts.expiry),
        why = escape(&texts.why),
    );
    EmailMessage {
        request_id: job.request_id,
        to: job.to.clone(),
        subject: texts.subject,
        text,
        html,
        message_id: message_id(job.request_id, &job.page_id, from_domain),
        attachment: None,
    }
}

/// Text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a run's messages went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: usize,
    pub failed: usize,
    /// SMTP connections opened (0 for files).
    pub connections: usize,
}

/// Counts the outcomes into a [`Summary`] on their way to the caller's.
struct Counting<'a, O: Outcomes> {
    summary: &'a mut Summary,
    inner: &'a mut O,
}

impl<O: Outcomes> Outcomes for Counting<'_, O> {
    fn outcome(&mut self, request_id: i64, result: Result<(), SendError>) {
        if result.is_ok() {
            self.summary.sent += 1;
        } else {
            self.summary.failed += 1;
        }
        self.inner.outcome(request_id, result);
    }

    fn commit(&mut self) {
        self.inner.commit();
    }
}

/// Sends e-mail as `[email]` says. Holds the SMTP login; `Debug` does not
/// show it.
#[derive(Debug)]
pub struct Mailer {
    from: Mailbox,
    reply_to: Option<Mailbox>,
    transport: Transport,
}

#[derive(Debug)]
enum Transport {
    Smtp(Target),
    File(PathBuf),
}

impl Mailer {
    /// From `[email]`, with the SMTP login (see [`super::Transports`]);
    /// `base_dir` resolves a relative `file_dir`.
    pub fn new(
        config: &Email,
        base_dir: &Path,
        credentials: Option<Credentials>,
    ) -> Result<Mailer, SendError> {
        let mailbox = |setting: &'static str, value: &str| {
            value.trim().parse::<Mailbox>().map_err(|e| {
                SendError::config(
                    Channel::Email,
                    setting,
                    format!("\"{value}\" is not an address like Name <name@example.se>: {e}"),
                )
            })
        };
        let from = mailbox("email.from", &config.from)?;
        let reply_to = match &config.reply_to {
            Some(reply_to) => Some(mailbox("email.reply_to", reply_to)?),
            None => None,
        };
        let transport = match config.transport {
            EmailTransport::File => {
                let dir = output_dir(Channel::Email, config.file_dir.as_deref(), base_dir)?;
                Transport::File(dir)
            }
            EmailTransport::Smtp => {
                let host = config
                    .smtp_host
                    .clone()
                    .filter(|h| !h.trim().is_empty())
                    .ok_or_else(|| {
                        SendError::config(
                            Channel::Email,
                            "email.smtp_host",
                            "is needed with transport = \"smtp\"",
                        )
                    })?;
                if config.tls == Tls::None && credentials.is_some() && !is_loopback(&host) {
                    return Err(SendError::config(
                        Channel::Email,
                        "email.tls",
                        "is \"none\" but a login is set: it would go in clear; use \"starttls\" or \"tls\"",
                    ));
                }
                let port = config.smtp_port.unwrap_or(match config.tls {
                    Tls::Starttls => 587,
                    Tls::Tls => 465,
                    Tls::None => 25,
                });
                Transport::Smtp(Target {
                    host,
                    port,
                    tls: config.tls,
                    credentials,
                    concurrency: config.concurrency.clamp(1, MAX_CONCURRENCY),
                    timeout: Duration::from_secs(config.timeout_seconds.max(1)),
                })
            }
        };
        Ok(Mailer {
            from,
            reply_to,
            transport,
        })
    }

    /// The domain of `email.from`, for [`message_id`].
    pub fn from_domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Sends every message and calls `outcomes.outcome` with each one's
    /// request id and outcome as it comes in, on the calling thread (so the
    /// caller can write it to the database) and in no particular order.
    /// Every message gets exactly one call. After a group of outcomes comes
    /// `outcomes.commit()`, and a connection sends its next message only
    /// after the commit of its last one: a crash then leaves at most one
    /// accepted-but-unrecorded message per connection.
    ///
    /// Over SMTP, `email.concurrency` connections share the messages, each
    /// kept open for the whole run; a connection that breaks is opened
    /// again. Messages are taken from `messages` as the connections need
    /// them, so it may be a lazy iterator. Call this from a plain thread,
    /// not from inside an async runtime.
    pub fn send_all(
        &self,
        messages: impl IntoIterator<Item = EmailMessage>,
        mut outcomes: impl Outcomes,
    ) -> Summary {
        let mut summary = Summary::default();
        let connections = {
            let mut counting = Counting {
                summary: &mut summary,
                inner: &mut outcomes,
            };
            let built = messages.into_iter().map(|m| (m.request_id, self.build(&m)));
            match &self.transport {
                Transport::File(dir) => {
                    let files = FileTransport::new(dir);
                    for (id, message) in built {
                        let result = message.and_then(|message| {
                            files.send(&message).map(|_| ()).map_err(|e| {
                                SendError::new(
                                    Channel::Email,
                                    ErrorClass::Setup,
                                    Problem::Other {
                                        detail: format!("cannot write to {}: {e}", dir.display()),
                                    },
                                )
                            })
                        });
                        counting.outcome(id, result);
                        counting.commit();
                    }
                    0
                }
                Transport::Smtp(target) => smtp::send_all(target, built, &mut counting),
            }
        };
        summary.connections = connections;
        summary
    }

    /// The MIME message; an address that does not parse is the customer's
    /// error.
    fn build(&self, m: &EmailMessage) -> Result<Message, SendError> {
        let to = m.to.trim();
        let permanent = |problem| SendError::new(Channel::Email, ErrorClass::Permanent, problem);
        let to: Mailbox = to.parse().map_err(|_| {
            let address = match to.char_indices().nth(MAX_QUOTED) {
                Some((cut, _)) => format!("{}…", &to[..cut]),
                None => to.to_owned(),
            };
            permanent(Problem::InvalidAddress { address })
        })?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.as_str())
            .message_id(Some(m.message_id.clone()));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let body = MultiPart::alternative_plain_html(m.text.clone(), m.html.clone());
        let body = match &m.attachment {
            None => body,
            Some(file) => {
                let content_type = ContentType::parse(file.content_type).map_err(|e| {
                    permanent(Problem::Other {
                        detail: format!("content type {}: {e}", file.content_type),
                    })
                })?;
                MultiPart::mixed().multipart(body).singlepart(
                    lettre::message::Attachment::new(file.filename.clone())
                        .body(file.body.clone(), content_type),
                )
            }
        };
        builder.multipart(body).map_err(|e| {
            permanent(Problem::Other {
                detail: e.to_string(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_extension::Language;

    #[test]
    fn html_escapes_everything_it_embeds() {
        let texts = Texts {
            language: Language::Sv,
            business_name: "Bröd & <Salt> \"AB\"".to_owned(),
            expiry_days: 7,
        };
        // The request's language, not the register's.
        let job = Job {
            request_id: 1,
            page_id: "p".to_owned(),
            to: "a@example.se".to_owned(),
            link: "https://s.example.se/c/a\"b.html".to_owned(),
            language: Language::En,
        };
        let message = compose(&texts, &job, "example.se");
        assert!(message
            .html
            .contains("Bröd &amp; &lt;Salt&gt; &quot;AB&quot;"));
        assert!(message
            .html
            .contains("href=\"https://s.example.se/c/a&quot;b.html\""));
        assert!(!message.html.contains("<Salt>"));
        assert!(!message.html.contains("<img"));
        assert_eq!(
            message.subject,
            "Bröd & <Salt> \"AB\" asks for your consent"
        );
    }
}
