//! The consent tables: ordered migrations from `sql/migrations`, applied by
//! `consent_init`. The schema version lives in `consent_meta`, never in
//! `PRAGMA user_version`, which belongs to the billing application.

use rusqlite::{Connection, OptionalExtension};

/// One migration: its SQL, and what must be done in Rust right after it,
/// in the same savepoint (work that SQL alone cannot do, such as hashing).
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
    pub after: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

/// The migrations in order; migration `n` (1-based) brings the schema to
/// version `n`. Add new ones at the end; never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "consent tables",
        sql: include_str!("../../sql/migrations/0001_consent_tables.sql"),
        after: None,
    },
    Migration {
        name: "texts and pages",
        sql: include_str!("../../sql/migrations/0002_texts_and_pages.sql"),
        after: None,
    },
    Migration {
        name: "evidence",
        sql: include_str!("../../sql/migrations/0003_evidence.sql"),
        // The events written before the chain existed get their hashes.
        after: Some(crate::log::seal_existing),
    },
    Migration {
        name: "customer side",
        sql: include_str!("../../sql/migrations/0004_customer_side.sql"),
        after: None,
    },
    Migration {
        name: "erasure",
        sql: include_str!("../../sql/migrations/0005_erasure.sql"),
        after: None,
    },
    Migration {
        name: "commands and statuses",
        sql: include_str!("../../sql/migrations/0006_commands_and_statuses.sql"),
        after: None,
    },
];

/// The schema version this build creates and expects.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const PLACEHOLDER: &str = "{customer_id_type}";

/// The schema version of the database: 0 before the first `consent_init`.
pub fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    let has_meta: bool = conn.query_row(
        "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'consent_meta'",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(0);
    }
    Ok(conn
        .query_row(
            "SELECT value FROM main.consent_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Applies the migrations after the current version, up to `target`, each
/// with its version bump inside one savepoint: a failed migration leaves
/// the schema as it was. `id_affinity` is the declared type for
/// `customer_id` columns (one of SQLite's affinity names, never user text).
/// Returns the version reached.
pub fn migrate(conn: &Connection, id_affinity: Affinity, target: i64) -> rusqlite::Result<i64> {
    let from = current_version(conn)?;
    if from >= target {
        return Ok(from);
    }
    conn.execute_batch("SAVEPOINT consent_migrate")?;
    let result = (|| {
        for (index, migration) in MIGRATIONS.iter().enumerate().take(target as usize) {
            let version = index as i64 + 1;
            if version <= from {
                continue;
            }
            let applied = conn
                .execute_batch(&migration.sql.replace(PLACEHOLDER, id_affinity.as_sql()))
                .and_then(|()| match migration.after {
                    // The step rewrites consent tables whose triggers admit
                    // only the extension's own writes.
                    Some(after) => crate::guard::allow(|| after(conn)),
                    None => Ok(()),
                });
            applied.map_err(|e| in_migration(e, version, migration.name))?;
            conn.execute(
                "INSERT OR REPLACE INTO main.consent_meta (key, value) VALUES ('schema_version', ?1)",
                [version],
            )?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            conn.execute_batch("RELEASE consent_migrate")?;
            Ok(target)
        }
        Err(e) => {
            // Undo everything the migrations did, then end the savepoint.
            let _ = conn.execute_batch("ROLLBACK TO consent_migrate; RELEASE consent_migrate");
            Err(e)
        }
    }
}

/// Names the migration in a failure of SQLite, keeping its result code.
fn in_migration(e: rusqlite::Error, version: i64, name: &str) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => rusqlite::Error::SqliteFailure(
            code,
            Some(format!(
                "migration {version} ({name}): {}",
                message.unwrap_or_else(|| code.to_string())
            )),
        ),
        other => other,
    }
}

/// The type affinity of a column, from its declared type by SQLite's rules
/// (https://sqlite.org/datatype3.html#determination_of_column_affinity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

impl Affinity {
    pub fn of_declared_type(declared: &str) -> Affinity {
        let t = declared.to_ascii_uppercase();
        if t.contains("INT") {
            Affinity::Integer
        } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
            Affinity::Text
        } else if t.contains("BLOB") || t.is_empty() {
            Affinity::Blob
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }

    /// A declared type with exactly this affinity.
    pub fn as_sql(self) -> &'static str {
        match self {
            Affinity::Integer => "INTEGER",
            Affinity::Text => "TEXT",
            Affinity::Blob => "BLOB",
            Affinity::Real => "REAL",
            Affinity::Numeric => "NUMERIC",
        }
    }
}
