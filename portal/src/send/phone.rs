//! Swedish mobile numbers as registers hold them (`070-123 45 67`,
//! `+46 (0)70 123 45 67`, `46701234567` from an INTEGER column) to E.164
//! (`+46701234567`), which is what an SMS gateway takes. Anything else is
//! the customer's error, with a reason the register can show.

use std::fmt;

use consent_extension::Language;

use super::texts;

/// The second digit after the trunk 0 of a Swedish mobile number: 070,
/// 072, 073, 076 and 079 are the mobile series.
const MOBILE_SERIES: &[u8] = b"02369";
/// Digits after +46 in a mobile number: 7X + 7 digits.
const NATIONAL_DIGITS: usize = 9;
/// The longest input quoted back in a reason.
const MAX_QUOTED: usize = 40;

/// Why a number is not a Swedish mobile number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    Empty,
    /// A letter or sign that no way of writing a number has.
    NotANumber {
        character: char,
    },
    /// Another country's code (`+47 …`, `0045 …`).
    NotSwedish,
    /// A landline, service or machine number (`08-…`, `071-…`).
    NotMobile,
    TooShort,
    TooLong,
}

/// A number that cannot be sent to, with the number as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidNumber {
    input: String,
    problem: NumberProblem,
}

impl InvalidNumber {
    pub fn problem(&self) -> &NumberProblem {
        &self.problem
    }

    /// The reason in the register's language, e.g. "070-123 is too short
    /// for a Swedish mobile number".
    pub fn reason(&self, language: Language) -> String {
        texts::number_reason(&self.problem, &self.input, language)
    }
}

impl fmt::Display for InvalidNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason(Language::En))
    }
}

impl std::error::Error for InvalidNumber {}

/// `070-123 45 67` -> `+46701234567`.
///
/// Takes spaces (also non-breaking), dashes, dots, slashes and parentheses
/// anywhere; a leading `+46`, `0046` or `46` (11 digits, from an INTEGER
/// column), with or without the trunk `(0)` after it; and 9 digits starting
/// with 7 (an INTEGER column that dropped the leading 0).
pub fn normalize_swedish_mobile(input: &str) -> Result<String, InvalidNumber> {
    let given = input.trim();
    let invalid = |problem| {
        let input = match given.char_indices().nth(MAX_QUOTED) {
            Some((cut, _)) => format!("{}…", &given[..cut]),
            None => given.to_owned(),
        };
        InvalidNumber { input, problem }
    };

    let mut digits = String::with_capacity(given.len());
    let mut plus = false;
    for c in given.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            '-' | '.' | '/' | '(' | ')' | '\u{2010}'..='\u{2014}' => {}
            c if c.is_whitespace() => {}
            character => return Err(invalid(NumberProblem::NotANumber { character })),
        }
    }
    if digits.is_empty() {
        return Err(invalid(if plus {
            NumberProblem::TooShort
        } else {
            NumberProblem::Empty
        }));
    }

    let national = if plus {
        digits
            .strip_prefix("46")
            .ok_or_else(|| invalid(NumberProblem::NotSwedish))?
    } else if let Some(international) = digits.strip_prefix("00") {
        international
            .strip_prefix("46")
            .ok_or_else(|| invalid(NumberProblem::NotSwedish))?
    } else if let Some(national) = digits.strip_prefix('0') {
        national
    } else if digits.len() > NATIONAL_DIGITS && digits.starts_with("46") {
        &digits[2..]
    } else {
        // 9 digits from an INTEGER column; anything shorter or not starting
        // with 7 is caught below as it should be.
        &digits
    };
    // `+46 (0)70 …` and `+46070…`: the trunk 0 written after the country code.
    let national = match national.strip_prefix('0') {
        Some(rest) if plus || digits.starts_with("00") || digits.starts_with("46") => rest,
        _ => national,
    };

    let bytes = national.as_bytes();
    match bytes {
        [] | [b'7'] => return Err(invalid(NumberProblem::TooShort)),
        [b'7', series, ..] if MOBILE_SERIES.contains(series) => {}
        _ => return Err(invalid(NumberProblem::NotMobile)),
    }
    match national.len() {
        n if n < NATIONAL_DIGITS => Err(invalid(NumberProblem::TooShort)),
        n if n > NATIONAL_DIGITS => Err(invalid(NumberProblem::TooLong)),
        _ => Ok(format!("+46{national}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_zero_after_country_code_only_once() {
        assert_eq!(
            normalize_swedish_mobile("+46 (0)70-123 45 67").unwrap(),
            "+46701234567"
        );
        assert_eq!(
            normalize_swedish_mobile("+46 00701234567")
                .unwrap_err()
                .problem(),
            &NumberProblem::NotMobile
        );
    }
}
