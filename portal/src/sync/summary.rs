//! A run's summary as a terminal shows it (`--json` prints the
//! [`Summary`] itself).

use super::Summary;

/// The summary for a terminal.
pub fn to_text(summary: &Summary) -> String {
    let mut out = String::new();
    if summary.dry_run {
        out.push_str("dry run: nothing was changed or sent\n");
    }
    let c = &summary.commands;
    if c.taken.total() > 0 {
        let verb = if summary.dry_run {
            "would apply"
        } else {
            "applied"
        };
        out.push_str(&format!(
            "commands: {} {verb}, {} refused\n",
            c.taken.applied, c.taken.refused
        ));
        for r in &c.taken.refusals {
            out.push_str(&format!(
                "  command {} (customer {}) refused: {}\n",
                r.command_id, r.customer, r.reason
            ));
        }
        let unlisted = c.taken.refused - c.taken.refusals.len() as i64;
        if unlisted > 0 {
            out.push_str(&format!(
                "  ... and {unlisted} more (SELECT * FROM consent_command WHERE outcome = 'refused')\n"
            ));
        }
    }
    if let Some(table) = &c.trigger_restored {
        out.push_str(&format!(
            "queue new customers: the trigger on table {table} was gone (the table was rebuilt?) and {} put back; \
             customers added in between were not queued: SELECT consent_queue_all() queues everyone never asked\n",
            if summary.dry_run { "would be" } else { "is" }
        ));
    }
    out.push_str(&format!(
        "decisions: {} collected, {} approved, {} declined, {} withdrawn, {} refused\n",
        summary.decisions.collected,
        summary.decisions.approved,
        summary.decisions.declined,
        summary.decisions.withdrawn,
        summary.decisions.refused.len()
    ));
    for r in &summary.decisions.refused {
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
        let w = &p.withdrawal;
        if w.pages + w.removed > 0 {
            out.push_str(&format!(
                "withdrawal pages: {} standing consents, {} new, {} written, {} removed\n",
                w.pages, w.receipts, w.written, w.removed
            ));
        }
    }
    let d = &summary.sent;
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
    out.push_str(&format!("errors: {}\n", d.error_count()));
    for e in &d.errors {
        out.push_str(&format!("  customer {}: {}\n", e.customer_id, e.reason));
    }
    if d.errors_not_listed > 0 {
        out.push_str(&format!(
            "  ... and {} more (consent-portal status lists every customer in error)\n",
            d.errors_not_listed
        ));
    }
    if d.retry_count() > 0 {
        out.push_str(&format!(
            "not sent this time, still queued for the next run: {}\n",
            d.retry_count()
        ));
        for e in &d.retry {
            out.push_str(&format!("  customer {}: {}\n", e.customer_id, e.reason));
        }
        if d.retry_not_listed > 0 {
            out.push_str(&format!("  ... and {} more\n", d.retry_not_listed));
        }
    }
    let n = &summary.notices;
    if summary.dry_run {
        if n.would_send > 0 {
            out.push_str(&format!(
                "would send: {} receipts and withdrawal confirmations\n",
                n.would_send
            ));
        }
    } else if n.receipts + n.confirmations + n.failed.len() + n.retry.len() > 0 {
        out.push_str(&format!(
            "notices: {} receipts, {} withdrawal confirmations sent\n",
            n.receipts, n.confirmations
        ));
    }
    for e in &n.failed {
        out.push_str(&format!(
            "  notice to customer {} not sent: {}\n",
            e.customer_id, e.reason
        ));
    }
    for e in &n.retry {
        out.push_str(&format!(
            "  notice to customer {} not sent this time, tried again next run: {}\n",
            e.customer_id, e.reason
        ));
    }
    if let Some(log) = &summary.log {
        out.push_str(&format!(
            "log: {} events, head {}\n",
            log.events,
            log.hash.as_deref().unwrap_or("(none yet)")
        ));
    }
    out
}
