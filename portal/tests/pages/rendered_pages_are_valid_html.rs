//! Every page the renderer writes is valid HTML5, by the Nu Html Checker
//! (vnu.jar, the W3C's validator; from tests/browser's npm packages, run
//! with the system's Java).

use std::path::{Path, PathBuf};
use std::process::Command;

use consent_testkit::site::fixture;
use consent_testkit::tools::vnu_jar;
use consent_testkit::{require, Tool};

/// Runs the checker; returns its error report (empty when valid).
fn validate(jar: &Path, files: &[PathBuf]) -> String {
    let out = Command::new("java")
        .arg("-jar")
        .arg(jar)
        .args(["--errors-only", "--format", "text"])
        .args(files)
        .output()
        .expect("run vnu.jar");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        String::new()
    } else {
        report
    }
}

#[test]
fn every_rendered_page_is_valid_html5() {
    if !require(&[Tool::HtmlChecker]) {
        return;
    }
    let jar = vnu_jar();
    let f = fixture("valid-html");
    f.sql("SELECT consent_setting('info_text', 'Rad ett <b>fet?</b> & \"citat\"\nRad två')");
    f.render();
    let files = f.all_pages();
    let report = validate(&jar, &files);
    assert!(report.is_empty(), "the checker found errors:\n{report}");

    // The checker is alive: a broken page fails.
    let broken = f.dir.join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html lang=sv><title>x</title><p id=a><p id=a><div></span>",
    )
    .expect("write");
    let report = validate(&jar, &[broken]);
    assert!(report.contains("Duplicate ID"), "{report}");
}
