//! `sync` = the billing product's "update consent", in this order:
//! collect the customers' decisions and apply them, expire the requests
//! nobody answered, render the pages, send every queued request.
//!
//! No write transaction is held across network I/O: decisions are fetched
//! first and applied in one short transaction per source; sends are marked
//! in short transactions between them. If any decision source cannot be
//! read, expiry is skipped for this run, because a decision waiting there
//! would otherwise be overtaken by the expiry.

use rusqlite::Connection;
use serde::Serialize;

use crate::config::Config;
use crate::decisions::{self, Applied, Refusal};
use crate::deliver::{self, Courier, Delivery};
use crate::render::{self, Progress};
use crate::token::{Signer, Verifier};

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Unix seconds.
    pub now: i64,
    /// Report what would happen; change nothing and send nothing.
    pub dry_run: bool,
}

/// What one run did, for the terminal or as JSON.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub dry_run: bool,
    pub collected: usize,
    pub approved: usize,
    pub declined: usize,
    pub refused: Vec<Refusal>,
    /// Decision sources that could not be read, with the reason.
    pub source_errors: Vec<String>,
    /// None when expiry was skipped (a source could not be read).
    pub expired: Option<i64>,
    pub pages: Option<render::Summary>,
    pub delivery: Delivery,
}

impl Summary {
    /// Whether the run did all its steps.
    pub fn complete(&self) -> bool {
        self.source_errors.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Collect(#[from] decisions::CollectError),
    #[error("expiring requests: {0}")]
    Expire(rusqlite::Error),
    #[error("rendering the pages: {0}")]
    Render(#[from] render::RenderError),
    #[error("sending: {0}")]
    Deliver(#[from] deliver::DeliverError),
}

/// The sources to collect from: the configured ones, or the local inbox.
pub fn sources(config: &Config) -> Vec<String> {
    if config.collector.sources.is_empty() {
        vec![config.collector.inbox.to_string_lossy().into_owned()]
    } else {
        config.collector.sources.clone()
    }
}

/// Runs every step once.
#[allow(clippy::too_many_arguments)]
pub fn run(
    conn: &Connection,
    config: &Config,
    signer: &Signer,
    verifier: &Verifier,
    courier: &mut dyn Courier,
    bearer: Option<&str>,
    progress: &dyn Progress,
    options: Options,
) -> Result<Summary, SyncError> {
    let mut summary = Summary {
        dry_run: options.dry_run,
        ..Summary::default()
    };
    for source in sources(config) {
        progress.start("collecting", 0);
        let after = decisions::cursor(conn, &source).map_err(decisions::CollectError::Database)?;
        let batch = match decisions::fetch(&source, after, bearer, &config.dir) {
            Ok(batch) => batch,
            Err(e) => {
                summary.source_errors.push(e.to_string());
                continue;
            }
        };
        progress.start("applying", batch.len() as u64);
        let Applied {
            collected,
            approved,
            declined,
            refused,
        } = decisions::apply(conn, &source, &batch, verifier, options.dry_run)?;
        summary.collected += collected;
        summary.approved += approved;
        summary.declined += declined;
        summary.refused.extend(refused);
    }

    if summary.source_errors.is_empty() {
        progress.start("expiring", 0);
        summary.expired = Some(expire(conn, options).map_err(SyncError::Expire)?);
    }
    if !options.dry_run {
        summary.pages = Some(render::render_with_progress(
            conn,
            config,
            signer,
            options.now,
            progress,
        )?);
    }
    summary.delivery = deliver::deliver(
        conn,
        config,
        courier,
        options.now,
        options.dry_run,
        progress,
    )?;
    Ok(summary)
}

fn expire(conn: &Connection, options: Options) -> rusqlite::Result<i64> {
    if !options.dry_run {
        return conn.query_row("SELECT consent_expire(?1)", [options.now], |r| r.get(0));
    }
    conn.execute_batch("BEGIN")?;
    let would = conn.query_row("SELECT consent_expire(?1)", [options.now], |r| r.get(0));
    conn.execute_batch("ROLLBACK")?;
    would
}

/// The summary for a terminal.
pub fn to_text(summary: &Summary) -> String {
    let mut out = String::new();
    if summary.dry_run {
        out.push_str("dry run: nothing was changed or sent\n");
    }
    out.push_str(&format!(
        "decisions: {} collected, {} approved, {} declined, {} refused\n",
        summary.collected,
        summary.approved,
        summary.declined,
        summary.refused.len()
    ));
    for r in &summary.refused {
        out.push_str(&format!(
            "  refused (request {}, from {}): {}\n",
            r.request_id, r.source, r.reason
        ));
    }
    for e in &summary.source_errors {
        out.push_str(&format!("  could not collect: {e}\n"));
    }
    match summary.expired {
        Some(n) => out.push_str(&format!("expired: {n}\n")),
        None => out.push_str("expired: skipped, because a decision source could not be read\n"),
    }
    if let Some(p) = &summary.pages {
        out.push_str(&format!(
            "pages: {} pending, {} written, {} removed\n",
            p.pages, p.written, p.removed
        ));
    }
    let d = &summary.delivery;
    if summary.dry_run {
        out.push_str(&format!(
            "would send: {} by e-mail, {} by SMS\n",
            d.would_send_email, d.would_send_sms
        ));
    } else {
        out.push_str(&format!(
            "sent: {} by e-mail, {} by SMS ({} SMS segments)\n",
            d.sent_email, d.sent_sms, d.sms_segments
        ));
    }
    out.push_str(&format!("errors: {}\n", d.errors.len()));
    for e in &d.errors {
        out.push_str(&format!("  customer {}: {}\n", e.customer_id, e.reason));
    }
    if !d.retry.is_empty() {
        out.push_str(&format!(
            "not sent this time, still queued for the next run: {}\n",
            d.retry.len()
        ));
        for e in &d.retry {
            out.push_str(&format!("  customer {}: {}\n", e.customer_id, e.reason));
        }
    }
    out
}
