//! Collecting the customers' decisions and applying them to the register:
//! the first step of `sync`.
//!
//! Decisions come from collectors over HTTP (`GET <url>/decisions`, with the
//! bearer token) or from a local inbox file. Each is verified again with the
//! public keys, as of the moment the collector received it, and applied only
//! when its token names the customer's current request: a replayed, stale
//! (re-queued) or foreign token is refused, and the refusal is reported.
//! An approval applies to a sent request; a decline to a sent one, or to one
//! the customer approved on the same page before (a change of mind is a
//! withdrawal, as easy as the consent was). Within a batch the last
//! decision on a request is the customer's last word; earlier ones are
//! reported as superseded. A batch and its cursor are written in one short transaction, so
//! a decision is applied exactly once even if sync dies halfway.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::token::{hex, CustomerId, TokenError, Verifier};

/// A decision as a collector hands it out.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Collected {
    pub cursor: i64,
    pub request_id: i64,
    pub decision: String,
    pub token: String,
    pub received_at: String,
}

#[derive(Deserialize)]
struct Page {
    decisions: Vec<Collected>,
}

/// Why a collected decision was not applied.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub source: String,
    pub cursor: i64,
    pub request_id: i64,
    pub reason: String,
}

/// What applying a batch did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Applied {
    pub collected: usize,
    pub approved: usize,
    pub declined: usize,
    pub refused: Vec<Refusal>,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("collecting from {source_name}: {message}")]
    Source {
        source_name: String,
        message: String,
    },
    #[error("applying decisions: {0}")]
    Database(#[from] rusqlite::Error),
}

const PAGE_SIZE: usize = 1000;

/// Fetches the decisions after `after` from one source, all pages of them.
pub fn fetch(
    source: &str,
    after: i64,
    bearer: Option<&str>,
    base_dir: &Path,
) -> Result<Vec<Collected>, CollectError> {
    let fail = |message: String| CollectError::Source {
        source_name: source.to_owned(),
        message,
    };
    if source.starts_with("http://") || source.starts_with("https://") {
        let bearer = bearer.ok_or_else(|| {
            fail("set CONSENT_COLLECTOR_TOKEN to the collector's bearer token".to_owned())
        })?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut all = Vec::new();
        let mut cursor = after;
        loop {
            let url = format!(
                "{}/decisions?after={cursor}&limit={PAGE_SIZE}",
                source.trim_end_matches('/')
            );
            let mut response = agent
                .get(&url)
                .header("Authorization", &format!("Bearer {bearer}"))
                .call()
                .map_err(|e| fail(format!("the collector did not answer: {e}")))?;
            let status = response.status().as_u16();
            if status != 200 {
                let hint = if status == 401 {
                    ": check CONSENT_COLLECTOR_TOKEN"
                } else {
                    ""
                };
                return Err(fail(format!("the collector answered HTTP {status}{hint}")));
            }
            let body = response
                .body_mut()
                .read_to_string()
                .map_err(|e| fail(format!("reading the collector's answer: {e}")))?;
            let page: Page = serde_json::from_str(&body).map_err(|e| {
                fail(format!(
                    "the collector's answer is not the expected JSON: {e}"
                ))
            })?;
            let count = page.decisions.len();
            if let Some(last) = page.decisions.last() {
                cursor = last.cursor;
            }
            all.extend(page.decisions);
            if count < PAGE_SIZE {
                return Ok(all);
            }
        }
    }
    let path = if Path::new(source).is_absolute() {
        Path::new(source).to_owned()
    } else {
        base_dir.join(source)
    };
    if !path.exists() {
        // No collector has received anything yet.
        return Ok(Vec::new());
    }
    let inbox = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| fail(format!("cannot open the inbox {}: {e}", path.display())))?;
    inbox
        .busy_timeout(Duration::from_secs(10))
        .map_err(|e| fail(e.to_string()))?;
    let mut stmt = inbox
        .prepare(
            "SELECT cursor, request_id, decision, token, received_at FROM decision \
             WHERE cursor > ?1 ORDER BY cursor",
        )
        .map_err(|e| fail(format!("{} is not a collector inbox: {e}", path.display())))?;
    let rows = stmt
        .query_map([after], |r| {
            Ok(Collected {
                cursor: r.get(0)?,
                request_id: r.get(1)?,
                decision: r.get(2)?,
                token: r.get(3)?,
                received_at: r.get(4)?,
            })
        })
        .map_err(|e| fail(e.to_string()))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(|e| fail(e.to_string()))
}

fn cursor_key(source: &str) -> String {
    format!("sync_cursor {source}")
}

/// Where the last sync stopped reading a source.
pub fn cursor(conn: &Connection, source: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row(
            "SELECT value FROM main.consent_meta WHERE key = ?1",
            [cursor_key(source)],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Verifies and applies a batch from one source, and moves its cursor, in
/// one transaction. With `dry_run` the transaction is rolled back.
pub fn apply(
    conn: &Connection,
    source: &str,
    batch: &[Collected],
    verifier: &Verifier,
    dry_run: bool,
) -> Result<Applied, CollectError> {
    let mut applied = Applied {
        collected: batch.len(),
        ..Applied::default()
    };
    if batch.is_empty() {
        return Ok(applied);
    }
    // The customer's last word on each request in this batch.
    let mut last_cursor = std::collections::HashMap::new();
    for decision in batch {
        let entry = last_cursor
            .entry(decision.request_id)
            .or_insert(decision.cursor);
        *entry = (*entry).max(decision.cursor);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<(), CollectError> {
        let mut accepted_all = Vec::new();
        for decision in batch {
            if last_cursor.get(&decision.request_id) != Some(&decision.cursor) {
                applied.refused.push(Refusal {
                    source: source.to_owned(),
                    cursor: decision.cursor,
                    request_id: decision.request_id,
                    reason: "superseded by the customer's later decision on the same page"
                        .to_owned(),
                });
                continue;
            }
            match check(conn, decision, verifier)? {
                Ok(accepted) => accepted_all.push(accepted),
                Err(reason) => applied.refused.push(Refusal {
                    source: source.to_owned(),
                    cursor: decision.cursor,
                    request_id: decision.request_id,
                    reason,
                }),
            }
        }
        let (approved, declined) = apply_accepted(conn, &accepted_all)?;
        applied.approved = approved;
        applied.declined = declined;
        let last = batch.iter().map(|d| d.cursor).max().unwrap_or(0);
        conn.execute(
            "INSERT OR REPLACE INTO main.consent_meta (key, value) VALUES (?1, ?2)",
            params![cursor_key(source), last],
        )?;
        Ok(())
    })();
    let end = if result.is_ok() && !dry_run {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    conn.execute_batch(end)?;
    result.map(|()| applied)
}

/// Applies the checked decisions through the extension's functions, in
/// one statement over a temporary table: one outer statement lets the
/// functions reuse their prepared statements from row to row. Returns how
/// many were approved and declined.
fn apply_accepted(conn: &Connection, accepted: &[Accepted]) -> rusqlite::Result<(usize, usize)> {
    if accepted.is_empty() {
        return Ok((0, 0));
    }
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS consent_sync_apply \
           (customer_id, approve INTEGER NOT NULL, evidence TEXT, at TEXT NOT NULL); \
         DELETE FROM temp.consent_sync_apply;",
    )?;
    {
        let mut insert =
            conn.prepare_cached("INSERT INTO temp.consent_sync_apply VALUES (?1, ?2, ?3, ?4)")?;
        for a in accepted {
            insert.execute(params![a.customer, a.approve, a.evidence, a.at])?;
        }
    }
    let applied: i64 = conn.query_row(
        "SELECT count(CASE WHEN approve THEN consent_approve(customer_id, evidence, at) \
                           ELSE consent_revoke(customer_id, 'declined', at) END) \
         FROM temp.consent_sync_apply",
        [],
        |r| r.get(0),
    )?;
    conn.execute_batch("DROP TABLE temp.consent_sync_apply")?;
    debug_assert_eq!(applied as usize, accepted.len());
    let approved = accepted.iter().filter(|a| a.approve).count();
    Ok((approved, accepted.len() - approved))
}

/// A decision that passed every check, ready to apply.
struct Accepted {
    customer: Value,
    approve: bool,
    evidence: String,
    at: String,
}

/// Checks one decision: the token, and that it names the customer's
/// current request in a state the decision applies to. Says why not.
fn check(
    conn: &Connection,
    decision: &Collected,
    verifier: &Verifier,
) -> rusqlite::Result<Result<Accepted, String>> {
    // The token was valid when the customer pressed the button, if it was
    // valid when the collector received it.
    let Some(received) = consent_extension::time::parse(&decision.received_at) else {
        return Ok(Err(format!(
            "received_at '{}' is not a time",
            decision.received_at
        )));
    };
    let claims = match verifier.verify(&decision.token, received) {
        Ok(claims) => claims,
        Err(e @ TokenError::Expired { .. }) => {
            return Ok(Err(format!("the token had expired: {e}")))
        }
        Err(e) => return Ok(Err(format!("the token is not valid: {e}"))),
    };
    if claims.request_id != decision.request_id {
        return Ok(Err(format!(
            "the collector filed it under request {}, but the token names request {}",
            decision.request_id, claims.request_id
        )));
    }
    let request: Option<(Value, String, Option<i64>)> = conn
        .prepare_cached(
            "SELECT r.customer_id, r.status, \
               (SELECT id FROM main.consent_request WHERE customer_id = r.customer_id ORDER BY supersedes DESC LIMIT 1) \
             FROM main.consent_request AS r WHERE r.id = ?1",
        )?
        .query_row([claims.request_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((customer, status, newest)) = request else {
        return Ok(Err(format!(
            "there is no request {} in this register",
            claims.request_id
        )));
    };
    let same_customer = match (&customer, &claims.customer_id) {
        (Value::Integer(a), CustomerId::Integer(b)) => a == b,
        (Value::Text(a), CustomerId::Text(b)) => a == b,
        _ => false,
    };
    if !same_customer {
        return Ok(Err(format!(
            "the token names customer {}, but request {} belongs to another customer",
            claims.customer_id, claims.request_id
        )));
    }
    if newest != Some(claims.request_id) {
        return Ok(Err(format!(
            "request {} is no longer the customer's current request (asked again since)",
            claims.request_id
        )));
    }
    let applies = match decision.decision.as_str() {
        "approve" => status == "sent",
        _ => status == "sent" || status == "approved",
    };
    if !applies {
        return Ok(Err(format!(
            "request {} is '{status}', so a '{}' no longer applies (already decided, or not sent yet)",
            claims.request_id, decision.decision
        )));
    }
    let at = decision.received_at.clone();
    Ok(match decision.decision.as_str() {
        "approve" => Ok(Accepted {
            customer,
            approve: true,
            evidence: serde_json::json!({
                "via": "consent page",
                "decision": "approve",
                "received_at": at,
                "text_sha256": hex(&claims.text_hash),
                "token": decision.token,
            })
            .to_string(),
            at,
        }),
        "decline" => Ok(Accepted {
            customer,
            approve: false,
            evidence: String::new(),
            at,
        }),
        other => Err(format!("unknown decision '{other}'")),
    })
}
