//! The languages every text a clerk or customer reads exists in.

use crate::words::words;

words! {
    /// Swedish or English; Swedish is the register's default.
    #[derive(Default)]
    pub enum Language {
        #[default]
        Sv = "sv",
        En = "en",
    }
}

impl Language {
    /// `sv` or `en`, as stored and as HTML's `lang` takes it.
    pub fn code(self) -> &'static str {
        self.as_str()
    }

    /// The Swedish or the English of two versions of one thing.
    pub fn pick<T>(self, sv: T, en: T) -> T {
        match self {
            Language::Sv => sv,
            Language::En => en,
        }
    }
}
