//! `consent-portal sync`: the billing product's "update consent". Collect
//! and apply decisions, expire, render, send; then a summary.

use std::path::PathBuf;

use anyhow::{bail, Result};
use consent_portal::config::Config;
use consent_portal::send::Transports;
use consent_portal::{collector, keys, sync};

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// Report what would happen; change nothing, write no page, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Print a line on stderr as each step starts (collect, apply, expire,
    /// render, send), for the log of a scheduled run.
    #[arg(long)]
    log_steps: bool,
}

/// Exit code when the run did not do every step (a decision source could
/// not be read); a customer whose message failed is not a failed run.
const INCOMPLETE: i32 = 2;

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let progress = super::Bar {
        log_steps: args.log_steps,
        ..super::Bar::default()
    };
    let summary = run_once(&config, args.dry_run, &progress)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", sync::to_text(&summary));
    }
    if !summary.complete() {
        eprintln!(
            "the run was incomplete: see 'could not collect' above; expiry waits for the next run"
        );
        std::process::exit(INCOMPLETE);
    }
    Ok(())
}

/// One run on a configuration (the demo calls it too).
pub fn run_once(config: &Config, dry_run: bool, progress: &super::Bar) -> Result<sync::Summary> {
    let signer = keys::load_signer(&config.resolve(&config.keys.signing_key))?;
    let verifier = keys::load_verifier(&config.verifying_key_paths())?;
    let transports = Transports::from_config(config)?;
    let conn = super::open_database(config)?;
    let bearer = collector::bearer_token_from_env();
    let summary = sync::Run {
        conn: &conn,
        config,
        signer: &signer,
        verifier: &verifier,
        transports: &transports,
        bearer: bearer.as_deref(),
        progress,
        now: consent_extension::time::now(),
        dry_run,
    }
    .run();
    progress.bar.finish_and_clear();
    match summary {
        Ok(summary) => Ok(summary),
        Err(e) => bail!("sync stopped: {e}"),
    }
}
