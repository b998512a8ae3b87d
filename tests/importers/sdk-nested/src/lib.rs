//! Fields of nested JSON objects. The server flattens `{"contact": {"email": "…"}}` to the
//! header `contact.email`, so columns read nested fields with `.from("contact.email")`,
//! with aliases for objects that spell a field two ways (`address.zip` or
//! `address.postcode`): each row reads the first alias that has a value in it. A JSON
//! array arrives as the text of its compact JSON.

use ingest_importer_sdk::validate::email;
use ingest_importer_sdk::{Column, Importer, IngestConfig, SourceKind};

pub struct SdkNested;

impl Importer for SdkNested {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-nested")
            .name("SDK nested JSON fields")
            .source(SourceKind::Json)
            .target("sdk_customers")
            .keyed_by("email")
            .column(Column::text("email").from("contact.email").validate(email()))
            .column(Column::text("name"))
            .column(Column::text("phone").from("contact.phone"))
            .column(Column::text("city").from("address.city"))
            .column(Column::text("zip").from(["address.zip", "address.postcode"]))
            .column(Column::text("tags"))
    }
}

ingest_importer_sdk::export_importer!(SdkNested);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::Value;

    const CUSTOMERS_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/customers.json");

    #[test]
    fn dotted_headers_fill_columns() {
        let report = Harness::new(SdkNested::config()).run_json(CUSTOMERS_JSON).unwrap();

        assert_eq!(report.get(0, "email"), Some(&Value::text("ada@example.org")));
        assert_eq!(report.get(0, "phone"), Some(&Value::Null));
        assert_eq!(report.get(0, "city"), Some(&Value::text("London")));
        assert_eq!(report.get(0, "zip"), Some(&Value::text("N1")));
        assert_eq!(report.get(0, "tags"), Some(&Value::text(r#"["math","poetry"]"#)));
        assert_eq!(report.get(1, "zip"), Some(&Value::text("10001")), "the first alias with a value wins");
        assert_eq!(report.get(1, "tags"), Some(&Value::Null));
        assert_eq!(
            report.failure(2).unwrap().messages("email"),
            ["The email field must be a valid email address."]
        );
    }
}
