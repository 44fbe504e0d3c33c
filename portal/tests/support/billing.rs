//! A billing register on disk, set up for consent, with `consent.toml` and a
//! key pair beside it: what the process-level tests (faults, crashes) run
//! the real `consent-portal sync` on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use consent_portal::collector::Inbox;
use consent_portal::config::{self, Config};
use consent_portal::keys;
use rusqlite::Connection;

use super::smtp::SmtpServer;

pub const BIN: &str = env!("CARGO_BIN_EXE_consent-portal");

/// `[email]` over SMTP to the test server on `port`.
pub fn smtp_section(port: u16, concurrency: usize, timeout_seconds: u64) -> String {
    format!(
        "[email]\nfrom = \"Dahls Rör AB <samtycke@example.se>\"\ntransport = \"smtp\"\n\
         smtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\n\
         concurrency = {concurrency}\ntimeout_seconds = {timeout_seconds}\n"
    )
}

/// `[sms]` through an HTTP gateway at `url`.
pub fn sms_section(url: &str, timeout_seconds: u64) -> String {
    format!(
        "[sms]\nfrom = \"DahlsRor\"\ntransport = \"http\"\ngateway_url = \"{url}\"\n\
         timeout_seconds = {timeout_seconds}\n"
    )
}

pub struct Register {
    pub dir: PathBuf,
}

impl Register {
    /// Customers 1..=`emails` with an e-mail address, then `mobiles` with
    /// only a mobile number (SMS is on), all queued. `sections` is the
    /// transports' part of `consent.toml`; `sources` the decision sources
    /// (empty: the local inbox, created empty here).
    pub fn create(
        dir: &Path,
        emails: usize,
        mobiles: usize,
        sections: &str,
        sources: &[String],
    ) -> Register {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("register dir");
        let conn = Connection::open(dir.join("billing.db")).expect("open");
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
        consent_extension::register(&conn).expect("functions");
        for sql in [
            "SELECT consent_init('kunder', 'nr', 'epost', 'mobil', 'namn')",
            "SELECT consent_setting('business_name', 'Dahls Rör AB')",
            "SELECT consent_setting('info_text', 'Vi sparar namn och e-post för fakturering.')",
            "SELECT consent_setting('sms_enabled', 1)",
            "SELECT consent_queue_all()",
        ] {
            conn.query_row(sql, [], |_| Ok(())).expect(sql);
        }
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
        text.push_str(sections);
        std::fs::write(dir.join("consent.toml"), text).expect("config");
        keys::write_new_key_pair(
            &dir.join("consent-signing.key"),
            &dir.join("consent-verifying.key"),
        )
        .expect("keys");
        let config = Config::load(&dir.join("consent.toml")).expect("config loads");
        Inbox::open(&config.resolve(&config.collector.inbox)).expect("inbox");
        Register {
            dir: dir.to_owned(),
        }
    }

    /// A connection with the functions, as the billing application has.
    pub fn conn(&self) -> Connection {
        let conn = Connection::open(self.dir.join("billing.db")).expect("open");
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        consent_extension::register(&conn).expect("functions");
        conn
    }

    /// `consent-portal sync --json`, as a command to run or to start.
    pub fn sync_command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("sync")
            .arg("--config")
            .arg(self.dir.join("consent.toml"))
            .arg("--json");
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
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT nr, consent_status(nr) FROM kunder ORDER BY nr")
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("statuses");
        rows.map(|r| r.expect("row")).collect()
    }

    /// The current request's id and its error reason, per customer.
    pub fn requests(&self) -> BTreeMap<i64, (i64, Option<String>)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT customer_id, id, reason FROM consent_request AS r
                 WHERE id = (SELECT max(id) FROM consent_request WHERE customer_id = r.customer_id)",
            )
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .expect("requests");
        rows.map(|r| r.expect("row")).collect()
    }

    pub fn integrity(&self) -> String {
        self.conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check")
    }
}

/// (request id, Message-ID) of every message the server accepted.
pub fn accepted_messages(server: &SmtpServer) -> Vec<(i64, String)> {
    server
        .received()
        .iter()
        .map(|record| {
            let id = message_id_of(Path::new(record["eml"].as_str().expect("eml path")));
            let request = request_of_message_id(&id).expect("request id in the Message-ID");
            (request, id)
        })
        .collect()
}

/// The request id in a Message-ID `<consent-<request>-<page>@domain>`.
pub fn request_of_message_id(message_id: &str) -> Option<i64> {
    message_id
        .trim_matches(|c| c == '<' || c == '>')
        .strip_prefix("consent-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// The Message-ID header of a stored `.eml` file.
pub fn message_id_of(eml: &Path) -> String {
    let text = std::fs::read_to_string(eml).expect("read eml");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("Message-ID: ")
                .or_else(|| l.strip_prefix("Message-Id: "))
        })
        .unwrap_or_else(|| panic!("no Message-ID in {}", eml.display()))
        .trim()
        .to_owned()
}
