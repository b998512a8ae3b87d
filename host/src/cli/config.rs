//! `ingest config`: the effective configuration, as the other commands would use it.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use super::output::outln;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the settings as a JSON object instead of TOML.
    #[arg(long)]
    json: bool,
}

/// Prints every setting under its file key, so the output can serve as a configuration
/// file. The database URL's password is replaced by `***`.
pub fn run(args: ConfigArgs, config: &Config, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let table = config.to_table();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&table)?)?;
    } else {
        match file {
            Some(file) => outln!("# Read from {}, then INGEST_* environment variables.", file.display())?,
            None => outln!("# No configuration file: defaults, then INGEST_* environment variables.")?,
        }
        super::output::write_stdout(&toml::to_string(&table)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
