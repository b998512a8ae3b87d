//! First come, first served turns at SQLite's write lock, within this process.
//!
//! SQLite gives its write lock to whichever connection asks while it is free, and a
//! connection that finds it taken sleeps for growing intervals, up to 100 ms, before it
//! asks again. A run's writer frees the lock for microseconds between two commit groups
//! and takes it again at once, so an API request that writes, such as a cancel, could
//! wait until the run ended. Taking a turn here first makes it wait for one group at
//! most.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Tickets handed out and the ticket whose turn it is.
struct Queue {
    next: u64,
    serving: u64,
}

pub struct WriteTurns {
    queue: Mutex<Queue>,
    changed: Condvar,
}

/// The turns of every SQLite write transaction of the process.
pub static SQLITE_WRITE_TURNS: WriteTurns = WriteTurns::new();

impl WriteTurns {
    const fn new() -> Self {
        Self { queue: Mutex::new(Queue { next: 0, serving: 0 }), changed: Condvar::new() }
    }

    /// Waits for the caller's turn, which lasts until the returned guard is dropped.
    pub fn take(&self) -> Turn<'_> {
        let mut queue = self.lock();
        let ticket = queue.next;
        queue.next += 1;
        while queue.serving != ticket {
            queue = self.changed.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        Turn { turns: self }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue's two counters stay consistent whatever panicked while it was locked.
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A turn at the write lock; dropping it, on unwinding too, gives the next caller its turn.
pub struct Turn<'a> {
    turns: &'a WriteTurns,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.turns.lock().serving += 1;
        self.turns.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn turns_follow_arrival_order() {
        let turns = Arc::new(WriteTurns::new());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = turns.take();
        let mut waiting = Vec::new();
        for caller in 0..3 {
            let (turns, order) = (turns.clone(), order.clone());
            waiting.push(std::thread::spawn(move || {
                let _turn = turns.take();
                order.lock().unwrap().push(caller);
            }));
            // Each caller takes its ticket before the next one starts.
            while turns.lock().next != caller + 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        drop(first);
        for thread in waiting {
            thread.join().unwrap();
        }

        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    }
}
