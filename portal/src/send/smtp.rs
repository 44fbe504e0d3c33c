//! SMTP for a whole run: `concurrency` connections, each opened once and
//! reused for message after message from a shared queue, on a small tokio
//! runtime of its own while the caller records results on its own thread.
//!
//! lettre speaks SMTP (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA); we only
//! open the TCP connection, because lettre never sets TCP_NODELAY and
//! writes a message's body and its final `.` separately, which costs a
//! delayed ACK (~40 ms) per message. The transaction is lettre's commands
//! one by one rather than `send`, to know which step a refusal came from:
//! a refused sender stops the run (every message would fail alike), a
//! refused recipient fails that message only and the connection goes on
//! after RSET.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials as Login, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::Error as SmtpError;
use lettre::Message;
use tokio::net::TcpStream;
use tokio::sync::mpsc::error::TrySendError;

use super::{server_text, Channel, Credentials, ErrorClass, Outcomes, Problem, SendError};
use crate::config::Tls;

/// Connection attempts in a row after which a worker gives up; the others
/// carry on, and when none is left the remaining messages fail with the
/// last reason.
const MAX_CONNECT_ATTEMPTS: u32 = 2;
/// The pause before connecting again, times the attempt number.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);
/// Messages queued ahead of the connections, per connection.
const QUEUE_PER_CONNECTION: usize = 4;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
    pub concurrency: usize,
    /// For each of: connecting (through TLS and login), one message, RSET.
    pub timeout: Duration,
}

impl Target {
    fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn error(&self, class: ErrorClass, problem: Problem) -> SendError {
        let problem = match (&self.credentials, problem) {
            (Some(c), Problem::LoginRefused { status, text }) => Problem::LoginRefused {
                status,
                text: c.scrub(&text),
            },
            (_, problem) => problem,
        };
        SendError::new(Channel::Email, class, problem)
    }

    fn timed_out(&self) -> SendError {
        self.error(
            ErrorClass::Transient,
            Problem::Timeout {
                seconds: self.timeout.as_secs(),
            },
        )
    }
}

/// One message on its way.
struct Job {
    id: i64,
    envelope: Envelope,
    bytes: Vec<u8>,
    /// Already sent again once after its connection broke.
    retried: bool,
}

/// A message's outcome, and where to say that it has been recorded.
struct Outcome {
    id: i64,
    result: Result<(), SendError>,
    recorded: Option<tokio::sync::oneshot::Sender<()>>,
}

/// What the workers share.
struct Shared {
    target: Target,
    queue: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Job>>,
    /// Messages a worker took but could not send for want of a connection.
    returned: Mutex<Vec<Job>>,
    /// Set when nothing can be sent (a setup error): the rest fail at once.
    abandoned: AtomicBool,
    /// Why the last worker stopped, for whatever is left then.
    last_error: Mutex<Option<SendError>>,
    results: mpsc::Sender<Outcome>,
    connections: AtomicUsize,
}

impl Shared {
    async fn next(&self) -> Option<Job> {
        if let Some(job) = self.take_returned() {
            return Some(job);
        }
        let received = self.queue.lock().await.recv().await;
        received.or_else(|| self.take_returned())
    }

    fn take_returned(&self) -> Option<Job> {
        self.returned.lock().ok()?.pop()
    }

    fn give_back(&self, job: Job) {
        match self.returned.lock() {
            Ok(mut returned) => returned.push(job),
            // Unreachable without a panic elsewhere; the caller then reports
            // the message as not sent.
            Err(_) => drop(job),
        }
    }

    /// Reports a message the caller need not confirm (never sent).
    fn report(&self, id: i64, result: Result<(), SendError>) {
        // The caller stops listening only after every worker has ended.
        let _ = self.results.send(Outcome {
            id,
            result,
            recorded: None,
        });
    }

    /// Reports a message this connection tried, and waits until the caller
    /// has recorded it: the connection's next message goes out only then,
    /// so a crash leaves at most one sent-but-unrecorded message per
    /// connection.
    async fn record(&self, id: i64, result: Result<(), SendError>) {
        let (recorded, wait) = tokio::sync::oneshot::channel();
        let sent = self.results.send(Outcome {
            id,
            result,
            recorded: Some(recorded),
        });
        if sent.is_ok() {
            // An error means the caller is gone: nothing to wait for.
            let _ = wait.await;
        }
    }

    fn remember(&self, error: &SendError) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error.clone());
        }
    }

    fn abandon(&self, error: &SendError) {
        self.remember(error);
        self.abandoned.store(true, Ordering::SeqCst);
    }

    fn abandoned_with(&self) -> Option<SendError> {
        if self.abandoned.load(Ordering::SeqCst) {
            self.last_error.lock().ok()?.clone()
        } else {
            None
        }
    }
}

/// Sends every built message; reports each through `report` on this
/// thread. Returns the number of connections opened.
pub(super) fn send_all(
    target: &Target,
    messages: impl Iterator<Item = (i64, Result<Message, SendError>)>,
    report: &mut dyn Outcomes,
) -> usize {
    let not_sent = |detail: String| {
        SendError::new(
            Channel::Email,
            ErrorClass::Transient,
            Problem::Other { detail },
        )
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let error = not_sent(format!("cannot start the sender: {e}"));
            for (id, built) in messages {
                report.outcome(id, built.and(Err(error.clone())));
            }
            report.commit();
            return 0;
        }
    };
    let (work, queue) = tokio::sync::mpsc::channel(target.concurrency * QUEUE_PER_CONNECTION);
    let (results, outcomes) = mpsc::channel::<Outcome>();
    let shared = Arc::new(Shared {
        target: target.clone(),
        queue: tokio::sync::Mutex::new(queue),
        returned: Mutex::new(Vec::new()),
        abandoned: AtomicBool::new(false),
        last_error: Mutex::new(None),
        results,
        connections: AtomicUsize::new(0),
    });

    let mut recorder = Recorder {
        outcomes: &outcomes,
        report,
        pending: HashMap::new(),
    };
    let connections = std::thread::scope(|scope| {
        let runner = scope.spawn(|| runtime.block_on(run(shared)));
        'feed: for (id, built) in messages {
            recorder.record_ready(None);
            let message = match built {
                Ok(message) => message,
                Err(error) => {
                    recorder.report.outcome(id, Err(error));
                    continue;
                }
            };
            let mut job = Job {
                id,
                envelope: message.envelope().clone(),
                bytes: message.formatted(),
                retried: false,
            };
            *recorder.pending.entry(id).or_default() += 1;
            // While the queue is full, the connections wait for their
            // outcomes to be recorded: record them, then offer the job again.
            loop {
                match work.try_send(job) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        job = back;
                        recorder.record_ready(Some(FEED_POLL));
                    }
                    // The runner died; the message is reported below.
                    Err(TrySendError::Closed(_)) => break 'feed,
                }
            }
        }
        drop(work);
        while recorder.record_ready(Some(FEED_POLL)) {}
        runner.join().unwrap_or_default()
    });
    let Recorder {
        report, pending, ..
    } = recorder;
    for (id, count) in pending {
        for _ in 0..count {
            report.outcome(
                id,
                Err(not_sent("the sender stopped unexpectedly".to_owned())),
            );
        }
    }
    report.commit();
    connections
}

/// How long the caller waits for outcomes before offering a message to a
/// full queue again.
const FEED_POLL: Duration = Duration::from_millis(20);

/// The caller's side of the outcomes: reports them, commits them as a
/// group, then lets their connections go on.
struct Recorder<'a> {
    outcomes: &'a mpsc::Receiver<Outcome>,
    report: &'a mut dyn Outcomes,
    /// Ids handed to the workers and not reported yet (a count: ids may
    /// repeat).
    pending: HashMap<i64, usize>,
}

impl Recorder<'_> {
    /// Records every outcome that has arrived, waiting up to `wait` for the
    /// first one (not at all with `None`). Returns false once every worker
    /// has ended and nothing is left.
    fn record_ready(&mut self, wait: Option<Duration>) -> bool {
        let first = match wait {
            None => match self.outcomes.try_recv() {
                Ok(outcome) => outcome,
                Err(_) => return true,
            },
            Some(wait) => match self.outcomes.recv_timeout(wait) {
                Ok(outcome) => outcome,
                Err(mpsc::RecvTimeoutError::Timeout) => return true,
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            },
        };
        let mut waiting = Vec::new();
        for Outcome {
            id,
            result,
            recorded,
        } in std::iter::once(first).chain(self.outcomes.try_iter())
        {
            if let Some(n) = self.pending.get_mut(&id) {
                *n -= 1;
                if *n == 0 {
                    self.pending.remove(&id);
                }
            }
            self.report.outcome(id, result);
            waiting.extend(recorded);
        }
        self.report.commit();
        for connection in waiting {
            let _ = connection.send(());
        }
        true
    }
}

/// The workers, then whatever they left. Returns the connections opened.
async fn run(shared: Arc<Shared>) -> usize {
    let workers: Vec<_> = (0..shared.target.concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let error = shared
        .last_error
        .lock()
        .ok()
        .and_then(|last| last.clone())
        .unwrap_or_else(|| {
            shared.target.error(
                ErrorClass::Transient,
                Problem::Other {
                    detail: "no connection to send it on".to_owned(),
                },
            )
        });
    while let Some(job) = shared.take_returned() {
        shared.report(job.id, Err(error.clone()));
    }
    let mut queue = shared.queue.lock().await;
    while let Some(job) = queue.recv().await {
        shared.report(job.id, Err(error.clone()));
    }
    shared.connections.load(Ordering::SeqCst)
}

/// One connection's life: take a message, (re)connect when needed, send.
async fn worker(shared: Arc<Shared>) {
    let target = &shared.target;
    let mut connection: Option<(AsyncSmtpConnection, usize)> = None;
    let mut failed_attempts = 0;
    while let Some(mut job) = shared.next().await {
        if let Some(error) = shared.abandoned_with() {
            shared.report(job.id, Err(error));
            continue;
        }
        let (conn, sent) = match &mut connection {
            Some(open) => open,
            None => match connect(target).await {
                Ok(conn) => {
                    failed_attempts = 0;
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    connection.insert((conn, 0))
                }
                Err(error) if error.class() == ErrorClass::Setup => {
                    shared.abandon(&error);
                    shared.report(job.id, Err(error));
                    continue;
                }
                Err(error) => {
                    failed_attempts += 1;
                    shared.give_back(job);
                    if failed_attempts >= MAX_CONNECT_ATTEMPTS {
                        shared.remember(&error);
                        return;
                    }
                    tokio::time::sleep(RECONNECT_PAUSE * failed_attempts).await;
                    continue;
                }
            },
        };
        let outcome = tokio::time::timeout(target.timeout, transact(conn, &job)).await;
        let failure = match outcome {
            Ok(Ok(())) => {
                *sent += 1;
                shared.record(job.id, Ok(())).await;
                continue;
            }
            Ok(Err(failure)) => classify(target, &job.envelope, failure),
            Err(_elapsed) => Failure {
                error: target.timed_out(),
                after: After::Drop,
            },
        };
        let reused = *sent > 0;
        match failure.after {
            After::Keep => {}
            After::Reset => {
                let reset = tokio::time::timeout(target.timeout, conn.command(Rset)).await;
                if !matches!(reset, Ok(Ok(_))) {
                    connection = None;
                }
            }
            After::Drop => connection = None,
            After::DropAndRetry => {
                connection = None;
                // A connection kept open for a while may have been closed
                // by the server between messages: one more try on a new one.
                if reused && !job.retried {
                    job.retried = true;
                    shared.give_back(job);
                    continue;
                }
            }
        }
        if failure.error.class() == ErrorClass::Setup {
            shared.abandon(&failure.error);
        }
        shared.record(job.id, Err(failure.error)).await;
    }
    if let Some((mut conn, _)) = connection {
        let _ = tokio::time::timeout(target.timeout, conn.quit()).await;
    }
}

/// Opens a connection: TCP (TCP_NODELAY), greeting and EHLO, STARTTLS or
/// TLS as configured, login when credentials are set.
async fn connect(target: &Target) -> Result<AsyncSmtpConnection, SendError> {
    let server = target.server();
    let hello = ClientId::default();
    let timeout = target.timeout;
    let unreachable = |detail: String| {
        target.error(
            ErrorClass::Transient,
            Problem::Unreachable {
                server: server.clone(),
                detail,
            },
        )
    };
    let tls_failed = |detail: String| {
        target.error(
            ErrorClass::Setup,
            Problem::Tls {
                server: server.clone(),
                detail,
            },
        )
    };
    let tls_parameters =
        || TlsParameters::new(target.host.clone()).map_err(|e| tls_failed(e.to_string()));
    // A greeting that refuses us: 4xx is for now, 5xx until someone acts.
    let greeting_failed = |e: SmtpError| match reply(&e) {
        Some((status, text)) if e.is_transient() => {
            target.error(ErrorClass::Transient, Problem::Deferred { status, text })
        }
        Some((status, text)) => target.error(
            ErrorClass::Setup,
            Problem::Unreachable {
                server: server.clone(),
                detail: format!("{status} {text}"),
            },
        ),
        None => unreachable(e.to_string()),
    };

    let mut conn = if target.tls == Tls::Tls {
        // TLS from the first byte: lettre's own connect, as
        // `connect_with_transport` takes only a stream that is still plain.
        // It leaves TCP_NODELAY off; port 587 with STARTTLS does not.
        let connecting = AsyncSmtpConnection::connect_tokio1(
            (target.host.as_str(), target.port),
            Some(timeout),
            &hello,
            Some(tls_parameters()?),
            None,
        );
        match tokio::time::timeout(timeout, connecting).await {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) if e.is_tls() || tls_refused(&e) => return Err(tls_failed(innermost(&e))),
            Ok(Err(e)) => return Err(greeting_failed(e)),
            Ok(Ok(conn)) => conn,
        }
    } else {
        let tcp = match tokio::time::timeout(
            timeout,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Ok(Ok(tcp)) => tcp,
        };
        tcp.set_nodelay(true)
            .map_err(|e| unreachable(e.to_string()))?;
        let mut conn = match tokio::time::timeout(
            timeout,
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello),
        )
        .await
        {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) => return Err(greeting_failed(e)),
            Ok(Ok(conn)) => conn,
        };
        if target.tls == Tls::Starttls {
            if !conn.can_starttls() {
                let _ = tokio::time::timeout(timeout, conn.quit()).await;
                return Err(target.error(ErrorClass::Setup, Problem::NoStarttls { server }));
            }
            match tokio::time::timeout(timeout, conn.starttls(tls_parameters()?, &hello)).await {
                Err(_) => return Err(target.timed_out()),
                Ok(Err(e)) => {
                    return Err(match reply(&e) {
                        Some(_) => greeting_failed(e),
                        None if tls_refused(&e) => tls_failed(innermost(&e)),
                        None => unreachable(e.to_string()),
                    })
                }
                Ok(Ok(())) => {}
            }
        }
        conn
    };

    if let Some(credentials) = &target.credentials {
        let login = Login::new(credentials.username.clone(), credentials.password.clone());
        match tokio::time::timeout(
            timeout,
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &login),
        )
        .await
        {
            Err(_) => return Err(target.timed_out()),
            Ok(Err(e)) => {
                return Err(match reply(&e) {
                    Some((status, text)) if e.is_transient() => {
                        target.error(ErrorClass::Transient, Problem::Deferred { status, text })
                    }
                    Some((status, text)) => {
                        target.error(ErrorClass::Setup, Problem::LoginRefused { status, text })
                    }
                    None if e.is_client() => target.error(
                        ErrorClass::Setup,
                        Problem::Other {
                            detail: format!("login: {e}"),
                        },
                    ),
                    None => unreachable(e.to_string()),
                })
            }
            Ok(Ok(_)) => {}
        }
    }
    Ok(conn)
}

/// The step of a transaction a reply answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Mail,
    Rcpt,
    Data,
    Message,
}

enum TransactionError {
    Smtp(Step, SmtpError),
    /// The address needs SMTPUTF8, or the message 8BITMIME, and the server
    /// offers neither.
    Unsupported(&'static str),
}

/// MAIL, RCPT, DATA, the message: what lettre's `send` does, step by step.
async fn transact(conn: &mut AsyncSmtpConnection, job: &Job) -> Result<(), TransactionError> {
    let mut parameters = Vec::new();
    let ascii_addresses = job
        .envelope
        .from()
        .map_or(true, |a| AsRef::<str>::as_ref(a).is_ascii())
        && job
            .envelope
            .to()
            .iter()
            .all(|a| AsRef::<str>::as_ref(a).is_ascii());
    if !ascii_addresses {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(TransactionError::Unsupported("SMTPUTF8"));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !job.bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(TransactionError::Unsupported("8BITMIME"));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let step = |step| move |e| TransactionError::Smtp(step, e);
    conn.command(Mail::new(job.envelope.from().cloned(), parameters))
        .await
        .map_err(step(Step::Mail))?;
    for to in job.envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))
            .await
            .map_err(step(Step::Rcpt))?;
    }
    conn.command(Data).await.map_err(step(Step::Data))?;
    conn.message(&job.bytes)
        .await
        .map_err(step(Step::Message))?;
    Ok(())
}

/// What to do with the connection after a failed message.
enum After {
    /// Nothing was started: send the next message.
    Keep,
    /// A transaction is open: RSET, then the next message.
    Reset,
    /// The connection cannot be trusted: open a new one.
    Drop,
    /// The connection broke: open a new one, and try this message once
    /// more if the connection had already carried others.
    DropAndRetry,
}

struct Failure {
    error: SendError,
    after: After,
}

fn classify(target: &Target, envelope: &Envelope, failure: TransactionError) -> Failure {
    let (step, e) = match failure {
        TransactionError::Unsupported(extension) => {
            return Failure {
                error: target.error(
                    ErrorClass::Permanent,
                    Problem::Other {
                        detail: format!(
                            "the mail server does not offer {extension}, which this address needs"
                        ),
                    },
                ),
                after: After::Keep,
            }
        }
        TransactionError::Smtp(step, e) => (step, e),
    };
    let Some((status, text)) = reply(&e) else {
        // No reply: the connection broke, or lettre could not read it.
        return Failure {
            error: target.error(
                ErrorClass::Transient,
                Problem::Lost {
                    detail: e.to_string(),
                },
            ),
            after: After::DropAndRetry,
        };
    };
    // After the message itself the transaction is over either way.
    let open = step != Step::Message;
    let after = match status {
        421 => After::DropAndRetry,
        _ if open => After::Reset,
        _ => After::Keep,
    };
    let error = if e.is_transient() {
        target.error(ErrorClass::Transient, Problem::Deferred { status, text })
    } else if step == Step::Mail {
        target.error(
            ErrorClass::Setup,
            Problem::SenderRefused {
                sender: envelope.from().map(ToString::to_string).unwrap_or_default(),
                status,
                text,
            },
        )
    } else {
        target.error(ErrorClass::Permanent, Problem::Refused { status, text })
    };
    Failure { error, after }
}

/// Whether the TLS handshake itself was refused (a certificate not
/// trusted, no common protocol), as opposed to the network failing during
/// it. lettre reports both as a connection error; rustls's refusals come
/// through as `InvalidData`.
fn tls_refused(e: &SmtpError) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::InvalidData;
        }
        source = error.source();
    }
    false
}

/// The innermost cause: lettre wraps a TLS failure twice.
fn innermost(e: &SmtpError) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// The reply code and text of a 4xx or 5xx reply.
fn reply(e: &SmtpError) -> Option<(u16, String)> {
    let status = e.status()?.to_string().parse().ok()?;
    let text = std::error::Error::source(e)
        .map(|source| server_text(&source.to_string()))
        .unwrap_or_default();
    Some((status, text))
}
