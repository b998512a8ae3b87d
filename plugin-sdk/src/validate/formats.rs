//! Validators of a value's form: numbers, integers, dates, e-mail addresses and regular
//! expressions. Messages are those of the Laravel rules of the same names.

use crate::date::{Date, DateTime};
use crate::date_format::{check_formats, format_mismatch_message, parse_date_time};
use crate::row::Row;
use crate::validate::Validator;
use crate::value::Value;

/// Accepts numbers and numeric text (`42`, `-3.5`, ` 1e3 `), like Laravel's `numeric` rule.
/// Text with thousands separators is not numeric; read it with
/// [`transform::number`](crate::transform::number) first.
pub fn numeric() -> impl Validator {
    struct Numeric;
    impl Validator for Numeric {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            match value.as_f64() {
                Some(_) => Ok(()),
                None => Err("The :attribute field must be a number.".to_owned()),
            }
        }
    }
    Numeric
}

/// Accepts what an integer column stores: integers, floats without a fraction (as
/// spreadsheets write whole numbers), and text of either (`42`, `3.0`). Laravel's
/// `integer` rule rejects `3.0`, which this validator accepts.
pub fn integer() -> impl Validator {
    struct Integer;
    impl Validator for Integer {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            match value.as_i64() {
                Some(_) => Ok(()),
                None => Err("The :attribute field must be an integer.".to_owned()),
            }
        }
    }
    Integer
}

/// Accepts what a date or date-time column stores: dates, date-times, and ISO 8601 text
/// (`2023-12-31`, `2023-12-31T23:30:00Z`). Laravel's `date` rule also accepts what PHP's
/// `strtotime` reads, such as `next monday`, which this validator rejects. Use
/// [`date_format`] for other formats.
pub fn date() -> impl Validator {
    struct IsoDate;
    impl Validator for IsoDate {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            let valid = match value {
                Value::Date(_) | Value::DateTime(_) => true,
                Value::Text(text) => {
                    let text = text.trim();
                    Date::parse_iso(text).is_some() || DateTime::parse_iso(text).is_some()
                }
                _ => false,
            };
            if valid {
                Ok(())
            } else {
                Err("The :attribute field must be a valid date.".to_owned())
            }
        }
    }
    IsoDate
}

/// Accepts text in one of the strftime `formats` (`date_format(["%d.%m.%Y"])`), like
/// Laravel's `date_format` rule, and dates and date-times that a spreadsheet typed. It
/// leaves the value as it is: [`transform::date`](crate::transform::date) reads it as a
/// date.
pub fn date_format<S: Into<String>>(formats: impl IntoIterator<Item = S>) -> impl Validator {
    struct DateFormat {
        formats: Vec<String>,
    }
    impl Validator for DateFormat {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            let valid = match value {
                Value::Date(_) | Value::DateTime(_) => true,
                Value::Boolean(_) | Value::Null => false,
                other => {
                    let text = other.to_text().unwrap_or_default();
                    parse_date_time(&text, &self.formats).is_some()
                }
            };
            if valid {
                Ok(())
            } else {
                Err(format_mismatch_message(&self.formats))
            }
        }

        fn check_config(&self) -> Result<(), String> {
            check_formats(&self.formats)
        }
    }
    DateFormat {
        formats: formats.into_iter().map(Into::into).collect(),
    }
}

/// Accepts e-mail addresses of the form `local@domain`:
/// - the local part is dot-separated words of letters, digits and
///   ``!#$%&'*+-/=?^_`{|}~``, at most 64 bytes;
/// - the domain is dot-separated labels of letters, digits and inner hyphens, each at most
///   63 bytes, 255 in all;
/// - letters may be non-ASCII, as internationalized addresses have them.
///
/// Like Laravel's default `email` rule, it accepts a domain without a dot (`admin@localhost`).
/// Unlike it, it rejects the rare quoted local parts (`"john doe"@example.org`) and
/// address literals (`user@[127.0.0.1]`).
pub fn email() -> impl Validator {
    struct Email;
    impl Validator for Email {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            match value.as_str() {
                Some(text) if is_email(text.trim()) => Ok(()),
                _ => Err("The :attribute field must be a valid email address.".to_owned()),
            }
        }
    }
    Email
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    is_local_part(local) && is_domain(domain)
}

fn is_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    let valid_character = |character: char| {
        character.is_ascii_alphanumeric() || SPECIALS.contains(character) || (!character.is_ascii() && character.is_alphanumeric())
    };
    !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|word| !word.is_empty() && word.chars().all(valid_character))
}

fn is_domain(domain: &str) -> bool {
    let valid_character =
        |character: char| character.is_ascii_alphanumeric() || character == '-' || (!character.is_ascii() && character.is_alphanumeric());
    !domain.is_empty()
        && domain.len() <= 255
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(valid_character)
        })
}

/// Accepts text that the regular expression `pattern` matches anywhere, like Laravel's
/// `regex` rule; anchor it with `^…$` to match the whole value. Numbers and dates are
/// matched as [`Value::to_text`] renders them.
///
/// The pattern uses the syntax of the `regex-lite` crate (that of the `regex` crate without
/// Unicode classes), without the `/…/` delimiters PHP needs: `regex(r"^\d{5}$")`, with
/// `(?i)` and the other flags inside the pattern. As in PHP without the `u` modifier,
/// `\d`, `\w`, `\s` and `\b` are ASCII classes and `(?i)` folds ASCII letters only.
/// `\p{…}` classes, look-around and backreferences are not supported. An invalid pattern
/// is reported by [`IngestConfig::build`](crate::IngestConfig::build).
pub fn regex(pattern: &str) -> impl Validator {
    struct Pattern {
        source: String,
        regex: Result<regex_lite::Regex, String>,
    }
    impl Validator for Pattern {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            let matched = match (&self.regex, value.to_text()) {
                (Ok(regex), Some(text)) if !matches!(value, Value::Boolean(_)) => regex.is_match(&text),
                _ => false,
            };
            if matched {
                Ok(())
            } else {
                Err("The :attribute field format is invalid.".to_owned())
            }
        }

        fn check_config(&self) -> Result<(), String> {
            match &self.regex {
                Ok(_) => Ok(()),
                Err(error) => Err(format!("The regular expression {:?} is invalid: {error}", self.source)),
            }
        }
    }
    Pattern {
        source: pattern.to_owned(),
        regex: regex_lite::Regex::new(pattern).map_err(|error| error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::HeaderRow;

    fn check(validator: &impl Validator, value: Value<'_>) -> Result<(), String> {
        let headers: &'static [String] = &[];
        let row = Row::new(1, &[], HeaderRow::new(headers));
        validator.validate(&value, &row)
    }

    #[test]
    fn numeric_accepts_numbers_and_numeric_text() {
        for value in [Value::Integer(3), Value::Float(-0.5), Value::text(" 42 "), Value::text("1e3")] {
            assert_eq!(check(&numeric(), value.clone()), Ok(()), "{value:?}");
        }
        let message = Err("The :attribute field must be a number.".to_owned());
        for value in [Value::text("1,234"), Value::text("abc"), Value::Boolean(true), Value::text("NaN")] {
            assert_eq!(check(&numeric(), value.clone()), message, "{value:?}");
        }
    }

    #[test]
    fn integer_accepts_what_integer_columns_store() {
        for value in [Value::Integer(3), Value::Float(3.0), Value::text("-7"), Value::text("3.0")] {
            assert_eq!(check(&integer(), value.clone()), Ok(()), "{value:?}");
        }
        let message = Err("The :attribute field must be an integer.".to_owned());
        for value in [Value::Float(3.5), Value::text("3.5"), Value::text("three"), Value::Boolean(false)] {
            assert_eq!(check(&integer(), value.clone()), message, "{value:?}");
        }
    }

    #[test]
    fn date_accepts_iso_text_and_typed_dates() {
        let new_year = Date::new(2024, 1, 1).unwrap();
        for value in [
            Value::text("2024-01-01"),
            Value::text("2024-01-01T10:00:00Z"),
            Value::Date(new_year),
            Value::DateTime(new_year.at_midnight()),
        ] {
            assert_eq!(check(&date(), value.clone()), Ok(()), "{value:?}");
        }
        let message = Err("The :attribute field must be a valid date.".to_owned());
        for value in [Value::text("01.01.2024"), Value::text("2024-02-30"), Value::Integer(20240101)] {
            assert_eq!(check(&date(), value.clone()), message, "{value:?}");
        }
    }

    #[test]
    fn date_format_accepts_the_given_formats() {
        let validator = date_format(["%d.%m.%Y", "%d.%m.%Y %H:%M"]);
        assert_eq!(check(&validator, Value::text("31.12.2023")), Ok(()));
        assert_eq!(check(&validator, Value::text("31.12.2023 23:30")), Ok(()));
        assert_eq!(check(&validator, Value::Date(Date::new(2023, 12, 31).unwrap())), Ok(()));
        assert_eq!(
            check(&validator, Value::text("2023-12-31")),
            Err("The :attribute field must match one of the formats %d.%m.%Y, %d.%m.%Y %H:%M.".to_owned())
        );
        assert_eq!(
            check(&date_format(["%Y"]), Value::text("twenty")),
            Err("The :attribute field must match the format %Y.".to_owned())
        );
        assert!(date_format(["%d.%i"]).check_config().is_err());
    }

    #[test]
    fn email_accepts_addresses() {
        for address in [
            "ada@example.org",
            "ada.lovelace+news@mail.example.co.uk",
            "o'brien@example.ie",
            "admin@localhost",
            "jürgen@müller.de",
            " ada@example.org ",
        ] {
            assert_eq!(check(&email(), Value::text(address)), Ok(()), "{address}");
        }
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        let message = Err("The :attribute field must be a valid email address.".to_owned());
        for address in [
            "ada",
            "@example.org",
            "ada@",
            "ada@@example.org",
            "ada lovelace@example.org",
            ".ada@example.org",
            "ada..lovelace@example.org",
            "ada@example..org",
            "ada@-example.org",
            "ada@example.org.",
            "ada@exa_mple.org",
            "\"ada\"@example.org",
        ] {
            assert_eq!(check(&email(), Value::text(address)), message, "{address}");
        }
        assert_eq!(check(&email(), Value::Integer(5)), message);
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert_eq!(check(&email(), Value::text(long_local)), message);
    }

    #[test]
    fn regex_matches_anywhere_unless_anchored() {
        let zip = regex(r"^\d{5}$");
        assert_eq!(check(&zip, Value::text("10115")), Ok(()));
        assert_eq!(check(&zip, Value::Integer(10115)), Ok(()));
        let message = Err("The :attribute field format is invalid.".to_owned());
        assert_eq!(check(&zip, Value::text("1011")), message);
        assert_eq!(check(&zip, Value::text("10115-1")), message);
        assert_eq!(check(&zip, Value::Boolean(true)), message);

        assert_eq!(check(&regex("foo"), Value::text("a food")), Ok(()));
        assert_eq!(check(&regex("(?i)^abc$"), Value::text("ABC")), Ok(()));
        assert_eq!(check(&regex(r"^\w+$"), Value::text("straße")), message, "\\w is ASCII");
        assert_eq!(check(&regex("^stra.e$"), Value::text("straße")), Ok(()), ". is one character");
        assert_eq!(zip.check_config(), Ok(()));
    }

    #[test]
    fn invalid_regex_is_a_configuration_error() {
        let problem = regex("(unclosed").check_config().unwrap_err();
        assert!(problem.starts_with("The regular expression \"(unclosed\" is invalid: "), "{problem}");
        assert!(regex(r"(?<=a)b").check_config().is_err(), "look-behind is not supported");
        assert!(regex(r"\p{Letter}").check_config().is_err(), "Unicode classes are not supported");
    }
}
