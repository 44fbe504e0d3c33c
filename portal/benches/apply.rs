//! Applying 100 000 collected decisions (verify + apply, as `sync` does),
//! against the hand-written verify loop plus a plain UPDATE per decision,
//! in the same run.
//!
//!   cargo bench -p consent-portal --bench apply
//!
//! BENCH_DECISIONS overrides the number (default 100 000).

use std::path::Path;
use std::time::{Duration, Instant};

use consent_portal::collector::{Decision, StoredDecision};
use consent_portal::sync::apply;
use consent_portal::token::{self, Claims, CustomerId, Signer, Verifier};
use consent_testkit::sample::{self, numbered_customers, SetUp};
use consent_testkit::{env_or, sql, Scratch};
use rusqlite::{params, Connection};

const SENT_AT: i64 = 1_796_000_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A register of `n` customers, each with a sent request.
fn fixture(path: &Path, n: usize) {
    let conn = sample::open(path);
    conn.execute_batch(&numbered_customers(n))
        .expect("customers");
    SetUp::init("customers", "id", "email", "mobile", None)
        .info_text("x")
        .queue_all()
        .apply(&conn);
    conn.execute(
        "UPDATE consent_request SET status = 'sent', channel = 'email', sent_at = ?1, \
         page_id = printf('page%018d', id), actor = 'bench', updated_at = ?1",
        [consent_extension::time::format(SENT_AT)],
    )
    .expect("sent");
}

fn main() {
    let n: usize = env_or("BENCH_DECISIONS", 100_000);
    let root = Scratch::new("apply-bench");
    let template = root.join("template.db");
    eprintln!("setting up {n} sent requests and their signed decisions");
    fixture(&template, n);
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("random");
    let signer = Signer::new(token::SigningKey::from_bytes(&seed));
    let verifier = Verifier::new([signer.verifying_key()]);
    let received = consent_extension::time::format(SENT_AT + 3600);
    let batch: Vec<StoredDecision> = (1..=n as i64)
        .map(|id| {
            let claims = Claims {
                request_id: id,
                customer_id: CustomerId::Integer(id),
                expires_at: SENT_AT + 8 * 86_400,
                text_hash: [9; 32],
            };
            StoredDecision {
                cursor: id,
                request_id: id,
                decision: if id % 4 == 0 {
                    Decision::Decline
                } else {
                    Decision::Approve
                },
                token: signer.sign(&claims).expect("sign"),
                received_at: received.clone(),
            }
        })
        .collect();

    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for round in 0..3 {
        // The baseline: verify each token, then one plain UPDATE per
        // decision, in one transaction.
        let db = root.join(format!("base-{round}.db"));
        std::fs::copy(&template, &db).expect("copy");
        let conn = Connection::open(&db).expect("open");
        let started = Instant::now();
        conn.execute_batch("BEGIN").expect("begin");
        {
            let mut update = conn
                .prepare("UPDATE consent_request SET status = ?2, evidence = ?3, decided_at = ?4, updated_at = ?4 WHERE id = ?1")
                .expect("prepare");
            for d in &batch {
                let at = consent_extension::time::parse(&d.received_at).expect("time");
                let claims = verifier.verify(&d.token, at).expect("valid");
                let status = if d.decision == Decision::Approve {
                    "approved"
                } else {
                    "denied"
                };
                update
                    .execute(params![claims.request_id, status, d.token, d.received_at])
                    .expect("update");
            }
        }
        conn.execute_batch("COMMIT").expect("commit");
        base.push(started.elapsed());
        drop(conn);

        // What sync does.
        let db = root.join(format!("ours-{round}.db"));
        std::fs::copy(&template, &db).expect("copy");
        let conn = Connection::open(&db).expect("open");
        consent_extension::register(&conn).expect("register");
        let started = Instant::now();
        let applied = apply::apply(&conn, "bench", &batch, &verifier, false).expect("apply");
        ours.push(started.elapsed());
        assert_eq!(
            applied.approved + applied.declined,
            n,
            "every decision applied: {:?}",
            applied.refused.first()
        );
        let events = sql::int(
            &conn,
            "SELECT count(*) FROM consent_event WHERE actor IN ('consent_approve', 'consent_revoke')",
        );
        assert_eq!(events as usize, n);
        eprintln!("round {} done", round + 1);
    }
    let (base, ours) = (median(base), median(ours));
    println!("Applying {n} collected decisions (3/4 approve, 1/4 decline), median of 3 rounds:\n");
    println!("| case | time | per decision | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| verify loop + plain UPDATE (baseline) | {:.2} s | {:.1} µs | 1.00 | |",
        base.as_secs_f64(),
        base.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "| sync's apply (verify, check the current request, consent_approve / consent_revoke with evidence and audit row, cursor) | {:.2} s | {:.1} µs | {:.2}x | <= 1.5x |",
        ours.as_secs_f64(),
        ours.as_secs_f64() * 1e6 / n as f64,
        ours.as_secs_f64() / base.as_secs_f64()
    );
}
