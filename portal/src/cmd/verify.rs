//! `consent-portal verify`: checks that the consent log is intact (the hash
//! chain, each request's status against its last event, the stored texts)
//! and that every head `sync` recorded outside the database is still in it.

use std::path::PathBuf;

use anyhow::{bail, Result};
use consent_portal::config::Config;
use consent_portal::log_heads;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let conn = super::open_database(&config)?;
    let heads_path = log_heads::path_in(&config.dir);
    let verification = log_heads::verify(&conn, &heads_path)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verification)?);
    } else {
        print!("{}", log_heads::to_text(&verification, &heads_path));
    }
    if !verification.ok() {
        bail!("the consent log does not verify; see above");
    }
    Ok(())
}
