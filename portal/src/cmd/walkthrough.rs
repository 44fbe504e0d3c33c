//! `consent-portal walkthrough`: runs sql/walkthrough.sql on a new sample
//! register, statement by statement, and prints what a DBA would see in the
//! sqlite3 shell.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use rusqlite::types::Value;
use rusqlite::Connection;

const WALKTHROUGH: &str = include_str!("../../../sql/walkthrough.sql");

#[derive(clap::Args)]
pub struct Args {
    /// Where to create the sample billing database (must not exist yet).
    /// Default: a new file in the system's temporary folder.
    #[arg(long)]
    db: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let path = match &args.db {
        Some(path) => path.clone(),
        None => std::env::temp_dir().join(format!("consent-walkthrough-{}.db", std::process::id())),
    };
    if path.exists() {
        bail!(
            "{} already exists; the walk-through makes its own sample register, so name a new file with --db",
            path.display()
        );
    }
    let conn =
        Connection::open(&path).with_context(|| format!("could not create {}", path.display()))?;
    consent_extension::register(&conn).context("could not add the consent functions")?;
    let mut out = String::new();
    for step in steps(WALKTHROUGH) {
        let mut stmt = conn
            .prepare(&step.sql)
            .with_context(|| format!("the walk-through statement {}", step.sql))?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query([])
            .with_context(|| format!("running: {}", step.sql))?;
        let quiet = columns == 0;
        if !quiet {
            if !step.comment.is_empty() {
                writeln!(out, "\n-- {}", step.comment)?;
            }
            writeln!(out, "sqlite> {}", step.sql)?;
        }
        while let Some(row) = rows.next()? {
            let cells: Vec<String> = (0..columns)
                .map(|i| row.get::<_, Value>(i).map(show))
                .collect::<rusqlite::Result<_>>()?;
            writeln!(out, "{}", cells.join(" | "))?;
        }
    }
    println!(
        "A sample register `kunder` with 4 customers, in {}.",
        path.display()
    );
    print!("{out}");
    println!(
        "\nThe sample register is in {}; open it with:\n  sqlite3 -cmd '.load target/release/libconsent' {}\n(build the extension first with: cargo extension)",
        path.display(),
        path.display()
    );
    Ok(())
}

/// One statement of the script with the comment lines just above it.
struct Step {
    comment: String,
    sql: String,
}

/// Splits the script into statements (a statement ends on a line ending
/// with `;`), each with the comment lines that precede it.
fn steps(script: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let (mut comment, mut sql) = (Vec::new(), String::new());
    for line in script.lines() {
        let trimmed = line.trim();
        if sql.is_empty() {
            if let Some(text) = trimmed.strip_prefix("--") {
                comment.push(text.trim().to_owned());
                continue;
            }
            if trimmed.is_empty() {
                comment.clear();
                continue;
            }
        }
        if !sql.is_empty() {
            sql.push('\n');
        }
        sql.push_str(line);
        if trimmed.ends_with(';') {
            steps.push(Step {
                comment: comment.join(" "),
                sql: std::mem::take(&mut sql),
            });
            comment.clear();
        }
    }
    steps
}

fn show(value: Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Integer(n) => n.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => t,
        Value::Blob(b) => format!("<{} bytes>", b.len()),
    }
}
