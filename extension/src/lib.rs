//! The consent state machine and its SQL functions.
//!
//! [`register`] adds the `consent_*` functions and the `consent_overview`
//! table to a connection. The loadable extension (`libconsent.so`) calls it
//! from its entry point; the portal calls it on its own connection. One
//! implementation of every transition, two ways in.
//!
//! Every function is listed in [`FUNCTIONS`] with its SQL signature; the
//! table drives registration, argument checks and the messages that quote a
//! signature back to the user.

pub mod args;
pub mod bulk;
pub mod customer;
pub mod error;
pub mod overview;
pub mod schema;
pub mod scope;
pub mod settings;
pub mod setup;
pub mod status;
pub mod time;
pub mod transitions;

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::Connection;

use args::{Args, Signature};
use error::Result;
use setup::{ConnState, InitRequest};
use status::{Language, Status};

pub use error::ConsentError;

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

macro_rules! sig {
    ($name:literal, [$($param:literal),*], $required:literal) => {
        Signature { name: $name, params: &[$($param),*], required: $required }
    };
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// The SQL functions, in the order of the reference.
pub const FUNCTIONS: &[Function] = &[
    // consent_init(table, id_column, email_column, mobile_column [, name_column])
    Function {
        sig: sig!(
            "consent_init",
            [
                "table",
                "id_column",
                "email_column",
                "mobile_column",
                "name_column"
            ],
            4
        ),
        writes: true,
        handler: |a, conn, state| {
            let table = a.text(0, "the customer table's name")?;
            let id = a.text(1, "the id column's name")?;
            let email = a.text(2, "the e-mail column's name")?;
            let mobile = a.text(3, "the mobile number column's name")?;
            let name = a.optional_text(4)?;
            let request = InitRequest {
                table: &table,
                id_column: &id,
                email_column: &email,
                mobile_column: &mobile,
                name_column: name.as_deref(),
            };
            setup::init(conn, state, &request).map(text)
        },
    },
    // consent_setting(key [, value])
    Function {
        sig: sig!("consent_setting", ["key", "value"], 1),
        writes: true,
        handler: |a, conn, _| {
            let key = a.text(0, "a setting's name")?;
            // consent_setting(key, NULL) is a mistake, not a read.
            if a.len() > 1 {
                let value = a.text(1, "the new value")?;
                settings::set(conn, a.function(), &key, &value)
            } else {
                settings::get(conn, a.function(), &key)
            }
        },
    },
    // consent_version()
    Function {
        sig: sig!("consent_version", [], 0),
        writes: false,
        handler: |_, _, _| Ok(text(VERSION)),
    },
    // consent_status(id)
    Function {
        sig: sig!("consent_status", ["id"], 1),
        writes: false,
        handler: |a, conn, state| transitions::status(conn, state, &a.customer_id(0)?).map(text),
    },
    // consent_queue(id [, at])
    Function {
        sig: sig!("consent_queue", ["id", "at"], 1),
        writes: true,
        handler: |a, conn, state| {
            transitions::queue(conn, state, &a.customer_id(0)?, a.at(1)?).map(text)
        },
    },
    // consent_queue_all([status [, at]])
    Function {
        sig: sig!("consent_queue_all", ["status", "at"], 0),
        writes: true,
        handler: |a, conn, state| {
            let from = a.optional_text(0)?.unwrap_or_else(|| "missing".to_owned());
            bulk::queue_all(conn, state, &from, a.at(1)?).map(Value::Integer)
        },
    },
    // consent_approve(id [, evidence [, at]])
    Function {
        sig: sig!("consent_approve", ["id", "evidence", "at"], 1),
        writes: true,
        handler: |a, conn, state| {
            let evidence = a.optional_text(1)?.unwrap_or_else(|| "manual".to_owned());
            transitions::approve(conn, state, &a.customer_id(0)?, &evidence, a.at(2)?).map(text)
        },
    },
    // consent_revoke(id [, reason [, at]])
    Function {
        sig: sig!("consent_revoke", ["id", "reason", "at"], 1),
        writes: true,
        handler: |a, conn, state| {
            let reason = a.optional_text(1)?.unwrap_or_else(|| "revoked".to_owned());
            transitions::revoke(conn, state, &a.customer_id(0)?, &reason, a.at(2)?).map(text)
        },
    },
    // consent_mark_sent(id, channel [, page_id [, at]])
    Function {
        sig: sig!("consent_mark_sent", ["id", "channel", "page_id", "at"], 2),
        writes: true,
        handler: |a, conn, state| {
            let channel = a.text(1, "'email' or 'sms'")?;
            let page = a.optional_text(2)?;
            transitions::mark_sent(
                conn,
                state,
                &a.customer_id(0)?,
                &channel,
                page.as_deref(),
                a.at(3)?,
            )
            .map(text)
        },
    },
    // consent_mark_error(id, reason [, at])
    Function {
        sig: sig!("consent_mark_error", ["id", "reason", "at"], 2),
        writes: true,
        handler: |a, conn, state| {
            let reason = a.text(1, "the reason the request failed")?;
            transitions::mark_error(conn, state, &a.customer_id(0)?, &reason, a.at(2)?).map(text)
        },
    },
    // consent_expire([now])
    Function {
        sig: sig!("consent_expire", ["now"], 0),
        writes: true,
        handler: |a, conn, state| bulk::expire(conn, state, a.at(0)?).map(Value::Integer),
    },
    // consent_label(status [, language])
    Function {
        sig: sig!("consent_label", ["status", "language"], 1),
        writes: false,
        handler: |a, conn, _| label(a, conn),
    },
];

fn label(a: &Args<'_>, conn: &Connection) -> Result<Value> {
    let f = a.function();
    let word = a.text(0, "a status word")?;
    let status: Status = word.parse().map_err(|()| {
        let all: Vec<_> = Status::ALL.iter().map(|s| format!("'{s}'")).collect();
        ConsentError::bad_argument(
            f,
            format!("unknown status '{word}'; pass one of {}", all.join(", ")),
        )
    })?;
    let language = match a.optional_text(1)? {
        Some(code) => code.parse::<Language>().map_err(|()| {
            ConsentError::bad_argument(f, format!("unknown language '{code}'; pass 'sv' or 'en'"))
        })?,
        None => settings::language(conn).map_err(|source| ConsentError::Sqlite {
            function: f,
            source,
        })?,
    };
    Ok(text(status.label(language)))
}

/// Adds every consent function and `consent_overview` to the connection.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let state = Arc::new(ConnState::default());
    for function in FUNCTIONS {
        let mut flags = FunctionFlags::SQLITE_UTF8;
        if function.writes {
            flags |= FunctionFlags::SQLITE_DIRECTONLY;
        }
        let state = Arc::clone(&state);
        conn.create_scalar_function(function.sig.name, -1, flags, move |ctx: &Context<'_>| {
            call(function, ctx, &state).map_err(ConsentError::into_sqlite)
        })?;
    }
    overview::register(conn)
}

fn call(function: &'static Function, ctx: &Context<'_>, state: &ConnState) -> Result<Value> {
    let args = Args::new(ctx, &function.sig)?;
    scope::with_connection(ctx, |conn| (function.handler)(&args, conn, state)).map_err(
        |source| ConsentError::Sqlite {
            function: function.sig.name,
            source,
        },
    )?
}
