//! The walk-through (`cargo run --release -p consent-portal -- walkthrough`)
//! prints every status.

use std::process::Command;

use consent_testkit::billing::portal;
use consent_testkit::host::run_ok;
use consent_testkit::Scratch;

#[test]
fn walks_one_customer_through_every_status() {
    let dir = Scratch::new("walkthrough");
    let db = dir.join("walk.db");
    let out = run_ok(
        portal(&["walkthrough", "--db"]).arg(&db),
        "consent-portal walkthrough",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected_in_order = [
        "missing | Samtycke saknas",
        "queued",
        "sent",
        "approved",
        "denied",
        "queued",
        "sent",
        "0",
        "1",
        "denied | Samtycke är nekat",
        "1002 | Bo Berg | error | Fel vid begäran av samtycke | Kunden saknar e-postadress",
        "sent | denied | consent_expire | inget svar inom 7 dagar | 2026-11-27T18:00:00Z",
    ];
    let mut rest = stdout.as_ref();
    for line in expected_in_order {
        let at = rest
            .find(&format!("\n{line}"))
            .unwrap_or_else(|| panic!("{line:?} missing (in order) from:\n{stdout}"));
        rest = &rest[at + line.len()..];
    }
    // The register is left for the reader to open.
    assert!(db.exists());
    let again = Command::new(env!("CARGO_BIN_EXE_consent-portal"))
        .args(["walkthrough", "--db"])
        .arg(&db)
        .output()
        .expect("run consent-portal");
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains("--db"),
        "{stderr}"
    );
}
