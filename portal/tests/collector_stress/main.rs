//! The collector as its own process under stress, in one test program:
//! `collector_crash` kills `consent-portal serve` with SIGKILL again and
//! again while clients post; `collector_load` loads it from several client
//! threads and slow connections, and measures its memory; `connections`
//! holds it to its header deadline and its connection cap;
//! `several_collectors` runs two collectors for one `sync`, one of them
//! down for a run; `litestream_inbox` loses a collector's disk and brings
//! its inbox back from a Litestream replica.
//!
//! One test at a time: each starts a server and loads the two cores on
//! purpose, against time budgets (30 s of kills, a load bounded at 20 s, a
//! rate limit that refills by the second) and a bound on the server's
//! peak memory. Every test takes [`one_at_a_time`] first, so they run as
//! they did in programs of their own. `serve_process` is what they share:
//! the server as a child process and a raw HTTP/1.1 exchange.

use std::sync::{Mutex, MutexGuard};

mod collector_crash;
mod collector_load;
mod connections;
mod litestream_inbox;
mod serve_process;
mod several_collectors;

/// Held for the whole of a test: no other test of this program runs
/// meanwhile (a test that failed does not block the others).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
