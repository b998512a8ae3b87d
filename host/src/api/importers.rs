//! `GET /importers`: what the plugins directory serves.

use rocket::State;
use rocket::serde::json::Json;
use serde_json::{Value, json};

use super::AppState;
use super::auth::AuthenticatedUser;
use crate::plugins::LoadedImporter;
use crate::store::timestamp;

#[rocket::get("/importers")]
pub fn list(_user: AuthenticatedUser, state: &State<AppState>) -> Json<Value> {
    let registry = &state.registry;
    let data: Vec<Value> = registry.all().iter().map(|importer| view(importer, registry.last_error(importer))).collect();
    Json(json!({ "data": data, "rejected": registry.rejected() }))
}

/// Renders an importer as an entry of `GET /importers`; `ingest list --json` prints the
/// same entries.
///
/// `target`, `keyed_by`, `duplicates` and `columns` describe the main target, the
/// fields a Laravel Ingest client reads; `targets` lists every target.
pub fn view(importer: &LoadedImporter, last_error: Option<String>) -> Value {
    let description = &importer.description;
    let main = description.main_target();
    json!({
        "slug": description.slug,
        "name": description.name,
        "version": description.version,
        "sdk_version": description.sdk_version,
        "source": description.source,
        "target": main.table,
        "targets": description.targets,
        "keyed_by": main.keyed_by,
        "duplicates": main.duplicates,
        "chunk_size": description.chunk_size,
        "atomic_chunks": description.atomic_chunks,
        "columns": main.columns,
        "file": importer.file.display().to_string(),
        "loaded_at": timestamp(importer.loaded_at),
        "load_ms": importer.load.duration.as_millis() as u64,
        "compilation": importer.load.compilation.as_str(),
        "sha256": importer.sha256_hex(),
        "last_error": last_error,
    })
}
