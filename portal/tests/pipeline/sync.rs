//! "Update consent" end to end: a billing register, queue, sync (pages and
//! messages to files), decisions POSTed to the running collector over real
//! HTTP, sync again, statuses; replayed, tampered, stale and expired tokens
//! refused with nothing changed; expiry at day 8 with explicit time.
//!
//! The collector stamps a decision with the real clock, and sync believes
//! that time only between the request's sending and its own clock (each
//! with the allowed skew): a test that presses buttons runs its syncs at
//! times counted from the world's start ([`World::t0`]), not at a fixed
//! date.

use std::time::Duration;

use consent_extension::time;
use consent_portal::config::Config;
use consent_portal::token::{Decision, PageBinding};
use consent_portal::{keys, sync};
use consent_testkit::billing::portal;
use consent_testkit::host::run_ok;
use consent_testkit::sample;
use consent_testkit::smtp::SmtpServer;
use consent_testkit::world::{run_sync, smtp_email, Spec, World, FILE_SMS};
use consent_testkit::{require, Scratch, Tool};

const DAY: i64 = 86_400;
const T0: i64 = 1_796_000_000;

/// The sample register `kunder` with SMS on, messages to files.
fn world(label: &str) -> World {
    World::new(label, Spec::default())
}

#[test]
fn queue_send_decide_and_collect() {
    let w = world("loop");
    let t0 = w.t0;
    w.sql(&format!("SELECT consent_queue_all(NULL, {t0})"));
    let first = w.sync(t0 + 60);
    assert_eq!(
        (
            first.sent.sent_email,
            first.sent.sent_sms,
            first.sent.errors.len()
        ),
        (2, 1, 1),
        "{}",
        sync::to_text(&first)
    );
    assert!(
        first.sent.errors[0].reason.contains("08-12 34 56"),
        "{:?}",
        first.sent.errors
    );
    assert_eq!(
        (w.status(1), w.status(2), w.status(3)),
        ("sent".into(), "sent".into(), "sent".into())
    );
    assert_eq!((w.status(4), w.status(5)), ("error".into(), "error".into()));
    let mails = w.files("mail");
    assert_eq!(mails.len(), 2);
    let link = format!("{}/c/", w.base);
    assert!(
        mails
            .iter()
            .all(|m| m.contains(&link) && m.contains("Message-ID: <consent-")),
        "{mails:?}"
    );
    // The Message-ID is a hash: it names neither the request nor the page.
    for mail in &mails {
        let page = consent_testkit::smtp::page_id_in_text(mail).expect("a link");
        let id = mail
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: <consent-"))
            .and_then(|rest| rest.strip_suffix("@example.se>"))
            .expect("a consent Message-ID");
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !id.contains(&page),
            "{id}"
        );
    }
    let texts = w.files("sms");
    assert!(
        texts[0].contains("+46701234567") && texts[0].contains(&link),
        "{texts:?}"
    );

    // Anna approves and Bo declines, in a browser.
    assert_eq!(w.press(1, "approve"), 303);
    assert_eq!(w.press(2, "decline"), 303);
    let second = w.sync(t0 + 120);
    assert_eq!(
        (
            second.decisions.collected,
            second.decisions.approved,
            second.decisions.declined
        ),
        (2, 1, 1),
        "{}",
        sync::to_text(&second)
    );
    assert_eq!(
        (w.status(1), w.status(2), w.status(3)),
        ("approved".into(), "denied".into(), "sent".into())
    );
    // The approval keeps its evidence: the signed token (the approve
    // button's, for Anna's page), the text's hash, when the collector
    // received it and when sync applied it.
    let evidence = w.sql("SELECT evidence FROM consent_request WHERE customer_id = 1");
    assert!(
        evidence_token(&evidence).starts_with("v2.") && evidence.contains("text_sha256"),
        "{evidence}"
    );
    let text_hash = w.sql("SELECT text_hash FROM consent_request WHERE customer_id = 1");
    assert!(evidence.contains(&text_hash));
    let json: serde_json::Value = serde_json::from_str(&evidence).expect("evidence is JSON");
    assert_eq!(json["decision"], "approve", "{evidence}");
    assert_eq!(json["applied_at"], time::format(t0 + 120), "{evidence}");
    let received = json["received_at"]
        .as_str()
        .and_then(time::parse)
        .expect("received_at");
    assert!((t0..=time::now()).contains(&received), "{evidence}");
    let verifier = keys::load_verifier(&w.config.verifying_key_paths()).expect("verifier");
    let claims = verifier
        .verify(&evidence_token(&evidence), received)
        .expect("the evidence's token verifies");
    let page_id = w.sql("SELECT page_id FROM consent_request WHERE customer_id = 1");
    assert_eq!(
        (claims.decision, claims.request_id, claims.page),
        (
            Decision::Approve,
            w.request_id(1),
            PageBinding::of(&page_id)
        )
    );
    // The pages of the decided requests, and of Dan's failed one, are gone.
    assert_eq!(second.pages.expect("rendered").removed, 3);

    // Replayed: the collector answers as before and stores nothing new.
    let anna = evidence_token(&evidence);
    assert_eq!(w.press_token(&anna), 303);
    let third = w.sync(t0 + 180);
    let d = &third.decisions;
    assert_eq!(
        (d.collected, d.approved),
        (0, 0),
        "{}",
        sync::to_text(&third)
    );

    // Tampered: refused at the collector, nothing stored.
    let mut tampered = w.token(3, "approve").into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        w.press_token(&String::from_utf8(tampered).expect("ascii")),
        400
    );
    assert_eq!(w.sync(t0 + 240).decisions.collected, 0);
    assert_eq!(w.status(3), "sent");

    // Expiry: Cia never answers; at day 8 she is denied.
    let before = w.sync(t0 + 7 * DAY);
    assert_eq!(before.expired, Some(0));
    let after = w.sync(t0 + 60 + 7 * DAY);
    assert_eq!(after.expired, Some(1));
    assert_eq!(w.status(3), "denied");
}

/// The token inside an evidence JSON.
fn evidence_token(evidence: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(evidence).expect("evidence is JSON");
    json["token"]
        .as_str()
        .expect("token in evidence")
        .to_owned()
}

#[test]
fn stale_and_changed_minds() {
    let w = world("stale");
    let t0 = w.t0;
    w.sql(&format!("SELECT consent_queue_all(NULL, {t0})"));
    w.sync(t0 + 60);
    // A token for a request that was since revoked and queued again is
    // stale: the collector takes it (it is validly signed), sync refuses it.
    let old = w.token(1, "approve");
    w.sql(&format!("SELECT consent_revoke(1, 'clerk', {})", t0 + 100));
    w.sql(&format!("SELECT consent_queue(1, {})", t0 + 110));
    assert_eq!(w.press_token(&old), 303);
    let summary = w.sync(t0 + 200);
    assert_eq!(summary.decisions.approved, 0);
    assert!(
        summary.decisions.refused.iter().any(|r| r
            .reason
            .contains("no longer the customer's current request")),
        "{}",
        sync::to_text(&summary)
    );
    assert_eq!(
        w.status(1),
        "sent",
        "sent again, and not approved by the old page"
    );

    // Approve, then decline on the same page before the next sync: the
    // last word counts.
    assert_eq!(w.press(3, "approve"), 303);
    assert_eq!(w.press(3, "decline"), 303);
    let summary = w.sync(t0 + 300);
    let d = &summary.decisions;
    assert_eq!(
        (d.approved, d.declined),
        (0, 1),
        "{}",
        sync::to_text(&summary)
    );
    assert_eq!(w.status(3), "denied");

    // Approve, sync, then decline on the same page (still open in the
    // browser; sync has removed it from the site): a withdrawal.
    let anna_declines = w.token(1, "decline");
    assert_eq!(w.press(1, "approve"), 303);
    w.sync(t0 + 400);
    assert_eq!(w.status(1), "approved");
    assert_eq!(w.press_token(&anna_declines), 303);
    w.sync(t0 + 500);
    assert_eq!(w.status(1), "denied");
}

#[test]
fn dry_run_changes_nothing() {
    let w = world("dry");
    w.sql(&format!("SELECT consent_queue_all(NULL, {T0})"));
    let events = w.sql("SELECT count(*) FROM consent_event");
    let summary = run_sync(&w.conn, &w.config, T0, true);
    assert_eq!(
        (summary.sent.would_send_email, summary.sent.sent_email),
        (0, 0),
        "no pages yet, so nothing to send"
    );
    assert_eq!(w.sql("SELECT count(*) FROM consent_event"), events);
    assert!(w.files("mail").is_empty() && !w.dir.join("site").exists());
}

#[test]
fn the_demo_runs_the_whole_loop_once() {
    let scratch = Scratch::new("demo");
    let dir = scratch.join("demo");
    let mut demo = portal(&["demo", "--once", "--listen", "127.0.0.1:0", "--dir"]);
    let out = run_ok(demo.arg(&dir), "consent-portal demo --once");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "sent: 4 by e-mail, 2 by SMS",
        "pressed 'approve'",
        "the collector answered 303",
        "decisions: 2 collected, 1 approved, 1 declined, 0 withdrawn, 0 refused",
        "Samtycke är godkänt                   1",
        "Samtycke är nekat                     1",
    ] {
        assert!(
            stdout.contains(needle),
            "{needle:?} missing from:\n{stdout}"
        );
    }
    assert!(dir.join(".consent-demo").exists());
}

#[test]
fn the_billing_application_keeps_writing_while_sync_sends() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    // A relay that takes 150 ms per message, over one connection: 20
    // messages keep sync sending for about 3 s.
    let server = SmtpServer::start(&["--delay", "DATA:150"]);
    let w = World::new(
        "concurrent",
        Spec {
            transports: format!("{}{FILE_SMS}", smtp_email(server.port, 1, None)),
            ..Spec::default()
        },
    );
    w.conn
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 116)
             INSERT INTO kunder SELECT i, 'Kund ' || i, 'kund' || i || '@example.se', NULL FROM n;",
        )
        .expect("more customers");
    w.sql(&format!("SELECT consent_queue_all(NULL, {T0})"));
    let dir = w.path().to_owned();
    let syncing = std::thread::spawn(move || {
        let config = Config::load(&dir.join("consent.toml")).expect("config");
        let conn = sample::open(&dir.join("billing.db"));
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        run_sync(&conn, &config, T0 + 60, false)
    });
    // Meanwhile the billing application saves customers, with a busy
    // timeout of 1 s: a write lock held across the sends (about 3 s) would
    // make it fail, the short transactions between them must not.
    let app = rusqlite::Connection::open(w.dir.join("billing.db")).expect("open");
    app.busy_timeout(Duration::from_secs(1))
        .expect("busy timeout");
    let (mut writes, mut failures) = (0, Vec::new());
    while !syncing.is_finished() && writes < 2000 {
        match app.execute("UPDATE kunder SET namn = namn WHERE nr = 5", []) {
            Ok(_) => writes += 1,
            Err(e) => failures.push(e.to_string()),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let summary = syncing.join().expect("sync thread");
    assert_eq!(summary.sent.sent_email, 19, "{}", sync::to_text(&summary));
    assert!(
        writes > 50,
        "the application wrote only {writes} times while sync ran"
    );
    assert!(
        failures.is_empty(),
        "{} of the application's writes failed: {:?}",
        failures.len(),
        failures.first()
    );
    assert_eq!(server.received().len(), 19);
}
