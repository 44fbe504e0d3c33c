//! Consent pages in a real browser: headless Chromium (Debian's) opens a
//! page served from 127.0.0.1, screenshots it at 360 px and 1280 px into
//! `target/browser-screenshots/`, and axe-core finds no WCAG 2.1 AA
//! violation. The renderer's tests call the same `consent_testkit::browser`
//! functions on the site they render.
//!
//! Needs `apt-get install chromium chromium-driver` and
//! `cd tests/browser && npm ci`; skipped with that message where they are
//! missing, failed when `CI=true`.

use std::path::PathBuf;

use base64::Engine as _;
use consent_testkit::browser::{check_site, run_check, WIDTHS};
use consent_testkit::tools::browser_dir;
use sha2::{Digest, Sha256};

const FIXTURE_PAGE: &str = "c/Xq3vB7nR2kLm9PzT4wYc1A.html";

fn fixture(name: &str) -> PathBuf {
    browser_dir().join("fixture").join(name)
}

#[test]
fn sample_consent_page_passes_in_chromium() {
    let Some(report) = check_site(&fixture("site"), &[FIXTURE_PAGE], "fixture") else {
        return;
    };
    assert_eq!(report.screenshots.len(), WIDTHS.len());
    assert!(
        report.summary_json.contains("\"ok\": true"),
        "{}",
        report.summary_json
    );
    eprintln!(
        "browser check passed in {:.1?}; screenshots in {}",
        report.elapsed,
        report.out_dir.display()
    );
}

/// The harness must catch what it claims to catch: each broken page trips
/// its checks.
#[test]
fn broken_pages_fail_every_check() {
    let pages = ["c/no-csp.html", "c/bad-hash.html"];
    let Some(run) = run_check(&fixture("broken"), &pages, "fixture-broken") else {
        return;
    };
    assert!(!run.passed, "broken pages passed:\n{}", run.summary_json);
    for expected in [
        "no-csp.html @360px: axe color-contrast",
        "no-csp.html @360px: axe image-alt",
        "no-csp.html @360px: axe html-has-lang",
        "no-csp.html @360px: scrolls sideways: content is 900 px wide",
        "no-csp.html @360px: request to another origin: GET http://127.0.0.2:9/logo.png",
        "no-csp.html @360px: has 1 <script> element",
        "no-csp.html @360px: has no <meta http-equiv=\"Content-Security-Policy\">",
        "bad-hash.html @360px: console error: CSP: style-src-elem blocked inline",
        "bad-hash.html @1280px: console error: CSP: style-src-elem blocked inline",
    ] {
        assert!(
            run.log.contains(expected),
            "{expected:?} missing from:\n{}",
            run.log
        );
    }
    // Wide content scrolls on a phone, not on a desktop.
    assert!(
        !run.log.contains("@1280px: scrolls sideways"),
        "{}",
        run.log
    );
}

/// Runs without a browser: the sample page's CSP hash is the hash of its
/// <style> element, so an edit to the CSS that forgets the hash fails here
/// with a clear message too.
#[test]
fn sample_page_csp_hashes_its_style() {
    let html = std::fs::read_to_string(fixture("site").join(FIXTURE_PAGE)).expect("fixture");
    let css = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .expect("one <style> element");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes()));
    assert!(
        html.contains(&format!("style-src 'sha256-{hash}'")),
        "the CSP must name style-src 'sha256-{hash}'"
    );
    assert!(html.contains("<html lang=\"sv\">"));
    assert!(!html.contains("<script"));
}
