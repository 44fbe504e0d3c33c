//! The sync pipeline end to end, in one test program: in this process
//! (`sync`, `hostile_input`: a register, the collector over real HTTP, sync
//! runs at a set clock) and through the real `consent-portal` program
//! (`faults`, `init`, `records` (`export`, `show`), `walkthrough`, `report`
//! (also in process), `pdo_program` (beside a PHP program on PDO), and the
//! `sync_throughput` benchmark, ignored unless asked for).
//!
//! One program instead of six: each linked the whole portal. Its tests run
//! in parallel threads, as they did in their own programs. None changes
//! what the process shares: no environment variable or current folder is
//! set (a child gets its environment on its own `Command`), every test has
//! its own scratch folder, ports and servers. The tests that load the
//! machine on purpose or measure time closely stay in programs of their
//! own: `crash`, `billing_app_concurrency`, `collector_stress`, `fuzz`.

mod batches;
mod commands;
mod evidence;
mod faults;
mod hostile_input;
mod init;
mod language;
mod pdo_program;
mod receipts;
mod records;
mod report;
mod sync;
mod sync_throughput;
mod verify;
mod walkthrough;
