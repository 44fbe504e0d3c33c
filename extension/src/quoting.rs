//! Quoting: table and column names into SQL, and SQL values into messages.

use std::fmt;

use rusqlite::types::ValueRef;

/// Quotes an identifier for SQL: double quotes, inner quotes doubled. Every
/// table and column name we build into SQL goes through here.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An SQL identifier shown in a message the way it is written in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted(pub String);

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote_identifier(&self.0))
    }
}

/// Shows a value from SQL in a message: text in single quotes, numbers bare.
pub fn show_value(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => format!("a {}-byte blob", b.len()),
    }
}
