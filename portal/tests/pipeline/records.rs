//! `consent-portal export` and `show`, the real program on a register that
//! went through real syncs: pages rendered, messages sent (to files), a
//! customer approving and another declining on their pages through the
//! collector.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use consent_testkit::billing::portal;
use consent_testkit::sample::{SetUp, BUSINESS_NAME, INFO_TEXT};
use consent_testkit::sql;
use consent_testkit::world::{Spec, World};
use serde_json::Value as Json;

/// A synced register: Anna (1) approved on her page, Cia (3) declined on
/// hers, Bo (2) sent an SMS and not yet answered, Dan (4) and Eva (5) in
/// error (no way to reach them); Fia (6) added afterwards, never asked.
fn synced(label: &str) -> World {
    let w = World::new(label, Spec::default());
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0 - 60));
    w.sync(w.t0);
    assert_eq!(w.press(1, "approve"), 303);
    assert_eq!(w.press(3, "decline"), 303);
    w.sync(w.t0 + 60);
    assert_eq!(
        (w.status(1), w.status(2), w.status(3), w.status(4)),
        (
            "approved".into(),
            "sent".into(),
            "denied".into(),
            "error".into()
        )
    );
    w.conn
        .execute_batch("INSERT INTO kunder VALUES (6, 'Fia', 'fia@example.se', NULL)")
        .expect("a new customer");
    w
}

/// Runs the real program with `args` and `--config` of the world.
fn run(w: &World, args: &[&str]) -> Output {
    let config = w.dir.join("consent.toml");
    let mut all = args.to_vec();
    all.extend(["--config", config.to_str().expect("path")]);
    portal(&all).output().expect("run consent-portal")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "failed:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// Every page id the register has: none may appear in a record.
fn page_ids(w: &World) -> Vec<String> {
    let ids: Vec<String> = sql::column(
        &w.conn,
        "SELECT page_id FROM consent_request WHERE page_id IS NOT NULL",
    );
    assert!(ids.len() >= 3, "the syncs made pages: {ids:?}");
    ids
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("the export folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn export_writes_one_private_file_per_customer_asked() {
    let w = synced("records-export");
    let out = w.dir.join("records");
    let output = ok(run(&w, &["export", "--out", out.to_str().expect("path")]));
    assert!(
        stderr(&output).contains(&format!("wrote 5 records to {}", out.display())),
        "{}",
        stderr(&output)
    );
    assert_eq!(mode(&out), 0o700, "the folder is its owner's only");
    let names = file_names(&out);
    let expected: BTreeSet<String> = (1..=5).map(|i| format!("{i}.json")).collect();
    assert_eq!(names, expected, "Fia was never asked");
    let secrets = page_ids(&w);
    for name in &names {
        let path = out.join(name);
        assert_eq!(mode(&path), 0o600, "{name}");
        let text = std::fs::read_to_string(&path).expect("a record");
        assert!(text.contains("\n  \""), "pretty-printed: {text}");
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "page id in {name}:\n{text}"
            );
        }
        for contact in ["anna@example.se", "cia@example.se", "070-123 45 67"] {
            assert!(!text.contains(contact), "{contact} in {name}");
        }
        let record: Json = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            record["record_id"],
            format!("kunder:{}", name.trim_end_matches(".json"))
        );
    }

    let anna: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("1.json")).expect("read"))
            .expect("JSON");
    assert_eq!(anna["status"], "approved");
    assert_eq!(anna["label"], "Samtycke är godkänt");
    assert_eq!(anna["controller"]["name"], BUSINESS_NAME);
    assert_eq!(anna["purpose"], INFO_TEXT);
    let consent = &anna["consent"];
    assert_eq!(consent["method"], "consent page");
    assert_eq!(consent["channel"], "email");
    assert_eq!(consent["evidence"]["via"], "consent page");
    assert_eq!(consent["evidence"]["decision"], "approve");
    assert_eq!(
        consent["evidence"]["text_sha256"], consent["notice"]["sha256"],
        "the evidence binds the text shown"
    );
    let words = consent["notice"]["text"].as_str().expect("the words");
    assert!(words.contains(INFO_TEXT), "{words}");
    assert_eq!(consent["notice"]["language"], "sv");
    assert!(consent["given_at"].is_string());
    assert_eq!(
        anna["events"].as_array().map(Vec::len),
        Some(3),
        "queued, sent, approved"
    );
    assert_eq!(
        anna["chain"]["last_hash"],
        w.sql("SELECT hash FROM consent_event WHERE customer_id = 1 ORDER BY id DESC LIMIT 1")
    );

    let cia: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("3.json")).expect("read"))
            .expect("JSON");
    assert_eq!(cia["status"], "denied");
    assert_eq!(cia["consent"]["reason"], "declined");
    assert_eq!(cia["consent"]["given_at"], Json::Null);

    // Again, with --all, into the same folder: Fia too, files replaced.
    let output = ok(run(
        &w,
        &["export", "--all", "--out", out.to_str().expect("path")],
    ));
    assert!(
        stderr(&output).contains("wrote 6 records"),
        "{}",
        stderr(&output)
    );
    assert!(file_names(&out).contains("6.json"));
    let fia: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("6.json")).expect("read"))
            .expect("JSON");
    assert_eq!(fia["status"], "missing");
    assert_eq!(fia["consent"], Json::Null);
}

#[test]
fn export_without_a_folder_writes_json_lines() {
    let w = synced("records-jsonl");
    let output = ok(run(&w, &["export"]));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    let ids: Vec<Json> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Json>(l).expect("one record per line")["subject"]["customer_id"]
                .clone()
        })
        .collect();
    assert_eq!(
        ids,
        (1..=5).map(Json::from).collect::<Vec<_>>(),
        "in id order"
    );
    assert!(
        stderr(&output).contains("wrote 5 records to stdout"),
        "{}",
        stderr(&output)
    );
    for secret in page_ids(&w) {
        assert!(!text.contains(&secret));
    }
    let all = ok(run(&w, &["export", "--all"]));
    assert_eq!(stdout(&all).lines().count(), 6);
}

#[test]
fn show_prints_one_record_for_a_person_or_as_json() {
    let w = synced("records-show");
    let output = ok(run(&w, &["show", "1"]));
    let text = stdout(&output);
    for expected in [
        "Samtycke är godkänt",
        INFO_TEXT,
        BUSINESS_NAME,
        "på samtyckessidan",
        "signerat beslut från samtyckessidan",
        "Händelser",
        "consent_approve",
        "sent → approved",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    for secret in page_ids(&w) {
        assert!(!text.contains(&secret), "page id shown:\n{text}");
    }

    let json = ok(run(&w, &["show", "--json", "3"]));
    let record: Json = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(record["status"], "denied");
    assert_eq!(record["subject"]["customer_id"], 3);

    // In English when the register is.
    w.sql("SELECT consent_setting('language', 'en')");
    let text = stdout(&ok(run(&w, &["show", "1"])));
    for expected in [
        "Consent approved",
        "on the consent page",
        "Events",
        INFO_TEXT,
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    let never = stdout(&ok(run(&w, &["show", "6"])));
    assert!(never.contains("Consent missing"), "{never}");
    assert!(never.contains("never been asked"), "{never}");

    let unknown = run(&w, &["show", "99"]);
    assert!(!unknown.status.success());
    let message = stderr(&unknown);
    assert!(
        message.contains("no customer with id '99' in table \"kunder\""),
        "{message}"
    );
}

#[test]
fn text_ids_make_safe_file_names_and_are_shown_as_typed() {
    let register = "CREATE TABLE kunder (nr TEXT PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT);
        INSERT INTO kunder VALUES ('K/1', 'Anna', 'anna@example.se', NULL), ('..', 'Bo', 'bo@example.se', NULL),
          ('007', 'Cia', 'cia@example.se', NULL);";
    let w = World::new(
        "records-text-ids",
        Spec {
            register,
            set_up: SetUp::init("kunder", "nr", "epost", "mobil", Some("namn"))
                .business_name(BUSINESS_NAME)
                .info_text(INFO_TEXT),
            ..Spec::default()
        },
    );
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0 - 60));
    w.sync(w.t0);
    let out = w.dir.join("nested/records");
    ok(run(&w, &["export", "--out", out.to_str().expect("path")]));
    let expected: BTreeSet<String> = ["%2E%2E.json", "007.json", "K%2F1.json"]
        .map(str::to_owned)
        .into();
    assert_eq!(file_names(&out), expected);
    let k1: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("K%2F1.json")).expect("read"))
            .expect("JSON");
    assert_eq!(k1["subject"]["customer_id"], "K/1");
    assert_eq!(k1["status"], "sent");

    let shown = stdout(&ok(run(&w, &["show", "--json", "007"])));
    let record: Json = serde_json::from_str(&shown).expect("JSON");
    assert_eq!(record["subject"]["customer_id"], "007");
    let unknown = run(&w, &["show", "7"]);
    assert!(!unknown.status.success(), "7 is not '007' in a TEXT column");
    assert!(
        stderr(&unknown).contains("no customer with id"),
        "{}",
        stderr(&unknown)
    );
}
