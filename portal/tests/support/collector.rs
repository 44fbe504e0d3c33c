//! The collector in this process, serving on a thread of its own over real
//! HTTP until dropped.

use consent_portal::collector::{self, CollectorApp};

pub struct RunningCollector {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningCollector {
    /// Serves `app` on `listener` (already bound, so the caller knows the
    /// address before the configuration is written).
    pub fn start(app: CollectorApp, listener: std::net::TcpListener) -> RunningCollector {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
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
