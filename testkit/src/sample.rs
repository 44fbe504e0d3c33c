//! The sample register the tests meet again and again: the billing
//! application's customers, as SQL, and the consent set-up on top of them
//! (`consent_init`, the settings, queueing).
//!
//! Two shapes of the same legacy register: [`CUSTOMERS`] with English
//! column names and [`KUNDER`] with Swedish ones (a register the DBA did not
//! name for us). Between them they hold every kind of contact a customer
//! can have: e-mail only, a mobile number only, both, neither, and a
//! landline that is no mobile number.

use std::path::Path;

use rusqlite::Connection;

/// The business the sample registers belong to.
pub const BUSINESS_NAME: &str = "Dahls Rör AB";

/// The information text the customers are asked to consent to.
pub const INFO_TEXT: &str = "Vi sparar namn och e-post för fakturering.";

/// `customers (id, name, email, mobile)`: Anna (e-mail), Bo (mobile),
/// Cecilia (neither), David (both). `mobile` has no declared type, so a
/// number stored in it stays a number.
pub const CUSTOMERS: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile);
INSERT INTO customers VALUES
  (1, 'Anna Andersson', 'anna@example.se', NULL),
  (2, 'Bo Berg', NULL, '070-123 45 67'),
  (3, 'Cecilia Carlsson', NULL, NULL),
  (4, 'David Dahl', 'david@example.se', '0709876543');
";

/// `kunder (nr, namn, epost, mobil)`: Anna and Cia (e-mail), Bo (mobile),
/// Dan (a landline: no e-mail, no mobile number), Eva (neither).
pub const KUNDER: &str = "
CREATE TABLE kunder (nr INTEGER PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT);
INSERT INTO kunder VALUES
  (1, 'Anna', 'anna@example.se', NULL),
  (2, 'Bo', NULL, '070-123 45 67'),
  (3, 'Cia', 'cia@example.se', NULL),
  (4, 'Dan', NULL, '08-12 34 56'),
  (5, 'Eva', NULL, NULL);
";

/// `customers (id, name, email, mobile)` with `n` customers numbered from
/// 1, each with an e-mail address (`kund<i>@example.se`) and no mobile
/// number: a register as large as a benchmark wants.
pub fn numbered_customers(n: usize) -> String {
    format!(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO customers SELECT i, 'Kund ' || i, 'kund' || i || '@example.se', NULL FROM n;"
    )
}

/// Opens (or creates) a database file with the consent functions
/// registered, as the billing application's connection would have them.
pub fn open(path: &Path) -> Connection {
    let conn =
        Connection::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    consent_extension::register(&conn).expect("register the consent functions");
    conn
}

/// The consent set-up: `consent_init`, settings, queueing; run in order by
/// [`SetUp::apply`] on a connection with the functions registered.
#[derive(Debug, Clone, Default)]
pub struct SetUp {
    /// Each statement and its one text parameter, if any.
    statements: Vec<(String, Option<String>)>,
}

impl SetUp {
    /// `consent_init(table, id, email, mobile[, name])`.
    pub fn init(table: &str, id: &str, email: &str, mobile: &str, name: Option<&str>) -> SetUp {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut columns = [table, id, email, mobile].map(quote).join(", ");
        if let Some(name) = name {
            columns.push_str(&format!(", {}", quote(name)));
        }
        SetUp::default().then(&format!("SELECT consent_init({columns})"))
    }

    /// [`CUSTOMERS`] set up, with the [`INFO_TEXT`].
    pub fn customers() -> SetUp {
        SetUp::init("customers", "id", "email", "mobile", Some("name")).info_text(INFO_TEXT)
    }

    /// [`KUNDER`] set up, with the [`BUSINESS_NAME`] and the [`INFO_TEXT`].
    pub fn kunder() -> SetUp {
        SetUp::init("kunder", "nr", "epost", "mobil", Some("namn"))
            .business_name(BUSINESS_NAME)
            .info_text(INFO_TEXT)
    }

    /// Only settings and statements, on a register already set up.
    pub fn settings() -> SetUp {
        SetUp::default()
    }

    /// Any statement, run after the ones before.
    pub fn then(mut self, sql: &str) -> SetUp {
        self.statements.push((sql.to_owned(), None));
        self
    }

    fn setting(mut self, key: &str, value: &str) -> SetUp {
        self.statements.push((
            format!("SELECT consent_setting('{key}', ?1)"),
            Some(value.to_owned()),
        ));
        self
    }

    pub fn business_name(self, name: &str) -> SetUp {
        self.setting("business_name", name)
    }

    pub fn info_text(self, text: &str) -> SetUp {
        self.setting("info_text", text)
    }

    /// `sms_enabled = 1`.
    pub fn sms(self) -> SetUp {
        self.then("SELECT consent_setting('sms_enabled', 1)")
    }

    /// `consent_queue_all()`: everyone asked, now.
    pub fn queue_all(self) -> SetUp {
        self.then("SELECT consent_queue_all()")
    }

    /// Runs the statements on `conn`, panicking with the one that failed.
    pub fn apply(&self, conn: &Connection) {
        for (sql, parameter) in &self.statements {
            let done = match parameter {
                Some(value) => conn.query_row(sql, [value], |_| Ok(())),
                None => conn.query_row(sql, [], |_| Ok(())),
            };
            done.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}
