//! Imports `stocks.csv` (vega-datasets: monthly prices of five stocks, 2000 to 2010) into
//! the `stocks` table, keyed by symbol and date. The file is read from one of the
//! operator's import directories, so runs start with `POST /trigger/stock-importer`
//! instead of an upload. The file writes dates as `Jan 1 2000`, which become real dates.

use ingest_importer_sdk::transform::date;
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct StockImporter;

impl Importer for StockImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("stock-importer")
            .name("Stock prices")
            .from_file("stocks.csv")
            .target("stocks")
            .keyed_by(["symbol", "date"])
            // A newer export of the same file corrects prices rather than adding rows.
            .on_duplicate(DuplicateStrategy::Update)
            .column(Column::text("symbol").required())
            .column(
                Column::date("date")
                    .required()
                    .transform(date(["%b %e %Y"])),
            )
            .column(Column::float("price").required())
    }
}

ingest_importer_sdk::export_importer!(StockImporter);

#[cfg(test)]
#[path = "../../test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::data_file;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Date, SourceKind, Value};

    #[test]
    fn stocks_csv_gives_every_price() {
        let report = Harness::new(StockImporter::config())
            .run_csv(data_file("stocks.csv"))
            .unwrap();

        assert_eq!(report.records().count(), 560);
        assert_eq!(report.failures().count(), 0);
        let first = report.records().next().unwrap();
        assert_eq!(
            first,
            [
                Value::text("MSFT"),
                Value::Date(Date::new(2000, 1, 1).unwrap()),
                Value::Float(39.81)
            ]
        );
    }

    #[test]
    fn source_is_import_directory_file() {
        let description = Harness::new(StockImporter::config()).description();
        assert_eq!(description.source, SourceKind::Filesystem);
        assert_eq!(description.location.as_deref(), Some("stocks.csv"));
        assert_eq!(description.targets[0].keyed_by, ["symbol", "date"]);
    }

    #[test]
    fn dates_in_other_spellings_fail() {
        let rows = [
            ["AAPL", "Mar 1 2010", "223.02"],
            ["AAPL", "2010-03-01", "223.02"],
            ["AAPL", "Feb 30 2010", "1"],
        ];
        let report = Harness::new(StockImporter::config())
            .run_text(["symbol", "date", "price"], &rows)
            .unwrap();

        assert_eq!(
            report.get(0, "date"),
            Some(&Value::Date(Date::new(2010, 3, 1).unwrap()))
        );
        let failures: Vec<_> = report.failures().collect();
        assert_eq!(failures.len(), 2);
        assert_eq!(
            failures[0].messages("date"),
            ["The date field must match the format %b %e %Y."]
        );
        assert_eq!(
            failures[1].messages("date"),
            ["The date field must match the format %b %e %Y."]
        );
    }
}
