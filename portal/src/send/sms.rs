//! SMS through an HTTP gateway: a 46elks-style form POST of `from`, `to`
//! and `message` with basic auth, or one JSON file per message for the demo
//! and tests. Also how many segments a text costs: one GSM-7 segment holds
//! 160 septets (153 when concatenated), one UCS-2 segment 70 UTF-16 units
//! (67), and a single character outside GSM-7 switches the whole text.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::{fmt, fs};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use consent_extension::Language;

use super::{
    is_loopback, output_dir, server_text, texts, Channel, Credentials, ErrorClass, Problem,
    SendError,
};
use crate::config::{Sms, SmsTransport};

/// The environment variables that hold the gateway's credentials.
pub const USERNAME_VAR: &str = "CONSENT_SMS_USERNAME";
pub const PASSWORD_VAR: &str = "CONSENT_SMS_PASSWORD";

/// The most of a gateway's answer that is read.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// GSM 03.38 basic character set, besides ASCII letters and digits: one
/// septet each.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà";
/// GSM 03.38 extension table: an escape and the character, two septets.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// What a text costs to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    /// Messages the customer's phone joins into one (at least 1).
    pub count: usize,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2) in the text.
    pub units: usize,
}

/// Septets a character takes in GSM-7, or None outside the alphabet.
fn septets(c: char) -> Option<usize> {
    if c.is_ascii_alphanumeric() || GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding and segment count of `text`. A two-septet character or a
/// surrogate pair is never split across segments.
pub fn segments(text: &str) -> Segments {
    let gsm: Option<Vec<usize>> = text.chars().map(septets).collect();
    let (encoding, widths, single, multi) = match gsm {
        Some(widths) => (Encoding::Gsm7, widths, 160, 153),
        None => (
            Encoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = widths.iter().sum();
    let count = if units <= single {
        1
    } else {
        let (mut count, mut used) = (1, 0);
        for width in widths {
            if used + width > multi {
                count += 1;
                used = 0;
            }
            used += width;
        }
        count
    };
    Segments {
        encoding,
        count,
        units,
    }
}

/// The consent request as an SMS: "Dahls Rör AB ber om ditt samtycke:
/// <link>". Typographic quotes and dashes in the business's name become
/// their plain forms when that keeps the text in GSM-7 (one segment holds
/// 160 characters instead of 70).
pub fn compose(language: Language, business_name: &str, link: &str) -> String {
    let text = texts::sms(language, business_name, link);
    if segments(&text).encoding == Encoding::Gsm7 {
        return text;
    }
    let plain: String = text
        .chars()
        .flat_map(|c| {
            let replacement = match c {
                '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' | '´' | '`' => "'",
                '\u{201c}' | '\u{201d}' | '\u{201e}' | '«' | '»' => "\"",
                '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
                '\u{2026}' => "...",
                c if c.is_whitespace() && c != '\n' => " ",
                _ => "",
            };
            let keep = replacement.is_empty().then_some(c);
            replacement.chars().chain(keep)
        })
        .collect();
    if segments(&plain).encoding == Encoding::Gsm7 {
        plain
    } else {
        text
    }
}

/// Sends SMS by HTTP, or writes them as files. Holds the gateway's
/// credentials; `Debug` does not show them.
pub struct SmsSender {
    from: String,
    transport: Transport,
}

enum Transport {
    Http(Gateway),
    File { dir: PathBuf },
}

/// An HTTP gateway and how we log in to it.
struct Gateway {
    agent: ureq::Agent,
    url: String,
    /// `Basic <base64>`, built once.
    authorization: Option<String>,
    credentials: Option<Credentials>,
    timeout_seconds: u64,
}

impl fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SmsSender");
        s.field("from", &self.from);
        match &self.transport {
            Transport::Http(gateway) => s
                .field("url", &gateway.url)
                .field(
                    "credentials",
                    &gateway.credentials.as_ref().map(|_| "[redacted]"),
                )
                .field("timeout_seconds", &gateway.timeout_seconds),
            Transport::File { dir } => s.field("file_dir", dir),
        }
        .finish()
    }
}

impl SmsSender {
    /// From `[sms]`, with the gateway's login (see [`super::Transports`]);
    /// `base_dir` resolves a relative `file_dir`.
    pub fn new(
        config: &Sms,
        base_dir: &Path,
        credentials: Option<Credentials>,
    ) -> Result<SmsSender, SendError> {
        check_sender(&config.from)?;
        let transport = match config.transport {
            SmsTransport::File => {
                let dir = output_dir(Channel::Sms, config.file_dir.as_deref(), base_dir)?;
                Transport::File { dir }
            }
            SmsTransport::Http => {
                let url = config.gateway_url.clone().ok_or_else(|| {
                    SendError::config(
                        Channel::Sms,
                        "sms.gateway_url",
                        "is needed with transport = \"http\"",
                    )
                })?;
                let origin = crate::config::origin(&url)
                    .map_err(|m| SendError::config(Channel::Sms, "sms.gateway_url", m))?;
                if credentials.is_some()
                    && origin.starts_with("http://")
                    && !is_loopback(crate::config::origin_host(&origin))
                {
                    return Err(SendError::config(
                        Channel::Sms,
                        "sms.gateway_url",
                        "must start with https:// when credentials are set: they would go in clear",
                    ));
                }
                let timeout_seconds = config.timeout_seconds.max(1);
                let agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(timeout_seconds)))
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .user_agent(concat!("consent-portal/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .into();
                let authorization = credentials.as_ref().map(|c| {
                    format!(
                        "Basic {}",
                        STANDARD.encode(format!("{}:{}", c.username, c.password))
                    )
                });
                Transport::Http(Gateway {
                    agent,
                    url,
                    authorization,
                    credentials,
                    timeout_seconds,
                })
            }
        };
        Ok(SmsSender {
            from: config.from.clone(),
            transport,
        })
    }

    /// Sends `message` to `to`, any way a register writes a Swedish mobile
    /// number (see [`super::normalize_swedish_mobile`]); the gateway gets
    /// E.164. Returns the segments the message costs.
    pub fn send(&self, to: &str, message: &str) -> Result<Segments, SendError> {
        let to = super::normalize_swedish_mobile(to).map_err(|invalid| {
            SendError::new(
                Channel::Sms,
                ErrorClass::Permanent,
                Problem::InvalidNumber(invalid),
            )
        })?;
        let cost = segments(message);
        match &self.transport {
            Transport::File { dir } => self.write_file(dir, &to, message, cost)?,
            Transport::Http(gateway) => gateway.post(&self.from, &to, message)?,
        }
        Ok(cost)
    }

    /// One JSON file per message, written whole (a temporary file renamed).
    fn write_file(
        &self,
        dir: &Path,
        to: &str,
        message: &str,
        cost: Segments,
    ) -> Result<(), SendError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("{nanos}-{}.json", to.trim_start_matches('+'));
        let json = serde_json::json!({
            "from": self.from,
            "to": to,
            "message": message,
            "encoding": match cost.encoding {
                Encoding::Gsm7 => "GSM-7",
                Encoding::Ucs2 => "UCS-2",
            },
            "segments": cost.count,
        });
        let path = dir.join(&name);
        let temporary = dir.join(format!(".{name}.tmp"));
        fs::write(&temporary, format!("{json:#}\n"))
            .and_then(|()| fs::rename(&temporary, &path))
            .map_err(|e| {
                let _ = fs::remove_file(&temporary);
                SendError::new(
                    Channel::Sms,
                    ErrorClass::Setup,
                    Problem::Other {
                        detail: format!("cannot write {}: {e}", path.display()),
                    },
                )
            })
    }
}

impl Gateway {
    /// POSTs one message as a form; an answer other than 2xx, or none, is
    /// the error.
    fn post(&self, from: &str, to: &str, message: &str) -> Result<(), SendError> {
        let mut request = self.agent.post(&self.url);
        if let Some(value) = &self.authorization {
            request = request.header("Authorization", value);
        }
        let form = [("from", from), ("to", to), ("message", message)];
        let scrub = |text: &str| match &self.credentials {
            Some(c) => c.scrub(text),
            None => text.to_owned(),
        };
        match request.send_form(form) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                if !(200..300).contains(&status) {
                    let body = response
                        .body_mut()
                        .with_config()
                        .limit(MAX_RESPONSE_BYTES)
                        .read_to_string()
                        .unwrap_or_default();
                    return Err(refused(status, &server_text(&scrub(&body))));
                }
                // 46elks answers JSON; nothing in it is needed.
                Ok(())
            }
            Err(e) => Err(failed(e, &self.url, self.timeout_seconds, scrub)),
        }
    }
}

/// A gateway's answer other than 2xx.
fn refused(status: u16, text: &str) -> SendError {
    let text = text.to_owned();
    let (class, problem) = match status {
        401 | 403 => (ErrorClass::Setup, Problem::LoginRefused { status, text }),
        // A wrong address or method: every message would fail alike.
        300..=399 | 404 | 405 => (ErrorClass::Setup, Problem::Refused { status, text }),
        408 | 429 | 500.. => (ErrorClass::Transient, Problem::Deferred { status, text }),
        _ => (ErrorClass::Permanent, Problem::Refused { status, text }),
    };
    SendError::new(Channel::Sms, class, problem)
}

/// A request that got no answer.
fn failed(
    e: ureq::Error,
    url: &str,
    timeout_seconds: u64,
    scrub: impl Fn(&str) -> String,
) -> SendError {
    let server = crate::config::origin(url).unwrap_or_else(|_| url.to_owned());
    let detail = scrub(&e.to_string());
    let (class, problem) = match e {
        ureq::Error::Timeout(_) => (
            ErrorClass::Transient,
            Problem::Timeout {
                seconds: timeout_seconds,
            },
        ),
        ureq::Error::Tls(_) | ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl => {
            (ErrorClass::Setup, Problem::Tls { server, detail })
        }
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => (
            ErrorClass::Transient,
            Problem::Unreachable { server, detail },
        ),
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => (
            ErrorClass::Transient,
            Problem::Unreachable { server, detail },
        ),
        _ => (ErrorClass::Transient, Problem::Lost { detail }),
    };
    SendError::new(Channel::Sms, class, problem)
}

/// `sms.from`: at most 11 letters and digits (an alphanumeric sender), or a
/// number in E.164.
fn check_sender(from: &str) -> Result<(), SendError> {
    let valid = match from.strip_prefix('+') {
        Some(number) => {
            (7..=15).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => (1..=11).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_alphanumeric()),
    };
    if valid {
        Ok(())
    } else {
        Err(SendError::config(
            Channel::Sms,
            "sms.from",
            format!("\"{from}\" must be at most 11 letters A-Z and digits, or a number like +46701234567"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_hosts() {
        use crate::config::origin_host;
        assert_eq!(origin_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(origin_host("http://localhost"), "localhost");
        assert_eq!(origin_host("http://[::1]:80"), "::1");
        assert_eq!(origin_host("https://api.46elks.com"), "api.46elks.com");
    }

    #[test]
    fn gateway_statuses() {
        assert_eq!(
            refused(400, "Invalid to number").class(),
            ErrorClass::Permanent
        );
        assert_eq!(refused(401, "").class(), ErrorClass::Setup);
        assert_eq!(refused(404, "").class(), ErrorClass::Setup);
        assert_eq!(refused(429, "").class(), ErrorClass::Transient);
        assert_eq!(refused(503, "").class(), ErrorClass::Transient);
    }
}
