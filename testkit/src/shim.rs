//! The real `libconsent.so`, built once per test program; and
//! `consent.dll`, the same shim for Windows ([`consent_dll`]).
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
    let file = format!(
        "{}consent{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    build_shim(None, &file)
}

/// Builds the loadable shim with its own cargo command, for this machine
/// or for `for_target` (a Rust target triple), and returns the path of
/// `file` in the release folder it lands in.
fn build_shim(for_target: Option<&str>, file: &str) -> Result<PathBuf, String> {
    let root = repo_root();
    let target_dir = root.join("target");
    let manifest = root.join("extension").join("loadable").join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let mut command = Command::new(&cargo);
    command.args(["build", "--release"]);
    if let Some(triple) = for_target {
        command.args(["--target", triple]);
    }
    command
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .stdin(Stdio::null());
    // MinGW-w64 links the Windows build, unless the caller chose a linker.
    let linker = "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER";
    if for_target == Some(WINDOWS_TARGET) && std::env::var_os(linker).is_none() {
        command.env(linker, crate::tools::MINGW_GCC);
    }
    let shown = format!(
        "cargo build --release{} --manifest-path {} --target-dir {}",
        for_target
            .map(|t| format!(" --target {t}"))
            .unwrap_or_default(),
        manifest.display(),
        target_dir.display()
    );
    let output = command
        .output()
        .map_err(|e| format!("could not run {cargo} to build {file}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building {file} failed ({}): {shown}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let built = match for_target {
        Some(triple) => target_dir.join(triple),
        None => target_dir,
    }
    .join("release")
    .join(file);
    if built.is_file() {
        Ok(built)
    } else {
        Err(format!(
            "{shown} succeeded but {} is not there; is CARGO_BUILD_TARGET set?",
            built.display()
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

/// The Rust target `consent.dll` is built for: 64-bit Windows, linked by
/// MinGW-w64 ([`crate::tools::MINGW_GCC`]).
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// Why the Rust standard library for [`WINDOWS_TARGET`] is not installed
/// here, or None. Asks the rustc on PATH (rustup's proxy picks the
/// toolchain cargo runs) for the target's library folder, and looks for
/// its `libstd`: what `rustup target add` puts there, and what the build
/// needs, with or without rustup.
pub fn windows_target_missing() -> Option<String> {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", WINDOWS_TARGET])
        .stdin(Stdio::null())
        .output();
    let libdir = match libdir {
        Ok(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
        Ok(out) => {
            return Some(format!(
                "`rustc --print target-libdir --target {WINDOWS_TARGET}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
        Err(e) => return Some(format!("cannot run rustc: {e}")),
    };
    let has_std = std::fs::read_dir(&libdir)
        .map(|entries| {
            entries.flatten().any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libstd-") && name.ends_with(".rlib")
            })
        })
        .unwrap_or(false);
    (!has_std).then(|| {
        format!(
            "the Rust target {WINDOWS_TARGET} is not installed (no standard library in {})",
            libdir.display()
        )
    })
}

/// The path of `consent.dll`, the shim built for [`WINDOWS_TARGET`], or
/// why it could not be built. The same separate cargo command as
/// [`libconsent`]'s, with `--target`, linked by MinGW-w64
/// (`CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER`, unless already set); the
/// result is `target/x86_64-pc-windows-gnu/release/consent.dll`. Needs
/// the target (see [`windows_target_missing`]) and
/// [`crate::tools::Tool::Mingw`].
pub fn consent_dll() -> Result<&'static Path, &'static str> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_dll) {
        Ok(path) => Ok(path),
        Err(message) => Err(message),
    }
}

fn build_dll() -> Result<PathBuf, String> {
    build_shim(Some(WINDOWS_TARGET), "consent.dll")
}
