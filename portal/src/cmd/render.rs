//! `consent-portal render`: writes the static site for every pending
//! request.

use std::path::PathBuf;

use anyhow::Result;
use consent_portal::config::Config;
use consent_portal::keys;
use consent_portal::sync::render;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let signer = keys::load_signer(&config.resolve(&config.keys.signing_key))?;
    let conn = super::open_database(&config)?;
    let started = std::time::Instant::now();
    let progress = super::Bar::default();
    let summary = render::render_with_progress(
        &conn,
        &config,
        &signer,
        consent_extension::time::now(),
        &progress,
    )?;
    progress.bar.finish_and_clear();
    println!(
        "{} in {}: {} written, {} unchanged, {} removed, {} ({:.1} s)",
        count(summary.pages, "pending page", "pending pages"),
        config.site_dir().display(),
        count(summary.written, "file", "files"),
        summary.unchanged,
        summary.removed,
        count(summary.new_page_ids, "new page id", "new page ids"),
        started.elapsed().as_secs_f64()
    );
    for skipped in &summary.skipped {
        println!("  skipped: {skipped}");
    }
    Ok(())
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
