//! The SQL reference, `docs/reference.md`, run as a test so that it cannot
//! drift.
//!
//! The executed part of the page runs from its `## Functions` heading to the
//! end of the file: every ```sql block there runs in order on one database
//! (a file, with the extension registered). A ```sql block above that
//! heading (the guide, such as its bulk-work example on a `kunder` table)
//! is an illustration and does not run; shell transcripts use ```sh or
//! plain ``` fences anywhere. A statement ends at a line ending in `;`; the `-- `
//! lines right under it are its result: one line per row, columns separated
//! by ` | `, NULL as `NULL`, and `-- error: <message>` for an SQL error. A
//! statement with no rows has no result lines. Other comments need a blank
//! line between them and the statement above.
//!
//! The other tests read the same part for the `### ` entries (one per
//! function, with its signature, and the column tables of consent_overview
//! and consent_event), and the whole page for the statuses table.
//!
//! Writing the reference: write the statements, run
//! `UPDATE_REFERENCE=1 cargo test -p consent-extension --test reference`,
//! which rewrites the result lines in docs/reference.md with what the
//! statements really return, read the diff, then run the test again without
//! the variable.

use std::ops::Range;
use std::path::PathBuf;

use consent_extension::{register, FUNCTIONS, OVERVIEW, OVERVIEW_COLUMNS, TRIGGER_FUNCTIONS};
use consent_extension::{Language, Status};
use consent_testkit::sample::{SetUp, CUSTOMERS};
use consent_testkit::{repo_root, sql, Scratch};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// The page, relative to the repository's root, as messages name it.
const PAGE: &str = "docs/reference.md";

/// Where the executed part of the page starts.
const HEADING: &str = "## Functions";

fn page_path() -> PathBuf {
    repo_root().join(PAGE)
}

fn read_page() -> String {
    let path = page_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The lines of the executed part: from the `## Functions` heading (outside
/// a code block) to the end of the file.
fn section(lines: &[&str]) -> Range<usize> {
    let mut in_code = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.trim_end() == HEADING {
            return i..lines.len();
        }
    }
    panic!("{PAGE} has no `{HEADING}` heading");
}

/// One statement of an example and the result lines documented under it.
struct Example {
    /// 1-based line number in docs/reference.md where the statement starts.
    line: usize,
    sql: String,
    /// Where the result lines are (0-based line indexes; empty when none).
    results: Range<usize>,
    expected: Vec<String>,
}

/// The statements of every ```sql block in `range`, in order.
fn examples(lines: &[&str], range: Range<usize>) -> Vec<Example> {
    let mut found = Vec::new();
    let mut i = range.start;
    while i < range.end {
        if lines[i].trim_end() != "```sql" {
            i += 1;
            continue;
        }
        i += 1;
        let mut statement: Vec<&str> = Vec::new();
        let mut start = i;
        loop {
            assert!(
                i < range.end,
                "{PAGE}: the ```sql block above line {} is not closed",
                i + 1
            );
            let line = lines[i];
            if line.starts_with("```") {
                assert!(
                    statement.is_empty(),
                    "{PAGE} line {}: statement without a final `;`:\n{}",
                    start + 1,
                    statement.join("\n")
                );
                i += 1;
                break;
            }
            let blank_or_comment = line.trim().is_empty() || line.trim_start().starts_with("--");
            if statement.is_empty() && blank_or_comment {
                // Prose between statements.
                i += 1;
                continue;
            }
            if statement.is_empty() {
                start = i;
            }
            statement.push(line);
            i += 1;
            if line.trim_end().ends_with(';') {
                let first_result = i;
                let mut expected = Vec::new();
                while i < range.end {
                    match result_text(lines[i]) {
                        Some(text) => expected.push(text.to_owned()),
                        None => break,
                    }
                    i += 1;
                }
                found.push(Example {
                    line: start + 1,
                    sql: statement.join("\n"),
                    results: first_result..i,
                    expected,
                });
                statement.clear();
            }
        }
    }
    found
}

/// The text of a result line (`-- text`), None for any other line.
fn result_text(line: &str) -> Option<&str> {
    let line = line.trim_end();
    if line == "--" {
        Some("")
    } else {
        line.strip_prefix("-- ")
    }
}

/// Runs one statement and formats what it returns, one line per row.
fn run(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = match conn.prepare(sql) {
        Ok(stmt) => stmt,
        Err(e) => return vec![error_line(&e)],
    };
    let columns = stmt.column_count();
    let mut rows = match stmt.query([]) {
        Ok(rows) => rows,
        Err(e) => return vec![error_line(&e)],
    };
    let mut lines = Vec::new();
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                let cells: Vec<String> = (0..columns)
                    .map(|i| row.get_ref(i).map_or_else(|e| format!("<{e}>"), show))
                    .collect();
                lines.push(cells.join(" | "));
            }
            Ok(None) => break,
            Err(e) => {
                lines.push(error_line(&e));
                break;
            }
        }
    }
    lines
}

/// The message SQLite reports, as the sqlite3 shell shows it.
fn error_line(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => format!("error: {message}"),
        other => format!("error: {other}"),
    }
}

fn show(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => {
            let hex: String = b.iter().map(|byte| format!("{byte:02X}")).collect();
            format!("X'{hex}'")
        }
    }
}

/// Whether a documented line matches the real one. `consent_version()`
/// returns the crate's version, so any version documented there passes.
fn matches(expected: &str, actual: &str) -> bool {
    let looks_like_version = |s: &str| {
        let core = s.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<_> = core.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    expected == actual || (actual == consent_extension::VERSION && looks_like_version(expected))
}

#[test]
fn every_example_returns_what_the_reference_says() {
    let text = read_page();
    let lines: Vec<&str> = text.lines().collect();
    let examples = examples(&lines, section(&lines));
    assert!(
        !examples.is_empty(),
        "{PAGE} has no ```sql examples under `{HEADING}`"
    );

    // A fresh database file for one run of the examples.
    let dir = Scratch::new("reference");
    let conn = Connection::open(dir.join("examples.db")).expect("open the example database");
    register(&conn).expect("register the consent functions");
    let actual: Vec<Vec<String>> = examples.iter().map(|ex| run(&conn, &ex.sql)).collect();
    // No statement of the extension may outlive the calls that made it.
    conn.close()
        .unwrap_or_else(|(_, e)| panic!("closing the database after the examples: {e}"));

    if std::env::var("UPDATE_REFERENCE").as_deref() == Ok("1") {
        bless(&text, &lines, &examples, &actual);
        return;
    }

    let mut failures = Vec::new();
    for (ex, actual) in examples.iter().zip(&actual) {
        let same = ex.expected.len() == actual.len()
            && ex.expected.iter().zip(actual).all(|(e, a)| matches(e, a));
        if !same {
            let shown = |lines: &[String]| {
                if lines.is_empty() {
                    "    (no rows)".to_owned()
                } else {
                    lines
                        .iter()
                        .map(|l| format!("    -- {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            };
            failures.push(format!(
                "{PAGE} line {}:\n{}\n  documented:\n{}\n  actual:\n{}",
                ex.line,
                ex.sql,
                shown(&ex.expected),
                shown(actual)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} example(s) in {PAGE} differ from what they return \
         (after fixing or deciding the code is right, UPDATE_REFERENCE=1 rewrites the results):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Rewrites the result lines of every example with the actual ones, and
/// nothing else of the page.
fn bless(original: &str, lines: &[&str], examples: &[Example], actual: &[Vec<String>]) {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut next = 0;
    for (ex, actual) in examples.iter().zip(actual) {
        out.extend(
            lines[next..ex.results.start]
                .iter()
                .map(|l| (*l).to_owned()),
        );
        out.extend(actual.iter().map(|l| {
            if l.is_empty() {
                "--".to_owned()
            } else {
                format!("-- {l}")
            }
        }));
        next = ex.results.end;
    }
    out.extend(lines[next..].iter().map(|l| (*l).to_owned()));
    let mut updated = out.join("\n");
    if original.ends_with('\n') {
        updated.push('\n');
    }
    // Someone may have edited the page while the examples ran: never
    // overwrite what this run did not read.
    assert!(
        read_page() == original,
        "{PAGE} changed while the examples ran; run again"
    );
    if updated != original {
        let path = page_path();
        std::fs::write(&path, updated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        eprintln!(
            "UPDATE_REFERENCE: rewrote the results in {}; review the diff",
            path.display()
        );
    }
}

/// The `### ` entries of the executed part: heading text and the lines under
/// it.
fn entries<'a>(lines: &[&'a str], range: Range<usize>) -> Vec<(&'a str, Vec<&'a str>)> {
    let mut found: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut in_code = false;
    for line in &lines[range] {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        match line.strip_prefix("### ") {
            Some(name) if !in_code => found.push((name.trim(), Vec::new())),
            _ => {
                if let Some((_, body)) = found.last_mut() {
                    body.push(line);
                }
            }
        }
    }
    found
}

/// The names in the first column of the first table of an entry
/// (`` | `name` | ... ``), header and separator rows left out.
fn documented_columns(body: &[&str]) -> Vec<String> {
    body.iter()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .filter_map(|l| l.split('|').nth(1))
        .map(|cell| cell.trim().trim_matches('`').to_owned())
        .collect()
}

#[test]
fn every_function_has_an_entry_with_its_signature() {
    let text = read_page();
    let lines: Vec<&str> = text.lines().collect();
    let entries = entries(&lines, section(&lines));

    let mut wanted: Vec<&str> = FUNCTIONS.iter().map(|f| f.sig.name).collect();
    wanted.push(OVERVIEW);
    let documented: Vec<&str> = entries
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| wanted.contains(name))
        .collect();
    assert_eq!(
        documented, wanted,
        "{PAGE} needs one `### name` entry per function under `{HEADING}`, in the order of FUNCTIONS, then consent_overview"
    );

    for function in FUNCTIONS {
        let name = function.sig.name;
        let (_, body) = entries
            .iter()
            .find(|(n, _)| *n == name)
            .expect("checked above");
        let signature = body
            .iter()
            .find(|l| !l.trim().is_empty())
            .copied()
            .unwrap_or_default();
        assert_eq!(
            signature,
            format!("`{}`", function.sig.usage()),
            "the first line of the `### {name}` entry must be its signature"
        );
    }

    let (_, body) = entries
        .iter()
        .find(|(n, _)| *n == OVERVIEW)
        .expect("checked above");
    assert_eq!(
        documented_columns(body),
        OVERVIEW_COLUMNS,
        "the column table of `### consent_overview`"
    );
}

#[test]
fn the_statuses_table_has_the_real_labels() {
    let text = read_page();
    let lines: Vec<&str> = text.lines().collect();
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .skip_while(|l| !l.starts_with("| status | sv label | en label |"))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    let documented: Vec<(String, &str, &str)> = rows
        .iter()
        .map(|cells| (cells[1].trim_matches('`').to_owned(), cells[2], cells[3]))
        .collect();
    let real: Vec<(String, &str, &str)> = Status::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                s.label(Language::Sv),
                s.label(Language::En),
            )
        })
        .collect();
    assert_eq!(
        documented, real,
        "the `| status | sv label | en label |` table of {PAGE} must list every status with its labels"
    );
}

#[test]
fn the_documented_audit_log_columns_are_the_real_ones() {
    let text = read_page();
    let lines: Vec<&str> = text.lines().collect();
    let entries = entries(&lines, section(&lines));
    let (_, body) = entries
        .iter()
        .find(|(n, _)| *n == "consent_event")
        .unwrap_or_else(|| {
            panic!("{PAGE} needs a `### consent_event` entry under `{HEADING}` for the audit log")
        });

    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    register(&conn).expect("register");
    SetUp::customers().apply(&conn);
    let real: Vec<String> =
        sql::column(&conn, "SELECT name FROM pragma_table_info('consent_event')");
    assert_eq!(
        documented_columns(body),
        real,
        "the column table of `### consent_event`"
    );
}

#[test]
fn the_connection_has_no_undocumented_consent_function() {
    let conn = Connection::open_in_memory().expect("open");
    register(&conn).expect("register");
    let registered: Vec<String> = sql::column(
        &conn,
        "SELECT DISTINCT name FROM pragma_function_list WHERE name LIKE 'consent\\_%' ESCAPE '\\' ORDER BY name",
    );
    let mut listed: Vec<String> = FUNCTIONS
        .iter()
        .map(|f| f.sig.name)
        .chain(TRIGGER_FUNCTIONS)
        .map(str::to_owned)
        .collect();
    listed.sort();
    assert_eq!(
        registered, listed,
        "every consent_ function on the connection must be in FUNCTIONS (and so in {PAGE}), \
         or one of the TRIGGER_FUNCTIONS"
    );
    // The trigger functions are not the contract, but the page says what
    // they are, in the entry on the audit log.
    let text = read_page();
    let lines: Vec<&str> = text.lines().collect();
    let entries = entries(&lines, section(&lines));
    let (_, body) = entries
        .iter()
        .find(|(n, _)| *n == "consent_event")
        .unwrap_or_else(|| panic!("{PAGE} needs a `### consent_event` entry"));
    for name in TRIGGER_FUNCTIONS {
        assert!(
            body.iter().any(|l| l.contains(&format!("`{name}("))),
            "the `### consent_event` entry of {PAGE} must say what `{name}(...)` is"
        );
    }
}
