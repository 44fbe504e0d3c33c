//! Two collectors, as behind a load balancer: two `consent-portal serve`
//! processes, each with its own inbox, both verifying with the portal's
//! one public key, and one real `consent-portal sync` whose
//! `collector.sources` lists both. Customers decide on either (one presses
//! twice and hits both); each decision is applied exactly once, a second
//! sync applies nothing. Then one collector dies holding a decision sync
//! has not read: the next sync applies the other's, names the dead one as
//! a source error and skips expiry; once it is back on its inbox, the
//! following sync picks up what it held.

use std::process::Output;

use consent_portal::collector::TOKEN_ENV;
use consent_testkit::billing::Register;
use consent_testkit::press;
use consent_testkit::sql;
use consent_testkit::world::FILE_EMAIL;

use crate::one_at_a_time;
use crate::serve_process::{collector_of, free_port, Server, Setup};

pub const BEARER: &str = "several-collectors-feed-token";

/// One `consent-portal sync --json` with the feed's token: its summary.
pub fn sync(register: &Register) -> (serde_json::Value, Output) {
    let out = register
        .sync_command()
        .env(TOKEN_ENV, BEARER)
        .output()
        .expect("run consent-portal sync");
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "sync printed no summary ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (summary, out)
}

/// The token of a button (`approve`, `decline`) on the customer's page, as
/// sync rendered it.
pub fn token(register: &Register, customer: i64, decision: &str) -> String {
    let page_id = sql::text(
        &register.conn(),
        &format!(
            "SELECT page_id FROM consent_request WHERE customer_id = {customer} \
             ORDER BY id DESC LIMIT 1"
        ),
    );
    let page = register.dir.join("site/c").join(format!("{page_id}.html"));
    press::token_of(
        &std::fs::read_to_string(&page).expect("the customer's page"),
        decision,
    )
}

/// Presses the customer's button on the collector at `base`; 303 expected.
pub fn press(register: &Register, base: &str, customer: i64, decision: &str) {
    let status = press::press(base, &token(register, customer, decision));
    assert_eq!(status, 303, "customer {customer} {decision} on {base}");
}

/// How many times the customer's status became `to` (the log's rows).
pub fn events(register: &Register, customer: i64, to: &str) -> i64 {
    sql::int(
        &register.conn(),
        &format!(
            "SELECT count(*) FROM consent_event WHERE customer_id = {customer} AND to_status = '{to}'"
        ),
    )
}

/// Where a collector on `port` takes decisions and hands them out.
pub fn base(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

#[test]
fn two_collectors_each_decision_applied_once_and_a_dead_one_catches_up() {
    let _one = one_at_a_time();
    let ports = [free_port(), free_port()];
    assert_ne!(ports[0], ports[1]);
    let sources: Vec<String> = ports.iter().map(|p| base(*p)).collect();
    let register = Register::create("several-collectors", 8, 0, FILE_EMAIL, &sources);
    let collectors: Vec<Setup> = ports
        .iter()
        .zip(["collector-a", "collector-b"])
        .map(|(port, name)| collector_of(register.dir.path(), name, *port, BEARER))
        .collect();
    let (a, b) = (&collectors[0], &collectors[1]);
    let (base_a, base_b) = (base(ports[0]), base(ports[1]));
    let server_a = Server::start(a);
    let server_b = Server::start(b);

    // Render and send: every customer's page is out.
    let (first, out) = sync(&register);
    assert!(out.status.success(), "{first}");
    assert_eq!(first["delivery"]["sent_email"], 8, "{first}");

    // Approve on A for 1 and 2, decline on A for 3; approve on B for 4,
    // decline on B for 5; customer 6 approves on both.
    press(&register, &base_a, 1, "approve");
    press(&register, &base_a, 2, "approve");
    press(&register, &base_a, 3, "decline");
    press(&register, &base_b, 4, "approve");
    press(&register, &base_b, 5, "decline");
    press(&register, &base_a, 6, "approve");
    press(&register, &base_b, 6, "approve");

    let (second, out) = sync(&register);
    assert!(out.status.success(), "{second}");
    assert_eq!(second["source_errors"], serde_json::json!([]), "{second}");
    assert_eq!(second["collected"], 7, "{second}");
    assert_eq!(second["approved"], 4, "{second}");
    assert_eq!(second["declined"], 2, "{second}");
    let statuses = register.statuses();
    for (customer, status) in [
        (1, "approved"),
        (2, "approved"),
        (3, "denied"),
        (4, "approved"),
        (5, "denied"),
        (6, "approved"),
        (7, "sent"),
        (8, "sent"),
    ] {
        assert_eq!(statuses[&customer], status, "customer {customer}");
    }
    for customer in [1, 2, 4, 6] {
        assert_eq!(
            events(&register, customer, "approved"),
            1,
            "customer {customer}"
        );
    }
    for customer in [3, 5] {
        assert_eq!(
            events(&register, customer, "denied"),
            1,
            "customer {customer}"
        );
    }

    let (third, out) = sync(&register);
    assert!(out.status.success(), "{third}");
    assert_eq!(
        third["collected"], 0,
        "a second sync collects nothing new: {third}"
    );
    assert_eq!(events(&register, 6, "approved"), 1);

    // B holds a decision sync has not read when it dies; A takes another.
    press(&register, &base_b, 8, "decline");
    server_b.kill();
    press(&register, &base_a, 7, "approve");
    let (fourth, out) = sync(&register);
    assert_eq!(out.status.code(), Some(2), "an incomplete run: {fourth}");
    assert_eq!(fourth["approved"], 1, "{fourth}");
    let errors = fourth["source_errors"].to_string();
    assert!(
        errors.contains(&base_b) && !errors.contains(&base_a),
        "the dead collector, by its URL: {errors}"
    );
    assert_eq!(
        fourth["expired"],
        serde_json::Value::Null,
        "expiry waits: {fourth}"
    );
    let statuses = register.statuses();
    assert_eq!(statuses[&7], "approved");
    assert_eq!(statuses[&8], "sent", "B's decision waits for B");

    // B comes back on its inbox; the next run picks up what it held.
    let server_b = Server::start(b);
    let (fifth, out) = sync(&register);
    assert!(out.status.success(), "{fifth}");
    assert_eq!(fifth["source_errors"], serde_json::json!([]), "{fifth}");
    assert_eq!(
        (fifth["collected"].as_i64(), fifth["declined"].as_i64()),
        (Some(1), Some(1)),
        "{fifth}"
    );
    assert_eq!(register.statuses()[&8], "denied");
    for customer in 1..=8 {
        let decided =
            events(&register, customer, "approved") + events(&register, customer, "denied");
        assert_eq!(decided, 1, "customer {customer}: one decision in the log");
    }
    assert_eq!(
        sql::text(&register.conn(), "SELECT consent_verify_log()"),
        "ok"
    );
    drop((server_a, server_b));
}
