//! The holes an auditor and an insider found in the evidence, each tried
//! the way they tried it: a decision changed between collector and sync,
//! a received time moved, an information text changed while requests were
//! out, the link's secret in mail headers, the customer id in the token, a
//! page id that leads out of the site. (The log's own holes, REPLACE and
//! UPDATE on the consent tables, are tried in the extension's `tamper`
//! tests and through `consent-portal verify` in `verify.rs`.)
//!
//! Buttons are pressed as a browser submits the page's form: every hidden
//! field, plus the pressed button's own name and value, and nothing else.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use consent_portal::collector::{Decision, Inbox};
use consent_testkit::sample::{SetUp, INFO_TEXT};
use consent_testkit::sql;
use consent_testkit::world::{Spec, World};

const DAY: i64 = 86_400;

/// The fields a browser posts when `button` (`approve` or `decline`, the
/// button's class) of a consent page is pressed.
fn form_fields(html: &str, button: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let (_, rest) = tag.split_once(&format!("{name}=\""))?;
        Some(rest.split('"').next()?.replace("&#x2f;", "/"))
    };
    let mut fields = Vec::new();
    for tag in html.split('<').filter(|t| t.starts_with("input")) {
        if attribute(tag, "type").as_deref() == Some("hidden") {
            if let (Some(n), Some(v)) = (attribute(tag, "name"), attribute(tag, "value")) {
                fields.push((n, v));
            }
        }
    }
    let pressed = html
        .split('<')
        .filter(|t| t.starts_with("button"))
        .find(|t| attribute(t, "class").as_deref() == Some(button))
        .unwrap_or_else(|| panic!("no {button} button in:\n{html}"));
    if let (Some(n), Some(v)) = (attribute(pressed, "name"), attribute(pressed, "value")) {
        fields.push((n, v));
    }
    fields
}

/// A world whose customers were all queued at `at`.
fn queued(label: &str, spec: Spec<'_>, at: i64) -> World {
    let w = World::new(label, spec);
    w.sql(&format!("SELECT consent_queue_all(NULL, {at})"));
    w
}

/// The customer's current page.
fn page(w: &World, customer: i64) -> String {
    let page_id = w.sql(&format!(
        "SELECT page_id FROM consent_request WHERE customer_id = {customer} ORDER BY id DESC LIMIT 1"
    ));
    std::fs::read_to_string(w.dir.join("site/c").join(format!("{page_id}.html"))).expect("page")
}

/// Presses a button of the customer's page over HTTP, as a browser does.
fn press(w: &World, customer: i64, button: &str) -> u16 {
    let fields = form_fields(&page(w, customer), button);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    w.post(&fields)
}

/// The token the browser posts for `button`.
fn posted_token(w: &World, customer: i64, button: &str) -> String {
    form_fields(&page(w, customer), button)
        .into_iter()
        .find(|(n, _)| n == "token")
        .map(|(_, v)| v)
        .expect("a token field")
}

/// Files the decision in the collector's inbox as the collector would have
/// stored it at `received_at`.
fn file_decision(w: &World, customer: i64, decision: Decision, token: &str, received_at: i64) {
    let inbox = Inbox::open(&w.config.resolve(&w.config.collector.inbox)).expect("inbox");
    inbox
        .record(
            w.request_id(customer),
            decision,
            token,
            &consent_extension::time::format(received_at),
        )
        .expect("record");
}

#[test]
fn a_decline_changed_to_approve_in_the_inbox_stays_a_decline() {
    let w = queued(
        "evidence-flip",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    assert_eq!(w.status(1), "sent");
    assert_eq!(press(&w, 1, "decline"), 303);
    // Between collector and sync (a compromised collector, or anyone with
    // the inbox file), the stored decision becomes an approval.
    let changed = w
        .inbox()
        .execute("UPDATE decision SET decision = 'approve'", [])
        .expect("edit the inbox");
    assert_eq!(changed, 1);
    w.sync(w.t0 + 60);
    assert_eq!(
        w.status(1),
        "denied",
        "the customer declined; the register must say so"
    );
    assert_eq!(
        w.sql(
            "SELECT count(*) FROM consent_event WHERE customer_id = 1 AND to_status = 'approved'"
        ),
        "0"
    );
}

#[test]
fn a_received_time_before_the_request_or_after_sync_is_refused() {
    let w = queued(
        "evidence-times",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    let approve = posted_token(&w, 1, "approve");
    // Dated before the request existed.
    file_decision(&w, 1, Decision::Approve, &approve, 946_684_800); // 2000-01-01
    let summary = w.sync(w.t0 + 60);
    assert_eq!(w.status(1), "sent", "{:?}", summary.decisions.refused);
    // Dated a day after this sync's clock.
    let approve = posted_token(&w, 3, "approve");
    file_decision(&w, 3, Decision::Approve, &approve, w.t0 + 120 + DAY);
    w.sync(w.t0 + 120);
    assert_eq!(w.status(3), "sent");
    assert_eq!(
        w.sql("SELECT count(*) FROM consent_event WHERE to_status = 'approved'"),
        "0"
    );
}

#[test]
fn an_approval_after_the_consent_window_is_refused_even_before_expiry_runs() {
    let w = queued(
        "evidence-window",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    let approve = posted_token(&w, 1, "approve");
    // Pressed an hour after the 7 days from sending, filed by the collector;
    // no sync ran in between, so the request is still 'sent'.
    let late = w.t0 + 7 * DAY + 3600;
    file_decision(&w, 1, Decision::Approve, &approve, late);
    w.sync(late + 60);
    assert_eq!(
        w.status(1),
        "denied",
        "not approved within 7 days is denied, whatever arrives later"
    );
    assert_eq!(
        w.sql("SELECT count(*) FROM consent_event WHERE to_status = 'approved'"),
        "0"
    );
}

#[test]
fn the_collector_answers_a_press_after_the_window_with_the_expired_page() {
    // Sent 7 days and an hour ago (the collector checks the real clock).
    let sent = consent_extension::time::now() - 7 * DAY - 3600;
    let w = queued("evidence-late-press", Spec::default(), sent - 60);
    w.sync(sent);
    assert_eq!(w.status(1), "sent");
    assert_eq!(
        press(&w, 1, "approve"),
        410,
        "a late press must not be thanked"
    );
}

#[test]
fn a_page_keeps_the_words_it_was_sent_with() {
    let w = queued(
        "evidence-words",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    let before = page(&w, 1);
    assert!(before.contains(INFO_TEXT));
    let hash_before = w.sql("SELECT text_hash FROM consent_request WHERE customer_id = 1");
    // The business changes its text while requests are out.
    SetUp::settings()
        .info_text("Vi sparar allt om dig för alltid.")
        .apply(&w.conn);
    w.sync(w.t0 + 60);
    let after = page(&w, 1);
    assert!(
        after.contains(INFO_TEXT) && !after.contains("för alltid"),
        "the page changed its words after it was sent:\n{after}"
    );
    assert_eq!(
        w.sql("SELECT text_hash FROM consent_request WHERE customer_id = 1"),
        hash_before
    );
    // The approval binds the words shown, and applies.
    assert_eq!(press(&w, 1, "approve"), 303);
    w.sync(w.t0 + 120);
    assert_eq!(w.status(1), "approved");
    // A new request gets the new words.
    assert_eq!(w.sql("SELECT consent_revoke(1)"), "denied");
    assert_eq!(w.sql("SELECT consent_queue(1)"), "queued");
    w.sync(w.t0 + 180);
    assert!(page(&w, 1).contains("för alltid"));
}

#[test]
fn a_stored_text_cannot_be_edited() {
    let w = queued(
        "evidence-text-edit",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    let edited = w
        .conn
        .execute("UPDATE consent_text SET body = 'Inget alls.'", []);
    assert!(edited.is_err(), "consent_text accepted an edit: {edited:?}");
}

#[test]
fn no_message_id_carries_the_page_id() {
    let w = queued(
        "evidence-message-id",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    let mails = w.files("mail");
    assert!(!mails.is_empty());
    for mail in &mails {
        let page_id = consent_testkit::smtp::page_id_in_text(mail).expect("a link");
        let message_id = mail
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .expect("a Message-ID");
        assert!(
            !message_id.contains(&page_id),
            "the link's secret is in the Message-ID: {message_id}"
        );
    }
}

#[test]
fn a_token_holds_no_readable_customer_id() {
    // A register keyed by personnummer.
    let spec = Spec {
        register: "CREATE TABLE kunder (pnr TEXT PRIMARY KEY, epost TEXT, mobil TEXT);
                   INSERT INTO kunder VALUES ('19121212-1212', 'tolvan@example.se', NULL);",
        set_up: SetUp::init("kunder", "pnr", "epost", "mobil", None)
            .business_name("Dahls Rör AB")
            .info_text(INFO_TEXT),
        ..Spec::default()
    };
    let w = queued(
        "evidence-token-pii",
        spec,
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    let html = std::fs::read_dir(w.dir.join("site/c"))
        .expect("pages")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("page"))
        .find(|p| p.contains("<form"))
        .expect("a page");
    for button in ["approve", "decline"] {
        let token = form_fields(&html, button)
            .into_iter()
            .find(|(n, _)| n == "token")
            .map(|(_, v)| v)
            .expect("token");
        let body = token.split_once('.').expect("a versioned token").1;
        let bytes = URL_SAFE_NO_PAD.decode(body).expect("base64url");
        assert!(
            !bytes
                .windows("19121212-1212".len())
                .any(|w| w == b"19121212-1212"),
            "the personnummer can be read from the token"
        );
    }
    assert!(!html.contains("19121212"));
}

#[test]
fn a_page_id_that_leads_out_of_the_site_gets_no_file() {
    let w = queued(
        "evidence-page-id",
        Spec::default(),
        consent_extension::time::now() - 60,
    );
    w.sync(w.t0);
    // Customer 3 is queued again with a page id someone set by hand; an
    // insider first drops the schema's triggers, as one with write access
    // can.
    assert_eq!(w.sql("SELECT consent_revoke(3)"), "denied");
    assert_eq!(w.sql("SELECT consent_queue(3)"), "queued");
    let triggers: Vec<String> = sql::column(
        &w.conn,
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'consent_request'",
    );
    for t in triggers {
        w.conn
            .execute_batch(&format!("DROP TRIGGER \"{t}\""))
            .expect("drop trigger");
    }
    w.conn
        .execute(
            "UPDATE consent_request SET page_id = '../../x' WHERE id = ?1",
            [w.request_id(3)],
        )
        .expect("the insider's update");
    w.sync(w.t0 + 60);
    let outside = w.dir.join("x.html");
    assert!(
        !outside.exists(),
        "render wrote {} outside the site",
        outside.display()
    );
    assert!(!w
        .dir
        .path()
        .parent()
        .expect("parent")
        .join("x.html")
        .exists());
    assert_eq!(w.status(3), "error", "no link went out for it");
}
