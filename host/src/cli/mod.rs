//! The `ingest` command: `serve` and the operator's commands, one file per command.
//!
//! Commands return `Ok(ExitCode)` for outcomes a script distinguishes (a run that ended
//! with failed rows exits 1), and errors for everything else: a [`UsageError`] or a
//! [`ConfigError`] exits 2, any other error exits 1.

mod config;
mod import;
mod list;
mod new;
mod output;
mod progress;
mod prune;
mod runs;
mod serve;
mod token;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::plugins::{Registry, engine};
use crate::store::Store;

/// Exit status of a command that did what it was asked.
pub const EXIT_OK: u8 = 0;
/// Exit status of a command that failed, or of a run that did not complete every row.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status of invalid arguments or configuration, or of a run, importer or token
/// that does not exist.
pub const EXIT_USAGE: u8 = 2;

/// The exit codes and configuration sources, as every command's `--help` ends; a macro
/// so that `concat!` can extend it for one command.
macro_rules! exit_codes_help {
    () => {
        "\
Exit status:
  0  success
  1  failure: the command failed, or the run ended failed, cancelled or with failed rows
  2  invalid arguments or configuration, or the run, importer or token does not exist

Configuration: defaults, then a TOML file (--config, INGEST_CONFIG, or ./ingest.toml when
it exists), then INGEST_* environment variables; `ingest config` prints the result."
    };
}

const EXIT_CODES_HELP: &str = exit_codes_help!();

#[derive(Debug, Parser)]
#[command(
    name = "ingest",
    version,
    about = "Import CSV and XLSX files into a database through WebAssembly importers",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// Write logs as JSON lines instead of readable text.
    #[arg(long, global = true)]
    pub log_json: bool,

    /// TOML configuration file; without it, ./ingest.toml is read when it exists.
    #[arg(long, global = true, env = "INGEST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server: the REST API, the run workers and the importer registry.
    #[command(after_help = EXIT_CODES_HELP)]
    Serve,
    /// Import a file with an importer of the plugins directory, in this process, with no
    /// server.
    #[command(after_help = EXIT_CODES_HELP)]
    Run(import::RunArgs),
    /// List the importers of the plugins directory, and the files that failed to load.
    #[command(after_help = concat!(exit_codes_help!(), "\n\n`list` exits 1 when a file of the plugins directory failed to load."))]
    List(list::ListArgs),
    /// Show a run's status and counts, following it with a progress bar while it runs.
    #[command(after_help = EXIT_CODES_HELP)]
    Status(runs::StatusArgs),
    /// Ask a run to stop at its next chunk boundary; a pending run is cancelled at once.
    #[command(after_help = EXIT_CODES_HELP)]
    Cancel(runs::CancelArgs),
    /// Retry the failed rows of a run, as a new run, in this process unless --queue is given.
    #[command(after_help = EXIT_CODES_HELP)]
    Retry(import::RetryArgs),
    /// Manage API tokens.
    #[command(subcommand, after_help = EXIT_CODES_HELP)]
    Token(token::TokenCommand),
    /// Print the effective configuration, with the database password hidden.
    #[command(after_help = EXIT_CODES_HELP)]
    Config(config::ConfigArgs),
    /// Create a new importer crate that builds to wasm32-wasip2 and imports its sample file.
    #[command(after_help = EXIT_CODES_HELP)]
    New(new::NewArgs),
    /// Remove remembered rows of finished runs and uploaded files older than the retention period.
    #[command(after_help = EXIT_CODES_HELP)]
    Prune(prune::PruneArgs),
}

/// A mistake in what the operator asked for, or a run, importer or token that does not
/// exist; exits with [`EXIT_USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Cli {
    /// Returns the log filter used when `RUST_LOG` is not set. The server logs its
    /// lifecycle at `info`, and the other commands, which print their own result, log
    /// warnings only. Rocket's start-up report is left out because the server logs one
    /// `server started` line instead.
    fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve => "info,rocket=error,_=error",
            _ => "warn,rocket=error,_=error",
        }
    }
}

/// Sets up logging to stderr, so that commands such as `token create` print only their
/// result on stdout. `RUST_LOG` sets the level.
///
/// Text logs are coloured only when stderr is a terminal and `NO_COLOR` is unset or
/// empty, so that log files and journald get no escape codes.
pub fn init_tracing(cli: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cli.default_log_filter()));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let colour = std::io::stderr().is_terminal() && !no_color;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Prints an error returned by [`run`] to stderr, with its chain of causes.
pub fn print_error(error: &anyhow::Error) {
    output::errln!("error: {error:#}");
}

/// Maps an error returned by [`run`] to its exit status.
pub fn exit_code_of(error: &anyhow::Error) -> ExitCode {
    if error.downcast_ref::<UsageError>().is_some() || error.downcast_ref::<ConfigError>().is_some() {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Scaffolding an importer needs no configuration, so a broken ingest.toml cannot
    // stop it.
    if let Command::New(args) = cli.command {
        return new::run(args);
    }
    let (config, file) = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve::serve(config),
        Command::Run(args) => import::run(args, &config),
        Command::List(args) => list::run(args, &config),
        Command::Status(args) => runs::status(args, &config),
        Command::Cancel(args) => runs::cancel(args, &config),
        Command::Retry(args) => import::retry(args, &config),
        Command::Token(command) => token::run(command, &config),
        Command::Prune(args) => prune::run(args, &config),
        Command::Config(args) => config::run(args, &config, file.as_deref()),
        Command::New(_) => unreachable!("handled before the configuration is loaded"),
    }
}

/// Opens the database the configuration names, applying pending migrations.
fn open_store(config: &Config) -> anyhow::Result<Store> {
    Ok(Store::open(&config.database_url)?)
}

/// Loads every importer of the plugins directory, as a server does at start-up; files
/// that fail to load are listed by [`Registry::rejected`].
fn load_importers(config: &Config) -> anyhow::Result<Arc<Registry>> {
    let dir = &config.plugins_dir;
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "the plugins directory {} does not exist; set INGEST_PLUGINS_DIR, or plugins_dir in the configuration file",
            dir.display()
        ))
        .into());
    }
    let engine = engine::create(&wasm_cache_dir(config)?).context("cannot create the WebAssembly engine")?;
    let registry = Registry::new(engine, config.limits)?;
    registry
        .load_dir(dir)
        .with_context(|| format!("cannot read the plugins directory {}", dir.display()))?;
    Ok(Arc::new(registry))
}

/// Returns the compiled-importer cache directory under the storage directory, made
/// absolute because wasmtime's cache rejects relative paths.
fn wasm_cache_dir(config: &Config) -> anyhow::Result<PathBuf> {
    let dir = config.storage_dir.join("wasm-cache");
    std::path::absolute(&dir).with_context(|| format!("cannot resolve the cache directory {}", dir.display()))
}
