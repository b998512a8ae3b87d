//! Assertions and parsers for what the server returns.

use reqwest::blocking::Response;
use serde_json::Value;

/// Asserts the response's status and returns its body parsed as JSON.
///
/// The panic message names the request URL and shows the body, so a wrong status explains
/// itself.
pub fn expect_json(response: Response, expected_status: u16) -> Value {
    let url = response.url().to_string();
    let body = expect_text(response, expected_status);
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("the body from {url} is not JSON ({error}): {body}"))
}

/// Asserts the response's status and returns its body as text.
pub fn expect_text(response: Response, expected_status: u16) -> String {
    let url = response.url().to_string();
    let status = response.status().as_u16();
    let body = response.text().unwrap_or_else(|error| panic!("cannot read the body from {url}: {error}"));
    assert_eq!(status, expected_status, "unexpected status from {url}; body: {body}");
    body
}

/// Checks that `text` is a timestamp as the API writes them, UTC with microseconds:
/// `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`, for example `2023-10-27T10:00:00.000000Z`.
pub fn is_api_timestamp(text: &str) -> bool {
    // In the template, `0` is any ASCII digit and every other character matches itself.
    const TEMPLATE: &str = "0000-00-00T00:00:00.000000Z";
    text.len() == TEMPLATE.len()
        && text.bytes().zip(TEMPLATE.bytes()).all(|(actual, expected)| match expected {
            b'0' => actual.is_ascii_digit(),
            _ => actual == expected,
        })
}

/// Parses RFC 4180 CSV text into records of fields: commas separate fields, a quoted field
/// may contain commas, line breaks and doubled quotes, and records end with LF or CRLF.
///
/// Panics on an unterminated quoted field.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();

    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    assert!(!in_quotes, "the CSV text ends inside a quoted field");

    // The last record may lack its line break.
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_check_accepts_microseconds_utc() {
        assert!(is_api_timestamp("2023-10-27T10:00:00.000000Z"));
    }

    #[test]
    fn timestamp_check_rejects_other_formats() {
        for text in [
            "2023-10-27T10:00:00Z",
            "2023-10-27T10:00:00.000Z",
            "2023-10-27T10:00:00.000000+00:00",
            "2023-10-27 10:00:00.000000Z",
            "2023-10-27T10:00:00.000000Zx",
            "",
        ] {
            assert!(!is_api_timestamp(text), "{text:?} was accepted");
        }
    }

    #[test]
    fn csv_parser_handles_quotes_and_line_breaks() {
        let records = parse_csv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n1,,3");
        assert_eq!(records, vec![vec!["a", "b", "c"], vec!["x, y", "say \"hi\"", "two\nlines"], vec!["1", "", "3"],]);
    }
}
