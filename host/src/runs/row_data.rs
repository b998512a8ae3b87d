//! A row's original cells as the JSON object stored with it and shown by the API.

use crate::cells::PackedCells;

/// The cells of `row` keyed by header, in header order.
pub fn from_cells(headers: &[String], cells: &PackedCells, row: usize) -> serde_json::Value {
    let object: serde_json::Map<String, serde_json::Value> =
        headers.iter().cloned().zip(cells.row(row).map(|cell| cell.to_json())).collect();
    serde_json::Value::Object(object)
}

/// The raw fields of a row that could not be read, keyed by header; fields beyond the
/// header are kept under `_extra_N`.
pub fn from_raw(headers: &[String], raw: &[String]) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (index, value) in raw.iter().enumerate() {
        let key = headers.get(index).cloned().unwrap_or_else(|| format!("_extra_{}", index + 1));
        object.insert(key, value.clone().into());
    }
    serde_json::Value::Object(object)
}

/// Packs a stored row back into cells in header order, for a retry.
pub fn pack(headers: &[String], data: &serde_json::Value, cells: &mut PackedCells) {
    for header in headers {
        match data.get(header) {
            None | Some(serde_json::Value::Null) => cells.push_empty(),
            Some(serde_json::Value::String(text)) => cells.push_text(text),
            Some(serde_json::Value::Bool(value)) => cells.push_boolean(*value),
            Some(serde_json::Value::Number(number)) => match number.as_i64() {
                Some(integer) => cells.push_integer(integer),
                None => cells.push_float(number.as_f64().unwrap_or(f64::NAN)),
            },
            Some(other) => cells.push_text(&other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::Cell;

    #[test]
    fn stored_rows_pack_back_into_the_same_cells() {
        let headers = vec!["name".to_owned(), "count".to_owned(), "note".to_owned()];
        let mut cells = PackedCells::new(3);
        cells.push_text("Adelie");
        cells.push_integer(7);
        cells.push_empty();

        let data = from_cells(&headers, &cells, 0);
        assert_eq!(data.to_string(), r#"{"name":"Adelie","count":7,"note":null}"#);

        let mut packed = PackedCells::new(3);
        pack(&headers, &data, &mut packed);
        assert_eq!(packed.row(0).collect::<Vec<_>>(), [Cell::Text("Adelie"), Cell::Integer(7), Cell::Empty]);
    }

    #[test]
    fn raw_fields_beyond_the_header_are_kept() {
        let headers = vec!["a".to_owned()];
        let data = from_raw(&headers, &["1".to_owned(), "2".to_owned()]);
        assert_eq!(data.to_string(), r#"{"a":"1","_extra_2":"2"}"#);
    }
}
