//! `status`: how many customers are in each status, with the labels the
//! register shows, and every customer in error with the reason.

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
}

/// Reads the report through the extension's own overview, so it counts
/// exactly what the register shows.
pub fn report(conn: &Connection) -> rusqlite::Result<Report> {
    let mut counts = conn.prepare(
        "SELECT s.status, consent_label(s.status), coalesce(c.n, 0)
         FROM (SELECT 'missing' AS status, 1 AS position UNION ALL SELECT 'queued', 2
               UNION ALL SELECT 'sent', 3 UNION ALL SELECT 'approved', 4
               UNION ALL SELECT 'denied', 5 UNION ALL SELECT 'error', 6) AS s
         LEFT JOIN (SELECT status, count(*) AS n FROM consent_overview GROUP BY status) AS c
           ON c.status = s.status
         ORDER BY s.position",
    )?;
    let counts = counts
        .query_map([], |r| {
            Ok(StatusCount {
                status: r.get(0)?,
                label: r.get(1)?,
                customers: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
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
    Ok(Report { counts, errors })
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
    out
}
