//! The SQL suites in `tests/sql/`, run through the real sqlite3 shell with
//! the real libconsent.so loaded.
//!
//! `tests/sql/*.sql` (sqlean style): each file runs as one `sqlite3 -bail`
//! script on a fresh database holding the billing fixture
//! (`tests/sql/_fixture.sql`), after `.load`. Every statement that prints is
//! a check, `select 'case_name', <expr> = <expected>;`, printing exactly one
//! row; any line that does not end in `|1`, any error and any output on
//! stderr fails the file.
//!
//! `tests/sql/errors/*.sql`: the statements of a file run one by one, each
//! in its own `sqlite3 -bail` process with `.load`, on one database that
//! starts as the fixture. A statement preceded by one or more
//! `-- expect-error: <substring>` lines must fail, with every substring in
//! the message; any other statement must succeed as a check does above.
//! A statement ends with the line that ends in `;`.

use std::fs;
use std::path::{Path, PathBuf};

use consent_testkit::host::{failed_checks, sqlite3};
use consent_testkit::shim::load_line;
use consent_testkit::{repo_root, Scratch};

const FIXTURE: &str = "_fixture.sql";

/// The suites folder, `tests/sql`.
pub fn sql_dir() -> PathBuf {
    repo_root().join("tests").join("sql")
}

/// The `.sql` files of a folder, sorted, leaving out `_`-prefixed files (the fixture).
pub fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sql")
                && p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('_'))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .sql files in {}", dir.display());
    files
}

/// The billing fixture every suite starts from, ending in a newline.
pub fn fixture() -> String {
    let path = sql_dir().join(FIXTURE);
    let mut text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// How a file is named in failure reports: relative to the repository.
fn shown(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// Whether a line starts a check (`select '...`).
fn starts_check(line: &str) -> bool {
    line.trim_start()
        .to_ascii_lowercase()
        .starts_with("select '")
}

/// The case name a check line declares: `select 'name', ...` -> `name`.
fn case_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().get("select '".len()..)?;
    rest.find('\'').map(|end| &rest[..end])
}

/// Runs one check file; returns what failed (empty when it passed).
pub fn run_check_file(file: &Path, tmp: &Scratch) -> Vec<String> {
    let name = shown(file);
    let text =
        fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let prefix = format!("{}{}", fixture(), load_line());
    let prefix_lines = prefix.lines().count();
    let db = tmp.join(format!("{}.db", file_stem(file)));
    let run = sqlite3(&db, &format!("{prefix}{text}"), tmp, &file_stem(file));

    let mut failures = Vec::new();
    // Where a case is declared, for reports.
    let mut cases: Vec<(&str, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if starts_check(line) {
            match case_name(line) {
                Some(case) if cases.iter().any(|(c, _)| *c == case) => {
                    failures.push(format!("{name}:{}: case '{case}' is declared twice", i + 1));
                }
                Some(case) => cases.push((case, i + 1)),
                None => failures.push(format!("{name}:{}: cannot read the case name", i + 1)),
            }
        }
    }
    if !run.status.success() || !run.stderr.is_empty() {
        failures.push(format!(
            "{name}: sqlite3 exited with {}:\n{}",
            run.status,
            with_file_lines(&run.stderr, &name, prefix_lines).trim_end()
        ));
    }
    for line in failed_checks(&run.stdout) {
        let case = line.split('|').next().unwrap_or(line);
        match cases.iter().find(|(c, _)| *c == case) {
            Some((_, at)) => failures.push(format!("{name}:{at}: failed: {line}")),
            None => failures.push(format!("{name}: unexpected output line: {line}")),
        }
    }
    let printed = run.stdout.lines().count();
    if run.status.success() && printed != cases.len() {
        failures.push(format!(
            "{name}: {} checks declared but {printed} lines printed (a check must print exactly one row)",
            cases.len()
        ));
    }
    failures
}

/// Rewrites the shell's "near line N:" (N counting the fixture and `.load`
/// lines in front of the file) to name the line of the file.
fn with_file_lines(stderr: &str, name: &str, prefix_lines: usize) -> String {
    const NEAR: &str = "near line ";
    let mut out = String::new();
    let mut rest = stderr;
    while let Some(at) = rest.find(NEAR) {
        let after = &rest[at + NEAR.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(&rest[..at + NEAR.len()]);
        match after[..digits].parse::<usize>() {
            Ok(n) if n > prefix_lines => {
                out.push_str(&format!("{n} ({name}:{})", n - prefix_lines))
            }
            _ => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// One statement of an error file.
struct Step {
    line: usize,
    sql: String,
    expected: Vec<String>,
}

const EXPECT: &str = "-- expect-error:";

fn parse_steps(name: &str, text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut expected = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(substring) = trimmed.strip_prefix(EXPECT) {
            assert!(
                current.is_none(),
                "{name}:{}: expect-error inside a statement",
                i + 1
            );
            let substring = substring.trim();
            assert!(
                !substring.is_empty(),
                "{name}:{}: empty expect-error",
                i + 1
            );
            expected.push(substring.to_owned());
            continue;
        }
        if current.is_none() && (trimmed.is_empty() || trimmed.starts_with("--")) {
            continue;
        }
        let (_, sql) = current.get_or_insert_with(|| (i + 1, String::new()));
        sql.push_str(line);
        sql.push('\n');
        if trimmed.ends_with(';') {
            if let Some((line, sql)) = current.take() {
                steps.push(Step {
                    line,
                    sql,
                    expected: std::mem::take(&mut expected),
                });
            }
        }
    }
    assert!(
        current.is_none(),
        "{name}: the last statement does not end in ';'"
    );
    assert!(
        expected.is_empty(),
        "{name}: expect-error at the end with no statement"
    );
    steps
}

/// Runs one error file; returns what failed (empty when it passed) and the
/// number of statements expected to fail.
pub fn run_error_file(file: &Path, tmp: &Scratch) -> (Vec<String>, usize) {
    let name = shown(file);
    let text =
        fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let steps = parse_steps(&name, &text);
    let stem = file_stem(file);
    let db = tmp.join(format!("{stem}.db"));
    let setup = sqlite3(&db, &fixture(), tmp, &format!("{stem}-fixture"));
    setup.assert_clean(&format!("{name}: the fixture"));

    let mut failures = Vec::new();
    let expected_errors = steps.iter().filter(|s| !s.expected.is_empty()).count();
    for (n, step) in steps.iter().enumerate() {
        let at = format!("{name}:{}", step.line);
        let script = format!("{}{}", load_line(), step.sql);
        let run = sqlite3(&db, &script, tmp, &format!("{stem}-{n}"));
        if step.expected.is_empty() {
            if !run.status.success() || !run.stderr.is_empty() {
                failures.push(format!(
                    "{at}: expected success, got {}: {}",
                    run.status,
                    run.stderr.trim_end()
                ));
            }
            for line in failed_checks(&run.stdout) {
                failures.push(format!("{at}: failed: {line}"));
            }
            continue;
        }
        // "error near line 2" is the statement's own error, not the .load's.
        let statement_failed = !run.status.success() && run.stderr.contains("error near line 2:");
        let missing: Vec<&String> = step
            .expected
            .iter()
            .filter(|s| !run.stderr.contains(s.as_str()))
            .collect();
        if !statement_failed || !missing.is_empty() {
            failures.push(format!(
                "{at}: expected an error containing {:?}, got exit {} and stderr: {}\n  statement: {}",
                step.expected,
                run.status,
                run.stderr.trim_end(),
                step.sql.trim_end()
            ));
        }
    }
    (failures, expected_errors)
}
