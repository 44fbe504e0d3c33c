//! The pages a customer sees, in one test program: `render` (what a page
//! shows and never shows), `rendered_pages_are_valid_html` (the Nu Html
//! Checker), `rendered_pages_in_browser` and `browser` (headless Chromium
//! with axe-core), `demo_in_browser` (the demo's link pressed in
//! Chromium), `report_in_browser` (the owner's report in Chromium) and
//! `two_origins_in_browser` (pages and collector on two origins: the press
//! lands on the thank-you page).
//!
//! One program instead of five (six with the report's check). Its tests run in parallel threads, as the
//! tests of each program did before: two at a time on a two-core machine,
//! so at most two browsers at once, as when `browser` or
//! `rendered_pages_in_browser` ran alone. None changes what the process
//! shares; screenshots go to a folder per check
//! (`target/browser-screenshots/<label>/`).

mod browser;
mod demo_in_browser;
mod render;
mod rendered_pages_are_valid_html;
mod rendered_pages_in_browser;
mod report_in_browser;
mod two_origins_in_browser;
