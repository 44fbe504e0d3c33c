//! The real SMTP server the tests send to: aiosmtpd, run by
//! `tests/smtp/smtp_server.py` on 127.0.0.1 with the python3 of
//! [`crate::tools::smtp_python`]. It stores every message it accepts as
//! `.eml` with a `.json` envelope record, and can delay, refuse or drop
//! commands (see the script's `--help`). Tests check [`Tool::Aiosmtpd`]
//! with [`crate::tools::require`] first.
//!
//! [`Tool::Aiosmtpd`]: crate::tools::Tool::Aiosmtpd

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::host::first_line;
use crate::scratch::{repo_root, Scratch};
use crate::tools::smtp_python;

/// (connections, reply delay in ms, messages): the cases the throughput
/// benchmarks measure, the same for each so that their numbers compare.
pub const THROUGHPUT_CASES: [(usize, u64, usize); 3] = [(1, 0, 300), (4, 20, 400), (8, 20, 800)];

/// The aiosmtpd server, stopped (stdin closed, then killed) when dropped,
/// with the folder it stores messages in.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    out: Scratch,
}

impl SmtpServer {
    /// Starts the server with the script's `options` (e.g. `["--delay",
    /// "DATA:20"]`); it stops by itself after 120 s unless the options say
    /// otherwise (`--max-seconds`).
    pub fn start(options: &[&str]) -> SmtpServer {
        let out = Scratch::new("smtp-server");
        let script = repo_root().join("tests/smtp/smtp_server.py");
        // aiosmtpd logs every conversation a test breaks off on purpose.
        let log = std::fs::File::create(out.join("server.log")).expect("server log");
        let mut child = Command::new(smtp_python())
            .arg(script)
            .arg("--out")
            .arg(out.path())
            .args(["--max-seconds", "120"])
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start tests/smtp/smtp_server.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let line = first_line(stdout, Duration::from_secs(30)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(out.join("server.log")).unwrap_or_default();
                panic!("the SMTP server did not start: {line:?}\n{log}")
            });
        SmtpServer { child, port, out }
    }

    /// The server answering the end of each message after `delay_ms`, as a
    /// remote relay does.
    pub fn with_data_delay(delay_ms: u64) -> SmtpServer {
        SmtpServer::start(&["--delay", &format!("DATA:{delay_ms}")])
    }

    /// The folder the server stores messages in.
    pub fn out(&self) -> &Path {
        self.out.path()
    }

    /// The envelope records of the messages received, oldest first, each
    /// with `"eml"`: the path of the message itself.
    pub fn received(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.out())
            .expect("read the server's folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("read a record");
                let mut record: Value = serde_json::from_str(&text).expect("a record is JSON");
                record["eml"] = Value::String(p.with_extension("eml").display().to_string());
                record
            })
            .collect()
    }

    /// Every EHLO the server answered: one per connection.
    pub fn connections(&self) -> Vec<Value> {
        std::fs::read_to_string(self.out().join("connections.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a connection record"))
            .collect()
    }

    /// (request id, Message-ID) of every message the server accepted: the
    /// request is the one whose page the message links to, looked up in
    /// the register (the Message-ID says nothing of the request).
    pub fn accepted_requests(&self, register: &rusqlite::Connection) -> Vec<(i64, String)> {
        self.received()
            .iter()
            .filter_map(|record| {
                let eml = Path::new(record["eml"].as_str().expect("eml path"));
                // Receipts and withdrawal confirmations have no consent link.
                let page = page_id_in(eml)?;
                Some((request_of_page(register, &page), message_id_of(eml)))
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The page id of the consent link in a stored `.eml` file
/// (`.../c/<page id>.html`), if it has one.
pub fn page_id_in(eml: &Path) -> Option<String> {
    let text = std::fs::read_to_string(eml).expect("read eml");
    page_id_in_text(&text)
}

/// The page id of the first consent link (`/c/<22 characters>.html`) in a
/// text.
pub fn page_id_in_text(text: &str) -> Option<String> {
    text.match_indices("/c/").find_map(|(at, _)| {
        let id = text.get(at + 3..at + 25)?;
        let valid = id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (valid && text[at + 25..].starts_with(".html")).then(|| id.to_owned())
    })
}

/// The request that has this page.
pub fn request_of_page(register: &rusqlite::Connection, page_id: &str) -> i64 {
    register
        .query_row(
            "SELECT id FROM consent_request WHERE page_id = ?1",
            [page_id],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no request has page {page_id}: {e}"))
}

/// The Message-ID header of a stored `.eml` file.
pub fn message_id_of(eml: &Path) -> String {
    let text = std::fs::read_to_string(eml).expect("read eml");
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Message-ID in {}", eml.display()))
}
