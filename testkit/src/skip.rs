//! Skips a person can see, and the list of them at the end of a run.
//!
//! A test that cannot run because a tool is missing calls [`skip`] (most do
//! through [`crate::tools::require`]) and returns. That one function:
//!
//! - writes a note naming the test, what is missing and the fix straight to
//!   the process's stderr, which the test harness does not capture (it
//!   captures `eprintln!`, and never shows a passing test's output);
//! - appends `<test name>: <what is missing>` to the skip list,
//!   `$CARGO_TARGET_DIR/test-skips.txt` (default `target/test-skips.txt` in
//!   the repository), which `scripts/test.sh` prints at the end of the run;
//! - under `CI=true` panics instead, with the same message: CI never passes
//!   by skipping.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use crate::scratch::repo_root;

/// The file the skipped tests are listed in.
pub fn skip_list() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        // scripts/test.sh runs cargo from the repository's root, so a
        // relative target folder is relative to it.
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    };
    target.join("test-skips.txt")
}

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The running test's name as the harness calls it (the thread it runs
/// on is named so), else the test program's.
pub fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .map(|stem| match stem.rsplit_once('-') {
                Some((binary, _hash)) => binary.to_owned(),
                None => stem,
            })
            .unwrap_or_else(|| "a test".to_owned()),
    }
}

/// The running test cannot run here because `missing` is not installed;
/// `fix` says how to install it. Shows it, lists it, or fails under CI.
/// The caller returns afterwards. (Under CI the panic names the caller's
/// line.)
#[track_caller]
pub fn skip(missing: &str, fix: &str) {
    let test = test_name();
    let message = format!("{test}: {missing}; to install it: {fix}");
    if in_ci() {
        panic!("{message} (CI=true, so a missing tool fails the test)");
    }
    let note = format!("SKIPPED {message}\n");
    let _ = std::io::stderr().write_all(note.as_bytes());
    let list = skip_list();
    if let Some(folder) = list.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    // One write on a file opened for appending (O_APPEND): tests that skip
    // at the same moment, in threads or processes, each add a whole line.
    let line = format!("{test}: {missing}\n");
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&list)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        let _ = writeln!(
            std::io::stderr(),
            "(could not add {test} to the skip list {}: {e})",
            list.display()
        );
    }
}
