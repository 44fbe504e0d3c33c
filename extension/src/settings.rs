//! `consent_setting`: the business's settings, validated on the way in,
//! with their defaults on the way out. [`SETTINGS`] is the one place a
//! setting's default and rule are written; [`Settings`] reads them all,
//! typed, for the portal and the functions alike.

use std::collections::HashMap;
use std::str::FromStr;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use crate::args::Args;
use crate::error::{ConsentError, InFunction, Result};
use crate::language::Language;
use crate::setup::ConnState;

/// A setting's key, default and rule.
pub struct SettingSpec {
    pub key: &'static str,
    pub default: Option<&'static str>,
    /// What a value must be, for error messages.
    pub rule: &'static str,
    numeric: bool,
    check: fn(&str) -> bool,
}

fn non_blank_text(value: &str, max: usize) -> bool {
    !value.trim().is_empty() && value.chars().count() <= max
}

pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "info_text",
        default: None,
        rule: "the business's own information text, not blank, at most 10000 characters",
        numeric: false,
        check: |v| non_blank_text(v, 10_000),
    },
    SettingSpec {
        key: "business_name",
        default: None,
        rule: "the business's name as customers know it, not blank, at most 200 characters",
        numeric: false,
        check: |v| non_blank_text(v, 200),
    },
    SettingSpec {
        key: "sms_enabled",
        default: Some("0"),
        rule: "0 or 1 (1 = the business has an SMS subscription)",
        numeric: true,
        check: |v| v == "0" || v == "1",
    },
    SettingSpec {
        key: "expiry_days",
        default: Some("7"),
        rule: "a whole number of days from 1 to 365",
        numeric: true,
        check: |v| matches!(v.parse::<u32>(), Ok(1..=365)) && !v.starts_with('+'),
    },
    SettingSpec {
        key: "language",
        default: Some("sv"),
        rule: "'sv' (Swedish) or 'en' (English)",
        numeric: false,
        check: |v| v.parse::<Language>().is_ok(),
    },
    SettingSpec {
        key: crate::new_customers::SETTING,
        default: Some("0"),
        rule: "0 or 1 (1 = every customer the billing application adds who was never asked is queued, through consent_command)",
        numeric: true,
        check: |v| v == "0" || v == "1",
    },
];

/// Every setting with its default applied, as the register's rules use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The business's information text; required before anyone is queued.
    pub info_text: Option<String>,
    pub business_name: Option<String>,
    /// The business has an SMS subscription.
    pub sms_enabled: bool,
    /// The consent window: silence this long means no.
    pub expiry_days: i64,
    /// The language of labels, reasons, pages and messages.
    pub language: Language,
    /// Every customer the billing application adds is queued
    /// (`crate::new_customers`).
    pub queue_new_customers: bool,
}

impl Settings {
    /// Reads every setting in one statement; before `consent_init`, the
    /// defaults.
    pub fn read(conn: &Connection) -> rusqlite::Result<Settings> {
        let mut stored = HashMap::new();
        if has_settings_table(conn)? {
            let mut stmt = conn.prepare("SELECT key, value FROM main.consent_settings")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (key, value) = row?;
                stored.insert(key, value);
            }
        }
        let stored = |key: &str| stored.get(key).map(String::as_str);
        Ok(Settings {
            info_text: stored("info_text").map(str::to_owned),
            business_name: stored("business_name").map(str::to_owned),
            sms_enabled: sms_enabled(stored("sms_enabled")),
            expiry_days: expiry_days(stored("expiry_days")),
            language: language(stored("language")),
            queue_new_customers: queue_new_customers(stored(crate::new_customers::SETTING)),
        })
    }
}

/// A stored value parsed, else the default from [`SETTINGS`] parsed. A
/// stored value that does not parse was written around `consent_setting`;
/// the default serves then.
fn typed<T: FromStr + Default>(key: &str, stored: Option<&str>) -> T {
    let default = || {
        SETTINGS
            .iter()
            .find(|s| s.key == key)
            .and_then(|s| s.default)
            .and_then(|d| d.parse().ok())
            .unwrap_or_default()
    };
    stored.and_then(|v| v.parse().ok()).unwrap_or_else(default)
}

/// `sms_enabled` from its stored text (None when unset).
pub(crate) fn sms_enabled(stored: Option<&str>) -> bool {
    typed::<u8>("sms_enabled", stored) == 1
}

/// `expiry_days` from its stored text (None when unset).
pub(crate) fn expiry_days(stored: Option<&str>) -> i64 {
    typed("expiry_days", stored)
}

/// `queue_new_customers` from its stored text (None when unset).
pub(crate) fn queue_new_customers(stored: Option<&str>) -> bool {
    typed::<u8>(crate::new_customers::SETTING, stored) == 1
}

/// `language` from its stored text (None when unset).
pub(crate) fn language(stored: Option<&str>) -> Language {
    typed("language", stored)
}

// consent_setting(key [, value])
pub(crate) fn sql_setting(a: &Args<'_>, conn: &Connection, _: &ConnState) -> Result<Value> {
    let key = a.text(0, "a setting's name")?;
    // consent_setting(key, NULL) is a mistake, not a read.
    if a.len() > 1 {
        let value = a.text(1, "the new value")?;
        set(conn, a.function(), &key, &value)
    } else {
        get(conn, a.function(), &key)
    }
}

fn spec(function: &'static str, key: &str) -> Result<&'static SettingSpec> {
    SETTINGS.iter().find(|s| s.key == key).ok_or_else(|| {
        let keys: Vec<_> = SETTINGS.iter().map(|s| s.key).collect();
        ConsentError::bad_argument(
            function,
            format!(
                "unknown setting '{key}'; the settings are {}",
                keys.join(", ")
            ),
        )
    })
}

impl SettingSpec {
    /// The value as SQL returns it: integers for numeric settings.
    fn to_sql(&self, value: Option<&str>) -> Value {
        match value {
            None => Value::Null,
            Some(v) if self.numeric => v.parse::<i64>().map(Value::Integer).unwrap_or(Value::Null),
            Some(v) => Value::Text(v.to_owned()),
        }
    }
}

/// Whether the settings table exists (it is made by `consent_init`).
fn has_settings_table(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'consent_settings'",
        [],
        |r| r.get(0),
    )
}

/// The stored value of a setting, or None when unset (or before setup).
pub(crate) fn stored(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    if !has_settings_table(conn)? {
        return Ok(None);
    }
    conn.query_row(
        "SELECT value FROM main.consent_settings WHERE key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()
}

/// `consent_setting(key)`: the effective value, the default when unset.
fn get(conn: &Connection, function: &'static str, key: &str) -> Result<Value> {
    let spec = spec(function, key)?;
    let value = stored(conn, key).in_function(function)?;
    Ok(spec.to_sql(value.as_deref().or(spec.default)))
}

/// `consent_setting(key, value)`: validates, stores and returns the value.
fn set(conn: &Connection, function: &'static str, key: &str, value: &str) -> Result<Value> {
    let spec = spec(function, key)?;
    if !(spec.check)(value) {
        let shown: String = value.chars().take(60).collect();
        let ellipsis = if value.chars().count() > 60 {
            "..."
        } else {
            ""
        };
        return Err(ConsentError::bad_argument(
            function,
            format!(
                "'{shown}{ellipsis}' is not a valid value for {key}; it must be {}",
                spec.rule
            ),
        ));
    }
    if !has_settings_table(conn).in_function(function)? {
        return Err(ConsentError::NotSetUp { function });
    }
    let follows_trigger = key == crate::new_customers::SETTING;
    if follows_trigger && value == "1" {
        crate::new_customers::check_can_turn_on(conn, function)?;
    }
    // The setting and its trigger together, or neither.
    conn.execute_batch("SAVEPOINT consent_setting")
        .in_function(function)?;
    let stored = conn
        .execute(
            "INSERT OR REPLACE INTO main.consent_settings (key, value) VALUES (?1, ?2)",
            [key, value],
        )
        .in_function(function)
        .and_then(|_| {
            if !follows_trigger {
                return Ok(());
            }
            let setup = crate::setup::load(conn, function)?;
            crate::new_customers::follow_setting(conn, &setup).in_function(function)
        });
    match stored {
        Ok(()) => conn
            .execute_batch("RELEASE consent_setting")
            .in_function(function)?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO consent_setting; RELEASE consent_setting");
            return Err(e);
        }
    }
    Ok(spec.to_sql(Some(value)))
}

/// The `language` setting, Swedish before setup or when unset.
pub(crate) fn read_language(conn: &Connection) -> rusqlite::Result<Language> {
    Ok(language(stored(conn, "language")?.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_passes_its_own_rule() {
        for spec in SETTINGS {
            if let Some(default) = spec.default {
                assert!((spec.check)(default), "{}: {default}", spec.key);
            }
        }
    }

    #[test]
    fn defaults_apply_when_unset_or_unreadable() {
        assert!(!sms_enabled(None));
        assert!(sms_enabled(Some("1")));
        assert_eq!(expiry_days(None), 7);
        assert_eq!(expiry_days(Some("14")), 14);
        assert_eq!(expiry_days(Some("soon")), 7);
        assert_eq!(language(None), Language::Sv);
        assert_eq!(language(Some("en")), Language::En);
        assert_eq!(language(Some("de")), Language::Sv);
    }
}
