//! Sending consent requests: e-mail over SMTP (or `.eml` files), SMS through
//! an HTTP gateway (or JSON files). This module owns the interface: `sync`
//! hands over [`Job`]s through [`Transports`], hears each one's outcome
//! through [`Outcomes`] (or as the return value of one SMS), and records it
//! itself, so nothing here touches the database.
//!
//! Every failure is a [`SendError`] with a reason in the register's language
//! (stored with `consent_mark_error`) and an [`ErrorClass`] that says whose
//! problem it is: the customer's (a bad address, an invalid number, a
//! refusal), the moment's (try again in the next run), or the setup's (fix
//! the configuration; no message can go out until then).

pub mod email;
pub mod notices;
pub mod phone;
pub mod sms;
mod smtp;
mod texts;
mod transports;

use std::fmt;
use std::path::{Path, PathBuf};

use consent_extension::Language;

pub use consent_extension::Channel;
pub use phone::{normalize_swedish_mobile, InvalidNumber};
pub use transports::Transports;

/// One consent request to send: the request it asks about, its page, and
/// the address or number as the register holds it.
#[derive(Debug, Clone)]
pub struct Job {
    pub request_id: i64,
    pub page_id: String,
    pub to: String,
    /// The consent page: `<site url>/c/<page id>.html`.
    pub link: String,
    /// The language the message is written in: the language of the text
    /// on the request's page (`requests::outgoing`), so that message and
    /// page always agree.
    pub language: Language,
}

/// What every message of a run says besides its link.
#[derive(Debug, Clone)]
pub struct Texts {
    /// The register's `language` setting: the language of the reasons
    /// stored for the clerk ([`SendError::reason`]). What a customer reads
    /// is in the request's own language, [`Job::language`].
    pub language: Language,
    pub business_name: String,
    pub expiry_days: i64,
}

/// Where the outcome of each e-mail goes, on the caller's thread, as it
/// comes in.
pub trait Outcomes {
    /// One message was accepted (`Ok`) or not.
    fn outcome(&mut self, request_id: i64, result: Result<(), SendError>);
    /// Makes the outcomes reported so far durable. The connections that
    /// sent them wait until this returns.
    fn commit(&mut self) {}
}

/// A closure that needs no commit step (tests, tools).
impl<F: FnMut(i64, Result<(), SendError>)> Outcomes for F {
    fn outcome(&mut self, request_id: i64, result: Result<(), SendError>) {
        self(request_id, result)
    }
}

impl Outcomes for &mut dyn Outcomes {
    fn outcome(&mut self, request_id: i64, result: Result<(), SendError>) {
        (**self).outcome(request_id, result);
    }

    fn commit(&mut self) {
        (**self).commit();
    }
}

/// Whose problem a failed send is, and so what `sync` does with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// This message can never be delivered as it stands: an invalid address
    /// or number, or the server refused this recipient (SMTP 5xx, gateway
    /// 4xx). Mark the request `error` with the reason.
    Permanent,
    /// It may work later: SMTP 4xx, gateway 5xx or 429, a timeout, a lost
    /// or refused connection. The message may or may not have been
    /// delivered; resending is safe (a stable Message-ID for e-mail). Leave
    /// the request queued for the next run.
    Transient,
    /// Nothing can be sent until the configuration or the server is fixed:
    /// no STARTTLS where it is required, a certificate or login refused, a
    /// wrong gateway address. Not the customer's error: leave the request
    /// queued and tell the operator.
    Setup,
}

/// Why one message was not sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError {
    channel: Channel,
    class: ErrorClass,
    problem: Problem,
}

/// What went wrong, in data; worded by [`SendError::reason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The customer's e-mail address does not parse.
    InvalidAddress { address: String },
    /// The customer's mobile number is not a Swedish mobile number.
    InvalidNumber(InvalidNumber),
    /// The server refused the message for good (SMTP 5xx, gateway 4xx).
    Refused { status: u16, text: String },
    /// The server asked us to come back later (SMTP 4xx, gateway 5xx).
    Deferred { status: u16, text: String },
    /// No answer within the configured time.
    Timeout { seconds: u64 },
    /// The server could not be reached.
    Unreachable { server: String, detail: String },
    /// The connection broke in the middle of a message.
    Lost { detail: String },
    /// The server does not offer STARTTLS, and `tls = "starttls"`.
    NoStarttls { server: String },
    /// The TLS handshake failed (certificate, protocol).
    Tls { server: String, detail: String },
    /// The mail server refused our sender address (MAIL FROM).
    SenderRefused {
        sender: String,
        status: u16,
        text: String,
    },
    /// The server refused our login.
    LoginRefused { status: u16, text: String },
    /// Any other failure, with lettre's, ureq's or the OS's words.
    Other { detail: String },
    /// A setting is missing or wrong; `setting` names it (`email.from`).
    Config {
        setting: &'static str,
        detail: String,
    },
}

impl SendError {
    pub(crate) fn new(channel: Channel, class: ErrorClass, problem: Problem) -> SendError {
        SendError {
            channel,
            class,
            problem,
        }
    }

    /// A setting is missing or wrong; `setting` names it (`email.from`).
    pub(crate) fn config(
        channel: Channel,
        setting: &'static str,
        detail: impl Into<String>,
    ) -> SendError {
        let detail = detail.into();
        SendError::new(
            channel,
            ErrorClass::Setup,
            Problem::Config { setting, detail },
        )
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    pub fn class(&self) -> ErrorClass {
        self.class
    }

    pub fn is_permanent(&self) -> bool {
        self.class == ErrorClass::Permanent
    }

    /// The reason in the register's language, short enough for the
    /// register's reason column. Holds no credentials.
    pub fn reason(&self, language: Language) -> String {
        texts::reason(self.channel, &self.problem, language)
    }
}

/// The English reason.
impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason(Language::En))
    }
}

impl fmt::Debug for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("channel", &self.channel)
            .field("class", &self.class)
            .field("reason", &self.reason(Language::En))
            .finish()
    }
}

impl std::error::Error for SendError {}

/// A user name and password from the environment. `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// Both variables, or neither: one without the other is an error.
    pub(crate) fn from_env(
        channel: Channel,
        username_var: &'static str,
        password_var: &'static str,
    ) -> Result<Option<Credentials>, SendError> {
        let read = |name: &'static str| match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(Some(value)),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SendError::config(
                channel,
                name,
                "is not valid UTF-8".to_owned(),
            )),
        };
        match (read(username_var)?, read(password_var)?) {
            (Some(username), Some(password)) => Ok(Some(Credentials { username, password })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(SendError::config(
                channel,
                password_var,
                format!("is not set, but {username_var} is"),
            )),
            (None, Some(_)) => Err(SendError::config(
                channel,
                username_var,
                format!("is not set, but {password_var} is"),
            )),
        }
    }

    /// `text` with every occurrence of the user name or password replaced,
    /// for server messages that echo what they were sent: as they are, and
    /// in the base64 forms a login travels in (HTTP Basic, SMTP AUTH PLAIN
    /// and LOGIN).
    pub(crate) fn scrub(&self, text: &str) -> String {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        use base64::Engine;
        let (user, password) = (&self.username, &self.password);
        let mut secrets = Vec::new();
        for login in [
            format!("{user}:{password}"),
            format!("\0{user}\0{password}"),
            password.clone(),
            user.clone(),
        ] {
            secrets.push(STANDARD.encode(&login));
            secrets.push(STANDARD_NO_PAD.encode(&login));
        }
        secrets.push(password.clone());
        secrets.push(user.clone());
        let mut text = text.to_owned();
        for secret in secrets {
            if secret.len() >= 3 {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        text
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

/// The folder a file transport (`transport = "file"`) writes into:
/// `file_dir`, relative to `base_dir`, created if missing.
pub(crate) fn output_dir(
    channel: Channel,
    file_dir: Option<&Path>,
    base_dir: &Path,
) -> Result<PathBuf, SendError> {
    let setting = match channel {
        Channel::Email => "email.file_dir",
        Channel::Sms => "sms.file_dir",
    };
    let dir = base_dir.join(file_dir.ok_or_else(|| {
        SendError::config(
            channel,
            setting,
            "is needed with transport = \"file\"".to_owned(),
        )
    })?);
    std::fs::create_dir_all(&dir).map_err(|e| {
        SendError::config(
            channel,
            setting,
            format!("{} cannot be created: {e}", dir.display()),
        )
    })?;
    Ok(dir)
}

/// A host that is this machine (`localhost`, `127.0.0.1`, `::1`, with or
/// without brackets): the only place credentials may go unencrypted.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A server's own words, on one line and at most `MAX_SERVER_TEXT`
/// characters, so that a chatty error page cannot flood the register.
pub(crate) fn server_text(text: &str) -> String {
    const MAX_SERVER_TEXT: usize = 200;
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_SERVER_TEXT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_debug() {
        let credentials = Credentials {
            username: "u0123456789".to_owned(),
            password: "hunter2-secret".to_owned(),
        };
        let shown = format!("{credentials:?}");
        assert!(
            !shown.contains("u0123456789") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert_eq!(
            credentials.scrub("535 bad login u0123456789/hunter2-secret"),
            "535 bad login [redacted]/[redacted]"
        );
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["smtp.example.se", "10.0.0.1", "127.0.0.1.example.se", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn server_text_is_one_bounded_line() {
        assert_eq!(
            server_text("  550 5.1.1\r\n  no such  user "),
            "550 5.1.1 no such user"
        );
        let long = "x".repeat(1000);
        assert_eq!(server_text(&long).chars().count(), 201);
    }
}
