//! The expected header row of a products file: `sku` and `name` are required headers with
//! German aliases, `price` is optional, `Notes` is a header the importer expects but no
//! column maps, and strict headers reject any other header. A file that breaks these
//! rules fails before its first row is read.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct SdkStrictHeaders;

impl Importer for SdkStrictHeaders {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-strict-headers")
            .name("SDK strict headers")
            .target("sdk_products")
            .keyed_by("sku")
            .strict_headers()
            .expect_header("Notes")
            .column(Column::text("sku").from(["sku", "Artikelnummer"]))
            .column(Column::text("name").from(["name", "Bezeichnung"]).required())
            .column(Column::float("price").from(["price", "Preis"]))
    }
}

ingest_importer_sdk::export_importer!(SdkStrictHeaders);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::Value;

    fn fixture(name: &str) -> String {
        format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn aliases_satisfy_the_expected_headers() {
        let report = Harness::new(SdkStrictHeaders::config())
            .run_csv(fixture("products-de.csv"))
            .unwrap();

        assert_eq!(report.get(0, "sku"), Some(&Value::text("A-1")));
        assert_eq!(report.get(0, "price"), Some(&Value::Float(19.9)));
        assert_eq!(report.get(1, "price"), Some(&Value::Null));
    }

    #[test]
    fn missing_required_header_fails_the_run() {
        let error = Harness::new(SdkStrictHeaders::config())
            .run_csv(fixture("products-missing-name.csv"))
            .unwrap_err();
        assert!(
            error.ends_with(r#"The file is missing the required header "name" or "Bezeichnung" (found headers: "sku", "price")."#),
            "{error}"
        );
    }

    #[test]
    fn unexpected_header_fails_the_run() {
        let error = Harness::new(SdkStrictHeaders::config())
            .run_csv(fixture("products-extra-header.csv"))
            .unwrap_err();
        assert!(
            error.ends_with(
                r#"The file has the unexpected header "Discount", which strict headers reject (expected headers: "sku", "name", "price", "Notes")."#
            ),
            "{error}"
        );
    }
}
