//! Step 6 of `sync`: tell customers what became of their decision. Every
//! notice the earlier steps recorded (`consent_notice`: a receipt for each
//! approval made on a consent page, a confirmation for each withdrawal) is
//! sent in the channel its request went out on, to the address or number
//! the register holds now, and marked, like a request: accepted → sent;
//! refused for good → failed with the reason; may work later → left for
//! the next run; the setup's fault → the run stops. Each outcome is written
//! before that connection sends again, so a crash resends at most one
//! notice per connection, with the same Message-ID.
//!
//! A receipt whose consent no longer stands (withdrawn, revoked or asked
//! again before it went out) is not sent: it is marked failed, saying so.

use std::collections::HashMap;

use consent_extension::notices::{self, NoticeKind, OutgoingNotice};
use consent_extension::record;
use consent_extension::requests::{self, StoredText};
use consent_extension::{page_id_is_valid, Channel, Language, Settings};
use rusqlite::Connection;
use serde::Serialize;

use super::send::{Failure, SendStepError};
use super::{in_write_transaction, Progress};
use crate::config::Config;
use crate::send::notices::{compose_email, compose_sms, NoticeJob};
use crate::send::{ErrorClass, Outcomes, SendError, Transports};

/// What the notice step did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Notified {
    /// Receipts accepted for delivery.
    pub receipts: usize,
    /// Withdrawal confirmations accepted for delivery.
    pub confirmations: usize,
    /// With --dry-run: how many would have been sent.
    pub would_send: usize,
    /// Notices that can never be sent, with the reason.
    pub failed: Vec<Failure>,
    /// Not sent this time for a passing reason; tried again next run.
    pub retry: Vec<Failure>,
}

/// Sends every notice that is neither sent nor failed.
pub fn notify(
    conn: &Connection,
    config: &Config,
    transports: &Transports,
    now: i64,
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<Notified, SendStepError> {
    progress.start("notifying", 0);
    let settings = Settings::read(conn)?;
    let mut marks = Marks {
        conn,
        pending: Vec::new(),
        now,
        language: settings.language,
        kinds: HashMap::new(),
        notified: Notified::default(),
        stopped: None,
        progress,
    };
    let mut texts: HashMap<String, Option<StoredText>> = HashMap::new();
    // A batch at a time, in notice id order, as the requests are sent.
    let mut after = 0;
    loop {
        let outgoing = notices::outgoing_after(conn, "sync", after, BATCH)
            .map_err(|e| SendStepError::Setup(e.to_string()))?;
        let Some(last) = outgoing.last() else {
            break;
        };
        after = last.id;
        marks.kinds.clear();
        let mut emails = Vec::new();
        let mut sms = Vec::new();
        let mut unreachable = Vec::new();
        for notice in outgoing {
            match job(conn, config, &settings, &mut texts, &notice)? {
                Ok(job) => {
                    marks.kinds.insert(notice.id, (job.kind, describe(&notice)));
                    match job.channel {
                        Channel::Email => emails.push(job),
                        Channel::Sms => sms.push(job),
                    }
                }
                Err(reason) => unreachable.push((notice.id, describe(&notice), reason)),
            }
        }
        if dry_run {
            marks.notified.would_send += emails.len() + sms.len();
            continue;
        }
        if !unreachable.is_empty() {
            in_write_transaction(conn, || {
                unreachable
                    .into_iter()
                    .try_for_each(|(id, who, reason)| marks.fail(id, &who, reason))
            })?;
        }
        progress.start("notifying", (emails.len() + sms.len()) as u64);
        if !emails.is_empty() {
            transports.send_composed_emails(
                |from_domain| {
                    emails
                        .iter()
                        .map(|job| compose_email(job, from_domain))
                        .collect()
                },
                &mut marks,
            );
            // What was sent is recorded even when the run stops here.
            marks.flush();
            if let Some(e) = marks.stopped.take() {
                return Err(e);
            }
        }
        for job in &sms {
            let sent = transports.send_sms_text(&job.to, &compose_sms(job));
            marks.outcome(job.notice_id, sent.map(|_| ()));
            // One message at a time: each is recorded before the next goes out.
            marks.flush();
            if let Some(e) = marks.stopped.take() {
                return Err(e);
            }
        }
    }
    Ok(marks.notified)
}

/// Notices read, composed and sent at a time.
const BATCH: usize = 1_000;

/// The customer and request a notice is about, for the run's report.
fn describe(notice: &OutgoingNotice) -> Failure {
    let customer_id = match &notice.customer_id {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(t) => t.clone(),
        other => format!("{other:?}"),
    };
    Failure {
        request_id: notice.request_id,
        customer_id,
        reason: String::new(),
    }
}

/// What to send for a notice, or why it can never be sent (in the
/// register's language).
fn job(
    conn: &Connection,
    config: &Config,
    settings: &Settings,
    texts: &mut HashMap<String, Option<StoredText>>,
    notice: &OutgoingNotice,
) -> Result<Result<NoticeJob, String>, SendStepError> {
    let language = settings.language;
    if notice.kind == NoticeKind::Receipt && !notice.consent_stands {
        return Ok(Err(language
            .pick(
                "samtycket gäller inte längre (återkallat eller begärt igen) innan kvittot hann skickas",
                "the consent no longer stands (withdrawn or asked again) before the receipt went out",
            )
            .to_owned()));
    }
    let (channel, to) = match &notice.route {
        Ok(route) => route.clone(),
        Err(reason) => return Ok(Err((*reason).to_owned())),
    };
    let text = match &notice.text_hash {
        Some(hash) => {
            if !texts.contains_key(hash) {
                texts.insert(hash.clone(), requests::text(conn, hash)?);
            }
            texts.get(hash).cloned().flatten()
        }
        None => None,
    };
    let business_name = text
        .as_ref()
        .and_then(|t| t.inputs.as_ref())
        .map(|inputs| inputs.business_name.clone())
        .or_else(|| settings.business_name.clone())
        .unwrap_or_default();
    let link =
        match (&notice.kind, &notice.page_id) {
            (NoticeKind::Receipt, Some(page)) if page_id_is_valid(page) => {
                Some(config.withdrawal_url(page))
            }
            (NoticeKind::Receipt, _) => return Ok(Err(language
                .pick(
                    "kvittots sida för återkallelse saknas eller ändrades utanför portalen",
                    "the receipt's withdrawal page is missing or was changed outside the portal",
                )
                .to_owned())),
            (NoticeKind::Withdrawal, _) => None,
        };
    // The customer's whole record, as `consent_record(id)` gives it.
    let record = match (notice.kind, channel) {
        (NoticeKind::Receipt, Channel::Email) => Some(
            record::of(conn, &notice.customer_id)
                .map_err(|e| SendStepError::Setup(e.to_string()))?
                .to_json_pretty(),
        ),
        _ => None,
    };
    Ok(Ok(NoticeJob {
        notice_id: notice.id,
        kind: notice.kind,
        to,
        language: notice.language,
        business_name,
        at: notice.decided_at.unwrap_or_default(),
        channel,
        text: text.map(|t| t.body),
        link,
        record,
    }))
}

/// Writes the notices' outcomes, a group at a time in one short
/// transaction (as the requests' are), never while a message is on its way.
struct Marks<'c, 'p> {
    conn: &'c Connection,
    /// Outcomes heard and not yet written (see [`Outcomes::commit`]).
    pending: Vec<(i64, Result<(), SendError>)>,
    now: i64,
    /// The register's language, for reasons.
    language: Language,
    /// notice id -> its kind, and whom it is for.
    kinds: HashMap<i64, (NoticeKind, Failure)>,
    notified: Notified,
    /// Why the run stops (a setup failure, or the register refused a write).
    stopped: Option<SendStepError>,
    progress: &'p dyn Progress,
}

impl Marks<'_, '_> {
    /// Writes the outcomes heard so far in one transaction; a failure to
    /// write stops the run.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let conn = self.conn;
        let written = in_write_transaction(conn, || {
            pending
                .into_iter()
                .try_for_each(|(id, outcome)| self.record(id, outcome))
        });
        if let Err(e) = written {
            self.stopped.get_or_insert(e.into());
        }
    }

    fn fail(&mut self, id: i64, who: &Failure, reason: String) -> rusqlite::Result<()> {
        if notices::mark_failed(self.conn, id, &reason)? {
            self.notified.failed.push(Failure {
                reason,
                ..who.clone()
            });
        }
        Ok(())
    }

    fn record(&mut self, id: i64, result: Result<(), SendError>) -> rusqlite::Result<()> {
        let Some((kind, who)) = self.kinds.get(&id).cloned() else {
            return Ok(());
        };
        match result {
            Ok(()) => {
                if notices::mark_sent(self.conn, id, self.now)? {
                    match kind {
                        NoticeKind::Receipt => self.notified.receipts += 1,
                        NoticeKind::Withdrawal => self.notified.confirmations += 1,
                    }
                }
            }
            Err(error) => match error.class() {
                ErrorClass::Setup => {
                    let reason = error.reason(self.language);
                    self.stopped.get_or_insert(SendStepError::Setup(reason));
                }
                ErrorClass::Transient => self.notified.retry.push(Failure {
                    reason: error.reason(self.language),
                    ..who
                }),
                ErrorClass::Permanent => self.fail(id, &who, error.reason(self.language))?,
            },
        }
        Ok(())
    }
}

impl Outcomes for Marks<'_, '_> {
    fn outcome(&mut self, id: i64, result: Result<(), SendError>) {
        self.progress.item_done();
        self.pending.push((id, result));
    }

    /// The connections that sent these wait until they are written, so
    /// each is recorded before its connection sends again.
    fn commit(&mut self) {
        self.flush();
    }
}
