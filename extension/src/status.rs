//! The statuses of a customer's consent and the labels the register shows.

use std::fmt;
use std::str::FromStr;

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
        match (language, self) {
            (Language::Sv, Status::Missing) => "Samtycke saknas",
            (Language::Sv, Status::Queued) => "Begäran om samtycke är köad",
            (Language::Sv, Status::Sent) => "Begäran om samtycke är skickat",
            (Language::Sv, Status::Approved) => "Samtycke är godkänt",
            (Language::Sv, Status::Denied) => "Samtycke är nekat",
            (Language::Sv, Status::Error) => "Fel vid begäran av samtycke",
            (Language::En, Status::Missing) => "Consent missing",
            (Language::En, Status::Queued) => "Consent request queued",
            (Language::En, Status::Sent) => "Consent request sent",
            (Language::En, Status::Approved) => "Consent approved",
            (Language::En, Status::Denied) => "Consent denied",
            (Language::En, Status::Error) => "Consent request failed",
        }
    }

    /// Whether a request in this status is still waiting for the customer.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Queued | Status::Sent)
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

/// The languages every text a clerk or customer reads exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Sv,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Sv => "sv",
            Language::En => "en",
        }
    }
}

impl FromStr for Language {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "sv" => Ok(Language::Sv),
            "en" => Ok(Language::En),
            _ => Err(()),
        }
    }
}
