//! `GET /health` and `GET /metrics`, outside the API prefix and without a token.

use std::fmt::Write;

use rocket::State;
use rocket::http::ContentType;
use serde_json::{Value, json};

use super::AppState;
use super::errors::ApiError;
use crate::store::runs::{self, Status};

#[rocket::get("/health")]
pub async fn health(state: &State<AppState>) -> (rocket::http::Status, rocket::serde::json::Json<Value>) {
    let database = state.store.run(|connection| runs::count_by_status(connection)).await;
    match database {
        Ok(_) => (rocket::http::Status::Ok, rocket::serde::json::Json(json!({ "status": "ok" }))),
        Err(error) => {
            tracing::error!(%error, "health check could not reach the database");
            (
                rocket::http::Status::ServiceUnavailable,
                rocket::serde::json::Json(json!({ "status": "unavailable", "message": "The database cannot be reached." })),
            )
        }
    }
}

/// Prometheus text exposition: runs by status (from the database, so every node reports
/// the same), importers, and this process's row counters and chunk latency.
#[rocket::get("/metrics")]
pub async fn metrics(state: &State<AppState>) -> Result<(ContentType, String), ApiError> {
    let by_status = state.store.run(|connection| runs::count_by_status(connection)).await?;
    let mut text = String::new();
    let _ = writeln!(text, "# HELP ingest_runs Runs in the database by status.");
    let _ = writeln!(text, "# TYPE ingest_runs gauge");
    // Every status is written, with 0 when no run has it, so a query never finds a gap.
    for status in ALL_STATUSES {
        let count = by_status.iter().find(|(name, _)| name == status.as_str()).map_or(0, |(_, count)| *count);
        let _ = writeln!(text, "ingest_runs{{status=\"{}\"}} {count}", status.as_str());
    }
    let _ = writeln!(text, "# HELP ingest_importers_loaded Importers registered by slug.");
    let _ = writeln!(text, "# TYPE ingest_importers_loaded gauge");
    let _ = writeln!(text, "ingest_importers_loaded {}", state.registry.all().len());
    let _ = writeln!(text, "# HELP ingest_importers_rejected Files in the plugins directory that failed to load.");
    let _ = writeln!(text, "# TYPE ingest_importers_rejected gauge");
    let _ = writeln!(text, "ingest_importers_rejected {}", state.registry.rejected().len());
    crate::metrics::render(&mut text);
    let content_type = ContentType::new("text", "plain").with_params([("version", "0.0.4")]);
    Ok((content_type, text))
}

const ALL_STATUSES: [Status; 6] = [
    Status::Pending,
    Status::Processing,
    Status::Completed,
    Status::CompletedWithErrors,
    Status::Failed,
    Status::Cancelled,
];
