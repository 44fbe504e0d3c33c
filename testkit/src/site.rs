//! A site to render: the sample register [`CUSTOMERS`] with its requests
//! queued (Anna and David have e-mail, so two pages), a configuration and a
//! key pair, in a scratch folder.
//!
//! [`CUSTOMERS`]: crate::sample::CUSTOMERS

use std::path::PathBuf;

use consent_portal::config::{self, Config};
use consent_portal::sync::render::{self, Summary};
use consent_portal::token::{Signer, Verifier};
use consent_portal::{keys, site};
use rusqlite::Connection;

use crate::sample::{self, SetUp, BUSINESS_NAME, CUSTOMERS};
use crate::scratch::Scratch;
use crate::sql;

/// The clock the fixture renders at (2026-11-29).
pub const NOW: i64 = 1_796_000_000;

/// Where the pages are published, and where their forms post to.
pub const SITE_URL: &str = "https://samtycke.example.se";
pub const COLLECTOR_URL: &str = "https://insamling.example.se/decision";

pub struct Fixture {
    pub dir: Scratch,
    pub conn: Connection,
    pub config: Config,
    pub signer: Signer,
    pub verifier: Verifier,
}

/// The fixture in a folder of its own.
pub fn fixture(label: &str) -> Fixture {
    let dir = Scratch::new(label);
    let conn = sample::open(&dir.join("billing.db"));
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    SetUp::customers()
        .business_name(BUSINESS_NAME)
        .queue_all()
        .apply(&conn);
    std::fs::write(
        dir.join("consent.toml"),
        config::template("billing.db", SITE_URL, COLLECTOR_URL),
    )
    .expect("write consent.toml");
    let config = Config::load(&dir.join("consent.toml")).expect("load consent.toml");
    let (signer, verifier) = key_pair(&dir);
    Fixture {
        dir,
        conn,
        config,
        signer,
        verifier,
    }
}

/// A new key pair in `dir`, as `consent-portal init` writes it.
pub fn key_pair(dir: &Scratch) -> (Signer, Verifier) {
    let signing = dir.join("consent-signing.key");
    let verifying = dir.join("consent-verifying.key");
    keys::write_new_key_pair(&signing, &verifying).expect("write a key pair");
    (
        keys::load_signer(&signing).expect("the signer"),
        keys::load_verifier(&[verifying]).expect("the verifier"),
    )
}

impl Fixture {
    pub fn render(&self) -> Summary {
        render::render(&self.conn, &self.config, &self.signer, NOW).expect("render")
    }

    pub fn site(&self) -> PathBuf {
        self.dir.join("site")
    }

    /// The consent pages, sorted.
    pub fn pages(&self) -> Vec<PathBuf> {
        let mut pages: Vec<PathBuf> = std::fs::read_dir(self.site().join(site::PAGES_DIR))
            .expect("the pages folder")
            .map(|e| e.expect("entry").path())
            .collect();
        pages.sort();
        pages
    }

    /// Every page a customer can land on: the consent pages, then the
    /// thank-you, expired-link and not-found pages.
    pub fn all_pages(&self) -> Vec<PathBuf> {
        let mut pages = self.pages();
        pages.extend(
            ["thanks.html", "expired.html", "404.html"]
                .iter()
                .map(|p| self.site().join(p)),
        );
        pages
    }

    /// The page of the customer's newest request.
    pub fn page_of(&self, customer: i64) -> String {
        let page_id = sql::text(
            &self.conn,
            &format!(
                "SELECT page_id FROM consent_request WHERE customer_id = {customer} ORDER BY id DESC LIMIT 1"
            ),
        );
        std::fs::read_to_string(self.site().join("c").join(format!("{page_id}.html")))
            .expect("the page")
    }

    pub fn sql(&self, sql: &str) {
        sql::call(&self.conn, sql);
    }
}
