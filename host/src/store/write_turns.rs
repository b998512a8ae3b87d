//! First come, first served turns at SQLite's write lock, within this process.
//!
//! SQLite gives its write lock to whichever connection requests it while it is free, and
//! a connection that finds it taken sleeps for growing intervals, up to 100 ms, before it
//! tries again. A run's writer frees the lock for microseconds between two commit groups
//! and takes it again at once, so an API request that writes, such as a cancel, could
//! wait until the run ended. Taking a turn here first, for every write transaction and
//! every statement that writes on its own, makes it wait for one group at most.

use std::cell::Cell;
use std::sync::{Condvar, Mutex, MutexGuard};

thread_local! {
    /// Whether this thread has a turn, so that a write inside a write transaction
    /// does not queue behind the transaction it belongs to.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

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

    /// Waits for the caller's turn, which lasts until the returned guard is dropped. A
    /// thread that holds a turn already gets an empty guard at once.
    pub fn take(&self) -> Turn<'_> {
        if HOLDING.get() {
            return Turn { turns: None };
        }
        let mut queue = self.lock();
        let ticket = queue.next;
        queue.next += 1;
        while queue.serving != ticket {
            queue = self.changed.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        HOLDING.set(true);
        Turn { turns: Some(self) }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue's two counters stay consistent whatever panicked while it was locked.
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A turn at the write lock; dropping it, on unwinding too, gives the next caller its turn.
pub struct Turn<'a> {
    /// `None` for the guard of a thread that held a turn already.
    turns: Option<&'a WriteTurns>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(turns) = self.turns {
            HOLDING.set(false);
            turns.lock().serving += 1;
            turns.changed.notify_all();
        }
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
            let (caller_turns, order) = (turns.clone(), order.clone());
            waiting.push(std::thread::spawn(move || {
                let _turn = caller_turns.take();
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

    #[test]
    fn holder_takes_nested_turn_at_once() {
        let turns = WriteTurns::new();
        let outer = turns.take();

        let inner = turns.take();
        drop(inner);
        drop(outer);

        // Both guards are gone, so the next turn is free at once.
        drop(turns.take());
        assert_eq!(turns.lock().serving, 2);
    }
}
