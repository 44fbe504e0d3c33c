//! Queries in one call over rusqlite: one value, one failure, all rows,
//! a whole table; each panics naming the statement when it fails.

use rusqlite::types::Value;
use rusqlite::{Connection, Params, Row};

/// The first column of the first row.
pub fn value(conn: &Connection, sql: &str, params: impl Params) -> Value {
    conn.query_row(sql, params, |r| r.get::<_, Value>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A value as a person reads it: text as it is, numbers in digits, NULL
/// as `NULL`.
pub fn shown(value: Value) -> String {
    match value {
        Value::Text(t) => t,
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Null => "NULL".to_owned(),
        Value::Blob(b) => format!("{b:?}"),
    }
}

/// The first column of the first row, as [`shown`].
pub fn text(conn: &Connection, sql: &str) -> String {
    shown(value(conn, sql, []))
}

/// The first column of the first row, which must be an integer.
pub fn int(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs a statement for its effect (a `SELECT consent_...` call), ignoring
/// what it returns.
pub fn call(conn: &Connection, sql: &str) {
    conn.query_row(sql, [], |_| Ok(()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The error message of a statement that must fail.
pub fn error(conn: &Connection, sql: &str) -> String {
    error_with(conn, sql, [])
}

/// The error message of a statement with parameters that must fail.
pub fn error_with(conn: &Connection, sql: &str, params: impl Params) -> String {
    match conn.query_row(sql, params, |r| r.get::<_, Value>(0)) {
        Ok(v) => panic!("{sql} should fail, returned {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Every row of `sql`, read by `row`.
pub fn rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = stmt
        .query_map(params, row)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect::<rusqlite::Result<Vec<T>>>()
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows
}

/// The first column of every row.
pub fn column<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> Vec<T> {
    rows(conn, sql, [], |r| r.get(0))
}

/// Every row of every column of a query, each cell as `{:?}` of its value
/// (so that 1 and '1' differ), joined by `|`.
pub fn cells(conn: &Connection, sql: &str, params: impl Params) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let mut rows = stmt.query(params).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
        let cells: Vec<String> = (0..n)
            .map(|i| format!("{:?}", r.get::<_, Value>(i).expect("a cell")))
            .collect();
        out.push(cells.join("|"));
    }
    out
}

/// Every row of `table`, ordered by its first column, as [`cells`].
pub fn dump(conn: &Connection, table: &str) -> Vec<String> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    cells(conn, &format!("SELECT * FROM {quoted} ORDER BY 1"), [])
}
