//! E-mail sending against a real SMTP server: aiosmtpd, run by
//! `tests/smtp/smtp_server.py` on 127.0.0.1, which stores what it receives
//! and can delay or refuse commands. Received messages are read back with
//! Python's own email package (`tests/smtp/eml_json.py`).
//!
//! Needs `python3` with aiosmtpd (`python3 -m pip install --require-hashes
//! -r tests/smtp/requirements.txt`; the interpreter is `python3` on PATH, or
//! CONSENT_TEST_PYTHON). Skipped with that message where it is missing,
//! failed when `CI=true`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use consent_extension::Language;
use consent_portal::config::{Email, EmailTransport, Tls};
use consent_portal::send::email::{compose, message_id, EmailMessage, Mailer, Summary};
use consent_portal::send::{Channel, Credentials, ErrorClass, Job, SendError, Texts};
use consent_testkit::smtp::{SmtpServer, THROUGHPUT_CASES};
use consent_testkit::tools::smtp_python as python;
use consent_testkit::{repo_root, require, Scratch, Tool};
use serde_json::Value;

use crate::assert_reason;

const FROM: &str = "Dahls Rör AB <samtycke@example.se>";
const REPLY_TO: &str = "kundtjanst@example.se";
const BUSINESS: &str = "Dahls Rör AB";

/// The SMTP server with the script's `options`, and a mailer sending to it
/// as `smtp_config` says; None: skipped, aiosmtpd is missing.
#[track_caller]
fn mailer_to_server(
    options: &[&str],
    tls: Tls,
    concurrency: usize,
    timeout_seconds: u64,
) -> Option<(SmtpServer, Mailer)> {
    if !require(&[Tool::Aiosmtpd]) {
        return None;
    }
    let server = SmtpServer::start(options);
    let config = smtp_config(server.port, tls, concurrency, timeout_seconds);
    let mailer = Mailer::new(&config, Path::new("."), None).expect("mailer");
    Some((server, mailer))
}

/// What Python's email package reads in each file.
fn parse_eml(files: &[PathBuf]) -> Vec<Value> {
    let output = Command::new(python())
        .arg(repo_root().join("tests/smtp/eml_json.py"))
        .args(files)
        .output()
        .expect("run tests/smtp/eml_json.py");
    assert!(
        output.status.success(),
        "eml_json.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("eml_json.py prints JSON")
}

fn smtp_config(port: u16, tls: Tls, concurrency: usize, timeout_seconds: u64) -> Email {
    Email {
        from: FROM.to_owned(),
        reply_to: Some(REPLY_TO.to_owned()),
        transport: EmailTransport::Smtp,
        smtp_host: Some("127.0.0.1".to_owned()),
        smtp_port: Some(port),
        tls,
        file_dir: None,
        concurrency,
        timeout_seconds,
    }
}

/// The page id of request `id`'s page: 22 characters of base64url, as the
/// portal draws them.
fn page_id(id: i64) -> String {
    format!("Page{id:018}")
}

/// The link to request `id`'s page.
fn link(id: i64) -> String {
    format!("https://s.example.se/c/{}.html", page_id(id))
}

fn message(id: i64, to: &str, language: Language) -> EmailMessage {
    let texts = Texts {
        language,
        business_name: BUSINESS.to_owned(),
        expiry_days: 7,
    };
    let job = Job {
        request_id: id,
        page_id: page_id(id),
        to: to.to_owned(),
        link: link(id),
        language,
    };
    compose(&texts, &job, "example.se")
}

/// `<consent-<32 hex digits>@example.se>`: a one-way hash, with neither
/// the request id nor the page id (as good as the link) readable in it.
fn assert_opaque_message_id(id: &str, request_id: i64) {
    let hash = id
        .strip_prefix("<consent-")
        .and_then(|rest| rest.strip_suffix("@example.se>"))
        .unwrap_or_else(|| panic!("{id}"));
    assert_eq!(hash.len(), 32, "{id}");
    assert!(
        hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{id}"
    );
    assert!(!id.contains(&page_id(request_id)), "{id}");
    assert!(!id.contains(&format!("-{request_id}-")), "{id}");
}

fn messages(ids: std::ops::RangeInclusive<i64>) -> Vec<EmailMessage> {
    ids.map(|id| message(id, &format!("kund{id}@example.se"), Language::Sv))
        .collect()
}

/// Sends and collects the results by request id, checking that each
/// message got exactly one and that they came on this thread.
fn send(
    mailer: &Mailer,
    messages: Vec<EmailMessage>,
) -> (BTreeMap<i64, Result<(), SendError>>, Summary) {
    let expected = messages.len();
    let caller = std::thread::current().id();
    let mut results = BTreeMap::new();
    let summary = mailer.send_all(messages, |id, result| {
        assert_eq!(
            std::thread::current().id(),
            caller,
            "result off the calling thread"
        );
        assert!(results.insert(id, result).is_none(), "two results for {id}");
    });
    assert_eq!(results.len(), expected, "{results:?}");
    assert_eq!(summary.sent + summary.failed, expected);
    (results, summary)
}

fn error(results: &BTreeMap<i64, Result<(), SendError>>, id: i64) -> &SendError {
    match &results[&id] {
        Err(e) => e,
        Ok(()) => panic!("request {id} was sent"),
    }
}

#[test]
fn delivers_multipart_utf8_messages_with_stable_headers() {
    let Some((server, mailer)) = mailer_to_server(&[], Tls::None, 2, 10) else {
        return;
    };
    assert_eq!(mailer.from_domain(), "example.se");
    let sv = message(41, "Åsa Öberg <asa@example.se>", Language::Sv);
    let en = message(42, "bob@example.com", Language::En);
    let (results, summary) = send(&mailer, vec![sv.clone(), en.clone()]);
    assert!(results.values().all(Result::is_ok), "{results:?}");
    assert_eq!(summary.sent, 2);

    let received = server.received();
    assert_eq!(received.len(), 2);
    let files: Vec<PathBuf> = received
        .iter()
        .map(|r| PathBuf::from(r["eml"].as_str().unwrap()))
        .collect();
    let parsed = parse_eml(&files);
    let by_id: BTreeMap<&str, (&Value, &Value)> = parsed
        .iter()
        .zip(&received)
        .map(|(p, r)| (p["message_id"].as_str().unwrap(), (p, r)))
        .collect();

    assert_opaque_message_id(&sv.message_id, 41);
    assert_opaque_message_id(&en.message_id, 42);
    assert_eq!(sv.message_id, message_id(41, &page_id(41), "example.se"));
    let (p, r) = by_id[sv.message_id.as_str()];
    assert_eq!(p["from"], FROM);
    assert_eq!(p["reply_to"], REPLY_TO);
    assert_eq!(p["to"], "Åsa Öberg <asa@example.se>");
    assert_eq!(p["subject"], "Dahls Rör AB ber om ditt samtycke");
    assert_eq!(r["mail_from"], "samtycke@example.se");
    assert_eq!(r["rcpt_tos"], serde_json::json!(["asa@example.se"]));
    assert_eq!(p["content_type"], "multipart/alternative");
    let types: Vec<&str> = p["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    for part in p["parts"].as_array().unwrap() {
        assert_eq!(part["charset"], "utf-8", "{part}");
    }
    let text = p["text"].as_str().unwrap();
    let html = p["html"].as_str().unwrap();
    assert_eq!(text.replace("\r\n", "\n"), sv.text);
    assert!(text.contains(&link(41)), "{text}");
    assert!(text.contains("Om du inte svarar inom 7 dagar"), "{text}");
    assert!(html.contains("<html lang=\"sv\">"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"{}\">Läs och svara</a>", link(41))),
        "{html}"
    );
    assert!(!html.contains("<img"), "{html}");
    // 7-bit on the wire: headers RFC 2047, bodies quoted-printable or base64.
    assert_eq!(p["ascii_only"], true);
    assert_eq!(p["crlf"], true);
    let raw =
        std::fs::read_to_string(&files[0]).unwrap() + &std::fs::read_to_string(&files[1]).unwrap();
    let subject = raw
        .lines()
        .find(|l| l.starts_with("Subject: "))
        .unwrap_or_default();
    assert!(subject.contains("=?utf-8?"), "{subject}");

    let (p, _) = by_id[en.message_id.as_str()];
    assert_eq!(p["subject"], "Dahls Rör AB asks for your consent");
    assert!(p["text"]
        .as_str()
        .unwrap()
        .contains("If you do not answer within 7 days"));
    assert!(p["html"].as_str().unwrap().contains("<html lang=\"en\">"));

    // The same request composes the same Message-ID: a resend is recognisable.
    assert_eq!(
        message(41, "x@example.se", Language::En).message_id,
        sv.message_id
    );
    // Another request, or the same request with another page (asked
    // again), has another.
    assert_ne!(sv.message_id, en.message_id);
    assert_ne!(message_id(41, &page_id(43), "example.se"), sv.message_id);
    assert_ne!(message_id(43, &page_id(41), "example.se"), sv.message_id);
}

#[test]
fn many_messages_share_a_few_connections_for_the_whole_run() {
    let Some((server, mailer)) = mailer_to_server(&["--delay", "DATA:20"], Tls::None, 4, 10) else {
        return;
    };
    let started = Instant::now();
    let (results, summary) = send(&mailer, messages(1..=60));
    let elapsed = started.elapsed();
    assert!(results.values().all(Result::is_ok), "{results:?}");
    assert_eq!(
        summary,
        Summary {
            sent: 60,
            failed: 0,
            connections: 4
        }
    );

    let received = server.received();
    assert_eq!(received.len(), 60);
    let recipients: BTreeSet<&str> = received
        .iter()
        .map(|r| r["rcpt_tos"][0].as_str().unwrap())
        .collect();
    assert_eq!(recipients.len(), 60);
    // Four connections, each greeted once and used for many messages.
    assert_eq!(server.connections().len(), 4, "{:?}", server.connections());
    let peers: BTreeSet<&str> = received
        .iter()
        .map(|r| r["peer"].as_str().unwrap())
        .collect();
    assert_eq!(peers.len(), 4, "{peers:?}");
    // 60 messages x 20 ms over 4 connections is 0.3 s of server time; one
    // connection, or a delayed ACK per message, would take 1.2 s or more.
    eprintln!("60 messages over 4 connections in {elapsed:.2?}");
}

#[test]
fn refused_recipient_fails_that_message_only() {
    let Some((server, mailer)) =
        mailer_to_server(&["--fail-rcpt", "kund3@example.se:550"], Tls::None, 1, 10)
    else {
        return;
    };
    let (results, summary) = send(&mailer, messages(1..=5));
    let refused = error(&results, 3);
    assert_eq!(refused.channel(), Channel::Email);
    assert_reason(
        refused,
        ErrorClass::Permanent,
        "The mail server refused the message: 550 Refused (test server)",
        "E-postservern avvisade meddelandet: 550 Refused (test server)",
    );
    for id in [1, 2, 4, 5] {
        assert!(results[&id].is_ok(), "{id}: {:?}", results[&id]);
    }
    assert_eq!(server.received().len(), 4);
    // RSET, not a new connection, after the refusal.
    assert_eq!(summary.connections, 1);
    assert_eq!(server.connections().len(), 1);
}

#[test]
fn temporary_refusals_are_transient() {
    let Some((server, mailer)) = mailer_to_server(
        &[
            "--fail-rcpt",
            "kund2@example.se:451",
            "--fail-rcpt",
            "kund4@example.se:421",
        ],
        Tls::None,
        1,
        10,
    ) else {
        return;
    };
    let (results, summary) = send(&mailer, messages(1..=5));
    let busy = error(&results, 2);
    assert_reason(
        busy,
        ErrorClass::Transient,
        "The mail server asked to try again later: 451 Try again later (test server)",
        "E-postservern bad om ett nytt försök senare: 451 Try again later (test server)",
    );
    // 421 closes the connection: tried once more on a new one, then given up.
    let closing = error(&results, 4);
    assert_eq!(closing.class(), ErrorClass::Transient);
    assert!(closing.reason(Language::En).contains("421"), "{closing}");
    for id in [1, 3, 5] {
        assert!(results[&id].is_ok(), "{id}: {:?}", results[&id]);
    }
    assert_eq!(server.received().len(), 3);
    assert_eq!(summary.connections, 3, "{summary:?}");
}

#[test]
fn refused_sender_stops_the_run_without_blaming_customers() {
    let Some((server, mailer)) = mailer_to_server(&["--fail", "MAIL:1:553"], Tls::None, 1, 10)
    else {
        return;
    };
    let (results, _) = send(&mailer, messages(1..=4));
    for result in results.values() {
        let e = result.as_ref().expect_err("nothing sent");
        assert_eq!(e.class(), ErrorClass::Setup);
        assert_eq!(
            e.reason(Language::En),
            "The mail server refused the sender samtycke@example.se (email.from): 553 Refused (test server)"
        );
    }
    assert!(server.received().is_empty());
}

#[test]
fn starttls_required_but_not_offered_sends_nothing_in_clear() {
    let Some((server, mailer)) = mailer_to_server(&[], Tls::Starttls, 2, 10) else {
        return;
    };
    let started = Instant::now();
    let (results, summary) = send(&mailer, messages(1..=10));
    assert!(started.elapsed() < Duration::from_secs(10));
    let port = server.port;
    for result in results.values() {
        let e = result.as_ref().expect_err("nothing sent");
        assert_eq!(e.class(), ErrorClass::Setup);
        assert_eq!(
            e.to_string(),
            format!("The mail server at 127.0.0.1:{port} does not offer STARTTLS, so nothing was sent (tls = \"starttls\" in the configuration)")
        );
        assert!(
            e.reason(Language::Sv)
                .starts_with("E-postservern på 127.0.0.1:"),
            "{e}"
        );
    }
    assert_eq!(summary.sent, 0);
    assert!(server.received().is_empty());
}

/// The server's certificate is self-signed: the handshake must fail, for
/// STARTTLS and for TLS from the first byte, and nothing go out.
#[test]
fn untrusted_certificate_is_a_setup_error_and_nothing_is_sent() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    for (mode, tls) in [("starttls", Tls::Starttls), ("implicit", Tls::Tls)] {
        let server = SmtpServer::start(&["--tls", mode]);
        let config = smtp_config(server.port, tls, 2, 10);
        let mailer = Mailer::new(&config, Path::new("."), None).expect("mailer");
        let (results, summary) = send(&mailer, messages(1..=3));
        let expected = format!(
            "TLS with the mail server at 127.0.0.1:{} failed: ",
            server.port
        );
        for result in results.values() {
            let e = result.as_ref().expect_err("nothing sent");
            assert_eq!(e.class(), ErrorClass::Setup, "{mode}: {e}");
            let reason = e.to_string();
            assert!(reason.starts_with(&expected), "{mode}: {reason}");
            assert!(reason.contains("certificate"), "{mode}: {reason}");
        }
        assert_eq!(summary.connections, 0, "{mode}");
        assert!(server.received().is_empty(), "{mode}");
    }
}

#[test]
fn login_comes_from_the_credentials_and_never_shows() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    let server = SmtpServer::start(&["--auth", "portal:s3cret-pass"]);
    let config = smtp_config(server.port, Tls::None, 1, 10);
    let good = Credentials {
        username: "portal".to_owned(),
        password: "s3cret-pass".to_owned(),
    };
    let mailer = Mailer::new(&config, Path::new("."), Some(good)).expect("mailer");
    assert!(!format!("{mailer:?}").contains("s3cret-pass"), "{mailer:?}");
    let (results, _) = send(&mailer, messages(1..=2));
    assert!(results.values().all(Result::is_ok), "{results:?}");
    let received = server.received();
    assert!(
        received.iter().all(|r| r["login"] == "portal"),
        "{received:?}"
    );

    let wrong = Credentials {
        username: "portal".to_owned(),
        password: "wrong-pass".to_owned(),
    };
    let mailer = Mailer::new(&config, Path::new("."), Some(wrong)).expect("mailer");
    let (results, _) = send(&mailer, messages(3..=4));
    for result in results.values() {
        let e = result.as_ref().expect_err("login refused");
        assert_eq!(e.class(), ErrorClass::Setup, "{e}");
        let reason = e.reason(Language::En);
        assert!(reason.starts_with("The mail server refused the login from CONSENT_SMTP_USERNAME / CONSENT_SMTP_PASSWORD: 535"), "{reason}");
        assert!(!reason.contains("wrong-pass") && !format!("{e:?}").contains("wrong-pass"));
    }
    assert_eq!(server.received().len(), 2);
}

#[test]
fn server_that_stops_answering_mid_message_times_out() {
    let Some((_server, mailer)) = mailer_to_server(&["--delay", "DATA:60000"], Tls::None, 1, 1)
    else {
        return;
    };
    let started = Instant::now();
    let (results, _) = send(&mailer, messages(1..=1));
    let e = error(&results, 1);
    assert_reason(
        e,
        ErrorClass::Transient,
        "No answer from the mail server within 1 second",
        "Inget svar från e-postservern inom 1 sekund",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A server that accepts connections and never says a word. Not SMTP: it
/// only holds the sockets open until the test ends.
#[test]
fn server_that_never_greets_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let (stop, stopped) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        // Until the test drops `stop` (or 30 s at most).
        while Instant::now() < deadline && stopped.try_recv() == Err(mpsc::TryRecvError::Empty) {
            if let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        held.len()
    });
    let mailer =
        Mailer::new(&smtp_config(port, Tls::None, 2, 1), Path::new("."), None).expect("mailer");
    let started = Instant::now();
    let (results, summary) = send(&mailer, messages(1..=5));
    let elapsed = started.elapsed();
    drop(stop);
    let held = holder.join().unwrap();
    for result in results.values() {
        let e = result.as_ref().expect_err("nothing sent");
        assert_eq!(e.class(), ErrorClass::Transient);
        assert_eq!(
            e.to_string(),
            "No answer from the mail server within 1 second"
        );
    }
    assert_eq!(summary.connections, 0);
    // Two workers, two attempts each, one second each, then the rest fail.
    assert_eq!(held, 4);
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn refused_connection_is_transient_and_quick() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().unwrap().port()
    };
    let mailer =
        Mailer::new(&smtp_config(port, Tls::None, 3, 10), Path::new("."), None).expect("mailer");
    let started = Instant::now();
    let (results, _) = send(&mailer, messages(1..=20));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    for result in results.values() {
        let e = result.as_ref().expect_err("nothing sent");
        assert_eq!(e.class(), ErrorClass::Transient);
        let reason = e.to_string();
        assert!(
            reason.starts_with(&format!(
                "Could not reach the mail server at 127.0.0.1:{port}: "
            )),
            "{reason}"
        );
    }
}

#[test]
fn invalid_address_is_the_customers_error() {
    let dir = Scratch::new("send-email-invalid");
    let mailer = Mailer::new(&file_config(dir.path()), Path::new("."), None).expect("mailer");
    let mut batch = messages(1..=3);
    batch[1].to = "kund2 at example.se".to_owned();
    let (results, summary) = send(&mailer, batch);
    let e = error(&results, 2);
    assert_reason(
        e,
        ErrorClass::Permanent,
        "\"kund2 at example.se\" is not a valid e-mail address",
        "\"kund2 at example.se\" är ingen giltig e-postadress",
    );
    assert!(results[&1].is_ok() && results[&3].is_ok());
    assert_eq!(summary.sent, 2);
    assert_eq!(eml_files(dir.path()).len(), 2);
}

fn file_config(dir: &Path) -> Email {
    Email {
        from: FROM.to_owned(),
        reply_to: Some(REPLY_TO.to_owned()),
        transport: EmailTransport::File,
        smtp_host: None,
        smtp_port: None,
        tls: Tls::Starttls,
        file_dir: Some(dir.to_owned()),
        concurrency: 4,
        timeout_seconds: 30,
    }
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("outbox folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

#[test]
fn file_transport_writes_eml_files_with_the_same_headers() {
    let base = Scratch::new("send-email-files");
    let mut config = file_config(Path::new("outbox"));
    config.file_dir = Some(PathBuf::from("outbox"));
    // A relative file_dir is relative to the configuration's folder.
    let mailer = Mailer::new(&config, base.path(), None).expect("mailer");
    let (results, summary) = send(&mailer, vec![message(7, "kund@example.se", Language::Sv)]);
    assert!(results[&7].is_ok(), "{results:?}");
    assert_eq!(
        summary,
        Summary {
            sent: 1,
            failed: 0,
            connections: 0
        }
    );
    let files = eml_files(&base.join("outbox"));
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    let id = message_id(7, &page_id(7), "example.se");
    assert_opaque_message_id(&id, 7);
    for header in [
        &*format!("Message-ID: {id}\r\n"),
        "To: kund@example.se\r\n",
        "Reply-To: kundtjanst@example.se\r\n",
        "Content-Type: multipart/alternative;",
    ] {
        assert!(raw.contains(header), "{header:?} missing from:\n{raw}");
    }
    assert!(raw.is_ascii(), "{raw}");

    if Command::new(python())
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let parsed = &parse_eml(&files)[0];
        assert_eq!(parsed["from"], FROM);
        assert_eq!(parsed["subject"], "Dahls Rör AB ber om ditt samtycke");
        assert!(parsed["html"].as_str().unwrap().contains(&link(7)));
    }
}

#[test]
fn configuration_errors_are_setup_errors() {
    let mut config = smtp_config(25, Tls::None, 1, 10);
    config.smtp_host = Some("smtp.example.se".to_owned());
    let login = Credentials {
        username: "portal".to_owned(),
        password: "pw-in-clear".to_owned(),
    };
    let e = Mailer::new(&config, Path::new("."), Some(login)).expect_err("login in clear");
    assert_eq!(e.class(), ErrorClass::Setup);
    assert!(e.to_string().contains("email.tls"), "{e}");
    assert!(!e.to_string().contains("pw-in-clear"));

    config.from = "not an address".to_owned();
    let e = Mailer::new(&config, Path::new("."), None).expect_err("bad from");
    assert!(
        e.to_string()
            .starts_with("Configuration: email.from \"not an address\""),
        "{e}"
    );

    let mut config = smtp_config(25, Tls::Starttls, 1, 10);
    config.smtp_host = None;
    let e = Mailer::new(&config, Path::new("."), None).expect_err("no host");
    assert_eq!(
        e.to_string(),
        "Configuration: email.smtp_host is needed with transport = \"smtp\""
    );
}

/// Messages per second against aiosmtpd answering each message after
/// 20 ms, over the same connections: this mailer against Python's smtplib
/// (which writes a message in one piece, so no delayed ACK). Prints the
/// ratio; run with
/// `cargo test --release -p consent-portal --test send send_email::throughput -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark"]
fn throughput_against_smtplib() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    for (connections, delay_ms, count) in THROUGHPUT_CASES {
        let server = SmtpServer::with_data_delay(delay_ms);
        let mailer = Mailer::new(
            &smtp_config(server.port, Tls::None, connections, 30),
            Path::new("."),
            None,
        )
        .expect("mailer");
        let started = Instant::now();
        let (_, summary) = send(&mailer, messages(1..=count as i64));
        let rust = count as f64 / started.elapsed().as_secs_f64();
        assert_eq!(summary.sent, count);
        // One message as sent, for smtplib to send again (the server's
        // folder goes with it).
        let sample_dir = Scratch::new("smtplib-sample");
        let sample = sample_dir.join("sample.eml");
        std::fs::copy(server.received()[0]["eml"].as_str().unwrap(), &sample).unwrap();
        drop(server);

        let server = SmtpServer::with_data_delay(delay_ms);
        let output = Command::new(python())
            .arg(repo_root().join("tests/smtp/smtplib_bench.py"))
            .args(["--port", &server.port.to_string()])
            .args(["--connections", &connections.to_string()])
            .args(["--messages", &count.to_string()])
            .arg("--eml")
            .arg(&sample)
            .output()
            .expect("run smtplib_bench.py");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let python: f64 = stdout
            .trim()
            .strip_prefix("MESSAGES_PER_SECOND ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "smtplib_bench.py: {stdout} {}",
                    String::from_utf8_lossy(&output.stderr)
                )
            });
        eprintln!(
            "{count} messages, {connections} connection(s), {delay_ms} ms reply delay: \
             mailer {rust:.0}/s, smtplib {python:.0}/s, ratio {:.2}",
            rust / python
        );
    }
}
