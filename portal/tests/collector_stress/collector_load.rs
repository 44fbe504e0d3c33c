//! The collector under load on loopback: the real `consent-portal serve` as
//! a child process, a few client threads on keep-alive connections mixing
//! genuine decisions with garbage, wrong tokens, oversized bodies and
//! requests for nothing, while slow clients hold connections open. Every
//! genuine decision must be stored (count and identity), every other
//! request refused with a 4xx and never a 5xx, the server must still answer
//! afterwards, and its peak memory stay bounded. The rate limit is set high
//! for that; a second test checks the default limit per client address.
//!
//! `COLLECTOR_LOAD_SEED=<n>` repeats a run's choices.

use std::collections::{BTreeMap, HashSet};
use std::io::{ErrorKind, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use consent_portal::collector::{Decision, Inbox, BODY_LIMIT, REQUEST_TIMEOUT};
use consent_testkit::press::client;
use consent_testkit::rng::{seed, Rng};

use crate::one_at_a_time;
use crate::serve_process::{decision_request, exchange, read_status, setup, Server, Setup};

const DEFAULT_SEED: u64 = 0x10AD_5EED;
/// Client threads on keep-alive connections (the machine may have 2 cores).
const WORKERS: u64 = 4;
/// The load stops after this long or this many requests ...
const LOAD_FOR: Duration = Duration::from_secs(12);
const MAX_REQUESTS: u64 = 100_000;
/// ... and must have stopped within this (a hung request would not).
const LOAD_BOUND: Duration = Duration::from_secs(20);
/// Peak resident memory of the server allowed. Measured in a debug build
/// on 2 cores: about 23 MiB (18 MiB before the load).
const HWM_BOUND_MIB: u64 = 64;
/// Slow clients: connections that send their headers a byte a second,
/// that stop in the middle of their body, that never send anything.
const DRIBBLERS: usize = 40;
const STALLED: usize = 20;
const SILENT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A genuine token, approve or decline, for a request never seen;
    /// now and then with a `decision` field saying the opposite, which the
    /// collector ignores.
    Valid,
    /// Random bytes as a form.
    Garbage,
    /// Not a form at all.
    Json,
    /// A genuine token with one character changed.
    Tampered,
    /// A genuine token past its expiry.
    Expired,
    /// A form without a token (missing, empty, misnamed) or with two.
    BadForm,
    /// A body over BODY_LIMIT, with a Content-Length (own connection).
    Oversized,
    /// The same, chunked: the size is only known while reading.
    OversizedChunked,
    /// GET /decision never decides.
    Get,
    /// A page that does not exist.
    NotFound,
}

impl Kind {
    fn pick(rng: &mut Rng) -> Kind {
        match rng.range(0, 99) {
            0..=34 => Kind::Valid,
            35..=54 => Kind::Garbage,
            55..=59 => Kind::Json,
            60..=69 => Kind::Tampered,
            70..=74 => Kind::Expired,
            75..=79 => Kind::BadForm,
            80..=82 => Kind::Oversized,
            83..=84 => Kind::OversizedChunked,
            85..=92 => Kind::Get,
            _ => Kind::NotFound,
        }
    }

    fn expected(self) -> u16 {
        match self {
            Kind::Valid => 303,
            Kind::Garbage | Kind::Json | Kind::Tampered | Kind::BadForm => 400,
            Kind::Expired => 410,
            Kind::Oversized | Kind::OversizedChunked => 413,
            Kind::Get => 405,
            Kind::NotFound => 404,
        }
    }
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    /// (kind, status) -> count; status 0: no answer (a transport error).
    answers: BTreeMap<(Kind, u16), u64>,
    /// The genuine decisions answered 303: (request id, decision, token).
    stored: Vec<(i64, &'static str, String)>,
    /// The first few answers that were not the expected one.
    surprises: Vec<String>,
}

fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

/// The form a pressed button posts.
fn form(token: &str) -> String {
    format!("token={token}")
}

/// An oversized decision over a connection of its own, so that however the
/// server ends it, the keep-alive connections are not involved.
fn oversized(addr: SocketAddr, token: &str, chunked: bool) -> Option<u16> {
    let body = format!("{}&padding={}", form(token), "x".repeat(BODY_LIMIT));
    let head = "POST /decision HTTP/1.1\r\nHost: collector\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n";
    let mut request = if chunked {
        let mut request = format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
        for chunk in body.as_bytes().chunks(1000) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        request
    } else {
        format!("{head}Content-Length: {}\r\n\r\n", body.len()).into_bytes()
    };
    if !chunked {
        request.extend_from_slice(body.as_bytes());
    }
    exchange(
        TcpStream::connect(addr).ok()?,
        &request,
        Duration::from_secs(10),
    )
}

struct Load<'a> {
    setup: &'a Setup,
    addr: SocketAddr,
    expired: Vec<String>,
    deadline: Instant,
    stop: &'a AtomicBool,
}

impl Load<'_> {
    fn worker(&self, number: u64, seed: u64, quota: u64) -> Tally {
        let mut rng = Rng::new(seed.wrapping_add(number + 1));
        let client = client();
        let base = format!("http://{}", self.addr);
        let decision_url = format!("{base}/decision");
        let mut tally = Tally::default();
        let mut next_request = (number as i64 + 1) * 1_000_000;
        let mut sent = 0;
        while sent < quota && Instant::now() < self.deadline && !self.stop.load(Ordering::Relaxed) {
            sent += 1;
            let kind = Kind::pick(&mut rng);
            let decision = if rng.chance(50) {
                Decision::Approve
            } else {
                Decision::Decline
            };
            let post_form = |body: String| {
                client
                    .post(&decision_url)
                    .content_type("application/x-www-form-urlencoded")
                    .send(body)
            };
            let mut valid = None;
            let response = match kind {
                Kind::Valid => {
                    next_request += 1;
                    let token = self.setup.token(decision, next_request, 3600);
                    let body = if rng.chance(25) {
                        // As the pages before version 2 posted, with the
                        // other button's word: the token's decision counts.
                        let other = match decision {
                            Decision::Approve => "decline",
                            Decision::Decline | Decision::Withdraw => "approve",
                        };
                        format!("{}&decision={other}", form(&token))
                    } else {
                        form(&token)
                    };
                    let response = post_form(body);
                    valid = Some((next_request, decision.as_str(), token));
                    response
                }
                Kind::Garbage => {
                    let len = rng.range(0, 600) as usize;
                    let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                    client
                        .post(&decision_url)
                        .content_type("application/x-www-form-urlencoded")
                        .send(&bytes[..])
                }
                Kind::Json => client
                    .post(&decision_url)
                    .content_type("application/json")
                    .send(r#"{"token":"v2.AAAA"}"#),
                Kind::Tampered => {
                    let token = self.setup.token(decision, rng.range(1, 1000) as i64, 3600);
                    post_form(form(&tampered(&token)))
                }
                Kind::Expired => {
                    let token = &self.expired[rng.range(0, self.expired.len() as u64 - 1) as usize];
                    post_form(form(token))
                }
                Kind::BadForm => {
                    let id = rng.range(1, 1000) as i64;
                    let token = self.setup.token(decision, id, 3600);
                    let word = decision.as_str();
                    let body = match rng.range(0, 6) {
                        0 => format!("decision={word}"),
                        1 => format!("token=&decision={word}"),
                        2 => "token=".to_owned(),
                        3 => format!("Token={token}"),
                        4 => format!("{word}_token={token}"),
                        // Both buttons' tokens at once.
                        5 => {
                            let approve = self.setup.token(Decision::Approve, id, 3600);
                            let decline = self.setup.token(Decision::Decline, id, 3600);
                            format!("token={approve}&token={decline}")
                        }
                        _ => format!("{}&{}", form(&token), form(&token)),
                    };
                    post_form(body)
                }
                Kind::Oversized | Kind::OversizedChunked => {
                    let token = self.setup.token(decision, rng.range(1, 1000) as i64, 3600);
                    let status = oversized(self.addr, &token, kind == Kind::OversizedChunked);
                    self.count(&mut tally, kind, status);
                    continue;
                }
                Kind::Get => client.get(&format!("{decision_url}?token=v2.AAAA")).call(),
                Kind::NotFound => client.get(&format!("{base}/c/no-such-page.html")).call(),
            };
            let status = match response {
                Ok(mut response) => {
                    // Read to the end, so the connection goes back to the pool.
                    let _ = response.body_mut().read_to_vec();
                    Some(response.status().as_u16())
                }
                Err(error) => {
                    if tally.surprises.len() < 5 {
                        tally.surprises.push(format!("{kind:?}: {error}"));
                    }
                    None
                }
            };
            if let (Some(303), Some(valid)) = (status, valid) {
                tally.stored.push(valid);
            }
            self.count(&mut tally, kind, status);
        }
        tally
    }

    fn count(&self, tally: &mut Tally, kind: Kind, status: Option<u16>) {
        let status = status.unwrap_or(0);
        *tally.answers.entry((kind, status)).or_default() += 1;
        if status != kind.expected() && tally.surprises.len() < 5 {
            tally.surprises.push(format!("{kind:?} answered {status}"));
        }
    }
}

/// How a slow connection ended, looked at without waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slow {
    /// Still open, nothing answered.
    Open,
    /// Closed by the server without an answer.
    Closed,
    /// Answered with this status.
    Answered(u16),
}

fn peek(stream: &mut TcpStream) -> Slow {
    stream.set_nonblocking(true).expect("nonblocking");
    let mut byte = [0u8; 1];
    let outcome = match stream.peek(&mut byte) {
        Ok(0) => Slow::Closed,
        Ok(_) => {
            stream.set_nonblocking(false).expect("blocking");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            match read_status(stream) {
                Some(status) => Slow::Answered(status),
                None => Slow::Closed,
            }
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => Slow::Open,
        Err(_) => Slow::Closed,
    };
    let _ = stream.set_nonblocking(false);
    outcome
}

/// Slow clients for as long as `stop` is not set; how each ended. A body
/// that stops half-way must get 408. Headers dribbled a byte a second are
/// neither answered nor closed today (each byte restarts the idle timeout,
/// and the request timeout only starts once the headers are in): only the
/// absence of a 5xx is checked for them, and for the silent ones.
fn slow_clients(addr: SocketAddr, token: &str, stop: &AtomicBool) -> BTreeMap<String, Slow> {
    let connect = || {
        let stream = TcpStream::connect(addr).expect("connect a slow client");
        stream.set_nodelay(true).expect("nodelay");
        stream
    };
    let body = form(token);
    let head = format!(
        "POST /decision HTTP/1.1\r\nHost: collector\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut dribblers: Vec<TcpStream> = (0..DRIBBLERS).map(|_| connect()).collect();
    let mut stalled: Vec<TcpStream> = (0..STALLED)
        .map(|_| {
            let mut stream = connect();
            let half = format!("{head}{}", &body[..body.len() / 2]);
            stream.write_all(half.as_bytes()).expect("send half");
            stream
        })
        .collect();
    let mut silent: Vec<TcpStream> = (0..SILENT).map(|_| connect()).collect();
    let mut sent = 0;
    let mut outcomes = BTreeMap::new();
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        // A header byte a second on each dribbler.
        if started.elapsed() >= Duration::from_secs(sent as u64) && sent < head.len() {
            for (i, stream) in dribblers.iter_mut().enumerate() {
                if stream.write_all(&head.as_bytes()[sent..=sent]).is_err() {
                    outcomes
                        .entry(format!("dribbler {i}"))
                        .or_insert(Slow::Closed);
                }
            }
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for (name, streams) in [
        ("dribbler", &mut dribblers),
        ("stalled", &mut stalled),
        ("silent", &mut silent),
    ] {
        for (i, stream) in streams.iter_mut().enumerate() {
            let outcome = peek(stream);
            outcomes.entry(format!("{name} {i}")).or_insert(outcome);
        }
    }
    outcomes
}

fn summary(outcomes: &BTreeMap<String, Slow>, kind: &str) -> BTreeMap<Slow, usize> {
    let mut counts = BTreeMap::new();
    for (name, outcome) in outcomes {
        if name.starts_with(kind) {
            *counts.entry(*outcome).or_default() += 1;
        }
    }
    counts
}

#[test]
fn the_collector_under_load_stores_every_decision_and_refuses_the_rest_with_4xx() {
    let _alone = one_at_a_time();
    let seed = seed("COLLECTOR_LOAD_SEED", DEFAULT_SEED);
    let setup = setup("collector-load", Some(100_000_000));
    let mut server = Server::start(&setup);
    let rss_at_start = server.memory_kib("VmRSS");
    let stop = AtomicBool::new(false);
    let load = Load {
        setup: &setup,
        addr: server.addr,
        expired: (1..=20)
            .map(|id| setup.token(Decision::Approve, id, -1))
            .collect(),
        deadline: Instant::now() + LOAD_FOR,
        stop: &stop,
    };
    let slow_token = setup.token(Decision::Approve, 999_999_999, 3600);

    let started = Instant::now();
    let (tallies, slow, rss_peak_seen, load_took) = std::thread::scope(|scope| {
        let slow = scope.spawn(|| slow_clients(server.addr, &slow_token, &stop));
        let workers: Vec<_> = (0..WORKERS)
            .map(|n| {
                let load = &load;
                scope.spawn(move || load.worker(n, seed, MAX_REQUESTS / WORKERS))
            })
            .collect();
        let mut rss_peak_seen = 0;
        while !workers.iter().all(|w| w.is_finished()) {
            rss_peak_seen = rss_peak_seen.max(server.memory_kib("VmRSS"));
            std::thread::sleep(Duration::from_millis(100));
        }
        let tallies: Vec<Tally> = workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect();
        let load_took = started.elapsed();
        // The stalled bodies are due their 408 by now (the load outlasts
        // the request timeout); then the slow clients are looked at.
        let due = started + REQUEST_TIMEOUT + Duration::from_secs(1);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        stop.store(true, Ordering::Relaxed);
        let slow = slow.join().expect("slow clients");
        (tallies, slow, rss_peak_seen, load_took)
    });

    // Totals.
    let mut answers: BTreeMap<(Kind, u16), u64> = BTreeMap::new();
    let mut stored: Vec<(i64, &str, String)> = Vec::new();
    let mut surprises: Vec<String> = Vec::new();
    for tally in tallies {
        for (key, n) in tally.answers {
            *answers.entry(key).or_default() += n;
        }
        stored.extend(tally.stored);
        surprises.extend(tally.surprises);
    }
    let requests: u64 = answers.values().sum();
    let per_second = requests as f64 / load_took.as_secs_f64().max(0.001);
    let hwm_kib = server.memory_kib("VmHWM");
    let server_cpu = cpu_seconds(server.pid());
    let rss_kib = server.memory_kib("VmRSS");
    println!(
        "{requests} requests in {:.1} s with {WORKERS} keep-alive clients: {per_second:.0} \
         requests/s (seed {seed}); the server used {server_cpu:.1} s of CPU",
        load_took.as_secs_f64()
    );
    println!("mix (kind, status) -> count: {answers:?}");
    println!(
        "slow clients: dribbling headers {:?}; stalled bodies {:?}; silent {:?}",
        summary(&slow, "dribbler"),
        summary(&slow, "stalled"),
        summary(&slow, "silent")
    );
    println!(
        "server memory: VmRSS {} MiB at start, {} MiB at most while sampled, {} MiB at the \
         end; VmHWM {:.1} MiB (bound {HWM_BOUND_MIB} MiB)",
        rss_at_start / 1024,
        rss_peak_seen / 1024,
        rss_kib / 1024,
        hwm_kib as f64 / 1024.0
    );

    assert!(
        load_took <= LOAD_BOUND,
        "the load took {load_took:?}, bound {LOAD_BOUND:?}"
    );
    assert!(
        surprises.is_empty(),
        "answers not as expected: {surprises:?}\nall answers: {answers:?}"
    );
    for ((kind, status), n) in &answers {
        assert!(
            (400..500).contains(status) || (*kind == Kind::Valid && *status == 303),
            "{n} {kind:?} requests answered {status}"
        );
    }
    for kind in [
        Kind::Valid,
        Kind::Garbage,
        Kind::Tampered,
        Kind::Oversized,
        Kind::OversizedChunked,
    ] {
        assert!(
            answers.get(&(kind, kind.expected())).copied().unwrap_or(0) >= 10,
            "too few {kind:?} requests to mean anything: {answers:?}"
        );
    }
    // Slow clients never get a 5xx; a body that stops half-way gets 408.
    for (name, outcome) in &slow {
        if let Slow::Answered(status) = outcome {
            assert!((400..500).contains(status), "{name}: {status}");
        }
    }
    assert_eq!(
        summary(&slow, "stalled"),
        BTreeMap::from([(Slow::Answered(408), STALLED)]),
        "a body that stops half-way is answered 408 after the request timeout"
    );

    // Still alive, still answering, still storing.
    assert!(server.is_running(), "the server died:\n{}", setup.log());
    let last = setup.token(Decision::Approve, 1, 3600);
    assert_eq!(server.status_of(&decision_request(&last)), Some(303));
    stored.push((1, "approve", last));

    // Every genuine decision answered 303 is stored, exactly those.
    let inbox = Inbox::open_existing(&setup.inbox).expect("inbox");
    let rows = inbox.since(0, usize::MAX).expect("read inbox");
    let in_inbox: HashSet<(i64, &str, &str)> = rows
        .iter()
        .map(|r| (r.request_id, r.decision.as_str(), r.token.as_str()))
        .collect();
    let answered: HashSet<(i64, &str, &str)> = stored
        .iter()
        .map(|(id, decision, token)| (*id, *decision, token.as_str()))
        .collect();
    assert_eq!(rows.len(), stored.len(), "one row per genuine decision");
    let lost: Vec<_> = answered.difference(&in_inbox).map(|d| d.0).collect();
    let unexpected: Vec<_> = in_inbox.difference(&answered).map(|d| d.0).collect();
    assert!(
        lost.is_empty() && unexpected.is_empty(),
        "requests answered 303 but not stored: {lost:?}; stored but not answered 303: \
         {unexpected:?}"
    );

    assert!(
        hwm_kib < HWM_BOUND_MIB * 1024,
        "VmHWM {hwm_kib} KiB, bound {HWM_BOUND_MIB} MiB"
    );
    server.kill();
}

/// User and system CPU time of a process so far (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // The fields after the parenthesised name; utime and stime are the
    // 14th and 15th of the line.
    let after_name = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}

/// A connection from `source` (any 127.x.y.z is loopback on Linux).
fn connect_from(source: IpAddr, to: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    let stream = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(source, 0))?;
            socket.connect(to).await
        })
        .unwrap_or_else(|e| panic!("connect from {source}: {e}"));
    let stream = stream.into_std().expect("std stream");
    stream.set_nonblocking(false).expect("blocking");
    stream
}

#[test]
fn with_the_default_limit_one_address_gets_429_beyond_it_and_others_do_not() {
    let _alone = one_at_a_time();
    let setup = setup("collector-rate", None);
    let server = Server::start(&setup);
    let limit = 60; // collector.per_address_per_minute's default
    let here: IpAddr = "127.0.0.1".parse().expect("ip");
    let decide = |from: IpAddr, request_id: i64| {
        let request = decision_request(&setup.token(Decision::Approve, request_id, 3600));
        exchange(
            connect_from(from, server.addr),
            &request,
            Duration::from_secs(10),
        )
    };

    let started = Instant::now();
    let mut accepted = 0;
    let mut first_refused = None;
    for request_id in 1..=3 * limit {
        match decide(here, request_id) {
            Some(303) => accepted += 1,
            Some(429) => {
                first_refused = Some(request_id);
                break;
            }
            other => panic!("request {request_id}: {other:?}\n{}", setup.log()),
        }
    }
    let took = started.elapsed();
    // A burst of the limit, and one more per second of the run at most.
    let refill = took.as_secs() as i64 + 1;
    println!("{accepted} decisions accepted from one address in {took:?}, then 429");
    assert!(
        first_refused.is_some(),
        "no 429 after {accepted} decisions in {took:?}"
    );
    assert!(
        (limit..=limit + refill).contains(&accepted),
        "{accepted} accepted in {took:?}, the limit is {limit} a minute"
    );
    let after = decide(here, 1000);
    assert_eq!(after, Some(429), "still refused at once");

    // Other addresses have their own quota.
    for (n, other) in ["127.0.0.2", "127.0.0.3"].into_iter().enumerate() {
        let other: IpAddr = other.parse().expect("ip");
        assert_eq!(decide(other, 2000 + n as i64), Some(303), "{other}");
    }
    assert_eq!(decide(here, 1001), Some(429), "127.0.0.1 is still limited");

    // Refused decisions are not stored.
    let rows = Inbox::open_existing(&setup.inbox)
        .expect("inbox")
        .since(0, usize::MAX)
        .expect("rows");
    assert_eq!(rows.len() as i64, accepted + 2);
    server.kill();
}
