//! Step 2 of `sync`: verify each collected decision again and apply it to
//! the register.
//!
//! The decision is the verified token's: the collector's `decision` field
//! is never read, so no one between the customer and the register can turn
//! a decline into an approval. Each token is verified with the public keys
//! as of the moment the collector received it, and applied only when it
//! names the customer's current request, the page that request has and the
//! text that page showed: a replayed, stale (re-queued) or foreign token is
//! refused, and the refusal is reported. The collector's received time is
//! trusted only within bounds: not before the request was sent, not after
//! this run's clock (each with the allowed clock skew), and for an approval
//! not after the consent window (`expiry_days` from sending) closed, even
//! when no run has expired the request yet.
//!
//! An approval applies to a sent request; a decline to a sent one, or to
//! one the customer approved on the same page before (a change of mind is
//! a withdrawal, as easy as the consent was). A withdrawal, pressed on the
//! withdrawal page the receipt links to, applies to an approved request:
//! its token must name that page, and it is applied as
//! `consent_revoke(id, 'withdrawn by customer')` with a confirmation to the
//! customer recorded in the same transaction (sent by the send step).
//! Within a batch the last
//! decision on a request is the customer's last word; earlier ones are
//! reported as superseded. A batch and its source's cursor are written in
//! one short transaction, so a decision is applied exactly once even if
//! sync dies halfway.

use std::collections::HashMap;

use consent_extension::notices::{self, NoticeKind};
use consent_extension::requests::{self, RequestState};
use consent_extension::time::{self, UnixSeconds};
use consent_extension::{Settings, Status};
use rusqlite::types::Value;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::collector::StoredDecision;
use crate::token::{hex, Claims, Decision, PageBinding, TokenError, Verifier};

/// What a collected decision is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub verifier: &'a Verifier,
    /// This run's clock (unix seconds): the evidence's applied time, and
    /// the latest received time believed.
    pub now: UnixSeconds,
    /// How far the collector's clock may be off from ours, in seconds.
    pub clock_skew: i64,
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
    /// Consents withdrawn on their withdrawal page.
    pub withdrawn: usize,
    pub refused: Vec<Refusal>,
}

impl Applied {
    /// Adds another source's decisions to these.
    pub fn add(&mut self, other: Applied) {
        self.collected += other.collected;
        self.approved += other.approved;
        self.declined += other.declined;
        self.withdrawn += other.withdrawn;
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
    checks: &Checks<'_>,
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
        let expiry_days = Settings::read(conn)?.expiry_days;
        let mut accepted_all = Vec::new();
        for decision in batch {
            if last_cursor.get(&decision.request_id) != Some(&decision.cursor) {
                applied.refused.push(refuse(
                    decision,
                    "superseded by the customer's later decision on the same page".to_owned(),
                ));
                continue;
            }
            match check(conn, decision, checks, expiry_days)? {
                Ok(accepted) => accepted_all.push(accepted),
                Err(reason) => applied.refused.push(refuse(decision, reason)),
            }
        }
        apply_accepted(conn, &accepted_all)?;
        let count = |decision| {
            accepted_all
                .iter()
                .filter(|a| a.decision == decision)
                .count()
        };
        applied.approved = count(Decision::Approve);
        applied.declined = count(Decision::Decline);
        applied.withdrawn = count(Decision::Withdraw);
        for withdrawal in accepted_all
            .iter()
            .filter(|a| a.decision == Decision::Withdraw)
        {
            notices::create(
                conn,
                withdrawal.request_id,
                NoticeKind::Withdrawal,
                None,
                checks.now,
            )?;
        }
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

/// The reason `consent_revoke` records for a decline on a consent page,
/// and for a withdrawal on a withdrawal page.
pub const DECLINED: &str = "declined";
pub const WITHDRAWN: &str = "withdrawn by customer";

/// Applies the checked decisions through the extension's functions, in
/// one statement over a temporary table: one outer statement lets the
/// functions reuse their prepared statements from row to row.
fn apply_accepted(conn: &Connection, accepted: &[Accepted]) -> rusqlite::Result<()> {
    if accepted.is_empty() {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS consent_sync_apply \
           (customer_id, approve INTEGER NOT NULL, evidence TEXT, reason TEXT, at TEXT NOT NULL); \
         DELETE FROM temp.consent_sync_apply;",
    )?;
    {
        let mut insert =
            conn.prepare_cached("INSERT INTO temp.consent_sync_apply VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for a in accepted {
            let (approve, reason) = match a.decision {
                Decision::Approve => (true, None),
                Decision::Decline => (false, Some(DECLINED)),
                Decision::Withdraw => (false, Some(WITHDRAWN)),
            };
            insert.execute(params![a.customer, approve, a.evidence, reason, a.at])?;
        }
    }
    let applied: i64 = conn.query_row(
        "SELECT count(CASE WHEN approve THEN consent_approve(customer_id, evidence, at) \
                           ELSE consent_revoke(customer_id, reason, at) END) \
         FROM temp.consent_sync_apply",
        [],
        |r| r.get(0),
    )?;
    conn.execute_batch("DROP TABLE temp.consent_sync_apply")?;
    debug_assert_eq!(applied as usize, accepted.len());
    Ok(())
}

/// A decision that passed every check, ready to apply.
struct Accepted {
    request_id: i64,
    customer: Value,
    decision: Decision,
    evidence: String,
    at: String,
}

/// Checks one decision: its received time, its token, and that the token
/// names the customer's current request, its page and its text, in a state
/// the decision applies to. Says why not.
fn check(
    conn: &Connection,
    decision: &StoredDecision,
    checks: &Checks<'_>,
    expiry_days: i64,
) -> rusqlite::Result<Result<Accepted, String>> {
    let Some(received) = time::parse(&decision.received_at) else {
        return Ok(Err(format!(
            "received_at '{}' is not a time",
            decision.received_at
        )));
    };
    let latest = checks.now + checks.clock_skew;
    if received > latest {
        return Ok(Err(format!(
            "received at {}, later than this run's clock ({}) plus the allowed clock skew of {} s: \
             the collector's clock is wrong, or the time was altered",
            decision.received_at,
            time::format(checks.now),
            checks.clock_skew
        )));
    }
    // The token was valid when the customer pressed the button, if it was
    // valid when the collector received it.
    let claims = match checks.verifier.verify(&decision.token, received) {
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
    // A withdrawal is pressed on the withdrawal page, not the consent page.
    let page = match claims.decision {
        Decision::Withdraw => notices::withdrawal_page_of(conn, claims.request_id)?,
        Decision::Approve | Decision::Decline => request.page_id.clone(),
    };
    if let Err(reason) = check_request(
        &request,
        page.as_deref(),
        &claims,
        received,
        checks,
        expiry_days,
    ) {
        return Ok(Err(reason));
    }
    let at = decision.received_at.clone();
    Ok(Ok(match claims.decision {
        Decision::Approve => Accepted {
            request_id: claims.request_id,
            customer: request.customer_id,
            decision: Decision::Approve,
            evidence: serde_json::json!({
                "via": "consent page",
                "decision": "approve",
                "received_at": at,
                "applied_at": time::format(checks.now),
                "text_sha256": hex(&claims.text_hash),
                "token": decision.token,
            })
            .to_string(),
            at,
        },
        decision @ (Decision::Decline | Decision::Withdraw) => Accepted {
            request_id: claims.request_id,
            customer: request.customer_id,
            decision,
            evidence: String::new(),
            at,
        },
    }))
}

/// Whether a genuine token's decision, received at `received`, applies to
/// the request it names; `page` is the page that decision is pressed on
/// (the request's consent page, or its withdrawal page).
fn check_request(
    request: &RequestState,
    page: Option<&str>,
    claims: &Claims,
    received: UnixSeconds,
    checks: &Checks<'_>,
    expiry_days: i64,
) -> Result<(), String> {
    let id = claims.request_id;
    let same_page = page.is_some_and(|page| PageBinding::of(page) == claims.page);
    if !same_page {
        return Err(format!(
            "the token was made for another page than request {id}'s (another register, \
             or the page id was changed)"
        ));
    }
    if !request.current {
        return Err(format!(
            "request {id} is no longer the customer's current request (asked again since)"
        ));
    }
    let text = hex(&claims.text_hash);
    if request.text_hash.as_deref() != Some(text.as_str()) {
        return Err(format!(
            "the token binds the text {}, but request {id}'s page was made with the text {}",
            &text[..12],
            request
                .text_hash
                .as_deref()
                .map_or("(none)", |h| h.get(..12).unwrap_or(h))
        ));
    }
    let applies = match claims.decision {
        Decision::Approve => request.status == Status::Sent,
        Decision::Decline => matches!(request.status, Status::Sent | Status::Approved),
        Decision::Withdraw => request.status == Status::Approved,
    };
    if !applies {
        return Err(format!(
            "request {id} is '{}', so a '{}' no longer applies (already decided, or not sent yet)",
            request.status,
            claims.decision.as_str()
        ));
    }
    let Some(sent) = request.sent_at else {
        return Err(format!("request {id} has no time it was sent"));
    };
    if received < sent - checks.clock_skew {
        return Err(format!(
            "received at {}, before request {id} was sent ({}), beyond the allowed clock skew \
             of {} s: the time was altered",
            time::format(received),
            time::format(sent),
            checks.clock_skew
        ));
    }
    let window_closed = sent + expiry_days * 86_400;
    if claims.decision == Decision::Approve && received >= window_closed {
        return Err(format!(
            "received at {}, after the consent window of request {id} closed ({}): \
             no answer within {expiry_days} days counts as no",
            time::format(received),
            time::format(window_closed)
        ));
    }
    Ok(())
}
