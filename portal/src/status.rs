//! `status`: how many customers are in each status, with the labels the
//! register shows, and every customer in error with the reason.

use std::collections::HashMap;

use consent_extension::{Language, Settings, Status};
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct StatusCount {
    pub status: String,
    pub label: String,
    pub customers: i64,
}

#[derive(Debug, Serialize)]
pub struct CustomerError {
    pub customer_id: String,
    pub name: Option<String>,
    pub reason: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub counts: Vec<StatusCount>,
    pub errors: Vec<CustomerError>,
    /// Commands in `consent_command` the next sync will apply.
    pub commands_pending: i64,
    /// Commands that were refused, each with its reason on its row.
    pub commands_refused: i64,
    #[serde(skip)]
    language: Language,
}

/// Reads the report through the extension's own overview, so it counts
/// exactly what the register shows.
pub fn report(conn: &Connection) -> rusqlite::Result<Report> {
    let language = Settings::read(conn)?.language;
    let mut by_status =
        conn.prepare("SELECT status, count(*) FROM consent_overview GROUP BY status")?;
    let found: HashMap<String, i64> = by_status
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let counts = Status::ALL
        .iter()
        .map(|status| StatusCount {
            status: status.as_str().to_owned(),
            label: status.label(language).to_owned(),
            customers: found.get(status.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let mut errors = conn.prepare(
        "SELECT CAST(customer_id AS TEXT), name, reason, changed_at FROM consent_overview
         WHERE status = 'error' ORDER BY customer_id",
    )?;
    let errors = errors
        .query_map([], |r| {
            Ok(CustomerError {
                customer_id: r.get(0)?,
                name: r.get(1)?,
                reason: r.get(2)?,
                since: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let commands_pending = consent_extension::commands::pending_count(conn)?;
    let commands_refused = conn.query_row(
        "SELECT count(*) FROM consent_command WHERE outcome = 'refused'",
        [],
        |r| r.get(0),
    )?;
    Ok(Report {
        counts,
        errors,
        commands_pending,
        commands_refused,
        language,
    })
}

/// The report as a table for a terminal.
pub fn to_text(report: &Report) -> String {
    let width = report
        .counts
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &report.counts {
        out.push_str(&format!("{:<width$}  {:>7}\n", c.label, c.customers));
    }
    if !report.errors.is_empty() {
        out.push('\n');
        for e in &report.errors {
            out.push_str(&format!(
                "{}{}: {}\n",
                e.customer_id,
                e.name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                e.reason.as_deref().unwrap_or("-")
            ));
        }
    }
    if report.commands_pending > 0 {
        out.push_str(&format!(
            "\n{}: {}\n",
            report.language.pick(
                "Kommandon som väntar på nästa uppdatering",
                "Commands waiting for the next sync"
            ),
            report.commands_pending
        ));
    }
    if report.commands_refused > 0 {
        out.push_str(&format!(
            "\n{}: {}\n  SELECT id, customer_id, command, refusal FROM consent_command WHERE outcome = 'refused'\n",
            report.language.pick("Avvisade kommandon", "Refused commands"),
            report.commands_refused
        ));
    }
    out
}
