//! Checkpoints of a SQLite store's write-ahead log, on a thread of their own.
//!
//! A checkpoint copies the pages that commits appended to the log back into the database
//! file. SQLite runs one on the committing connection whenever the log has grown past
//! `wal_autocheckpoint` pages. A run's writing thread spent about a sixth of its time
//! copying pages (1M products rows in random key order, 2-core machine), and wrote
//! nothing meanwhile. Here a thread with its own connection runs a passive checkpoint
//! after each large commit instead, on the other core, while the writer goes on. A
//! passive checkpoint copies what it can without waiting for readers or writers.
//! The connections keep SQLite's own checkpoint at a higher threshold (see
//! [`AUTOCHECKPOINT_PAGES`]) so that the log stays bounded if this thread falls behind.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection as _;

/// Pages in the log after which a committing connection checkpoints itself: 64 MiB of 4
/// KiB pages, a little more than two of a run's commit groups appending pages all over a
/// large table's index.
pub const AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// A handle to the checkpoint thread. The thread ends when the last handle is dropped.
#[derive(Debug)]
pub struct Checkpointer {
    requests: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the checkpoint thread of the SQLite file at `path`. Returns `None`, and
    /// SQLite's own checkpoints then do the work, when the thread cannot open the file.
    pub fn start(path: &Path) -> Option<Self> {
        let mut connection = match SqliteConnection::establish(&path.to_string_lossy()) {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot open a connection for checkpoints; commits checkpoint the log themselves");
                return None;
            }
        };
        // One pending request is enough: a checkpoint copies every committed page.
        let (requests, received) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_on_request(&mut connection, &received));
        match spawned {
            Ok(_) => Some(Self { requests }),
            Err(error) => {
                tracing::warn!(%error, "cannot start the checkpoint thread; commits checkpoint the log themselves");
                None
            }
        }
    }

    /// Asks for a checkpoint soon; returns at once.
    pub fn request(&self) {
        // A full channel means a checkpoint is already due, which copies these pages too.
        let _ = self.requests.try_send(());
    }
}

fn checkpoint_on_request(connection: &mut SqliteConnection, requests: &Receiver<()>) {
    while requests.recv().is_ok() {
        if let Err(error) = connection.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::debug!(%error, "a passive checkpoint failed; the next request or a commit retries it");
        }
    }
}
