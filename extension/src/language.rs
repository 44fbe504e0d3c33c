//! The languages every text a clerk or customer reads exists in.

use rusqlite::types::ValueRef;

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

    /// A customer's language as the billing table holds it (the column
    /// `consent_init` recorded as `language_column`), read leniently: a
    /// language tag whose language is Swedish or English (`sv`, `sv-SE`,
    /// `sv_SE`, `en`, `en-GB`, `EN`), or the word for either in Swedish or
    /// English (`svenska`, `swedish`, `engelska`, `english`), in any case
    /// and with any spaces around it. Anything else (NULL, blank, another
    /// language such as `de`, `svenskt`, a number, a blob) is None: the
    /// register's `language` setting serves then.
    pub fn from_customer(value: ValueRef<'_>) -> Option<Language> {
        let ValueRef::Text(bytes) = value else {
            return None;
        };
        let text = std::str::from_utf8(bytes).ok()?.trim();
        if text.len() > 40 {
            return None;
        }
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "svenska" | "swedish" => return Some(Language::Sv),
            "engelska" | "english" => return Some(Language::En),
            _ => {}
        }
        // A tag: the language subtag alone, or followed by a region or
        // other subtags after '-' (BCP 47) or '_' (POSIX locales).
        let (primary, rest) = lower.get(..2).zip(lower.get(2..))?;
        if !(rest.is_empty() || rest.starts_with('-') || rest.starts_with('_')) {
            return None;
        }
        match primary {
            "sv" => Some(Language::Sv),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Option<Language> {
        Language::from_customer(ValueRef::Text(s.as_bytes()))
    }

    #[test]
    fn swedish_and_english_tags_and_words_are_read() {
        for sv in [
            "sv", "SV", "Sv", "sv-SE", "sv_SE", "sv-FI", " sv ", "svenska", "Svenska", "SWEDISH",
            "swedish",
        ] {
            assert_eq!(text(sv), Some(Language::Sv), "{sv:?}");
        }
        for en in [
            "en", "EN", "en-GB", "en_US", "en-gb", "english", "English", "engelska", "ENGELSKA",
            "\ten\n",
        ] {
            assert_eq!(text(en), Some(Language::En), "{en:?}");
        }
    }

    #[test]
    fn anything_else_is_the_setting() {
        for other in [
            "",
            "   ",
            "de",
            "de-DE",
            "fi",
            "se",
            "s",
            "e",
            "svenskt",
            "eng",
            "enGB",
            "sve",
            "sv SE",
            "en.GB",
            "-sv",
            "norska",
            "english please",
            "ÅÄÖ",
            "é",
            "€",
            "€uro",
        ] {
            assert_eq!(text(other), None, "{other:?}");
        }
        assert_eq!(Language::from_customer(ValueRef::Null), None);
        assert_eq!(Language::from_customer(ValueRef::Integer(46)), None);
        assert_eq!(Language::from_customer(ValueRef::Real(1.0)), None);
        assert_eq!(Language::from_customer(ValueRef::Blob(b"sv")), None);
        assert_eq!(Language::from_customer(ValueRef::Text(b"\xffsv")), None);
        assert_eq!(text(&format!("sv-{}", "x".repeat(100))), None);
    }
}
