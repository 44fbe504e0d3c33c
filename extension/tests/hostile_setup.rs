//! Hostile setups: billing tables and columns whose names hold quotes,
//! spaces, `]`, backticks and SQL, and customer data and settings that hold
//! SQL, HTML and template syntax. `consent_init` either works with such a
//! name (quoted everywhere) or refuses it with an error naming it; it never
//! runs what a name holds, never touches another table, and every string is
//! stored exactly as given.

use consent_extension::register;
use consent_testkit::sql::{self, dump as rows, error_with as failure, int};
use rusqlite::types::Value;
use rusqlite::{params, Connection};

/// A table that must survive everything below.
const VICTIM: &str = "CREATE TABLE victim (v TEXT); INSERT INTO victim VALUES ('still here');";

/// Names a hostile DBA script (or a legacy schema) may use.
const HOSTILE_TABLES: &[&str] = &[
    "kund\"er",
    "my table",
    "a]b",
    "back`tick",
    "[bracketed]",
    "x'); DROP TABLE victim;--",
    "t\"; DROP TABLE victim; --",
    "ünïcødé kunder",
];

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn one(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Value {
    sql::value(conn, sql, params)
}

fn text(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
    match one(conn, sql, params) {
        Value::Text(t) => t,
        other => panic!("{sql}: not text: {other:?}"),
    }
}

/// Every object of the schema, with its SQL: what must not change.
fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    sql::rows(
        conn,
        "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

fn assert_victim_intact(conn: &Connection, context: &str) {
    assert_eq!(
        rows(conn, "victim"),
        ["Text(\"still here\")"],
        "{context}: the other table was touched"
    );
}

/// The id, e-mail, mobile and name columns of [`hostile_register`].
const HOSTILE_COLUMNS: [&str; 4] = ["k\"id", "e post`", "mob\"il; DROP TABLE victim", "na'me]"];

/// `consent_init` on [`hostile_register`]'s table and columns.
fn init_hostile(conn: &Connection, table: &str) -> Value {
    let [id, email, mobile, name] = HOSTILE_COLUMNS;
    one(
        conn,
        "SELECT consent_init(?1, ?2, ?3, ?4, ?5)",
        params![table, id, email, mobile, name],
    )
}

/// A register in `table` whose id, e-mail, mobile and name columns carry
/// hostile names too: two customers, one with e-mail, one with only a
/// mobile number.
fn hostile_register(conn: &Connection, table: &str) {
    conn.execute_batch(VICTIM).expect("victim");
    conn.execute_batch(&format!(
        "CREATE TABLE {t} ({id} INTEGER PRIMARY KEY, {name} TEXT, {email} TEXT, {mobile} TEXT);
         INSERT INTO {t} VALUES (1, 'Anna', 'anna@example.se', NULL), (2, 'Bo', NULL, '0701234567');",
        t = quote(table),
        id = quote(HOSTILE_COLUMNS[0]),
        name = quote(HOSTILE_COLUMNS[3]),
        email = quote(HOSTILE_COLUMNS[1]),
        mobile = quote(HOSTILE_COLUMNS[2]),
    ))
    .expect("hostile register");
}

#[test]
fn hostile_table_and_column_names_work_through_every_function() {
    for table in HOSTILE_TABLES {
        let conn = Connection::open_in_memory().expect("open");
        hostile_register(&conn, table);
        register(&conn).expect("register");
        let billing_before = rows(&conn, table);
        let init = init_hostile(&conn, table);
        assert_eq!(init, Value::Text("ok".into()), "{table}");
        // Recorded exactly as the schema spells them.
        for (key, expected) in [
            ("table", *table),
            ("id_column", "k\"id"),
            ("email_column", "e post`"),
            ("mobile_column", "mob\"il; DROP TABLE victim"),
            ("name_column", "na'me]"),
        ] {
            assert_eq!(
                text(
                    &conn,
                    "SELECT value FROM consent_meta WHERE key = ?1",
                    [key]
                ),
                expected,
                "{table}: {key}"
            );
        }
        one(
            &conn,
            "SELECT consent_setting('info_text', 'Vi sparar dina uppgifter.')",
            [],
        );
        one(&conn, "SELECT consent_setting('sms_enabled', 1)", []);

        // Every function that reads the billing table.
        let at = 1_796_000_000_i64;
        let steps: &[(&str, Value)] = &[
            ("SELECT consent_status(1)", Value::Text("missing".into())),
            ("SELECT consent_queue(1, ?1)", Value::Text("queued".into())),
            ("SELECT consent_queue_all(NULL, ?1)", Value::Integer(1)),
            ("SELECT consent_status(2)", Value::Text("queued".into())),
            (
                "SELECT consent_mark_sent(1, 'email', 'AbCdEfGhIjKlMnOpQrStUv', ?1)",
                Value::Text("sent".into()),
            ),
            (
                "SELECT consent_approve(1, 'manual', ?1)",
                Value::Text("approved".into()),
            ),
            (
                "SELECT consent_revoke(1, 'clerk', ?1)",
                Value::Text("denied".into()),
            ),
            (
                "SELECT consent_mark_sent(2, 'sms', NULL, ?1)",
                Value::Text("sent".into()),
            ),
            ("SELECT consent_expire(?1 + 8 * 86400)", Value::Integer(1)),
            (
                "SELECT consent_queue_all('denied', ?1 + 9 * 86400)",
                Value::Integer(2),
            ),
            (
                "SELECT consent_mark_error(2, 'nummer saknas', ?1 + 9 * 86400)",
                Value::Text("error".into()),
            ),
        ];
        for (sql, expected) in steps {
            let needs_at = sql.contains("?1");
            let got = if needs_at {
                one(&conn, sql, [at])
            } else {
                one(&conn, sql, [])
            };
            assert_eq!(&got, expected, "{table}: {sql}");
            assert_victim_intact(&conn, &format!("{table}: {sql}"));
        }

        // The overview reads the hostile name column.
        let mut stmt = conn
            .prepare("SELECT customer_id, name, status, reason FROM consent_overview ORDER BY customer_id")
            .expect("overview");
        let overview: Vec<(i64, String, String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            overview,
            [
                (1, "Anna".into(), "queued".into(), None),
                (2, "Bo".into(), "error".into(), Some("nummer saknas".into())),
            ],
            "{table}"
        );
        let one_row = int(
            &conn,
            "SELECT count(*) FROM consent_overview WHERE customer_id = 2",
        );
        assert_eq!(one_row, 1, "{table}");

        // Running init again with the same hostile names is a no-op.
        let again = init_hostile(&conn, table);
        assert_eq!(again, Value::Text("ok".into()), "{table}");
        assert_eq!(rows(&conn, table), billing_before, "{table}: billing rows");
        assert_victim_intact(&conn, table);
        // The billing application can still change its own table.
        conn.execute_batch(&format!(
            "ALTER TABLE {t} ADD COLUMN fax TEXT; ALTER TABLE {t} DROP COLUMN fax;",
            t = quote(table)
        ))
        .unwrap_or_else(|e| panic!("{table}: the billing table cannot be altered: {e}"));
    }
}

#[test]
fn a_name_is_matched_literally_never_unquoted() {
    // `"kunder"` (quotes in the name) and `kunder` are two tables; so are
    // `[kunder]` and `kunder`. Each name given reaches its own table.
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        r#"CREATE TABLE kunder (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT);
           CREATE TABLE """kunder""" (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT);
           CREATE TABLE "[kunder]" (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT);
           INSERT INTO kunder VALUES (1, 'plain@example.se', NULL);
           INSERT INTO """kunder""" VALUES (2, 'quoted@example.se', NULL);
           INSERT INTO "[kunder]" VALUES (3, 'bracketed@example.se', NULL);"#,
    )
    .expect("fixture");
    register(&conn).expect("register");
    for (name, own, others) in [
        ("\"kunder\"", 2, [1, 3]),
        ("[kunder]", 3, [1, 2]),
        ("kunder", 1, [2, 3]),
    ] {
        one(
            &conn,
            "SELECT consent_init(?1, 'id', 'email', 'mobile')",
            [name],
        );
        assert_eq!(
            text(
                &conn,
                "SELECT value FROM consent_meta WHERE key = 'table'",
                []
            ),
            name
        );
        assert_eq!(
            text(&conn, "SELECT consent_status(?1)", [own]),
            "missing",
            "{name}"
        );
        for other in others {
            let e = failure(&conn, "SELECT consent_status(?1)", [other]);
            assert!(
                e.contains(&format!("no customer with id {other}")),
                "{name}: customer {other} of another table was found: {e}"
            );
        }
    }
}

#[test]
fn names_that_do_not_exist_are_refused_by_name_and_nothing_runs() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(VICTIM).expect("victim");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT, name TEXT);
         INSERT INTO customers VALUES (1, 'a@example.se', NULL, 'Anna');",
    )
    .expect("fixture");
    register(&conn).expect("register");
    let before = schema(&conn);
    let drop = "'); DROP TABLE victim; --";
    let cases: [([&str; 5], &str); 7] = [
        (
            [
                "customers; DROP TABLE victim; --",
                "id",
                "email",
                "mobile",
                "name",
            ],
            "no table \"customers; DROP TABLE victim; --\"",
        ),
        (
            [
                "customers\"; DROP TABLE victim; --",
                "id",
                "email",
                "mobile",
                "name",
            ],
            "no table \"customers\"\"; DROP TABLE victim; --\"",
        ),
        (
            [
                "customers",
                "id) ; DROP TABLE victim; --",
                "email",
                "mobile",
                "name",
            ],
            "no column \"id) ; DROP TABLE victim; --\"",
        ),
        (
            [
                "customers",
                "id",
                "email\"; DROP TABLE victim; --",
                "mobile",
                "name",
            ],
            "no column \"email\"\"; DROP TABLE victim; --\"",
        ),
        (
            ["customers", "id", "email", drop, "name"],
            "no column \"'); DROP TABLE victim; --\"",
        ),
        (
            ["customers", "id", "email", "mobile", "name` OR 1=1 --"],
            "no column \"name` OR 1=1 --\"",
        ),
        (
            ["customers", "id", "email", "mobile", "]"],
            "no column \"]\"",
        ),
    ];
    for (args, fragment) in cases {
        let e = failure(
            &conn,
            "SELECT consent_init(?1, ?2, ?3, ?4, ?5)",
            params![args[0], args[1], args[2], args[3], args[4]],
        );
        assert!(
            e.starts_with("consent_init: ") && e.contains(fragment),
            "{args:?}\n  message: {e}\n  lacks: {fragment}"
        );
        assert_victim_intact(&conn, &format!("{args:?}"));
        assert_eq!(
            schema(&conn),
            before,
            "{args:?}: a refused consent_init changed the schema"
        );
    }
    // A name that only looks like a consent table is not a billing table.
    let e = failure(
        &conn,
        "SELECT consent_init('consent_meta', 'key', 'value', 'value')",
        [],
    );
    assert!(e.contains("no table \"consent_meta\""), "{e}");
}

#[test]
fn the_fix_suggested_for_a_non_unique_hostile_id_column_is_valid_sql() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(VICTIM).expect("victim");
    let table = "my \"kund]`register";
    let id = "k\"nr; DROP TABLE victim";
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({} INTEGER, email TEXT, mobile TEXT);
         INSERT INTO {0} VALUES (1, 'a@example.se', NULL), (2, NULL, '0701234567');",
        quote(table),
        quote(id)
    ))
    .expect("fixture");
    register(&conn).expect("register");
    let e = failure(
        &conn,
        "SELECT consent_init(?1, ?2, 'email', 'mobile')",
        [table, id],
    );
    let (_, fix) = e
        .split_once("make it unique first: ")
        .unwrap_or_else(|| panic!("no suggested fix in: {e}"));
    // The suggestion runs as written, and does what it says.
    conn.execute_batch(fix)
        .unwrap_or_else(|err| panic!("the suggested fix {fix:?} is not valid SQL: {err}"));
    assert_victim_intact(&conn, "after running the suggested fix");
    assert_eq!(
        one(
            &conn,
            "SELECT consent_init(?1, ?2, 'email', 'mobile')",
            [table, id]
        ),
        Value::Text("ok".into())
    );
    assert_eq!(text(&conn, "SELECT consent_status(2)", []), "missing");
}

#[test]
fn a_hostile_declared_type_never_reaches_the_consent_schema() {
    // SQLite keeps a column's declared type as written; the consent tables
    // take only an affinity name from it.
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(VICTIM).expect("victim");
    conn.execute_batch(
        r#"CREATE TABLE kunder (nr "INT); DROP TABLE victim; --" PRIMARY KEY, email TEXT, mobile TEXT);
           INSERT INTO kunder VALUES (5, 'a@example.se', NULL);"#,
    )
    .expect("fixture");
    assert_eq!(
        text(
            &conn,
            "SELECT type FROM pragma_table_info('kunder') WHERE name = 'nr'",
            []
        ),
        "INT); DROP TABLE victim; --",
        "the fixture's declared type is the hostile text"
    );
    register(&conn).expect("register");
    one(
        &conn,
        "SELECT consent_init('kunder', 'nr', 'email', 'mobile')",
        [],
    );
    assert_victim_intact(&conn, "consent_init");
    let request_sql = text(
        &conn,
        "SELECT sql FROM sqlite_master WHERE name = 'consent_request'",
        [],
    );
    assert!(
        request_sql.contains("customer_id INTEGER NOT NULL") && !request_sql.contains("DROP"),
        "{request_sql}"
    );
    one(&conn, "SELECT consent_setting('info_text', 'x')", []);
    assert_eq!(text(&conn, "SELECT consent_queue(5)", []), "queued");
}

#[test]
fn a_temporary_table_of_the_same_name_does_not_stand_in_for_the_register() {
    // A TEMP table shadows a main one of the same name in unqualified SQL;
    // the consent functions read the recorded table in `main`.
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        "CREATE TABLE kunder (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT);
         INSERT INTO kunder VALUES (1, 'real@example.se', NULL);",
    )
    .expect("fixture");
    register(&conn).expect("register");
    one(
        &conn,
        "SELECT consent_init('kunder', 'id', 'email', 'mobile')",
        [],
    );
    one(&conn, "SELECT consent_setting('info_text', 'x')", []);
    conn.execute_batch(
        "CREATE TEMP TABLE kunder (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT);
         INSERT INTO temp.kunder VALUES (1, NULL, NULL), (666, 'impostor@example.se', NULL);",
    )
    .expect("temp table");
    let e = failure(&conn, "SELECT consent_queue(666)", []);
    assert!(e.contains("no customer with id 666"), "{e}");
    assert_eq!(text(&conn, "SELECT consent_queue(1)", []), "queued");
    assert_eq!(int(&conn, "SELECT count(*) FROM consent_overview"), 1);
    assert_eq!(int(&conn, "SELECT consent_queue_all()"), 0);
}

#[test]
fn hostile_strings_are_stored_exactly_as_given() {
    let hostile = [
        "'); DROP TABLE customers;--",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "{{ 7*7 }} {% for x in y %}{% endfor %}",
        "Robert'); DELETE FROM consent_event; --",
        "line one\r\nBcc: evil@example.com",
        "back`tick ]bracket [x] \\ % _ ' \"",
    ];
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(VICTIM).expect("victim");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT)",
    )
    .expect("table");
    for (i, s) in hostile.iter().enumerate() {
        conn.execute(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4)",
            params![i as i64 + 1, s, format!("kund{i}@example.se"), s],
        )
        .expect("customer");
    }
    let billing_before = rows(&conn, "customers");
    register(&conn).expect("register");
    one(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
        [],
    );
    let at = 1_796_000_000_i64;
    for (i, s) in hostile.iter().enumerate() {
        let id = i as i64 + 1;
        // Settings: set and read back, and as stored.
        for key in ["info_text", "business_name"] {
            let set = one(&conn, "SELECT consent_setting(?1, ?2)", params![key, s]);
            assert_eq!(set, Value::Text((*s).to_owned()), "{key} = {s:?}");
            assert_eq!(text(&conn, "SELECT consent_setting(?1)", [key]), *s);
            assert_eq!(
                text(
                    &conn,
                    "SELECT value FROM consent_settings WHERE key = ?1",
                    [key]
                ),
                *s
            );
        }
        // Reasons and evidence through every function that takes text.
        assert_eq!(
            text(&conn, "SELECT consent_queue(?1, ?2)", params![id, at]),
            "queued"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT consent_mark_error(?1, ?2, ?3)",
                params![id, s, at]
            ),
            "error"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT reason FROM consent_overview WHERE customer_id = ?1",
                [id]
            ),
            *s
        );
        assert_eq!(
            text(
                &conn,
                "SELECT name FROM consent_overview WHERE customer_id = ?1",
                [id]
            ),
            *s
        );
        assert_eq!(
            text(
                &conn,
                "SELECT consent_approve(?1, ?2, ?3)",
                params![id, s, at + 1]
            ),
            "approved"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT evidence FROM consent_request WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1",
                [id]
            ),
            *s
        );
        assert_eq!(
            text(
                &conn,
                "SELECT consent_revoke(?1, ?2, ?3)",
                params![id, s, at + 2]
            ),
            "denied"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT reason FROM consent_request WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1",
                [id]
            ),
            *s
        );
        let events = int(
            &conn,
            &format!("SELECT count(*) FROM consent_event WHERE customer_id = {id}"),
        );
        assert_eq!(events, 4, "{s:?}: every transition logged, none deleted");
    }
    assert_eq!(rows(&conn, "customers"), billing_before, "billing rows");
    assert_victim_intact(&conn, "after every hostile string");
}
