//! A register on disk for the real `consent-portal` program: customers
//! numbered 1, 2, ... in `kunder`, set up and queued, with `consent.toml`,
//! a key pair and an empty inbox beside it. What the process-level tests
//! (faults, crashes, throughput) run `consent-portal sync` on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use consent_portal::collector::Inbox;
use consent_portal::config::{self, Config};
use consent_portal::keys;
use rusqlite::Connection;

use crate::sample::{self, SetUp};
use crate::scratch::Scratch;
use crate::sql;

/// The `consent-portal` program cargo built for the test (or benchmark)
/// running: it sits in the profile folder above the test's `deps/`.
pub fn portal_program() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let program = profile.join(format!("consent-portal{}", std::env::consts::EXE_SUFFIX));
    assert!(
        program.is_file(),
        "{} is not there: cargo builds it for the portal's tests and benches",
        program.display()
    );
    program
}

/// The real `consent-portal` with `args`, as a command to add to and run.
pub fn portal(args: &[&str]) -> Command {
    let mut command = Command::new(portal_program());
    command.args(args);
    command
}

/// A register in a scratch folder, for the real program.
pub struct Register {
    pub dir: Scratch,
}

impl Register {
    /// Customers 1..=`emails` with an e-mail address, then `mobiles` with
    /// only a mobile number (SMS is on), all queued. `transports` is the
    /// transports' part of `consent.toml` (see [`crate::world::smtp_email`]);
    /// `sources` the decision sources (empty: the local inbox, created
    /// empty here).
    pub fn create(
        label: &str,
        emails: usize,
        mobiles: usize,
        transports: &str,
        sources: &[String],
    ) -> Register {
        let dir = Scratch::new(label);
        let conn = sample::open(&dir.join("billing.db"));
        conn.execute_batch(
            "CREATE TABLE kunder (nr INTEGER PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT);",
        )
        .expect("table");
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2)
             INSERT INTO kunder
             SELECT i, 'Kund ' || i,
                    CASE WHEN i <= ?1 THEN 'kund' || i || '@example.se' END,
                    CASE WHEN i > ?1 THEN '070-' || (1000000 + i) END
             FROM n WHERE i <= ?1 + ?2",
            [emails as i64, mobiles as i64],
        )
        .expect("customers");
        SetUp::kunder().sms().queue_all().apply(&conn);
        let mut text = config::template(
            "billing.db",
            "https://samtycke.example.se",
            "https://samtycke.example.se/decision",
        );
        if !sources.is_empty() {
            let list: Vec<String> = sources.iter().map(|s| format!("{s:?}")).collect();
            text = text.replace(
                "\nsources = []\n",
                &format!("\nsources = [{}]\n", list.join(", ")),
            );
        }
        text.push_str(transports);
        std::fs::write(dir.join("consent.toml"), text).expect("config");
        keys::write_new_key_pair(
            &dir.join("consent-signing.key"),
            &dir.join("consent-verifying.key"),
        )
        .expect("keys");
        let config = Config::load(&dir.join("consent.toml")).expect("config loads");
        Inbox::open(&config.resolve(&config.collector.inbox)).expect("inbox");
        Register { dir }
    }

    /// `consent.toml`.
    pub fn config(&self) -> PathBuf {
        self.dir.join("consent.toml")
    }

    /// A connection with the functions, as the billing application has.
    pub fn conn(&self) -> Connection {
        let conn = sample::open(&self.dir.join("billing.db"));
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        conn
    }

    /// `consent-portal sync --json`, as a command to run or to start.
    pub fn sync_command(&self) -> Command {
        let mut command = portal(&["sync", "--config"]);
        command.arg(self.config()).arg("--json");
        command
    }

    /// Runs sync to the end.
    pub fn sync(&self) -> Output {
        self.sync_command()
            .output()
            .expect("run consent-portal sync")
    }

    /// Every customer's status.
    pub fn statuses(&self) -> BTreeMap<i64, String> {
        sql::rows(
            &self.conn(),
            "SELECT nr, consent_status(nr) FROM kunder ORDER BY nr",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .into_iter()
        .collect()
    }

    /// The current request's id and its error reason, per customer.
    pub fn requests(&self) -> BTreeMap<i64, (i64, Option<String>)> {
        sql::rows(
            &self.conn(),
            "SELECT customer_id, id, reason FROM consent_request AS r
             WHERE id = (SELECT max(id) FROM consent_request WHERE customer_id = r.customer_id)",
            [],
            |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
        )
        .into_iter()
        .collect()
    }

    pub fn integrity(&self) -> String {
        sql::text(&self.conn(), "PRAGMA integrity_check")
    }
}
