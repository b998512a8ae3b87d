//! A hostile importer for the sandbox tests: for each row it tries to read the host file
//! named by `path` and to open a TCP connection to `address`. The sandbox denies both, so
//! each attempt fails its row with a validation error that contains the error the guest
//! got. Had an attempt succeeded, the row would import what it read or reached into
//! `escape_rows`.

use std::io::Write;

use ingest_importer_sdk::{Column, Importer, IngestConfig, Value};

pub struct EscapeImporter;

impl Importer for EscapeImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("escape-importer")
            .name("Tries to leave the sandbox")
            .target("escape_rows")
            .keyed_by("number")
            .column(Column::integer("number").required())
            .column(Column::text("file_content").from("path").transform_with(|value, _row| {
                let path = value.as_str().unwrap_or_default().to_owned();
                match std::fs::read_to_string(&path) {
                    Ok(content) => Ok(Value::text(content)),
                    Err(error) => Err(format!("reading {path} failed: {error}")),
                }
            }))
            .column(Column::text("connection").from("address").transform_with(|value, _row| {
                let address = value.as_str().unwrap_or_default().to_owned();
                match std::net::TcpStream::connect(&address) {
                    Ok(mut stream) => {
                        let _ = stream.write_all(b"escaped\n");
                        Ok(Value::text(format!("connected to {address}")))
                    }
                    Err(error) => Err(format!("connecting to {address} failed: {error}")),
                }
            }))
    }
}

ingest_importer_sdk::export_importer!(EscapeImporter);
