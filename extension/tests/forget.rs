//! `consent_forget(id)`: the erasure removes what identifies the person from
//! every consent table, keeps the proof (statuses, times, text hashes, the
//! evidence), and leaves the chain verifiable with its head where it was.
//! A forged erasure is refused, and tampering with an erased row is found.
//!
//! (The exact shape the schema admits from the extension's own code, and a
//! register with events from before schema version 5, are tested inside
//! the crate: `extension/src/forget.rs`.)

use consent_extension::log::{self, Verdict};
use consent_extension::notices::{self, NoticeKind};
use consent_extension::requests::{self, StoredText};
use consent_extension::Language;
use consent_testkit::sample::{SetUp, CUSTOMERS};
use consent_testkit::sql::{self, error, int, text};
use consent_testkit::Scratch;
use rusqlite::types::Value;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

const ADDRESS: &str = "anna@example.se";
const NUMBER: &str = "0701740605";
const FIRST_PAGE: &str = "q3Zx8mB1vR7tK2wYp0LdNg";
const SECOND_PAGE: &str = "Wn6yB2dFq9hM4kZs1vXcRt";
const WITHDRAWAL_PAGE: &str = "Hc4uT9eWm2sJ6aXo1bQyZA";
/// David's page: another customer's rows stay as they are.
const DAVIDS_PAGE: &str = "Jk8pR3nVx5cL0fGh7sTqWe";
const EVIDENCE: &str =
    r#"{"v":2,"token":"c2lnbmVkIGRlY2lzaW9u","received_at":"2026-11-21T18:12:00Z"}"#;
const TEXT: &str = "Dahls Rör AB vill skicka kvitton per e-post. Godkänner du det?";
const FORGOTTEN_AT: &str = "2026-12-01T12:00:00Z";

fn sha256_hex(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The current request of a customer.
fn request_of(conn: &Connection, customer: i64) -> i64 {
    match sql::value(
        conn,
        "SELECT request_id FROM consent_overview WHERE customer_id = ?1",
        [customer],
    ) {
        Value::Integer(id) => id,
        other => panic!("customer {customer} has no request: {other:?}"),
    }
}

/// Anna's whole life in the register: queued, sent with a page, failed
/// with a reason quoting her address, queued again, sent with a new page,
/// approved on the page (JSON evidence), a receipt with a withdrawal page
/// and a withdrawal confirmation that bounced echoing her address, revoked
/// with a reason quoting her number. David is sent a page and stays sent.
fn anna_s_life() -> Connection {
    anna_s_life_in(Connection::open_in_memory().expect("open"))
}

/// [`anna_s_life`] in a database of one's own (a file).
fn anna_s_life_in(conn: Connection) -> Connection {
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    consent_extension::register(&conn).expect("register");
    SetUp::customers().apply(&conn);
    let shown = StoredText {
        hash: sha256_hex(TEXT),
        language: Language::Sv,
        body: TEXT.to_owned(),
        inputs: None,
    };
    requests::record_text(&conn, &shown, 1_793_000_000).expect("the text shown");
    sql::call(&conn, "SELECT consent_queue(1, '2026-11-02T09:00:00Z')");
    assert!(
        requests::assign_page_id(&conn, request_of(&conn, 1), FIRST_PAGE, &shown.hash)
            .expect("page")
    );
    for statement in [
        "SELECT consent_mark_sent(1, 'email', NULL, '2026-11-02T10:00:00Z')".to_owned(),
        format!(
            "SELECT consent_mark_error(1, 'SMTP 550 5.1.1 <{ADDRESS}>: mailbox unavailable', '2026-11-03T10:00:00Z')"
        ),
        "SELECT consent_queue(1, '2026-11-20T09:00:00Z')".to_owned(),
    ] {
        sql::call(&conn, &statement);
    }
    let second = request_of(&conn, 1);
    assert!(requests::assign_page_id(&conn, second, SECOND_PAGE, &shown.hash).expect("page"));
    sql::call(
        &conn,
        &format!("SELECT consent_mark_sent(1, 'email', '{SECOND_PAGE}', '2026-11-20T10:00:00Z')"),
    );
    assert_eq!(
        sql::value(
            &conn,
            "SELECT consent_approve(1, ?1, '2026-11-21T18:12:00Z')",
            [EVIDENCE]
        ),
        Value::Text("approved".to_owned())
    );
    assert!(notices::create(
        &conn,
        second,
        NoticeKind::Receipt,
        Some(WITHDRAWAL_PAGE),
        1_795_000_000
    )
    .expect("receipt"));
    let receipt: i64 = int(
        &conn,
        "SELECT id FROM consent_notice WHERE kind = 'receipt'",
    );
    assert!(notices::mark_sent(&conn, receipt, 1_795_000_100).expect("sent"));
    sql::call(
        &conn,
        &format!(
            "SELECT consent_revoke(1, 'kunden ringde från {NUMBER} och återkallade', '2026-11-25T14:00:00Z')"
        ),
    );
    assert!(
        notices::create(&conn, second, NoticeKind::Withdrawal, None, 1_795_300_000)
            .expect("withdrawal")
    );
    let withdrawal: i64 = int(
        &conn,
        "SELECT id FROM consent_notice WHERE kind = 'withdrawal'",
    );
    assert!(notices::mark_failed(
        &conn,
        withdrawal,
        &format!("550 5.1.1 <{ADDRESS}>: Recipient address rejected")
    )
    .expect("failed"));
    // David: sent, with his own page, pending.
    sql::call(&conn, "SELECT consent_queue(4, '2026-11-02T09:00:00Z')");
    sql::call(
        &conn,
        &format!("SELECT consent_mark_sent(4, 'email', '{DAVIDS_PAGE}', '2026-11-02T10:00:00Z')"),
    );
    assert_eq!(text(&conn, "SELECT consent_status(1)"), "denied");
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
    conn
}

/// Every consent table, and in each every column.
fn consent_columns(conn: &Connection) -> Vec<(String, String)> {
    let tables: Vec<String> = sql::column(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'consent\\_%' ESCAPE '\\' ORDER BY name",
    );
    assert!(tables.len() >= 6, "{tables:?}");
    tables
        .into_iter()
        .flat_map(|table| {
            let columns: Vec<String> = sql::column(
                conn,
                &format!("SELECT name FROM pragma_table_info('{table}')"),
            );
            columns.into_iter().map(move |c| (table.clone(), c))
        })
        .collect()
}

/// Where `needle` occurs in any column of any consent table, in the rows
/// `filter` selects (SQL over the table's columns; `1` for all rows).
fn occurrences(conn: &Connection, needle: &str, filter: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column) in consent_columns(conn) {
        let sql = format!(
            "SELECT count(*) FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), ?1) > 0 AND ({filter})"
        );
        let n: i64 = conn
            .query_row(&sql, [needle], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        if n > 0 {
            found.push(format!("{table}.{column} ({n} rows)"));
        }
    }
    found
}

/// What is Anna's and must outlive the erasure: the proof.
fn proof(conn: &Connection) -> Vec<String> {
    let mut rows = sql::cells(
        conn,
        "SELECT id, customer_id, supersedes, status, prev_status, channel, evidence, actor, \
                text_hash, created_at, sent_at, decided_at, updated_at \
         FROM consent_request ORDER BY id",
        [],
    );
    rows.extend(sql::cells(
        conn,
        "SELECT id, customer_id, request_id, from_status, to_status, actor, at, hash, form \
         FROM consent_event ORDER BY id",
        [],
    ));
    rows.extend(sql::cells(
        conn,
        "SELECT id, request_id, kind, created_at, sent_at FROM consent_notice ORDER BY id",
        [],
    ));
    rows.extend(sql::dump(conn, "consent_text"));
    rows
}

fn everything(conn: &Connection) -> Vec<String> {
    [
        "consent_request",
        "consent_event",
        "consent_notice",
        "consent_text",
        "consent_meta",
        "consent_settings",
    ]
    .iter()
    .flat_map(|table| sql::dump(conn, table))
    .collect()
}

#[test]
fn forgetting_erases_what_identifies_the_person_and_keeps_the_proof() {
    let conn = anna_s_life();
    // The life left its traces everywhere.
    for needle in [ADDRESS, NUMBER, FIRST_PAGE, SECOND_PAGE, WITHDRAWAL_PAGE] {
        assert!(
            !occurrences(&conn, needle, "1").is_empty(),
            "{needle} should be there before"
        );
    }
    let proof_before = proof(&conn);
    let head = log::head(&conn).expect("head");
    let events_with_detail = int(
        &conn,
        "SELECT count(*) FROM consent_event WHERE customer_id = 1 AND detail IS NOT NULL",
    );
    let overview_before = sql::cells(
        &conn,
        "SELECT customer_id, name, status, label, changed_at, request_id FROM consent_overview",
        [],
    );

    let summary = text(
        &conn,
        &format!("SELECT consent_forget(1, '{FORGOTTEN_AT}')"),
    );
    assert_eq!(
        summary,
        format!(
            "{{\"requests_erased\":2,\"notices_erased\":2,\"events_erased\":{events_with_detail},\"events_kept\":0,\"commands_deleted\":0}}"
        )
    );

    // Nothing of Anna's contact data or links is left, in any column of
    // any consent table.
    for needle in [ADDRESS, NUMBER, FIRST_PAGE, SECOND_PAGE, WITHDRAWAL_PAGE] {
        assert_eq!(
            occurrences(&conn, needle, "1"),
            Vec::<String>::new(),
            "{needle} is still there"
        );
    }
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM consent_event WHERE customer_id = 1 AND detail IS NOT NULL"
        ),
        0
    );
    // The proof is whole: statuses, times, channels, text hashes, the
    // evidence, every event's hash and form.
    assert_eq!(proof(&conn), proof_before);
    assert_eq!(text(&conn, "SELECT consent_status(1)"), "denied");
    assert_eq!(
        sql::value(
            &conn,
            "SELECT evidence FROM consent_request WHERE customer_id = 1 AND status = 'denied'",
            []
        ),
        Value::Text(EVIDENCE.to_owned())
    );
    // When, and which commitments stand for the erased details.
    assert_eq!(
        int(
            &conn,
            &format!(
                "SELECT count(*) FROM consent_event WHERE customer_id = 1 AND erased_at = '{FORGOTTEN_AT}' \
                 AND length(detail_sha256) = 64"
            )
        ),
        events_with_detail
    );
    assert_eq!(
        int(
            &conn,
            &format!(
                "SELECT count(*) FROM consent_request WHERE customer_id = 1 AND erased_at = '{FORGOTTEN_AT}'"
            )
        ),
        2
    );
    // A notice that bounced stays failed (it is not sent again), without
    // the server's words.
    assert_eq!(
        text(
            &conn,
            "SELECT error FROM consent_notice WHERE kind = 'withdrawal'"
        ),
        "erased (consent_forget)"
    );
    assert_eq!(
        notices::withdrawal_page_of(&conn, request_of(&conn, 1)).expect("page"),
        None
    );
    // The chain verifies, its head has not moved, and the register still
    // lists her.
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
    assert_eq!(log::verify(&conn).expect("verify"), Verdict::Ok);
    assert_eq!(log::head(&conn).expect("head"), head);
    assert_eq!(
        sql::cells(
            &conn,
            "SELECT customer_id, name, status, label, changed_at, request_id FROM consent_overview",
            [],
        ),
        overview_before
    );
    assert_eq!(
        sql::value(
            &conn,
            "SELECT reason FROM consent_overview WHERE customer_id = 1",
            []
        ),
        Value::Null
    );
    // Nobody else was touched: David's pending page is his.
    assert_eq!(
        occurrences(&conn, DAVIDS_PAGE, "1"),
        vec!["consent_request.page_id (1 rows)".to_owned()]
    );
    // The channel stays in the requests; the events' details are gone.
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM consent_request WHERE customer_id = 1 AND channel = 'email'"
        ),
        2
    );

    // Idempotent: a second call erases nothing more and changes nothing.
    let after = everything(&conn);
    assert_eq!(
        text(&conn, "SELECT consent_forget(1, '2026-12-02T12:00:00Z')"),
        "{\"requests_erased\":0,\"notices_erased\":0,\"events_erased\":0,\"events_kept\":0,\"commands_deleted\":0}"
    );
    assert_eq!(everything(&conn), after);
    assert_eq!(log::head(&conn).expect("head"), head);
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");

    // Life goes on after the erasure: she can be asked again, and the
    // chain goes on from the same head.
    assert_eq!(
        text(&conn, "SELECT consent_queue(1, '2026-12-03T09:00:00Z')"),
        "queued"
    );
    assert_eq!(log::head(&conn).expect("head").last_id, head.last_id + 1);
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
}

#[test]
fn a_pending_request_must_be_revoked_first_and_an_unknown_customer_is_an_error() {
    let conn = anna_s_life();
    let before = everything(&conn);
    let e = error(&conn, "SELECT consent_forget(4)");
    assert_eq!(
        e,
        "consent_forget: customer 4 is 'sent'; erasing the page of a pending request would leave \
         a link that can never be answered; revoke first: consent_revoke(id, 'erasure requested'), \
         then call consent_forget(id)"
    );
    assert_eq!(everything(&conn), before, "a refused call changes nothing");
    let e = error(&conn, "SELECT consent_forget(99)");
    assert!(
        e.starts_with("consent_forget: no customer with id 99"),
        "{e}"
    );
    let e = error(&conn, "SELECT consent_forget(1, 'next week')");
    assert!(e.contains("at 'next week' is not a time"), "{e}");
    assert_eq!(everything(&conn), before);

    // Revoked first, then forgotten; the status stays what the revoke made.
    assert_eq!(
        text(
            &conn,
            "SELECT consent_revoke(4, 'erasure requested', '2026-12-01T11:00:00Z')"
        ),
        "denied"
    );
    let head = log::head(&conn).expect("head");
    assert_eq!(
        text(&conn, "SELECT consent_forget(4, '2026-12-01T12:00:00Z')"),
        "{\"requests_erased\":1,\"notices_erased\":0,\"events_erased\":2,\"events_kept\":0,\"commands_deleted\":0}"
    );
    assert_eq!(occurrences(&conn, DAVIDS_PAGE, "1"), Vec::<String>::new());
    assert_eq!(text(&conn, "SELECT consent_status(4)"), "denied");
    assert_eq!(log::head(&conn).expect("head"), head);
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");

    // A customer never asked: nothing to erase, no error.
    assert_eq!(
        text(&conn, "SELECT consent_forget(3)"),
        "{\"requests_erased\":0,\"notices_erased\":0,\"events_erased\":0,\"events_kept\":0,\"commands_deleted\":0}"
    );
    assert_eq!(text(&conn, "SELECT consent_status(3)"), "missing");
}

#[test]
fn an_erasure_cannot_be_made_by_hand() {
    let dir = Scratch::new("forget-by-hand");
    let path = dir.join("billing.db");
    drop(anna_s_life_in(Connection::open(&path).expect("open")));
    let event: i64 = {
        let plain = Connection::open(&path).expect("open");
        int(
            &plain,
            "SELECT min(id) FROM consent_event WHERE customer_id = 1 AND detail IS NOT NULL",
        )
    };
    // The erasure, as someone would write it by hand (the right
    // commitment included), and variations of it.
    let commitment = {
        let conn = consent_testkit::sample::open(&path);
        text(
            &conn,
            &format!(
                "SELECT consent_event_detail_sha256(detail) FROM consent_event WHERE id = {event}"
            ),
        )
    };
    let forged = [
        format!(
            "UPDATE consent_event SET detail = NULL, detail_sha256 = '{commitment}', \
             erased_at = '2026-12-01T12:00:00Z' WHERE id = {event}"
        ),
        format!("UPDATE consent_event SET detail = NULL WHERE id = {event}"),
        format!("UPDATE consent_event SET detail_sha256 = '{commitment}' WHERE id = {event}"),
        "UPDATE consent_request SET page_id = NULL, reason = NULL WHERE customer_id = 1".to_owned(),
        "UPDATE consent_notice SET page_id = NULL".to_owned(),
    ];
    let before = {
        let plain = Connection::open(&path).expect("open");
        everything(&plain)
    };
    // Without the extension: the guard function does not exist.
    let plain = Connection::open(&path).expect("open without the extension");
    for statement in &forged {
        let e = plain
            .execute_batch(statement)
            .map(|()| "(accepted)".to_owned())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            e.contains("no such function: consent_"),
            "{statement}\n  gave: {e}"
        );
    }
    drop(plain);
    // With the extension loaded, outside its functions.
    let conn = consent_testkit::sample::open(&path);
    for statement in &forged {
        let e = conn
            .execute_batch(statement)
            .map(|()| "(accepted)".to_owned())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            e.contains("append-only") || e.contains("written only by"),
            "{statement}\n  gave: {e}"
        );
    }
    assert_eq!(everything(&conn), before, "a refused write changes nothing");
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
}

/// Drops every trigger on the consent tables, as someone who can write the
/// file may.
fn drop_all_triggers(conn: &Connection) {
    let triggers: Vec<String> = sql::column(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'consent\\_%' ESCAPE '\\'",
    );
    for name in triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{name}\""))
            .unwrap_or_else(|e| panic!("DROP TRIGGER {name}: {e}"));
    }
}

#[test]
fn tampering_with_an_erased_event_is_found() {
    let forgotten = || {
        let conn = anna_s_life();
        sql::call(
            &conn,
            &format!("SELECT consent_forget(1, '{FORGOTTEN_AT}')"),
        );
        assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
        drop_all_triggers(&conn);
        let event = int(
            &conn,
            "SELECT min(id) FROM consent_event WHERE customer_id = 1 AND erased_at IS NOT NULL",
        );
        (conn, event)
    };
    let breaks = |conn: &Connection, event: i64| {
        let v = text(conn, "SELECT consent_verify_log()");
        assert!(
            v.starts_with(&format!("consent_event row {event} ")),
            "expected row {event} named, got: {v}"
        );
        v
    };

    // Another commitment in place of the erased detail's.
    let (conn, event) = forgotten();
    conn.execute(
        "UPDATE consent_event SET detail_sha256 = ?1 WHERE id = ?2",
        rusqlite::params![sha256_hex("manual"), event],
    )
    .expect("edit, triggers gone");
    let v = breaks(&conn, event);
    assert!(v.contains("breaks the chain"), "{v}");

    // The form changed: v2 claimed as v1, or as something else.
    for form in ["1", "NULL", "3"] {
        let (conn, event) = forgotten();
        conn.execute_batch(&format!(
            "UPDATE consent_event SET form = {form} WHERE id = {event}"
        ))
        .expect("edit, triggers gone");
        breaks(&conn, event);
    }

    // The erasure undone by hand with a made-up detail, and the erasure
    // mark dropped so that the commitment would be taken as the detail's.
    let (conn, event) = forgotten();
    conn.execute_batch(&format!(
        "UPDATE consent_event SET detail = 'manual', erased_at = NULL WHERE id = {event}"
    ))
    .expect("edit, triggers gone");
    breaks(&conn, event);
    // ... or kept, with a detail beside it.
    let (conn, event) = forgotten();
    conn.execute_batch(&format!(
        "UPDATE consent_event SET detail = 'manual' WHERE id = {event}"
    ))
    .expect("edit, triggers gone");
    let v = breaks(&conn, event);
    assert!(v.contains("erased"), "{v}");

    // A row that was never erased cannot be given a commitment and another
    // detail: while erased_at is NULL its own detail is hashed.
    let conn = anna_s_life();
    drop_all_triggers(&conn);
    let event = int(
        &conn,
        "SELECT min(id) FROM consent_event WHERE customer_id = 1 AND detail IS NOT NULL",
    );
    let commitment = text(
        &conn,
        &format!(
            "SELECT consent_event_detail_sha256(detail) FROM consent_event WHERE id = {event}"
        ),
    );
    conn.execute_batch(&format!(
        "UPDATE consent_event SET detail = 'forged', detail_sha256 = '{commitment}' WHERE id = {event}"
    ))
    .expect("edit, triggers gone");
    breaks(&conn, event);

    // The approval's evidence changed after its event was erased: its
    // commitment no longer matches.
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    consent_extension::register(&conn).expect("register");
    SetUp::customers().apply(&conn);
    sql::call(&conn, "SELECT consent_approve(3, 'manual', '2026-11-04')");
    sql::call(&conn, "SELECT consent_forget(3, '2026-11-05')");
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
    drop_all_triggers(&conn);
    conn.execute_batch("UPDATE consent_request SET evidence = 'forged' WHERE customer_id = 3")
        .expect("edit, triggers gone");
    let v = text(&conn, "SELECT consent_verify_log()");
    assert!(
        v.contains("(customer 3) is approved with evidence 'forged'"),
        "{v}"
    );
}
