//! Hostile input to the collector: each cargo-fuzz target in portal/fuzz
//! (decision tokens, `POST /decision`) runs for a bounded time and must
//! finish without a crash; and the committed seed corpus is the one the
//! targets' fixed key signs.
//!
//! Needs `cargo fuzz` (`cargo install cargo-fuzz --locked`); skipped without
//! it (a note and a line in the skip list, see consent_testkit::skip),
//! except under CI (`CI=true`), where that is a failure. The fuzz build
//! goes to portal/fuzz/target and takes minutes the first time; only the
//! fuzzing is bounded: `CONSENT_FUZZ_SECONDS` per target (default 20).
//! `CONSENT_FUZZ_WRITE_SEEDS=1` rewrites the seed corpus.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use consent_testkit::host::output_text as text;
use consent_testkit::tools::cargo;
use consent_testkit::{require, Tool};

// The fixed key pair and the seeds, as the fuzz targets have them.
#[allow(dead_code)]
mod shared {
    include!("../fuzz/src/seeds.rs");
}

const DEFAULT_SECONDS: u64 = 20;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// One fuzz build and one fuzzer at a time: runs measure one core each.
static FUZZING: Mutex<()> = Mutex::new(());

/// `cargo fuzz` with the toolchain's nightly features unlocked, building
/// into portal/fuzz/target whatever target dir the outer cargo uses.
fn cargo_fuzz() -> Command {
    let mut command = Command::new(cargo());
    command
        .arg("fuzz")
        .current_dir(fuzz_dir())
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", fuzz_dir().join("target"))
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    command
}

fn seconds() -> u64 {
    match std::env::var("CONSENT_FUZZ_SECONDS") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("CONSENT_FUZZ_SECONDS={s:?} is not a number of seconds")),
        Err(_) => DEFAULT_SECONDS,
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// What the target said when it panicked (long lines cut), before the
/// backtraces.
fn panic_message(output: &str) -> String {
    let mut lines = output.lines().skip_while(|l| !l.contains("panicked at"));
    let message: Vec<String> = lines
        .by_ref()
        .take_while(|l| !l.starts_with("stack backtrace:") && !l.starts_with("note: "))
        .take(12)
        .map(|l| l.chars().take(400).collect())
        .collect();
    if message.is_empty() {
        "(no panic message)".to_owned()
    } else {
        message.join("\n")
    }
}

/// libFuzzer's last words: `Done <runs> runs in <seconds> second(s)`.
fn done_line(output: &str) -> Option<(u64, u64)> {
    output.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("Done ")?;
        let (runs, rest) = rest.split_once(" runs in ")?;
        let (secs, _) = rest.split_once(' ')?;
        Some((runs.parse().ok()?, secs.parse().ok()?))
    })
}

fn fuzz(target: &str) {
    let _one_at_a_time = FUZZING.lock().unwrap_or_else(|e| e.into_inner());
    if !require(&[Tool::CargoFuzz]) {
        return;
    }
    let seconds = seconds();

    let started = Instant::now();
    let build = cargo_fuzz()
        .args(["build", target])
        .output()
        .expect("run cargo fuzz build");
    assert!(
        build.status.success(),
        "cargo fuzz build {target} failed:\n{}",
        tail(&text(&build), 60)
    );
    eprintln!(
        "fuzz {target}: built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // New inputs go to a scratch corpus, so the committed seeds stay as
    // they are.
    let scratch = fuzz_dir().join("target/corpus").join(target);
    std::fs::create_dir_all(&scratch).expect("scratch corpus");
    let seeds = fuzz_dir().join("corpus").join(target);
    let started = Instant::now();
    let run = cargo_fuzz()
        .args(["run", target])
        .arg(&scratch)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .args([
            "-rss_limit_mb=2048",
            "-timeout=30",
            // The collector logs each refused decision to stderr.
            "-close_fd_mask=2",
            "-print_final_stats=1",
        ])
        .output()
        .expect("run cargo fuzz run");
    let ran = started.elapsed();
    let output = text(&run);
    assert!(
        run.status.success(),
        "fuzz target {target} failed ({}):\n{}\n...\n{}",
        run.status,
        panic_message(&output),
        tail(&output, 30)
    );
    let (runs, secs) = done_line(&output).unwrap_or_else(|| {
        panic!(
            "libFuzzer printed no Done line for {target}:\n{}",
            tail(&output, 40)
        )
    });
    assert!(runs > 0, "fuzz target {target} ran no input");
    eprintln!(
        "fuzz {target}: {runs} runs in {secs} s ({} execs/s), {:.1} s in all",
        runs / secs.max(1),
        ran.as_secs_f64()
    );
}

#[test]
fn token_verify_survives_hostile_tokens() {
    fuzz("token_verify");
}

#[test]
fn decision_post_survives_hostile_forms() {
    fuzz("decision_post");
}

#[test]
fn seed_corpus_is_signed_with_the_fuzz_key() {
    let write = std::env::var("CONSENT_FUZZ_WRITE_SEEDS").as_deref() == Ok("1");
    for (target, name, contents) in shared::seeds() {
        let path = fuzz_dir().join("corpus").join(target).join(name);
        if write {
            std::fs::create_dir_all(path.parent().expect("corpus dir")).expect("corpus dir");
            std::fs::write(&path, &contents).expect("write seed");
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == contents,
            "{} is not the seed portal/fuzz/src/seeds.rs makes; rewrite the seeds with \
             CONSENT_FUZZ_WRITE_SEEDS=1 cargo test -p consent-portal --test fuzz seed",
            path.display()
        );
    }
}
