//! Queue on create, by choice: `consent_setting('queue_new_customers', '1')`
//! puts an AFTER INSERT trigger on the billing table that writes a `queue`
//! command ([`crate::commands`]) for every customer the billing application
//! adds who has never been asked, so that a program which cannot call our
//! functions still asks its new customers. `'0'` removes it.
//!
//! The trigger names the id column alone and calls no function, so the
//! billing application's own `ALTER TABLE ... DROP COLUMN` (of any other
//! column), `RENAME COLUMN` (even of the id, which SQLite rewrites inside
//! the trigger) and `RENAME TO` keep working, and its inserts work on a
//! connection without the extension. An application that rebuilds its
//! table (create a new one, copy, drop, rename) drops the trigger with
//! the old table: [`restore`] puts it back and says so, and sync calls it
//! on every run.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::quote_identifier;
use crate::settings;
use crate::setup::{self, Setup};

/// The setting's key.
pub const SETTING: &str = "queue_new_customers";

/// The trigger's name.
pub const TRIGGER: &str = "consent_queue_new_customers";

/// The note a command from the trigger carries.
const NOTE: &str = "new customer";

/// Whether the setting is on.
pub(crate) fn wanted(conn: &Connection) -> rusqlite::Result<bool> {
    Ok(settings::queue_new_customers(
        settings::stored(conn, SETTING)?.as_deref(),
    ))
}

/// Whether the trigger is in the database.
fn present(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM main.sqlite_master WHERE type = 'trigger' AND name = ?1",
        [TRIGGER],
        |r| r.get(0),
    )
}

/// Makes the trigger match the setting for the customers' table `setup`
/// names: dropped, then made again when the setting is on (so it follows
/// a `consent_init` that moved to another table or id column).
pub(crate) fn follow_setting(conn: &Connection, setup: &Setup) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("DROP TRIGGER IF EXISTS main.{TRIGGER}"))?;
    if wanted(conn)? {
        create(conn, setup)?;
    }
    Ok(())
}

fn create(conn: &Connection, setup: &Setup) -> rusqlite::Result<()> {
    let id = quote_identifier(&setup.id_column);
    // The ON clause takes the bare name (a trigger lives in its table's
    // schema); the body's INSERT may not name a schema either. Only a
    // customer never asked: an application that saves an edit with
    // INSERT OR REPLACE inserts the row again, and a customer who declined
    // must not be asked again for that (the request index makes the check
    // a look-up).
    conn.execute_batch(&format!(
        "CREATE TRIGGER main.{TRIGGER} AFTER INSERT ON {table} \
         WHEN NEW.{id} IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM consent_request WHERE customer_id = NEW.{id}) \
         BEGIN \
           INSERT INTO consent_command (customer_id, command, note) VALUES (NEW.{id}, 'queue', '{NOTE}'); \
         END",
        table = quote_identifier(&setup.table),
    ))
}

/// Before the setting is turned on: the setup must be there (the trigger
/// needs the table) and the information text set (else every new
/// customer's command would be refused).
pub(crate) fn check_can_turn_on(conn: &Connection, function: &'static str) -> Result<()> {
    setup::load(conn, function)?;
    let info_text: Option<String> = settings::stored(conn, "info_text").in_function(function)?;
    if info_text.is_none() {
        return Err(ConsentError::bad_argument(
            function,
            "set the information text first with consent_setting('info_text', 'your text'): \
             new customers cannot be queued without it",
        ));
    }
    Ok(())
}

/// What [`restore`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerCheck {
    /// The setting is off.
    Off,
    /// On, and the trigger is there.
    InPlace,
    /// On, the trigger was gone (the billing table was rebuilt or dropped
    /// and made again), and it has been put back on this table.
    Restored { table: String },
}

/// With the setting on, puts the trigger back if it is gone. Customers
/// added while it was gone were not queued; the caller says so.
pub fn restore(conn: &Connection) -> Result<TriggerCheck> {
    const FUNCTION: &str = "consent-portal sync";
    if !wanted(conn).in_function(FUNCTION)? {
        return Ok(TriggerCheck::Off);
    }
    if present(conn).in_function(FUNCTION)? {
        return Ok(TriggerCheck::InPlace);
    }
    let setup = setup::load(conn, FUNCTION)?;
    if let Some(gone) = setup::diagnose(conn, &setup, FUNCTION) {
        return Err(gone);
    }
    create(conn, &setup).in_function(FUNCTION)?;
    Ok(TriggerCheck::Restored { table: setup.table })
}

/// The trigger's SQL as stored, for tests and `consent-portal status`.
pub fn trigger_sql(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT sql FROM main.sqlite_master WHERE type = 'trigger' AND name = ?1",
        [TRIGGER],
        |r| r.get(0),
    )
    .optional()
}
