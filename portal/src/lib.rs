//! consent-portal as a library: the pieces the subcommands are made of.
//! The binary (`main.rs`) is a thin command-line layer over these.

pub mod keys;
pub mod token;
