//! The reading half of a run: rows read from the source and processed by the importer,
//! one chunk at a time. It runs on a thread of its own, so the next chunks are parsed
//! and processed while the writer commits the ones before.

use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use super::failure::RunFailure;
use super::isolate::process_isolating;
use super::plan::ChunkPlan;
use super::relay::Work;
use crate::plugins::{ChunkResult, ImporterInstance, LoadedImporter};
use crate::sources::{RowSource, SourceChunk};

pub(super) struct Producer<'a> {
    pub source: &'a mut dyn RowSource,
    pub instance: &'a mut ImporterInstance,
    pub importer: &'a Arc<LoadedImporter>,
    pub headers: &'a [String],
    pub chunk_size: usize,
}

impl Producer<'_> {
    /// Sends one plan per chunk until the source is exhausted, the first failure (which
    /// ends the run, so nothing follows it), or the receiver hangs up.
    pub fn run(mut self, plans: SyncSender<Work>) {
        loop {
            let next = self.next_plan();
            let last = !matches!(next, Ok(Some(_)));
            let sent = match next {
                Ok(Some(plan)) => plans.send(Work::Plan(Ok(plan))),
                Ok(None) => return,
                Err(failure) => plans.send(Work::Plan(Err(failure))),
            };
            if sent.is_err() || last {
                return;
            }
        }
    }

    fn next_plan(&mut self) -> Result<Option<ChunkPlan>, RunFailure> {
        let started = Instant::now();
        let mut chunk = SourceChunk::new(self.headers.len());
        if !self.source.read_chunk(self.chunk_size, &mut chunk)? {
            return Ok(None);
        }
        let first_row = chunk.row_numbers.first().copied().unwrap_or(0);
        let result = if chunk.row_numbers.is_empty() {
            Ok(ChunkResult::empty(&self.importer.description.targets))
        } else {
            process_isolating(self.instance, self.headers, first_row, &mut chunk.cells)
                .map_err(|fault| RunFailure::user(fault.to_string()))?
        };
        let mut plan = ChunkPlan::new(self.importer, chunk, result);
        plan.elapsed = started.elapsed();
        Ok(Some(plan))
    }
}
