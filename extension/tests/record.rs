//! `consent_record(id)`: a customer's whole record as JSON, through every
//! status, on a bundled SQLite connection; what it must never show (page
//! ids, contact details); that it only reads; and the Rust API the portal
//! uses (`consent_extension::record`).

use consent_extension::notices::{self, NoticeKind};
use consent_extension::record::{self, Record};
use consent_extension::requests::{self, StoredText, TextInputs};
use consent_extension::{register, time, ConsentError, Language};
use consent_testkit::sample::{SetUp, BUSINESS_NAME, CUSTOMERS, INFO_TEXT};
use consent_testkit::sql::{self, error, text as one};
use consent_testkit::Scratch;
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

const PAGE: &str = "q3Zx8mB1vR7tK2wYp0LdNg";
const PAGE_AGAIN: &str = "Wn6yB2dFq9hM4kZs1vXcRt";
const WITHDRAWAL_PAGE: &str = "Hc4uT9eWm2sJ6aXo1bQyZA";

/// [`CUSTOMERS`] set up with the business's name: Anna (e-mail), Bo
/// (mobile), Cecilia (neither), David (both).
fn register_db() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    register(&conn).expect("register");
    SetUp::customers().business_name(BUSINESS_NAME).apply(&conn);
    conn
}

/// `consent_record(id)` parsed.
fn record(conn: &Connection, id: &str) -> Json {
    let text = one(conn, &format!("SELECT consent_record({id})"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The raw JSON text of a record.
fn raw(conn: &Connection, id: &str) -> String {
    one(conn, &format!("SELECT consent_record({id})"))
}

fn call(conn: &Connection, sql: &str) -> String {
    one(conn, &format!("SELECT {sql}"))
}

/// The page text stored as the portal stores it, and the request's page
/// id and text hash recorded as render records them.
fn render(conn: &Connection, customer: i64, page_id: &str, body: &str) -> String {
    let hash = hex::encode(Sha256::digest(body.as_bytes()));
    requests::record_text(
        conn,
        &StoredText {
            hash: hash.clone(),
            language: Language::Sv,
            body: body.to_owned(),
            inputs: Some(TextInputs {
                info_text: INFO_TEXT.to_owned(),
                business_name: BUSINESS_NAME.to_owned(),
                expiry_days: 7,
            }),
        },
        time::parse("2026-11-02T09:30:00Z").expect("time"),
    )
    .expect("record the text");
    let request = sql::int(
        conn,
        &format!("SELECT id FROM consent_request WHERE customer_id = {customer} ORDER BY id DESC LIMIT 1"),
    );
    assert!(requests::assign_page_id(conn, request, page_id, &hash).expect("assign"));
    hash
}

/// Lower-case hex, without a crate for it.
mod hex {
    pub fn encode(bytes: impl AsRef<[u8]>) -> String {
        bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The evidence the portal records for an approval on a consent page.
fn signed_evidence(text_hash: &str) -> String {
    json!({
        "via": "consent page",
        "decision": "approve",
        "received_at": "2026-11-03T18:12:00Z",
        "applied_at": "2026-11-03T18:15:00Z",
        "text_sha256": text_hash,
        "token": "AgEAAAAAAAAAAQ-not-a-real-token",
    })
    .to_string()
}

#[test]
fn a_customer_never_asked_has_an_empty_record() {
    let conn = register_db();
    let r = record(&conn, "3");
    assert_eq!(r["record_schema"], "consent-record/1");
    assert_eq!(
        r["conforms_to"],
        json!(["ISO/IEC TS 27560:2023", "Kantara Consent Receipt v1.1"])
    );
    assert_eq!(r["record_id"], "customers:3");
    assert_eq!(r["subject"], json!({"customer_id": 3}));
    assert_eq!(r["controller"], json!({"name": BUSINESS_NAME}));
    assert_eq!(r["purpose"], INFO_TEXT);
    assert_eq!(r["language"], "sv");
    assert_eq!(r["status"], "missing");
    assert_eq!(r["label"], "Samtycke saknas");
    assert_eq!(r["consent"], Json::Null);
    assert_eq!(r["requests"], json!([]));
    assert_eq!(r["events"], json!([]));
    assert_eq!(r["chain"], Json::Null);
    // No clock inside, and the keys in the documented order.
    let text = raw(&conn, "3");
    assert!(!text.contains("generated"), "{text}");
    let keys: Vec<&str> = [
        "record_schema",
        "conforms_to",
        "record_id",
        "subject",
        "controller",
        "purpose",
        "language",
        "status",
        "label",
        "consent",
        "requests",
        "events",
        "chain",
    ]
    .to_vec();
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect("key"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn the_record_follows_one_customer_through_every_status() {
    let conn = register_db();
    assert_eq!(
        call(&conn, "consent_queue(1, '2026-11-02T09:00:00Z')"),
        "queued"
    );
    let r = record(&conn, "1");
    assert_eq!(
        (r["status"].as_str(), r["label"].as_str()),
        (Some("queued"), Some("Begäran om samtycke är köad"))
    );
    let consent = &r["consent"];
    assert_eq!(consent["status"], "queued");
    assert_eq!(consent["asked_at"], "2026-11-02T09:00:00Z");
    assert_eq!(consent["notice"], Json::Null, "no page yet");
    assert_eq!(consent["method"], Json::Null);
    assert_eq!(consent["withdrawal"], Json::Null);
    assert_eq!(r["requests"].as_array().map(Vec::len), Some(1));

    // The portal renders the page (its words fixed), then sends it.
    let body =
        format!("{BUSINESS_NAME}\n\n{INFO_TEXT}\n\nDu kan när som helst återkalla ditt samtycke.");
    let hash = render(&conn, 1, PAGE, &body);
    assert_eq!(
        call(
            &conn,
            "consent_mark_sent(1, 'email', NULL, '2026-11-02T10:00:00Z')"
        ),
        "sent"
    );
    let r = record(&conn, "1");
    let consent = &r["consent"];
    assert_eq!(consent["status"], "sent");
    assert_eq!(consent["channel"], "email");
    assert_eq!(consent["sent_at"], "2026-11-02T10:00:00Z");
    assert_eq!(
        consent["notice"],
        json!({"sha256": hash, "language": "sv", "text": body})
    );
    // The list of requests names the words by their hash only.
    assert_eq!(
        r["requests"][0]["notice"],
        json!({"sha256": hash, "language": "sv"})
    );

    // Approved on the page, with the portal's signed evidence.
    let evidence = signed_evidence(&hash);
    conn.query_row(
        "SELECT consent_approve(1, ?1, '2026-11-03T18:12:00Z')",
        [&evidence],
        |_| Ok(()),
    )
    .expect("approve");
    let request_id = sql::int(
        &conn,
        "SELECT id FROM consent_request WHERE customer_id = 1",
    );
    let at = time::parse("2026-11-03T18:15:00Z").expect("time");
    assert!(notices::create(
        &conn,
        request_id,
        NoticeKind::Receipt,
        Some(WITHDRAWAL_PAGE),
        at
    )
    .expect("receipt"));
    let r = record(&conn, "1");
    let consent = &r["consent"];
    assert_eq!(r["status"], "approved");
    assert_eq!(r["label"], "Samtycke är godkänt");
    assert_eq!(consent["method"], "consent page");
    assert_eq!(consent["given_at"], "2026-11-03T18:12:00Z");
    assert_eq!(consent["decided_at"], "2026-11-03T18:12:00Z");
    assert_eq!(consent["withdrawn_at"], Json::Null);
    assert_eq!(
        consent["evidence"]["via"], "consent page",
        "evidence parsed as JSON"
    );
    assert_eq!(consent["evidence"]["text_sha256"], hash.as_str());
    assert_eq!(
        consent["receipt"],
        json!({"created_at": "2026-11-03T18:15:00Z", "sent_at": null, "error": null})
    );
    assert_eq!(
        consent["withdrawal"],
        json!({"methods": ["withdrawal page", "ask the business"], "confirmation": null})
    );
    let notice_id = sql::int(&conn, "SELECT id FROM consent_notice");
    assert!(notices::mark_sent(&conn, notice_id, at + 5).expect("mark the receipt sent"));
    assert_eq!(
        record(&conn, "1")["consent"]["receipt"]["sent_at"],
        "2026-11-03T18:15:05Z"
    );

    // Withdrawn: the consent given stays on record, with when it ended.
    assert_eq!(
        call(
            &conn,
            "consent_revoke(1, 'kunden ringde', '2026-11-20T14:30:00Z')"
        ),
        "denied"
    );
    assert!(
        notices::create(&conn, request_id, NoticeKind::Withdrawal, None, at + 60)
            .expect("confirmation")
    );
    let r = record(&conn, "1");
    let consent = &r["consent"];
    assert_eq!(
        (r["status"].as_str(), r["label"].as_str()),
        (Some("denied"), Some("Samtycke är nekat"))
    );
    assert_eq!(consent["given_at"], "2026-11-03T18:12:00Z");
    assert_eq!(consent["withdrawn_at"], "2026-11-20T14:30:00Z");
    assert_eq!(consent["decided_at"], "2026-11-20T14:30:00Z");
    assert_eq!(consent["reason"], "kunden ringde");
    assert_eq!(consent["method"], "consent page", "how it was given");
    assert_eq!(
        consent["withdrawal"]["confirmation"]["created_at"],
        "2026-11-03T18:16:00Z"
    );

    // Asked again: a second request, sent and left to expire.
    assert_eq!(
        call(&conn, "consent_queue(1, '2026-11-21T08:00:00Z')"),
        "queued"
    );
    render(&conn, 1, PAGE_AGAIN, &body);
    call(
        &conn,
        "consent_mark_sent(1, 'sms', NULL, '2026-11-23T10:00:00Z')",
    );
    assert_eq!(call(&conn, "consent_expire('2026-11-30T10:00:00Z')"), "1");
    let r = record(&conn, "1");
    let requests = r["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["request_id"], request_id);
    assert_eq!(requests[0]["status"], "denied");
    assert_eq!(requests[0]["given_at"], "2026-11-03T18:12:00Z");
    assert!(requests[0]["notice"].get("text").is_none());
    let consent = &r["consent"];
    assert_eq!(consent, &{
        let mut current = requests[1].clone();
        current["notice"]["text"] = Json::from(body.as_str());
        current
    });
    assert_eq!(consent["status"], "denied");
    assert_eq!(consent["channel"], "sms");
    assert_eq!(consent["reason"], "expired");
    assert_eq!(
        r["events"]
            .as_array()
            .and_then(|e| e.last())
            .map(|e| e["detail"].clone()),
        Some(json!("inget svar inom 7 dagar"))
    );
    assert_eq!(consent["given_at"], Json::Null);
    assert_eq!(consent["method"], Json::Null);
    assert_eq!(consent["withdrawal"], Json::Null);
    assert_eq!(consent["receipt"], Json::Null);

    // The events are the customer's rows of the log, in order, and the
    // chain names the last one's hash.
    let events = r["events"].as_array().expect("events");
    let log: Vec<(i64, String, String, String)> = sql::rows(
        &conn,
        "SELECT id, to_status, at, hash FROM consent_event WHERE customer_id = 1 ORDER BY id",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    );
    assert_eq!(events.len(), log.len());
    for (event, (id, to, at, hash)) in events.iter().zip(&log) {
        assert_eq!(
            (&event["id"], &event["to"], &event["at"], &event["hash"]),
            (&json!(id), &json!(to), &json!(at), &json!(hash))
        );
    }
    assert_eq!(events[0]["detail"], Json::Null, "a queue records no detail");
    assert_eq!(events[0]["from"], "missing");
    assert_eq!(events[0]["actor"], "consent_queue");
    let last = log.last().expect("events");
    assert_eq!(
        r["chain"],
        json!({"events": log.len(), "first_event_id": log[0].0, "last_event_id": last.0, "last_hash": last.3})
    );
    assert_eq!(one(&conn, "SELECT consent_verify_log()"), "ok");

    // Never a page id, the withdrawal page's included.
    let text = raw(&conn, "1");
    for secret in [
        PAGE,
        PAGE_AGAIN,
        WITHDRAWAL_PAGE,
        "anna@example.se",
        "page_id",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn approvals_by_hand_errors_and_declines_are_on_record() {
    let conn = register_db();
    // Cecilia cannot be reached: an error request with its reason.
    assert_eq!(
        call(&conn, "consent_queue(3, '2026-11-02T09:00:00Z')"),
        "error"
    );
    let r = record(&conn, "3");
    assert_eq!(r["status"], "error");
    assert_eq!(r["label"], "Fel vid begäran av samtycke");
    assert_eq!(
        r["consent"]["reason"],
        "Kunden saknar både e-postadress och mobilnummer"
    );
    assert_eq!(r["consent"]["channel"], Json::Null);
    // She approves at the counter.
    assert_eq!(
        call(&conn, "consent_approve(3, NULL, '2026-11-04T11:00:00Z')"),
        "approved"
    );
    let r = record(&conn, "3");
    assert_eq!(r["requests"].as_array().map(Vec::len), Some(2));
    let consent = &r["consent"];
    assert_eq!(consent["method"], "by hand");
    assert_eq!(consent["evidence"], "manual", "text evidence stays text");
    assert_eq!(consent["given_at"], "2026-11-04T11:00:00Z");
    assert_eq!(consent["asked_at"], "2026-11-04T11:00:00Z");
    assert_eq!(consent["notice"], Json::Null);
    assert_eq!(
        consent["withdrawal"],
        json!({"methods": ["ask the business"], "confirmation": null})
    );

    // David declines on his page.
    call(&conn, "consent_queue(4, '2026-11-02T09:00:00Z')");
    call(
        &conn,
        "consent_mark_sent(4, 'email', NULL, '2026-11-02T10:00:00Z')",
    );
    call(
        &conn,
        "consent_revoke(4, 'declined', '2026-11-02T11:00:00Z')",
    );
    let consent = &record(&conn, "4")["consent"];
    assert_eq!(consent["status"], "denied");
    assert_eq!(consent["reason"], "declined");
    assert_eq!(consent["withdrawn_at"], Json::Null, "declined, never given");
    assert_eq!(consent["withdrawal"], Json::Null);

    // Bo's SMS failed: the reason, with his number kept out.
    call(&conn, "consent_setting('sms_enabled', 1)");
    call(&conn, "consent_queue(2, '2026-11-02T09:00:00Z')");
    call(
        &conn,
        "consent_mark_error(2, 'gateway: 070-123 45 67 is not in service', '2026-11-02T10:00:00Z')",
    );
    let text = raw(&conn, "2");
    assert!(!text.contains("070-123 45 67"), "{text}");
    let consent = &record(&conn, "2")["consent"];
    assert_eq!(
        consent["reason"],
        "gateway: [mobile number] is not in service"
    );
    assert_eq!(record(&conn, "2")["events"][1]["detail"], consent["reason"]);
}

#[test]
fn page_ids_and_contact_details_in_recorded_texts_are_replaced() {
    let conn = register_db();
    call(&conn, "consent_queue(1, '2026-11-02T09:00:00Z')");
    call(
        &conn,
        &format!("consent_mark_sent(1, 'email', '{PAGE}', '2026-11-02T10:00:00Z')"),
    );
    // A DBA's evidence naming the page (as the reference's example does).
    call(
        &conn,
        &format!("consent_approve(1, 'decision signed for page {PAGE}', '2026-11-03T18:12:00Z')"),
    );
    call(
        &conn,
        "consent_revoke(1, 'mail from ANNA@example.se: stop', '2026-11-04T09:00:00Z')",
    );
    let text = raw(&conn, "1");
    assert!(!text.contains(PAGE), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("anna@example.se"),
        "{text}"
    );
    let r = record(&conn, "1");
    assert_eq!(
        r["consent"]["evidence"],
        "decision signed for page [page id]"
    );
    assert_eq!(r["consent"]["method"], "by hand");
    assert_eq!(r["consent"]["reason"], "mail from [e-mail address]: stop");
}

#[test]
fn misuse_is_an_error() {
    let conn = register_db();
    let e = error(&conn, "SELECT consent_record(99)");
    assert_eq!(
        e,
        "consent_record: no customer with id 99 in table \"customers\"; pass an id from \"customers\".\"id\""
    );
    let e = error(&conn, "SELECT consent_record(NULL)");
    assert!(e.contains("consent_record: id is NULL"), "{e}");
    let e = error(&conn, "SELECT consent_record()");
    assert!(
        e.contains("takes consent_record(id), got 0 arguments"),
        "{e}"
    );
    let e = error(&conn, "SELECT consent_record(1, 2)");
    assert!(e.contains("got 2 arguments"), "{e}");

    let bare = Connection::open_in_memory().expect("open");
    bare.execute_batch(CUSTOMERS).expect("register");
    register(&bare).expect("register");
    let e = error(&bare, "SELECT consent_record(1)");
    assert!(e.contains("consent_record: consent is not set up"), "{e}");
    assert!(matches!(
        record::of(&bare, &Value::Integer(1)),
        Err(ConsentError::NotSetUp { .. })
    ));
    assert!(matches!(
        record::of(&conn, &Value::Integer(99)),
        Err(ConsentError::UnknownCustomer { .. })
    ));
}

#[test]
fn it_only_reads() {
    let conn = register_db();
    call(
        &conn,
        "consent_queue_all('missing', '2026-11-02T09:00:00Z')",
    );
    let before = sql::dump(&conn, "consent_request");
    let events = sql::dump(&conn, "consent_event");
    conn.execute_batch("PRAGMA query_only = 1")
        .expect("query_only");
    for id in 1..=4 {
        record(&conn, &id.to_string());
    }
    // From a view, too: it is not direct-only, since it writes nothing.
    conn.execute_batch("PRAGMA query_only = 0; CREATE TEMP VIEW records AS SELECT id, consent_record(id) AS r FROM customers; PRAGMA query_only = 1;")
        .expect("a view");
    assert_eq!(sql::int(&conn, "SELECT count(r) FROM records"), 4);
    assert_eq!(sql::dump(&conn, "consent_request"), before);
    assert_eq!(sql::dump(&conn, "consent_event"), events);
}

#[test]
fn the_rust_api_gives_the_same_record() {
    let conn = register_db();
    call(&conn, "consent_queue(1, '2026-11-02T09:00:00Z')");
    call(&conn, "consent_approve(1, NULL, '2026-11-03T09:00:00Z')");
    call(&conn, "consent_setting('language', 'en')");
    let from_sql = raw(&conn, "1");
    let from_rust: Record = record::of(&conn, &Value::Integer(1)).expect("record");
    assert_eq!(from_rust.to_json(), from_sql);
    assert_eq!(from_rust.label, "Consent approved");
    assert_eq!(from_rust.language, "en");
    // A text id matches an INTEGER id column, as consent_status does.
    assert_eq!(
        record::of(&conn, &Value::Text("1".into()))
            .expect("text id")
            .to_json(),
        from_sql
    );
    let pretty: Json = serde_json::from_str(&from_rust.to_json_pretty()).expect("pretty JSON");
    assert_eq!(
        pretty,
        serde_json::from_str::<Json>(&from_sql).expect("JSON")
    );
}

#[test]
fn customers_are_listed_page_by_page() {
    let conn = register_db();
    call(&conn, "consent_queue(2, '2026-11-02T09:00:00Z')");
    call(&conn, "consent_queue(4, '2026-11-02T09:00:00Z')");
    assert_eq!(record::count(&conn, false).expect("count"), 2);
    assert_eq!(record::count(&conn, true).expect("count"), 4);
    let first = record::customers(&conn, None, 1, false).expect("page");
    assert_eq!(first, [Value::Integer(2)]);
    let next = record::customers(&conn, first.last(), 1, false).expect("page");
    assert_eq!(next, [Value::Integer(4)]);
    assert!(record::customers(&conn, next.last(), 1, false)
        .expect("page")
        .is_empty());
    assert_eq!(
        record::customers(&conn, None, 10, true).expect("all").len(),
        4
    );
}

#[test]
fn text_ids_and_a_closed_connection() {
    let dir = Scratch::new("record-text-ids");
    let path = dir.join("billing.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(
        "CREATE TABLE kunder (nr TEXT PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT);
         INSERT INTO kunder VALUES ('K/17', 'Anna', 'anna@example.se', NULL), ('007', 'Bo', 'bo@example.se', NULL);",
    )
    .expect("register");
    register(&conn).expect("register");
    SetUp::init("kunder", "nr", "epost", "mobil", Some("namn"))
        .info_text(INFO_TEXT)
        .apply(&conn);
    call(
        &conn,
        "consent_queue_all('missing', '2026-11-02T09:00:00Z')",
    );
    let r = record(&conn, "'K/17'");
    assert_eq!(r["record_id"], "kunder:K/17");
    assert_eq!(r["subject"]["customer_id"], "K/17");
    assert_eq!(record(&conn, "'007'")["subject"]["customer_id"], "007");
    let e = error(&conn, "SELECT consent_record(7)");
    assert!(e.contains("no customer with id 7"), "{e}");
    // Every record in one statement; the connection then closes cleanly
    // (no statement of ours outlives the call).
    assert_eq!(
        sql::int(&conn, "SELECT count(consent_record(nr)) FROM kunder"),
        2
    );
    conn.close().map_err(|(_, e)| e).expect("close");
}
