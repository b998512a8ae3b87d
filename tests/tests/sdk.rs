//! The importer SDK's features end to end: each test importer `tests/importers/sdk-*`
//! shows one feature, imports its fixture files through the real server, and the test
//! checks the run, its failed rows and what reached the target table.

use std::path::PathBuf;

use ingest_e2e::{Backend, TestApp, expect_json, run_id, workspace_dir};
use serde_json::{Value, json};

/// Every SDK test importer, by crate name, which is also its slug.
const SDK_IMPORTERS: [&str; 10] = [
    "sdk-transforms",
    "sdk-validators",
    "sdk-hooks",
    "sdk-nested",
    "sdk-relate",
    "sdk-strict-headers",
    "sdk-composite-key",
    "sdk-update-if-newer",
    "sdk-atomic",
    "sdk-targets",
];

/// Returns the fixture `file` of the test importer crate `importer`.
fn fixture(importer: &str, file: &str) -> PathBuf {
    let path = workspace_dir().join("tests/importers").join(importer).join("fixtures").join(file);
    assert!(path.is_file(), "the fixture {} does not exist", path.display());
    path
}

fn start(importer: &str) -> TestApp {
    TestApp::builder().test_importers(&[importer]).start()
}

/// Asserts the run's final status and its counters. Skipped rows count as processed but
/// neither successful nor failed.
fn assert_run(run: &Value, status: &str, successful: i64, failed: i64, skipped: i64) {
    assert_eq!(run["status"], status, "status of run {run}");
    assert_eq!(run["progress"]["successful"], successful, "progress.successful of run {run}");
    assert_eq!(run["progress"]["failed"], failed, "progress.failed of run {run}");
    assert_eq!(run["progress"]["processed"], successful + failed + skipped, "progress.processed of run {run}");
    assert_eq!(run["summary"]["skipped"], skipped, "summary.skipped of run {run}");
}

/// Returns the `errors` of the failed row `row_number` among the rows of a run object.
fn row_errors(run: &Value, row_number: i64) -> &Value {
    let rows = run["rows"].as_array().unwrap_or_else(|| panic!("run without rows: {run}"));
    let row = rows
        .iter()
        .find(|row| row["row_number"] == row_number)
        .unwrap_or_else(|| panic!("row {row_number} is not among the run's rows: {run}"));
    assert_eq!(row["status"], "failed", "row {row_number}: {row}");
    &row["errors"]
}

#[test]
fn sdk_importers_all_register() {
    let app = TestApp::builder().test_importers(&SDK_IMPORTERS).start();

    let body = expect_json(app.get("/importers"), 200);
    assert_eq!(body["rejected"], json!([]), "no SDK importer is rejected: {body}");
    for slug in SDK_IMPORTERS {
        let importer = app.importer(slug);
        assert_eq!(importer["last_error"], Value::Null, "{slug}: {importer}");
        assert_eq!(importer["sdk_version"], env!("CARGO_PKG_VERSION"), "{slug}: {importer}");
    }
    assert_eq!(app.importer("sdk-nested")["source"], "json");
    assert_eq!(app.importer("sdk-composite-key")["keyed_by"], json!(["station", "day"]));
    assert_eq!(app.importer("sdk-atomic")["chunk_size"], 2);
    assert_eq!(app.importer("sdk-atomic")["atomic_chunks"], true);
}

#[test]
fn transform_pipelines_store_typed_values() {
    let app = start("sdk-transforms");

    let run = app.import("sdk-transforms", &fixture("sdk-transforms", "people.csv"));

    assert_run(&run, "completed_with_errors", 3, 1, 0);
    let ada = "SELECT COUNT(*) AS n FROM sdk_people WHERE email = 'ada@example.org' AND name = 'Ada Lovelace' \
               AND salary = 1234.56 AND birthday = '1815-12-10' AND active = TRUE \
               AND title_slug = 'countess-of-lovelace' AND country = 'United Kingdom'";
    assert_eq!(app.query_count(ada), 1, "Ada's row is transformed");
    let grace = "SELECT COUNT(*) AS n FROM sdk_people WHERE email = 'grace@example.org' AND salary = 2000 \
                 AND active = FALSE AND country = 'United States'";
    assert_eq!(app.query_count(grace), 1, "Grace's row is transformed");
    let alan = "SELECT COUNT(*) AS n FROM sdk_people WHERE email = 'alan@example.org' AND salary IS NULL \
                AND active = FALSE AND title_slug = 'untitled' AND country IS NULL";
    assert_eq!(app.query_count(alan), 1, "Alan's empty values get their defaults");

    let errors = row_errors(&run, 4);
    assert_eq!(errors["message"], "The salary field must be a number. (and 1 more error)");
    assert_eq!(errors["validation"]["salary"], json!(["The salary field must be a number."]));
    assert_eq!(errors["validation"]["active"], json!(["The active field must be true or false."]));
}

#[test]
fn validators_fail_rows_with_laravel_messages() {
    let app = start("sdk-validators");

    let run = app.import("sdk-validators", &fixture("sdk-validators", "accounts.csv"));

    assert_run(&run, "completed_with_errors", 2, 13, 0);
    assert_eq!(app.count_rows("sdk_accounts"), 2);
    let id = run["id"].as_i64().unwrap();
    let summary = expect_json(app.get(&format!("/{id}/errors/summary")), 200);
    let validation = summary["data"]["validation_summary"]
        .as_array()
        .unwrap_or_else(|| panic!("no validation summary: {summary}"));
    let count_of = |message: &str| {
        validation
            .iter()
            .find(|entry| entry["message"] == message)
            .map(|entry| entry["count"].clone())
            .unwrap_or_else(|| panic!("{message:?} is not in the validation summary: {summary}"))
    };
    assert_eq!(count_of("username: The username field format is invalid."), 1);
    assert_eq!(count_of("username: The username field is required."), 1);
    assert_eq!(count_of("email: The email field must be a valid email address."), 1);
    assert_eq!(count_of("age: The age field must be between 13 and 130."), 2);
    assert_eq!(count_of("age: The age field must be an integer."), 1);
    assert_eq!(count_of("score: The score field must be at least 0."), 2);
    assert_eq!(count_of("score: The score field must be a number."), 1);
    assert_eq!(count_of("plan: The selected plan is invalid."), 2);
    assert_eq!(count_of("country: The country field must be 2 characters."), 2);
    assert_eq!(count_of("bio: The bio field must not be greater than 20 characters."), 1);
    assert_eq!(count_of("hint: The hint field must be between 4 and 12 characters."), 2);
    assert_eq!(count_of("joined: The joined field must match one of the formats %Y-%m-%d, %d/%m/%Y."), 2);
    assert_eq!(count_of("renewal: The renewal field must be a valid date."), 2);

    let last = row_errors(&run, 15);
    assert_eq!(last["message"], "The username field is required. (and 8 more errors)");
    assert_eq!(last["validation"].as_object().map(|fields| fields.len()), Some(9), "{last}");
}

#[test]
fn skip_strategy_keeps_existing_rows() {
    let app = start("sdk-validators");
    let accounts = fixture("sdk-validators", "accounts.csv");
    app.import("sdk-validators", &accounts);

    let again = app.import("sdk-validators", &accounts);

    assert_run(&again, "completed_with_errors", 0, 13, 2);
    assert_eq!(app.count_rows("sdk_accounts"), 2);
}

#[test]
fn hooks_skip_fail_and_derive_values() {
    let app = start("sdk-hooks");

    let run = app.import("sdk-hooks", &fixture("sdk-hooks", "orders.csv"));

    assert_run(&run, "completed_with_errors", 3, 2, 1);
    assert_eq!(app.count_rows("sdk_orders"), 3);
    let order = "SELECT COUNT(*) AS n FROM sdk_orders WHERE order_no = 1 AND kind = 'order' \
                 AND order_status = 'paid' AND refund_status IS NULL AND total_with_tax = 119";
    assert_eq!(app.query_count(order), 1, "an order fills order_status");
    let refund = "SELECT COUNT(*) AS n FROM sdk_orders WHERE order_no = 2 AND order_status IS NULL \
                  AND refund_status = 'sent'";
    assert_eq!(app.query_count(refund), 1, "a refund fills refund_status");

    let large_refund = row_errors(&run, 4);
    assert_eq!(
        large_refund["validation"]["total"],
        json!(["The total field must not be greater than 1000 for a refund."])
    );
    let untyped = row_errors(&run, 6);
    assert_eq!(untyped["message"], "The row has no type, so it is neither an order nor a refund.");
    assert_eq!(untyped["validation"], json!({}));
}

#[test]
fn update_strategy_overwrites_rows() {
    let app = start("sdk-hooks");
    app.import("sdk-hooks", &fixture("sdk-hooks", "orders.csv"));
    let update = app.dir().join("orders-update.csv");
    std::fs::write(&update, "Order No,Type,Status,Total\n1,order,shipped,100\n").unwrap();

    let run = app.import("sdk-hooks", &update);

    assert_run(&run, "completed", 1, 0, 0);
    assert_eq!(app.count_rows("sdk_orders"), 3);
    let shipped = "SELECT COUNT(*) AS n FROM sdk_orders WHERE order_no = 1 AND order_status = 'shipped'";
    assert_eq!(app.query_count(shipped), 1);
}

#[test]
fn nested_json_fields_are_read_by_path() {
    let app = start("sdk-nested");

    let run = app.import("sdk-nested", &fixture("sdk-nested", "customers.json"));

    assert_run(&run, "completed_with_errors", 2, 1, 0);
    let ada = "SELECT COUNT(*) AS n FROM sdk_customers WHERE email = 'ada@example.org' AND name = 'Ada' \
               AND phone IS NULL AND city = 'London' AND zip = 'N1' AND tags = '[\"math\",\"poetry\"]'";
    assert_eq!(app.query_count(ada), 1, "Ada's nested fields are stored");
    let grace = "SELECT COUNT(*) AS n FROM sdk_customers WHERE email = 'grace@example.org' \
                 AND city = 'New York' AND zip = '10001' AND tags IS NULL";
    assert_eq!(app.query_count(grace), 1, "Grace's zip comes from the second alias");
    assert_eq!(
        row_errors(&run, 3)["validation"]["email"],
        json!(["The email field must be a valid email address."])
    );
}

#[test]
fn json_source_rejects_csv_uploads() {
    let app = start("sdk-nested");

    let body = expect_json(app.upload("sdk-nested", &fixture("sdk-hooks", "orders.csv"), false), 422);

    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("JSON"), "the message names the expected format: {body}");
}

/// Creates the tables the posts relate to: two authors with the ids 1 and 2, and an
/// empty tags table whose ids count from 1.
fn create_related_tables(app: &TestApp) {
    let id_column = match app.database().backend() {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    app.database().execute("CREATE TABLE sdk_authors (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE)");
    app.database()
        .execute("INSERT INTO sdk_authors (id, email) VALUES (1, 'ada@example.org'), (2, 'grace@example.org')");
    app.database().execute(&format!("CREATE TABLE sdk_tags (id {id_column}, name TEXT NOT NULL UNIQUE)"));
}

#[test]
fn relations_store_ids_and_id_arrays() {
    let app = start("sdk-relate");
    create_related_tables(&app);

    let run = app.import("sdk-relate", &fixture("sdk-relate", "posts.csv"));

    assert_run(&run, "completed_with_errors", 2, 2, 0);
    let hello = "SELECT COUNT(*) AS n FROM sdk_posts WHERE title = 'Hello' AND author_id = 1 \
                 AND tag_ids = '[1,3]' AND reviewer_ids = '[2]'";
    assert_eq!(app.query_count(hello), 1, "Hello relates to Ada, two tags and Grace");
    let second = "SELECT COUNT(*) AS n FROM sdk_posts WHERE title = 'Second' AND author_id = 2 \
                  AND tag_ids = '[3,2]' AND reviewer_ids = '[1,2]'";
    assert_eq!(app.query_count(second), 1, "Second keeps the order of its tags and reviewers");

    assert_eq!(app.count_rows("sdk_tags"), 3, "missing tags are created once each");
    let rust = "SELECT COUNT(*) AS n FROM sdk_tags WHERE id = 2 AND name = 'rust'";
    assert_eq!(app.query_count(rust), 1, "tags are created in name order");
    assert_eq!(
        row_errors(&run, 3)["validation"]["author_id"],
        json!(["The selected author id is invalid."])
    );
    assert_eq!(
        row_errors(&run, 4)["validation"]["reviewer_ids"],
        json!(["The selected reviewer ids is invalid: \"zed@example.org\" not found."])
    );
}

#[test]
fn header_aliases_satisfy_strict_headers() {
    let app = start("sdk-strict-headers");

    let run = app.import("sdk-strict-headers", &fixture("sdk-strict-headers", "products-de.csv"));

    assert_run(&run, "completed", 2, 0, 0);
    let lamp = "SELECT COUNT(*) AS n FROM sdk_products WHERE sku = 'A-1' AND name = 'Lamp' AND price = 19.9";
    assert_eq!(app.query_count(lamp), 1);
}

#[test]
fn header_problems_fail_the_run_before_any_row() {
    let app = start("sdk-strict-headers");

    let missing = app.import("sdk-strict-headers", &fixture("sdk-strict-headers", "products-missing-name.csv"));
    let extra = app.import("sdk-strict-headers", &fixture("sdk-strict-headers", "products-extra-header.csv"));

    for (run, expected) in [
        (&missing, r#"The file is missing the required header "name" or "Bezeichnung""#),
        (&extra, r#"The file has the unexpected header "Discount", which strict headers reject"#),
    ] {
        assert_eq!(run["status"], "failed", "run {run}");
        assert_eq!(run["progress"]["processed"], 0, "no row is read: {run}");
        let error = run["error"].as_str().unwrap_or_else(|| panic!("a failed run has an error: {run}"));
        assert!(error.contains(expected), "the error should contain {expected:?}: {run}");
    }
    assert!(!app.database().table_exists("sdk_products"), "a run that fails at the header creates no table");
}

#[test]
fn composite_key_upserts_per_station_and_day() {
    let app = start("sdk-composite-key");
    let first = app.import("sdk-composite-key", &fixture("sdk-composite-key", "readings-march-1.csv"));
    assert_run(&first, "completed", 3, 0, 0);

    let second = app.import("sdk-composite-key", &fixture("sdk-composite-key", "readings-march-2.csv"));

    assert_run(&second, "completed", 2, 0, 0);
    assert_eq!(app.count_rows("sdk_readings"), 4, "only (HAM, 2 March) is a new key");
    let replaced = "SELECT COUNT(*) AS n FROM sdk_readings WHERE station = 'BER' AND day = '2024-03-02' AND reading = 6";
    assert_eq!(app.query_count(replaced), 1, "the reading of (BER, 2 March) is replaced");
    let kept = "SELECT COUNT(*) AS n FROM sdk_readings WHERE station = 'BER' AND day = '2024-03-01' AND reading = 4.5";
    assert_eq!(app.query_count(kept), 1, "(BER, 1 March) is another key and stays");
}

#[test]
fn update_if_newer_compares_timestamps() {
    let app = start("sdk-update-if-newer");
    let first = app.import("sdk-update-if-newer", &fixture("sdk-update-if-newer", "stock-1.csv"));
    assert_run(&first, "completed", 2, 0, 0);

    let second = app.import("sdk-update-if-newer", &fixture("sdk-update-if-newer", "stock-2.csv"));

    assert_run(&second, "completed", 1, 0, 1);
    let newer = "SELECT COUNT(*) AS n FROM sdk_stock WHERE sku = 'A' AND quantity = 20 \
                 AND updated_at = '2024-01-02T09:00:00'";
    assert_eq!(app.query_count(newer), 1, "A's newer level replaces the old one");
    let older = "SELECT COUNT(*) AS n FROM sdk_stock WHERE sku = 'B' AND quantity = 5";
    assert_eq!(app.query_count(older), 1, "B's older level is skipped");

    let again = app.import("sdk-update-if-newer", &fixture("sdk-update-if-newer", "stock-2.csv"));
    assert_run(&again, "completed", 0, 0, 2);
}

#[test]
fn atomic_chunks_fail_together() {
    let app = start("sdk-atomic");

    let run = app.import("sdk-atomic", &fixture("sdk-atomic", "ledger.csv"));

    assert_run(&run, "completed_with_errors", 3, 2, 0);
    assert_eq!(app.query_count("SELECT COUNT(*) AS n FROM sdk_ledger WHERE entry IN (1, 2, 5)"), 3);
    assert_eq!(app.count_rows("sdk_ledger"), 3, "nothing of the chunk of rows 3 and 4 is written");
    assert_eq!(
        row_errors(&run, 4)["validation"]["amount"],
        json!(["The amount field must be a number."])
    );
    let partner = row_errors(&run, 3)["message"].as_str().unwrap_or_default().to_owned();
    assert!(partner.contains("all or nothing"), "row 3 fails with its chunk: {run}");
}

#[test]
fn fail_strategy_fails_duplicates_and_their_chunk() {
    let app = start("sdk-atomic");
    app.import("sdk-atomic", &fixture("sdk-atomic", "ledger.csv"));

    let run = app.import("sdk-atomic", &fixture("sdk-atomic", "ledger-duplicate.csv"));

    assert_run(&run, "completed_with_errors", 0, 2, 0);
    assert_eq!(app.count_rows("sdk_ledger"), 3, "entry 6 shares the chunk of the duplicate");
    let amount = "SELECT COUNT(*) AS n FROM sdk_ledger WHERE entry = 1 AND amount = 10";
    assert_eq!(app.query_count(amount), 1, "the existing entry 1 is kept");
    let duplicate = row_errors(&run, 2)["message"].as_str().unwrap_or_default().to_owned();
    assert!(duplicate.contains("already exists"), "the duplicate keeps its own reason: {run}");
    let partner = row_errors(&run, 1)["message"].as_str().unwrap_or_default().to_owned();
    assert!(partner.contains("row 2 of the same chunk failed"), "its chunk partner names it: {run}");
}

const PEOPLE: &str = "sdk_contact_people";
const COMPANIES: &str = "sdk_contact_companies";

#[test]
fn importers_list_every_target() {
    let app = start("sdk-targets");

    let importer = app.importer("sdk-targets");

    assert_eq!(importer["target"], PEOPLE, "the main target stays in `target`: {importer}");
    assert_eq!(importer["keyed_by"], json!(["email"]), "{importer}");
    let targets = importer["targets"].as_array().unwrap_or_else(|| panic!("no targets: {importer}"));
    assert_eq!(targets.len(), 2, "{importer}");
    assert_eq!(targets[0]["table"], PEOPLE);
    assert_eq!(targets[0]["duplicates"], "skip");
    assert_eq!(targets[1]["table"], COMPANIES);
    assert_eq!(targets[1]["keyed_by"], json!(["vat_id"]));
    assert_eq!(targets[1]["duplicates"], "update");
    let company_columns: Vec<&str> = targets[1]["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("no columns: {importer}"))
        .iter()
        .filter_map(|column| column["name"].as_str())
        .collect();
    assert_eq!(company_columns, ["vat_id", "name", "city"]);
}

#[test]
fn rows_are_routed_to_their_tables() {
    let app = start("sdk-targets");

    let run = app.import("sdk-targets", &fixture("sdk-targets", "contacts.csv"));

    assert_run(&run, "completed_with_errors", 5, 2, 1);
    assert_eq!(app.count_rows(PEOPLE), 3);
    assert_eq!(app.count_rows(COMPANIES), 2);
    let people = [
        "email = 'ada@example.org' AND name = 'Ada Lovelace' AND city = 'London'",
        "email = 'grace@example.org' AND name = 'Grace Hopper' AND city = 'New York'",
        "email = 'alan@example.org' AND name = 'Alan Turing' AND city IS NULL",
    ];
    for condition in people {
        let sql = format!("SELECT COUNT(*) AS n FROM {PEOPLE} WHERE {condition}");
        assert_eq!(app.query_count(&sql), 1, "{condition}");
    }
    let companies = [
        "vat_id = 'GB123' AND name = 'Analytical Engines Ltd' AND city = 'London'",
        "vat_id = 'US456' AND name = 'Cobol Corp' AND city = 'Arlington'",
    ];
    for condition in companies {
        let sql = format!("SELECT COUNT(*) AS n FROM {COMPANIES} WHERE {condition}");
        assert_eq!(app.query_count(&sql), 1, "{condition}");
    }

    let robot = row_errors(&run, 4);
    assert_eq!(
        robot["message"],
        "The importer routes this row to the table \"robot\", which is not one of its targets \
         (sdk_contact_people, sdk_contact_companies)."
    );
    assert_eq!(row_errors(&run, 6)["validation"]["vat_id"], json!(["The vat id field is required."]));
    let failed: Vec<i64> = run["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("run without rows: {run}"))
        .iter()
        .filter_map(|row| row["row_number"].as_i64())
        .collect();
    assert_eq!(failed, [4, 6], "only the failed rows are recorded: {run}");
}

#[test]
fn each_target_keeps_its_duplicate_strategy() {
    let app = start("sdk-targets");
    let contacts = fixture("sdk-targets", "contacts.csv");
    app.import("sdk-targets", &contacts);
    app.database().execute(&format!("UPDATE {PEOPLE} SET city = 'changed'"));
    app.database().execute(&format!("UPDATE {COMPANIES} SET city = 'changed'"));

    let again = app.import("sdk-targets", &contacts);

    // People are skipped as duplicates, companies are updated.
    assert_run(&again, "completed_with_errors", 2, 2, 4);
    assert_eq!(app.count_rows(PEOPLE), 3);
    assert_eq!(app.count_rows(COMPANIES), 2);
    let unchanged_people = format!("SELECT COUNT(*) AS n FROM {PEOPLE} WHERE city = 'changed'");
    assert_eq!(app.query_count(&unchanged_people), 3, "existing people are kept");
    let unchanged_companies = format!("SELECT COUNT(*) AS n FROM {COMPANIES} WHERE city = 'changed'");
    assert_eq!(app.query_count(&unchanged_companies), 0, "existing companies are overwritten");
}

#[test]
fn dry_run_writes_no_target() {
    let app = start("sdk-targets");

    let body = expect_json(app.upload("sdk-targets", &fixture("sdk-targets", "contacts.csv"), true), 202);
    let run = app.wait_for_run(run_id(&body["data"]));

    assert_run(&run, "completed_with_errors", 5, 2, 1);
    assert_eq!(run["summary"]["dry_run"], true, "{run}");
    assert!(!app.database().table_exists(PEOPLE), "a dry run creates no table");
    assert!(!app.database().table_exists(COMPANIES), "a dry run creates no table");
}

