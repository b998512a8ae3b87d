//! The tools the server is compared with, each run and timed as a whole process on the
//! same file: the `sqlite3` shell's `.import`, and `psql` with `\copy` into a staging
//! table merged into the keyed table with `INSERT … ON CONFLICT`.
//!
//! Their tables have the key as primary key and the other five columns with the types
//! the server gives `products` (SQLite: TEXT, REAL, INTEGER; PostgreSQL: text, double
//! precision, bigint). The server's own table also has an `id` column, which the peers
//! do not need.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The peer's `products` table on SQLite.
pub const SQLITE_PRODUCTS: &str = "CREATE TABLE products (sku TEXT NOT NULL PRIMARY KEY, name TEXT, \
     description TEXT, price REAL, category TEXT, stock INTEGER)";

/// The peer's `products` table on PostgreSQL, in its own schema of the case's database.
pub const POSTGRES_PRODUCTS: &str = "CREATE TABLE peer.products (sku text NOT NULL PRIMARY KEY, name text, \
     description text, price double precision, category text, stock bigint)";

/// The column types the peer tables declare, as the catalogue reports them: SQLite's
/// `pragma_table_info`, then PostgreSQL's `information_schema.columns`.
pub const SQLITE_COLUMN_TYPES: [(&str, &str); 6] = [
    ("sku", "text"),
    ("name", "text"),
    ("description", "text"),
    ("price", "real"),
    ("category", "text"),
    ("stock", "integer"),
];
pub const POSTGRES_COLUMN_TYPES: [(&str, &str); 6] = [
    ("sku", "text"),
    ("name", "text"),
    ("description", "text"),
    ("price", "double precision"),
    ("category", "text"),
    ("stock", "bigint"),
];

const UPDATE_SET: &str = "name = excluded.name, description = excluded.description, price = excluded.price, \
     category = excluded.category, stock = excluded.stock";

/// Creates the peer's empty `products` table in a new SQLite file at `db` (not timed).
pub fn sqlite_create(db: &Path) -> anyhow::Result<()> {
    run_sqlite3(db, &format!("{SQLITE_PRODUCTS};\n"))?;
    Ok(())
}

/// Times `sqlite3 DB ".import --csv --skip 1 FILE products"` into the empty table.
pub fn sqlite_import(db: &Path, csv: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut command = Command::new("sqlite3");
    command.arg("-bail").arg(db).arg(format!(".import --csv --skip 1 {} products", sqlite_argument(csv)?));
    run(command, "sqlite3 .import")?;
    Ok(started.elapsed())
}

/// Times one `sqlite3` process that imports `csv` into a staging table and merges it
/// into the filled `products` table with `INSERT … ON CONFLICT(sku) DO UPDATE`, in one
/// transaction.
pub fn sqlite_upsert(db: &Path, csv: &Path) -> anyhow::Result<Duration> {
    let script = format!(
        "BEGIN;\n\
         CREATE TABLE staging (sku TEXT, name TEXT, description TEXT, price REAL, category TEXT, stock INTEGER);\n\
         .import --csv --skip 1 {} staging\n\
         INSERT INTO products (sku, name, description, price, category, stock) \
         SELECT sku, name, description, price, category, stock FROM staging WHERE true \
         ON CONFLICT(sku) DO UPDATE SET {UPDATE_SET};\n\
         DROP TABLE staging;\n\
         COMMIT;\n",
        sqlite_argument(csv)?
    );
    let started = Instant::now();
    run_sqlite3(db, &script)?;
    Ok(started.elapsed())
}

/// Creates the schema `peer` and its empty `products` table in the database of `url`
/// (not timed).
pub fn postgres_create(url: &str, dir: &Path) -> anyhow::Result<()> {
    run_psql(url, dir, &format!("CREATE SCHEMA peer;\n{POSTGRES_PRODUCTS};\n"))?;
    Ok(())
}

/// Times one `psql` process that copies `csv` into a temporary staging table with
/// `\copy` and merges it into `peer.products` with `INSERT … ON CONFLICT (sku) DO
/// UPDATE`, in one transaction. The same script serves the empty and the filled table.
pub fn postgres_upsert(url: &str, dir: &Path, csv: &Path) -> anyhow::Result<Duration> {
    let path = csv.to_str().with_context(|| format!("{} is not valid UTF-8", csv.display()))?;
    let script = format!(
        "BEGIN;\n\
         CREATE TEMPORARY TABLE staging (LIKE peer.products) ON COMMIT DROP;\n\
         \\copy staging FROM '{}' WITH (FORMAT csv, HEADER true)\n\
         INSERT INTO peer.products SELECT * FROM staging ON CONFLICT (sku) DO UPDATE SET {UPDATE_SET};\n\
         COMMIT;\n",
        path.replace('\'', "''")
    );
    let started = Instant::now();
    run_psql(url, dir, &script)?;
    Ok(started.elapsed())
}

/// Runs `sqlite3 -bail DB` with `script` on its standard input.
fn run_sqlite3(db: &Path, script: &str) -> anyhow::Result<()> {
    let mut command = Command::new("sqlite3");
    command.arg("-bail").arg(db);
    run_with_input(command, script, "sqlite3")
}

/// Writes `script` to a file in `dir` and runs it with `psql`, stopping at the first error.
fn run_psql(url: &str, dir: &Path, script: &str) -> anyhow::Result<()> {
    let file = dir.join("peer.sql");
    std::fs::write(&file, script).with_context(|| format!("cannot write {}", file.display()))?;
    let mut command = Command::new("psql");
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"]).arg(&file);
    run(command, "psql")
}

/// Quotes a path for an argument of a `sqlite3` dot-command, which splits its arguments
/// on spaces and reads double-quoted ones with C escapes.
fn sqlite_argument(path: &Path) -> anyhow::Result<String> {
    let text = path.to_str().with_context(|| format!("{} is not valid UTF-8", path.display()))?;
    Ok(format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")))
}

fn run(mut command: Command, label: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {label}; is it installed and on PATH?"))?;
    check_output(&output, label)
}

fn run_with_input(mut command: Command, input: &str, label: &str) -> anyhow::Result<()> {
    use std::io::Write;

    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {label}; is it installed and on PATH?"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(input.as_bytes()).with_context(|| format!("cannot write the script to {label}"))?;
    drop(stdin);
    let output = child.wait_with_output().with_context(|| format!("{label} did not finish"))?;
    check_output(&output, label)
}

/// Fails when the tool exited with an error or wrote anything to stderr: `.import` only
/// warns about a malformed row and goes on, which would make the figure meaningless.
fn check_output(output: &std::process::Output, label: &str) -> anyhow::Result<()> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || !stderr.trim().is_empty() {
        bail!("{label} failed with {}: {}", output.status, stderr.trim());
    }
    Ok(())
}
