//! Requests as sync reads and writes them around the SQL functions: which
//! request is a customer's current one, the requests that need a page, the
//! queued ones with the channel each goes out through, the language of
//! each one's page and message, and where sync
//! stopped reading each decision source. The status changes themselves go
//! through the SQL functions; these are the look-ups and bookkeeping
//! around them, so that the portal never restates a rule of the register.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};

use crate::channel::{self, Channel};
use crate::error::{ConsentError, InFunction, Result};
use crate::language::Language;
use crate::quoting::quote_identifier;
use crate::settings::Settings;
use crate::setup;
use crate::status::Status;
use crate::time::{self, UnixSeconds};

/// SQL for the id of a customer's newest request, the one that holds their
/// status: the highest `supersedes` (see `consent_request` in
/// sql/migrations). `customer` is an SQL expression for the customer's id.
pub(crate) fn newest_request_sql(customer: &str) -> String {
    format!(
        "(SELECT id FROM main.consent_request WHERE customer_id = {customer} \
         ORDER BY supersedes DESC LIMIT 1)"
    )
}

/// A request, as a decision about it is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestState {
    pub customer_id: Value,
    pub status: Status,
    /// Whether it is the customer's newest request, the one that holds
    /// their status. A decision on an older one no longer applies.
    pub current: bool,
    pub page_id: Option<String>,
    /// When the link went out; None before.
    pub sent_at: Option<UnixSeconds>,
    /// The hash (hex) of the text on its page, fixed when the page was made.
    pub text_hash: Option<String>,
}

/// The request with this id, or None when there is none.
pub fn find(conn: &Connection, request_id: i64) -> rusqlite::Result<Option<RequestState>> {
    let sql = format!(
        "SELECT r.customer_id, r.status, {} = r.id, r.page_id, r.sent_at, r.text_hash \
         FROM main.consent_request AS r WHERE r.id = ?1",
        newest_request_sql("r.customer_id")
    );
    conn.prepare_cached(&sql)?
        .query_row([request_id], |r| {
            let status: String = r.get(1)?;
            let sent_at: Option<String> = r.get(4)?;
            Ok(RequestState {
                customer_id: r.get(0)?,
                status: status.parse().unwrap_or(Status::Error),
                current: r.get(2)?,
                page_id: r.get(3)?,
                sent_at: sent_at.as_deref().and_then(time::parse),
                text_hash: r.get(5)?,
            })
        })
        .optional()
}

/// A queued or sent request: what its page is made from.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub customer_id: Value,
    /// Drawn by the portal when it first renders the page.
    pub page_id: Option<String>,
    pub status: Status,
    pub sent_at: Option<UnixSeconds>,
    /// The hash of the text on its page (hex), once rendered.
    pub text_hash: Option<String>,
    /// The language a page made now is made in: the customer's, else the
    /// setting's (see [`RequestLanguage`]). A page already made keeps the
    /// language of its stored text (`text_hash`), whatever this says.
    pub language: Language,
}

/// The SQL that reads a request's language, and the rule that picks it,
/// shared by [`pending`] and [`outgoing`]: in the same statement as the
/// requests (a join per row on indexed keys, no statement per request).
///
/// A request's language is the language of the text its page shows
/// (`consent_text.language` by the request's `text_hash`), when asked for:
/// words once shown never change, and the message that carries the link
/// says what the page says ([`outgoing`]). A request without a stored text
/// (its page is made in this run), or when the text is not asked for
/// ([`pending`]: render reads each page's stored text, with its language,
/// anyway, and a re-render of many pages should not pay a second look-up
/// per page), takes the customer's language from the column
/// `consent_init` recorded as `language_column`
/// ([`Language::from_customer`]), and the register's `language` setting
/// when there is none or it says nothing usable.
struct RequestLanguage {
    /// `LEFT JOIN`s to add after `FROM main.consent_request AS r`.
    joins: String,
    /// Two result columns: the text's language, the customer's value.
    columns: String,
    setting: Language,
}

impl RequestLanguage {
    /// `with_billing`: whether the statement joins the billing table as
    /// `c` itself already; `with_text`: whether the page's stored text
    /// decides.
    fn new(
        setup: &setup::Setup,
        setting: Language,
        with_billing: bool,
        with_text: bool,
    ) -> RequestLanguage {
        let (mut joins, text) = if with_text {
            (
                " LEFT JOIN main.consent_text AS t ON t.hash = r.text_hash".to_owned(),
                "t.language",
            )
        } else {
            (String::new(), "NULL")
        };
        let customer = match &setup.language_column {
            Some(column) => {
                if !with_billing {
                    joins.push_str(&format!(
                        " LEFT JOIN {table} AS c ON c.{id} = r.customer_id",
                        table = setup.quoted_table(),
                        id = quote_identifier(&setup.id_column),
                    ));
                }
                format!("c.{}", quote_identifier(column))
            }
            // No column recorded: the billing table is not read for it.
            None => "NULL".to_owned(),
        };
        RequestLanguage {
            joins,
            columns: format!("{text}, {customer}"),
            setting,
        }
    }

    /// The language from the two columns [`RequestLanguage::columns`] gave.
    fn pick(&self, text: ValueRef<'_>, customer: ValueRef<'_>) -> Language {
        let stored = match text {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(|t| t.parse().ok()),
            _ => None,
        };
        stored
            .or_else(|| Language::from_customer(customer))
            .unwrap_or(self.setting)
    }
}

/// Turns an error of a statement over the billing table into the one that
/// names a renamed or dropped table or column, when that is the cause.
pub(crate) fn explain<'a>(
    conn: &'a Connection,
    setup: &'a setup::Setup,
    function: &'static str,
) -> impl Fn(rusqlite::Error) -> ConsentError + 'a {
    move |e| {
        setup::diagnose(conn, setup, function).unwrap_or(ConsentError::Sqlite {
            function,
            source: e,
        })
    }
}

/// Every queued or sent request, in id order, with the language a page
/// made now would take, in one statement (the billing table is joined only
/// when a language column is recorded). `function` names the caller in
/// errors. Holds them all in memory: `sync` reads them a batch at a time
/// instead ([`pending_pages`], [`pending_without_page`]).
pub fn pending(conn: &Connection, function: &'static str) -> Result<Vec<Pending>> {
    select_pending(
        conn,
        function,
        "r.status IN ('queued', 'sent') ORDER BY r.id",
        [],
    )
}

/// At most `limit` queued or sent requests that have a page, whose page
/// id sorts after `after` (bytewise; "" for the first batch), in page id
/// order: the order of the page index, so a run over the whole register
/// reads it once, a batch at a time, whatever its size.
pub fn pending_pages(
    conn: &Connection,
    function: &'static str,
    after: &str,
    limit: usize,
) -> Result<Vec<Pending>> {
    select_pending(
        conn,
        function,
        "r.page_id > ?1 AND r.status IN ('queued', 'sent') ORDER BY r.page_id LIMIT ?2",
        params![after, limit as i64],
    )
}

/// At most `limit` queued requests without a page id, after request
/// `after`, in id order: those render draws a page id for.
pub fn pending_without_page(
    conn: &Connection,
    function: &'static str,
    after: i64,
    limit: usize,
) -> Result<Vec<Pending>> {
    select_pending(
        conn,
        function,
        "r.status = 'queued' AND r.page_id IS NULL AND r.id > ?1 ORDER BY r.id LIMIT ?2",
        params![after, limit as i64],
    )
}

/// The requests marked sent without a page (outside the portal): at most
/// `limit` of their ids, in id order, and how many there are.
pub fn sent_without_page(conn: &Connection, limit: usize) -> rusqlite::Result<(Vec<i64>, usize)> {
    let ids = conn
        .prepare(
            "SELECT id FROM main.consent_request \
             WHERE status = 'sent' AND page_id IS NULL ORDER BY id LIMIT ?1",
        )?
        .query_map([limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    let count: i64 = if ids.len() < limit {
        ids.len() as i64
    } else {
        conn.query_row(
            "SELECT count(*) FROM main.consent_request WHERE status = 'sent' AND page_id IS NULL",
            [],
            |r| r.get(0),
        )?
    };
    Ok((ids, count as usize))
}

/// Whether any queued request still needs a page id, or any pending page
/// lacks the hash of its text (made before texts were recorded): render
/// then takes the write lock; otherwise it writes nothing.
pub fn pages_to_record(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM main.consent_request \
                        WHERE status = 'queued' AND page_id IS NULL) \
             OR EXISTS (SELECT 1 FROM main.consent_request \
                        WHERE status IN ('queued', 'sent') AND page_id IS NOT NULL \
                          AND text_hash IS NULL)",
        [],
        |r| r.get(0),
    )
}

/// The distinct texts the pending pages show (by hash): a handful, however
/// many pages there are.
pub fn pending_text_hashes(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT DISTINCT text_hash FROM main.consent_request \
         WHERE status IN ('queued', 'sent') AND text_hash IS NOT NULL",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

/// The text hash of the queued or sent request whose page is `page_id`
/// (by the page index): `None` when no pending request has that page, so
/// the page is deleted from the site; `Some(None)` when it has no text.
pub fn pending_page_text(
    conn: &Connection,
    page_id: &str,
) -> rusqlite::Result<Option<Option<String>>> {
    conn.prepare_cached(
        "SELECT text_hash FROM main.consent_request \
         WHERE page_id = ?1 AND status IN ('queued', 'sent')",
    )?
    .query_row([page_id], |r| r.get(0))
    .optional()
}

/// How many queued or sent requests have a page: the pages a render makes
/// or keeps.
pub fn pending_page_count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT count(*) FROM main.consent_request \
         WHERE status IN ('queued', 'sent') AND page_id IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// How many queued requests have a page: the messages a send step sends.
pub fn outgoing_count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT count(*) FROM main.consent_request WHERE status = 'queued' AND page_id IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// The pending requests `condition` (with its ORDER BY and LIMIT) picks.
fn select_pending(
    conn: &Connection,
    function: &'static str,
    condition: &str,
    parameters: impl rusqlite::Params,
) -> Result<Vec<Pending>> {
    let setup = setup::load(conn, function)?;
    let settings = Settings::read(conn).in_function(function)?;
    let language = RequestLanguage::new(&setup, settings.language, false, false);
    let sql = format!(
        "SELECT r.id, r.customer_id, r.status, r.page_id, r.sent_at, r.text_hash, {columns} \
         FROM main.consent_request AS r{joins} \
         WHERE {condition}",
        columns = language.columns,
        joins = language.joins,
    );
    let explain = explain(conn, &setup, function);
    let mut stmt = conn.prepare_cached(&sql).map_err(&explain)?;
    let mut rows = stmt.query(parameters).map_err(&explain)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(&explain)? {
        let read = || -> rusqlite::Result<Pending> {
            let status: String = row.get(2)?;
            let sent_at: Option<String> = row.get(4)?;
            Ok(Pending {
                id: row.get(0)?,
                customer_id: row.get(1)?,
                page_id: row.get(3)?,
                status: status.parse().unwrap_or(Status::Queued),
                sent_at: sent_at.as_deref().and_then(time::parse),
                text_hash: row.get(5)?,
                language: language.pick(row.get_ref(6)?, row.get_ref(7)?),
            })
        };
        found.push(read().in_function(function)?);
    }
    Ok(found)
}

/// Records the page id of a queued request that has none yet, and the
/// hash of the text its page shows: the words are fixed from here on, and
/// a later change of the information text applies to new requests only.
/// False when the request has a page already or is no longer queued.
pub fn assign_page_id(
    conn: &Connection,
    request_id: i64,
    page_id: &str,
    text_hash: &str,
) -> rusqlite::Result<bool> {
    let _writing = crate::guard::enter(); // the consent tables admit only our writes
    let changed = conn
        .prepare_cached(
            "UPDATE main.consent_request SET page_id = ?1, text_hash = ?3 \
             WHERE id = ?2 AND status = 'queued' AND page_id IS NULL",
        )?
        .execute(params![page_id, request_id, text_hash])?;
    Ok(changed == 1)
}

/// Gives a text hash to pending requests whose page was made before texts
/// were recorded (schema version 1): the text of today is the best record
/// there is of what their page shows. Returns how many.
pub fn record_missing_text_hash(conn: &Connection, text_hash: &str) -> rusqlite::Result<usize> {
    let _writing = crate::guard::enter(); // the consent tables admit only our writes
    conn.execute(
        "UPDATE main.consent_request SET text_hash = ?1 \
         WHERE status IN ('queued', 'sent') AND page_id IS NOT NULL AND text_hash IS NULL",
        [text_hash],
    )
}

/// A text shown on consent pages, as `consent_text` keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredText {
    /// SHA-256 of `body` (hex).
    pub hash: String,
    pub language: Language,
    /// The text exactly as a customer reads it on the page.
    pub body: String,
    /// What the page was made from, so that it can be made again with the
    /// same words; None for texts stored before schema version 3.
    pub inputs: Option<TextInputs>,
}

/// The settings a page's text is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextInputs {
    pub info_text: String,
    pub business_name: String,
    pub expiry_days: i64,
}

/// Whether a text with this SHA-256 (hex) is stored in `consent_text`.
pub fn text_known(conn: &Connection, hash: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM main.consent_text WHERE hash = ?1)",
        [hash],
        |r| r.get(0),
    )
}

/// The text with this hash (hex), if stored.
pub fn text(conn: &Connection, hash: &str) -> rusqlite::Result<Option<StoredText>> {
    conn.query_row(
        "SELECT hash, language, body, info_text, business_name, expiry_days \
         FROM main.consent_text WHERE hash = ?1",
        [hash],
        |r| {
            let language: String = r.get(1)?;
            let info_text: Option<String> = r.get(3)?;
            let business_name: Option<String> = r.get(4)?;
            let expiry_days: Option<i64> = r.get(5)?;
            Ok(StoredText {
                hash: r.get(0)?,
                language: language.parse().unwrap_or_default(),
                body: r.get(2)?,
                inputs: match (info_text, business_name, expiry_days) {
                    (Some(info_text), Some(business_name), Some(expiry_days)) => Some(TextInputs {
                        info_text,
                        business_name,
                        expiry_days,
                    }),
                    _ => None,
                },
            })
        },
    )
    .optional()
}

/// Stores a text shown on consent pages, once per hash (`consent_text` is
/// append-only: a stored text never changes).
pub fn record_text(conn: &Connection, text: &StoredText, at: UnixSeconds) -> rusqlite::Result<()> {
    let _writing = crate::guard::enter(); // the consent tables admit only our writes
    let inputs = text.inputs.as_ref();
    conn.execute(
        "INSERT OR IGNORE INTO main.consent_text \
           (hash, language, body, created_at, info_text, business_name, expiry_days) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            text.hash,
            text.language.code(),
            text.body,
            time::format(at),
            inputs.map(|i| &i.info_text),
            inputs.map(|i| &i.business_name),
            inputs.map(|i| i.expiry_days),
        ],
    )?;
    Ok(())
}

/// A queued request with a page, and where it goes.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub request_id: i64,
    pub customer_id: Value,
    pub page_id: String,
    /// The channel and the address or number as the register holds it,
    /// or why the customer cannot be reached (by [`channel::route`]; the
    /// reason in the register's `language` setting, as the clerk reads it).
    pub route: std::result::Result<(Channel, String), &'static str>,
    /// The language of the message: its page's (see [`RequestLanguage`]),
    /// so that page and message always agree.
    pub language: Language,
}

/// Every queued request that has a page, in id order, routed by the
/// channel rule with the register's current contact details and settings.
/// `function` names the caller in errors. Holds them all in memory: `sync`
/// reads them a batch at a time ([`outgoing_after`]).
pub fn outgoing(conn: &Connection, function: &'static str) -> Result<Vec<Outgoing>> {
    outgoing_after(conn, function, 0, usize::MAX)
}

/// [`outgoing`], at most `limit` of them, after request `after`.
pub fn outgoing_after(
    conn: &Connection,
    function: &'static str,
    after: i64,
    limit: usize,
) -> Result<Vec<Outgoing>> {
    let setup = setup::load(conn, function)?;
    let settings = Settings::read(conn).in_function(function)?;
    let language = RequestLanguage::new(&setup, settings.language, true, true);
    let sql = format!(
        "SELECT r.id, r.customer_id, r.page_id, c.{email}, c.{mobile}, {columns} \
         FROM main.consent_request AS r JOIN {table} AS c ON c.{id} = r.customer_id{joins} \
         WHERE r.status = 'queued' AND r.page_id IS NOT NULL AND r.id > ?1 \
         ORDER BY r.id LIMIT ?2",
        email = quote_identifier(&setup.email_column),
        mobile = quote_identifier(&setup.mobile_column),
        id = quote_identifier(&setup.id_column),
        table = setup.quoted_table(),
        columns = language.columns,
        joins = language.joins,
    );
    let explain = explain(conn, &setup, function);
    let mut stmt = conn.prepare_cached(&sql).map_err(&explain)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![after, limit]).map_err(&explain)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(&explain)? {
        let email = row.get_ref(3).in_function(function)?;
        let mobile = row.get_ref(4).in_function(function)?;
        let route = channel::route(
            channel::has_contact(email),
            channel::has_contact(mobile),
            settings.sms_enabled,
            settings.language,
        )
        .map(|channel| {
            let address = match channel {
                Channel::Email => email,
                Channel::Sms => mobile,
            };
            (channel, channel::contact_text(address))
        });
        found.push(Outgoing {
            request_id: row.get(0).in_function(function)?,
            customer_id: row.get(1).in_function(function)?,
            page_id: row.get(2).in_function(function)?,
            route,
            language: language.pick(
                row.get_ref(5).in_function(function)?,
                row.get_ref(6).in_function(function)?,
            ),
        });
    }
    Ok(found)
}

/// When a request that is still queued was queued; None when it is no
/// longer queued. A time that does not parse counts as not yet due.
pub fn queued_since(conn: &Connection, request_id: i64) -> rusqlite::Result<Option<UnixSeconds>> {
    let created: Option<String> = conn
        .prepare_cached(
            "SELECT created_at FROM main.consent_request WHERE id = ?1 AND status = 'queued'",
        )?
        .query_row([request_id], |r| r.get(0))
        .optional()?;
    Ok(created.map(|t| time::parse(&t).unwrap_or(UnixSeconds::MAX)))
}

/// Whether a request is still queued (nobody changed it meanwhile).
pub fn is_queued(conn: &Connection, request_id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT status = 'queued' FROM main.consent_request WHERE id = ?1")?
        .query_row([request_id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

fn cursor_key(source: &str) -> String {
    format!("sync_cursor {source}")
}

/// Where sync last stopped reading a decision source (0: never read).
pub fn source_cursor(conn: &Connection, source: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row(
            "SELECT value FROM main.consent_meta WHERE key = ?1",
            [cursor_key(source)],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Moves a source's cursor; in the transaction that applies the decisions
/// it covers, so that each is applied exactly once.
pub fn set_source_cursor(conn: &Connection, source: &str, cursor: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO main.consent_meta (key, value) VALUES (?1, ?2)",
        params![cursor_key(source), cursor],
    )?;
    Ok(())
}
