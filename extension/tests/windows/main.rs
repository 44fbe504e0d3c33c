//! consent.dll, the loadable shim built for 64-bit Windows, loaded into a
//! Windows program under Wine: one customer's walk through the statuses,
//! the Swedish labels intact, the audit log whole, an error that comes
//! back to the program, a clean close; then the database file the Windows
//! program wrote, read on Linux.
//!
//! What runs, all built here:
//! - `consent.dll`: `consent_testkit::shim::consent_dll`, a separate cargo
//!   command with `--target x86_64-pc-windows-gnu`, linked by MinGW-w64;
//! - the host, `tests/windows/host.c`, compiled by MinGW-w64 with the
//!   SQLite amalgamation that libsqlite3-sys bundles (the SQLite of the
//!   portal and the tests), into `target/windows-host/`, once per run;
//! - Debian's Wine (`wine64`), in a Wine prefix of the test's own, whose
//!   server the test stops at the end.
//!
//! Missing MinGW-w64 or Wine (Debian packages) is a skip, a failure under
//! `CI=true`. A missing Rust target for Windows is not: it comes from
//! rustup's server, not a package registry, so the test says loudly that
//! consent.dll was not tested here (`consent_testkit::not_tested_here`)
//! and passes; `scripts/test.sh` lists it at the end.
//!
//! Under Wine only, a stand-in `bcryptprimitives.dll`
//! (`tests/windows/wine_bcryptprimitives.c`) lies beside the host: Rust's
//! standard library imports `ProcessPrng` from that Windows 10 DLL, which
//! Wine 8.0 lacks. It is a test device, never shipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use consent_testkit::host::{run, run_ok, Run};
use consent_testkit::sample::{self, CUSTOMERS, INFO_TEXT};
use consent_testkit::shim::{consent_dll, windows_target_missing, WINDOWS_TARGET};
use consent_testkit::tools::{cargo, MINGW_GCC, WINE64, WINESERVER};
use consent_testkit::{not_tested_here, repo_root, require, Scratch, Tool};

/// The host program and what it was built with.
struct WindowsHost {
    /// `target/windows-host/host.exe`, with the Wine-only
    /// `bcryptprimitives.dll` beside it.
    exe: PathBuf,
    /// `SQLITE_VERSION` of the amalgamation compiled into it.
    sqlite_version: String,
}

/// The folder of the SQLite amalgamation that libsqlite3-sys bundles, as
/// the root workspace resolves it.
fn amalgamation() -> PathBuf {
    let out = run_ok(
        Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--locked"])
            .arg("--manifest-path")
            .arg(repo_root().join("Cargo.toml"))
            .stdin(Stdio::null()),
        "cargo metadata",
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let manifests: Vec<&str> = metadata["packages"]
        .as_array()
        .expect("cargo metadata lists packages")
        .iter()
        .filter(|p| p["name"] == "libsqlite3-sys")
        .filter_map(|p| p["manifest_path"].as_str())
        .collect();
    assert_eq!(
        manifests.len(),
        1,
        "expected one libsqlite3-sys in the root workspace, found {manifests:?}"
    );
    let folder = Path::new(manifests[0])
        .parent()
        .expect("a manifest lives in a folder")
        .join("sqlite3");
    assert!(
        folder.join("sqlite3.c").is_file(),
        "no sqlite3.c in {}",
        folder.display()
    );
    folder
}

/// `#define SQLITE_VERSION "3.x.y"` of the header in `folder`.
fn sqlite_version(folder: &Path) -> String {
    let header = folder.join("sqlite3.h");
    let text = std::fs::read_to_string(&header)
        .unwrap_or_else(|e| panic!("reading {}: {e}", header.display()));
    text.lines()
        .find_map(|line| {
            line.strip_prefix("#define SQLITE_VERSION ")
                .map(|rest| rest.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("no SQLITE_VERSION in {}", header.display()))
}

/// Runs MinGW-w64's gcc with `args`, writing `output` through a file of
/// this process's own, renamed into place: a concurrent run never sees
/// half a program.
fn mingw(args: &[&Path], extra: &[&str], output: &Path, dir: &Scratch, label: &str) {
    let partial = output.with_extension(format!("partial-{}", std::process::id()));
    let mut gcc = Command::new(MINGW_GCC);
    gcc.args(extra).arg("-o").arg(&partial).args(args);
    let shown = format!("{gcc:?}");
    let compiled = run(gcc, None, dir, label);
    assert!(
        compiled.status.success(),
        "{shown} failed ({}):\n{}{}",
        compiled.status,
        compiled.stdout,
        compiled.stderr
    );
    std::fs::rename(&partial, output)
        .unwrap_or_else(|e| panic!("renaming {} into place: {e}", partial.display()));
}

/// Builds the host and the Wine-only stand-in into `target/windows-host`,
/// once per test program (about 35 s, most of it SQLite).
fn windows_host(dir: &Scratch) -> &'static WindowsHost {
    static BUILT: OnceLock<WindowsHost> = OnceLock::new();
    BUILT.get_or_init(|| {
        let sqlite = amalgamation();
        let sources = repo_root().join("tests").join("windows");
        let out = repo_root().join("target").join("windows-host");
        std::fs::create_dir_all(&out)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
        let include = format!("-I{}", sqlite.display());
        let exe = out.join("host.exe");
        mingw(
            &[&sources.join("host.c"), &sqlite.join("sqlite3.c")],
            &["-O1", &include],
            &exe,
            dir,
            "mingw-host",
        );
        // WINE ONLY, never shipped: see tests/windows/wine_bcryptprimitives.c.
        // Beside the host, where Windows looks first for the DLLs that
        // consent.dll imports.
        mingw(
            &[&sources.join("wine_bcryptprimitives.c")],
            &["-shared", "-O1", "-ladvapi32"],
            &out.join("bcryptprimitives.dll"),
            dir,
            "mingw-wine-stand-in",
        );
        WindowsHost {
            exe,
            sqlite_version: sqlite_version(&sqlite),
        }
    })
}

/// `Z:\...`: the Windows path of a Linux path under Wine (drive Z: is `/`).
fn windows_path(path: &Path) -> String {
    assert!(path.is_absolute(), "{} is not absolute", path.display());
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// A Wine prefix of the test's own: every Wine process runs in it, and
/// its server, with whatever it started, is stopped when this is dropped
/// (`wineserver -k`), so nothing lingers after the test.
struct Wine {
    prefix: PathBuf,
}

impl Wine {
    /// The prefix `prefix`, set up by `wineboot --init` (its notes on
    /// stderr about creating the prefix go to the scratch folder's
    /// `wineboot.stderr`, not into the host's runs).
    fn new(prefix: PathBuf, dir: &Scratch) -> Wine {
        let wine = Wine { prefix };
        let mut boot = wine.command(dir);
        boot.args(["wineboot", "--init"]);
        let booted = run(boot, None, dir, "wineboot");
        assert!(
            booted.status.success(),
            "wineboot --init failed ({}):\n{}{}",
            booted.status,
            booted.stdout,
            booted.stderr
        );
        wine
    }

    /// `wine64` in this prefix, from `cwd`: no debug channels, no display,
    /// no offer to install Mono or Gecko. The caller adds the program and
    /// its arguments.
    fn command(&self, cwd: &Path) -> Command {
        let mut command = Command::new(WINE64);
        self.env(&mut command);
        command
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .current_dir(cwd);
        command
    }

    fn env(&self, command: &mut Command) {
        command.env("WINEPREFIX", &self.prefix);
    }

    /// Stops this prefix's Wine server and everything it runs, and waits
    /// (at most 30 s each) until it is gone. Err says what did not work.
    fn stop(&self) -> Result<(), String> {
        for flag in ["-k", "-w"] {
            let mut command = Command::new(WINESERVER);
            command
                .arg(flag)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            self.env(&mut command);
            let mut child = command
                .spawn()
                .map_err(|e| format!("cannot run {WINESERVER} {flag}: {e}"))?;
            let started = Instant::now();
            loop {
                match child.try_wait() {
                    // -k exits 1 when no server was running: also stopped.
                    Ok(Some(_)) => break,
                    Ok(None) if started.elapsed() < Duration::from_secs(30) => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Ok(None) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(format!("{WINESERVER} {flag} ran longer than 30 s"));
                    }
                    Err(e) => return Err(format!("waiting for {WINESERVER} {flag}: {e}")),
                }
            }
        }
        Ok(())
    }

    /// Runs the host on `db` with `dll` loaded (both as Windows paths),
    /// `script` on its stdin; the script and the output are kept in `dir`
    /// as `<label>.sql`, `.stdout` and `.stderr`.
    fn host(
        &self,
        host: &Path,
        db: &Path,
        dll: &Path,
        script: &str,
        dir: &Scratch,
        label: &str,
    ) -> Run {
        let script_path = dir.join(format!("{label}.sql"));
        std::fs::write(&script_path, script)
            .unwrap_or_else(|e| panic!("writing {}: {e}", script_path.display()));
        let mut command = self.command(dir);
        command
            .arg(windows_path(host))
            .arg(windows_path(db))
            .arg(windows_path(dll));
        run(command, Some(&script_path), dir, label)
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        if let Err(why) = self.stop() {
            eprintln!(
                "could not stop the Wine server of {}: {why}",
                self.prefix.display()
            );
        }
    }
}

#[test]
fn consent_dll_walks_a_customer_in_a_windows_host_under_wine() {
    if !require(&[Tool::Mingw, Tool::Wine]) {
        return;
    }
    if let Some(why) = windows_target_missing() {
        not_tested_here(
            "consent.dll (the extension for Windows) in a Windows host under Wine",
            &why,
            &format!("rustup target add {WINDOWS_TARGET}, then run the tests again"),
        );
        return;
    }
    let dir = Scratch::new("windows");

    // consent.dll (cargo) and the host (gcc) build at the same time, and
    // Wine sets its prefix up meanwhile.
    let started = Instant::now();
    let (dll, host, wine) = std::thread::scope(|s| {
        let host = s.spawn(|| {
            let started = Instant::now();
            let host = windows_host(&dir);
            eprintln!("host built in {:.1?}", started.elapsed());
            host
        });
        let wine = s.spawn(|| {
            let started = Instant::now();
            let wine = Wine::new(dir.join("wineprefix"), &dir);
            eprintln!("Wine prefix set up in {:.1?}", started.elapsed());
            wine
        });
        let built = Instant::now();
        let dll = consent_dll().unwrap_or_else(|why| panic!("{why}"));
        eprintln!("consent.dll built in {:.1?}", built.elapsed());
        let host = host.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        let wine = wine.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (dll, host, wine)
    });
    eprintln!("ready in {:.1?}", started.elapsed());

    // One customer's walk, with explicit times, as a billing program would
    // run it; every result printed.
    let db = dir.join("billing.db");
    let walk = format!(
        "{CUSTOMERS}
SELECT 'sqlite', sqlite_version();
SELECT 'version', consent_version();
SELECT 'init', consent_init('customers', 'id', 'email', 'mobile', 'name');
SELECT 'info_text', consent_setting('info_text', '{info_text}');
SELECT 'before', consent_status(1), consent_label(consent_status(1));
SELECT 'queue', consent_queue(1, '2026-11-02T09:00:00Z');
SELECT 'status', consent_status(1);
SELECT 'approve', consent_approve(1, 'manual', '2026-11-03T08:15:00Z');
SELECT 'status', consent_status(1);
SELECT 'label sv', consent_label(consent_status(1));
SELECT 'label en', consent_label(consent_status(1), 'en');
SELECT 'revoke', consent_revoke(1, 'kunden ringde', '2026-11-10T14:00:00Z');
SELECT 'status', consent_status(1);
SELECT 'label sv', consent_label(consent_status(1), 'sv');
SELECT 'label en', consent_label(consent_status(1), 'en');
SELECT 'log', consent_verify_log();
",
        info_text = INFO_TEXT.replace('\'', "''"),
    );
    let ran = Instant::now();
    let walked = wine.host(&host.exe, &db, dll, &walk, &dir, "walk");
    eprintln!("the walk ran under Wine in {:.1?}", ran.elapsed());
    // Exit 0: every statement ran and sqlite3_close returned SQLITE_OK.
    walked.assert_clean("the walk in the Windows host");
    let expected = format!(
        "sqlite|{sqlite}
version|{version}
init|ok
info_text|{INFO_TEXT}
before|missing|Samtycke saknas
queue|queued
status|queued
approve|approved
status|approved
label sv|Samtycke är godkänt
label en|Consent approved
revoke|denied
status|denied
label sv|Samtycke är nekat
label en|Consent denied
log|ok
",
        sqlite = host.sqlite_version,
        version = consent_extension::VERSION,
    );
    assert_eq!(walked.stdout, expected, "the walk's output");

    // A second process on the same file: it sees the first one's work, and
    // an error comes back to the program as SQLite's error message; the
    // host stops there (exit 1, not 2: it still closed cleanly).
    let erring = "SELECT 'status', consent_status(1);\n\
                  SELECT 'queue', consent_queue(999);\n\
                  SELECT 'not reached';\n";
    let erred = wine.host(&host.exe, &db, dll, erring, &dir, "unknown-customer");
    assert_eq!(
        (
            erred.status.code(),
            erred.stdout.as_str(),
            erred.stderr.as_str()
        ),
        (
            Some(1),
            "status|denied\n",
            "host: consent_queue: no customer with id 999 in table \"customers\"; \
             pass an id from \"customers\".\"id\"\n"
        ),
        "an unknown customer in the Windows host"
    );

    let stopped = Instant::now();
    wine.stop().expect("stop the Wine server");
    eprintln!("Wine stopped in {:.1?}", stopped.elapsed());

    // The file the Windows program wrote, on Linux: closed cleanly (no hot
    // journal), whole, and the same register.
    for leftover in ["billing.db-journal", "billing.db-wal"] {
        assert!(
            !dir.join(leftover).exists(),
            "{leftover} left beside the database"
        );
    }
    let conn = sample::open(&db);
    let read = |sql: &str| -> String {
        conn.query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    assert_eq!(read("PRAGMA integrity_check"), "ok");
    assert_eq!(read("SELECT consent_status(1)"), "denied");
    assert_eq!(
        read("SELECT consent_label(consent_status(1))"),
        "Samtycke är nekat"
    );
    assert_eq!(read("SELECT consent_setting('info_text')"), INFO_TEXT);
    assert_eq!(read("SELECT consent_verify_log()"), "ok");
    assert_eq!(read("SELECT consent_status(2)"), "missing");
}
