//! The per-customer transitions of the state machine. Each looks the
//! customer up, decides, and makes at most one write (the audit row comes
//! from a trigger in the same statement). A write names the status it
//! expects, so a concurrent change by another connection is noticed and the
//! decision is made again.

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use crate::args::Args;
use crate::channel::{self, Channel};
use crate::customer::{self, Customer};
use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::show_value;
use crate::setup::ConnState;
use crate::status::Status;
use crate::time::{self, UnixSeconds};

/// How often a transition is decided again after a concurrent change.
const ATTEMPTS: usize = 5;

/// What a transition decided to write.
enum Write<'a> {
    /// Nothing changes.
    Nothing,
    /// A new request in `status`, superseding the customer's current one;
    /// the audit row's detail is the reason or the evidence.
    Create {
        status: Status,
        reason: Option<&'a str>,
        evidence: Option<&'a str>,
    },
    /// An update of the current request from `from` (as it must still be)
    /// to `to`, recording the first of `values` as the detail. `set` names
    /// the columns the transition fills besides: `?3` is the time, `?4` and
    /// on are `values`.
    Update {
        from: Status,
        to: Status,
        set: &'static str,
        values: Vec<Value>,
    },
}

/// One call of a transition: who makes it (the function's name, recorded as
/// the actor and named in errors), for which customer, and when.
pub(crate) struct Call {
    pub function: &'static str,
    pub id: Value,
    pub at: UnixSeconds,
}

impl Call {
    /// A function's call: the customer id its first argument, the time its
    /// argument `at_index`.
    fn from_args(a: &Args<'_>, at_index: usize) -> Result<Call> {
        Ok(Call {
            function: a.function(),
            id: a.customer_id(0)?,
            at: a.at(at_index)?,
        })
    }
}

/// Runs `decide` against the current state of the call's customer, and
/// applies what it returns. Returns the status after the call.
fn transition<'a>(
    call: &Call,
    conn: &Connection,
    state: &ConnState,
    decide: impl Fn(&Customer) -> Result<Write<'a>>,
) -> Result<Status> {
    let function = call.function;
    let id = &call.id;
    let at = time::format(call.at);
    for _ in 0..ATTEMPTS {
        let customer = customer::find(conn, state, function, id)?;
        let write = decide(&customer)?;
        let after = match &write {
            Write::Nothing => customer.status(),
            Write::Create { status, .. } => *status,
            Write::Update { to, .. } => *to,
        };
        let applied = match write {
            Write::Nothing => true,
            Write::Create {
                status,
                reason,
                evidence,
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
                            reason.or(evidence),
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
            Write::Update {
                from,
                to,
                set,
                values,
            } => {
                let Some(request_id) = customer.request_id() else {
                    continue;
                };
                let sql = format!(
                    "UPDATE main.consent_request SET status = '{to}', actor = '{function}', \
                     detail = ?4, updated_at = ?3, {set} WHERE id = ?1 AND status = ?2"
                );
                let mut all: Vec<Value> = vec![
                    Value::Integer(request_id),
                    Value::Text(from.as_str().to_owned()),
                    Value::Text(at.clone()),
                ];
                all.extend(values);
                conn.prepare_cached(&sql)
                    .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(all)))
                    .in_function(function)?
                    == 1
            }
        };
        if applied {
            return Ok(after);
        }
    }
    Err(ConsentError::KeptChanging {
        function,
        id: show_value(id.into()),
    })
}

// consent_status(id)
pub(crate) fn sql_status(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let id = a.customer_id(0)?;
    let customer = customer::find(conn, state, a.function(), &id)?;
    Ok(text(customer.status()))
}

// consent_queue(id [, at])
pub(crate) fn sql_queue(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let call = Call::from_args(a, 1)?;
    queue(&call, conn, state).map(text)
}

/// `consent_queue`: asks a customer who has not approved and is not being
/// asked already; an unreachable customer gets an error request instead.
pub(crate) fn queue(call: &Call, conn: &Connection, state: &ConnState) -> Result<Status> {
    transition(call, conn, state, |c| {
        let now = c.status();
        if now.is_open() || now == Status::Approved {
            return Ok(Write::Nothing);
        }
        let (status, reason) =
            match channel::route(c.has_email, c.has_mobile, c.sms_enabled, c.language) {
                // Still unreachable for the reason already recorded: nothing
                // to write. For another reason (an old SMTP failure, and the
                // address has been removed since), a new error request
                // records the reason that holds now.
                Err(reason) if now == Status::Error && c.reason.as_deref() == Some(reason) => {
                    return Ok(Write::Nothing)
                }
                Err(reason) => (Status::Error, Some(reason)),
                Ok(_) if !c.info_text_set => {
                    return Err(ConsentError::InfoTextUnset {
                        function: call.function,
                        id: show_value((&c.id).into()),
                    })
                }
                Ok(_) => (Status::Queued, None),
            };
        Ok(Write::Create {
            status,
            reason,
            evidence: None,
        })
    })
}

// consent_approve(id [, evidence [, at]])
pub(crate) fn sql_approve(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let evidence = a.optional_text(1)?;
    let call = Call::from_args(a, 2)?;
    approve(&call, evidence.as_deref(), conn, state).map(text)
}

/// The evidence of an approval given without any: a clerk recorded it.
pub(crate) const MANUAL_EVIDENCE: &str = "manual";

/// `consent_approve`: records the customer's consent, with what proves it
/// (None: [`MANUAL_EVIDENCE`]).
pub(crate) fn approve(
    call: &Call,
    evidence: Option<&str>,
    conn: &Connection,
    state: &ConnState,
) -> Result<Status> {
    let evidence = evidence.unwrap_or(MANUAL_EVIDENCE);
    transition(call, conn, state, |c| {
        Ok(match c.status() {
            Status::Approved => Write::Nothing,
            from @ (Status::Queued | Status::Sent) => Write::Update {
                from,
                to: Status::Approved,
                set: "evidence = ?4, decided_at = ?3",
                values: vec![text_value(evidence)],
            },
            Status::Missing | Status::Denied | Status::Error => Write::Create {
                status: Status::Approved,
                reason: None,
                evidence: Some(evidence),
            },
        })
    })
}

// consent_revoke(id [, reason [, at]])
pub(crate) fn sql_revoke(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let reason = a.optional_text(1)?;
    let call = Call::from_args(a, 2)?;
    revoke(&call, reason.as_deref(), conn, state).map(text)
}

/// The reason of a revocation given without one.
pub(crate) const DEFAULT_REVOKE_REASON: &str = "revoked";

/// `consent_revoke`: ends a consent or an open request (None:
/// [`DEFAULT_REVOKE_REASON`]).
pub(crate) fn revoke(
    call: &Call,
    reason: Option<&str>,
    conn: &Connection,
    state: &ConnState,
) -> Result<Status> {
    let reason = reason.unwrap_or(DEFAULT_REVOKE_REASON);
    transition(call, conn, state, |c| {
        Ok(match c.status() {
            from @ (Status::Approved | Status::Queued | Status::Sent) => Write::Update {
                from,
                to: Status::Denied,
                set: "reason = ?4, decided_at = ?3",
                values: vec![text_value(reason)],
            },
            Status::Missing | Status::Denied | Status::Error => Write::Nothing,
        })
    })
}

/// How many characters a page id has: 128 random bits in base64url
/// without padding, as the portal draws it.
pub const PAGE_ID_LENGTH: usize = 22;

/// Whether `page_id` has the form the portal draws: exactly
/// [`PAGE_ID_LENGTH`] characters of base64url (`A-Z`, `a-z`, `0-9`, `-`,
/// `_`). Anything that builds a path or a URL from a page id checks this
/// first; the schema checks the same (migration 3).
pub fn page_id_is_valid(page_id: &str) -> bool {
    page_id.len() == PAGE_ID_LENGTH
        && page_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

// consent_mark_sent(id, channel [, page_id [, at]])
pub(crate) fn sql_mark_sent(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let f = a.function();
    let word = a.text(1, "'email' or 'sms'")?;
    let channel: Channel = word.parse().map_err(|()| {
        ConsentError::bad_argument(
            f,
            format!("unknown channel '{word}'; pass 'email' or 'sms'"),
        )
    })?;
    let page_id = a.optional_text(2)?;
    if page_id
        .as_deref()
        .is_some_and(|page| !page_id_is_valid(page))
    {
        return Err(ConsentError::bad_argument(
            f,
            "page_id must be 22 characters of A-Z, a-z, 0-9, '-' and '_' (base64url), as the portal draws it",
        ));
    }
    let call = Call::from_args(a, 3)?;
    transition(&call, conn, state, |c| match c.status() {
        Status::Queued => Ok(Write::Update {
            from: Status::Queued,
            to: Status::Sent,
            set: "channel = ?4, page_id = coalesce(?5, page_id), sent_at = ?3",
            values: vec![
                text_value(channel.as_str()),
                page_id.clone().map_or(Value::Null, Value::Text),
            ],
        }),
        other => Err(illegal(
            f,
            c,
            other,
            "only a queued request can be marked sent; queue it first with consent_queue(id)",
        )),
    })
    .map(text)
}

// consent_mark_error(id, reason [, at])
pub(crate) fn sql_mark_error(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let f = a.function();
    let reason = a.text(1, "the reason the request failed")?;
    let call = Call::from_args(a, 2)?;
    transition(&call, conn, state, |c| match c.status() {
        from @ (Status::Queued | Status::Sent) => Ok(Write::Update {
            from,
            to: Status::Error,
            set: "reason = ?4",
            values: vec![text_value(&reason)],
        }),
        other => Err(illegal(
            f,
            c,
            other,
            "only a queued or sent request can be marked as failed",
        )),
    })
    .map(text)
}

fn illegal(
    function: &'static str,
    c: &Customer,
    status: Status,
    what: &'static str,
) -> ConsentError {
    ConsentError::IllegalTransition {
        function,
        id: show_value((&c.id).into()),
        status: status.as_str(),
        what,
    }
}

fn text(status: Status) -> Value {
    text_value(status.as_str())
}

fn text_value(text: &str) -> Value {
    Value::Text(text.to_owned())
}
