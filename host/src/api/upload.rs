//! Starting runs: `POST /upload/{slug}` for uploaded files, `POST /trigger/{slug}` for
//! importers that read a file from an import directory or a URL.
//!
//! Either way the file is stored in the storage directory, under a generated name, before
//! the run is created, and the run reads only that copy. An upload is stored as it
//! arrives, and a filesystem or URL source is copied or fetched by the trigger request
//! itself. A run therefore reads the same bytes from its first chunk to its last, also
//! after a restart. A source that cannot be read fails the request itself rather than
//! becoming a failed run. The client's file name is only a label and never becomes a path.
//!
//! A file the importer cannot read (another format than it expects, no header row, a
//! sheet it does not have) is removed, and the request fails with 422.

use std::path::{Path, PathBuf};

use rocket::State;
use rocket::form::{Errors, Form, FromForm};
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::AuthenticatedUser;
use super::errors::ApiError;
use super::runs::sentence;
use super::upload_form::{UploadPart, form_error, single_file};
use super::{AppState, views};
use crate::fetch::{self, FetchError, FetchFault};
use crate::plugins::description::{Description, SourceKind};
use crate::sources::import_dirs::{self, ImportPathError};
use crate::sources::{self, FormatOptions, SourceError};
use crate::store::runs::{self, NewRun};

#[derive(FromForm)]
pub struct UploadForm<'r> {
    /// Every part named `file`, so that a second one is rejected rather than ignored. A
    /// `Result`, so that a file over the size limit is not read as a missing file.
    file: rocket::form::Result<'r, Vec<UploadPart<'r>>>,
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
    let form = form.map_err(form_error)?.into_inner();
    let dry_run = parse_dry_run(form.dry_run.as_deref())?;
    let file = single_file(form.file.map_err(form_error)?)?;
    if !matches!(importer.description.source, SourceKind::Upload | SourceKind::Json) {
        return Err(ApiError::BadRequest(format!(
            "Importer {slug} reads its rows from its own source, not an upload; start it with POST trigger/{slug}."
        )));
    }

    // The stored name is generated: the client's file name is kept only as a label.
    let original_filename = file
        .raw_name()
        .map(|name| name.dangerous_unsafe_unsanitized_raw().as_str().to_owned())
        .unwrap_or_else(|| "upload".into());
    let stored_path = new_stored_path(state).await?;
    file.persist_to(&stored_path).await.map_err(|error| ApiError::Internal(error.to_string()))?;

    check_readable(&stored_path, &original_filename, &importer.description, "file").await?;
    let run = create_run(state, slug, user, original_filename, &stored_path, dry_run).await?;
    tracing::info!(run_id = run["id"].as_i64(), importer = slug, dry_run, "run queued for an upload");
    Ok((Status::Accepted, Json(json!({ "data": run }))))
}

/// Handles uploads that are not multipart forms at all, which the route above never
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

/// The optional JSON body of `POST /trigger/{slug}`.
#[derive(Debug, Default, Deserialize)]
pub struct TriggerRequest {
    #[serde(default)]
    dry_run: Option<bool>,
}

/// Copies the importer's file from its import directory, or fetches it from its URL,
/// into storage and queues a run over the copy.
#[rocket::post("/trigger/<slug>", data = "<body>")]
pub async fn trigger(
    slug: &str,
    user: AuthenticatedUser,
    state: &State<AppState>,
    body: String,
) -> Result<(Status, Json<Value>), ApiError> {
    let importer = state.registry.get(slug).ok_or_else(|| importer_not_found(slug))?;
    let description = &importer.description;
    let dry_run = super::runs::parse_dry_run_body::<TriggerRequest>(&body, |request| request.dry_run)?.unwrap_or(false);
    let location = match (description.source, &description.location) {
        (SourceKind::Filesystem | SourceKind::Url, Some(location)) => location.clone(),
        _ => {
            return Err(ApiError::BadRequest(format!(
                "Importer {slug} reads uploaded files, so it cannot be triggered; upload its file with POST upload/{slug}."
            )));
        }
    };

    let stored_path = new_stored_path(state).await?;
    let original_filename = match description.source {
        SourceKind::Url => fetch_url(state, slug, &location, &stored_path).await?,
        _ => copy_from_import_dir(state, slug, &location, &stored_path).await?,
    };

    check_readable(&stored_path, &original_filename, description, "source").await?;
    let run = create_run(state, slug, user, original_filename, &stored_path, dry_run).await?;
    tracing::info!(run_id = run["id"].as_i64(), importer = slug, %location, dry_run, "run queued for a triggered source");
    Ok((Status::Accepted, Json(json!({ "data": run }))))
}

pub fn importer_not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("Importer {slug} not found."))
}

/// Returns a new path under `<storage>/uploads`, named by the time and a random number.
async fn new_stored_path(state: &AppState) -> Result<PathBuf, ApiError> {
    let uploads = state.config.storage_dir.join("uploads");
    tokio::fs::create_dir_all(&uploads).await.map_err(|error| ApiError::Internal(error.to_string()))?;
    let name = format!("{}-{:016x}", chrono::Utc::now().format("%Y%m%d%H%M%S"), rand::random::<u64>());
    Ok(uploads.join(name))
}

async fn create_run(
    state: &AppState,
    slug: &str,
    user: AuthenticatedUser,
    original_filename: String,
    stored_path: &Path,
    dry_run: bool,
) -> Result<Value, ApiError> {
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
    Ok(views::run(&run, None))
}

/// Copies `location` from the first import directory that has it to `stored_path` and
/// returns the run's file name: the location as the importer wrote it.
async fn copy_from_import_dir(
    state: &AppState,
    slug: &str,
    location: &str,
    stored_path: &Path,
) -> Result<String, ApiError> {
    let import_dirs = state.config.import_dirs.clone();
    let (source, destination) = (location.to_owned(), stored_path.to_owned());
    let copied = tokio::task::spawn_blocking(move || -> Result<u64, CopyError> {
        let mut found = import_dirs::open(&import_dirs, &source).map_err(CopyError::Source)?;
        let mut stored = std::fs::File::create(&destination).map_err(CopyError::Storage)?;
        let bytes = std::io::copy(&mut found.file, &mut stored).map_err(CopyError::Storage)?;
        stored.sync_all().map_err(CopyError::Storage)?;
        Ok(bytes)
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))?;

    match copied {
        Ok(bytes) => {
            tracing::info!(importer = slug, location, bytes, "copied a filesystem source into storage");
            Ok(location.to_owned())
        }
        Err(error) => {
            remove_stored(stored_path).await;
            match error {
                CopyError::Source(error) => {
                    tracing::warn!(importer = slug, location, %error, "a filesystem source cannot be read");
                    Err(ApiError::invalid("source", sentence(&error.to_string())))
                }
                CopyError::Storage(error) => {
                    Err(ApiError::Internal(format!("storing a copy of {location} failed: {error}")))
                }
            }
        }
    }
}

enum CopyError {
    Source(ImportPathError),
    Storage(std::io::Error),
}

/// Fetches `url` to `stored_path` and returns the run's file name: the last segment of
/// the final URL's path.
async fn fetch_url(state: &AppState, slug: &str, url: &str, stored_path: &Path) -> Result<String, ApiError> {
    let started = std::time::Instant::now();
    match fetch::fetch_to_file(url, stored_path, &state.config.fetch).await {
        Ok(fetched) => {
            let duration_ms = started.elapsed().as_millis() as u64;
            tracing::info!(importer = slug, url = %fetched.url, bytes = fetched.bytes, duration_ms, "fetched a URL source into storage");
            Ok(url_file_name(&fetched.url))
        }
        Err(error) => {
            tracing::warn!(importer = slug, url, %error, "fetching a URL source failed");
            Err(fetch_error(error))
        }
    }
}

fn fetch_error(error: FetchError) -> ApiError {
    let message = sentence(&error.to_string());
    match error.fault() {
        FetchFault::Rejected => ApiError::invalid("source", message),
        FetchFault::Upstream => ApiError::BadGateway(message),
        FetchFault::TimedOut => ApiError::GatewayTimeout(message),
        FetchFault::Storage => ApiError::Internal(error.to_string()),
    }
}

/// Returns the last segment of a URL's path, such as `cars.json`, or `download` when
/// the path ends with a slash.
fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let after_authority = path.split_once("://").map_or(path, |(_, rest)| rest);
    match after_authority.split_once('/') {
        Some((_, path)) => path.rsplit('/').next().filter(|name| !name.is_empty()).unwrap_or("download").to_owned(),
        None => "download".to_owned(),
    }
}

fn parse_dry_run(value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid("dry_run", "The dry run field must be true or false.")),
    }
}

/// Opens the stored file with the importer's format options, so that content the
/// importer cannot read gets a 422 on `field` now rather than a failed run later. Such a
/// file is removed.
async fn check_readable(
    path: &Path,
    original_filename: &str,
    description: &Description,
    field: &'static str,
) -> Result<(), ApiError> {
    let options = FormatOptions::for_importer(description.source, &description.format);
    let (stored, name) = (path.to_owned(), original_filename.to_owned());
    let opened = tokio::task::spawn_blocking(move || sources::open(&stored, &name, &options).map(|_| ()))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    match opened {
        Ok(()) => Ok(()),
        // A read error is the server's problem, and the run reports it.
        Err(SourceError::Unreadable { .. }) => Ok(()),
        Err(error) => {
            remove_stored(path).await;
            Err(ApiError::invalid(field, sentence(&error.to_string())))
        }
    }
}

/// Removes a stored file that no run will read. A copy that failed before it began
/// leaves no file, which is fine.
async fn remove_stored(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(path = %path.display(), %error, "removing a rejected file from storage failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::url_file_name;

    #[test]
    fn url_file_name_is_last_path_segment() {
        assert_eq!(url_file_name("http://127.0.0.1:8001/data/cars.json"), "cars.json");
        assert_eq!(url_file_name("http://host/export.csv?day=1#top"), "export.csv");
        assert_eq!(url_file_name("http://host/folder/"), "download");
        assert_eq!(url_file_name("http://host"), "download");
    }
}
