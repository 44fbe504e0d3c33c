//! The DBA's everyday scripts in sql/scripts run as they are and do what
//! their comments promise.

use consent_extension::register;
use consent_testkit::repo_root;
use consent_testkit::sample::{SetUp, CUSTOMERS};
use consent_testkit::sql::{self, shown};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::Value;
use rusqlite::{Batch, Connection};

fn script(name: &str) -> String {
    let path = repo_root().join("sql/scripts").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs every statement of a script; returns each statement's rows as
/// `a|b|c` lines.
fn run(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut results = Vec::new();
    let mut batch = Batch::new(conn, sql);
    while let Some(mut stmt) = batch.next().expect("statement") {
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).expect("run");
        let mut lines = Vec::new();
        while let Some(row) = rows.next().expect("row") {
            let cells: Vec<String> = (0..columns)
                .map(|i| shown(row.get::<_, Value>(i).expect("cell")))
                .collect();
            lines.push(cells.join("|"));
        }
        results.push(lines);
    }
    results
}

/// The sample register, set up, nobody asked yet.
fn register_db() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    register(&conn).expect("register");
    SetUp::customers().apply(&conn);
    conn
}

#[test]
fn queue_missing_queues_everyone_not_yet_asked_and_is_safe_to_repeat() {
    let conn = register_db();
    let out = run(&conn, &script("queue_missing.sql"));
    assert_eq!(out[0], ["2"]);
    assert_eq!(
        out[1],
        [
            "Begäran om samtycke är köad|2",
            "Fel vid begäran av samtycke|2"
        ]
    );
    let again = run(&conn, &script("queue_missing.sql"));
    assert_eq!(again[0], ["0"], "a second run queues no one");
    assert_eq!(again[1], out[1]);
}

#[test]
fn requeue_errors_retries_the_failed_and_lists_who_is_left() {
    let conn = register_db();
    run(&conn, &script("queue_missing.sql"));
    sql::call(&conn, "SELECT consent_setting('sms_enabled', 1)");
    let out = run(&conn, &script("requeue_errors.sql"));
    assert_eq!(out[0], ["1"], "Bo can be reached by SMS now");
    assert_eq!(
        out[1],
        ["3|Cecilia Carlsson|Kunden saknar både e-postadress och mobilnummer"]
    );
    let again = run(&conn, &script("requeue_errors.sql"));
    assert_eq!(again[0], ["0"]);
}

#[test]
fn status_report_counts_every_status_with_its_swedish_label() {
    let conn = register_db();
    let out = run(&conn, &script("status_report.sql"));
    assert_eq!(
        out[0],
        [
            "Samtycke saknas|4",
            "Begäran om samtycke är köad|0",
            "Begäran om samtycke är skickat|0",
            "Samtycke är godkänt|0",
            "Samtycke är nekat|0",
            "Fel vid begäran av samtycke|0",
        ]
    );
    run(&conn, &script("queue_missing.sql"));
    sql::call(&conn, "SELECT consent_approve(1)");
    let out = run(&conn, &script("status_report.sql"));
    assert_eq!(out[0][1], "Begäran om samtycke är köad|1");
    assert_eq!(out[0][3], "Samtycke är godkänt|1");
    assert_eq!(out[0][5], "Fel vid begäran av samtycke|2");
    assert_eq!(
        out[1].len(),
        2,
        "both customers in error are listed: {:?}",
        out[1]
    );
    let before = sql::int(&conn, "SELECT count(*) FROM consent_event");
    run(&conn, &script("status_report.sql"));
    let after = sql::int(&conn, "SELECT count(*) FROM consent_event");
    assert_eq!(before, after, "the report writes nothing");
}
