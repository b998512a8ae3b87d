//! A hostile importer for the sandbox tests, written against the raw bindings of
//! `ingest:importer@0.1.0` so that it can return results the SDK would never build.
//!
//! It imports `number,mode` rows into `malformed_rows` (columns `number` integer, `mode` text).
//! The `mode` of a chunk's first row picks what `process` returns for the whole chunk:
//! - `count`: one outcome fewer than the chunk has rows;
//! - `type`: a record per row whose `number` cell is text instead of an integer;
//! - `offsets`: records whose cell end offsets point past the end of their bytes;
//! - `target`: records routed to target 1, which the description does not declare;
//! - anything else: a correct record per row.

wit_bindgen::generate!({
    world: "importer-world",
    path: "../../../plugin-sdk/wit",
});

use exports::ingest::importer::importer::Guest;
use ingest::importer::types::{
    Cells, Chunk, ChunkResult, Column, ColumnType, Description, DuplicateStrategy, ExpectedHeader, FormatOptions,
    SourceKind, Target,
};

const TAG_TEXT: u8 = 1;
const TAG_INTEGER: u8 = 2;
const OUTCOME_RECORD: u8 = 0;

struct MalformedImporter;

impl Guest for MalformedImporter {
    fn describe() -> Result<Description, String> {
        Ok(Description {
            slug: "malformed-importer".into(),
            name: "Returns malformed results".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            sdk_version: "none (raw bindings)".into(),
            source: SourceKind::Upload,
            location: None,
            format: FormatOptions { delimiter: None, encoding: None, sheet: None, header_row: None },
            targets: vec![Target {
                table: "malformed_rows".into(),
                columns: vec![
                    Column { name: "number".into(), type_: ColumnType::Integer, nullable: false },
                    Column { name: "mode".into(), type_: ColumnType::Text, nullable: true },
                ],
                keyed_by: vec!["number".into()],
                duplicates: DuplicateStrategy::Update,
                newer_by: Vec::new(),
            }],
            chunk_size: 100,
            atomic_chunks: false,
            strict_headers: false,
            headers: ["number", "mode"]
                .into_iter()
                .map(|name| ExpectedHeader { name: name.into(), aliases: Vec::new(), required: true })
                .collect(),
            capabilities: Vec::new(),
        })
    }

    fn check_headers(_headers: Vec<String>) -> Result<(), String> {
        Ok(())
    }

    fn process(chunk: Chunk) -> Result<ChunkResult, String> {
        let width = chunk.rows.width as usize;
        let rows = chunk.rows.tags.len().checked_div(width).unwrap_or(0);
        let number_column = column(&chunk.headers, "number")?;
        let mode_column = column(&chunk.headers, "mode")?;
        let mode = if rows == 0 { String::new() } else { text(&chunk.rows, mode_column) };

        let mut records = Cells { width: 2, tags: Vec::new(), ends: Vec::new(), bytes: Vec::new() };
        for row in 0..rows {
            let number = text(&chunk.rows, row * width + number_column);
            let row_mode = text(&chunk.rows, row * width + mode_column);
            match (mode.as_str(), number.trim().parse::<i64>()) {
                ("type", _) | (_, Err(_)) => push(&mut records, TAG_TEXT, number.as_bytes()),
                (_, Ok(number)) => push(&mut records, TAG_INTEGER, &number.to_le_bytes()),
            }
            push(&mut records, TAG_TEXT, row_mode.as_bytes());
        }
        if mode == "offsets" {
            let past_end = records.bytes.len() as u32 + 1_000;
            records.ends.iter_mut().for_each(|end| *end = past_end);
        }

        let outcomes = match mode.as_str() {
            "count" => vec![OUTCOME_RECORD; rows.saturating_sub(1)],
            _ => vec![OUTCOME_RECORD; rows],
        };
        let target = if mode == "target" { 1 } else { 0 };
        let record_targets = vec![target; outcomes.len()];
        Ok(ChunkResult { outcomes, record_targets, records: vec![records], skips: Vec::new(), failures: Vec::new() })
    }
}

fn column(headers: &[String], name: &str) -> Result<usize, String> {
    headers
        .iter()
        .position(|header| header.trim().eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("the file has no {name} header"))
}

/// Returns cell `index` as text: a text cell's payload, an integer's digits, or "".
fn text(cells: &Cells, index: usize) -> String {
    let start = if index == 0 { 0 } else { cells.ends[index - 1] as usize };
    let payload = &cells.bytes[start..cells.ends[index] as usize];
    match cells.tags[index] {
        TAG_TEXT => String::from_utf8_lossy(payload).into_owned(),
        TAG_INTEGER => payload.try_into().map(i64::from_le_bytes).map(|number| number.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

fn push(cells: &mut Cells, tag: u8, payload: &[u8]) {
    cells.bytes.extend_from_slice(payload);
    cells.tags.push(tag);
    cells.ends.push(cells.bytes.len() as u32);
}

export!(MalformedImporter);
