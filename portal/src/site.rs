//! Writing the static site: each file through a temporary file and a
//! rename in the same folder, so a reader (or the web host's sync) never
//! sees half a page, and only when its bytes change, so an unchanged site is
//! not touched at all.

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
    let (temp, mut file) = create_temp(path, mode)?;
    let result = file
        .write_all(bytes)
        .map_err(at("cannot write", &temp))
        .and_then(|()| fs::rename(&temp, path).map_err(at("cannot rename into", path)));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The folder of `path`, and the name its temporary files start with:
/// `.<name>.tmp-`, then the writing process's id.
fn temp_prefix(path: &Path) -> (&Path, String) {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, format!(".{name}{TEMP_MARK}"))
}

/// A new, empty temporary file beside `path`, with `mode`.
fn create_temp(path: &Path, mode: u32) -> Result<(PathBuf, fs::File), SiteError> {
    let (dir, prefix) = temp_prefix(path);
    let temp = dir.join(format!("{prefix}{}", std::process::id()));
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)
        .map_err(at("cannot create", &temp))?;
    Ok((temp, file))
}

/// A private file (mode 0600) written a line at a time through a
/// temporary file, renamed over `path` by [`StreamedFile::finish`]: the old
/// file or the whole new one, never a mix, and never all of it in memory.
/// Dropped unfinished, the temporary file is removed and `path` is left as
/// it was.
pub struct StreamedFile {
    path: PathBuf,
    temp: PathBuf,
    file: Option<io::BufWriter<fs::File>>,
}

impl StreamedFile {
    pub fn create(path: &Path) -> Result<StreamedFile, SiteError> {
        let (temp, file) = create_temp(path, 0o600)?;
        Ok(StreamedFile {
            path: path.to_owned(),
            temp,
            file: Some(io::BufWriter::new(file)),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SiteError> {
        match &mut self.file {
            Some(file) => file
                .write_all(bytes)
                .map_err(at("cannot write", &self.temp)),
            None => Ok(()),
        }
    }

    /// Renames the finished file over `path`.
    pub fn finish(mut self) -> Result<(), SiteError> {
        if let Some(file) = self.file.take() {
            file.into_inner()
                .map_err(|e| at("cannot write", &self.temp)(e.into_error()))?;
            fs::rename(&self.temp, &self.path).map_err(at("cannot rename into", &self.path))?;
        }
        Ok(())
    }
}

impl Drop for StreamedFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Deletes the page `<page_id>.html` of `pages_dir`; whether it was there.
pub fn remove_page(pages_dir: &Path, page_id: &str) -> Result<bool, SiteError> {
    let path = pages_dir.join(format!("{page_id}.html"));
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(at("cannot delete", &path)(e)),
    }
}

/// The temporary files a [`StreamedFile`] for `path` left when its run was
/// killed before it finished.
pub fn interrupted_streams(path: &Path) -> Result<Vec<PathBuf>, SiteError> {
    let (dir, prefix) = temp_prefix(path);
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(at("cannot list", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(at("cannot list", dir))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// Deletes files; one already gone is no error.
pub fn remove_files(paths: &[PathBuf]) -> Result<(), SiteError> {
    for path in paths {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(at("cannot delete", path)(e)),
        }
    }
    Ok(())
}

/// Deletes each page of `pages_dir` that `keep` (given its id) does not
/// keep, and the temporary files an interrupted run left, reading the
/// folder as it goes: nothing of it is held in memory. Returns how many
/// pages were deleted.
pub fn prune_pages<E: From<SiteError>>(
    pages_dir: &Path,
    mut keep: impl FnMut(&str) -> Result<bool, E>,
) -> Result<usize, E> {
    let mut removed = 0;
    if !pages_dir.exists() {
        return Ok(removed);
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
        let delete = if name.starts_with('.') {
            name.contains(TEMP_MARK)
        } else if let Some(stem) = name.strip_suffix(".html") {
            !keep(stem)?
        } else {
            false
        };
        if delete {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += usize::from(!name.starts_with('.')),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(at("cannot delete", entry.path())(e).into()),
            }
        }
    }
    Ok(removed)
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
