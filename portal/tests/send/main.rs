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
