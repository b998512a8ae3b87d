//! Related rows that a run on SQLite creates, made by the run's writer.
//!
//! An importer's `relate` with create-missing runs on the reading thread, in the middle of
//! a chunk, and creating a row takes SQLite's write lock, which the writer holds for a
//! whole group. The reading thread then waited for the group to end, and the
//! writer, short of chunks, for the reading thread: flights.csv.gz creates planes in 125
//! of its 337 chunks and took 6.7 s. Now the reading thread looks the values up itself,
//! which needs no lock, and sends the missing ones to the writer with its chunks. The
//! writer creates them inside its open transaction, so they commit with the group.

use std::collections::HashMap;
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};

use super::failure::RunFailure;
use super::plan::ChunkPlan;
use crate::plugins::HostServices;
use crate::store::DbConnection;
use crate::targets::{TablePolicy, relate_on};

/// A message from the reading thread to the writer. Messages arrive in the order they
/// were sent.
pub(super) enum Work {
    Plan(Result<ChunkPlan, RunFailure>),
    Relate(RelateRequest),
}

/// Values of `table.column` that have no row yet, and where the writer sends their ids.
pub(super) struct RelateRequest {
    table: String,
    column: String,
    values: Vec<String>,
    reply: SyncSender<Result<Vec<Option<i64>>, String>>,
}

impl RelateRequest {
    /// Creates the rows on the writer's `connection` and sends their ids back.
    pub fn answer(self, connection: &mut DbConnection, policy: &TablePolicy) {
        let ids = relate_on(connection, policy, &self.table, &self.column, &self.values, true);
        // The reading thread is gone when the run stopped, and then the ids are not needed.
        let _ = self.reply.send(ids);
    }
}

/// The host services of a run on SQLite: lookups on a connection of their own, rows to
/// create through the writer.
pub(super) struct WriterRelay {
    lookups: Arc<dyn HostServices>,
    /// The sender, dropped when the reading thread ends, so that the writer's channel closes.
    work: Mutex<Option<SyncSender<Work>>>,
}

impl WriterRelay {
    pub fn new(lookups: Arc<dyn HostServices>, work: SyncSender<Work>) -> Self {
        Self { lookups, work: Mutex::new(Some(work)) }
    }

    /// Drops the relay's sender; call when the reading thread ends, panics included.
    pub fn close(&self) {
        self.work.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    }

    fn create(&self, table: &str, column: &str, values: Vec<String>) -> Result<Vec<Option<i64>>, String> {
        let stopped = || "the run stopped before the related rows were created".to_owned();
        let work = self.work.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone().ok_or_else(stopped)?;
        let (reply, ids) = mpsc::sync_channel(1);
        let request = RelateRequest { table: table.to_owned(), column: column.to_owned(), values, reply };
        work.send(Work::Relate(request)).map_err(|_| stopped())?;
        ids.recv().map_err(|_| stopped())?
    }
}

impl HostServices for WriterRelay {
    fn relate(
        &self,
        table: &str,
        column: &str,
        values: &[String],
        create_missing: bool,
    ) -> Result<Vec<Option<i64>>, String> {
        let mut ids = self.lookups.relate(table, column, values, false)?;
        if !create_missing {
            return Ok(ids);
        }
        // Each missing value once, with its place in the request.
        let mut missing: HashMap<&str, usize> = HashMap::new();
        for (value, id) in values.iter().zip(&ids) {
            if id.is_none() {
                let next = missing.len();
                missing.entry(value.as_str()).or_insert(next);
            }
        }
        if missing.is_empty() {
            return Ok(ids);
        }
        let mut request = vec![String::new(); missing.len()];
        for (&value, &index) in &missing {
            request[index] = value.to_owned();
        }
        let created = self.create(table, column, request)?;
        for (value, id) in values.iter().zip(ids.iter_mut()) {
            if id.is_none() {
                *id = missing.get(value.as_str()).and_then(|&index| created.get(index).copied().flatten());
            }
        }
        Ok(ids)
    }
}

/// Closes the relay when dropped, at the end of the reading thread or its unwinding.
pub(super) struct CloseOnDrop(pub Arc<WriterRelay>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}
