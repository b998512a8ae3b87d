//! `GET /{id}/failed-rows/download`: the failed rows as CSV, ready to fix and upload again.

use rocket::State;
use rocket::http::{ContentType, Header};
use rocket::response::Responder;

use super::auth::AuthenticatedUser;
use super::errors::ApiError;
use super::AppState;
use super::runs::{parse_run_id, run_not_found};
use crate::store::rows::failed_rows_after;
use crate::store::{StoreError, runs};

#[derive(Responder)]
#[response(status = 200)]
pub struct CsvDownload {
    body: Vec<u8>,
    content_type: ContentType,
    disposition: Header<'static>,
}

const PAGE_ROWS: i64 = 1000;

#[rocket::get("/<id>/failed-rows/download")]
pub async fn download(id: &str, _user: AuthenticatedUser, state: &State<AppState>) -> Result<CsvDownload, ApiError> {
    let id = parse_run_id(id)?;
    // NOTE: the whole CSV is built in memory; a run with millions of failed rows would
    // need a streamed body written page by page instead.
    let body = state
        .store
        .run(move |connection| {
            let Some(run) = runs::find(connection, id)? else { return Ok(None) };
            let headers = run.headers();
            let mut writer = csv::Writer::from_writer(Vec::new());
            let mut header_row: Vec<&str> = headers.iter().map(String::as_str).collect();
            header_row.extend(["_error_message", "_row_number"]);
            writer.write_record(&header_row).map_err(csv_error)?;

            let mut after = 0;
            loop {
                let page = failed_rows_after(connection, id, after, PAGE_ROWS)?;
                let Some(last) = page.last() else { break };
                after = last.row_number;
                for row in &page {
                    writer.write_record(&csv_record(&headers, row)).map_err(csv_error)?;
                }
            }
            Ok(Some(writer.into_inner().map_err(|error| csv_error(error.into_error().into()))?))
        })
        .await?
        .ok_or_else(|| run_not_found(id))?;

    Ok(CsvDownload {
        body,
        content_type: ContentType::CSV,
        disposition: Header::new("Content-Disposition", format!("attachment; filename=\"run-{id}-failed-rows.csv\"")),
    })
}

fn csv_error(error: csv::Error) -> StoreError {
    StoreError::Query(diesel::result::Error::SerializationError(Box::new(error)))
}

fn csv_record(headers: &[String], row: &crate::store::rows::StoredRow) -> Vec<String> {
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap_or_default();
    let errors: serde_json::Value = row.errors.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default();

    let mut record: Vec<String> = headers
        .iter()
        .map(|header| match data.get(header) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(text)) => neutralise_formula(text),
            Some(other) => other.to_string(),
        })
        .collect();
    record.push(neutralise_formula(&error_message(&errors)));
    record.push(row.row_number.to_string());
    record
}

/// Joins the row's message and its validation messages (as `field: message`) into one
/// line. The message is left out when it only repeats a validation message.
fn error_message(errors: &serde_json::Value) -> String {
    let message = errors.get("message").and_then(|message| message.as_str()).unwrap_or_default();
    let mut repeated = false;
    let mut validation = Vec::new();
    if let Some(fields) = errors.get("validation").and_then(|validation| validation.as_object()) {
        for (field, messages) in fields {
            for text in messages.as_array().into_iter().flatten().filter_map(|text| text.as_str()) {
                repeated |= text == message;
                validation.push(format!("{field}: {text}"));
            }
        }
    }
    let mut parts = Vec::new();
    if !message.is_empty() && !repeated {
        parts.push(message.to_owned());
    }
    parts.extend(validation);
    parts.join("; ")
}

/// Prefixes a cell that a spreadsheet program would run as a formula with `'`, so an
/// opened download cannot execute what a hostile upload put in it. Plain numbers such
/// as `-24.5` are left alone.
fn neutralise_formula(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.parse::<f64>().is_err() { format!("'{text}") } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_numbers_are_not() {
        assert_eq!(neutralise_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise_formula("+1+2"), "'+1+2");
        assert_eq!(neutralise_formula("-24.69454"), "-24.69454");
        assert_eq!(neutralise_formula("MALE"), "MALE");
    }

    #[test]
    fn error_message_joins_message_and_validation() {
        let errors = serde_json::json!({ "message": "Validation failed.", "validation": { "sex": ["must be MALE or FEMALE"] } });
        assert_eq!(error_message(&errors), "Validation failed.; sex: must be MALE or FEMALE");

        let repeated = serde_json::json!({ "message": "The sex field is required.", "validation": { "sex": ["The sex field is required."] } });
        assert_eq!(error_message(&repeated), "sex: The sex field is required.");
    }
}
