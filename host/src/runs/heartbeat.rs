//! Keeps a claimed run's lease alive while its worker processes it, so that a chunk
//! that takes longer than the lease (a slow importer, a busy database) does not let
//! another node take the run over from a worker that is still alive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store::{Store, runs};

/// A thread that renews one run's lease every third of the lease until it is dropped.
pub struct Heartbeat {
    /// Dropping the sender wakes the thread and ends it.
    stop: Option<mpsc::Sender<()>>,
    lost: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    pub fn start(store: Store, run_id: i64, owner: String, lease: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let lost = Arc::new(AtomicBool::new(false));
        let interval = (lease / 3).max(Duration::from_millis(100));
        let thread = {
            let lost = lost.clone();
            std::thread::Builder::new()
                .name(format!("lease-{run_id}"))
                .spawn(move || {
                    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                        let renewed = store
                            .connection()
                            .and_then(|mut connection| runs::renew_lease(&mut connection, run_id, &owner, lease));
                        match renewed {
                            Ok(true) => {}
                            Ok(false) => {
                                lost.store(true, Ordering::SeqCst);
                                tracing::warn!(run_id, owner, "lease lost: another node took the run over");
                                break;
                            }
                            // The next beat tries again; the lease outlasts two missed
                            // beats.
                            Err(error) => tracing::warn!(run_id, owner, %error, "renewing the run's lease failed"),
                        }
                    }
                })
                .ok()
        };
        if thread.is_none() {
            tracing::error!(run_id, "cannot start the lease heartbeat thread; the lease is renewed only per chunk");
        }
        Self { stop: Some(stop), lost, thread }
    }

    /// Whether the heartbeat found the lease held by another node.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
