//! Step 1 of `sync`: the commands programs left in `consent_command` by
//! plain SQL (`consent_extension::commands`), applied in order before
//! anything else, so that a customer queued that way gets a page and a
//! message in this same run. With `--dry-run`, inside a transaction that
//! is rolled back.
//!
//! The step also checks queue on create
//! (`consent_extension::new_customers`): with the setting on and the
//! trigger gone (the billing application rebuilt its table), the trigger
//! is put back and the summary says so, because the customers added in
//! between were not queued.

use consent_extension::commands::{self, Taken};
use consent_extension::new_customers::{self, TriggerCheck};
use consent_extension::ConsentError;
use rusqlite::Connection;
use serde::Serialize;

use super::Progress;

/// What the step did.
#[derive(Debug, Default, Serialize)]
pub struct Commands {
    #[serde(flatten)]
    pub taken: Taken,
    /// The billing table whose queue-on-create trigger was gone and was
    /// put back (in a dry run: would be).
    pub trigger_restored: Option<String>,
}

/// Applies the pending commands (or, in a dry run, reports what applying
/// them would do) and puts back a missing queue-on-create trigger.
pub fn apply(
    conn: &Connection,
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<Commands, ConsentError> {
    if dry_run {
        conn.execute_batch("BEGIN")
            .map_err(|source| ConsentError::Sqlite {
                function: commands::APPLY,
                source,
            })?;
        let would = apply_now(conn, progress);
        let _ = conn.execute_batch("ROLLBACK");
        return would;
    }
    apply_now(conn, progress)
}

fn apply_now(conn: &Connection, progress: &dyn Progress) -> Result<Commands, ConsentError> {
    let trigger_restored = match new_customers::restore(conn)? {
        TriggerCheck::Restored { table } => Some(table),
        TriggerCheck::Off | TriggerCheck::InPlace => None,
    };
    let pending = commands::pending_count(conn).map_err(|source| ConsentError::Sqlite {
        function: commands::APPLY,
        source,
    })?;
    progress.start("applying commands", pending as u64);
    let taken = if pending == 0 {
        Taken::default()
    } else {
        commands::apply_pending(conn, &mut || progress.item_done())?
    };
    Ok(Commands {
        taken,
        trigger_restored,
    })
}
