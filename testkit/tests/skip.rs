//! The skip function itself, run in a child process (this test program
//! again, with only the test that skips): without CI the child passes, its
//! note is on stderr although the harness captures the test's output, and
//! the skip list has its line; with `CI=true` the child fails with the same
//! message and lists nothing.

use std::path::Path;
use std::process::{Command, Output};

use consent_testkit::{skip, Scratch};

const MISSING: &str = "the frobnicator (`frob --version`: not found)";
const FIX: &str = "apt-get install frobnicator";

/// Not a test of its own: what the child process runs.
#[test]
#[ignore = "run by the_skip_note_shows_is_listed_and_fails_under_ci, in a child process"]
fn a_test_whose_tool_is_missing() {
    skip(MISSING, FIX);
}

/// This test program, running only [`a_test_whose_tool_is_missing`], with
/// the skip list in `target` and the harness capturing output as usual.
fn child(target: &Path, ci: Option<&str>) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("this test program"));
    command
        .args(["--ignored", "--exact", "a_test_whose_tool_is_missing"])
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CI");
    if let Some(ci) = ci {
        command.env("CI", ci);
    }
    command.output().expect("run the child")
}

fn list(target: &Path) -> String {
    std::fs::read_to_string(target.join("test-skips.txt")).unwrap_or_default()
}

#[test]
fn the_skip_note_shows_is_listed_and_fails_under_ci() {
    let scratch = Scratch::new("skip");
    // A folder that does not exist yet: the skip list makes it.
    let target = scratch.join("target");
    let note = format!("SKIPPED a_test_whose_tool_is_missing: {MISSING}; to install it: {FIX}\n");
    let line = format!("a_test_whose_tool_is_missing: {MISSING}\n");

    let out = child(&target, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stderr.contains(&note),
        "the note is not on stderr:\n{stderr}"
    );
    assert_eq!(list(&target), line);

    // A second skip adds a line, and an unrelated CI value is not CI.
    let out = child(&target, Some("1"));
    assert!(out.status.success());
    assert_eq!(list(&target), format!("{line}{line}"));

    let out = child(&target, Some("true"));
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "CI=true must fail:\n{both}");
    assert!(
        both.contains(&format!(
            "a_test_whose_tool_is_missing: {MISSING}; to install it: {FIX} (CI=true, so a missing tool fails the test)"
        )),
        "{both}"
    );
    assert!(!both.contains("SKIPPED"), "{both}");
    assert_eq!(list(&target), format!("{line}{line}"), "CI lists nothing");
}
