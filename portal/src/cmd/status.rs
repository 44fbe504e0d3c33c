//! `consent-portal status`: counts per status with the register's labels,
//! and the customers in error with their reasons.

use std::path::PathBuf;

use anyhow::{Context, Result};
use consent_portal::config::Config;
use consent_portal::status;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let conn = super::open_database(&config)?;
    let report = status::report(&conn).context("reading the consent overview")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", status::to_text(&report));
    }
    Ok(())
}
