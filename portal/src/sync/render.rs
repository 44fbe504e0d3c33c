//! Step 4 of `sync`, and `consent-portal render`: one static page per
//! pending request, plus the thank-you, expired-link and not-found pages
//! and `robots.txt`.
//!
//! Every queued request gets a 128-bit random page id, recorded with the
//! request before any link can go out (so a crash between render and send
//! reuses it). Each page carries a decision token that binds the request,
//! the customer, an expiry and the SHA-256 of the exact text shown; that
//! text is stored once in `consent_text`. Pages of requests that are no
//! longer pending are deleted. A page is rendered again only when something
//! it shows changed (a cache of fingerprints beside the site), and written
//! only when its bytes differ.

mod cache;

use std::collections::HashSet;
use std::path::Path;

use base64::Engine;
use rusqlite::types::Value;
use rusqlite::Connection;
use serde::Serialize;

use consent_extension::requests::{self, Pending};
use consent_extension::{Language, Settings, Status};

use super::{NoProgress, Progress};
use crate::config::{self, Config};
use crate::site::{self, SiteError, PAGES_DIR};
use crate::templates::Templates;
use crate::texts::PageTexts;
use crate::token::{self, hex, Claims, CustomerId, SignError, Signer};
use cache::{page_fingerprint, site_fingerprint, Cache};

pub use cache::CACHE_FILE;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("reading or updating the database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("{0}")]
    Site(#[from] SiteError),
    #[error("template {name}: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("{0}")]
    Setup(String),
    #[error("signing the decision token of request {request_id}: {source}")]
    Token {
        request_id: i64,
        #[source]
        source: SignError,
    },
}

/// What a render did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Pending requests with a page.
    pub pages: usize,
    /// Page ids drawn for newly queued requests.
    pub new_page_ids: usize,
    /// Files written (pages and the site's fixed pages).
    pub written: usize,
    /// Pages left as they were.
    pub unchanged: usize,
    /// Pages of requests no longer pending, deleted.
    pub removed: usize,
    /// Requests that got no page, with the reason.
    pub skipped: Vec<String>,
}

/// A setting every page shows, or how to set it.
fn required(value: Option<String>, key: &str, example: &str) -> Result<String, RenderError> {
    value.ok_or_else(|| {
        RenderError::Setup(format!(
            "the setting {key} is not set, and every page shows it; set it with: \
             sqlite3 billing.db \".load libconsent\" \"SELECT consent_setting('{key}', '{example}')\""
        ))
    })
}

/// A 128-bit random page id, base64url without padding (22 characters).
pub fn new_page_id() -> Result<String, RenderError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        RenderError::Setup(format!(
            "the system has no random numbers for page ids: {e}"
        ))
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Renders the site for every pending request. `now` is unix seconds.
pub fn render(
    conn: &Connection,
    config: &Config,
    signer: &Signer,
    now: i64,
) -> Result<Summary, RenderError> {
    render_with_progress(conn, config, signer, now, &NoProgress)
}

/// [`render`], reporting progress on the pages it writes.
pub fn render_with_progress(
    conn: &Connection,
    config: &Config,
    signer: &Signer,
    now: i64,
    progress: &dyn Progress,
) -> Result<Summary, RenderError> {
    let settings = Settings::read(conn)?;
    let business_name = required(settings.business_name, "business_name", "Dahls Rör AB")?;
    let info_text = required(
        settings.info_text,
        "info_text",
        "Vi sparar ditt namn och din e-postadress för fakturering.",
    )?;
    let texts = PageTexts::new(settings.language, &business_name, settings.expiry_days);
    let consent_text = texts.consent_text(&info_text);
    let text_hash = token::text_hash(&consent_text);
    let text_hash_hex = hex(&text_hash);
    let templates = Templates::load(
        config
            .site
            .templates
            .as_ref()
            .map(|t| config.resolve(t))
            .as_deref(),
    )?;
    let collector_origin =
        config::origin(&config.site.collector_url).map_err(RenderError::Setup)?;
    let csp = templates.content_security_policy(&collector_origin);

    let mut pending = requests::pending(conn)?;
    let mut summary = Summary {
        new_page_ids: record_page_ids_and_text(
            conn,
            &mut pending,
            &consent_text,
            &text_hash_hex,
            settings.language,
            now,
        )?,
        ..Summary::default()
    };

    let site_dir = config.site_dir();
    let pages_dir = site_dir.join(PAGES_DIR);
    site::ensure_dir(&pages_dir)?;
    let cache_path = config.dir.join(CACHE_FILE);
    let cache = Cache::load(&cache_path);
    let listing = site::list_pages(&pages_dir)?;
    let mut next_cache = Cache::default();

    let base = PageContext {
        t: &texts,
        csp: &csp,
        css: templates.css(),
        business_name: &business_name,
        info_text: info_text.trim(),
        collector_url: &config.site.collector_url,
        token: String::new(),
    };
    let site_fingerprint = site_fingerprint(&templates, &base, signer);
    let mut keep = HashSet::new();
    let mut jobs = Vec::new();
    for request in pending {
        let Some(page_id) = request.page_id else {
            summary.skipped.push(format!(
                "request {} was marked sent without a page (outside the portal); it has no page",
                request.id
            ));
            continue;
        };
        let customer_id = match request.customer_id {
            Value::Integer(i) => CustomerId::Integer(i),
            Value::Text(t) => CustomerId::Text(t),
            other => {
                summary.skipped.push(format!(
                    "request {}: customer id {other:?} is neither a whole number nor text",
                    request.id
                ));
                continue;
            }
        };
        // Sent: valid for the expiry period from sending, plus a day for
        // the next run to collect it. Queued: from the start of today, so a
        // second render on the same day produces the same page.
        let start = match request.sent_at {
            Some(sent) if request.status == Status::Sent => sent,
            _ => now - now.rem_euclid(86_400),
        };
        let claims = Claims {
            request_id: request.id,
            customer_id,
            expires_at: start + (settings.expiry_days + 1) * 86_400,
            text_hash,
        };
        let fingerprint = page_fingerprint(&site_fingerprint, &page_id, &claims);
        keep.insert(page_id.clone());
        summary.pages += 1;
        let unchanged =
            cache.0.get(&page_id) == Some(&fingerprint) && listing.pages.contains(&page_id);
        if unchanged {
            summary.unchanged += 1;
            next_cache.0.insert(page_id, fingerprint);
        } else {
            jobs.push(PageJob {
                on_disk: listing.pages.contains(&page_id),
                page_id,
                claims,
                fingerprint,
            });
        }
    }

    let page = PageTemplate::new(&templates, &base)?;
    progress.start("rendering", jobs.len() as u64);
    for (job, outcome) in write_pages(&jobs, &page, signer, &pages_dir, progress)? {
        if outcome.0 {
            summary.written += 1;
        } else {
            summary.unchanged += 1;
        }
        next_cache
            .0
            .insert(job.page_id.clone(), job.fingerprint.clone());
    }

    summary.removed = site::prune(&pages_dir, &listing, &keep)?;
    for (name, template) in [
        ("thanks.html", "thanks.html"),
        ("expired.html", "expired.html"),
        ("404.html", "not_found.html"),
    ] {
        let html = templates.render(template, &base)?;
        summary.written += usize::from(site::write_if_changed(
            &site_dir.join(name),
            html.as_bytes(),
        )?);
    }
    summary.written += usize::from(site::write_if_changed(
        &site_dir.join("robots.txt"),
        b"User-agent: *\nDisallow: /\n",
    )?);
    site::sync_dir(&pages_dir)?;
    if next_cache != cache {
        next_cache.save(&cache_path)?;
    }
    Ok(summary)
}

/// A page to sign, render and write.
struct PageJob {
    page_id: String,
    claims: Claims,
    fingerprint: String,
    /// The page's file exists (with older bytes, or the same).
    on_disk: bool,
}

/// Whether a page's file was written (false: it already held those bytes).
struct Written(bool);

/// Signs, renders and writes the pages on every core: signing dominates a
/// first render, and the pages are independent.
fn write_pages<'j>(
    jobs: &'j [PageJob],
    page: &PageTemplate<'_>,
    signer: &Signer,
    pages_dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<(&'j PageJob, Written)>, RenderError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = jobs.len().div_ceil(threads).max(64);
    let results: Vec<Result<Vec<(&PageJob, Written)>, RenderError>> = std::thread::scope(|scope| {
        let workers: Vec<_> =
            jobs.chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|job| {
                                let token = signer.sign(&job.claims).map_err(|source| {
                                    RenderError::Token {
                                        request_id: job.claims.request_id,
                                        source,
                                    }
                                })?;
                                let html = page.with_token(token)?;
                                let path = pages_dir.join(format!("{}.html", job.page_id));
                                // A page not on disk needs no comparison first.
                                let written = if job.on_disk {
                                    site::write_if_changed(&path, html.as_bytes())?
                                } else {
                                    site::write_atomically(&path, html.as_bytes())?;
                                    true
                                };
                                progress.item_done();
                                Ok((job, Written(written)))
                            })
                            .collect()
                    })
                })
                .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(RenderError::Setup(
                        "a page-writing thread failed".to_owned(),
                    ))
                })
            })
            .collect()
    });
    let mut all = Vec::with_capacity(jobs.len());
    for part in results {
        all.extend(part?);
    }
    Ok(all)
}

/// The consent page rendered once, with a marker where the token goes: each
/// page is then the same bytes around its own token, which needs no
/// escaping (base64url and '.'). A replaced template that does not show the
/// token verbatim is rendered in full for every page instead.
struct PageTemplate<'a> {
    templates: &'a Templates,
    base: &'a PageContext<'a>,
    parts: Option<Vec<String>>,
}

const TOKEN_MARKER: &str = "CONSENTTOKENMARKER7f3a9c";

impl<'a> PageTemplate<'a> {
    fn new(
        templates: &'a Templates,
        base: &'a PageContext<'a>,
    ) -> Result<PageTemplate<'a>, RenderError> {
        let marked = templates.render(
            "consent.html",
            &PageContext {
                token: TOKEN_MARKER.to_owned(),
                ..base.clone()
            },
        )?;
        let parts: Vec<String> = marked.split(TOKEN_MARKER).map(str::to_owned).collect();
        Ok(PageTemplate {
            templates,
            base,
            parts: (parts.len() > 1).then_some(parts),
        })
    }

    fn with_token(&self, token: String) -> Result<String, RenderError> {
        match &self.parts {
            Some(parts) => Ok(parts.join(token.as_str())),
            None => self.templates.render(
                "consent.html",
                &PageContext {
                    token,
                    ..self.base.clone()
                },
            ),
        }
    }
}

/// Draws page ids for queued requests that have none, stores the text
/// shown, and records its hash with every pending request: one short write
/// transaction, before any page or link exists.
fn record_page_ids_and_text(
    conn: &Connection,
    pending: &mut [Pending],
    text: &str,
    text_hash_hex: &str,
    language: Language,
    now: i64,
) -> Result<usize, RenderError> {
    // Judged from the pending requests already read: no second scan.
    let needs_page = |r: &Pending| r.status == Status::Queued && r.page_id.is_none();
    let stale_hash = |r: &Pending| {
        (r.page_id.is_some() || needs_page(r)) && r.text_hash.as_deref() != Some(text_hash_hex)
    };
    // Nothing to record (the usual case for a second run the same day):
    // then take no write lock at all.
    if requests::text_known(conn, text_hash_hex)?
        && !pending.iter().any(|r| needs_page(r) || stale_hash(r))
    {
        return Ok(0);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<usize, RenderError> {
        let mut assigned = 0;
        for request in pending.iter_mut().filter(|r| needs_page(r)) {
            let page_id = new_page_id()?;
            if requests::assign_page_id(conn, request.id, &page_id)? {
                request.page_id = Some(page_id);
                assigned += 1;
            }
        }
        requests::record_text(conn, text_hash_hex, language, text, now)?;
        Ok(assigned)
    })();
    match result {
        Ok(n) => {
            conn.execute_batch("COMMIT")?;
            Ok(n)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// What a page template sees.
#[derive(Clone, Serialize)]
pub struct PageContext<'a> {
    pub t: &'a PageTexts,
    pub csp: &'a str,
    pub css: &'a str,
    pub business_name: &'a str,
    pub info_text: &'a str,
    pub collector_url: &'a str,
    pub token: String,
}
