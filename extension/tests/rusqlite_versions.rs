//! The loadable shim is its own workspace with its own lock file (it must
//! never be built together with the portal's bundled SQLite), but the
//! extension crate's API takes a `rusqlite::Connection`, so both workspaces
//! must resolve the same rusqlite, and the fuzz crate the same as the
//! portal. And none may be 0.41 or newer: from 0.41 the loadable bindings
//! need a host SQLite >= 3.45.3 and abort an older host while loading.

use std::path::Path;

use consent_testkit::{repo_root, Scratch};

/// The versions of `package` a Cargo.lock resolves.
fn locked(lock: &Path, package: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(lock).unwrap_or_else(|e| panic!("reading {}: {e}", lock.display()));
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == format!("name = \"{package}\""))
        .filter_map(|pair| pair[1].strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_owned())
        .collect()
}

/// The (major, minor) of a version such as `0.37.0`.
fn minor(version: &str) -> (u64, u64) {
    let mut parts = version
        .split('.')
        .map(|p| p.parse::<u64>().unwrap_or(u64::MAX));
    (
        parts.next().unwrap_or(u64::MAX),
        parts.next().unwrap_or(u64::MAX),
    )
}

#[test]
fn the_shim_the_workspace_and_the_fuzz_crate_lock_the_same_rusqlite() {
    let root = repo_root();
    for package in ["rusqlite", "libsqlite3-sys"] {
        let workspace = locked(&root.join("Cargo.lock"), package);
        let shim = locked(&root.join("extension/loadable/Cargo.lock"), package);
        let fuzz = locked(&root.join("portal/fuzz/Cargo.lock"), package);
        assert_eq!(
            workspace.len(),
            1,
            "Cargo.lock resolves {package} {workspace:?}: one version expected"
        );
        assert_eq!(
            shim, workspace,
            "extension/loadable/Cargo.lock resolves {package} {shim:?}, the workspace {workspace:?}: \
             change the version in extension/loadable/Cargo.toml to the workspace's, then \
             cargo update -p {package} --manifest-path extension/loadable/Cargo.toml"
        );
        assert_eq!(
            fuzz, workspace,
            "portal/fuzz/Cargo.lock resolves {package} {fuzz:?}, the workspace {workspace:?}: \
             run cargo update -p {package} --manifest-path portal/fuzz/Cargo.toml"
        );
    }
    let rusqlite = locked(&root.join("Cargo.lock"), "rusqlite");
    assert!(
        minor(&rusqlite[0]) < (0, 41),
        "rusqlite {} is 0.41 or newer: its loadable bindings abort a host SQLite older than \
         3.45.3 (Debian 12 has 3.40.1); stay below 0.41",
        rusqlite[0]
    );
}

#[test]
fn the_version_checker_reads_a_lock_file() {
    let dir = Scratch::new("lock");
    let lock = dir.join("Cargo.lock");
    std::fs::write(
        &lock,
        "[[package]]\nname = \"rusqlite\"\nversion = \"0.43.1\"\n\n[[package]]\nname = \"other\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    assert_eq!(locked(&lock, "rusqlite"), ["0.43.1"]);
    assert!(minor("0.43.1") >= (0, 41));
    assert!(minor("0.37.0") < (0, 41));
}
