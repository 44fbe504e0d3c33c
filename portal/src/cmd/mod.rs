//! One module per subcommand.

pub mod demo;
pub mod export;
pub mod init;
pub mod render;
pub mod report;
pub mod serve;
pub mod show;
pub mod status;
pub mod sync;
pub mod verify;
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
    let conn =
        Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    consent_extension::register(&conn).context("cannot add the consent functions")?;
    Ok(conn)
}

/// A progress bar on the terminal for renders of many pages (hidden when
/// output is not a terminal, and for a handful of pages); with `log_steps`,
/// also one line on stderr as each step starts, for a scheduler's log.
pub struct Bar {
    pub bar: indicatif::ProgressBar,
    pub log_steps: bool,
}

impl Default for Bar {
    fn default() -> Bar {
        Bar {
            bar: indicatif::ProgressBar::hidden(),
            log_steps: false,
        }
    }
}

impl consent_portal::sync::Progress for Bar {
    fn start(&self, step: &str, items: u64) {
        if self.log_steps {
            eprintln!("step: {step} ({items})");
        }
        self.bar.set_position(0);
        self.bar.set_length(items);
        if items >= 500 {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            self.bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len}, {eta} left")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            self.bar.set_message(step.to_owned());
        } else {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
    }

    fn item_done(&self) {
        self.bar.inc(1);
    }
}
