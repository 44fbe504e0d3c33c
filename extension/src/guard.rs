//! The write guard: only the extension's own code may write
//! `consent_request`, `consent_event` and `consent_text`.
//!
//! The tables are plain SQLite tables in the billing application's file,
//! so any program that opens it could write them; an `UPDATE
//! consent_request SET status = 'approved'` would otherwise be accepted and
//! even logged as if a consent function had made it. The triggers of
//! `sql/migrations/0003_evidence.sql` refuse every write unless
//! `consent_guard()` returns 1, and it returns 1 only while [`allow`] runs
//! on the calling thread: every call of a function in [`crate::FUNCTIONS`],
//! and the Rust functions sync calls between them (`requests.rs`).
//!
//! Why a thread-local counter: SQLite runs a statement, its triggers and
//! the functions they call on the thread that stepped it, so "our code is
//! on the stack of this thread" is exactly "this write comes from us". A
//! counter rather than a flag, because a handler may call another guarded
//! function (consent_init migrates inside consent_init). On a connection
//! without the extension `consent_guard` does not exist and the triggers
//! fail with "no such function: consent_guard": the writes are refused
//! there too, which is what we want.
//!
//! This is not a defence against whoever can edit the file (they can drop
//! the triggers); that is what the hash chain in [`crate::log`] is for. Nor
//! against code in the host process: while a function runs, every
//! connection on its thread passes the guard, and a hook the host
//! registered (a commit or update hook) runs on that thread too.

use std::cell::Cell;

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

thread_local! {
    /// How many calls of [`allow`] are running on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The SQL function the guard triggers call.
pub const GUARD_FUNCTION: &str = "consent_guard";

/// Runs `f` with the extension's own writes allowed on this thread.
pub(crate) fn allow<T>(f: impl FnOnce() -> T) -> T {
    let _writing = enter();
    f()
}

/// Allows the extension's own writes on this thread until the returned
/// value is dropped: [`allow`] for a whole function body, as one line at
/// its top (`let _writing = guard::enter();`), where wrapping the body in
/// a closure would re-indent all of it.
#[must_use = "the writes are allowed only while the returned value lives"]
pub(crate) fn enter() -> Writing {
    // try_with: no panic even during thread teardown (then nothing is
    // allowed, and the drop below has nothing to undo).
    let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_add(1)));
    Writing(())
}

/// Extension writes allowed while it lives; see [`enter`].
pub(crate) struct Writing(());

impl Drop for Writing {
    // Decremented on the way out however the caller ends (a return, an
    // error, or a panic that rusqlite catches): a counter left raised
    // would let the next statement on this thread write unguarded.
    fn drop(&mut self) {
        // try_with: during thread teardown the slot may be gone already,
        // and a panic in drop would abort the host.
        let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Whether [`allow`] (or [`enter`]) is in force on this thread.
pub(crate) fn allowed() -> bool {
    DEPTH.try_with(|depth| depth.get() > 0).unwrap_or(false)
}

/// Adds `consent_guard()` to the connection: 1 inside [`allow`], else 0.
///
/// Innocuous, so that the triggers may call it under `PRAGMA
/// trusted_schema=OFF`; not direct-only, for the same reason; not
/// deterministic, because its answer depends on who is calling.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        GUARD_FUNCTION,
        0,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_INNOCUOUS,
        |_| Ok(i64::from(allowed())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_nests_and_resets_after_a_panic() {
        assert!(!allowed());
        allow(|| {
            assert!(allowed());
            allow(|| assert!(allowed()));
            assert!(allowed(), "an inner allow leaves the outer one in force");
        });
        assert!(!allowed());
        let caught = std::panic::catch_unwind(|| allow(|| panic!("a handler panics")));
        assert!(caught.is_err());
        assert!(!allowed(), "a panic inside allow leaves nothing allowed");
    }

    #[test]
    fn the_sql_function_answers_for_the_calling_thread() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let guard = |c: &Connection| -> i64 {
            c.query_row("SELECT consent_guard()", [], |r| r.get(0))
                .expect("consent_guard()")
        };
        assert_eq!(guard(&conn), 0);
        assert_eq!(allow(|| guard(&conn)), 1);
        assert_eq!(guard(&conn), 0);
    }
}
