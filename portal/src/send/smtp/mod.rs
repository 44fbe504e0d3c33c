//! SMTP for a whole run: `concurrency` connections, each opened once and
//! reused for message after message from a shared queue, on a small tokio
//! runtime of its own while the caller records results on its own thread.
//! A connection sends its next message only once the caller has recorded
//! its last one. What one connection says to the server is in [`session`].

mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::Rset;
use lettre::Message;
use tokio::sync::mpsc::error::TrySendError;

use super::{Channel, ErrorClass, Outcomes, Problem, SendError};
use session::{classify, connect, transact, After, Failure};

pub(super) use session::Target;

/// Connection attempts in a row after which a worker gives up; the others
/// carry on, and when none is left the remaining messages fail with the
/// last reason.
const MAX_CONNECT_ATTEMPTS: u32 = 2;
/// The pause before connecting again, times the attempt number.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);
/// Messages queued ahead of the connections, per connection.
const QUEUE_PER_CONNECTION: usize = 4;

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
        let outcome =
            tokio::time::timeout(target.timeout, transact(conn, &job.envelope, &job.bytes)).await;
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
