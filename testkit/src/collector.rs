//! The collector in this process, serving over real HTTP on a thread of its
//! own until dropped.

use std::net::TcpListener;

use consent_portal::collector::{self, CollectorApp, Inbox};
use consent_portal::config::Config;
use consent_portal::keys;

/// A collector serving on its own thread and runtime; stopped when dropped.
pub struct RunningCollector {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningCollector {
    /// Serves `app` on `listener` (already bound, so that the caller knows
    /// the address before the configuration is written).
    pub fn start(app: CollectorApp, listener: TcpListener) -> RunningCollector {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime");
            runtime.block_on(async move {
                listener.set_nonblocking(true).expect("nonblocking");
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = collector::serve(listener, app, async {
                    let _ = stopped.await;
                })
                .await;
            });
        });
        RunningCollector {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The collector of `config` (its verifying keys and inbox), with the
    /// feed's `bearer` token, changed by `adjust` (limits, timeouts).
    pub fn for_config(
        config: &Config,
        listener: TcpListener,
        bearer: Option<&str>,
        adjust: impl FnOnce(&mut CollectorApp),
    ) -> RunningCollector {
        let mut app = CollectorApp::from_config(
            config,
            keys::load_verifier(&config.verifying_key_paths()).expect("the verifying keys"),
            Inbox::open(&config.resolve(&config.collector.inbox)).expect("the inbox"),
            bearer.map(str::to_owned),
        )
        .expect("the collector");
        adjust(&mut app);
        RunningCollector::start(app, listener)
    }
}

impl Drop for RunningCollector {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
