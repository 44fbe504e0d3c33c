//! The per-customer transitions of the state machine. Each looks the
//! customer up, decides, and makes at most one write (the audit row comes
//! from a trigger in the same statement). A write names the status it
//! expects, so a concurrent change by another connection is noticed and the
//! decision is made again.

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use crate::customer::{self, Customer};
use crate::error::{show_value, ConsentError, InFunction, Result};
use crate::setup::ConnState;
use crate::status::{Language, Status};
use crate::time::{self, UnixSeconds};

/// How often a transition is decided again after a concurrent change.
const ATTEMPTS: usize = 5;

/// What a transition decided to write.
enum Write<'a> {
    /// Nothing changes.
    Nothing,
    /// A new request, superseding the customer's current status.
    Create {
        status: Status,
        reason: Option<&'a str>,
        evidence: Option<&'a str>,
        detail: Option<&'a str>,
    },
    /// An update of the current request (expected to be in `from`).
    Update {
        sql: &'static str,
        from: Status,
        params: Vec<Value>,
    },
}

/// Runs `decide` against the customer's current state and applies what it
/// returns; returns the status after the call.
fn transition<'a>(
    conn: &Connection,
    state: &ConnState,
    function: &'static str,
    id: &Value,
    at: UnixSeconds,
    decide: impl Fn(&Customer) -> Result<(Status, Write<'a>)>,
) -> Result<&'static str> {
    let at = time::format(at);
    for _ in 0..ATTEMPTS {
        let customer = customer::find(conn, state, function, id)?;
        let (after, write) = decide(&customer)?;
        let applied = match write {
            Write::Nothing => true,
            Write::Create {
                status,
                reason,
                evidence,
                detail,
            } => {
                let decided_at = matches!(status, Status::Approved | Status::Denied).then_some(&at);
                // A concurrent new request for the same customer supersedes
                // the same one: the unique index refuses ours, and we decide
                // again.
                let inserted = conn
                    .prepare_cached(
                        "INSERT INTO main.consent_request \
                           (customer_id, supersedes, status, prev_status, reason, evidence, actor, detail, \
                            created_at, decided_at, updated_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9)",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            customer.id,
                            customer.request_id().unwrap_or(0),
                            status.as_str(),
                            customer.status().as_str(),
                            reason,
                            evidence,
                            function,
                            detail,
                            at,
                            decided_at,
                        ])
                    });
                match inserted {
                    Ok(n) => n == 1,
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                    {
                        false
                    }
                    Err(e) => return Err(e).in_function(function),
                }
            }
            Write::Update { sql, from, params } => {
                let Some(request_id) = customer.request_id() else {
                    continue;
                };
                let mut all: Vec<Value> = vec![
                    Value::Integer(request_id),
                    Value::Text(from.as_str().to_owned()),
                    Value::Text(at.clone()),
                ];
                all.extend(params);
                conn.prepare_cached(sql)
                    .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(all)))
                    .in_function(function)?
                    == 1
            }
        };
        if applied {
            return Ok(after.as_str());
        }
    }
    Err(ConsentError::bad_argument(
        function,
        format!(
            "customer {} kept changing under this call (another connection is writing); try again",
            show_value(id.into())
        ),
    ))
}

/// `consent_status(id)`
pub fn status(conn: &Connection, state: &ConnState, id: &Value) -> Result<&'static str> {
    Ok(customer::find(conn, state, "consent_status", id)?
        .status()
        .as_str())
}

/// Why a customer cannot be reached, in the register's language; None when
/// they can.
pub fn unreachable_reason(
    has_email: bool,
    has_mobile: bool,
    sms_enabled: bool,
    language: Language,
) -> Option<&'static str> {
    match (has_email, has_mobile, sms_enabled, language) {
        (true, _, _, _) | (false, true, true, _) => None,
        (false, true, false, Language::Sv) => {
            Some("Kunden saknar e-postadress, och SMS är inte aktiverat (sms_enabled = 0)")
        }
        (false, true, false, Language::En) => {
            Some("The customer has no e-mail address, and SMS is not enabled (sms_enabled = 0)")
        }
        (false, false, _, Language::Sv) => Some("Kunden saknar både e-postadress och mobilnummer"),
        (false, false, _, Language::En) => {
            Some("The customer has neither an e-mail address nor a mobile number")
        }
    }
}

/// `consent_queue(id [, at])`
pub fn queue(
    conn: &Connection,
    state: &ConnState,
    id: &Value,
    at: UnixSeconds,
) -> Result<&'static str> {
    const F: &str = "consent_queue";
    transition(conn, state, F, id, at, |c| {
        let now = c.status();
        if now.is_open() || now == Status::Approved {
            return Ok((now, Write::Nothing));
        }
        match unreachable_reason(c.has_email, c.has_mobile, c.sms_enabled, c.language) {
            // Still unreachable: an error stays an error, with no new row.
            Some(_) if now == Status::Error => Ok((now, Write::Nothing)),
            Some(reason) => Ok((
                Status::Error,
                Write::Create {
                    status: Status::Error,
                    reason: Some(reason),
                    evidence: None,
                    detail: Some(reason),
                },
            )),
            None if !c.info_text_set => Err(ConsentError::InfoTextUnset {
                function: F,
                id: show_value((&c.id).into()),
            }),
            None => Ok((
                Status::Queued,
                Write::Create {
                    status: Status::Queued,
                    reason: None,
                    evidence: None,
                    detail: None,
                },
            )),
        }
    })
}

/// `consent_approve(id [, evidence [, at]])`
pub fn approve(
    conn: &Connection,
    state: &ConnState,
    id: &Value,
    evidence: &str,
    at: UnixSeconds,
) -> Result<&'static str> {
    transition(conn, state, "consent_approve", id, at, |c| {
        Ok(match c.status() {
            Status::Approved => (Status::Approved, Write::Nothing),
            from @ (Status::Queued | Status::Sent) => (
                Status::Approved,
                Write::Update {
                    sql: "UPDATE main.consent_request SET status = 'approved', evidence = ?4, \
                          actor = 'consent_approve', detail = ?4, decided_at = ?3, updated_at = ?3 \
                          WHERE id = ?1 AND status = ?2",
                    from,
                    params: vec![Value::Text(evidence.to_owned())],
                },
            ),
            Status::Missing | Status::Denied | Status::Error => (
                Status::Approved,
                Write::Create {
                    status: Status::Approved,
                    reason: None,
                    evidence: Some(evidence),
                    detail: Some(evidence),
                },
            ),
        })
    })
}

/// `consent_revoke(id [, reason [, at]])`
pub fn revoke(
    conn: &Connection,
    state: &ConnState,
    id: &Value,
    reason: &str,
    at: UnixSeconds,
) -> Result<&'static str> {
    transition(conn, state, "consent_revoke", id, at, |c| {
        Ok(match c.status() {
            from @ (Status::Approved | Status::Queued | Status::Sent) => (
                Status::Denied,
                Write::Update {
                    sql: "UPDATE main.consent_request SET status = 'denied', reason = ?4, \
                          actor = 'consent_revoke', detail = ?4, decided_at = ?3, updated_at = ?3 \
                          WHERE id = ?1 AND status = ?2",
                    from,
                    params: vec![Value::Text(reason.to_owned())],
                },
            ),
            other => (other, Write::Nothing),
        })
    })
}

/// The channels a request can be sent through.
pub const CHANNELS: [&str; 2] = ["email", "sms"];

/// `consent_mark_sent(id, channel [, page_id [, at]])`
pub fn mark_sent(
    conn: &Connection,
    state: &ConnState,
    id: &Value,
    channel: &str,
    page_id: Option<&str>,
    at: UnixSeconds,
) -> Result<&'static str> {
    const F: &str = "consent_mark_sent";
    if !CHANNELS.contains(&channel) {
        return Err(ConsentError::bad_argument(
            F,
            format!("unknown channel '{channel}'; pass 'email' or 'sms'"),
        ));
    }
    if let Some(page) = page_id {
        let valid = (16..=64).contains(&page.len())
            && page
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(ConsentError::bad_argument(
                F,
                "page_id must be 16 to 64 characters of A-Z, a-z, 0-9, '-' and '_' (base64url), as the portal draws it",
            ));
        }
    }
    transition(conn, state, F, id, at, |c| {
        match c.status() {
        Status::Queued => Ok((
            Status::Sent,
            Write::Update {
                sql:
                    "UPDATE main.consent_request SET status = 'sent', channel = ?4, page_id = coalesce(?5, page_id), \
                      actor = 'consent_mark_sent', detail = ?4, sent_at = ?3, updated_at = ?3 \
                      WHERE id = ?1 AND status = ?2",
                from: Status::Queued,
                params: vec![
                    Value::Text(channel.to_owned()),
                    page_id.map_or(Value::Null, |p| Value::Text(p.to_owned())),
                ],
            },
        )),
        other => Err(ConsentError::IllegalTransition {
            function: F,
            id: show_value((&c.id).into()),
            status: other.as_str(),
            what: "only a queued request can be marked sent; queue it first with consent_queue(id)",
        }),
    }
    })
}

/// `consent_mark_error(id, reason [, at])`
pub fn mark_error(
    conn: &Connection,
    state: &ConnState,
    id: &Value,
    reason: &str,
    at: UnixSeconds,
) -> Result<&'static str> {
    const F: &str = "consent_mark_error";
    transition(conn, state, F, id, at, |c| match c.status() {
        from @ (Status::Queued | Status::Sent) => Ok((
            Status::Error,
            Write::Update {
                sql: "UPDATE main.consent_request SET status = 'error', reason = ?4, \
                      actor = 'consent_mark_error', detail = ?4, updated_at = ?3 \
                      WHERE id = ?1 AND status = ?2",
                from,
                params: vec![Value::Text(reason.to_owned())],
            },
        )),
        other => Err(ConsentError::IllegalTransition {
            function: F,
            id: show_value((&c.id).into()),
            status: other.as_str(),
            what: "only a queued or sent request can be marked as failed",
        }),
    })
}
