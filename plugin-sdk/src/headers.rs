//! Matching of the file's header row against the headers an importer expects.
//!
//! Header names match after trimming whitespace (and a byte order mark) and ignoring case,
//! so `Sample Number`, `sample number ` and `SAMPLE NUMBER` are the same header.
//!
//! A header row can have tens of thousands of columns, so the checks over the whole row
//! use hash sets of [`header_key`]s and take time linear in the number of columns.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::bindings::ingest::importer::types::ExpectedHeader;

/// The maximum number of header names one message lists.
const MAX_LISTED_HEADERS: usize = 20;

/// The maximum number of repeated headers that get a warning each; the rest are counted
/// in one more warning.
const MAX_REPEAT_WARNINGS: usize = 10;

/// Returns whether two header names are the same header.
pub(crate) fn same_header(left: &str, right: &str) -> bool {
    let left = trim_header(left);
    let right = trim_header(right);
    if left.is_ascii() && right.is_ascii() {
        return left.eq_ignore_ascii_case(right);
    }
    left.chars()
        .flat_map(char::to_lowercase)
        .eq(right.chars().flat_map(char::to_lowercase))
}

fn trim_header(name: &str) -> &str {
    name.trim_matches(|character: char| character.is_whitespace() || character == '\u{feff}')
}

/// Returns the form of a header name under which [`same_header`] names are equal: trimmed
/// and lower-cased.
fn header_key(name: &str) -> Cow<'_, str> {
    let name = trim_header(name);
    if name.is_ascii() {
        if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(name)
        }
    } else {
        Cow::Owned(name.chars().flat_map(char::to_lowercase).collect())
    }
}

/// The header row of a chunk, searched by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderRow<'a> {
    headers: &'a [String],
}

impl<'a> HeaderRow<'a> {
    pub(crate) fn new(headers: &'a [String]) -> Self {
        Self { headers }
    }

    pub(crate) fn names(&self) -> &'a [String] {
        self.headers
    }

    /// Returns the position of the first header named `name`.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|header| same_header(header, name))
    }

    /// Returns the position of the first of `names` that the row contains, so that the
    /// order of a column's aliases is the order of preference.
    pub(crate) fn resolve(&self, names: &[String]) -> Option<usize> {
        names.iter().find_map(|name| self.position(name))
    }

    /// Returns the positions of all of `names` that the row contains, in the order of
    /// `names`, without repeats.
    pub(crate) fn resolve_all(&self, names: &[String]) -> Vec<usize> {
        let mut positions: Vec<usize> = Vec::with_capacity(names.len());
        for position in names.iter().filter_map(|name| self.position(name)) {
            if !positions.contains(&position) {
                positions.push(position);
            }
        }
        positions
    }
}

/// Checks a header row and returns the error that fails the run (`None` when the row is
/// acceptable) and the warnings for the log.
///
/// Missing required headers, and unexpected headers when `strict` is set, make the one
/// error. Missing optional headers and repeated headers make warnings.
pub(crate) fn check_header_row(
    expected: &[ExpectedHeader],
    headers: &[String],
    strict: bool,
) -> (Option<String>, Vec<String>) {
    let row = HeaderRow::new(headers);
    let mut missing = Vec::new();
    let mut warnings = Vec::new();
    for header in expected {
        let names: Vec<String> = std::iter::once(header.name.clone())
            .chain(header.aliases.iter().cloned())
            .collect();
        if row.resolve(&names).is_some() {
            continue;
        }
        if header.required {
            missing.push(describe_expected(header));
        } else {
            warnings.push(format!(
                "The file has no header {}, so its column will be empty.",
                describe_expected(header)
            ));
        }
    }

    warnings.extend(repeated_header_warnings(headers));

    let unexpected: Vec<&str> = if strict {
        let known: HashSet<Cow<'_, str>> = expected
            .iter()
            .flat_map(|header| std::iter::once(&header.name).chain(&header.aliases))
            .map(|name| header_key(name))
            .collect();
        headers
            .iter()
            .filter(|header| !trim_header(header).is_empty())
            .filter(|header| !known.contains(&header_key(header)))
            .map(String::as_str)
            .collect()
    } else {
        Vec::new()
    };

    let mut problems = Vec::new();
    if !missing.is_empty() {
        let noun = if missing.len() == 1 { "header" } else { "headers" };
        problems.push(format!(
            "The file is missing the required {noun} {} (found headers: {}).",
            missing.join(", "),
            list_headers(headers)
        ));
    }
    if !unexpected.is_empty() {
        let noun = if unexpected.len() == 1 { "header" } else { "headers" };
        let names: Vec<String> = expected.iter().map(|header| format!("{:?}", header.name)).collect();
        problems.push(format!(
            "The file has the unexpected {noun} {}, which strict headers reject (expected headers: {}).",
            quote_names(&unexpected),
            names.join(", ")
        ));
    }
    let error = (!problems.is_empty()).then(|| problems.join(" "));
    (error, warnings)
}

/// Returns one warning per header that repeats an earlier one, up to
/// [`MAX_REPEAT_WARNINGS`], and one that counts the rest.
fn repeated_header_warnings(headers: &[String]) -> Vec<String> {
    let mut seen = HashSet::with_capacity(headers.len());
    let mut warnings = Vec::new();
    let mut unreported = 0usize;
    for header in headers {
        if trim_header(header).is_empty() || seen.insert(header_key(header)) {
            continue;
        }
        if warnings.len() < MAX_REPEAT_WARNINGS {
            warnings.push(format!("The header {header:?} appears more than once; only its first column is read."));
        } else {
            unreported += 1;
        }
    }
    if unreported > 0 {
        warnings.push(format!(
            "{unreported} more headers repeat an earlier header; only the first column of each name is read."
        ));
    }
    warnings
}

/// Quotes a header with its aliases: `"Sex" or "Gender"`.
fn describe_expected(header: &ExpectedHeader) -> String {
    if header.aliases.is_empty() {
        return format!("{:?}", header.name);
    }
    let aliases: Vec<String> = header.aliases.iter().map(|alias| format!("{alias:?}")).collect();
    format!("{:?} or {}", header.name, aliases.join(" or "))
}

fn list_headers(headers: &[String]) -> String {
    if headers.is_empty() {
        return "none".to_owned();
    }
    let names: Vec<&str> = headers.iter().map(String::as_str).collect();
    quote_names(&names)
}

/// Quotes up to [`MAX_LISTED_HEADERS`] names, comma-separated, and counts the rest.
fn quote_names(names: &[&str]) -> String {
    let mut quoted: Vec<String> = names.iter().take(MAX_LISTED_HEADERS).map(|name| format!("{name:?}")).collect();
    if names.len() > MAX_LISTED_HEADERS {
        quoted.push(format!("and {} more", names.len() - MAX_LISTED_HEADERS));
    }
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn expected(name: &str, aliases: &[&str], required: bool) -> ExpectedHeader {
        ExpectedHeader {
            name: name.to_owned(),
            aliases: strings(aliases),
            required,
        }
    }

    #[test]
    fn same_header_ignores_case_and_padding() {
        assert!(same_header("Sample Number", " sample number "));
        assert!(same_header("\u{feff}carrier", "CARRIER"));
        assert!(same_header("Ärger", "ärger"));
        assert!(!same_header("Sex", "Sexes"));
    }

    #[test]
    fn resolve_prefers_the_first_alias() {
        let headers = strings(&["E-Mail", "email"]);
        let row = HeaderRow::new(&headers);
        assert_eq!(row.resolve(&strings(&["email", "E-Mail"])), Some(1));
        assert_eq!(row.resolve(&strings(&["mail"])), None);
        assert_eq!(row.resolve_all(&strings(&["email", "mail", "E-MAIL", "e-mail"])), [1, 0]);
    }

    #[test]
    fn missing_required_header_is_named() {
        let expected_headers = [expected("Sex", &["Gender"], true), expected("Species", &[], true)];
        let (error, _) = check_header_row(&expected_headers, &strings(&["studyName", "species"]), false);
        assert_eq!(
            error.as_deref(),
            Some(
                r#"The file is missing the required header "Sex" or "Gender" (found headers: "studyName", "species")."#
            )
        );
    }

    #[test]
    fn missing_optional_header_warns() {
        let expected_headers = [expected("speed", &[], false)];
        let (error, warnings) = check_header_row(&expected_headers, &strings(&["tailnum"]), false);
        assert_eq!(error, None);
        assert_eq!(
            warnings,
            ["The file has no header \"speed\", so its column will be empty."]
        );
    }

    #[test]
    fn strict_headers_reject_unexpected_ones() {
        let expected_headers = [expected("carrier", &[], true), expected("name", &["airline"], false)];
        let headers = strings(&["carrier", "Airline", "country", ""]);
        let (error, _) = check_header_row(&expected_headers, &headers, true);
        assert_eq!(
            error.as_deref(),
            Some(
                r#"The file has the unexpected header "country", which strict headers reject (expected headers: "carrier", "name")."#
            )
        );
        assert_eq!(check_header_row(&expected_headers, &headers, false).0, None);
    }

    #[test]
    fn header_key_matches_same_header() {
        for (left, right) in [("Sample Number", " sample number "), ("\u{feff}carrier", "CARRIER"), ("Ärger", "ärger")] {
            assert!(same_header(left, right));
            assert_eq!(header_key(left), header_key(right), "{left:?} and {right:?}");
        }
        assert_ne!(header_key("Sex"), header_key("Sexes"));
    }

    #[test]
    fn wide_header_row_is_checked_in_linear_time() {
        // 100,000 columns: a check that compares each header with every earlier one makes
        // five billion comparisons, which takes far longer than the bound.
        let mut headers: Vec<String> = (0..100_000).map(|index| format!("Column {index}")).collect();
        headers.push("column 7".to_owned());
        let expected_headers = [expected("Column 1", &[], true), expected("missing", &[], true)];

        let started = std::time::Instant::now();
        let (error, warnings) = check_header_row(&expected_headers, &headers, true);
        let elapsed = started.elapsed();

        assert!(elapsed < std::time::Duration::from_secs(2), "checking took {elapsed:?}");
        assert_eq!(warnings, ["The header \"column 7\" appears more than once; only its first column is read."]);
        let error = error.expect("a required header is missing");
        assert!(error.len() < 2_000, "the message lists a bounded number of headers: {} bytes", error.len());
        assert!(error.contains("and 99981 more"), "found headers: {error}");
        assert!(error.contains("and 99980 more"), "unexpected headers: {error}");
    }

    #[test]
    fn repeated_header_warnings_are_capped() {
        let headers: Vec<String> = (0..50).map(|_| "a".to_owned()).collect();
        let warnings = repeated_header_warnings(&headers);

        assert_eq!(warnings.len(), MAX_REPEAT_WARNINGS + 1);
        assert_eq!(warnings.last().unwrap(), "39 more headers repeat an earlier header; only the first column of each name is read.");
    }

    #[test]
    fn repeated_header_warns() {
        let expected_headers = [expected("a", &[], false)];
        let (_, warnings) = check_header_row(&expected_headers, &strings(&["a", "A"]), false);
        assert_eq!(
            warnings,
            ["The header \"A\" appears more than once; only its first column is read."]
        );
    }
}
