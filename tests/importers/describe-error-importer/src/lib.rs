//! A broken importer for the sandbox tests: its key names a column it does not declare,
//! so the SDK's `describe` returns an error and the host must reject the file.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct DescribeErrorImporter;

impl Importer for DescribeErrorImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("describe-error-importer")
            .name("Invalid description")
            .target("describe_error_rows")
            .keyed_by("missing_column")
            .column(Column::text("name"))
    }
}

ingest_importer_sdk::export_importer!(DescribeErrorImporter);
