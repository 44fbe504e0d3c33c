//! The collector and the decision tokens it checks, in one test program:
//! `collector` runs the collector in this process over real HTTP (storage,
//! refusals, the decision feed, the static site, the limits); `token`
//! tests the tokens and key files themselves.
//!
//! One program instead of two; the tests run in parallel threads as they
//! did before, and none changes what the process shares (environment,
//! current folder). The collector under load and under `kill -9` is in
//! `collector_stress`, which runs one test at a time.

mod collector;
mod token;
