//! The real `libconsent.so`, built once per test program.
//!
//! A separate, nested cargo command on purpose:
//! `cargo build --release --manifest-path extension/loadable/Cargo.toml
//! --target-dir <repo>/target` (what `cargo extension` does). The shim
//! turns on rusqlite's `loadable_extension`, which must never be unified
//! with the `bundled` SQLite of the tests and the portal (see
//! extension/loadable/Cargo.toml). Cargo releases its build lock while tests
//! run, so the nested build can take it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::scratch::repo_root;

/// The path of `libconsent.so`; panics saying why when it cannot be built.
pub fn libconsent() -> &'static Path {
    match try_libconsent() {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// The path of `libconsent.so`, or why it could not be built (for a
/// benchmark that goes on without it).
pub fn try_libconsent() -> Result<&'static Path, &'static str> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build) {
        Ok(path) => Ok(path),
        Err(message) => Err(message),
    }
}

fn build() -> Result<PathBuf, String> {
    let root = repo_root();
    let target = root.join("target");
    let manifest = root.join("extension").join("loadable").join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let output = Command::new(&cargo)
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {cargo} to build libconsent: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building libconsent failed ({}): cargo build --release --manifest-path {} --target-dir {}\n{}",
            output.status,
            manifest.display(),
            target.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let file = format!(
        "{}consent{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let lib = target.join("release").join(file);
    if lib.is_file() {
        Ok(lib)
    } else {
        Err(format!(
            "cargo built the shim but {} is not there; is CARGO_BUILD_TARGET set?",
            lib.display()
        ))
    }
}

/// The sqlite3 shell's `.load` line for the extension, the path quoted.
pub fn load_line() -> String {
    let path = libconsent().display().to_string();
    format!(
        ".load \"{}\"\n",
        path.replace('\\', "\\\\").replace('"', "\\\"")
    )
}
