//! `ingest config`: the effective configuration, as the other commands would use it.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

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
        println!("{}", serde_json::to_string_pretty(&table)?);
    } else {
        match file {
            Some(file) => println!("# Read from {}, then INGEST_* environment variables.", file.display()),
            None => println!("# No configuration file: defaults, then INGEST_* environment variables."),
        }
        print!("{}", toml::to_string(&table)?);
    }
    Ok(ExitCode::SUCCESS)
}
