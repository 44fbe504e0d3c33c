//! The real libconsent.so loaded through the drivers legacy billing
//! applications are written against: unixODBC with the SQLite ODBC driver
//! (`odbc`), PHP's SQLite3 (`php`) and the SQLite JDBC driver (`java`).
//! Each runs the same walk of one customer (`walk.sql`, `walk.php`,
//! `Walk.java`, kept beside this file so they read as an application would
//! be written): queue -> status -> approve -> status -> revoke -> status,
//! and an unknown customer, whose error must come through the driver. The
//! test checks every line the program prints, then the events the walk left
//! in the register. `docs` runs the snippets of docs/drivers.md.
//!
//! Python is driven by extension/tests/loadable. PHP's PDO, which cannot
//! load the extension, uses the command table; its end-to-end test runs
//! `consent-portal sync` and lives in portal/tests/pipeline/pdo_program.rs.
//!
//! Without a driver these tests are skipped (a note on stderr and a line in
//! the skip list); under `CI=true` they fail.

mod docs;
mod java;
mod odbc;
mod php;

use std::path::{Path, PathBuf};

use consent_extension::{Language, Status};
use consent_testkit::host::Run;
use consent_testkit::sample::{self, SetUp, CUSTOMERS};
use consent_testkit::{repo_root, sql, Scratch};

/// This folder, which holds the driver programs.
pub fn programs() -> PathBuf {
    repo_root().join("extension").join("tests").join("drivers")
}

/// A register on disk, as the billing application left it: [`CUSTOMERS`]
/// with consent set up (`consent_init` and the information text), nobody
/// asked yet.
pub struct Register {
    pub dir: Scratch,
    pub db: PathBuf,
}

impl Register {
    pub fn new(label: &str) -> Register {
        let dir = Scratch::new(label);
        let db = dir.join("billing.db");
        let conn = sample::open(&db);
        conn.execute_batch(CUSTOMERS).expect("the customers");
        SetUp::customers().apply(&conn);
        Register { dir, db }
    }
}

/// The `step|value|...` lines a walk program printed, as (step, rest).
pub fn steps(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|line| match line.split_once('|') {
            Some((step, rest)) => (step.to_owned(), rest.to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect()
}

/// For a program that closes its connection itself and prints
/// `closed|yes` last: checks it ran cleanly and closed (`closing` names the
/// call), then the walk before that ([`assert_walk`]). Returns the SQLite
/// version the driver reported.
pub fn assert_walk_and_close(driver: &str, closing: &str, run: &Run, db: &Path) -> String {
    run.assert_clean(driver);
    let mut lines = steps(&run.stdout);
    assert_eq!(
        lines.pop(),
        Some(("closed".to_owned(), "yes".to_owned())),
        "{driver}: {closing}"
    );
    assert_walk(driver, run, &lines, db)
}

/// A status and the label the (Swedish) register shows for it.
fn shown(status: Status) -> String {
    format!("{}|{}", status.as_str(), status.label(Language::Sv))
}

/// Checks the lines a walk printed: every step's value, the labels with
/// their å, ä and ö intact, the unknown customer's error as the extension
/// wrote it. Then checks what the walk left in the register: one event per
/// change, with the evidence and the reason the program passed, a log that
/// verifies, a database closed cleanly. Returns the SQLite version the
/// driver reported.
pub fn assert_walk(driver: &str, run: &Run, steps: &[(String, String)], db: &Path) -> String {
    let context = || {
        format!(
            "{driver}: {}\n--- stdout\n{}--- stderr\n{}",
            run.status, run.stdout, run.stderr
        )
    };
    let names: Vec<&str> = steps.iter().map(|(step, _)| step.as_str()).collect();
    assert_eq!(
        names,
        [
            "version", "missing", "queue", "queued", "approve", "approved", "revoke", "denied",
            "unknown", "after"
        ],
        "{}",
        context()
    );
    let value = |name: &str| -> &str {
        &steps
            .iter()
            .find(|(step, _)| step == name)
            .expect("listed above")
            .1
    };
    let expected = [
        ("missing", shown(Status::Missing)),
        ("queue", "queued".to_owned()),
        ("queued", shown(Status::Queued)),
        ("approve", "approved".to_owned()),
        ("approved", shown(Status::Approved)),
        ("revoke", "denied".to_owned()),
        ("denied", shown(Status::Denied)),
        // The error changed nothing: three events, all for the walk.
        ("after", "denied|3".to_owned()),
    ];
    for (step, wanted) in expected {
        assert_eq!(value(step), wanted, "step {step}: {}", context());
    }
    assert!(
        value("queued").ends_with("Begäran om samtycke är köad"),
        "{}",
        context()
    );
    let unknown = value("unknown");
    assert!(
        unknown.contains(
            "consent_queue: no customer with id 999 in table \"customers\"; \
             pass an id from \"customers\".\"id\""
        ),
        "the unknown customer's error, through {driver}: {unknown:?}\n{}",
        context()
    );

    // What the walk left: the driver committed each call and closed.
    assert!(
        !db.with_extension("db-journal").exists() && !db.with_extension("db-wal").exists(),
        "{driver} left a journal beside {}",
        db.display()
    );
    let conn = sample::open(db);
    assert_eq!(sql::text(&conn, "PRAGMA integrity_check"), "ok");
    let events = sql::rows(
        &conn,
        "SELECT from_status, to_status, actor, coalesce(detail, 'NULL') FROM consent_event \
         WHERE customer_id = 1 ORDER BY id",
        [],
        |r| {
            Ok(format!(
                "{}>{} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?
            ))
        },
    );
    assert_eq!(
        events,
        [
            "missing>queued consent_queue NULL",
            "queued>approved consent_approve phoned the office",
            "approved>denied consent_revoke customer wrote in",
        ],
        "the events {driver} wrote"
    );
    assert_eq!(
        sql::int(&conn, "SELECT count(*) FROM consent_event"),
        3,
        "events for anyone else"
    );
    assert_eq!(sql::text(&conn, "SELECT consent_verify_log()"), "ok");

    let version = value("version").to_owned();
    let parts: Vec<u32> = version
        .split('.')
        .map(|p| {
            p.parse()
                .unwrap_or_else(|_| panic!("{driver}: version {version:?}"))
        })
        .collect();
    assert!(
        parts.len() == 3 && parts >= vec![3, 14, 0],
        "{driver} runs SQLite {version}; the extension needs 3.14.0 or newer"
    );
    version
}
