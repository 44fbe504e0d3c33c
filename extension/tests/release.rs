//! `scripts/release.sh`, cheaply. A whole release is three release builds
//! (minutes), too dear for every test run; what can go wrong without them
//! is checked here through `--check`, which builds nothing: the arguments,
//! the tools, the lock files (`cargo metadata --locked` on both
//! workspaces), the list of artifacts, and the loud stop when the Rust
//! target for Windows is missing, unless `--without-windows`.

use std::process::Command;

use consent_testkit::host::{run, Run};
use consent_testkit::shim::windows_target_missing;
use consent_testkit::{repo_root, require, Scratch, Tool};

fn release(args: &[&str], dir: &Scratch, label: &str) -> Run {
    let mut command = Command::new("bash");
    command
        .arg(repo_root().join("scripts").join("release.sh"))
        .args(args);
    run(command, None, dir, label)
}

/// The artifact names `--check` says it would build, in order.
fn listed(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter_map(|line| line.strip_prefix("release:   "))
        .collect()
}

#[test]
fn release_check_lists_the_artifacts_and_stops_loudly_without_the_windows_target() {
    if !require(&[Tool::Mingw]) {
        return;
    }
    let dir = Scratch::new("release");
    let out = dir.join("dist");
    let out_arg = out.to_string_lossy().into_owned();

    let without = release(
        &["--check", "--without-windows", "--out", &out_arg],
        &dir,
        "without-windows",
    );
    assert!(without.status.success(), "{without:?}");
    assert_eq!(
        listed(&without),
        ["libconsent.so", "consent-portal", "SHA256SUMS"],
        "{without:?}"
    );
    assert!(
        without.stderr.contains("without consent.dll"),
        "{without:?}"
    );

    let with = release(&["--check", "--out", &out_arg], &dir, "with-windows");
    match windows_target_missing() {
        None => {
            assert!(with.status.success(), "{with:?}");
            assert_eq!(
                listed(&with),
                [
                    "libconsent.so",
                    "consent.dll",
                    "consent-portal",
                    "SHA256SUMS"
                ],
                "{with:?}"
            );
        }
        Some(_) => {
            assert_eq!(with.status.code(), Some(3), "{with:?}");
            assert!(
                with.stderr.contains("NO WINDOWS BUILD")
                    && with
                        .stderr
                        .contains("rustup target add x86_64-pc-windows-gnu")
                    && with.stderr.contains("--without-windows"),
                "{with:?}"
            );
        }
    }
    assert!(!out.exists(), "--check wrote {}", out.display());

    let wrong = release(&["--outt", &out_arg], &dir, "wrong-argument");
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(
        wrong.stderr.contains("unknown argument: --outt") && wrong.stderr.contains("Usage:"),
        "{wrong:?}"
    );
}
