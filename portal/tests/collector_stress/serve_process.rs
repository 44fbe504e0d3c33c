//! `consent-portal serve` as a child process: a folder of its own (a key
//! pair and a configuration listening on an ephemeral loopback port),
//! tokens signed for any request id, a plain HTTP/1.1 exchange that reads
//! only the status line, and the child's memory from /proc.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use consent_portal::config::{self, Config};
use consent_portal::keys;
use consent_portal::token::{Decision, Signer};
use consent_testkit::press::signed_token;
use consent_testkit::site::SITE_URL;
use consent_testkit::Scratch;

/// A folder with a configuration and a key pair for `serve` (kept when
/// the test panicked, for a look).
pub struct Setup {
    pub dir: Scratch,
    pub config: PathBuf,
    pub inbox: PathBuf,
    pub signer: Signer,
    /// The feed's bearer token, given to `serve` in its environment.
    pub bearer: Option<String>,
}

/// A fresh scratch folder. `rate` replaces
/// `collector.per_address_per_minute` (None keeps the default).
pub fn setup(name: &str, rate: Option<u32>) -> Setup {
    setup_with(name, |collector| {
        if let Some(rate) = rate {
            collector.insert("per_address_per_minute".into(), i64::from(rate).into());
        }
    })
}

/// A collector of an existing portal: a folder, inbox and configuration of
/// its own, listening on `port` (fixed, so that a restart answers where
/// `sync` looks), verifying with the portal's public key
/// (`portal_dir/consent-verifying.key`; the token signer is the portal's
/// too), its decision feed guarded by `bearer`.
pub fn collector_of(portal_dir: &Path, name: &str, port: u16, bearer: &str) -> Setup {
    let mut setup = setup_with(name, |collector| {
        collector.insert("listen".into(), format!("127.0.0.1:{port}").into());
    });
    std::fs::copy(
        portal_dir.join("consent-verifying.key"),
        setup.dir.join("consent-verifying.key"),
    )
    .expect("copy the portal's public key");
    std::fs::remove_file(setup.dir.join("consent-signing.key")).expect("no signing key here");
    setup.signer = keys::load_signer(&portal_dir.join("consent-signing.key")).expect("signer");
    setup.bearer = Some(bearer.to_owned());
    setup
}

/// A loopback port free at the moment of asking (a collector that must
/// come back at the same address after a kill needs one fixed port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A fresh scratch folder whose `[collector]` table `adjust` changes
/// (it listens on an ephemeral loopback port unless `adjust` says not).
pub fn setup_with(name: &str, adjust: impl FnOnce(&mut toml::Table)) -> Setup {
    let dir = Scratch::new(name);
    let template = config::template("billing.db", SITE_URL, &format!("{SITE_URL}/decision"));
    let mut table: toml::Table = toml::from_str(&template).expect("template is TOML");
    let collector = table
        .get_mut("collector")
        .and_then(toml::Value::as_table_mut)
        .expect("[collector] in the template");
    collector.insert("listen".into(), "127.0.0.1:0".into());
    adjust(collector);
    let config = dir.join("consent.toml");
    std::fs::write(&config, toml::to_string(&table).expect("TOML")).expect("write config");
    let loaded = Config::load(&config).expect("the configuration loads");
    keys::write_new_key_pair(
        &dir.join("consent-signing.key"),
        &dir.join("consent-verifying.key"),
    )
    .expect("keys");
    let signer = keys::load_signer(&dir.join("consent-signing.key")).expect("signer");
    let inbox = loaded.resolve(&loaded.collector.inbox);
    Setup {
        dir,
        config,
        inbox,
        signer,
        bearer: None,
    }
}

impl Setup {
    /// A genuine token of the `decision` button of `request_id`'s page,
    /// valid for `expires_in` seconds (negative: already expired).
    pub fn token(&self, decision: Decision, request_id: i64, expires_in: i64) -> String {
        signed_token(
            &self.signer,
            decision,
            request_id,
            &page_id(request_id),
            expires_in,
        )
    }

    /// The server's stderr, all runs appended.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
    }
}

/// The page id of `request_id`'s page: 22 characters of base64url, as the
/// portal draws them (`request_id` is not negative).
pub fn page_id(request_id: i64) -> String {
    format!("Page{request_id:018}")
}

/// A running `consent-portal serve`; killed (this child only) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// Kept open: the server may still write to it.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `serve`, reads the address it listens on and waits until it
    /// answers a request.
    pub fn start(setup: &Setup) -> Server {
        let log: File = OpenOptions::new()
            .create(true)
            .append(true)
            .open(setup.dir.join("serve.log"))
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_consent-portal"));
        if let Some(bearer) = &setup.bearer {
            command.env(consent_portal::collector::TOKEN_ENV, bearer);
        }
        let mut child = command
            .arg("serve")
            .arg("--config")
            .arg(&setup.config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start consent-portal serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read stdout");
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not start: {line:?}\n{}", setup.log());
        };
        let addr: SocketAddr = addr.parse().expect("a socket address");
        let server = Server {
            child,
            addr,
            _stdout: stdout,
        };
        let status =
            server.status_of(b"GET /nothing-here HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n");
        assert_eq!(status, Some(404), "serve answers: {}", setup.log());
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap it.
    pub fn kill(mut self) {
        self.child.kill().expect("kill serve");
        self.child.wait().expect("reap serve");
    }

    /// SIGTERM (how systemd stops it), and how long it took to exit;
    /// None when it still ran after `within` (it is then killed).
    pub fn terminate(mut self, within: Duration) -> Option<Duration> {
        let started = std::time::Instant::now();
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        while started.elapsed() < within {
            if self.child.try_wait().expect("try_wait").is_some() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// One request on a connection of its own; the answer's status, or
    /// None when none came (refused, reset, closed, timed out).
    pub fn status_of(&self, request: &[u8]) -> Option<u16> {
        let stream = TcpStream::connect(self.addr).ok()?;
        exchange(stream, request, Duration::from_secs(10))
    }

    /// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM, ...).
    pub fn memory_kib(&self, field: &str) -> u64 {
        proc_status_kib(self.pid(), field)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Writes `request` on `stream` and reads the status of the answer: the
/// code of an `HTTP/1.1 NNN` status line, None when no answer came.
pub fn exchange(mut stream: TcpStream, request: &[u8], timeout: Duration) -> Option<u16> {
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    stream.set_nodelay(true).ok()?;
    // The server may answer (413) and close before reading all of a large
    // body: the answer still counts.
    let _ = stream.write_all(request);
    read_status(&mut stream)
}

/// Reads up to the end of the status line and parses its code.
pub fn read_status(stream: &mut TcpStream) -> Option<u16> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") && line.len() < 100 {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    status_code(&line)
}

/// `HTTP/1.1 303 See Other\r\n` -> 303.
pub fn status_code(line: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.strip_prefix("HTTP/1.1 ")?;
    rest.get(..3)?.parse().ok()
}

/// A form POST of a pressed button's token, on a connection closed after
/// the answer.
pub fn decision_request(token: &str) -> Vec<u8> {
    let body = format!("token={token}");
    format!(
        "POST /decision HTTP/1.1\r\nHost: collector\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}
