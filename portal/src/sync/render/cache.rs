//! What a page was made from, so that an unchanged page is neither signed
//! nor written again: a fingerprint per page in a cache file beside the
//! site folder (never published, and readable by its owner only: it lists
//! the page ids). Losing the cache only costs time.

use std::io::BufRead;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{PageContext, RenderError};
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

/// The cache of the last run, read alongside the pages in page id order
/// (the order [`NextCache`] writes): a merge of two sorted lists, so the
/// cache is never held in memory. It also says which pages the last run
/// kept that this run does not: the entries passed by without being asked
/// for, handed to `passed` as the merge goes (the caller checks each
/// against the register before it deletes the page). A cache out of
/// order, or missing, only means more pages are rendered again, and that
/// the caller must look through the whole folder instead
/// ([`SortedCache::finish`] says so).
pub(super) struct SortedCache {
    lines: Option<std::io::Lines<std::io::BufReader<std::fs::File>>>,
    next: Option<(String, String)>,
    /// The file was there to read.
    opened: bool,
    /// A line did not read, or an id did not follow the one before.
    broken: bool,
    last_id: String,
}

/// Told of each page id the last run kept that this run passed by.
pub(super) type Passed<'a> = dyn FnMut(&str) -> Result<(), RenderError> + 'a;

impl SortedCache {
    pub(super) fn open(path: &Path) -> SortedCache {
        let lines = std::fs::File::open(path)
            .ok()
            .map(|f| std::io::BufReader::new(f).lines());
        let mut cache = SortedCache {
            opened: lines.is_some(),
            lines,
            next: None,
            broken: false,
            last_id: String::new(),
        };
        cache.advance();
        cache
    }

    fn advance(&mut self) {
        self.next = None;
        while let Some(lines) = &mut self.lines {
            match lines.next() {
                Some(Ok(line)) => match line.split_once(' ') {
                    Some((id, fingerprint)) => {
                        if id <= self.last_id.as_str() {
                            self.broken = true;
                        }
                        self.last_id = id.to_owned();
                        self.next = Some((id.to_owned(), fingerprint.to_owned()));
                        return;
                    }
                    None => self.broken = true,
                },
                None => self.lines = None,
                // A file that cannot be read on.
                Some(Err(_)) => {
                    self.broken = true;
                    self.lines = None;
                }
            }
        }
    }

    /// The fingerprint recorded for `page_id`; the entries before it are
    /// handed to `passed`. Ask in increasing page id order.
    pub(super) fn get(
        &mut self,
        page_id: &str,
        passed: &mut Passed<'_>,
    ) -> Result<Option<String>, RenderError> {
        while let Some((id, _)) = &self.next {
            match id.as_str().cmp(page_id) {
                std::cmp::Ordering::Less => {
                    passed(id)?;
                    self.advance();
                }
                std::cmp::Ordering::Equal => {
                    let found = self.next.take().map(|(_, fingerprint)| fingerprint);
                    self.advance();
                    return Ok(found);
                }
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Hands the entries left to `passed`. True when the cache was there
    /// and in order: then every page the last run kept was in it, and the
    /// pages it passed are all the pages to look at.
    pub(super) fn finish(mut self, passed: &mut Passed<'_>) -> Result<bool, RenderError> {
        while let Some((id, _)) = self.next.take() {
            passed(&id)?;
            self.advance();
        }
        Ok(self.opened && !self.broken)
    }

    /// Ends the merge ([`SortedCache::finish`]), then cleans `pages_dir`:
    /// when the cache could not be trusted (missing, out of order, or a
    /// killed run left `interrupted` half-written caches) every page on
    /// disk that `keep` does not keep is deleted, and those caches with
    /// it; otherwise only the temporary files of a cut-short page write
    /// (names only: no page is looked up). How many pages the look through
    /// the folder deleted.
    pub(super) fn finish_and_prune(
        self,
        passed: &mut Passed<'_>,
        pages_dir: &Path,
        interrupted: &[std::path::PathBuf],
        keep: impl FnMut(&str) -> Result<bool, RenderError>,
    ) -> Result<usize, RenderError> {
        if self.finish(passed)? && interrupted.is_empty() {
            site::prune_pages(pages_dir, |_| Ok::<_, RenderError>(true))
        } else {
            let removed = site::prune_pages(pages_dir, keep)?;
            site::remove_files(interrupted)?;
            Ok(removed)
        }
    }
}

/// The cache this run writes, a page at a time in page id order, in place
/// of the old one once the run has made every page.
pub(super) struct NextCache(site::StreamedFile);

impl NextCache {
    pub(super) fn create(path: &Path) -> Result<NextCache, SiteError> {
        Ok(NextCache(site::StreamedFile::create(path)?))
    }

    pub(super) fn push(&mut self, page_id: &str, fingerprint: &str) -> Result<(), SiteError> {
        self.0
            .write(format!("{page_id} {fingerprint}\n").as_bytes())
    }

    /// The pages one batch kept, with their fingerprints: sorted here,
    /// since the batches come in page id order but a batch's pages are
    /// kept in two groups (unchanged, then written).
    pub(super) fn push_batch(&mut self, mut kept: Vec<(String, String)>) -> Result<(), SiteError> {
        kept.sort_unstable();
        for (page_id, fingerprint) in &kept {
            self.push(page_id, fingerprint)?;
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<(), SiteError> {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_file(lines: &str) -> (tempfile_dir::Dir, std::path::PathBuf) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("cache");
        std::fs::write(&path, lines).expect("write");
        (dir, path)
    }

    /// A folder removed on drop (unit tests do not use the test kit).
    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = std::env::temp_dir()
                    .join(format!("consent-cache-test-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&path).expect("dir");
                Dir(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    /// Asks `cache` for each page; what it found, and what it passed.
    fn merge(cache: SortedCache, pages: &[&str]) -> (Vec<Option<String>>, Vec<String>, bool) {
        let mut cache = cache;
        let mut passed = Vec::new();
        let mut found = Vec::new();
        for page in pages {
            let mut note = |id: &str| -> Result<(), RenderError> {
                passed.push(id.to_owned());
                Ok(())
            };
            found.push(cache.get(page, &mut note).expect("get"));
        }
        let mut note = |id: &str| -> Result<(), RenderError> {
            passed.push(id.to_owned());
            Ok(())
        };
        let complete = cache.finish(&mut note).expect("finish");
        (found, passed, complete)
    }

    #[test]
    fn pages_asked_in_order_find_their_fingerprints_and_pass_the_rest() {
        let (_dir, path) = cache_file("a f1\nb f2\nc f3\nd f4\ng f7\n");
        let (found, passed, complete) = merge(SortedCache::open(&path), &["a", "c", "e", "f"]);
        assert_eq!(
            found,
            [Some("f1".to_owned()), Some("f3".to_owned()), None, None]
        );
        assert_eq!(passed, ["b", "d", "g"], "kept last time, not asked now");
        assert!(complete);
    }

    #[test]
    fn a_cache_out_of_order_or_missing_costs_renders_never_a_wrong_hit() {
        let (dir, path) = cache_file("c f3\na f1\nnot-a-line\nd f4\n");
        let (found, _, complete) = merge(SortedCache::open(&path), &["a", "c", "d"]);
        assert_eq!(found[0], None, "passed by, so rendered again");
        assert_eq!(found[1].as_deref(), Some("f3"));
        assert_eq!(found[2].as_deref(), Some("f4"));
        assert!(!complete, "out of order: the folder must be looked through");
        let (found, passed, complete) = merge(SortedCache::open(&dir.0.join("none")), &["a"]);
        assert_eq!((found, passed.len(), complete), (vec![None], 0, false));
    }

    #[test]
    fn the_next_cache_replaces_the_old_only_when_finished() {
        let (_dir, path) = cache_file("a old\n");
        let mut next = NextCache::create(&path).expect("create");
        next.push("a", "new").expect("push");
        drop(next);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "a old\n");
        let mut next = NextCache::create(&path).expect("create");
        next.push("a", "new").expect("push");
        next.push("b", "f2").expect("push");
        next.finish().expect("finish");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "a new\nb f2\n"
        );
        let leftovers = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .count();
        assert_eq!(leftovers, 1, "no temporary file left");
    }
}
