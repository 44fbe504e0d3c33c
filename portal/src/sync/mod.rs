//! `sync` = the billing product's "update consent". One run does, in this
//! order (one module each, read them top-down):
//!
//! 1. [`commands`]: apply the commands programs without the extension left
//!    in `consent_command` (queue, approve, revoke), in order, and put back
//!    the queue-on-create trigger if the billing table was rebuilt;
//! 2. [`collect`]: fetch the decisions after each source's cursor, from
//!    collectors over HTTP or from inbox files, a page at a time;
//! 3. [`apply`]: verify each again and apply it to the customer's current
//!    request, moving the source's cursor in the same transaction, before
//!    the next page is fetched;
//! 4. [`expire`]: deny the requests nobody answered in `expiry_days`;
//! 5. [`render`]: write a signed page for every pending request, and a
//!    withdrawal page (the receipt, with one button) for every consent given
//!    on one;
//! 6. [`send`]: send every queued request by e-mail or SMS, recording each
//!    outcome before that connection sends again;
//! 7. [`notify`]: send the receipts of new approvals and the confirmations
//!    of withdrawals, the same way;
//! 8. record the head of the hash-chained log outside the database
//!    ([`crate::log_heads`]), so that a log rebuilt from scratch is caught.
//!
//! Every step works through the register a bounded batch at a time (pages
//! of decisions, of pages to render, of messages to send, of notices), so
//! a run's memory stays the same for a register of ten thousand customers
//! or a million (`cargo bench -p consent-portal --bench memory`).
//!
//! No write transaction is held across network I/O. If any decision source
//! cannot be read, expiry is skipped for this run, because a decision
//! waiting there would otherwise be overtaken by the expiry.

pub mod apply;
pub mod collect;
pub mod commands;
pub mod expire;
pub mod notify;
pub mod render;
pub mod send;
mod summary;

use rusqlite::Connection;
use serde::Serialize;

use crate::config::Config;
use crate::send::Transports;
use crate::token::{Signer, Verifier};

pub use apply::{Applied, Checks, Refusal};
pub use send::Sent;
pub use summary::to_text;

/// Everything one run works with.
pub struct Run<'a> {
    /// The billing database, with the consent functions registered.
    pub conn: &'a Connection,
    pub config: &'a Config,
    /// Unix seconds.
    pub now: i64,
    /// Report what would happen; change nothing and send nothing.
    pub dry_run: bool,
    pub signer: &'a Signer,
    pub verifier: &'a Verifier,
    pub transports: &'a Transports,
    /// The collectors' bearer token (`CONSENT_COLLECTOR_TOKEN`).
    pub bearer: Option<&'a str>,
    pub progress: &'a dyn Progress,
}

/// What one run did, for the terminal or as JSON.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// The commands taken from `consent_command`.
    pub commands: commands::Commands,
    /// The decisions of every source, together.
    #[serde(flatten)]
    pub decisions: Applied,
    pub dry_run: bool,
    /// Decision sources that could not be read, with the reason.
    pub source_errors: Vec<String>,
    /// None when expiry was skipped (a source could not be read).
    pub expired: Option<i64>,
    pub pages: Option<render::Summary>,
    /// Kept under this name in `--json`, which scripts read.
    #[serde(rename = "delivery")]
    pub sent: Sent,
    /// Receipts and withdrawal confirmations.
    pub notices: notify::Notified,
    /// The log's head after the run, as recorded outside the database
    /// (None in a dry run).
    pub log: Option<LogHead>,
}

/// The head of the consent log.
#[derive(Debug, Clone, Serialize)]
pub struct LogHead {
    pub events: i64,
    /// The last event's chained hash (hex); None while the log is empty.
    pub hash: Option<String>,
}

impl Summary {
    /// Whether the run did all its steps.
    pub fn complete(&self) -> bool {
        self.source_errors.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("applying the commands in consent_command: {0}")]
    Commands(consent_extension::ConsentError),
    #[error("applying decisions: {0}")]
    Apply(#[from] apply::ApplyError),
    #[error("expiring requests: {0}")]
    Expire(rusqlite::Error),
    #[error("rendering the pages: {0}")]
    Render(#[from] render::RenderError),
    #[error("sending: {0}")]
    Send(#[from] send::SendStepError),
    #[error("sending receipts and confirmations: {0}")]
    Notify(send::SendStepError),
    #[error("recording the log's head: {0}")]
    Heads(#[from] crate::log_heads::HeadsError),
}

/// Runs `write` in one short write transaction (`BEGIN IMMEDIATE`):
/// committed when it succeeds, rolled back when it fails.
pub(crate) fn in_write_transaction<T, E: From<rusqlite::Error>>(
    conn: &Connection,
    write: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match write() {
        Ok(value) => {
            conn.execute_batch("COMMIT")?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Told how many items a step has, then of each one done; from several
/// threads at once.
pub trait Progress: Sync {
    /// A new step of `items` items: "rendering" pages, "sending" messages.
    fn start(&self, step: &str, items: u64);
    fn item_done(&self);
}

/// For callers that show no progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _step: &str, _items: u64) {}
    fn item_done(&self) {}
}

impl Run<'_> {
    /// Runs every step once.
    pub fn run(&self) -> Result<Summary, SyncError> {
        let mut summary = Summary {
            dry_run: self.dry_run,
            ..Summary::default()
        };
        summary.commands =
            commands::apply(self.conn, self.dry_run, self.progress).map_err(SyncError::Commands)?;
        for source in collect::sources(self.config) {
            self.progress.start("collecting", 0);
            let mut after = self.cursor(&source)?;
            // A page at a time: each is applied (and the source's cursor
            // moved) before the next is fetched.
            loop {
                let batch = match collect::fetch(&source, after, self.bearer, &self.config.dir) {
                    Ok(batch) => batch,
                    Err(e) => {
                        summary.source_errors.push(e.to_string());
                        break;
                    }
                };
                let more = batch.len() >= collect::PAGE_SIZE;
                let Some(last) = batch.last() else {
                    break;
                };
                after = last.cursor;
                self.progress.start("applying", batch.len() as u64);
                let checks = apply::Checks {
                    verifier: self.verifier,
                    now: self.now,
                    clock_skew: i64::from(self.config.collector.clock_skew_seconds),
                };
                let applied = apply::apply(self.conn, &source, &batch, &checks, self.dry_run)?;
                summary.decisions.add(applied);
                if !more {
                    break;
                }
            }
        }

        if summary.source_errors.is_empty() {
            self.progress.start("expiring", 0);
            let expired = expire::expire(self.conn, self.now, self.dry_run);
            summary.expired = Some(expired.map_err(SyncError::Expire)?);
        }
        if !self.dry_run {
            summary.pages = Some(render::render_with_progress(
                self.conn,
                self.config,
                self.signer,
                self.now,
                self.progress,
            )?);
        }
        summary.sent = send::send(
            self.conn,
            self.config,
            self.transports,
            self.now,
            self.dry_run,
            self.progress,
        )?;
        summary.notices = notify::notify(
            self.conn,
            self.config,
            self.transports,
            self.now,
            self.dry_run,
            self.progress,
        )
        .map_err(SyncError::Notify)?;
        if !self.dry_run {
            let head = consent_extension::log::head(self.conn)
                .map_err(crate::log_heads::HeadsError::from)?;
            crate::log_heads::record(
                &crate::log_heads::path_in(&self.config.dir),
                &head,
                self.now,
            )?;
            summary.log = Some(LogHead {
                events: head.count,
                hash: head.hash,
            });
        }
        Ok(summary)
    }

    fn cursor(&self, source: &str) -> Result<i64, SyncError> {
        consent_extension::requests::source_cursor(self.conn, source)
            .map_err(|e| SyncError::Apply(apply::ApplyError(e)))
    }
}
