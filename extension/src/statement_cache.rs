//! Prepared statements reused for the length of one outer SQL statement.
//!
//! `SELECT consent_queue(id) FROM customers` calls us once per row; preparing
//! our statements anew on every call costs far more than running them. Yet
//! no statement may outlive the caller's statement: a prepared statement
//! left behind makes `sqlite3_close` fail ("unfinalized statements"), leaves
//! the -wal file behind and turns Python's `close()` into a leak.
//!
//! So the cache hangs off the caller's statement as SQLite auxiliary data
//! with a negative key, which SQLite shares between all function calls of
//! that statement and drops when the statement halts (seen in 3.40.1 and
//! 3.50; the behaviour is marked undocumented in SQLite's source). Dropping
//! it finalizes our statements. A host without it drops the data at once, so
//! every call then prepares its own statements and finalizes them before it
//! returns: slower, never unsafe.

use std::os::raw::c_int;
use std::sync::Mutex;

use rusqlite::functions::Context;
use rusqlite::Connection;

/// The statement-wide auxiliary-data key ("consent" in hex, negated).
const SCOPE_KEY: c_int = -0x636f_6e73;

/// A non-owning connection handle with its own statement cache.
struct Scope {
    conn: Mutex<Connection>,
}

/// Runs `f` with a connection whose `prepare_cached` statements live as long
/// as the caller's statement.
pub fn with_connection<T>(
    ctx: &Context<'_>,
    f: impl FnOnce(&Connection) -> T,
) -> rusqlite::Result<T> {
    if let Ok(Some(scope)) = ctx.get_aux::<Scope>(SCOPE_KEY) {
        if let Ok(conn) = scope.conn.try_lock() {
            return Ok(f(&conn));
        }
    }
    // SAFETY: the handle belongs to the connection running this call; the
    // wrapper does not own it and is dropped no later than the caller's
    // statement.
    let conn = unsafe {
        let current = ctx.get_connection()?;
        Connection::from_handle(current.handle())?
    };
    let scope = ctx.set_aux(
        SCOPE_KEY,
        Scope {
            conn: Mutex::new(conn),
        },
    )?;
    let conn = scope.conn.lock().unwrap_or_else(|e| e.into_inner());
    Ok(f(&conn))
}
