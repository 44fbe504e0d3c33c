//! Step 3 of `sync`: `consent_expire`, so that silence for `expiry_days`
//! means no. With `--dry-run`, inside a transaction that is rolled back.

use rusqlite::Connection;

/// Expires the requests due at `now` (unix seconds); returns how many were
/// (or, in a dry run, would be) denied.
pub fn expire(conn: &Connection, now: i64, dry_run: bool) -> rusqlite::Result<i64> {
    if !dry_run {
        return conn.query_row("SELECT consent_expire(?1)", [now], |r| r.get(0));
    }
    conn.execute_batch("BEGIN")?;
    let would = conn.query_row("SELECT consent_expire(?1)", [now], |r| r.get(0));
    conn.execute_batch("ROLLBACK")?;
    would
}
