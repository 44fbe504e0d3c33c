//! Every transition of the state machine, allowed, no-op and refused, on a
//! bundled SQLite connection, with the audit rows each writes.

use consent_extension::register;
use consent_testkit::sample::{SetUp, CUSTOMERS};
use consent_testkit::sql::{self, error, int as count, text as one};
use rusqlite::{Connection, OptionalExtension};

const T0: &str = "2026-11-02T09:00:00Z";

/// A billing register with the four kinds of customer: e-mail only (1),
/// mobile only (2), neither (3), both (4); plus blank and numeric contacts.
fn register_db() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    conn.execute_batch(
        "INSERT INTO customers VALUES (5, 'Eva Ek', '   ', ''), (6, 'Filip Falk', NULL, 46701234567);",
    )
    .expect("blank and numeric contacts");
    register(&conn).expect("register");
    SetUp::customers().apply(&conn);
    conn
}

fn plan(conn: &Connection, sql: &str) -> String {
    let details: Vec<String> =
        sql::rows(conn, &format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3));
    details.join(" / ")
}

/// (from, to, actor) of every audit row for a customer, oldest first.
fn events(conn: &Connection, id: i64) -> Vec<(String, String, String)> {
    sql::rows(
        conn,
        "SELECT from_status, to_status, actor FROM consent_event WHERE customer_id = ?1 ORDER BY id",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// A snapshot of everything the functions may write.
fn snapshot(conn: &Connection) -> (i64, i64, String) {
    (
        count(conn, "SELECT count(*) FROM consent_request"),
        count(conn, "SELECT count(*) FROM consent_event"),
        one(
            conn,
            "SELECT coalesce(group_concat(id || status || updated_at), '') FROM consent_request",
        ),
    )
}

const STATUSES: [&str; 6] = ["missing", "queued", "sent", "approved", "denied", "error"];

/// Drives customer `id` (who has an e-mail address) into `status`.
fn reach(conn: &Connection, id: i64, status: &str) {
    let steps: &[&str] = match status {
        "missing" => &[],
        "queued" => &["consent_queue({id}, '2026-11-01')"],
        "sent" => &[
            "consent_queue({id}, '2026-11-01')",
            "consent_mark_sent({id}, 'email', NULL, '2026-11-01')",
        ],
        "approved" => &[
            "consent_queue({id}, '2026-11-01')",
            "consent_approve({id}, NULL, '2026-11-01')",
        ],
        "denied" => &[
            "consent_queue({id}, '2026-11-01')",
            "consent_revoke({id}, NULL, '2026-11-01')",
        ],
        "error" => &[
            "consent_queue({id}, '2026-11-01')",
            "consent_mark_error({id}, 'bounced', '2026-11-01')",
        ],
        other => panic!("unknown status {other}"),
    };
    for step in steps {
        one(
            conn,
            &format!("SELECT {}", step.replace("{id}", &id.to_string())),
        );
    }
    assert_eq!(one(conn, &format!("SELECT consent_status({id})")), status);
}

enum Expect {
    /// The status after, and whether a new request row is made.
    Becomes(&'static str, bool),
    Unchanged,
    Refused(&'static str),
}

fn check(op: &str, from: &str, expect: Expect) {
    let conn = register_db();
    reach(&conn, 1, from);
    let before = snapshot(&conn);
    let events_before = events(&conn, 1).len();
    let sql = format!("SELECT {}", op.replace("{id}", "1"));
    let case = format!("{op} from {from}");
    match expect {
        Expect::Becomes(to, new_request) => {
            assert_eq!(one(&conn, &sql), to, "{case}");
            assert_eq!(one(&conn, "SELECT consent_status(1)"), to, "{case}");
            let after = snapshot(&conn);
            assert_eq!(
                after.0 - before.0,
                i64::from(new_request),
                "{case}: request rows"
            );
            let log = events(&conn, 1);
            assert_eq!(
                log.len(),
                events_before + 1,
                "{case}: exactly one audit row"
            );
            let last = log.last().expect("an event");
            assert_eq!(
                (last.0.as_str(), last.1.as_str()),
                (from, to),
                "{case}: audit row"
            );
            let function = op.split('(').next().expect("name");
            assert_eq!(last.2, function, "{case}: actor");
        }
        Expect::Unchanged => {
            assert_eq!(one(&conn, &sql), from, "{case} returns the status");
            assert_eq!(snapshot(&conn), before, "{case} writes nothing");
        }
        Expect::Refused(message) => {
            let e = error(&conn, &sql);
            assert!(e.contains(message), "{case}: {e}");
            assert_eq!(snapshot(&conn), before, "{case} changes no row");
        }
    }
}

/// [`check`]s `op` from each status, expecting what `expect` says.
fn from_every_status(op: &str, expect: impl Fn(&str) -> Expect) {
    for from in STATUSES {
        check(op, from, expect(from));
    }
}

#[test]
fn queue_from_every_status() {
    from_every_status("consent_queue({id}, '2026-11-02')", |from| match from {
        "missing" | "denied" | "error" => Expect::Becomes("queued", true),
        _ => Expect::Unchanged,
    });
}

#[test]
fn approve_from_every_status() {
    from_every_status(
        "consent_approve({id}, 'signed:abc', '2026-11-02')",
        |from| match from {
            "queued" | "sent" => Expect::Becomes("approved", false),
            "missing" | "denied" | "error" => Expect::Becomes("approved", true),
            _ => Expect::Unchanged,
        },
    );
}

#[test]
fn revoke_from_every_status() {
    from_every_status(
        "consent_revoke({id}, 'declined', '2026-11-02')",
        |from| match from {
            "queued" | "sent" | "approved" => Expect::Becomes("denied", false),
            _ => Expect::Unchanged,
        },
    );
}

#[test]
fn mark_sent_from_every_status() {
    from_every_status(
        "consent_mark_sent({id}, 'email', 'AAAAAAAAAAAAAAAAAAAAAA', '2026-11-02')",
        |from| match from {
            "queued" => Expect::Becomes("sent", false),
            _ => Expect::Refused("only a queued request can be marked sent"),
        },
    );
}

#[test]
fn mark_error_from_every_status() {
    from_every_status(
        "consent_mark_error({id}, 'mailbox full', '2026-11-02')",
        |from| match from {
            "queued" | "sent" => Expect::Becomes("error", false),
            _ => Expect::Refused("only a queued or sent request can be marked as failed"),
        },
    );
}

#[test]
fn status_reads_and_writes_nothing() {
    from_every_status("consent_status({id})", |_| Expect::Unchanged);
}

#[test]
fn queue_chooses_by_contact_details_and_sms_subscription() {
    let conn = register_db();
    assert_eq!(
        one(&conn, "SELECT consent_queue(1)"),
        "queued",
        "e-mail only"
    );
    assert_eq!(
        one(&conn, "SELECT consent_queue(2)"),
        "error",
        "mobile only, no SMS"
    );
    assert_eq!(one(&conn, "SELECT consent_queue(3)"), "error", "neither");
    assert_eq!(one(&conn, "SELECT consent_queue(4)"), "queued", "both");
    assert_eq!(
        one(&conn, "SELECT consent_queue(5)"),
        "error",
        "blank strings count as absent"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT reason FROM consent_overview WHERE customer_id = 2"
        ),
        "Kunden saknar e-postadress, och SMS är inte aktiverat (sms_enabled = 0)"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT reason FROM consent_overview WHERE customer_id = 3"
        ),
        "Kunden saknar både e-postadress och mobilnummer"
    );
    // Still unreachable: an error stays an error and writes nothing.
    let before = snapshot(&conn);
    assert_eq!(one(&conn, "SELECT consent_queue(3)"), "error");
    assert_eq!(snapshot(&conn), before);
    // With the SMS subscription, a mobile number (text or integer) suffices.
    one(&conn, "SELECT consent_setting('sms_enabled', 1)");
    assert_eq!(one(&conn, "SELECT consent_queue(2)"), "queued");
    assert_eq!(one(&conn, "SELECT consent_queue(6)"), "queued");
    assert_eq!(events(&conn, 2).last().expect("event").0, "error");
    // English reasons when the register is in English.
    one(&conn, "SELECT consent_setting('language', 'en')");
    conn.execute("UPDATE customers SET mobile = NULL WHERE id = 4", [])
        .expect("update");
    one(&conn, "SELECT consent_revoke(4)");
    one(&conn, "SELECT consent_setting('sms_enabled', 0)");
    conn.execute("UPDATE customers SET email = NULL WHERE id = 4", [])
        .expect("update");
    assert_eq!(one(&conn, "SELECT consent_queue(4)"), "error");
    assert_eq!(
        one(
            &conn,
            "SELECT reason FROM consent_overview WHERE customer_id = 4"
        ),
        "The customer has neither an e-mail address nor a mobile number"
    );
}

#[test]
fn queue_needs_the_information_text_only_when_it_would_queue() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT);
         INSERT INTO customers VALUES (1, 'a@example.se', NULL), (2, NULL, NULL);",
    )
    .expect("fixture");
    register(&conn).expect("register");
    one(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile')",
    );
    let e = error(&conn, "SELECT consent_queue(1)");
    assert!(
        e.contains("consent_queue") && e.contains("info_text") && e.contains("customer 1"),
        "{e}"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM consent_request"),
        0,
        "nothing half-applied"
    );
    assert_eq!(
        one(&conn, "SELECT consent_queue(2)"),
        "error",
        "unreachable needs no text"
    );
    let e = error(&conn, "SELECT consent_queue_all('missing')");
    assert!(e.contains("1 customer cannot be queued"), "{e}");
}

#[test]
fn approval_and_revocation_keep_their_evidence() {
    let conn = register_db();
    one(&conn, &format!("SELECT consent_queue(1, '{T0}')"));
    one(
        &conn,
        "SELECT consent_mark_sent(1, 'email', 'pAgE_iD-0123456789abcd', 1762074000)",
    );
    one(
        &conn,
        "SELECT consent_approve(1, 'token:v1.abc', '2026-11-03T10:00:00+01:00')",
    );
    let row: (String, String, String, String, String) = conn
        .query_row(
            "SELECT channel, page_id, evidence, sent_at, decided_at FROM consent_request WHERE customer_id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("row");
    assert_eq!(
        row,
        (
            "email".into(),
            "pAgE_iD-0123456789abcd".into(),
            "token:v1.abc".into(),
            "2025-11-02T09:00:00Z".into(),
            "2026-11-03T09:00:00Z".into()
        )
    );
    one(
        &conn,
        "SELECT consent_revoke(1, 'customer called', '2026-11-04')",
    );
    assert_eq!(
        one(
            &conn,
            "SELECT detail FROM consent_event WHERE customer_id = 1 ORDER BY id DESC LIMIT 1"
        ),
        "customer called"
    );
    assert_eq!(
        one(&conn, "SELECT consent_approve(3)"),
        "approved",
        "manual approval needs no contact"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT evidence FROM consent_request WHERE customer_id = 3"
        ),
        "manual"
    );
}

#[test]
fn expiry_after_the_configured_days() {
    let conn = register_db();
    for id in [1, 4] {
        one(&conn, &format!("SELECT consent_queue({id}, '2026-01-01')"));
    }
    one(
        &conn,
        "SELECT consent_mark_sent(1, 'email', NULL, '2026-01-01T00:00:00Z')",
    );
    one(
        &conn,
        "SELECT consent_mark_sent(4, 'email', NULL, '2026-01-03T00:00:00Z')",
    );
    assert_eq!(
        one(&conn, "SELECT consent_expire('2026-01-07T23:59:59Z')"),
        "0"
    );
    assert_eq!(
        one(&conn, "SELECT consent_expire('2026-01-08T00:00:00Z')"),
        "1"
    );
    assert_eq!(one(&conn, "SELECT consent_status(1)"), "denied");
    assert_eq!(one(&conn, "SELECT consent_status(4)"), "sent");
    assert_eq!(
        one(
            &conn,
            "SELECT reason || ' / ' || detail FROM consent_request WHERE customer_id = 1"
        ),
        "expired / inget svar inom 7 dagar"
    );
    assert_eq!(events(&conn, 1).last().expect("event").2, "consent_expire");
    // A second run finds nothing more; the expiry setting applies.
    assert_eq!(
        one(&conn, "SELECT consent_expire('2026-01-08T00:00:00Z')"),
        "0"
    );
    one(&conn, "SELECT consent_setting('expiry_days', 30)");
    assert_eq!(
        one(&conn, "SELECT consent_expire('2026-02-01T00:00:00Z')"),
        "0"
    );
    assert_eq!(
        one(&conn, "SELECT consent_expire('2026-02-02T00:00:00Z')"),
        "1"
    );
    // The due requests are found through the partial index, not a scan.
    let plan = plan(
        &conn,
        "SELECT id FROM consent_request WHERE status = 'sent' AND sent_at <= '2026'",
    );
    assert!(plan.contains("consent_request_due"), "{plan}");
}

#[test]
fn queue_all_matches_queue() {
    let conn = register_db();
    // consent_queue_all() on the register equals consent_queue on each.
    let other = register_db();
    assert_eq!(
        one(&conn, &format!("SELECT consent_queue_all(NULL, '{T0}')")),
        "2"
    );
    for id in 1..=6 {
        one(&other, &format!("SELECT consent_queue({id}, '{T0}')"));
    }
    let rows = |c: &Connection| {
        let mut stmt = c
            .prepare("SELECT customer_id, status, prev_status, reason, created_at FROM consent_request ORDER BY customer_id")
            .expect("prepare");
        stmt.query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{:?}|{}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?
            ))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows")
    };
    assert_eq!(rows(&conn), rows(&other));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM consent_event"),
        count(&conn, "SELECT count(*) FROM consent_request")
    );
    // A second run finds no one missing.
    assert_eq!(one(&conn, "SELECT consent_queue_all()"), "0");
    // Re-queue the denied and the errors.
    one(&conn, "SELECT consent_revoke(1)");
    one(&conn, "SELECT consent_setting('sms_enabled', 1)");
    assert_eq!(one(&conn, "SELECT consent_queue_all('denied')"), "1");
    assert_eq!(
        one(&conn, "SELECT consent_queue_all('error')"),
        "2",
        "Bo's and Filip's mobile numbers are usable now"
    );
    assert_eq!(one(&conn, "SELECT consent_status(2)"), "queued");
    let before = snapshot(&conn);
    assert_eq!(
        one(&conn, "SELECT consent_queue_all('error')"),
        "0",
        "the rest stay in error"
    );
    assert_eq!(one(&conn, "SELECT consent_queue_all('approved')"), "0");
    assert_eq!(snapshot(&conn), before);
    let e = error(&conn, "SELECT consent_queue_all('pending')");
    assert!(
        e.contains("unknown status 'pending'") && e.contains("'missing'"),
        "{e}"
    );
}

/// A customer in error who is queued again and still cannot be reached
/// shows the reason that holds now, recorded by an event; while that
/// reason holds, queueing again writes nothing.
#[test]
fn an_error_reason_that_no_longer_holds_is_replaced() {
    let conn = register_db();
    let smtp = "SMTP 550 5.1.1: mailbox unavailable";
    one(&conn, &format!("SELECT consent_queue(1, '{T0}')"));
    one(
        &conn,
        &format!("SELECT consent_mark_error(1, '{smtp}', '2026-11-02T10:00:00Z')"),
    );
    let reason = |c: &Connection| {
        one(
            c,
            "SELECT reason FROM consent_overview WHERE customer_id = 1",
        )
    };
    assert_eq!(reason(&conn), smtp);
    // The clerk removes the dead address; Anna has no mobile number.
    conn.execute("UPDATE customers SET email = NULL WHERE id = 1", [])
        .expect("update");
    let requests_before = count(&conn, "SELECT count(*) FROM consent_request");
    assert_eq!(
        one(&conn, "SELECT consent_queue(1, '2026-11-03T08:00:00Z')"),
        "error"
    );
    let now = "Kunden saknar både e-postadress och mobilnummer";
    assert_eq!(reason(&conn), now);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM consent_request"),
        requests_before + 1,
        "a new request records the new reason"
    );
    assert_eq!(
        sql::cells(
            &conn,
            "SELECT from_status, to_status, actor, detail, at FROM consent_event WHERE customer_id = 1 ORDER BY id DESC LIMIT 1",
            [],
        ),
        [format!(
            "Text(\"error\")|Text(\"error\")|Text(\"consent_queue\")|Text(\"{now}\")|Text(\"2026-11-03T08:00:00Z\")"
        )]
    );
    // The same reason again: nothing is written, by either form.
    let before = snapshot(&conn);
    assert_eq!(one(&conn, "SELECT consent_queue(1, '2026-11-04')"), "error");
    assert_eq!(
        one(&conn, "SELECT consent_queue_all('error', '2026-11-04')"),
        "0"
    );
    assert_eq!(snapshot(&conn), before);
    assert_eq!(one(&conn, "SELECT consent_verify_log()"), "ok");
}

/// `consent_queue_all('error')` replaces a reason that no longer holds,
/// exactly as `consent_queue` does, and still returns only how many were
/// queued.
#[test]
fn queue_all_replaces_error_reasons_that_no_longer_hold() {
    let run = |per_row: bool| {
        let conn = register_db();
        for id in [1, 4] {
            one(&conn, &format!("SELECT consent_queue({id}, '{T0}')"));
            one(
                &conn,
                &format!(
                    "SELECT consent_mark_error({id}, 'SMTP 550 5.1.1', '2026-11-02T10:00:00Z')"
                ),
            );
        }
        // Anna's address removed (nothing left); David keeps his, and his
        // mobile number, so he can be reached again.
        conn.execute("UPDATE customers SET email = NULL WHERE id = 1", [])
            .expect("update");
        let at = "2026-11-03T08:00:00Z";
        if per_row {
            for id in [1, 4] {
                one(&conn, &format!("SELECT consent_queue({id}, '{at}')"));
            }
        } else {
            assert_eq!(
                one(&conn, &format!("SELECT consent_queue_all('error', '{at}')")),
                "1",
                "only David is queued"
            );
        }
        let before = snapshot(&conn);
        assert_eq!(
            one(&conn, &format!("SELECT consent_queue_all('error', '{at}')")),
            "0"
        );
        assert_eq!(snapshot(&conn), before, "a second run writes nothing");
        assert_eq!(one(&conn, "SELECT consent_verify_log()"), "ok");
        sql::cells(
            &conn,
            "SELECT customer_id, status, prev_status, reason, created_at FROM consent_request \
             WHERE customer_id IN (1, 4) ORDER BY customer_id, supersedes",
            [],
        )
    };
    let set_based = run(false);
    assert_eq!(
        set_based,
        run(true),
        "consent_queue_all agrees with consent_queue"
    );
    assert!(
        set_based.iter().any(|row| row.starts_with("Integer(1)|Text(\"error\")|Text(\"error\")|Text(\"Kunden saknar både e-postadress och mobilnummer\")")),
        "{set_based:#?}"
    );
}

#[test]
fn the_audit_log_is_append_only() {
    let conn = register_db();
    one(&conn, "SELECT consent_queue(1)");
    for sql in [
        "UPDATE consent_event SET to_status = 'approved'",
        "DELETE FROM consent_event",
    ] {
        let e = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(e.contains("consent_event is append-only"), "{e}");
    }
    assert_eq!(count(&conn, "SELECT count(*) FROM consent_event"), 1);
}

#[test]
fn labels_in_both_languages() {
    let conn = register_db();
    assert_eq!(
        one(&conn, "SELECT consent_label('approved')"),
        "Samtycke är godkänt"
    );
    assert_eq!(
        one(&conn, "SELECT consent_label('sent', 'en')"),
        "Consent request sent"
    );
    one(&conn, "SELECT consent_setting('language', 'en')");
    assert_eq!(
        one(&conn, "SELECT consent_label('missing')"),
        "Consent missing"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT label FROM consent_overview WHERE customer_id = 1"
        ),
        "Consent missing"
    );
    let e = error(&conn, "SELECT consent_label('approved', 'de')");
    assert!(e.contains("unknown language 'de'"), "{e}");
    let e = error(&conn, "SELECT consent_label('ok')");
    assert!(e.contains("unknown status 'ok'"), "{e}");
}

#[test]
fn overview_lists_every_customer() {
    let conn = register_db();
    one(&conn, &format!("SELECT consent_queue(1, '{T0}')"));
    one(&conn, &format!("SELECT consent_queue(3, '{T0}')"));
    let mut stmt = conn
        .prepare("SELECT customer_id, name, status, label, reason IS NOT NULL, changed_at FROM consent_overview")
        .expect("prepare");
    let rows: Vec<(i64, String, String, String, bool, Option<String>)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[0],
        (
            1,
            "Anna Andersson".into(),
            "queued".into(),
            "Begäran om samtycke är köad".into(),
            false,
            Some(T0.into())
        )
    );
    assert_eq!(rows[1].2, "missing");
    assert_eq!(rows[1].5, None);
    assert_eq!((rows[2].2.as_str(), rows[2].4), ("error", true));
    // A look-up by id uses the id, not a scan.
    let plan = plan(
        &conn,
        "SELECT * FROM consent_overview WHERE customer_id = 3",
    );
    assert!(plan.contains("VIRTUAL TABLE INDEX 1"), "{plan}");
    assert_eq!(
        one(
            &conn,
            "SELECT status FROM consent_overview WHERE customer_id = 3"
        ),
        "error"
    );
    assert_eq!(
        conn.query_row(
            "SELECT status FROM consent_overview WHERE customer_id = 99",
            [],
            |r| r.get::<_, String>(0)
        )
        .optional()
        .expect("query"),
        None
    );
}

#[test]
fn overview_pages_through_a_large_register() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        "CREATE TABLE kunder (kundnr TEXT PRIMARY KEY, epost TEXT, mobil TEXT) WITHOUT ROWID;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO kunder SELECT printf('K%05d', i), 'k' || i || '@example.se', NULL FROM n;",
    )
    .expect("fixture");
    register(&conn).expect("register");
    one(
        &conn,
        "SELECT consent_init('kunder', 'kundnr', 'epost', 'mobil')",
    );
    one(&conn, "SELECT consent_setting('info_text', 'x')");
    assert_eq!(one(&conn, "SELECT consent_queue('K01234')"), "queued");
    assert_eq!(count(&conn, "SELECT count(*) FROM consent_overview"), 2500);
    assert_eq!(
        count(
            &conn,
            "SELECT count(DISTINCT customer_id) FROM consent_overview"
        ),
        2500
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM consent_overview WHERE status = 'queued'"
        ),
        1
    );
    assert_eq!(
        one(&conn, "SELECT name FROM consent_overview LIMIT 1"),
        "NULL",
        "no name column"
    );
    // Text ids are stored with TEXT affinity, so the index serves look-ups.
    assert_eq!(
        one(
            &conn,
            "SELECT type FROM pragma_table_info('consent_request') WHERE name = 'customer_id'"
        ),
        "TEXT"
    );
}
