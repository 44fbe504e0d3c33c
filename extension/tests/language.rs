//! Each customer in their language: `consent_init`'s optional sixth
//! argument, the column that holds a customer's language, recorded and
//! checked as the name column is; and the language each request's page and
//! message take (`requests::pending`, `requests::outgoing`).

use consent_extension::requests::{self, StoredText};
use consent_extension::{register, Language};
use consent_testkit::sample::{SetUp, CUSTOMERS, INFO_TEXT};
use consent_testkit::sql::{self, error, error_with};
use consent_testkit::Scratch;
use rusqlite::types::Value;
use rusqlite::Connection;

const T0: i64 = 1_796_000_000;

/// [`CUSTOMERS`] in a file, with a language column `sprak`: Anna `en-GB`,
/// Bo `svenska`, Cecilia NULL, David `de` (not one we speak).
fn billing_db(label: &str) -> (Scratch, std::path::PathBuf, Connection) {
    let dir = Scratch::new(label);
    let path = dir.join("billing.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    conn.execute_batch(
        "ALTER TABLE customers ADD COLUMN sprak TEXT;
         UPDATE customers SET sprak = CASE id WHEN 1 THEN 'en-GB' WHEN 2 THEN 'svenska' WHEN 4 THEN 'de' END;",
    )
    .expect("the language column");
    register(&conn).expect("register");
    (dir, path, conn)
}

fn meta(conn: &Connection, key: &str) -> Value {
    sql::value(conn, "SELECT value FROM consent_meta WHERE key = ?1", [key])
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// Each pending request's customer and language.
fn pending_languages(conn: &Connection) -> Vec<(i64, Language)> {
    requests::pending(conn, "render")
        .expect("pending")
        .into_iter()
        .map(|p| match p.customer_id {
            Value::Integer(id) => (id, p.language),
            other => panic!("customer id {other:?}"),
        })
        .collect()
}

#[test]
fn the_language_column_is_recorded_as_the_name_column_is() {
    let (_dir, _path, conn) = billing_db("lang-init");
    let init6 = "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'sprak')";
    assert_eq!(sql::text(&conn, init6), "ok");
    assert_eq!(meta(&conn, "language_column"), text("sprak"));
    assert_eq!(meta(&conn, "name_column"), text("name"));
    let generation = meta(&conn, "generation");
    // Idempotent: the same call records nothing new.
    assert_eq!(sql::text(&conn, init6), "ok");
    assert_eq!(meta(&conn, "generation"), generation);

    // Matched without regard to case, stored as the table spells it; a
    // NULL name column skips the name only.
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', NULL, 'SPRAK')",
    );
    assert_eq!(meta(&conn, "language_column"), text("sprak"));
    assert_eq!(meta(&conn, "name_column"), Value::Null);

    // Five arguments, as before: the name recorded, the language forgotten.
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
    );
    assert_eq!(meta(&conn, "name_column"), text("name"));
    assert_eq!(meta(&conn, "language_column"), Value::Null);
    // Four arguments, as before: neither.
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile')",
    );
    assert_eq!(meta(&conn, "name_column"), Value::Null);
    assert_eq!(meta(&conn, "language_column"), Value::Null);
    // NULL for the language column is the same as leaving it out.
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', NULL)",
    );
    assert_eq!(meta(&conn, "language_column"), Value::Null);
}

#[test]
fn an_unknown_language_column_is_an_error_naming_it() {
    let (_dir, _path, conn) = billing_db("lang-unknown");
    let e = error(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'språk')",
    );
    assert!(
        e.contains(
            "consent_init: table \"customers\" has no column \"språk\" for the customer's language"
        ) && e.contains("its columns are id, name, email, mobile, sprak"),
        "{e}"
    );
    // Nothing was created.
    assert_eq!(
        sql::int(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'consent%'"
        ),
        0
    );
    // Seven arguments are too many.
    let e = error(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'sprak', 'x')",
    );
    assert!(
        e.contains("takes consent_init(table, id_column, email_column, mobile_column [, name_column [, language_column]]), got 7 arguments"),
        "{e}"
    );
    // A blob is no column name.
    let e = error_with(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', ?1)",
        [Value::Blob(b"sprak".to_vec())],
    );
    assert!(e.contains("language_column is a blob"), "{e}");
}

#[test]
fn each_request_takes_its_page_language_else_the_customers_else_the_setting() {
    let (_dir, _path, conn) = billing_db("lang-requests");
    SetUp::settings()
        .then("SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'sprak')")
        .info_text(INFO_TEXT)
        .sms()
        .then(&format!("SELECT consent_queue_all(NULL, {T0})"))
        .apply(&conn);
    // Anna en-GB, Bo svenska, Cecilia (unreachable, not pending), David de.
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::En), (2, Language::Sv), (4, Language::Sv)]
    );
    sql::call(&conn, "SELECT consent_setting('language', 'en')");
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::En), (2, Language::Sv), (4, Language::En)],
        "'de' means the setting"
    );

    // Once a page is made, its text's language holds for its message,
    // whatever the customer's says later: Anna's page was made in Swedish.
    // (pending gives the language a page made now would take; render
    // reads a made page's language with its stored text.)
    let swedish = StoredText {
        hash: "ab".repeat(32),
        language: Language::Sv,
        body: "Godkänner du?".to_owned(),
        inputs: None,
    };
    requests::record_text(&conn, &swedish, T0).expect("text");
    let request = |customer: i64| {
        sql::int(
            &conn,
            &format!("SELECT id FROM consent_request WHERE customer_id = {customer}"),
        )
    };
    assert!(
        requests::assign_page_id(&conn, request(1), "AAAAAAAAAAAAAAAAAAAAAA", &swedish.hash)
            .expect("page")
    );
    // David's page names a text that is not stored: his own language then.
    assert!(requests::assign_page_id(
        &conn,
        request(4),
        "BBBBBBBBBBBBBBBBBBBBBB",
        &"cd".repeat(32)
    )
    .expect("page"));
    conn.execute_batch("UPDATE customers SET sprak = 'EN' WHERE id = 4")
        .expect("update");
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::En), (2, Language::Sv), (4, Language::En)]
    );
    let outgoing: Vec<(i64, Language)> = requests::outgoing(&conn, "sync")
        .expect("outgoing")
        .into_iter()
        .map(|o| (o.request_id, o.language))
        .collect();
    assert_eq!(
        outgoing,
        [(request(1), Language::Sv), (request(4), Language::En)]
    );

    // A request whose customer left the billing table keeps its page (no
    // inner join drops it from the pending requests) in the setting's
    // language.
    conn.execute_batch("DELETE FROM customers WHERE id = 2")
        .expect("delete");
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::En), (2, Language::En), (4, Language::En)]
    );
}

#[test]
fn without_a_language_column_the_setting_serves_and_the_billing_table_is_not_read() {
    let (_dir, _path, conn) = billing_db("lang-none");
    SetUp::customers()
        .sms()
        .then(&format!("SELECT consent_queue_all(NULL, {T0})"))
        .apply(&conn);
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::Sv), (2, Language::Sv), (4, Language::Sv)]
    );
    sql::call(&conn, "SELECT consent_setting('language', 'en')");
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::En), (2, Language::En), (4, Language::En)]
    );
}

#[test]
fn a_renamed_or_dropped_language_column_is_named() {
    let (_dir, path, conn) = billing_db("lang-renamed");
    SetUp::settings()
        .then("SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'sprak')")
        .info_text(INFO_TEXT)
        .then(&format!("SELECT consent_queue(1, {T0})"))
        .apply(&conn);
    requests::assign_page_id(&conn, 1, "AAAAAAAAAAAAAAAAAAAAAA", &"ab".repeat(32)).expect("page");
    // The billing application, on its own connection, renames it.
    let app = Connection::open(&path).expect("open");
    app.execute_batch("ALTER TABLE customers RENAME COLUMN sprak TO lang")
        .expect("rename");
    let says = |e: String| {
        assert!(
            e.contains(
                "column \"sprak\" of table \"customers\" recorded by consent_init no longer exists"
            ) && e.contains("run consent_init again"),
            "{e}"
        );
    };
    says(
        requests::pending(&conn, "render")
            .expect_err("pending")
            .to_string(),
    );
    says(
        requests::outgoing(&conn, "sync")
            .expect_err("outgoing")
            .to_string(),
    );
    // The functions that never read it go on working, as with the name.
    assert_eq!(sql::text(&conn, "SELECT consent_status(1)"), "queued");
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name', 'lang')",
    );
    assert_eq!(pending_languages(&conn), [(1, Language::En)]);

    // Dropped.
    app.execute_batch("ALTER TABLE customers DROP COLUMN lang")
        .expect("drop");
    let e = requests::pending(&conn, "render")
        .expect_err("pending")
        .to_string();
    assert!(
        e.starts_with("render: column \"lang\" of table \"customers\"")
            && e.contains("run consent_init again"),
        "{e}"
    );
    // Without it, as before.
    sql::call(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
    );
    assert_eq!(pending_languages(&conn), [(1, Language::Sv)]);
}

#[test]
fn a_hostile_language_column_name_is_quoted_never_pasted() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(
        r#"CREATE TABLE victim (v TEXT);
           CREATE TABLE "kund""er" (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT,
             "sp""råk]; DROP TABLE victim; --" TEXT);
           INSERT INTO "kund""er" VALUES (1, 'a@example.se', NULL, 'english'), (2, 'b@example.se', NULL, NULL);"#,
    )
    .expect("hostile register");
    register(&conn).expect("register");
    let language_column = "sp\"råk]; DROP TABLE victim; --";
    let ok = sql::value(
        &conn,
        "SELECT consent_init('kund\"er', 'id', 'email', 'mobile', NULL, ?1)",
        [language_column],
    );
    assert_eq!(ok, text("ok"));
    assert_eq!(meta(&conn, "language_column"), text(language_column));
    sql::call(
        &conn,
        "SELECT consent_setting('info_text', 'Vi sparar dina uppgifter.')",
    );
    sql::call(&conn, &format!("SELECT consent_queue_all(NULL, {T0})"));
    assert_eq!(
        pending_languages(&conn),
        [(1, Language::En), (2, Language::Sv)]
    );
    assert_eq!(sql::int(&conn, "SELECT count(*) FROM victim"), 0);
    assert_eq!(
        sql::int(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name = 'victim'"
        ),
        1
    );
}
