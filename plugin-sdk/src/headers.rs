//! Matching of the file's header row against the headers an importer expects.
//!
//! Header names match after trimming whitespace (and a byte order mark) and ignoring case,
//! so `Sample Number`, `sample number ` and `SAMPLE NUMBER` are the same header.

use crate::bindings::ingest::importer::types::ExpectedHeader;

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

    for (index, header) in headers.iter().enumerate() {
        let earlier = &headers[..index];
        if !trim_header(header).is_empty() && earlier.iter().any(|other| same_header(other, header)) {
            warnings.push(format!(
                "The header {header:?} appears more than once; only its first column is read."
            ));
        }
    }

    let unexpected: Vec<String> = if strict {
        headers
            .iter()
            .filter(|header| !trim_header(header).is_empty())
            .filter(|header| !expected.iter().any(|known| matches_expected(known, header)))
            .map(|header| format!("{header:?}"))
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
            unexpected.join(", "),
            names.join(", ")
        ));
    }
    let error = (!problems.is_empty()).then(|| problems.join(" "));
    (error, warnings)
}

fn matches_expected(expected: &ExpectedHeader, header: &str) -> bool {
    same_header(&expected.name, header) || expected.aliases.iter().any(|alias| same_header(alias, header))
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
    let quoted: Vec<String> = headers.iter().map(|header| format!("{header:?}")).collect();
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
    fn repeated_header_warns() {
        let expected_headers = [expected("a", &[], false)];
        let (_, warnings) = check_header_row(&expected_headers, &strings(&["a", "A"]), false);
        assert_eq!(
            warnings,
            ["The header \"A\" appears more than once; only its first column is read."]
        );
    }
}
