//! Imports `flights.csv.gz` (the nycflights13 flights, 336,776 rows) into the `flights`
//! table, keyed by date, carrier, flight number, origin and scheduled departure. The
//! host recognises the gzip by its content.
//!
//! Two columns relate to other tables, whose importers run first:
//! - `airline_id` is the id of the `airlines` row whose `carrier` is the flight's
//!   carrier; a carrier with no such row fails the flight's row.
//! - `plane_id` is the id of the `planes` row whose `tailnum` is the flight's tail
//!   number; a tail number with no such row gets a new plane holding only its tail
//!   number. A flight without a tail number (`NA`) has no plane.
//!
//! The codes themselves stay in `carrier` and `tailnum`, so the key reads as the file
//! does.

use ingest_importer_sdk::{Column, Importer, IngestConfig, Relation};

pub struct FlightImporter;

impl Importer for FlightImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("flight-importer")
            .name("Flights")
            .target("flights")
            .keyed_by(["year", "month", "day", "carrier", "flight", "origin", "sched_dep_time"])
            .null_markers(["NA"])
            .column(Column::integer("year").required())
            .column(Column::integer("month").required())
            .column(Column::integer("day").required())
            .column(Column::integer("dep_time"))
            .column(Column::integer("sched_dep_time").required())
            .column(Column::integer("dep_delay"))
            .column(Column::integer("arr_time"))
            .column(Column::integer("sched_arr_time"))
            .column(Column::integer("arr_delay"))
            .column(Column::text("carrier").required())
            .column(
                Column::integer("airline_id")
                    .from("carrier")
                    .required()
                    .relate(Relation::new("airlines", "carrier")),
            )
            .column(Column::integer("flight").required())
            .column(Column::text("tailnum"))
            .column(
                Column::integer("plane_id")
                    .from("tailnum")
                    .relate(Relation::new("planes", "tailnum").create_missing()),
            )
            .column(Column::text("origin").required())
            .column(Column::text("dest"))
            .column(Column::integer("air_time"))
            .column(Column::integer("distance"))
            .column(Column::integer("hour"))
            .column(Column::integer("minute"))
            .column(Column::date_time("time_hour"))
    }
}

ingest_importer_sdk::export_importer!(FlightImporter);

#[cfg(test)]
#[path = "../../test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::Read;
    use std::rc::Rc;

    use super::*;
    use crate::test_data::data_file;
    use ingest_importer_sdk::testing::{Harness, RelateRequest};
    use ingest_importer_sdk::Value;

    const HEADERS: [&str; 19] = [
        "year",
        "month",
        "day",
        "dep_time",
        "sched_dep_time",
        "dep_delay",
        "arr_time",
        "sched_arr_time",
        "arr_delay",
        "carrier",
        "flight",
        "tailnum",
        "origin",
        "dest",
        "air_time",
        "distance",
        "hour",
        "minute",
        "time_hour",
    ];

    /// Returns the first column of a CSV file, without its header.
    fn first_column(path: &std::path::Path) -> Vec<String> {
        let mut reader =
            csv::Reader::from_path(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        reader.records().map(|record| record.unwrap()[0].to_owned()).collect()
    }

    /// A stand-in for the host's tables: rows of `airlines` and `planes` by key, with ids
    /// in insertion order, and planes created on request.
    #[derive(Default)]
    struct Tables {
        airlines: BTreeMap<String, i64>,
        planes: BTreeMap<String, i64>,
        created_planes: BTreeSet<String>,
    }

    impl Tables {
        fn from_files() -> Self {
            let mut tables = Tables::default();
            for (id, carrier) in first_column(&data_file("airlines.csv")).into_iter().enumerate() {
                tables.airlines.insert(carrier, id as i64 + 1);
            }
            for (id, tailnum) in first_column(&data_file("planes.csv")).into_iter().enumerate() {
                tables.planes.insert(tailnum, id as i64 + 1);
            }
            tables
        }

        fn relate(&mut self, request: &RelateRequest) -> Result<Vec<Option<i64>>, String> {
            let mut ids = Vec::with_capacity(request.values.len());
            for value in &request.values {
                let id = match request.table.as_str() {
                    "airlines" => self.airlines.get(value).copied(),
                    "planes" => {
                        let next = self.planes.len() as i64 + 1;
                        match self.planes.get(value) {
                            Some(id) => Some(*id),
                            None if request.create_missing => {
                                self.planes.insert(value.clone(), next);
                                self.created_planes.insert(value.clone());
                                Some(next)
                            }
                            None => None,
                        }
                    }
                    other => return Err(format!("no table {other}")),
                };
                ids.push(id);
            }
            Ok(ids)
        }
    }

    fn harness(tables: &Rc<RefCell<Tables>>) -> Harness {
        let tables = tables.clone();
        Harness::new(FlightImporter::config()).with_relate(move |request| tables.borrow_mut().relate(request))
    }

    #[test]
    fn flights_file_imports_every_row() {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(data_file("flights.csv.gz")).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let tables = Rc::new(RefCell::new(Tables::from_files()));

        let report = harness(&tables).run_csv_text(&text).unwrap();

        assert_eq!(report.records().count(), 336_776);
        assert_eq!(report.failures().count(), 0);
        assert_eq!(tables.borrow().created_planes.len(), 721);
    }

    #[test]
    fn record_keeps_codes_and_related_ids() {
        let tables = Rc::new(RefCell::new(Tables::from_files()));
        let row = [
            "2013", "1", "1", "517", "515", "2", "830", "819", "11", "UA", "1545", "N14228", "EWR", "IAH", "227",
            "1400", "5", "15", "2013-01-01T10:00:00Z",
        ];

        let report = harness(&tables).run_text(HEADERS, &[row]).unwrap();

        let record = report.records().next().expect("the row gives a record");
        let ua = tables.borrow().airlines["UA"];
        let n14228 = tables.borrow().planes["N14228"];
        assert_eq!(record[9], Value::text("UA"));
        assert_eq!(record[10], Value::Integer(ua));
        assert_eq!(record[12], Value::text("N14228"));
        assert_eq!(record[13], Value::Integer(n14228));
        assert!(tables.borrow().created_planes.is_empty());
    }

    #[test]
    fn unknown_carrier_fails_the_row() {
        let tables = Rc::new(RefCell::new(Tables::from_files()));
        let row = [
            "2013", "1", "1", "517", "515", "2", "830", "819", "11", "ZZ", "1545", "N14228", "EWR", "IAH", "227",
            "1400", "5", "15", "2013-01-01T10:00:00Z",
        ];

        let report = harness(&tables).run_text(HEADERS, &[row]).unwrap();

        let failure = report.failures().next().expect("the row fails");
        assert_eq!(failure.messages("airline_id"), ["The selected airline id is invalid."]);
    }

    #[test]
    fn unknown_tail_number_creates_plane() {
        let tables = Rc::new(RefCell::new(Tables::from_files()));
        let row = [
            "2013", "1", "1", "NA", "1630", "NA", "NA", "1815", "NA", "MQ", "4308", "N0EGMQ", "EWR", "RDU", "NA",
            "416", "16", "30", "2013-01-01T21:00:00Z",
        ];

        let report = harness(&tables).run_text(HEADERS, &[row]).unwrap();

        let record = report.records().next().expect("the row gives a record");
        let created = tables.borrow().planes["N0EGMQ"];
        assert_eq!(record[13], Value::Integer(created));
        assert_eq!(tables.borrow().created_planes, BTreeSet::from(["N0EGMQ".to_owned()]));
    }

    #[test]
    fn na_cells_become_null() {
        let tables = Rc::new(RefCell::new(Tables::from_files()));
        let row = [
            "2013", "1", "2", "NA", "1700", "NA", "NA", "1900", "NA", "AA", "100", "NA", "JFK", "LAX", "NA", "2475",
            "17", "0", "2013-01-02T22:00:00Z",
        ];

        let report = harness(&tables).run_text(HEADERS, &[row]).unwrap();

        let record = report.records().next().expect("the row gives a record");
        assert_eq!(record[3], Value::Null, "dep_time");
        assert_eq!(record[5], Value::Null, "dep_delay");
        assert_eq!(record[12], Value::Null, "tailnum");
        assert_eq!(record[13], Value::Null, "a flight without a tail number has no plane");
        assert!(tables.borrow().created_planes.is_empty());
    }
}
