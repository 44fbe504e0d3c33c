//! `deploy/` checked by the real tools: `systemd-analyze verify` on the
//! units, `nginx -t` on the site, and the proxy test (`proxy`): the same
//! nginx site terminating TLS in front of a real `consent-portal serve`,
//! with clients on distinct loopback addresses.
//!
//! nginx runs as a child of the test (`nginx -p DIR -c FILE -e ... -g
//! 'daemon off;'`) with everything it writes inside a scratch folder; it is
//! killed by its process id when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consent_testkit::scratch::repo_root;

mod proxy;
// The collector as a child process, shared with the collector_stress
// program: one file, not a copy.
#[allow(dead_code)]
#[path = "../collector_stress/serve_process.rs"]
mod serve_process;
mod units;

/// The host name in the nginx site and in the test certificate.
const HOST: &str = "samtycke.example.se";

/// The nginx site as shipped.
fn nginx_site() -> PathBuf {
    repo_root().join("deploy/nginx/consent-collector.conf")
}

/// Where the test's nginx listens, and what it proxies to.
struct Substitutions<'a> {
    http_port: u16,
    https_port: u16,
    certificate: &'a Path,
    key: &'a Path,
    upstream: &'a str,
}

/// The shipped site with only its "test replaces" lines changed: IPv4
/// listens on 127.0.0.1 and the test's ports (their other words kept),
/// IPv6 listens dropped (a test machine may have no IPv6), the certificate
/// paths and the upstream address. Panics when a marked line is not what
/// the test expects, or when a line the test needs is unmarked.
fn site_for_test(shipped: &str, with: &Substitutions) -> String {
    let mut out = String::new();
    let mut replaced = 0;
    for line in shipped.lines() {
        let Some((directive, marker)) = line.split_once("# test replaces:") else {
            assert!(
                !line.trim_start().starts_with("listen ")
                    && !line.trim_start().starts_with("ssl_certificate")
                    && !line.trim_start().starts_with("proxy_pass "),
                "a line the test must replace has no marker: {line}"
            );
            out.push_str(line);
            out.push('\n');
            continue;
        };
        replaced += 1;
        let directive = directive.trim().trim_end_matches(';');
        let mut words = directive.split_whitespace();
        let name = words.next().unwrap_or_default();
        let rest: Vec<&str> = words.collect();
        let new = match (marker.trim(), name) {
            ("listen", "listen") => {
                let address = rest.first().copied().unwrap_or_default();
                if address.starts_with('[') {
                    continue;
                }
                let port = match address {
                    "80" => with.http_port,
                    "443" => with.https_port,
                    other => panic!("unexpected listen address {other}"),
                };
                let mut words = vec![format!("127.0.0.1:{port}")];
                words.extend(rest[1..].iter().map(|w| (*w).to_owned()));
                format!("listen {};", words.join(" "))
            }
            ("certificate", "ssl_certificate") => {
                format!("ssl_certificate {};", with.certificate.display())
            }
            ("certificate", "ssl_certificate_key") => {
                format!("ssl_certificate_key {};", with.key.display())
            }
            ("upstream", "proxy_pass") => format!("proxy_pass http://{};", with.upstream),
            (marker, name) => panic!("unexpected marker {marker} on {name}"),
        };
        out.push_str("    ");
        out.push_str(&new);
        out.push('\n');
    }
    assert_eq!(
        replaced, 7,
        "the site's marked lines changed; update the test"
    );
    out
}

/// A self-signed certificate for [`HOST`] and its key, in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "2",
        ])
        .arg("-subj")
        .arg(format!("/CN={HOST}"))
        .arg("-addext")
        .arg(format!("subjectAltName=DNS:{HOST}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// Whether this process runs as root: nginx's workers then run as
/// `nobody` unless told otherwise, and could not read the scratch folder.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// A main configuration around `site` that keeps everything nginx writes
/// (pid, logs, the five temp folders) inside `dir`.
fn main_config(dir: &Path, site: &Path) -> PathBuf {
    let d = dir.display();
    let user = if running_as_root() {
        "user root;\n"
    } else {
        ""
    };
    let config = format!(
        "{user}worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         access_log {d}/access.log;\n\
         client_body_temp_path {d}/client_body;\n\
         proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n\
         include {};\n\
         }}\n",
        site.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).expect("write nginx.conf");
    path
}

/// `nginx -t` on a main configuration: its exit status and what it said.
fn nginx_test(dir: &Path, config: &Path) -> (bool, String) {
    let out = Command::new("nginx")
        .arg("-t")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(config)
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .output()
        .expect("run nginx -t");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running nginx, killed (this process only) when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx in the foreground and waits until `port` accepts.
    fn start(dir: &Path, config: &Path, port: u16) -> Nginx {
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(config)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            child,
            dir: dir.to_owned(),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", nginx.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx does not listen on {port}:\n{}",
                nginx.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master, which stops its worker and leaves; SIGKILL
        // would orphan the worker, listening still.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback TCP port (free when asked; nginx binds it a moment
/// later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
