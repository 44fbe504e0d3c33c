//! A decision answered 303 survives a kill -9 of the collector.
//!
//! The real `consent-portal serve` runs as a child process while a few
//! clients post decisions (genuine tokens, approve or decline, a change of
//! mind now and then); after a seeded random delay the server gets SIGKILL,
//! is started again over the same inbox, and so on. Afterwards the inbox
//! must hold every decision that was answered 303, be intact, and follow
//! its own rules: a repeated decision is stored once, a change of mind is a
//! new row, and nothing appears that was never posted.
//!
//! `COLLECTOR_CRASH_SEED=<n>` repeats a run's choices (thread timing still
//! varies).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use consent_portal::collector::{Decision, Inbox};
use consent_testkit::rng::{seed, Rng};
use consent_testkit::sql;

use crate::one_at_a_time;
use crate::serve_process::{decision_request, exchange, setup, Server, Setup};

const DEFAULT_SEED: u64 = 0x5EED_C0DE;
/// Clients posting at once (the machine may have only 2 cores).
const CLIENTS: usize = 3;
/// Each client decides again and again for its own few requests, so that
/// changes of mind and repeats are frequent and each request's order of
/// posts is known ...
const REQUESTS_PER_CLIENT: u64 = 6;
/// ... and this often for a request never seen before (one row each).
const FRESH_PERCENT: u64 = 50;
const KILLS: usize = 30;
const MIN_KILLS: usize = 20;
const BUDGET: Duration = Duration::from_secs(30);

/// One post and what came back (None: no answer, the server died).
#[derive(Debug, Clone)]
struct Post {
    /// The server run it went to (the run ended in the kill numbered so).
    run: usize,
    request_id: i64,
    decision: Decision,
    status: Option<u16>,
}

/// A client's state across server runs.
struct Client {
    number: i64,
    rng: Rng,
    fresh: i64,
    /// The token of each button pressed, by request and decision.
    tokens: HashMap<(i64, Decision), String>,
    posts: Vec<Post>,
}

impl Client {
    /// Posts decisions one after another until one gets no answer.
    fn run(&mut self, setup: &Setup, addr: SocketAddr, run: usize) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            let request_id = if self.rng.chance(FRESH_PERCENT) {
                self.fresh += 1;
                (self.number + 1) * 1_000_000 + self.fresh
            } else {
                (self.number + 1) * 100 + self.rng.range(0, REQUESTS_PER_CLIENT - 1) as i64
            };
            let decision = if self.rng.chance(50) {
                Decision::Approve
            } else {
                Decision::Decline
            };
            let token = self
                .tokens
                .entry((request_id, decision))
                .or_insert_with(|| setup.token(decision, request_id, 3600));
            let request = decision_request(token);
            let status = TcpStream::connect(addr)
                .ok()
                .and_then(|stream| exchange(stream, &request, Duration::from_secs(10)));
            self.posts.push(Post {
                run,
                request_id,
                decision,
                status,
            });
            if status.is_none() {
                return;
            }
        }
    }
}

/// The last few items, for a message.
fn tail<'a>(items: &[&'a str]) -> (usize, Vec<&'a str>) {
    (items.len(), items[items.len().saturating_sub(6)..].to_vec())
}

/// Consecutive equal items as one.
fn collapsed<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if out.last() != Some(&item) {
            out.push(item);
        }
    }
    out
}

fn is_subsequence(needle: &[&str], haystack: &[&str]) -> bool {
    let mut rest = haystack.iter();
    needle.iter().all(|n| rest.any(|h| h == n))
}

#[test]
fn a_decision_answered_303_survives_a_kill_9_of_the_collector() {
    let _alone = one_at_a_time();
    let seed = seed("COLLECTOR_CRASH_SEED", DEFAULT_SEED);
    let setup = setup("collector-crash", Some(1_000_000));
    let mut rng = Rng::new(seed);
    let mut clients: Vec<Client> = (0..CLIENTS as i64)
        .map(|number| Client {
            number,
            rng: Rng::new(seed.wrapping_add(number as u64 + 1)),
            fresh: 0,
            tokens: HashMap::new(),
            posts: Vec::new(),
        })
        .collect();

    let started = Instant::now();
    let mut kills = 0;
    while kills < KILLS && started.elapsed() < BUDGET {
        let server = Server::start(&setup);
        let addr = server.addr;
        let delay = Duration::from_millis(rng.range(5, 300));
        std::thread::scope(|scope| {
            for client in &mut clients {
                let setup = &setup;
                scope.spawn(move || client.run(setup, addr, kills + 1));
            }
            std::thread::sleep(delay);
            server.kill();
        });
        kills += 1;
    }
    let took = started.elapsed();

    let all: Vec<&Post> = clients.iter().flat_map(|c| &c.posts).collect();
    let answered: Vec<&Post> = all.iter().copied().filter(|p| p.status.is_some()).collect();
    for post in &answered {
        assert_eq!(post.status, Some(303), "{post:?}\n{}", setup.log());
    }
    let tokens: HashMap<(i64, Decision), &String> = clients
        .iter()
        .flat_map(|c| c.tokens.iter().map(|(key, token)| (*key, token)))
        .collect();
    let requests: std::collections::BTreeSet<i64> = tokens.keys().map(|(id, _)| *id).collect();

    let inbox = Inbox::open_existing(&setup.inbox).expect("the inbox opens after the kills");
    let rows = inbox.since(0, usize::MAX).expect("read the inbox");
    drop(inbox);
    let conn = rusqlite::Connection::open(&setup.inbox).expect("open inbox");
    assert_eq!(sql::text(&conn, "PRAGMA integrity_check"), "ok");
    drop(conn);

    // Every decision answered 303 is there, with its token.
    let missing: Vec<String> = answered
        .iter()
        .filter(|post| {
            !rows.iter().any(|r| {
                r.request_id == post.request_id
                    && r.decision == post.decision
                    && Some(&&r.token) == tokens.get(&(post.request_id, post.decision))
            })
        })
        .map(|post| {
            format!(
                "request {} {} (run {} of {kills})",
                post.request_id,
                post.decision.as_str(),
                post.run
            )
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} decisions answered 303 are not in the inbox (seed {seed}): {}",
        missing.len(),
        answered.len(),
        missing[..missing.len().min(5)].join(", ")
    );
    // Per request (one client posts for it, one post at a time), in order.
    for &id in &requests {
        let stored: Vec<&str> = rows
            .iter()
            .filter(|r| r.request_id == id)
            .map(|r| r.decision.as_str())
            .collect();
        let mine = all.iter().filter(|p| p.request_id == id);
        let posted: Vec<&str> = mine.clone().map(|p| p.decision.as_str()).collect();
        let confirmed = collapsed(
            mine.filter(|p| p.status == Some(303))
                .map(|p| p.decision.as_str()),
        );
        let context = format!(
            "request {id} (seed {seed}): (count, last few) stored {:?}; answered 303, repeats \
             as one {:?}; posted {:?}",
            tail(&stored),
            tail(&confirmed),
            tail(&posted)
        );
        assert!(
            stored.windows(2).all(|w| w[0] != w[1]),
            "a repeated decision is stored once: {context}"
        );
        assert!(
            is_subsequence(&confirmed, &stored),
            "every answered change of mind is stored, in order: {context}"
        );
        assert!(
            is_subsequence(&stored, &posted),
            "nothing is stored that was not posted: {context}"
        );
    }
    // Each row holds the token posted for its request and decision: the
    // decision stored is the pressed button's.
    for row in &rows {
        assert_eq!(
            tokens.get(&(row.request_id, row.decision)),
            Some(&&row.token),
            "row {} holds the token posted for request {} {}",
            row.cursor,
            row.request_id,
            row.decision.as_str()
        );
    }

    println!(
        "{kills} kills in {:.1} s (seed {seed}): {} decisions posted for {} requests, {} answered \
         303 and checked, {} never answered (in flight at a kill), {} rows in the inbox",
        took.as_secs_f64(),
        all.len(),
        requests.len(),
        answered.len(),
        all.len() - answered.len(),
        rows.len()
    );
    assert!(kills >= MIN_KILLS, "only {kills} kills in {took:?}");
    assert!(
        answered.len() >= 3 * kills,
        "too few decisions were answered to mean anything: {}",
        answered.len()
    );
}
