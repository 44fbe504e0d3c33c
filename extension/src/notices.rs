//! What the customer is told after a decision, as sync reads and writes it:
//! the receipt of an approval (with its withdrawal page) and the
//! confirmation of a withdrawal (`consent_notice`, migration 4).
//!
//! A notice is made once per request and kind, then sent at least once and
//! marked, like a request. Only approvals made on a consent page get a
//! receipt: a clerk who approves by hand is with the customer, and a
//! request approved from `missing` never went out on any channel.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use crate::channel::{self, Channel};
use crate::error::{InFunction, Result};
use crate::language::Language;
use crate::quoting::quote_identifier;
use crate::requests::{self, newest_request_sql};
use crate::settings::Settings;
use crate::setup;
use crate::time::{self, UnixSeconds};

/// Which message a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// An approval confirmed, with a link to the withdrawal page.
    Receipt,
    /// A withdrawal confirmed.
    Withdrawal,
}

impl NoticeKind {
    /// The word stored in `consent_notice.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Receipt => "receipt",
            NoticeKind::Withdrawal => "withdrawal",
        }
    }

    fn parse(word: &str) -> Option<NoticeKind> {
        match word {
            "receipt" => Some(NoticeKind::Receipt),
            "withdrawal" => Some(NoticeKind::Withdrawal),
            _ => None,
        }
    }
}

/// SQL: the request `r` is its customer's current one and approved.
fn consent_stands_sql() -> String {
    format!(
        "(r.status = 'approved' AND r.id = {})",
        newest_request_sql("r.customer_id")
    )
}

/// The requests whose approval needs a receipt: current, approved on a
/// consent page (signed evidence), sent on a channel, not erased by
/// `consent_forget` (nobody is written to after asking to be forgotten),
/// and with no receipt yet. In id order.
pub fn receipts_due(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    receipts_due_after(conn, 0, usize::MAX)
}

/// [`receipts_due`], at most `limit` of them, after request `after`.
pub fn receipts_due_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<i64>> {
    let sql = format!(
        "SELECT r.id FROM main.consent_request AS r \
         WHERE r.status = 'approved' AND r.channel IS NOT NULL AND r.evidence LIKE '{{%' \
           AND r.erased_at IS NULL AND r.id = {} AND r.id > ?1 \
           AND NOT EXISTS (SELECT 1 FROM main.consent_notice AS n \
                           WHERE n.request_id = r.id AND n.kind = 'receipt') \
         ORDER BY r.id LIMIT ?2",
        newest_request_sql("r.customer_id")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ids = stmt.query_map(params![after, limit], |r| r.get(0))?;
    ids.collect()
}

/// Records a notice to send about a request; `page_id` is a receipt's
/// withdrawal page. False when the request has a notice of this kind
/// already (a notice is made once).
pub fn create(
    conn: &Connection,
    request_id: i64,
    kind: NoticeKind,
    page_id: Option<&str>,
    at: UnixSeconds,
) -> rusqlite::Result<bool> {
    let _writing = crate::guard::enter(); // the consent tables admit only our writes
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO main.consent_notice (request_id, kind, page_id, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            request_id,
            kind.as_str(),
            page_id,
            time::format(at)
        ])?;
    Ok(inserted == 1)
}

/// A receipt whose consent still stands: its withdrawal page is live.
#[derive(Debug, Clone, PartialEq)]
pub struct WithdrawalPage {
    pub request_id: i64,
    pub page_id: String,
    /// When the consent was given.
    pub approved_at: UnixSeconds,
    /// The text the customer agreed to (hex SHA-256).
    pub text_hash: String,
    pub channel: Channel,
}

/// Every live withdrawal page, in page id order: the receipts of requests
/// that are their customer's current one and still approved.
pub fn withdrawal_pages(conn: &Connection) -> rusqlite::Result<Vec<WithdrawalPage>> {
    Ok(withdrawal_pages_after(conn, "", usize::MAX)?.pages)
}

/// A batch of live withdrawal pages.
#[derive(Debug, Default)]
pub struct WithdrawalPages {
    pub pages: Vec<WithdrawalPage>,
    /// The last page id read, where the next batch starts (None: there
    /// was nothing more). A row whose time or channel does not read is
    /// left out of `pages`, but still moves this on.
    pub last_read: Option<String>,
}

/// [`withdrawal_pages`], at most `limit` of them, whose page id sorts
/// after `after` (bytewise; "" for the first): render reads them a batch
/// at a time along the page index.
pub fn withdrawal_pages_after(
    conn: &Connection,
    after: &str,
    limit: usize,
) -> rusqlite::Result<WithdrawalPages> {
    let sql = format!(
        "SELECT r.id, n.page_id, r.decided_at, r.text_hash, r.channel \
         FROM main.consent_notice AS n JOIN main.consent_request AS r ON r.id = n.request_id \
         WHERE n.kind = 'receipt' AND n.page_id > ?1 AND r.text_hash IS NOT NULL \
           AND {} ORDER BY n.page_id LIMIT ?2",
        consent_stands_sql()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |r| {
        let decided: Option<String> = r.get(2)?;
        let channel: Option<String> = r.get(4)?;
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            decided,
            r.get::<_, String>(3)?,
            channel,
        ))
    })?;
    let mut batch = WithdrawalPages::default();
    for row in rows {
        let (request_id, page_id, decided, text_hash, channel) = row?;
        batch.last_read = Some(page_id.clone());
        let (Some(approved_at), Some(channel)) = (
            decided.as_deref().and_then(time::parse),
            channel.as_deref().and_then(|c| c.parse().ok()),
        ) else {
            continue;
        };
        batch.pages.push(WithdrawalPage {
            request_id,
            page_id,
            approved_at,
            text_hash,
            channel,
        });
    }
    Ok(batch)
}

/// The text hash of the standing consent whose withdrawal page is
/// `page_id`; `None` when no consent that stands has that page (its file is
/// deleted).
pub fn live_withdrawal_page_text(
    conn: &Connection,
    page_id: &str,
) -> rusqlite::Result<Option<String>> {
    let sql = format!(
        "SELECT r.text_hash \
         FROM main.consent_notice AS n JOIN main.consent_request AS r ON r.id = n.request_id \
         WHERE n.page_id = ?1 AND n.kind = 'receipt' AND r.text_hash IS NOT NULL \
           AND r.decided_at IS NOT NULL AND r.channel IS NOT NULL AND {}",
        consent_stands_sql()
    );
    conn.prepare_cached(&sql)?
        .query_row([page_id], |r| r.get(0))
        .optional()
}

/// The withdrawal page of a request's receipt, whatever its status now.
pub fn withdrawal_page_of(conn: &Connection, request_id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT page_id FROM main.consent_notice WHERE request_id = ?1 AND kind = 'receipt'",
        )?
        .query_row([request_id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// A notice to send, and where it goes.
#[derive(Debug, Clone)]
pub struct OutgoingNotice {
    pub id: i64,
    pub request_id: i64,
    pub customer_id: Value,
    pub kind: NoticeKind,
    /// A receipt's withdrawal page.
    pub page_id: Option<String>,
    /// Whether the request is still its customer's current one and
    /// approved: a receipt whose consent no longer stands is not sent.
    pub consent_stands: bool,
    /// When the request was decided (approved, or withdrawn).
    pub decided_at: Option<UnixSeconds>,
    /// The text the customer was shown (hex SHA-256), and its language.
    pub text_hash: Option<String>,
    pub language: Language,
    /// The channel the request went out on and the address or number the
    /// register holds now, or why the customer cannot be reached there.
    pub route: std::result::Result<(Channel, String), &'static str>,
}

/// Every notice neither sent nor failed, in id order, with the channel
/// its request went out on and the register's current contact details.
/// `function` names the caller in errors.
pub fn outgoing(conn: &Connection, function: &'static str) -> Result<Vec<OutgoingNotice>> {
    outgoing_after(conn, function, 0, usize::MAX)
}

/// [`outgoing`], at most `limit` of them, after notice `after`: sync sends
/// them a batch at a time.
pub fn outgoing_after(
    conn: &Connection,
    function: &'static str,
    after: i64,
    limit: usize,
) -> Result<Vec<OutgoingNotice>> {
    let setup = setup::load(conn, function)?;
    let settings = Settings::read(conn).in_function(function)?;
    let sql = format!(
        "SELECT n.id, n.request_id, r.customer_id, n.kind, n.page_id, {stands}, r.decided_at, \
                r.text_hash, t.language, r.channel, c.{email}, c.{mobile} \
         FROM main.consent_notice AS n \
         JOIN main.consent_request AS r ON r.id = n.request_id \
         LEFT JOIN main.consent_text AS t ON t.hash = r.text_hash \
         LEFT JOIN {table} AS c ON c.{id} = r.customer_id \
         WHERE n.sent_at IS NULL AND n.error IS NULL AND n.id > ?1 ORDER BY n.id LIMIT ?2",
        stands = consent_stands_sql(),
        email = quote_identifier(&setup.email_column),
        mobile = quote_identifier(&setup.mobile_column),
        id = quote_identifier(&setup.id_column),
        table = setup.quoted_table(),
    );
    let explain = requests::explain(conn, &setup, function);
    let mut stmt = conn.prepare_cached(&sql).map_err(&explain)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt
        .query(rusqlite::params![after, limit])
        .map_err(&explain)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(&explain)? {
        let kind: String = row.get(3).in_function(function)?;
        let Some(kind) = NoticeKind::parse(&kind) else {
            continue;
        };
        let decided: Option<String> = row.get(6).in_function(function)?;
        let language: Option<String> = row.get(8).in_function(function)?;
        let channel: Option<String> = row.get(9).in_function(function)?;
        let route = match channel.as_deref().and_then(|c| c.parse::<Channel>().ok()) {
            None => Err(settings.language.pick(
                "förfrågan skickades aldrig, så det finns ingen kanal att svara i",
                "the request was never sent, so there is no channel to answer in",
            )),
            Some(channel) => {
                let contact = row
                    .get_ref(if channel == Channel::Email { 10 } else { 11 })
                    .in_function(function)?;
                if channel::has_contact(contact) {
                    Ok((channel, channel::contact_text(contact)))
                } else {
                    Err(match channel {
                        Channel::Email => settings.language.pick(
                            "kunden har inte längre någon e-postadress",
                            "the customer no longer has an e-mail address",
                        ),
                        Channel::Sms => settings.language.pick(
                            "kunden har inte längre något mobilnummer",
                            "the customer no longer has a mobile number",
                        ),
                    })
                }
            }
        };
        found.push(OutgoingNotice {
            id: row.get(0).in_function(function)?,
            request_id: row.get(1).in_function(function)?,
            customer_id: row.get(2).in_function(function)?,
            kind,
            page_id: row.get(4).in_function(function)?,
            consent_stands: row.get(5).in_function(function)?,
            decided_at: decided.as_deref().and_then(time::parse),
            text_hash: row.get(7).in_function(function)?,
            language: language
                .as_deref()
                .and_then(|l| l.parse().ok())
                .unwrap_or(settings.language),
            route,
        });
    }
    Ok(found)
}

/// Records that a notice was accepted for delivery. False when it was
/// marked already.
pub fn mark_sent(conn: &Connection, notice_id: i64, at: UnixSeconds) -> rusqlite::Result<bool> {
    let _writing = crate::guard::enter(); // the consent tables admit only our writes
    let changed = conn
        .prepare_cached(
            "UPDATE main.consent_notice SET sent_at = ?2 \
             WHERE id = ?1 AND sent_at IS NULL AND error IS NULL",
        )?
        .execute(params![notice_id, time::format(at)])?;
    Ok(changed == 1)
}

/// Records that a notice can never be sent, and why. False when it was
/// marked already.
pub fn mark_failed(conn: &Connection, notice_id: i64, reason: &str) -> rusqlite::Result<bool> {
    let _writing = crate::guard::enter(); // the consent tables admit only our writes
    let changed = conn
        .prepare_cached(
            "UPDATE main.consent_notice SET error = ?2 \
             WHERE id = ?1 AND sent_at IS NULL AND error IS NULL",
        )?
        .execute(params![notice_id, reason])?;
    Ok(changed == 1)
}
