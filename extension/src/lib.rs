//! The consent state machine and its SQL functions.
//!
//! [`register`] adds the `consent_*` functions and the `consent_overview`
//! table to a connection. The loadable extension (`libconsent.so`) calls it
//! from its entry point; the portal calls it on its own connection. One
//! implementation of every transition, two ways in.
//!
//! This file is the list: [`FUNCTIONS`] names every SQL function with its
//! signature and the module its body lives in, and drives registration,
//! argument checks and the messages that quote a signature back to the
//! user. Beside them, [`TRIGGER_FUNCTIONS`] are the functions the
//! schema's own triggers call (the write guard, the event hash and the
//! commitment of an erased detail). Beside
//! the SQL functions the crate exposes the register's rules the portal
//! needs (settings, the channel rule, requests as sync sees them, page ids,
//! the log's verification and head), so that the portal asks and never
//! restates them.

mod args;
mod bulk;
mod channel;
pub mod commands;
mod customer;
mod error;
mod forget;
mod guard;
mod init;
mod language;
pub mod log;
pub mod new_customers;
pub mod notices;
mod overview;
mod quoting;
pub mod record;
pub mod requests;
mod schema;
mod settings;
mod setup;
mod statement_cache;
mod status;
pub mod time;
mod transitions;
mod words;

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::Connection;

use args::Args;
use error::Result;
use setup::ConnState;

pub use args::Signature;
pub use channel::{has_contact, route, Channel};
pub use error::ConsentError;
pub use language::Language;
pub use overview::{COLUMNS as OVERVIEW_COLUMNS, NAME as OVERVIEW};
pub use schema::SCHEMA_VERSION;
pub use settings::Settings;
pub use status::Status;
pub use transitions::page_id_is_valid;

/// The extension's version, as `consent_version()` returns it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

type Handler = fn(&Args<'_>, &Connection, &ConnState) -> Result<Value>;

/// One SQL function: its signature, whether it writes, and its body.
pub struct Function {
    pub sig: Signature,
    /// Writers may only be called directly, never from a trigger or view
    /// someone else put into the database file (SQLITE_DIRECTONLY).
    pub writes: bool,
    handler: Handler,
}

macro_rules! function {
    ($name:literal ($($param:literal),*) required $required:literal, writes: $writes:literal, $handler:path) => {
        Function {
            sig: Signature { name: $name, params: &[$($param),*], required: $required },
            writes: $writes,
            handler: $handler,
        }
    };
}

/// The SQL functions, in the order of the reference (docs/reference.md).
pub const FUNCTIONS: &[Function] = &[
    function!("consent_init" ("table", "id_column", "email_column", "mobile_column", "name_column", "language_column") required 4, writes: true, init::sql_init),
    function!("consent_setting" ("key", "value") required 1, writes: true, settings::sql_setting),
    function!("consent_version" () required 0, writes: false, sql_version),
    function!("consent_status" ("id") required 1, writes: false, transitions::sql_status),
    function!("consent_queue" ("id", "at") required 1, writes: true, transitions::sql_queue),
    function!("consent_queue_all" ("status", "at") required 0, writes: true, bulk::sql_queue_all),
    function!("consent_approve" ("id", "evidence", "at") required 1, writes: true, transitions::sql_approve),
    function!("consent_revoke" ("id", "reason", "at") required 1, writes: true, transitions::sql_revoke),
    function!("consent_mark_sent" ("id", "channel", "page_id", "at") required 2, writes: true, transitions::sql_mark_sent),
    function!("consent_mark_error" ("id", "reason", "at") required 2, writes: true, transitions::sql_mark_error),
    function!("consent_expire" ("now") required 0, writes: true, bulk::sql_expire),
    function!("consent_verify_log" () required 0, writes: false, log::sql_verify_log),
    function!("consent_record" ("id") required 1, writes: false, record::sql_record),
    function!("consent_label" ("status", "language") required 1, writes: false, status::sql_label),
    function!("consent_forget" ("id", "at") required 1, writes: true, forget::sql_forget),
    function!("consent_apply_commands" () required 0, writes: true, commands::sql_apply_commands),
];

/// The functions the schema's triggers call, registered beside
/// [`FUNCTIONS`]: `consent_guard()` (1 while the extension itself writes,
/// see `guard.rs`), `consent_event_hash(...)` (the audit log's chain, see
/// [`log`]) and `consent_event_detail_sha256(detail)` (the commitment an
/// erased detail leaves, see [`log`]). They are innocuous, so the triggers
/// may call them under `PRAGMA trusted_schema=OFF`, and not part of the
/// SQL contract.
pub const TRIGGER_FUNCTIONS: [&str; 3] = [
    guard::GUARD_FUNCTION,
    log::HASH_FUNCTION,
    log::COMMITMENT_FUNCTION,
];

// consent_version()
fn sql_version(_: &Args<'_>, _: &Connection, _: &ConnState) -> Result<Value> {
    Ok(Value::Text(VERSION.to_owned()))
}

/// Adds every consent function and `consent_overview` to the connection.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    guard::register(conn)?;
    log::register(conn)?;
    let state = Arc::new(ConnState::default());
    for function in FUNCTIONS {
        let mut flags = FunctionFlags::SQLITE_UTF8;
        if function.writes {
            flags |= FunctionFlags::SQLITE_DIRECTONLY;
        }
        let state = Arc::clone(&state);
        conn.create_scalar_function(function.sig.name, -1, flags, move |ctx: &Context<'_>| {
            call(function, ctx, &state).map_err(error::ConsentError::into_sqlite)
        })?;
    }
    overview::register(conn)
}

/// Runs one call of a function. Its writes pass the guard triggers
/// (`guard.rs`) while it runs, and only then.
fn call(function: &'static Function, ctx: &Context<'_>, state: &ConnState) -> Result<Value> {
    let args = Args::new(ctx, &function.sig)?;
    guard::allow(|| {
        statement_cache::with_connection(ctx, |conn| (function.handler)(&args, conn, state))
    })
    .map_err(|source| ConsentError::Sqlite {
        function: function.sig.name,
        source,
    })?
}
