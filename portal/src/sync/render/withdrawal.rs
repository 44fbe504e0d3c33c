//! The withdrawal pages, made in the same step as the consent pages: one
//! static page per standing consent given on a consent page,
//! `site/w/<page id>.html`. It is the receipt (who has the consent, when and
//! how it was given, the exact words approved) and holds one button, a form
//! POST with its own signed token whose decision is `withdraw`: withdrawing
//! is as easy as consenting was. Like a consent page it holds no personal
//! data, and its address is a secret sent to the customer only (in the
//! receipt).
//!
//! A new approval gets its page id here, recorded with the receipt notice
//! that sync's send step then delivers (`consent_extension::notices`). The
//! page stays while the consent stands and is deleted once it does not.
//! Its token is valid for as long as that: it expires two years after the
//! approval, and from the approval's first anniversary on the page is made
//! again each year with a year more, so a live page always has a year or
//! more left (and a saved copy of an old one still works for a year). Sync
//! applies a withdrawal only while the request is approved.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use consent_extension::notices::{self, NoticeKind, WithdrawalPage};
use consent_extension::requests::{self, StoredText};
use consent_extension::time::{self, UnixSeconds};
use consent_extension::{page_id_is_valid, Settings};

use super::cache::{NextCache, SortedCache};
use super::{new_page_id, on_every_core, RenderError};
use crate::site::{self, WITHDRAWAL_DIR};
use crate::sync::in_write_transaction;
use crate::templates::Templates;
use crate::texts::{given_on, PageTexts};
use crate::token::{self, hex, Claims, Decision, PageBinding, Signer};

/// The cache of withdrawal page fingerprints, beside the consent pages'.
pub const CACHE_FILE: &str = ".consent-withdrawal-cache";

const YEAR: i64 = 365 * 86_400;

/// What the withdrawal step of a render did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// New approvals that got a receipt and a withdrawal page.
    pub receipts: usize,
    /// Standing consents with a withdrawal page.
    pub pages: usize,
    /// Withdrawal pages written.
    pub written: usize,
    /// Withdrawal pages of consents that no longer stand, deleted.
    pub removed: usize,
}

/// When a withdrawal token made at `now` for a consent given at
/// `approved_at` expires: two years after the approval, plus a year for
/// every whole year since. The same all year, so the page changes once a
/// year.
pub fn token_expiry(approved_at: UnixSeconds, now: UnixSeconds) -> UnixSeconds {
    let years = (now - approved_at).max(0) / YEAR;
    approved_at + (years + 2) * YEAR
}

/// What the withdrawal page template is given.
#[derive(Serialize)]
struct WithdrawalContext<'a> {
    t: &'a PageTexts,
    csp: &'a str,
    css: &'a str,
    business_name: &'a str,
    /// How and when the consent was given, in words.
    given: String,
    /// The exact words approved.
    consent_text: &'a str,
    collector_url: &'a str,
    withdraw_token: String,
}

/// Where the consent pages' step hands over: what every page shares.
pub(super) struct Site<'a> {
    pub templates: &'a Templates,
    pub csp: &'a str,
    pub collector_url: &'a str,
    pub site_dir: &'a Path,
    pub config_dir: &'a Path,
    /// Today's business name: the frame of a text stored without it.
    pub business_name: &'a str,
}

/// Gives each new approval its receipt and withdrawal page id, then writes
/// a page for every standing consent and deletes the others, and the
/// static page the collector leads to after a withdrawal.
pub(super) fn render(
    conn: &Connection,
    site: &Site<'_>,
    signer: &Signer,
    now: UnixSeconds,
) -> Result<Summary, RenderError> {
    let mut summary = Summary {
        receipts: record_receipts(conn, now)?,
        ..Summary::default()
    };
    let settings = Settings::read(conn)?;
    let dir = site.site_dir.join(WITHDRAWAL_DIR);
    site::ensure_dir(&dir)?;
    let cache_path = site.config_dir.join(CACHE_FILE);
    // As for the consent pages (see there): a killed run's half-written
    // cache means a look through the whole folder.
    let interrupted = site::interrupted_streams(&cache_path)?;
    let mut cache = SortedCache::open(&cache_path);
    let mut next_cache = NextCache::create(&cache_path)?;
    // Each text once: its words, the hash its tokens bind, the page texts
    // around it.
    let mut groups: Vec<TextGroup> = Vec::new();
    let mut group_of: HashMap<String, Option<usize>> = HashMap::new();
    // A page passed by that the last run kept goes when its consent no
    // longer stands (looked up by the notice's page index). Its text's
    // group is not consulted here: a page of a text not in consent_text is
    // never made, so never kept.
    let mut removed = 0;
    let mut passed = |page_id: &str| -> Result<(), RenderError> {
        if page_id_is_valid(page_id) && notices::live_withdrawal_page_text(conn, page_id)?.is_none()
        {
            removed += usize::from(site::remove_page(&dir, page_id)?);
        }
        Ok(())
    };
    // A batch at a time along the page index, as the consent pages are.
    let mut after = String::new();
    loop {
        let batch = notices::withdrawal_pages_after(conn, &after, super::BATCH)?;
        let Some(last) = batch.last_read else {
            break;
        };
        after = last;
        let mut jobs = Vec::new();
        let mut kept = Vec::new();
        for page in batch.pages {
            if !page_id_is_valid(&page.page_id) {
                continue;
            }
            if !group_of.contains_key(&page.text_hash) {
                let group = requests::text(conn, &page.text_hash)?.map(|text| {
                    let business_name = text
                        .inputs
                        .as_ref()
                        .map_or(site.business_name, |inputs| inputs.business_name.as_str())
                        .to_owned();
                    groups.push(TextGroup {
                        t: PageTexts::new(text.language, &business_name, settings.expiry_days),
                        hash: token::text_hash(&text.body),
                        business_name,
                        text,
                    });
                    groups.len() - 1
                });
                group_of.insert(page.text_hash.clone(), group);
            }
            let Some(Some(group)) = group_of.get(&page.text_hash).copied() else {
                continue;
            };
            summary.pages += 1;
            let claims = Claims {
                decision: Decision::Withdraw,
                request_id: page.request_id,
                page: PageBinding::of(&page.page_id),
                expires_at: token_expiry(page.approved_at, now),
                text_hash: groups[group].hash,
            };
            let fingerprint = fingerprint(site, signer, &page, &claims, &groups[group]);
            let on_disk = dir.join(format!("{}.html", page.page_id)).is_file();
            let cached = cache.get(&page.page_id, &mut passed)?;
            if on_disk && cached.as_deref() == Some(fingerprint.as_str()) {
                kept.push((page.page_id, fingerprint));
                continue;
            }
            jobs.push(Job {
                on_disk,
                page,
                claims,
                group,
                fingerprint,
            });
        }
        summary.written += write_pages(&jobs, &groups, site, signer, &dir)?;
        kept.extend(
            jobs.into_iter()
                .map(|job| (job.page.page_id, job.fingerprint)),
        );
        next_cache.push_batch(kept)?;
    }
    // The pages the last run kept and this one did not go (the cache's
    // rest); when the cache could not be trusted, every page on disk is
    // looked up instead.
    let scanned = cache.finish_and_prune(&mut passed, &dir, &interrupted, |page_id| {
        Ok(match notices::live_withdrawal_page_text(conn, page_id)? {
            Some(hash) => !matches!(group_of.get(&hash), Some(None)),
            None => false,
        })
    })?;
    summary.removed = removed + scanned;
    site::sync_dir(&dir)?;
    next_cache.finish()?;
    Ok(summary)
}

/// Records a receipt, with a new withdrawal page id, for every approval
/// that needs one, a short transaction per batch (one sync to disk per
/// batch, not one per receipt), before any page or message can name it.
/// How many.
fn record_receipts(conn: &Connection, now: UnixSeconds) -> Result<usize, RenderError> {
    let mut recorded = 0;
    let mut after = 0;
    loop {
        let due = notices::receipts_due_after(conn, after, super::BATCH)?;
        let Some(&last) = due.last() else {
            return Ok(recorded);
        };
        after = last;
        let page_ids = due
            .iter()
            .map(|_| new_page_id())
            .collect::<Result<Vec<_>, _>>()?;
        recorded += in_write_transaction(conn, || {
            due.iter().zip(&page_ids).try_fold(0, |n, (request, page)| {
                notices::create(conn, *request, NoticeKind::Receipt, Some(page), now)
                    .map(|made| n + usize::from(made))
            })
        })?;
    }
}

/// One stored text and what its withdrawal pages share.
struct TextGroup {
    text: StoredText,
    /// The SHA-256 its tokens bind.
    hash: [u8; 32],
    business_name: String,
    t: PageTexts,
}

/// A withdrawal page to sign, render and write.
struct Job {
    page: WithdrawalPage,
    claims: Claims,
    group: usize,
    fingerprint: String,
    /// Its file exists (with older bytes, or the same).
    on_disk: bool,
}

/// Signs, renders and writes the pages on every core, as the consent
/// pages are; how many files were written.
fn write_pages(
    jobs: &[Job],
    groups: &[TextGroup],
    site: &Site<'_>,
    signer: &Signer,
    dir: &Path,
) -> Result<usize, RenderError> {
    let write = |job: &Job| -> Result<bool, RenderError> {
        let group = &groups[job.group];
        let given = given_on(group.text.language, job.page.channel)
            .replace("{date}", &day(job.page.approved_at));
        let html = site.templates.render(
            "withdraw.html",
            &WithdrawalContext {
                t: &group.t,
                csp: site.csp,
                css: site.templates.css(),
                business_name: &group.business_name,
                given,
                consent_text: &group.text.body,
                collector_url: site.collector_url,
                withdraw_token: signer.sign(&job.claims),
            },
        )?;
        let path = dir.join(format!("{}.html", job.page.page_id));
        // A page not on disk needs no comparison first.
        if job.on_disk {
            Ok(site::write_if_changed(&path, html.as_bytes())?)
        } else {
            site::write_atomically(&path, html.as_bytes())?;
            Ok(true)
        }
    };
    let written = on_every_core(jobs, write)?;
    Ok(written.into_iter().filter(|w| *w).count())
}

/// The static page after a withdrawal, in the register's language.
pub(super) fn withdrawn_page(site: &Site<'_>, texts: &PageTexts) -> Result<bool, RenderError> {
    #[derive(Serialize)]
    struct Context<'a> {
        t: &'a PageTexts,
        csp: &'a str,
        css: &'a str,
        business_name: &'a str,
    }
    let html = site.templates.render(
        "withdrawn.html",
        &Context {
            t: texts,
            csp: site.csp,
            css: site.templates.css(),
            business_name: site.business_name,
        },
    )?;
    Ok(site::write_if_changed(
        &site.site_dir.join("withdrawn.html"),
        html.as_bytes(),
    )?)
}

/// The day of a time, as the pages show it: `2026-12-01`.
fn day(at: UnixSeconds) -> String {
    let stamp = time::format(at);
    stamp.get(..10).unwrap_or(&stamp).to_owned()
}

/// Everything a withdrawal page's bytes depend on.
fn fingerprint(
    site: &Site<'_>,
    signer: &Signer,
    page: &WithdrawalPage,
    claims: &Claims,
    group: &TextGroup,
) -> String {
    let (text, business_name) = (&group.text, group.business_name.as_str());
    let mut h = Sha256::new();
    for part in [
        site.templates.fingerprint().as_slice(),
        site.csp.as_bytes(),
        site.collector_url.as_bytes(),
        &signer.key_id().0,
        business_name.as_bytes(),
        text.hash.as_bytes(),
        text.language.code().as_bytes(),
        page.channel.as_str().as_bytes(),
        &page.approved_at.to_be_bytes(),
        &claims.expires_at.to_be_bytes(),
        page.page_id.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_always_has_a_year_or_more_left_and_changes_once_a_year() {
        let approved = 1_700_000_000;
        for days in [0, 1, 200, 364, 365, 366, 800, 3650] {
            let now = approved + days * 86_400;
            let expiry = token_expiry(approved, now);
            assert!(expiry - now >= YEAR, "day {days}: {}", expiry - now);
            assert!(expiry - now <= 2 * YEAR, "day {days}");
        }
        assert_eq!(
            token_expiry(approved, approved + 10),
            token_expiry(approved, approved + 364 * 86_400)
        );
    }
}
