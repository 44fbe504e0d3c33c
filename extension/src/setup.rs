//! What `consent_init` recorded: which table holds the customers and which
//! columns hold their id, e-mail, mobile number, name and language. The record is
//! cached per connection and re-read when another connection changes it
//! (see [`crate::init`] for `consent_init` itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::{quote_identifier, Quoted};
use crate::schema::{self, SCHEMA_VERSION};

/// Where the customers are, as `consent_init` recorded it.
#[derive(Debug, Clone)]
pub struct Setup {
    pub table: String,
    pub id_column: String,
    pub email_column: String,
    pub mobile_column: String,
    pub name_column: Option<String>,
    /// The customer's language (see [`crate::Language::from_customer`]);
    /// None: every customer gets the `language` setting.
    pub language_column: Option<String>,
    /// Bumped by every `consent_init` that changes the record, so that other
    /// connections notice and re-read it.
    pub generation: i64,
    /// The customer look-up for this setup, built once.
    pub lookup_sql: String,
}

impl Setup {
    pub fn quoted_table(&self) -> String {
        format!("main.{}", quote_identifier(&self.table))
    }

    /// Whether two setups name the same table and columns.
    pub fn same_place(&self, other: &Setup) -> bool {
        (
            &self.table,
            &self.id_column,
            &self.email_column,
            &self.mobile_column,
            &self.name_column,
            &self.language_column,
        ) == (
            &other.table,
            &other.id_column,
            &other.email_column,
            &other.mobile_column,
            &other.name_column,
            &other.language_column,
        )
    }

    /// The recorded columns, for diagnosing a renamed or dropped one.
    fn columns(&self) -> impl Iterator<Item = &str> {
        [&self.id_column, &self.email_column, &self.mobile_column]
            .into_iter()
            .chain(self.name_column.as_ref())
            .chain(self.language_column.as_ref())
            .map(String::as_str)
    }
}

/// Per-connection state shared by the functions registered on it.
#[derive(Debug, Default)]
pub struct ConnState {
    setup: Mutex<Option<Arc<Setup>>>,
}

impl ConnState {
    /// The recorded setup, from the cache or the database.
    pub fn setup(&self, conn: &Connection, function: &'static str) -> Result<Arc<Setup>> {
        if let Some(cached) = self.lock().as_ref() {
            return Ok(Arc::clone(cached));
        }
        let loaded = Arc::new(load(conn, function)?);
        *self.lock() = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Forgets the cached setup; the next call re-reads it.
    pub fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Setup>>> {
        // A poisoned lock only means a panic elsewhere; the data is a cache.
        self.setup.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads the setup from `consent_meta`.
pub fn load(conn: &Connection, function: &'static str) -> Result<Setup> {
    let version = schema::current_version(conn).in_function(function)?;
    if version == 0 {
        return Err(ConsentError::NotSetUp { function });
    }
    if version != SCHEMA_VERSION {
        let what = if version < SCHEMA_VERSION {
            "run consent_init again (with the same arguments) to upgrade them"
        } else {
            "this libconsent is older than the one that made them; use the newer one"
        };
        return Err(ConsentError::bad_argument(
            function,
            format!(
                "the consent tables are at schema version {version}, this libconsent uses version {SCHEMA_VERSION}; {what}"
            ),
        ));
    }
    let mut stmt = conn
        .prepare("SELECT key, value FROM main.consent_meta")
        .in_function(function)?;
    let meta: HashMap<String, Value> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .in_function(function)?
        .collect::<rusqlite::Result<_>>()
        .in_function(function)?;
    let text = |key: &str| match meta.get(key) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let (Some(table), Some(id_column), Some(email_column), Some(mobile_column)) = (
        text("table"),
        text("id_column"),
        text("email_column"),
        text("mobile_column"),
    ) else {
        return Err(ConsentError::NotSetUp { function });
    };
    let generation = match meta.get("generation") {
        Some(Value::Integer(g)) => *g,
        _ => 0,
    };
    let mut setup = Setup {
        table,
        id_column,
        email_column,
        mobile_column,
        name_column: text("name_column"),
        language_column: text("language_column"),
        generation,
        lookup_sql: String::new(),
    };
    setup.lookup_sql = crate::customer::lookup_sql(&setup);
    Ok(setup)
}

/// Explains why a query over the billing table could not be prepared: the
/// table or a recorded column is gone. None when both are still there.
pub fn diagnose(conn: &Connection, setup: &Setup, function: &'static str) -> Option<ConsentError> {
    let columns = match table_columns(conn, &setup.table) {
        Ok(Some(columns)) => columns,
        Ok(None) => {
            return Some(ConsentError::TableGone {
                function,
                table: Quoted(setup.table.clone()),
            })
        }
        Err(_) => return None,
    };
    setup
        .columns()
        .find(|wanted| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(wanted)))
        .map(|gone| ConsentError::ColumnGone {
            function,
            table: Quoted(setup.table.clone()),
            column: Quoted(gone.to_owned()),
        })
}

pub(crate) struct Column {
    pub name: String,
    pub declared_type: String,
    pub primary_key_position: i64,
}

/// The columns of a table in `main`, or None when there is no such table.
pub(crate) fn table_columns(
    conn: &Connection,
    table: &str,
) -> rusqlite::Result<Option<Vec<Column>>> {
    let mut stmt = conn.prepare(&format!(
        "PRAGMA main.table_info({})",
        quote_identifier(table)
    ))?;
    let columns = stmt
        .query_map([], |r| {
            Ok(Column {
                name: r.get(1)?,
                declared_type: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                primary_key_position: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((!columns.is_empty()).then_some(columns))
}
