//! The real SMTP server the tests send to: aiosmtpd, from
//! tests/smtp/smtp_server.py, on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("portal/ has a parent")
        .to_owned()
}

pub fn python() -> String {
    std::env::var("CONSENT_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the SMTP server can run here; prints why not. Fails under CI.
pub fn smtp_server_available() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let why = format!(
            "{} cannot import aiosmtpd: python3 -m pip install --require-hashes -r tests/smtp/requirements.txt",
            python()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipped: {why}");
    }
    ok
}

/// The aiosmtpd server, stopped (stdin closed, then killed) when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    out: PathBuf,
}

impl SmtpServer {
    pub fn start(out: &Path, options: &[&str]) -> SmtpServer {
        let script = repo_root().join("tests/smtp/smtp_server.py");
        // aiosmtpd logs every session a test breaks off on purpose.
        let log = std::fs::File::create(out.join("server.log")).expect("server log");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--out")
            .arg(out)
            .args(["--max-seconds", "120"])
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start tests/smtp/smtp_server.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let log = std::fs::read_to_string(out.join("server.log")).unwrap_or_default();
                panic!("the SMTP server did not start: {line:?}\n{log}")
            });
        SmtpServer {
            child,
            port,
            out: out.to_owned(),
        }
    }

    /// The envelope records of the messages received, oldest first.
    pub fn received(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .expect("read server folder")
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
                let mut record: Value =
                    serde_json::from_str(&std::fs::read_to_string(p).expect("read record"))
                        .expect("record is JSON");
                record["eml"] = Value::String(p.with_extension("eml").display().to_string());
                record
            })
            .collect()
    }

    /// Every EHLO the server answered: one per connection.
    pub fn connections(&self) -> Vec<Value> {
        std::fs::read_to_string(self.out.join("connections.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("connection record"))
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
