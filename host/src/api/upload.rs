//! Starting runs: `POST /upload/{slug}` for uploaded files, `POST /trigger/{slug}` for
//! importers whose source needs no upload.

use rocket::State;
use rocket::form::{Errors, Form, FromForm};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::serde::json::Json;
use serde_json::{Value, json};

use super::auth::AuthenticatedUser;
use super::errors::ApiError;
use super::runs::sentence;
use super::{AppState, views};
use crate::plugins::description::SourceKind;
use crate::sources::{self, FormatOptions, SourceError};
use crate::store::runs::{self, NewRun};

#[derive(FromForm)]
pub struct UploadForm<'r> {
    file: Option<TempFile<'r>>,
    dry_run: Option<String>,
}

#[rocket::post("/upload/<slug>", data = "<form>")]
pub async fn upload(
    slug: &str,
    user: AuthenticatedUser,
    state: &State<AppState>,
    form: Result<Form<UploadForm<'_>>, Errors<'_>>,
) -> Result<(Status, Json<Value>), ApiError> {
    let importer = state.registry.get(slug).ok_or_else(|| importer_not_found(slug))?;
    let mut form = form.map_err(form_error)?.into_inner();
    let dry_run = parse_dry_run(form.dry_run.as_deref())?;
    let file = form.file.as_mut().filter(|file| file.len() > 0).ok_or_else(|| {
        ApiError::invalid("file", "The file field is required.")
    })?;
    if importer.description.source != SourceKind::Upload && importer.description.source != SourceKind::Json {
        return Err(ApiError::BadRequest(format!(
            "Importer {slug} reads its rows from its own source, not an upload; start it with POST trigger/{slug}."
        )));
    }

    // The stored name is generated: the client's file name is kept only as a label.
    let original_filename = file
        .raw_name()
        .map(|name| name.dangerous_unsafe_unsanitized_raw().as_str().to_owned())
        .unwrap_or_else(|| "upload".into());
    let uploads = state.config.storage_dir.join("uploads");
    tokio::fs::create_dir_all(&uploads).await.map_err(|error| ApiError::Internal(error.to_string()))?;
    let stored_path = uploads.join(format!("{}-{:016x}", chrono::Utc::now().format("%Y%m%d%H%M%S"), rand::random::<u64>()));
    file.persist_to(&stored_path).await.map_err(|error| ApiError::Internal(error.to_string()))?;

    check_readable(&stored_path, &original_filename).await?;

    let new_run = NewRun {
        importer: slug.to_owned(),
        user_id: Some(user.id),
        original_filename: Some(original_filename),
        stored_path: Some(stored_path.display().to_string()),
        dry_run,
        retried_from_run_id: None,
        headers: None,
    };
    let run = state.store.run(move |connection| runs::insert(connection, &new_run)).await?;
    state.runs.wake.notify_one();
    tracing::info!(run_id = run.id, importer = slug, dry_run, "run queued");
    Ok((Status::Accepted, Json(json!({ "data": views::run(&run, None) }))))
}

/// Answers uploads that are not multipart forms at all, which the route above never
/// sees: Laravel answers them with the same 422 as a missing file.
#[rocket::post("/upload/<slug>", rank = 2)]
pub async fn upload_without_form(
    slug: &str,
    _user: AuthenticatedUser,
    state: &State<AppState>,
) -> Result<(Status, Json<Value>), ApiError> {
    state.registry.get(slug).ok_or_else(|| importer_not_found(slug))?;
    Err(ApiError::invalid("file", "The file field is required."))
}

#[rocket::post("/trigger/<slug>")]
pub async fn trigger(slug: &str, _user: AuthenticatedUser, state: &State<AppState>) -> Result<(Status, Json<Value>), ApiError> {
    let importer = state.registry.get(slug).ok_or_else(|| importer_not_found(slug))?;
    // NOTE: filesystem and URL sources are not implemented yet, so no importer can be
    // triggered; this answers what an upload importer needs instead.
    Err(ApiError::BadRequest(format!(
        "Importer {slug} reads a {:?} source, which cannot be triggered yet; upload its file with POST upload/{slug}.",
        importer.description.source
    )))
}

pub fn importer_not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("Importer {slug} not found."))
}

fn parse_dry_run(value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid("dry_run", "The dry run field must be true or false.")),
    }
}

fn form_error(errors: Errors<'_>) -> ApiError {
    let too_large = errors.iter().any(|error| {
        matches!(error.kind, rocket::form::error::ErrorKind::InvalidLength { .. })
            || error.to_string().contains("limit")
    });
    if too_large {
        return ApiError::TooLarge(
            "The uploaded file is larger than the server accepts; split it or ask the operator to raise INGEST_MAX_UPLOAD_BYTES."
                .into(),
        );
    }
    ApiError::invalid("file", format!("The upload could not be read: {errors}."))
}

/// Opens the stored file once so that content no importer can read is answered now,
/// with 422, rather than as a failed run.
async fn check_readable(path: &std::path::Path, original_filename: &str) -> Result<(), ApiError> {
    let path = path.to_owned();
    let name = original_filename.to_owned();
    let opened = tokio::task::spawn_blocking(move || sources::open(&path, &name, &FormatOptions::default()).map(|_| ()))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    match opened {
        Ok(()) => Ok(()),
        Err(error @ (SourceError::UnsupportedFormat { .. } | SourceError::EmptyFile { .. } | SourceError::InvalidWorkbook { .. })) => {
            Err(ApiError::invalid("file", sentence(&error.to_string())))
        }
        // Other problems (a bad row, a read error) surface in the run itself.
        Err(_) => Ok(()),
    }
}
