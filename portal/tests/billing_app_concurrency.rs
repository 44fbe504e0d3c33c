//! The billing application and `sync` on one database for a minute.
//!
//! The billing application is tests/python/billing_app.py run by Debian's
//! /usr/bin/python3 (whose sqlite3 module can load extensions), with the
//! real libconsent.so loaded into its own connection and a busy timeout of
//! 2 s: in short transactions it saves customers, ticks their consent box
//! (consent_queue), approves and revokes by hand, changes addresses, and
//! every 20 s imports 150 customers and queues the whole register
//! (consent_queue_all). Meanwhile the real `consent-portal sync` runs again
//! and again, sending through a real SMTP server (aiosmtpd, run by the
//! python3 on PATH or CONSENT_TEST_PYTHON) that takes 20 ms to accept each
//! message, over one connection; between runs a customer or two approve or
//! decline on their page through the collector.
//!
//! Once with the rollback journal (SQLite's default) and once in WAL mode,
//! because the journal mode is the billing application's choice. Then:
//! no write of the application failed, every sync run exited 0 with an
//! empty stderr, the database is intact and in the application's journal
//! mode, every transition the application made is in the event log,
//! replaying each customer's events ends in the status the register
//! shows, and the messages the server received are exactly the requests
//! the database says were sent.
//!
//! The run lasts CONSENT_CONCURRENCY_SECONDS (default 60; with CI=true
//! always at least 60). Without /usr/bin/python3 or aiosmtpd the tests say
//! why on stderr and pass, except with CI=true, where they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consent_portal::config::{self, Config};
use consent_portal::keys;
use consent_portal::send::email;
use consent_testkit::collector::RunningCollector;
use consent_testkit::host::run_ok;
use consent_testkit::press::{find_token, press};
use consent_testkit::shim::libconsent;
use consent_testkit::skip::in_ci;
use consent_testkit::smtp::{message_id_of, page_id_in, SmtpServer};
use consent_testkit::tools::PYTHON_THAT_LOADS_EXTENSIONS as PYTHON;
use consent_testkit::world::smtp_email;
use consent_testkit::{repo_root, require, sql, Scratch, Tool};
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

/// The billing application's busy timeout, in seconds: a legacy
/// application's usual few seconds.
const APP_BUSY_TIMEOUT: &str = "2";
/// How long the SMTP server takes to accept each message.
const SMTP_DATA_DELAY: &str = "DATA:20";
/// The application's tags on the approvals and revocations it makes.
const APP_TAGS: [&str; 2] = ["manual: billing app op ", "clerk: billing app op "];

#[test]
fn the_billing_application_and_sync_share_a_rollback_journal_database() {
    scenario("delete");
}

#[test]
fn the_billing_application_and_sync_share_a_wal_database() {
    scenario("wal");
}

fn scenario(journal: &str) {
    if !require(&[Tool::DebianPython, Tool::Aiosmtpd]) {
        return;
    }
    let seconds = run_seconds();
    let begun = Instant::now();
    let lib = libconsent();
    let dir = Scratch::new(&format!("billing-app-{journal}"));
    let db = dir.join("billing.db");

    // The billing application makes its register, in its journal mode.
    run_ok(
        Command::new(PYTHON)
            .arg(script())
            .arg("create")
            .arg(lib)
            .arg(&db)
            .args(["--journal", journal]),
        "billing_app.py create",
    );

    // The portal's side: keys, an SMTP relay, the collector, consent.toml.
    keys::write_new_key_pair(
        &dir.join("consent-signing.key"),
        &dir.join("consent-verifying.key"),
    )
    .expect("keys");
    let server_seconds = (seconds + 300.0).to_string();
    let server = SmtpServer::start(&["--delay", SMTP_DATA_DELAY, "--max-seconds", &server_seconds]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut text = config::template("billing.db", &base, &format!("{base}/decision"))
        // Decisions come from one address here, faster than a person's.
        .replace(
            "per_address_per_minute = 60",
            "per_address_per_minute = 100000",
        );
    text.push_str(&smtp_email(server.port, 1, None));
    let config_path = dir.join("consent.toml");
    std::fs::write(&config_path, text).expect("consent.toml");
    let config = Config::load(&config_path).expect("config");
    let _collector = RunningCollector::for_config(&config, listener, None, |_| {});

    // The application works for `seconds`; sync runs until it has stopped,
    // and once more.
    let log = dir.join("app.jsonl");
    let mut app = App(Some(
        Command::new(PYTHON)
            .arg(script())
            .arg("run")
            .arg(lib)
            .arg(&db)
            .arg("--log")
            .arg(&log)
            .args(["--seconds", &seconds.to_string()])
            .args(["--busy-timeout", APP_BUSY_TIMEOUT])
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("app.stdout")).expect("app.stdout"))
            .stderr(File::create(dir.join("app.stderr")).expect("app.stderr"))
            .spawn()
            .expect("start billing_app.py run"),
    ));
    let reader = Connection::open(&db).expect("open the register");
    reader
        .busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds + 120.0);
    let mut runs: Vec<SyncRun> = Vec::new();
    let mut decisions = Decisions::default();
    let app_status = loop {
        let stopped = app.try_wait();
        runs.push(sync_once(&config_path));
        if let Some(status) = stopped {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the billing application ran past its {seconds} s and more"
        );
        decisions.press_some(&reader, dir.path(), &base, runs.len());
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = begun.elapsed();

    let app_stdout = std::fs::read_to_string(dir.join("app.stdout")).unwrap_or_default();
    let app_stderr = std::fs::read_to_string(dir.join("app.stderr")).unwrap_or_default();
    let summary: Value = app_stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    let ops = read_log(&log);
    let check = Check::new(&db, &ops, &server);
    let mut problems = Vec::new();
    if !app_status.success() || summary["failed"] != 0 {
        problems.push(format!(
            "the billing application reported failed writes ({app_status}): {app_stdout}{app_stderr}"
        ));
    }
    for (n, run) in runs.iter().enumerate() {
        if !run.ok || !run.stderr.is_empty() || !run.send_failures.is_empty() {
            problems.push(format!(
                "sync run {} of {} ({:.1} s): exit {}, stderr: {}, failed sends: {:?}",
                n + 1,
                runs.len(),
                run.seconds,
                run.code,
                run.stderr.trim(),
                run.send_failures
            ));
        }
    }
    problems.extend(check.database(journal));
    problems.extend(check.event_log());
    problems.extend(check.transitions());
    problems.extend(check.billing_rows());
    problems.extend(check.mail());

    let sent_marked: u64 = runs.iter().map(|r| r.sent_email).sum();
    let collected: u64 = runs.iter().map(|r| r.collected).sum();
    let longest_sync = runs.iter().map(|r| r.seconds).fold(0.0, f64::max);
    let _ = writeln!(
        std::io::stderr(),
        "{journal}: {} s of work ({:.0} s in all): the application made {} operations ({} transitions, \
         {} failed; busy timeout {APP_BUSY_TIMEOUT} s; longest write {} ms, 99th percentile {} ms); \
         {} sync runs (longest {longest_sync:.1} s) marked {} messages sent (server received {}, \
         {} of them for requests the clerk approved or revoked while on the way); \
         {} decisions pressed, {collected} collected; {} events",
        seconds,
        elapsed.as_secs_f64(),
        summary["ops"],
        summary["transitions"],
        summary["failed"],
        summary["max_wait_ms"],
        summary["p99_wait_ms"],
        runs.len(),
        sent_marked,
        check.received.len(),
        check.overtaken(),
        decisions.pressed,
        check.events.len(),
    );
    // A run that did little proves little: at least one sync run must
    // send for longer than the application waits for a lock (150 messages
    // at 20 ms each), or a lock held across the sends would go unnoticed.
    let busy_timeout: f64 = APP_BUSY_TIMEOUT.parse().expect("seconds");
    if ops.len() < 100 || runs.len() < 3 || longest_sync < busy_timeout + 0.5 {
        problems.push(format!(
            "too little happened: {} operations, {} messages, {} sync runs, the longest {longest_sync:.1} s \
             (a send phase longer than the application's busy timeout of {busy_timeout} s is needed)",
            ops.len(),
            check.received.len(),
            runs.len()
        ));
    }
    assert!(
        problems.is_empty(),
        "{journal}: {} problem(s):\n{}\n(kept {} for inspection)",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        dir.path().display()
    );
}

/// CONSENT_CONCURRENCY_SECONDS, default 60; never less than 60 in CI.
fn run_seconds() -> f64 {
    let asked = std::env::var("CONSENT_CONCURRENCY_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0);
    match asked {
        Some(s) if !in_ci() || s >= 60.0 => s,
        _ => 60.0,
    }
}

fn script() -> PathBuf {
    repo_root().join("tests/python/billing_app.py")
}

/// The billing application's process, killed if the test stops early.
struct App(Option<Child>);

impl App {
    /// Its exit status once it has stopped.
    fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        let child = self.0.as_mut()?;
        let status = child.try_wait().expect("wait for billing_app.py")?;
        self.0 = None;
        Some(status)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One run of the real `consent-portal sync`.
struct SyncRun {
    ok: bool,
    code: String,
    stderr: String,
    seconds: f64,
    sent_email: u64,
    collected: u64,
    /// Customers whose message failed or waits for a retry: none here.
    send_failures: Vec<Value>,
}

fn sync_once(config: &Path) -> SyncRun {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_consent-portal"))
        .arg("sync")
        .arg("--config")
        .arg(config)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .expect("run consent-portal sync");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    SyncRun {
        ok: out.status.success(),
        code: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
        sent_email: summary["delivery"]["sent_email"].as_u64().unwrap_or(0),
        collected: summary["collected"].as_u64().unwrap_or(0),
        send_failures: ["errors", "retry"]
            .iter()
            .flat_map(|k| {
                summary["delivery"][k]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// Customers who answer: between sync runs one or two of the customers
/// whose request was sent press approve or decline on their page.
#[derive(Default)]
struct Decisions {
    pressed: usize,
}

impl Decisions {
    fn press_some(&mut self, reader: &Connection, dir: &Path, base: &str, round: usize) {
        let sent: Vec<String> = sql::column(
            reader,
            "SELECT page_id FROM consent_request WHERE status = 'sent' \
             AND page_id IS NOT NULL ORDER BY random() LIMIT 2",
        );
        for (i, page_id) in sent.iter().enumerate() {
            // The page is gone when the clerk changed the request meanwhile.
            let Ok(html) =
                std::fs::read_to_string(dir.join("site/c").join(format!("{page_id}.html")))
            else {
                continue;
            };
            let decision = if (round + i) % 3 == 0 {
                "decline"
            } else {
                "approve"
            };
            let Some(token) = find_token(&html, decision) else {
                continue;
            };
            let status = press(base, token);
            assert_eq!(status, 303, "the collector refused a {decision}");
            self.pressed += 1;
        }
    }
}

fn read_log(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}")))
        .collect()
}

struct Event {
    id: i64,
    customer: i64,
    request: i64,
    from: String,
    to: String,
    actor: String,
    detail: Option<String>,
}

/// A message the server received.
struct Received {
    /// The page its link leads to.
    page: String,
    /// The request that has that page in the database, if one has.
    request: Option<i64>,
    message_id: String,
}

struct Request {
    status: String,
    channel: Option<String>,
}

/// What the run left behind, read once.
struct Check<'a> {
    conn: Connection,
    ops: &'a [Value],
    events: Vec<Event>,
    requests: BTreeMap<i64, Request>,
    /// The register's status of every customer (consent_overview).
    statuses: BTreeMap<i64, String>,
    /// Each message the server received.
    received: Vec<Received>,
}

impl<'a> Check<'a> {
    fn new(db: &Path, ops: &'a [Value], server: &SmtpServer) -> Check<'a> {
        let conn = consent_testkit::sample::open(db);
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        let events = sql::rows(
            &conn,
            "SELECT id, customer_id, request_id, from_status, to_status, actor, detail \
             FROM consent_event ORDER BY id",
            [],
            |r| {
                Ok(Event {
                    id: r.get(0)?,
                    customer: r.get(1)?,
                    request: r.get(2)?,
                    from: r.get(3)?,
                    to: r.get(4)?,
                    actor: r.get(5)?,
                    detail: r.get(6)?,
                })
            },
        );
        let requests = sql::rows(
            &conn,
            "SELECT id, status, channel FROM consent_request",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    Request {
                        status: r.get(1)?,
                        channel: r.get(2)?,
                    },
                ))
            },
        )
        .into_iter()
        .collect();
        let statuses = sql::rows(
            &conn,
            "SELECT customer_id, status FROM consent_overview",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .into_iter()
        .collect();
        let received = server
            .received()
            .iter()
            .filter_map(|record| {
                let path = Path::new(record["eml"].as_str().expect("eml path"));
                // Receipts and withdrawal confirmations have no consent
                // link; the requests' messages are checked here.
                let page = page_id_in(path)?;
                let request = conn
                    .query_row(
                        "SELECT id FROM consent_request WHERE page_id = ?1",
                        [&page],
                        |r| r.get(0),
                    )
                    .optional()
                    .expect("look the page up");
                Some(Received {
                    page,
                    request,
                    message_id: message_id_of(path),
                })
            })
            .collect();
        Check {
            conn,
            ops,
            events,
            requests,
            statuses,
            received,
        }
    }

    fn database(&self, journal: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let integrity = sql::text(&self.conn, "PRAGMA integrity_check");
        if integrity != "ok" {
            problems.push(format!("integrity_check: {integrity}"));
        }
        let mode = sql::text(&self.conn, "PRAGMA journal_mode");
        if mode != journal {
            problems.push(format!(
                "the journal mode is {mode}; the billing application chose {journal}"
            ));
        }
        problems
    }

    /// Replaying each customer's events, oldest first, from `missing`: each
    /// starts where the last ended, and the last ends in the status the
    /// register shows.
    fn event_log(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut replayed: BTreeMap<i64, &str> = BTreeMap::new();
        for e in &self.events {
            let now = replayed.entry(e.customer).or_insert("missing");
            if *now != e.from {
                problems.push(format!(
                    "event {} (customer {}, request {}, {} by {}): from {}, but the events before end in {}",
                    e.id, e.customer, e.request, e.to, e.actor, e.from, now
                ));
            }
            *now = &e.to;
        }
        for (customer, status) in &self.statuses {
            let last = replayed.get(customer).copied().unwrap_or("missing");
            if last != status {
                problems.push(format!(
                    "customer {customer}: the register shows {status}, the event log ends in {last}"
                ));
            }
        }
        for customer in replayed.keys() {
            if !self.statuses.contains_key(customer) {
                problems.push(format!(
                    "customer {customer} has events but is not in consent_overview"
                ));
            }
        }
        problems
    }

    /// Every transition the application made is in the event log, and
    /// every event written by the application's calls is one it logged.
    fn transitions(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut by_tag: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
        // (customer, actor) -> events written by consent_queue(_all).
        let mut queue_events: BTreeMap<(i64, &str), usize> = BTreeMap::new();
        for e in &self.events {
            if let Some(detail) = e.detail.as_deref() {
                if APP_TAGS.iter().any(|t| detail.starts_with(t)) {
                    by_tag.entry(detail).or_default().push(e);
                }
            }
            if e.actor == "consent_queue" || e.actor == "consent_queue_all" {
                *queue_events.entry((e.customer, &e.actor)).or_default() += 1;
            }
        }
        // (customer, function) -> (certain, possible) queue transitions.
        let mut queued: BTreeMap<(i64, &str), (usize, usize)> = BTreeMap::new();
        let mut tags_logged = BTreeSet::new();
        for op in self.ops.iter().filter(|op| op["ok"] == true) {
            for t in op["transitions"].as_array().into_iter().flatten() {
                let customer = t["customer"].as_i64().expect("customer");
                let function = t["function"].as_str().expect("function");
                let certain = t["certain"] == true;
                let to = t["to"].as_str().expect("to");
                match t["tag"].as_str() {
                    None => {
                        let counts = queued.entry((customer, function)).or_default();
                        if certain {
                            counts.0 += 1;
                        }
                        counts.1 += 1;
                    }
                    Some(tag) => {
                        tags_logged.insert(tag);
                        let found = by_tag.get(tag).map(Vec::as_slice).unwrap_or_default();
                        match found {
                            [] if certain => problems.push(format!(
                                "lost transition: op {} {function}({customer}) returned {to} from {}, but no event has detail {tag:?}",
                                op["op"], t["from"]
                            )),
                            [] => {}
                            [e] if e.customer == customer && e.actor == function && e.to == to => {}
                            _ => problems.push(format!(
                                "op {} {function}({customer}) -> {to}: the events with detail {tag:?} are {:?}",
                                op["op"],
                                found
                                    .iter()
                                    .map(|e| (e.id, e.customer, &e.actor, &e.to))
                                    .collect::<Vec<_>>()
                            )),
                        }
                    }
                }
            }
        }
        for (tag, events) in &by_tag {
            if !tags_logged.contains(tag) {
                problems.push(format!(
                    "event {} ({} for customer {}) carries {tag:?}, an operation the application did not log as done",
                    events[0].id, events[0].to, events[0].customer
                ));
            }
        }
        let keys: BTreeSet<(i64, &str)> =
            queued.keys().chain(queue_events.keys()).copied().collect();
        for key in keys {
            let (certain, possible) = queued.get(&key).copied().unwrap_or_default();
            let written = queue_events.get(&key).copied().unwrap_or_default();
            if written < certain || written > possible {
                problems.push(format!(
                    "customer {}: {written} events by {}, but the application made {certain} such transitions (and at most {possible})",
                    key.0, key.1
                ));
            }
        }
        problems
    }

    /// The application's own rows: every customer it saved is there, with
    /// the address it wrote last.
    fn billing_rows(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let rows: BTreeMap<i64, Option<String>> =
            sql::rows(&self.conn, "SELECT id, address FROM customers", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .into_iter()
            .collect();
        let mut saved = 0;
        let mut address: BTreeMap<i64, &str> = BTreeMap::new();
        for op in self.ops.iter().filter(|op| op["ok"] == true) {
            for id in op["customers"].as_array().into_iter().flatten() {
                saved += 1;
                if !rows.contains_key(&id.as_i64().expect("id")) {
                    problems.push(format!(
                        "customer {id} was saved (op {}) but is not there",
                        op["op"]
                    ));
                }
            }
            if let Some([id, text]) = op["address"].as_array().map(Vec::as_slice) {
                address.insert(id.as_i64().expect("id"), text.as_str().expect("address"));
            }
        }
        if rows.len() != saved {
            problems.push(format!(
                "the register has {} customers; the application saved {saved}",
                rows.len()
            ));
        }
        for (id, text) in address {
            let there = rows.get(&id).cloned().flatten();
            if there.as_deref() != Some(text) {
                problems.push(format!(
                    "customer {id}: the address is {there:?}, the application wrote {text:?} last"
                ));
            }
        }
        problems
    }

    /// How many messages were received for requests that were never marked
    /// sent: a clerk approved or revoked them while they were on the way.
    fn overtaken(&self) -> usize {
        self.received
            .iter()
            .filter_map(|message| message.request)
            .filter(|request| {
                !self
                    .events
                    .iter()
                    .any(|e| e.request == *request && e.to == "sent")
            })
            .count()
    }

    /// The messages received are the requests the database says were sent.
    fn mail(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeMap::new();
        for message in &self.received {
            let page = &message.page;
            let Some(request) = &message.request else {
                problems.push(format!(
                    "a message links page {page}, which no request in the database has"
                ));
                continue;
            };
            *seen.entry(*request).or_insert(0) += 1;
            let Some(r) = self.requests.get(request) else {
                problems.push(format!(
                    "request {request} was received by the server but is not in the database"
                ));
                continue;
            };
            // The Message-ID is made from the request id and the page id:
            // the one of this request and this page, and no other.
            let domain = message
                .message_id
                .rsplit_once('@')
                .map_or("", |(_, d)| d.trim_end_matches('>'));
            let expected = email::message_id(*request, page, domain);
            if message.message_id != expected {
                problems.push(format!(
                    "request {request}: the message linking page {page} has Message-ID {}, \
                     not {expected}, the one composed for this request and page",
                    message.message_id
                ));
            }
            let marked_sent = self
                .events
                .iter()
                .any(|e| e.request == *request && e.to == "sent");
            // A clerk may approve or revoke a request while its message is
            // on the way; sync then leaves it as the clerk left it.
            let clerk_first = self.events.iter().any(|e| {
                e.request == *request
                    && e.from == "queued"
                    && e.detail
                        .as_deref()
                        .is_some_and(|d| APP_TAGS.iter().any(|t| d.starts_with(t)))
            });
            let later = ["sent", "approved", "denied"].contains(&r.status.as_str());
            if !later || !(marked_sent || clerk_first) {
                problems.push(format!(
                    "request {request} was received by the server, but the database has it {} (marked sent: {marked_sent})",
                    r.status
                ));
            }
        }
        for (request, n) in &seen {
            if *n > 1 {
                problems.push(format!("request {request} was received {n} times"));
            }
        }
        for (id, r) in &self.requests {
            if r.channel.as_deref() == Some("email") && !seen.contains_key(id) {
                problems.push(format!(
                    "request {id} is marked sent by e-mail ({}), but the server never received it",
                    r.status
                ));
            }
        }
        for e in self.events.iter().filter(|e| e.to == "sent") {
            if !seen.contains_key(&e.request) {
                problems.push(format!(
                    "event {}: request {} went to sent, but the server never received it",
                    e.id, e.request
                ));
            }
        }
        problems
    }
}
