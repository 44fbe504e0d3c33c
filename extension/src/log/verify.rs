//! Checking the log: [`verify`], which `consent_verify_log()` runs.
//!
//! One sequential pass over `consent_event` in id order (the chain, and
//! each request's last event kept in memory), one over `consent_request`
//! (each request against its last event, with a look-up by primary key for
//! approvals), and one over `consent_text`: no sort and no scan inside a
//! loop, so a million events take seconds.
//!
//! The problems, in the order they are looked for (the first one found is
//! reported): an event without a hash, of no known form, erased in another
//! shape than `consent_forget` erases, or whose hash does not match the
//! chain (by id; each row in its own form, an erased detail by its kept
//! commitment); a request with no event, whose status is not its last
//! event's `to_status`, or that is approved with evidence other than its
//! last event's detail (by request id); an event naming a request that does
//! not exist; a text whose hash is not the SHA-256 of its body.

use std::collections::HashMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{
    detail_commitment, event_fields, event_hash, event_hash_v2, event_hash_v2_committed, hex,
    hex_into, parse_hex, Form, Hash,
};
use crate::quoting::show_value;
use crate::status::Status;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The chain is whole and every request agrees with its log.
    Ok,
    /// The first problem, naming the row.
    Broken(String),
}

/// Checks the chain of `consent_event`, every request against its last
/// event, and every stored text against its hash, in one read transaction.
pub fn verify(conn: &Connection) -> rusqlite::Result<Verdict> {
    // One snapshot for the three passes: a write between them (by another
    // connection) could otherwise look like a request without its event.
    conn.execute_batch("SAVEPOINT consent_verify_log")?;
    let verdict = check(conn);
    let released = conn.execute_batch("RELEASE consent_verify_log");
    let verdict = verdict?;
    released?;
    Ok(verdict)
}

/// The events of one request, as the chain pass saw them.
struct Logged {
    first: i64,
    last: i64,
    /// The last event's `to_status`; None when it is no status at all.
    to: Option<Status>,
}

fn check(conn: &Connection) -> rusqlite::Result<Verdict> {
    let mut requests: HashMap<i64, Logged> = HashMap::new();
    if let Some(problem) = check_chain(conn, &mut requests)? {
        return Ok(Verdict::Broken(problem));
    }
    if let Some(problem) = check_requests(conn, &mut requests)? {
        return Ok(Verdict::Broken(problem));
    }
    // What is left names requests that are not there.
    if let Some((request, logged)) = requests.iter().min_by_key(|(_, l)| l.first) {
        return Ok(Verdict::Broken(format!(
            "consent_event row {} names request {request}, which is not in consent_request \
             (the request was deleted, or the event written by hand)",
            logged.first
        )));
    }
    if let Some(problem) = check_texts(conn)? {
        return Ok(Verdict::Broken(problem));
    }
    Ok(Verdict::Ok)
}

/// The chain, row by row in id order; fills `requests` with each
/// request's events.
fn check_chain(
    conn: &Connection,
    requests: &mut HashMap<i64, Logged>,
) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare(
        "SELECT id, customer_id, request_id, from_status, to_status, actor, detail, at, hash, \
                form, detail_sha256, erased_at \
         FROM main.consent_event ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut previous: Option<(i64, Hash)> = None;
    let mut expected_hex = [0u8; 64];
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let stored = match row.get_ref(8)? {
            ValueRef::Text(t) => t,
            ValueRef::Null => {
                return Ok(Some(format!(
                    "consent_event row {id} has no hash: it was written without the \
                     extension's audit trigger"
                )))
            }
            other => {
                return Ok(Some(format!(
                    "consent_event row {id} breaks the chain: its hash is {}, not hex text",
                    show_value(other)
                )))
            }
        };
        let fields = event_fields(row)?;
        let hashed = match hashed_as(
            id,
            &fields,
            row.get_ref(9)?,
            row.get_ref(10)?,
            row.get_ref(11)?,
        ) {
            Ok(hashed) => hashed,
            Err(problem) => return Ok(Some(problem)),
        };
        let previous_hash = previous.as_ref().map(|(_, h)| h);
        let expected = match hashed {
            Hashed::V1 => event_hash(previous_hash, &fields),
            Hashed::V2 => event_hash_v2(previous_hash, &fields),
            Hashed::V2Erased(commitment) => {
                event_hash_v2_committed(previous_hash, &fields, &commitment)
            }
        }
        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        hex_into(&expected, &mut expected_hex);
        if stored != expected_hex.as_slice() {
            let against = match previous {
                None if id == 1 => "its own fields (it is the first row)".to_owned(),
                None => format!(
                    "its own fields and the start of the chain: {} before it",
                    missing(1, id - 1)
                ),
                Some((p, _)) if p + 1 == id => {
                    format!("its own fields and the hash of row {p} before it")
                }
                Some((p, _)) => format!(
                    "its own fields and the hash of row {p} before it: {}",
                    missing(p + 1, id - 1)
                ),
            };
            return Ok(Some(format!(
                "consent_event row {id} breaks the chain: its hash does not match {against}; \
                 the log was changed after it was written"
            )));
        }
        previous = Some((id, expected));
        let ValueRef::Integer(request) = fields[2] else {
            return Ok(Some(format!(
                "consent_event row {id} names no request: its request_id is {}",
                show_value(fields[2])
            )));
        };
        let to = match fields[4] {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(|s| s.parse().ok()),
            _ => None,
        };
        requests
            .entry(request)
            .and_modify(|logged| {
                logged.last = id;
                logged.to = to;
            })
            .or_insert(Logged {
                first: id,
                last: id,
                to,
            });
    }
    Ok(None)
}

/// How an event row is to be hashed.
enum Hashed {
    /// Form 1: its detail itself.
    V1,
    /// Form 2, not erased: its own detail's commitment.
    V2,
    /// Form 2, erased: the commitment kept in `detail_sha256`.
    V2Erased(Hash),
}

/// How row `id` is hashed, from its `form`, `detail_sha256` and
/// `erased_at`; or the problem with them. Only consent_forget's shape
/// counts as erased: form 2, the detail NULL, the commitment and the time
/// kept. A row that is not erased is hashed with its own detail whatever
/// its `detail_sha256` says, so a commitment set by hand beside another
/// detail does not verify.
fn hashed_as(
    id: i64,
    fields: &[ValueRef<'_>; 8],
    form: ValueRef<'_>,
    detail_sha256: ValueRef<'_>,
    erased_at: ValueRef<'_>,
) -> Result<Hashed, String> {
    let changed = "the log was changed after it was written";
    let erased = !matches!(erased_at, ValueRef::Null);
    let has_commitment = !matches!(detail_sha256, ValueRef::Null);
    match Form::of_column(form) {
        None => Err(format!(
            "consent_event row {id} breaks the chain: its form is {}, not 1 or 2; {changed}",
            show_value(form)
        )),
        Some(Form::V1) if erased || has_commitment => Err(format!(
            "consent_event row {id} breaks the chain: it is written in form 1, whose detail \
             cannot be erased, yet it is marked erased; {changed}"
        )),
        Some(Form::V1) => Ok(Hashed::V1),
        Some(Form::V2) if !erased && has_commitment => Err(format!(
            "consent_event row {id} breaks the chain: it holds a detail_sha256 but is not \
             marked erased; {changed}"
        )),
        Some(Form::V2) if !erased => Ok(Hashed::V2),
        Some(Form::V2) => {
            if !matches!(fields[6], ValueRef::Null) {
                return Err(format!(
                    "consent_event row {id} breaks the chain: it is marked erased but holds a \
                     detail; {changed}"
                ));
            }
            match detail_sha256 {
                ValueRef::Text(t) => parse_hex(t).map(Hashed::V2Erased).ok_or_else(|| {
                    format!(
                        "consent_event row {id} breaks the chain: its detail_sha256 is {}, \
                         not 64 hex digits; {changed}",
                        show_value(detail_sha256)
                    )
                }),
                other => Err(format!(
                    "consent_event row {id} breaks the chain: it is marked erased but its \
                     detail_sha256 is {}; {changed}",
                    show_value(other)
                )),
            }
        }
    }
}

/// "row 5 is missing", "rows 5 to 9 are missing".
fn missing(first: i64, last: i64) -> String {
    if first == last {
        format!("row {first} is missing")
    } else {
        format!("rows {first} to {last} are missing")
    }
}

/// Every request against its last event; removes the requests it finds
/// from `requests`.
fn check_requests(
    conn: &Connection,
    requests: &mut HashMap<i64, Logged>,
) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare(
        "SELECT id, customer_id, status, evidence FROM main.consent_request ORDER BY id",
    )?;
    let mut detail = conn.prepare(
        "SELECT detail, erased_at IS NOT NULL, detail_sha256 FROM main.consent_event WHERE id = ?1",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        // Formatted only for a message: a million requests pass here.
        let customer = || row.get_ref(1).map(show_value);
        let Some(logged) = requests.remove(&id) else {
            return Ok(Some(format!(
                "consent_request {id} (customer {}) has no event in consent_event: \
                 it was written without the audit trigger",
                customer()?
            )));
        };
        let status = row.get_ref(2)?;
        let parsed: Option<Status> = match status {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(|s| s.parse().ok()),
            _ => None,
        };
        if parsed.is_none() || logged.to != parsed {
            let said = logged.to.map_or("no status", |s| s.as_str());
            return Ok(Some(format!(
                "consent_request {id} (customer {}) is {}, but its last event, \
                 consent_event row {}, says '{said}': the request was changed without the audit trigger",
                customer()?,
                show_value(status),
                logged.last
            )));
        }
        if parsed == Some(Status::Approved) {
            let evidence: Value = row.get(3)?;
            let (recorded, erased, commitment): (Value, bool, Value) =
                detail.query_row([logged.last], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            // An erased detail is compared by its commitment, which the
            // chain pass has checked against the row's hash.
            let agrees = if erased {
                let committed = detail_commitment((&evidence).into())
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
                matches!(&commitment, Value::Text(t) if t.as_bytes() == hex(&committed).as_bytes())
            } else {
                evidence == recorded
            };
            if !agrees {
                let what = if erased {
                    format!(
                        "recorded evidence whose SHA-256 commitment is {} (its detail was erased)",
                        show_value((&commitment).into())
                    )
                } else {
                    format!("recorded {}", show_value((&recorded).into()))
                };
                return Ok(Some(format!(
                    "consent_request {id} (customer {}) is approved with evidence {}, \
                     but its last event, consent_event row {}, {what}: the evidence was \
                     changed after the approval",
                    customer()?,
                    show_value((&evidence).into()),
                    logged.last,
                )));
            }
        }
    }
    Ok(None)
}

/// Every stored text against the hash it is stored under.
fn check_texts(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare("SELECT hash, body FROM main.consent_text ORDER BY rowid")?;
    let mut rows = stmt.query([])?;
    let mut actual_hex = [0u8; 64];
    while let Some(row) = rows.next()? {
        let name = row.get_ref(0)?;
        let body: &[u8] = match row.get_ref(1)? {
            ValueRef::Text(t) | ValueRef::Blob(t) => t,
            _ => &[],
        };
        let actual: Hash = Sha256::digest(body).into();
        hex_into(&actual, &mut actual_hex);
        let matches = matches!(name, ValueRef::Text(t) if t == actual_hex.as_slice());
        if !matches {
            return Ok(Some(format!(
                "consent_text row {} does not hold the text it is named by: the SHA-256 of \
                 its body is '{}'; the text was changed after it was shown",
                show_value(name),
                hex(&actual)
            )));
        }
    }
    Ok(None)
}
