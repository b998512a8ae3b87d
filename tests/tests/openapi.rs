//! `GET {prefix}/openapi.json`: the OpenAPI document, served under the configured prefix.

use ingest_e2e::{API_PREFIX, TestApp, expect_json};

#[test]
fn openapi_document_describes_api() {
    let app = TestApp::start(&[]);

    let document = expect_json(app.get("/openapi.json"), 200);

    assert_eq!(document["openapi"], "3.0.3");
    assert_eq!(document["servers"][0]["url"], API_PREFIX);
    for (path, method) in [
        ("/", "get"),
        ("/{id}", "get"),
        ("/upload/{slug}", "post"),
        ("/{id}/retry", "post"),
        ("/{id}/cancel", "post"),
        ("/{id}/errors/summary", "get"),
        ("/{id}/failed-rows/download", "get"),
        ("/importers", "get"),
        ("/openapi.json", "get"),
        ("/metrics", "get"),
        ("/health", "get"),
    ] {
        assert!(document["paths"][path][method].is_object(), "{method} {path} is not documented");
    }
}

#[test]
fn openapi_requires_token() {
    let app = TestApp::start(&[]);

    let response = app.client().get(app.api_url("/openapi.json")).send().unwrap();

    assert_eq!(expect_json(response, 401)["message"], "Unauthenticated.");
}

#[test]
fn openapi_follows_configured_prefix() {
    let app = TestApp::builder().env("INGEST_API_PREFIX", "/imports/v2").start();

    let response = app.client().get(app.url("/imports/v2/openapi.json")).bearer_auth(app.token()).send().unwrap();
    let document = expect_json(response, 200);

    assert_eq!(document["servers"][0]["url"], "/imports/v2");
}
