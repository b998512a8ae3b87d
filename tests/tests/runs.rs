//! Reading runs: the paginated list, one run, timestamps and unknown ids.

use ingest_e2e::{API_PREFIX, TestApp, data_file, expect_json, is_api_timestamp, run_id};
use serde_json::Value;

/// Returns the ids of a list response's `data`, in order.
fn listed_ids(body: &Value) -> Vec<i64> {
    body["data"].as_array().unwrap_or_else(|| panic!("data is not an array: {body}")).iter().map(run_id).collect()
}

/// Asserts that `link` is a URL string whose query contains `page={page}`.
fn assert_page_link(link: &Value, page: u32, body: &Value) {
    let url = link.as_str().unwrap_or_else(|| panic!("a page link is not a string: {link} in {body}"));
    assert!(url.contains(&format!("page={page}")), "{url} links to page {page}");
}

#[test]
fn run_list_is_paginated_newest_first() {
    let app = TestApp::start(&["airline-importer"]);
    let ids: Vec<i64> = (0..3).map(|_| app.start_run("airline-importer", &data_file("airlines.csv"))).collect();
    let (first, second, third) = (ids[0], ids[1], ids[2]);

    let page_one = expect_json(app.get("?per_page=2"), 200);

    assert_eq!(listed_ids(&page_one), vec![third, second], "page 1: {page_one}");
    let meta = &page_one["meta"];
    assert_eq!(meta["current_page"], 1, "meta {meta}");
    assert_eq!(meta["from"], 1, "meta {meta}");
    assert_eq!(meta["to"], 2, "meta {meta}");
    assert_eq!(meta["last_page"], 2, "meta {meta}");
    assert_eq!(meta["per_page"], 2, "meta {meta}");
    assert_eq!(meta["total"], 3, "meta {meta}");
    let path = meta["path"].as_str().unwrap_or_else(|| panic!("meta.path is not a string: {meta}"));
    assert!(path.ends_with(API_PREFIX), "meta.path {path} is the list's URL");
    assert!(meta["links"].as_array().is_some_and(|links| !links.is_empty()), "meta.links {meta}");
    let links = &page_one["links"];
    assert_page_link(&links["first"], 1, &page_one);
    assert_page_link(&links["last"], 2, &page_one);
    assert_eq!(links["prev"], Value::Null, "links {links}");
    assert_page_link(&links["next"], 2, &page_one);

    let page_two = expect_json(app.get("?per_page=2&page=2"), 200);

    assert_eq!(listed_ids(&page_two), vec![first], "page 2: {page_two}");
    let meta = &page_two["meta"];
    assert_eq!(meta["current_page"], 2, "meta {meta}");
    assert_eq!(meta["from"], 3, "meta {meta}");
    assert_eq!(meta["to"], 3, "meta {meta}");
    assert_eq!(meta["total"], 3, "meta {meta}");
    let links = &page_two["links"];
    assert_page_link(&links["prev"], 1, &page_two);
    assert_eq!(links["next"], Value::Null, "links {links}");

    let default_page = expect_json(app.get(""), 200);
    assert_eq!(listed_ids(&default_page), vec![third, second, first], "default page: {default_page}");
}

#[test]
fn empty_run_list_has_one_empty_page() {
    let app = TestApp::start(&[]);

    let body = expect_json(app.get(""), 200);

    assert_eq!(body["data"], Value::Array(Vec::new()), "list {body}");
    let meta = &body["meta"];
    assert_eq!(meta["current_page"], 1, "meta {meta}");
    assert_eq!(meta["last_page"], 1, "meta {meta}");
    assert_eq!(meta["total"], 0, "meta {meta}");
    assert_eq!(meta["from"], Value::Null, "meta {meta}");
    assert_eq!(meta["to"], Value::Null, "meta {meta}");
}

#[test]
fn run_show_returns_every_field() {
    let app = TestApp::start(&["airline-importer"]);
    let id = app.start_run("airline-importer", &data_file("airlines.csv"));
    app.wait_for_run(id);

    let body = expect_json(app.get(&format!("/{id}")), 200);

    let run = &body["data"];
    assert_eq!(run["id"], id, "run {run}");
    assert_eq!(run["importer"], "airline-importer", "run {run}");
    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["user_id"], 1, "run {run}");
    assert_eq!(run["original_filename"], "airlines.csv", "run {run}");
    assert_eq!(run["progress"]["total"], 16, "run {run}");
    assert_eq!(run["progress"]["processed"], 16, "run {run}");
    assert_eq!(run["progress"]["successful"], 16, "run {run}");
    assert_eq!(run["progress"]["failed"], 0, "run {run}");
    assert!(run.get("summary").is_some(), "the run has no summary field: {run}");
    assert!(run["rows"].is_array(), "the run has no rows array: {run}");
}

#[test]
fn run_timestamps_are_utc_with_microseconds() {
    let app = TestApp::start(&["airline-importer"]);
    let id = app.start_run("airline-importer", &data_file("airlines.csv"));

    let run = app.wait_for_run(id);

    let started_at = run["started_at"].as_str().unwrap_or_else(|| panic!("started_at is not a string: {run}"));
    let completed_at = run["completed_at"].as_str().unwrap_or_else(|| panic!("completed_at is not a string: {run}"));
    assert!(is_api_timestamp(started_at), "started_at {started_at:?}");
    assert!(is_api_timestamp(completed_at), "completed_at {completed_at:?}");
    // The fixed-width format sorts as text in time order.
    assert!(started_at <= completed_at, "started_at {started_at} is after completed_at {completed_at}");

    let list = expect_json(app.get(""), 200);
    let listed = &list["data"][0];
    assert_eq!(listed["started_at"], started_at, "the list shows the same run: {list}");
    assert_eq!(listed["completed_at"], completed_at, "the list shows the same run: {list}");
}

#[test]
fn unknown_run_is_not_found() {
    let app = TestApp::start(&["airline-importer"]);

    let requests = [
        ("GET", "/999999"),
        ("POST", "/999999/cancel"),
        ("POST", "/999999/retry"),
        ("GET", "/999999/errors/summary"),
        ("GET", "/999999/failed-rows/download"),
        ("GET", "/not-a-run-id"),
    ];
    for (method, path) in requests {
        let response = app.send(app.request(method.parse().expect("a valid HTTP method"), path));

        let body = expect_json(response, 404);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{method} {path}: the body has no message: {body}");
    }
}

/// Returns the string at `pointer` of `body`, and panics when it is not a string.
fn link<'a>(body: &'a Value, pointer: &str) -> &'a str {
    body.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} is not a string in {body}"))
}

#[test]
fn page_links_keep_query_parameters() {
    let app = TestApp::start(&["airline-importer"]);
    for _ in 0..3 {
        app.start_run("airline-importer", &data_file("airlines.csv"));
    }

    let body = expect_json(app.get("?per_page=1&page=2&importer=airline-importer"), 200);

    let base = app.api_url("");
    assert_eq!(link(&body, "/meta/path"), base);
    assert_eq!(link(&body, "/links/first"), format!("{base}?per_page=1&importer=airline-importer&page=1"));
    assert_eq!(link(&body, "/links/prev"), format!("{base}?per_page=1&importer=airline-importer&page=1"));
    assert_eq!(link(&body, "/links/next"), format!("{base}?per_page=1&importer=airline-importer&page=3"));
    assert_eq!(link(&body, "/links/last"), format!("{base}?per_page=1&importer=airline-importer&page=3"));
    assert_eq!(link(&body, "/meta/links/2/url"), format!("{base}?per_page=1&importer=airline-importer&page=2"));
}

#[test]
fn proxy_headers_are_ignored_by_default() {
    let app = TestApp::start(&[]);
    let request = app.request(reqwest::Method::GET, "").header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "api.example.com");

    let body = expect_json(app.send(request), 200);

    assert_eq!(link(&body, "/links/first"), format!("{}?page=1", app.api_url("")));
}

#[test]
fn trusted_proxy_headers_set_scheme_and_host() {
    let app = TestApp::builder().env("INGEST_TRUST_PROXY_HEADERS", "true").start();
    let forwarded = app.request(reqwest::Method::GET, "").header("Forwarded", "for=192.0.2.1;proto=https;host=api.example.com");
    let x_forwarded = app.request(reqwest::Method::GET, "?per_page=5").header("X-Forwarded-Proto", "https");

    let forwarded = expect_json(app.send(forwarded), 200);
    let x_forwarded = expect_json(app.send(x_forwarded), 200);

    assert_eq!(link(&forwarded, "/links/first"), format!("https://api.example.com{API_PREFIX}?page=1"));
    let host = app.api_url("").trim_start_matches("http://").to_owned();
    assert_eq!(link(&x_forwarded, "/links/first"), format!("https://{host}?per_page=5&page=1"));
}
