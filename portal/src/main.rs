//! consent-portal: the companion program of the consent extension. Today it
//! walks a sample register through every status; sending requests and
//! collecting answers come next.

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
    /// Walk a sample register through every consent status, printing each
    /// SQL statement and its result.
    Walkthrough(cmd::walkthrough::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
