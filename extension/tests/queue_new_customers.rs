//! Queue on create (`consent_setting('queue_new_customers', '1')`), the
//! command table and the status view, beside the billing application's
//! own schema changes: with every option on, the billing application, on
//! a connection that never loaded the extension, still adds, renames and
//! drops its columns, renames its table, and rebuilds it; new customers
//! are queued through `consent_command`; and a rebuild that dropped the
//! trigger is noticed and undone.

use consent_extension::new_customers::{self, TriggerCheck};
use consent_testkit::host::sqlite3;
use consent_testkit::sample;
use consent_testkit::sql::{self, error, int, text};
use consent_testkit::{require, Scratch, Tool};
use rusqlite::Connection;

/// A billing table with a language column, every customer reachable.
const BILLING: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT,
                        lang TEXT, notes TEXT, fax TEXT);
INSERT INTO customers (id, name, email, mobile, lang) VALUES
  (1, 'Anna Andersson', 'anna@example.se', NULL, 'sv'),
  (2, 'Bo Berg', NULL, '0701234567', 'en-GB');
";

/// Every option on: the language column, SMS, queue on create, English
/// labels; Anna queued, Bo approved, one command pending.
fn register_with_every_option(dir: &Scratch) -> std::path::PathBuf {
    let path = dir.path().join("billing.db");
    let conn = sample::open(&path);
    conn.execute_batch(BILLING).expect("billing table");
    for sql in [
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'lang')",
        "SELECT consent_setting('sms_enabled', '1')",
        "SELECT consent_setting('language', 'en')",
    ] {
        sql::call(&conn, sql);
    }
    // Queue on create needs the information text first.
    let e = error(&conn, "SELECT consent_setting('queue_new_customers', '1')");
    assert!(e.contains("set the information text first"), "{e}");
    for sql in [
        "SELECT consent_setting('info_text', 'Vi sparar din e-post.')",
        "SELECT consent_setting('queue_new_customers', '1')",
        "SELECT consent_queue(1)",
        "SELECT consent_approve(2)",
    ] {
        sql::call(&conn, sql);
    }
    conn.execute_batch("INSERT INTO consent_command (customer_id, command) VALUES (1, 'revoke')")
        .expect("a pending command");
    path
}

fn commands(conn: &Connection) -> Vec<String> {
    sql::column(
        conn,
        "SELECT customer_id || ' ' || command || ' ' || coalesce(note, '-') || ' ' || coalesce(outcome, 'pending') \
         FROM consent_command ORDER BY id",
    )
}

#[test]
fn new_customers_are_queued_through_the_command_table() {
    let dir = Scratch::new("queue-new");
    let path = register_with_every_option(&dir);
    // The billing application, without the extension.
    let plain = Connection::open(&path).expect("open without the extension");
    plain
        .execute_batch(
            "INSERT INTO customers (id, name, email, lang) VALUES (3, 'Cia Ek', 'cia@example.se', 'svenska');
             INSERT INTO customers (name) VALUES ('Dan Ny');",
        )
        .expect("new customers, without the extension");
    assert_eq!(
        commands(&plain),
        [
            "1 revoke - pending",
            "3 queue new customer pending",
            "4 queue new customer pending"
        ]
    );
    drop(plain);

    let conn = sample::open(&path);
    assert_eq!(int(&conn, "SELECT consent_apply_commands()"), 3);
    assert_eq!(text(&conn, "SELECT consent_status(1)"), "denied");
    assert_eq!(text(&conn, "SELECT consent_status(3)"), "queued");
    assert_eq!(
        text(&conn, "SELECT consent_status(4)"),
        "error",
        "no contact"
    );
    drop(conn);

    // An application that saves an edit with INSERT OR REPLACE inserts the
    // row again: Anna, who declined, is not asked again for it, nor Cia,
    // already asked; a customer never asked is.
    let plain = Connection::open(&path).expect("open without the extension");
    plain
        .execute_batch(
            "INSERT OR REPLACE INTO customers (id, name, email, lang) VALUES (1, 'Anna Ny', 'anna@example.se', 'sv');
             INSERT OR REPLACE INTO customers (id, name, email, lang) VALUES (3, 'Cia Ek', 'cia@example.com', 'sv');
             INSERT INTO customers (id, name, email) VALUES (6, 'Fia', 'fia@example.se');
             INSERT OR REPLACE INTO customers (id, name, email) VALUES (6, 'Fia Falk', 'fia@example.se');",
        )
        .expect("edits saved by REPLACE, without the extension");
    assert_eq!(
        commands(&plain)[3..],
        [
            "6 queue new customer pending".to_owned(),
            "6 queue new customer pending".to_owned()
        ],
        "Fia twice: both before her first command was applied"
    );
    drop(plain);
    let conn = sample::open(&path);
    assert_eq!(int(&conn, "SELECT consent_apply_commands()"), 2);
    assert_eq!(text(&conn, "SELECT consent_status(1)"), "denied");
    assert_eq!(text(&conn, "SELECT consent_status(6)"), "queued");
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM consent_event WHERE customer_id = 6"
        ),
        1,
        "the second command changed nothing"
    );
    // Turned off, new customers are left alone.
    sql::call(&conn, "SELECT consent_setting('queue_new_customers', '0')");
    assert_eq!(new_customers::trigger_sql(&conn).expect("read"), None);
    conn.execute_batch("INSERT INTO customers (id, name) VALUES (5, 'Eva')")
        .expect("insert");
    assert_eq!(int(&conn, "SELECT count(*) FROM consent_command"), 5);
}

#[test]
fn schema_changes_work_with_every_option_on() {
    let dir = Scratch::new("queue-new-alter");
    let path = register_with_every_option(&dir);
    // rusqlite's bundled SQLite, without the extension: ALTER TABLE
    // re-checks every trigger and view of the schema, ours among them.
    let plain = Connection::open(&path).expect("open without the extension");
    plain
        .execute_batch(
            "ALTER TABLE customers ADD COLUMN customer_since TEXT;
             ALTER TABLE customers DROP COLUMN notes;
             ALTER TABLE customers RENAME COLUMN name TO full_name;
             ALTER TABLE customers RENAME COLUMN id TO customer_no;
             ALTER TABLE customers RENAME TO clients;
             INSERT INTO clients (customer_no, full_name, email) VALUES (10, 'Gun', 'gun@example.se');
             PRAGMA integrity_check;",
        )
        .expect("the billing application's schema changes, without the extension");
    // The trigger followed the renames.
    let trigger = new_customers::trigger_sql(&plain)
        .expect("read")
        .expect("the trigger is still there");
    assert!(
        trigger.contains("\"clients\"") && trigger.contains("customer_no"),
        "{trigger}"
    );
    assert_eq!(
        commands(&plain).last().map(String::as_str),
        Some("10 queue new customer pending")
    );
    // The status view needs nothing of the billing table.
    assert_eq!(
        sql::column::<String>(&plain, "SELECT customer_id || ' ' || status || ' ' || label FROM consent_statuses ORDER BY customer_id"),
        ["1 queued Consent request queued", "2 approved Consent approved"]
    );
    drop(plain);

    // The register says what to do, and the commands wait for it.
    let conn = sample::open(&path);
    let e = error(&conn, "SELECT consent_apply_commands()");
    assert!(e.contains("consent_init"), "{e}");
    sql::call(
        &conn,
        "SELECT consent_init('clients', 'customer_no', 'email', 'mobile', 'full_name', 'lang')",
    );
    assert_eq!(int(&conn, "SELECT consent_apply_commands()"), 2);
    assert_eq!(text(&conn, "SELECT consent_status(10)"), "queued");
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
    drop(conn);

    // Debian's sqlite3 shell, which never loaded the extension.
    if !require(&[Tool::Sqlite3Shell]) {
        return;
    }
    let run = sqlite3(
        &path,
        "ALTER TABLE clients ADD COLUMN remarks TEXT;\n\
         ALTER TABLE clients RENAME COLUMN remarks TO memo;\n\
         ALTER TABLE clients DROP COLUMN memo;\n\
         ALTER TABLE clients DROP COLUMN fax;\n\
         ALTER TABLE clients RENAME COLUMN full_name TO display_name;\n\
         INSERT INTO clients (customer_no, display_name, email) VALUES (11, 'Hans', 'hans@example.se');\n\
         SELECT status FROM consent_statuses WHERE customer_id = 10;\n\
         PRAGMA integrity_check;\n",
        &dir,
        "alter-in-shell",
    );
    run.assert_clean("ALTER TABLE in the sqlite3 shell without the extension");
    assert_eq!(run.stdout, "queued\nok\n");
    let conn = sample::open(&path);
    assert_eq!(
        commands(&conn).last().map(String::as_str),
        Some("11 queue new customer pending")
    );
}

#[test]
fn a_rebuilt_billing_table_gets_its_trigger_back_and_sync_is_told() {
    let dir = Scratch::new("queue-new-rebuild");
    let path = register_with_every_option(&dir);
    let conn = sample::open(&path);
    assert_eq!(
        new_customers::restore(&conn).expect("check"),
        TriggerCheck::InPlace
    );
    drop(conn);
    // The 12-step rebuild SQLite documents for changes ALTER TABLE cannot
    // make: the trigger goes with the old table.
    let plain = Connection::open(&path).expect("open without the extension");
    plain
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             BEGIN;
             CREATE TABLE new_customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '',
                                         email TEXT, mobile TEXT, lang TEXT, notes TEXT, fax TEXT);
             INSERT INTO new_customers SELECT id, coalesce(name, ''), email, mobile, lang, notes, fax FROM customers;
             DROP TABLE customers;
             ALTER TABLE new_customers RENAME TO customers;
             COMMIT;
             INSERT INTO customers (id, name, email) VALUES (20, 'Ivar', 'ivar@example.se');",
        )
        .expect("the rebuild, without the extension");
    assert_eq!(new_customers::trigger_sql(&plain).expect("read"), None);
    drop(plain);

    let conn = sample::open(&path);
    assert_eq!(
        new_customers::restore(&conn).expect("restore"),
        TriggerCheck::Restored {
            table: "customers".to_owned()
        }
    );
    conn.execute_batch(
        "INSERT INTO customers (id, name, email) VALUES (21, 'Jon', 'jon@example.se')",
    )
    .expect("insert");
    assert_eq!(
        commands(&conn).last().map(String::as_str),
        Some("21 queue new customer pending")
    );
    // Ivar, added while it was gone, was not queued; the whole register
    // can be caught up in one statement.
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM consent_command WHERE customer_id = 20"
        ),
        0
    );
    assert_eq!(int(&conn, "SELECT consent_apply_commands()"), 2);
    assert_eq!(int(&conn, "SELECT consent_queue_all()"), 1);
    assert_eq!(text(&conn, "SELECT consent_status(20)"), "queued");
}

/// Two connections applying the same commands at once (sync and a DBA, or
/// two syncs), while the billing application adds customers: every
/// command is taken exactly once, and every change is in the log once.
#[test]
fn commands_are_taken_exactly_once_by_connections_racing() {
    let dir = Scratch::new("commands-race");
    let path = dir.path().join("billing.db");
    let conn = sample::open(&path);
    conn.execute_batch(&sample::numbered_customers(1500))
        .expect("billing table");
    for sql in [
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
        "SELECT consent_setting('info_text', 'Vi sparar din e-post.')",
        "SELECT consent_setting('queue_new_customers', '1')",
    ] {
        sql::call(&conn, sql);
    }
    // Each customer: queue, then approve; some unknown ids between them.
    conn.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
         INSERT INTO consent_command (customer_id, command)
           SELECT i, 'queue' FROM n UNION ALL SELECT i, 'approve' FROM n UNION ALL
           SELECT 10000 + i, 'revoke' FROM n WHERE i % 10 = 0;",
    )
    .expect("commands");
    drop(conn);

    let racer = |label: &'static str| {
        let path = path.clone();
        std::thread::spawn(move || {
            let conn = sample::open(&path);
            conn.busy_timeout(std::time::Duration::from_secs(30))
                .expect("busy timeout");
            let taken = consent_extension::commands::apply_pending(&conn, &mut || {})
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            (taken.applied, taken.refused)
        })
    };
    let billing = {
        let path = path.clone();
        std::thread::spawn(move || {
            let conn = Connection::open(&path).expect("open without the extension");
            conn.busy_timeout(std::time::Duration::from_secs(30))
                .expect("busy timeout");
            for i in 1501..=1550 {
                conn.execute(
                    "INSERT INTO customers (id, name, email) VALUES (?1, 'Ny', 'ny@example.se')",
                    [i],
                )
                .expect("a new customer while commands are applied");
            }
        })
    };
    let (a, b) = (racer("a"), racer("b"));
    let (a, b) = (a.join().expect("a"), b.join().expect("b"));
    billing.join().expect("billing");
    let conn = sample::open(&path);
    // The new customers' commands may have come after both runs ended.
    let late = consent_extension::commands::apply_pending(&conn, &mut || {}).expect("late");
    assert_eq!(
        a.0 + b.0 + late.applied,
        3050,
        "1500 queued, 1500 approved, 50 new customers queued: a {a:?}, b {b:?}"
    );
    assert_eq!(a.1 + b.1 + late.refused, 150, "the unknown ids");
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM consent_command WHERE outcome IS NULL"
        ),
        0
    );
    // One event per change: 1500 queued + 1500 approved + 50 queued.
    assert_eq!(int(&conn, "SELECT count(*) FROM consent_event"), 3050);
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM consent_statuses WHERE status = 'approved'"
        ),
        1500
    );
    assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");
}
