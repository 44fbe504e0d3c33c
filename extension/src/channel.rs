//! The channel rule, as the billing product's manual states it: a request
//! goes out by e-mail when the customer has an address; by SMS only when
//! they have none, have a mobile number, and the business has an SMS
//! subscription (`sms_enabled`); otherwise the customer cannot be reached,
//! and the request goes to `error` with the reason.
//!
//! The rule has two forms: in Rust for one customer (`consent_queue`, and
//! sync when it sends) and in SQL for a whole register
//! (`consent_queue_all`). Both are here, side by side, and a test checks
//! that they agree on every kind of contact value.

use rusqlite::types::ValueRef;

use crate::language::Language;
use crate::quoting::quote_identifier;
use crate::words::words;

words! {
    /// How a request reaches a customer.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
    }
}

/// Whether a contact value counts as present: text that is not blank, or a
/// number (some registers store mobile numbers as integers).
pub fn has_contact(value: ValueRef<'_>) -> bool {
    match value {
        ValueRef::Text(t) => t.iter().any(|b| !is_blank(*b)),
        ValueRef::Integer(_) | ValueRef::Real(_) => true,
        ValueRef::Null | ValueRef::Blob(_) => false,
    }
}

/// The blanks of [`has_contact`]; [`present_sql`] names the same four.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// A contact value as an address or number to send to.
pub fn contact_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Text(t) => String::from_utf8_lossy(t).trim().to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => format!("{r:.0}"),
        ValueRef::Null | ValueRef::Blob(_) => String::new(),
    }
}

/// The channel a customer is reached through, or why they cannot be
/// reached, in the register's language.
pub fn route(
    has_email: bool,
    has_mobile: bool,
    sms_enabled: bool,
    language: Language,
) -> Result<Channel, &'static str> {
    match (has_email, has_mobile, sms_enabled) {
        (true, _, _) => Ok(Channel::Email),
        (false, true, true) => Ok(Channel::Sms),
        (false, true, false) => Err(language.pick(
            "Kunden saknar e-postadress, och SMS är inte aktiverat (sms_enabled = 0)",
            "The customer has no e-mail address, and SMS is not enabled (sms_enabled = 0)",
        )),
        (false, false, _) => Err(language.pick(
            "Kunden saknar både e-postadress och mobilnummer",
            "The customer has neither an e-mail address nor a mobile number",
        )),
    }
}

/// The two reasons [`route`] can give, for SQL that binds them: no e-mail
/// and SMS off; neither e-mail nor mobile.
pub(crate) fn unreachable_reasons(language: Language) -> (&'static str, &'static str) {
    let reason = |has_mobile| {
        route(false, has_mobile, false, language)
            .err()
            .unwrap_or_default()
    };
    (reason(true), reason(false))
}

/// SQL that is true when `alias`.`column` counts as present, by the rule of
/// [`has_contact`]: GLOB with a class of everything but the blanks, one
/// cheap test per row (the two-argument `trim()` allocates on every call).
fn present_sql(alias: &str, column: &str) -> String {
    let c = format!("{alias}.{}", quote_identifier(column));
    format!("(typeof({c}) <> 'blob' AND {c} GLOB '*[^ \t\n\r]*')")
}

/// [`route`] in SQL, over the customer row `alias` of the billing table,
/// with the SMS subscription and the two reasons as bound parameters.
pub(crate) struct RouteSql {
    /// True when the customer can be reached.
    pub reachable: String,
    /// NULL when reachable, else the reason.
    pub reason: String,
}

impl RouteSql {
    /// `sms_enabled`, `no_sms` and `nothing` name the parameters that hold
    /// 1 or 0 and the two [`unreachable_reasons`].
    pub fn new(
        alias: &str,
        email_column: &str,
        mobile_column: &str,
        sms_enabled: &str,
        no_sms: &str,
        nothing: &str,
    ) -> RouteSql {
        let email = present_sql(alias, email_column);
        let mobile = present_sql(alias, mobile_column);
        let reachable = format!("({email} OR ({mobile} AND {sms_enabled} = 1))");
        let reason = format!(
            "CASE WHEN {reachable} THEN NULL WHEN {mobile} THEN {no_sms} ELSE {nothing} END"
        );
        RouteSql { reachable, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;
    use rusqlite::{params, Connection};

    /// Every kind of value a register keeps in a contact column.
    fn contacts() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Text(String::new()),
            Value::Text(" \t\r\n".to_owned()),
            Value::Text("anna@example.se".to_owned()),
            Value::Text(" 070-111 22 33 ".to_owned()),
            Value::Text("\u{a0}".to_owned()),
            Value::Integer(46_701_112_233),
            Value::Integer(0),
            Value::Real(701_112_233.0),
            Value::Blob(b"anna@example.se".to_vec()),
        ]
    }

    #[test]
    fn the_sql_rule_and_the_rust_rule_agree() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(r#"CREATE TABLE c ("e-post" , "mobil")"#)
            .expect("table");
        let sql = RouteSql::new("c", "e-post", "mobil", "?1", "?2", "?3");
        // Used in CASE and WHERE, where NULL counts as false.
        let query = format!(
            "SELECT CASE WHEN {} THEN 1 ELSE 0 END, {} FROM c",
            sql.reachable, sql.reason
        );
        for &language in Language::ALL {
            let (no_sms, nothing) = unreachable_reasons(language);
            for email in contacts() {
                for mobile in contacts() {
                    for sms_enabled in [false, true] {
                        conn.execute("DELETE FROM c", []).expect("clear");
                        conn.execute("INSERT INTO c VALUES (?1, ?2)", params![email, mobile])
                            .expect("row");
                        let (reachable, reason): (bool, Option<String>) = conn
                            .query_row(&query, params![sms_enabled, no_sms, nothing], |r| {
                                Ok((r.get(0)?, r.get(1)?))
                            })
                            .expect("rule in SQL");
                        let rust = route(
                            has_contact((&email).into()),
                            has_contact((&mobile).into()),
                            sms_enabled,
                            language,
                        );
                        assert_eq!(
                            (reachable, reason.as_deref()),
                            (rust.is_ok(), rust.err()),
                            "e-mail {email:?}, mobile {mobile:?}, sms_enabled {sms_enabled}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn email_first_then_sms_only_when_enabled() {
        let sv = Language::Sv;
        assert_eq!(route(true, true, true, sv), Ok(Channel::Email));
        assert_eq!(route(false, true, true, sv), Ok(Channel::Sms));
        assert!(route(false, true, false, sv).is_err());
        assert!(route(false, false, true, sv).is_err());
    }
}
