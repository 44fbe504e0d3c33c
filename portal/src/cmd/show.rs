//! `consent-portal show <customer id>`: one customer's consent record, as
//! text in the register's language, or `--json` as `consent_record` gives
//! it.

use std::path::PathBuf;

use anyhow::Result;
use consent_extension::record::Reader;
use consent_extension::Language;
use consent_portal::config::Config;
use consent_portal::records;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// Print the record as JSON (pretty-printed).
    #[arg(long)]
    json: bool,
    /// The customer's id, as the billing table holds it.
    customer: String,
}

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let conn = super::open_database(&config)?;
    let record = records::find(&conn, &Reader::new(), &args.customer)?;
    if args.json {
        println!("{}", record.to_json_pretty());
    } else {
        let language: Language = record.language.parse().unwrap_or_default();
        print!("{}", records::to_text(&record, language));
    }
    Ok(())
}
