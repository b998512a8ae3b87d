//! Bearer-token authentication: every API endpoint returns 401 with
//! `{"message": "Unauthenticated."}` without a valid token.

use ingest_e2e::{TestApp, data_file, expect_json, file_form};
use reqwest::Method;

/// Every API endpoint, with `{id}` for an existing run's id.
const ENDPOINTS: [(&str, &str); 9] = [
    ("GET", ""),
    ("GET", "/{id}"),
    ("POST", "/upload/airline-importer"),
    ("POST", "/trigger/airline-importer"),
    ("POST", "/{id}/cancel"),
    ("POST", "/{id}/retry"),
    ("GET", "/{id}/errors/summary"),
    ("GET", "/{id}/failed-rows/download"),
    ("GET", "/importers"),
];

/// Sends a request to every endpoint with `authorization` as the Authorization header
/// (none when `None`) and asserts the 401 body.
fn assert_every_endpoint_rejects(authorization: Option<&str>) {
    let app = TestApp::start(&["airline-importer"]);
    let run = app.import("airline-importer", &data_file("airlines.csv"));
    let id = run["id"].to_string();

    for (method, path) in ENDPOINTS {
        let path = path.replace("{id}", &id);
        let method: Method = method.parse().expect("a valid HTTP method");
        let mut request = app.client().request(method.clone(), app.api_url(&path));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        if path.starts_with("/upload/") {
            // A valid upload, so that only the missing credentials can fail it.
            request = request.multipart(file_form(&data_file("airlines.csv")));
        }

        let response = app.send(request);

        let body = expect_json(response, 401);
        assert_eq!(body["message"], "Unauthenticated.", "{method} {path}");
    }

    let list = expect_json(app.get(""), 200);
    assert_eq!(list["meta"]["total"], 1, "rejected uploads create no run: {list}");
}

#[test]
fn requests_without_token_are_unauthenticated() {
    assert_every_endpoint_rejects(None);
}

#[test]
fn requests_with_wrong_token_are_unauthenticated() {
    assert_every_endpoint_rejects(Some("Bearer not-a-token-of-this-server"));
}

#[test]
fn non_bearer_token_is_unauthenticated() {
    let app = TestApp::start(&[]);
    let authorization = format!("Basic {}", app.token());

    let response = app.send(app.client().get(app.api_url("/importers")).header("Authorization", authorization));

    let body = expect_json(response, 401);
    assert_eq!(body["message"], "Unauthenticated.");
}

#[test]
fn valid_token_is_accepted() {
    let app = TestApp::start(&[]);

    let response = app.send(app.client().get(app.api_url("/importers")).bearer_auth(app.token()));

    expect_json(response, 200);
}

#[test]
fn token_use_sets_last_used_at() {
    let app = TestApp::start(&[]);
    let before = app.cli(&["token", "list", "--json"]).json();
    assert_eq!(before[0]["last_used_at"], serde_json::Value::Null, "no request used the token yet: {before}");

    expect_json(app.get(""), 200);

    let after = app.cli(&["token", "list", "--json"]).json();
    let last_used_at = after[0]["last_used_at"].as_str().unwrap_or_else(|| panic!("last_used_at is not set: {after}"));
    assert!(ingest_e2e::is_api_timestamp(last_used_at), "{last_used_at}");
    let listed = app.cli(&["token", "list"]);
    listed.expect_code(0);
    assert!(listed.stdout.contains("last used"), "{}", listed.stdout);
    assert!(listed.stdout.contains(last_used_at), "{}", listed.stdout);
}
