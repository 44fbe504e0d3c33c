//! Faults in every peer, at every step of the conversation, through the
//! real `consent-portal sync`: the SMTP server (aiosmtpd,
//! tests/smtp/smtp_server.py) refusing with 4xx or 5xx, closing the
//! connection without an answer, or not answering in time, at EHLO, MAIL,
//! RCPT, the DATA command and the end of the message; an SMS gateway
//! answering 500, never answering, or answering nonsense; the collector
//! down during sync.
//!
//! Each must end as the customer's issue (`error` with the reason) or as a
//! retry on the next run: never a lost request, a request marked sent that
//! the server did not accept, or a crashed run. A second run against a
//! healthy server then settles every request, and the only message sent
//! twice is one whose acceptance the first run never heard of, under the
//! same Message-ID.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use consent_testkit::billing::Register;
use consent_testkit::gateway::{Answer, SmsGateway};
use consent_testkit::host::run_ok;
use consent_testkit::smtp::SmtpServer;
use consent_testkit::world::{http_sms, smtp_email, FILE_EMAIL};
use consent_testkit::{require, Tool};
use serde_json::Value;

const CUSTOMERS: usize = 3;

/// What a faulty run is expected to leave for customer 2, whose message
/// meets the fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The server refused it for good: `error`, with the server's words.
    Error,
    /// Not sent for now: still queued, sent on the next run.
    Retry,
    /// The configuration is at fault: the run stops (exit 1, a clear
    /// message), nothing more is sent, every unsent request stays queued.
    Stop,
    /// The run itself tried again on a new connection: everyone is sent.
    Recovered,
}

/// One fault at one step, then a clean second run.
fn smtp_fault(step: &str, fault: &[&str], expect: Expect) {
    let name = format!("faults-{step}-{}", fault.join("-").replace(':', "_"));
    let faulty = SmtpServer::start(fault);
    let register = Register::create(
        &name,
        CUSTOMERS,
        0,
        &smtp_email(faulty.port, 1, Some(1)),
        &[],
    );
    let run = register.sync();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let context = format!("{step} {fault:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "the run crashed:\n{context}");
    match expect {
        Expect::Stop => {
            assert_eq!(run.status.code(), Some(1), "{context}");
            assert!(stderr.contains("sync stopped:"), "{context}");
        }
        _ => assert_eq!(run.status.code(), Some(0), "{context}"),
    }

    // Sent means accepted: every request marked sent was received.
    let first_messages = faulty.accepted_requests(&register.conn());
    let received_first: BTreeSet<i64> = first_messages.iter().map(|(r, _)| *r).collect();
    let statuses = register.statuses();
    let requests = register.requests();
    for (customer, status) in &statuses {
        let (request, reason) = &requests[customer];
        match status.as_str() {
            "sent" => assert!(
                received_first.contains(request),
                "customer {customer} is marked sent, but the server never accepted request {request}\n{context}"
            ),
            "queued" => {}
            "error" => assert!(
                reason.as_deref().is_some_and(|r| !r.is_empty()),
                "customer {customer} is in error without a reason\n{context}"
            ),
            other => panic!("customer {customer} ended {other}\n{context}"),
        }
    }
    let expected_for_2 = match expect {
        Expect::Error => "error",
        Expect::Retry | Expect::Stop => "queued",
        Expect::Recovered => "sent",
    };
    assert_eq!(
        statuses[&2], expected_for_2,
        "customer 2 (the faulty step)\n{context}"
    );
    if step != "EHLO" {
        assert_eq!(
            statuses[&1], "sent",
            "customer 1, before the fault\n{context}"
        );
    }
    if expect == Expect::Error {
        let reason = requests[&2].1.clone().unwrap_or_default();
        assert!(
            reason.contains("554") || reason.contains("Refused"),
            "the reason names the server's refusal: {reason}\n{context}"
        );
    }
    if expect == Expect::Retry {
        let json: Value = serde_json::from_str(&stdout).expect("--json summary");
        let retry = json["delivery"]["retry"].as_array().expect("retry list");
        assert!(
            retry.iter().any(|r| r["customer_id"] == "2"),
            "the summary lists customer 2 as tried again next run\n{context}"
        );
    }
    drop(faulty);

    // The next run, against a healthy server, settles everything.
    let healthy = SmtpServer::start(&[]);
    let config = register.config();
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            &format!("smtp_port = {}", faulty_port(&text)),
            &format!("smtp_port = {}", healthy.port),
        ),
    )
    .expect("config");
    run_ok(&mut register.sync_command(), "the second sync run");
    let second_messages = healthy.accepted_requests(&register.conn());
    let received_second: BTreeSet<i64> = second_messages.iter().map(|(r, _)| *r).collect();
    for (customer, status) in register.statuses() {
        let (request, _) = register.requests()[&customer];
        assert!(
            status == "sent" || status == "error",
            "customer {customer} is still {status} after a clean run\n{context}"
        );
        if status == "sent" {
            assert!(
                received_first.contains(&request) || received_second.contains(&request),
                "customer {customer}: marked sent, never accepted\n{context}"
            );
        }
    }
    // Sent twice only when the first run never heard the server accept it,
    // and then under the same Message-ID.
    let mut sent: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (request, id) in first_messages.into_iter().chain(second_messages) {
        sent.entry(request).or_default().push(id);
    }
    let twice: Vec<i64> = sent
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(request, _)| *request)
        .collect();
    if step == "DATA" && fault[0] == "--drop" {
        assert_eq!(twice, vec![requests[&2].0], "{context}");
    } else {
        assert!(twice.is_empty(), "sent twice: {twice:?}\n{context}");
    }
    for ids in sent.values() {
        assert!(
            ids.len() <= 2 && ids.iter().all(|id| id == &ids[0]),
            "{ids:?}"
        );
    }
}

fn faulty_port(config: &str) -> u16 {
    config
        .lines()
        .find_map(|l| l.strip_prefix("smtp_port = "))
        .and_then(|p| p.trim().parse().ok())
        .expect("smtp_port in consent.toml")
}

macro_rules! smtp_faults {
    ($($name:ident: $step:literal, [$($fault:literal),*], $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            if !require(&[Tool::Aiosmtpd]) {
                return;
            }
            smtp_fault($step, &[$($fault),*], $expect);
        }
    )*};
}

// The second message meets the fault (the first EHLO: one connection).
// A connection that breaks or a greeting that says "later" is tried again
// within the run, once, on a new connection: `Recovered`.
smtp_faults! {
    ehlo_421: "EHLO", ["--fail", "EHLO:1:421"], Expect::Recovered;
    ehlo_554: "EHLO", ["--fail", "EHLO:1:554"], Expect::Stop;
    ehlo_dropped: "EHLO", ["--drop", "EHLO:1"], Expect::Recovered;
    ehlo_too_slow: "EHLO", ["--delay", "EHLO:3000:1"], Expect::Recovered;
    mail_451: "MAIL", ["--fail", "MAIL:2:451"], Expect::Retry;
    mail_554: "MAIL", ["--fail", "MAIL:2:554"], Expect::Stop;
    mail_dropped: "MAIL", ["--drop", "MAIL:2"], Expect::Recovered;
    mail_too_slow: "MAIL", ["--delay", "MAIL:3000:2"], Expect::Retry;
    rcpt_451: "RCPT", ["--fail", "RCPT:2:451"], Expect::Retry;
    rcpt_554: "RCPT", ["--fail", "RCPT:2:554"], Expect::Error;
    rcpt_dropped: "RCPT", ["--drop", "RCPT:2"], Expect::Recovered;
    rcpt_too_slow: "RCPT", ["--delay", "RCPT:3000:2"], Expect::Retry;
    data_command_451: "DATACMD", ["--fail", "DATACMD:2:451"], Expect::Retry;
    data_command_554: "DATACMD", ["--fail", "DATACMD:2:554"], Expect::Error;
    data_command_dropped: "DATACMD", ["--drop", "DATACMD:2"], Expect::Recovered;
    data_command_too_slow: "DATACMD", ["--delay", "DATACMD:3000:2"], Expect::Retry;
    end_of_message_451: "DATA", ["--fail", "DATA:2:451"], Expect::Retry;
    end_of_message_554: "DATA", ["--fail", "DATA:2:554"], Expect::Error;
    end_of_message_accepted_but_answer_lost: "DATA", ["--drop", "DATA:2"], Expect::Recovered;
    end_of_message_too_slow: "DATA", ["--delay", "DATA:3000:2"], Expect::Retry;
}

#[test]
fn sms_gateway_failures_leave_requests_queued_and_nonsense_after_200_counts_as_sent() {
    // Customers 1..=4 have only a mobile number: the first message meets
    // 500, the second no answer in time, the third a 200 with a body that
    // is not JSON, the fourth a normal answer.
    let gateway = SmsGateway::scripted(vec![
        Answer::Status(500, "try later".to_owned()),
        Answer::Silent(Duration::from_secs(5)),
        Answer::Nonsense,
        Answer::Created,
    ]);
    let register = Register::create(
        "faults-sms",
        0,
        4,
        &format!("{FILE_EMAIL}{}", http_sms(&gateway.url("/a1/sms"), 1)),
        &[],
    );
    let run = register.sync();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let statuses = register.statuses();
    assert_eq!(statuses[&1], "queued", "500: tried again next run");
    assert_eq!(statuses[&2], "queued", "no answer: tried again next run");
    assert_eq!(statuses[&3], "sent", "the gateway said 200");
    assert_eq!(statuses[&4], "sent");
    let summary: Value = serde_json::from_slice(&run.stdout).expect("--json");
    let retry = summary["delivery"]["retry"].as_array().expect("retry");
    assert_eq!(retry.len(), 2, "{summary:#}");
    assert!(
        retry
            .iter()
            .any(|r| r["reason"].as_str().is_some_and(|t| t.contains("500"))),
        "{summary:#}"
    );

    // The next run sends the two left (the script is used up: all "ok").
    let again = register.sync();
    assert_eq!(again.status.code(), Some(0));
    assert!(register.statuses().values().all(|s| s == "sent"));
    let received: Vec<String> = gateway
        .accepted()
        .into_iter()
        .map(|post| post.form["to"].clone())
        .collect();
    assert_eq!(received.len(), 4, "each number once: {received:?}");
    assert_eq!(
        received.iter().collect::<BTreeSet<_>>().len(),
        4,
        "{received:?}"
    );
}

#[test]
fn a_collector_that_is_down_skips_expiry_and_loses_nothing() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let register = Register::create(
        "faults-collector-down",
        2,
        0,
        FILE_EMAIL,
        &[format!("http://{closed}")],
    );
    register.dir.folder("mail");
    let run = register.sync();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(2),
        "incomplete run\n{stdout}\n{stderr}"
    );
    assert!(stderr.contains("incomplete"), "{stderr}");
    let summary: Value = serde_json::from_slice(&run.stdout).expect("--json");
    assert!(summary["expired"].is_null(), "expiry skipped: {summary:#}");
    assert_eq!(
        summary["source_errors"].as_array().map(Vec::len),
        Some(1),
        "{summary:#}"
    );
    // The rest of the run went on: both requests went out.
    assert_eq!(summary["delivery"]["sent_email"], 2, "{summary:#}");
    assert_eq!(register.integrity(), "ok");
}

#[test]
fn a_request_deferred_for_the_whole_consent_window_goes_to_error() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    // Every recipient is deferred, every time.
    let server = SmtpServer::start(&[
        "--fail-rcpt",
        "kund1@example.se:451",
        "--fail-rcpt",
        "kund2@example.se:451",
    ]);
    let register = Register::create(
        "faults-given-up",
        0,
        0,
        &smtp_email(server.port, 1, Some(5)),
        &[],
    );
    let conn = register.conn();
    let now = consent_extension::time::now();
    conn.execute_batch(
        "INSERT INTO kunder VALUES (1, 'Kund 1', 'kund1@example.se', NULL),
                                   (2, 'Kund 2', 'kund2@example.se', NULL);",
    )
    .expect("customers");
    // Queued 7 days ago (the window, expiry_days = 7), and yesterday.
    conn.query_row(
        "SELECT consent_queue(1, ?1), consent_queue(2, ?2)",
        [now - 7 * 86_400 - 60, now - 86_400],
        |_| Ok(()),
    )
    .expect("queue");
    run_ok(&mut register.sync_command(), "sync");
    let statuses = register.statuses();
    assert_eq!(statuses[&1], "error");
    assert_eq!(statuses[&2], "queued", "still inside its window");
    let reason = register.requests()[&1].1.clone().unwrap_or_default();
    assert!(
        reason.starts_with("Gav upp efter 7 dagars försök: ") && reason.contains("451"),
        "{reason}"
    );
    assert!(server.received().is_empty());
}
