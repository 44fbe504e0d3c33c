//! `consent-portal init`: sets up consent in a billing database, writes a
//! commented consent.toml next to it, and makes the signing key pair.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use consent_portal::{config, keys};
use rusqlite::Connection;

#[derive(clap::Args)]
pub struct Args {
    /// The billing database (SQLite file).
    #[arg(long)]
    db: PathBuf,
    /// The table that holds the customers.
    #[arg(long)]
    table: String,
    /// Its unique id column.
    #[arg(long)]
    id: String,
    /// Its e-mail address column.
    #[arg(long)]
    email: String,
    /// Its mobile number column.
    #[arg(long)]
    mobile: String,
    /// Its name column (optional; shown in the overview, never on pages).
    #[arg(long)]
    name: Option<String>,
    /// Its column of the customer's language (optional; `sv`, `en-GB`,
    /// `svenska`, `English`...: pages and messages in that language, else
    /// in the `language` setting).
    #[arg(long)]
    language: Option<String>,
    /// The public address of the site folder (written to consent.toml).
    #[arg(long, default_value = "https://samtycke.example.se")]
    site_url: String,
    /// Where the pages' buttons post decisions (written to consent.toml).
    #[arg(long, default_value = "https://samtycke.example.se/decision")]
    collector_url: String,
}

pub fn run(args: &Args) -> Result<()> {
    if !args.db.is_file() {
        bail!(
            "there is no database at {}; pass the billing application's SQLite file with --db",
            args.db.display()
        );
    }
    config::origin(&args.site_url).map_err(|m| anyhow::anyhow!("--site-url: {m}"))?;
    config::origin(&args.collector_url).map_err(|m| anyhow::anyhow!("--collector-url: {m}"))?;
    let conn =
        Connection::open(&args.db).with_context(|| format!("cannot open {}", args.db.display()))?;
    consent_extension::register(&conn).context("cannot add the consent functions")?;
    let result: String = conn
        .query_row(
            "SELECT consent_init(?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                args.table,
                args.id,
                args.email,
                args.mobile,
                args.name,
                args.language
            ],
            |r| r.get(0),
        )
        .context("consent_init failed")?;
    println!(
        "consent_init: {result} (table {}, id {})",
        args.table, args.id
    );
    drop(conn);

    let dir = match args.db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let config_path = dir.join(config::FILE_NAME);
    if config_path.exists() {
        println!("kept {} as it is", config_path.display());
    } else {
        let db_name = args
            .db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::write(
            &config_path,
            config::template(&db_name, &args.site_url, &args.collector_url),
        )
        .with_context(|| format!("cannot write {}", config_path.display()))?;
        println!(
            "wrote {}: edit the site and collector addresses before the first render",
            config_path.display()
        );
    }
    let loaded = config::Config::load(&config_path)?;
    make_keys(
        &loaded.resolve(&loaded.keys.signing_key),
        &loaded.resolve(&loaded.keys.verifying_keys[0]),
    )?;
    println!(
        "next: set the texts with consent_setting('business_name', ...) and consent_setting('info_text', ...), \
         then run: consent-portal render --config {}",
        config_path.display()
    );
    Ok(())
}

/// Makes the key pair, or keeps a complete existing one; never overwrites.
fn make_keys(signing: &Path, verifying: &Path) -> Result<()> {
    match (signing.exists(), verifying.exists()) {
        (true, true) => {
            // Loading checks the signing key's permissions and format.
            let signer = keys::load_signer(signing)?;
            println!("kept the existing key pair (key id {})", signer.key_id());
        }
        (false, false) => {
            let key_id = keys::write_new_key_pair(signing, verifying)?;
            println!(
                "made a new key pair (key id {key_id}): {} (secret, mode 0600) and {}",
                signing.display(),
                verifying.display()
            );
        }
        _ => bail!(
            "only one of {} and {} exists; restore the missing one from your backup, \
             or move both away to make a new pair (pages signed with the old key then stop working)",
            signing.display(),
            verifying.display()
        ),
    }
    Ok(())
}
