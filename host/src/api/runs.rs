//! Routes over existing runs: list, show, cancel, retry, errors summary.

use rocket::State;
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::AuthenticatedUser;
use super::errors::ApiError;
use super::list_url::ListUrl;
use super::{AppState, views};
use crate::runs::{RetryError, create_retry};
use crate::store::runs::{self, CancelOutcome};
use crate::store::{StoreError, rows};

const DEFAULT_PER_PAGE: i64 = 15;
const MAX_PER_PAGE: i64 = 100;

#[rocket::get("/?<page>&<per_page>")]
pub async fn list(
    _user: AuthenticatedUser,
    state: &State<AppState>,
    url: ListUrl,
    page: Option<&str>,
    per_page: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    // Laravel reads a missing or unparsable page as the first page.
    // Pages past what an i64 offset can express read as the first page, as invalid ones do.
    let page = page
        .and_then(|page| page.parse::<i64>().ok())
        .filter(|page| (1..=i64::MAX / MAX_PER_PAGE).contains(page))
        .unwrap_or(1);
    let per_page = per_page
        .and_then(|per_page| per_page.parse::<i64>().ok())
        .filter(|per_page| *per_page >= 1)
        .unwrap_or(DEFAULT_PER_PAGE)
        .min(MAX_PER_PAGE);

    let (found, total) = state.store.run(move |connection| runs::page(connection, page, per_page)).await?;
    let data = found.iter().map(|run| views::run(run, None)).collect();
    Ok(Json(views::page(data, url.base(), |page| url.page(page), page, per_page, total)))
}

#[rocket::get("/<id>", rank = 2)]
pub async fn show(id: &str, _user: AuthenticatedUser, state: &State<AppState>) -> Result<Json<Value>, ApiError> {
    let id = parse_run_id(id)?;
    let limit = state.config.run_rows_limit;
    let (run, stored) = state
        .store
        .run(move |connection| {
            let Some(run) = runs::find(connection, id)? else { return Ok(None) };
            let stored = rows::first_rows(connection, id, limit)?;
            Ok(Some((run, stored)))
        })
        .await?
        .ok_or_else(|| run_not_found(id))?;
    Ok(Json(json!({ "data": views::run(&run, Some(&stored)) })))
}

#[rocket::post("/<id>/cancel", rank = 3)]
pub async fn cancel(id: &str, _user: AuthenticatedUser, state: &State<AppState>) -> Result<Json<Value>, ApiError> {
    let id = parse_run_id(id)?;
    match state.store.run(move |connection| runs::request_cancel(connection, id)).await? {
        CancelOutcome::Requested | CancelOutcome::CancelledBeforeStart => {
            tracing::info!(run_id = id, "run cancellation requested");
            Ok(Json(json!({ "message": "Cancellation request sent." })))
        }
        CancelOutcome::AlreadyFinished(status) => Err(ApiError::BadRequest(format!(
            "Run {id} has already finished with status {}; only pending or processing runs can be cancelled.",
            status.as_str()
        ))),
        CancelOutcome::NotFound => Err(run_not_found(id)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RetryRequest {
    #[serde(default)]
    dry_run: Option<bool>,
}

#[rocket::post("/<id>/retry", data = "<body>", rank = 3)]
pub async fn retry(
    id: &str,
    user: AuthenticatedUser,
    state: &State<AppState>,
    body: String,
) -> Result<(Status, Json<Value>), ApiError> {
    let id = parse_run_id(id)?;
    let dry_run = parse_dry_run_body::<RetryRequest>(&body, |request| request.dry_run)?;
    let created = state
        .store
        .run(move |connection| Ok(create_retry(connection, id, Some(user.id), dry_run)))
        .await?;
    let run = created.map_err(|error| match error {
        RetryError::NotFound(id) => run_not_found(id),
        RetryError::NoFailedRows(_) => ApiError::BadRequest(format!("Run {id} has no failed rows to retry.")),
        error @ RetryError::AlreadyRetrying { .. } => ApiError::Conflict(sentence(&error.to_string())),
        RetryError::Store(error) => ApiError::Store(error),
    })?;
    state.runs.wake.notify_one();
    tracing::info!(run_id = run.id, retried_from = id, dry_run = run.dry_run, "retry run created");
    Ok((Status::Accepted, Json(json!({ "data": views::run(&run, None) }))))
}

#[rocket::get("/<id>/errors/summary")]
pub async fn errors_summary(id: &str, _user: AuthenticatedUser, state: &State<AppState>) -> Result<Json<Value>, ApiError> {
    let id = parse_run_id(id)?;
    let summary = state
        .store
        .run(move |connection| {
            if runs::find(connection, id)?.is_none() {
                return Ok(None);
            }
            let total = runs::failed_row_count(connection, id)?;
            let errors = rows::error_summary(connection, id)?;
            let validation = rows::validation_summary(connection, id)?;
            Ok::<_, StoreError>(Some(json!({
                "total_failed_rows": total,
                "error_summary": errors,
                "validation_summary": validation,
            })))
        })
        .await?
        .ok_or_else(|| run_not_found(id))?;
    Ok(Json(json!({ "data": summary })))
}

/// Reads the optional JSON body `{"dry_run": bool}` of retry and trigger, and returns
/// `dry_run` when the body sets it. An empty body sets nothing; a body that is not such
/// JSON is a 422, never a silent real run.
pub fn parse_dry_run_body<T: serde::de::DeserializeOwned>(
    body: &str,
    dry_run: impl FnOnce(T) -> Option<bool>,
) -> Result<Option<bool>, ApiError> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<T>(body)
        .map(dry_run)
        .map_err(|_| ApiError::invalid("dry_run", "The body must be JSON such as {\"dry_run\": true}, with dry_run true or false."))
}

pub fn run_not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Run {id} not found."))
}

/// Reads a run id from the path. An id that is not a number names no run, so the answer
/// is 404 as in Laravel, not a validation error.
pub fn parse_run_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound(format!("Run {id} not found.")))
}

/// Capitalises an error's text and ends it with a period, as the API's messages read.
pub fn sentence(text: &str) -> String {
    let mut characters = text.chars();
    let mut sentence: String = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    };
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}
