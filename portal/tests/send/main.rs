//! Sending, in one test program: `send_email` against a real SMTP server
//! (aiosmtpd) and `send_sms` against the test kit's SMS gateway stand-in.
//!
//! One program instead of two. Its tests run in parallel threads, as they
//! did in their own programs (two at a time on a two-core machine), each
//! with its own server on its own port; none changes what the process
//! shares. The timing bounds they assert (a timeout within a few seconds)
//! hold with one other test beside them, as before.

mod send_email;
mod send_sms;

use consent_extension::Language;
use consent_portal::send::{ErrorClass, SendError};

/// `e` is of `class`, and its reason reads `en` in English (what it
/// displays) and `sv` in Swedish.
fn assert_reason(e: &SendError, class: ErrorClass, en: &str, sv: &str) {
    assert_eq!(e.class(), class, "{e}");
    assert_eq!(e.to_string(), en);
    assert_eq!(e.reason(Language::Sv), sv);
}
