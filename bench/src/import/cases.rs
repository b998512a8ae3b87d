//! The measured cases: a products file through the server (new rows, then the update
//! path) with its peers, and the flights import.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::Backend;
use crate::client::{ApiClient, RunResult};
use crate::database::{self, BenchDatabase};
use crate::generate::Fingerprint;
use crate::peers;
use crate::report::{CaseKind, Measurement, group_digits};
use crate::server::{ServerProcess, ServerSettings};

const PRODUCT_IMPORTER: &str = "product-importer";

/// The files of the flights case, in import order: flights relate to airlines and planes.
pub const FLIGHTS_FILES: [&str; 3] = ["airlines.csv", "planes.csv", "flights.csv.gz"];

/// Importer slug and expected successful rows of each file of [`FLIGHTS_FILES`].
const FLIGHTS_IMPORTS: [(&str, u64); 3] =
    [("airline-importer", 16), ("plane-importer", 3_322), ("flight-importer", 336_776)];

/// Paths and options shared by every case.
pub struct Setup {
    pub binary: PathBuf,
    pub plugins_dir: PathBuf,
    pub scratch_dir: PathBuf,
    pub postgres_url: String,
    pub run_peers: bool,
}

impl Setup {
    /// Creates the scratch directory of the case `name`.
    fn case_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.scratch_dir.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }
}

/// A server started for one case, with its database and client.
struct CaseServer {
    client: ApiClient,
    server: ServerProcess,
    /// Declared after the server so that the server is stopped before a PostgreSQL
    /// database is dropped.
    database: BenchDatabase,
}

impl CaseServer {
    fn start(setup: &Setup, backend: Backend, dir: &Path, label: &str) -> anyhow::Result<Self> {
        let database = BenchDatabase::create(backend, dir, label, &setup.postgres_url)?;
        let database_url = database.url();
        let server = ServerProcess::start(&ServerSettings {
            binary: &setup.binary,
            database_url: &database_url,
            plugins_dir: &setup.plugins_dir,
            dir,
        })?;
        let client = ApiClient::new(server.base_url(), server.token())?;
        // The peak after start includes compiling every importer of the plugins
        // directory. The final peak minus this one is what the imports added.
        println!(
            "{} {label}: server pid {} on {}, peak RSS {:.1} MB after start",
            backend.label(),
            server.pid(),
            server.base_url(),
            server.peak_rss_bytes()? as f64 / 1e6
        );
        Ok(Self { client, server, database })
    }

    /// Imports `file` with `slug` and checks that every one of `expected` rows succeeded.
    fn import(&self, slug: &str, file: &Path, expected: u64, label: &str) -> anyhow::Result<RunResult> {
        let result = self
            .client
            .import(slug, file)
            .and_then(|result| result.expect_successful(expected, label).map(|()| result))
            .map_err(|error| self.server.with_log(error))?;
        println!(
            "  {label}: {:.3} s from upload to end (server {}), {} rows/s, run {}",
            result.elapsed.as_secs_f64(),
            format_server_duration(result.server_duration),
            group_digits((expected as f64 / result.elapsed.as_secs_f64()) as u64),
            result.id
        );
        Ok(result)
    }
}

fn format_server_duration(duration: Option<Duration>) -> String {
    duration.map_or("-".to_owned(), |duration| format!("{:.3} s", duration.as_secs_f64()))
}

/// Measures `file` of `rows` products on `backend`: new rows, then the update path,
/// each through a fresh server's HTTP API and then through the peer.
pub fn products(
    setup: &Setup,
    backend: Backend,
    rows: u64,
    file: &Path,
    fingerprint: Fingerprint,
) -> anyhow::Result<Vec<Measurement>> {
    let dir = setup.case_dir(&format!("{}-{rows}", backend.label()))?;
    let case = CaseServer::start(setup, backend, &dir, &rows.to_string())?;

    let new = case.import(PRODUCT_IMPORTER, file, rows, "new rows")?;
    database::expect_fingerprint(case.database.fingerprint("products")?, fingerprint, "server, new rows")?;
    let update = case.import(PRODUCT_IMPORTER, file, rows, "update")?;
    database::expect_fingerprint(case.database.fingerprint("products")?, fingerprint, "server, update")?;

    print_schema(&case.database, backend)?;
    let peak_rss = case.server.peak_rss_bytes()?;
    let CaseServer { server, database, .. } = case;
    drop(server);

    let (peer_new, peer_update) = if setup.run_peers {
        let (new, update) = run_peers(backend, &database, &dir, file, fingerprint)?;
        (Some(new), Some(update))
    } else {
        (None, None)
    };

    let measurement = |kind, result: &RunResult, peer| Measurement {
        backend,
        kind,
        rows,
        elapsed: result.elapsed,
        server_duration: result.server_duration,
        peer,
        peak_rss,
    };
    Ok(vec![measurement(CaseKind::New, &new, peer_new), measurement(CaseKind::Update, &update, peer_update)])
}

/// Prints the server's `products` table, for comparison with the peer's, and warns when
/// the types of its key and data columns differ from the peer's.
fn print_schema(database: &BenchDatabase, backend: Backend) -> anyhow::Result<()> {
    let (peer_table, peer_types) = match backend {
        Backend::Sqlite => (peers::SQLITE_PRODUCTS, peers::SQLITE_COLUMN_TYPES),
        Backend::Postgres => (peers::POSTGRES_PRODUCTS, peers::POSTGRES_COLUMN_TYPES),
    };
    println!("  server table: {}", database.products_schema()?.replace('\n', "\n                "));
    println!("  peer table:   {peer_table}");

    let server_types = database.products_column_types()?;
    for (name, peer_type) in peer_types {
        let server_type = server_types.iter().find(|(column, _)| column == name).map(|(_, kind)| kind.as_str());
        if server_type != Some(peer_type) {
            println!(
                "  warning: the server's products.{name} is {}, the peer's {peer_type}; update the peer tables in \
                 bench/src/import/peers.rs so both store the same types",
                server_type.unwrap_or("missing")
            );
        }
    }
    Ok(())
}

/// Runs the peer of `backend` on `file`: into the empty table, then again over the
/// filled one. Returns both durations after checking that the table contains exactly the
/// file's rows.
fn run_peers(
    backend: Backend,
    database: &BenchDatabase,
    dir: &Path,
    file: &Path,
    fingerprint: Fingerprint,
) -> anyhow::Result<(Duration, Duration)> {
    let (new, update) = match backend {
        Backend::Sqlite => {
            let peer_db = dir.join("peer.db");
            peers::sqlite_create(&peer_db)?;
            let new = peers::sqlite_import(&peer_db, file)?;
            let fresh = database::sqlite_fingerprint(&peer_db, "products")?;
            database::expect_fingerprint(fresh, fingerprint, "sqlite3 .import")?;
            let update = peers::sqlite_upsert(&peer_db, file)?;
            let updated = database::sqlite_fingerprint(&peer_db, "products")?;
            database::expect_fingerprint(updated, fingerprint, "sqlite3 .import + upsert")?;
            (new, update)
        }
        Backend::Postgres => {
            let url = database.postgres_url().expect("a PostgreSQL case has a PostgreSQL database");
            peers::postgres_create(url, dir)?;
            let new = peers::postgres_upsert(url, dir, file)?;
            database::expect_fingerprint(
                database.fingerprint("peer.products")?,
                fingerprint,
                "psql COPY + merge, new",
            )?;
            let update = peers::postgres_upsert(url, dir, file)?;
            database::expect_fingerprint(
                database.fingerprint("peer.products")?,
                fingerprint,
                "psql COPY + merge, update",
            )?;
            (new, update)
        }
    };
    println!("  peer: {:.3} s new rows, {:.3} s update", new.as_secs_f64(), update.as_secs_f64());
    Ok((new, update))
}

/// Imports airlines.csv, planes.csv and then, measured, flights.csv.gz on a fresh server.
pub fn flights(setup: &Setup, backend: Backend, data_dir: &Path) -> anyhow::Result<Measurement> {
    let dir = setup.case_dir(&format!("{}-flights", backend.label()))?;
    let case = CaseServer::start(setup, backend, &dir, "flights")?;

    let mut last = None;
    for (name, (slug, expected)) in FLIGHTS_FILES.iter().zip(FLIGHTS_IMPORTS) {
        last = Some((case.import(slug, &data_dir.join(name), expected, name)?, expected));
    }
    let (flights, rows) = last.expect("the flights case imports three files");
    let peak_rss = case.server.peak_rss_bytes()?;

    Ok(Measurement {
        backend,
        kind: CaseKind::Flights,
        rows,
        elapsed: flights.elapsed,
        server_duration: flights.server_duration,
        peer: None,
        peak_rss,
    })
}
