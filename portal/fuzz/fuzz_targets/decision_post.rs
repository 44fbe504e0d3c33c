//! The collector's `POST /decision` against hostile input: the real axum
//! router, in-process, over an inbox in a temporary folder.
//!
//! Input: a content type, a newline, the body (no newline: a body without a
//! content type). The answer must be 303 exactly when the body is a form
//! (the content type axum's `Form` accepts) with one `token` that verifies
//! now, whatever else the form holds (a `decision` field, as pages before
//! version 2 posted, is ignored); anything else is a 4xx. Never a 5xx,
//! never a panic. After a 303 the inbox's latest decision for the token's
//! request is the token's own decision, with that token.
//!
//! The collector logs every refusal to stderr: run with `-close_fd_mask=2`
//! (libFuzzer keeps its own output); a panic brings stderr back first, so
//! its message is still shown.

#![no_main]

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use consent_portal::collector::{self, CollectorApp, Inbox, BODY_LIMIT};
use consent_portal::token::{Claims, Verifier};
use consent_portal_fuzz::{keep_stderr_for_panics, verifier, FORM_TYPE};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    verifier: Verifier,
    inbox: Arc<Inbox>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // A tmpfs when there is one: a stored decision is an fsync.
        let base = ["/dev/shm"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("consent-fuzz-decision-post-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let inbox = Arc::new(Inbox::open(&dir.join("inbox.db")).expect("inbox"));
        let app = CollectorApp {
            verifier: verifier(),
            inbox: inbox.clone(),
            // No site: the collector's own pages stand in.
            site_dir: dir.join("site"),
            site_url: "https://samtycke.example.se".to_owned(),
            bearer_token: Some("fuzz-bearer-token".to_owned()),
            // No rate limit in reach: every input comes from one address.
            per_address_per_minute: NonZeroU32::MAX,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            header_timeout: collector::HEADER_TIMEOUT,
            max_connections: NonZeroUsize::MAX,
            trusted_proxies: collector::TrustedProxies::default(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Harness {
            runtime,
            router: collector::router(app),
            verifier: verifier(),
            inbox,
        }
    })
}

fuzz_target!(
    init: keep_stderr_for_panics(),
    |data: &[u8]| post(data)
);

fn post(data: &[u8]) {
    let harness = harness();
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (HeaderValue::from_bytes(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/decision")
        .body(Body::from(body.to_vec()))
        .expect("request");
    if let Some(content_type) = &content_type {
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));

    let status = harness.runtime.block_on(async {
        let response = harness
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the answer's body can be read");
        status
    });

    assert!(
        status == StatusCode::SEE_OTHER || status.is_client_error(),
        "answered {status}"
    );
    let genuine = genuine_decision(harness, content_type.as_ref(), body);
    if status == StatusCode::SEE_OTHER {
        let Some((token, claims)) = genuine else {
            panic!("a decision that is not genuine was accepted");
        };
        // Stored as the token says, whatever a `decision` field said.
        let stored = harness
            .inbox
            .since(0, usize::MAX)
            .expect("read the inbox")
            .into_iter()
            .rfind(|d| d.request_id == claims.request_id)
            .expect("the accepted decision is in the inbox");
        assert_eq!(
            (stored.decision, stored.token.as_str()),
            (claims.decision, token.as_str()),
            "the inbox's latest decision for request {} is not the token's",
            claims.request_id
        );
    } else if genuine.is_some() && body.len() <= BODY_LIMIT {
        panic!("a genuine decision was refused with {status}");
    }
}

/// A form with one `token` that verifies now: the token and its claims.
fn genuine_decision(
    harness: &Harness,
    content_type: Option<&HeaderValue>,
    body: &[u8],
) -> Option<(String, Claims)> {
    let is_form = content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(FORM_TYPE));
    if !is_form {
        return None;
    }
    let tokens: Vec<_> = form_urlencoded::parse(body)
        .filter(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .collect();
    let [token] = <[_; 1]>::try_from(tokens).ok()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = harness.verifier.verify(&token, now).ok()?;
    Some((token, claims))
}
