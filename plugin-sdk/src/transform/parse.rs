//! Transforms that read typed values out of text: booleans, numbers with locale
//! separators, and dates in given formats.

use crate::convert::parse_boolean;
use crate::date_format::{check_formats, format_mismatch_message, parse_date, parse_date_time};
use crate::row::Row;
use crate::transform::Transform;
use crate::value::Value;

const BOOLEAN_MESSAGE: &str = "The :attribute field must be true or false.";
const NUMBER_MESSAGE: &str = "The :attribute field must be a number.";

/// Reads yes/no, true/false, y/n, on/off and 1/0 (in any case) as booleans. Booleans and
/// the integers 0 and 1 pass as booleans, and null stays null. Anything else fails the
/// row with "The … field must be true or false."
pub fn boolean() -> impl Transform {
    BooleanWords {
        true_words: Vec::new(),
        false_words: Vec::new(),
    }
}

/// Reads the given words (compared ignoring case and surrounding whitespace) as true and
/// false, in addition to the words [`boolean`] reads: `boolean_words(["ja", "j"],
/// ["nein", "n"])`.
pub fn boolean_words<S: Into<String>>(
    true_words: impl IntoIterator<Item = S>,
    false_words: impl IntoIterator<Item = S>,
) -> impl Transform {
    BooleanWords {
        true_words: true_words.into_iter().map(Into::into).collect(),
        false_words: false_words.into_iter().map(Into::into).collect(),
    }
}

struct BooleanWords {
    true_words: Vec<String>,
    false_words: Vec<String>,
}

impl BooleanWords {
    fn parse(&self, text: &str) -> Option<bool> {
        let text = text.trim();
        let is_one_of = |words: &[String]| words.iter().any(|word| word.trim().to_lowercase() == text.to_lowercase());
        if is_one_of(&self.true_words) {
            Some(true)
        } else if is_one_of(&self.false_words) {
            Some(false)
        } else {
            parse_boolean(text)
        }
    }
}

impl Transform for BooleanWords {
    fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
        let flag = match &value {
            Value::Null => return Ok(Value::Null),
            Value::Boolean(flag) => Some(*flag),
            Value::Integer(0) => Some(false),
            Value::Integer(1) => Some(true),
            Value::Text(text) => self.parse(text),
            _ => None,
        };
        flag.map(Value::Boolean).ok_or_else(|| BOOLEAN_MESSAGE.to_owned())
    }

    fn check_config(&self) -> Result<(), String> {
        let ambiguous = self
            .true_words
            .iter()
            .find(|word| self.false_words.iter().any(|other| other.trim().eq_ignore_ascii_case(word.trim())));
        match ambiguous {
            Some(word) => Err(format!("The boolean word {word:?} is listed as both true and false.")),
            None => Ok(()),
        }
    }
}

/// Reads numbers written with a decimal separator and an optional thousands separator,
/// such as `1,234.56` (the default) or, after `.decimal(',').thousands('.')`, `1.234,56`.
/// Created by [`number`].
///
/// Text becomes an integer when it has no decimal part and a float otherwise. Thousands
/// separators must group the digits by three (`1,234,567`), so `1,5` is rejected instead
/// of being read as 15. A space as the thousands separator also matches the no-break
/// spaces U+00A0 and U+202F that French formatting uses. Numbers and null pass unchanged.
/// Anything else, exponents such as `1e5` included, fails the row with "The … field must
/// be a number."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number {
    decimal: char,
    thousands: Option<char>,
}

/// Reads numbers such as `1,234.56`; see [`Number`] for other separators.
pub fn number() -> Number {
    Number {
        decimal: '.',
        thousands: Some(','),
    }
}

impl Number {
    /// Sets the decimal separator, `.` by default.
    pub fn decimal(mut self, separator: char) -> Self {
        self.decimal = separator;
        self
    }

    /// Sets the thousands separator, `,` by default.
    pub fn thousands(mut self, separator: char) -> Self {
        self.thousands = Some(separator);
        self
    }

    /// Accepts no thousands separator at all.
    pub fn without_thousands(mut self) -> Self {
        self.thousands = None;
        self
    }

    fn is_thousands(&self, character: char) -> bool {
        match self.thousands {
            Some(' ') => matches!(character, ' ' | '\u{a0}' | '\u{202f}'),
            Some(separator) => character == separator,
            None => false,
        }
    }

    /// Parses `text`, or returns `None` when it is not a number in this format.
    fn parse(&self, text: &str) -> Option<Value<'static>> {
        let text = text.trim();
        let (sign, unsigned) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = match unsigned.split_once(self.decimal) {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let whole_digits = self.whole_digits(whole)?;
        if let Some(fraction) = fraction
            && (fraction.is_empty() || !fraction.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return None;
        }
        if whole_digits.is_empty() && fraction.is_none() {
            return None;
        }

        match fraction {
            None => {
                let normalized = format!("{sign}{whole_digits}");
                normalized
                    .parse::<i64>()
                    .map(Value::Integer)
                    .ok()
                    .or_else(|| normalized.parse::<f64>().ok().map(Value::Float))
            }
            Some(fraction) => {
                let whole_digits = if whole_digits.is_empty() { "0" } else { &whole_digits };
                format!("{sign}{whole_digits}.{fraction}")
                    .parse::<f64>()
                    .ok()
                    .filter(|number| number.is_finite())
                    .map(Value::Float)
            }
        }
    }

    /// Returns the digits of the whole part without thousands separators, or `None` when
    /// the part has other characters or groups that are not three digits long.
    fn whole_digits(&self, whole: &str) -> Option<String> {
        if !whole.chars().any(|character| self.is_thousands(character)) {
            return whole.bytes().all(|byte| byte.is_ascii_digit()).then(|| whole.to_owned());
        }
        let mut digits = String::with_capacity(whole.len());
        for (index, group) in whole.split(|character| self.is_thousands(character)).enumerate() {
            let valid_length = if index == 0 { (1..=3).contains(&group.len()) } else { group.len() == 3 };
            if !valid_length || !group.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            digits.push_str(group);
        }
        Some(digits)
    }
}

impl Transform for Number {
    fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
        match &value {
            Value::Null | Value::Integer(_) | Value::Float(_) => Ok(value),
            Value::Text(text) => self.parse(text).ok_or_else(|| NUMBER_MESSAGE.to_owned()),
            _ => Err(NUMBER_MESSAGE.to_owned()),
        }
    }

    fn check_config(&self) -> Result<(), String> {
        if self.decimal.is_ascii_digit() || self.thousands.is_some_and(|separator| separator.is_ascii_digit()) {
            return Err("A number's decimal and thousands separators must not be digits.".to_owned());
        }
        if self.thousands.is_some_and(|separator| self.is_thousands(self.decimal) || separator == self.decimal) {
            return Err(format!(
                "The decimal separator {:?} is also the thousands separator; set another with `.thousands(...)` or `.without_thousands()`.",
                self.decimal
            ));
        }
        Ok(())
    }
}

/// Reads text in the first of the strftime `formats` that matches, such as
/// `date(["%d.%m.%Y", "%m/%d/%Y"])`, as a date. Dates and date-times (spreadsheet date
/// cells) pass unchanged, numbers are read as their digits (`20231231` with `%Y%m%d`), and
/// null stays null. Text that matches no format fails the row with "The … field must match
/// the format %d.%m.%Y." See [`Date::parse_with_format`](crate::Date::parse_with_format)
/// for the patterns.
pub fn date<S: Into<String>>(formats: impl IntoIterator<Item = S>) -> impl Transform {
    DateFormats {
        formats: formats.into_iter().map(Into::into).collect(),
        with_time: false,
    }
}

/// Reads text in the first of the strftime `formats` that matches as a UTC date-time,
/// like [`date`]. A format with an offset (`%z`) converts the moment to UTC.
pub fn date_time<S: Into<String>>(formats: impl IntoIterator<Item = S>) -> impl Transform {
    DateFormats {
        formats: formats.into_iter().map(Into::into).collect(),
        with_time: true,
    }
}

struct DateFormats {
    formats: Vec<String>,
    with_time: bool,
}

impl Transform for DateFormats {
    fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
        let text = match &value {
            Value::Null | Value::Date(_) | Value::DateTime(_) => return Ok(value),
            Value::Boolean(_) => return Err(format_mismatch_message(&self.formats)),
            other => other.to_text().unwrap_or_default(),
        };
        let parsed = if self.with_time {
            parse_date_time(&text, &self.formats).map(Value::DateTime)
        } else {
            parse_date(&text, &self.formats).map(Value::Date)
        };
        parsed.ok_or_else(|| format_mismatch_message(&self.formats))
    }

    fn check_config(&self) -> Result<(), String> {
        check_formats(&self.formats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::{Date, DateTime};
    use crate::headers::HeaderRow;

    fn apply<'a>(transform: &impl Transform, value: Value<'a>) -> Result<Value<'a>, String> {
        let headers: &'static [String] = &[];
        let row = Row::new(1, &[], HeaderRow::new(headers));
        transform.apply(value, &row)
    }

    #[test]
    fn boolean_reads_common_words() {
        for (text, expected) in [("yes", true), ("No", false), ("TRUE", true), ("off", false), (" 1 ", true)] {
            assert_eq!(apply(&boolean(), Value::text(text)), Ok(Value::Boolean(expected)), "{text}");
        }
        assert_eq!(apply(&boolean(), Value::Integer(0)), Ok(Value::Boolean(false)));
        assert_eq!(apply(&boolean(), Value::Boolean(true)), Ok(Value::Boolean(true)));
        assert_eq!(apply(&boolean(), Value::Null), Ok(Value::Null));
    }

    #[test]
    fn boolean_rejects_other_values() {
        let message = Err("The :attribute field must be true or false.".to_owned());
        assert_eq!(apply(&boolean(), Value::text("maybe")), message);
        assert_eq!(apply(&boolean(), Value::Integer(2)), message);
        assert_eq!(apply(&boolean(), Value::Float(0.5)), message);
    }

    #[test]
    fn boolean_words_add_to_the_defaults() {
        let german = boolean_words(["ja", "J"], ["nein", "N"]);
        assert_eq!(apply(&german, Value::text("JA")), Ok(Value::Boolean(true)));
        assert_eq!(apply(&german, Value::text("j")), Ok(Value::Boolean(true)));
        assert_eq!(apply(&german, Value::text("Nein")), Ok(Value::Boolean(false)));
        assert_eq!(apply(&german, Value::text("yes")), Ok(Value::Boolean(true)));
        assert!(apply(&german, Value::text("vielleicht")).is_err());
        assert_eq!(german.check_config(), Ok(()));
        assert_eq!(
            boolean_words(["x"], ["X"]).check_config(),
            Err("The boolean word \"x\" is listed as both true and false.".to_owned())
        );
    }

    #[test]
    fn number_reads_the_default_format() {
        let cases = [
            ("1,234.56", Value::Float(1234.56)),
            ("1,234", Value::Integer(1234)),
            ("1234", Value::Integer(1234)),
            ("-1,234,567.5", Value::Float(-1234567.5)),
            ("+3", Value::Integer(3)),
            (".5", Value::Float(0.5)),
            (" 42 ", Value::Integer(42)),
            ("1.234", Value::Float(1.234)),
            ("99999999999999999999", Value::Float(1e20)),
        ];
        for (text, expected) in cases {
            assert_eq!(apply(&number(), Value::text(text)), Ok(expected), "{text}");
        }
    }

    #[test]
    fn number_reads_european_formats() {
        let german = number().decimal(',').thousands('.');
        assert_eq!(apply(&german, Value::text("1.234,56")), Ok(Value::Float(1234.56)));
        assert_eq!(apply(&german, Value::text("1.234")), Ok(Value::Integer(1234)));
        assert_eq!(apply(&german, Value::text("0,5")), Ok(Value::Float(0.5)));

        let french = number().decimal(',').thousands(' ');
        assert_eq!(apply(&french, Value::text("1 234,56")), Ok(Value::Float(1234.56)));
        assert_eq!(apply(&french, Value::text("1\u{202f}234,56")), Ok(Value::Float(1234.56)));
        assert_eq!(apply(&french, Value::text("1\u{a0}234")), Ok(Value::Integer(1234)));

        let swiss = number().thousands('\'');
        assert_eq!(apply(&swiss, Value::text("1'234.5")), Ok(Value::Float(1234.5)));

        let plain = number().decimal(',').without_thousands();
        assert_eq!(apply(&plain, Value::text("1234,5")), Ok(Value::Float(1234.5)));
        assert!(apply(&plain, Value::text("1.234,5")).is_err());
    }

    #[test]
    fn number_rejects_malformed_text() {
        let message = Err("The :attribute field must be a number.".to_owned());
        for text in ["1,5", "12,34.5", "1,2345", ",123", "1.2.3", "abc", "1e5", "", "-", "1.", "NaN"] {
            assert_eq!(apply(&number(), Value::text(text)), message, "{text:?}");
        }
        assert_eq!(apply(&number(), Value::Boolean(true)), message);
    }

    #[test]
    fn number_passes_numbers_and_null() {
        assert_eq!(apply(&number(), Value::Integer(7)), Ok(Value::Integer(7)));
        assert_eq!(apply(&number(), Value::Float(0.25)), Ok(Value::Float(0.25)));
        assert_eq!(apply(&number(), Value::Null), Ok(Value::Null));
    }

    #[test]
    fn number_settings_are_checked() {
        assert_eq!(number().check_config(), Ok(()));
        assert_eq!(number().decimal(',').thousands('.').check_config(), Ok(()));
        assert!(number().decimal(',').check_config().is_err());
        assert!(number().thousands('.').check_config().is_err());
        assert!(number().decimal('0').check_config().is_err());
    }

    #[test]
    fn date_reads_the_given_formats() {
        let transform = date(["%d.%m.%Y", "%m/%d/%Y"]);
        let new_year = Date::new(2023, 12, 31).unwrap();
        assert_eq!(apply(&transform, Value::text("31.12.2023")), Ok(Value::Date(new_year)));
        assert_eq!(apply(&transform, Value::text("12/31/2023")), Ok(Value::Date(new_year)));
        assert_eq!(apply(&transform, Value::Date(new_year)), Ok(Value::Date(new_year)));
        assert_eq!(apply(&transform, Value::Null), Ok(Value::Null));
        assert_eq!(
            apply(&transform, Value::text("2023-12-31")),
            Err("The :attribute field must match one of the formats %d.%m.%Y, %m/%d/%Y.".to_owned())
        );
        assert_eq!(
            apply(&date(["%Y%m%d"]), Value::Integer(20231231)),
            Ok(Value::Date(new_year))
        );
        assert!(apply(&transform, Value::Boolean(true)).is_err());
    }

    #[test]
    fn date_time_reads_the_given_formats() {
        let transform = date_time(["%d.%m.%Y %H:%M"]);
        let expected = DateTime::parse_iso("2023-12-31T23:30:00").unwrap();
        assert_eq!(apply(&transform, Value::text("31.12.2023 23:30")), Ok(Value::DateTime(expected)));
        assert_eq!(
            apply(&transform, Value::text("31.12.2023")),
            Err("The :attribute field must match the format %d.%m.%Y %H:%M.".to_owned())
        );
    }

    #[test]
    fn date_formats_are_checked() {
        assert_eq!(date(["%d.%m.%Y"]).check_config(), Ok(()));
        assert!(date(["%d.%Q"]).check_config().is_err());
        assert!(date(Vec::<String>::new()).check_config().is_err());
    }
}
