//! The collector in-process on an ephemeral port, over real HTTP: decisions
//! stored durably and once, every refusal with the expired-link page and
//! nothing stored, the authenticated cursor feed for sync, the static site,
//! and the limits (body size, rate).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use consent_extension::time;
use consent_portal::collector::{self, CollectorApp, Decision, DecisionsPage, Inbox};
use consent_portal::keys;
use consent_portal::token::{PageBinding, Signer};
use consent_testkit::press::{client, find_token, signed_token};
use consent_testkit::site::{fixture, Fixture, SITE_URL};

const BEARER: &str = "test-bearer-token-0123456789abcdef";

/// A genuine version 1 token (made before each button had its own token).
const V1_TOKEN: &str = "v1.AYuByGJoG3ErAAAAAAAAAAEAAAAA9IZXADKoqi-ekJxgw2DAL23YFmeU6YAo8oSbRGF3jYKo9tueAAAAAAAAAAAqxanvw6RVWdguyP1xFRdmP-wwl0X5AR91lFaCZa3ukEW3H1qyKssRxARQPF7U2veJqL96T0iVICFoHWdHtPW4Bw";

/// The page id the tokens of `request_id` are made for: 22 characters of
/// base64url, as the portal draws them.
fn page_id(request_id: i64) -> String {
    format!("Page{request_id:018}")
}

/// A running collector over a rendered site; stops when dropped.
struct Collector {
    site: Fixture,
    base: String,
    inbox: PathBuf,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let stopped = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await });
            if !std::thread::panicking() {
                let result = stopped
                    .expect("the server stops on shutdown")
                    .expect("server task");
                result.expect("server result");
            }
        }
    }
}

fn start(name: &str) -> Collector {
    start_with(name, |_| {})
}

fn start_with(name: &str, adjust: impl FnOnce(&mut CollectorApp)) -> Collector {
    let site = fixture(&format!("collector-{name}"));
    site.render();
    let inbox = site.config.resolve(&site.config.collector.inbox);
    let mut app = CollectorApp::from_config(
        &site.config,
        site.verifier.clone(),
        Inbox::open(&inbox).expect("inbox"),
        Some(BEARER.to_owned()),
    )
    .expect("app");
    adjust(&mut app);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(collector::serve(listener, app, async {
        let _ = stopped.await;
    }));
    Collector {
        site,
        base,
        inbox,
        runtime,
        stop: Some(stop),
        server: Some(server),
    }
}

struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("an HTTP answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().read_to_string().expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

impl Collector {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn post(&self, fields: &[(&str, &str)]) -> Answer {
        answer(
            client()
                .post(self.url("/decision"))
                .send_form(fields.iter().copied()),
        )
    }

    /// Presses a button: posts its token, as the page's form does.
    fn press(&self, token: &str) -> Answer {
        self.post(&[("token", token)])
    }

    fn get(&self, path: &str) -> Answer {
        answer(client().get(self.url(path)).call())
    }

    fn get_decisions(&self, query: &str, bearer: Option<&str>) -> Answer {
        let mut request = client().get(self.url(&format!("/decisions{query}")));
        if let Some(bearer) = bearer {
            request = request.header("Authorization", &format!("Bearer {bearer}"));
        }
        answer(request.call())
    }

    fn page(&self, query: &str) -> DecisionsPage {
        let got = self.get_decisions(query, Some(BEARER));
        assert_eq!(got.status, 200, "{}", got.body);
        serde_json::from_str(&got.body).expect("decisions JSON")
    }

    /// The inbox as another process sees it: a connection of its own. Each
    /// row by its place in cursor order (1, 2, ...): the cursors themselves
    /// follow the clock (see `Inbox`).
    fn stored(&self) -> Vec<(i64, i64, String)> {
        let conn = rusqlite::Connection::open(&self.inbox).expect("open inbox");
        let mut stmt = conn
            .prepare(
                "SELECT row_number() OVER (ORDER BY cursor), request_id, decision FROM decision \
                 ORDER BY cursor",
            )
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query");
        rows.collect::<Result<_, _>>().expect("rows")
    }

    fn site_file(&self, name: &str) -> String {
        read(&self.site.site().join(name))
    }

    /// The token of a button of request `request_id`'s page.
    fn token(&self, decision: Decision, request_id: i64, expires_in: i64) -> String {
        signed_token(
            &self.site.signer,
            decision,
            request_id,
            &page_id(request_id),
            expires_in,
        )
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_redirected_to_thanks(got: &Answer) {
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(
        got.header("location"),
        Some(&*format!("{SITE_URL}/thanks.html"))
    );
}

#[test]
fn a_decision_is_stored_durably_once_and_redirects_to_the_thank_you_page() {
    let c = start("approve");
    let token = c.token(Decision::Approve, 41, 3600);
    let decline = c.token(Decision::Decline, 41, 3600);

    let got = c.press(&token);
    assert_redirected_to_thanks(&got);
    assert_eq!(got.header("cache-control"), Some("no-store"));
    assert_eq!(got.header("referrer-policy"), Some("no-referrer"));
    // On disk before the answer: another connection sees it at once.
    assert_eq!(c.stored(), [(1, 41, "approve".to_owned())]);

    // A double click, a reload, a retry: the same answer, stored once.
    for _ in 0..3 {
        assert_redirected_to_thanks(&c.press(&token));
    }
    assert_eq!(c.stored(), [(1, 41, "approve".to_owned())]);

    // A change of mind (the other button) is a new row; the latest row is
    // the last word.
    assert_redirected_to_thanks(&c.press(&decline));
    assert_redirected_to_thanks(&c.press(&decline));
    assert_eq!(
        c.stored(),
        [(1, 41, "approve".to_owned()), (2, 41, "decline".to_owned())]
    );

    let page = c.page("");
    assert_eq!(page.decisions.len(), 2);
    assert_eq!(page.next, page.decisions[1].cursor);
    let first = &page.decisions[0];
    assert!(first.cursor < page.next);
    assert_eq!((first.request_id, first.decision), (41, Decision::Approve));
    assert_eq!(first.token, token);
    let received = time::parse(&first.received_at).expect("received_at is a time");
    assert!((received - time::now()).abs() < 60, "{}", first.received_at);
    assert_eq!(
        first.received_at,
        time::format(received),
        "canonical UTC text"
    );
    // What sync does with it: the token verifies as of its receipt.
    let claims = c
        .site
        .verifier
        .verify(&first.token, received)
        .expect("verifies");
    assert_eq!(claims.request_id, 41);
    assert_eq!(claims.decision, Decision::Approve);
    assert_eq!(claims.page, PageBinding::of(&page_id(41)));
    assert_eq!(page.decisions[1].token, decline);
}

#[test]
fn the_decision_is_the_tokens_and_a_decision_field_is_ignored() {
    let c = start("decision-field");
    let approve = c.token(Decision::Approve, 7, 3600);
    let decline = c.token(Decision::Decline, 8, 3600);
    // A form as pages before version 2 posted it, or as someone edited it:
    // the field says the opposite of the pressed button's token.
    for (token, field) in [(&decline, "approve"), (&approve, "decline")] {
        let got = c.post(&[("token", token), ("decision", field)]);
        assert_redirected_to_thanks(&got);
    }
    // Any other word, or none, is not looked at either.
    for field in ["maybe", "APPROVE", ""] {
        assert_redirected_to_thanks(&c.post(&[("token", &decline), ("decision", field)]));
    }
    assert_eq!(
        c.stored(),
        [(1, 8, "decline".to_owned()), (2, 7, "approve".to_owned())],
        "each stored as its token says"
    );
}

#[test]
fn simultaneous_repeats_are_stored_once() {
    let c = start("concurrent");
    let token = c.token(Decision::Approve, 7, 3600);
    let url = c.url("/decision");
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let fields = [("token", token.as_str())];
                    answer(client().post(&url).send_form(fields)).status
                })
            })
            .collect();
        for worker in workers {
            assert_eq!(worker.join().expect("worker"), 303);
        }
    });
    assert_eq!(c.stored(), [(1, 7, "approve".to_owned())]);
}

#[test]
fn refused_tokens_get_the_expired_page_and_nothing_is_stored() {
    let c = start("refused");
    let expired_page = c.site_file("expired.html");
    assert!(
        expired_page.contains("Länken gäller inte längre"),
        "{expired_page}"
    );

    let foreign_key = Signer::new(keys::generate().expect("key"));
    for decision in [Decision::Approve, Decision::Decline] {
        let good = c.token(decision, 5, 3600);
        // Change one character in the middle: another valid base64 text.
        let mut tampered = good.clone().into_bytes();
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        let expired = c.token(decision, 5, -1);
        let foreign = signed_token(&foreign_key, decision, 5, &page_id(5), 3600);

        for (what, token, status) in [
            ("tampered", tampered.as_str(), 400),
            ("expired", expired.as_str(), 410),
            ("signed by another key", foreign.as_str(), 400),
            ("a version 1 token", V1_TOKEN, 400),
            ("not a token", "hello", 400),
            ("too long", &"v2.AAAA".repeat(500), 400),
        ] {
            let got = c.press(token);
            assert_eq!(got.status, status, "{what}: {}", got.body);
            assert_eq!(got.body, expired_page, "{what}");
            assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
            assert_eq!(got.header("location"), None);
        }
    }
    assert!(c.stored().is_empty());
}

#[test]
fn incomplete_or_unknown_forms_are_refused() {
    let c = start("forms");
    let expired_page = c.site_file("expired.html");
    let token = c.token(Decision::Approve, 5, 3600);
    // Without a token there is nothing to decide, whatever else is posted.
    let cases: [&[(&str, &str)]; 6] = [
        &[("decision", "approve")],
        &[("token", ""), ("decision", "approve")],
        &[("token", "")],
        &[("Token", &token)],
        &[("approve_token", &token)],
        &[],
    ];
    for fields in cases {
        let got = c.post(fields);
        assert_eq!(got.status, 400, "{fields:?}");
        assert_eq!(got.body, expired_page, "{fields:?}");
    }
    // Not a form at all.
    let got = answer(
        client()
            .post(c.url("/decision"))
            .content_type("application/json")
            .send(format!(r#"{{"token":"{token}"}}"#)),
    );
    assert_eq!(got.status, 400);
    // Two tokens (both buttons' at once) are ambiguous, in either order.
    let decline = c.token(Decision::Decline, 5, 3600);
    for fields in [
        [("token", token.as_str()), ("token", decline.as_str())],
        [("token", decline.as_str()), ("token", token.as_str())],
        [("token", token.as_str()), ("token", token.as_str())],
    ] {
        let got = c.post(&fields);
        assert_eq!(got.status, 400, "{fields:?}");
        assert_eq!(got.body, expired_page);
    }
    assert!(c.stored().is_empty());
}

#[test]
fn a_get_never_decides() {
    let c = start("get");
    let token = c.token(Decision::Approve, 5, 3600);
    for method in ["GET", "HEAD"] {
        let query = format!("/decision?token={token}");
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(c.url(&query))
            .body(())
            .expect("request");
        let got = answer(client().run(request));
        assert_eq!(got.status, 405, "{method}");
    }
    assert!(c.stored().is_empty());
}

#[test]
fn oversized_bodies_are_refused_with_413() {
    let c = start("oversized");
    let token = c.token(Decision::Approve, 5, 3600);
    // With a Content-Length.
    let padding = "x".repeat(collector::BODY_LIMIT);
    let got = c.post(&[("token", &token), ("padding", &padding)]);
    assert_eq!(got.status, 413);

    // Chunked, so the size is only known while reading.
    let body = format!(
        "token={token}&padding={}",
        "x".repeat(collector::BODY_LIMIT)
    );
    let address = c.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!(
        "POST /decision HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.as_bytes().chunks(1000) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");

    assert!(c.stored().is_empty());
    // The limit leaves room for real forms, and for the old pages' extra
    // field.
    assert_redirected_to_thanks(&c.post(&[("token", &token), ("decision", "approve")]));
}

#[test]
fn the_decision_feed_needs_the_bearer_token_and_pages_by_cursor() {
    let c = start("feed");
    for (request_id, decision) in [
        (1, Decision::Approve),
        (2, Decision::Decline),
        (3, Decision::Approve),
        (4, Decision::Approve),
        (5, Decision::Decline),
    ] {
        assert_redirected_to_thanks(&c.press(&c.token(decision, request_id, 3600)));
    }

    for bearer in [
        None,
        Some("wrong"),
        Some(&BEARER[..BEARER.len() - 1]),
        Some(""),
    ] {
        let got = c.get_decisions("", bearer);
        assert_eq!(got.status, 401, "{bearer:?}");
        assert_eq!(got.header("www-authenticate"), Some("Bearer"));
        assert!(!got.body.contains("v2."), "{}", got.body);
    }
    let got = answer(
        client()
            .get(c.url("/decisions"))
            .header("Authorization", &format!("Basic {BEARER}"))
            .call(),
    );
    assert_eq!(got.status, 401);

    // The five cursors, in order (they follow the clock; see `Inbox`).
    let cursors =
        |page: &DecisionsPage| page.decisions.iter().map(|d| d.cursor).collect::<Vec<_>>();
    let all = cursors(&c.page("?limit=100000"));
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");

    let got = c.get_decisions("", Some(BEARER));
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("cache-control"), Some("no-store"));
    let json: serde_json::Value = serde_json::from_str(&got.body).expect("json");
    assert_eq!(json["next"], all[4]);
    assert_eq!(json["decisions"][1]["cursor"], all[1]);
    assert_eq!(json["decisions"][1]["request_id"], 2);
    assert_eq!(json["decisions"][1]["decision"], "decline");
    assert!(json["decisions"][1]["token"]
        .as_str()
        .is_some_and(|t| t.starts_with("v2.")));
    assert!(json["decisions"][1]["received_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let page = c.page("?after=0&limit=2");
    assert_eq!((cursors(&page), page.next), (vec![all[0], all[1]], all[1]));
    let page = c.page(&format!("?after={}&limit=2", page.next));
    assert_eq!((cursors(&page), page.next), (vec![all[2], all[3]], all[3]));
    let page = c.page(&format!("?after={}&limit=2", page.next));
    assert_eq!((cursors(&page), page.next), (vec![all[4]], all[4]));
    let page = c.page(&format!("?after={}&limit=2", page.next));
    assert_eq!((cursors(&page), page.next), (vec![], all[4]));
    let page = c.page(&format!("?after={}", all[2]));
    assert_eq!(cursors(&page), [all[3], all[4]]);

    for query in ["?limit=0", "?limit=-1", "?after=x", "?limit=ten"] {
        assert_eq!(c.get_decisions(query, Some(BEARER)).status, 400, "{query}");
    }
    // A bad query is answered after the token check, not before.
    assert_eq!(c.get_decisions("?limit=0", None).status, 401);
}

#[test]
fn without_a_bearer_token_the_feed_is_off() {
    let c = start_with("feed-off", |app| app.bearer_token = None);
    for bearer in [None, Some(BEARER)] {
        let got = c.get_decisions("", bearer);
        assert_eq!(got.status, 503);
        assert!(got.body.contains(collector::TOKEN_ENV), "{}", got.body);
    }
}

#[test]
fn the_site_is_served_with_its_own_404_page() {
    let c = start("static");
    let got = c.get("/thanks.html");
    assert_eq!(got.status, 200);
    assert_eq!(got.body, c.site_file("thanks.html"));
    assert_eq!(got.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(got.header("cache-control"), None);

    // A consent page: its URL is a secret and no cache may keep it.
    let page = c.site.pages().into_iter().next().expect("a consent page");
    let name = page
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let got = c.get(&format!("/c/{name}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.body, read(&page));
    assert_eq!(got.header("cache-control"), Some("no-store"));
    assert_eq!(got.header("referrer-policy"), Some("no-referrer"));
    assert!(got
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    // The form posts exactly the field the collector reads: each button
    // is a `token` with its own decision signed in, and there is no other
    // field.
    assert_eq!(got.body.matches(r#"name="token" value="v2."#).count(), 2);
    assert!(!got.body.contains("name=\"decision\""), "{}", got.body);
    assert!(!got.body.contains("type=\"hidden\""), "{}", got.body);
    for decision in [Decision::Approve, Decision::Decline] {
        let token = find_token(&got.body, decision.as_str())
            .unwrap_or_else(|| panic!("no {} button", decision.as_str()));
        let claims = c
            .site
            .verifier
            .verify(token, consent_testkit::site::NOW)
            .expect("a genuine token");
        assert_eq!(claims.decision, decision);
    }

    let not_found = c.site_file("404.html");
    for path in [
        "/c/AAAAAAAAAAAAAAAAAAAAAA.html",
        "/nothing-here",
        "/c/",
        "/../consent.toml",
        "/%2e%2e/consent.toml",
        "/.hidden",
        "/decision/extra",
    ] {
        let got = c.get(path);
        assert_eq!(got.status, 404, "{path}");
        assert_eq!(got.body, not_found, "{path}");
        assert_eq!(got.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    // A file beside the site is never reachable, hidden files inside never.
    std::fs::write(c.site.site().join(".secret"), "not for the web").expect("write");
    assert_eq!(c.get("/.secret").status, 404);
    assert_eq!(c.get("/%2Esecret").status, 404);
}

#[test]
fn decisions_beyond_the_rate_limit_get_429() {
    let c = start_with("rate", |app| {
        app.per_address_per_minute = NonZeroU32::new(3).expect("3")
    });
    for request_id in 1..=3 {
        assert_redirected_to_thanks(&c.press(&c.token(Decision::Approve, request_id, 3600)));
    }
    let got = c.press(&c.token(Decision::Approve, 4, 3600));
    assert_eq!(got.status, 429);
    assert!(got.header("retry-after").is_some());
    assert!(got.body.contains("För många försök") && got.body.contains("Too many attempts"));
    // Refused before anything was read or stored.
    assert_eq!(c.stored().len(), 3);
    // Only decisions count: the site and the feed stay open.
    assert_eq!(c.get("/thanks.html").status, 200);
    assert_eq!(c.get_decisions("", Some(BEARER)).status, 200);
}

#[test]
fn a_missing_expired_page_falls_back_to_a_built_in_text() {
    let c = start("fallback");
    std::fs::remove_file(c.site.site().join("expired.html")).expect("remove");
    std::fs::remove_file(c.site.site().join("404.html")).expect("remove");
    let got = c.press("v2.AAAA");
    assert_eq!(got.status, 400);
    assert!(
        got.body.contains("Länken gäller inte längre")
            && got.body.contains("This link is no longer valid")
    );
    let got = c.get("/nothing-here");
    assert_eq!(got.status, 404);
    assert!(got.body.contains("Sidan finns inte") && got.body.contains("Page not found"));
}

#[test]
fn a_zero_rate_is_a_configuration_error() {
    let site = fixture("collector-zero-rate");
    let mut config =
        consent_portal::config::Config::load(&site.dir.join("consent.toml")).expect("config");
    config.collector.per_address_per_minute = 0;
    let inbox = Inbox::open(&site.dir.join("inbox.db")).expect("inbox");
    let error =
        CollectorApp::from_config(&config, site.verifier.clone(), inbox, None).expect_err("zero");
    assert!(
        error.to_string().contains("per_address_per_minute"),
        "{error}"
    );
}

/// Opens a connection and sends `bytes`; returns what comes back before the
/// server closes the connection, and how long that took.
fn raw_exchange(c: &Collector, bytes: &[u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(c.base.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = std::time::Instant::now();
    stream.write_all(bytes).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    (
        String::from_utf8_lossy(&response).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_request_that_takes_too_long_gets_408() {
    let c = start_with("slow", |app| {
        app.request_timeout = Duration::from_millis(300)
    });
    let token = c.token(Decision::Approve, 5, 3600);
    let body = format!("token={token}");
    // The headers promise a body that never fully arrives.
    let request = format!(
        "POST /decision HTTP/1.1\r\nHost: collector\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..body.len() / 2]
    );
    let (response, took) = raw_exchange(&c, request.as_bytes());
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(c.stored().is_empty());
}

#[test]
fn a_silent_connection_is_closed() {
    let c = start_with("idle", |app| app.idle_timeout = Duration::from_millis(300));
    let (response, took) = raw_exchange(&c, b"");
    assert_eq!(response, "");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Half a request line, then nothing.
    let (response, took) = raw_exchange(&c, b"GET /thanks.ht");
    assert!(!response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Normal requests are not affected.
    assert_eq!(c.get("/thanks.html").status, 200);
}
