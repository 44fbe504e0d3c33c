//! What a page was made from, so that an unchanged page is neither signed
//! nor written again: a fingerprint per page in a cache file beside the
//! site folder (never published, and readable by its owner only: it lists
//! the page ids). Losing the cache only costs time.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::PageContext;
use crate::site::{self, SiteError};
use crate::templates::Templates;
use crate::token::{hex, Claims, Signer};

/// The cache of page fingerprints, beside the site folder.
pub const CACHE_FILE: &str = ".consent-render-cache";

/// Everything the pages of one text depend on (templates, texts,
/// addresses, signing key), hashed once per text and render.
pub(super) fn site_fingerprint(
    templates: &Templates,
    base: &PageContext<'_>,
    signer: &Signer,
) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        templates.fingerprint().as_slice(),
        base.csp.as_bytes(),
        base.business_name.as_bytes(),
        base.info_text.as_bytes(),
        base.frozen_text.unwrap_or("").as_bytes(),
        base.collector_url.as_bytes(),
        base.t.lang.as_bytes(),
        &signer.key_id().0,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// What one page's bytes depend on: when it is unchanged, the page need not
/// be rendered (or signed) again.
pub(super) fn page_fingerprint(site: &[u8; 32], page_id: &str, claims: &Claims) -> String {
    let mut h = Sha256::new();
    h.update(site);
    h.update(claims.request_id.to_be_bytes());
    h.update(claims.expires_at.to_be_bytes());
    h.update(claims.text_hash);
    h.update(claims.page.0);
    h.update(page_id.as_bytes());
    hex(&h.finalize()[..16])
}

/// page id -> fingerprint of what the page was made from.
#[derive(Default, PartialEq, Eq)]
pub(super) struct Cache(pub(super) HashMap<String, String>);

impl Cache {
    /// A missing or unreadable cache only means every page is rendered again.
    pub(super) fn load(path: &Path) -> Cache {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Cache::default();
        };
        Cache(
            text.lines()
                .filter_map(|line| {
                    let (id, fingerprint) = line.split_once(' ')?;
                    Some((id.to_owned(), fingerprint.to_owned()))
                })
                .collect(),
        )
    }

    pub(super) fn save(&self, path: &Path) -> Result<(), SiteError> {
        let mut lines: Vec<_> = self.0.iter().collect();
        lines.sort();
        let mut text = String::with_capacity(self.0.len() * 56);
        for (id, fingerprint) in lines {
            text.push_str(id);
            text.push(' ');
            text.push_str(fingerprint);
            text.push('\n');
        }
        site::write_private_atomically(path, text.as_bytes())
    }
}
