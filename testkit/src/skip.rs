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
//!
//! One thing is not a skip: [`not_tested_here`], for a check this machine
//! cannot make and no package registry can fix (the Rust target for
//! Windows is a download from rustup's own server). It says so loudly on
//! stderr and in a second list, `test-not-tested.txt` beside the skip
//! list, which `scripts/test.sh` prints at the end, and it never fails,
//! not even under `CI=true`: the rest of CI still counts.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// The file the checks not made on this machine are listed in (see
/// [`not_tested_here`]).
pub fn not_tested_list() -> PathBuf {
    skip_list().with_file_name("test-not-tested.txt")
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
    append_line(
        &skip_list(),
        &format!("{test}: {missing}\n"),
        &test,
        "skip list",
    );
}

/// The running test cannot check `what` on this machine, because of `why`,
/// which no package registry fixes; `fix` says what would. Unlike [`skip`]
/// it never fails, not even under `CI=true`: it writes a loud note to the
/// process's stderr and a line to [`not_tested_list`], which
/// `scripts/test.sh` prints at the end without changing its exit status.
/// The caller returns afterwards; the test passes, having checked nothing.
/// Only for what the project decided may go untested (the Rust target for
/// Windows); a missing Debian package goes through [`skip`].
pub fn not_tested_here(what: &str, why: &str, fix: &str) {
    let test = test_name();
    let note = format!(
        "NOT TESTED ON THIS MACHINE {test}: {what} was not checked: {why}; to check it: {fix}\n"
    );
    let _ = std::io::stderr().write_all(note.as_bytes());
    append_line(
        &not_tested_list(),
        &format!("{test}: {what}: {why}; to check it: {fix}\n"),
        &test,
        "not-tested list",
    );
}

/// Appends `line` to `list`, creating its folder; says so on stderr when
/// it cannot.
fn append_line(list: &Path, line: &str, test: &str, name: &str) {
    if let Some(folder) = list.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    // One write on a file opened for appending (O_APPEND): tests that skip
    // at the same moment, in threads or processes, each add a whole line.
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(list)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        let _ = writeln!(
            std::io::stderr(),
            "(could not add {test} to the {name} {}: {e})",
            list.display()
        );
    }
}
