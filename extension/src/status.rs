//! The statuses of a customer's consent, the labels the register shows, and
//! `consent_label`.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::args::Args;
use crate::error::{ConsentError, InFunction, Result};
use crate::language::Language;
use crate::settings;
use crate::setup::ConnState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Missing,
    Queued,
    Sent,
    Approved,
    Denied,
    Error,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Missing,
        Status::Queued,
        Status::Sent,
        Status::Approved,
        Status::Denied,
        Status::Error,
    ];

    /// The word stored in the database and returned by the functions.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Missing => "missing",
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Error => "error",
        }
    }

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

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(())
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
