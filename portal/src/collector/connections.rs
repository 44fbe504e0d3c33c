//! The collector's connections: hyper's HTTP/1.1 server with a timer, at
//! most so many at once.
//!
//! axum::serve runs hyper without a timer, so hyper's header deadline never
//! fires there, and it accepts every connection it is offered. Here:
//!
//! - each request's headers have an absolute deadline (hyper's
//!   `header_read_timeout`), counted from when hyper starts reading them:
//!   a client trickling a header line now and then is closed when it
//!   passes, however steady the trickle. A kept-alive connection waiting
//!   for its next request is on the same clock, so it too is closed then;
//! - the [`IdleTimeoutListener`] still closes a connection that stops
//!   making progress in any phase (a body that stalls, an answer nobody
//!   reads);
//! - at `max_connections` open connections the collector stops accepting.
//!   New connections wait in the system's listen queue (they are not
//!   refused) and are accepted one by one as others close. As every
//!   connection's headers have a deadline and every request a timeout,
//!   a wait in the queue is bounded;
//! - on shutdown the listener is closed first. A kept-alive connection
//!   waiting for its next request closes at once; one whose request has
//!   begun (hyper counts a freshly opened one so) finishes it, so a stop
//!   waits at most a header deadline plus a request timeout.

use std::future::Future;
use std::io;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::listener::IdleTimeoutListener;

/// How connections are held to account.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub idle_timeout: Duration,
    pub header_timeout: Duration,
    pub max_connections: NonZeroUsize,
}

/// Serves `router` on the connections of `listener` until `shutdown`
/// completes, then waits for the requests in flight.
pub(super) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut listener = IdleTimeoutListener::new(listener, limits.idle_timeout);
    let open = Arc::new(Semaphore::new(limits.max_connections.get()));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        // A place for the connection first: at the cap nothing is
        // accepted, and the system queues new connections meanwhile.
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed; should it be, stop serving.
        let Ok(permit) = permit else { break };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        // Answers are small and written at once; do not wait for ACKs.
        let _ = io.get_ref().set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    // The rate limit keys on it (see server::ClientNetwork).
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // An error is the client's doing (a reset, a missed deadline);
            // there is nobody to tell, and a client address is not logged.
            let _ = connection.await;
            drop(permit);
        });
    }
    // Closed before waiting, so that queued clients are refused instead of
    // waiting for an accept that will never come.
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
