//! Ed25519 key files: the signing (private) key that makes decision tokens
//! and the verifying (public) keys that check them.
//!
//! Both are short text files a person can recognise:
//!
//! ```text
//! consent-portal Ed25519 signing key: keep secret
//! <base64 of the 32-byte seed>
//! ```
//!
//! ```text
//! consent-portal Ed25519 verifying key <key id, 16 hex digits>
//! <base64 of the 32-byte public key>
//! ```
//!
//! The signing key file is created with mode 0600 and refused when group or
//! others may access it. No error message or `Debug` output ever holds key
//! material: messages name the file and what to do about it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::token::{KeyId, Signer, SigningKey, Verifier, VerifyingKey};

const SIGNING_HEADER: &str = "consent-portal Ed25519 signing key: keep secret";
const VERIFYING_HEADER: &str = "consent-portal Ed25519 verifying key ";
/// Key files are two short lines; anything larger is not one.
const MAX_FILE_LEN: u64 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// getrandom's error implements `std::error::Error` only with its `std`
    /// feature, so its text goes into the message.
    #[error("cannot draw random bytes for a new key: {0}")]
    Random(getrandom::Error),
    #[error(
        "{} already exists; a key file is never overwritten (move it away first if you \
         mean to replace the key)",
        .0.display()
    )]
    Exists(PathBuf),
    #[error("the signing and the verifying key must go to two different files")]
    SamePath,
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{} is open to group or others (mode {mode:04o}); a signing key must be private to \
         its owner: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{} is not a consent-portal {kind} key file: {reason}", path.display())]
    Malformed {
        path: PathBuf,
        kind: &'static str,
        reason: &'static str,
    },
    #[error(
        "{} says it holds key {stated} but holds key {actual}; the file was altered",
        path.display()
    )]
    KeyIdMismatch {
        path: PathBuf,
        stated: String,
        actual: KeyId,
    },
    #[error("no verifying key given; name at least one public key file")]
    NoVerifyingKeys,
}

/// A new signing key from the operating system's random source.
pub fn generate() -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(KeyError::Random)?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    Ok(key)
}

/// Generates a key pair and writes it to two new files; returns its key id.
/// Neither file may exist. On any failure neither file is left behind.
pub fn write_new_key_pair(signing_path: &Path, verifying_path: &Path) -> Result<KeyId, KeyError> {
    if signing_path == verifying_path {
        return Err(KeyError::SamePath);
    }
    let key = generate()?;
    let verifying_key = key.verifying_key();
    let key_id = KeyId::of(&verifying_key);

    let signing_file = create_new(signing_path, 0o600)?;
    let verifying_file = match create_new(verifying_path, 0o644) {
        Ok(file) => file,
        Err(e) => {
            let _ = fs::remove_file(signing_path);
            return Err(e);
        }
    };
    let signing_text = format!("{SIGNING_HEADER}\n{}\n", STANDARD.encode(key.as_bytes()));
    let verifying_text = format!(
        "{VERIFYING_HEADER}{key_id}\n{}\n",
        STANDARD.encode(verifying_key.as_bytes())
    );
    let written = write_and_sync(signing_file, signing_path, &signing_text)
        .and_then(|()| write_and_sync(verifying_file, verifying_path, &verifying_text))
        .and_then(|()| sync_parent(signing_path))
        .and_then(|()| sync_parent(verifying_path));
    if let Err(e) = written {
        let _ = fs::remove_file(signing_path);
        let _ = fs::remove_file(verifying_path);
        return Err(e);
    }
    Ok(key_id)
}

/// The signer of a signing key file that only its owner may access.
pub fn load_signer(path: &Path) -> Result<Signer, KeyError> {
    let file = KeyFile::read(path, true)?;
    if file.header != SIGNING_HEADER {
        return Err(
            file.malformed(if file.header.starts_with(VERIFYING_HEADER) {
                "it is a verifying (public) key file; pass the signing key"
            } else {
                "its first line is not the signing key header"
            }),
        );
    }
    Ok(Signer::new(SigningKey::from_bytes(&file.key()?)))
}

/// The public key in a verifying key file. Its header must name its key id.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let file = KeyFile::read(path, false)?;
    let Some(stated) = file.header.strip_prefix(VERIFYING_HEADER) else {
        return Err(file.malformed(if file.header == SIGNING_HEADER {
            "it is the signing (private) key file; pass the public one"
        } else {
            "its first line is not the verifying key header"
        }));
    };
    let key = VerifyingKey::from_bytes(&file.key()?)
        .map_err(|_| file.malformed("the key is not a point on the curve"))?;
    if key.is_weak() {
        return Err(file.malformed("the key is a weak (small-order) point"));
    }
    let actual = KeyId::of(&key);
    if stated != actual.to_string() {
        return Err(KeyError::KeyIdMismatch {
            path: path.to_owned(),
            stated: stated.chars().take(32).collect(),
            actual,
        });
    }
    Ok(key)
}

/// A verifier that accepts tokens signed by any of the keys in these files.
pub fn load_verifier(paths: &[PathBuf]) -> Result<Verifier, KeyError> {
    if paths.is_empty() {
        return Err(KeyError::NoVerifyingKeys);
    }
    let keys = paths
        .iter()
        .map(|path| load_verifying_key(path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Verifier::new(keys))
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> KeyError + 'a {
    move |source| KeyError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn create_new(path: &Path, mode: u32) -> Result<File, KeyError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => KeyError::Exists(path.to_owned()),
            _ => io_error("create", path)(e),
        })
}

fn write_and_sync(mut file: File, path: &Path, text: &str) -> Result<(), KeyError> {
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error("write", path))
}

/// Makes the new directory entry itself durable.
fn sync_parent(path: &Path) -> Result<(), KeyError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync the folder of", path))
}

/// A key file read and split into its header and key lines.
struct KeyFile {
    path: PathBuf,
    /// "signing" or "verifying", for messages.
    kind: &'static str,
    header: String,
    key_line: String,
}

impl KeyFile {
    /// Reads a key file, checking the open file itself (not the path
    /// again) so the mode seen is the mode of what is read. A `private`
    /// key file must be readable by its owner only.
    fn read(path: &Path, private: bool) -> Result<KeyFile, KeyError> {
        let mut file = KeyFile {
            path: path.to_owned(),
            kind: if private { "signing" } else { "verifying" },
            header: String::new(),
            key_line: String::new(),
        };
        let open = File::open(path).map_err(io_error("open", path))?;
        let meta = open.metadata().map_err(io_error("read", path))?;
        if !meta.is_file() {
            return Err(file.malformed("it is not a regular file"));
        }
        if private && meta.mode() & 0o077 != 0 {
            return Err(KeyError::TooOpen {
                path: path.to_owned(),
                mode: meta.mode() & 0o777,
            });
        }
        let mut bytes = Vec::new();
        open.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error("read", path))?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(file.malformed("it is larger than any key file"));
        }
        let text = String::from_utf8(bytes).map_err(|_| file.malformed("it is not text"))?;
        let (header, key_line) = split_key_file(&text).map_err(|reason| file.malformed(reason))?;
        file.header = header.to_owned();
        file.key_line = key_line.to_owned();
        Ok(file)
    }

    fn malformed(&self, reason: &'static str) -> KeyError {
        KeyError::Malformed {
            path: self.path.clone(),
            kind: self.kind,
            reason,
        }
    }

    /// The 32 bytes of the key line.
    fn key(&self) -> Result<[u8; 32], KeyError> {
        decode_key(&self.key_line).map_err(|reason| self.malformed(reason))
    }
}

/// The header line and the key line; blank lines may follow.
fn split_key_file(text: &str) -> Result<(&str, &str), &'static str> {
    let mut lines = text.lines().map(str::trim_end);
    let header = lines.next().ok_or("it is empty")?;
    let key = lines.next().ok_or("the key line is missing")?;
    if lines.any(|line| !line.is_empty()) {
        return Err("it has more than two lines of text");
    }
    Ok((header, key.trim_start()))
}

/// Errors carry no part of the line: it may be a secret.
fn decode_key(line: &str) -> Result<[u8; 32], &'static str> {
    let bytes = STANDARD
        .decode(line)
        .map_err(|_| "the key line is not base64")?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "the key is not 32 bytes long")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_decode_strictly() {
        assert_eq!(decode_key(&STANDARD.encode([7u8; 32])), Ok([7u8; 32]));
        assert!(decode_key(&STANDARD.encode([7u8; 31])).is_err());
        assert!(decode_key(&STANDARD.encode([7u8; 33])).is_err());
        assert!(decode_key("not base64!").is_err());
        let unpadded = STANDARD.encode([7u8; 32]).trim_end_matches('=').to_owned();
        assert!(decode_key(&unpadded).is_err());
    }

    #[test]
    fn key_files_are_two_lines() {
        assert_eq!(split_key_file("a\nb\n"), Ok(("a", "b")));
        assert_eq!(split_key_file("a\r\n  b  \r\n\n"), Ok(("a", "b")));
        assert!(split_key_file("").is_err());
        assert!(split_key_file("a\n").is_err());
        assert!(split_key_file("a\nb\nc\n").is_err());
    }
}
