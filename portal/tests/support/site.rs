//! A billing register with pending requests, a configuration and a key
//! pair in a temporary folder, ready to render.

use std::path::PathBuf;

use consent_portal::config::{self, Config};
use consent_portal::sync::render::{self, Summary};
use consent_portal::token::{Signer, Verifier};
use consent_portal::{keys, site};
use rusqlite::Connection;

pub const NOW: i64 = 1_796_000_000; // 2026-11-29T...

pub struct Fixture {
    pub dir: PathBuf,
    pub conn: Connection,
    pub config: Config,
    pub signer: Signer,
    pub verifier: Verifier,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn fixture(name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("consent-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conn = Connection::open(dir.join("billing.db")).expect("open");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);
         INSERT INTO customers VALUES
           (1, 'Anna Andersson', 'anna.andersson@example.se', '070-111 22 33'),
           (2, 'Bo Berg', 'bo.berg@example.se', NULL),
           (3, 'Cecilia Carlsson', NULL, NULL);",
    )
    .expect("fixture");
    consent_extension::register(&conn).expect("register");
    for sql in [
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
        "SELECT consent_setting('business_name', 'Dahls Rör AB')",
        "SELECT consent_setting('info_text', 'Vi sparar namn och e-post för fakturering.')",
        "SELECT consent_queue_all()",
    ] {
        conn.query_row(sql, [], |_| Ok(())).expect(sql);
    }
    std::fs::write(
        dir.join("consent.toml"),
        config::template(
            "billing.db",
            "https://samtycke.example.se",
            "https://insamling.example.se/decision",
        ),
    )
    .expect("config");
    let config = Config::load(&dir.join("consent.toml")).expect("load config");
    keys::write_new_key_pair(
        &dir.join("consent-signing.key"),
        &dir.join("consent-verifying.key"),
    )
    .expect("keys");
    let signer = keys::load_signer(&dir.join("consent-signing.key")).expect("signer");
    let verifier = keys::load_verifier(&[dir.join("consent-verifying.key")]).expect("verifier");
    Fixture {
        dir,
        conn,
        config,
        signer,
        verifier,
    }
}

impl Fixture {
    pub fn render(&self) -> Summary {
        render::render(&self.conn, &self.config, &self.signer, NOW).expect("render")
    }

    pub fn site(&self) -> PathBuf {
        self.dir.join("site")
    }

    pub fn pages(&self) -> Vec<PathBuf> {
        let mut pages: Vec<PathBuf> = std::fs::read_dir(self.site().join(site::PAGES_DIR))
            .expect("pages dir")
            .map(|e| e.expect("entry").path())
            .collect();
        pages.sort();
        pages
    }

    pub fn page_of(&self, customer: i64) -> String {
        let page_id: String = self
            .conn
            .query_row(
                "SELECT page_id FROM consent_request WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1",
                [customer],
                |r| r.get(0),
            )
            .expect("page id");
        std::fs::read_to_string(self.site().join("c").join(format!("{page_id}.html")))
            .expect("page")
    }

    pub fn sql(&self, sql: &str) {
        self.conn.query_row(sql, [], |_| Ok(())).expect(sql);
    }
}
