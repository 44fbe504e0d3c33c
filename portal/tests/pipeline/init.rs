//! `consent-portal init` on a billing database: consent_init, a commented
//! consent.toml, and a key pair whose secret half only the owner can read.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use consent_testkit::host::output_text as text;
use consent_testkit::{sql, Scratch};

fn billing(dir: &std::path::Path) -> PathBuf {
    let db = dir.join("billing.db");
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch(
        "CREATE TABLE kunder (kundnr INTEGER PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT)",
    )
    .expect("table");
    db
}

fn init(db: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consent-portal"))
        .arg("init")
        .arg("--db")
        .arg(db)
        .args([
            "--table", "kunder", "--id", "kundnr", "--email", "epost", "--mobile", "mobil",
            "--name", "namn",
        ])
        .args(extra)
        .output()
        .expect("run consent-portal")
}

#[test]
fn init_sets_up_the_database_the_config_and_the_keys() {
    let dir = Scratch::new("init-fresh");
    let db = billing(&dir);
    let out = init(
        &db,
        &[
            "--site-url",
            "https://s.example.se",
            "--collector-url",
            "https://c.example.se/d",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let conn = rusqlite::Connection::open(&db).expect("open");
    let table = sql::text(&conn, "SELECT value FROM consent_meta WHERE key = 'table'");
    assert_eq!(table, "kunder");
    let config = std::fs::read_to_string(dir.join("consent.toml")).expect("config");
    assert!(
        config.contains("database = \"billing.db\"")
            && config.contains("url = \"https://s.example.se\"")
    );
    assert!(
        config.contains("# [email]") && config.contains("# [sms]"),
        "sections for e-mail and SMS"
    );
    consent_portal::config::Config::load(&dir.join("consent.toml"))
        .expect("the written config loads");
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .expect(name)
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("consent-signing.key"), 0o600);
    let secret = std::fs::read_to_string(dir.join("consent-signing.key")).expect("key");
    let seed = secret.lines().nth(1).expect("seed line");
    assert!(!text(&out).contains(seed), "the key is never printed");

    // Again: consent_init runs again, the config and the keys are kept.
    let out = init(&db, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("kept the existing key pair"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("consent-signing.key")).expect("key"),
        secret
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("consent.toml")).expect("config"),
        config
    );

    // Half a pair is never completed behind the user's back.
    std::fs::remove_file(dir.join("consent-verifying.key")).expect("remove");
    let out = init(&db, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("only one of"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("consent-signing.key")).expect("key"),
        secret
    );
}

#[test]
fn init_says_what_is_wrong() {
    let dir = Scratch::new("init-errors");
    let out = init(&dir.join("nothing.db"), &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("there is no database at"),
        "{}",
        text(&out)
    );
    let db = billing(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_consent-portal"))
        .arg("init")
        .arg("--db")
        .arg(&db)
        .args([
            "--table", "kunder", "--id", "kundnr", "--email", "e_post", "--mobile", "mobil",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no column \"e_post\""),
        "{}",
        text(&out)
    );
    assert!(
        !dir.join("consent-signing.key").exists(),
        "no keys for a failed setup"
    );
    let out = init(&db, &["--collector-url", "ftp://x"]);
    assert!(
        !out.status.success() && text(&out).contains("--collector-url"),
        "{}",
        text(&out)
    );
}

#[test]
fn init_records_a_language_column() {
    let dir = Scratch::new("init-language");
    let db = billing(&dir);
    rusqlite::Connection::open(&db)
        .expect("open")
        .execute_batch("ALTER TABLE kunder ADD COLUMN sprak TEXT")
        .expect("a language column");
    let out = init(&db, &["--language", "sprak"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = rusqlite::Connection::open(&db).expect("open");
    assert_eq!(
        sql::text(
            &conn,
            "SELECT value FROM consent_meta WHERE key = 'language_column'"
        ),
        "sprak"
    );
    // A column that is not there is named.
    let out = init(&db, &["--language", "språk"]);
    assert!(
        !out.status.success()
            && text(&out).contains("no column \"språk\" for the customer's language"),
        "{}",
        text(&out)
    );
    // Without it, it is forgotten.
    let out = init(&db, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        sql::text(
            &conn,
            "SELECT value FROM consent_meta WHERE key = 'language_column'"
        ),
        "NULL"
    );
}
