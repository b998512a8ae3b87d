//! Stopping a server's workers. They claim no new runs, and the runs in flight stop at
//! their next chunk boundary with their leases released. The next node that looks for
//! work, or this one after a restart, resumes them from their last committed chunk.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// How often [`Shutdown::wait_for_runs`] checks whether the runs have stopped.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// The shutdown request of one process and the runs its workers are processing.
#[derive(Debug, Default)]
pub struct Shutdown {
    requested: AtomicBool,
    in_flight: Mutex<BTreeSet<i64>>,
}

impl Shutdown {
    /// Asks the workers to claim no more runs and to stop the runs they process at their
    /// next chunk boundary.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Returns the ids of the runs being processed, in ascending order.
    pub fn runs_in_flight(&self) -> Vec<i64> {
        self.lock().iter().copied().collect()
    }

    /// Records that a worker processes run `id` until the returned guard is dropped.
    pub(super) fn track(&self, id: i64) -> InFlight<'_> {
        self.lock().insert(id);
        InFlight { shutdown: self, id }
    }

    /// Waits until no run is in flight or `deadline` passes, and returns the runs still
    /// in flight.
    pub async fn wait_for_runs(&self, deadline: Instant) -> Vec<i64> {
        loop {
            let remaining = self.runs_in_flight();
            if remaining.is_empty() || Instant::now() >= deadline {
                return remaining;
            }
            tokio::time::sleep(WAIT_POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<i64>> {
        // A panic while the set is locked leaves it consistent: each operation is one
        // insert or remove.
        self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A run in flight; dropping it removes the run from [`Shutdown::runs_in_flight`], also
/// when its worker panics.
pub(super) struct InFlight<'a> {
    shutdown: &'a Shutdown,
    id: i64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.shutdown.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_in_flight_follow_guards() {
        let shutdown = Shutdown::default();
        let first = shutdown.track(7);
        let second = shutdown.track(3);
        assert_eq!(shutdown.runs_in_flight(), [3, 7]);

        drop(first);
        assert_eq!(shutdown.runs_in_flight(), [3]);
        drop(second);
        assert!(shutdown.runs_in_flight().is_empty());
    }

    #[tokio::test]
    async fn wait_ends_at_deadline_with_remaining_runs() {
        let shutdown = Shutdown::default();
        let _running = shutdown.track(1);

        let remaining = shutdown.wait_for_runs(Instant::now() + Duration::from_millis(50)).await;

        assert_eq!(remaining, [1]);
    }

    #[tokio::test]
    async fn wait_ends_when_runs_stop() {
        let shutdown = std::sync::Arc::new(Shutdown::default());
        let running = shutdown.track(1);
        let waiter = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move { shutdown.wait_for_runs(Instant::now() + Duration::from_secs(30)).await })
        };

        drop(running);

        let remaining = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert!(remaining.is_empty());
    }
}
