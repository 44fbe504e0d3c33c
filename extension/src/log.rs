//! The tamper-evident audit log: `consent_event` as a hash chain.
//!
//! Each event row carries `hash`, the lower-case hex SHA-256 of its
//! canonical form, which covers the hash of the row before it: changing,
//! removing or inserting a row anywhere breaks every hash from there on,
//! and [`verify`] (`consent_verify_log()`) names the first row that does
//! not match. Rebuilding the whole chain from scratch is not caught here;
//! it is caught by comparing the chain's [`head`] with one recorded
//! outside the database (the portal records it after each sync).
//!
//! The canonical form of event row `id` (version 1), hashed with SHA-256:
//!
//! ```text
//! b"consent-event-v1\0"
//! previous hash      32 raw bytes: the hash of the row before it (by id);
//!                    32 zero bytes for the first row
//! id, customer_id, request_id, from_status, to_status, actor, detail, at
//!                    each as a type tag byte, then its value:
//!                    0 NULL         (nothing follows)
//!                    1 integer      8 bytes, i64 big-endian
//!                    2 real         8 bytes, the f64's bits big-endian
//!                    3 text         u32 big-endian byte length, then the UTF-8 bytes
//!                    4 blob         u32 big-endian byte length, then the bytes
//! ```
//!
//! Values are hashed with the storage class SQLite keeps them in, so a
//! verifier reading the table sees exactly what the writer hashed.
//!
//! Canonical form v2 (the `form` column is 2; every event written from
//! schema version 5 on) is the same with two differences: the domain is
//! `b"consent-event-v2\0"`, and `detail` enters as its commitment rather
//! than itself:
//!
//! ```text
//! detail             tag 5, then 32 bytes: the SHA-256 of the detail
//!                    encoded as in v1 (tag and value), so that NULL and
//!                    text still differ
//! ```
//!
//! That commitment is what `consent_forget` keeps (`detail_sha256`, hex)
//! when it erases a detail that may identify the person: the row's hash,
//! and so the chain and its head, stay as they were, and [`verify`] checks
//! an erased row against the kept commitment ([`detail_commitment`]). A
//! row that is not erased (`erased_at` NULL) is always checked against its
//! own detail. Rows of form 1 (`form` NULL or 1, written before schema
//! version 5) hash their detail itself and can never be erased.
//!
//! Who computes it: the audit triggers on `consent_request`
//! (`sql/migrations/0003_evidence.sql`, since `0005_erasure.sql` in form 2)
//! insert each event with the id after the last one and the hash from
//! [`HASH_FUNCTION`], in the same statement as the change, so the chain
//! never has an unsealed tail. Rows that existed before the chain are
//! sealed once, in id order, when `consent_init` migrates (see
//! [`seal_existing`]).

mod verify;

pub use verify::{verify, Verdict};

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::args::Args;
use crate::error::{InFunction, Result};
use crate::setup::ConnState;

/// The SQL function the audit triggers call:
/// `consent_event_hash(prev_hash, id, customer_id, request_id, from_status,
/// to_status, actor, detail, at [, form])`; form 1 (the default) or 2.
pub const HASH_FUNCTION: &str = "consent_event_hash";

/// The SQL function the erasure guard calls:
/// `consent_event_detail_sha256(detail)`, the hex of [`detail_commitment`].
pub const COMMITMENT_FUNCTION: &str = "consent_event_detail_sha256";

/// The start of every hashed row of form 1: names the form and its version.
const DOMAIN: &[u8] = b"consent-event-v1\0";

/// The start of every hashed row of form 2.
const DOMAIN_V2: &[u8] = b"consent-event-v2\0";

/// The tag of a detail's commitment in form 2.
const COMMITMENT_TAG: u8 = 5;

/// The position of `detail` in [`HASHED_COLUMNS`].
const DETAIL: usize = 6;

/// The canonical form an event row is hashed in (its `form` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `form` NULL or 1: the detail itself is hashed (before schema
    /// version 5).
    V1,
    /// `form` 2: the detail's commitment is hashed, so the detail can be
    /// erased.
    V2,
}

impl Form {
    /// The form a `form` column's value names; None for anything else.
    pub fn of_column(value: ValueRef<'_>) -> Option<Form> {
        match value {
            ValueRef::Null | ValueRef::Integer(1) => Some(Form::V1),
            ValueRef::Integer(2) => Some(Form::V2),
            _ => None,
        }
    }
}

/// The hashed columns of `consent_event`, in the order they are hashed.
pub const HASHED_COLUMNS: [&str; 8] = [
    "id",
    "customer_id",
    "request_id",
    "from_status",
    "to_status",
    "actor",
    "detail",
    "at",
];

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Why an event could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("{HASH_FUNCTION}: the previous row's hash is not 64 hex digits; the log was changed by hand, run consent_verify_log() to find where")]
    MalformedPrevious,
    #[error("{HASH_FUNCTION}: takes the previous hash and the {} fields of an event ({}), and optionally the form, got {got} values", HASHED_COLUMNS.len(), HASHED_COLUMNS.join(", "))]
    WrongFields { got: usize },
    #[error("{HASH_FUNCTION}: form must be 1 or 2")]
    UnknownForm,
    #[error("{HASH_FUNCTION}: a value of {len} bytes is too long to hash (the canonical form holds at most 4 GiB)")]
    TooLong { len: usize },
}

/// The hash of one event row: `previous` is the hash of the row before it
/// (None for the first row), `fields` the row's [`HASHED_COLUMNS`].
pub fn event_hash(
    previous: Option<&Hash>,
    fields: &[ValueRef<'_>],
) -> std::result::Result<Hash, HashError> {
    if fields.len() != HASHED_COLUMNS.len() {
        return Err(HashError::WrongFields { got: fields.len() });
    }
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(previous.unwrap_or(&[0u8; 32]));
    for field in fields {
        encode(&mut h, *field)?;
    }
    Ok(h.finalize().into())
}

/// The hash of one event row in canonical form v2: as [`event_hash`], but
/// its detail (`fields[6]`) enters as its [`detail_commitment`].
pub fn event_hash_v2(
    previous: Option<&Hash>,
    fields: &[ValueRef<'_>],
) -> std::result::Result<Hash, HashError> {
    if fields.len() != HASHED_COLUMNS.len() {
        return Err(HashError::WrongFields { got: fields.len() });
    }
    let commitment = detail_commitment(fields[DETAIL])?;
    event_hash_v2_committed(previous, fields, &commitment)
}

/// [`event_hash_v2`] of a row whose detail was erased: `commitment` (the
/// kept `detail_sha256`) stands for it, and `fields[6]` is not read.
pub fn event_hash_v2_committed(
    previous: Option<&Hash>,
    fields: &[ValueRef<'_>],
    commitment: &Hash,
) -> std::result::Result<Hash, HashError> {
    if fields.len() != HASHED_COLUMNS.len() {
        return Err(HashError::WrongFields { got: fields.len() });
    }
    let mut h = Sha256::new();
    h.update(DOMAIN_V2);
    h.update(previous.unwrap_or(&[0u8; 32]));
    for (i, field) in fields.iter().enumerate() {
        if i == DETAIL {
            h.update([COMMITMENT_TAG]);
            h.update(commitment);
        } else {
            encode(&mut h, *field)?;
        }
    }
    Ok(h.finalize().into())
}

/// The commitment to a detail that form 2 hashes in its place: the
/// SHA-256 of the detail's encoding in form 1 (its tag, then its value).
pub fn detail_commitment(detail: ValueRef<'_>) -> std::result::Result<Hash, HashError> {
    let mut h = Sha256::new();
    encode(&mut h, detail)?;
    Ok(h.finalize().into())
}

/// One value of the canonical form: its tag byte, then the value.
fn encode(h: &mut Sha256, value: ValueRef<'_>) -> std::result::Result<(), HashError> {
    match value {
        ValueRef::Null => h.update([0u8]),
        ValueRef::Integer(i) => {
            h.update([1u8]);
            h.update(i.to_be_bytes());
        }
        ValueRef::Real(r) => {
            h.update([2u8]);
            h.update(r.to_bits().to_be_bytes());
        }
        ValueRef::Text(bytes) => {
            h.update([3u8]);
            h.update(length(bytes)?);
            h.update(bytes);
        }
        ValueRef::Blob(bytes) => {
            h.update([4u8]);
            h.update(length(bytes)?);
            h.update(bytes);
        }
    }
    Ok(())
}

fn length(bytes: &[u8]) -> std::result::Result<[u8; 4], HashError> {
    u32::try_from(bytes.len())
        .map(u32::to_be_bytes)
        .map_err(|_| HashError::TooLong { len: bytes.len() })
}

/// Lower-case hex, as the hash is stored.
pub fn hex(hash: &Hash) -> String {
    let mut out = [0u8; 64];
    hex_into(hash, &mut out);
    // Hex digits only, so always ASCII: the fallback never happens.
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

/// [`hex`] into a buffer, for comparing without allocating.
/// The hashed fields of an event row whose first eight columns are `id,
/// customer_id, request_id, from_status, to_status, actor, detail, at`.
pub(crate) fn event_fields<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<[ValueRef<'r>; 8]> {
    Ok([
        row.get_ref(0)?,
        row.get_ref(1)?,
        row.get_ref(2)?,
        row.get_ref(3)?,
        row.get_ref(4)?,
        row.get_ref(5)?,
        row.get_ref(6)?,
        row.get_ref(7)?,
    ])
}

pub(crate) fn hex_into(hash: &Hash, out: &mut [u8; 64]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in hash.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

/// A hash from its 64 hex digits (either case); None for anything else.
pub fn parse_hex(text: &[u8]) -> Option<Hash> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut hash = [0u8; 32];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        hash[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(hash)
}

/// Adds [`HASH_FUNCTION`] (with and without its form argument) and
/// [`COMMITMENT_FUNCTION`] to the connection. Innocuous and deterministic:
/// the triggers call them, also under `PRAGMA trusted_schema=OFF`.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_INNOCUOUS
        | FunctionFlags::SQLITE_DETERMINISTIC;
    let fields = 1 + HASHED_COLUMNS.len() as i32;
    for arguments in [fields, fields + 1] {
        conn.create_scalar_function(HASH_FUNCTION, arguments, flags, |ctx| {
            sql_event_hash(ctx).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
        })?;
    }
    conn.create_scalar_function(COMMITMENT_FUNCTION, 1, flags, |ctx| {
        detail_commitment(ctx.get_raw(0))
            .map(|h| hex(&h))
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
    })
}

// consent_event_hash(prev_hash, id, customer_id, request_id, from_status, to_status, actor, detail, at [, form])
fn sql_event_hash(ctx: &Context<'_>) -> std::result::Result<String, HashError> {
    let form = match ctx.len() {
        n if n == 1 + HASHED_COLUMNS.len() => Form::V1,
        n if n == 2 + HASHED_COLUMNS.len() => {
            Form::of_column(ctx.get_raw(n - 1)).ok_or(HashError::UnknownForm)?
        }
        n => {
            return Err(HashError::WrongFields {
                got: n.saturating_sub(1),
            })
        }
    };
    let previous = match ctx.get_raw(0) {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(parse_hex(t).ok_or(HashError::MalformedPrevious)?),
        _ => return Err(HashError::MalformedPrevious),
    };
    let fields: [ValueRef<'_>; 8] = std::array::from_fn(|i| ctx.get_raw(i + 1));
    match form {
        Form::V1 => event_hash(previous.as_ref(), &fields),
        Form::V2 => event_hash_v2(previous.as_ref(), &fields),
    }
    .map(|h| hex(&h))
}

const VERIFY: &str = "consent_verify_log";

// consent_verify_log()
pub(crate) fn sql_verify_log(_: &Args<'_>, conn: &Connection, state: &ConnState) -> Result<Value> {
    // A clear "run consent_init first" rather than "no such table".
    state.setup(conn, VERIFY)?;
    Ok(Value::Text(match verify(conn).in_function(VERIFY)? {
        Verdict::Ok => "ok".to_owned(),
        Verdict::Broken(problem) => problem,
    }))
}

/// The end of the chain, to be recorded outside the database: a log
/// rebuilt from scratch verifies, but its head differs from the recorded
/// one (or the recorded hash is no longer at its row, see [`hash_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// How many event rows there are.
    pub count: i64,
    /// The highest id, 0 when there are none.
    pub last_id: i64,
    /// The hash of that row (None when there are none, or it has none).
    pub hash: Option<String>,
}

/// The chain's head now, read in one statement.
pub fn head(conn: &Connection) -> rusqlite::Result<Head> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM main.consent_event), \
                (SELECT max(id) FROM main.consent_event), \
                (SELECT hash FROM main.consent_event ORDER BY id DESC LIMIT 1)",
        [],
        |r| {
            Ok(Head {
                count: r.get(0)?,
                last_id: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                hash: r.get(2)?,
            })
        },
    )
}

/// The stored hash of event row `id`; None when there is no such row (or
/// it has no hash). A head recorded earlier must still be found here.
pub fn hash_at(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT hash FROM main.consent_event WHERE id = ?1",
            [id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// How many rows [`seal_existing`] reads at a time.
const SEAL_BATCH: i64 = 10_000;

/// Seals the rows a database had before the chain (migration 3): computes
/// every row's hash in id order, from the first. Runs inside the
/// migration's savepoint, so a failure leaves no half-sealed chain.
///
/// `consent_event` refuses every UPDATE (the trigger
/// `consent_event_no_update`, also inside the guard). Sealing is the one
/// update there will ever be, so this drops that trigger and creates it
/// again from its own stored SQL afterwards, rather than weakening it for
/// all time.
pub(crate) fn seal_existing(conn: &Connection) -> rusqlite::Result<()> {
    let no_update: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_master WHERE type = 'trigger' AND name = 'consent_event_no_update'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if no_update.is_some() {
        conn.execute_batch("DROP TRIGGER main.consent_event_no_update")?;
    }
    let mut read = conn.prepare(
        "SELECT id, customer_id, request_id, from_status, to_status, actor, detail, at \
         FROM main.consent_event WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut write = conn.prepare("UPDATE main.consent_event SET hash = ?1 WHERE id = ?2")?;
    let mut previous: Option<Hash> = None;
    let mut after = i64::MIN;
    loop {
        // Read a batch, then write it: no row is updated under a cursor
        // that is reading the same table.
        let mut sealed: Vec<(i64, Hash)> = Vec::new();
        let mut rows = read.query(params![after, SEAL_BATCH])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let fields = event_fields(row)?;
            let hash = event_hash(previous.as_ref(), &fields)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
            previous = Some(hash);
            sealed.push((id, hash));
        }
        drop(rows);
        let Some(&(last, _)) = sealed.last() else {
            break;
        };
        for (id, hash) in &sealed {
            write.execute(params![hex(hash), id])?;
        }
        after = last;
    }
    drop((read, write));
    if let Some(sql) = no_update {
        conn.execute_batch(&sql)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_is_as_documented() {
        // Built by hand from the module's description: any change to the
        // encoding changes every hash ever stored, so it must be deliberate.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"consent-event-v1\0");
        bytes.extend_from_slice(&[0u8; 32]);
        bytes.push(1);
        bytes.extend_from_slice(&7i64.to_be_bytes());
        bytes.push(3);
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(b"K1");
        bytes.push(1);
        bytes.extend_from_slice(&3i64.to_be_bytes());
        for word in ["missing", "queued", "consent_queue"] {
            bytes.push(3);
            bytes.extend_from_slice(&(word.len() as u32).to_be_bytes());
            bytes.extend_from_slice(word.as_bytes());
        }
        bytes.push(0);
        bytes.push(2);
        bytes.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        let expected: Hash = Sha256::digest(&bytes).into();
        let fields = [
            ValueRef::Integer(7),
            ValueRef::Text(b"K1"),
            ValueRef::Integer(3),
            ValueRef::Text(b"missing"),
            ValueRef::Text(b"queued"),
            ValueRef::Text(b"consent_queue"),
            ValueRef::Null,
            ValueRef::Real(1.5),
        ];
        assert_eq!(event_hash(None, &fields).expect("hash"), expected);

        // The previous hash is chained in as raw bytes; blobs and text of
        // the same bytes differ.
        let previous = [0xabu8; 32];
        let mut chained = bytes.clone();
        chained[DOMAIN.len()..DOMAIN.len() + 32].copy_from_slice(&previous);
        let expected: Hash = Sha256::digest(&chained).into();
        assert_eq!(
            event_hash(Some(&previous), &fields).expect("hash"),
            expected
        );
        let mut as_blob = fields;
        as_blob[1] = ValueRef::Blob(b"K1");
        assert_ne!(
            event_hash(None, &as_blob).expect("hash"),
            event_hash(None, &fields).expect("hash")
        );
    }

    #[test]
    fn the_canonical_form_v2_is_as_documented() {
        // v2: its own domain, and the detail as tag 5 and the SHA-256 of
        // the detail's v1 encoding.
        let fields = [
            ValueRef::Integer(7),
            ValueRef::Text(b"K1"),
            ValueRef::Integer(3),
            ValueRef::Text(b"error"),
            ValueRef::Text(b"error"),
            ValueRef::Text(b"consent_queue"),
            ValueRef::Text(b"no contact"),
            ValueRef::Text(b"2026-01-01T00:00:00Z"),
        ];
        let mut detail = vec![3u8];
        detail.extend_from_slice(&10u32.to_be_bytes());
        detail.extend_from_slice(b"no contact");
        let commitment: Hash = Sha256::digest(&detail).into();
        assert_eq!(
            detail_commitment(fields[6]).expect("commitment"),
            commitment
        );
        let previous = [0x11u8; 32];
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"consent-event-v2\0");
        bytes.extend_from_slice(&previous);
        bytes.push(1);
        bytes.extend_from_slice(&7i64.to_be_bytes());
        bytes.push(3);
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(b"K1");
        bytes.push(1);
        bytes.extend_from_slice(&3i64.to_be_bytes());
        for word in ["error", "error", "consent_queue"] {
            bytes.push(3);
            bytes.extend_from_slice(&(word.len() as u32).to_be_bytes());
            bytes.extend_from_slice(word.as_bytes());
        }
        bytes.push(5);
        bytes.extend_from_slice(&commitment);
        bytes.push(3);
        bytes.extend_from_slice(&20u32.to_be_bytes());
        bytes.extend_from_slice(b"2026-01-01T00:00:00Z");
        let expected: Hash = Sha256::digest(&bytes).into();
        let v2 = event_hash_v2(Some(&previous), &fields).expect("hash");
        assert_eq!(v2, expected);
        // Erased: the kept commitment stands for the detail, whatever the
        // detail column holds now.
        let mut erased = fields;
        erased[6] = ValueRef::Null;
        assert_eq!(
            event_hash_v2_committed(Some(&previous), &erased, &commitment).expect("hash"),
            expected
        );
        // The forms differ, and so do a NULL detail and an empty one.
        assert_ne!(event_hash(Some(&previous), &fields).expect("hash"), v2);
        let mut empty = fields;
        empty[6] = ValueRef::Text(b"");
        assert_ne!(
            event_hash_v2(None, &erased).expect("hash"),
            event_hash_v2(None, &empty).expect("hash")
        );
        // The SQL functions say the same.
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let (sql_v2, sql_commitment): (String, String) = conn
            .query_row(
                "SELECT consent_event_hash(?1, 7, 'K1', 3, 'error', 'error', 'consent_queue', \
                   'no contact', '2026-01-01T00:00:00Z', 2), \
                   consent_event_detail_sha256('no contact')",
                [hex(&previous)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("hash");
        assert_eq!(sql_v2, hex(&expected));
        assert_eq!(sql_commitment, hex(&commitment));
        let e = conn
            .query_row(
                "SELECT consent_event_hash(NULL, 1, 1, 1, 'a', 'b', 'c', NULL, 'd', 3)",
                [],
                |r| r.get::<_, String>(0),
            )
            .expect_err("an unknown form");
        assert!(e.to_string().contains("form must be 1 or 2"), "{e}");
    }

    #[test]
    fn hex_round_trips_and_refuses_anything_else() {
        let hash: Hash = std::array::from_fn(|i| i as u8 * 7);
        let text = hex(&hash);
        assert_eq!(text.len(), 64);
        assert_eq!(parse_hex(text.as_bytes()), Some(hash));
        assert_eq!(parse_hex(text.to_uppercase().as_bytes()), Some(hash));
        assert_eq!(parse_hex(&text.as_bytes()[..62]), None);
        assert_eq!(parse_hex(text.replace('0', "g").as_bytes()), None);
        assert_eq!(parse_hex("é".repeat(32).as_bytes()), None);
    }

    #[test]
    fn the_sql_function_matches_the_rust_one() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let first: String = conn
            .query_row(
                "SELECT consent_event_hash(NULL, 1, 'K1', 1, 'missing', 'queued', 'consent_queue', NULL, '2026-01-01T00:00:00Z')",
                [],
                |r| r.get(0),
            )
            .expect("hash");
        let fields = [
            ValueRef::Integer(1),
            ValueRef::Text(b"K1"),
            ValueRef::Integer(1),
            ValueRef::Text(b"missing"),
            ValueRef::Text(b"queued"),
            ValueRef::Text(b"consent_queue"),
            ValueRef::Null,
            ValueRef::Text(b"2026-01-01T00:00:00Z"),
        ];
        assert_eq!(first, hex(&event_hash(None, &fields).expect("hash")));
        let e = conn
            .query_row(
                "SELECT consent_event_hash('not a hash', 1, 1, 1, 'a', 'b', 'c', NULL, 'd')",
                [],
                |r| r.get::<_, String>(0),
            )
            .expect_err("a malformed previous hash");
        assert!(e.to_string().contains("not 64 hex digits"), "{e}");
    }
}
