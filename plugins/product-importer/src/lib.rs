//! Imports products CSV files (`sku,name,description,price,category,stock`, the columns
//! of Laravel Ingest's demo) into the `products` table, keyed by SKU. Importing a file
//! again updates the products it names. It is the importer the throughput benchmark
//! runs, so it does the checks a real catalogue import would and nothing more.

use ingest_importer_sdk::validate::min;
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct ProductImporter;

impl Importer for ProductImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("product-importer")
            .name("Products")
            .target("products")
            .keyed_by("sku")
            .on_duplicate(DuplicateStrategy::Update)
            .column(Column::text("sku").required())
            .column(Column::text("name"))
            .column(Column::text("description"))
            .column(Column::float("price").validate(min(0.0)))
            .column(Column::text("category"))
            .column(Column::integer("stock"))
    }
}

ingest_importer_sdk::export_importer!(ProductImporter);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Cell, Value};

    const HEADERS: [&str; 6] = ["sku", "name", "description", "price", "category", "stock"];

    fn row<'a>(fields: [&'a str; 6]) -> Vec<Cell<'a>> {
        fields.iter().map(|&field| Cell::Text(field)).collect()
    }

    #[test]
    fn valid_product_becomes_a_record() {
        let rows = [row(["SKU-1", "Lamp", "A lamp, \"bright\"", "19.90", "home", "7"])];
        let report = Harness::new(ProductImporter::config()).run(&HEADERS, &rows).unwrap();

        let record = report.records().next().unwrap();
        assert_eq!(record[0], Value::text("SKU-1"));
        assert_eq!(record[3], Value::Float(19.9));
        assert_eq!(record[5], Value::Integer(7));
    }

    #[test]
    fn invalid_products_fail_on_their_field() {
        let rows = [
            row(["", "No SKU", "", "1", "home", "1"]),
            row(["SKU-2", "Negative", "", "-1", "home", "1"]),
            row(["SKU-3", "Fractional stock", "", "1", "home", "1.5"]),
        ];
        let report = Harness::new(ProductImporter::config()).run(&HEADERS, &rows).unwrap();
        let failures: Vec<_> = report.failures().collect();

        assert_eq!(failures.len(), 3);
        assert!(!failures[0].messages("sku").is_empty());
        assert!(!failures[1].messages("price").is_empty());
        assert!(!failures[2].messages("stock").is_empty());
    }
}
