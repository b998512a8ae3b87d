//! Authenticated requests to a [`TestApp`] and the waits built on them.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::multipart::Form;
use reqwest::blocking::{RequestBuilder, Response};
use serde_json::Value;

use crate::TestApp;
use crate::checks::expect_json;

/// Maximum time [`TestApp::wait_for_run`] waits for a run to end.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Statuses after which a run never changes again.
const FINAL_STATUSES: [&str; 4] = ["completed", "completed_with_errors", "failed", "cancelled"];

impl TestApp {
    /// Builds a request to `path` under the API prefix, with the test token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.api_url(path)).bearer_auth(&self.token)
    }

    /// Sends `request`, panicking with the server log when no response arrives.
    pub fn send(&self, request: RequestBuilder) -> Response {
        request.send().unwrap_or_else(|error| self.fail(&format!("the request failed: {error}")))
    }

    /// Sends `GET` to `path` under the API prefix.
    pub fn get(&self, path: &str) -> Response {
        self.send(self.request(Method::GET, path))
    }

    /// Sends `POST` to `path` under the API prefix, without a body.
    pub fn post(&self, path: &str) -> Response {
        self.send(self.request(Method::POST, path))
    }

    /// Sends `POST` with `body` as JSON to `path` under the API prefix.
    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send(self.request(Method::POST, path).json(body))
    }

    /// Uploads `file` to importer `slug`, with `dry_run=1` when `dry_run` is set and
    /// without the field otherwise.
    pub fn upload(&self, slug: &str, file: &Path, dry_run: bool) -> Response {
        let mut form = file_form(file);
        if dry_run {
            form = form.text("dry_run", "1");
        }
        self.upload_form(slug, form)
    }

    /// Posts `form` as it is to `POST /upload/{slug}`.
    pub fn upload_form(&self, slug: &str, form: Form) -> Response {
        self.send(self.request(Method::POST, &format!("/upload/{slug}")).multipart(form))
    }

    /// Uploads `file` to importer `slug`, asserts 202 and returns the new run's id.
    pub fn start_run(&self, slug: &str, file: &Path) -> i64 {
        let body = expect_json(self.upload(slug, file, false), 202);
        run_id(&body["data"])
    }

    /// Uploads `file` to importer `slug` and returns the run once it has ended.
    pub fn import(&self, slug: &str, file: &Path) -> Value {
        let id = self.start_run(slug, file);
        self.wait_for_run(id)
    }

    /// Sends `GET /{id}`, asserts 200 and returns the run object (`data`).
    pub fn run(&self, id: i64) -> Value {
        let mut body = expect_json(self.get(&format!("/{id}")), 200);
        body["data"].take()
    }

    /// Polls `GET /{id}` until the run is neither pending nor processing and returns it.
    ///
    /// Panics after [`RUN_TIMEOUT`], with the run and the server log.
    pub fn wait_for_run(&self, id: i64) -> Value {
        self.wait_for_run_until(id, "the run ends", RUN_TIMEOUT, |_| false)
    }

    /// Polls `GET /{id}` until `condition` holds for the run object and returns the run.
    ///
    /// A run in a final status is returned as well, even when `condition` does not hold,
    /// because it can no longer change. Callers check its status. After `timeout`, panics
    /// with `description`, the last run object and the server log.
    pub fn wait_for_run_until(
        &self,
        id: i64,
        description: &str,
        timeout: Duration,
        condition: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let run = self.run(id);
            let status = run["status"].as_str().unwrap_or_default();
            if condition(&run) || FINAL_STATUSES.contains(&status) {
                return run;
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "run {id}: timed out after {} s waiting until {description}; last state: {run}",
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Returns the entry of `GET /importers` for `slug`, and panics when it is not listed.
    pub fn importer(&self, slug: &str) -> Value {
        let body = expect_json(self.get("/importers"), 200);
        let importers = body["data"].as_array().unwrap_or_else(|| panic!("GET /importers has no data array: {body}"));
        importers
            .iter()
            .find(|importer| importer["slug"] == slug)
            .cloned()
            .unwrap_or_else(|| self.fail(&format!("GET /importers does not list {slug}: {body}")))
    }

    /// Counts the rows of `table` in the server's database.
    pub fn count_rows(&self, table: &str) -> i64 {
        self.database().count_rows(table)
    }

    pub fn table_exists(&self, table: &str) -> bool {
        self.database().table_exists(table)
    }

    /// Runs `sql`, which must select one integer column named `n`, on the server's database.
    pub fn query_count(&self, sql: &str) -> i64 {
        self.database().query_count(sql)
    }
}

/// Builds a multipart form with `file` as the `file` field, sent under its own file name.
pub fn file_form(file: &Path) -> Form {
    Form::new().file("file", file).unwrap_or_else(|error| panic!("cannot read the upload {}: {error}", file.display()))
}

/// Returns the `id` of a run object, and panics when it is missing or not an integer.
pub fn run_id(run: &Value) -> i64 {
    run["id"].as_i64().unwrap_or_else(|| panic!("the run has no integer id: {run}"))
}
