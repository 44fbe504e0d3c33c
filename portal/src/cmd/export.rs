//! `consent-portal export`: every customer's consent record
//! (`consent_record`), one pretty-printed JSON file per customer in a
//! folder, or JSON Lines on stdout. Records are personal data: the folder
//! is made for its owner only (0700), and each file too (0600).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use consent_extension::record::{self, Reader};
use consent_extension::ConsentError;
use consent_portal::config::Config;
use consent_portal::records;
use consent_portal::site;
use consent_portal::sync::Progress;
use rusqlite::types::Value;
use rusqlite::Connection;

use super::Bar;

/// How many customer ids are read at a time: the list is read page by
/// page, and no record is kept once written.
const PAGE: usize = 1000;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// Write one file per customer, `<customer id>.json`, into this folder
    /// (made with mode 0700 when missing). Without it, one record per line
    /// on stdout (JSON Lines).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also the customers never asked (status `missing`, no request).
    #[arg(long)]
    all: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let conn = super::open_database(&config)?;
    let total = record::count(&conn, args.all)?;
    let bar = Bar::default();
    match &args.out {
        Some(folder) => {
            make_private_folder(folder)?;
            let written = each_record(&conn, args.all, &bar, total, |id, record| {
                let path = folder.join(records::file_name(id));
                let mut bytes = record.to_json_pretty().into_bytes();
                bytes.push(b'\n');
                site::write_private_atomically(&path, &bytes)?;
                Ok(())
            })?;
            bar.bar.finish_and_clear();
            eprintln!(
                "wrote {written} record{} to {}",
                if written == 1 { "" } else { "s" },
                folder.display()
            );
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let result = each_record(&conn, args.all, &bar, total, |_, record| {
                writeln!(out, "{}", record.to_json())?;
                Ok(())
            })
            .and_then(|n| {
                out.flush()?;
                Ok(n)
            });
            bar.bar.finish_and_clear();
            let written = match result {
                Ok(n) => n,
                // A reader that stopped early (`| head`) is not a failure.
                Err(e) if is_broken_pipe(&e) => return Ok(()),
                Err(e) => return Err(e),
            };
            eprintln!(
                "wrote {written} record{} to stdout",
                if written == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

/// Reads each customer's record, in id order, and hands it to `write`;
/// returns how many were written. Each record is read in its own short
/// read transaction (one consistent record; the billing application is
/// never blocked for longer than one record takes).
fn each_record(
    conn: &Connection,
    all: bool,
    bar: &Bar,
    total: u64,
    mut write: impl FnMut(&Value, &record::Record) -> Result<()>,
) -> Result<u64> {
    let reader = Reader::new();
    bar.start("export", total);
    let mut written = 0;
    let mut after: Option<Value> = None;
    loop {
        let ids = record::customers(conn, after.as_ref(), PAGE, all)?;
        for id in &ids {
            let tx = conn.unchecked_transaction()?;
            let found = reader.record(conn, id);
            tx.commit()?;
            match found {
                Ok(record) => {
                    write(id, &record)?;
                    written += 1;
                }
                // Removed from the billing table since the page was read.
                Err(ConsentError::UnknownCustomer { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            bar.item_done();
        }
        match ids.last() {
            Some(last) if ids.len() == PAGE => after = Some(last.clone()),
            _ => break,
        }
    }
    Ok(written)
}

/// Makes the export folder for its owner only. A folder that is there
/// already is used as it is; a warning says when others may read it.
fn make_private_folder(folder: &Path) -> Result<()> {
    match fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: {} can be read by others (mode {:o}); consent records are personal data",
                    folder.display(),
                    meta.permissions().mode() & 0o777
                );
            }
            Ok(())
        }
        Ok(_) => bail!("{} is not a folder", folder.display()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .with_context(|| format!("cannot create {}", folder.display())),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", folder.display())),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
