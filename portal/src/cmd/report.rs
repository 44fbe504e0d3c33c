//! `consent-portal report`: one self-contained HTML page for the business
//! owner (counts per status, requests per week, approval rate per channel,
//! customers in error), written atomically to `--out` or to stdout.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use consent_portal::config::Config;
use consent_portal::templates::Templates;
use consent_portal::{report, site};

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// Where to write the page (an existing file is replaced); `-` writes
    /// it to stdout.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let conn = super::open_database(&config)?;
    let overrides = config.site.templates.as_ref().map(|t| config.resolve(t));
    let templates =
        Templates::load(overrides.as_deref()).context("loading the report's template")?;
    let now = consent_extension::time::now();
    let gathered = report::gather(&conn, now).context("reading the report")?;
    let html = report::to_html(&gathered, &templates).context("making the report")?;
    if args.out.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(html.as_bytes())?;
        stdout.flush()?;
        return Ok(());
    }
    if args.out.is_dir() {
        anyhow::bail!(
            "{} is a folder; name the file to write, e.g. --out {}",
            args.out.display(),
            args.out.join("report.html").display()
        );
    }
    site::write_atomically(&args.out, html.as_bytes()).with_context(|| {
        format!(
            "cannot write the report to {}; check that its folder exists and is writable",
            args.out.display()
        )
    })?;
    println!("report written to {}", args.out.display());
    Ok(())
}
