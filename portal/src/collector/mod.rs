//! The collector (`consent-portal serve`): serves the static site and takes
//! the customers' decisions.
//!
//! A decision is a form POST of the pressed button's `token` to
//! `/decision`: each button carries its own signed token, which says which
//! decision it is. The collector verifies the token with the public keys
//! alone (it never holds the signing key), stores the token's decision in
//! its own inbox ([`inbox`]) durably, and only then answers with a
//! redirect to the site's thank-you page. `sync` pulls the stored decisions
//! with `GET /decisions` and a bearer token, or reads the inbox file.
//!
//! HTTP is axum and hyper; this module only adds the routes, the limits and
//! the pages. [`serve`] runs each connection with hyper's own server and a
//! timer, so that a request's headers have an absolute deadline
//! ([`HEADER_TIMEOUT`]), and accepts at most `max_connections` at once.

mod connections;
pub mod inbox;
mod listener;
mod pages;
pub mod server;
pub mod trusted_proxies;

use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::token::Verifier;

pub use inbox::{Decision, Inbox, InboxError, Recorded, StoredDecision};
pub use server::{router, serve, DecisionsPage};
pub use trusted_proxies::TrustedProxies;

/// The environment variable holding the bearer token that `GET /decisions`
/// requires. Never in the configuration file.
pub const TOKEN_ENV: &str = "CONSENT_COLLECTOR_TOKEN";
/// The largest request body accepted: a decision form is under 200 bytes.
pub const BODY_LIMIT: usize = 8 * 1024;
/// A request that takes longer is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that neither sends nor receives anything for this long is
/// closed. The header deadline below covers the header phase; this covers
/// a client that stops reading an answer or sending a body.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A request's headers must have arrived this many seconds after its
/// first byte (on a kept-alive connection: after the previous answer),
/// however steadily they trickle in; `collector.header_timeout_seconds`.
pub const HEADER_TIMEOUT_SECONDS: u32 = 10;
/// [`HEADER_TIMEOUT_SECONDS`] as a duration.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(HEADER_TIMEOUT_SECONDS as u64);
/// Connections open at once unless `collector.max_connections` says
/// otherwise.
pub const MAX_CONNECTIONS: u32 = 1024;
/// `GET /decisions` hands out this many decisions unless asked for fewer.
pub const DEFAULT_PAGE: usize = 1000;
/// ... and never more than this many.
pub const MAX_PAGE: usize = 10_000;

/// Everything the collector needs to run.
#[derive(Clone)]
pub struct CollectorApp {
    /// The public keys that verify decision tokens.
    pub verifier: Verifier,
    pub inbox: Arc<Inbox>,
    /// The static site served besides the decision routes; its
    /// `expired.html` and `404.html` are the error pages.
    pub site_dir: PathBuf,
    /// The public address of the site; decisions redirect to
    /// `<site_url>/thanks.html`.
    pub site_url: String,
    /// The bearer token for `GET /decisions`; `None` turns that route off
    /// (503).
    pub bearer_token: Option<String>,
    /// Decisions accepted per minute from one address (IPv6: one /64), in
    /// a burst of as many.
    pub per_address_per_minute: NonZeroU32,
    /// [`REQUEST_TIMEOUT`] unless changed.
    pub request_timeout: Duration,
    /// [`IDLE_TIMEOUT`] unless changed (used by [`serve`]).
    pub idle_timeout: Duration,
    /// `collector.header_timeout_seconds` ([`HEADER_TIMEOUT`]; used by
    /// [`serve`]).
    pub header_timeout: Duration,
    /// `collector.max_connections` ([`MAX_CONNECTIONS`]; used by [`serve`]).
    pub max_connections: NonZeroUsize,
    /// `collector.trusted_proxies`: whose `X-Forwarded-For` the rate limit
    /// believes.
    pub trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for CollectorApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorApp")
            .field("verifier", &self.verifier)
            .field("inbox", &self.inbox)
            .field("site_dir", &self.site_dir)
            .field("site_url", &self.site_url)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "(set)"))
            .field("per_address_per_minute", &self.per_address_per_minute)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("max_connections", &self.max_connections)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "collector.per_address_per_minute is 0; set it to the number of decisions accepted per \
         minute from one address (at least 1; the default is 60)"
    )]
    ZeroRate,
    #[error(
        "collector.max_connections is 0; set it to the number of connections the collector \
         keeps open at once (at least 1; the default is {MAX_CONNECTIONS})",
        MAX_CONNECTIONS = MAX_CONNECTIONS
    )]
    ZeroConnections,
    #[error(
        "collector.header_timeout_seconds is 0; set it to the seconds a client has to send a \
         request's headers (at least 1; the default is {HEADER_TIMEOUT_SECONDS})",
        HEADER_TIMEOUT_SECONDS = HEADER_TIMEOUT_SECONDS
    )]
    ZeroHeaderTimeout,
}

impl CollectorApp {
    /// The collector of a configuration, with the verifier of its
    /// `keys.verifying_keys`, its opened inbox and the bearer token (see
    /// [`bearer_token_from_env`]).
    pub fn from_config(
        config: &Config,
        verifier: Verifier,
        inbox: Inbox,
        bearer_token: Option<String>,
    ) -> Result<CollectorApp, SetupError> {
        Ok(CollectorApp {
            verifier,
            inbox: Arc::new(inbox),
            site_dir: config.site_dir(),
            site_url: config.site.url.clone(),
            bearer_token,
            per_address_per_minute: NonZeroU32::new(config.collector.per_address_per_minute)
                .ok_or(SetupError::ZeroRate)?,
            request_timeout: REQUEST_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            header_timeout: match config.collector.header_timeout_seconds {
                0 => return Err(SetupError::ZeroHeaderTimeout),
                seconds => Duration::from_secs(u64::from(seconds)),
            },
            max_connections: usize::try_from(config.collector.max_connections)
                .ok()
                .and_then(NonZeroUsize::new)
                .ok_or(SetupError::ZeroConnections)?,
            trusted_proxies: TrustedProxies::new(config.collector.trusted_networks.clone()),
        })
    }
}

/// The bearer token from [`TOKEN_ENV`]; unset or blank is `None`.
pub fn bearer_token_from_env() -> Option<String> {
    std::env::var(TOKEN_ENV)
        .ok()
        .map(|token| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}
