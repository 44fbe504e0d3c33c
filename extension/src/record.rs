//! `consent_record(id)`: one customer's whole consent record as one JSON
//! document, in the fields of ISO/IEC TS 27560 and the Kantara Consent
//! Receipt v1.1 that apply to this register (docs/reference.md maps each
//! field to its counterparts).
//!
//! What it never holds: page ids (each is the secret of a link), and the
//! customer's name and contact details, which stay in the register; the
//! record names the person by their billing id only. A page id of the
//! customer's, or their current e-mail address or mobile number, found
//! inside a recorded text (evidence, a reason, an event's detail) is
//! replaced by a placeholder. It reads the clock nowhere: the same
//! register gives the same record.
//!
//! [`of`] is the same record for Rust callers (the portal's `export` and
//! `show`), and [`customers`] lists whose records there are.

use std::collections::HashMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Row};
use serde::Serialize;
use serde_json::Value as Json;

use crate::args::Args;
use crate::channel;
use crate::customer::{self, Customer};
use crate::error::{ConsentError, InFunction, Result};
use crate::quoting::quote_identifier;
use crate::setup::{self, ConnState, Setup};
use crate::status::Status;

/// The SQL function, as errors name it.
pub const FUNCTION: &str = "consent_record";

/// `record_schema`: this form of the record and its version.
pub const SCHEMA: &str = "consent-record/1";

/// `conforms_to`: the standards whose fields the record follows.
pub const CONFORMS_TO: [&str; 2] = ["ISO/IEC TS 27560:2023", "Kantara Consent Receipt v1.1"];

/// `method` of a request approved on its consent page (signed evidence).
pub const METHOD_CONSENT_PAGE: &str = "consent page";
/// `method` of a request approved by hand (`consent_approve` with any
/// other evidence, `manual` by default).
pub const METHOD_BY_HAND: &str = "by hand";

/// A way to withdraw: the withdrawal page linked from the receipt.
pub const WITHDRAW_ON_PAGE: &str = "withdrawal page";
/// A way to withdraw: ask the business, whose clerk calls `consent_revoke`.
pub const WITHDRAW_ASK_BUSINESS: &str = "ask the business";

/// What replaces a page id found in a recorded text.
pub const PAGE_ID_PLACEHOLDER: &str = "[page id]";
/// What replaces the customer's e-mail address found in a recorded text.
pub const EMAIL_PLACEHOLDER: &str = "[e-mail address]";
/// What replaces the customer's mobile number found in a recorded text.
pub const MOBILE_PLACEHOLDER: &str = "[mobile number]";

/// A customer's consent record. Serialized (serde_json) in field order,
/// it is what `consent_record(id)` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// [`SCHEMA`].
    pub record_schema: &'static str,
    /// [`CONFORMS_TO`].
    pub conforms_to: [&'static str; 2],
    /// `<billing table>:<customer id>`: stable for the customer in this
    /// register.
    pub record_id: String,
    pub subject: Subject,
    pub controller: Controller,
    /// What the customer is asked to consent to: the business's
    /// information text on the current request's page, else the
    /// `info_text` setting; None when neither is there.
    pub purpose: Option<String>,
    /// The register's language (`sv` or `en`), of `label`.
    pub language: &'static str,
    /// The customer's status now.
    pub status: &'static str,
    /// Its label in `language`.
    pub label: &'static str,
    /// The current request, with the exact words of its page; None when
    /// the status is `missing`.
    pub consent: Option<Request>,
    /// Every request of the customer, oldest first, without the words
    /// (the hash names them).
    pub requests: Vec<Request>,
    /// The customer's rows of the audit log, in id order.
    pub events: Vec<Event>,
    /// Where the customer's events are in the log's hash chain; None when
    /// there are none.
    pub chain: Option<Chain>,
}

/// Who the record is about: the billing id, and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subject {
    /// The id as the billing table stores it (a JSON number or string).
    pub customer_id: Json,
}

/// Who asks for the consent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Controller {
    /// The `business_name` setting.
    pub name: Option<String>,
}

/// One request for consent and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub request_id: i64,
    /// Its status (`queued`, `sent`, `approved`, `denied` or `error`).
    pub status: String,
    /// `email` or `sms` once sent, else None.
    pub channel: Option<String>,
    /// How the consent was given: [`METHOD_CONSENT_PAGE`] or
    /// [`METHOD_BY_HAND`]; None when it never was.
    pub method: Option<&'static str>,
    /// The text its page showed; None before the page was made (and for
    /// a request approved by hand without a page).
    pub notice: Option<Notice>,
    /// When it was made (queued, approved by hand, or failed at once).
    pub asked_at: Option<String>,
    pub sent_at: Option<String>,
    /// When the consent was given (the last change to `approved`).
    pub given_at: Option<String>,
    /// When it was last decided (approved, declined, withdrawn, expired).
    pub decided_at: Option<String>,
    /// When a consent given was withdrawn (`approved` to `denied`).
    pub withdrawn_at: Option<String>,
    /// Why it is denied or in error.
    pub reason: Option<String>,
    /// What proves the consent: the portal's signed evidence as JSON, or
    /// the text given to `consent_approve` (`manual` by default).
    pub evidence: Option<Json>,
    /// The receipt sent after an approval on the consent page.
    pub receipt: Option<Message>,
    /// How the consent can be withdrawn; None when it was never given.
    pub withdrawal: Option<Withdrawal>,
}

/// A text shown on a consent page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// Its SHA-256 (hex), as `consent_text` keeps it.
    pub sha256: String,
    /// Its language; None when the text is not stored.
    pub language: Option<String>,
    /// The exact words; only in the record's `consent`, and only when
    /// the text is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A message sent to the customer after a decision (`consent_notice`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub created_at: Option<String>,
    /// When it was accepted for delivery; None until then.
    pub sent_at: Option<String>,
    /// Why it could never be sent.
    pub error: Option<String>,
}

/// How a consent given can be withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Withdrawal {
    /// [`WITHDRAW_ON_PAGE`] when a receipt with its link was made, and
    /// always [`WITHDRAW_ASK_BUSINESS`].
    pub methods: Vec<&'static str>,
    /// The confirmation of a withdrawal made on the withdrawal page.
    pub confirmation: Option<Message>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub request_id: Option<i64>,
    pub at: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The function that made the change.
    pub actor: Option<String>,
    /// What it recorded: a channel, evidence or a reason.
    pub detail: Option<String>,
    /// The row's hash in the chain.
    pub hash: Option<String>,
}

/// The customer's place in the log's hash chain, to check the record
/// against `consent_verify_log()` and the heads recorded outside.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    /// How many events the customer has.
    pub events: usize,
    pub first_event_id: i64,
    pub last_event_id: i64,
    /// The hash of the customer's last event.
    pub last_hash: Option<String>,
}

impl Record {
    /// The record as `consent_record` returns it: one line of JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data to a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The record as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

// consent_record(id)
pub(crate) fn sql_record(a: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    let id = a.customer_id(0)?;
    let record = build(conn, state, a.function(), &id)?;
    Ok(Value::Text(record.to_json()))
}

/// Reads records one after another, keeping what `consent_init` recorded
/// between them (re-read when another connection changes it).
#[derive(Debug, Default)]
pub struct Reader {
    state: ConnState,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    /// The record of the customer with this id. An unknown id is
    /// [`ConsentError::UnknownCustomer`]; consent not set up,
    /// [`ConsentError::NotSetUp`].
    pub fn record(&self, conn: &Connection, customer_id: &Value) -> Result<Record> {
        build(conn, &self.state, FUNCTION, customer_id)
    }
}

/// The record of the customer with this id, as `consent_record(id)` gives
/// it (see [`Reader::record`]).
pub fn of(conn: &Connection, customer_id: &Value) -> Result<Record> {
    Reader::new().record(conn, customer_id)
}

/// The ids of the billing table after `after` (from the first when None),
/// in id order, at most `limit`: with `all`, every customer; without,
/// those with at least one request. Reading a large register page by page
/// holds no statement open between pages.
pub fn customers(
    conn: &Connection,
    after: Option<&Value>,
    limit: usize,
    all: bool,
) -> Result<Vec<Value>> {
    let setup = setup::load(conn, FUNCTION)?;
    let id = format!("c.{}", quote_identifier(&setup.id_column));
    let mut filter = vec![match after {
        Some(_) => format!("{id} > ?1"),
        None => format!("{id} IS NOT NULL"),
    }];
    if !all {
        filter.push(format!(
            "EXISTS (SELECT 1 FROM main.consent_request AS r WHERE r.customer_id = {id})"
        ));
    }
    let sql = format!(
        "SELECT {id} FROM {table} AS c WHERE {filter} ORDER BY {id} LIMIT {limit}",
        table = setup.quoted_table(),
        filter = filter.join(" AND "),
    );
    let explain = explain_with(conn, &setup);
    let mut stmt = conn.prepare(&sql).map_err(&explain)?;
    let mut rows = match after {
        Some(after) => stmt.query([after]),
        None => stmt.query([]),
    }
    .map_err(&explain)?;
    let mut ids = Vec::new();
    while let Some(row) = rows.next().map_err(&explain)? {
        ids.push(row.get(0).map_err(&explain)?);
    }
    Ok(ids)
}

/// How many customers [`customers`] lists (with `all`, or those with a
/// request).
pub fn count(conn: &Connection, all: bool) -> Result<u64> {
    let setup = setup::load(conn, FUNCTION)?;
    let sql = if all {
        format!(
            "SELECT count(*) FROM {} WHERE {} IS NOT NULL",
            setup.quoted_table(),
            quote_identifier(&setup.id_column)
        )
    } else {
        "SELECT count(DISTINCT customer_id) FROM main.consent_request".to_owned()
    };
    let explain = explain_with(conn, &setup);
    let n: i64 = conn.query_row(&sql, [], |r| r.get(0)).map_err(explain)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Says which recorded table or column is gone, else the SQLite error.
fn explain_with<'a>(
    conn: &'a Connection,
    setup: &'a Setup,
) -> impl Fn(rusqlite::Error) -> ConsentError + 'a {
    move |e| {
        setup::diagnose(conn, setup, FUNCTION).unwrap_or(ConsentError::Sqlite {
            function: FUNCTION,
            source: e,
        })
    }
}

/// One request row as read, before the events and notices are joined in.
struct RequestRow {
    id: i64,
    status: String,
    channel: Option<String>,
    page_id: Option<String>,
    reason: Option<String>,
    evidence: Option<String>,
    created_at: Option<String>,
    sent_at: Option<String>,
    decided_at: Option<String>,
    text_hash: Option<String>,
}

/// One `consent_notice` row of the customer's.
struct NoticeRow {
    request_id: i64,
    kind: Option<String>,
    page_id: Option<String>,
    message: Message,
}

/// A stored text: its language, words and the information text in them.
struct TextRow {
    language: Option<String>,
    body: Option<String>,
    info_text: Option<String>,
}

fn build(
    conn: &Connection,
    state: &ConnState,
    function: &'static str,
    id: &Value,
) -> Result<Record> {
    let customer = customer::find(conn, state, function, id)?;
    let setup = state.setup(conn, function)?;
    let sql_error = |e| ConsentError::Sqlite {
        function,
        source: e,
    };

    let requests = read_requests(conn, &customer.id).map_err(sql_error)?;
    let events = read_events(conn, &customer.id).map_err(sql_error)?;
    let notices = read_notices(conn, &customer.id).map_err(sql_error)?;
    let (business_name, info_text) = read_settings(conn).map_err(sql_error)?;
    let mut texts: HashMap<String, TextRow> = HashMap::new();
    for hash in requests.iter().filter_map(|r| r.text_hash.as_deref()) {
        if !texts.contains_key(hash) {
            if let Some(text) = read_text(conn, hash).map_err(sql_error)? {
                texts.insert(hash.to_owned(), text);
            }
        }
    }

    // The secrets and contact details no recorded text may show.
    let mut redact = Redactor::default();
    for page in requests
        .iter()
        .filter_map(|r| r.page_id.as_deref())
        .chain(notices.iter().filter_map(|n| n.page_id.as_deref()))
    {
        redact.add(page, PAGE_ID_PLACEHOLDER);
    }
    let (email, mobile) = read_contacts(conn, &setup, &customer)?;
    redact.add(&email, EMAIL_PLACEHOLDER);
    redact.add(&mobile, MOBILE_PLACEHOLDER);

    let events: Vec<Event> = events
        .into_iter()
        .map(|mut e| {
            e.detail = e.detail.map(|d| redact.apply(&d));
            e
        })
        .collect();

    let current_id = customer.request_id();
    let mut all = Vec::with_capacity(requests.len());
    let mut consent = None;
    for row in &requests {
        let mut request = request(row, &events, &notices, &texts, &redact);
        if Some(row.id) == current_id {
            let mut current = request.clone();
            if let (Some(notice), Some(text)) = (
                current.notice.as_mut(),
                row.text_hash.as_deref().and_then(|h| texts.get(h)),
            ) {
                notice.text = text.body.clone();
            }
            consent = Some(current);
        }
        if let Some(notice) = request.notice.as_mut() {
            notice.text = None;
        }
        all.push(request);
    }

    let purpose = current_id
        .and_then(|id| requests.iter().find(|r| r.id == id))
        .and_then(|r| r.text_hash.as_deref())
        .and_then(|h| texts.get(h))
        .and_then(|t| t.info_text.clone())
        .or(info_text);
    let chain = match (events.first(), events.last()) {
        (Some(first), Some(last)) => Some(Chain {
            events: events.len(),
            first_event_id: first.id,
            last_event_id: last.id,
            last_hash: last.hash.clone(),
        }),
        _ => None,
    };
    let status = customer.status();
    Ok(Record {
        record_schema: SCHEMA,
        conforms_to: CONFORMS_TO,
        record_id: format!("{}:{}", setup.table, id_text(&customer.id)),
        subject: Subject {
            customer_id: id_json(&customer.id),
        },
        controller: Controller {
            name: business_name,
        },
        purpose,
        language: customer.language.code(),
        status: status.as_str(),
        label: status.label(customer.language),
        consent,
        requests: all,
        events,
        chain,
    })
}

/// One request of the record, from its row, its events and its notices.
fn request(
    row: &RequestRow,
    events: &[Event],
    notices: &[NoticeRow],
    texts: &HashMap<String, TextRow>,
    redact: &Redactor,
) -> Request {
    let own = || events.iter().filter(|e| e.request_id == Some(row.id));
    let given_at = own()
        .rfind(|e| e.to.as_deref() == Some(Status::Approved.as_str()))
        .and_then(|e| e.at.clone());
    let withdrawn_at = own()
        .rfind(|e| {
            e.from.as_deref() == Some(Status::Approved.as_str())
                && e.to.as_deref() == Some(Status::Denied.as_str())
        })
        .and_then(|e| e.at.clone());
    let notice_of = |kind: &str| {
        notices
            .iter()
            .find(|n| n.request_id == row.id && n.kind.as_deref() == Some(kind))
    };
    let receipt = notice_of("receipt");
    let evidence = row.evidence.as_deref().map(|text| {
        let text = redact.apply(text);
        match serde_json::from_str::<Json>(&text) {
            Ok(json @ (Json::Object(_) | Json::Array(_))) => json,
            _ => Json::String(text),
        }
    });
    let method = evidence.as_ref().map(|e| {
        let via = e.get("via").and_then(Json::as_str);
        if via == Some(METHOD_CONSENT_PAGE) {
            METHOD_CONSENT_PAGE
        } else {
            METHOD_BY_HAND
        }
    });
    let withdrawal = given_at.is_some().then(|| Withdrawal {
        methods: if receipt.is_some() {
            vec![WITHDRAW_ON_PAGE, WITHDRAW_ASK_BUSINESS]
        } else {
            vec![WITHDRAW_ASK_BUSINESS]
        },
        confirmation: notice_of("withdrawal").map(|n| redacted(&n.message, redact)),
    });
    Request {
        request_id: row.id,
        status: row.status.clone(),
        channel: row.channel.clone(),
        method,
        notice: row.text_hash.as_ref().map(|hash| Notice {
            sha256: hash.clone(),
            language: texts.get(hash).and_then(|t| t.language.clone()),
            text: None,
        }),
        asked_at: row.created_at.clone(),
        sent_at: row.sent_at.clone(),
        given_at,
        decided_at: row.decided_at.clone(),
        withdrawn_at,
        reason: row.reason.as_deref().map(|r| redact.apply(r)),
        evidence,
        receipt: receipt.map(|n| redacted(&n.message, redact)),
        withdrawal,
    }
}

fn redacted(message: &Message, redact: &Redactor) -> Message {
    Message {
        created_at: message.created_at.clone(),
        sent_at: message.sent_at.clone(),
        error: message.error.as_deref().map(|e| redact.apply(e)),
    }
}

/// A column as text: text as it is, a number as its digits, NULL and a
/// blob as None. Values written around the functions may be anything.
fn text_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Null | ValueRef::Blob(_) => None,
    })
}

fn int_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    })
}

fn read_requests(conn: &Connection, customer: &Value) -> rusqlite::Result<Vec<RequestRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, status, channel, page_id, reason, evidence, created_at, sent_at, \
                decided_at, text_hash \
         FROM main.consent_request WHERE customer_id = ?1 ORDER BY supersedes, id",
    )?;
    let mut rows = stmt.query([customer])?;
    let mut found = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(id) = int_at(r, 0)? else { continue };
        found.push(RequestRow {
            id,
            status: text_at(r, 1)?.unwrap_or_default(),
            channel: text_at(r, 2)?,
            page_id: text_at(r, 3)?,
            reason: text_at(r, 4)?,
            evidence: text_at(r, 5)?,
            created_at: text_at(r, 6)?,
            sent_at: text_at(r, 7)?,
            decided_at: text_at(r, 8)?,
            text_hash: text_at(r, 9)?,
        });
    }
    Ok(found)
}

fn read_events(conn: &Connection, customer: &Value) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, request_id, at, from_status, to_status, actor, detail, hash \
         FROM main.consent_event WHERE customer_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([customer])?;
    let mut found = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(id) = int_at(r, 0)? else { continue };
        found.push(Event {
            id,
            request_id: int_at(r, 1)?,
            at: text_at(r, 2)?,
            from: text_at(r, 3)?,
            to: text_at(r, 4)?,
            actor: text_at(r, 5)?,
            detail: text_at(r, 6)?,
            hash: text_at(r, 7)?,
        });
    }
    Ok(found)
}

fn read_notices(conn: &Connection, customer: &Value) -> rusqlite::Result<Vec<NoticeRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.request_id, n.kind, n.page_id, n.created_at, n.sent_at, n.error \
         FROM main.consent_notice AS n JOIN main.consent_request AS r ON r.id = n.request_id \
         WHERE r.customer_id = ?1 ORDER BY n.id",
    )?;
    let mut rows = stmt.query([customer])?;
    let mut found = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(request_id) = int_at(r, 0)? else {
            continue;
        };
        found.push(NoticeRow {
            request_id,
            kind: text_at(r, 1)?,
            page_id: text_at(r, 2)?,
            message: Message {
                created_at: text_at(r, 3)?,
                sent_at: text_at(r, 4)?,
                error: text_at(r, 5)?,
            },
        });
    }
    Ok(found)
}

/// `business_name` and `info_text`, None when unset.
fn read_settings(conn: &Connection) -> rusqlite::Result<(Option<String>, Option<String>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM main.consent_settings WHERE key IN ('business_name', 'info_text')",
    )?;
    let mut rows = stmt.query([])?;
    let (mut business_name, mut info_text) = (None, None);
    while let Some(r) = rows.next()? {
        match text_at(r, 0)?.as_deref() {
            Some("business_name") => business_name = text_at(r, 1)?,
            Some("info_text") => info_text = text_at(r, 1)?,
            _ => {}
        }
    }
    Ok((business_name, info_text))
}

fn read_text(conn: &Connection, hash: &str) -> rusqlite::Result<Option<TextRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT language, body, info_text FROM main.consent_text WHERE hash = ?1",
    )?;
    let mut rows = stmt.query([hash])?;
    match rows.next()? {
        Some(r) => Ok(Some(TextRow {
            language: text_at(r, 0)?,
            body: text_at(r, 1)?,
            info_text: text_at(r, 2)?,
        })),
        None => Ok(None),
    }
}

/// The customer's e-mail address and mobile number as the register holds
/// them now (empty when none), only to keep them out of the record.
fn read_contacts(
    conn: &Connection,
    setup: &Setup,
    customer: &Customer,
) -> Result<(String, String)> {
    let q = quote_identifier;
    let sql = format!(
        "SELECT c.{email}, c.{mobile} FROM {table} AS c WHERE c.{id} = ?1",
        email = q(&setup.email_column),
        mobile = q(&setup.mobile_column),
        id = q(&setup.id_column),
        table = setup.quoted_table(),
    );
    let explain = explain_with(conn, setup);
    let mut stmt = conn.prepare_cached(&sql).map_err(&explain)?;
    let mut rows = stmt.query([&customer.id]).map_err(&explain)?;
    match rows.next().map_err(&explain)? {
        Some(r) => Ok((
            channel::contact_text(r.get_ref(0).in_function(FUNCTION)?),
            channel::contact_text(r.get_ref(1).in_function(FUNCTION)?),
        )),
        None => Ok((String::new(), String::new())),
    }
}

/// The id in `record_id`: digits for a number, the text as it is.
fn id_text(id: &Value) -> String {
    match id {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => hex(b),
    }
}

/// The id in `subject`: a JSON number for a number, else a string (a
/// blob as lower-case hex).
fn id_json(id: &Value) -> Json {
    match id {
        Value::Null => Json::Null,
        Value::Integer(n) => Json::from(*n),
        Value::Real(r) => serde_json::Number::from_f64(*r)
            .map_or_else(|| Json::String(r.to_string()), Json::Number),
        Value::Text(t) => Json::String(t.clone()),
        Value::Blob(b) => Json::String(hex(b)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces each secret found in a text (ASCII case ignored) with its
/// placeholder.
#[derive(Default)]
struct Redactor {
    /// The secret in ASCII lower case, and its placeholder.
    secrets: Vec<(String, &'static str)>,
}

impl Redactor {
    /// Shorter values than this are not looked for: they would match
    /// ordinary words and numbers.
    const SHORTEST: usize = 4;

    fn add(&mut self, secret: &str, placeholder: &'static str) {
        let secret = secret.trim();
        if secret.chars().count() >= Self::SHORTEST {
            self.secrets
                .push((secret.to_ascii_lowercase(), placeholder));
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (secret, placeholder) in &self.secrets {
            // ASCII lower-casing keeps every byte where it was, so the
            // positions found in the lowered text hold in the original.
            let lowered = out.to_ascii_lowercase();
            if !lowered.contains(secret.as_str()) {
                continue;
            }
            let mut replaced = String::with_capacity(out.len());
            let mut last = 0;
            for (at, _) in lowered.match_indices(secret.as_str()) {
                replaced.push_str(&out[last..at]);
                replaced.push_str(placeholder);
                last = at + secret.len();
            }
            replaced.push_str(&out[last..]);
            out = replaced;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_every_occurrence_ignoring_ascii_case() {
        let mut r = Redactor::default();
        r.add("q3Zx8mB1vR7tK2wYp0LdNg", PAGE_ID_PLACEHOLDER);
        r.add(" Anna@Example.se ", EMAIL_PLACEHOLDER);
        r.add("070", MOBILE_PLACEHOLDER); // too short to look for
        assert_eq!(
            r.apply("page q3Zx8mB1vR7tK2wYp0LdNg; 550 <anna@example.SE>: no; Q3ZX8MB1VR7TK2WYP0LDNG 070"),
            "page [page id]; 550 <[e-mail address]>: no; [page id] 070"
        );
        assert_eq!(r.apply("åäö unchanged"), "åäö unchanged");
    }

    #[test]
    fn ids_keep_their_type() {
        assert_eq!(id_json(&Value::Integer(17)), Json::from(17));
        assert_eq!(id_json(&Value::Text("K-17".into())), Json::from("K-17"));
        assert_eq!(id_text(&Value::Blob(vec![0xab, 1])), "ab01");
    }
}
