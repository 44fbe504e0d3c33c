//! `consent_forget(id [, at])`: GDPR erasure that keeps the proof.
//!
//! What the consent tables hold that identifies a person beyond the proof
//! of their consent is erased: every request's page id (a secret link),
//! reason and detail (an error reason can quote the address or a mail
//! server's reply echoing it), every notice's withdrawal page id and error,
//! and the detail of every event written in canonical form v2. What proves
//! the consent stays: the customer id that ties the rows to the register,
//! statuses, times, channels, text hashes, the evidence (a signed token, or
//! `manual`), and the chain, whose hashes and head do not change (see
//! `log.rs`: a v2 event's hash covers its detail's commitment, which is
//! kept in `detail_sha256`).
//!
//! Nothing is appended to the log: no status changes, and the erasure time
//! is recorded in each erased request and event (`erased_at`). Events
//! written before schema version 5 (form 1) hash their detail itself and
//! are left as they are; the result says how many.
//!
//! A customer whose request is queued or sent is refused: erasing the page
//! id of a pending request would leave a link that can never be answered.
//! Revoke first.

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use crate::args::Args;
use crate::customer;
use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::show_value;
use crate::setup::ConnState;
use crate::status::Status;
use crate::time;

/// What an erased notice's `error` says: a notice that failed, or that
/// was never sent, stays out of the sending queue, without the reason
/// (which could quote the address).
pub const NOTICE_ERASED: &str = "erased (consent_forget)";

/// What one call erased, and what it had to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Erased {
    /// Requests whose page id, reason or detail this call erased.
    pub requests: usize,
    /// Notices whose page id or error this call erased.
    pub notices: usize,
    /// Events (form 2) whose detail this call erased.
    pub events: usize,
    /// Events written before schema version 5 (form 1) that still hold a
    /// detail: their hash covers the detail itself, so it stays.
    pub events_kept: i64,
    /// Commands already taken (`consent_command`) deleted: a note or a
    /// refusal can quote the person, and the log holds what they did.
    pub commands: usize,
}

impl Erased {
    /// The call's result: one JSON object.
    pub fn json(&self) -> String {
        format!(
            "{{\"requests_erased\":{},\"notices_erased\":{},\"events_erased\":{},\"events_kept\":{},\"commands_deleted\":{}}}",
            self.requests, self.notices, self.events, self.events_kept, self.commands
        )
    }
}

// consent_forget(id [, at])
pub(crate) fn sql_forget(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let function = a.function();
    let id = a.customer_id(0)?;
    let at = time::format(a.at(1)?);
    let customer = customer::find(conn, state, function, &id)?;
    let status = customer.status();
    if matches!(status, Status::Queued | Status::Sent) {
        return Err(ConsentError::IllegalTransition {
            function,
            id: show_value((&customer.id).into()),
            status: status.as_str(),
            what: "erasing the page of a pending request would leave a link that can never be \
                   answered; revoke first: consent_revoke(id, 'erasure requested'), then call \
                   consent_forget(id)",
        });
    }
    // One savepoint: all of it or nothing. The look-up above and these
    // writes run in the calling statement's transaction, so no other
    // connection can queue the customer in between.
    conn.execute_batch("SAVEPOINT consent_forget")
        .in_function(function)?;
    let erased = erase(conn, &customer.id, &at);
    let ended = match &erased {
        Ok(_) => conn.execute_batch("RELEASE consent_forget"),
        Err(_) => conn.execute_batch("ROLLBACK TO consent_forget; RELEASE consent_forget"),
    };
    let erased = erased.in_function(function)?;
    ended.in_function(function)?;
    Ok(Value::Text(erased.json()))
}

/// The writes of one call, for the customer whose id is `id` as the
/// billing table stores it.
fn erase(conn: &Connection, id: &Value, at: &str) -> rusqlite::Result<Erased> {
    // Events first: the exact shape the schema admits (migration 5,
    // consent_event_no_update). SET reads the row as it was, so
    // detail_sha256 is the commitment of the detail being erased.
    let events = conn
        .prepare_cached(
            "UPDATE main.consent_event \
             SET detail = NULL, detail_sha256 = consent_event_detail_sha256(detail), erased_at = ?2 \
             WHERE customer_id = ?1 AND form = 2 AND detail IS NOT NULL AND erased_at IS NULL",
        )?
        .execute(params![id, at])?;
    let events_kept: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM main.consent_event \
             WHERE customer_id = ?1 AND (form IS NULL OR form = 1) AND detail IS NOT NULL",
        )?
        .query_row([id], |r| r.get(0))?;
    // A notice that was sent keeps error NULL; one that failed or was never
    // sent gets the fixed text, so that it stays failed and is not sent.
    let notices = conn
        .prepare_cached(
            "UPDATE main.consent_notice \
             SET page_id = NULL, \
                 error = CASE WHEN sent_at IS NOT NULL AND error IS NULL THEN NULL ELSE ?2 END \
             WHERE request_id IN (SELECT id FROM main.consent_request WHERE customer_id = ?1) \
               AND (page_id IS NOT NULL \
                    OR (error IS NOT NULL AND error IS NOT ?2) \
                    OR (sent_at IS NULL AND error IS NULL))",
        )?
        .execute(params![id, NOTICE_ERASED])?;
    // Never a pending request (checked above; the condition holds it).
    let requests = conn
        .prepare_cached(
            "UPDATE main.consent_request \
             SET page_id = NULL, reason = NULL, detail = NULL, erased_at = ?2 \
             WHERE customer_id = ?1 AND status <> 'queued' AND status <> 'sent' \
               AND (page_id IS NOT NULL OR reason IS NOT NULL OR detail IS NOT NULL)",
        )?
        .execute(params![id, at])?;
    // A pending command stays: it is the billing application's, still to
    // be applied.
    let commands = conn
        .prepare_cached(
            "DELETE FROM main.consent_command WHERE customer_id = ?1 AND outcome IS NOT NULL",
        )?
        .execute([id])?;
    Ok(Erased {
        requests,
        notices,
        events,
        events_kept,
        commands,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use rusqlite::Connection;

    use crate::init::{init_to, InitRequest};
    use crate::log::{self, Verdict};
    use crate::schema::{self, SCHEMA_VERSION};
    use crate::setup::ConnState;

    const CUSTOMERS: &str = "
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);
        INSERT INTO customers (id, name, email, mobile) VALUES
          (1, 'Anna Andersson', 'anna@example.se', NULL),
          (2, 'Bo Berg', 'bo@example.se', NULL);";

    const REQUEST: InitRequest<'static> = InitRequest {
        table: "customers",
        id_column: "id",
        email_column: "email",
        mobile_column: "mobile",
        name_column: Some("name"),
        language_column: None,
    };

    fn text(conn: &Connection, sql: &str) -> String {
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn int(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn dump(conn: &Connection) -> Vec<Vec<Value>> {
        let mut stmt = conn
            .prepare("SELECT * FROM consent_event ORDER BY id")
            .expect("events");
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .expect("events");
        rows.collect::<rusqlite::Result<_>>().expect("events")
    }

    /// A register of the current version: Anna sent and failed with a
    /// reason, so that her events hold details.
    fn register_with_history() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(CUSTOMERS).expect("customers");
        crate::register(&conn).expect("register");
        for sql in [
            "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
            "SELECT consent_setting('info_text', 'Vi sparar din e-post.')",
            "SELECT consent_queue(1, '2026-01-01')",
            "SELECT consent_mark_sent(1, 'email', 'q3Zx8mB1vR7tK2wYp0LdNg', '2026-01-02')",
            "SELECT consent_mark_error(1, '550 <anna@example.se> unknown', '2026-01-03')",
        ] {
            text(&conn, sql);
        }
        conn
    }

    /// Inside the extension's own code, the schema admits an UPDATE of
    /// consent_event in exactly consent_forget's shape, and nothing else.
    #[test]
    fn only_the_exact_erasure_passes_the_schema() {
        let conn = register_with_history();
        let event = int(
            &conn,
            "SELECT id FROM consent_event WHERE detail LIKE '550%'",
        );
        let other = int(&conn, "SELECT id FROM consent_event WHERE detail = 'email'");
        let commitment = text(
            &conn,
            &format!(
                "SELECT consent_event_detail_sha256(detail) FROM consent_event WHERE id = {event}"
            ),
        );
        let wrong = "0".repeat(64);
        let erase = |set: &str, id: i64| {
            format!(
                "UPDATE consent_event SET detail = NULL, detail_sha256 = '{commitment}', \
                 erased_at = '2026-02-01T00:00:00Z'{set} WHERE id = {id}"
            )
        };
        let refused = [
            // Not the commitment of the detail it erases.
            format!(
                "UPDATE consent_event SET detail = NULL, detail_sha256 = '{wrong}', \
                 erased_at = '2026-02-01T00:00:00Z' WHERE id = {event}"
            ),
            // Another row's commitment.
            erase("", other),
            // Without the time, or without the commitment.
            format!("UPDATE consent_event SET detail = NULL, detail_sha256 = '{commitment}' WHERE id = {event}"),
            format!("UPDATE consent_event SET detail = NULL, erased_at = '2026-02-01' WHERE id = {event}"),
            // A detail replaced rather than erased.
            format!(
                "UPDATE consent_event SET detail = 'manual', detail_sha256 = '{commitment}', \
                 erased_at = '2026-02-01' WHERE id = {event}"
            ),
            // Anything else changed with it.
            erase(", actor = 'consent_approve'", event),
            erase(", to_status = 'approved'", event),
            erase(", at = '2026-01-04T00:00:00Z'", event),
            erase(", customer_id = 2", event),
            erase(", request_id = 99", event),
            erase(", from_status = 'queued'", event),
            erase(", hash = NULL", event),
            erase(", form = 1", event),
            erase(", id = 99", event),
            // Any other update at all.
            format!("UPDATE consent_event SET actor = 'x' WHERE id = {event}"),
        ];
        let before = dump(&conn);
        for sql in &refused {
            let e = crate::guard::allow(|| conn.execute(sql, []))
                .map(|n| format!("(accepted, {n} rows)"))
                .unwrap_or_else(|e| e.to_string());
            assert!(
                e.contains("consent_event is append-only"),
                "{sql}\n  gave: {e}"
            );
        }
        assert_eq!(dump(&conn), before, "a refused update changes nothing");

        // The exact shape passes, once: an erased row cannot be erased
        // again with another time or commitment.
        assert_eq!(
            crate::guard::allow(|| conn.execute(&erase("", event), [])).expect("the erasure"),
            1
        );
        assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
        for sql in [
            format!("UPDATE consent_event SET erased_at = '2027-01-01' WHERE id = {event}"),
            format!("UPDATE consent_event SET detail_sha256 = '{wrong}' WHERE id = {event}"),
            erase("", event),
        ] {
            let e = crate::guard::allow(|| conn.execute(&sql, []))
                .map(|n| format!("(accepted, {n} rows)"))
                .unwrap_or_else(|e| e.to_string());
            assert!(
                e.contains("consent_event is append-only"),
                "{sql}\n  gave: {e}"
            );
        }
    }

    /// A register that had events before schema version 5: their form 1
    /// hash covers the detail itself, so consent_forget leaves it, says how
    /// many it kept, and the chain still verifies with its head in place.
    #[test]
    fn events_from_before_version_5_are_kept_and_counted() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(CUSTOMERS).expect("customers");
        crate::register(&conn).expect("register");
        init_to(&conn, &ConnState::default(), &REQUEST, 4).expect("init at version 4");
        assert_eq!(schema::current_version(&conn).expect("version"), 4);
        // What the functions of that release wrote: its triggers chained
        // the events in form 1.
        crate::guard::allow(|| {
            conn.execute_batch(
                "INSERT INTO consent_request (customer_id, supersedes, status, prev_status, actor, created_at, updated_at)
                   VALUES (1, 0, 'queued', 'missing', 'consent_queue', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                 UPDATE consent_request SET status = 'sent', channel = 'email', page_id = 'q3Zx8mB1vR7tK2wYp0LdNg',
                   actor = 'consent_mark_sent', detail = 'email', sent_at = '2026-01-01T01:00:00Z',
                   updated_at = '2026-01-01T01:00:00Z' WHERE customer_id = 1;
                 UPDATE consent_request SET status = 'error', reason = '550 <anna@example.se> unknown',
                   actor = 'consent_mark_error', detail = '550 <anna@example.se> unknown',
                   updated_at = '2026-01-02T00:00:00Z' WHERE customer_id = 1;",
            )
        })
        .expect("a version-4 history");
        assert_eq!(
            int(
                &conn,
                "SELECT count(*) FROM consent_event WHERE detail IS NOT NULL"
            ),
            2
        );

        let init = "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')";
        assert_eq!(text(&conn, init), "ok");
        assert_eq!(
            schema::current_version(&conn).expect("version"),
            SCHEMA_VERSION
        );
        assert_eq!(
            int(
                &conn,
                "SELECT count(*) FROM consent_event WHERE form IS NULL"
            ),
            3,
            "the old events stay in form 1"
        );
        // The chain goes on in form 2.
        text(
            &conn,
            "SELECT consent_setting('info_text', 'Vi sparar din e-post.')",
        );
        assert_eq!(
            text(&conn, "SELECT consent_queue(1, '2026-01-05')"),
            "queued"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT consent_revoke(1, 'kunden ringde', '2026-01-06')"
            ),
            "denied"
        );
        assert_eq!(
            int(&conn, "SELECT count(*) FROM consent_event WHERE form = 2"),
            2
        );
        assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
        let head = log::head(&conn).expect("head");

        assert_eq!(
            text(&conn, "SELECT consent_forget(1, '2026-02-01')"),
            r#"{"requests_erased":2,"notices_erased":0,"events_erased":1,"events_kept":2,"commands_deleted":0}"#
        );
        assert_eq!(
            int(
                &conn,
                "SELECT count(*) FROM consent_event WHERE form IS NULL AND detail IS NOT NULL"
            ),
            2,
            "the form 1 details are there"
        );
        assert_eq!(
            int(&conn, "SELECT count(*) FROM consent_request WHERE reason IS NOT NULL OR page_id IS NOT NULL"),
            0,
            "the requests are erased whatever the form of their events"
        );
        assert_eq!(log::verify(&conn).expect("verify"), Verdict::Ok);
        assert_eq!(log::head(&conn).expect("head"), head);
        // Again: nothing more erased, the same kept.
        assert_eq!(
            text(&conn, "SELECT consent_forget(1, '2026-02-02')"),
            r#"{"requests_erased":0,"notices_erased":0,"events_erased":0,"events_kept":2,"commands_deleted":0}"#
        );
        // The schema refuses to erase a form 1 row even to the extension.
        let e = crate::guard::allow(|| {
            conn.execute(
                "UPDATE consent_event SET detail = NULL, \
                 detail_sha256 = consent_event_detail_sha256(detail), erased_at = '2026-02-01' \
                 WHERE form IS NULL AND detail IS NOT NULL",
                [],
            )
        })
        .expect_err("a form 1 row erased");
        assert!(e.to_string().contains("append-only"), "{e}");
    }
}
