//! `consent_command` and `consent_apply_commands`: the way in for programs
//! that cannot load the extension.
//!
//! Any program inserts a row into `consent_command` with plain SQL
//! (`sql/migrations/0006_commands_and_statuses.sql`): a customer id and
//! `queue`, `approve` or `revoke`, with an optional note and time. The next
//! `consent-portal sync`, or `SELECT consent_apply_commands()` on a
//! connection with the extension, takes the pending commands in id order
//! and runs each through the same transition as `consent_queue`,
//! `consent_approve` and `consent_revoke` ([`crate::transitions`]).
//!
//! Commands are taken in batches of [`BATCH`], each batch in one
//! transaction: the batch is claimed (`applied_at` set on the first
//! pending rows, a write that waits for any other connection's batch to
//! end), each command runs through its transition, and its outcome is
//! written on its row. Whatever commits, commits with its outcome, so
//! each command is taken exactly once. A command that can never succeed
//! (an unknown customer or word, a bad time) is refused with its reason on
//! the row and the rest go on. A problem of the register itself (not set
//! up, the billing table renamed, the database busy) undoes the batch and
//! stops the run with that error: its commands wait, to be taken once the
//! problem is fixed.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::args::Args;
use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::show_value;
use crate::setup::ConnState;
use crate::status::Status;
use crate::time::{self, UnixSeconds};
use crate::transitions::{self, Call};

/// The function that applies the commands.
pub const APPLY: &str = "consent_apply_commands";

/// The actor the log records for a change a command made: the change came
/// from a row in `consent_command`, not from a direct call.
pub const ACTOR: &str = "consent_command";

/// The command words, as the reference and the refusals list them.
pub const WORDS: [&str; 3] = ["queue", "approve", "revoke"];

/// How many pending commands are claimed and taken in one transaction: the
/// run's memory stays flat however many wait, and a disk's commit is paid
/// once per batch.
const BATCH: i64 = 2000;

/// How many refused commands a summary lists; the rest are counted.
pub const MAX_LISTED: usize = 100;

/// What one run over the pending commands did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Taken {
    /// Commands applied (the customer's status after each is on its row).
    pub applied: i64,
    /// Commands refused, each with its reason on its row.
    pub refused: i64,
    /// The first [`MAX_LISTED`] refusals.
    pub refusals: Vec<CommandRefusal>,
}

impl Taken {
    /// How many commands the run took, applied or refused.
    pub fn total(&self) -> i64 {
        self.applied + self.refused
    }
}

/// A refused command, as a summary lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandRefusal {
    /// The row's id in `consent_command`.
    pub command_id: i64,
    /// The customer id as SQL shows it (`42`, `'K-7'`, `NULL`).
    pub customer: String,
    pub reason: String,
}

// consent_apply_commands()
pub(crate) fn sql_apply_commands(
    _: &Args<'_>,
    conn: &Connection,
    state: &ConnState,
) -> Result<Value> {
    apply(conn, state, &mut || {}).map(|taken| Value::Integer(taken.total()))
}

/// Applies every pending command, as `consent_apply_commands()` does, for
/// a program that calls the extension from Rust (consent-portal sync).
/// `on_taken` is called after each command, for progress.
pub fn apply_pending(conn: &Connection, on_taken: &mut dyn FnMut()) -> Result<Taken> {
    let _writing = crate::guard::enter();
    apply(conn, &ConnState::default(), on_taken)
}

/// How many commands wait to be applied (0 before `consent_init` made the
/// table).
pub fn pending_count(conn: &Connection) -> rusqlite::Result<i64> {
    if !has_table(conn)? {
        return Ok(0);
    }
    conn.query_row(
        "SELECT count(*) FROM main.consent_command WHERE outcome IS NULL",
        [],
        |r| r.get(0),
    )
}

fn has_table(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'consent_command'",
        [],
        |r| r.get(0),
    )
}

/// A pending command as read from its row.
struct Pending {
    id: i64,
    customer_id: Value,
    command: Value,
    note: Value,
    at: Value,
    created_at: Value,
}

fn apply(conn: &Connection, state: &ConnState, on_taken: &mut dyn FnMut()) -> Result<Taken> {
    // Checks the register is set up and at this schema version, so that a
    // missing table is reported as what to do.
    state.setup(conn, APPLY)?;
    let mut taken = Taken::default();
    loop {
        // One transaction per batch (a savepoint outside BEGIN is one): in
        // autocommit mode each command would otherwise commit, and wait
        // for the disk, on its own.
        conn.execute_batch("SAVEPOINT consent_commands")
            .in_function(APPLY)?;
        let batch = take_batch(conn, state, &mut taken, on_taken);
        match batch {
            Ok(more) => {
                conn.execute_batch("RELEASE consent_commands")
                    .in_function(APPLY)?;
                if !more {
                    return Ok(taken);
                }
            }
            Err(e) => {
                // The whole batch, as if it had not been tried: its
                // commands wait, their claim undone, and the register is
                // as it was before them.
                let _ =
                    conn.execute_batch("ROLLBACK TO consent_commands; RELEASE consent_commands");
                return Err(e);
            }
        }
    }
}

/// Claims the next batch of pending commands and takes each, in id order,
/// counting into `taken`. Returns whether there may be more.
///
/// The claim is the batch's first statement and a write: it waits for any
/// other connection applying commands to finish its batch (a read first
/// could not be upgraded to a write while the other commits, and would
/// fail with SQLITE_BUSY), and from then on the batch is this
/// connection's alone. A claimed command without an outcome is ours: every
/// other connection's claims end with an outcome in the same transaction.
fn take_batch(
    conn: &Connection,
    state: &ConnState,
    taken: &mut Taken,
    on_taken: &mut dyn FnMut(),
) -> Result<bool> {
    let now = time::format(time::now());
    let claimed = conn
        .prepare_cached(
            "UPDATE main.consent_command SET applied_at = ?1 WHERE id IN \
             (SELECT id FROM main.consent_command WHERE outcome IS NULL AND applied_at IS NULL \
              ORDER BY id LIMIT ?2)",
        )
        .and_then(|mut stmt| stmt.execute(params![now, BATCH]))
        .in_function(APPLY)?;
    if claimed == 0 {
        return Ok(false);
    }
    for command in claimed_commands(conn, claimed).in_function(APPLY)? {
        // A transition refuses before it writes, and writes in one
        // statement: a refused command has changed nothing.
        let (outcome, status, refusal) = match run(conn, state, &command) {
            Ok(status) => ("applied", Some(status.as_str()), None),
            Err(e) if is_the_commands_fault(&e) => ("refused", None, Some(e.to_string())),
            Err(e) => return Err(e),
        };
        conn.prepare_cached(
            "UPDATE main.consent_command SET outcome = ?2, status_after = ?3, refusal = ?4 \
             WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![command.id, outcome, status, refusal]))
        .in_function(APPLY)?;
        match refusal {
            None => taken.applied += 1,
            Some(reason) => {
                taken.refused += 1;
                if taken.refusals.len() < MAX_LISTED {
                    taken.refusals.push(CommandRefusal {
                        command_id: command.id,
                        customer: show_value((&command.customer_id).into()),
                        reason,
                    });
                }
            }
        }
        on_taken();
    }
    Ok(claimed as i64 == BATCH)
}

/// The `claimed` commands this connection has just claimed: the first
/// pending ones in id order (every command before them has an outcome).
fn claimed_commands(conn: &Connection, claimed: usize) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, customer_id, command, note, at, created_at FROM main.consent_command \
         WHERE outcome IS NULL ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([claimed as i64], |r| {
        Ok(Pending {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            command: r.get(2)?,
            note: r.get(3)?,
            at: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Runs a command through its transition. The errors are the transition's,
/// and for what only a command can get wrong (the word, a missing id, a
/// time or note that is not one), of [`ACTOR`].
fn run(conn: &Connection, state: &ConnState, command: &Pending) -> Result<Status> {
    let word = match command.command.clone() {
        Value::Text(word) => word.trim().to_ascii_lowercase(),
        other => {
            return Err(ConsentError::bad_argument(
                ACTOR,
                format!(
                    "the command is {}; write one of {}",
                    show_value((&other).into()),
                    quoted_words()
                ),
            ))
        }
    };
    if !WORDS.contains(&word.as_str()) {
        return Err(ConsentError::bad_argument(
            ACTOR,
            format!(
                "unknown command {}; write one of {}",
                show_value((&command.command).into()),
                quoted_words()
            ),
        ));
    }
    if command.customer_id == Value::Null {
        return Err(ConsentError::bad_argument(
            ACTOR,
            "customer_id is NULL; write the customer's id from the billing table",
        ));
    }
    let at = when(command)?;
    let note = match &command.note {
        Value::Null => None,
        Value::Text(text) => Some(text.clone()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Real(r) => Some(r.to_string()),
        Value::Blob(_) => {
            return Err(ConsentError::bad_argument(
                ACTOR,
                "the note is a blob; write text",
            ))
        }
    };
    let call = Call {
        function: ACTOR,
        id: command.customer_id.clone(),
        at,
    };
    match word.as_str() {
        "queue" => transitions::queue(&call, conn, state),
        "approve" => transitions::approve(&call, note.as_deref(), conn, state),
        _ => transitions::revoke(&call, note.as_deref(), conn, state),
    }
}

/// When the command happened: its `at`, else when it was inserted, else
/// now (a program that wrote created_at as NULL around its default).
fn when(command: &Pending) -> Result<UnixSeconds> {
    let (value, column) = match &command.at {
        Value::Null => (&command.created_at, "created_at"),
        at => (at, "at"),
    };
    let parsed = match value {
        Value::Null => Some(time::now()),
        Value::Integer(n) => Some(*n),
        Value::Real(r) if r.is_finite() && r.abs() < 1e15 => Some(r.floor() as i64),
        Value::Text(t) => time::parse(t),
        _ => None,
    };
    parsed.ok_or_else(|| {
        ConsentError::bad_argument(
            ACTOR,
            format!(
                "{column} {} is not a time; write ISO-8601 such as '2026-11-29T09:30:00Z' \
                 (no offset = UTC) or unix seconds, or leave at NULL for when the row was inserted",
                show_value(ValueRef::from(value))
            ),
        )
    })
}

fn quoted_words() -> String {
    let words: Vec<String> = WORDS.iter().map(|w| format!("'{w}'")).collect();
    words.join(", ")
}

/// Whether an error is the command's own: it would fail the same way
/// however often it is tried, so it is refused and the rest go on. Any
/// other error is the register's (not set up, the billing table renamed,
/// SQLite busy or failing) and stops the run with the command pending.
fn is_the_commands_fault(e: &ConsentError) -> bool {
    match e {
        ConsentError::UnknownCustomer { .. }
        | ConsentError::IllegalTransition { .. }
        | ConsentError::InfoTextUnset { .. }
        | ConsentError::BadArgument { .. } => true,
        ConsentError::NotSetUp { .. }
        | ConsentError::KeptChanging { .. }
        | ConsentError::TableGone { .. }
        | ConsentError::ColumnGone { .. }
        | ConsentError::Sqlite { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use rusqlite::Connection;

    use crate::language::Language;
    use crate::status::Status;

    const BILLING: &str = "
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT, notes TEXT);
        INSERT INTO customers (id, name, email, mobile) VALUES
          (1, 'Anna Andersson', 'anna@example.se', NULL),
          (2, 'Bo Berg', 'bo@example.se', NULL),
          (3, 'Cia Ek', NULL, NULL);";

    /// The register, and a second connection to it without the extension:
    /// the billing application's.
    fn register() -> (consent_testkit::Scratch, Connection, Connection) {
        let scratch = consent_testkit::Scratch::new("commands");
        let path = scratch.path().join("billing.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(BILLING).expect("billing table");
        crate::register(&conn).expect("register");
        for sql in [
            "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
            "SELECT consent_setting('info_text', 'Vi sparar din e-post.')",
        ] {
            conn.query_row(sql, [], |_| Ok(())).expect(sql);
        }
        let plain = Connection::open(&path).expect("open without the extension");
        (scratch, conn, plain)
    }

    fn value(conn: &Connection, sql: &str) -> Value {
        conn.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn text(conn: &Connection, sql: &str) -> String {
        match value(conn, sql) {
            Value::Text(t) => t,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn error(conn: &Connection, sql: &str) -> String {
        conn.execute_batch(sql).expect_err(sql).to_string()
    }

    /// (outcome, status_after, refusal) of every command, in id order.
    fn outcomes(conn: &Connection) -> Vec<(Option<String>, Option<String>, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT outcome, status_after, refusal FROM consent_command ORDER BY id")
            .expect("commands");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("commands");
        rows.collect::<rusqlite::Result<_>>().expect("commands")
    }

    #[test]
    fn commands_from_plain_sql_are_applied_in_order_once_and_bad_ones_refused() {
        let (_scratch, conn, plain) = register();
        plain
            .execute_batch(
                "INSERT INTO consent_command (customer_id, command) VALUES (1, 'queue');
                 INSERT INTO consent_command (customer_id, command) VALUES (99, 'queue');
                 INSERT INTO consent_command (customer_id, command, note) VALUES (1, ' Approve ', 'signed on paper');
                 INSERT INTO consent_command (customer_id, command) VALUES (2, 'aprove');
                 INSERT INTO consent_command (customer_id, command) VALUES (NULL, 'queue');
                 INSERT INTO consent_command (customer_id, command, at) VALUES (2, 'queue', 'last tuesday');
                 INSERT INTO consent_command (customer_id, command, at) VALUES (2, 'queue', '2026-11-30T08:00:00Z');
                 INSERT INTO consent_command (customer_id, command) VALUES (3, 'queue');
                 INSERT INTO consent_command (customer_id, command, note) VALUES (2, 'revoke', 'asked at the desk');",
            )
            .expect("plain inserts, no extension");
        assert_eq!(super::pending_count(&conn).expect("count"), 9);
        assert_eq!(
            value(&conn, "SELECT consent_apply_commands()"),
            Value::Integer(9)
        );
        let o = outcomes(&conn);
        let applied = |status: &str| (Some("applied".into()), Some(status.into()), None);
        assert_eq!(o[0], applied("queued"));
        assert_eq!(
            o[2],
            applied("approved"),
            "applied after the queue before it"
        );
        assert_eq!(o[6], applied("queued"));
        assert_eq!(
            o[7],
            applied("error"),
            "no contact: an error request, as consent_queue"
        );
        assert_eq!(o[8], applied("denied"));
        let refusal = |i: usize| {
            assert_eq!(o[i].0.as_deref(), Some("refused"), "{i}: {:?}", o[i]);
            assert_eq!(o[i].1, None);
            o[i].2.clone().expect("a reason")
        };
        assert!(
            refusal(1).contains("no customer with id 99"),
            "{}",
            refusal(1)
        );
        assert!(
            refusal(3).contains("unknown command 'aprove'")
                && refusal(3).contains("'queue', 'approve', 'revoke'"),
            "{}",
            refusal(3)
        );
        assert!(refusal(4).contains("customer_id is NULL"), "{}", refusal(4));
        assert!(
            refusal(5).contains("'last tuesday' is not a time"),
            "{}",
            refusal(5)
        );

        // The same changes as the functions make, by the command's actor,
        // at the command's time, with its note.
        assert_eq!(text(&conn, "SELECT consent_status(1)"), "approved");
        assert_eq!(
            text(
                &conn,
                "SELECT evidence FROM consent_request WHERE customer_id = 1"
            ),
            "signed on paper"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT group_concat(actor, ',') FROM consent_event WHERE customer_id = 2"
            ),
            "consent_command,consent_command"
        );
        assert_eq!(
            text(
                &conn,
                "SELECT created_at FROM consent_request WHERE customer_id = 2"
            ),
            "2026-11-30T08:00:00Z"
        );
        assert_eq!(text(&conn, "SELECT consent_verify_log()"), "ok");

        // Exactly once: nothing is pending, and a second run takes nothing.
        let events = value(&conn, "SELECT count(*) FROM consent_event");
        assert_eq!(
            value(&conn, "SELECT consent_apply_commands()"),
            Value::Integer(0)
        );
        assert_eq!(value(&conn, "SELECT count(*) FROM consent_event"), events);
        assert_eq!(
            value(
                &conn,
                "SELECT count(*) FROM consent_command WHERE applied_at IS NULL"
            ),
            Value::Integer(0)
        );

        // Erasure deletes the customer's taken commands: a note or a
        // refusal can quote the person.
        let erased = text(&conn, "SELECT consent_forget(2)");
        assert!(erased.ends_with(r#""commands_deleted":4}"#), "{erased}");
        assert_eq!(
            value(
                &conn,
                "SELECT count(*) FROM consent_command WHERE customer_id = 2"
            ),
            Value::Integer(0)
        );
    }

    #[test]
    fn the_outcome_is_the_extensions_to_write() {
        let (_scratch, conn, plain) = register();
        let e = error(
            &plain,
            "INSERT INTO consent_command (customer_id, command, outcome) VALUES (1, 'queue', 'applied')",
        );
        assert!(e.contains("filled in when the command is applied"), "{e}");
        plain
            .execute_batch("INSERT INTO consent_command (customer_id, command) VALUES (1, 'queue')")
            .expect("insert");
        // Without the extension, no update at all.
        let e = error(&plain, "UPDATE consent_command SET outcome = 'refused'");
        assert!(e.contains("consent_guard"), "{e}");
        // With it, still not by hand, before or after it is taken.
        let e = error(&conn, "UPDATE consent_command SET command = 'revoke'");
        assert!(e.contains("a command cannot be changed"), "{e}");
        value(&conn, "SELECT consent_apply_commands()");
        let e = crate::guard::allow(|| {
            error(&conn, "UPDATE consent_command SET status_after = 'denied'")
        });
        assert!(e.contains("a command cannot be changed"), "{e}");
        // A pending command can be withdrawn by deleting it.
        plain
            .execute_batch(
                "INSERT INTO consent_command (customer_id, command) VALUES (2, 'queue');
                 DELETE FROM consent_command WHERE outcome IS NULL;",
            )
            .expect("delete a pending command");
        assert_eq!(text(&conn, "SELECT consent_status(2)"), "missing");
    }

    #[test]
    fn a_problem_of_the_register_stops_the_run_and_keeps_the_commands() {
        let (_scratch, conn, plain) = register();
        plain
            .execute_batch(
                "INSERT INTO consent_command (customer_id, command) VALUES (1, 'queue');
                 ALTER TABLE customers RENAME TO clients;",
            )
            .expect("the billing application renames its table");
        let e = error(&conn, "SELECT consent_apply_commands()");
        assert!(
            e.contains("no longer exists") && e.contains("consent_init"),
            "{e}"
        );
        assert_eq!(super::pending_count(&conn).expect("count"), 1);
        conn.query_row(
            "SELECT consent_init('clients', 'id', 'email', 'mobile', 'name')",
            [],
            |_| Ok(()),
        )
        .expect("init again");
        assert_eq!(
            value(&conn, "SELECT consent_apply_commands()"),
            Value::Integer(1)
        );
        assert_eq!(text(&conn, "SELECT consent_status(1)"), "queued");
    }

    #[test]
    fn the_status_view_gives_status_label_and_reason_to_plain_sql() {
        let (_scratch, conn, plain) = register();
        plain
            .execute_batch(
                "INSERT INTO customers (id, name, email) VALUES (4, 'Dan', 'dan@example.se'), (5, 'Eva', 'eva@example.se')",
            )
            .expect("two more customers");
        for sql in [
            "SELECT consent_queue(1)",
            "SELECT consent_queue(3)",
            "SELECT consent_queue(4)",
            "SELECT consent_mark_sent(4, 'email')",
            "SELECT consent_approve(5)",
            "SELECT consent_queue(2)",
            "SELECT consent_revoke(2, 'called the office')",
        ] {
            value(&conn, sql);
        }
        let rows = |c: &Connection| -> Vec<(i64, String, String, Option<String>)> {
            let mut stmt = c
                .prepare("SELECT customer_id, status, label, reason FROM consent_statuses ORDER BY customer_id")
                .expect("view");
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .expect("view");
            rows.collect::<rusqlite::Result<_>>().expect("view")
        };
        let seen = rows(&plain);
        let statuses: Vec<&str> = seen.iter().map(|row| row.1.as_str()).collect();
        assert_eq!(
            statuses,
            ["queued", "denied", "error", "sent", "approved"],
            "{seen:?}"
        );
        assert_eq!(
            seen[1].3.as_deref(),
            Some("called the office"),
            "the newest request's reason"
        );
        // The view's labels are consent_label's, in both languages.
        for language in [Language::Sv, Language::En] {
            value(
                &conn,
                &format!("SELECT consent_setting('language', '{}')", language.code()),
            );
            for (_, status, label, _) in rows(&plain) {
                let status: Status = status.parse().expect("a status");
                assert_eq!(label, status.label(language), "{status} in {language}");
            }
        }
    }
}
