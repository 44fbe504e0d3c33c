//! Real-browser checks of rendered pages.
//!
//! [`check_site`] serves a site folder on 127.0.0.1 (Python's `http.server`
//! on an ephemeral port), opens the given pages in headless Chromium through
//! `tests/browser/check_page.mjs`, and asserts what that script checks: a
//! full-page screenshot at 360 px and at 1280 px, zero axe-core violations
//! at WCAG 2.1 A/AA, no request to another origin, no sideways scrolling,
//! no console error or CSP violation, no JavaScript, a CSP `<meta>`.
//!
//! Screenshots and the JSON summary land in
//! `target/browser-screenshots/<label>/`.
//!
//! Without Chromium, Node.js or `tests/browser/node_modules` the check is
//! skipped with the reason and the fix on stderr; with `CI=true` it fails.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Viewport widths the script screenshots, in order.
pub const WIDTHS: [u32; 2] = [360, 1280];

/// How long one run of the script may take before it is killed.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the HTTP server may take to say which port it chose.
const SERVER_TIMEOUT: Duration = Duration::from_secs(15);

/// A passed check: where its artefacts are.
#[derive(Debug)]
pub struct BrowserReport {
    pub label: String,
    pub out_dir: PathBuf,
    /// Two per page: 360 px, then 1280 px.
    pub screenshots: Vec<PathBuf>,
    /// The script's JSON summary (also in `out_dir/summary.json`).
    pub summary_json: String,
    pub elapsed: Duration,
}

/// One run of the script, passed or not.
#[derive(Debug)]
pub struct BrowserRun {
    pub label: String,
    pub out_dir: PathBuf,
    /// True when every check passed (exit code 0).
    pub passed: bool,
    /// JSON summary (stdout).
    pub summary_json: String,
    /// The readable list of problems, or the pass line (stderr).
    pub log: String,
    pub elapsed: Duration,
}

/// Opens `pages` (paths relative to `site_dir`, e.g. `"c/<page_id>.html"`)
/// in headless Chromium and panics, listing every problem, unless all of
/// them pass. `None`: skipped, because Chromium, Node.js or the npm packages
/// are missing (a failure instead when `CI=true`).
pub fn check_site(site_dir: &Path, pages: &[&str], label: &str) -> Option<BrowserReport> {
    let run = run_check(site_dir, pages, label)?;
    assert!(
        run.passed,
        "browser check '{label}' failed:\n{}\nsummary: {}",
        run.log.trim_end(),
        run.out_dir.join("summary.json").display()
    );
    let mut screenshots = Vec::new();
    for page in pages {
        for width in WIDTHS {
            let png = screenshot_path(&run.out_dir, page, width);
            let (w, h) = png_size(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
            assert_eq!(w, width, "{}: screenshot width", png.display());
            assert!(h >= 100, "{}: screenshot only {h} px high", png.display());
            let bytes = fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
            assert!(
                bytes > 2_000,
                "{}: only {bytes} bytes, an empty page?",
                png.display()
            );
            screenshots.push(png);
        }
    }
    Some(BrowserReport {
        label: run.label,
        out_dir: run.out_dir,
        screenshots,
        summary_json: run.summary_json,
        elapsed: run.elapsed,
    })
}

/// Like [`check_site`] but returns the outcome instead of asserting it
/// (for tests that expect problems). Panics only when the harness itself
/// cannot run.
pub fn run_check(site_dir: &Path, pages: &[&str], label: &str) -> Option<BrowserRun> {
    assert!(!pages.is_empty(), "no pages to check");
    assert!(
        !label.is_empty() && label.chars().all(is_name_char),
        "label {label:?}: use letters, digits, '.', '_' or '-'"
    );
    for page in pages {
        assert!(
            !page.is_empty()
                && !page.starts_with('/')
                && !page.split('/').any(|part| part == ".." || part.is_empty())
                && page.chars().all(|c| c == '/' || is_name_char(c)),
            "page {page:?}: a relative path inside the site, e.g. \"c/<page_id>.html\""
        );
        assert!(
            site_dir.join(page).is_file(),
            "{} does not exist",
            site_dir.join(page).display()
        );
    }
    if let Some(reason) = missing_prerequisite() {
        skip_or_fail(label, &reason);
        return None;
    }

    let out_dir = screenshot_root().join(label);
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir).expect("create screenshot folder");

    let server = StaticServer::start(site_dir);
    let urls: Vec<String> = pages
        .iter()
        .map(|p| format!("http://127.0.0.1:{}/{p}", server.port))
        .collect();

    let summary_path = out_dir.join("summary.json");
    let log_path = out_dir.join("check.log");
    let started = Instant::now();
    let child = Command::new("node")
        .arg(browser_dir().join("check_page.mjs"))
        .arg("--out")
        .arg(&out_dir)
        .args(&urls)
        .current_dir(browser_dir())
        .env("CHROMIUM_PATH", chromium_path())
        .stdin(Stdio::null())
        .stdout(File::create(&summary_path).expect("create summary.json"))
        .stderr(File::create(&log_path).expect("create check.log"))
        .spawn()
        .expect("start node");
    let mut node = KillOnDrop(child);
    let status = loop {
        if let Some(status) = node.0.try_wait().expect("wait for node") {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            panic!(
                "browser check '{label}' still running after {RUN_TIMEOUT:?}; log: {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    drop(server);

    let summary_json = fs::read_to_string(&summary_path).unwrap_or_default();
    let log = fs::read_to_string(&log_path).unwrap_or_default();
    match status.code() {
        Some(0) | Some(1) => {}
        _ => panic!(
            "browser check '{label}' could not run ({status}):\n{}",
            log.trim_end()
        ),
    }
    Some(BrowserRun {
        label: label.to_owned(),
        out_dir,
        passed: status.success(),
        summary_json,
        log,
        elapsed,
    })
}

/// Where the script writes the screenshot of `page` at `width` (the same
/// naming as `check_page.mjs`: "c/abc.html" -> "c_abc-360.png").
pub fn screenshot_path(out_dir: &Path, page: &str, width: u32) -> PathBuf {
    let stem = page
        .strip_suffix(".html")
        .or_else(|| page.strip_suffix(".htm"))
        .unwrap_or(page)
        .replace('/', "_");
    out_dir.join(format!("{stem}-{width}.png"))
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(path: &Path) -> Result<(u32, u32), String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || &bytes[..8] != SIGNATURE {
        return Err("not a PNG file".into());
    }
    if &bytes[12..16] != b"IHDR" {
        return Err("PNG without IHDR first".into());
    }
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Ok((be(16), be(20)))
}

/// The repository's root (the workspace above `portal/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("portal/ has a parent")
        .to_path_buf()
}

/// `target/browser-screenshots/` in the repository.
pub fn screenshot_root() -> PathBuf {
    repo_root().join("target").join("browser-screenshots")
}

fn browser_dir() -> PathBuf {
    repo_root().join("tests").join("browser")
}

fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Why the browser check cannot run here, with the fix; `None` if it can.
fn missing_prerequisite() -> Option<String> {
    let chromium = chromium_path();
    if !chromium.is_file() {
        return Some(format!(
            "no Chromium at {}; fix: apt-get install chromium chromium-driver",
            chromium.display()
        ));
    }
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !runs("node") {
        return Some("no `node` on PATH; fix: install Node.js 20 or newer".into());
    }
    if !runs("python3") {
        return Some(
            "no `python3` on PATH (serves the pages); fix: apt-get install python3".into(),
        );
    }
    let modules = browser_dir().join("node_modules");
    for needed in ["playwright-core/package.json", "axe-core/axe.min.js"] {
        if !modules.join(needed).is_file() {
            return Some(format!(
                "{} is missing; fix: cd tests/browser && \
                 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci",
                modules.join(needed).display()
            ));
        }
    }
    None
}

fn skip_or_fail(label: &str, reason: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("browser check '{label}' cannot run in CI: {reason}");
    }
    // Straight to stderr, past the test harness's output capture, so that
    // a skip shows in a passing run.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED browser check '{label}': {reason}"
    );
}

/// Kills the child (by its own pid) when dropped, also on panic.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `python3 -m http.server` on 127.0.0.1 and a port the OS picked; stopped
/// when dropped.
struct StaticServer {
    port: u16,
    _child: KillOnDrop,
}

impl StaticServer {
    fn start(dir: &Path) -> StaticServer {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 -m http.server");
        let stdout = child.stdout.take().expect("server stdout");
        let child = KillOnDrop(child);
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(SERVER_TIMEOUT)
            .expect("http.server did not say its port in time");
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in http.server's first line: {line:?}"));
        StaticServer {
            port,
            _child: child,
        }
    }
}

/// For tests that drive the browser themselves through a script in
/// `tests/browser/`: `true` when Chromium, Node.js and the npm packages are
/// here; otherwise the reason and the fix go to stderr and it returns
/// `false` (a failure instead when `CI=true`), as in [`check_site`].
pub fn browser_available(label: &str) -> bool {
    match missing_prerequisite() {
        Some(reason) => {
            skip_or_fail(label, &reason);
            false
        }
        None => true,
    }
}

/// The Chromium the scripts start (`CHROMIUM_PATH`, default
/// `/usr/bin/chromium`).
pub fn chromium() -> PathBuf {
    chromium_path()
}
