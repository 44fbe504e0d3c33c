//! docs/drivers.md, run: every snippet on the page runs through its
//! driver on a fresh register, with the page's placeholder paths replaced,
//! and prints exactly the output shown under it; the register then holds
//! what the snippet did.
//!
//! A snippet is the fenced block right under `<!-- snippet: NAME -->`, the
//! output the block under `<!-- prints: NAME -->`. Each test below runs
//! the snippets of one driver; [`every_snippet_on_the_page_is_run`] keeps
//! the page and this list of names in step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use consent_testkit::host::run;
use consent_testkit::sample::{self, SetUp, INFO_TEXT};
use consent_testkit::shim::libconsent;
use consent_testkit::tools::{sqlite_jdbc_jar, PYTHON_THAT_LOADS_EXTENSIONS};
use consent_testkit::{repo_root, require, sql, Scratch, Tool};

const PAGE: &str = "docs/drivers.md";

/// Every snippet and every output the tests below run and compare.
const RUN: [&str; 16] = [
    "snippet: sqlite3",
    "prints: sqlite3",
    "snippet: odbc-ini",
    "snippet: odbc",
    "prints: odbc",
    "snippet: php-ini",
    "snippet: php-sqlite3",
    "prints: php-sqlite3",
    "snippet: pdo-command",
    "snippet: pdo-status",
    "prints: pdo-status",
    "snippet: java",
    "snippet: java-run",
    "prints: java-run",
    "snippet: python",
    "prints: python",
];

/// The Debian path of the JDBC driver's jar, as the page writes it.
const PAGE_JDBC_JAR: &str = "/usr/share/java/sqlite-jdbc.jar";

/// The blocks of the page under a `<!-- snippet: ... -->` or
/// `<!-- prints: ... -->` marker, by marker (`snippet: odbc`), with the
/// line the block starts on.
fn blocks() -> BTreeMap<String, (usize, String)> {
    let path = repo_root().join(PAGE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let mut found = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(marker) = lines[i]
            .trim()
            .strip_prefix("<!-- ")
            .and_then(|rest| rest.strip_suffix(" -->"))
            .filter(|m| m.starts_with("snippet: ") || m.starts_with("prints: "))
        else {
            i += 1;
            continue;
        };
        i += 1;
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
        assert!(
            i < lines.len() && lines[i].starts_with("```"),
            "{PAGE} line {i}: `<!-- {marker} -->` is not followed by a fenced block"
        );
        let start = i + 1;
        let end = (start..lines.len())
            .find(|&j| lines[j].starts_with("```"))
            .unwrap_or_else(|| panic!("{PAGE} line {start}: the block is not closed"));
        let mut block = lines[start..end].join("\n");
        block.push('\n');
        let earlier = found.insert(marker.to_owned(), (start, block));
        assert!(earlier.is_none(), "{PAGE}: `{marker}` twice");
        i = end + 1;
    }
    found
}

/// A block of the page, by marker.
fn block(marker: &str) -> String {
    blocks()
        .remove(marker)
        .unwrap_or_else(|| panic!("{PAGE} has no `<!-- {marker} -->` block"))
        .1
}

/// A register for the page: `kunder` as in the README, set up, customer
/// 1001 never asked.
struct Register {
    dir: Scratch,
    db: PathBuf,
}

impl Register {
    fn new(label: &str) -> Register {
        let dir = Scratch::new(label);
        let db = dir.join("billing.db");
        let conn = sample::open(&db);
        conn.execute_batch(
            "CREATE TABLE kunder (kundnr INTEGER PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT);
             INSERT INTO kunder VALUES
               (1001, 'Anna Andersson', 'anna@example.se', NULL),
               (1002, 'Bo Berg', NULL, '070-123 45 67');",
        )
        .expect("kunder");
        SetUp::init("kunder", "kundnr", "epost", "mobil", Some("namn"))
            .info_text(INFO_TEXT)
            .apply(&conn);
        Register { dir, db }
    }

    /// A snippet with the page's placeholders replaced by this register's
    /// paths, written to `file` in the scratch folder.
    fn write(&self, marker: &str, file: &str) -> PathBuf {
        let lib = libconsent();
        let text = block(marker)
            .replace("/path/to/billing.db", &self.db.display().to_string())
            .replace(
                "/path/to/libconsent",
                &lib.with_extension("").display().to_string(),
            )
            .replace(
                "/path/to/extensions",
                &lib.parent().expect("a folder").display().to_string(),
            )
            .replace(PAGE_JDBC_JAR, &sqlite_jdbc_jar().display().to_string());
        assert!(
            !text.contains("/path/to/"),
            "`{marker}` in {PAGE} has a placeholder the test does not know:\n{text}"
        );
        let path = self.dir.join(file);
        std::fs::write(&path, text).expect("the snippet");
        path
    }

    /// Runs `command` in the scratch folder; it must exit 0, write nothing
    /// on stderr, and print what the page shows under `prints`, if given.
    fn expect(&self, mut command: Command, label: &str, prints: Option<&str>) {
        command.current_dir(self.dir.path());
        let run = run(command, None, &self.dir, label);
        run.assert_clean(label);
        let wanted = prints.map_or_else(String::new, |marker| block(&format!("prints: {marker}")));
        assert_eq!(
            run.stdout, wanted,
            "{label}: what it printed, and what {PAGE} shows"
        );
    }

    /// Customer 1001's status, read afterwards: what the snippet did stayed.
    fn status(&self) -> String {
        sql::text(&sample::open(&self.db), "SELECT consent_status(1001)")
    }
}

fn sh(script: &Path) -> Command {
    let mut command = Command::new("sh");
    command.arg("-eu").arg(script);
    command
}

#[test]
fn every_snippet_on_the_page_is_run() {
    let on_page: Vec<String> = blocks().into_keys().collect();
    let mut run: Vec<String> = RUN.iter().map(|m| (*m).to_owned()).collect();
    run.sort();
    assert_eq!(
        on_page, run,
        "the snippets of {PAGE} and the ones its test runs"
    );
    let text = std::fs::read_to_string(repo_root().join(PAGE)).expect("the page");
    for placeholder in [
        "/path/to/billing.db",
        "/path/to/libconsent",
        "/path/to/extensions",
    ] {
        assert!(
            text.contains(&format!("`{placeholder}`")),
            "{PAGE} explains {placeholder}"
        );
    }
}

#[test]
fn the_sqlite3_shell_snippet_runs() {
    if !require(&[Tool::Sqlite3Shell]) {
        return;
    }
    let register = Register::new("docs-sqlite3");
    let script = register.write("snippet: sqlite3", "snippet.sh");
    register.expect(sh(&script), "sqlite3", Some("sqlite3"));
    assert_eq!(register.status(), "queued");
}

#[test]
fn the_odbc_snippet_runs() {
    if !require(&[Tool::Odbc]) {
        return;
    }
    let register = Register::new("docs-odbc");
    let ini = register.write("snippet: odbc-ini", "odbc.ini");
    let script = register.write("snippet: odbc", "snippet.sh");
    let mut command = sh(&script);
    command.env("ODBCINI", &ini);
    register.expect(command, "odbc", Some("odbc"));
    assert_eq!(register.status(), "queued");
}

#[test]
fn the_php_sqlite3_snippet_runs() {
    if !require(&[Tool::Php]) {
        return;
    }
    let register = Register::new("docs-php");
    let ini = register.write("snippet: php-ini", "php.ini");
    let program = register.write("snippet: php-sqlite3", "snippet.php");
    let mut command = Command::new("php");
    command.arg("-c").arg(&ini).arg(&program);
    register.expect(command, "php-sqlite3", Some("php-sqlite3"));
    assert_eq!(register.status(), "queued");
}

#[test]
fn the_pdo_snippets_run() {
    if !require(&[Tool::Php]) {
        return;
    }
    let register = Register::new("docs-pdo");
    let insert = register.write("snippet: pdo-command", "command.php");
    let mut command = Command::new("php");
    command.arg(&insert);
    register.expect(command, "pdo-command", None);
    // Only a command so far: nothing is applied without the extension.
    assert_eq!(register.status(), "missing");
    let conn = sample::open(&register.db);
    assert_eq!(sql::int(&conn, "SELECT consent_apply_commands()"), 1);
    drop(conn);
    let status = register.write("snippet: pdo-status", "status.php");
    let mut command = Command::new("php");
    command.arg(&status);
    register.expect(command, "pdo-status", Some("pdo-status"));
    assert_eq!(register.status(), "queued");
}

#[test]
fn the_java_snippet_runs() {
    if !require(&[Tool::JavaSqliteJdbc]) {
        return;
    }
    let register = Register::new("docs-java");
    register.write("snippet: java", "Consent.java");
    let script = register.write("snippet: java-run", "snippet.sh");
    register.expect(sh(&script), "java-run", Some("java-run"));
    assert_eq!(register.status(), "queued");
}

#[test]
fn the_python_snippet_runs() {
    if !require(&[Tool::DebianPython]) {
        return;
    }
    let register = Register::new("docs-python");
    let program = register.write("snippet: python", "snippet.py");
    let mut command = Command::new(PYTHON_THAT_LOADS_EXTENSIONS);
    command.arg(&program);
    register.expect(command, "python", Some("python"));
    assert_eq!(register.status(), "queued");
}
