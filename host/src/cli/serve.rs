//! `ingest serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::plugins::{Registry, engine};
use crate::runs::{self, RunContext};
use crate::store::{DatabaseUrl, Store};

pub fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve_async(config))?;
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

    let importers = registry.all().len();
    let database_label = DatabaseUrl::parse(&config.database_url).label();
    let plugins_label = config.plugins_dir.display().to_string();
    let rocket = api::build(AppState { store, registry, runs: run_context, config: config.clone() }).attach(
        rocket::fairing::AdHoc::on_liftoff("announce address", move |rocket| {
            Box::pin(async move {
                let address = format!("http://{}:{}", rocket.config().address, rocket.config().port);
                tracing::info!(%address, database = %database_label, plugins_dir = %plugins_label, importers, "server started");
                // Scripts wait for this line: it is printed once the socket accepts connections.
                if let Err(error) = super::output::outln!("listening on {address}") {
                    tracing::warn!(%error, "cannot print the listening address to stdout");
                }
            })
        }),
    );
    rocket.launch().await.context("the HTTP server stopped with an error")?;
    Ok(())
}
