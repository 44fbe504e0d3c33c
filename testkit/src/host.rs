//! Running the programs a test drives: with a time limit, the output in
//! files (so that no pipe can fill up), and the sqlite3 shell with scripts
//! of checks (`SELECT 'name', expr = expected;`, every line `name|1`).

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::scratch::Scratch;

/// The longest a host program may run before the test gives up on it.
pub const TIME_LIMIT: Duration = Duration::from_secs(120);

/// What a program did.
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

/// Runs `command` with stdin from `stdin` (or nothing), its output going to
/// `<label>.stdout` and `<label>.stderr` in `dir`, and kills it after
/// [`TIME_LIMIT`].
pub fn run(mut command: Command, stdin: Option<&Path>, dir: &Scratch, label: &str) -> Run {
    let out_path = dir.join(format!("{label}.stdout"));
    let err_path = dir.join(format!("{label}.stderr"));
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
    let status = wait_bounded(child, TIME_LIMIT, &shown);
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

/// Runs `command` to the end; panics, showing what it wrote, unless it
/// exited 0.
pub fn run_ok(command: &mut Command, what: &str) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        output_text(&out)
    );
    out
}

/// What a program wrote: its stdout, then its stderr.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits for `child` at most `limit`; past it the child (this one, by its
/// own pid) is killed and the test fails naming `what`.
pub fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if started.elapsed() <= limit => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => break,
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} ran longer than {limit:?} and was killed");
}

/// Runs `script` through `sqlite3 -bail db` as its standard input. The
/// script is kept in `dir` as `<label>.sql`.
pub fn sqlite3(db: &Path, script: &str, dir: &Scratch, label: &str) -> Run {
    let script_path = dir.join(format!("{label}.sql"));
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
pub fn assert_checks(db: &Path, script: &str, checks: usize, dir: &Scratch, label: &str) {
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

/// The first line a child writes, read on a thread of its own so that a
/// silent child cannot hang the test; None after `timeout`.
pub fn first_line(from: impl std::io::Read + Send + 'static, timeout: Duration) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(from).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(timeout).ok()
}
