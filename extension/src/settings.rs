//! `consent_setting`: the business's settings, validated on the way in, with
//! their defaults on the way out.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{ConsentError, InFunction, Result};
use crate::status::Language;

/// A setting's key, default and rule.
pub struct SettingSpec {
    pub key: &'static str,
    pub default: Option<&'static str>,
    /// What a value must be, for error messages.
    pub rule: &'static str,
    numeric: bool,
    check: fn(&str) -> bool,
}

fn non_blank_text(max: usize) -> impl Fn(&str) -> bool {
    move |v: &str| !v.trim().is_empty() && v.chars().count() <= max
}

pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "info_text",
        default: None,
        rule: "the business's own information text, not blank, at most 10000 characters",
        numeric: false,
        check: |v| non_blank_text(10_000)(v),
    },
    SettingSpec {
        key: "business_name",
        default: None,
        rule: "the business's name as customers know it, not blank, at most 200 characters",
        numeric: false,
        check: |v| non_blank_text(200)(v),
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
];

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
    pub fn to_sql(&self, value: Option<&str>) -> Value {
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
pub fn stored(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
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
pub fn get(conn: &Connection, function: &'static str, key: &str) -> Result<Value> {
    let spec = spec(function, key)?;
    let value = stored(conn, key).in_function(function)?;
    Ok(spec.to_sql(value.as_deref().or(spec.default)))
}

/// `consent_setting(key, value)`: validates, stores and returns the value.
pub fn set(conn: &Connection, function: &'static str, key: &str, value: &str) -> Result<Value> {
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
    conn.execute(
        "INSERT OR REPLACE INTO main.consent_settings (key, value) VALUES (?1, ?2)",
        [key, value],
    )
    .in_function(function)?;
    Ok(spec.to_sql(Some(value)))
}

/// The `language` setting, Swedish before setup or when unset.
pub fn language(conn: &Connection) -> rusqlite::Result<Language> {
    Ok(stored(conn, "language")?
        .and_then(|l| l.parse().ok())
        .unwrap_or_default())
}

/// The `expiry_days` setting.
pub fn expiry_days(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(stored(conn, "expiry_days")?
        .and_then(|d| d.parse().ok())
        .unwrap_or(7))
}
