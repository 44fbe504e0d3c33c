//! The languages every text a clerk or customer reads exists in.

use std::str::FromStr;

/// Swedish or English; Swedish is the register's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Sv,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Sv, Language::En];

    /// `sv` or `en`, as stored and as HTML's `lang` takes it.
    pub fn code(self) -> &'static str {
        self.pick("sv", "en")
    }

    /// The Swedish or the English of two versions of one thing.
    pub fn pick<T>(self, sv: T, en: T) -> T {
        match self {
            Language::Sv => sv,
            Language::En => en,
        }
    }
}

impl FromStr for Language {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Language::ALL
            .into_iter()
            .find(|language| language.code() == s)
            .ok_or(())
    }
}
