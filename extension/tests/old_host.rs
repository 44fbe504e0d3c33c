//! A program whose SQLite is older than the bindings' minimum gets a clear
//! error from loading libconsent, never a crash; and a host whose API table
//! is broken gets an error too, because no panic crosses into the host.
//!
//! The host is tests/old_host/fake_host.c, compiled here with the system's
//! C compiler against SQLite's headers (Debian: gcc, libsqlite3-dev).

use std::path::{Path, PathBuf};
use std::process::Command;

use consent_testkit::host::run;
use consent_testkit::shim::libconsent;
use consent_testkit::{repo_root, require, Scratch, Tool};

/// Compiles the fake host into `dir`, or None (skipped) when there is no
/// C compiler with SQLite's headers; in CI that is a failure.
#[track_caller]
fn fake_host(dir: &Scratch) -> Option<PathBuf> {
    if !require(&[Tool::CCompiler]) {
        return None;
    }
    let source = repo_root()
        .join("tests")
        .join("old_host")
        .join("fake_host.c");
    let binary = dir.join("fake_host");
    let mut cc = Command::new("cc");
    cc.arg("-o").arg(&binary).arg(&source).arg("-ldl");
    let compiled = run(cc, None, dir, "cc");
    assert!(
        compiled.status.success(),
        "compiling {} failed ({}):\n{}",
        source.display(),
        compiled.status,
        compiled.stderr
    );
    Some(binary)
}

fn load_into(host: &Path, version: &str) -> (String, String) {
    let out = Command::new(host)
        .arg(libconsent())
        .arg(version)
        .output()
        .expect("run fake host");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the host process must survive loading libconsent ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_too_old_host_gets_a_clear_error_not_a_crash() {
    let dir = Scratch::new("old-host");
    let Some(host) = fake_host(&dir) else { return };
    for (version, shown) in [("3007017", "3.7.17"), ("3013000", "3.13.0")] {
        let (stdout, _) = load_into(&host, version);
        assert!(stdout.contains("rc=1\n"), "{stdout}");
        assert!(
            stdout.contains(&format!(
                "message=libconsent needs SQLite 3.14.0 or newer, but this program uses SQLite {shown}"
            )),
            "{stdout}"
        );
    }
}

#[test]
fn a_broken_host_gets_an_error_and_keeps_running() {
    // A new enough version, but an API table with nothing else in it: the
    // registration panics inside libconsent, which must turn into an error.
    let dir = Scratch::new("broken-host");
    let Some(host) = fake_host(&dir) else { return };
    let (stdout, _) = load_into(&host, "3040001");
    assert!(stdout.contains("rc=1\n"), "{stdout}");
    assert!(
        stdout.contains("message=libconsent: could not add its functions"),
        "{stdout}"
    );
}
