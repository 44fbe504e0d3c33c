//! Applying 100 000 collected decisions (verify + apply, as `sync` does),
//! against the hand-written verify loop plus a plain UPDATE per decision,
//! in the same run.
//!
//! The fixture sends the requests through the extension (page ids and the
//! text hash as render records them, then `consent_mark_sent`). The
//! baseline writes the same rows by hand: the plain UPDATE fires the same
//! chained audit trigger, so it writes the same events with their hashes;
//! only the guard triggers that refuse hand-written SQL are dropped on its
//! copy, and they are part of what the product costs.
//!
//!   cargo bench -p consent-portal --bench apply
//!
//! BENCH_DECISIONS overrides the number (default 100 000).

use std::path::Path;
use std::time::{Duration, Instant};

use consent_extension::requests;
use consent_portal::collector::{Decision, StoredDecision};
use consent_portal::sync::apply;
use consent_portal::token::{self, Claims, PageBinding, Signer, Verifier};
use consent_testkit::sample::{self, numbered_customers, SetUp};
use consent_testkit::{env_or, sql, Scratch};
use rusqlite::{params, Connection};

const SENT_AT: i64 = 1_796_000_000;
/// The hash of the text every page showed.
const TEXT_HASH: [u8; 32] = [9; 32];

/// The page id of request `id`, as the fixture writes it: 22 characters.
fn page_id(id: i64) -> String {
    format!("page{id:018}")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A register of `n` customers, each with a sent request whose page showed
/// the text [`TEXT_HASH`].
fn fixture(path: &Path, n: usize) {
    let conn = sample::open(path);
    conn.execute_batch(&numbered_customers(n))
        .expect("customers");
    SetUp::init("customers", "id", "email", "mobile", None)
        .info_text("x")
        .queue_all()
        .apply(&conn);
    // Each request gets its page and text as render records them, and is
    // marked sent, in one transaction.
    conn.execute_batch("BEGIN").expect("begin");
    for id in 1..=n as i64 {
        let assigned = requests::assign_page_id(&conn, id, &page_id(id), &token::hex(&TEXT_HASH))
            .expect("page id");
        assert!(assigned, "request {id} is queued");
    }
    let sent: i64 = conn
        .query_row(
            "SELECT count(consent_mark_sent(id, 'email', NULL, ?1)) FROM customers",
            [consent_extension::time::format(SENT_AT)],
            |r| r.get(0),
        )
        .expect("sent");
    assert_eq!(sent as usize, n);
    conn.execute_batch("COMMIT").expect("commit");
    let page: String = conn
        .query_row(
            "SELECT page_id FROM consent_request WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .expect("a page id");
    assert_eq!(page, page_id(1));
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
            let decision = if id % 4 == 0 {
                Decision::Decline
            } else {
                Decision::Approve
            };
            let claims = Claims {
                decision,
                request_id: id,
                page: PageBinding::of(&page_id(id)),
                expires_at: SENT_AT + 7 * 86_400,
                text_hash: TEXT_HASH,
            };
            StoredDecision {
                cursor: id,
                request_id: id,
                decision,
                token: signer.sign(&claims),
                received_at: received.clone(),
            }
        })
        .collect();
    // Sync's clock: an hour after the decisions arrived.
    let checks = apply::Checks {
        verifier: &verifier,
        now: SENT_AT + 7200,
        clock_skew: 300,
    };

    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for round in 0..3 {
        // The baseline: verify each token, then one plain UPDATE per
        // decision, in one transaction.
        let db = root.join(format!("base-{round}.db"));
        std::fs::copy(&template, &db).expect("copy");
        let conn = Connection::open(&db).expect("open");
        // The chained audit trigger needs the hash function; the guards
        // would refuse a write by hand.
        consent_extension::register(&conn).expect("register");
        conn.execute_batch(
            "DROP TRIGGER consent_request_guard_update; DROP TRIGGER consent_event_guard_insert;",
        )
        .expect("drop the guards");
        let started = Instant::now();
        conn.execute_batch("BEGIN").expect("begin");
        {
            let mut update = conn
                .prepare(
                    "UPDATE consent_request SET status = ?2, \
                       evidence = CASE WHEN ?2 = 'approved' THEN ?3 END, \
                       reason = CASE WHEN ?2 = 'denied' THEN 'declined' END, \
                       actor = CASE WHEN ?2 = 'approved' THEN 'consent_approve' ELSE 'consent_revoke' END, \
                       detail = CASE WHEN ?2 = 'approved' THEN ?3 ELSE 'declined' END, \
                       decided_at = ?4, updated_at = ?4 WHERE id = ?1",
                )
                .expect("prepare");
            for d in &batch {
                let at = consent_extension::time::parse(&d.received_at).expect("time");
                let claims = verifier.verify(&d.token, at).expect("valid");
                let status = if claims.decision == Decision::Approve {
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
        assert_eq!(
            sql::text(&conn, "SELECT consent_verify_log()"),
            "ok",
            "the baseline wrote the same chained events"
        );
        drop(conn);

        // What sync does.
        let db = root.join(format!("ours-{round}.db"));
        std::fs::copy(&template, &db).expect("copy");
        let conn = Connection::open(&db).expect("open");
        consent_extension::register(&conn).expect("register");
        let started = Instant::now();
        let applied = apply::apply(&conn, "bench", &batch, &checks, false).expect("apply");
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
        "| verify loop + plain UPDATE, the chained audit trigger writing the events (baseline) | {:.2} s | {:.1} µs | 1.00 | |",
        base.as_secs_f64(),
        base.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "| sync's apply (verify, check the current request, its page, text and times, consent_approve / consent_revoke with evidence and audit row, cursor) | {:.2} s | {:.1} µs | {:.2}x | <= 1.5x |",
        ours.as_secs_f64(),
        ours.as_secs_f64() * 1e6 / n as f64,
        ours.as_secs_f64() / base.as_secs_f64()
    );
}
