//! The run engine: workers that claim runs from the database and import them chunk by
//! chunk through their importer.
//!
//! Each chunk's target writes, remembered rows and counters commit in one transaction,
//! and a run's `next_row` counts how many source rows are committed, so a run whose
//! worker died is claimed again once its lease runs out and resumes where it stopped.
//! A server that shuts down stops its runs at a chunk boundary and releases their leases
//! (see [`shutdown`]).

mod commit;
mod failure;
mod heartbeat;
mod isolate;
mod plan;
mod process;
mod produce;
mod relay;
mod retry;
mod row_data;
pub mod shutdown;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use retry::{RetryError, create_retry};
pub use shutdown::Shutdown;

use crate::config::Config;
use crate::plugins::{HostServices, Registry};
use crate::store::{Store, runs};
use crate::targets::{RelateService, TablePolicy};

/// Everything a worker needs to process runs.
pub struct RunContext {
    pub store: Store,
    pub registry: Arc<Registry>,
    pub config: Config,
    pub policy: TablePolicy,
    pub services: Arc<dyn HostServices>,
    /// Woken when a run is created, so an idle worker starts it at once.
    pub wake: Notify,
    /// Names this process in run leases.
    pub node_id: String,
    /// Set when the server shuts down; tracks the runs its workers process.
    pub shutdown: Shutdown,
}

impl RunContext {
    pub fn new(store: Store, registry: Arc<Registry>, config: Config) -> Arc<Self> {
        let policy = TablePolicy { allowed: config.target_tables.clone(), create_missing: config.create_target_tables };
        let services = Arc::new(RelateService::new(store.clone(), policy.clone()));
        let node_id = format!("{}-{}", std::process::id(), rand::random::<u32>());
        Arc::new(Self { store, registry, config, policy, services, wake: Notify::new(), node_id, shutdown: Shutdown::default() })
    }

    /// Asks the workers to claim no more runs and to stop their runs at the next chunk
    /// boundary, and wakes the idle ones so that they end.
    pub fn request_shutdown(&self) {
        self.shutdown.request();
        self.wake.notify_waiters();
    }
}

/// Releases this node's lease on a run it stopped for a shutdown, leaving the run
/// `processing`, so that any node claims it at once instead of when the lease runs out.
fn release_for_shutdown(context: &RunContext, run_id: i64) {
    let released = context
        .store
        .connection()
        .and_then(|mut connection| runs::release_lease(&mut connection, run_id, &context.node_id));
    match released {
        Ok(true) => tracing::info!(run_id, "run stopped for the shutdown; a node resumes it from its last committed chunk"),
        Ok(false) => tracing::warn!(run_id, "run stopped for the shutdown, but another node has already claimed it"),
        Err(error) => tracing::warn!(
            run_id,
            %error,
            "releasing the lease of a run stopped for the shutdown failed; a node resumes it when the lease runs out"
        ),
    }
}

/// Processes `run`, which the caller has claimed, on the calling thread until it ends.
/// `ingest run` and `ingest retry` import this way, without a server.
pub fn process_claimed(context: &RunContext, run: crate::store::runs::Run) {
    process::process_run(context, run)
}

/// How long an idle worker waits before it looks for runs again without being woken:
/// runs created by another node, or whose lease ran out, are found this way.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Starts `config.workers` tasks that claim and process runs until the process ends or
/// [`RunContext::request_shutdown`] is called.
pub fn start_workers(context: Arc<RunContext>) {
    for worker in 0..context.config.workers.max(1) {
        let context = context.clone();
        tokio::spawn(async move {
            while !context.shutdown.is_requested() {
                let claimed = {
                    let context = context.clone();
                    tokio::task::spawn_blocking(move || {
                        let mut connection = context.store.connection()?;
                        crate::store::runs::claim_next(&mut connection, &context.node_id, context.config.lease)
                    })
                    .await
                };
                match claimed {
                    Ok(Ok(Some(run))) => {
                        let context = context.clone();
                        let outcome = tokio::task::spawn_blocking(move || {
                            let _in_flight = context.shutdown.track(run.id);
                            if context.shutdown.is_requested() {
                                // The shutdown began during the claim, so the run is
                                // released before it starts.
                                release_for_shutdown(&context, run.id);
                                return;
                            }
                            process::process_run(&context, run)
                        })
                        .await;
                        if let Err(error) = outcome {
                            tracing::error!(worker, %error, "run worker panicked; the run is retried when its lease runs out");
                        }
                    }
                    Ok(Ok(None)) => {
                        let _ = tokio::time::timeout(IDLE_POLL, context.wake.notified()).await;
                    }
                    Ok(Err(error)) => {
                        tracing::error!(worker, %error, "claiming a run failed");
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                    Err(error) => {
                        tracing::error!(worker, %error, "claiming a run failed");
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                }
            }
        });
    }
}
