//! Hooks and conditional columns on an orders file that mixes orders, refunds and comment
//! lines: a before-row hook skips comments and fails rows without a type, `Status` goes to
//! `order_status` or `refund_status` depending on the type, and an on-record hook computes
//! the total with tax and rejects refunds above 1000. Importing an order again updates it.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig, RowError, Value};

pub struct SdkHooks;

/// The tax rate added to each total.
const TAX_RATE: f64 = 0.19;

impl Importer for SdkHooks {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-hooks")
            .name("SDK hooks")
            .target("sdk_orders")
            .keyed_by("order_no")
            .on_duplicate(DuplicateStrategy::Update)
            .before_row(|row| match row.text("Type") {
                Some("comment") => Err(RowError::skip("comment line")),
                Some(_) => Ok(()),
                None => Err(RowError::fail("The row has no type, so it is neither an order nor a refund.")),
            })
            .column(Column::integer("order_no").from("Order No"))
            .column(Column::text("kind").from("Type"))
            .column(
                Column::text("order_status")
                    .from("Status")
                    .when(|row| row.text("Type") == Some("order")),
            )
            .column(
                Column::text("refund_status")
                    .from("Status")
                    .when(|row| row.text("Type") == Some("refund")),
            )
            .column(Column::float("total").from("Total").required())
            .column(Column::float("total_with_tax"))
            .on_record(|_row, record| {
                let Some(total) = record.get("total").and_then(Value::as_f64) else {
                    return Ok(());
                };
                if record.get("kind").and_then(Value::as_str) == Some("refund") && total > 1000.0 {
                    record.add_error("total", "The :attribute field must not be greater than 1000 for a refund.");
                }
                let with_tax = (total * (1.0 + TAX_RATE) * 100.0).round() / 100.0;
                record.set("total_with_tax", with_tax)
            })
    }
}

ingest_importer_sdk::export_importer!(SdkHooks);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::{Harness, Outcome};

    const ORDERS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/orders.csv");

    #[test]
    fn orders_and_refunds_fill_their_columns() {
        let report = Harness::new(SdkHooks::config()).run_csv(ORDERS_CSV).unwrap();

        assert_eq!(report.get(0, "order_status"), Some(&Value::text("paid")));
        assert_eq!(report.get(0, "refund_status"), Some(&Value::Null));
        assert_eq!(report.get(0, "total_with_tax"), Some(&Value::Float(119.0)));
        assert_eq!(report.get(1, "order_status"), Some(&Value::Null));
        assert_eq!(report.get(1, "refund_status"), Some(&Value::text("sent")));
        assert_eq!(report.get(4, "total_with_tax"), Some(&Value::Float(23.8)));
    }

    #[test]
    fn hooks_skip_and_fail_rows() {
        let report = Harness::new(SdkHooks::config()).run_csv(ORDERS_CSV).unwrap();

        assert_eq!(report.outcomes[2], Outcome::Skipped("comment line".to_owned()));
        assert_eq!(
            report.failure(3).unwrap().messages("total"),
            ["The total field must not be greater than 1000 for a refund."]
        );
        let untyped = report.failure(5).unwrap();
        assert_eq!(untyped.message, "The row has no type, so it is neither an order nor a refund.");
        assert!(untyped.validation.is_empty());
    }
}
