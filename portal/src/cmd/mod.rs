//! One module per subcommand.

pub mod init;
pub mod render;
pub mod status;
pub mod walkthrough;

use std::time::Duration;

use anyhow::{Context, Result};
use consent_portal::config::Config;
use rusqlite::Connection;

/// Opens the billing database of a configuration with the consent
/// functions added. The busy timeout lets the billing application keep
/// working while we run: we wait for its locks rather than fail.
pub fn open_database(config: &Config) -> Result<Connection> {
    let path = config.database_path();
    let conn = Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    consent_core::register(&conn).context("cannot add the consent functions")?;
    Ok(conn)
}
