//! consent_init, schema migrations, living beside the billing application,
//! and the errors a DBA sees: each names the function, the value and the fix.

use consent_extension::register;
use consent_testkit::sample::{SetUp, CUSTOMERS};
use consent_testkit::sql::{self, error};
use consent_testkit::Scratch;
use rusqlite::Connection;

/// The sample register in a file, with two columns of the billing
/// application's own that consent never records.
fn billing(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    conn.execute_batch(
        "ALTER TABLE customers ADD COLUMN notes TEXT; ALTER TABLE customers ADD COLUMN fax TEXT;",
    )
    .expect("the application's own columns");
    conn
}

fn with_consent(conn: &Connection) {
    register(conn).expect("register");
    SetUp::customers().apply(conn);
}

/// The value of a statement, as `{:?}` of its rusqlite value.
fn value(conn: &Connection, sql: &str) -> String {
    format!("{:?}", sql::value(conn, sql, []))
}

/// The schema version `consent_init` recorded (0: none yet).
fn schema_version(conn: &Connection) -> i64 {
    let has_meta = sql::int(
        conn,
        "SELECT count(*) FROM sqlite_master WHERE name = 'consent_meta'",
    );
    if has_meta == 0 {
        return 0;
    }
    sql::int(
        conn,
        "SELECT value FROM consent_meta WHERE key = 'schema_version'",
    )
}

/// Each statement fails with a message holding every one of its fragments.
fn assert_errors(conn: &Connection, cases: &[(&str, &[&str])]) {
    for (sql, fragments) in cases {
        let e = error(conn, sql);
        for fragment in *fragments {
            assert!(
                e.contains(fragment),
                "{sql}\n  message: {e}\n  lacks: {fragment}"
            );
        }
    }
}

/// [`billing`] in a scratch folder: the folder, the database's path and a
/// connection to it.
fn billing_db(name: &str) -> (Scratch, std::path::PathBuf, Connection) {
    let dir = Scratch::new(name);
    let path = dir.join("billing.db");
    let conn = billing(&path);
    (dir, path, conn)
}

#[test]
fn every_misuse_is_an_error_that_says_what_to_do() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT, name TEXT);
         CREATE TABLE loose (nr INTEGER, email TEXT, mobile TEXT);
         INSERT INTO customers VALUES (1, 'a@example.se', NULL, 'Anna');",
    )
    .expect("fixture");
    register(&conn).expect("register");
    // (statement, every fragment its message must hold)
    let before_setup: &[(&str, &[&str])] = &[
        ("SELECT consent_status(1)", &["consent_status", "not set up", "consent_init("]),
        ("SELECT consent_queue_all()", &["consent_queue_all", "not set up"]),
        ("SELECT consent_expire()", &["consent_expire", "not set up"]),
        ("SELECT * FROM consent_overview", &["consent_overview", "not set up"]),
        ("SELECT consent_setting('language', 'en')", &["consent_setting", "not set up"]),
        ("SELECT consent_init('kunder', 'id', 'email', 'mobile')", &["consent_init", "no table \"kunder\"", "\"customers\""]),
        ("SELECT consent_init('customers', 'id', 'epost', 'mobile')", &["consent_init", "no column \"epost\"", "e-mail", "id, email, mobile, name"]),
        ("SELECT consent_init('loose', 'nr', 'email', 'mobile')", &["consent_init", "\"nr\"", "not unique", "CREATE UNIQUE INDEX"]),
        ("SELECT consent_init('customers', 'id', 'email')", &["consent_init", "takes consent_init(table, id_column, email_column, mobile_column [, name_column [, language_column]]), got 3 arguments"]),
        ("SELECT consent_init('customers', NULL, 'email', 'mobile')", &["consent_init", "id_column is NULL"]),
    ];
    assert_errors(&conn, before_setup);
    // Reading a setting before setup gives its default.
    assert_eq!(
        value(&conn, "SELECT consent_setting('expiry_days')"),
        "Integer(7)"
    );
    assert_eq!(
        value(&conn, "SELECT consent_label('sent')"),
        "Text(\"Begäran om samtycke är skickat\")"
    );

    value(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
    );
    let after_setup: &[(&str, &[&str])] = &[
        (
            "SELECT consent_status(99)",
            &[
                "consent_status",
                "no customer with id 99",
                "\"customers\".\"id\"",
            ],
        ),
        (
            "SELECT consent_status('nine')",
            &["consent_status", "no customer with id 'nine'"],
        ),
        (
            "SELECT consent_queue(NULL)",
            &["consent_queue", "id is NULL", "consent_queue(id [, at])"],
        ),
        (
            "SELECT consent_queue(1, 'tomorrow')",
            &["consent_queue", "at 'tomorrow' is not a time", "ISO-8601"],
        ),
        (
            "SELECT consent_queue(1)",
            &[
                "consent_queue",
                "information text is not set",
                "consent_setting('info_text'",
            ],
        ),
        (
            "SELECT consent_queue(1, 2, 3)",
            &[
                "consent_queue",
                "takes consent_queue(id [, at]), got 3 arguments",
            ],
        ),
        (
            "SELECT consent_status()",
            &["takes consent_status(id), got 0 arguments"],
        ),
        (
            "SELECT consent_version(1)",
            &["takes consent_version(), got 1 argument"],
        ),
        (
            "SELECT consent_mark_sent(1, 'email')",
            &[
                "consent_mark_sent",
                "customer 1 is 'missing'",
                "queue it first",
            ],
        ),
        (
            "SELECT consent_mark_error(1, 'x')",
            &["consent_mark_error", "customer 1 is 'missing'"],
        ),
        (
            "SELECT consent_mark_error(1, NULL)",
            &["consent_mark_error", "reason is NULL"],
        ),
        (
            "SELECT consent_mark_sent(1, 'fax')",
            &[
                "consent_mark_sent",
                "unknown channel 'fax'",
                "'email' or 'sms'",
            ],
        ),
        (
            "SELECT consent_mark_sent(1, 'email', 'short')",
            &["consent_mark_sent", "page_id must be"],
        ),
        (
            "SELECT consent_setting('colour')",
            &[
                "consent_setting",
                "unknown setting 'colour'",
                "info_text, business_name, sms_enabled, expiry_days, language",
            ],
        ),
        (
            "SELECT consent_setting('sms_enabled', 'yes')",
            &[
                "consent_setting",
                "'yes' is not a valid value for sms_enabled",
                "0 or 1",
            ],
        ),
        (
            "SELECT consent_setting('expiry_days', 0)",
            &["'0' is not a valid value for expiry_days", "1 to 365"],
        ),
        (
            "SELECT consent_setting('language', 'de')",
            &["'de' is not a valid value for language", "'sv'"],
        ),
        (
            "SELECT consent_setting('info_text', '   ')",
            &["not a valid value for info_text", "not blank"],
        ),
        (
            "SELECT consent_setting('info_text', NULL)",
            &["consent_setting", "value is NULL"],
        ),
        (
            "SELECT consent_setting(x'00')",
            &["consent_setting", "key is a blob"],
        ),
        (
            "SELECT consent_queue_all('nobody')",
            &["consent_queue_all", "unknown status 'nobody'"],
        ),
    ];
    assert_errors(&conn, after_setup);
    assert_eq!(
        value(&conn, "SELECT count(*) FROM consent_request"),
        "Integer(0)",
        "no failed call wrote"
    );
}

#[test]
fn a_renamed_or_dropped_recorded_column_or_table_is_named() {
    let (_dir, path, conn) = billing_db("renamed");
    with_consent(&conn);
    value(&conn, "SELECT consent_queue(1)");
    // The billing application, on its own connection, renames a column.
    let app = Connection::open(&path).expect("open");
    app.execute_batch("ALTER TABLE customers RENAME COLUMN email TO e_mail")
        .expect("rename");
    let renamed: &[&str] = &[
        "column \"email\" of table \"customers\"",
        "run consent_init again",
    ];
    assert_errors(
        &conn,
        &[
            ("SELECT consent_status(1)", renamed),
            ("SELECT consent_queue_all()", renamed),
        ],
    );
    value(
        &conn,
        "SELECT consent_init('customers', 'id', 'e_mail', 'mobile', 'name')",
    );
    assert_eq!(
        value(&conn, "SELECT consent_status(1)"),
        "Text(\"queued\")",
        "history kept"
    );
    app.execute_batch("ALTER TABLE customers RENAME TO clients")
        .expect("rename table");
    let gone: &[&str] = &["table \"customers\"", "no longer exists"];
    assert_errors(
        &conn,
        &[
            ("SELECT consent_status(1)", gone),
            ("SELECT * FROM consent_overview", gone),
            ("SELECT consent_queue_all()", gone),
        ],
    );
}

#[test]
fn another_connection_re_running_init_is_noticed() {
    let (_dir, path, conn) = billing_db("reinit");
    with_consent(&conn);
    assert_eq!(
        value(&conn, "SELECT consent_queue(2)"),
        "Text(\"error\")",
        "Bo has no e-mail"
    );
    let other = Connection::open(&path).expect("open");
    register(&other).expect("register");
    other
        .execute_batch("UPDATE customers SET notes = 'bo@example.se' WHERE id = 2")
        .expect("update");
    value(
        &other,
        "SELECT consent_init('customers', 'id', 'notes', 'mobile')",
    );
    // The first connection's cached setup is stale; it must read the new one.
    assert_eq!(value(&conn, "SELECT consent_queue(2)"), "Text(\"queued\")");
}

#[test]
fn the_billing_application_can_still_alter_its_table() {
    let (_dir, path, conn) = billing_db("alter");
    with_consent(&conn);
    value(&conn, "SELECT consent_queue(1)");
    value(&conn, "SELECT count(*) FROM consent_overview");
    // The application's own connection, without the extension.
    let app = Connection::open(&path).expect("open");
    app.execute_batch(
        "ALTER TABLE customers DROP COLUMN fax;
         ALTER TABLE customers RENAME COLUMN notes TO remarks;
         ALTER TABLE customers ADD COLUMN vat_number TEXT;",
    )
    .expect("the billing application's schema changes must work");
    // And on the connection that loaded us, too (once it has seen the
    // other connection's changes: SQLite's DROP COLUMN does not reload a
    // stale schema by itself).
    assert_eq!(value(&conn, "SELECT consent_status(1)"), "Text(\"queued\")");
    conn.execute_batch("ALTER TABLE customers DROP COLUMN remarks")
        .expect("drop on our connection");
    assert_eq!(value(&conn, "SELECT consent_status(1)"), "Text(\"queued\")");
    assert_eq!(
        sql::int(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE type IN ('view', 'trigger') AND tbl_name = 'customers'",
        ),
        0,
        "nothing of ours is a view or trigger on the billing table"
    );
}

#[test]
fn a_failed_migration_leaves_the_schema_as_it_was() {
    let (_dir, _, conn) = billing_db("failed-migration");
    // Someone made a table that migration 2 wants to create.
    conn.execute_batch("CREATE TABLE consent_text (x)")
        .expect("squatter");
    register(&conn).expect("register");
    let e = error(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile')",
    );
    assert!(
        e.contains("consent_init") && e.contains("consent_text"),
        "{e}"
    );
    assert_eq!(schema_version(&conn), 0, "nothing half-applied");
    assert_eq!(
        sql::int(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'consent_request%'",
        ),
        0,
        "no consent_request table or index"
    );
}

#[test]
fn identifiers_are_quoted_never_pasted() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        r#"CREATE TABLE "kund""register" ("id""; DROP TABLE x; --" INTEGER PRIMARY KEY, "e-post" TEXT, "mobil nr" TEXT);
           CREATE TABLE x (y);
           INSERT INTO "kund""register" VALUES (7, 'a@example.se', NULL);"#,
    )
    .expect("fixture");
    register(&conn).expect("register");
    value(
        &conn,
        r#"SELECT consent_init('kund"register', 'id"; DROP TABLE x; --', 'e-post', 'mobil nr')"#,
    );
    value(&conn, "SELECT consent_setting('info_text', 'x')");
    assert_eq!(value(&conn, "SELECT consent_queue(7)"), "Text(\"queued\")");
    assert_eq!(
        value(&conn, "SELECT count(*) FROM x"),
        "Integer(0)",
        "table x still there"
    );
    assert_eq!(value(&conn, "SELECT consent_queue_all()"), "Integer(0)");
    assert_eq!(
        value(&conn, "SELECT count(*) FROM consent_overview"),
        "Integer(1)"
    );
}

#[test]
fn same_statements_give_the_same_rows_on_two_databases() {
    // Deterministic given explicit times: safe on statement-replicated engines.
    let script = [
        "SELECT consent_queue_all(NULL, '2026-03-01T08:00:00Z')",
        "SELECT consent_mark_sent(1, 'email', 'AbCdEfGhIjKlMnOpQrStUv', '2026-03-01T09:00:00Z')",
        "SELECT consent_approve(1, 'signed', 1772359200)",
        "SELECT consent_revoke(1, 'customer asked', '2026-03-05')",
        "SELECT consent_queue(1, '2026-03-06')",
        "SELECT consent_mark_sent(1, 'sms', NULL, '2026-03-06')",
        "SELECT consent_expire('2026-03-20')",
        "SELECT consent_setting('expiry_days', 14)",
        "SELECT consent_setting('sms_enabled', 1)",
        "SELECT consent_queue(2, '2026-03-21')",
        "SELECT consent_mark_error(2, 'bounced', '2026-03-22')",
        "SELECT consent_approve(2, 'manual', '2026-03-23')",
    ];
    let dump = |conn: &Connection| -> Vec<String> {
        let tables: Vec<String> = sql::column(
            conn,
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'consent%' ORDER BY name",
        );
        assert!(tables.len() >= 4, "{tables:?}");
        tables
            .iter()
            .flat_map(|table| {
                sql::dump(conn, table)
                    .into_iter()
                    .map(move |row| format!("{table}: {row}"))
            })
            .collect()
    };
    let run = |name: &str| {
        let (dir, _, conn) = billing_db(name);
        with_consent(&conn);
        for sql in script {
            value(&conn, sql);
        }
        let rows = dump(&conn);
        drop(conn);
        drop(dir);
        rows
    };
    // A second apart: a row that took the clock instead of the statement's
    // time would differ.
    let a = run("replica-a");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = run("replica-b");
    assert!(a.len() > 8, "{a:?}");
    assert_eq!(a, b);
}
