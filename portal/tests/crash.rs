//! Crash safety of `sync`: the real `consent-portal sync` is killed with
//! SIGKILL again and again (at least 50 times, with a fixed seed), at each
//! step boundary (as `--log-steps` announces collecting, applying,
//! expiring, rendering, sending and notifying) and at random moments,
//! while thousands of requests go out through a real SMTP server (aiosmtpd)
//! and customers' decisions wait in the inbox. After every kill:
//!
//! - `PRAGMA integrity_check` is ok (the register and the inbox);
//! - every request marked sent was accepted by the server;
//! - messages sent more than once (requests and the receipts of approvals)
//!   number at most one per kill and SMTP connection, each time under the
//!   same Message-ID (run with one connection and with three); every
//!   receipt marked sent was accepted.
//!
//! At the end, one run without a kill: no request is left queued, every
//! decision in the inbox has been applied, and every approval made on a
//! page has had its one receipt.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use consent_extension::notices::NoticeKind;
use consent_portal::collector::{Decision, Inbox};
use consent_portal::send::notices::message_id as notice_message_id;
use consent_testkit::billing::Register;
use consent_testkit::press::token_of;
use consent_testkit::rng::Rng;
use consent_testkit::smtp::{message_id_of, page_id_in, SmtpServer};
use consent_testkit::world::smtp_email;
use consent_testkit::{require, sql, Tool};
use rusqlite::Connection;

const SEED: u64 = 0x5eed_c0de_2026_1129;
/// Customers queued at the start, and added whenever little is left to do.
const FIRST_BATCH: usize = 2000;
const LATER_BATCH: usize = 500;
const STEPS: [&str; 6] = [
    "collecting",
    "applying",
    "expiring",
    "rendering",
    "sending",
    "notifying",
];

/// How one run ended.
enum Ended {
    Killed,
    Exited(i32),
}

/// Runs sync and kills it at `kill`: a step's name (as soon as the step
/// starts) or a delay.
fn run_and_kill(register: &Register, kill: Option<Result<&str, Duration>>) -> Ended {
    let mut child = register
        .sync_command()
        .arg("--log-steps")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start consent-portal sync");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, steps) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    let mut log = Vec::new();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            log.extend(steps.try_iter());
            assert!(
                !log.iter().any(|l| l.contains("panicked")),
                "sync panicked: {log:#?}"
            );
            return Ended::Exited(status.code().unwrap_or(-1));
        }
        let line = steps.recv_timeout(Duration::from_millis(2));
        if let Ok(line) = &line {
            log.push(line.clone());
        }
        let due = match kill {
            Some(Ok(step)) => line
                .as_ref()
                .is_ok_and(|l| l.starts_with(&format!("step: {step} "))),
            Some(Err(delay)) => started.elapsed() >= delay,
            None => false,
        };
        if due {
            // SIGKILL; the process cannot tidy up.
            child.kill().expect("kill");
            child.wait().expect("reap");
            return Ended::Killed;
        }
        assert!(
            Instant::now() < deadline,
            "sync ran for 2 minutes: {log:#?}"
        );
    }
}

/// Adds `n` customers after the last one and queues them.
fn add_customers(conn: &Connection, n: usize) {
    conn.execute(
        "WITH RECURSIVE k(i) AS (
           SELECT (SELECT max(nr) FROM kunder) + 1
           UNION ALL SELECT i + 1 FROM k WHERE i < (SELECT max(nr) FROM kunder) + ?1)
         INSERT INTO kunder SELECT i, 'Kund ' || i, 'kund' || i || '@example.se', NULL FROM k",
        [n as i64],
    )
    .expect("add customers");
    sql::call(conn, "SELECT consent_queue_all()");
}

/// Customers decide on up to `n` sent requests that have no decision yet:
/// their decisions are stored in the inbox as the collector stores them.
fn decide(
    register: &Register,
    inbox: &Inbox,
    decided: &mut BTreeMap<i64, (i64, Decision)>,
    rng: &mut Rng,
    n: usize,
) {
    let sent: Vec<(i64, i64, String)> = sql::rows(
        &register.conn(),
        "SELECT customer_id, id, page_id FROM consent_request WHERE status = 'sent'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .into_iter()
    .filter(|(customer, _, _)| !decided.contains_key(customer))
    .take(n)
    .collect();
    for (customer, request, page_id) in sent {
        let html =
            std::fs::read_to_string(register.dir.join("site/c").join(format!("{page_id}.html")))
                .expect("the page of a sent request");
        let decision = if rng.below(4) == 0 {
            Decision::Decline
        } else {
            Decision::Approve
        };
        // The pressed button's token: the decision is the one it signs.
        let token = token_of(&html, decision.as_str());
        inbox
            .record(
                request,
                decision,
                &token,
                &consent_extension::time::format(consent_extension::time::now()),
            )
            .expect("store a decision");
        decided.insert(customer, (request, decision));
    }
}

/// What the server accepted: Message-IDs per request id (the request whose
/// page each message links to).
fn accepted(server: &SmtpServer, register: &Register) -> BTreeMap<i64, Vec<String>> {
    let mut by_request: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (request, id) in server.accepted_requests(&register.conn()) {
        by_request.entry(request).or_default().push(id);
    }
    by_request
}

/// How often the server accepted each message that is no request (the
/// receipts), by Message-ID.
fn accepted_notices(server: &SmtpServer) -> BTreeMap<String, usize> {
    let mut by_id = BTreeMap::new();
    for record in server.received() {
        let eml = Path::new(record["eml"].as_str().expect("eml path"));
        if page_id_in(eml).is_none() {
            *by_id.entry(message_id_of(eml)).or_default() += 1;
        }
    }
    by_id
}

/// The checks that hold after every kill.
fn check_after(
    register: &Register,
    inbox_path: &Path,
    server: &SmtpServer,
    kills: usize,
    connections: usize,
) {
    assert_eq!(register.integrity(), "ok", "register after {kills} kills");
    let inbox = Connection::open(inbox_path).expect("inbox");
    let ok = sql::text(&inbox, "PRAGMA integrity_check");
    assert_eq!(ok, "ok", "inbox after {kills} kills");

    let accepted = accepted(server, register);
    let marked: Vec<i64> = sql::column(
        &register.conn(),
        "SELECT id FROM consent_request WHERE sent_at IS NOT NULL",
    );
    for request in &marked {
        assert!(
            accepted.contains_key(request),
            "request {request} is marked sent, but the server never accepted it (after {kills} kills)"
        );
    }
    // The receipts of the approvals, by Message-ID: each one marked sent
    // was accepted, and one sent again counts with the requests.
    let notices = accepted_notices(server);
    let marked_notices: Vec<(i64, String)> = sql::rows(
        &register.conn(),
        "SELECT id, kind FROM consent_notice WHERE sent_at IS NOT NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    for (notice, kind) in &marked_notices {
        let kind = match kind.as_str() {
            "receipt" => NoticeKind::Receipt,
            _ => NoticeKind::Withdrawal,
        };
        assert!(
            notices.contains_key(&notice_message_id(*notice, kind, "example.se")),
            "notice {notice} is marked sent, but the server never accepted it (after {kills} kills)"
        );
    }
    let extra: usize = accepted.values().map(|ids| ids.len() - 1).sum::<usize>()
        + notices.values().map(|n| n - 1).sum::<usize>();
    assert!(
        extra <= kills * connections,
        "{extra} messages sent again after {kills} kills: more than one per kill and connection ({connections})"
    );
    for (request, ids) in &accepted {
        assert!(
            ids.iter().all(|id| id == &ids[0]),
            "request {request} went out under different Message-IDs: {ids:?}"
        );
    }
}

#[test]
fn sync_killed_at_every_step_and_at_random_loses_nothing() {
    // One connection: a kill can catch at most one message accepted and
    // not yet marked.
    killed_again_and_again("one-connection", 1, 50, SEED);
}

#[test]
fn with_three_connections_a_kill_resends_at_most_one_message_per_connection() {
    killed_again_and_again("three-connections", 3, 30, SEED ^ 3);
}

fn killed_again_and_again(name: &str, connections: usize, kills_wanted: usize, seed: u64) {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    let server = SmtpServer::start(&["--max-seconds", "900"]);
    let register = Register::create(
        &format!("crash-{name}"),
        FIRST_BATCH,
        0,
        &smtp_email(server.port, connections, Some(10)),
        &[],
    );
    let inbox_path = register.dir.join("consent-inbox.db");
    let inbox = Inbox::open_existing(&inbox_path).expect("inbox");
    let mut rng = Rng::from_state(seed);
    let mut decided = BTreeMap::new();
    let (mut kills, mut runs, mut finished_runs) = (0, 0, 0);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();

    while kills < kills_wanted {
        runs += 1;
        assert!(runs < 400, "{kills} kills in {runs} runs");
        // Keep work waiting: messages to send, decisions to apply.
        let queued = sql::int(
            &register.conn(),
            "SELECT count(*) FROM consent_request WHERE status = 'queued'",
        );
        if queued < 100 {
            add_customers(&register.conn(), LATER_BATCH);
        }
        decide(&register, &inbox, &mut decided, &mut rng, 40);

        // Half the kills at a step boundary, half at a random moment.
        let at_step = rng.below(2) == 0;
        let step = STEPS[rng.below(STEPS.len() as u64) as usize];
        let kill = if at_step {
            Ok(step)
        } else {
            Err(Duration::from_millis(rng.below(2500)))
        };
        match run_and_kill(&register, Some(kill)) {
            Ended::Killed => {
                kills += 1;
                let kind = if at_step {
                    format!("at {step}")
                } else {
                    "at random".to_owned()
                };
                *kinds.entry(kind).or_default() += 1;
            }
            Ended::Exited(code) => {
                assert_eq!(code, 0, "a run that was not killed failed");
                finished_runs += 1;
            }
        }
        check_after(&register, &inbox_path, &server, kills, connections);
    }

    // The run after the last kill settles everything.
    match run_and_kill(&register, None) {
        Ended::Exited(code) => assert_eq!(code, 0),
        Ended::Killed => unreachable!("no kill was asked for"),
    }
    check_after(&register, &inbox_path, &server, kills, connections);
    let conn = register.conn();
    let stuck = sql::int(
        &conn,
        "SELECT count(*) FROM consent_request WHERE status = 'queued'",
    );
    assert_eq!(stuck, 0, "requests still queued after a clean run");
    let unsent = sql::int(
        &conn,
        "SELECT count(*) FROM consent_notice WHERE sent_at IS NULL AND error IS NULL",
    );
    assert_eq!(unsent, 0, "receipts still unsent after a clean run");
    let approved_on_a_page = sql::int(
        &conn,
        "SELECT count(*) FROM consent_request WHERE status = 'approved' AND evidence LIKE '{%'",
    );
    let receipts = sql::int(
        &conn,
        "SELECT count(*) FROM consent_notice WHERE kind = 'receipt' AND sent_at IS NOT NULL",
    );
    assert_eq!(
        receipts, approved_on_a_page,
        "one receipt per approval made on a page"
    );
    for (customer, (request, decision)) in &decided {
        let (status, current): (String, i64) = conn
            .query_row(
                "SELECT status, id FROM consent_request WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1",
                [customer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("status");
        assert_eq!(current, *request, "customer {customer} got a new request");
        let expected = match decision {
            Decision::Approve => "approved",
            Decision::Decline | Decision::Withdraw => "denied",
        };
        assert_eq!(
            status, expected,
            "customer {customer}'s decision in the inbox was not applied"
        );
    }
    let requests = sql::int(&conn, "SELECT count(*) FROM consent_request");
    let accepted = accepted(&server, &register);
    let extra: usize = accepted.values().map(|ids| ids.len() - 1).sum();
    eprintln!(
        "{name}: {kills} kills ({kinds:?}) in {runs} runs ({finished_runs} ran to the end) over {:.0?}: \
         {requests} requests, {} messages accepted, {extra} sent twice, {} decisions applied",
        started.elapsed(),
        accepted.len(),
        decided.len()
    );
}
