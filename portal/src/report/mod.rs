//! `consent-portal report`: one self-contained HTML page for the business
//! owner. It shows the customers per status (the numbers `status` prints),
//! the requests sent, approved, denied and expired per ISO week (from the
//! consent log), the approval rate per channel, and the customers in error.
//!
//! [`gather`] reads the register into a [`Report`]; [`to_html`] draws its
//! charts ([`charts`]) and renders `report.html` with the words of the
//! register's language ([`texts`]). The page loads nothing: its style is
//! inline (allowed by hash in its Content-Security-Policy), its charts are
//! inline SVG, and it has no script.

mod charts;
mod texts;
mod weeks;

use std::collections::HashMap;

use consent_extension::{Channel, Language, Settings};
use rusqlite::Connection;
use serde::Serialize;

use crate::status;
use crate::sync::render::RenderError;
use crate::templates::Templates;

pub use charts::{ChartError, Layout};
pub use texts::ReportTexts;
pub use weeks::Week;

/// How many weeks the weekly chart shows at most, ending with the week of
/// the log's newest event.
pub const WEEKS_SHOWN: usize = 12;

/// The actor the log records when `consent_expire` denies a request nobody
/// answered in time (extension/src/bulk.rs).
pub const EXPIRE_ACTOR: &str = "consent_expire";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("reading the consent register: {0}")]
    Database(#[from] rusqlite::Error),
    #[error(
        "the consent log holds an event whose time {0:?} is not a time; \
         run `consent-portal verify` to check the log"
    )]
    BadTime(String),
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error(transparent)]
    Template(#[from] RenderError),
}

/// One ISO week's changes in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekCounts {
    pub week: Week,
    /// The week's Monday, `YYYY-MM-DD`.
    pub monday: String,
    /// Requests marked sent (e-mail or SMS).
    pub sent: i64,
    /// Requests approved (on a page, or by hand).
    pub approved: i64,
    /// Requests declined or withdrawn.
    pub denied: i64,
    /// Requests `consent_expire` denied because nobody answered in time.
    pub expired: i64,
}

/// The decided requests sent on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelRate {
    /// `email` or `sms`.
    pub channel: &'static str,
    /// Requests sent on this channel that are now approved or denied.
    pub decided: i64,
    /// Of those, the approved.
    pub approved: i64,
}

impl ChannelRate {
    /// The approved share in percent; `None` when nothing was decided.
    pub fn percent(&self) -> Option<f64> {
        (self.decided > 0).then(|| 100.0 * self.approved as f64 / self.decided as f64)
    }
}

/// What the report shows, read from the register at one moment.
#[derive(Debug, Serialize)]
pub struct Report {
    #[serde(skip)]
    pub language: Language,
    /// `sv` or `en`, the register's `language` setting.
    pub lang: &'static str,
    pub business_name: Option<String>,
    /// When the report was made, `YYYY-MM-DDTHH:MM:SSZ`.
    pub made_at: String,
    /// The customers per status and those in error, as `status` reads them.
    pub status: status::Report,
    /// The last [`WEEKS_SHOWN`] weeks up to the log's newest event, oldest
    /// first, empty weeks included; none before the first event.
    pub weeks: Vec<WeekCounts>,
    /// E-mail, then SMS.
    pub channels: Vec<ChannelRate>,
}

/// Reads the report from a register (a connection with the consent
/// functions registered) as of `now` (unix seconds).
pub fn gather(conn: &Connection, now: i64) -> Result<Report, ReportError> {
    let settings = Settings::read(conn)?;
    Ok(Report {
        language: settings.language,
        lang: settings.language.code(),
        business_name: settings.business_name,
        made_at: consent_extension::time::format(now),
        status: status::report(conn)?,
        weeks: weekly(conn)?,
        channels: channels(conn)?,
    })
}

/// The log's sent, approved, denied and expired requests per week.
fn weekly(conn: &Connection) -> Result<Vec<WeekCounts>, ReportError> {
    // The first and last day of the whole log bound the window; the counts
    // come grouped by day, so a large log is read in a few hundred rows.
    let bounds: (Option<String>, Option<String>) =
        conn.query_row("SELECT min(at), max(at) FROM consent_event", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (Some(first), Some(last)) = bounds else {
        return Ok(Vec::new());
    };
    let day = |at: &str| weeks::day_of(at).ok_or_else(|| ReportError::BadTime(at.to_owned()));
    let window = weeks::window(Week::of(day(&first)?), Week::of(day(&last)?), WEEKS_SHOWN);
    let mut counts: Vec<WeekCounts> = window
        .iter()
        .map(|&week| WeekCounts {
            week,
            monday: week.monday_date(),
            sent: 0,
            approved: 0,
            denied: 0,
            expired: 0,
        })
        .collect();
    let index: HashMap<i64, usize> = window
        .iter()
        .enumerate()
        .map(|(i, w)| (w.monday, i))
        .collect();
    let since = counts
        .first()
        .map(|w| format!("{}T00:00:00Z", w.monday))
        .unwrap_or_default();
    let mut stmt = conn.prepare(
        "SELECT substr(at, 1, 10), to_status, actor = ?1, count(*) FROM consent_event
         WHERE to_status IN ('sent', 'approved', 'denied') AND at >= ?2
         GROUP BY 1, 2, 3",
    )?;
    let rows = stmt.query_map(rusqlite::params![EXPIRE_ACTOR, since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (date, to_status, by_expire, n) = row?;
        let Some(&i) = index.get(&Week::of(day(&date)?).monday) else {
            continue;
        };
        let week = &mut counts[i];
        match (to_status.as_str(), by_expire) {
            ("sent", _) => week.sent += n,
            ("approved", _) => week.approved += n,
            ("denied", true) => week.expired += n,
            _ => week.denied += n,
        }
    }
    Ok(counts)
}

/// Per channel, the requests sent on it that are decided, and how many of
/// them approved.
fn channels(conn: &Connection) -> Result<Vec<ChannelRate>, ReportError> {
    let mut stmt = conn.prepare(
        "SELECT channel, count(*), sum(status = 'approved') FROM consent_request
         WHERE channel IS NOT NULL AND status IN ('approved', 'denied')
         GROUP BY channel",
    )?;
    let found: HashMap<String, (i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok([Channel::Email, Channel::Sms]
        .iter()
        .map(|channel| {
            let (decided, approved) = found.get(channel.as_str()).copied().unwrap_or((0, 0));
            ChannelRate {
                channel: channel.as_str(),
                decided,
                approved,
            }
        })
        .collect())
}

/// A row of the weekly table, as shown.
#[derive(Serialize)]
struct WeekRow {
    name: String,
    monday: String,
    sent: i64,
    approved: i64,
    denied: i64,
    expired: i64,
}

/// A row of the table of customers in error, as shown.
#[derive(Serialize)]
struct ErrorRow<'a> {
    customer_id: &'a str,
    name: Option<&'a str>,
    reason: Option<&'a str>,
    /// `YYYY-MM-DD HH:MM` (UTC).
    since: Option<String>,
}

/// A row of the channel table, as shown.
#[derive(Serialize)]
struct ChannelRow {
    name: &'static str,
    decided: i64,
    approved: i64,
    percent: String,
}

/// What `report.html` is given.
#[derive(Serialize)]
struct View<'a> {
    t: &'a ReportTexts,
    csp: String,
    css: &'a str,
    business_name: Option<&'a str>,
    made_at: String,
    made_at_iso: &'a str,
    counts: &'a [status::StatusCount],
    total: i64,
    errors: Vec<ErrorRow<'a>>,
    weekly_svg: Option<String>,
    weeks: Vec<WeekRow>,
    channel_svg: Option<String>,
    channels: Vec<ChannelRow>,
}

/// The report as one self-contained HTML page.
pub fn to_html(report: &Report, templates: &Templates) -> Result<String, ReportError> {
    let t = ReportTexts::new(
        report.language,
        report.business_name.as_deref(),
        report.weeks.len(),
    );
    let weekly_svg = if report.weeks.is_empty() {
        None
    } else {
        let label = format!("{}. {}", t.weekly_caption, t.numbers_below);
        Some(both(&label, |layout| {
            charts::weekly(&report.weeks, &t, layout)
        })?)
    };
    let channel_svg = if report.channels.iter().all(|c| c.decided == 0) {
        None
    } else {
        let label = format!("{}. {}", t.channel_caption, t.numbers_below);
        Some(both(&label, |layout| {
            charts::channels(&report.channels, &t, layout)
        })?)
    };
    let view = View {
        csp: templates.report_content_security_policy(),
        css: templates.report_css(),
        business_name: report.business_name.as_deref(),
        made_at: format!("{} UTC", minutes(&report.made_at)),
        made_at_iso: &report.made_at,
        counts: &report.status.counts,
        total: report.status.counts.iter().map(|c| c.customers).sum(),
        errors: report
            .status
            .errors
            .iter()
            .map(|e| ErrorRow {
                customer_id: &e.customer_id,
                name: e.name.as_deref(),
                reason: e.reason.as_deref(),
                since: e.since.as_deref().map(minutes),
            })
            .collect(),
        weekly_svg,
        weeks: report
            .weeks
            .iter()
            .map(|w| WeekRow {
                name: t.week_short(w.week.number),
                monday: w.monday.clone(),
                sent: w.sent,
                approved: w.approved,
                denied: w.denied,
                expired: w.expired,
            })
            .collect(),
        channel_svg,
        channels: report
            .channels
            .iter()
            .map(|c| ChannelRow {
                name: t.channel_name(c.channel),
                decided: c.decided,
                approved: c.approved,
                percent: t.percent(c.percent()),
            })
            .collect(),
        t: &t,
    };
    Ok(templates.render("report.html", &view)?)
}

/// A chart drawn for a wide screen and for a phone, each with its
/// accessible name; the page's style shows one of them.
fn both(
    label: &str,
    draw: impl Fn(Layout) -> Result<String, ChartError>,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    for layout in [Layout::Wide, Layout::Narrow] {
        svg.push_str(&charts::accessible(&draw(layout)?, label, layout));
    }
    Ok(svg)
}

/// `YYYY-MM-DDTHH:MM:SSZ` as `YYYY-MM-DD HH:MM`; any other text as it is.
fn minutes(time: &str) -> String {
    match (time.get(..10), time.get(11..16)) {
        (Some(day), Some(clock)) if time.len() == 20 => format!("{day} {clock}"),
        _ => time.to_owned(),
    }
}
