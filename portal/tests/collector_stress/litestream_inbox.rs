//! A collector's disk lost and its inbox brought back from a Litestream
//! replica. The real `consent-portal serve`, `litestream replicate INBOX
//! file://REPLICA` beside it, and the real `consent-portal sync`:
//!
//! 1. A sync reads a decision the replica never got (litestream stopped
//!    first, so the lag is certain), then the disk is lost and the inbox
//!    restored: the replica's last cursor is below the one sync passed. A
//!    decision posted after the restore must still be applied; with cursors
//!    that only went on from the last row (before the inbox's cursors
//!    followed the clock) it was skipped without a word.
//! 2. Decisions replicated but not yet collected when the disk is lost
//!    again come back with the restore, and the next sync applies them.
//!    A decision answered after the last replication is lost: the customer
//!    saw "thank you", and the request stays sent (docs say so plainly).
//!
//! Each wait for the replica is a bounded poll (`litestream restore` into
//! a scratch file, rows counted). Skipped, visibly, without litestream
//! (`Tool::Litestream`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use consent_testkit::billing::Register;
use consent_testkit::tools::litestream;
use consent_testkit::world::FILE_EMAIL;
use consent_testkit::{require, sql, Tool};

use crate::one_at_a_time;
use crate::serve_process::{collector_of, free_port, Server, Setup};
use crate::several_collectors::{base, press, sync, BEARER};

/// How long the replica may take to hold a decision (Litestream syncs
/// every second by default).
const REPLICA_WAIT: Duration = Duration::from_secs(30);

/// `litestream replicate`, killed (this child only) when dropped.
struct Replicate {
    child: Child,
}

impl Replicate {
    fn start(setup: &Setup, replica: &Path) -> Replicate {
        let log = File::options()
            .create(true)
            .append(true)
            .open(setup.dir.join("litestream.log"))
            .expect("log file");
        let child = Command::new(litestream())
            .arg("replicate")
            .arg(&setup.inbox)
            .arg(replica_url(replica))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start litestream replicate");
        Replicate { child }
    }

    /// SIGKILL, as when the machine goes: nothing more is replicated.
    fn kill(mut self) {
        self.child.kill().expect("kill litestream");
        self.child.wait().expect("reap litestream");
    }
}

impl Drop for Replicate {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn replica_url(replica: &Path) -> String {
    format!("file://{}", replica.display())
}

/// `litestream restore -o out file://replica`.
fn restore(replica: &Path, out: &Path) {
    let done = Command::new(litestream())
        .arg("restore")
        .arg("-o")
        .arg(out)
        .arg(replica_url(replica))
        .stdin(Stdio::null())
        .output()
        .expect("run litestream restore");
    assert!(
        done.status.success(),
        "litestream restore: {}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// Waits until a restore of the replica holds `rows` decisions.
fn wait_for_replica(setup: &Setup, replica: &Path, rows: i64) {
    static PROBES: AtomicUsize = AtomicUsize::new(0);
    let started = Instant::now();
    loop {
        // A new file each time: restore refuses to write over one.
        let probe_number = PROBES.fetch_add(1, Ordering::Relaxed);
        let probe = setup.dir.join(format!("probe-{probe_number}.db"));
        let held = if replica.join("ltx").is_dir() {
            restore(replica, &probe);
            let conn = rusqlite::Connection::open(&probe).expect("the restored copy");
            sql::int(&conn, "SELECT count(*) FROM decision")
        } else {
            0
        };
        if held >= rows {
            return;
        }
        assert!(
            started.elapsed() < REPLICA_WAIT,
            "the replica holds {held} decisions, not {rows}, after {REPLICA_WAIT:?}:\n{}",
            std::fs::read_to_string(setup.dir.join("litestream.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The disk is lost: the inbox and its -wal and -shm are gone. Then the
/// restore procedure of docs/deployment.md.
fn lose_the_disk_and_restore(setup: &Setup, replica: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = setup.inbox.clone().into_os_string();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            std::fs::remove_file(&path).expect("remove the inbox file");
        }
    }
    restore(replica, &setup.inbox);
}

#[test]
fn a_collector_inbox_restored_from_litestream_loses_no_decision_sync_has_not_applied() {
    if !require(&[Tool::Litestream]) {
        return;
    }
    let _one = one_at_a_time();
    let port = free_port();
    let url = base(port);
    let register = Register::create(
        "litestream-inbox",
        8,
        0,
        FILE_EMAIL,
        std::slice::from_ref(&url),
    );
    let collector = collector_of(register.dir.path(), "litestream-collector", port, BEARER);
    let replica = collector.dir.join("replica");
    let server = Server::start(&collector);
    let replicate = Replicate::start(&collector, &replica);

    let (first, out) = sync(&register);
    assert!(out.status.success(), "{first}");
    assert_eq!(first["delivery"]["sent_email"], 8, "{first}");

    // 1. The replica has customer 1's decision; then it stops, and sync
    //    reads customer 2's, which the replica never gets.
    press(&register, &url, 1, "approve");
    wait_for_replica(&collector, &replica, 1);
    replicate.kill();
    press(&register, &url, 2, "decline");
    let (second, out) = sync(&register);
    assert!(out.status.success(), "{second}");
    assert_eq!(
        (second["approved"].as_i64(), second["declined"].as_i64()),
        (Some(1), Some(1))
    );

    server.kill();
    lose_the_disk_and_restore(&collector, &replica);
    let server = Server::start(&collector);
    let replicate = Replicate::start(&collector, &replica);
    // After the restore, a customer decides: sync has already passed the
    // cursor the restored inbox last gave out.
    press(&register, &url, 3, "approve");
    let (third, out) = sync(&register);
    assert!(out.status.success(), "{third}");
    assert_eq!(
        register.statuses()[&3],
        "approved",
        "the decision posted after the restore is applied: {third}"
    );

    // 2. Two decisions reach the replica, sync has not run; one more is
    //    answered after the last replication. Then the disk is lost again.
    press(&register, &url, 4, "approve");
    press(&register, &url, 5, "decline");
    wait_for_replica(&collector, &replica, 3);
    replicate.kill();
    press(&register, &url, 6, "approve");
    server.kill();
    lose_the_disk_and_restore(&collector, &replica);
    let server = Server::start(&collector);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&collector.inbox)
            .expect("the inbox")
            .permissions(),
    );
    assert_eq!(
        mode & 0o077,
        0,
        "the restored inbox is its owner's only: {mode:o}"
    );
    press(&register, &url, 7, "approve");
    let (fourth, out) = sync(&register);
    assert!(out.status.success(), "{fourth}");

    let statuses = register.statuses();
    for (customer, status) in [
        (1, "approved"),
        (2, "denied"),
        (3, "approved"),
        (4, "approved"),
        (5, "denied"),
        // Answered "thank you" after the last replication: lost with the
        // disk, the request still waits (and expires unless asked again).
        (6, "sent"),
        (7, "approved"),
        (8, "sent"),
    ] {
        assert_eq!(statuses[&customer], status, "customer {customer}: {fourth}");
    }
    assert_eq!(
        sql::text(&register.conn(), "SELECT consent_verify_log()"),
        "ok"
    );
    drop(server);
}
