//! Generated input files, written into a test's own directory.

use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes a CSV with the columns of airports.csv and `rows` data rows, each with a unique
/// `iata` key and coordinates within the valid ranges, so the airport importer accepts
/// every row.
pub fn write_airports_csv(path: &Path, rows: u64) {
    write_airports_csv_from(path, 0, rows);
}

/// Writes airports as [`write_airports_csv`] does, numbered from `first`, so files with
/// different ranges share no key (`T0000000`, `T0000001`, …).
pub fn write_airports_csv_from(path: &Path, first: u64, rows: u64) {
    let file = std::fs::File::create(path)
        .unwrap_or_else(|error| panic!("cannot create the fixture {}: {error}", path.display()));
    let mut writer = BufWriter::new(file);
    let mut write = || -> std::io::Result<()> {
        writeln!(writer, "iata,name,city,state,country,latitude,longitude")?;
        for i in first..first + rows {
            let latitude = (i % 180) as f64 - 89.5;
            let longitude = (i % 360) as f64 - 179.5;
            writeln!(writer, "T{i:07},Test Airport {i},Test City,TX,USA,{latitude},{longitude}")?;
        }
        writer.flush()
    };
    write().unwrap_or_else(|error| panic!("cannot write the fixture {}: {error}", path.display()));
}
