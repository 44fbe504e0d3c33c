//! The bulk benchmark: the consent functions on a large register, each
//! against hand-written set-based SQL doing the same writes, measured in the
//! same run on copies of the same fixture file.
//!
//! ```sh
//! cargo bench -p consent-extension --bench bulk                            # 1 000 000 customers
//! BENCH_CUSTOMERS=100000 cargo bench -p consent-extension --bench bulk     # a quick run
//! ```
//!
//! `BENCH_RUNS` sets the timed runs per case (default 3; the median counts).
//!
//! Cases:
//! - `consent_queue_all()` (one statement, autocommit);
//! - `SELECT count(consent_queue(id)) FROM customers` inside one transaction;
//! - `SELECT consent_apply_commands()` (autocommit) taking one `queue`
//!   command per customer from `consent_command`, as a program without the
//!   extension would leave them (inserted untimed);
//! - `consent_expire` with nothing due (median of many calls) and with 1% of
//!   the customers due.
//!
//! The baselines are plain SQL writing the same rows into `consent_request`
//! and `consent_event`, hash chain included, with the same indexes present,
//! as a DBA could if the guard triggers did not refuse every write but the
//! extension's (so they are dropped first, untimed: refusing costs the
//! extension, not the baseline): (a) one INSERT ... SELECT into
//! `consent_request`, the chaining audit trigger writing the events; (b)
//! every trigger on `consent_request` dropped, and two set-based INSERTs in
//! one transaction: the requests, then the events with their chain
//! computed in one sequential pass (a recursive query calling
//! `consent_event_hash` row after row). Ratios are against the faster of
//! the two.
//!
//! Every timed run starts from a fresh copy of the fixture, baseline and
//! consent runs alternate, and each run is checked afterwards (rows per
//! status and reason, one matching event per change, and
//! `consent_verify_log()` finding the chain whole), so a run that wrote
//! nothing cannot pass as fast. The queue cases are measured twice: in
//! process on the bundled SQLite, and through the `sqlite3` shell with the
//! real `libconsent.so` (skipped with a note when either is missing).
//!
//! The table goes to stdout, progress to stderr. Run without `--bench` (as
//! `cargo test --all-targets` does), it checks itself on a small register.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use std::{env, fs};

use consent_extension::route;
use consent_extension::time::{self, UnixSeconds};
use consent_extension::Language;
use consent_testkit::shim::try_libconsent;
use consent_testkit::sql;
use consent_testkit::{require, Scratch, Tool};
use rusqlite::{params, Connection};

/// The command that runs this benchmark, for the report.
const COMMAND: &str = "cargo bench -p consent-extension --bench bulk";

/// The fixed clock of the expiry cases (2026-06-01T00:00:00Z).
const T0: UnixSeconds = 1_780_272_000;
const DAY: i64 = 86_400;
const EXPIRY_DAYS: i64 = 7;
/// What an expiry records as its detail (the register's language, Swedish).
const EXPIRY_DETAIL: &str = "inget svar inom 7 dagar";

/// What a target row says of its result.
fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn main() {
    let bench = env::args().any(|a| a == "--bench");
    let customers: i64 = match env::var("BENCH_CUSTOMERS") {
        Ok(v) => v
            .replace(['_', ' '], "")
            .parse()
            .unwrap_or_else(|_| panic!("BENCH_CUSTOMERS={v}: pass a whole number of customers")),
        Err(_) if bench => 1_000_000,
        Err(_) => 3_000,
    };
    assert!(customers >= 100, "BENCH_CUSTOMERS must be at least 100");
    let runs = match env::var("BENCH_RUNS") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("BENCH_RUNS={v}: pass a positive number of runs")),
        Err(_) if bench => 3,
        Err(_) => 1,
    };
    let plan = Plan {
        bench,
        customers,
        runs,
        calls: if bench { 1000 } else { 20 },
    };
    let work = WorkDir::new();
    let mut report = Report::default();

    progress(format_args!(
        "building the register of {customers} customers"
    ));
    let base = work.file("register.db");
    build_register(&base, customers);
    let settings = Settings::of(&base);

    queue_in_process(&plan, &work, &base, &mut report);
    expire_in_process(&plan, &work, &base, &mut report);
    verify_in_process(&plan, &work, &base, &mut report);
    let shell = match Shell::find(plan.bench) {
        Ok(shell) => {
            queue_in_shell(&plan, &work, &base, &shell, &mut report);
            Some(shell)
        }
        Err(why) => {
            report.note(format!("The sqlite3 shell part was skipped: {why}."));
            None
        }
    };
    print!("{}", report.render(&plan, &settings, shell.as_ref()));
}

/// How much to measure.
struct Plan {
    /// Run with `--bench` (else a self-check on a small register).
    bench: bool,
    customers: i64,
    /// Timed runs per case (the median is reported).
    runs: usize,
    /// Calls of the no-op `consent_expire` (the median is reported).
    calls: usize,
}

fn progress(message: std::fmt::Arguments<'_>) {
    eprintln!("bulk: {message}");
}

// ---------------------------------------------------------------------------
// The fixture

/// The billing register: every 10th customer has no e-mail, every 3rd has a
/// mobile number (SMS is off, so those without e-mail become errors with one
/// of the two reasons); consent is set up and the information text set.
fn build_register(path: &Path, customers: i64) {
    let conn = Connection::open(path).expect("create the register");
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT);",
    )
    .expect("customers table");
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO customers (id, name, email, mobile)
         SELECT i, 'Kund ' || i,
                CASE WHEN i % 10 <> 0 THEN 'kund' || i || '@example.se' END,
                CASE WHEN i % 3 = 0 THEN '070-' || (1000000 + i) END
         FROM n",
        [customers],
    )
    .expect("customers");
    consent_extension::register(&conn).expect("register");
    one(
        &conn,
        "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')",
    );
    one(&conn, "SELECT consent_setting('info_text', 'Vi sparar namn, e-post och mobilnummer för fakturering.')");
}

/// The expiry fixture: everyone queued nine days before T0, then every 100th
/// customer (all with e-mail) marked sent eight days before T0.
fn build_expiry_register(base: &Path, path: &Path) -> i64 {
    fs::copy(base, path).expect("copy the register");
    let conn = open(path);
    let at = T0 - 9 * DAY;
    conn.query_row("SELECT consent_queue_all(NULL, ?1)", [at], |r| {
        r.get::<_, i64>(0)
    })
    .expect("consent_queue_all");
    conn.execute_batch("BEGIN").expect("begin");
    let sent: i64 = conn
        .query_row(
            "SELECT count(consent_mark_sent(id, 'email', NULL, ?1)) FROM customers WHERE id % 100 = 1",
            [T0 - 8 * DAY],
            |r| r.get(0),
        )
        .expect("consent_mark_sent");
    conn.execute_batch("COMMIT").expect("commit");
    sent
}

/// Opens a register with the consent functions registered.
fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open the register");
    consent_extension::register(&conn).expect("register");
    conn
}

fn one(conn: &Connection, sql: &str) -> String {
    sql::text(conn, sql)
}

/// The SQLite settings the runs use (all defaults), for the report.
struct Settings {
    journal_mode: String,
    synchronous: i64,
    cache_size: i64,
    page_size: i64,
}

impl Settings {
    fn of(path: &Path) -> Settings {
        let conn = Connection::open(path).expect("open the register");
        let int = |pragma: &str| {
            conn.query_row(pragma, [], |r| r.get::<_, i64>(0))
                .expect(pragma)
        };
        Settings {
            journal_mode: one(&conn, "PRAGMA journal_mode"),
            synchronous: int("PRAGMA synchronous"),
            cache_size: int("PRAGMA cache_size"),
            page_size: int("PRAGMA page_size"),
        }
    }
}

/// A scratch folder for the fixture and its copies, removed at the end.
struct WorkDir(Scratch);

impl WorkDir {
    fn new() -> WorkDir {
        WorkDir(Scratch::new("bench-bulk"))
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A fresh copy of `fixture` to measure on.
    fn fresh(&self, fixture: &Path) -> PathBuf {
        let run = self.file("run.db");
        discard(&run);
        fs::copy(fixture, &run).expect("copy the fixture");
        run
    }
}

/// Removes a database file and its rollback journal.
fn discard(path: &Path) {
    let _ = fs::remove_file(path);
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    let _ = fs::remove_file(journal);
}

// ---------------------------------------------------------------------------
// The SQL being compared

/// The two reasons a customer without e-mail gets (SMS off, Swedish).
fn reasons() -> (&'static str, &'static str) {
    let no_sms = route(false, true, false, Language::Sv).expect_err("a reason");
    let neither = route(false, false, false, Language::Sv).expect_err("a reason");
    (no_sms, neither)
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The hand-written INSERT of every missing customer's request, as a DBA
/// would write it: status and reason from the contact columns, `actor` as
/// the consent function records it, the current time as a literal.
fn baseline_requests(actor: &str) -> String {
    let (no_sms, neither) = reasons();
    format!(
        "INSERT INTO consent_request \
           (customer_id, supersedes, status, prev_status, reason, actor, detail, created_at, updated_at) \
         SELECT id, 0, CASE WHEN reason IS NULL THEN 'queued' ELSE 'error' END, 'missing', \
                reason, {actor}, reason, {now}, {now} \
         FROM (SELECT c.id, \
                      CASE WHEN trim(c.email) <> '' THEN NULL \
                           WHEN trim(c.mobile) <> '' THEN {no_sms} ELSE {neither} END AS reason \
               FROM customers AS c \
               WHERE NOT EXISTS (SELECT 1 FROM consent_request AS r WHERE r.customer_id = c.id))",
        actor = literal(actor),
        now = literal(&time::format(time::now())),
        no_sms = literal(no_sms),
        neither = literal(neither),
    )
}

/// Migration 5's `consent_request_created` without the guard and the page
/// id check it carries: the audit trigger a hand-written INSERT can pass,
/// chaining each event exactly as the real one does (canonical form v2).
const AUDIT_TRIGGER_WITHOUT_GUARD: &str = "\
CREATE TRIGGER consent_request_created AFTER INSERT ON consent_request
BEGIN
    INSERT INTO consent_event
        (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash, form)
    VALUES (
        coalesce((SELECT max(id) FROM consent_event), 0) + 1,
        NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail,
        NEW.updated_at,
        consent_event_hash(
            (SELECT hash FROM consent_event ORDER BY id DESC LIMIT 1),
            coalesce((SELECT max(id) FROM consent_event), 0) + 1,
            NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail,
            NEW.updated_at, 2),
        2);
END;";

/// The two baselines of the queue cases.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Baseline {
    /// One INSERT ... SELECT; the chaining audit trigger writes the events.
    Trigger,
    /// The audit trigger dropped; two set-based INSERTs in one transaction.
    TwoInserts,
}

impl Baseline {
    const BOTH: [Baseline; 2] = [Baseline::Trigger, Baseline::TwoInserts];

    fn label(self) -> &'static str {
        match self {
            Baseline::Trigger => "(a)",
            Baseline::TwoInserts => "(b)",
        }
    }

    /// Untimed preparation of the copy: the guards refuse any write but
    /// the extension's, so a hand-written one needs them gone.
    fn setup(self) -> String {
        // The insert guard lives in the audit trigger itself: the baseline
        // keeps (a) or drops (b) the trigger's chaining, and loses its guard.
        let guards = "DROP TRIGGER consent_request_guard_update;\n\
                      DROP TRIGGER consent_request_guard_delete;\n\
                      DROP TRIGGER consent_event_guard_insert;\n\
                      DROP TRIGGER consent_request_created;\n";
        match self {
            Baseline::Trigger => format!("{guards}{AUDIT_TRIGGER_WITHOUT_GUARD}\n"),
            Baseline::TwoInserts => format!("{guards}DROP TRIGGER consent_request_changed;\n"),
        }
    }

    /// The timed SQL, one statement per line.
    fn sql(self, actor: &str) -> String {
        match self {
            Baseline::Trigger => format!("{};\n", baseline_requests(actor)),
            // The consent tables of the fixture are empty, so the new
            // requests are 1, 2, 3, ... and so are their events; a DBA would
            // start from the highest id and hash before. The chain is one
            // sequential pass: each step looks the next request up by id
            // and hashes it onto the step before.
            Baseline::TwoInserts => format!(
                "BEGIN;\n{};\n\
                 WITH RECURSIVE chain (id, customer_id, from_status, to_status, actor, detail, at, hash) AS (\
                   SELECT 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
                   UNION ALL \
                   SELECT r.id, r.customer_id, r.prev_status, r.status, r.actor, r.detail, r.updated_at, \
                          consent_event_hash(chain.hash, r.id, r.customer_id, r.id, r.prev_status, r.status, \
                                             r.actor, r.detail, r.updated_at, 2) \
                   FROM chain JOIN consent_request AS r ON r.id = chain.id + 1) \
                 INSERT INTO consent_event \
                   (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash, form) \
                 SELECT id, customer_id, id, from_status, to_status, actor, detail, at, hash, 2 \
                 FROM chain WHERE id > 0;\n\
                 COMMIT;\n",
                baseline_requests(actor)
            ),
        }
    }
}

/// What a queue case runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum QueueCase {
    Baseline(Baseline),
    QueueAll,
    PerRow,
    Commands,
}

impl QueueCase {
    const ALL: [QueueCase; 5] = [
        QueueCase::Baseline(Baseline::Trigger),
        QueueCase::QueueAll,
        QueueCase::Baseline(Baseline::TwoInserts),
        QueueCase::PerRow,
        QueueCase::Commands,
    ];

    fn name(self) -> String {
        match self {
            QueueCase::Baseline(b) => format!("baseline {}", b.label()),
            QueueCase::QueueAll => "consent_queue_all()".to_owned(),
            QueueCase::PerRow => "per-row consent_queue(id)".to_owned(),
            QueueCase::Commands => "consent_apply_commands()".to_owned(),
        }
    }

    /// The actor the rows record (the baselines write `consent_queue_all`'s).
    fn actor(self) -> &'static str {
        match self {
            QueueCase::PerRow => "consent_queue",
            QueueCase::Commands => "consent_command",
            _ => "consent_queue_all",
        }
    }

    fn setup(self) -> String {
        match self {
            QueueCase::Baseline(b) => b.setup(),
            QueueCase::Commands => {
                "INSERT INTO consent_command (customer_id, command) SELECT id, 'queue' FROM customers;\n"
                    .to_owned()
            }
            _ => String::new(),
        }
    }

    /// The timed SQL as the shell runs it.
    fn sql(self) -> String {
        match self {
            QueueCase::Baseline(b) => b.sql(self.actor()),
            QueueCase::QueueAll => "SELECT consent_queue_all();\n".to_owned(),
            QueueCase::PerRow => {
                "BEGIN;\nSELECT count(consent_queue(id)) FROM customers;\nCOMMIT;\n".to_owned()
            }
            QueueCase::Commands => "SELECT consent_apply_commands();\n".to_owned(),
        }
    }
}

/// Runs one queue case in process on `conn`; returns the time taken.
fn run_queue_in_process(conn: &Connection, case: QueueCase, customers: i64) -> Duration {
    conn.execute_batch(&case.setup()).expect("setup");
    let start = Instant::now();
    match case {
        QueueCase::Baseline(b) => conn.execute_batch(&b.sql(case.actor())).expect("baseline"),
        QueueCase::QueueAll => {
            let queued: i64 = conn
                .query_row("SELECT consent_queue_all()", [], |r| r.get(0))
                .expect("consent_queue_all");
            assert_eq!(
                queued,
                Expected::of(customers).queued,
                "consent_queue_all's count"
            );
        }
        QueueCase::PerRow => {
            conn.execute_batch("BEGIN").expect("begin");
            let calls: i64 = conn
                .query_row("SELECT count(consent_queue(id)) FROM customers", [], |r| {
                    r.get(0)
                })
                .expect("consent_queue");
            conn.execute_batch("COMMIT").expect("commit");
            assert_eq!(calls, customers, "consent_queue calls");
        }
        QueueCase::Commands => {
            let taken: i64 = conn
                .query_row("SELECT consent_apply_commands()", [], |r| r.get(0))
                .expect("consent_apply_commands");
            assert_eq!(taken, customers, "commands taken");
        }
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------
// Checks

/// What every queue case must leave behind.
struct Expected {
    queued: i64,
    no_sms: i64,
    neither: i64,
}

impl Expected {
    fn of(customers: i64) -> Expected {
        let without_email = customers / 10;
        // Without e-mail and with a mobile number: the multiples of 30.
        let no_sms = customers / 30;
        Expected {
            queued: customers - without_email,
            no_sms,
            neither: without_email - no_sms,
        }
    }
}

/// Checks the rows a queue case wrote: one request per customer with the
/// right status, reason and actor, and one matching event per request.
fn check_queue(path: &Path, case: QueueCase, customers: i64) {
    let conn = open(path);
    let expected = Expected::of(customers);
    let (no_sms, neither) = reasons();
    let actor = case.actor();
    let mut want: Vec<(String, Option<String>, i64)> = vec![
        ("queued".to_owned(), None, expected.queued),
        ("error".to_owned(), Some(no_sms.to_owned()), expected.no_sms),
        (
            "error".to_owned(),
            Some(neither.to_owned()),
            expected.neither,
        ),
    ];
    want.sort();
    let mut stmt = conn
        .prepare(
            "SELECT status, reason, count(*) FROM consent_request \
             WHERE prev_status = 'missing' AND supersedes = 0 AND actor = ?1 AND detail IS reason \
               AND created_at = updated_at \
             GROUP BY status, reason ORDER BY status, reason",
        )
        .expect("check");
    let got: Vec<(String, Option<String>, i64)> = stmt
        .query_map([actor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("check")
        .collect::<rusqlite::Result<_>>()
        .expect("check");
    assert_eq!(got, want, "{}: requests per status and reason", case.name());
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql);
    assert_eq!(
        count("SELECT count(*) FROM consent_request"),
        customers,
        "{}: requests",
        case.name()
    );
    assert_eq!(
        count("SELECT count(DISTINCT customer_id) FROM consent_request"),
        customers,
        "{}: customers with a request",
        case.name()
    );
    assert_eq!(
        count("SELECT count(*) FROM consent_event"),
        customers,
        "{}: events",
        case.name()
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM consent_event AS e JOIN consent_request AS r ON r.id = e.request_id \
             WHERE e.customer_id = r.customer_id AND e.from_status = 'missing' AND e.to_status = r.status \
               AND e.actor = r.actor AND e.detail IS r.detail AND e.at = r.updated_at"
        ),
        customers,
        "{}: events matching their request",
        case.name()
    );
    // Every side writes the same chain: whole, and one hash per event.
    assert_eq!(
        one(&conn, "SELECT consent_verify_log()"),
        "ok",
        "{}: the chain",
        case.name()
    );
}

// ---------------------------------------------------------------------------
// Measurements

/// The timed runs of one case.
#[derive(Default, Clone)]
struct Runs(Vec<Duration>);

impl Runs {
    fn median(&self) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    fn list(&self) -> String {
        let shown: Vec<_> = self.0.iter().map(|d| show(*d)).collect();
        shown.join(", ")
    }
}

/// Runs every queue case `plan.runs` times, rotating their order each
/// round, with `run` timing one case on a fresh copy.
fn rotate_queue_cases(
    plan: &Plan,
    work: &WorkDir,
    base: &Path,
    what: &str,
    mut run: impl FnMut(&Path, QueueCase) -> Duration,
) -> Vec<(QueueCase, Runs)> {
    let mut runs: Vec<(QueueCase, Runs)> = QueueCase::ALL
        .iter()
        .map(|c| (*c, Runs::default()))
        .collect();
    for round in 0..plan.runs {
        for i in 0..QueueCase::ALL.len() {
            let case = QueueCase::ALL[(i + round) % QueueCase::ALL.len()];
            let copy = work.fresh(base);
            let took = run(&copy, case);
            check_queue(&copy, case, plan.customers);
            discard(&copy);
            progress(format_args!(
                "{what}: {} run {}: {}",
                case.name(),
                round + 1,
                show(took)
            ));
            if let Some((_, r)) = runs.iter_mut().find(|(c, _)| *c == case) {
                r.0.push(took);
            }
        }
    }
    runs
}

fn queue_in_process(plan: &Plan, work: &WorkDir, base: &Path, report: &mut Report) {
    let runs = rotate_queue_cases(plan, work, base, "in process", |copy, case| {
        let conn = open(copy);
        run_queue_in_process(&conn, case, plan.customers)
    });
    report.queue_rows(plan, "in process, bundled SQLite", &runs);
}

fn queue_in_shell(plan: &Plan, work: &WorkDir, base: &Path, shell: &Shell, report: &mut Report) {
    let runs = rotate_queue_cases(plan, work, base, "sqlite3 shell", |copy, case| {
        let (took, output) = shell.run(copy, &case.setup(), &case.sql());
        let want = match case {
            QueueCase::Baseline(_) => String::new(),
            QueueCase::QueueAll => format!("{}\n", Expected::of(plan.customers).queued),
            QueueCase::PerRow | QueueCase::Commands => format!("{}\n", plan.customers),
        };
        assert_eq!(output, want, "sqlite3 shell, {}: output", case.name());
        took
    });
    report.queue_rows(
        plan,
        &format!("sqlite3 shell {}, libconsent.so", shell.version_number),
        &runs,
    );
}

/// The hand-written expiry: the same UPDATE consent_expire makes.
fn baseline_expire(conn: &Connection, now: UnixSeconds, indexed: bool) -> usize {
    conn.execute(
        &format!(
            "UPDATE consent_request {} SET status = 'denied', reason = 'expired', actor = 'consent_expire', \
               detail = ?3, decided_at = ?2, updated_at = ?2 \
             WHERE status = 'sent' AND sent_at <= ?1",
            if indexed { "" } else { "NOT INDEXED" }
        ),
        params![time::format(now - EXPIRY_DAYS * DAY), time::format(now), EXPIRY_DETAIL],
    )
    .expect("baseline expiry")
}

fn consent_expire(conn: &Connection, now: UnixSeconds) -> i64 {
    conn.query_row("SELECT consent_expire(?1)", [now], |r| r.get(0))
        .expect("consent_expire")
}

/// Checks the rows an expiry wrote: `due` requests denied as expired, each
/// with its event. Returns what they look like, so the two sides can be
/// compared.
fn check_expired(conn: &Connection, due: i64, what: &str) -> Vec<String> {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql);
    let at = literal(&time::format(T0));
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM consent_request WHERE status = 'denied' AND reason = 'expired' \
             AND actor = 'consent_expire' AND decided_at = {at} AND updated_at = {at}"
        )),
        due,
        "{what}: expired requests"
    );
    assert_eq!(
        count("SELECT count(*) FROM consent_request WHERE status = 'sent'"),
        0,
        "{what}: left sent"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM consent_event AS e JOIN consent_request AS r ON r.id = e.request_id \
             WHERE e.from_status = 'sent' AND e.to_status = 'denied' AND e.actor = 'consent_expire' \
               AND e.detail = r.detail AND e.at = {at}"
        )),
        due,
        "{what}: expiry events"
    );
    assert_eq!(
        one(conn, "SELECT consent_verify_log()"),
        "ok",
        "{what}: the chain"
    );
    let mut stmt = conn
        .prepare(
            "SELECT status || '|' || reason || '|' || actor || '|' || detail || '|' || decided_at \
                    || '|' || count(*) \
             FROM consent_request WHERE status = 'denied' GROUP BY status, reason, actor, detail, decided_at",
        )
        .expect("fingerprint");
    let rows = stmt
        .query_map([], |r| r.get(0))
        .expect("fingerprint")
        .collect::<rusqlite::Result<Vec<String>>>()
        .expect("fingerprint");
    rows
}

fn expire_in_process(plan: &Plan, work: &WorkDir, base: &Path, report: &mut Report) {
    progress(format_args!("building the expiry register"));
    let fixture = work.file("expiry.db");
    let due = build_expiry_register(base, &fixture);

    // Nothing due: sync calls consent_expire on every run, and most runs
    // find nothing. The `due` sent requests wait in the index, but checked
    // at T0 - 2 days none of them is 7 days old yet.
    let copy = work.fresh(&fixture);
    let conn = open(&copy);
    let not_yet = T0 - 2 * DAY;
    let (mut baseline, mut consent) = (Vec::new(), Vec::new());
    for call in 0..plan.calls {
        let time_baseline = |out: &mut Vec<Duration>| {
            let start = Instant::now();
            let changed = baseline_expire(&conn, not_yet, true);
            out.push(start.elapsed());
            assert_eq!(changed, 0, "baseline expiry with nothing due");
        };
        let time_consent = |out: &mut Vec<Duration>| {
            let start = Instant::now();
            let changed = consent_expire(&conn, not_yet);
            out.push(start.elapsed());
            assert_eq!(changed, 0, "consent_expire with nothing due");
        };
        if call % 2 == 0 {
            time_baseline(&mut baseline);
            time_consent(&mut consent);
        } else {
            time_consent(&mut consent);
            time_baseline(&mut baseline);
        }
    }
    let start = Instant::now();
    assert_eq!(baseline_expire(&conn, not_yet, false), 0);
    let scan = start.elapsed();
    drop(conn);
    discard(&copy);
    let (baseline, consent) = (Runs(baseline), Runs(consent));
    progress(format_args!(
        "nothing due: baseline {} consent {} per call (median of {}); a full scan {}",
        show(baseline.median()),
        show(consent.median()),
        plan.calls,
        show(scan)
    ));
    report.row(
        "`consent_expire(now)`, nothing due (median per call)",
        format!("{} UPDATE", show(baseline.median())),
        show(consent.median()),
        ratio(consent.median(), baseline.median()),
        format!(
            "< 1 ms: {}",
            verdict(consent.median() < Duration::from_millis(1))
        ),
    );
    report.note(format!(
        "Nothing due: {due} sent requests wait in the partial index on `sent_at`, none of them \
         {EXPIRY_DAYS} days old yet; each side prepares and runs its statement {calls} times, alternating, \
         on one copy. The same UPDATE forced to scan (`NOT INDEXED`) takes {scan}.",
        calls = plan.calls,
        scan = show(scan)
    ));

    // 1% due: one call on a fresh copy each run, alternating with the
    // baseline.
    let (mut baseline, mut consent) = (Runs::default(), Runs::default());
    let mut first = None;
    for round in 0..plan.runs {
        for side in 0..2 {
            let copy = work.fresh(&fixture);
            let conn = open(&copy);
            let consent_side = (side + round) % 2 == 1;
            if !consent_side {
                // A hand-written UPDATE passes only without the guard.
                conn.execute_batch(
                    "DROP TRIGGER consent_request_guard_update; DROP TRIGGER consent_event_guard_insert;",
                )
                .expect("drop the guards");
            }
            let start = Instant::now();
            let changed = if consent_side {
                consent_expire(&conn, T0)
            } else {
                baseline_expire(&conn, T0, true) as i64
            };
            let took = start.elapsed();
            let what = if consent_side {
                "consent_expire"
            } else {
                "baseline expiry"
            };
            assert_eq!(changed, due, "{what}: expired");
            let rows = check_expired(&conn, due, what);
            match &first {
                None => first = Some(rows),
                Some(first) => assert_eq!(&rows, first, "{what}: the same rows as the first run"),
            }
            drop(conn);
            discard(&copy);
            progress(format_args!(
                "1% due: {what} run {}: {}",
                round + 1,
                show(took)
            ));
            if consent_side {
                &mut consent
            } else {
                &mut baseline
            }
            .0
            .push(took);
        }
    }
    discard(&fixture);
    report.row(
        &format!("`consent_expire(now)`, 1% due ({due} requests)"),
        format!("{} UPDATE", show(baseline.median())),
        show(consent.median()),
        ratio(consent.median(), baseline.median()),
        "report".to_owned(),
    );
    report.detail("in process", "expiry, 1% due: baseline UPDATE", &baseline);
    report.detail("in process", "expiry, 1% due: consent_expire", &consent);
}

/// `consent_verify_log()` over the log `consent_queue_all()` wrote (one
/// event and one request per customer), against a plain scan reading every
/// column of every event.
fn verify_in_process(plan: &Plan, work: &WorkDir, base: &Path, report: &mut Report) {
    progress(format_args!("building the register to verify"));
    let fixture = work.file("verify.db");
    fs::copy(base, &fixture).expect("copy the register");
    let queued: i64 = sql::int(&open(&fixture), "SELECT consent_queue_all()");
    assert_eq!(queued, Expected::of(plan.customers).queued);
    let conn = open(&fixture);
    let events = sql::int(&conn, "SELECT count(*) FROM consent_event");
    let scan =
        "SELECT count(*), sum(length(customer_id) + length(request_id) + length(from_status) \
                + length(to_status) + length(actor) + length(detail) + length(at) + length(hash)), \
                count(form), count(detail_sha256), count(erased_at) \
                FROM consent_event";
    let (mut baseline, mut consent) = (Runs::default(), Runs::default());
    for round in 0..plan.runs {
        for side in 0..2 {
            let consent_side = (side + round) % 2 == 1;
            let start = Instant::now();
            if consent_side {
                assert_eq!(one(&conn, "SELECT consent_verify_log()"), "ok");
            } else {
                conn.query_row(scan, [], |_| Ok(())).expect("scan");
            }
            let took = start.elapsed();
            progress(format_args!(
                "verify: {} run {}: {}",
                if consent_side {
                    "consent_verify_log()"
                } else {
                    "scan"
                },
                round + 1,
                show(took)
            ));
            if consent_side {
                &mut consent
            } else {
                &mut baseline
            }
            .0
            .push(took);
        }
    }
    drop(conn);
    discard(&fixture);
    report.row(
        &format!("`consent_verify_log()`, {events} events and as many requests"),
        format!("{} scan", show(baseline.median())),
        show(consent.median()),
        ratio(consent.median(), baseline.median()),
        format!(
            "seconds, not minutes: {}",
            verdict(consent.median() < Duration::from_secs(30))
        ),
    );
    report.note(format!(
        "Verify: the baseline reads every column of every event once (`{scan}`); \
         `consent_verify_log()` reads the events in id order recomputing the chain, then every \
         request against its last event, then every stored text."
    ));
    report.detail("in process", "verify: scan", &baseline);
    report.detail("in process", "verify: consent_verify_log()", &consent);
}

// ---------------------------------------------------------------------------
// The sqlite3 shell

/// Debian's sqlite3 shell and the real libconsent.so.
struct Shell {
    extension: PathBuf,
    version: String,
    version_number: String,
}

impl Shell {
    /// Finds the shell and the real extension (built by the test kit with
    /// its own cargo command). Checking itself (without `--bench`), a
    /// missing shell is a skipped test (see consent_testkit::skip).
    fn find(bench: bool) -> Result<Shell, String> {
        if let Some(missing) = Tool::Sqlite3Shell.missing() {
            if !bench {
                require(&[Tool::Sqlite3Shell]);
            }
            return Err(format!("no {}", missing.what));
        }
        let version = Command::new("sqlite3")
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("no sqlite3 shell on PATH ({e})"))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        let version_number = version
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        progress(format_args!("building libconsent.so (cargo extension)"));
        let extension = try_libconsent()?.to_path_buf();
        Ok(Shell {
            extension,
            version,
            version_number,
        })
    }

    /// Runs `timed` in the shell on `db` after loading the extension and
    /// running `setup`; returns the sum of the shell's own `.timer` readings
    /// for the timed statements, and what they printed.
    fn run(&self, db: &Path, setup: &str, timed: &str) -> (Duration, String) {
        let script = format!(
            ".bail on\n.load {}\n{setup}\n.timer on\n{timed}.timer off\n",
            literal(&self.extension.to_string_lossy())
        );
        let output = Command::new("sqlite3")
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(script.as_bytes())?;
                child.wait_with_output()
            })
            .expect("run sqlite3");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "sqlite3 failed ({}): {}\n{stdout}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let mut took = Duration::ZERO;
        let mut printed = String::new();
        for line in stdout.lines() {
            match line.strip_prefix("Run Time: real ") {
                Some(rest) => {
                    let seconds: f64 = rest
                        .split_whitespace()
                        .next()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or_else(|| panic!("unreadable timer line: {line}"));
                    took += Duration::from_secs_f64(seconds);
                }
                None => {
                    printed.push_str(line);
                    printed.push('\n');
                }
            }
        }
        (took, printed)
    }
}

// ---------------------------------------------------------------------------
// The report

#[derive(Default)]
struct Report {
    rows: Vec<[String; 5]>,
    details: Vec<(String, String, Runs)>,
    notes: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        case: &str,
        baseline: String,
        consent: String,
        ratio: String,
        target: String,
    ) {
        self.rows
            .push([case.to_owned(), baseline, consent, ratio, target]);
    }

    fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    fn detail(&mut self, place: &str, what: &str, runs: &Runs) {
        self.details
            .push((place.to_owned(), what.to_owned(), runs.clone()));
    }

    /// The two queue rows of one place, against the faster baseline.
    fn queue_rows(&mut self, plan: &Plan, place: &str, runs: &[(QueueCase, Runs)]) {
        let median = |case: QueueCase| {
            runs.iter()
                .find(|(c, _)| *c == case)
                .map(|(_, r)| r.median())
                .expect("measured")
        };
        let (baseline, fastest) = Baseline::BOTH
            .iter()
            .map(|b| (*b, median(QueueCase::Baseline(*b))))
            .min_by_key(|(_, d)| *d)
            .expect("two baselines");
        let shown_baseline = format!("{} {}", show(fastest), baseline.label());
        let per_customer = |d: Duration| d.as_secs_f64() * 1e6 / plan.customers as f64;
        for (case, target) in [
            (QueueCase::QueueAll, 1.5),
            (QueueCase::PerRow, 5.0),
            (QueueCase::Commands, 10.0),
        ] {
            let took = median(case);
            let r = took.as_secs_f64() / fastest.as_secs_f64();
            let (what, sql) = match case {
                QueueCase::QueueAll => ("autocommit", "`SELECT consent_queue_all()`"),
                QueueCase::Commands => (
                    "autocommit, one queue command per customer",
                    "`SELECT consent_apply_commands()`",
                ),
                _ => (
                    "one transaction",
                    "`SELECT count(consent_queue(id)) FROM customers`",
                ),
            };
            self.row(
                &format!("{sql}, {what} ({place})"),
                shown_baseline.clone(),
                format!("{} ({:.1} µs/customer)", show(took), per_customer(took)),
                format!("{r:.2}x"),
                format!("≤ {target}x: {}", verdict(r <= target)),
            );
        }
        for (case, r) in runs {
            self.detail(place, &case.name(), r);
        }
    }

    fn render(&self, plan: &Plan, settings: &Settings, shell: Option<&Shell>) -> String {
        let mut out = String::new();
        let w = &mut out;
        if !plan.bench {
            let _ = writeln!(
                w,
                "\nSelf-check (run without --bench): every case ran and wrote the right rows; \
                 the times of so small a register mean nothing."
            );
        }
        let _ = writeln!(
            w,
            "\n{} customers; median of {} run(s), each on a fresh copy of the same register file.\n",
            plan.customers, plan.runs
        );
        let _ = writeln!(w, "| case | baseline | consent | ratio | target |");
        let _ = writeln!(w, "|---|---|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(w, "| {} |", row.join(" | "));
        }
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "Baselines, with the guard triggers dropped (they refuse any write but the extension's): \
             (a) one INSERT ... SELECT into consent_request, the chaining audit trigger writing \
             consent_event; (b) the audit triggers dropped too, two set-based INSERTs in one transaction: \
             the requests, then the events with their hash chain computed in one sequential pass (a \
             recursive query calling consent_event_hash). Both write the same rows as the consent \
             function, hashes included, with the same indexes; the ratio is against the faster one, \
             named in the baseline column."
        );
        for note in &self.notes {
            let _ = writeln!(w, "\n{note}");
        }
        let _ = writeln!(w, "\nAll runs:\n");
        let _ = writeln!(w, "| where | case | runs |");
        let _ = writeln!(w, "|---|---|---|");
        for (place, what, runs) in &self.details {
            let _ = writeln!(w, "| {place} | {what} | {} |", runs.list());
        }
        let _ = writeln!(w);
        let _ = writeln!(w, "Machine: {}", machine());
        let _ = writeln!(
            w,
            "SQLite: {} bundled (in process){}",
            rusqlite::version(),
            shell.map_or(String::new(), |s| format!("; sqlite3 shell {}", s.version))
        );
        let _ = writeln!(
            w,
            "Settings (defaults, unchanged): journal_mode={}, synchronous={}, cache_size={}, page_size={}; \
             the register files live in the system temp folder ({})",
            settings.journal_mode,
            settings.synchronous,
            settings.cache_size,
            settings.page_size,
            env::temp_dir().display()
        );
        let mut quick = String::new();
        if plan.customers != 1_000_000 {
            let _ = write!(quick, "BENCH_CUSTOMERS={} ", plan.customers);
        }
        if plan.runs != 3 {
            let _ = write!(quick, "BENCH_RUNS={} ", plan.runs);
        }
        let _ = writeln!(w, "Command: {quick}{COMMAND}");
        out
    }
}

/// Cores and CPU model, as far as this machine tells.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores (nproc), {model}")
}

fn ratio(candidate: Duration, baseline: Duration) -> String {
    format!("{:.2}x", candidate.as_secs_f64() / baseline.as_secs_f64())
}

fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}
