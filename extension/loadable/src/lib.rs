//! libconsent.so: the entry point SQLite calls on `.load libconsent`.
//! Everything else lives in the `consent-extension` crate.

use std::ffi::{c_char, c_int, CString};

use rusqlite::{ffi, Connection};

/// The oldest host SQLite these bindings work with. rusqlite's loadable
/// bindings compare against their own minimum too, but only after they have
/// taken over the API table; checking first lets us say what to do.
const MIN_HOST_SQLITE: c_int = 3_014_000;

/// Entry point for `.load libconsent` / `load_extension('libconsent')`.
///
/// # Safety
/// Called by SQLite with a valid connection and API table.
#[no_mangle]
pub unsafe extern "C" fn sqlite3_consent_init(
    db: *mut ffi::sqlite3,
    pz_err_msg: *mut *mut c_char,
    p_api: *mut ffi::sqlite3_api_routines,
) -> c_int {
    // No panic may unwind into the host: catch everything.
    let outcome = std::panic::catch_unwind(|| {
        // SAFETY: SQLite hands us its API table, or null (checked inside).
        if let Some(message) = unsafe { too_old_host(p_api) } {
            // SAFETY: as above; the message pointer is SQLite's own.
            unsafe { set_error(p_api, pz_err_msg, &message) };
            return ffi::SQLITE_ERROR;
        }
        // SAFETY: the arguments are SQLite's, passed on unchanged, and the
        // host's SQLite is new enough for these bindings (checked above).
        unsafe { Connection::extension_init2(db, pz_err_msg, p_api, init) }
    });
    outcome.unwrap_or_else(|_| {
        // SAFETY: as above.
        unsafe {
            set_error(
                p_api,
                pz_err_msg,
                "libconsent: could not add its functions to this program's SQLite (internal error); please report it",
            )
        };
        ffi::SQLITE_ERROR
    })
}

fn init(conn: Connection) -> rusqlite::Result<bool> {
    consent_extension::register(&conn)?;
    // Stay loaded for the connection's lifetime.
    Ok(false)
}

/// A message when the host SQLite is older than the bindings need.
///
/// # Safety
/// `p_api` is null or SQLite's API table.
unsafe fn too_old_host(p_api: *mut ffi::sqlite3_api_routines) -> Option<String> {
    if p_api.is_null() {
        return Some("libconsent: the host passed no SQLite API table".to_owned());
    }
    // SAFETY: not null, so the host's API table; every SQLite since 3.3.13
    // fills in libversion_number, and a missing one is handled.
    let version = match unsafe { (*p_api).libversion_number } {
        Some(f) => unsafe { f() },
        None => return Some("libconsent: the host SQLite does not report its version".to_owned()),
    };
    (version < MIN_HOST_SQLITE).then(|| {
        format!(
            "libconsent needs SQLite {} or newer, but this program uses SQLite {}; \
             use a newer sqlite3 shell or program to manage consent",
            dotted(MIN_HOST_SQLITE),
            dotted(version)
        )
    })
}

fn dotted(v: c_int) -> String {
    format!("{}.{}.{}", v / 1_000_000, v / 1000 % 1000, v % 1000)
}

/// Hands an error message to the host, allocated with the host's allocator
/// as SQLite requires.
///
/// # Safety
/// `p_api` is null or SQLite's API table; `pz_err_msg` is null or where
/// SQLite reads the message from.
unsafe fn set_error(
    p_api: *mut ffi::sqlite3_api_routines,
    pz_err_msg: *mut *mut c_char,
    message: &str,
) {
    if pz_err_msg.is_null() || p_api.is_null() {
        return;
    }
    // SAFETY: not null, so the host's API table.
    let Some(malloc) = (unsafe { (*p_api).malloc }) else {
        return;
    };
    let Ok(text) = CString::new(message) else {
        return;
    };
    let bytes = text.as_bytes_with_nul();
    let Ok(len) = c_int::try_from(bytes.len()) else {
        return;
    };
    // SAFETY: the host's own allocator, asked for `len` bytes.
    let buffer = unsafe { malloc(len) }.cast::<u8>();
    if buffer.is_null() {
        return;
    }
    // SAFETY: `buffer` holds `len` bytes, as many as `bytes`; SQLite owns
    // and frees the message from here on.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer, bytes.len());
        *pz_err_msg = buffer.cast::<c_char>();
    }
}
