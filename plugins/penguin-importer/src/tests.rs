//! Runs the importer on both real files, read the way the host's parsers read them: the
//! CSV as text cells, the workbook as typed cells.

use calamine::{Data, Reader, open_workbook_auto};
use ingest_importer_sdk::testing::{Harness, Report};
use ingest_importer_sdk::{Cell, Date, DateTime, Value};

use super::*;
use crate::test_data::data_file;


const COLUMNS: [&str; 17] = [
    "study_name",
    "sample_number",
    "species",
    "region",
    "island",
    "stage",
    "individual_id",
    "clutch_completion",
    "date_egg",
    "culmen_length_mm",
    "culmen_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "sex",
    "delta_15_n",
    "delta_13_c",
    "comments",
];

fn column(name: &str) -> usize {
    COLUMNS.iter().position(|column| *column == name).unwrap()
}

/// Checks the result both files must give: 333 records and 11 rows failed on `sex`.
fn assert_penguin_results(report: &Report) {
    assert_eq!(report.records().count(), 333);
    assert_eq!(report.failures().count(), 11);
    assert_eq!(report.skips().count(), 0);
    for failure in report.failures() {
        assert_eq!(failure.messages("sex"), ["The sex field is required."], "{failure:?}");
        assert_eq!(failure.validation.len(), 1, "{failure:?}");
    }

    let first = report.records().next().unwrap();
    assert_eq!(first[column("study_name")], Value::text("PAL0708"));
    assert_eq!(first[column("sample_number")], Value::Integer(1));
    assert_eq!(first[column("species")], Value::text("Adelie"));
    assert_eq!(first[column("stage")], Value::text("Adult, 1 Egg Stage"));
    assert_eq!(first[column("clutch_completion")], Value::Boolean(true));
    assert_eq!(first[column("date_egg")], Value::Date(Date::new(2007, 11, 11).unwrap()));
    assert_eq!(first[column("culmen_length_mm")], Value::Float(39.1));
    assert_eq!(first[column("flipper_length_mm")], Value::Integer(181));
    assert_eq!(first[column("body_mass_g")], Value::Integer(3750));
    assert_eq!(first[column("sex")], Value::text("male"));
    assert_eq!(first[column("delta_15_n")], Value::Null);
    assert_eq!(first[column("comments")], Value::text("Not enough blood for isotopes."));

    let species: std::collections::BTreeSet<String> = report
        .records()
        .map(|record| record[column("species")].to_string())
        .collect();
    assert_eq!(
        species.into_iter().collect::<Vec<_>>(),
        ["Adelie", "Chinstrap", "Gentoo"]
    );
    let sexes: std::collections::BTreeSet<String> = report
        .records()
        .map(|record| record[column("sex")].to_string())
        .collect();
    assert_eq!(sexes.into_iter().collect::<Vec<_>>(), ["female", "male"]);
    let incomplete = report
        .records()
        .filter(|record| record[column("clutch_completion")] == Value::Boolean(false));
    assert!(incomplete.count() > 0, "some clutches are incomplete");
}

#[test]
fn penguins_csv() {
    let path = data_file("penguins-raw.csv");
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect();

    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cells: Vec<Vec<Cell<'_>>> = rows
        .iter()
        .map(|row| row.iter().map(|text| Cell::Text(text)).collect())
        .collect();
    let report = Harness::new(PenguinImporter::config()).run(&headers, &cells).unwrap();

    assert_penguin_results(&report);
}

/// Reads the first sheet of the workbook: its header row and its data rows.
fn read_workbook() -> (Vec<String>, Vec<Vec<Data>>) {
    let path = data_file("xlsx/penguins.xlsx");
    let mut workbook =
        open_workbook_auto(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let range = workbook
        .worksheet_range_at(0)
        .expect("the workbook has a sheet")
        .unwrap();
    let mut rows = range.rows();
    let headers = rows.next().unwrap().iter().map(|cell| cell.to_string()).collect();
    (headers, rows.map(<[Data]>::to_vec).collect())
}

/// Converts a workbook cell as a parser does. Numbers arrive as float cells, as calamine
/// reads them. With `integers` set, numbers without a fraction become integer cells
/// instead, as a parser that drops float noise sends them.
fn typed_cell(data: &Data, integers: bool) -> Cell<'_> {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(text) => Cell::Text(text),
        Data::Int(number) => Cell::Integer(*number),
        Data::Float(number) if integers && number.fract() == 0.0 => Cell::Integer(*number as i64),
        Data::Float(number) => Cell::Float(*number),
        Data::Bool(flag) => Cell::Boolean(*flag),
        Data::DateTime(moment) => {
            let text = moment.as_datetime().expect("a valid spreadsheet date").to_string();
            Cell::DateTime(DateTime::parse_iso(&text).unwrap_or_else(|| panic!("{text} is not ISO 8601")))
        }
        other => panic!("unexpected cell {other:?} in the penguins workbook"),
    }
}

fn run_workbook(integers: bool) -> Report {
    let (headers, rows) = read_workbook();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cells: Vec<Vec<Cell<'_>>> = rows
        .iter()
        .map(|row| row.iter().map(|data| typed_cell(data, integers)).collect())
        .collect();
    Harness::new(PenguinImporter::config()).run(&headers, &cells).unwrap()
}

#[test]
fn penguins_xlsx_with_float_cells() {
    assert_penguin_results(&run_workbook(false));
}

#[test]
fn penguins_xlsx_with_integer_cells() {
    assert_penguin_results(&run_workbook(true));
}

#[test]
fn invalid_sex_fails_on_sex() {
    let headers = [
        "studyName",
        "Sample Number",
        "Species",
        "Sex",
        "Date Egg",
        "Clutch Completion",
    ];
    let rows = [
        vec![
            Cell::Text("PAL0708"),
            Cell::Text("1"),
            Cell::Text("Adelie Penguin (Pygoscelis adeliae)"),
            Cell::Text("."),
            Cell::Text("2007-11-11"),
            Cell::Text("Yes"),
        ],
        vec![
            Cell::Text("PAL0708"),
            Cell::Text("2"),
            Cell::Text("Adelie Penguin (Pygoscelis adeliae)"),
            Cell::Text("female"),
            Cell::Text("2007-11-11"),
            Cell::Text("No"),
        ],
    ];
    let report = Harness::new(PenguinImporter::config()).run(&headers, &rows).unwrap();
    let failures: Vec<_> = report.failures().collect();

    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].messages("sex"), ["The selected sex is invalid."]);
    assert_eq!(failures[1].messages("sex"), ["The selected sex is invalid."]);
}

#[test]
fn invalid_date_and_boolean_fail_on_their_fields() {
    let headers = ["Sample Number", "Species", "Sex", "Date Egg", "Clutch Completion"];
    let rows = [vec![
        Cell::Float(3.5),
        Cell::Text("Gentoo penguin (Pygoscelis papua)"),
        Cell::Text("MALE"),
        Cell::Text("11/11/2007"),
        Cell::Text("Maybe"),
    ]];
    let report = Harness::new(PenguinImporter::config()).run(&headers, &rows).unwrap();
    let failure = report.failures().next().expect("the row fails");

    assert_eq!(
        failure.messages("sample_number"),
        ["The sample number field must be an integer."]
    );
    assert_eq!(
        failure.messages("date_egg"),
        ["The date egg field must be a valid date."]
    );
    assert_eq!(
        failure.messages("clutch_completion"),
        ["The clutch completion field must be true or false."]
    );
    assert_eq!(
        failure.message,
        "The sample number field must be an integer. (and 2 more errors)"
    );
}

#[test]
fn missing_species_header_fails_the_run() {
    let harness = Harness::new(PenguinImporter::config());
    let error = harness
        .check_headers(&["studyName", "Sample Number", "Sex"])
        .unwrap_err();
    assert_eq!(
        error,
        r#"The file is missing the required header "Species" (found headers: "studyName", "Sample Number", "Sex")."#
    );
}
