//! A deployment in this process: a register, `consent.toml`, a key pair,
//! the collector over real HTTP on an ephemeral port, and one `sync` run at
//! a time through [`consent_portal::sync::Run`] at a clock the test sets.
//! Customers press buttons on the pages sync renders, as in a browser.
//!
//! Also the `[email]` and `[sms]` sections of `consent.toml` that the tests
//! write, here and for the real binary ([`crate::billing`]).

use std::net::TcpListener;
use std::path::Path;

use consent_portal::config::{self, Config};
use consent_portal::keys;
use consent_portal::send::Transports;
use consent_portal::sync::{self, NoProgress};
use rusqlite::Connection;

use crate::collector::RunningCollector;
use crate::press;
use crate::sample::{self, SetUp, KUNDER};
use crate::scratch::Scratch;
use crate::sql;

/// `[email]` written to files in `mail/` (beside consent.toml).
pub const FILE_EMAIL: &str =
    "[email]\nfrom = \"Dahls Rör AB <samtycke@example.se>\"\ntransport = \"file\"\nfile_dir = \"mail\"\n";

/// `[sms]` written to files in `sms/`.
pub const FILE_SMS: &str = "[sms]\nfrom = \"DahlsRor\"\ntransport = \"file\"\nfile_dir = \"sms\"\n";

/// `[email]` over SMTP, without TLS, to the test server on `port`;
/// `timeout_seconds` when given.
pub fn smtp_email(port: u16, concurrency: usize, timeout_seconds: Option<u64>) -> String {
    let mut section = format!(
        "[email]\nfrom = \"Dahls Rör AB <samtycke@example.se>\"\ntransport = \"smtp\"\n\
         smtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\nconcurrency = {concurrency}\n"
    );
    if let Some(seconds) = timeout_seconds {
        section.push_str(&format!("timeout_seconds = {seconds}\n"));
    }
    section
}

/// `[sms]` through an HTTP gateway at `url`.
pub fn http_sms(url: &str, timeout_seconds: u64) -> String {
    format!(
        "[sms]\nfrom = \"DahlsRor\"\ntransport = \"http\"\ngateway_url = \"{url}\"\n\
         timeout_seconds = {timeout_seconds}\n"
    )
}

/// What a [`World`] is made of.
pub struct Spec<'a> {
    /// SQL that makes the register.
    pub register: &'a str,
    /// The consent set-up on it.
    pub set_up: SetUp,
    /// The transports' part of consent.toml; the folders `mail/` and `sms/`
    /// are there for the file transports.
    pub transports: String,
    /// The collector's bearer token for its decision feed.
    pub bearer: Option<&'a str>,
    /// `per_address_per_minute` of the collector, when not the default.
    pub rate: Option<u32>,
}

impl Default for Spec<'_> {
    /// [`KUNDER`] set up with SMS on, messages to files, no bearer token.
    fn default() -> Self {
        Spec {
            register: KUNDER,
            set_up: SetUp::kunder().sms(),
            transports: format!("{FILE_EMAIL}{FILE_SMS}"),
            bearer: None,
            rate: None,
        }
    }
}

/// A deployment in this process; the collector stops when it is dropped.
pub struct World {
    pub dir: Scratch,
    pub config: Config,
    pub conn: Connection,
    /// The collector's address, `http://127.0.0.1:<port>`; also the site's.
    pub base: String,
    /// The real clock when the world was made: a start for the times of a
    /// test whose tokens the collector checks against the real clock.
    pub t0: i64,
    collector: Option<RunningCollector>,
}

impl Drop for World {
    fn drop(&mut self) {
        drop(self.collector.take());
    }
}

impl World {
    pub fn new(label: &str, spec: Spec<'_>) -> World {
        let dir = Scratch::new(label);
        let conn = sample::open(&dir.join("billing.db"));
        conn.execute_batch(spec.register).expect("the register");
        spec.set_up.apply(&conn);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let mut text = config::template("billing.db", &base, &format!("{base}/decision"));
        text.push_str(&spec.transports);
        std::fs::write(dir.join("consent.toml"), text).expect("write consent.toml");
        for outbox in ["mail", "sms"] {
            dir.folder(outbox);
        }
        keys::write_new_key_pair(
            &dir.join("consent-signing.key"),
            &dir.join("consent-verifying.key"),
        )
        .expect("keys");
        let config = Config::load(&dir.join("consent.toml")).expect("consent.toml loads");
        let collector = RunningCollector::for_config(&config, listener, spec.bearer, |app| {
            if let Some(rate) = spec.rate.and_then(std::num::NonZeroU32::new) {
                app.per_address_per_minute = rate;
            }
        });
        World {
            dir,
            config,
            conn,
            base,
            t0: consent_extension::time::now(),
            collector: Some(collector),
        }
    }

    /// The first column of the first row, as [`sql::shown`].
    pub fn sql(&self, sql: &str) -> String {
        sql::text(&self.conn, sql)
    }

    pub fn status(&self, customer: i64) -> String {
        self.sql(&format!("SELECT consent_status({customer})"))
    }

    /// The customer's newest request.
    pub fn request_id(&self, customer: i64) -> i64 {
        sql::int(
            &self.conn,
            &format!(
                "SELECT id FROM consent_request WHERE customer_id = {customer} ORDER BY id DESC LIMIT 1"
            ),
        )
    }

    /// The token of a button (`approve` or `decline`) on the customer's
    /// current page.
    pub fn token(&self, customer: i64, decision: &str) -> String {
        let page_id = self.sql(&format!(
            "SELECT page_id FROM consent_request WHERE customer_id = {customer} ORDER BY id DESC LIMIT 1"
        ));
        let page = self.dir.join("site/c").join(format!("{page_id}.html"));
        press::token_of(&std::fs::read_to_string(page).expect("the page"), decision)
    }

    /// Presses a button on the customer's current page; the collector's
    /// answer.
    pub fn press(&self, customer: i64, decision: &str) -> u16 {
        press::press(&self.base, &self.token(customer, decision))
    }

    /// The page id of the customer's newest receipt: their withdrawal page.
    pub fn withdrawal_page_id(&self, customer: i64) -> String {
        self.sql(&format!(
            "SELECT n.page_id FROM consent_notice AS n JOIN consent_request AS r ON r.id = n.request_id \
             WHERE r.customer_id = {customer} AND n.kind = 'receipt' ORDER BY n.id DESC LIMIT 1"
        ))
    }

    /// The customer's withdrawal page as render wrote it, if it is there.
    pub fn withdrawal_page(&self, customer: i64) -> Option<String> {
        let page = self
            .dir
            .join("site/w")
            .join(format!("{}.html", self.withdrawal_page_id(customer)));
        std::fs::read_to_string(page).ok()
    }

    /// Presses the one button of the customer's withdrawal page; the
    /// collector's answer.
    pub fn withdraw(&self, customer: i64) -> u16 {
        let page = self
            .withdrawal_page(customer)
            .expect("the customer has a withdrawal page");
        press::press(&self.base, &press::token_of(&page, "withdraw"))
    }

    /// The signing key of this world's portal.
    pub fn signer(&self) -> consent_portal::token::Signer {
        keys::load_signer(&self.config.resolve(&self.config.keys.signing_key)).expect("signer")
    }

    /// The verifying keys of this world's collector.
    pub fn verifier(&self) -> consent_portal::token::Verifier {
        keys::load_verifier(&self.config.verifying_key_paths()).expect("verifier")
    }

    /// Posts a button's token; the collector's answer.
    pub fn press_token(&self, token: &str) -> u16 {
        press::press(&self.base, token)
    }

    /// POSTs any form to the collector; its answer.
    pub fn post(&self, fields: &[(&str, &str)]) -> u16 {
        press::post(&self.base, fields)
    }

    /// One sync run at `now`.
    pub fn sync(&self, now: i64) -> sync::Summary {
        run_sync(&self.conn, &self.config, now, false)
    }

    /// The contents of the messages in an outbox folder (`mail`, `sms`),
    /// sorted.
    pub fn files(&self, outbox: &str) -> Vec<String> {
        let mut contents: Vec<String> = std::fs::read_dir(self.dir.join(outbox))
            .expect("the outbox")
            .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("a message"))
            .collect();
        contents.sort();
        contents
    }

    /// The collector's inbox, on a connection of its own.
    pub fn inbox(&self) -> Connection {
        Connection::open(self.config.resolve(&self.config.collector.inbox)).expect("the inbox")
    }

    /// How many decisions the collector stored.
    pub fn stored(&self) -> i64 {
        sql::int(&self.inbox(), "SELECT count(*) FROM decision")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// One sync run on `conn` with the keys and transports of `config`.
pub fn run_sync(conn: &Connection, config: &Config, now: i64, dry_run: bool) -> sync::Summary {
    let signer = keys::load_signer(&config.resolve(&config.keys.signing_key)).expect("signer");
    let verifier = keys::load_verifier(&config.verifying_key_paths()).expect("verifier");
    let transports = Transports::from_config(config).expect("transports");
    sync::Run {
        conn,
        config,
        signer: &signer,
        verifier: &verifier,
        transports: &transports,
        bearer: None,
        progress: &NoProgress,
        now,
        dry_run,
    }
    .run()
    .expect("sync")
}
