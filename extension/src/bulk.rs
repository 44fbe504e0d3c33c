//! The set-based functions: `consent_queue_all` and `consent_expire`, one
//! statement each over the whole register, so a DBA needs no transaction.

use rusqlite::types::Value;
use rusqlite::{params, Connection, Statement};

use crate::error::{ConsentError, InFunction, Result};
use crate::settings;
use crate::setup::{self, ConnState};
use crate::status::{Language, Status};
use crate::time::{self, UnixSeconds};
use crate::transitions::unreachable_reason;

const QUEUE_ALL: &str = "consent_queue_all";

/// `consent_queue_all([status [, at]])`: every customer in `from` is queued
/// or set to error exactly as `consent_queue` would. Returns how many were
/// queued.
pub fn queue_all(conn: &Connection, state: &ConnState, from: &str, at: UnixSeconds) -> Result<i64> {
    let from: Status = from.parse().map_err(|()| {
        let all: Vec<_> = Status::ALL.iter().map(|s| format!("'{s}'")).collect();
        ConsentError::bad_argument(
            QUEUE_ALL,
            format!("unknown status '{from}'; pass one of {}", all.join(", ")),
        )
    })?;
    if !matches!(from, Status::Missing | Status::Denied | Status::Error) {
        // consent_queue leaves queued, sent and approved customers as they are.
        return Ok(0);
    }
    let setup = state.setup(conn, QUEUE_ALL)?;
    let sms_enabled = settings::stored(conn, "sms_enabled")
        .in_function(QUEUE_ALL)?
        .as_deref()
        == Some("1");
    let language = settings::language(conn).in_function(QUEUE_ALL)?;
    let info_text_set = settings::stored(conn, "info_text")
        .in_function(QUEUE_ALL)?
        .is_some();

    let (email, mobile) = setup.contact_sql("c");
    let reachable = format!("({email} OR ({mobile} AND ?1 = 1))");
    let id = crate::error::quote_identifier(&setup.id_column);
    let table = setup.quoted_table();
    // Which customers are in `from`: none of their requests exist, or their
    // newest one is in that status. A row without an id (a UNIQUE column
    // allows NULLs) cannot be addressed by any function and is left out. An error that would stay an error is
    // left alone, as consent_queue leaves it.
    let source = match from {
        Status::Missing => format!(
            "FROM {table} AS c WHERE c.{id} IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM main.consent_request AS r WHERE r.customer_id = c.{id})"
        ),
        _ => format!(
            "FROM {table} AS c JOIN main.consent_request AS r \
               ON r.id = (SELECT id FROM main.consent_request WHERE customer_id = c.{id} ORDER BY supersedes DESC LIMIT 1) \
             WHERE r.status = ?5{}",
            if from == Status::Error { format!(" AND {reachable}") } else { String::new() }
        ),
    };
    let (no_sms, nothing) = reasons(language);
    // ?1 sms_enabled, ?2 and ?3 the reasons, ?4 the time, ?5 the status.
    let values: [Value; 5] = [
        Value::Integer(sms_enabled.into()),
        Value::Text(no_sms.to_owned()),
        Value::Text(nothing.to_owned()),
        Value::Text(time::format(at)),
        Value::Text(from.as_str().to_owned()),
    ];
    // A renamed or dropped table or column may surface at prepare or at
    // step (when SQLite notices the schema changed): name it either way.
    let explain = |e: rusqlite::Error| {
        state.forget();
        setup::diagnose(conn, &setup, QUEUE_ALL).unwrap_or(ConsentError::Sqlite {
            function: QUEUE_ALL,
            source: e,
        })
    };
    let prepare = |sql: &str| conn.prepare(sql).map_err(explain);

    if !info_text_set {
        let mut count = prepare(&format!("SELECT count(*) {source} AND {reachable}"))?;
        bind(&mut count, &values).in_function(QUEUE_ALL)?;
        let would_queue: i64 = match count.raw_query().next().map_err(explain)? {
            Some(row) => row.get(0).in_function(QUEUE_ALL)?,
            None => 0,
        };
        if would_queue > 0 {
            return Err(ConsentError::bad_argument(
                QUEUE_ALL,
                format!(
                    "the information text is not set, so {would_queue} {} cannot be queued; \
                     set it first with consent_setting('info_text', 'your text')",
                    if would_queue == 1 {
                        "customer"
                    } else {
                        "customers"
                    }
                ),
            ));
        }
    }

    let before: i64 = conn
        .query_row(
            "SELECT coalesce(max(id), 0) FROM main.consent_request",
            [],
            |r| r.get(0),
        )
        .in_function(QUEUE_ALL)?;
    let supersedes = if from == Status::Missing { "0" } else { "r.id" };
    let reason = format!("CASE WHEN {reachable} THEN NULL WHEN {mobile} THEN ?2 ELSE ?3 END");
    let mut insert = prepare(&format!(
        "INSERT INTO main.consent_request \
           (customer_id, supersedes, status, prev_status, reason, actor, detail, created_at, updated_at) \
         SELECT c.{id}, {supersedes}, CASE WHEN {reachable} THEN 'queued' ELSE 'error' END, '{from}', \
                {reason}, 'consent_queue_all', {reason}, ?4, ?4 {source}"
    ))?;
    bind(&mut insert, &values).in_function(QUEUE_ALL)?;
    insert.raw_execute().map_err(explain)?;
    conn.query_row(
        "SELECT count(*) FROM main.consent_request WHERE id > ?1 AND status = 'queued'",
        [before],
        |r| r.get(0),
    )
    .in_function(QUEUE_ALL)
}

/// Binds the numbered parameters the statement uses (SQL that leaves out
/// the highest numbers has fewer).
fn bind(stmt: &mut Statement<'_>, values: &[Value]) -> rusqlite::Result<()> {
    for (index, value) in values.iter().enumerate().take(stmt.parameter_count()) {
        stmt.raw_bind_parameter(index + 1, value)?;
    }
    Ok(())
}

/// The two reasons a customer cannot be reached: no e-mail and SMS off; no
/// e-mail and no mobile number.
fn reasons(language: Language) -> (&'static str, &'static str) {
    (
        unreachable_reason(false, true, false, language).unwrap_or_default(),
        unreachable_reason(false, false, false, language).unwrap_or_default(),
    )
}

const EXPIRE: &str = "consent_expire";

/// `consent_expire([now])`: every request sent at least `expiry_days` before
/// `now` becomes denied. Returns how many.
pub fn expire(conn: &Connection, state: &ConnState, now: UnixSeconds) -> Result<i64> {
    state.setup(conn, EXPIRE)?;
    let days = settings::expiry_days(conn).in_function(EXPIRE)?;
    let cutoff = time::format(now - days * 86_400);
    let detail = match settings::language(conn).in_function(EXPIRE)? {
        Language::Sv if days == 1 => "inget svar inom 1 dag".to_owned(),
        Language::Sv => format!("inget svar inom {days} dagar"),
        Language::En if days == 1 => "no answer within 1 day".to_owned(),
        Language::En => format!("no answer within {days} days"),
    };
    let changed = conn
        .prepare(
            "UPDATE main.consent_request SET status = 'denied', reason = 'expired', \
             actor = 'consent_expire', detail = ?3, decided_at = ?2, updated_at = ?2 \
             WHERE status = 'sent' AND sent_at <= ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![cutoff, time::format(now), detail]))
        .in_function(EXPIRE)?;
    Ok(changed as i64)
}
