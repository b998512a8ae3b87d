//! `ingest list`: the importers of the plugins directory, loaded as a server loads them.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::output::{errln, outln};
use super::{EXIT_FAILURE, load_importers};
use crate::api::importers;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print `{data: [...], rejected: [...]}` as JSON, as `GET /importers` returns it.
    #[arg(long)]
    json: bool,
}

/// Prints one line per importer and one per rejected file. Exits 1 when a file was
/// rejected, so that a script can check a plugins directory before deploying it.
pub fn run(args: ListArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let registry = load_importers(config)?;
    let importers = registry.all();
    let rejected = registry.rejected();

    if args.json {
        let data: Vec<_> = importers.iter().map(|importer| importers::view(importer, registry.last_error(importer))).collect();
        outln!("{}", json!({ "data": data, "rejected": rejected }))?;
    } else {
        outln!("{:<28}  {:<10}  {:<8}  {:<24}  file", "slug", "version", "source", "targets")?;
        for importer in &importers {
            let description = &importer.description;
            let tables: Vec<&str> = description.targets.iter().map(|target| target.table.as_str()).collect();
            outln!(
                "{:<28}  {:<10}  {:<8}  {:<24}  {}",
                description.slug,
                description.version,
                format!("{:?}", description.source).to_lowercase(),
                tables.join(","),
                importer.file.display()
            )?;
        }
        if importers.is_empty() {
            outln!("(no importers in {})", config.plugins_dir.display())?;
        }
        for file in &rejected {
            errln!("rejected: {}", file.error);
        }
    }
    Ok(if rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
}
