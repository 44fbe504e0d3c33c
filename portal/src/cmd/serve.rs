//! `consent-portal serve`: the collector. Serves the site folder and takes
//! the customers' decisions until Ctrl-C.

use std::path::PathBuf;

use anyhow::{Context, Result};
use consent_portal::collector::{self, CollectorApp, Inbox};
use consent_portal::config::Config;
use consent_portal::keys;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration written by `consent-portal init`.
    #[arg(long, default_value = "consent.toml")]
    config: PathBuf,
    /// The address to listen on [default: collector.listen from the
    /// configuration, 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

/// A bearer token shorter than this is easy to guess.
const SHORT_TOKEN: usize = 32;

pub fn run(args: &Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    // Public keys only: the collector never needs the signing key.
    let verifier = keys::load_verifier(&config.verifying_key_paths())?;
    let inbox = Inbox::open(&config.resolve(&config.collector.inbox))?;
    let bearer = collector::bearer_token_from_env();
    match &bearer {
        None => eprintln!(
            "note: {} is not set, so GET /decisions (how sync fetches decisions over HTTP) is \
             off; sync can still read {} directly",
            collector::TOKEN_ENV,
            inbox.path().display()
        ),
        Some(token) if token.len() < SHORT_TOKEN => eprintln!(
            "warning: {} is only {} characters long; use at least {SHORT_TOKEN} random characters",
            collector::TOKEN_ENV,
            token.len()
        ),
        Some(_) => {}
    }
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| config.collector.listen.clone());
    let app = CollectorApp::from_config(&config, verifier, inbox, bearer)?;
    let site_dir = app.site_dir.clone();

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener
            .local_addr()
            .context("cannot read the address listened on")?;
        println!("listening on http://{address}");
        println!(
            "serving {} and taking decisions at POST /decision; Ctrl-C stops",
            site_dir.display()
        );
        // Whoever started us may read the address through a pipe.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let shutdown = async {
            stop_signal().await;
            eprintln!("stopping: finishing the requests in flight");
        };
        collector::serve(listener, app, shutdown)
            .await
            .context("the server stopped")
    })
}

/// Ctrl-C, or SIGTERM (how service managers stop a program). A signal that
/// cannot be watched is never received.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
