//! The test kit: what the tests and benchmarks of `consent-extension` and
//! `consent-portal` share, written once.
//!
//! | module | what it is for |
//! |---|---|
//! | [`scratch`] | a scratch folder per test, and the repository's root |
//! | [`skip`] | a test that cannot run says so where a person sees it, and is listed; under `CI=true` it fails (except a check listed as not tested here: the Rust target for Windows) |
//! | [`tools`] | finding the real tools the tests drive (sqlite3, Debian's python3, a C compiler, aiosmtpd, Chromium, the HTML checker, cargo fuzz, litestream, the ODBC, PHP and JDBC drivers, MinGW, Wine) |
//! | [`shim`] | building the real `libconsent.so` (and `consent.dll` for Windows), once per test program |
//! | [`host`] | running a program with a time limit; sqlite3 scripts of checks |
//! | [`sample`] | the sample register and the consent set-up on it |
//! | [`history`] | a register with weeks of consent history, for the owner's report |
//! | [`sql`] | one value, one failure, all rows or a whole table of a query |
//! | [`rng`] | a repeatable random number generator |
//!
//! With the `portal` feature (the portal's tests and benches), also:
//!
//! | module | what it is for |
//! |---|---|
//! | [`press`] | pressing a consent page's button: a form POST to the collector |
//! | [`collector`] | the collector serving on a thread of this process |
//! | [`gateway`] | a stand-in SMS gateway that records posts and answers as scripted |
//! | [`smtp`] | the real SMTP server (aiosmtpd) and what it received |
//! | [`site`] | a rendered site of the sample register |
//! | [`world`] | a deployment in this process and one `sync` run at a time; the transports' `consent.toml` sections |
//! | [`billing`] | a register on disk for the real `consent-portal` program |
//! | [`browser`] | checking pages in headless Chromium with axe-core |
//!
//! Only integration tests and benches use the kit; unit tests inside `src/`
//! never do (they would see a second copy of the crate under test).

pub mod history;
pub mod host;
pub mod rng;
pub mod sample;
pub mod scratch;
pub mod shim;
pub mod skip;
pub mod sql;
pub mod tools;

#[cfg(feature = "portal")]
pub mod billing;
#[cfg(feature = "portal")]
pub mod browser;
#[cfg(feature = "portal")]
pub mod collector;
#[cfg(feature = "portal")]
pub mod gateway;
#[cfg(feature = "portal")]
pub mod press;
#[cfg(feature = "portal")]
pub mod site;
#[cfg(feature = "portal")]
pub mod smtp;
#[cfg(feature = "portal")]
pub mod world;

pub use scratch::{repo_root, Scratch};

/// The number in the environment variable `name` (a seed, a count, a
/// length of time), or `default` when it is not set or not a number.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}
pub use skip::{not_tested_here, skip};
pub use tools::{require, Tool};
