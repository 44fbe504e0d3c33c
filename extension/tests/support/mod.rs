//! What the tests of the real libconsent.so share: building the shim once,
//! finding the host programs that load it, scratch folders, and running a
//! host with a time limit.
//!
//! Each test binary that says `mod support;` compiles its own copy and uses
//! only part of it; the rest is not dead code.
#![allow(dead_code)]

pub mod suite;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository root (the folder holding `extension/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the extension crate lives in a folder of the repository")
        .to_path_buf()
}

/// The path of `libconsent.so`, built once per test binary.
///
/// A separate, nested cargo command on purpose: the shim turns on rusqlite's
/// `loadable_extension`, which must never be unified with the `bundled`
/// SQLite of this crate's tests and the portal (see
/// extension/loadable/Cargo.toml). Cargo releases its build lock while
/// tests run, so the nested build can take it.
pub fn libconsent() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_shim) {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn build_shim() -> Result<PathBuf, String> {
    let root = repo_root();
    let target = root.join("target");
    let manifest = root.join("extension").join("loadable").join("Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {} to build libconsent: {e}", env!("CARGO")))?;
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

/// A program that loads the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// Debian's `sqlite3` shell, first on PATH.
    Sqlite3Shell,
    /// Debian's `/usr/bin/python3`, whose sqlite3 module can load extensions
    /// (the python3 first on PATH may be one that cannot).
    DebianPython,
}

pub const PYTHON: &str = "/usr/bin/python3";

impl Host {
    /// Why the host is unusable, or None when it is here.
    fn missing(self) -> Option<String> {
        let probe = match self {
            Host::Sqlite3Shell => Command::new("sqlite3").arg("-version").output(),
            Host::DebianPython => Command::new(PYTHON)
                .args([
                    "-c",
                    "import sqlite3, sys; sys.exit(0 if hasattr(sqlite3.Connection, 'enable_load_extension') else 3)",
                ])
                .output(),
        };
        let (what, install) = match self {
            Host::Sqlite3Shell => ("the sqlite3 shell on PATH", "apt-get install sqlite3"),
            Host::DebianPython => (
                "/usr/bin/python3 with a sqlite3 module that can load extensions",
                "apt-get install python3",
            ),
        };
        match probe {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(format!(
                "{what} is not usable ({}: {}); install it with `{install}`",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Some(format!(
                "{what} is not there ({e}); install it with `{install}`"
            )),
        }
    }
}

/// Whether `host` is here, checked once per binary. When it is not, a test
/// returns early: outside CI this prints why to stderr and returns false;
/// in CI (`CI=true`) a missing host is a failure, so this panics.
pub fn host_available(host: Host) -> bool {
    static SHELL: OnceLock<Option<String>> = OnceLock::new();
    static PYTHON_HOST: OnceLock<Option<String>> = OnceLock::new();
    let cell = match host {
        Host::Sqlite3Shell => &SHELL,
        Host::DebianPython => &PYTHON_HOST,
    };
    let Some(reason) = cell.get_or_init(|| host.missing()) else {
        return true;
    };
    let test = std::thread::current().name().unwrap_or("test").to_owned();
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: {reason} (CI=true, so a missing host fails the test)");
    }
    // Straight to the stderr stream: the test harness captures eprintln!,
    // and a passing test's captured output is never shown.
    let _ = writeln!(std::io::stderr(), "skipping {test}: {reason}");
    false
}

/// A scratch folder, removed when dropped (kept when the test failed, so
/// its databases and scripts can be looked at).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("consent-test-{}-{label}-{n}", std::process::id()));
        // A folder left by an earlier process with a recycled pid.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for inspection", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// What a host program did.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code 0 and nothing on stderr, or a panic showing both streams.
    pub fn assert_clean(&self, what: &str) {
        assert!(
            self.status.success() && self.stderr.is_empty(),
            "{what}: expected exit 0 and an empty stderr, got {}\n--- stdout\n{}--- stderr\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }
}

/// The longest any host program may run before the test gives up on it.
const HOST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Runs `command` with stdin from `stdin` (or nothing), its output going to
/// files in `dir` so that no pipe can fill up, and kills it after
/// [`HOST_TIME_LIMIT`].
pub fn run(mut command: Command, stdin: Option<&Path>, dir: &TempDir, label: &str) -> Run {
    let out_path = dir.join(&format!("{label}.stdout"));
    let err_path = dir.join(&format!("{label}.stderr"));
    let create =
        |p: &Path| File::create(p).unwrap_or_else(|e| panic!("cannot create {}: {e}", p.display()));
    command
        .stdout(create(&out_path))
        .stderr(create(&err_path))
        .stdin(match stdin {
            Some(p) => Stdio::from(
                File::open(p).unwrap_or_else(|e| panic!("cannot open {}: {e}", p.display())),
            ),
            None => Stdio::null(),
        });
    let shown = format!("{command:?}");
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let status = wait_bounded(child, &shown);
    let read = |p: &Path| {
        let bytes = fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Run {
        status,
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

fn wait_bounded(mut child: Child, shown: &str) -> ExitStatus {
    let started = Instant::now();
    let step = Duration::from_millis(5);
    let max_polls = HOST_TIME_LIMIT.as_millis() / step.as_millis();
    for _ in 0..max_polls {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) => std::thread::sleep(step),
            Err(e) => panic!("waiting for {shown}: {e}"),
        }
        if started.elapsed() > HOST_TIME_LIMIT {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{shown} ran longer than {HOST_TIME_LIMIT:?} and was killed");
}

/// The `.load` line for the sqlite3 shell, the path quoted.
pub fn load_line() -> String {
    let path = libconsent().display().to_string();
    format!(
        ".load \"{}\"\n",
        path.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// Runs `script` through `sqlite3 -bail db` as its standard input. The
/// script is kept in `dir` as `<label>.sql`.
pub fn sqlite3(db: &Path, script: &str, dir: &TempDir, label: &str) -> Run {
    let script_path = dir.join(&format!("{label}.sql"));
    fs::write(&script_path, script)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", script_path.display()));
    let mut command = Command::new("sqlite3");
    command.arg("-bail").arg(db);
    run(command, Some(&script_path), dir, label)
}

/// The output lines that are not a passed check (`name|1`).
pub fn failed_checks(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|line| !line.ends_with("|1"))
        .collect()
}

/// Runs a script of checks (`SELECT 'name', expr = expected;`) through the
/// shell, and panics unless it exits cleanly with every line passed and
/// exactly `checks` lines printed.
pub fn assert_checks(db: &Path, script: &str, checks: usize, dir: &TempDir, label: &str) {
    let run = sqlite3(db, script, dir, label);
    run.assert_clean(label);
    let failed = failed_checks(&run.stdout);
    assert!(
        failed.is_empty(),
        "{label}: checks failed:\n{}\n--- whole output\n{}",
        failed.join("\n"),
        run.stdout
    );
    assert_eq!(
        run.stdout.lines().count(),
        checks,
        "{label}: expected {checks} check lines, got\n{}",
        run.stdout
    );
}
