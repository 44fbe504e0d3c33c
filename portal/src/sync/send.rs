//! Step 5 of `sync`: send every queued request that has a page.
//!
//! Where each request goes is the extension's channel rule
//! ([`requests::outgoing`]); a customer who cannot be reached goes to
//! `error` with the reason. Each outcome is written through the SQL
//! functions: accepted → `consent_mark_sent`; refused for good (the
//! customer's [`ErrorClass::Permanent`]) → `consent_mark_error`; may work
//! later ([`ErrorClass::Transient`]) → left queued for the next run, until
//! it has waited as long as the consent window (`expiry_days`) and goes to
//! `error` with the last reason; the setup's fault ([`ErrorClass::Setup`])
//! stops the run with every unsent request still queued.
//!
//! The outcomes are written a group at a time, in short transactions
//! between sends: no write transaction is ever open across network I/O (the
//! billing application keeps writing meanwhile). A connection sends its
//! next message only once its last outcome is written, so a crash leaves at
//! most one message per connection accepted but not marked; that request
//! is still queued and goes out again on the next run, with the same
//! Message-ID.

use std::collections::HashMap;

use consent_extension::requests::{self, Outgoing};
use consent_extension::{page_id_is_valid, Channel, Language, Settings};
use rusqlite::types::Value;
use rusqlite::{params, Connection};
use serde::Serialize;

use super::Progress;
use crate::config::Config;
use crate::send::{ErrorClass, Job, Outcomes, SendError, Texts, Transports};

/// A customer whose request could not be sent.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub request_id: i64,
    pub customer_id: String,
    pub reason: String,
}

/// What the sending step did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Sent {
    pub sent_email: usize,
    pub sent_sms: usize,
    pub sms_segments: u64,
    /// With --dry-run: what would have been sent.
    pub would_send_email: usize,
    pub would_send_sms: usize,
    /// Customers set to `error` in this run: the first
    /// [`super::render::MAX_LISTED`] by name, the rest counted in
    /// `errors_not_listed` (`consent-portal status` lists every one).
    pub errors: Vec<Failure>,
    pub errors_not_listed: usize,
    /// Not sent this time for a passing reason; still queued, tried again
    /// on the next run. Listed and counted as `errors` are.
    pub retry: Vec<Failure>,
    pub retry_not_listed: usize,
}

impl Sent {
    /// How many customers were set to `error`.
    pub fn error_count(&self) -> usize {
        self.errors.len() + self.errors_not_listed
    }

    /// How many requests were deferred to the next run.
    pub fn retry_count(&self) -> usize {
        self.retry.len() + self.retry_not_listed
    }
}

/// Appends `more` to `listed` up to [`super::render::MAX_LISTED`], and
/// counts the rest in `not_listed`: a run over a whole register must not
/// hold a line per customer.
fn list_bounded(listed: &mut Vec<Failure>, not_listed: &mut usize, more: Vec<Failure>) {
    for failure in more {
        if listed.len() < super::render::MAX_LISTED {
            listed.push(failure);
        } else {
            *not_listed += 1;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendStepError {
    #[error("{0}")]
    Setup(String),
    #[error("reading or updating the register: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Sends every queued request that has a page.
pub fn send(
    conn: &Connection,
    config: &Config,
    transports: &Transports,
    now: i64,
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<Sent, SendStepError> {
    let settings = Settings::read(conn)?;
    let texts = Texts {
        language: settings.language,
        business_name: settings.business_name.clone().ok_or_else(|| {
            SendStepError::Setup("set consent_setting('business_name', ...) first".to_owned())
        })?,
        expiry_days: settings.expiry_days,
    };
    let mut log = Log {
        marks: Marks::new(conn, now, &texts),
        customers: HashMap::new(),
        progress,
        stopped: None,
    };
    if !dry_run {
        progress.start("sending", requests::outgoing_count(conn)?);
    }
    // A batch at a time, in request id order: the memory a run takes does
    // not grow with the register. A request left queued (deferred) is
    // behind the cursor, so it is not read again in this run.
    let mut after = 0;
    loop {
        let outgoing = requests::outgoing_after(conn, "sync", after, BATCH)
            .map_err(|e| SendStepError::Setup(e.to_string()))?;
        let Some(last) = outgoing.last() else {
            break;
        };
        after = last.request_id;
        let batch = Batch::route(outgoing, config, &settings);
        if dry_run {
            log.marks.sent.would_send_email += batch.emails.len();
            log.marks.sent.would_send_sms += batch.sms.len();
            continue;
        }
        send_batch(batch, config, transports, &texts, &mut log)?;
    }
    Ok(log.marks.sent)
}

/// Requests read, routed and sent at a time.
const BATCH: usize = 1_000;

/// One batch of queued requests, by where each goes.
struct Batch {
    emails: Vec<Job>,
    sms: Vec<Job>,
    /// Customers who cannot be reached, with the reason.
    unreachable: Vec<Mark>,
    /// request id -> customer, channel and page.
    customers: HashMap<i64, (Value, Channel, String)>,
}

impl Batch {
    fn route(outgoing: Vec<Outgoing>, config: &Config, settings: &Settings) -> Batch {
        let mut batch = Batch {
            emails: Vec::new(),
            sms: Vec::new(),
            unreachable: Vec::new(),
            customers: HashMap::new(),
        };
        for Outgoing {
            request_id,
            customer_id,
            page_id,
            route,
            language,
        } in outgoing
        {
            if !page_id_is_valid(&page_id) {
                // Not a page id the portal drew: someone changed it in the
                // register. No link is built from it.
                batch.unreachable.push(Mark::Error {
                    request_id,
                    customer: customer_id,
                    reason: settings
                        .language
                        .pick(
                            "förfrågans sid-id ändrades utanför portalen; köa kunden igen",
                            "the request's page id was changed outside the portal; queue the customer again",
                        )
                        .to_owned(),
                });
                continue;
            }
            match route {
                Ok((channel, to)) => {
                    let job = Job {
                        request_id,
                        link: config.page_url(&page_id),
                        page_id,
                        to,
                        // The language of the request's page, not the run's:
                        // page and message always agree, and a customer whose
                        // language changed after their page was made still
                        // gets a message in the words of that page.
                        language,
                    };
                    batch
                        .customers
                        .insert(request_id, (customer_id, channel, job.page_id.clone()));
                    match channel {
                        Channel::Email => batch.emails.push(job),
                        Channel::Sms => batch.sms.push(job),
                    }
                }
                Err(reason) => batch.unreachable.push(Mark::Error {
                    request_id,
                    customer: customer_id,
                    reason: reason.to_owned(),
                }),
            }
        }
        batch
    }
}

/// Sends one batch, recording each outcome as it comes.
fn send_batch(
    batch: Batch,
    config: &Config,
    transports: &Transports,
    texts: &Texts,
    log: &mut Log<'_, '_>,
) -> Result<(), SendStepError> {
    if !batch.emails.is_empty() && config.email.is_none() {
        return Err(SendStepError::Setup(
            "requests go out by e-mail, but consent.toml has no [email] section; add one (see the commented example)"
                .to_owned(),
        ));
    }
    if !batch.sms.is_empty() && config.sms.is_none() {
        return Err(SendStepError::Setup(
            "requests go out by SMS (sms_enabled is 1), but consent.toml has no [sms] section; add one"
                .to_owned(),
        ));
    }
    log.customers = batch.customers;
    for mark in batch.unreachable {
        log.marks.push(mark);
    }
    log.marks.flush()?;
    transports.send_emails(texts, &batch.emails, log);
    // What was sent is recorded even when the run stops here.
    log.commit();
    if let Some(e) = log.stopped.take() {
        return Err(e);
    }
    for job in &batch.sms {
        let sent = transports.send_sms(texts, job);
        log.record(job.request_id, sent);
        // One message at a time: each is recorded before the next goes out.
        log.marks.flush()?;
        if let Some(e) = log.stopped.take() {
            return Err(e);
        }
    }
    Ok(())
}

/// The outcomes on their way to the register: each job's customer, and
/// what stops the run.
struct Log<'c, 'p> {
    marks: Marks<'c>,
    /// request id -> customer, channel and page.
    customers: HashMap<i64, (Value, Channel, String)>,
    progress: &'p dyn Progress,
    /// Why the run stops (a setup failure, or the register refused a write).
    stopped: Option<SendStepError>,
}

impl Log<'_, '_> {
    /// One message's outcome; `Ok` with the SMS segments it took (0 for an
    /// e-mail).
    fn record(&mut self, request_id: i64, result: Result<u32, SendError>) {
        self.progress.item_done();
        let Some((customer, channel, page_id)) = self.customers.get(&request_id) else {
            return;
        };
        let customer = customer.clone();
        let mark = match result {
            Ok(segments) => Mark::Sent {
                request_id,
                customer,
                channel: *channel,
                page_id: page_id.clone(),
                segments,
            },
            Err(error) => match error.class() {
                ErrorClass::Setup => {
                    let reason = error.reason(self.marks.language);
                    self.stopped.get_or_insert(SendStepError::Setup(reason));
                    return;
                }
                ErrorClass::Transient => Mark::Retry {
                    request_id,
                    customer,
                    reason: error.reason(self.marks.language),
                },
                ErrorClass::Permanent => Mark::Error {
                    request_id,
                    customer,
                    reason: error.reason(self.marks.language),
                },
            },
        };
        self.marks.push(mark);
    }
}

impl Outcomes for Log<'_, '_> {
    fn outcome(&mut self, request_id: i64, result: Result<(), SendError>) {
        self.record(request_id, result.map(|()| 0));
    }

    fn commit(&mut self) {
        if let Err(e) = self.marks.flush() {
            self.stopped.get_or_insert(e.into());
        }
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
        channel: Channel,
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

/// Writes the outcomes through the extension's functions, a group at a
/// time in one short transaction.
struct Marks<'c> {
    conn: &'c Connection,
    now: i64,
    /// A request still deferred this long after it was queued goes to
    /// `error`: a server that always says "later" must not keep a customer
    /// queued for ever. The consent window, `expiry_days`.
    give_up_after: i64,
    language: Language,
    buffer: Vec<Mark>,
    sent: Sent,
}

impl<'c> Marks<'c> {
    fn new(conn: &'c Connection, now: i64, texts: &Texts) -> Marks<'c> {
        Marks {
            conn,
            now,
            give_up_after: texts.expiry_days.max(1) * 86_400,
            language: texts.language,
            buffer: Vec::new(),
            sent: Sent::default(),
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
        let mut counted = Sent::default();
        let result = marks
            .iter()
            .try_for_each(|mark| self.write(mark, &mut counted));
        match result {
            Ok(()) => {
                self.conn.execute_batch("COMMIT")?;
                let d = &mut self.sent;
                d.sent_email += counted.sent_email;
                d.sent_sms += counted.sent_sms;
                d.sms_segments += counted.sms_segments;
                list_bounded(&mut d.errors, &mut d.errors_not_listed, counted.errors);
                list_bounded(&mut d.retry, &mut d.retry_not_listed, counted.retry);
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn write(&self, mark: &Mark, counted: &mut Sent) -> rusqlite::Result<()> {
        match mark {
            Mark::Sent {
                request_id,
                customer,
                channel,
                page_id,
                segments,
            } => {
                if requests::is_queued(self.conn, *request_id)? {
                    self.conn.query_row(
                        "SELECT consent_mark_sent(?1, ?2, ?3, ?4)",
                        params![customer, channel.as_str(), page_id, self.now],
                        |_| Ok(()),
                    )?;
                    match channel {
                        Channel::Sms => {
                            counted.sent_sms += 1;
                            counted.sms_segments += u64::from(*segments);
                        }
                        Channel::Email => counted.sent_email += 1,
                    }
                }
            }
            Mark::Error {
                request_id,
                customer,
                reason,
            } => {
                if requests::is_queued(self.conn, *request_id)? {
                    self.mark_error(*request_id, customer, reason, &mut counted.errors)?;
                }
            }
            Mark::Retry {
                request_id,
                customer,
                reason,
            } => match requests::queued_since(self.conn, *request_id)? {
                Some(queued_at) if self.now.saturating_sub(queued_at) >= self.give_up_after => {
                    let days = self.give_up_after / 86_400;
                    let reason = match self.language {
                        Language::Sv => format!("Gav upp efter {days} dagars försök: {reason}"),
                        Language::En => format!("Gave up after {days} days of trying: {reason}"),
                    };
                    self.mark_error(*request_id, customer, &reason, &mut counted.errors)?;
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

    fn mark_error(
        &self,
        request_id: i64,
        customer: &Value,
        reason: &str,
        errors: &mut Vec<Failure>,
    ) -> rusqlite::Result<()> {
        self.conn.query_row(
            "SELECT consent_mark_error(?1, ?2, ?3)",
            params![customer, reason, self.now],
            |_| Ok(()),
        )?;
        errors.push(Failure {
            request_id,
            customer_id: show(customer),
            reason: reason.to_owned(),
        });
        Ok(())
    }
}
