//! Step 4 of `sync`, and `consent-portal render`: one static page per
//! pending request, plus the thank-you, expired-link and not-found pages
//! and `robots.txt`.
//!
//! Every queued request gets a 128-bit random page id, recorded with the
//! request before any link can go out (so a crash between render and send
//! reuses it), together with the hash of the text its page shows: the
//! words are fixed from then on. A later change of the information text
//! applies to new requests only; a page already out is made again from its
//! own text in `consent_text`. Each page carries one signed token per
//! button (see [`crate::token`]). Pages of requests that are no longer
//! pending are deleted. A page is rendered again only when something it
//! shows changed (a cache of fingerprints beside the site), and written
//! only when its bytes differ.

mod cache;
pub mod withdrawal;

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use rusqlite::Connection;
use serde::Serialize;

use consent_extension::requests::{self, StoredText, TextInputs};
use consent_extension::{page_id_is_valid, Language, Settings, Status};

use super::{NoProgress, Progress};
use crate::config::{self, Config};
use crate::site::{self, SiteError, PAGES_DIR};
use crate::sync::in_write_transaction;
use crate::templates::Templates;
use crate::texts::PageTexts;
use crate::token::{self, hex, Claims, Decision, PageBinding, Signer};
use cache::{page_fingerprint, site_fingerprint, NextCache, SortedCache};

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
    /// Requests that got no page, with the reason: the first
    /// [`MAX_LISTED`], then one line counting the rest.
    pub skipped: Vec<String>,
    /// Requests that got no page beyond those listed.
    pub skipped_not_listed: usize,
    /// The withdrawal pages of standing consents, and new receipts.
    pub withdrawal: withdrawal::Summary,
}

/// Requests read, and pages signed and written, at a time: large enough
/// that each batch keeps every core busy, small enough that a run's memory
/// does not grow with the register (a batch's pages are a few MB).
const BATCH: usize = 2_000;

/// Requests listed by name in a summary; the rest are counted.
pub const MAX_LISTED: usize = 100;

impl Summary {
    /// Lists a request that got no page, or counts it past [`MAX_LISTED`].
    fn skip(&mut self, reason: String) {
        if self.skipped.len() < MAX_LISTED {
            self.skipped.push(reason);
        } else {
            self.skipped_not_listed += 1;
        }
    }
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

/// The text a page shows, as made from the settings: what `consent_text`
/// stores and the tokens' hash binds.
pub fn page_text(language: Language, inputs: &TextInputs) -> StoredText {
    let texts = PageTexts::new(language, &inputs.business_name, inputs.expiry_days);
    let body = texts.consent_text(&inputs.info_text);
    StoredText {
        hash: hex(&token::text_hash(&body)),
        language,
        body,
        inputs: Some(inputs.clone()),
    }
}

/// The words of one stored text, ready for its pages.
struct TextGroup {
    texts: PageTexts,
    info_text: String,
    /// The stored text verbatim, when the page cannot be made again from
    /// its inputs with the same words (a text stored before the inputs
    /// were kept, or standard wording changed by an upgrade since).
    frozen_text: Option<String>,
    hash: [u8; 32],
}

impl TextGroup {
    /// The words of `stored`, made again from its inputs when that gives
    /// the same text, else shown verbatim. `business_name` and
    /// `expiry_days` (today's) frame a verbatim text.
    fn new(stored: &StoredText, business_name: &str, expiry_days: i64) -> TextGroup {
        let hash = token::text_hash(&stored.body);
        if let Some(inputs) = &stored.inputs {
            if page_text(stored.language, inputs).hash == stored.hash {
                return TextGroup {
                    texts: PageTexts::new(
                        stored.language,
                        &inputs.business_name,
                        inputs.expiry_days,
                    ),
                    info_text: inputs.info_text.trim().to_owned(),
                    frozen_text: None,
                    hash,
                };
            }
        }
        TextGroup {
            texts: PageTexts::new(stored.language, business_name, expiry_days),
            info_text: String::new(),
            frozen_text: Some(stored.body.clone()),
            hash,
        }
    }
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
    let inputs = TextInputs {
        info_text: info_text.trim().to_owned(),
        business_name: business_name.clone(),
        expiry_days: settings.expiry_days,
    };
    let current = page_text(settings.language, &inputs);
    let texts = PageTexts::new(settings.language, &business_name, settings.expiry_days);
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
    let site_origin = config::origin(&config.site.url).map_err(RenderError::Setup)?;
    let csp = templates.content_security_policy(&collector_origin, &site_origin);

    let mut summary = Summary {
        new_page_ids: record_page_ids_and_text(conn, &current, &inputs, now)?,
        ..Summary::default()
    };
    let (unpaged, unpaged_count) = requests::sent_without_page(conn, MAX_LISTED)?;
    for id in unpaged {
        summary.skip(format!(
            "request {id} was marked sent without a page (outside the portal); it has no page"
        ));
    }
    summary.skipped_not_listed += unpaged_count.saturating_sub(MAX_LISTED);

    // The words of every page, by the hash its request recorded: a handful
    // of texts, however many pages.
    let mut groups: Vec<TextGroup> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for hash in requests::pending_text_hashes(conn)? {
        if let Some(stored) = requests::text(conn, &hash)? {
            groups.push(TextGroup::new(
                &stored,
                &business_name,
                settings.expiry_days,
            ));
            group_of.insert(hash, groups.len() - 1);
        }
    }

    let site_dir = config.site_dir();
    let pages_dir = site_dir.join(PAGES_DIR);
    site::ensure_dir(&pages_dir)?;
    let cache_path = config.dir.join(CACHE_FILE);
    // A run killed before it finished left its cache half written: the
    // pages it wrote may be in no cache, so this run looks through the
    // whole folder.
    let interrupted = site::interrupted_streams(&cache_path)?;
    let mut cache = SortedCache::open(&cache_path);
    let mut next_cache = NextCache::create(&cache_path)?;
    // Whether a page on disk stays: its request is still pending, and its
    // text is known (looked up by the page index).
    let keep_page = |page_id: &str| -> Result<bool, RenderError> {
        Ok(matches!(
            requests::pending_page_text(conn, page_id)?,
            Some(Some(hash)) if group_of.contains_key(&hash)
        ))
    };
    // A page the last run kept and this run passes by: deleted once the
    // register confirms it is no longer pending.
    let mut removed = 0;
    let mut passed = |page_id: &str| -> Result<(), RenderError> {
        if page_id_is_valid(page_id) && !keep_page(page_id)? {
            removed += usize::from(site::remove_page(&pages_dir, page_id)?);
        }
        Ok(())
    };

    let base = PageContext {
        t: &texts,
        csp: &csp,
        css: templates.css(),
        business_name: &business_name,
        info_text: info_text.trim(),
        frozen_text: None,
        collector_url: &config.site.collector_url,
        approve_token: String::new(),
        decline_token: String::new(),
    };
    let contexts: Vec<PageContext<'_>> = groups
        .iter()
        .map(|g| PageContext {
            t: &g.texts,
            info_text: &g.info_text,
            frozen_text: g.frozen_text.as_deref(),
            ..base.clone()
        })
        .collect();
    let fingerprints: Vec<[u8; 32]> = contexts
        .iter()
        .map(|c| site_fingerprint(&templates, c, signer))
        .collect();
    let pages = contexts
        .iter()
        .map(|c| PageTemplate::new(&templates, c))
        .collect::<Result<Vec<_>, _>>()?;

    // A batch at a time, in page id order (the cache's order too): the
    // memory a run takes does not grow with the register.
    progress.start("rendering", requests::pending_page_count(conn)?);
    let mut after = String::new();
    loop {
        let batch = requests::pending_pages(conn, "render", &after, BATCH)
            .map_err(|e| RenderError::Setup(e.to_string()))?;
        let Some(last) = batch.last().and_then(|r| r.page_id.clone()) else {
            break;
        };
        after = last;
        let mut jobs = Vec::new();
        let mut kept = Vec::new();
        for request in batch {
            let Some(page_id) = request.page_id else {
                continue;
            };
            if !page_id_is_valid(&page_id) {
                progress.item_done();
                summary.skip(format!(
                    "request {}: its page id is not one the portal draws (22 characters of \
                     base64url); it gets no page",
                    request.id
                ));
                continue;
            }
            let Some(group) = request
                .text_hash
                .as_ref()
                .and_then(|h| group_of.get(h).copied())
            else {
                progress.item_done();
                summary.skip(format!(
                    "request {}: the text its page showed is not in consent_text; it gets no page",
                    request.id
                ));
                continue;
            };
            // The consent window: `expiry_days` from sending, to the second, as
            // sync applies it. Queued (the link is not out yet): from now,
            // which is the time sync's send step records as sent in this same
            // run, so the page need not change once the link is out. (A request
            // whose sending is deferred gets its page made again next run.)
            let start = match request.sent_at {
                Some(sent) if request.status == Status::Sent => sent,
                _ => now,
            };
            let claims = Claims {
                decision: Decision::Approve,
                request_id: request.id,
                page: PageBinding::of(&page_id),
                expires_at: start + settings.expiry_days * 86_400,
                text_hash: groups[group].hash,
            };
            let fingerprint = page_fingerprint(&fingerprints[group], &page_id, &claims);
            summary.pages += 1;
            let on_disk = pages_dir.join(format!("{page_id}.html")).is_file();
            let cached = cache.get(&page_id, &mut passed)?;
            if on_disk && cached.as_deref() == Some(fingerprint.as_str()) {
                summary.unchanged += 1;
                progress.item_done();
                kept.push((page_id, fingerprint));
            } else {
                jobs.push(PageJob {
                    on_disk,
                    page_id,
                    claims,
                    group,
                    fingerprint,
                });
            }
        }
        for (job, outcome) in write_pages(&jobs, &pages, signer, &pages_dir, progress)? {
            if outcome.0 {
                summary.written += 1;
            } else {
                summary.unchanged += 1;
            }
            kept.push((job.page_id.clone(), job.fingerprint.clone()));
        }
        next_cache.push_batch(kept)?;
    }

    // The pages the last run kept and this one did not go (the cache's
    // rest); when the cache could not be trusted, every page on disk is
    // looked up instead.
    let scanned = cache.finish_and_prune(&mut passed, &pages_dir, &interrupted, keep_page)?;
    summary.removed = removed + scanned;
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
    let withdrawal_site = withdrawal::Site {
        templates: &templates,
        csp: &csp,
        collector_url: &config.site.collector_url,
        site_dir: &site_dir,
        config_dir: &config.dir,
        business_name: &business_name,
    };
    summary.written += usize::from(withdrawal::withdrawn_page(&withdrawal_site, &texts)?);
    summary.withdrawal = withdrawal::render(conn, &withdrawal_site, signer, now)?;
    next_cache.finish()?;
    if summary.skipped_not_listed > 0 {
        summary.skipped.push(format!(
            "... and {} more requests without a page, not listed",
            summary.skipped_not_listed
        ));
    }
    Ok(summary)
}

/// A page to sign, render and write.
struct PageJob {
    page_id: String,
    /// The approve button's claims; the decline button's differ only in
    /// the decision.
    claims: Claims,
    /// Which text (and so which [`PageTemplate`]) the page shows.
    group: usize,
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
    pages: &[PageTemplate<'_>],
    signer: &Signer,
    pages_dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<(&'j PageJob, Written)>, RenderError> {
    let write = |job: &'j PageJob| -> Result<(&'j PageJob, Written), RenderError> {
        let approve = signer.sign(&job.claims);
        let decline = signer.sign(&Claims {
            decision: Decision::Decline,
            ..job.claims.clone()
        });
        let html = pages[job.group].with_tokens(approve, decline)?;
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
    };
    on_every_core(jobs, write)
}

/// Runs `work` on each item, spread over every core (at most 8 threads, a
/// chunk each): signing dominates writing a page, and pages are
/// independent. The results in order, or the first error.
fn on_every_core<'i, T: Sync, R: Send>(
    items: &'i [T],
    work: impl Fn(&'i T) -> Result<R, RenderError> + Sync,
) -> Result<Vec<R>, RenderError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(64);
    let work = &work;
    let results: Vec<Result<Vec<R>, RenderError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(work).collect()))
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
    let mut all = Vec::with_capacity(items.len());
    for part in results {
        all.extend(part?);
    }
    Ok(all)
}

/// The consent page of one text rendered once, with markers where the
/// tokens go: each page is then the same bytes around its own two tokens,
/// which need no escaping (base64url and '.'). A replaced template that
/// does not show the tokens verbatim is rendered in full for every page
/// instead.
struct PageTemplate<'a> {
    templates: &'a Templates,
    context: &'a PageContext<'a>,
    parts: Option<Vec<Part>>,
}

/// A piece of a marked page.
enum Part {
    Literal(String),
    Token(Decision),
}

const APPROVE_MARKER: &str = "CONSENTAPPROVETOKEN7f3a9c";
const DECLINE_MARKER: &str = "CONSENTDECLINETOKEN7f3a9c";

impl<'a> PageTemplate<'a> {
    fn new(
        templates: &'a Templates,
        context: &'a PageContext<'a>,
    ) -> Result<PageTemplate<'a>, RenderError> {
        let marked = templates.render(
            "consent.html",
            &PageContext {
                approve_token: APPROVE_MARKER.to_owned(),
                decline_token: DECLINE_MARKER.to_owned(),
                ..context.clone()
            },
        )?;
        let mut parts = Vec::new();
        let mut rest = marked.as_str();
        let mut found = (false, false);
        loop {
            let next = [
                (rest.find(APPROVE_MARKER), Decision::Approve, APPROVE_MARKER),
                (rest.find(DECLINE_MARKER), Decision::Decline, DECLINE_MARKER),
            ]
            .into_iter()
            .filter_map(|(at, decision, marker)| at.map(|at| (at, decision, marker)))
            .min_by_key(|(at, ..)| *at);
            let Some((at, decision, marker)) = next else {
                parts.push(Part::Literal(rest.to_owned()));
                break;
            };
            parts.push(Part::Literal(rest[..at].to_owned()));
            parts.push(Part::Token(decision));
            match decision {
                Decision::Approve => found.0 = true,
                // A consent page has no withdraw button.
                Decision::Decline | Decision::Withdraw => found.1 = true,
            }
            rest = &rest[at + marker.len()..];
        }
        Ok(PageTemplate {
            templates,
            context,
            parts: (found == (true, true)).then_some(parts),
        })
    }

    fn with_tokens(&self, approve: String, decline: String) -> Result<String, RenderError> {
        match &self.parts {
            Some(parts) => {
                let mut html = String::with_capacity(
                    parts
                        .iter()
                        .map(|p| match p {
                            Part::Literal(text) => text.len(),
                            Part::Token(_) => approve.len(),
                        })
                        .sum(),
                );
                for part in parts {
                    html.push_str(match part {
                        Part::Literal(text) => text,
                        Part::Token(Decision::Approve) => &approve,
                        Part::Token(Decision::Decline | Decision::Withdraw) => &decline,
                    });
                }
                Ok(html)
            }
            None => self.templates.render(
                "consent.html",
                &PageContext {
                    approve_token: approve,
                    decline_token: decline,
                    ..self.context.clone()
                },
            ),
        }
    }
}

/// Draws page ids for queued requests that have none, each recorded with
/// the hash of today's text in the request's language (the customer's,
/// else the setting's: [`requests::Pending::language`]), and stores those texts, at
/// most one per language: a short write transaction per [`BATCH`] of
/// requests, before any page or link exists. `current` is today's text in
/// the setting's language.
fn record_page_ids_and_text(
    conn: &Connection,
    current: &StoredText,
    inputs: &TextInputs,
    now: i64,
) -> Result<usize, RenderError> {
    // Nothing to record (the usual case for a second run the same day):
    // then take no write lock at all.
    if requests::text_known(conn, &current.hash)? && !requests::pages_to_record(conn)? {
        return Ok(0);
    }
    in_write_transaction(conn, || -> Result<(), RenderError> {
        requests::record_text(conn, current, now)?;
        // Pages made before texts were recorded (schema version 1): today's
        // text is the best record there is of what they show.
        requests::record_missing_text_hash(conn, &current.hash)?;
        Ok(())
    })?;
    // Today's text in each language a new page needs, made and stored
    // once.
    let mut todays = vec![current.clone()];
    let mut assigned = 0;
    let mut after = 0;
    loop {
        let batch = requests::pending_without_page(conn, "render", after, BATCH)
            .map_err(|e| RenderError::Setup(e.to_string()))?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.id;
        assigned += in_write_transaction(conn, || -> Result<usize, RenderError> {
            let mut assigned = 0;
            for request in &batch {
                let text = match todays.iter().position(|t| t.language == request.language) {
                    Some(at) => &todays[at],
                    None => {
                        let made = page_text(request.language, inputs);
                        requests::record_text(conn, &made, now)?;
                        todays.push(made);
                        &todays[todays.len() - 1]
                    }
                };
                let page_id = new_page_id()?;
                if requests::assign_page_id(conn, request.id, &page_id, &text.hash)? {
                    assigned += 1;
                }
            }
            Ok(assigned)
        })?;
    }
    Ok(assigned)
}

/// What a page template sees.
#[derive(Clone, Serialize)]
pub struct PageContext<'a> {
    pub t: &'a PageTexts,
    pub csp: &'a str,
    pub css: &'a str,
    pub business_name: &'a str,
    pub info_text: &'a str,
    /// A stored text shown verbatim instead of `info_text` and the standard
    /// paragraphs (see [`TextGroup`]).
    pub frozen_text: Option<&'a str>,
    pub collector_url: &'a str,
    /// The approve button's token, and the decline button's.
    pub approve_token: String,
    pub decline_token: String,
}
