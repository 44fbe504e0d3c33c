//! `consent-portal report`: the owner's one-page report. A register whose
//! history is made through the real SQL functions at set times (four ISO
//! weeks, one of them empty, e-mail and SMS, an approval, a decline, an
//! expiry, a bounce, a customer with no contact) gives exactly the counts
//! it should, in the gathered `Report` and in the page read back as HTML;
//! the page loads nothing and speaks the register's language; and the real
//! program writes it, or says what to do.

use base64::Engine as _;
use consent_portal::config;
use consent_portal::report::{self, Report};
use consent_portal::templates::Templates;
use consent_testkit::billing::portal;
use consent_testkit::sample::{self, SetUp};
use consent_testkit::{sql, Scratch};
use rusqlite::Connection;
use scraper::{ElementRef, Html, Selector};
use sha2::{Digest, Sha256};

/// 2026-11-30, the Monday after the history.
const NOW: i64 = 1_796_000_000;

const CUSTOMERS: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);
INSERT INTO customers VALUES
  (1, 'Anna Andersson', 'anna@example.se', NULL),
  (2, 'Bo Berg', NULL, '070-123 45 67'),
  (3, 'Cia Carlsson', 'cia@example.se', NULL),
  (4, 'Dan Dahl', NULL, '070-765 43 21'),
  (5, 'Eva Ek', 'eva@example.se', NULL),
  (6, 'Fia Falk', NULL, NULL),
  (7, 'Gus Gran', 'gus@example.se', NULL),
  (8, 'Hel Holm', NULL, '073-111 22 33'),
  (9, 'Ida <Isaksson> & Co', 'ida@example.se', NULL);
";

/// The history, in order. Week 45 of 2026 starts on Monday 2026-11-02.
const HISTORY: &[&str] = &[
    // Week 45: four sent, one approved, one declined.
    "SELECT consent_queue(1, '2026-11-02T08:00:00Z')",
    "SELECT consent_queue(2, '2026-11-02T08:00:00Z')",
    "SELECT consent_queue(3, '2026-11-02T08:00:00Z')",
    "SELECT consent_queue(4, '2026-11-02T08:00:00Z')",
    "SELECT consent_mark_sent(1, 'email', NULL, '2026-11-02T09:00:00Z')",
    "SELECT consent_mark_sent(2, 'sms', NULL, '2026-11-02T09:00:00Z')",
    "SELECT consent_mark_sent(3, 'email', NULL, '2026-11-02T09:00:00Z')",
    "SELECT consent_mark_sent(4, 'sms', NULL, '2026-11-02T09:00:00Z')",
    "SELECT consent_approve(1, 'signed', '2026-11-04T10:00:00Z')",
    "SELECT consent_revoke(2, 'declined', '2026-11-04T10:00:00Z')",
    // Week 46: one approved, and Dan's silence expires.
    "SELECT consent_approve(3, 'signed', '2026-11-09T10:00:00Z')",
    "SELECT consent_expire('2026-11-10T02:00:00Z')",
    // Week 47: nothing. Week 48: Fia cannot be reached, Gus's mail
    // bounces, four sent, two approved, one declined.
    "SELECT consent_queue(5, '2026-11-23T08:00:00Z')",
    "SELECT consent_queue(6, '2026-11-23T08:00:00Z')",
    "SELECT consent_queue(7, '2026-11-23T08:00:00Z')",
    "SELECT consent_queue(8, '2026-11-23T08:00:00Z')",
    "SELECT consent_queue(9, '2026-11-23T08:00:00Z')",
    "SELECT consent_mark_sent(5, 'email', NULL, '2026-11-23T09:00:00Z')",
    "SELECT consent_mark_sent(7, 'email', NULL, '2026-11-23T09:00:00Z')",
    "SELECT consent_mark_sent(8, 'sms', NULL, '2026-11-23T09:00:00Z')",
    "SELECT consent_mark_sent(9, 'email', NULL, '2026-11-23T09:00:00Z')",
    "SELECT consent_mark_error(7, '550 mailbox <gus@example.se> unavailable', '2026-11-23T09:05:00Z')",
    "SELECT consent_approve(5, 'signed', '2026-11-24T10:00:00Z')",
    "SELECT consent_approve(8, 'signed', '2026-11-25T10:00:00Z')",
    "SELECT consent_revoke(9, 'declined', '2026-11-26T10:00:00Z')",
];

/// (ISO year, week, sent, approved, denied, expired), oldest first.
const WEEKS: [(i64, i64, i64, i64, i64, i64); 4] = [
    (2026, 45, 4, 1, 1, 0),
    (2026, 46, 0, 1, 0, 1),
    (2026, 47, 0, 0, 0, 0),
    (2026, 48, 4, 2, 1, 0),
];

fn register(dir: &Scratch, language: &str) -> Connection {
    let conn = sample::open(&dir.join("billing.db"));
    conn.execute_batch(CUSTOMERS).expect("the customers");
    SetUp::customers()
        .business_name("Dahls Rör & Söner AB")
        .sms()
        .then(&format!("SELECT consent_setting('language', '{language}')"))
        .apply(&conn);
    for call in HISTORY {
        sql::call(&conn, call);
    }
    conn
}

fn gather(label: &str, language: &str) -> (Scratch, Report) {
    let dir = Scratch::new(label);
    let conn = register(&dir, language);
    let gathered = report::gather(&conn, NOW).expect("gather the report");
    (dir, gathered)
}

fn html_of(report: &Report) -> String {
    let templates = Templates::load(None).expect("the built-in templates");
    report::to_html(report, &templates).expect("the report's HTML")
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"));
    doc.select(&selector).collect()
}

/// An element's text as a reader gets it: entities decoded, white space
/// collapsed.
fn text(element: &ElementRef<'_>) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A table's body rows, each as the texts of its cells (the row header
/// first).
fn rows(doc: &Html, table: &str) -> Vec<Vec<String>> {
    select(doc, &format!("table.{table} tbody tr"))
        .iter()
        .map(|row| {
            let cell = Selector::parse("th, td").expect("selector");
            row.select(&cell).map(|c| text(&c)).collect()
        })
        .collect()
}

#[test]
fn the_report_counts_each_week_each_channel_and_each_status() {
    let (_dir, r) = gather("report-counts", "sv");
    let weeks: Vec<_> = r
        .weeks
        .iter()
        .map(|w| {
            (
                w.week.year,
                w.week.number,
                w.sent,
                w.approved,
                w.denied,
                w.expired,
            )
        })
        .collect();
    assert_eq!(weeks, WEEKS);
    assert_eq!(
        r.weeks
            .iter()
            .map(|w| w.monday.as_str())
            .collect::<Vec<_>>(),
        ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    );

    let channels: Vec<_> = r
        .channels
        .iter()
        .map(|c| (c.channel, c.decided, c.approved))
        .collect();
    assert_eq!(channels, [("email", 4, 3), ("sms", 3, 1)]);
    assert_eq!(r.channels[0].percent(), Some(75.0));
    let sms = r.channels[1].percent().expect("SMS has decided requests");
    assert!((sms - 100.0 / 3.0).abs() < 1e-9, "{sms}");

    // The same numbers `status` prints.
    let counts: Vec<_> = r
        .status
        .counts
        .iter()
        .map(|c| (c.status.as_str(), c.customers))
        .collect();
    assert_eq!(
        counts,
        [
            ("missing", 0),
            ("queued", 0),
            ("sent", 0),
            ("approved", 4),
            ("denied", 3),
            ("error", 2)
        ]
    );
    let errors: Vec<_> = r
        .status
        .errors
        .iter()
        .map(|e| (e.customer_id.as_str(), e.reason.clone()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "6");
    assert!(errors[0].1.as_deref().is_some_and(|r| !r.is_empty()));
    assert_eq!(
        errors[1],
        (
            "7",
            Some("550 mailbox <gus@example.se> unavailable".to_owned())
        )
    );
    assert_eq!(r.made_at, "2026-11-30T00:53:20Z");
    assert_eq!(r.business_name.as_deref(), Some("Dahls Rör & Söner AB"));
}

#[test]
fn the_page_shows_the_same_numbers_and_loads_nothing() {
    let (_dir, r) = gather("report-page", "sv");
    let html = html_of(&r);
    let doc = Html::parse_document(&html);

    // Counts per status, with the register's labels.
    let counts = rows(&doc, "counts");
    let expected: Vec<Vec<String>> = r
        .status
        .counts
        .iter()
        .map(|c| vec![c.label.clone(), c.customers.to_string()])
        .collect();
    assert_eq!(counts, expected);
    assert!(counts
        .iter()
        .any(|c| c[0] == "Samtycke är godkänt" && c[1] == "4"));
    let total = select(&doc, "table.counts tfoot td");
    assert_eq!(total.iter().map(text).collect::<Vec<_>>(), ["9"]);

    // The weekly table: the week, its Monday, then the four numbers.
    let weeks = rows(&doc, "weeks");
    assert_eq!(weeks.len(), WEEKS.len());
    for (row, (_, week, sent, approved, denied, expired)) in weeks.iter().zip(WEEKS) {
        assert!(row[0].starts_with(&format!("v. {week} ")), "{row:?}");
        let numbers: Vec<i64> = row[1..]
            .iter()
            .map(|n| n.parse().expect("a count"))
            .collect();
        assert_eq!(numbers, [sent, approved, denied, expired], "week {week}");
    }
    assert!(weeks[0][0].ends_with("2026-11-02"), "{:?}", weeks[0]);

    // The channel table: decided, approved, the share as Swedes write it.
    assert_eq!(
        rows(&doc, "channels"),
        [
            ["E-post", "4", "3", "75,0 %"].map(String::from).to_vec(),
            ["SMS", "3", "1", "33,3 %"].map(String::from).to_vec(),
        ]
    );

    // The customers in error, with their reasons, escaped and read back.
    let errors = rows(&doc, "errors");
    assert_eq!(errors.len(), 2);
    assert!(errors[0][0].starts_with("6 Fia Falk"), "{errors:?}");
    assert_eq!(
        Some(errors[0][1].as_str()),
        r.status.errors[0].reason.as_deref()
    );
    assert!(
        errors[1][0].starts_with("7 Gus Gran sedan 2026-11-23 09:05"),
        "{errors:?}"
    );
    assert_eq!(errors[1][1], "550 mailbox <gus@example.se> unavailable");
    assert!(!html.contains("<gus@"), "the reason must be escaped");

    // The business's name and the time of the report.
    let h1 = select(&doc, "h1");
    assert_eq!(
        h1.iter().map(text).collect::<Vec<_>>(),
        ["Samtyckesrapport – Dahls Rör & Söner AB"]
    );
    let time = select(&doc, "time");
    assert_eq!(time.len(), 1);
    assert_eq!(
        time[0].value().attr("datetime"),
        Some("2026-11-30T00:53:20Z")
    );
    assert_eq!(text(&time[0]), "2026-11-30 00:53 UTC");

    // Charts: inline SVG, each an image with a name, in a figure with a
    // caption (one drawing for wide screens and one for phones).
    let svgs = select(&doc, "figure > svg");
    assert!(html.matches("<svg").count() >= 2);
    assert_eq!(svgs.len(), 4, "two charts, each drawn twice");
    for svg in &svgs {
        assert_eq!(svg.value().attr("role"), Some("img"));
        let label = svg.value().attr("aria-label").unwrap_or_default();
        assert!(label.contains("tabellen under diagrammet"), "{label}");
        assert!(svg.value().attr("viewBox").is_some());
    }
    assert_eq!(select(&doc, "figure > figcaption").len(), 2);
    // The SVG text is the chart's own: the weeks and the legend.
    let chart_text: String = svgs.iter().map(text).collect::<Vec<_>>().join(" ");
    for word in [
        "v. 45",
        "v. 48",
        "Skickade",
        "Godkända",
        "Nekade",
        "Utgångna",
        "E-post",
        "SMS",
        "75,0 %",
    ] {
        assert!(
            chart_text.contains(word),
            "{word:?} not in the charts: {chart_text}"
        );
    }

    // Self-contained: no script, nothing fetched, a strict CSP that allows
    // exactly the inline style.
    assert!(!html.to_lowercase().contains("<script"));
    for attribute in ["src=", "href=", "url("] {
        assert!(!html.contains(attribute), "the page holds {attribute}");
    }
    assert!(select(&doc, "[src], [href], link, img, iframe, object, embed").is_empty());
    let csp = select(&doc, "meta[http-equiv=\"Content-Security-Policy\"]");
    assert_eq!(csp.len(), 1);
    let policy = csp[0].value().attr("content").unwrap_or_default();
    let styles = select(&doc, "style");
    assert_eq!(styles.len(), 1);
    let css: String = styles[0].text().collect();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes()));
    assert_eq!(
        policy,
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; form-action 'none'; base-uri 'none'"
        )
    );
    assert!(
        !html.contains(" style=\""),
        "inline style attributes would be blocked"
    );
}

#[test]
fn a_swedish_register_gets_swedish_words_and_an_english_one_english() {
    let (_sv_dir, sv) = gather("report-sv", "sv");
    let (_en_dir, en) = gather("report-en", "en");
    let headings = |r: &Report| {
        let doc = Html::parse_document(&html_of(r));
        let lang = select(&doc, "html")[0]
            .value()
            .attr("lang")
            .map(str::to_owned);
        let h2: Vec<String> = select(&doc, "h2").iter().map(text).collect();
        let labels: Vec<String> = rows(&doc, "counts")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        let channels: Vec<Vec<String>> = rows(&doc, "channels");
        let body = text(&select(&doc, "body")[0]);
        (lang, h2, labels, channels, body)
    };
    let (lang, h2, labels, channels, body) = headings(&sv);
    assert_eq!(lang.as_deref(), Some("sv"));
    assert_eq!(
        h2,
        [
            "Kunder per status",
            "Förfrågningar per vecka",
            "Andel godkända per kanal",
            "Kunder med fel"
        ]
    );
    assert!(
        labels.contains(&"Samtycke är nekat".to_owned()),
        "{labels:?}"
    );
    assert_eq!(channels[0][3], "75,0 %");
    for english in ["Requests", "Approved", "Customer", "Week", "Consent"] {
        assert!(!body.contains(english), "{english:?} on the Swedish page");
    }

    let (lang, h2, labels, channels, body) = headings(&en);
    assert_eq!(lang.as_deref(), Some("en"));
    assert_eq!(
        h2,
        [
            "Customers per status",
            "Requests per week",
            "Approval rate per channel",
            "Customers in error"
        ]
    );
    assert!(labels.contains(&"Consent denied".to_owned()), "{labels:?}");
    assert_eq!(
        channels,
        [
            ["E-mail", "4", "3", "75.0%"].map(String::from).to_vec(),
            ["SMS", "3", "1", "33.3%"].map(String::from).to_vec(),
        ]
    );
    assert!(body.contains("W45") && body.contains("Consent report – Dahls Rör & Söner AB"));
    for swedish in [
        "Förfrågningar",
        "Godkända",
        "Kund",
        "Vecka",
        "Samtycke",
        "sedan",
    ] {
        assert!(!body.contains(swedish), "{swedish:?} on the English page");
    }
}

#[test]
fn the_chart_shows_the_last_twelve_weeks_up_to_the_newest_event() {
    // Anna asked 13 weeks before week 48: sent in week 35, approved in
    // week 36; both weeks fall outside the twelve shown.
    let old = Scratch::new("report-window");
    let conn_old = sample::open(&old.join("billing.db"));
    conn_old.execute_batch(CUSTOMERS).expect("the customers");
    SetUp::customers().sms().apply(&conn_old);
    for call in [
        "SELECT consent_queue(1, '2026-08-24T08:00:00Z')",
        "SELECT consent_mark_sent(1, 'email', NULL, '2026-08-24T09:00:00Z')",
        "SELECT consent_approve(1, 'signed', '2026-09-01T10:00:00Z')",
    ]
    .into_iter()
    .chain(HISTORY.iter().copied().filter(|c| !c.contains("(1,")))
    {
        sql::call(&conn_old, call);
    }
    let r = report::gather(&conn_old, NOW).expect("gather");
    assert_eq!(r.weeks.len(), report::WEEKS_SHOWN);
    let first = &r.weeks[0];
    assert_eq!((first.week.year, first.week.number), (2026, 37));
    assert_eq!(r.weeks.last().map(|w| w.week.number), Some(48));
    assert!(r.weeks[..8]
        .iter()
        .all(|w| w.sent + w.approved + w.denied + w.expired == 0));
    // Anna's old request counts per channel (it is decided), not per week.
    assert_eq!(r.weeks.iter().map(|w| w.sent).sum::<i64>(), 7);
    assert_eq!(r.weeks.iter().map(|w| w.approved).sum::<i64>(), 3);
    assert_eq!((r.channels[0].decided, r.channels[0].approved), (4, 3));

    // A register with no events yet: no weeks, no charts, words instead.
    let empty = Scratch::new("report-window-empty");
    let conn = sample::open(&empty.join("billing.db"));
    conn.execute_batch(CUSTOMERS).expect("the customers");
    SetUp::customers()
        .then("SELECT consent_setting('language', 'en')")
        .apply(&conn);
    let r = report::gather(&conn, NOW).expect("gather");
    assert!(r.weeks.is_empty());
    assert!(r
        .channels
        .iter()
        .all(|c| c.decided == 0 && c.percent().is_none()));
    let html = html_of(&r);
    assert!(!html.contains("<svg"));
    assert!(html.contains("No request has been sent or answered yet."));
    assert!(html.contains("No customer is in error."));
}

/// A folder with the register and its `consent.toml`, for the program.
fn on_disk(label: &str) -> Scratch {
    let dir = Scratch::new(label);
    drop(register(&dir, "sv"));
    std::fs::write(
        dir.join("consent.toml"),
        config::template(
            "billing.db",
            "https://samtycke.example.se",
            "https://samtycke.example.se/decision",
        ),
    )
    .expect("write consent.toml");
    dir
}

fn run(args: &[&str]) -> (bool, String, String) {
    let output = portal(args).output().expect("run consent-portal report");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_program_writes_the_report_and_says_what_to_do_when_it_cannot() {
    let dir = on_disk("report-program");
    let config = dir.join("consent.toml");
    let config = config.to_str().expect("a path");
    let out = dir.join("report.html");
    std::fs::write(&out, "an older report").expect("an existing file");
    let out_arg = out.to_str().expect("a path");

    let (ok, stdout, stderr) = run(&["report", "--config", config, "--out", out_arg]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains(out_arg), "{stdout}");
    let html = std::fs::read_to_string(&out).expect("the report");
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "the old file is replaced"
    );
    let doc = Html::parse_document(&html);
    assert_eq!(
        rows(&doc, "channels")[0],
        ["E-post", "4", "3", "75,0 %"].map(String::from).to_vec()
    );
    assert!(html.matches("<svg").count() >= 2);

    // `--out -`: the page on stdout, nothing else.
    let (ok, stdout, stderr) = run(&["report", "--config", config, "--out", "-"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("<!DOCTYPE html>") && stdout.trim_end().ends_with("</html>"));

    // No configuration: a non-zero exit that says how to make one.
    let missing = dir.join("missing.toml");
    let (ok, _, stderr) = run(&[
        "report",
        "--config",
        missing.to_str().expect("a path"),
        "--out",
        out_arg,
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("missing.toml") && stderr.contains("consent-portal init"),
        "{stderr}"
    );

    // A folder that does not exist: named, with the fix.
    let nowhere = dir.join("no-such-folder").join("report.html");
    let (ok, _, stderr) = run(&[
        "report",
        "--config",
        config,
        "--out",
        nowhere.to_str().expect("a path"),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("no-such-folder") && stderr.contains("check that its folder exists"),
        "{stderr}"
    );
}
