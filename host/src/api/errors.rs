//! The API's error policy.
//!
//! Handlers return [`ApiError`]; each variant is a case a client acts on and maps to one
//! status code. Every error body is JSON with a `message` (one sentence: what went wrong
//! and what to do), plus `errors` by field for validation failures, as Laravel answers.
//! Store and task failures become 500 with their detail logged, not shown.

use rocket::http::{Header, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{Request, catch};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// A server this one fetched from failed or returned an error status: 502.
    #[error("{0}")]
    BadGateway(String),
    /// A server this one fetched from did not respond in time: 504.
    #[error("{0}")]
    GatewayTimeout(String),
    /// A field failed validation: 422 with `errors: {field: [message]}`.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid { field, message: message.into() }
    }

    fn status(&self) -> Status {
        match self {
            ApiError::NotFound(_) => Status::NotFound,
            ApiError::BadRequest(_) => Status::BadRequest,
            ApiError::Conflict(_) => Status::Conflict,
            ApiError::TooLarge(_) => Status::PayloadTooLarge,
            ApiError::BadGateway(_) => Status::BadGateway,
            ApiError::GatewayTimeout(_) => Status::GatewayTimeout,
            ApiError::Invalid { .. } => Status::UnprocessableEntity,
            ApiError::Store(_) | ApiError::Internal(_) => Status::InternalServerError,
        }
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        let body = match &self {
            ApiError::Invalid { field, message } => json!({ "message": message, "errors": { *field: [message] } }),
            ApiError::Store(_) | ApiError::Internal(_) => {
                tracing::error!(error = %self, path = %request.uri(), "request failed");
                json!({ "message": "The server failed to handle the request; try again later." })
            }
            other => json!({ "message": other.to_string() }),
        };
        let mut response = Json(body).respond_to(request)?;
        response.set_status(status);
        Ok(response)
    }
}

fn message(text: &str) -> Json<serde_json::Value> {
    Json(json!({ "message": text }))
}

#[catch(400)]
pub fn bad_request() -> Json<serde_json::Value> {
    message("The request is malformed; check its body and parameters.")
}

#[catch(401)]
pub fn unauthenticated() -> Json<serde_json::Value> {
    message("Unauthenticated.")
}

/// Responds with 404, or with 405 and an `Allow` header when a route has this path but
/// another method, as Laravel does.
#[catch(404)]
pub fn not_found(request: &Request<'_>) -> NotFound {
    let mut requested = request.method();
    if requested == rocket::http::Method::Head {
        // Rocket serves HEAD requests with GET routes.
        requested = rocket::http::Method::Get;
    }
    let path = request.uri().path().as_str();
    let allowed = super::methods::allowed_methods(request.rocket(), path);
    if allowed.is_empty() || allowed.contains(&requested) {
        // No route has this path, or one with this method forwarded: a plain 404.
        return NotFound::Route;
    }
    let allowed: Vec<&str> = allowed.iter().map(|method| method.as_str()).collect();
    NotFound::Method {
        message: format!(
            "The {} method is not supported for route {path}. Supported methods: {}.",
            request.method(),
            allowed.join(", ")
        ),
        allow: allowed.join(", "),
    }
}

/// The response of the 404 catcher.
pub enum NotFound {
    Route,
    /// 405: the path exists with the methods of `allow`.
    Method { message: String, allow: String },
}

impl<'r> Responder<'r, 'static> for NotFound {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        match self {
            NotFound::Route => message("Not found.").respond_to(request),
            NotFound::Method { message: text, allow } => {
                let mut response = message(&text).respond_to(request)?;
                response.set_status(Status::MethodNotAllowed);
                response.set_header(Header::new("Allow", allow));
                Ok(response)
            }
        }
    }
}

#[catch(413)]
pub fn too_large() -> Json<serde_json::Value> {
    message("The uploaded file is larger than the server accepts; split it or ask the operator to raise INGEST_MAX_UPLOAD_BYTES.")
}

#[catch(422)]
pub fn unprocessable() -> Json<serde_json::Value> {
    message("The request could not be processed; check its fields.")
}

#[catch(default)]
pub fn other(status: Status, _request: &Request<'_>) -> Json<serde_json::Value> {
    message(status.reason().unwrap_or("The request failed."))
}
