//! `GET /importers`: what the plugins directory serves.

use rocket::State;
use rocket::serde::json::Json;
use serde_json::{Value, json};

use super::AppState;
use super::auth::AuthenticatedUser;
use crate::store::timestamp;

#[rocket::get("/importers")]
pub fn list(_user: AuthenticatedUser, state: &State<AppState>) -> Json<Value> {
    let data: Vec<Value> = state
        .registry
        .all()
        .iter()
        .map(|importer| {
            let description = &importer.description;
            json!({
                "slug": description.slug,
                "name": description.name,
                "version": description.version,
                "sdk_version": description.sdk_version,
                "source": description.source,
                "target": description.target,
                "keyed_by": description.keyed_by,
                "duplicates": description.duplicates,
                "chunk_size": description.chunk_size,
                "atomic_chunks": description.atomic_chunks,
                "columns": description.columns,
                "file": importer.file.display().to_string(),
                "loaded_at": timestamp(importer.loaded_at),
                "last_error": state.registry.last_error(importer),
            })
        })
        .collect();
    Json(json!({ "data": data, "rejected": state.registry.rejected() }))
}
