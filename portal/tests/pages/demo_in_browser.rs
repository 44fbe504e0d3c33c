//! The whole loop as a new user meets it: `consent-portal demo` on a fresh
//! folder, one of the links it prints opened in headless Chromium, "Jag
//! godkänner" pressed, the Swedish thank-you page, and within seconds the
//! demo's own status table, and `consent-portal status`, count the approval.
//! Then the customer's side: the receipt is in the demo's outbox with the
//! withdrawal link the demo prints, "Återkalla mitt samtycke" is pressed on
//! that page in Chromium, and the next sync shows the customer as
//! "Samtycke är nekat" with the withdrawal in the log; `consent-portal show`
//! prints her record, `export` writes it as JSON and `report` draws the
//! owner's page.
//!
//! The screenshot of the page the press led to lands in
//! `target/browser-screenshots/demo/`. Without Chromium, Node.js or
//! `tests/browser/node_modules` the test is skipped with the reason on
//! stderr; with `CI=true` it fails.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use consent_testkit::browser::{assert_screenshot, run_node, screenshot_folder};
use consent_testkit::host::run_ok;
use consent_testkit::{repo_root, require, Scratch, Tool};

const LABEL: &str = "demo";
/// From starting the demo to the printed links (it builds a register,
/// renders and "sends" the pages first).
const LINKS_TIMEOUT: Duration = Duration::from_secs(60);
/// One run of `press.mjs`: start Chromium, open, press, screenshot.
const PRESS_TIMEOUT: Duration = Duration::from_secs(60);
/// From the press to the approval in the demo's status table ("within
/// seconds"; the demo syncs every second here).
const STATUS_TIMEOUT: Duration = Duration::from_secs(15);
/// From the first SIGINT to the demo's exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// The demo's label for approved consent, in its status table.
const APPROVED: &str = "Samtycke är godkänt";
/// And for denied consent.
const DENIED: &str = "Samtycke är nekat";

#[test]
fn a_link_the_demo_prints_is_approved_then_withdrawn_on_its_receipt_in_chromium() {
    if !require(&[Tool::Browser]) {
        return;
    }
    let started = Instant::now();
    let out_dir = screenshot_folder(LABEL);

    let scratch = Scratch::new("demo-in-browser");
    let dir = scratch.join("demo");
    let mut demo = Demo::start(&dir);

    // The links, printed once the first sync has sent the requests.
    let serving = demo.wait_for("the address it serves on", LINKS_TIMEOUT, |l| {
        l.starts_with("Serving the pages and the collector on ")
    });
    let base = serving
        .rsplit(' ')
        .next()
        .expect("an address")
        .trim()
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "the demo serves on {base:?}, not on 127.0.0.1"
    );
    demo.wait_for("the end of the list of links", LINKS_TIMEOUT, |l| {
        l.starts_with("Open a link, press a button")
    });
    let anna = demo
        .seen
        .iter()
        .find_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.as_slice() {
                ["Anna", "Andersson", "email", link] => Some((*link).to_owned()),
                _ => None,
            }
        })
        .unwrap_or_else(|| {
            panic!(
                "no e-mail link for Anna Andersson in the demo's output:\n{}",
                demo.output()
            )
        });
    assert!(
        anna.starts_with(&format!("{base}/c/")) && anna.ends_with(".html"),
        "Anna Andersson's link {anna:?} is not a page under {base}/c/"
    );
    assert!(
        !demo.seen.iter().any(|l| counts(l, APPROVED, 1)),
        "an approval before anyone pressed anything:\n{}",
        demo.output()
    );

    // The customer opens the link and presses "Jag godkänner".
    let screenshot = out_dir.join("thanks-after-approve.png");
    let pressed_at = Instant::now();
    let result = press(&anna, "Jag godkänner", &screenshot, &out_dir);
    let pressing = pressed_at.elapsed();
    let text = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        text("finalUrl"),
        format!("{base}/thanks.html"),
        "where the press led: {result}"
    );
    assert_eq!(
        result["status"], 200,
        "the thank-you page's status: {result}"
    );
    assert_eq!(text("heading"), "Tack för ditt svar", "{result}");
    assert!(
        text("title").starts_with("Tack för ditt svar"),
        "the thank-you page's title: {result}"
    );
    assert_eq!(
        result["blocked"].as_array().map(Vec::len),
        Some(0),
        "requests to another origin: {result}"
    );
    assert_screenshot(&screenshot, 360);

    // The demo's next sync collects the decision and prints the table.
    let after_press = Instant::now();
    demo.wait_for("the approval in the status table", STATUS_TIMEOUT, |l| {
        counts(l, APPROVED, 1)
    });
    let showing = after_press.elapsed();

    // `consent-portal status` on the demo's configuration agrees.
    let status = run_ok(
        Command::new(env!("CARGO_BIN_EXE_consent-portal"))
            .arg("status")
            .arg("--config")
            .arg(dir.join("consent.toml"))
            .stdin(Stdio::null()),
        "consent-portal status",
    );
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(
        table.lines().any(|l| counts(l, APPROVED, 1)),
        "consent-portal status does not count the approval:\n{table}"
    );

    // The receipt went out, and the demo printed its withdrawal link.
    // (Printed by the same sync that counted the approval, before its table.)
    let is_receipt = |l: &str| l.starts_with("A receipt went to Anna Andersson (email");
    let receipt_line = match demo.seen.iter().find(|l| is_receipt(l)) {
        Some(line) => line.clone(),
        None => demo.wait_for("Anna's receipt and its link", STATUS_TIMEOUT, is_receipt),
    };
    let withdrawal = receipt_line
        .rsplit(' ')
        .next()
        .expect("a link")
        .trim()
        .to_owned();
    assert!(
        withdrawal.starts_with(&format!("{base}/w/")) && withdrawal.ends_with(".html"),
        "the withdrawal link {withdrawal:?} is not a page under {base}/w/"
    );
    let receipt = receipt_in(&dir.join("outbox/email"), "anna.andersson@example.se");
    assert!(
        receipt.contains(&withdrawal),
        "the receipt does not hold the printed link:\n{receipt}"
    );

    // The customer withdraws, on the page the receipt links to.
    let screenshot = out_dir.join("withdrawn.png");
    let result = press(
        &withdrawal,
        "Återkalla mitt samtycke",
        &screenshot,
        &out_dir,
    );
    let text = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        text("finalUrl"),
        format!("{base}/withdrawn.html"),
        "{result}"
    );
    assert_eq!(text("heading"), "Ditt samtycke återkallas", "{result}");
    assert_screenshot(&screenshot, 360);
    demo.wait_for("the withdrawal in the status table", STATUS_TIMEOUT, |l| {
        counts(l, DENIED, 1)
    });
    let register = rusqlite::Connection::open_with_flags(
        dir.join("billing.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the demo's register");
    let last_event: String = register
        .query_row(
            "SELECT to_status || ' ' || detail FROM consent_event WHERE customer_id = 1001 \
             ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("Anna's events");
    assert_eq!(
        last_event, "denied withdrawn by customer",
        "the log's last event for Anna"
    );
    drop(register);

    // The record for the person, every record as JSON, and the owner's
    // report, from the demo's configuration while it runs.
    let portal = |args: &[&str], what: &str| {
        let out = run_ok(
            Command::new(env!("CARGO_BIN_EXE_consent-portal"))
                .args(args)
                .arg("--config")
                .arg(dir.join("consent.toml"))
                .stdin(Stdio::null()),
            what,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = portal(&["show", "1001"], "consent-portal show 1001");
    for needle in [DENIED, "withdrawn by customer", "sent → approved"] {
        assert!(
            shown.contains(needle),
            "{needle:?} not in `show 1001`:\n{shown}"
        );
    }
    let export = dir.join("export");
    portal(
        &["export", "--out", &export.to_string_lossy()],
        "consent-portal export",
    );
    let record: serde_json::Value = serde_json::from_slice(
        &fs::read(export.join("1001.json")).expect("Anna's record in the export"),
    )
    .expect("the record is JSON");
    assert_eq!(record["status"], "denied", "{record:#}");
    assert_eq!(
        record["consent"]["reason"], "withdrawn by customer",
        "{record:#}"
    );
    let report = dir.join("report.html");
    portal(
        &["report", "--out", &report.to_string_lossy()],
        "consent-portal report",
    );
    let report = fs::read_to_string(&report).expect("the report");
    assert!(
        report.matches("<svg").count() >= 2,
        "the report has its charts"
    );

    // Ctrl-C ends the demo, which prints the status once more.
    let (exit, interrupts) = demo.stop();
    assert!(
        exit.success(),
        "the demo ended with {exit} after SIGINT:\n{}",
        demo.output()
    );
    let last = demo
        .seen
        .iter()
        .rposition(|l| l.starts_with("Status of the register:"))
        .unwrap_or_else(|| {
            panic!(
                "no final status after SIGINT in the demo's output:\n{}",
                demo.output()
            )
        });
    assert!(
        demo.seen[last..].iter().any(|l| counts(l, DENIED, 1)),
        "the final status does not count the withdrawal:\n{}",
        demo.output()
    );
    drop(demo);
    assert!(!dir.exists(), "{} is still there", dir.display());

    eprintln!(
        "demo in Chromium: pressed in {pressing:.1?}, the demo showed the approval {showing:.1?} \
         later, stopped after {interrupts} SIGINT(s); {:.1?} in all; screenshot {}",
        started.elapsed(),
        screenshot.display()
    );
}

/// The plain-text body of the one receipt to `to` in an e-mail outbox.
fn receipt_in(outbox: &Path, to: &str) -> String {
    let mut found = Vec::new();
    for entry in fs::read_dir(outbox).expect("the demo's e-mail outbox") {
        let eml = fs::read(entry.expect("an entry").path()).expect("an e-mail");
        let Some(message) = mail_parser::MessageParser::default().parse(&eml) else {
            continue;
        };
        let is_receipt = message
            .subject()
            .is_some_and(|s| s.starts_with("Kvitto på ditt samtycke"));
        let addressed = message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            == Some(to);
        if is_receipt && addressed {
            found.push(
                message
                    .body_text(0)
                    .map(|b| b.into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    assert_eq!(found.len(), 1, "receipts to {to} in {}", outbox.display());
    found.remove(0)
}

/// `line` is the status-table row `label` with the count `n`.
fn counts(line: &str, label: &str, n: u64) -> bool {
    line.strip_prefix(label)
        .map(str::trim)
        .and_then(|count| count.parse::<u64>().ok())
        == Some(n)
}

/// Runs `node tests/browser/press.mjs URL BUTTON OUT.png` from the
/// repository's root and returns its JSON, panicking with its log unless it
/// passed.
fn press(url: &str, button: &str, screenshot: &Path, out_dir: &Path) -> serde_json::Value {
    let json_path = out_dir.join("press.json");
    let log_path = out_dir.join("press.log");
    let mut script = Command::new("node");
    script
        .arg(Path::new("tests").join("browser").join("press.mjs"))
        .arg(url)
        .arg(button)
        .arg(screenshot)
        .current_dir(repo_root());
    let status = run_node(
        script,
        &json_path,
        &log_path,
        PRESS_TIMEOUT,
        &format!("press.mjs, pressing {button:?} on {url}"),
    );
    let json = fs::read_to_string(&json_path).unwrap_or_default();
    let log = fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.success(),
        "pressing {button:?} on {url} failed ({status}):\n{}\n{json}",
        log.trim_end()
    );
    serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("press.mjs printed no JSON ({e}):\n{json}"))
}

/// `consent-portal demo` as a child process, its output read line by line
/// on threads. Dropping it kills the process if it still runs (only this
/// child, by its own pid) and removes its folder.
struct Demo {
    child: Child,
    dir: PathBuf,
    lines: Receiver<String>,
    /// Every line read so far, stderr lines marked "[stderr] ".
    seen: Vec<String>,
}

impl Demo {
    fn start(dir: &Path) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_consent-portal"))
            .arg("demo")
            .arg("--dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--every", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start consent-portal demo");
        let (tx, lines) = mpsc::channel();
        forward(child.stdout.take().expect("demo stdout"), "", tx.clone());
        forward(child.stderr.take().expect("demo stderr"), "[stderr] ", tx);
        Demo {
            child,
            dir: dir.to_owned(),
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `wanted` and returns it; panics with
    /// the output so far if none does within `timeout` or the demo ends.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut wanted: impl FnMut(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no {what} from the demo within {timeout:?}; its output:\n{}",
                        self.output()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    panic!(
                        "the demo ended ({status}) before {what}; its output:\n{}",
                        self.output()
                    )
                }
            }
        }
    }

    /// Sends SIGINT (Ctrl-C) until the demo exits, reads the rest of its
    /// output, and returns its exit status and how many SIGINTs it took.
    /// SIGINT is sent again every few seconds: a Ctrl-C that arrives while
    /// the demo is in the middle of a sync is not seen. After
    /// [`STOP_TIMEOUT`] it is killed and the test fails.
    fn stop(&mut self) -> (ExitStatus, u32) {
        let pid = self.child.id().to_string();
        let started = Instant::now();
        let mut interrupts = 0;
        let mut last_sent: Option<Instant> = None;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the demo") {
                break status;
            }
            if started.elapsed() > STOP_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the demo did not stop within {STOP_TIMEOUT:?} of {interrupts} SIGINT(s); killed it. Its output:\n{}",
                    self.output()
                );
            }
            let due = match last_sent {
                None => true,
                Some(at) => at.elapsed() > Duration::from_secs(3),
            };
            if due {
                let sent = Command::new("kill")
                    .args(["-INT", &pid])
                    .status()
                    .expect("run kill");
                assert!(sent.success(), "kill -INT {pid} failed ({sent})");
                interrupts += 1;
                last_sent = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reading threads end at end of file.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        (status, interrupts)
    }

    fn output(&self) -> String {
        self.seen.join("\n")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Sends each line of `from` to `to`, prefixed, until end of file.
fn forward(from: impl Read + Send + 'static, prefix: &'static str, to: Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if to.send(format!("{prefix}{line}")).is_err() {
                break;
            }
        }
    });
}
