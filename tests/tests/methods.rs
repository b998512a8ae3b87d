//! A request whose path exists with another method gets 405 with an `Allow` header and a
//! JSON message, as Laravel responds.

use ingest_e2e::{TestApp, expect_json};
use reqwest::Method;

#[test]
fn wrong_method_is_not_allowed() {
    let app = TestApp::start(&["airline-importer"]);
    let cases = [
        (Method::GET, "/upload/airline-importer", "POST"),
        (Method::DELETE, "/1", "GET, HEAD"),
        (Method::PUT, "", "GET, HEAD"),
        (Method::GET, "/1/retry", "POST"),
        (Method::POST, "/importers", "GET, HEAD"),
    ];

    for (method, path, allowed) in cases {
        let response = app.send(app.request(method.clone(), path));

        let allow = response.headers().get("Allow").map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(allow.as_deref(), Some(allowed), "{method} {path}");
        let body = expect_json(response, 405);
        let message = body["message"].as_str().unwrap_or_else(|| panic!("{method} {path}: no message in {body}"));
        assert!(message.contains(&format!("The {method} method is not supported")), "{method} {path}: {message}");
        assert!(message.contains(allowed), "{method} {path}: {message}");
    }
}

#[test]
fn wrong_method_outside_prefix_is_not_allowed() {
    let app = TestApp::start(&[]);

    let response = app.send(app.client().post(app.url("/health")));

    assert_eq!(response.headers().get("Allow").and_then(|value| value.to_str().ok()), Some("GET, HEAD"));
    expect_json(response, 405);
}

#[test]
fn unknown_path_is_still_not_found() {
    let app = TestApp::start(&[]);

    let body = expect_json(app.send(app.request(Method::GET, "/no/such/route")), 404);

    assert_eq!(body["message"], "Not found.");
}
