//! consent-portal: the companion program of the consent extension. It sets
//! up a billing database, renders the signed static consent pages, serves
//! them and collects the customers' decisions, and runs "update consent"
//! (collect, expire, render, send by e-mail or SMS). `report` writes the
//! owner's one-page summary. `demo` shows the whole
//! loop on a sample register; `walkthrough` shows the SQL behind it.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "consent-portal",
    version,
    about = "GDPR consent for legacy billing databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole loop on a sample register, with no setup: queue, send (to
    /// files), serve the pages and the collector, and keep syncing.
    Demo(cmd::demo::Args),
    /// Set up consent in a billing database: run consent_init, write a
    /// commented consent.toml next to it and make the signing key pair.
    Init(cmd::init::Args),
    /// Write the static consent pages for every pending request.
    Render(cmd::render::Args),
    /// Write a one-page HTML report for the business owner: customers per
    /// status, requests per week, approval rate per channel, customers in
    /// error.
    Report(cmd::report::Args),
    /// Serve the site folder and collect the customers' decisions (the
    /// collector), until Ctrl-C.
    Serve(cmd::serve::Args),
    /// Update consent: collect and apply decisions, expire, render, send.
    Sync(cmd::sync::Args),
    /// Counts per status with the register's labels, and the customers in
    /// error with the reason.
    Status(cmd::status::Args),
    /// Check that the consent log is intact and still holds every head
    /// sync recorded outside the database; exits non-zero if not.
    Verify(cmd::verify::Args),
    /// Write every customer's consent record (JSON): one file each into a
    /// folder, or JSON Lines on stdout.
    Export(cmd::export::Args),
    /// Show one customer's consent record: what they were asked, when and
    /// how they answered, the exact text, the evidence and the events.
    Show(cmd::show::Args),
    /// Walk a sample register through every consent status, printing each
    /// SQL statement and its result.
    Walkthrough(cmd::walkthrough::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => cmd::demo::run(&args),
        Command::Init(args) => cmd::init::run(&args),
        Command::Render(args) => cmd::render::run(&args),
        Command::Report(args) => cmd::report::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Status(args) => cmd::status::run(&args),
        Command::Sync(args) => cmd::sync::run(&args),
        Command::Verify(args) => cmd::verify::run(&args),
        Command::Export(args) => cmd::export::run(&args),
        Command::Show(args) => cmd::show::run(&args),
        Command::Walkthrough(args) => cmd::walkthrough::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
