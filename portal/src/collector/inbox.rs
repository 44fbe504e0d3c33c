//! The collector's inbox: its own SQLite file of the decisions customers
//! posted, each stored durably (WAL, `synchronous=FULL`) before the customer
//! gets an answer, and handed out to `sync` in cursor order.
//!
//! ```sql
//! CREATE TABLE decision (
//!   cursor      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused; see below
//!   request_id  INTEGER NOT NULL,
//!   decision    TEXT NOT NULL CHECK (decision IN ('approve', 'decline', 'withdraw')),  -- the token's, for reading
//!   token       TEXT NOT NULL,                      -- as posted; sync verifies it again
//!   received_at TEXT NOT NULL                       -- YYYY-MM-DDTHH:MM:SSZ
//! );
//! ```
//!
//! A decision repeated for the same request (a double click, a reload, a
//! retry) is stored once. A customer who changes their mind before `sync`
//! runs gets a new row: for each request the row with the highest cursor is
//! the customer's last word, so an approve, decline, approve ends approved
//! and a decline, approve, decline ends declined. Nothing about the client
//! (address, browser) is stored: it is personal data we do not need.
//!
//! **Cursors survive a restore.** `sync` remembers, per source, the highest
//! cursor it applied and asks only for what lies above it. An inbox
//! restored from a copy that lags the lost file (a Litestream replica)
//! would hand out again the numbers after its last row, numbers `sync` has
//! already passed: those decisions would be skipped without a word. So a
//! new row's cursor is the larger of the last cursor + 1 and the clock in
//! microseconds since 1970, chosen in the insert's own transaction. Every
//! cursor the lost file gave out was at most the clock when it was given
//! (plus one per decision stored in the same microsecond), so the first
//! cursor after a restore is above all of them as long as the clock does
//! not run backwards. Cursors stay below 2^53 (until the year 2255), so a
//! JSON reader that keeps numbers as doubles reads them exactly. An inbox
//! from before this rule keeps its small cursors; the next one jumps to
//! the clock, and they only grow.
//!
//! The `decision` column is written from the verified token, for people
//! reading the inbox; `sync` takes the decision from the token again and
//! never from this column, so editing it changes nothing. The file is
//! created readable by its owner only, and made so again when a restored
//! copy is opened: its tokens are as good as the
//! buttons they came from until they expire.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

pub use crate::token::Decision;

/// The schema this program writes (`PRAGMA user_version`). Version 2
/// admits withdrawals.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS decision (
  cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  INTEGER NOT NULL,
  decision    TEXT NOT NULL CHECK (decision IN ('approve', 'decline', 'withdraw')),
  token       TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decision_by_request ON decision (request_id, cursor);
";

/// From version 1, whose CHECK refused `withdraw`: SQLite cannot change a
/// CHECK in place, so the table is made again and its rows copied with
/// their cursors (AUTOINCREMENT's sequence follows the highest).
const UPGRADE_FROM_1: &str = "
DROP INDEX decision_by_request;
ALTER TABLE decision RENAME TO decision_v1;
";
const UPGRADE_FROM_1_COPY: &str = "
INSERT INTO decision (cursor, request_id, decision, token, received_at)
  SELECT cursor, request_id, decision, token, received_at FROM decision_v1 ORDER BY cursor;
DROP TABLE decision_v1;
";

/// The outcome of [`Inbox::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The row that holds the decision.
    pub cursor: i64,
    /// False when the same decision was already the request's latest.
    pub first_time: bool,
}

/// One row of the inbox, as `GET /decisions` hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDecision {
    pub cursor: i64,
    pub request_id: i64,
    pub decision: Decision,
    pub token: String,
    pub received_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("there is no collector inbox at {}; start `consent-portal serve` to create it", .0.display())]
    Missing(PathBuf),
    #[error("cannot create the collector inbox {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the collector inbox {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{} was written by a newer consent-portal (inbox schema {found}, this program knows \
         {SCHEMA_VERSION}); upgrade consent-portal",
        path.display()
    )]
    Newer { path: PathBuf, found: i64 },
    #[error("{} is not a collector inbox (it has no decision table)", .0.display())]
    NotAnInbox(PathBuf),
    #[error("collector inbox {}: {source}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, InboxError> {
    Connection::open_with_flags(path, flags).map_err(|source| InboxError::Open {
        path: path.to_owned(),
        source,
    })
}

/// Creates an empty inbox file readable by its owner only, unless one is
/// there. SQLite gives the -wal and -shm files the same permissions.
fn create_owner_only(path: &Path) -> Result<(), InboxError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => owner_only(path),
        Err(source) => Err(InboxError::Create {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Takes away what others may do with an inbox that is already there: a
/// restore (`litestream restore`, a copy from a backup) writes the file
/// with the umask's permissions, often readable by everyone.
fn owner_only(path: &Path) -> Result<(), InboxError> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |source| InboxError::Create {
        path: path.to_owned(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(fail)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
            .map_err(fail)?;
    }
    Ok(())
}

/// As [`connect`], for a file that must already be there.
fn connect_existing(path: &Path, flags: OpenFlags) -> Result<Connection, InboxError> {
    if !path.is_file() {
        return Err(InboxError::Missing(path.to_owned()));
    }
    connect(path, flags)
}

/// The clock in microseconds since 1970; 0 before it (a clock that far
/// off still gets increasing cursors, from the last one).
fn clock_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// An open inbox. One connection behind a mutex: every write is a short
/// transaction ending in an fsync, so writers queue anyway. Call it from
/// blocking threads (`tokio::task::spawn_blocking`), not from async code.
pub struct Inbox {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// Opens the inbox at `path`, creating it (and its table) if missing.
    pub fn open(path: &Path) -> Result<Inbox, InboxError> {
        create_owner_only(path)?;
        Inbox::setup(connect(path, OpenFlags::default())?, path, true)
    }

    /// Opens an inbox that must already exist: a mistyped path is an error,
    /// not a new empty inbox.
    pub fn open_existing(path: &Path) -> Result<Inbox, InboxError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Inbox::setup(connect_existing(path, flags)?, path, false)
    }

    /// Opens an existing inbox to read only (what `sync` does with an
    /// inbox file): no write, and no change to the file's settings.
    pub fn open_read_only(path: &Path) -> Result<Inbox, InboxError> {
        let conn = connect_existing(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|source| InboxError::Database {
                path: path.to_owned(),
                source,
            })?;
        let inbox = Inbox {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        };
        inbox.check_schema()?;
        Ok(inbox)
    }

    fn setup(conn: Connection, path: &Path, create: bool) -> Result<Inbox, InboxError> {
        let db = |source| InboxError::Database {
            path: path.to_owned(),
            source,
        };
        conn.busy_timeout(Duration::from_secs(10)).map_err(db)?;
        // Durable before we answer: with WAL, FULL syncs the log on every
        // commit. The journal mode is this file's own; it sticks.
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(db)?;
        conn.execute_batch("PRAGMA synchronous = FULL")
            .map_err(db)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version > SCHEMA_VERSION {
            return Err(InboxError::Newer {
                path: path.to_owned(),
                found: version,
            });
        }
        if version == 1 {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {UPGRADE_FROM_1} {SCHEMA} {UPGRADE_FROM_1_COPY} \
                 PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(db)?;
        } else if create {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(db)?;
        }
        let inbox = Inbox {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        };
        inbox.check_schema()?;
        Ok(inbox)
    }

    /// An inbox of this program's schema (or an older one): refuses a newer
    /// one, and a file that is no inbox at all.
    fn check_schema(&self) -> Result<(), InboxError> {
        let conn = self.lock();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| self.error(source))?;
        if version > SCHEMA_VERSION {
            return Err(InboxError::Newer {
                path: self.path.clone(),
                found: version,
            });
        }
        let has_table: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'decision')",
                [],
                |r| r.get(0),
            )
            .map_err(|source| self.error(source))?;
        if !has_table {
            return Err(InboxError::NotAnInbox(self.path.clone()));
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a decision unless it is already the request's latest one.
    /// Returns after the row is on disk.
    pub fn record(
        &self,
        request_id: i64,
        decision: Decision,
        token: &str,
        received_at: &str,
    ) -> Result<Recorded, InboxError> {
        self.record_at(request_id, decision, token, received_at, clock_micros())
    }

    /// [`Inbox::record`] with the clock, in microseconds, that the new
    /// cursor must not be below (see the module's doc).
    fn record_at(
        &self,
        request_id: i64,
        decision: Decision,
        token: &str,
        received_at: &str,
        now_micros: i64,
    ) -> Result<Recorded, InboxError> {
        let mut conn = self.lock();
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let latest: Option<(i64, String)> = tx
                .query_row(
                    "SELECT cursor, decision FROM decision WHERE request_id = ?1 \
                     ORDER BY cursor DESC LIMIT 1",
                    [request_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((cursor, stored)) = latest {
                if stored == decision.as_str() {
                    return Ok(Recorded {
                        cursor,
                        first_time: false,
                    });
                }
            }
            // The highest cursor ever given: AUTOINCREMENT's sequence
            // remembers deleted rows too.
            let last: i64 = tx.query_row(
                "SELECT max(coalesce((SELECT max(cursor) FROM decision), 0), \
                            coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'decision'), 0))",
                [],
                |r| r.get(0),
            )?;
            let cursor = last.saturating_add(1).max(now_micros);
            tx.execute(
                "INSERT INTO decision (cursor, request_id, decision, token, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![cursor, request_id, decision.as_str(), token, received_at],
            )?;
            tx.commit()?;
            Ok(Recorded {
                cursor,
                first_time: true,
            })
        })();
        result.map_err(|source| self.error(source))
    }

    /// Up to `limit` decisions with a cursor above `after`, in cursor order.
    pub fn since(&self, after: i64, limit: usize) -> Result<Vec<StoredDecision>, InboxError> {
        let conn = self.lock();
        let result = (|| {
            let mut stmt = conn.prepare(
                "SELECT cursor, request_id, decision, token, received_at FROM decision \
                 WHERE cursor > ?1 ORDER BY cursor LIMIT ?2",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![after, limit], |r| {
                let word: String = r.get(2)?;
                let decision = Decision::parse(&word).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        2,
                        rusqlite::types::Type::Text,
                        format!("'{word}' is not approve or decline").into(),
                    )
                })?;
                Ok(StoredDecision {
                    cursor: r.get(0)?,
                    request_id: r.get(1)?,
                    decision,
                    token: r.get(3)?,
                    received_at: r.get(4)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })();
        result.map_err(|source| self.error(source))
    }

    /// A poisoned lock only means another request panicked mid-call; the
    /// connection itself is still consistent (SQLite rolls back).
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, source: rusqlite::Error) -> InboxError {
        InboxError::Database {
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_inbox(name: &str) -> (PathBuf, Inbox) {
        let dir = std::env::temp_dir().join(format!("consent-inbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("inbox.db");
        let inbox = Inbox::open(&path).expect("open");
        (dir, inbox)
    }

    #[test]
    fn the_inbox_is_created_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, inbox) = temp_inbox("mode");
        inbox
            .record(1, Decision::Approve, "v2.x", "2026-11-29T10:00:00Z")
            .expect("record");
        for name in ["inbox.db", "inbox.db-wal"] {
            let mode = std::fs::metadata(dir.join(name))
                .expect("the file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name} has mode {mode:o}");
        }
        // A restored copy comes with the umask's permissions: opening it
        // takes them away again.
        drop(inbox);
        let path = dir.join("inbox.db");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        drop(Inbox::open(&path).expect("reopen"));
        let mode = std::fs::metadata(&path)
            .expect("the file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn repeats_are_stored_once_and_changes_of_mind_in_order() {
        let (dir, inbox) = temp_inbox("order");
        let at = "2026-11-29T10:00:00Z";
        // A clock that stands still at 0: cursors go on from the last one.
        let record = |request, decision, token| inbox.record_at(request, decision, token, at, 0);
        let first = record(5, Decision::Approve, "v2.a").unwrap();
        assert_eq!(
            first,
            Recorded {
                cursor: 1,
                first_time: true
            }
        );
        let again = record(5, Decision::Approve, "v2.a").unwrap();
        assert_eq!(
            again,
            Recorded {
                cursor: 1,
                first_time: false
            }
        );
        let other = record(6, Decision::Decline, "v2.b").unwrap();
        assert_eq!(other.cursor, 2);
        let declined = record(5, Decision::Decline, "v2.a").unwrap();
        assert_eq!(
            declined,
            Recorded {
                cursor: 3,
                first_time: true
            }
        );
        let approved = record(5, Decision::Approve, "v2.a").unwrap();
        assert_eq!(
            approved,
            Recorded {
                cursor: 4,
                first_time: true
            }
        );

        let all = inbox.since(0, 100).unwrap();
        let summary: Vec<(i64, i64, Decision)> = all
            .iter()
            .map(|d| (d.cursor, d.request_id, d.decision))
            .collect();
        assert_eq!(
            summary,
            [
                (1, 5, Decision::Approve),
                (2, 6, Decision::Decline),
                (3, 5, Decision::Decline),
                (4, 5, Decision::Approve)
            ]
        );
        assert_eq!(inbox.since(2, 1).unwrap()[0].cursor, 3);
        assert!(inbox.since(4, 10).unwrap().is_empty());
        drop(inbox);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn is_durable_wal_and_reopens() {
        let (dir, inbox) = temp_inbox("pragmas");
        {
            let conn = inbox.lock();
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            let sync: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!((mode.as_str(), sync), ("wal", 2));
        }
        inbox
            .record(1, Decision::Approve, "v2.x", "2026-11-29T10:00:00Z")
            .unwrap();
        let path = inbox.path().to_owned();
        drop(inbox);
        let reopened = Inbox::open_existing(&path).unwrap();
        assert_eq!(reopened.since(0, 10).unwrap().len(), 1);
        drop(reopened);
        assert!(matches!(
            Inbox::open_existing(&dir.join("typo.db")),
            Err(InboxError::Missing(_))
        ));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn cursors_are_never_reused() {
        let (dir, inbox) = temp_inbox("autoincrement");
        inbox
            .record_at(1, Decision::Approve, "v2.x", "2026-11-29T10:00:00Z", 0)
            .unwrap();
        inbox
            .record_at(2, Decision::Approve, "v2.y", "2026-11-29T10:00:00Z", 0)
            .unwrap();
        inbox
            .lock()
            .execute("DELETE FROM decision WHERE cursor = 2", [])
            .unwrap();
        let next = inbox
            .record_at(3, Decision::Approve, "v2.z", "2026-11-29T10:00:00Z", 0)
            .unwrap();
        assert_eq!(next.cursor, 3);
        drop(inbox);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_version_1_inbox_is_upgraded_with_its_rows_and_cursors() {
        let dir = std::env::temp_dir().join(format!("consent-inbox-v1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("inbox.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE decision (
                   cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
                   request_id  INTEGER NOT NULL,
                   decision    TEXT NOT NULL CHECK (decision IN ('approve', 'decline')),
                   token       TEXT NOT NULL,
                   received_at TEXT NOT NULL);
                 CREATE INDEX decision_by_request ON decision (request_id, cursor);
                 INSERT INTO decision VALUES (1, 7, 'approve', 'v2.a', '2026-11-29T10:00:00Z');
                 INSERT INTO decision VALUES (2, 8, 'decline', 'v2.b', '2026-11-29T10:00:00Z');
                 DELETE FROM decision WHERE cursor = 2;
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let inbox = Inbox::open(&path).unwrap();
        let rows = inbox.since(0, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].cursor, rows[0].request_id), (1, 7));
        let withdrawn = inbox
            .record_at(7, Decision::Withdraw, "v2.c", "2026-11-30T10:00:00Z", 0)
            .unwrap();
        assert_eq!(
            withdrawn.cursor, 2,
            "the upgraded table continues after the highest kept cursor"
        );
        let version: i64 = inbox
            .lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(inbox);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn cursors_follow_the_clock_and_never_go_back() {
        let (dir, inbox) = temp_inbox("clock");
        let at = "2026-11-29T10:00:00Z";
        let mut cursors = Vec::new();
        for (request, clock) in [(1, 1_000), (2, 1_000), (3, 500), (4, 5_000), (5, 0)] {
            let recorded = inbox
                .record_at(request, Decision::Approve, "v2.x", at, clock)
                .unwrap();
            cursors.push(recorded.cursor);
        }
        // The clock, unless the last cursor is already there: then one more.
        assert_eq!(cursors, [1_000, 1_001, 1_002, 5_000, 5_001]);
        // The real clock: microseconds since 1970, exact in a JSON double.
        let real = inbox
            .record(6, Decision::Approve, "v2.x", at)
            .unwrap()
            .cursor;
        assert!(real > 1_700_000_000_000_000 && real < (1 << 53), "{real}");
        drop(inbox);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_inbox_restored_from_a_lagging_copy_gives_cursors_above_those_sync_passed() {
        let (dir, inbox) = temp_inbox("restore");
        let at = "2026-11-29T10:00:00Z";
        let second = 1_000_000;
        inbox
            .record_at(1, Decision::Approve, "v2.a", at, second)
            .unwrap();
        // The replica's last copy: it holds the first decision only.
        let replica = dir.join("replica.db");
        inbox
            .lock()
            .execute("VACUUM INTO ?1", [replica.to_string_lossy()])
            .unwrap();
        // Two more decisions reach the live file, and sync reads them.
        inbox
            .record_at(2, Decision::Decline, "v2.b", at, 2 * second)
            .unwrap();
        let passed = inbox
            .record_at(3, Decision::Approve, "v2.c", at, 3 * second)
            .unwrap()
            .cursor;
        drop(inbox);

        // The disk is lost; the inbox comes back from the replica, and a
        // customer decides a second later.
        let restored = Inbox::open(&replica).unwrap();
        let next = restored
            .record_at(4, Decision::Approve, "v2.d", at, 4 * second)
            .unwrap();
        assert!(next.cursor > passed, "{} <= {passed}", next.cursor);
        let seen: Vec<i64> = restored
            .since(passed, 10)
            .unwrap()
            .iter()
            .map(|d| d.request_id)
            .collect();
        assert_eq!(
            seen,
            [4],
            "sync, past cursor {passed}, sees the new decision"
        );

        // What the old rule (the last cursor + 1, the clock ignored) gave:
        // a cursor sync had passed, so the decision was never collected.
        let old_rule = dir.join("old-rule.db");
        restored
            .lock()
            .execute("VACUUM INTO ?1", [old_rule.to_string_lossy()])
            .unwrap();
        drop(restored);
        let old = Inbox::open(&old_rule).unwrap();
        old.lock()
            .execute("DELETE FROM decision WHERE request_id = 4", [])
            .unwrap();
        old.lock()
            .execute(
                "UPDATE sqlite_sequence SET seq = 1000000 WHERE name = 'decision'",
                [],
            )
            .unwrap();
        let lost = old.record_at(4, Decision::Approve, "v2.d", at, 0).unwrap();
        assert!(lost.cursor <= passed && old.since(passed, 10).unwrap().is_empty());
        drop(old);
        let _ = std::fs::remove_dir_all(dir);
    }
}
