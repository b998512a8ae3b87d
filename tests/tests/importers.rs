//! `GET /importers`: the importers loaded from the plugins directory.

use ingest_e2e::{TestApp, expect_json, is_api_timestamp};
use serde_json::Value;

#[test]
fn importers_lists_every_loaded_slug() {
    let app = TestApp::start(&["airline-importer", "airport-importer", "penguin-importer"]);

    let body = expect_json(app.get("/importers"), 200);

    let importers = body["data"].as_array().unwrap_or_else(|| panic!("data is not an array: {body}"));
    let mut slugs: Vec<&str> = importers.iter().filter_map(|importer| importer["slug"].as_str()).collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["airline-importer", "airport-importer", "penguin-importer"], "importers {body}");

    for (slug, target) in
        [("airline-importer", "airlines"), ("airport-importer", "airports"), ("penguin-importer", "penguins")]
    {
        let importer = importers.iter().find(|importer| importer["slug"] == slug).expect("listed above");
        assert!(importer["name"].as_str().is_some_and(|name| !name.is_empty()), "name of {importer}");
        assert!(importer["version"].as_str().is_some_and(|version| !version.is_empty()), "version of {importer}");
        assert_eq!(importer["source"], "upload", "source of {importer}");
        assert_eq!(importer["target"], target, "target of {importer}");
        assert_eq!(importer["targets"].as_array().map(Vec::len), Some(1), "targets of {importer}");
        assert_eq!(importer["targets"][0]["table"], target, "targets of {importer}");
        assert!(importer["file"].as_str().is_some_and(|file| file.ends_with(".wasm")), "file of {importer}");
        let loaded_at = importer["loaded_at"].as_str().unwrap_or_default();
        assert!(is_api_timestamp(loaded_at), "loaded_at of {importer}");
        assert_eq!(importer["last_error"], Value::Null, "last_error of {importer}");
    }
}

#[test]
fn importers_is_empty_without_plugins() {
    let app = TestApp::start(&[]);

    let body = expect_json(app.get("/importers"), 200);

    assert_eq!(body["data"], Value::Array(Vec::new()), "importers {body}");
}
