//! Rendering 100 000 pending requests, against the plain write of as many
//! files of the same size in the same run, and a re-render with nothing
//! changed against the first render. Then every request is approved on its
//! page: the next render records a receipt and writes a withdrawal page per
//! approval (and deletes the consent pages), and one more with nothing
//! changed.
//!
//!   cargo bench -p consent-portal --bench render
//!
//! BENCH_PAGES overrides the number of requests (default 100 000).

use std::path::Path;
use std::time::{Duration, Instant};

use consent_portal::config::{self, Config};
use consent_portal::sync::render;
use consent_testkit::sample::{self, numbered_customers, SetUp, BUSINESS_NAME};
use consent_testkit::site::key_pair;
use consent_testkit::{env_or, Scratch};
use rusqlite::Connection;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn setup(dir: &Scratch, n: usize) -> (Connection, Config, consent_portal::token::Signer) {
    let conn = sample::open(&dir.join("billing.db"));
    conn.execute_batch(&numbered_customers(n))
        .expect("customers");
    SetUp::init("customers", "id", "email", "mobile", Some("name"))
        .business_name(BUSINESS_NAME)
        .info_text("Vi sparar ditt namn, din adress och din e-postadress för att kunna fakturera dig och påminna dig om service.")
        .queue_all()
        .apply(&conn);
    std::fs::write(
        dir.join("consent.toml"),
        config::template(
            "billing.db",
            "https://s.example.se",
            "https://c.example.se/decision",
        ),
    )
    .expect("config");
    let config = Config::load(&dir.join("consent.toml")).expect("config");
    let (signer, _) = key_pair(dir);
    (conn, config, signer)
}

/// Creates and writes `n` files of `size` bytes in a fresh `dir` with
/// `write`, nothing else; how long the writes took.
fn timed_writes(dir: &Path, n: usize, size: usize, write: impl Fn(&Path, &[u8])) -> Duration {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("dir");
    let bytes = vec![b'x'; size];
    let started = Instant::now();
    for i in 0..n {
        write(&dir.join(format!("{i:022}.html")), &bytes);
    }
    started.elapsed()
}

/// The baseline: a plain write of each file.
fn plain_write(dir: &Path, n: usize, size: usize) -> Duration {
    timed_writes(dir, n, size, |path, bytes| {
        std::fs::write(path, bytes).expect("write")
    })
}

/// The same files written as render writes them: temporary file, rename.
fn atomic_write(dir: &Path, n: usize, size: usize) -> Duration {
    timed_writes(dir, n, size, |path, bytes| {
        consent_portal::site::write_atomically(path, bytes).expect("write")
    })
}

/// Signing the tokens of `n` pages (one per button, two per page) on one
/// thread.
fn sign_only(signer: &consent_portal::token::Signer, n: usize) -> Duration {
    use consent_portal::token::{Claims, Decision, PageBinding};
    let started = Instant::now();
    for i in 0..n {
        let page = PageBinding::of(&format!("{i:022}"));
        for decision in [Decision::Approve, Decision::Decline] {
            let claims = Claims {
                decision,
                request_id: i as i64,
                page,
                expires_at: 2_000_000_000,
                text_hash: [7; 32],
            };
            std::hint::black_box(signer.sign(&claims));
        }
    }
    started.elapsed()
}

fn main() {
    let n: usize = env_or("BENCH_PAGES", 100_000);
    let root = Scratch::new("render-bench");
    eprintln!("setting up {n} pending requests in {}", root.display());
    let (conn, config, signer) = setup(&root, n);
    let now = consent_extension::time::now();

    let (mut plain, mut first, mut again) = (Vec::new(), Vec::new(), Vec::new());
    let (mut atomic, mut signing) = (Vec::new(), Vec::new());
    let mut page_size = 0;
    for round in 0..3 {
        // A fresh site and cache each round: a first render.
        let _ = std::fs::remove_dir_all(config.site_dir());
        let _ = std::fs::remove_file(root.join(render::CACHE_FILE));
        let started = Instant::now();
        let summary = render::render(&conn, &config, &signer, now).expect("render");
        first.push(started.elapsed());
        assert_eq!(summary.pages, n, "every request has a page");
        if page_size == 0 {
            let pages = config.site_dir().join("c");
            let entry = std::fs::read_dir(&pages)
                .expect("pages")
                .next()
                .expect("a page")
                .expect("entry");
            page_size = entry.metadata().expect("meta").len() as usize;
        }
        let started = Instant::now();
        let summary = render::render(&conn, &config, &signer, now).expect("render");
        again.push(started.elapsed());
        assert_eq!(
            (summary.written, summary.unchanged),
            (0, n),
            "nothing changed: {summary:?}"
        );
        plain.push(plain_write(
            &root.join(format!("plain-{round}")),
            n,
            page_size,
        ));
        atomic.push(atomic_write(
            &root.join(format!("atomic-{round}")),
            n,
            page_size,
        ));
        signing.push(sign_only(&signer, n));
        eprintln!("round {}: done", round + 1);
    }
    // Every customer approves on their page: the next render gives each
    // approval its receipt and withdrawal page, once.
    conn.execute_batch("BEGIN").expect("begin");
    conn.query_row(
        "SELECT count(consent_mark_sent(customer_id, 'email', page_id, ?1)) FROM consent_request",
        [now],
        |_| Ok(()),
    )
    .expect("sent");
    conn.query_row(
        "SELECT count(consent_approve(customer_id, '{\"via\": \"consent page\"}', ?1)) \
         FROM consent_request",
        [now + 60],
        |_| Ok(()),
    )
    .expect("approved");
    conn.execute_batch("COMMIT").expect("commit");
    let started = Instant::now();
    let summary = render::render(&conn, &config, &signer, now + 120).expect("render");
    let withdrawal_first = started.elapsed();
    assert_eq!(
        (
            summary.withdrawal.receipts,
            summary.withdrawal.written,
            summary.removed
        ),
        (n, n, n),
        "{summary:?}"
    );
    let started = Instant::now();
    let summary = render::render(&conn, &config, &signer, now + 180).expect("render");
    let withdrawal_again = started.elapsed();
    assert_eq!(summary.withdrawal.written, 0, "{summary:?}");

    let (plain, first, again) = (median(plain), median(first), median(again));
    let (atomic, signing) = (median(atomic), median(signing));
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("Rendering {n} pending requests ({page_size}-byte pages), median of 3 rounds:\n");
    println!("| case | time | pages/s | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| plain write of {n} files of {page_size} bytes (baseline) | {:.2} s | {:.0} | 1.00 | |",
        plain.as_secs_f64(),
        rate(plain)
    );
    println!(
        "| first render (sign, render, write atomically) | {:.2} s | {:.0} | {:.2}x of the baseline's rate | >= 0.5x |",
        first.as_secs_f64(),
        rate(first),
        rate(first) / rate(plain)
    );
    println!(
        "| for comparison: the same files through a temporary file and a rename | {:.2} s | {:.0} | {:.2}x | |",
        atomic.as_secs_f64(),
        rate(atomic),
        rate(atomic) / rate(plain)
    );
    println!(
        "| for comparison: signing the two tokens of {n} pages on one core | {:.2} s | {:.0} | {:.2}x | |",
        signing.as_secs_f64(),
        rate(signing),
        rate(signing) / rate(plain)
    );
    println!(
        "| re-render, nothing changed | {:.3} s | | {:.1}% of the first render | < 5% |",
        again.as_secs_f64(),
        100.0 * again.as_secs_f64() / first.as_secs_f64()
    );
    println!(
        "| after {n} approvals: {n} receipts recorded, {n} withdrawal pages signed and written, {n} consent pages deleted (once) | {:.2} s | {:.0} | {:.2}x of the baseline's rate | |",
        withdrawal_first.as_secs_f64(),
        rate(withdrawal_first),
        rate(withdrawal_first) / rate(plain)
    );
    println!(
        "| re-render with {n} standing consents, nothing changed | {:.3} s | | {:.1}% of the run after the approvals | |",
        withdrawal_again.as_secs_f64(),
        100.0 * withdrawal_again.as_secs_f64() / withdrawal_first.as_secs_f64()
    );
}
