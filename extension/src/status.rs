//! The statuses of a customer's consent, the labels the register shows, and
//! `consent_label`.

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::args::Args;
use crate::error::{ConsentError, InFunction, Result};
use crate::language::Language;
use crate::settings;
use crate::setup::ConnState;
use crate::words::words;

words! {
    /// Where a customer's consent stands: the status of their newest
    /// request, `missing` when there is none.
    pub enum Status {
        Missing = "missing",
        Queued = "queued",
        Sent = "sent",
        Approved = "approved",
        Denied = "denied",
        Error = "error",
    }
}

impl Status {
    /// The label the billing application's register shows.
    pub fn label(self, language: Language) -> &'static str {
        let (sv, en) = match self {
            Status::Missing => ("Samtycke saknas", "Consent missing"),
            Status::Queued => ("Begäran om samtycke är köad", "Consent request queued"),
            Status::Sent => ("Begäran om samtycke är skickat", "Consent request sent"),
            Status::Approved => ("Samtycke är godkänt", "Consent approved"),
            Status::Denied => ("Samtycke är nekat", "Consent denied"),
            Status::Error => ("Fel vid begäran av samtycke", "Consent request failed"),
        };
        language.pick(sv, en)
    }

    /// Whether a request in this status is still waiting for the customer.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Queued | Status::Sent)
    }

    /// Parses a status word a caller passed to `function`; the error lists
    /// the words there are.
    pub(crate) fn parse_argument(function: &'static str, word: &str) -> Result<Status> {
        word.parse().map_err(|()| {
            let all: Vec<_> = Status::ALL.iter().map(|s| format!("'{s}'")).collect();
            ConsentError::bad_argument(
                function,
                format!("unknown status '{word}'; pass one of {}", all.join(", ")),
            )
        })
    }
}

// consent_label(status [, language])
pub(crate) fn sql_label(a: &Args<'_>, conn: &Connection, _: &ConnState) -> Result<Value> {
    let f = a.function();
    let status = Status::parse_argument(f, &a.text(0, "a status word")?)?;
    let language = match a.optional_text(1)? {
        Some(code) => code.parse::<Language>().map_err(|()| {
            ConsentError::bad_argument(f, format!("unknown language '{code}'; pass 'sv' or 'en'"))
        })?,
        None => settings::read_language(conn).in_function(f)?,
    };
    Ok(Value::Text(status.label(language).to_owned()))
}
