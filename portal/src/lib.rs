//! consent-portal as a library: the pieces the subcommands are made of.
//! The binary (`main.rs`) is a thin command-line layer over these.

pub mod collector;
pub mod config;
pub mod keys;
pub mod log_heads;
pub mod records;
pub mod report;
pub mod send;
pub mod site;
pub mod status;
pub mod sync;
pub mod templates;
pub mod texts;
pub mod token;
