//! The collector's routes and limits.
//!
//! | request | answer |
//! |---|---|
//! | `POST /decision` (form `token`: the pressed button's) | 303 to `<site>/thanks.html` (a withdrawal: `<site>/withdrawn.html`) once stored; 400 / 410 with the expired-link page; 413, 429 |
//! | `GET /decisions?after=&limit=` + bearer | the stored decisions as JSON; 401 without the token, 503 when none is set |
//! | anything else | the static site; 404 with the site's 404 page |

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use consent_extension::time;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use super::connections::{serve_connections, Limits};
use super::inbox::{Inbox, StoredDecision};
use super::{pages, CollectorApp, TrustedProxies, BODY_LIMIT, DEFAULT_PAGE, MAX_PAGE, TOKEN_ENV};
use crate::site::PAGES_DIR;
use crate::token::{Decision, TokenError, Verifier};

/// The answer of `GET /decisions`: the decisions after the cursor asked
/// for, and the cursor to ask with next (the last one handed out, or the
/// one asked for when there are none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionsPage {
    pub decisions: Vec<StoredDecision>,
    pub next: i64,
}

/// What the handlers share.
struct Shared {
    verifier: Verifier,
    inbox: Arc<Inbox>,
    site_dir: std::path::PathBuf,
    thanks_url: HeaderValue,
    /// Where a withdrawal leads: the site's withdrawn page.
    withdrawn_url: HeaderValue,
    /// SHA-256 of the bearer token: compared in constant time, whatever
    /// the length of what a client sends.
    bearer_digest: Option<[u8; 32]>,
}

/// The collector as an axum router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (the rate limit
/// keys on the peer address). [`serve`] does that, and also bounds each
/// connection's time and their number and trims the rate limit's memory;
/// prefer it.
pub fn router(app: CollectorApp) -> Router {
    build(app).0
}

/// Serves the collector on `listener` until `shutdown` completes, then lets
/// requests in flight finish. Each request's headers have the app's
/// `header_timeout`, and at most `max_connections` are open at once (see
/// [`super::connections`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: CollectorApp,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = Limits {
        idle_timeout: app.idle_timeout,
        header_timeout: app.header_timeout,
        max_connections: app.max_connections,
    };
    let (router, forget_idle_addresses) = build(app);
    let cleaner = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            forget_idle_addresses();
        }
    });
    let result = serve_connections(listener, router, limits, shutdown).await;
    cleaner.abort();
    result
}

/// The router, and what to call now and then so that the rate limit
/// forgets addresses that are back to a full quota (it keeps a cell per
/// address it has seen).
fn build(app: CollectorApp) -> (Router, impl Fn() + Send + 'static) {
    // config::load checked the origin; should the rest not be a valid
    // header value, the page on this host is the next best place.
    let page_url = |name: &'static str, fallback: &'static str| {
        HeaderValue::try_from(format!("{}/{name}", app.site_url.trim_end_matches('/')))
            .unwrap_or_else(|_| HeaderValue::from_static(fallback))
    };
    let thanks_url = page_url("thanks.html", "/thanks.html");
    let withdrawn_url = page_url("withdrawn.html", "/withdrawn.html");
    let shared = Arc::new(Shared {
        verifier: app.verifier,
        inbox: app.inbox,
        site_dir: app.site_dir,
        thanks_url,
        withdrawn_url,
        bearer_digest: app
            .bearer_token
            .map(|t| Sha256::digest(t.as_bytes()).into()),
    });

    let per_minute = app.per_address_per_minute.get();
    let period = (Duration::from_secs(60) / per_minute).max(Duration::from_nanos(1));
    let rate_limit = Arc::new(
        GovernorConfigBuilder::default()
            .period(period)
            .burst_size(per_minute)
            .key_extractor(ClientNetwork {
                trusted_proxies: app.trusted_proxies.clone(),
            })
            .finish()
            .expect("period and burst are not zero"),
    );
    let governor = GovernorLayer::new(rate_limit.clone()).error_handler(|error| match error {
        GovernorError::TooManyRequests { headers, .. } => {
            let mut response = pages::too_many();
            response.headers_mut().extend(headers.unwrap_or_default());
            response
        }
        other => {
            log(&format!("rate limit: {other}"));
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    });

    let site = ServeDir::new(&shared.site_dir)
        .append_index_html_on_directories(false)
        .not_found_service(not_found.with_state(shared.clone()));
    let router = Router::new()
        .route("/decision", post(post_decision).route_layer(governor))
        .route("/decisions", get(get_decisions))
        .fallback_service(site)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            app.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            response_headers,
        ))
        .with_state(shared);
    let limiter = rate_limit.limiter().clone();
    let forget_idle_addresses = move || {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    };
    (router, forget_idle_addresses)
}

/// The form the consent page posts: the pressed button's `token`. The
/// token says which button it was; a `decision` field (the pages before
/// version 2 sent one) is ignored. Optional here, so that a missing token
/// gets the expired-link page rather than a bare error.
#[derive(Deserialize)]
struct DecisionForm {
    token: Option<String>,
}

// POST /decision
async fn post_decision(
    State(shared): State<Arc<Shared>>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            log("refused a decision: the body is too large");
            return rejection.into_response();
        }
        Err(rejection) => {
            log(&format!(
                "refused a decision: the form could not be read (HTTP {})",
                rejection.status()
            ));
            return pages::expired(&shared.site_dir, StatusCode::BAD_REQUEST).await;
        }
    };
    let Some(token) = form.token.filter(|t| !t.is_empty()) else {
        log("refused a decision: it has no token");
        return pages::expired(&shared.site_dir, StatusCode::BAD_REQUEST).await;
    };
    let now = time::now();
    let claims = match shared.verifier.verify(&token, now) {
        Ok(claims) => claims,
        Err(error) => {
            // The error names the key or the expiry, never the token.
            log(&format!("refused a decision: {error}"));
            let status = match error {
                TokenError::Expired { .. } => StatusCode::GONE,
                _ => StatusCode::BAD_REQUEST,
            };
            return pages::expired(&shared.site_dir, status).await;
        }
    };
    let request_id = claims.request_id;
    let decision = claims.decision;
    let inbox = shared.inbox.clone();
    let received_at = time::format(now);
    let stored = tokio::task::spawn_blocking(move || {
        inbox.record(request_id, decision, &token, &received_at)
    })
    .await;
    match stored {
        Ok(Ok(recorded)) => {
            let what = if recorded.first_time {
                "stored"
            } else {
                "already stored"
            };
            log(&format!(
                "request {request_id}: {} {what} (cursor {})",
                decision.as_str(),
                recorded.cursor
            ));
            let next = match decision {
                Decision::Withdraw => &shared.withdrawn_url,
                Decision::Approve | Decision::Decline => &shared.thanks_url,
            };
            let mut response = StatusCode::SEE_OTHER.into_response();
            response
                .headers_mut()
                .insert(header::LOCATION, next.clone());
            response
        }
        Ok(Err(error)) => {
            log(&format!(
                "request {request_id}: {} NOT stored: {error}",
                decision.as_str()
            ));
            pages::not_stored()
        }
        Err(error) => {
            log(&format!(
                "request {request_id}: {} NOT stored: {error}",
                decision.as_str()
            ));
            pages::not_stored()
        }
    }
}

#[derive(Deserialize)]
struct Paging {
    after: Option<i64>,
    limit: Option<usize>,
}

// GET /decisions?after=<cursor>&limit=<n>
async fn get_decisions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Response {
    let Some(expected) = &shared.bearer_digest else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("GET /decisions is off: set {TOKEN_ENV} to a long random token and restart the collector\n"),
        )
            .into_response();
    };
    if !bearer_matches(&headers, expected) {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            format!("send Authorization: Bearer <the collector's {TOKEN_ENV}>\n"),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let bad_request =
        |message: &str| (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response();
    let Ok(Query(paging)) = paging else {
        return bad_request(
            "after must be a cursor (a whole number) and limit a positive whole number",
        );
    };
    let after = paging.after.unwrap_or(0);
    let limit = match paging.limit {
        None => DEFAULT_PAGE,
        Some(0) => return bad_request("limit must be at least 1"),
        Some(n) => n.min(MAX_PAGE),
    };
    let inbox = shared.inbox.clone();
    match tokio::task::spawn_blocking(move || inbox.since(after, limit)).await {
        Ok(Ok(decisions)) => {
            let next = decisions.last().map_or(after, |d| d.cursor);
            Json(DecisionsPage { decisions, next }).into_response()
        }
        Ok(Err(error)) => {
            log(&format!("GET /decisions failed: {error}"));
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(error) => {
            log(&format!("GET /decisions failed: {error}"));
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `Authorization: Bearer <token>` with the expected token.
fn bearer_matches(headers: &HeaderMap, expected: &[u8; 32]) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let given: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
    given
        .iter()
        .zip(expected)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

async fn not_found(State(shared): State<Arc<Shared>>) -> Response {
    pages::not_found(&shared.site_dir).await
}

/// Headers on every answer; hidden files (`.name`) are never served.
async fn response_headers(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let hidden = path
        .split('/')
        .any(|segment| segment.starts_with('.') || segment.to_ascii_lowercase().starts_with("%2e"));
    // Consent pages are secrets (their URL is the key) and change state:
    // no cache may keep them, nor the decision answers.
    let private =
        path.starts_with(&format!("/{PAGES_DIR}/")) || path == "/decision" || path == "/decisions";
    let mut response = if hidden {
        pages::not_found(&shared.site_dir).await
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    }
    response
}

/// The rate limit's key: the client's address, or for IPv6 its /64 (one
/// household or phone is given a whole /64). The client is the peer,
/// unless the peer is a trusted proxy: then `X-Forwarded-For` says who it
/// is, as [`TrustedProxies::client`] reads it. Anyone else can write that
/// header, so from anyone else it is ignored.
#[derive(Debug, Clone)]
struct ClientNetwork {
    trusted_proxies: TrustedProxies,
}

impl KeyExtractor for ClientNetwork {
    type Key = IpAddr;

    fn extract<T>(&self, request: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        let ConnectInfo(peer) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or(GovernorError::UnableToExtractKey)?;
        let forwarded_for = request
            .headers()
            .get_all(X_FORWARDED_FOR)
            .iter()
            .map(HeaderValue::as_bytes);
        Ok(network_of(
            self.trusted_proxies.client(peer.ip(), forwarded_for),
        ))
    }
}

/// nginx's `$proxy_add_x_forwarded_for` appends to it.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

/// One line per event on stderr. Never a token, never a client address.
fn log(message: &str) {
    eprintln!("{} serve: {message}", time::format(time::now()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn bearer_is_checked_exactly() {
        let expected: [u8; 32] = Sha256::digest(b"s3cret-token").into();
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            bearer_matches(&headers, &expected)
        };
        assert!(with("Bearer s3cret-token"));
        assert!(with("bearer s3cret-token"));
        assert!(!with("Bearer s3cret-toke"));
        assert!(!with("Bearer s3cret-token2"));
        assert!(!with("Basic s3cret-token"));
        assert!(!with("s3cret-token"));
        assert!(!bearer_matches(&HeaderMap::new(), &expected));
    }
}
