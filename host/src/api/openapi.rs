//! `GET {prefix}/openapi.json`: the OpenAPI 3.0 document of the API, written by hand.
//!
//! A unit test below compares its paths and methods with every route the server mounts,
//! so a route added without documentation, or documentation left after a route is
//! removed, fails the build's tests.

use rocket::State;
use rocket::serde::json::Json;
use serde_json::{Value, json};

use super::AppState;
use super::auth::AuthenticatedUser;

#[rocket::get("/openapi.json")]
pub fn openapi(_user: AuthenticatedUser, state: &State<AppState>) -> Json<Value> {
    Json(document(&state.config.api_prefix))
}

/// Builds the document for an API mounted at `prefix`. Paths are relative to the
/// server URL `prefix`, except `/health` and `/metrics`, which carry their own server
/// URL `/` because they are mounted outside the prefix.
pub fn document(prefix: &str) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "ingest",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Imports CSV and XLSX files into a database through WebAssembly importers. \
                Wire-compatible with the API of the PHP package Laravel Ingest.",
        },
        "servers": [{ "url": prefix }],
        "security": [{ "bearer": [] }],
        "paths": paths(),
        "components": components(),
    })
}

fn paths() -> Value {
    let run_id = json!({ "$ref": "#/components/parameters/RunId" });
    let slug = json!({ "$ref": "#/components/parameters/Slug" });
    json!({
        "/": {
            "get": {
                "operationId": "listRuns",
                "summary": "List runs, newest first, in the shape of Laravel's length-aware paginator.",
                "parameters": [
                    { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "default": 1 } },
                    { "name": "per_page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 15 } },
                ],
                "responses": {
                    "200": json_response("One page of runs.", "#/components/schemas/RunPage"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                },
            },
        },
        "/{id}": {
            "get": {
                "operationId": "showRun",
                "summary": "Show one run, with its first remembered rows (INGEST_RUN_ROWS_LIMIT).",
                "parameters": [run_id],
                "responses": {
                    "200": json_response("The run.", "#/components/schemas/RunResponse"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                },
            },
        },
        "/{id}/cancel": {
            "post": {
                "operationId": "cancelRun",
                "summary": "Stop a run at its next chunk boundary; a pending run is cancelled at once.",
                "parameters": [run_id],
                "responses": {
                    "200": json_response("The request was sent: {\"message\": \"Cancellation request sent.\"}.", "#/components/schemas/Message"),
                    "400": json_response("The run has already finished.", "#/components/schemas/Message"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                },
            },
        },
        "/{id}/retry": {
            "post": {
                "operationId": "retryRun",
                "summary": "Create a run over only the failed rows of this run, with the importer version now registered.",
                "parameters": [run_id],
                "requestBody": {
                    "required": false,
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": { "dry_run": { "type": "boolean", "description": "Run the importer but write nothing to the target table. Without it, the retry is a dry run exactly when the retried run was." } },
                    } } },
                },
                "responses": {
                    "202": json_response("The retry run, pending.", "#/components/schemas/RunResponse"),
                    "400": json_response("The run has no failed rows.", "#/components/schemas/Message"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                    "409": json_response("A retry of this run is already pending or processing.", "#/components/schemas/Message"),
                },
            },
        },
        "/{id}/errors/summary": {
            "get": {
                "operationId": "runErrorsSummary",
                "summary": "Count the run's failed rows by message and by validation message.",
                "parameters": [run_id],
                "responses": {
                    "200": json_response("The summary.", "#/components/schemas/ErrorsSummary"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                },
            },
        },
        "/{id}/failed-rows/download": {
            "get": {
                "operationId": "downloadFailedRows",
                "summary": "Download the failed rows as CSV: their original columns plus _error_message and _row_number.",
                "description": "Cells that a spreadsheet would run as formulas are neutralised.",
                "parameters": [run_id],
                "responses": {
                    "200": {
                        "description": "The CSV file, sent as an attachment.",
                        "content": { "text/csv": { "schema": { "type": "string" } } },
                    },
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                },
            },
        },
        "/upload/{slug}": {
            "post": {
                "operationId": "uploadFile",
                "summary": "Upload a file to an importer and start a run over it.",
                "parameters": [slug],
                "requestBody": {
                    "required": true,
                    "content": { "multipart/form-data": { "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": { "type": "string", "format": "binary", "description": "A CSV, XLSX or JSON (array of objects or NDJSON) file, optionally gzip-compressed." },
                            "dry_run": { "type": "string", "enum": ["1", "true", "0", "false"], "description": "Run the importer but write nothing to the target table." },
                        },
                    } } },
                },
                "responses": {
                    "202": json_response("The new run, pending.", "#/components/schemas/RunResponse"),
                    "400": json_response("The importer reads its own source and is started with trigger.", "#/components/schemas/Message"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                    "413": json_response("The file is larger than INGEST_MAX_UPLOAD_BYTES.", "#/components/schemas/Message"),
                    "422": json_response("The file is missing, empty, not a file, sent more than once, incomplete, unreadable or not in the format the importer reads, or dry_run is invalid.", "#/components/schemas/ValidationError"),
                },
            },
        },
        "/trigger/{slug}": {
            "post": {
                "operationId": "triggerImporter",
                "summary": "Start a run of an importer that reads a file from an import directory or a URL. The file is copied or fetched before the response.",
                "parameters": [slug],
                "requestBody": {
                    "required": false,
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": { "dry_run": { "type": "boolean", "default": false } },
                    } } },
                },
                "responses": {
                    "202": json_response("The new run, pending.", "#/components/schemas/RunResponse"),
                    "400": json_response("The importer reads uploads and cannot be triggered.", "#/components/schemas/Message"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                    "404": { "$ref": "#/components/responses/NotFound" },
                    "422": json_response("The source cannot be used: file not found or outside the import directories, URL host not allowed, file too large or not in the format the importer reads.", "#/components/schemas/ValidationError"),
                    "502": json_response("The URL's server failed, returned an error status or redirected too often.", "#/components/schemas/Message"),
                    "504": json_response("Fetching the URL took longer than INGEST_URL_TIMEOUT_SECONDS.", "#/components/schemas/Message"),
                },
            },
        },
        "/importers": {
            "get": {
                "operationId": "listImporters",
                "summary": "List the importers of the plugins directory, and the files that failed to load.",
                "responses": {
                    "200": json_response("The importers, by slug.", "#/components/schemas/ImporterList"),
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openApiDocument",
                "summary": "This document.",
                "responses": {
                    "200": { "description": "The OpenAPI document.", "content": { "application/json": { "schema": { "type": "object" } } } },
                    "401": { "$ref": "#/components/responses/Unauthenticated" },
                },
            },
        },
        "/health": {
            "servers": [{ "url": "/" }],
            "get": {
                "operationId": "health",
                "summary": "Check that the server can reach its database.",
                "security": [],
                "responses": {
                    "200": json_response("The server is healthy: {\"status\": \"ok\"}.", "#/components/schemas/Health"),
                    "503": json_response("The database cannot be reached.", "#/components/schemas/Health"),
                },
            },
        },
        "/metrics": {
            "servers": [{ "url": "/" }],
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics: runs by status, rows by outcome, chunk latency, importer load failures.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The Prometheus text exposition format, version 0.0.4.",
                        "content": { "text/plain": { "schema": { "type": "string" } } },
                    },
                },
            },
        },
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": schema } } } })
}

fn components() -> Value {
    let nullable_string = json!({ "type": "string", "nullable": true });
    let timestamp = json!({ "type": "string", "example": "2023-10-27T10:00:00.000000Z", "description": "UTC with microseconds." });
    let nullable_timestamp = json!({ "type": "string", "nullable": true, "example": "2023-10-27T10:00:00.000000Z" });
    let message_counts = json!({
        "type": "array",
        "items": { "type": "object", "properties": { "message": { "type": "string" }, "count": { "type": "integer" } } },
    });
    json!({
        "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer", "description": "A token created with `ingest token create --user <id>`." },
        },
        "parameters": {
            "RunId": { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" }, "description": "The run's id; anything else is answered with 404." },
            "Slug": { "name": "slug", "in": "path", "required": true, "schema": { "type": "string" }, "description": "The importer's slug." },
        },
        "responses": {
            "Unauthenticated": json_response("The bearer token is missing, invalid or revoked: {\"message\": \"Unauthenticated.\"}.", "#/components/schemas/Message"),
            "NotFound": json_response("No run or importer has this id or slug.", "#/components/schemas/Message"),
        },
        "schemas": {
            "Message": {
                "type": "object",
                "required": ["message"],
                "properties": { "message": { "type": "string" } },
            },
            "ValidationError": {
                "type": "object",
                "required": ["message", "errors"],
                "properties": {
                    "message": { "type": "string" },
                    "errors": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } },
                },
            },
            "Progress": {
                "type": "object",
                "properties": {
                    "total": { "type": "integer", "description": "Rows in the source; 0 until they are counted." },
                    "processed": { "type": "integer" },
                    "successful": { "type": "integer" },
                    "failed": { "type": "integer" },
                    "skipped": { "type": "integer" },
                },
            },
            "Row": {
                "type": "object",
                "properties": {
                    "row_number": { "type": "integer" },
                    "status": { "type": "string" },
                    "data": { "type": "object", "description": "The row's original columns." },
                    "errors": {
                        "type": "object",
                        "nullable": true,
                        "properties": {
                            "message": { "type": "string" },
                            "validation": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } },
                        },
                    },
                },
            },
            "Run": {
                "type": "object",
                "properties": {
                    "id": { "type": "integer" },
                    "importer": { "type": "string" },
                    "importer_version": nullable_string,
                    "status": { "type": "string", "enum": ["pending", "processing", "completed", "completed_with_errors", "failed", "cancelled"] },
                    "user_id": { "type": "integer", "nullable": true },
                    "original_filename": nullable_string,
                    "dry_run": { "type": "boolean" },
                    "retried_from_run_id": { "type": "integer", "nullable": true },
                    "progress": { "$ref": "#/components/schemas/Progress" },
                    "summary": { "type": "object", "nullable": true },
                    "error": nullable_string,
                    "created_at": timestamp,
                    "started_at": nullable_timestamp,
                    "completed_at": nullable_timestamp,
                    "rows": { "type": "array", "items": { "$ref": "#/components/schemas/Row" }, "description": "Only in GET /{id}." },
                },
            },
            "RunResponse": {
                "type": "object",
                "properties": { "data": { "$ref": "#/components/schemas/Run" } },
            },
            "RunPage": {
                "type": "object",
                "properties": {
                    "data": { "type": "array", "items": { "$ref": "#/components/schemas/Run" } },
                    "links": {
                        "type": "object",
                        "properties": {
                            "first": { "type": "string" },
                            "last": { "type": "string" },
                            "prev": nullable_string,
                            "next": nullable_string,
                        },
                    },
                    "meta": {
                        "type": "object",
                        "properties": {
                            "current_page": { "type": "integer" },
                            "from": { "type": "integer", "nullable": true },
                            "last_page": { "type": "integer" },
                            "links": { "type": "array", "items": { "type": "object", "properties": {
                                "url": nullable_string,
                                "label": { "type": "string" },
                                "active": { "type": "boolean" },
                            } } },
                            "path": { "type": "string" },
                            "per_page": { "type": "integer" },
                            "to": { "type": "integer", "nullable": true },
                            "total": { "type": "integer" },
                        },
                    },
                },
            },
            "ErrorsSummary": {
                "type": "object",
                "properties": {
                    "data": {
                        "type": "object",
                        "properties": {
                            "total_failed_rows": { "type": "integer" },
                            "error_summary": message_counts,
                            "validation_summary": message_counts,
                        },
                    },
                },
            },
            "Importer": {
                "type": "object",
                "properties": {
                    "slug": { "type": "string" },
                    "name": { "type": "string" },
                    "version": { "type": "string" },
                    "sdk_version": { "type": "string" },
                    "source": { "type": "string" },
                    "target": { "type": "string", "description": "The main target table, the first of `targets`." },
                    "targets": { "type": "array", "description": "Every table the importer writes, the main target first.", "items": { "type": "object", "properties": {
                        "table": { "type": "string" },
                        "columns": { "type": "array", "items": { "type": "object" } },
                        "keyed_by": { "type": "array", "items": { "type": "string" } },
                        "duplicates": { "type": "string" },
                        "newer_by": { "type": "array", "items": { "type": "string" } },
                    } } },
                    "keyed_by": { "type": "array", "items": { "type": "string" }, "description": "The key of the main target." },
                    "duplicates": { "type": "string", "description": "The duplicate strategy of the main target." },
                    "chunk_size": { "type": "integer" },
                    "atomic_chunks": { "type": "boolean" },
                    "columns": { "type": "array", "items": { "type": "object" }, "description": "The columns of the main target." },
                    "file": { "type": "string" },
                    "loaded_at": timestamp,
                    "last_error": { "type": "string", "nullable": true, "description": "Why the last load of a changed file failed; the version shown keeps serving." },
                },
            },
            "ImporterList": {
                "type": "object",
                "properties": {
                    "data": { "type": "array", "items": { "$ref": "#/components/schemas/Importer" } },
                    "rejected": { "type": "array", "items": { "type": "object", "properties": {
                        "file": { "type": "string" },
                        "error": { "type": "string" },
                    } } },
                },
            },
            "Health": {
                "type": "object",
                "properties": { "status": { "type": "string", "enum": ["ok", "unavailable"] }, "message": { "type": "string" } },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::api::{AppState, build};
    use crate::config::Config;
    use crate::plugins::{Registry, engine};
    use crate::runs::RunContext;
    use crate::store::Store;

    const PREFIX: &str = "/api/v1/ingest";

    /// A temporary directory removed on drop.
    struct TempDir(std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// `(METHOD, full path)` of every route the server mounts, with `<id>` written `{id}`.
    fn mounted_routes() -> BTreeSet<(String, String)> {
        let dir = TempDir(std::env::temp_dir().join(format!("ingest-openapi-{}-{}", std::process::id(), rand::random::<u32>())));
        std::fs::create_dir_all(&dir.0).unwrap();
        let mut config = Config::from_env().unwrap();
        config.api_prefix = PREFIX.into();
        config.storage_dir = dir.0.join("storage");
        let store = Store::open(&dir.0.join("ingest.db").display().to_string()).unwrap();
        let engine = engine::create(&dir.0.join("cache")).unwrap();
        let registry = std::sync::Arc::new(Registry::new(engine, config.limits).unwrap());
        let runs = RunContext::new(store.clone(), registry.clone(), config.clone());
        let rocket = build(AppState { store, registry, runs, config });

        rocket
            .routes()
            .map(|route| {
                let path = route.uri.path().to_string().trim_end_matches('/').to_owned();
                let path = if path.is_empty() { "/".to_owned() } else { path };
                let method = route.method.as_str().to_owned();
                (method, path.replace('<', "{").replace('>', "}"))
            })
            .collect()
    }

    /// `(METHOD, full path)` of every operation of the document.
    fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            let server = item["servers"][0]["url"].as_str().unwrap_or(PREFIX).trim_end_matches('/');
            let full = format!("{server}{path}");
            let full = if full.len() > 1 { full.trim_end_matches('/').to_owned() } else { full };
            for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
                if item.get(method).is_some() {
                    operations.insert((method.to_uppercase(), full.clone()));
                }
            }
        }
        operations
    }

    #[test]
    fn document_matches_mounted_routes() {
        let mounted = mounted_routes();
        let documented = documented_operations(&document(PREFIX));
        assert!(mounted.len() >= 12, "the routes were not listed: {mounted:?}");

        let undocumented: Vec<_> = mounted.difference(&documented).collect();
        let unmounted: Vec<_> = documented.difference(&mounted).collect();
        assert!(undocumented.is_empty(), "routes missing from the OpenAPI document: {undocumented:?}");
        assert!(unmounted.is_empty(), "documented operations that no route serves: {unmounted:?}");
    }

    #[test]
    fn every_reference_resolves() {
        let document = document(PREFIX);
        let mut references = Vec::new();
        collect_references(&document, &mut references);

        assert!(!references.is_empty());
        for reference in references {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference} is not a local reference"));
            assert!(document.pointer(pointer).is_some(), "{reference} points at nothing");
        }
    }

    fn collect_references(value: &Value, references: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    references.push(reference.clone());
                }
                object.values().for_each(|value| collect_references(value, references));
            }
            Value::Array(items) => items.iter().for_each(|value| collect_references(value, references)),
            _ => {}
        }
    }

    #[test]
    fn every_operation_has_responses_and_an_id() {
        let document = document(PREFIX);
        let mut ids = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap().iter().filter(|(key, _)| *key != "servers") {
                let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
                assert!(operation["responses"].as_object().is_some_and(|responses| !responses.is_empty()), "{method} {path} has no responses");
            }
        }
    }
}
