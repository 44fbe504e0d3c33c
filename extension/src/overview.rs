//! `consent_overview`: one row per customer for the register and for DBAs,
//! as an eponymous virtual table. Not a view: a persistent view over the
//! billing table would make the billing application's own
//! `ALTER TABLE ... DROP COLUMN` fail, and a TEMP view would do the same on
//! the connection that loaded us. This table reads the billing table only
//! while it is being queried, a page of rows at a time, and holds no
//! prepared statement between pages.

use std::os::raw::c_int;

use rusqlite::ffi;
use rusqlite::types::Value;
use rusqlite::vtab::{
    eponymous_only_module, Context, Filters, IndexConstraintOp, IndexInfo, VTab, VTabConnection,
    VTabCursor,
};
use rusqlite::Connection;

use crate::error::ConsentError;
use crate::language::Language;
use crate::quoting::quote_identifier;
use crate::requests::newest_request_sql;
use crate::settings;
use crate::setup::{self, Setup};
use crate::status::Status;

pub const NAME: &str = "consent_overview";

/// The columns, in order.
pub const COLUMNS: [&str; 7] = [
    "customer_id",
    "name",
    "status",
    "label",
    "reason",
    "changed_at",
    "request_id",
];

const PAGE_ROWS: usize = 1000;
/// idx_num when the query fixes `customer_id = ?`.
const BY_CUSTOMER: c_int = 1;

pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_module(NAME, eponymous_only_module::<OverviewTab>(), None)
}

#[repr(C)]
struct OverviewTab {
    /// Base class; must be first.
    base: ffi::sqlite3_vtab,
    db: *mut ffi::sqlite3,
}

unsafe impl<'vtab> VTab<'vtab> for OverviewTab {
    type Aux = ();
    type Cursor = OverviewCursor;

    fn connect(
        db: &mut VTabConnection,
        _aux: Option<&()>,
        _args: &[&[u8]],
    ) -> rusqlite::Result<(String, Self)> {
        let schema = format!("CREATE TABLE x({})", COLUMNS.join(", "));
        // SAFETY: the handle is only used while SQLite runs this table's
        // methods on the same connection.
        let db = unsafe { db.handle() };
        Ok((
            schema,
            OverviewTab {
                base: ffi::sqlite3_vtab::default(),
                db,
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> rusqlite::Result<()> {
        let by_customer = info.constraints().position(|c| {
            c.is_usable()
                && c.column() == 0
                && c.operator() == IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ
        });
        match by_customer {
            Some(i) => {
                let mut usage = info.constraint_usage(i);
                usage.set_argv_index(1);
                usage.set_omit(true);
                info.set_idx_num(BY_CUSTOMER);
                info.set_estimated_cost(10.0);
                info.set_estimated_rows(1);
            }
            None => {
                info.set_idx_num(0);
                info.set_estimated_cost(1_000_000.0);
            }
        }
        Ok(())
    }

    fn open(&'vtab mut self) -> rusqlite::Result<OverviewCursor> {
        Ok(OverviewCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            db: self.db,
            scan: None,
            rows: Vec::new(),
            position: 0,
            rows_before: 0,
        })
    }
}

/// One customer's row.
struct Row {
    customer_id: Value,
    name: Value,
    status: Status,
    reason: Option<String>,
    changed_at: Option<String>,
    request_id: Option<i64>,
}

/// A scan in progress: the setup and the last id of the page read.
struct Scan {
    setup: Setup,
    language: Language,
    last_id: Option<Value>,
    exhausted: bool,
}

#[repr(C)]
struct OverviewCursor {
    /// Base class; must be first.
    base: ffi::sqlite3_vtab_cursor,
    db: *mut ffi::sqlite3,
    scan: Option<Scan>,
    rows: Vec<Row>,
    position: usize,
    /// Rows of the pages before this one, for unique rowids.
    rows_before: i64,
}

impl OverviewCursor {
    fn connection(&self) -> rusqlite::Result<Connection> {
        // SAFETY: a non-owning wrapper of the connection running this query.
        unsafe { Connection::from_handle(self.db) }
    }

    /// Reads the next page of a full scan (or the one row of a look-up).
    fn read_page(&mut self, only: Option<&Value>) -> rusqlite::Result<()> {
        let conn = self.connection()?;
        let Some(scan) = self.scan.as_mut() else {
            return Ok(());
        };
        let setup = &scan.setup;
        let id = quote_identifier(&setup.id_column);
        let name = setup
            .name_column
            .as_deref()
            .map_or("NULL".to_owned(), |n| format!("c.{}", quote_identifier(n)));
        let filter = match (only, &scan.last_id) {
            (Some(_), _) => format!("c.{id} = ?1"),
            (None, Some(_)) => format!("c.{id} > ?1"),
            (None, None) => format!("c.{id} IS NOT NULL"),
        };
        let sql = format!(
            "SELECT c.{id}, {name}, r.status, r.reason, r.updated_at, r.id \
             FROM {table} AS c LEFT JOIN main.consent_request AS r ON r.id = {newest} \
             WHERE {filter} ORDER BY c.{id} LIMIT {PAGE_ROWS}",
            table = setup.quoted_table(),
            newest = newest_request_sql(&format!("c.{id}")),
        );
        // A renamed or dropped table or column: say which.
        let explain = |e: rusqlite::Error| {
            setup::diagnose(&conn, setup, NAME).map_or(e, ConsentError::into_sqlite)
        };
        let mut stmt = conn.prepare(&sql).map_err(explain)?;
        let key = only.or(scan.last_id.as_ref());
        let mut rows = match key {
            Some(k) => stmt.query([k]).map_err(explain)?,
            None => stmt.query([]).map_err(explain)?,
        };
        self.rows_before += self.rows.len() as i64;
        self.rows.clear();
        self.position = 0;
        while let Some(r) = rows.next().map_err(explain)? {
            let status: Option<String> = r.get(2)?;
            let status = status
                .and_then(|s| s.parse().ok())
                .unwrap_or(Status::Missing);
            self.rows.push(Row {
                customer_id: r.get(0)?,
                name: r.get(1)?,
                status,
                reason: if status == Status::Error {
                    r.get(3)?
                } else {
                    None
                },
                changed_at: r.get(4)?,
                request_id: r.get(5)?,
            });
        }
        scan.exhausted = only.is_some() || self.rows.len() < PAGE_ROWS;
        scan.last_id = self.rows.last().map(|r| r.customer_id.clone());
        Ok(())
    }
}

/// rusqlite's virtual-table glue does not catch panics, and a panic must
/// never unwind into the host program: turn one into an SQL error.
fn no_panic<T>(f: impl FnOnce() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(rusqlite::Error::ModuleError(format!(
            "{NAME}: internal error; please report it with the query that caused it"
        )))
    })
}

unsafe impl VTabCursor for OverviewCursor {
    fn filter(
        &mut self,
        idx_num: c_int,
        idx_str: Option<&str>,
        args: &Filters<'_>,
    ) -> rusqlite::Result<()> {
        // The plan is all in idx_num; idx_str is never set.
        let _ = idx_str;
        no_panic(|| self.start(idx_num, args))
    }

    fn next(&mut self) -> rusqlite::Result<()> {
        no_panic(|| self.advance())
    }

    fn eof(&self) -> bool {
        self.position >= self.rows.len()
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> rusqlite::Result<()> {
        no_panic(|| self.value(ctx, i))
    }

    fn rowid(&self) -> rusqlite::Result<i64> {
        Ok(self.rows_before + self.position as i64)
    }
}

impl OverviewCursor {
    fn start(&mut self, idx_num: c_int, args: &Filters<'_>) -> rusqlite::Result<()> {
        let conn = self.connection()?;
        let setup = setup::load(&conn, NAME).map_err(ConsentError::into_sqlite)?;
        let language = settings::read_language(&conn)?;
        self.rows.clear();
        self.rows_before = 0;
        self.scan = Some(Scan {
            setup,
            language,
            last_id: None,
            exhausted: false,
        });
        if idx_num == BY_CUSTOMER {
            let wanted: Value = args.get(0)?;
            if wanted == Value::Null {
                self.rows.clear();
                return Ok(());
            }
            self.read_page(Some(&wanted))
        } else {
            self.read_page(None)
        }
    }

    fn advance(&mut self) -> rusqlite::Result<()> {
        self.position += 1;
        let page_done = self.position >= self.rows.len();
        if page_done && self.scan.as_ref().is_some_and(|s| !s.exhausted) {
            self.read_page(None)?;
        }
        Ok(())
    }

    fn value(&self, ctx: &mut Context, i: c_int) -> rusqlite::Result<()> {
        let Some(row) = self.rows.get(self.position) else {
            return ctx.set_result(&Value::Null);
        };
        let language = self.scan.as_ref().map(|s| s.language).unwrap_or_default();
        match i {
            0 => ctx.set_result(&row.customer_id),
            1 => ctx.set_result(&row.name),
            2 => ctx.set_result(&row.status.as_str()),
            3 => ctx.set_result(&row.status.label(language)),
            4 => ctx.set_result(&row.reason),
            5 => ctx.set_result(&row.changed_at),
            6 => ctx.set_result(&row.request_id),
            _ => ctx.set_result(&Value::Null),
        }
    }
}
