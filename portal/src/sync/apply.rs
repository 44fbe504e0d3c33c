//! Step 2 of `sync`: verify each collected decision again and apply it to
//! the register.
//!
//! Each decision is verified with the public keys as of the moment the
//! collector received it, and applied only when its token names the
//! customer's current request: a replayed, stale (re-queued) or foreign
//! token is refused, and the refusal is reported. An approval applies to a
//! sent request; a decline to a sent one, or to one the customer approved
//! on the same page before (a change of mind is a withdrawal, as easy as
//! the consent was). Within a batch the last decision on a request is the
//! customer's last word; earlier ones are reported as superseded. A batch
//! and its source's cursor are written in one short transaction, so a
//! decision is applied exactly once even if sync dies halfway.

use std::collections::HashMap;

use consent_extension::requests;
use consent_extension::Status;
use rusqlite::types::Value;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::collector::{Decision, StoredDecision};
use crate::token::{hex, CustomerId, TokenError, Verifier};

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

impl Applied {
    /// Adds another source's decisions to these.
    pub fn add(&mut self, other: Applied) {
        self.collected += other.collected;
        self.approved += other.approved;
        self.declined += other.declined;
        self.refused.extend(other.refused);
    }
}

/// The register refused a read or write while decisions were applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApplyError(#[from] pub rusqlite::Error);

/// Verifies and applies a batch from one source, and moves its cursor, in
/// one transaction. With `dry_run` the transaction is rolled back.
pub fn apply(
    conn: &Connection,
    source: &str,
    batch: &[StoredDecision],
    verifier: &Verifier,
    dry_run: bool,
) -> Result<Applied, ApplyError> {
    let mut applied = Applied {
        collected: batch.len(),
        ..Applied::default()
    };
    if batch.is_empty() {
        return Ok(applied);
    }
    // The customer's last word on each request in this batch.
    let mut last_cursor = HashMap::new();
    for decision in batch {
        let entry = last_cursor
            .entry(decision.request_id)
            .or_insert(decision.cursor);
        *entry = (*entry).max(decision.cursor);
    }
    let refuse = |decision: &StoredDecision, reason: String| Refusal {
        source: source.to_owned(),
        cursor: decision.cursor,
        request_id: decision.request_id,
        reason,
    };
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<(), ApplyError> {
        let mut accepted_all = Vec::new();
        for decision in batch {
            if last_cursor.get(&decision.request_id) != Some(&decision.cursor) {
                applied.refused.push(refuse(
                    decision,
                    "superseded by the customer's later decision on the same page".to_owned(),
                ));
                continue;
            }
            match check(conn, decision, verifier)? {
                Ok(accepted) => accepted_all.push(accepted),
                Err(reason) => applied.refused.push(refuse(decision, reason)),
            }
        }
        let (approved, declined) = apply_accepted(conn, &accepted_all)?;
        applied.approved = approved;
        applied.declined = declined;
        let last = batch.iter().map(|d| d.cursor).max().unwrap_or(0);
        requests::set_source_cursor(conn, source, last)?;
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
    decision: &StoredDecision,
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
    let Some(request) = requests::find(conn, claims.request_id)? else {
        return Ok(Err(format!(
            "there is no request {} in this register",
            claims.request_id
        )));
    };
    let same_customer = match (&request.customer_id, &claims.customer_id) {
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
    if !request.current {
        return Ok(Err(format!(
            "request {} is no longer the customer's current request (asked again since)",
            claims.request_id
        )));
    }
    let applies = match decision.decision {
        Decision::Approve => request.status == Status::Sent,
        Decision::Decline => matches!(request.status, Status::Sent | Status::Approved),
    };
    if !applies {
        return Ok(Err(format!(
            "request {} is '{}', so a '{}' no longer applies (already decided, or not sent yet)",
            claims.request_id,
            request.status,
            decision.decision.as_str()
        )));
    }
    let at = decision.received_at.clone();
    Ok(Ok(match decision.decision {
        Decision::Approve => Accepted {
            customer: request.customer_id,
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
        },
        Decision::Decline => Accepted {
            customer: request.customer_id,
            approve: false,
            evidence: String::new(),
            at,
        },
    }))
}
