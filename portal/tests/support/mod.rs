//! Helpers shared by the integration tests (`mod support;`).

// Each test binary uses only part of the helpers.
#![allow(dead_code)]

pub mod billing;
pub mod browser;
pub mod collector;
pub mod serve_process;
pub mod site;
pub mod smtp;
