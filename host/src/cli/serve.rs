//! `ingest serve`.
//!
//! On SIGTERM or SIGINT the workers claim no more runs and stop their runs at the next
//! chunk boundary, while the HTTP server finishes the requests it has. Then the process
//! waits for the runs, up to `INGEST_SHUTDOWN_GRACE_SECONDS`, and exits. A run still in a
//! chunk at that point is left to its lease. Its chunk's transaction never commits, and
//! the next node to claim the run resumes it from its last committed chunk.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::api::{self, AppState};
use crate::config::Config;
use crate::plugins::{Registry, engine};
use crate::runs::{self, RunContext};
use crate::store::{DatabaseUrl, Store};

pub fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let served = runtime.block_on(serve_async(config));
    // Dropping the runtime would wait for every blocking task, and so for a run stuck in
    // a chunk past the grace period. Such runs resume elsewhere, so the process exits.
    runtime.shutdown_timeout(Duration::ZERO);
    served?;
    Ok(ExitCode::SUCCESS)
}

async fn serve_async(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.database_url)?;

    let engine = engine::create(&super::wasm_cache_dir(&config)?)
        .context("cannot create the WebAssembly engine")?;
    let registry = Arc::new(Registry::new(engine, config.limits)?);
    std::fs::create_dir_all(&config.plugins_dir)
        .with_context(|| format!("cannot create the plugins directory {}", config.plugins_dir.display()))?;
    registry
        .load_dir(&config.plugins_dir)
        .with_context(|| format!("cannot read the plugins directory {}", config.plugins_dir.display()))?;

    let _watcher = crate::plugins::watch::watch(registry.clone(), &config.plugins_dir)
        .with_context(|| format!("cannot watch the plugins directory {}", config.plugins_dir.display()))?;

    let run_context = RunContext::new(store.clone(), registry.clone(), config.clone());
    runs::start_workers(run_context.clone());
    let signals = Signals::register().context("cannot watch for SIGTERM and SIGINT")?;

    let importers = registry.all().len();
    let database_label = DatabaseUrl::parse(&config.database_url).label();
    let plugins_label = config.plugins_dir.display().to_string();
    let rocket = api::build(AppState { store, registry, runs: run_context.clone(), config: config.clone() })
        .attach(rocket::fairing::AdHoc::on_liftoff("announce address", move |rocket| {
            Box::pin(async move {
                let address = format!("http://{}:{}", rocket.config().address, rocket.config().port);
                tracing::info!(%address, database = %database_label, plugins_dir = %plugins_label, importers, "server started");
                // Scripts wait for this line: it is printed once the socket accepts connections.
                if let Err(error) = super::output::outln!("listening on {address}") {
                    tracing::warn!(%error, "cannot print the listening address to stdout");
                }
            })
        }))
        .ignite()
        .await
        .context("the HTTP server cannot start")?;

    let (stopping_sender, stopping) = tokio::sync::oneshot::channel();
    tokio::spawn(signals.stop_on_signal(run_context.clone(), rocket.shutdown(), config.shutdown_grace, stopping_sender));
    rocket.launch().await.context("the HTTP server stopped with an error")?;

    // The HTTP server stops only after a signal, which sends the deadline.
    if let Ok(deadline) = stopping.await {
        wait_for_runs(&run_context, deadline).await;
    }
    tracing::info!("server stopped");
    Ok(())
}

/// The signals that stop the server. Rocket's own signal handling is off (see
/// [`api::build`]), so that the workers stop as soon as the HTTP server does.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        Ok(Self { terminate: signal(SignalKind::terminate())?, interrupt: signal(SignalKind::interrupt())? })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }

    /// Waits for the first signal, then stops the workers and the HTTP server and sends
    /// the deadline of the grace period. A second signal exits at once.
    async fn stop_on_signal(
        mut self,
        context: Arc<RunContext>,
        http: rocket::Shutdown,
        grace: Duration,
        stopping: tokio::sync::oneshot::Sender<tokio::time::Instant>,
    ) {
        let signal = self.next().await;
        let deadline = tokio::time::Instant::now() + grace;
        context.request_shutdown();
        tracing::info!(
            signal,
            run_ids = ?context.shutdown.runs_in_flight(),
            grace_seconds = grace.as_secs(),
            "shutting down: the server takes no more requests or runs, and the runs in flight stop at their next chunk boundary"
        );
        http.notify();
        let _ = stopping.send(deadline);

        let signal = self.next().await;
        let runs = context.shutdown.runs_in_flight();
        tracing::warn!(
            signal,
            run_ids = ?runs,
            "second signal: exiting at once; the runs in flight resume from their last committed chunk when their leases run out"
        );
        // 130 is the shell's status for a process ended by SIGINT.
        std::process::exit(130);
    }
}

/// Waits until the workers' runs have stopped or `deadline` passes, logging what it
/// waits for and what it leaves behind.
async fn wait_for_runs(context: &RunContext, deadline: tokio::time::Instant) {
    let runs = context.shutdown.runs_in_flight();
    if runs.is_empty() {
        return;
    }
    let remaining_ms = deadline.saturating_duration_since(tokio::time::Instant::now()).as_millis() as u64;
    tracing::info!(
        run_ids = ?runs,
        remaining_ms,
        "waiting for runs in flight to stop at their next chunk boundary"
    );
    let remaining = context.shutdown.wait_for_runs(deadline).await;
    if remaining.is_empty() {
        tracing::info!(run_ids = ?runs, "every run in flight stopped at a chunk boundary");
    } else {
        tracing::warn!(
            run_ids = ?remaining,
            "shutdown grace period over: these runs are still in a chunk, which is rolled back; a node resumes each from its last committed chunk when its lease runs out"
        );
    }
}
