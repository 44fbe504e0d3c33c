//! Connections that go quiet, or nearly quiet, are closed: a client that
//! stops sending a body, or stops reading an answer, would otherwise hold
//! its connection (and a file descriptor and a place under the connection
//! cap) for as long as it likes. The header phase has an absolute deadline
//! besides (see `connections`); this covers every phase.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// A TCP listener whose connections close after `idle` without traffic.
pub struct IdleTimeoutListener {
    inner: TcpListener,
    idle: Duration,
}

impl IdleTimeoutListener {
    pub fn new(inner: TcpListener, idle: Duration) -> IdleTimeoutListener {
        IdleTimeoutListener { inner, idle }
    }
}

impl Listener for IdleTimeoutListener {
    type Io = IdleTimeout;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (IdleTimeout, SocketAddr) {
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        (IdleTimeout::new(stream, self.idle), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Bytes a client must send within each idle period for its reads to keep
/// the connection open: a browser's whole request arrives in one or two
/// reads of several hundred bytes; a client dribbling a header a byte at a
/// time never gets there.
const MIN_READ_PROGRESS: usize = 256;

/// A stream that fails with `TimedOut` when it has gone `idle` without
/// progress: a write, or [`MIN_READ_PROGRESS`] bytes read.
pub struct IdleTimeout {
    stream: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    /// Bytes read since the deadline was last moved.
    read_since_progress: usize,
}

impl IdleTimeout {
    fn new(stream: TcpStream, idle: Duration) -> IdleTimeout {
        IdleTimeout {
            stream,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            read_since_progress: 0,
        }
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    fn progress(&mut self) {
        let idle = self.idle;
        self.read_since_progress = 0;
        self.deadline.as_mut().reset(Instant::now() + idle);
    }

    /// Counts bytes read; enough of them is progress.
    fn read_some(&mut self, bytes: usize) {
        self.read_since_progress += bytes;
        if bytes == 0 || self.read_since_progress >= MIN_READ_PROGRESS {
            self.progress();
        }
    }

    /// Turns a pending operation into an error once the deadline passed;
    /// `done` says what a finished one counts for.
    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
        done: impl FnOnce(&mut Self, &T),
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(Ok(value)) => {
                done(self, &value);
                Poll::Ready(Ok(value))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if self.deadline.is_elapsed() => Poll::Ready(Err(timed_out())),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(timed_out())),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

impl AsyncRead for IdleTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        this.check(cx, poll, |this, ()| this.read_some(read))
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.check(cx, poll, |this, _| this.progress())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_flush(cx);
        this.check(cx, poll, |this, ()| this.progress())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.check(cx, poll, |this, _| this.progress())
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The server side of a loopback connection, wrapped; and the client.
    async fn pair(idle: Duration) -> (IdleTimeout, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        (IdleTimeout::new(server, idle), client)
    }

    /// Reads until the stream fails or ends; returns the error kind.
    async fn read_until_closed(mut server: IdleTimeout) -> Option<io::ErrorKind> {
        let mut buf = [0u8; 64];
        loop {
            match server.read(&mut buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(e.kind()),
            }
        }
    }

    #[tokio::test]
    async fn a_client_dribbling_bytes_is_closed_after_the_idle_time() {
        let (server, mut client) = pair(Duration::from_millis(300)).await;
        let reader = tokio::spawn(read_until_closed(server));
        let started = Instant::now();
        // A byte every 20 ms: never quiet for long, never much.
        while !reader.is_finished() && started.elapsed() < Duration::from_secs(3) {
            let _ = client.write_all(b"a").await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let closed = reader.await.expect("reader");
        assert_eq!(closed, Some(io::ErrorKind::TimedOut));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_client_sending_requests_keeps_the_connection() {
        let (server, mut client) = pair(Duration::from_millis(300)).await;
        let reader = tokio::spawn(read_until_closed(server));
        let request = [b'x'; 600];
        for _ in 0..10 {
            client.write_all(&request).await.expect("write");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!reader.is_finished(), "closed while requests kept coming");
        drop(client);
        assert_eq!(reader.await.expect("reader"), None);
    }
}
