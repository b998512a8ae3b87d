//! Applies the migrations of `migrations/<backend>/`, embedded in the binary.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, StoreError};

const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// The key of the PostgreSQL advisory lock held while migrating, so that nodes starting
/// together apply each migration once. Any constant works if nothing else in the
/// database uses it; this one is "ingest" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x696e_6765_7374;

pub fn run_pending(connection: &mut DbConnection) -> Result<(), StoreError> {
    let failed = |error: Box<dyn std::error::Error + Send + Sync>| StoreError::Migrate(error.to_string());
    match connection {
        DbConnection::Sqlite(sqlite) => {
            sqlite.run_pending_migrations(SQLITE).map_err(failed)?;
        }
        DbConnection::Postgres(postgres) => {
            postgres.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let applied = postgres.run_pending_migrations(POSTGRES).map(|_| ()).map_err(failed);
            postgres.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            applied?;
        }
    }
    Ok(())
}
