//! The `ingest` command: `serve` and the operator's commands.

mod serve;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "ingest", version, about = "Import CSV and XLSX files into a database through WebAssembly importers")]
pub struct Cli {
    /// Write logs as JSON lines instead of readable text.
    #[arg(long, global = true)]
    pub log_json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server: the REST API, the run workers and the importer registry.
    Serve,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

/// Logs go to stderr, so that commands such as `token create` print only their result
/// on stdout. `RUST_LOG` sets the level (default `info`, with Rocket's own start-up
/// report left out: the server logs one `server started` line instead).
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rocket=error,_=error"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    match cli.command {
        Command::Serve => serve::serve(config),
        Command::Token(command) => token::run(command, &config),
    }
}
