//! The collector's hold on its connections, against the real `serve`
//! process: a request's headers have an absolute deadline however steadily
//! they trickle in, and at `collector.max_connections` open connections a
//! new one waits (it is neither refused nor served) until one closes, or
//! until the header deadline frees one.
//!
//! Short deadlines are configured (`collector.header_timeout_seconds`) so
//! that each test is over in seconds.

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::one_at_a_time;
use crate::serve_process::{read_status, setup_with, Server};

/// The header deadline the tests configure.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// Slack for a busy machine (2 cores shared with builds).
const SLACK: Duration = Duration::from_secs(3);

/// What a client sees of its connection at one moment.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// Nothing yet: the connection is open and unanswered.
    Nothing,
    /// The server closed it (end of stream or reset).
    Closed,
    /// An answer began.
    Answer,
}

/// Looks for up to `wait` without consuming an answer's status line
/// beyond its first byte.
fn peek(stream: &TcpStream, wait: Duration) -> Seen {
    stream.set_read_timeout(Some(wait)).expect("read timeout");
    let mut byte = [0u8; 1];
    match stream.peek(&mut byte) {
        Ok(0) => Seen::Closed,
        Ok(_) => Seen::Answer,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Seen::Nothing,
        Err(_) => Seen::Closed,
    }
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

const GET: &[u8] = b"GET /nothing-here HTTP/1.1\r\nHost: collector\r\nConnection: close\r\n\r\n";

#[test]
fn a_client_trickling_its_headers_is_closed_at_the_header_deadline() {
    let _one = one_at_a_time();
    let setup = setup_with("header-deadline", |collector| {
        collector.insert(
            "header_timeout_seconds".into(),
            i64::try_from(HEADER_TIMEOUT.as_secs())
                .expect("seconds")
                .into(),
        );
    });
    let server = Server::start(&setup);
    let mut stream = connect(&server);
    let started = Instant::now();
    stream
        .write_all(b"GET /thanks.html HTTP/1.1\r\nHost: collector\r\n")
        .expect("request line");
    // More than the old idle rule's 256 bytes of progress, every second:
    // that rule alone would keep this connection open for ever.
    let pad = "a".repeat(300);
    let mut lines = 0;
    let closed_after = loop {
        if started.elapsed() > HEADER_TIMEOUT + SLACK + SLACK {
            break None;
        }
        let line = format!("X-Pad-{lines}: {pad}\r\n");
        lines += 1;
        if stream.write_all(line.as_bytes()).is_err() {
            break Some(started.elapsed());
        }
        match peek(&stream, Duration::from_secs(1)) {
            Seen::Nothing => {}
            Seen::Closed => break Some(started.elapsed()),
            Seen::Answer => {
                // hyper may say 408 before it closes; never a 200.
                let status = read_status(&mut stream);
                assert_ne!(status, Some(200), "the trickled request was served");
                break Some(started.elapsed());
            }
        }
    };
    let Some(closed_after) = closed_after else {
        panic!(
            "a client sending {} bytes a second was still connected after {:?} ({lines} header \
             lines); the header deadline is {HEADER_TIMEOUT:?}",
            pad.len(),
            started.elapsed()
        );
    };
    eprintln!(
        "closed after {closed_after:?} ({lines} lines of {} bytes)",
        pad.len()
    );
    assert!(
        closed_after >= HEADER_TIMEOUT - Duration::from_millis(200),
        "closed after {closed_after:?}, before the deadline of {HEADER_TIMEOUT:?}"
    );
    assert!(
        closed_after <= HEADER_TIMEOUT + SLACK,
        "closed only after {closed_after:?}; the deadline is {HEADER_TIMEOUT:?}"
    );
    // The server is unharmed.
    assert_eq!(server.status_of(GET), Some(404));
}

#[test]
fn at_the_connection_cap_a_new_client_waits_until_one_closes_or_times_out() {
    let _one = one_at_a_time();
    const CAP: usize = 2;
    let setup = setup_with("connection-cap", |collector| {
        collector.insert(
            "max_connections".into(),
            i64::try_from(CAP).expect("cap").into(),
        );
        collector.insert(
            "header_timeout_seconds".into(),
            i64::try_from(HEADER_TIMEOUT.as_secs())
                .expect("seconds")
                .into(),
        );
    });
    let server = Server::start(&setup);

    // CAP silent connections take every place ...
    let mut holders: Vec<TcpStream> = Vec::new();
    for _ in 0..CAP {
        holders.push(connect(&server));
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    // ... so the next one is queued, not served and not refused.
    let mut waiting = connect(&server);
    let queued_at = Instant::now();
    waiting.write_all(GET).expect("request");
    assert_eq!(
        peek(&waiting, Duration::from_millis(800)),
        Seen::Nothing,
        "a connection over the cap of {CAP} was served at once"
    );
    // One place frees up: the queued client is served at once, well before
    // the holders' header deadline would have freed one.
    drop(holders.remove(0));
    let freed_at = Instant::now();
    waiting
        .set_read_timeout(Some(HEADER_TIMEOUT + SLACK))
        .expect("timeout");
    assert_eq!(read_status(&mut waiting), Some(404), "{}", setup.log());
    let served_after = freed_at.elapsed();
    eprintln!(
        "queued {:?}, served {served_after:?} after a place was freed",
        queued_at.elapsed()
    );
    assert!(
        served_after < Duration::from_secs(1),
        "served {served_after:?} after a place was freed"
    );
    assert!(
        queued_at.elapsed() < HEADER_TIMEOUT,
        "served after {:?}: by the deadline, not by the freed place",
        queued_at.elapsed()
    );
    drop(waiting);
    drop(holders);
    std::thread::sleep(Duration::from_millis(300));

    // Again with holders that never close: the header deadline closes
    // them, and the queued client is served then.
    let holders: Vec<TcpStream> = (0..CAP)
        .map(|_| {
            let stream = connect(&server);
            std::thread::sleep(Duration::from_millis(50));
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut waiting = connect(&server);
    let queued_at = Instant::now();
    waiting.write_all(GET).expect("request");
    waiting
        .set_read_timeout(Some(HEADER_TIMEOUT + SLACK))
        .expect("timeout");
    assert_eq!(read_status(&mut waiting), Some(404), "{}", setup.log());
    let waited = queued_at.elapsed();
    eprintln!("served after {waited:?}, when the header deadline closed a holder");
    assert!(
        waited >= HEADER_TIMEOUT - Duration::from_millis(700),
        "served after {waited:?}: before any holder's deadline ({HEADER_TIMEOUT:?})"
    );
    assert!(
        waited <= HEADER_TIMEOUT + SLACK,
        "served only after {waited:?}; the holders' deadline is {HEADER_TIMEOUT:?}"
    );
    // The holders were closed by the server.
    for holder in &holders {
        assert_eq!(peek(holder, Duration::from_secs(1)), Seen::Closed);
    }
}

#[test]
fn a_cap_or_a_deadline_of_zero_is_refused_at_start() {
    let _one = one_at_a_time();
    for (key, says) in [
        ("max_connections", "collector.max_connections is 0"),
        (
            "header_timeout_seconds",
            "collector.header_timeout_seconds is 0",
        ),
    ] {
        let setup = setup_with("zero-limit", |collector| {
            collector.insert(key.into(), 0.into());
        });
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_consent-portal"))
            .arg("serve")
            .arg("--config")
            .arg(&setup.config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start serve");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("serve with {key} = 0 kept running");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
            .expect("read stderr");
        assert!(!status.success(), "{key} = 0: {stderr}");
        assert!(stderr.contains(says), "{key} = 0: {stderr}");
    }
}

#[test]
fn sigterm_closes_idle_connections_at_once_and_stops_within_the_header_deadline() {
    let _one = one_at_a_time();
    let setup = setup_with("sigterm", |collector| {
        collector.insert(
            "header_timeout_seconds".into(),
            i64::try_from(HEADER_TIMEOUT.as_secs())
                .expect("seconds")
                .into(),
        );
    });
    let server = Server::start(&setup);
    // A silent client and one half-way through its headers: hyper lets a
    // request that has begun finish, so these hold the stop up to the
    // header deadline, and no longer. And a client whose answered request
    // left the connection open (keep-alive): closed at once.
    let silent = connect(&server);
    let mut partial = connect(&server);
    partial
        .write_all(b"GET /nothing-here HTTP/1.1\r\nHost: collector\r\n")
        .expect("half a request");
    let mut kept = connect(&server);
    kept.write_all(b"GET /nothing-here HTTP/1.1\r\nHost: collector\r\n\r\n")
        .expect("request");
    kept.set_read_timeout(Some(SLACK)).expect("timeout");
    assert_eq!(read_status(&mut kept), Some(404));
    // The rest of that answer (the 404 page), up to the idle connection.
    let mut answer = [0u8; 64 * 1024];
    kept.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let _ = std::io::Read::read(&mut kept, &mut answer);
    let signalled = Instant::now();
    let stopping = std::thread::spawn(move || server.terminate(Duration::from_secs(40)));
    let kept_closed = peek(&kept, Duration::from_secs(1));
    let kept_closed_after = signalled.elapsed();
    let took = stopping.join().expect("terminate");
    let Some(took) = took else {
        panic!(
            "serve was still running 40 s after SIGTERM: {}",
            setup.log()
        );
    };
    eprintln!(
        "kept-alive connection closed after {kept_closed_after:?}; stopped {took:?} after SIGTERM"
    );
    assert_eq!(
        kept_closed,
        Seen::Closed,
        "the idle kept-alive connection stayed open"
    );
    assert!(kept_closed_after < HEADER_TIMEOUT, "{kept_closed_after:?}");
    assert!(
        took <= HEADER_TIMEOUT + SLACK,
        "stopping took {took:?}; the header deadline is {HEADER_TIMEOUT:?}"
    );
    assert!(setup.log().contains("stopping"), "{}", setup.log());
    for stream in [&silent, &partial] {
        assert_eq!(peek(stream, Duration::from_secs(1)), Seen::Closed);
    }
}
