//! Hostile input against the whole portal: forged, tampered, spliced,
//! replayed and expired decisions (refused at the collector or by sync,
//! reported, the register unchanged); HTML, template syntax, SQL and header
//! injection in the texts, names and addresses (escaped on every page, no
//! header or recipient added to an e-mail, stored exactly as given); and the
//! secrets (signing key, SMTP and SMS passwords, the collector's bearer
//! token) in no output, page, file or database of any command of the real
//! binary, including failing runs.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use consent_extension::time;
use consent_portal::config::{self, Config, Sms, SmsTransport};
use consent_portal::send::sms::SmsSender;
use consent_portal::send::Credentials;
use consent_portal::sync::render;
use consent_portal::token::{self, Claims, Decision, PageBinding, Signer};
use consent_portal::{keys, sync};
use consent_testkit::gateway::{Answer, SmsGateway};
use consent_testkit::host::output_text as text;
use consent_testkit::press::{client, token_of};
use consent_testkit::sample::{self, SetUp, BUSINESS_NAME, INFO_TEXT, KUNDER};
use consent_testkit::site::{self, fixture};
use consent_testkit::smtp::SmtpServer;
use consent_testkit::sql;
use consent_testkit::world::{http_sms, smtp_email, Spec, World, FILE_EMAIL};
use consent_testkit::{require, Scratch, Tool};
use rusqlite::types::Value;
use rusqlite::Connection;

const DAY: i64 = 86_400;
const BEARER: &str = "bearer-7Qz0-collector-token-not-to-leak-5d1e";
const INBOX: &str = "consent-inbox.db";

// ---------------------------------------------------------------------------
// A deployment in-process: a register, the collector over real HTTP, sync.

/// The sample register `kunder`, everyone with an e-mail address, in a
/// world whose times start now (the collector checks tokens against the
/// real clock) and whose collector takes hundreds of forged posts from one
/// address.
fn world(label: &str, email_section: &str) -> World {
    let register =
        format!("{KUNDER}UPDATE kunder SET epost = lower(namn) || '@example.se', mobil = NULL;");
    World::new(
        label,
        Spec {
            register: &register,
            set_up: SetUp::kunder(),
            transports: email_section.to_owned(),
            bearer: Some(BEARER),
            rate: Some(100_000),
        },
    )
}

/// A [`world`] with Anna's request sent: her page is there.
fn anna_asked(label: &str) -> World {
    let w = world(label, FILE_EMAIL);
    w.sql(&format!("SELECT consent_queue(1, {})", w.t0));
    w.sync(w.t0 + 60);
    w
}

/// The customer's status and every event and request row about them:
/// what a refused decision must leave exactly as it was.
fn record_of(w: &World, customer: i64) -> (String, Vec<String>) {
    let rows = |table: &str| {
        sql::cells(
            &w.conn,
            &format!("SELECT * FROM {table} WHERE customer_id = ?1 ORDER BY id"),
            [customer],
        )
    };
    let mut record = rows("consent_request");
    record.extend(rows("consent_event"));
    (w.status(customer), record)
}

/// What a compromised collector can do: write any row into its inbox.
fn forge_inbox_row(w: &World, request_id: i64, decision: &str, token: &str, received_at: i64) {
    w.inbox()
        .execute(
            "INSERT INTO decision (request_id, decision, token, received_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![request_id, decision, token, time::format(received_at)],
        )
        .expect("forged row");
}

fn token_bytes(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.strip_prefix("v2.").expect("v2 token"))
        .expect("base64url")
}

/// The request a token names.
fn request_of(token: &str) -> i64 {
    i64::from_be_bytes(token_bytes(token)[REQUEST_ID].try_into().expect("8 bytes"))
}

fn token_from(bytes: &[u8]) -> String {
    format!("v2.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Offsets in a v2 token (see token.rs).
const DECISION_BYTE: usize = 9;
const REQUEST_ID: std::ops::Range<usize> = 10..18;
const PAGE: std::ops::Range<usize> = 18..34;
const EXPIRES_AT: std::ops::Range<usize> = 34..42;
const TEXT_HASH: std::ops::Range<usize> = 42..74;
const PAYLOAD_LEN: usize = 74;

/// The claims a genuine token says (read, not verified).
fn claims_in(token: &str) -> Claims {
    let bytes = token_bytes(token);
    Claims {
        decision: match bytes[DECISION_BYTE] {
            1 => Decision::Approve,
            2 => Decision::Decline,
            other => panic!("decision byte {other}"),
        },
        request_id: request_of(token),
        page: PageBinding(bytes[PAGE].try_into().expect("16 bytes")),
        expires_at: i64::from_be_bytes(bytes[EXPIRES_AT].try_into().expect("8 bytes")),
        text_hash: bytes[TEXT_HASH].try_into().expect("32 bytes"),
    }
}

/// The register's own signing key.
fn our_signer(w: &World) -> Signer {
    keys::load_signer(&w.config.resolve(&w.config.keys.signing_key)).expect("signer")
}

/// The run refused exactly `expected` (request, part of the reason), and
/// applied `applied` (approved, declined) decisions.
fn assert_refusals(summary: &sync::Summary, expected: &[(i64, &str)], applied: (usize, usize)) {
    let text = sync::to_text(summary);
    assert_eq!(
        summary.decisions.refused.len(),
        expected.len(),
        "refusals:\n{text}"
    );
    assert!(
        text.contains(&format!("{} refused", expected.len())),
        "{text}"
    );
    for (request_id, reason) in expected {
        assert!(
            summary
                .decisions
                .refused
                .iter()
                .any(|r| r.request_id == *request_id && r.reason.contains(reason)),
            "no refusal of request {request_id} for {reason:?} in:\n{text}"
        );
        let line = format!("  refused (request {request_id}, from {INBOX}): ");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&line) && l.contains(reason)),
            "{line}...{reason} not shown in:\n{text}"
        );
    }
    assert_eq!(
        (summary.decisions.approved, summary.decisions.declined),
        applied,
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// 1. Forgery and replay.

#[test]
fn a_page_token_altered_in_any_byte_is_refused_by_the_collector_and_changes_nothing() {
    let w = anna_asked("tamper");
    let before = record_of(&w, 1);
    let genuine = w.token(1, "approve");
    let mut refused = 0;
    for button in ["approve", "decline"] {
        let token = w.token(1, button);
        let bytes = token_bytes(&token);
        assert_eq!(bytes.len(), PAYLOAD_LEN + 64);
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80] {
                let mut altered = bytes.clone();
                altered[i] ^= flip;
                let status = w.press_token(&token_from(&altered));
                assert_eq!(
                    status, 400,
                    "{button}: byte {i} ^ {flip:#x} was not refused"
                );
                refused += 1;
            }
        }
        // The text around the bytes: prefix, one byte more, one byte less.
        for altered in [
            token.replacen("v2.", "v1.", 1),
            token.replacen("v2.", "v3.", 1),
            token.replacen("v2.", "V2.", 1),
            token_from(&[bytes.as_slice(), &[0]].concat()),
            token_from(&bytes[..bytes.len() - 1]),
            format!("{token}A"),
            format!(" {token}"),
        ] {
            assert_eq!(w.press_token(&altered), 400, "{altered}");
            refused += 1;
        }
    }
    // The decline button's token made to say approve (its own signature).
    let mut turned = token_bytes(&w.token(1, "decline"));
    assert_eq!(turned[DECISION_BYTE], 2);
    turned[DECISION_BYTE] = 1;
    assert_eq!(w.press_token(&token_from(&turned)), 400);
    assert!(refused > 2 * 260);
    assert_eq!(w.stored(), 0, "a refused decision was stored");
    let summary = w.sync(w.t0 + 120);
    assert_collected(&summary, 0);
    assert_eq!(record_of(&w, 1), before, "the register changed");
    // The genuine token still works: the refusals were for the alterations.
    assert_eq!(w.press_token(&genuine), 303);
    assert_eq!(w.sync(w.t0 + 180).decisions.approved, 1);
    assert_eq!(w.status(1), "approved");
}

#[test]
fn one_customers_token_presented_for_another_is_refused_at_the_collector() {
    let w = world("splice-http", FILE_EMAIL);
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0));
    w.sync(w.t0 + 60);
    let records = [record_of(&w, 1), record_of(&w, 2)];
    let intruder = Signer::new(keys::generate().expect("key"));
    for button in ["approve", "decline"] {
        let (a, b) = (
            token_bytes(&w.token(1, button)),
            token_bytes(&w.token(2, button)),
        );
        let splice = |from: &[u8], range: std::ops::Range<usize>| {
            let mut out = a.clone();
            out[range.clone()].copy_from_slice(&from[range]);
            out
        };
        // A's token naming B (page, request id, or both), A's signature.
        let a_as_b_page = splice(&b, PAGE);
        let a_as_b_request = splice(&b, REQUEST_ID);
        let mut both = a_as_b_page.clone();
        both[REQUEST_ID].copy_from_slice(&b[REQUEST_ID]);
        // A's claims with B's signature.
        let a_with_b_signature = [&a[..PAYLOAD_LEN], &b[PAYLOAD_LEN..]].concat();
        // A's claims changed to B and signed again with a key not ours.
        let resigned = intruder.sign(&Claims {
            request_id: w.request_id(2),
            page: claims_in(&token_from(&b)).page,
            expires_at: time::now() + DAY,
            ..claims_in(&token_from(&a))
        });
        for (what, token) in [
            ("page spliced", token_from(&a_as_b_page)),
            ("request id spliced", token_from(&a_as_b_request)),
            ("both spliced", token_from(&both)),
            (
                "another request's signature",
                token_from(&a_with_b_signature),
            ),
            ("re-signed with another key", resigned),
        ] {
            assert_eq!(w.press_token(&token), 400, "{what} / {button}");
        }
    }
    assert_eq!(w.stored(), 0);
    assert_eq!(w.sync(w.t0 + 120).decisions.collected, 0);
    assert_eq!([record_of(&w, 1), record_of(&w, 2)], records);
}

#[test]
fn forged_inbox_rows_are_refused_by_sync_and_reported() {
    // A compromised collector writes whatever it likes into its inbox; sync
    // verifies every row again and applies none of these.
    let w = world("forged-inbox", FILE_EMAIL);
    // Two more customers, for the checks our own key cannot get past.
    w.conn
        .execute_batch(
            "INSERT INTO kunder VALUES (6, 'Fia', 'fia@example.se', NULL), \
                                      (7, 'Gun', 'gun@example.se', NULL);",
        )
        .expect("more customers");
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0));
    w.sync(w.t0 + 60);
    let [req_a, req_b, req_c, req_d, req_e, req_f, req_g] =
        [1, 2, 3, 4, 5, 6, 7].map(|c| w.request_id(c));
    let a = w.token(1, "approve");
    let a_bytes = token_bytes(&a);
    let a_claims = claims_in(&a);
    let records: Vec<_> = (1..=7).map(|c| record_of(&w, c)).collect();
    let now = w.t0 + 120;
    let signer = our_signer(&w);
    // One row per request: for each request only the last row counts.

    // A's genuine token, filed under B's request.
    forge_inbox_row(&w, req_b, "approve", &a, now);
    // A's token with C's request and page spliced in, A's signature.
    let c_claims = claims_in(&w.token(3, "approve"));
    let mut spliced = a_bytes.clone();
    spliced[REQUEST_ID].copy_from_slice(&req_c.to_be_bytes());
    spliced[PAGE].copy_from_slice(&c_claims.page.0);
    forge_inbox_row(&w, req_c, "approve", &token_from(&spliced), now);
    // A request signed by a key that is not ours.
    let intruder = Signer::new(keys::generate().expect("key"));
    let foreign = intruder.sign(&Claims {
        request_id: 9999,
        ..a_claims.clone()
    });
    forge_inbox_row(&w, 9999, "approve", &foreign, now);
    // Even our own key binding E's request to A's page is refused.
    let crossed = signer.sign(&Claims {
        request_id: req_e,
        ..a_claims.clone()
    });
    forge_inbox_row(&w, req_e, "approve", &crossed, now);
    // ... and F's request and page with words F's page never showed.
    let f_claims = claims_in(&w.token(6, "approve"));
    let other_words = signer.sign(&Claims {
        text_hash: token::text_hash("Vi sparar allt om dig för alltid."),
        ..f_claims.clone()
    });
    forge_inbox_row(&w, req_f, "approve", &other_words, now);
    // A's own page's token, expired before it was received (an old page).
    let expired = signer.sign(&Claims {
        expires_at: now - 60,
        ..a_claims.clone()
    });
    forge_inbox_row(&w, req_a, "approve", &expired, now);
    // D's genuine token with one bit of the signature flipped.
    let mut d = token_bytes(&w.token(4, "decline"));
    let last = d.len() - 1;
    d[last] ^= 1;
    forge_inbox_row(&w, req_d, "decline", &token_from(&d), now);
    // G's genuine decline, filed as an approval: the token's word counts.
    forge_inbox_row(&w, req_g, "approve", &w.token(7, "decline"), now);

    let summary = w.sync(now + 60);
    assert_collected(&summary, 8);
    let refusals = [
        (req_b, format!("the token names request {req_a}")),
        (req_c, "signature does not match".to_owned()),
        (9999, "not among the verifying keys".to_owned()),
        (
            req_e,
            format!("made for another page than request {req_e}'s"),
        ),
        (req_f, "but request".to_owned()),
        (req_a, "the token had expired".to_owned()),
        (req_d, "signature does not match".to_owned()),
    ];
    let expected: Vec<(i64, &str)> = refusals.iter().map(|(r, s)| (*r, s.as_str())).collect();
    assert_refusals(&summary, &expected, (0, 1));
    assert!(
        summary
            .decisions
            .refused
            .iter()
            .any(|r| r.request_id == req_f
                && r.reason.contains("the token binds the text")
                && r.reason.contains("page was made with the text")),
        "{}",
        sync::to_text(&summary)
    );
    // G declined: the row's word 'approve' was not taken.
    assert_eq!(w.status(7), "denied");
    assert_eq!(
        w.sql(&format!(
            "SELECT count(*) FROM consent_event WHERE request_id = {req_g} AND to_status = 'approved'"
        )),
        "0"
    );
    let after: Vec<_> = (1..=6).map(|c| record_of(&w, c)).collect();
    assert_eq!(
        after,
        records[..6],
        "a refused decision changed the register"
    );
    assert!((1..=6).all(|c| w.status(c) == "sent"));
}

#[test]
fn replays_after_revoke_expiry_or_requeue_are_refused_and_reported() {
    let w = world("replay", FILE_EMAIL);
    // Bo was asked 8 days ago (by the real clock, which the collector
    // checks) and never answered.
    let long_ago = w.t0 - 8 * DAY;
    w.sql(&format!("SELECT consent_queue(2, {long_ago})"));
    w.sync(long_ago + 60);
    assert_eq!(w.status(2), "sent");
    let bo = w.token(2, "approve");
    for customer in [1, 3] {
        w.sql(&format!("SELECT consent_queue({customer}, {})", w.t0));
    }
    // The register expires Bo's request: 7 days from sending are over.
    let first = w.sync(w.t0 + 60);
    assert_eq!(first.expired, Some(1), "{}", sync::to_text(&first));
    assert_eq!(w.status(2), "denied");
    let (anna_approve, anna_decline) = (w.token(1, "approve"), w.token(1, "decline"));
    let (cia_approve, cia_decline) = (w.token(3, "approve"), w.token(3, "decline"));

    // Anna approves; the clerk revokes. Her page's buttons, pressed again
    // (decline, then approve, so that the inbox takes both), do not
    // approve her again.
    assert_eq!(w.press_token(&anna_approve), 303);
    assert_eq!(w.sync(w.t0 + 120).decisions.approved, 1);
    w.sql(&format!(
        "SELECT consent_revoke(1, 'clerk', {})",
        w.t0 + 130
    ));
    // Cia approves, is revoked and asked again, and approves on the new
    // page; her old page's decline must not withdraw the new approval.
    assert_eq!(w.press_token(&cia_approve), 303);
    w.sync(w.t0 + 140);
    w.sql(&format!(
        "SELECT consent_revoke(3, 'clerk', {})",
        w.t0 + 150
    ));
    w.sql(&format!("SELECT consent_queue(3, {})", w.t0 + 160));
    w.sync(w.t0 + 170);
    let cia_new = w.token(3, "approve");
    assert_ne!(cia_new, cia_approve);
    assert_eq!(w.press_token(&cia_new), 303);
    w.sync(w.t0 + 180);
    assert_eq!(w.status(3), "approved");

    let records: Vec<_> = (1..=3).map(|c| record_of(&w, c)).collect();
    let (req_anna, req_bo, req_cia_old) = (
        request_of(&anna_approve),
        request_of(&bo),
        request_of(&cia_decline),
    );
    assert_ne!(req_cia_old, w.request_id(3));
    // Bo presses approve on the page he kept open: his button's token
    // expired with his consent window, so the collector shows the
    // expired-link page rather than thanking him, and stores nothing.
    assert_eq!(w.press_token(&bo), 410);
    let bo_rows = |w: &World| {
        sql::int(
            &w.inbox(),
            &format!("SELECT count(*) FROM decision WHERE request_id = {req_bo}"),
        )
    };
    assert_eq!(bo_rows(&w), 0);
    assert_eq!(w.press_token(&anna_decline), 303);
    assert_eq!(w.press_token(&anna_approve), 303);
    // A collector that stored Bo's press anyway (a compromised one, or one
    // whose clock is behind): sync refuses it.
    forge_inbox_row(&w, req_bo, "approve", &bo, time::now());
    assert_eq!(bo_rows(&w), 1);
    assert_eq!(w.press_token(&cia_decline), 303);
    let summary = w.sync(w.t0 + 240);
    assert_collected(&summary, 4);
    assert_refusals(
        &summary,
        &[
            (req_anna, "superseded by the customer's later decision"),
            (req_anna, "is 'denied', so a 'approve' no longer applies"),
            (req_bo, "the token had expired"),
            (req_cia_old, "no longer the customer's current request"),
        ],
        (0, 0),
    );
    let after: Vec<_> = (1..=3).map(|c| record_of(&w, c)).collect();
    assert_eq!(after, records, "a replay changed the register");
    assert_eq!(
        (w.status(1), w.status(2), w.status(3)),
        ("denied".into(), "denied".into(), "approved".into())
    );
}

#[test]
fn no_method_but_post_decides_and_the_register_is_unchanged() {
    let w = anna_asked("methods");
    let before = record_of(&w, 1);
    let token = w.token(1, "approve");
    let page_id = w.sql("SELECT page_id FROM consent_request WHERE customer_id = 1");
    let query = format!("token={token}");
    for path in [
        format!("/decision?{query}"),
        format!("/decision/?{query}"),
        format!("/c/{page_id}.html?{query}"),
        format!("/thanks.html?{query}"),
    ] {
        for method in ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let builder = ureq::http::Request::builder()
                .method(method)
                .uri(format!("{}{path}", w.base));
            let answer = if matches!(method, "PUT" | "PATCH") {
                let request = builder
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(query.clone())
                    .expect("request");
                client().run(request)
            } else {
                client().run(builder.body(()).expect("request"))
            };
            let status = answer.expect("an answer").status().as_u16();
            assert!(
                !(300..400).contains(&status),
                "{method} {path}: {status} looks like a decision was taken"
            );
        }
    }
    assert_eq!(w.stored(), 0, "a request other than POST stored a decision");
    assert_eq!(w.sync(w.t0 + 120).decisions.collected, 0);
    assert_eq!(record_of(&w, 1), before);
}

// ---------------------------------------------------------------------------
// 2. Injection.

/// minijinja's HTML escaping.
fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn element<'h>(html: &'h str, open: &str, close: &str) -> &'h str {
    let start = html
        .find(open)
        .unwrap_or_else(|| panic!("{open} missing from:\n{html}"))
        + open.len();
    let end = html[start..].find(close).expect("closing tag") + start;
    &html[start..end]
}

#[test]
fn hostile_texts_and_addresses_are_shown_escaped_and_never_evaluated() {
    let f = fixture("hostile-texts");
    let business = "\"><img src=x onerror=alert(1)> {% for x in [1, 2] %}LOOP{% endfor %} '); DROP TABLE customers;--";
    let info = "<script>alert(2)</script> {{ 7*7 }} {{ business_name }} {% for x in range(3) %}RANGE{% endfor %} \"><img src=y onerror=alert(3)>";
    f.conn
        .query_row(
            "SELECT consent_setting('business_name', ?1), consent_setting('info_text', ?2)",
            [business, info],
            |_| Ok(()),
        )
        .expect("settings");
    // The configured collector address carries markup in its path, which
    // the configuration's origin check does not look at.
    let collector_url = "https://insamling.example.se/d?x=\"><script>alert(4)</script>";
    std::fs::write(
        f.dir.join("hostile.toml"),
        config::template("billing.db", "https://samtycke.example.se", collector_url),
    )
    .expect("config");
    let config = Config::load(&f.dir.join("hostile.toml")).expect("config loads");
    let billing_before = sql::dump(&f.conn, "customers");
    render::render(&f.conn, &config, &f.signer, site::NOW).expect("render");

    assert_eq!(f.pages().len(), 2);
    let files = f.all_pages();
    for path in &files {
        let html = std::fs::read_to_string(path).expect("page");
        let shown = path.display();
        for raw in ["<script", "<img", "\"><", "'); DROP"] {
            assert!(!html.contains(raw), "{shown} holds {raw:?} unescaped");
        }
        for evaluated in ["LOOPLOOP", "RANGERANGE", ">49<", " 49 "] {
            assert!(
                !html.contains(evaluated),
                "{shown}: template syntax was evaluated"
            );
        }
        if path.starts_with(f.site().join("c")) {
            let title = element(&html, "<title>", "</title>");
            assert!(title.contains(&html_escaped(business)), "{shown}: {title}");
        }
    }
    let page = std::fs::read_to_string(&files[0]).expect("page");
    assert_eq!(
        element(&page, "<p class=\"business\">", "</p>"),
        html_escaped(business)
    );
    assert_eq!(
        element(&page, "<p class=\"info\">", "</p>"),
        html_escaped(info)
    );
    assert!(page.contains("{{ 7*7 }}") && page.contains("{{ business_name }}"));
    assert!(page.contains("{% for x in range(3) %}RANGE{% endfor %}"));
    assert_eq!(
        element(&page, "<form method=\"post\" action=\"", "\">"),
        html_escaped(collector_url)
    );
    // The policy names only the collector's origin and the site's (the
    // 303 to the thank-you page).
    assert!(
        page.contains(&html_escaped(
            "form-action https://insamling.example.se https://samtycke.example.se; base-uri"
        )),
        "{page}"
    );

    // Stored exactly as given: the settings, the text shown, the register.
    let setting = |key: &str| {
        sql::text(
            &f.conn,
            &format!("SELECT value FROM consent_settings WHERE key = '{key}'"),
        )
    };
    assert_eq!(setting("business_name"), business);
    assert_eq!(setting("info_text"), info);
    let shown_text = sql::text(
        &f.conn,
        "SELECT t.body FROM consent_text AS t JOIN consent_request AS r ON r.text_hash = t.hash LIMIT 1",
    );
    assert!(shown_text.contains(info), "{shown_text}");
    assert_eq!(sql::dump(&f.conn, "customers"), billing_before);
}

/// Every row of a table as text, as a secret would read in it (a blob as
/// its bytes, text as it is).
fn rows_as_text(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))
        .expect("prepare");
    let n = stmt.column_count();
    let mut rows = stmt.query([]).expect("query");
    let mut out = Vec::new();
    while let Some(r) = rows.next().expect("row") {
        let cells: Vec<String> = (0..n)
            .map(|i| match r.get::<_, Value>(i).expect("cell") {
                Value::Text(t) => t,
                Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        out.push(cells.join("|"));
    }
    out
}

/// The header lines of a raw message, unfolded.
fn header_lines(raw: &str) -> Vec<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push_str(line);
                continue;
            }
        }
        lines.push(line.to_owned());
    }
    lines
}

const EVIL: &str = "evil@example.com";

/// Business name and addresses that try to add a header or a recipient.
fn hostile_mail_world(name: &str, email_section: &str) -> World {
    let w = world(name, email_section);
    w.conn
        .execute_batch(
            "UPDATE kunder SET epost = 'bo@example.se' || char(13, 10) || 'Bcc: evil@example.com' WHERE nr = 2;
             UPDATE kunder SET epost = 'cia@example.se, evil@example.com' WHERE nr = 3;
             UPDATE kunder SET epost = '\"Dan' || char(13, 10) || 'Bcc: evil@example.com\" <dan@example.se>' WHERE nr = 4;",
        )
        .expect("hostile addresses");
    sql::call(
        &w.conn,
        "SELECT consent_setting('business_name', 'Dahls Rör AB' || char(13, 10) || 'Bcc: evil@example.com' || char(10) || 'Cc: evil@example.com')",
    );
    w
}

fn assert_one_recipient(raw: &str, shown: &str) {
    let headers = header_lines(raw);
    for header in &headers {
        let lower = header.to_ascii_lowercase();
        assert!(
            !lower.starts_with("bcc:") && !lower.starts_with("cc:"),
            "{shown}: an injected header {header:?} in:\n{raw}"
        );
    }
    let to: Vec<_> = headers
        .iter()
        .filter(|h| h.to_ascii_lowercase().starts_with("to:"))
        .collect();
    assert_eq!(to.len(), 1, "{shown}: {headers:?}");
    assert!(!to[0].contains(EVIL), "{shown}: {}", to[0]);
    let subject: Vec<_> = headers
        .iter()
        .filter(|h| h.to_ascii_lowercase().starts_with("subject:"))
        .collect();
    assert_eq!(subject.len(), 1, "{shown}: {headers:?}");
}

#[test]
fn newlines_in_the_business_name_or_an_address_add_no_header_to_the_email() {
    let w = hostile_mail_world("header-file", FILE_EMAIL);
    let business_before = w.sql("SELECT value FROM consent_settings WHERE key = 'business_name'");
    let billing_before = sql::dump(&w.conn, "kunder");
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0));
    let summary = w.sync(w.t0 + 60);
    let mails: Vec<PathBuf> = std::fs::read_dir(w.dir.join("mail"))
        .expect("outbox")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(!mails.is_empty(), "{}", sync::to_text(&summary));
    for path in &mails {
        let raw = std::fs::read_to_string(path).expect("message");
        assert_one_recipient(&raw, &path.display().to_string());
    }
    // Every message went to a customer's own address or not at all.
    assert_eq!(
        mails.len() + summary.sent.errors.len(),
        5,
        "{}",
        sync::to_text(&summary)
    );
    assert_eq!(w.status(1), "sent");
    for customer in 2..=4 {
        let status = w.status(customer);
        assert!(
            status == "sent" || status == "error",
            "customer {customer}: {status}"
        );
    }
    assert_eq!(
        w.sql("SELECT value FROM consent_settings WHERE key = 'business_name'"),
        business_before
    );
    assert_eq!(sql::dump(&w.conn, "kunder"), billing_before);
}

#[test]
fn newlines_in_the_business_name_or_an_address_add_no_recipient_over_smtp() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    let server = SmtpServer::start(&[]);
    let w = hostile_mail_world("header-smtp", &smtp_email(server.port, 1, None));
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0));
    let summary = w.sync(w.t0 + 60);
    let received = server.received();
    assert!(!received.is_empty(), "{}", sync::to_text(&summary));
    for record in &received {
        let rcpt: Vec<&str> = record["rcpt_tos"]
            .as_array()
            .expect("rcpt_tos")
            .iter()
            .map(|r| r.as_str().expect("address"))
            .collect();
        assert_eq!(rcpt.len(), 1, "{record}");
        assert!(
            [
                "anna@example.se",
                "bo@example.se",
                "cia@example.se",
                "dan@example.se",
                "eva@example.se"
            ]
            .contains(&rcpt[0]),
            "sent to {rcpt:?}"
        );
        let raw = std::fs::read_to_string(record["eml"].as_str().expect("eml")).expect("eml");
        assert_one_recipient(&raw, record["eml"].as_str().unwrap_or_default());
    }
    assert_eq!(
        received.len() + summary.sent.errors.len(),
        5,
        "{}",
        sync::to_text(&summary)
    );
}

// ---------------------------------------------------------------------------
// 3. Secrets.

const SMTP_USER: &str = "portal-mailer";
const SMTP_PASSWORD: &str = "smtp-pw-Zk29-never-shown";
const SMTP_WRONG_PASSWORD: &str = "smtp-wrong-pw-Qa71-never-shown";
const SMS_USER: &str = "u7c0ffee1234";
const SMS_PASSWORD: &str = "sms-pw-Hx83-never-shown";

/// A 46elks-style gateway that answers by path, and whose error answers
/// echo the credentials it was sent, as careless servers do.
fn careless_gateway() -> SmsGateway {
    SmsGateway::start(|post, _| match post.path.as_str() {
        "/ok" => Answer::Created,
        "/auth" => Answer::Status(401, format!("Wrong login {SMS_USER} / {SMS_PASSWORD}")),
        "/bad" => Answer::Status(
            400,
            format!("Invalid to number (account {SMS_USER}:{SMS_PASSWORD})"),
        ),
        "/echo" => Answer::Status(
            400,
            format!(
                "Bad request. You sent Authorization: {}",
                post.authorization.as_deref().unwrap_or_default()
            ),
        ),
        _ => Answer::Status(404, "no such path".to_owned()),
    })
}

/// Every spelling of a secret the portal might leak, as bytes.
struct Secrets(Vec<(String, Vec<u8>)>);

impl Secrets {
    fn new(signing_key_file: &Path) -> Secrets {
        let text = std::fs::read_to_string(signing_key_file).expect("key file");
        let line = text.lines().nth(1).expect("key line").to_owned();
        let seed = STANDARD.decode(&line).expect("base64 seed");
        assert_eq!(seed.len(), 32);
        // The first 30 bytes encode to the same 40 base64 characters
        // whatever follows them, so these also catch the 64-byte key pair.
        let head = &seed[..30];
        let mut pkcs8 = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        pkcs8.extend_from_slice(&seed);
        let hex = token::hex(head);
        let mut all: Vec<(String, Vec<u8>)> = vec![
            ("key file line".into(), line.clone().into_bytes()),
            ("seed, raw".into(), head.to_vec()),
            ("seed, hex".into(), hex.clone().into_bytes()),
            ("seed, HEX".into(), hex.to_ascii_uppercase().into_bytes()),
            ("seed, base64".into(), STANDARD.encode(head).into_bytes()),
            ("seed, base64url".into(), URL_SAFE.encode(head).into_bytes()),
            (
                "seed, PKCS#8 PEM body".into(),
                STANDARD.encode(&pkcs8).as_bytes()[..56].to_vec(),
            ),
            (
                "seed, base64 unpadded".into(),
                STANDARD_NO_PAD.encode(&seed).into_bytes(),
            ),
            (
                "seed, base64url unpadded".into(),
                URL_SAFE_NO_PAD.encode(&seed).into_bytes(),
            ),
        ];
        for (name, secret) in [
            ("SMTP password", SMTP_PASSWORD),
            ("wrong SMTP password", SMTP_WRONG_PASSWORD),
            ("SMS password", SMS_PASSWORD),
            ("bearer token", BEARER),
        ] {
            all.push((name.into(), secret.as_bytes().to_vec()));
        }
        for (name, encoded) in [
            (
                "SMS basic auth",
                STANDARD.encode(format!("{SMS_USER}:{SMS_PASSWORD}")),
            ),
            (
                "SMTP AUTH PLAIN",
                STANDARD.encode(format!("\0{SMTP_USER}\0{SMTP_PASSWORD}")),
            ),
            (
                "wrong SMTP AUTH PLAIN",
                STANDARD.encode(format!("\0{SMTP_USER}\0{SMTP_WRONG_PASSWORD}")),
            ),
            ("SMTP AUTH LOGIN password", STANDARD.encode(SMTP_PASSWORD)),
        ] {
            all.push((name.into(), encoded.into_bytes()));
        }
        Secrets(all)
    }

    /// Panics naming the secret and where it was found.
    fn assert_absent(&self, place: &str, haystack: &[u8]) {
        for (name, needle) in &self.0 {
            assert!(
                !haystack
                    .windows(needle.len())
                    .any(|w| w == needle.as_slice()),
                "the {name} appears in {place}:\n{}",
                String::from_utf8_lossy(haystack)
            );
        }
    }
}

/// A deployment set up with the real binary, talking to a real SMTP server
/// that wants a login and to the gateway stand-in.
struct Deployment {
    dir: Scratch,
    smtp: SmtpServer,
    gateway: SmsGateway,
    /// Every command run, with its output.
    outputs: Vec<(String, Output)>,
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consent-portal"));
    command
        .env("CONSENT_SMTP_USERNAME", SMTP_USER)
        .env("CONSENT_SMTP_PASSWORD", SMTP_PASSWORD)
        .env("CONSENT_SMS_USERNAME", SMS_USER)
        .env("CONSENT_SMS_PASSWORD", SMS_PASSWORD)
        .env("CONSENT_COLLECTOR_TOKEN", BEARER);
    command
}

impl Deployment {
    #[track_caller]
    fn new(name: &str) -> Option<Deployment> {
        if !require(&[Tool::Aiosmtpd]) {
            return None;
        }
        let dir = Scratch::new(name);
        let smtp = SmtpServer::start(&["--auth", &format!("{SMTP_USER}:{SMTP_PASSWORD}")]);
        let gateway = careless_gateway();
        // The sample register; Eva has a mobile number here.
        let conn = Connection::open(dir.join("billing.db")).expect("open");
        conn.execute_batch(KUNDER).expect("the sample register");
        conn.execute_batch("UPDATE kunder SET mobil = '070-765 43 21' WHERE nr = 5")
            .expect("Eva's mobile number");
        drop(conn);
        let mut d = Deployment {
            dir,
            smtp,
            gateway,
            outputs: Vec::new(),
        };
        let db = d.dir.join("billing.db");
        let out = d.run(
            "init",
            binary().arg("init").arg("--db").arg(&db).args([
                "--table", "kunder", "--id", "nr", "--email", "epost", "--mobile", "mobil",
                "--name", "namn",
            ]),
        );
        assert!(out.status.success(), "{}", text(&out));
        SetUp::settings()
            .business_name(BUSINESS_NAME)
            .info_text(INFO_TEXT)
            .sms()
            .then("SELECT consent_queue(1)")
            .then("SELECT consent_queue(2)")
            .apply(&sample::open(&db));
        Some(d)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("consent.toml")
    }

    /// consent.toml with e-mail over the SMTP server, SMS to `sms_path` on
    /// the gateway, and decisions collected from `sources`.
    fn configure(&self, sms_path: &str, sources: &[String]) {
        let mut text = config::template(
            "billing.db",
            "https://samtycke.example.se",
            "https://insamling.example.se/decision",
        );
        let sources: Vec<String> = sources.iter().map(|s| format!("\"{s}\"")).collect();
        text = text.replace(
            "sources = []",
            &format!("sources = [{}]", sources.join(", ")),
        );
        text.push_str(&smtp_email(self.smtp.port, 1, Some(10)));
        text.push_str(&http_sms(&self.gateway.url(sms_path), 10));
        std::fs::write(self.config_path(), text).expect("config");
    }

    fn run(&mut self, what: &str, command: &mut Command) -> Output {
        let out = command.output().expect("run consent-portal");
        self.outputs.push((what.to_owned(), out.clone()));
        out
    }

    fn portal(&mut self, args: &[&str]) -> Output {
        let config = self.config_path();
        let mut command = binary();
        command.args(args).arg("--config").arg(config);
        self.run(&args.join(" "), &mut command)
    }

    fn sql(&self, sql: &str) -> String {
        sql::text(&sample::open(&self.dir.join("billing.db")), sql)
    }

    fn secrets(&self) -> Secrets {
        Secrets::new(&self.dir.join("consent-signing.key"))
    }

    /// Scans every output, every file of the deployment but the signing key
    /// itself, and every row of every table of its databases.
    fn assert_no_secret_anywhere(&self) {
        let secrets = self.secrets();
        for (what, out) in &self.outputs {
            secrets.assert_absent(&format!("the stdout of `{what}`"), &out.stdout);
            secrets.assert_absent(&format!("the stderr of `{what}`"), &out.stderr);
        }
        let mut scanned = 0;
        for entry in walkdir::WalkDir::new(&self.dir) {
            let entry = entry.expect("walk");
            if !entry.file_type().is_file() || entry.file_name() == "consent-signing.key" {
                continue;
            }
            let bytes = std::fs::read(entry.path()).expect("read");
            secrets.assert_absent(&entry.path().display().to_string(), &bytes);
            scanned += 1;
        }
        assert!(scanned >= 8, "only {scanned} files scanned");
        for db in ["billing.db", INBOX] {
            let conn = Connection::open(self.dir.join(db)).expect("open");
            let tables: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .expect("prepare")
                .query_map([], |r| r.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("tables");
            assert!(!tables.is_empty(), "{db}");
            for table in tables {
                let rows = rows_as_text(&conn, &table).join("\n");
                secrets.assert_absent(&format!("{db} table {table}"), rows.as_bytes());
            }
        }
    }
}

/// `consent-portal serve` as its own process; stopped with SIGTERM.
struct Serve {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Serve {
    fn start(d: &Deployment) -> Serve {
        let log = d.dir.join("serve.stderr");
        let mut child = binary()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(d.config_path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start serve");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut first)
            .expect("serve says where it listens");
        let base = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Serve { child, base, log }
    }

    /// Stops it as a service manager would; returns everything it wrote.
    fn stop(mut self) -> (Vec<u8>, Vec<u8>) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let mut stdout = Vec::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_end(&mut stdout);
        }
        let _ = self.child.wait();
        (stdout, std::fs::read(&self.log).expect("serve log"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn no_secret_in_any_output_page_file_or_database_of_any_command() {
    let Some(mut d) = Deployment::new("secrets") else {
        return;
    };
    for sub in [
        vec!["--help"],
        vec!["help"],
        vec!["--version"],
        vec!["init", "--help"],
        vec!["render", "--help"],
        vec!["serve", "--help"],
        vec!["sync", "--help"],
        vec!["status", "--help"],
        vec!["demo", "--help"],
        vec!["walkthrough", "--help"],
        vec!["sync", "-h"],
    ] {
        let out = d.run(&sub.join(" "), binary().args(&sub));
        assert!(out.status.success(), "{sub:?}: {}", text(&out));
    }

    // Pages, then a run that sends by e-mail and SMS with good credentials.
    d.configure("/ok", &[]);
    let out = d.portal(&["render"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = d.portal(&["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("sent: 1 by e-mail, 1 by SMS"),
        "{}",
        text(&out)
    );
    assert_eq!(d.smtp.received().len(), 1);
    assert_eq!(d.gateway.posted().len(), 1);

    // The collector, as its own process, takes Anna's decision; sync
    // fetches it over HTTP with the bearer token.
    let serve = Serve::start(&d);
    d.configure("/ok", std::slice::from_ref(&serve.base));
    let page_id = d.sql("SELECT page_id FROM consent_request WHERE customer_id = 1");
    let page = std::fs::read_to_string(d.dir.join(format!("site/c/{page_id}.html"))).expect("page");
    let anna = token_of(&page, "approve");
    let post = |token: &str| {
        client()
            .post(&format!("{}/decision", serve.base))
            .send_form([("token", token)])
            .expect("answer")
            .status()
            .as_u16()
    };
    assert_eq!(post(&anna), 303);
    assert_eq!(post("v2.forged"), 400);
    assert_eq!(post("v1.forged"), 400);
    let mut wrong = client()
        .get(&format!("{}/decisions", serve.base))
        .header("Authorization", "Bearer not-the-token")
        .call()
        .expect("answer");
    assert_eq!(wrong.status().as_u16(), 401);
    let body = wrong.body_mut().read_to_string().expect("body");
    d.secrets()
        .assert_absent("the collector's 401 answer", body.as_bytes());
    let out = d.portal(&["sync", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(d.sql("SELECT consent_status(1)"), "approved");

    // Failing runs: a wrong bearer token, a wrong SMTP password, an SMS
    // gateway that refuses the login or the number and echoes the login.
    let out = {
        let config = d.config_path();
        let mut command = binary();
        command.args(["sync", "--config"]).arg(config).env(
            "CONSENT_COLLECTOR_TOKEN",
            "wrong-bearer-token-for-this-test",
        );
        d.run("sync with a wrong bearer token", &mut command)
    };
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("HTTP 401"), "{}", text(&out));
    let (serve_stdout, serve_stderr) = serve.stop();
    d.secrets()
        .assert_absent("the stdout of serve", &serve_stdout);
    d.secrets()
        .assert_absent("the stderr of serve", &serve_stderr);
    assert!(
        String::from_utf8_lossy(&serve_stderr).contains("refused a decision"),
        "{}",
        String::from_utf8_lossy(&serve_stderr)
    );
    d.configure("/auth", &[]);

    d.sql("SELECT consent_queue(3)");
    let out = {
        let config = d.config_path();
        let mut command = binary();
        command
            .args(["sync", "--config"])
            .arg(config)
            .env("CONSENT_SMTP_PASSWORD", SMTP_WRONG_PASSWORD);
        d.run("sync with a wrong SMTP password", &mut command)
    };
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("CONSENT_SMTP_PASSWORD: 535"),
        "{}",
        text(&out)
    );
    assert_eq!(d.sql("SELECT consent_status(3)"), "queued");

    // E-mail works again; the SMS gateway refuses the login.
    d.sql("SELECT consent_queue(5)");
    let out = d.portal(&["sync"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
    assert_eq!(d.sql("SELECT consent_status(5)"), "queued");
    // The gateway refuses the number, echoing the login: the reason is
    // stored in the register.
    d.configure("/bad", &[]);
    let out = d.portal(&["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(d.sql("SELECT consent_status(5)"), "error");
    let reason = d.sql("SELECT reason FROM consent_request WHERE customer_id = 5");
    assert!(reason.contains("400"), "{reason}");

    for args in [
        &["status"][..],
        &["status", "--json"],
        &["sync", "--dry-run", "--json"],
        &["render"],
    ] {
        let out = d.portal(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    d.assert_no_secret_anywhere();
}

#[test]
fn a_signing_key_open_to_others_stops_every_command_that_signs_without_showing_it() {
    let Some(mut d) = Deployment::new("key-mode") else {
        return;
    };
    d.configure("/ok", &[]);
    let key = d.dir.join("consent-signing.key");
    assert_eq!(
        std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
        0o600
    );
    for mode in [0o640, 0o604, 0o644] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).expect("chmod");
        for args in [&["render"][..], &["sync"]] {
            let out = d.portal(args);
            assert!(!out.status.success(), "{args:?} ran with a {mode:o} key");
            assert!(text(&out).contains("chmod 600"), "{args:?}: {}", text(&out));
        }
    }
    assert!(!d.dir.join("site").exists(), "a page was written");
    assert_eq!(d.smtp.received().len(), 0, "a message was sent");
    // The collector needs only the public key: it runs without the
    // signing key file at all.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let secret = std::fs::read(&key).expect("key");
    let secrets = d.secrets();
    std::fs::remove_file(&key).expect("move the key away");
    let serve = Serve::start(&d);
    let answer = client()
        .post(&format!("{}/decision", serve.base))
        .send_form([("token", "v2.AAAA")])
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 400);
    let (stdout, stderr) = serve.stop();
    std::fs::write(&key, secret).expect("key back");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    secrets.assert_absent("serve's stdout", &stdout);
    secrets.assert_absent("serve's stderr", &stderr);
    for (what, out) in &d.outputs {
        secrets.assert_absent(what, &out.stdout);
        secrets.assert_absent(what, &out.stderr);
    }
}

#[test]
fn an_sms_gateway_echoing_the_login_in_any_form_does_not_leak_it() {
    let gateway = careless_gateway();
    let config = Sms {
        from: "DahlsRor".to_owned(),
        transport: SmsTransport::Http,
        gateway_url: Some(gateway.url("/echo")),
        file_dir: None,
        timeout_seconds: 10,
    };
    let basic = STANDARD.encode(format!("{SMS_USER}:{SMS_PASSWORD}"));
    for path in ["/bad", "/echo"] {
        let mut config = config.clone();
        config.gateway_url = Some(gateway.url(path));
        let sender = SmsSender::new(
            &config,
            Path::new("."),
            Some(Credentials {
                username: SMS_USER.to_owned(),
                password: SMS_PASSWORD.to_owned(),
            }),
        )
        .expect("sender");
        let e = sender.send("0701234567", "Hej").expect_err("400");
        // What the register stores and what sync prints.
        for shown in [
            e.to_string(),
            e.reason(consent_extension::Language::Sv),
            format!("{e:?}"),
        ] {
            assert!(shown.contains("400"), "{path}: {shown}");
            assert!(!shown.contains(SMS_PASSWORD), "{path}: {shown}");
            assert!(
                !shown.contains(&basic),
                "{path}: the login, base64-encoded as it was sent, is shown: {shown}"
            );
        }
    }
}

/// The run collected `n` decisions; else the whole summary.
fn assert_collected(summary: &sync::Summary, n: usize) {
    assert_eq!(summary.decisions.collected, n, "{}", sync::to_text(summary));
}
