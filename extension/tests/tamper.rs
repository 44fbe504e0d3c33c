//! The register cannot be changed behind the consent functions' back.
//!
//! Each hole this closes was reproduced on the register before the guard
//! triggers and the hash chain (schema version 2): `INSERT OR REPLACE` turned
//! an approval into a denial without a trace, a direct `UPDATE` approved a
//! customer and was logged under the previous actor, stored texts could be
//! edited, and with the triggers dropped anything went. Now every write that
//! is not the extension's is refused, with the extension loaded and without
//! it; and what a writer of the file can still do by dropping the triggers,
//! `consent_verify_log()` finds and names (a log rebuilt from scratch
//! verifies, but its head moves: the portal keeps the head outside).

use std::path::PathBuf;

use consent_extension::log::{self, Verdict};
use consent_extension::requests::{self, StoredText};
use consent_extension::{page_id_is_valid, Language};
use consent_testkit::host::{assert_checks, sqlite3};
use consent_testkit::sample::{self, numbered_customers, SetUp, CUSTOMERS};
use consent_testkit::shim::load_line;
use consent_testkit::sql::{self, error, int, text};
use consent_testkit::{require, Scratch, Tool};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

const T0: &str = "2026-11-02T09:00:00Z";
const PAGE: &str = "q3Zx8mB1vR7tK2wYp0LdNg";
const EVIDENCE: &str = "decision signed for page q3Zx8mB1vR7tK2wYp0LdNg";
const TEXT: &str = "Dahls Rör AB vill skicka kvitton per e-post. Godkänner du det?";

/// What [`history`] wrote, one event each, in this order: Anna (1) queued,
/// Bo (2) and Cecilia (3) in error, David (4) queued, Anna sent, Anna
/// approved, David sent.
const EVENTS: i64 = 7;

/// The sample register in a file, with the extension registered and a
/// history (see [`EVENTS`]), including a text shown on Anna's page.
fn history(dir: &Scratch) -> (PathBuf, Connection) {
    let path = dir.join("billing.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    consent_extension::register(&conn).expect("register");
    SetUp::customers().apply(&conn);
    sql::call(&conn, &format!("SELECT consent_queue_all(NULL, '{T0}')"));
    let anna = request_of(&conn, 1);
    let text = StoredText {
        hash: sha256_hex(TEXT),
        language: Language::Sv,
        body: TEXT.to_owned(),
        inputs: None,
    };
    requests::record_text(&conn, &text, 1_790_000_000).expect("the text shown");
    assert!(requests::assign_page_id(&conn, anna, PAGE, &text.hash).expect("page id"));
    for statement in [
        "SELECT consent_mark_sent(1, 'email', NULL, '2026-11-02T10:00:00Z')".to_owned(),
        format!("SELECT consent_approve(1, '{EVIDENCE}', '2026-11-03T18:12:00Z')"),
        "SELECT consent_mark_sent(4, 'email', 'Wn6yB2dFq9hM4kZs1vXcRt', '2026-11-02T10:00:00Z')"
            .to_owned(),
    ] {
        sql::call(&conn, &statement);
    }
    assert_eq!(int(&conn, "SELECT count(*) FROM consent_event"), EVENTS);
    assert_eq!(verdict(&conn), "ok");
    (path, conn)
}

fn sha256_hex(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The current request of a customer.
fn request_of(conn: &Connection, customer: i64) -> i64 {
    sql::value(
        conn,
        "SELECT request_id FROM consent_overview WHERE customer_id = ?1",
        [customer],
    )
    .as_i64()
}

trait AsI64 {
    fn as_i64(&self) -> i64;
}

impl AsI64 for Value {
    fn as_i64(&self) -> i64 {
        match self {
            Value::Integer(i) => *i,
            other => panic!("expected an integer, got {other:?}"),
        }
    }
}

/// What `consent_verify_log()` says.
fn verdict(conn: &Connection) -> String {
    text(conn, "SELECT consent_verify_log()")
}

/// Everything of the consent tables, to show that a refused write changed
/// nothing.
fn everything(conn: &Connection) -> Vec<String> {
    ["consent_request", "consent_event", "consent_text"]
        .iter()
        .flat_map(|table| sql::dump(conn, table))
        .collect()
}

/// Drops triggers, as someone who can write the file may.
fn drop_triggers(conn: &Connection, names: &[&str]) {
    for name in names {
        conn.execute_batch(&format!("DROP TRIGGER {name}"))
            .unwrap_or_else(|e| panic!("DROP TRIGGER {name}: {e}"));
    }
}

/// Every trigger that only refuses writes, with or without a function.
/// (The guard of an INSERT into consent_request is part of the audit
/// trigger, `consent_request_created`.)
const GUARDS: [&str; 8] = [
    "consent_request_guard_update",
    "consent_request_guard_delete",
    "consent_event_guard_insert",
    "consent_event_no_update",
    "consent_event_no_delete",
    "consent_text_guard_insert",
    "consent_text_no_update",
    "consent_text_no_delete",
];

/// The statements that write the consent tables by hand, as someone at an
/// sqlite3 prompt or a program of theirs would.
fn hand_writes() -> Vec<String> {
    vec![
        "UPDATE consent_request SET status = 'approved', evidence = 'manual' WHERE customer_id = 4"
            .to_owned(),
        "INSERT INTO consent_request (customer_id, supersedes, status, prev_status, actor, created_at, updated_at) \
         VALUES (3, 99, 'approved', 'error', 'consent_approve', '2026-11-04', '2026-11-04')"
            .to_owned(),
        "DELETE FROM consent_request WHERE customer_id = 2".to_owned(),
        "UPDATE consent_request SET text_hash = NULL".to_owned(),
        // An approval replaced by a denial: REPLACE deletes the old row
        // without firing any DELETE trigger.
        "INSERT OR REPLACE INTO consent_event (id, customer_id, request_id, from_status, to_status, actor, detail, at) \
         VALUES (6, 1, 1, 'sent', 'denied', 'consent_revoke', 'declined', '2026-11-03T18:12:00Z')"
            .to_owned(),
        "INSERT INTO consent_event (customer_id, request_id, from_status, to_status, actor, detail, at) \
         VALUES (3, 3, 'error', 'approved', 'consent_approve', 'manual', '2026-11-04')"
            .to_owned(),
        "UPDATE consent_event SET detail = 'manual' WHERE id = 6".to_owned(),
        "DELETE FROM consent_event WHERE id = 6".to_owned(),
        format!(
            "INSERT INTO consent_text (hash, language, body, created_at) VALUES ('{}', 'sv', 'Godkänn', '2026-11-04')",
            sha256_hex("Godkänn")
        ),
        "UPDATE consent_text SET body = 'Vi skickar erbjudanden.'".to_owned(),
        "DELETE FROM consent_text".to_owned(),
    ]
}

#[test]
fn writes_by_hand_are_refused_with_the_extension_loaded() {
    let dir = Scratch::new("tamper-loaded");
    let (_, conn) = history(&dir);
    let before = everything(&conn);
    for statement in hand_writes() {
        let e = conn
            .execute_batch(&statement)
            .map(|()| "(accepted)".to_owned())
            .unwrap_or_else(|e| e.to_string());
        let table = ["consent_request", "consent_event", "consent_text"]
            .into_iter()
            .find(|t| statement.contains(t))
            .expect("a consent table");
        assert!(
            e.contains(table) && (e.contains("written only by") || e.contains("append-only")),
            "{statement}\n  gave: {e}"
        );
    }
    // The message says what to call instead.
    let e = error(
        &conn,
        "UPDATE consent_request SET status = 'approved' WHERE customer_id = 4",
    );
    assert!(e.contains("call consent_approve"), "{e}");
    assert_eq!(everything(&conn), before, "a refused write changes nothing");
    assert_eq!(text(&conn, "SELECT consent_status(4)"), "sent");
    assert_eq!(verdict(&conn), "ok");
}

#[test]
fn writes_by_hand_are_refused_without_the_extension() {
    let dir = Scratch::new("tamper-plain");
    let (path, conn) = history(&dir);
    let before = everything(&conn);
    drop(conn);
    // A program that never loaded the extension: the guard function does
    // not exist there, so the guarded writes cannot even be prepared, and
    // the append-only triggers need no function at all.
    let plain = Connection::open(&path).expect("open without the extension");
    for statement in hand_writes() {
        let e = plain
            .execute_batch(&statement)
            .map(|()| "(accepted)".to_owned())
            .unwrap_or_else(|e| e.to_string());
        // consent_guard, or consent_event_hash of the audit trigger:
        // whichever SQLite looks up first.
        assert!(
            e.contains("no such function: consent_") || e.contains("append-only"),
            "{statement}\n  gave: {e}"
        );
    }
    assert_eq!(
        everything(&plain),
        before,
        "a refused write changes nothing"
    );
    // Reading needs no extension.
    assert_eq!(int(&plain, "SELECT count(*) FROM consent_event"), EVENTS);
}

#[test]
fn insert_or_replace_cannot_turn_an_approval_into_a_denial() {
    let dir = Scratch::new("tamper-replace");
    let (path, conn) = history(&dir);
    let approval = "SELECT to_status || ' ' || actor FROM consent_event WHERE id = 6";
    assert_eq!(text(&conn, approval), "approved consent_approve");
    let replace = "INSERT OR REPLACE INTO consent_event \
                   (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash) \
                   SELECT id, customer_id, request_id, from_status, 'denied', 'consent_revoke', 'declined', at, hash \
                   FROM consent_event WHERE id = 6";
    let e = error(&conn, replace);
    assert!(e.contains("consent_event"), "{e}");
    drop(conn);
    let e = Connection::open(&path)
        .expect("open")
        .execute_batch(replace)
        .expect_err("REPLACE without the extension");
    assert!(e.to_string().contains("consent_guard"), "{e}");
    let conn = sample::open(&path);
    assert_eq!(text(&conn, approval), "approved consent_approve");
    assert_eq!(text(&conn, "SELECT consent_status(1)"), "approved");
}

#[test]
fn the_billing_application_alters_its_table_without_the_extension() {
    let dir = Scratch::new("tamper-alter");
    let (path, conn) = history(&dir);
    drop(conn);
    // rusqlite's bundled SQLite, no extension: ALTER TABLE checks every
    // trigger of the schema, ours among them, and must not stumble on
    // their functions.
    let plain = Connection::open(&path).expect("open without the extension");
    plain
        .execute_batch(
            "ALTER TABLE customers ADD COLUMN notes TEXT;
             ALTER TABLE customers RENAME COLUMN notes TO remarks;
             ALTER TABLE customers RENAME COLUMN name TO full_name;
             ALTER TABLE customers DROP COLUMN remarks;
             INSERT INTO customers (id, full_name, email) VALUES (7, 'Greta Gran', 'greta@example.se');",
        )
        .expect("the billing application's schema changes, without the extension");
    drop(plain);
    let conn = sample::open(&path);
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'full_name')",
    );
    assert_eq!(
        text(&conn, "SELECT consent_queue(7, '2026-11-05')"),
        "queued"
    );
    assert_eq!(verdict(&conn), "ok");
    drop(conn);

    // Debian's sqlite3 shell, which never loaded the extension.
    if !require(&[Tool::Sqlite3Shell]) {
        return;
    }
    let run = sqlite3(
        &path,
        "ALTER TABLE customers ADD COLUMN customer_since TEXT;\n\
         ALTER TABLE customers RENAME COLUMN full_name TO display_name;\n\
         ALTER TABLE customers DROP COLUMN customer_since;\n\
         PRAGMA integrity_check;\n",
        &dir,
        "alter-in-shell",
    );
    run.assert_clean("ALTER TABLE in the sqlite3 shell without the extension");
    assert_eq!(run.stdout, "ok\n");
    assert_checks(
        &path,
        &format!(
            "{}select 'reinit', consent_init('customers', 'id', 'email', 'mobile', 'display_name') = 'ok';\n\
             select 'queue', consent_queue(2, '2026-11-06') = 'error';\n\
             select 'verifies', consent_verify_log() = 'ok';\n",
            load_line()
        ),
        3,
        &dir,
        "after-alter-in-shell",
    );
}

#[test]
fn the_sqlite3_shell_refuses_writes_by_hand_with_and_without_the_extension() {
    if !require(&[Tool::Sqlite3Shell]) {
        return;
    }
    let dir = Scratch::new("tamper-shell");
    let (path, conn) = history(&dir);
    drop(conn);
    let status = "UPDATE consent_request SET status = 'approved' WHERE customer_id = 4;\n";
    let cases = [
        (String::new(), status, "no such function: consent_"),
        (
            load_line(),
            status,
            "consent_request is written only by the consent_* functions",
        ),
        (
            String::new(),
            "DELETE FROM consent_request;\n",
            "no such function: consent_guard",
        ),
        (
            load_line(),
            "INSERT OR REPLACE INTO consent_event SELECT * FROM consent_event WHERE id = 6;\n",
            "consent_event is written only by the audit trigger",
        ),
        (
            load_line(),
            "UPDATE consent_text SET body = 'x';\n",
            "consent_text is append-only",
        ),
    ];
    for (i, (load, statement, wanted)) in cases.iter().enumerate() {
        let run = sqlite3(
            &path,
            &format!("{load}{statement}"),
            &dir,
            &format!("case-{i}"),
        );
        assert!(
            !run.status.success() && run.stderr.contains(wanted),
            "{statement} (loaded: {}): expected {wanted:?}, got {run:?}",
            !load.is_empty()
        );
    }
    // The functions themselves still write, also with trusted_schema off,
    // where a trigger may call only innocuous functions.
    assert_checks(
        &path,
        &format!(
            "{}PRAGMA trusted_schema = OFF;\n\
             select 'revoke', consent_revoke(4, 'kunden ringde', '2026-11-04') = 'denied';\n\
             select 'verifies', consent_verify_log() = 'ok';\n",
            load_line()
        ),
        2,
        &dir,
        "functions-still-write",
    );
}

#[test]
fn the_functions_write_under_trusted_schema_off() {
    let dir = Scratch::new("tamper-trusted-schema");
    let (_, conn) = history(&dir);
    conn.execute_batch("PRAGMA trusted_schema = OFF")
        .expect("trusted_schema");
    assert_eq!(
        text(&conn, "SELECT consent_revoke(1, 'withdrawn', '2026-11-04')"),
        "denied"
    );
    assert_eq!(
        text(&conn, "SELECT consent_queue(1, '2026-11-05')"),
        "queued"
    );
    assert_eq!(verdict(&conn), "ok");
}

#[test]
fn the_schema_refuses_a_page_id_the_portal_would_never_draw() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(&numbered_customers(12))
        .expect("customers");
    consent_extension::register(&conn).expect("register");
    SetUp::customers().queue_all().apply(&conn);
    let candidates = [
        PAGE,
        "AAAAAAAAAAAAAAAAAAAAAA",
        "pAgE_iD-0123456789abcd",
        "short",
        "q3Zx8mB1vR7tK2wYp0LdNgX",
        "q3Zx8mB1vR7tK2wYp0LdN=",
        "q3Zx8mB1vR7tK2wYp0LdN/",
        "q3Zx8mB1vR7tK2wYp0Ld é",
        "../../../../etc/passwd",
        "",
    ];
    // requests::assign_page_id does not check the form itself: the schema
    // does, for whatever writes the column.
    for (request, candidate) in (1_i64..).zip(candidates) {
        let assigned = requests::assign_page_id(&conn, request, candidate, &sha256_hex(TEXT));
        match (page_id_is_valid(candidate), assigned) {
            (true, Ok(true)) => {}
            (false, Err(e)) => assert!(
                e.to_string().contains("page_id must be 22 characters"),
                "{candidate:?}: {e}"
            ),
            (valid, other) => panic!("{candidate:?} (valid: {valid}): {other:?}"),
        }
    }
}

#[test]
fn verify_names_a_deleted_event() {
    let dir = Scratch::new("tamper-delete");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch("DELETE FROM consent_event WHERE id = 5")
        .expect("delete, triggers gone");
    let v = verdict(&conn);
    assert!(
        v.starts_with("consent_event row 6 breaks the chain") && v.contains("row 5 is missing"),
        "{v}"
    );
    // The last event gone: the chain that is left is whole, but David's
    // request no longer agrees with its log.
    let dir = Scratch::new("tamper-delete-last");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch("DELETE FROM consent_event WHERE id = 7")
        .expect("delete, triggers gone");
    let v = verdict(&conn);
    assert!(
        v.contains(&format!(
            "consent_request {} (customer 4)",
            request_of(&conn, 4)
        )) && v.contains("is 'sent', but its last event, consent_event row 4, says 'queued'"),
        "{v}"
    );
}

#[test]
fn verify_names_an_edited_event() {
    let dir = Scratch::new("tamper-edit-event");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch("UPDATE consent_event SET detail = 'manual' WHERE id = 6")
        .expect("edit, triggers gone");
    let v = verdict(&conn);
    assert!(v.starts_with("consent_event row 6 breaks the chain"), "{v}");
    // Recomputing the edited row's hash moves the break to the next row.
    let hash: String = conn
        .query_row(
            "SELECT consent_event_hash((SELECT hash FROM consent_event WHERE id = 5), \
               id, customer_id, request_id, from_status, to_status, actor, detail, at, form) \
             FROM consent_event WHERE id = 6",
            [],
            |r| r.get(0),
        )
        .expect("rehash");
    conn.execute("UPDATE consent_event SET hash = ?1 WHERE id = 6", [hash])
        .expect("rehash, triggers gone");
    assert!(
        verdict(&conn).starts_with("consent_event row 7 breaks the chain"),
        "{}",
        verdict(&conn)
    );
}

#[test]
fn verify_names_a_status_changed_by_hand() {
    // The guards dropped, the audit trigger kept: the change is logged, but
    // an approval without its evidence shows.
    let dir = Scratch::new("tamper-status");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch("UPDATE consent_request SET status = 'approved' WHERE customer_id = 4")
        .expect("update, guards gone");
    let david = request_of(&conn, 4);
    let v = verdict(&conn);
    assert!(
        v.contains(&format!(
            "consent_request {david} (customer 4) is approved with evidence NULL"
        )) && v.contains("consent_event row 8"),
        "{v}"
    );
    // The audit trigger dropped too: nothing logged, and the log disagrees.
    let dir = Scratch::new("tamper-status-unlogged");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    drop_triggers(&conn, &["consent_request_changed"]);
    conn.execute_batch(
        "UPDATE consent_request SET status = 'approved', evidence = 'manual' WHERE customer_id = 4",
    )
    .expect("update, triggers gone");
    let v = verdict(&conn);
    assert!(
        v.contains(&format!(
            "consent_request {david} (customer 4) is 'approved', but its last event, consent_event row 7, says 'sent'"
        )),
        "{v}"
    );
}

#[test]
fn verify_names_requests_and_events_without_their_counterpart() {
    let dir = Scratch::new("tamper-orphans");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    drop_triggers(&conn, &["consent_request_created"]);
    conn.execute_batch(
        "INSERT INTO consent_request (customer_id, supersedes, status, prev_status, evidence, actor, created_at, updated_at) \
         VALUES (3, 3, 'approved', 'error', 'manual', 'consent_approve', '2026-11-04', '2026-11-04')",
    )
    .expect("insert, triggers gone");
    let v = verdict(&conn);
    assert!(
        v.contains("(customer 3) has no event in consent_event"),
        "{v}"
    );

    // An event for a request that is not there, chained properly.
    let dir = Scratch::new("tamper-orphan-event");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch(
        "INSERT INTO consent_event (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash) \
         SELECT 8, 3, 99, 'error', 'approved', 'consent_approve', 'manual', '2026-11-04', \
                consent_event_hash(hash, 8, 3, 99, 'error', 'approved', 'consent_approve', 'manual', '2026-11-04') \
         FROM consent_event WHERE id = 7",
    )
    .expect("insert, triggers gone");
    assert_eq!(
        verdict(&conn),
        "consent_event row 8 names request 99, which is not in consent_request \
         (the request was deleted, or the event written by hand)"
    );

    // An event without a hash.
    let dir = Scratch::new("tamper-no-hash");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch(
        "INSERT INTO consent_event (customer_id, request_id, from_status, to_status, actor, detail, at) \
         VALUES (4, 4, 'sent', 'approved', 'consent_approve', 'manual', '2026-11-04')",
    )
    .expect("insert, triggers gone");
    assert!(
        verdict(&conn).starts_with("consent_event row 8 has no hash"),
        "{}",
        verdict(&conn)
    );
}

#[test]
fn verify_names_an_edited_text() {
    let dir = Scratch::new("tamper-text");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch("UPDATE consent_text SET body = 'Dahls Rör AB vill skicka erbjudanden.'")
        .expect("edit, triggers gone");
    let v = verdict(&conn);
    assert!(
        v.starts_with(&format!("consent_text row '{}'", sha256_hex(TEXT)))
            && v.contains("does not hold the text it is named by"),
        "{v}"
    );
}

/// A log rebuilt from scratch with every hash recomputed verifies: no
/// check inside the file can tell. Its head moves, which is what the
/// portal's head kept outside the file catches.
#[test]
fn a_log_rebuilt_from_scratch_verifies_but_moves_the_head() {
    let dir = Scratch::new("tamper-rebuild");
    let (_, conn) = history(&dir);
    let recorded = log::head(&conn).expect("head");
    assert_eq!(recorded.count, EVENTS);
    assert_eq!(recorded.last_id, EVENTS);
    let recorded_hash = recorded.hash.clone().expect("a hash");
    assert_eq!(
        log::hash_at(&conn, EVENTS).expect("hash_at"),
        Some(recorded_hash.clone())
    );
    assert_eq!(
        log::verify(&conn).expect("verify"),
        Verdict::Ok,
        "the Rust API says what the SQL function says"
    );

    drop_triggers(&conn, &GUARDS);
    // Anna's evidence replaced, in her request and in the log, and every
    // event written again with its hash recomputed from the first.
    let events = sql::rows(
        &conn,
        "SELECT id, customer_id, request_id, from_status, to_status, actor, \
           CASE WHEN id = 6 THEN 'forged' ELSE detail END, at \
         FROM consent_event ORDER BY id",
        [],
        |r| {
            (0..8)
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<Value>>>()
        },
    );
    conn.execute_batch(
        "DELETE FROM consent_event;
         UPDATE consent_request SET evidence = 'forged' WHERE customer_id = 1;",
    )
    .expect("rewrite, triggers gone");
    let mut previous = None;
    for event in &events {
        let fields: Vec<ValueRef<'_>> = event.iter().map(ValueRef::from).collect();
        let hash = log::event_hash(previous.as_ref(), &fields).expect("hash");
        conn.execute(
            "INSERT INTO consent_event (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                event[0], event[1], event[2], event[3], event[4], event[5], event[6], event[7],
                log::hex(&hash)
            ],
        )
        .expect("insert, triggers gone");
        previous = Some(hash);
    }
    assert_eq!(verdict(&conn), "ok", "a rebuilt chain is a whole chain");
    let now = log::head(&conn).expect("head");
    assert_eq!((now.count, now.last_id), (recorded.count, recorded.last_id));
    assert_ne!(now.hash, recorded.hash, "the head moved");
    assert_ne!(
        log::hash_at(&conn, recorded.last_id).expect("hash_at"),
        Some(recorded_hash),
        "the recorded head is no longer in the log"
    );
}

#[test]
fn the_rust_api_reports_what_the_sql_function_reports() {
    let dir = Scratch::new("tamper-api");
    let (_, conn) = history(&dir);
    drop_triggers(&conn, &GUARDS);
    conn.execute_batch("DELETE FROM consent_event WHERE id = 2")
        .expect("delete, triggers gone");
    let Verdict::Broken(problem) = log::verify(&conn).expect("verify") else {
        panic!("a deleted row must break the chain");
    };
    assert_eq!(problem, verdict(&conn));
    assert!(problem.starts_with("consent_event row 3 breaks the chain"));
    // An empty log has a head too.
    let empty = Connection::open_in_memory().expect("open");
    empty.execute_batch(CUSTOMERS).expect("the sample register");
    consent_extension::register(&empty).expect("register");
    SetUp::customers().apply(&empty);
    let head = log::head(&empty).expect("head");
    assert_eq!((head.count, head.last_id, head.hash), (0, 0, None));
    assert_eq!(log::hash_at(&empty, 1).expect("hash_at"), None);
    assert_eq!(log::verify(&empty).expect("verify"), Verdict::Ok);
}
