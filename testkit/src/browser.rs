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
//! skipped ([`Tool::Browser`]): a note and a line in the skip list, a
//! failure under `CI=true`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::host::{first_line, wait_bounded};
use crate::scratch::repo_root;
use crate::tools::{browser_dir, chromium, require, Tool};

/// Viewport widths the script screenshots, in order.
pub const WIDTHS: [u32; 2] = [360, 1280];

/// How long one run of a browser script may take before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);
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
/// them pass. `None`: skipped, because the browser is missing.
#[track_caller]
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
            assert_screenshot(&png, width);
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

/// A screenshot `width` px wide, at least 100 px high, not empty.
pub fn assert_screenshot(png: &Path, width: u32) {
    let (w, h) = png_size(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert_eq!(w, width, "{}: screenshot width", png.display());
    assert!(h >= 100, "{}: screenshot only {h} px high", png.display());
    let bytes = fs::metadata(png).map(|m| m.len()).unwrap_or(0);
    assert!(
        bytes > 2_000,
        "{}: only {bytes} bytes, an empty page?",
        png.display()
    );
}

/// Like [`check_site`] but returns the outcome instead of asserting it
/// (for tests that expect problems). Panics only when the harness itself
/// cannot run.
#[track_caller]
pub fn run_check(site_dir: &Path, pages: &[&str], label: &str) -> Option<BrowserRun> {
    assert!(!pages.is_empty(), "no pages to check");
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
    if !require(&[Tool::Browser]) {
        return None;
    }
    let out_dir = screenshot_folder(label);
    let server = StaticServer::start(site_dir);
    let urls: Vec<String> = pages
        .iter()
        .map(|p| format!("http://127.0.0.1:{}/{p}", server.port))
        .collect();

    let summary_path = out_dir.join("summary.json");
    let log_path = out_dir.join("check.log");
    let started = Instant::now();
    let mut script = Command::new("node");
    script
        .arg(browser_dir().join("check_page.mjs"))
        .arg("--out")
        .arg(&out_dir)
        .args(&urls)
        .current_dir(browser_dir());
    let status = run_node(
        script,
        &summary_path,
        &log_path,
        RUN_TIMEOUT,
        &format!("browser check '{label}'"),
    );
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

/// Runs a node script of tests/browser with Chromium's path, its stdout to
/// `stdout`, its stderr to `log`, killed after `limit`.
pub fn run_node(
    mut script: Command,
    stdout: &Path,
    log: &Path,
    limit: Duration,
    what: &str,
) -> std::process::ExitStatus {
    let child = script
        .env("CHROMIUM_PATH", chromium())
        .stdin(Stdio::null())
        .stdout(File::create(stdout).expect("create the script's stdout file"))
        .stderr(File::create(log).expect("create the script's log"))
        .spawn()
        .expect("start node");
    wait_bounded(child, limit, &format!("{what} (log: {})", log.display()))
}

/// `target/browser-screenshots/<label>/`, emptied.
pub fn screenshot_folder(label: &str) -> PathBuf {
    assert!(
        !label.is_empty() && label.chars().all(is_name_char),
        "label {label:?}: use letters, digits, '.', '_' or '-'"
    );
    let out_dir = repo_root()
        .join("target")
        .join("browser-screenshots")
        .join(label);
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir).expect("create the screenshot folder");
    out_dir
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

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// `python3 -m http.server` on 127.0.0.1 and a port the OS picked; stopped
/// (this child, by its own pid) when dropped.
struct StaticServer {
    port: u16,
    child: Child,
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
        let stdout = child.stdout.take().expect("the server's stdout");
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let line = first_line(stdout, SERVER_TIMEOUT);
        let port = line.as_deref().and_then(|line| {
            line.split_whitespace()
                .skip_while(|w| *w != "port")
                .nth(1)
                .and_then(|p| p.parse().ok())
        });
        match port {
            Some(port) => StaticServer { port, child },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("http.server did not say its port in time: {line:?}")
            }
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
