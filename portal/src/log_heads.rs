//! The log's heads, kept outside the database: after each run `sync`
//! appends the head of the hash-chained `consent_event` log (its last row's
//! id and hash, the row count and the time) to a file beside the
//! configuration. The chain shows any change to the rows it covers; the
//! heads show a chain rebuilt from scratch, because each recorded head must
//! still be in the log. `consent-portal verify` checks both.
//!
//! One line per head, appended and synced, never rewritten:
//!
//! ```text
//! <time, YYYY-MM-DDTHH:MM:SSZ> <last event id> <event count> <hash, 64 hex digits>
//! ```
//!
//! Keep a copy where the people who can write the register cannot (a
//! backup, a mail to the auditor): a head is evidence only where the
//! register's writers cannot change it too.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use consent_extension::log::{self, Head, Verdict};
use consent_extension::time::{self, UnixSeconds};
use rusqlite::Connection;
use serde::Serialize;

/// The file's name, beside the configuration.
pub const FILE_NAME: &str = "consent-log-heads";

/// A head as the file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedHead {
    /// The line it is on (from 1).
    pub line: usize,
    pub at: String,
    pub last_id: i64,
    pub count: i64,
    pub hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HeadsError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{}, line {line}, is not a recorded head ('<time> <last id> <count> <hash>'); \
         the file was edited by hand or damaged",
        path.display()
    )]
    Malformed { path: PathBuf, line: usize },
    #[error("reading the consent log: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Where the heads of a configuration's register are kept.
pub fn path_in(config_dir: &Path) -> PathBuf {
    config_dir.join(FILE_NAME)
}

/// Every head in the file, oldest first; none when there is no file yet.
pub fn read(path: &Path) -> Result<Vec<RecordedHead>, HeadsError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(HeadsError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })
        }
    };
    let mut heads = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = || HeadsError::Malformed {
            path: path.to_owned(),
            line: index + 1,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [at, last_id, count, hash] = fields[..] else {
            return Err(malformed());
        };
        let is_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        let (Ok(last_id), Ok(count), true) = (last_id.parse(), count.parse(), is_hash) else {
            return Err(malformed());
        };
        heads.push(RecordedHead {
            line: index + 1,
            at: at.to_owned(),
            last_id,
            count,
            hash: hash.to_owned(),
        });
    }
    Ok(heads)
}

/// Appends the log's head, unless the file's last line records it already
/// (a run that changed nothing adds nothing). Returns whether it wrote.
pub fn record(path: &Path, head: &Head, now: UnixSeconds) -> Result<bool, HeadsError> {
    let Some(hash) = &head.hash else {
        return Ok(false); // An empty log has no head.
    };
    let last = read(path)?.pop();
    if last.is_some_and(|l| l.last_id == head.last_id && &l.hash == hash) {
        return Ok(false);
    }
    let io = |action| {
        move |source| HeadsError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io("open"))?;
    writeln!(
        file,
        "{} {} {} {hash}",
        time::format(now),
        head.last_id,
        head.count
    )
    .map_err(io("append to"))?;
    file.sync_all().map_err(io("sync"))?;
    Ok(true)
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// `None` when the chain and the requests agree; else the first problem.
    pub log_problem: Option<String>,
    pub events: i64,
    pub head: Option<String>,
    /// Recorded heads checked against the log.
    pub heads_checked: usize,
    /// Recorded heads no longer in the log: the log was rewritten since.
    pub heads_missing: Vec<RecordedHead>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.log_problem.is_none() && self.heads_missing.is_empty()
    }
}

/// Checks the chain, the requests against their last events, and that
/// every recorded head is still in the log.
pub fn verify(conn: &Connection, heads_path: &Path) -> Result<Verification, HeadsError> {
    let log_problem = match log::verify(conn)? {
        Verdict::Ok => None,
        Verdict::Broken(problem) => Some(problem),
    };
    let head = log::head(conn)?;
    let heads = read(heads_path)?;
    let mut heads_missing = Vec::new();
    for recorded in &heads {
        if log::hash_at(conn, recorded.last_id)?.as_deref() != Some(recorded.hash.as_str()) {
            heads_missing.push(recorded.clone());
        }
    }
    Ok(Verification {
        log_problem,
        events: head.count,
        head: head.hash,
        heads_checked: heads.len(),
        heads_missing,
    })
}

/// The verification for a terminal.
pub fn to_text(v: &Verification, heads_path: &Path) -> String {
    let mut out = String::new();
    match &v.log_problem {
        None => out.push_str(&format!(
            "log: {} events, chain intact, every request's status is its last event's\n",
            v.events
        )),
        Some(problem) => out.push_str(&format!("log: BROKEN: {problem}\n")),
    }
    if let Some(head) = &v.head {
        out.push_str(&format!("head: {head}\n"));
    }
    if v.heads_checked == 0 {
        out.push_str(&format!(
            "recorded heads: none in {} yet (sync records one after each run)\n",
            heads_path.display()
        ));
    } else if v.heads_missing.is_empty() {
        out.push_str(&format!(
            "recorded heads: all {} found in the log ({})\n",
            v.heads_checked,
            heads_path.display()
        ));
    }
    for h in &v.heads_missing {
        out.push_str(&format!(
            "recorded head NOT in the log: line {} of {} (recorded {}: event {} with hash {}); \
             the log was rewritten or cut back since\n",
            h.line,
            heads_path.display(),
            h.at,
            h.last_id,
            &h.hash[..16]
        ));
    }
    out.push_str(if v.ok() {
        "verify: ok\n"
    } else {
        "verify: FAILED\n"
    });
    out
}
