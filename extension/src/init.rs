//! `consent_init`: checks the billing table and its columns, creates or
//! migrates the consent tables, and records where the customers are, all
//! or nothing.

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use crate::args::Args;
use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::{quote_identifier, Quoted};
use crate::schema::{self, Affinity, SCHEMA_VERSION};
use crate::setup::{load, table_columns, Column, ConnState, Setup};

// consent_init(table, id_column, email_column, mobile_column [, name_column [, language_column]])
pub(crate) fn sql_init(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let table = a.text(0, "the customer table's name")?;
    let id = a.text(1, "the id column's name")?;
    let email = a.text(2, "the e-mail column's name")?;
    let mobile = a.text(3, "the mobile number column's name")?;
    let name = a.optional_text(4)?;
    let language = a.optional_text(5)?;
    let request = InitRequest {
        table: &table,
        id_column: &id,
        email_column: &email,
        mobile_column: &mobile,
        name_column: name.as_deref(),
        language_column: language.as_deref(),
    };
    init_to(conn, state, &request, SCHEMA_VERSION).map(|ok| Value::Text(ok.to_owned()))
}

/// The arguments of `consent_init`.
pub(crate) struct InitRequest<'a> {
    pub table: &'a str,
    pub id_column: &'a str,
    pub email_column: &'a str,
    pub mobile_column: &'a str,
    pub name_column: Option<&'a str>,
    pub language_column: Option<&'a str>,
}

const INIT: &str = "consent_init";

/// `consent_init` up to a schema version (the tests upgrade old schemas):
/// checks the table and columns, creates or migrates the consent tables and
/// records the setup, all or nothing.
pub(crate) fn init_to(
    conn: &Connection,
    state: &ConnState,
    request: &InitRequest<'_>,
    target_version: i64,
) -> Result<&'static str> {
    let table = find_table(conn, request.table)?;
    let columns = table_columns(conn, &table)
        .in_function(INIT)?
        .unwrap_or_default();
    let find = |wanted: &str, role: &str| -> Result<&Column> {
        columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                let names: Vec<_> = columns.iter().map(|c| c.name.as_str()).collect();
                ConsentError::bad_argument(
                    INIT,
                    format!(
                        "table {} has no column {} for the {role}; its columns are {}",
                        Quoted(table.clone()),
                        Quoted(wanted.to_owned()),
                        names.join(", ")
                    ),
                )
            })
    };
    let id = find(request.id_column, "customer id")?;
    let email = find(request.email_column, "e-mail address")?;
    let mobile = find(request.mobile_column, "mobile number")?;
    let name = request
        .name_column
        .map(|n| find(n, "customer's name"))
        .transpose()?;
    let language = request
        .language_column
        .map(|l| find(l, "customer's language"))
        .transpose()?;
    ensure_unique(conn, &table, id, &columns)?;

    conn.execute_batch("SAVEPOINT consent_init")
        .in_function(INIT)?;
    let result = (|| -> Result<()> {
        schema::migrate(
            conn,
            Affinity::of_declared_type(&id.declared_type),
            target_version,
        )
        .in_function(INIT)?;
        let wanted = Setup {
            table: table.clone(),
            id_column: id.name.clone(),
            email_column: email.name.clone(),
            mobile_column: mobile.name.clone(),
            name_column: name.map(|c| c.name.clone()),
            language_column: language.map(|c| c.name.clone()),
            generation: 0,
            lookup_sql: String::new(),
        };
        let previous = load(conn, INIT).ok();
        let unchanged = previous.as_ref().is_some_and(|p| p.same_place(&wanted));
        if !unchanged {
            let generation = previous.map_or(0, |p| p.generation) + 1;
            let mut stmt = conn
                .prepare("INSERT OR REPLACE INTO main.consent_meta (key, value) VALUES (?1, ?2)")
                .in_function(INIT)?;
            for (key, value) in [
                ("table", Value::Text(wanted.table.clone())),
                ("id_column", Value::Text(wanted.id_column.clone())),
                ("email_column", Value::Text(wanted.email_column.clone())),
                ("mobile_column", Value::Text(wanted.mobile_column.clone())),
                (
                    "name_column",
                    wanted.name_column.clone().map_or(Value::Null, Value::Text),
                ),
                (
                    "language_column",
                    wanted
                        .language_column
                        .clone()
                        .map_or(Value::Null, Value::Text),
                ),
                ("generation", Value::Integer(generation)),
            ] {
                stmt.execute(params![key, value]).in_function(INIT)?;
            }
            // Queue on create follows the customers to their new table.
            crate::new_customers::follow_setting(conn, &wanted).in_function(INIT)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn
            .execute_batch("RELEASE consent_init")
            .in_function(INIT)?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO consent_init; RELEASE consent_init");
            return Err(e);
        }
    }
    state.forget();
    Ok("ok")
}

/// The table's name as stored, matched without regard to case.
fn find_table(conn: &Connection, wanted: &str) -> Result<String> {
    let mut stmt = conn
        .prepare(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'consent\\_%' ESCAPE '\\' \
             ORDER BY name",
        )
        .in_function(INIT)?;
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .in_function(INIT)?
        .collect::<rusqlite::Result<_>>()
        .in_function(INIT)?;
    if let Some(found) = tables.iter().find(|t| t.eq_ignore_ascii_case(wanted)) {
        return Ok(found.clone());
    }
    let listed = if tables.is_empty() {
        "this database has no tables of its own".to_owned()
    } else {
        let shown: Vec<_> = tables
            .iter()
            .take(20)
            .map(|t| Quoted(t.clone()).to_string())
            .collect();
        format!("its tables are {}", shown.join(", "))
    };
    Err(ConsentError::bad_argument(
        INIT,
        format!(
            "no table {} in this database; pass the billing application's customer table ({listed})",
            Quoted(wanted.to_owned())
        ),
    ))
}

/// Every call looks a customer up by id, so the id must be unique: the
/// table's only primary-key column, or the only column of a unique index.
fn ensure_unique(conn: &Connection, table: &str, id: &Column, columns: &[Column]) -> Result<()> {
    let primary: Vec<_> = columns
        .iter()
        .filter(|c| c.primary_key_position > 0)
        .collect();
    if primary.len() == 1 && primary[0].name == id.name {
        return Ok(());
    }
    let mut stmt = conn
        .prepare(&format!(
            "PRAGMA main.index_list({})",
            quote_identifier(table)
        ))
        .in_function(INIT)?;
    // Columns: seq, name, unique, origin, partial (partial since 3.8.9).
    let unique_indexes: Vec<String> = stmt
        .query_map([], |r| {
            let partial = r.get::<_, i64>(4).unwrap_or(0);
            Ok((
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? == 1 && partial == 0,
            ))
        })
        .in_function(INIT)?
        .filter_map(|r| match r {
            Ok((name, true)) => Some(Ok(name)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()
        .in_function(INIT)?;
    for index in unique_indexes {
        let mut stmt = conn
            .prepare(&format!(
                "PRAGMA main.index_info({})",
                quote_identifier(&index)
            ))
            .in_function(INIT)?;
        let indexed: Vec<String> = stmt
            .query_map([], |r| r.get::<_, Option<String>>(2))
            .in_function(INIT)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .in_function(INIT)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        if indexed.len() == 1 && indexed[0].eq_ignore_ascii_case(&id.name) {
            return Ok(());
        }
    }
    Err(ConsentError::bad_argument(
        INIT,
        format!(
            "column {} of table {} is not unique, and every consent call looks a customer up by it; \
             pass the table's primary key, or make it unique first: CREATE UNIQUE INDEX {} ON {}({})",
            Quoted(id.name.clone()),
            Quoted(table.to_owned()),
            quote_identifier(&format!("{table}_{}_unique", id.name)),
            quote_identifier(table),
            quote_identifier(&id.name)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(conn: &Connection, sql: &str) -> Value {
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn error(conn: &Connection, sql: &str) -> String {
        match conn.query_row(sql, [], |r| r.get::<_, Value>(0)) {
            Ok(v) => panic!("{sql} should fail, returned {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn init_upgrades_an_older_schema_and_keeps_the_data() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);
             INSERT INTO customers (id, name, email) VALUES (1, 'Anna Andersson', 'anna@example.se');",
        )
        .expect("billing table");
        // A database made by the first release: schema version 1 only.
        let request = InitRequest {
            table: "customers",
            id_column: "id",
            email_column: "email",
            mobile_column: "mobile",
            name_column: Some("name"),
            language_column: None,
        };
        init_to(&conn, &ConnState::default(), &request, 1).expect("init at version 1");
        assert_eq!(schema::current_version(&conn).expect("version"), 1);
        conn.execute_batch(
            "INSERT INTO consent_request (customer_id, supersedes, status, prev_status, actor, created_at, updated_at)
             VALUES (1, 0, 'queued', 'missing', 'consent_queue', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
        )
        .expect("a version-1 request");
        let has_text_table = |c: &Connection| -> i64 {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'consent_text'",
                [],
                |r| r.get(0),
            )
            .expect("count")
        };
        assert_eq!(has_text_table(&conn), 0);

        // The newer library refuses to work on the old schema until init runs.
        crate::register(&conn).expect("register");
        let e = error(&conn, "SELECT consent_status(1)");
        assert!(
            e.contains("schema version 1") && e.contains("run consent_init again"),
            "{e}"
        );
        let init = "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')";
        assert_eq!(value(&conn, init), Value::Text("ok".to_owned()));
        assert_eq!(
            schema::current_version(&conn).expect("version"),
            SCHEMA_VERSION
        );
        assert_eq!(has_text_table(&conn), 1);
        assert_eq!(
            value(&conn, "SELECT consent_status(1)"),
            Value::Text("queued".to_owned()),
            "data kept"
        );
        assert_eq!(
            value(&conn, "SELECT text_hash FROM consent_request"),
            Value::Null
        );
        // Idempotent: a second init changes nothing.
        let schema_sql = |c: &Connection| -> String {
            c.query_row(
                "SELECT group_concat(sql, ';') FROM sqlite_master",
                [],
                |r| r.get(0),
            )
            .expect("schema")
        };
        let before = schema_sql(&conn);
        value(&conn, init);
        assert_eq!(schema_sql(&conn), before);
    }

    /// A register of the release before the hash chain: its events get
    /// their hashes in id order when consent_init upgrades it, and the
    /// chain then goes on from them.
    #[test]
    fn init_chains_the_events_of_a_version_2_register() {
        use crate::log::{self, Verdict};
        use rusqlite::types::ValueRef;
        use sha2::{Digest, Sha256};

        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);
             INSERT INTO customers (id, name, email) VALUES
               (1, 'Anna Andersson', 'anna@example.se'), (2, 'Bo Berg', NULL), (3, 'Cia', 'cia@example.se');",
        )
        .expect("billing table");
        let request = InitRequest {
            table: "customers",
            id_column: "id",
            email_column: "email",
            mobile_column: "mobile",
            name_column: Some("name"),
            language_column: None,
        };
        init_to(&conn, &ConnState::default(), &request, 2).expect("init at version 2");
        // What the functions of that release wrote; its triggers wrote the
        // events, without ids of their own choosing and without hashes.
        let text_hash = log::hex(&Sha256::digest("Godkänner du?".as_bytes()).into());
        conn.execute_batch(&format!(
            "INSERT INTO consent_request (customer_id, supersedes, status, prev_status, actor, created_at, updated_at)
               VALUES (1, 0, 'queued', 'missing', 'consent_queue', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             INSERT INTO consent_request (customer_id, supersedes, status, prev_status, reason, actor, detail, created_at, updated_at)
               VALUES (2, 0, 'error', 'missing', 'no contact', 'consent_queue', 'no contact', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             UPDATE consent_request SET status = 'sent', channel = 'email', actor = 'consent_mark_sent', detail = 'email',
               sent_at = '2026-01-01T01:00:00Z', updated_at = '2026-01-01T01:00:00Z' WHERE customer_id = 1;
             UPDATE consent_request SET status = 'approved', evidence = 'signed', actor = 'consent_approve', detail = 'signed',
               decided_at = '2026-01-02T00:00:00Z', updated_at = '2026-01-02T00:00:00Z' WHERE customer_id = 1;
             INSERT INTO consent_text (hash, language, body, created_at)
               VALUES ('{text_hash}', 'sv', 'Godkänner du?', '2026-01-01T00:00:00Z');"
        ))
        .expect("a version-2 history");

        crate::register(&conn).expect("register");
        let init = "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')";
        assert_eq!(value(&conn, init), Value::Text("ok".to_owned()));
        assert_eq!(
            schema::current_version(&conn).expect("version"),
            SCHEMA_VERSION
        );
        // Every event hashed, chained in id order from the first.
        let mut stmt = conn
            .prepare(
                "SELECT id, customer_id, request_id, from_status, to_status, actor, detail, at, hash \
                 FROM consent_event ORDER BY id",
            )
            .expect("events");
        let mut rows = stmt.query([]).expect("events");
        let mut previous: Option<log::Hash> = None;
        let mut events = 0;
        while let Some(row) = rows.next().expect("an event") {
            let fields: Vec<ValueRef<'_>> =
                (0..8).map(|i| row.get_ref(i).expect("a field")).collect();
            let expected = log::event_hash(previous.as_ref(), &fields).expect("hash");
            let stored: String = row.get(8).expect("a hash");
            assert_eq!(stored, log::hex(&expected), "event {events}");
            previous = Some(expected);
            events += 1;
        }
        drop(rows);
        drop(stmt);
        assert_eq!(events, 4);
        assert_eq!(log::verify(&conn).expect("verify"), Verdict::Ok);

        // The chain goes on from the sealed rows.
        assert_eq!(
            value(&conn, "SELECT consent_revoke(1, 'withdrawn', '2026-01-03')"),
            Value::Text("denied".to_owned())
        );
        value(
            &conn,
            "SELECT consent_setting('info_text', 'Vi sparar din e-post.')",
        );
        assert_eq!(
            value(&conn, "SELECT consent_queue(3, '2026-01-03')"),
            Value::Text("queued".to_owned())
        );
        assert_eq!(log::head(&conn).expect("head").last_id, 6);
        assert_eq!(
            value(&conn, "SELECT consent_verify_log()"),
            Value::Text("ok".to_owned())
        );
        // Sealing was the one update: the events refuse it again, even to
        // the extension's own code, and are never replaced.
        for sql in [
            "UPDATE consent_event SET detail = 'manual' WHERE id = 3",
            "INSERT OR REPLACE INTO consent_event SELECT * FROM consent_event WHERE id = 3",
            "DELETE FROM consent_event WHERE id = 3",
        ] {
            let e = crate::guard::allow(|| conn.execute(sql, []))
                .expect_err(sql)
                .to_string();
            assert!(e.contains("consent_event is append-only"), "{sql}: {e}");
        }
        assert_eq!(
            value(&conn, "SELECT consent_verify_log()"),
            Value::Text("ok".to_owned())
        );
    }
}
