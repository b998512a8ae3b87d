//! `import-bench`: measures imports through the server's HTTP API next to the tools
//! people compare it with, on the same machine, in one run.
//!
//! For each backend and each file size it starts a fresh `target/release/ingest serve`
//! on a fresh database and uploads a generated products file twice: into the empty
//! table, then over the filled one (the update path). It checks the counts and the
//! table's contents and records the server's peak RSS. Then it runs the peers on the
//! same file: the `sqlite3` shell's `.import`, or `psql` with `\copy` and `INSERT … ON
//! CONFLICT`. It also imports flights.csv.gz after airlines.csv and planes.csv, and ends
//! with a table of the figures and the targets.
//!
//! `import-bench generate --rows N --out FILE` writes one products file and exits.
//!
//! Build the server and the importers first:
//! `cargo build --release -p ingest-host && scripts/build-plugins`, then
//! `cargo run --release -p ingest-bench --bin import-bench`.

mod cases;
#[path = "../cpu.rs"]
mod cpu;
mod client;
mod database;
mod generate;
mod machine;
mod peers;
mod report;
mod server;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "import-bench",
    about = "Measure imports through the ingest server's HTTP API next to sqlite3 .import and psql \\copy",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a products CSV file (sku,name,description,price,category,stock); the same
    /// number of rows always gives the same bytes.
    Generate {
        /// Number of data rows, without the header.
        #[arg(long, value_parser = parse_rows)]
        rows: u64,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Products file sizes to measure, in rows, separated by commas.
    #[arg(long, value_delimiter = ',', value_parser = parse_rows, default_value = "100000,1000000")]
    rows: Vec<u64>,

    /// Databases to measure on, separated by commas.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<Backend>,

    /// Do not run sqlite3 and psql on the same files.
    #[arg(long)]
    skip_peers: bool,

    /// Do not import flights.csv.gz.
    #[arg(long)]
    skip_flights: bool,

    /// Keep the scratch directory (databases, server logs) for inspection, and print its path.
    #[arg(long)]
    keep: bool,

    /// Directory of airlines.csv, planes.csv and flights.csv.gz [default: ../shared/data
    /// of the workspace]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// PostgreSQL URL of an existing database, whose user may create databases. Each case
    /// gets a database of its own on that server, dropped at the end.
    #[arg(long, value_name = "URL", default_value = DEFAULT_POSTGRES_URL)]
    postgres_url: String,
}

fn parse_rows(text: &str) -> Result<u64, String> {
    let rows: u64 = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("invalid row count {text:?}: expected a positive integer such as 100000"))?;
    if rows == 0 {
        return Err("the row count must be at least 1".to_owned());
    }
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Generate { rows, out }) => {
            let fingerprint = generate::write_products_file(rows, &out)?;
            println!("wrote {} rows to {}", report::group_digits(fingerprint.rows), out.display());
            Ok(())
        }
        None => run(cli.run),
    }
}

/// Returns the cargo workspace: the parent of this crate's directory.
fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the bench crate lives in the workspace").to_path_buf()
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let workspace = workspace_dir();
    let target = workspace.join("target");
    let binary = target.join("release/ingest");
    let plugins_dir = target.join("plugins");
    let data_dir = args.data_dir.clone().unwrap_or_else(|| workspace.join("../shared/data"));

    println!("import-bench");
    println!("commit:       {}", machine::commit(&workspace));
    println!("server:       {}", machine::binary(&binary));
    println!("CPU:          {}", cpu::describe());
    println!("load average: {} (1, 5, 15 min) at start", machine::load_average());
    check_inputs(&args, &workspace, &binary, &plugins_dir, &data_dir)?;

    let mut files = Vec::new();
    for &rows in &args.rows {
        files.push((rows, generate::cached_products_file(&target.join("bench-data"), rows)?));
    }

    let mut scratch = ScratchRoot::create(args.keep)?;
    let setup = cases::Setup {
        binary,
        plugins_dir,
        scratch_dir: scratch.path.clone(),
        postgres_url: args.postgres_url.clone(),
        run_peers: !args.skip_peers,
    };
    let measured = measure(&args, &setup, &files, &data_dir);
    if measured.is_err() && !scratch.keep {
        // The error names the server log, which must outlive the run to be read.
        scratch.keep = true;
        eprintln!("the scratch directory {} is kept for inspection", scratch.path.display());
    }
    let measurements = measured?;

    println!();
    report::print(&measurements);
    println!("load average: {} (1, 5, 15 min) at end", machine::load_average());
    Ok(())
}

/// Runs every case that `args` selects, in order: per backend, the products files, then
/// the flights import.
fn measure(
    args: &RunArgs,
    setup: &cases::Setup,
    files: &[(u64, (PathBuf, generate::Fingerprint))],
    data_dir: &Path,
) -> anyhow::Result<Vec<report::Measurement>> {
    let mut measurements = Vec::new();
    for &backend in &args.backends {
        for (rows, (file, fingerprint)) in files {
            measurements.extend(cases::products(setup, backend, *rows, file, *fingerprint)?);
        }
        if !args.skip_flights {
            measurements.push(cases::flights(setup, backend, data_dir)?);
        }
    }
    Ok(measurements)
}

/// Fails when the server binary, an importer or a data file is missing, and warns when
/// the binary is older than the last commit of the server's sources.
fn check_inputs(
    args: &RunArgs,
    workspace: &Path,
    binary: &Path,
    plugins_dir: &Path,
    data_dir: &Path,
) -> anyhow::Result<()> {
    if !binary.is_file() {
        bail!("{} does not exist; run `cargo build --release -p ingest-host` first", binary.display());
    }
    let mut importers = vec!["product_importer.wasm"];
    if !args.skip_flights {
        importers.extend(["airline_importer.wasm", "plane_importer.wasm", "flight_importer.wasm"]);
        for name in cases::FLIGHTS_FILES {
            let path = data_dir.join(name);
            if !path.is_file() {
                bail!("{} does not exist; pass the directory of the data files with --data-dir", path.display());
            }
        }
    }
    for name in importers {
        let path = plugins_dir.join(name);
        if !path.is_file() {
            bail!("{} does not exist; run scripts/build-plugins first", path.display());
        }
    }

    // NOTE: uncommitted changes to the server's sources are not detected.
    let built = std::fs::metadata(binary).and_then(|metadata| metadata.modified()).ok();
    if let (Some(built), Some(changed)) = (built, machine::last_change(workspace, &["host", "migrations"]))
        && built < changed
    {
        println!(
            "warning: {} is older than the last commit that changed host/ or migrations/; run `cargo build \
             --release -p ingest-host` to measure that commit",
            binary.display()
        );
    }
    Ok(())
}

/// The run's scratch directory, `ingest-import-bench-<pid>` under the system temporary
/// directory: removed on drop unless it is kept.
struct ScratchRoot {
    path: PathBuf,
    keep: bool,
}

impl ScratchRoot {
    fn create(keep: bool) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("ingest-import-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        if keep {
            println!("scratch:      {} (kept)", path.display());
        }
        Ok(Self { path, keep })
    }
}

impl Drop for ScratchRoot {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_counts_parse() {
        assert_eq!(parse_rows("100000"), Ok(100_000));
        assert_eq!(parse_rows("1_000_000"), Ok(1_000_000));
        assert!(parse_rows("0").is_err());
        assert!(parse_rows("1e6").is_err());
    }

    #[test]
    fn flags_parse() {
        let cli =
            Cli::try_parse_from(["import-bench", "--rows", "10,20", "--backends", "postgres", "--skip-peers"]).unwrap();

        assert_eq!(cli.run.rows, [10, 20]);
        assert_eq!(cli.run.backends, [Backend::Postgres]);
        assert!(cli.run.skip_peers);
        assert!(cli.command.is_none());
    }

    #[test]
    fn generate_subcommand_parses() {
        let cli = Cli::try_parse_from(["import-bench", "generate", "--rows", "5", "--out", "x.csv"]).unwrap();

        assert!(matches!(cli.command, Some(Command::Generate { rows: 5, .. })));
    }
}
