//! Step 1 of `sync`: fetch the customers' decisions after each source's
//! cursor, a page at a time (sync applies each page before it fetches the
//! next, so a run's memory does not grow with the decisions waiting). A
//! source is a collector's URL (`GET <url>/decisions` with the bearer
//! token) or a collector's inbox file, read with the same reader the
//! collector uses; either way the decisions arrive as the collector stored
//! them ([`StoredDecision`]).

use std::path::Path;
use std::time::Duration;

use crate::collector::{DecisionsPage, Inbox, StoredDecision};
use crate::config::Config;

/// How many decisions one request to a collector asks for; a page this
/// full may have more after it.
pub const PAGE_SIZE: usize = 1000;

/// A source that could not be read, and why.
#[derive(Debug, thiserror::Error)]
#[error("collecting from {source_name}: {message}")]
pub struct CollectError {
    pub source_name: String,
    pub message: String,
}

/// The sources to collect from: the configured ones, or the local inbox.
pub fn sources(config: &Config) -> Vec<String> {
    if config.collector.sources.is_empty() {
        vec![config.collector.inbox.to_string_lossy().into_owned()]
    } else {
        config.collector.sources.clone()
    }
}

/// The next page of decisions after `after` from one source, at most
/// [`PAGE_SIZE`]. A relative inbox path is taken from `base_dir`; an inbox
/// that does not exist yet holds nothing.
pub fn fetch(
    source: &str,
    after: i64,
    bearer: Option<&str>,
    base_dir: &Path,
) -> Result<Vec<StoredDecision>, CollectError> {
    let fail = |message: String| CollectError {
        source_name: source.to_owned(),
        message,
    };
    if crate::config::is_collector_url(source) {
        let bearer = bearer.ok_or_else(|| {
            fail("set CONSENT_COLLECTOR_TOKEN to the collector's bearer token".to_owned())
        })?;
        return fetch_http(source, after, bearer).map_err(fail);
    }
    let path = base_dir.join(source);
    if !path.exists() {
        // No collector has received anything yet.
        return Ok(Vec::new());
    }
    let inbox = Inbox::open_read_only(&path).map_err(|e| fail(e.to_string()))?;
    inbox
        .since(after, PAGE_SIZE)
        .map_err(|e| fail(e.to_string()))
}

/// One page of a collector's decisions.
fn fetch_http(url: &str, after: i64, bearer: &str) -> Result<Vec<StoredDecision>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    {
        let page_url = format!(
            "{}/decisions?after={after}&limit={PAGE_SIZE}",
            url.trim_end_matches('/')
        );
        let mut response = agent
            .get(&page_url)
            .header("Authorization", &format!("Bearer {bearer}"))
            .call()
            .map_err(|e| format!("the collector did not answer: {e}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            let hint = if status == 401 {
                ": check CONSENT_COLLECTOR_TOKEN"
            } else {
                ""
            };
            return Err(format!("the collector answered HTTP {status}{hint}"));
        }
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("reading the collector's answer: {e}"))?;
        let page: DecisionsPage = serde_json::from_str(&body)
            .map_err(|e| format!("the collector's answer is not the expected JSON: {e}"))?;
        Ok(page.decisions)
    }
}
