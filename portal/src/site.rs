//! Writing the static site: each file through a temporary file and a
//! rename in the same folder, so a reader (or the web host's sync) never
//! sees half a page, and only when its bytes change, so an unchanged site is
//! not touched at all.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The folder of consent pages inside the site.
pub const PAGES_DIR: &str = "c";
/// The withdrawal pages' folder inside the site folder.
pub const WITHDRAWAL_DIR: &str = "w";

const TEMP_MARK: &str = ".tmp-";

#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct SiteError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn at(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SiteError {
    let path = path.to_owned();
    move |source| SiteError {
        action,
        path,
        source,
    }
}

/// Writes `bytes` to `path` unless it already holds exactly them. Returns
/// whether the file was written.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, SiteError> {
    match fs::read(path) {
        Ok(existing) if existing == bytes => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(at("cannot read", path)(e)),
    }
    write_atomically(path, bytes)?;
    Ok(true)
}

/// Writes through a temporary file in the same folder and renames it over
/// `path`: the old or the new bytes, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    write_atomically_with_mode(path, bytes, 0o644)
}

/// [`write_atomically`] for a file only its owner may read (mode 0600): one
/// that holds page ids, which are as good as the links.
pub fn write_private_atomically(path: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    write_atomically_with_mode(path, bytes, 0o600)
}

fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SiteError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}{TEMP_MARK}{}", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&temp)
            .map_err(at("cannot create", &temp))?;
        file.write_all(bytes).map_err(at("cannot write", &temp))?;
        fs::rename(&temp, path).map_err(at("cannot rename into", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Creates a folder and its parents.
pub fn ensure_dir(path: &Path) -> Result<(), SiteError> {
    fs::create_dir_all(path).map_err(at("cannot create folder", path))
}

/// Makes the folder's renames durable (call once after a batch of writes).
pub fn sync_dir(path: &Path) -> Result<(), SiteError> {
    fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(at("cannot sync folder", path))
}

/// What the pages folder holds: each page's id (its file stem), and
/// temporary files left by an interrupted run. Names only: listing 100 000
/// pages must not cost a `stat` each.
#[derive(Debug, Default)]
pub struct Listing {
    pub pages: HashSet<String>,
    pub stale_temp_files: Vec<PathBuf>,
}

/// Lists the pages folder once; render compares with it and prunes by it.
pub fn list_pages(pages_dir: &Path) -> Result<Listing, SiteError> {
    let mut listing = Listing::default();
    if !pages_dir.exists() {
        return Ok(listing);
    }
    for entry in walkdir::WalkDir::new(pages_dir).min_depth(1).max_depth(1) {
        let entry = entry.map_err(|e| SiteError {
            action: "cannot list",
            path: pages_dir.to_owned(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if name.starts_with('.') {
            if name.contains(TEMP_MARK) {
                listing.stale_temp_files.push(entry.path().to_owned());
            }
        } else if let Some(stem) = name.strip_suffix(".html") {
            listing.pages.insert(stem.to_owned());
        }
    }
    Ok(listing)
}

/// Deletes every listed page whose id is not in `keep`, and the stale
/// temporary files. Returns how many pages were deleted.
pub fn prune(
    pages_dir: &Path,
    listing: &Listing,
    keep: &HashSet<String>,
) -> Result<usize, SiteError> {
    for temp in &listing.stale_temp_files {
        fs::remove_file(temp).map_err(at("cannot delete", temp))?;
    }
    let mut removed = 0;
    for page in listing.pages.iter().filter(|id| !keep.contains(*id)) {
        let path = pages_dir.join(format!("{page}.html"));
        match fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(at("cannot delete", &path)(e)),
        }
    }
    Ok(removed)
}
