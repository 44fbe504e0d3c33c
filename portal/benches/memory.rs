//! The peak memory of one `sync` over a freshly queued register, for
//! growing registers: 10 000 customers (the baseline, measured in the same
//! run), then 100 000 and 1 000 000. The real `consent-portal sync` runs as
//! a child process with the file transports (each request rendered, signed,
//! written as a page and sent as an `.eml` file); its peak resident memory
//! is the kernel's count (`wait4`'s `ru_maxrss`), its time the wall clock.
//!
//!   cargo bench -p consent-portal --bench memory
//!
//! BENCH_MEMORY_SIZES overrides the sizes (comma-separated; the first is
//! the baseline), e.g. `BENCH_MEMORY_SIZES=2000,20000` for a quick run.
//! The largest size writes about 2 000 000 files (12 GB) under the target
//! folder, and deletes them afterwards.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use consent_testkit::billing::Register;
use consent_testkit::world::FILE_EMAIL;

/// What one run of sync took.
struct Measured {
    customers: usize,
    peak_mb: f64,
    time: Duration,
}

/// Runs `command` to the end; its peak resident memory in MB (the kernel
/// counts it in KiB) and its wall time.
// The child is reaped by wait4, which is what gives its peak memory.
#[allow(clippy::zombie_processes)]
fn run_measured(mut command: Command) -> (f64, Duration, String) {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start consent-portal sync");
    let pid = child.id() as libc::pid_t;
    // Read stdout on a thread while waiting: the JSON summary must not
    // fill the pipe and stall the child.
    let mut stdout = child.stdout.expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).expect("read stdout");
        text
    });
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our
    // own child, reaped here once (the Child handle was consumed above).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let time = started.elapsed();
    let status = std::process::ExitStatus::from_raw(status);
    let out = reader.join().expect("stdout reader");
    assert!(status.success(), "sync failed ({status}): {out}");
    (usage.ru_maxrss as f64 / 1024.0, time, out)
}

/// The register's database moved to a RAM disk (`/dev/shm`), and the
/// configuration pointed at it. The file transport commits each message's
/// outcome before writing the next file, and this machine's disk takes
/// about 10 ms to flush a commit: on disk, a million messages would take
/// hours of waiting on the disk rather than of the portal's work. Pages
/// and messages stay on disk (12 GB at a million). Removed on drop.
struct RamDiskDatabase(PathBuf);

impl RamDiskDatabase {
    fn move_from(register: &Register) -> Option<RamDiskDatabase> {
        let shm = Path::new("/dev/shm");
        if !shm.is_dir() {
            eprintln!("no /dev/shm: the register stays on disk");
            return None;
        }
        let target = shm.join(format!("consent-memory-bench-{}.db", std::process::id()));
        std::fs::copy(register.dir.join("billing.db"), &target).expect("copy to /dev/shm");
        std::fs::remove_file(register.dir.join("billing.db")).expect("remove the disk copy");
        let config = register.config();
        let text = std::fs::read_to_string(&config).expect("config");
        let moved = text.replacen(
            "database = \"billing.db\"",
            &format!("database = {:?}", target.display().to_string()),
            1,
        );
        assert_ne!(moved, text, "the configuration names billing.db");
        std::fs::write(&config, moved).expect("config");
        Some(RamDiskDatabase(target))
    }
}

impl Drop for RamDiskDatabase {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn measure(customers: usize) -> Measured {
    let register = Register::create(
        &format!("memory-bench-{customers}"),
        customers,
        0,
        FILE_EMAIL,
        &[],
    );
    let on_ram_disk = RamDiskDatabase::move_from(&register);
    let (peak_mb, time, out) = run_measured(register.sync_command());
    drop(on_ram_disk);
    let summary: serde_json::Value = serde_json::from_str(&out).expect("sync --json");
    let sent = summary["delivery"]["sent_email"].as_u64().unwrap_or(0);
    assert_eq!(sent as usize, customers, "every request sent: {out}");
    Measured {
        customers,
        peak_mb,
        time,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_MEMORY_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let mut results: Vec<Measured> = Vec::new();
    for &n in &sizes {
        let m = measure(n);
        eprintln!(
            "{n} queued: peak {:.1} MB, {:.1} s",
            m.peak_mb,
            m.time.as_secs_f64()
        );
        results.push(m);
    }
    let base = &results[0];
    println!();
    println!(
        "| queued requests | peak memory | vs {} | time | per request |",
        base.customers
    );
    println!("|---:|---:|---:|---:|---:|");
    for m in &results {
        println!(
            "| {} | {:.1} MB | {:.2}x | {:.1} s | {:.0} µs |",
            m.customers,
            m.peak_mb,
            m.peak_mb / base.peak_mb,
            m.time.as_secs_f64(),
            m.time.as_secs_f64() * 1e6 / m.customers as f64
        );
    }
}
