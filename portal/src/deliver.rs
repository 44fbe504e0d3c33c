//! Sending every queued request: the last step of `sync`.
//!
//! The channel is chosen exactly as the billing product's manual says:
//! e-mail first; SMS only for a customer with no e-mail address, a mobile
//! number, and the business's SMS subscription (`sms_enabled`); otherwise
//! the request goes to `error` with the reason. A send refused for good puts
//! the request in `error` with the reason; one that may work later (a 4xx,
//! a timeout, a lost connection) leaves it queued for the next run, until
//! it has waited as long as the consent window (`expiry_days`) and goes to
//! `error` with the last reason; either way the run goes on. A request is
//! marked sent only after the server accepted it; the marks are written in
//! short transactions between sends, never across network I/O.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use consent_extension::customer::has_text;
use consent_extension::error::quote_identifier;
use consent_extension::status::Language;
use consent_extension::transitions::unreachable_reason;

use crate::config::Config;

/// A request to send by e-mail.
#[derive(Debug, Clone)]
pub struct EmailJob {
    pub request_id: i64,
    pub customer_id: Value,
    pub page_id: String,
    pub to: String,
    pub link: String,
}

/// A request to send by SMS.
#[derive(Debug, Clone)]
pub struct SmsJob {
    pub request_id: i64,
    pub customer_id: Value,
    pub page_id: String,
    /// The number as the register holds it; the courier normalises it.
    pub to: String,
    pub link: String,
}

/// Why a send failed, as it is stored for the customer.
#[derive(Debug, Clone)]
pub struct SendFailure {
    pub reason: String,
    pub next: AfterFailure,
}

/// What becomes of a request whose message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// It can never go out as it stands (a bad address, a refusal): the
    /// request goes to `error` with the reason.
    Error,
    /// It may go out later (a 4xx, a timeout, a lost connection): the
    /// request stays queued and the next run tries again.
    Retry,
    /// The configuration is at fault, not the customer: stop the run and
    /// leave the request queued.
    Stop,
}

/// What texts a message needs besides the link.
#[derive(Debug, Clone)]
pub struct MessageTexts {
    pub language: Language,
    pub business_name: String,
    pub expiry_days: i64,
}

/// Where a courier reports the e-mails' outcomes, on the caller's thread.
pub trait EmailLog {
    /// One message was accepted (`Ok`) or not.
    fn outcome(&mut self, job: &EmailJob, result: Result<(), SendFailure>);
    /// Writes the outcomes so far. A connection sends its next message only
    /// after the commit of its last one.
    fn commit(&mut self);
}

/// Whatever sends the messages: SMTP and an SMS gateway, or files.
pub trait Courier {
    /// Sends the e-mails, reporting each one to `log` as it is accepted or
    /// refused.
    fn send_emails(&mut self, texts: &MessageTexts, jobs: Vec<EmailJob>, log: &mut dyn EmailLog);

    /// Sends one SMS; returns the number of segments it took.
    fn send_sms(&mut self, texts: &MessageTexts, job: &SmsJob) -> Result<u32, SendFailure>;
}

/// A customer whose request could not be sent.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub request_id: i64,
    pub customer_id: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Delivery {
    pub sent_email: usize,
    pub sent_sms: usize,
    pub sms_segments: u64,
    pub errors: Vec<Failure>,
    /// Not sent this time for a passing reason; still queued, tried again
    /// on the next run.
    pub retry: Vec<Failure>,
    /// With --dry-run: what would have been sent.
    pub would_send_email: usize,
    pub would_send_sms: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("{0}")]
    Setup(String),
    #[error("reading or updating the register: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Sends every queued request that has a page.
pub fn deliver(
    conn: &Connection,
    config: &Config,
    courier: &mut dyn Courier,
    now: i64,
    dry_run: bool,
    progress: &dyn crate::render::Progress,
) -> Result<Delivery, DeliverError> {
    let setup =
        consent_extension::setup::load(conn, "sync").map_err(|e| DeliverError::Setup(e.to_string()))?;
    let setting = |key: &str| -> rusqlite::Result<Value> {
        conn.query_row("SELECT consent_setting(?1)", [key], |r| r.get(0))
    };
    let sms_enabled = matches!(setting("sms_enabled")?, Value::Integer(1));
    let language: Language = match setting("language")? {
        Value::Text(l) => l.parse().unwrap_or_default(),
        _ => Language::default(),
    };
    let texts = MessageTexts {
        language,
        business_name: match setting("business_name")? {
            Value::Text(name) => name,
            _ => {
                return Err(DeliverError::Setup(
                    "set consent_setting('business_name', ...) first".to_owned(),
                ))
            }
        },
        expiry_days: match setting("expiry_days")? {
            Value::Integer(d) => d,
            _ => 7,
        },
    };

    let sql = format!(
        "SELECT r.id, r.customer_id, r.page_id, c.{email}, c.{mobile} \
         FROM main.consent_request AS r JOIN {table} AS c ON c.{id} = r.customer_id \
         WHERE r.status = 'queued' AND r.page_id IS NOT NULL ORDER BY r.id",
        email = quote_identifier(&setup.email_column),
        mobile = quote_identifier(&setup.mobile_column),
        id = quote_identifier(&setup.id_column),
        table = setup.quoted_table(),
    );
    let mut emails = Vec::new();
    let mut sms = Vec::new();
    let mut unreachable = Vec::new();
    {
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let request_id: i64 = row.get(0)?;
            let customer_id: Value = row.get(1)?;
            let page_id: String = row.get(2)?;
            let link = config.page_url(&page_id);
            let email = row.get_ref(3)?;
            let mobile = row.get_ref(4)?;
            if has_text(email) {
                emails.push(EmailJob {
                    request_id,
                    customer_id,
                    page_id,
                    to: text_of(email),
                    link,
                });
            } else if has_text(mobile) && sms_enabled {
                sms.push(SmsJob {
                    request_id,
                    customer_id,
                    page_id,
                    to: text_of(mobile),
                    link,
                });
            } else {
                let reason = unreachable_reason(false, has_text(mobile), sms_enabled, language)
                    .unwrap_or_default();
                unreachable.push((request_id, customer_id, reason.to_owned()));
            }
        }
    }

    let mut delivery = Delivery::default();
    if dry_run {
        delivery.would_send_email = emails.len();
        delivery.would_send_sms = sms.len();
        return Ok(delivery);
    }
    if !emails.is_empty() && config.email.is_none() {
        return Err(DeliverError::Setup(format!(
            "{} requests go out by e-mail, but consent.toml has no [email] section; add one (see the commented example)",
            emails.len()
        )));
    }
    if !sms.is_empty() && config.sms.is_none() {
        return Err(DeliverError::Setup(format!(
            "{} requests go out by SMS (sms_enabled is 1), but consent.toml has no [sms] section; add one",
            sms.len()
        )));
    }

    progress.start("sending", (emails.len() + sms.len()) as u64);
    let mut marks = Marks::new(conn, now, &texts);
    for (request_id, customer_id, reason) in unreachable {
        marks.push(Mark::Error {
            request_id,
            customer: customer_id,
            reason,
        });
    }
    marks.flush()?;
    let mut log = Log {
        marks,
        progress,
        stopped: None,
    };
    courier.send_emails(&texts, emails, &mut log);
    // What was sent is recorded even when the run stops here.
    log.commit();
    let Log {
        mut marks, stopped, ..
    } = log;
    if let Some(e) = stopped {
        return Err(e);
    }
    for job in &sms {
        let sent = courier.send_sms(&texts, job);
        progress.page_done();
        let mark = match sent {
            Ok(segments) => Mark::Sent {
                request_id: job.request_id,
                customer: job.customer_id.clone(),
                channel: "sms",
                page_id: job.page_id.clone(),
                segments,
            },
            Err(f) => match Mark::failed(job.request_id, &job.customer_id, f) {
                Ok(mark) => mark,
                Err(stop) => {
                    marks.flush()?;
                    return Err(stop);
                }
            },
        };
        marks.push(mark);
        // One message at a time: each is recorded before the next goes out.
        marks.flush()?;
    }
    marks.flush()?;
    Ok(marks.delivery)
}

/// The e-mails' outcomes on their way to the register.
struct Log<'c, 'p> {
    marks: Marks<'c>,
    progress: &'p dyn crate::render::Progress,
    /// Why the run stops (a setup failure, or the register refused a write).
    stopped: Option<DeliverError>,
}

impl EmailLog for Log<'_, '_> {
    fn outcome(&mut self, job: &EmailJob, result: Result<(), SendFailure>) {
        self.progress.page_done();
        let mark = match result {
            Ok(()) => Mark::Sent {
                request_id: job.request_id,
                customer: job.customer_id.clone(),
                channel: "email",
                page_id: job.page_id.clone(),
                segments: 0,
            },
            Err(f) => match Mark::failed(job.request_id, &job.customer_id, f) {
                Ok(mark) => mark,
                Err(stop) => {
                    self.stopped.get_or_insert(stop);
                    return;
                }
            },
        };
        self.marks.push(mark);
    }

    fn commit(&mut self) {
        if let Err(e) = self.marks.flush() {
            self.stopped.get_or_insert(e.into());
        }
    }
}

fn text_of(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Text(t) => String::from_utf8_lossy(t).trim().to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => format!("{r:.0}"),
        _ => String::new(),
    }
}

fn show(id: &Value) -> String {
    match id {
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        other => format!("{other:?}"),
    }
}

/// The outcome of one send, to be written.
enum Mark {
    Sent {
        request_id: i64,
        customer: Value,
        channel: &'static str,
        page_id: String,
        segments: u32,
    },
    Error {
        request_id: i64,
        customer: Value,
        reason: String,
    },
    /// Not sent for now; nothing to write, the request stays queued.
    Retry {
        request_id: i64,
        customer: Value,
        reason: String,
    },
}

impl Mark {
    /// The mark for a message that was not sent, or the error that stops
    /// the run.
    fn failed(request_id: i64, customer: &Value, f: SendFailure) -> Result<Mark, DeliverError> {
        let customer = customer.clone();
        match f.next {
            AfterFailure::Stop => Err(DeliverError::Setup(f.reason)),
            AfterFailure::Retry => Ok(Mark::Retry {
                request_id,
                customer,
                reason: f.reason,
            }),
            AfterFailure::Error => Ok(Mark::Error {
                request_id,
                customer,
                reason: f.reason,
            }),
        }
    }
}

/// Writes the outcomes of the sends through the extension's functions, a
/// group at a time in one short transaction, between sends: no write
/// transaction is ever open across network I/O (the billing application
/// keeps writing meanwhile). The sender waits for each group to be written
/// before a connection sends again, so a crash leaves at most one message
/// per connection accepted but not marked; that request is still queued
/// and goes out again on the next run, with the same Message-ID.
struct Marks<'c> {
    conn: &'c Connection,
    now: i64,
    /// A request still deferred this long after it was queued goes to
    /// `error`: a server that always says "later" must not keep a customer
    /// queued for ever. The consent window, `expiry_days`.
    give_up_after: i64,
    language: Language,
    buffer: Vec<Mark>,
    delivery: Delivery,
}

impl<'c> Marks<'c> {
    fn new(conn: &'c Connection, now: i64, texts: &MessageTexts) -> Marks<'c> {
        Marks {
            conn,
            now,
            give_up_after: texts.expiry_days.max(1) * 86_400,
            language: texts.language,
            buffer: Vec::new(),
            delivery: Delivery::default(),
        }
    }

    fn push(&mut self, mark: Mark) {
        self.buffer.push(mark);
    }

    /// Writes the buffered marks in one transaction. A request a clerk
    /// changed while its message was on the way is left as the clerk left
    /// it.
    fn flush(&mut self) -> rusqlite::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let marks = std::mem::take(&mut self.buffer);
        let mut counted = Delivery::default();
        let result = (|| -> rusqlite::Result<()> {
            for mark in &marks {
                self.apply(mark, &mut counted)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.conn.execute_batch("COMMIT")?;
                let d = &mut self.delivery;
                d.sent_email += counted.sent_email;
                d.sent_sms += counted.sent_sms;
                d.sms_segments += counted.sms_segments;
                d.errors.extend(counted.errors);
                d.retry.extend(counted.retry);
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn apply(&self, mark: &Mark, counted: &mut Delivery) -> rusqlite::Result<()> {
        match mark {
            Mark::Sent {
                request_id,
                customer,
                channel,
                page_id,
                segments,
            } => {
                if self.still_queued(*request_id)? {
                    self.conn.query_row(
                        "SELECT consent_mark_sent(?1, ?2, ?3, ?4)",
                        params![customer, channel, page_id, self.now],
                        |_| Ok(()),
                    )?;
                    if *channel == "sms" {
                        counted.sent_sms += 1;
                        counted.sms_segments += u64::from(*segments);
                    } else {
                        counted.sent_email += 1;
                    }
                }
            }
            Mark::Error {
                request_id,
                customer,
                reason,
            } => {
                if self.still_queued(*request_id)? {
                    self.conn.query_row(
                        "SELECT consent_mark_error(?1, ?2, ?3)",
                        params![customer, reason, self.now],
                        |_| Ok(()),
                    )?;
                    counted.errors.push(Failure {
                        request_id: *request_id,
                        customer_id: show(customer),
                        reason: reason.clone(),
                    });
                }
            }
            Mark::Retry {
                request_id,
                customer,
                reason,
            } => match self.queued_since(*request_id)? {
                Some(queued_at) if self.now - queued_at >= self.give_up_after => {
                    let days = self.give_up_after / 86_400;
                    let reason = match self.language {
                        Language::Sv => format!("Gav upp efter {days} dagars försök: {reason}"),
                        Language::En => format!("Gave up after {days} days of trying: {reason}"),
                    };
                    self.conn.query_row(
                        "SELECT consent_mark_error(?1, ?2, ?3)",
                        params![customer, reason, self.now],
                        |_| Ok(()),
                    )?;
                    counted.errors.push(Failure {
                        request_id: *request_id,
                        customer_id: show(customer),
                        reason,
                    });
                }
                Some(_) => counted.retry.push(Failure {
                    request_id: *request_id,
                    customer_id: show(customer),
                    reason: reason.clone(),
                }),
                // A clerk changed it meanwhile: left as the clerk left it.
                None => {}
            },
        }
        Ok(())
    }

    /// When a request still queued was queued (unix seconds); None when it
    /// is no longer queued.
    fn queued_since(&self, request_id: i64) -> rusqlite::Result<Option<i64>> {
        let created: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT created_at FROM main.consent_request WHERE id = ?1 AND status = 'queued'",
            )?
            .query_row([request_id], |r| r.get(0))
            .optional()?;
        Ok(created.map(|t| consent_extension::time::parse(&t).unwrap_or(self.now)))
    }

    fn still_queued(&self, request_id: i64) -> rusqlite::Result<bool> {
        self.conn
            .prepare_cached("SELECT status = 'queued' FROM main.consent_request WHERE id = ?1")?
            .query_row([request_id], |r| r.get(0))
    }
}
