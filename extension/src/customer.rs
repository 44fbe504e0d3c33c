//! Looking up one customer: their contact details from the billing table,
//! their current request, and the settings a transition needs, in one
//! statement step.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension};

use crate::channel::has_contact;
use crate::error::{ConsentError, Result};
use crate::language::Language;
use crate::quoting::{quote_identifier, show_value, Quoted};
use crate::requests::newest_request_sql;
use crate::settings;
use crate::setup::{self, ConnState, Setup};
use crate::status::Status;

/// A customer as a transition sees them.
#[derive(Debug)]
pub struct Customer {
    /// The id as stored in the billing table.
    pub id: Value,
    pub has_email: bool,
    pub has_mobile: bool,
    /// The newest request (id and status), None when there never was one.
    pub request: Option<(i64, Status)>,
    /// The newest request's reason (why it is in error or denied).
    pub reason: Option<String>,
    pub sms_enabled: bool,
    pub info_text_set: bool,
    pub language: Language,
}

impl Customer {
    pub fn status(&self) -> Status {
        self.request.map_or(Status::Missing, |(_, s)| s)
    }

    pub fn request_id(&self) -> Option<i64> {
        self.request.map(|(id, _)| id)
    }
}

/// The look-up statement for a setup (kept in [`Setup::lookup_sql`]).
pub fn lookup_sql(setup: &Setup) -> String {
    let q = quote_identifier;
    format!(
        "SELECT c.{id}, c.{email}, c.{mobile}, r.id, r.status, \
           (SELECT value FROM main.consent_meta WHERE key = 'generation'), \
           (SELECT value FROM main.consent_settings WHERE key = 'sms_enabled'), \
           (SELECT 1 FROM main.consent_settings WHERE key = 'info_text'), \
           (SELECT value FROM main.consent_settings WHERE key = 'language'), \
           r.reason \
         FROM {table} AS c \
         LEFT JOIN main.consent_request AS r ON r.id = {newest} \
         WHERE c.{id} = ?1",
        id = q(&setup.id_column),
        newest = newest_request_sql(&format!("c.{}", q(&setup.id_column))),
        email = q(&setup.email_column),
        mobile = q(&setup.mobile_column),
        table = setup.quoted_table(),
    )
}

/// Looks up a customer by id. An unknown id is an error; so is a billing
/// table whose recorded columns are gone.
pub fn find(
    conn: &Connection,
    state: &ConnState,
    function: &'static str,
    id: &Value,
) -> Result<Customer> {
    // Two tries: the cached setup may be stale if another connection ran
    // consent_init since; the generation read in the same step tells.
    for attempt in 0..2 {
        let setup = state.setup(conn, function)?;
        let looked_up = conn.prepare_cached(&setup.lookup_sql).and_then(|mut stmt| {
            stmt.query_row([id], |r| {
                let status: Option<String> = r.get(4)?;
                let generation: Option<i64> = r.get(5)?;
                Ok((
                    generation,
                    Customer {
                        id: r.get(0)?,
                        has_email: has_contact(r.get_ref(1)?),
                        has_mobile: has_contact(r.get_ref(2)?),
                        request: match (r.get::<_, Option<i64>>(3)?, status) {
                            (Some(rid), Some(s)) => Some((rid, s.parse().unwrap_or(Status::Error))),
                            _ => None,
                        },
                        sms_enabled: settings::sms_enabled(
                            r.get::<_, Option<String>>(6)?.as_deref(),
                        ),
                        info_text_set: r.get::<_, Option<i64>>(7)?.is_some(),
                        language: settings::language(r.get::<_, Option<String>>(8)?.as_deref()),
                        reason: match r.get_ref(9)? {
                            ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                            _ => None,
                        },
                    },
                ))
            })
            .optional()
        });
        let found = match looked_up {
            Ok(found) => found,
            // The billing table changed under the cached setup (SQLite may
            // notice only when the statement runs): re-read the setup once,
            // then say which table or column is gone.
            Err(e) => {
                state.forget();
                if attempt == 0 && setup::load(conn, function).is_ok_and(|s| !s.same_place(&setup))
                {
                    continue;
                }
                return Err(setup::diagnose(conn, &setup, function).unwrap_or(
                    ConsentError::Sqlite {
                        function,
                        source: e,
                    },
                ));
            }
        };
        match found {
            Some((generation, customer)) if generation.unwrap_or(0) == setup.generation => {
                return Ok(customer)
            }
            Some(_) if attempt == 0 => {
                state.forget();
                continue;
            }
            Some((_, customer)) => return Ok(customer),
            None => {
                return Err(ConsentError::UnknownCustomer {
                    function,
                    id: show_value(id.into()),
                    table: Quoted(setup.table.clone()),
                    id_column: Quoted(setup.id_column.clone()),
                })
            }
        }
    }
    Err(ConsentError::NotSetUp { function })
}
