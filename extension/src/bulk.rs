//! The set-based functions: `consent_queue_all` and `consent_expire`, one
//! statement each over the whole register, so a DBA needs no transaction.

use rusqlite::types::Value;
use rusqlite::{params, Connection, Statement};

use crate::args::Args;
use crate::channel::{unreachable_reasons, RouteSql};
use crate::error::{ConsentError, InFunction, Result};
use crate::language::Language;
use crate::quoting::quote_identifier;
use crate::requests::newest_request_sql;
use crate::settings;
use crate::setup::{self, ConnState};
use crate::status::Status;
use crate::time::{self, UnixSeconds};

const QUEUE_ALL: &str = "consent_queue_all";

// consent_queue_all([status [, at]])
pub(crate) fn sql_queue_all(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let from = match a.optional_text(0)? {
        Some(word) => Status::parse_argument(QUEUE_ALL, &word)?,
        None => Status::Missing,
    };
    queue_all(conn, state, from, a.at(1)?).map(Value::Integer)
}

/// Every customer in `from` is queued or set to error exactly as
/// `consent_queue` would. Returns how many were queued.
fn queue_all(conn: &Connection, state: &ConnState, from: Status, at: UnixSeconds) -> Result<i64> {
    if !matches!(from, Status::Missing | Status::Denied | Status::Error) {
        // consent_queue leaves queued, sent and approved customers as they are.
        return Ok(0);
    }
    let setup = state.setup(conn, QUEUE_ALL)?;
    let settings = settings::Settings::read(conn).in_function(QUEUE_ALL)?;
    // ?1 sms_enabled, ?2 and ?3 the reasons, ?4 the time, ?5 the status.
    let route = RouteSql::new(
        "c",
        &setup.email_column,
        &setup.mobile_column,
        "?1",
        "?2",
        "?3",
    );
    let reachable = &route.reachable;
    let reason = &route.reason;
    let id = quote_identifier(&setup.id_column);
    let table = setup.quoted_table();
    // Which customers are in `from`: none of their requests exist, or their
    // newest one is in that status. A row without an id (a UNIQUE column
    // allows NULLs) cannot be addressed by any function and is left out. An
    // error that would stay an error for the reason it records is left
    // alone, as consent_queue leaves it; one whose reason is no longer
    // true gets a new error request with the reason that holds now.
    let source = match from {
        Status::Missing => format!(
            "FROM {table} AS c WHERE c.{id} IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM main.consent_request AS r WHERE r.customer_id = c.{id})"
        ),
        _ => format!(
            "FROM {table} AS c JOIN main.consent_request AS r ON r.id = {newest} \
             WHERE r.status = ?5{}",
            if from == Status::Error {
                format!(" AND ({reachable} OR r.reason IS NOT ({reason}))")
            } else {
                String::new()
            },
            newest = newest_request_sql(&format!("c.{id}")),
        ),
    };
    let (no_sms, nothing) = unreachable_reasons(settings.language);
    let values: [Value; 5] = [
        Value::Integer(settings.sms_enabled.into()),
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

    if settings.info_text.is_none() {
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

const EXPIRE: &str = "consent_expire";

// consent_expire([now])
pub(crate) fn sql_expire(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    expire(conn, state, a.at(0)?).map(Value::Integer)
}

/// Every request sent at least `expiry_days` before `now` becomes denied.
/// Returns how many.
fn expire(conn: &Connection, state: &ConnState, now: UnixSeconds) -> Result<i64> {
    state.setup(conn, EXPIRE)?;
    let settings = settings::Settings::read(conn).in_function(EXPIRE)?;
    let days = settings.expiry_days;
    let cutoff = time::format(now - days * 86_400);
    let detail = match (settings.language, days) {
        (Language::Sv, 1) => "inget svar inom 1 dag".to_owned(),
        (Language::Sv, _) => format!("inget svar inom {days} dagar"),
        (Language::En, 1) => "no answer within 1 day".to_owned(),
        (Language::En, _) => format!("no answer within {days} days"),
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
