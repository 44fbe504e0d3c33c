//! One SMTP connection's conversation: connecting (TCP with TCP_NODELAY,
//! greeting, EHLO, STARTTLS or TLS, login), one message's transaction, and
//! what a failure means for the message and the connection.
//!
//! lettre speaks SMTP (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA); we only
//! open the TCP connection, because lettre never sets TCP_NODELAY and
//! writes a message's body and its final `.` separately, which costs a
//! delayed ACK (~40 ms) per message. The transaction is lettre's commands
//! one by one rather than `send`, to know which step a refusal came from:
//! a refused sender stops the run (every message would fail alike), a
//! refused recipient fails that message only and the connection goes on
//! after RSET.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials as Login, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::Error as SmtpError;
use tokio::net::TcpStream;

use crate::config::Tls;
use crate::send::{server_text, Channel, Credentials, ErrorClass, Problem, SendError};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub(in crate::send) struct Target {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
    pub concurrency: usize,
    /// For each of: connecting (through TLS and login), one message, RSET.
    pub timeout: Duration,
}

impl Target {
    fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub(super) fn error(&self, class: ErrorClass, problem: Problem) -> SendError {
        let problem = match (&self.credentials, problem) {
            (Some(c), Problem::LoginRefused { status, text }) => Problem::LoginRefused {
                status,
                text: c.scrub(&text),
            },
            (_, problem) => problem,
        };
        SendError::new(Channel::Email, class, problem)
    }

    pub(super) fn timed_out(&self) -> SendError {
        self.error(
            ErrorClass::Transient,
            Problem::Timeout {
                seconds: self.timeout.as_secs(),
            },
        )
    }
}

/// Opens a connection: TCP (TCP_NODELAY), greeting and EHLO, STARTTLS or
/// TLS as configured, login when credentials are set.
pub(super) async fn connect(target: &Target) -> Result<AsyncSmtpConnection, SendError> {
    let server = target.server();
    let hello = ClientId::default();
    let timeout = target.timeout;
    let unreachable = |detail: String| {
        target.error(
            ErrorClass::Transient,
            Problem::Unreachable {
                server: server.clone(),
                detail,
            },
        )
    };
    let tls_failed = |detail: String| {
        target.error(
            ErrorClass::Setup,
            Problem::Tls {
                server: server.clone(),
                detail,
            },
        )
    };
    let tls_parameters =
        || TlsParameters::new(target.host.clone()).map_err(|e| tls_failed(e.to_string()));
    // A greeting that refuses us: 4xx is for now, 5xx until someone acts.
    let greeting_failed = |e: SmtpError| match reply(&e) {
        Some((status, text)) if e.is_transient() => {
            target.error(ErrorClass::Transient, Problem::Deferred { status, text })
        }
        Some((status, text)) => target.error(
            ErrorClass::Setup,
            Problem::Unreachable {
                server: server.clone(),
                detail: format!("{status} {text}"),
            },
        ),
        None => unreachable(e.to_string()),
    };

    let mut conn = if target.tls == Tls::Tls {
        // TLS from the first byte: lettre's own connect, as
        // `connect_with_transport` takes only a stream that is still plain.
        // It leaves TCP_NODELAY off; port 587 with STARTTLS does not.
        let connecting = AsyncSmtpConnection::connect_tokio1(
            (target.host.as_str(), target.port),
            Some(timeout),
            &hello,
            Some(tls_parameters()?),
            None,
        );
        match tokio::time::timeout(timeout, connecting).await {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) if e.is_tls() || tls_refused(&e) => return Err(tls_failed(innermost(&e))),
            Ok(Err(e)) => return Err(greeting_failed(e)),
            Ok(Ok(conn)) => conn,
        }
    } else {
        let tcp = match tokio::time::timeout(
            timeout,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Ok(Ok(tcp)) => tcp,
        };
        tcp.set_nodelay(true)
            .map_err(|e| unreachable(e.to_string()))?;
        let mut conn = match tokio::time::timeout(
            timeout,
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello),
        )
        .await
        {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) => return Err(greeting_failed(e)),
            Ok(Ok(conn)) => conn,
        };
        if target.tls == Tls::Starttls {
            if !conn.can_starttls() {
                let _ = tokio::time::timeout(timeout, conn.quit()).await;
                return Err(target.error(ErrorClass::Setup, Problem::NoStarttls { server }));
            }
            match tokio::time::timeout(timeout, conn.starttls(tls_parameters()?, &hello)).await {
                Err(_) => return Err(target.timed_out()),
                Ok(Err(e)) => {
                    return Err(match reply(&e) {
                        Some(_) => greeting_failed(e),
                        None if tls_refused(&e) => tls_failed(innermost(&e)),
                        None => unreachable(e.to_string()),
                    })
                }
                Ok(Ok(())) => {}
            }
        }
        conn
    };

    if let Some(credentials) = &target.credentials {
        let login = Login::new(credentials.username.clone(), credentials.password.clone());
        match tokio::time::timeout(
            timeout,
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &login),
        )
        .await
        {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) => {
                return Err(match reply(&e) {
                    Some((status, text)) if e.is_transient() => {
                        target.error(ErrorClass::Transient, Problem::Deferred { status, text })
                    }
                    Some((status, text)) => {
                        target.error(ErrorClass::Setup, Problem::LoginRefused { status, text })
                    }
                    None if e.is_client() => target.error(
                        ErrorClass::Setup,
                        Problem::Other {
                            detail: format!("login: {e}"),
                        },
                    ),
                    None => unreachable(e.to_string()),
                })
            }
            Ok(Ok(_)) => {}
        }
    }
    Ok(conn)
}

/// The step of a transaction a reply answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Mail,
    Rcpt,
    Data,
    Message,
}

pub(super) enum TransactionError {
    Smtp(Step, SmtpError),
    /// The address needs SMTPUTF8, or the message 8BITMIME, and the server
    /// offers neither.
    Unsupported(&'static str),
}

/// MAIL, RCPT, DATA, the message: what lettre's `send` does, step by step.
pub(super) async fn transact(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), TransactionError> {
    let mut parameters = Vec::new();
    let ascii_addresses = envelope
        .from()
        .map_or(true, |a| AsRef::<str>::as_ref(a).is_ascii())
        && envelope
            .to()
            .iter()
            .all(|a| AsRef::<str>::as_ref(a).is_ascii());
    if !ascii_addresses {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(TransactionError::Unsupported("SMTPUTF8"));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(TransactionError::Unsupported("8BITMIME"));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let step = |step| move |e| TransactionError::Smtp(step, e);
    conn.command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(step(Step::Mail))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))
            .await
            .map_err(step(Step::Rcpt))?;
    }
    conn.command(Data).await.map_err(step(Step::Data))?;
    conn.message(bytes).await.map_err(step(Step::Message))?;
    Ok(())
}

/// What to do with the connection after a failed message.
pub(super) enum After {
    /// Nothing was started: send the next message.
    Keep,
    /// A transaction is open: RSET, then the next message.
    Reset,
    /// The connection cannot be trusted: open a new one.
    Drop,
    /// The connection broke: open a new one, and try this message once
    /// more if the connection had already carried others.
    DropAndRetry,
}

pub(super) struct Failure {
    pub error: SendError,
    pub after: After,
}

pub(super) fn classify(target: &Target, envelope: &Envelope, failure: TransactionError) -> Failure {
    let (step, e) = match failure {
        TransactionError::Unsupported(extension) => {
            return Failure {
                error: target.error(
                    ErrorClass::Permanent,
                    Problem::Other {
                        detail: format!(
                            "the mail server does not offer {extension}, which this address needs"
                        ),
                    },
                ),
                after: After::Keep,
            }
        }
        TransactionError::Smtp(step, e) => (step, e),
    };
    let Some((status, text)) = reply(&e) else {
        // No reply: the connection broke, or lettre could not read it.
        return Failure {
            error: target.error(
                ErrorClass::Transient,
                Problem::Lost {
                    detail: e.to_string(),
                },
            ),
            after: After::DropAndRetry,
        };
    };
    // After the message itself the transaction is over either way.
    let open = step != Step::Message;
    let after = match status {
        421 => After::DropAndRetry,
        _ if open => After::Reset,
        _ => After::Keep,
    };
    let error = if e.is_transient() {
        target.error(ErrorClass::Transient, Problem::Deferred { status, text })
    } else if step == Step::Mail {
        target.error(
            ErrorClass::Setup,
            Problem::SenderRefused {
                sender: envelope.from().map(ToString::to_string).unwrap_or_default(),
                status,
                text,
            },
        )
    } else {
        target.error(ErrorClass::Permanent, Problem::Refused { status, text })
    };
    Failure { error, after }
}

/// Whether the TLS handshake itself was refused (a certificate not
/// trusted, no common protocol), as opposed to the network failing during
/// it. lettre reports both as a connection error; rustls's refusals come
/// through as `InvalidData`.
fn tls_refused(e: &SmtpError) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = error.source();
    }
    false
}

/// The innermost cause: lettre wraps a TLS failure twice.
fn innermost(e: &SmtpError) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// The reply code and text of a 4xx or 5xx reply.
fn reply(e: &SmtpError) -> Option<(u16, String)> {
    let status = e.status()?.to_string().parse().ok()?;
    let text = std::error::Error::source(e)
        .map(|source| server_text(&source.to_string()))
        .unwrap_or_default();
    Some((status, text))
}
