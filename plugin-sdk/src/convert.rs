//! Conversion of values to the SQL type of their target column.

use std::borrow::Cow;

use crate::bindings::ingest::importer::types::ColumnType;
use crate::date::{Date, DateTime};
use crate::value::{Value, integral_float, parse_integer};

/// Converts `value` to `column_type`, or returns why it does not convert as the end of a
/// validation message (such as "must be an integer.").
///
/// Null stays null for every type. Other values convert as follows:
/// - integer columns take integers, floats without a fraction and integer text;
/// - float columns take numbers and numeric text;
/// - boolean columns take booleans, 0 and 1, and the words yes/no, true/false, y/n and
///   on/off in any case;
/// - date columns take dates, date-times at midnight and ISO 8601 text;
/// - date-time columns take date-times, dates (as midnight) and ISO 8601 text;
/// - text columns take every value, as [`Value::to_text`] renders it.
pub(crate) fn convert(value: Value<'_>, column_type: ColumnType) -> Result<Value<'_>, &'static str> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    match column_type {
        ColumnType::Text => Ok(to_text(value)),
        ColumnType::Integer => to_integer(&value).map(Value::Integer).ok_or("must be an integer."),
        ColumnType::Float => value.as_f64().map(Value::Float).ok_or("must be a number."),
        ColumnType::Boolean => to_boolean(&value).map(Value::Boolean).ok_or("must be true or false."),
        ColumnType::Date => to_date(&value),
        ColumnType::DateTime => to_date_time(&value)
            .map(Value::DateTime)
            .ok_or("must be a valid date and time."),
    }
}

fn to_text(value: Value<'_>) -> Value<'_> {
    match value {
        Value::Text(text) => Value::Text(text),
        other => Value::Text(Cow::Owned(other.to_string())),
    }
}

fn to_integer(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Integer(number) => Some(*number),
        Value::Float(number) => integral_float(*number),
        Value::Text(text) => parse_integer(text),
        _ => None,
    }
}

fn to_boolean(value: &Value<'_>) -> Option<bool> {
    match value {
        Value::Boolean(flag) => Some(*flag),
        Value::Integer(0) => Some(false),
        Value::Integer(1) => Some(true),
        Value::Float(number) if *number == 0.0 => Some(false),
        Value::Float(number) if *number == 1.0 => Some(true),
        Value::Text(text) => parse_boolean(text),
        _ => None,
    }
}

/// Parses the words spreadsheets and forms use for yes and no, in any case.
pub(crate) fn parse_boolean(text: &str) -> Option<bool> {
    const TRUE_WORDS: [&str; 5] = ["true", "yes", "y", "on", "1"];
    const FALSE_WORDS: [&str; 5] = ["false", "no", "n", "off", "0"];
    let text = text.trim();
    if TRUE_WORDS.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE_WORDS.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

fn to_date(value: &Value<'_>) -> Result<Value<'static>, &'static str> {
    const NOT_MIDNIGHT: &str = "must be a date without a time of day.";
    match value {
        Value::Date(date) => Ok(Value::Date(*date)),
        Value::DateTime(moment) => moment.midnight_date().map(Value::Date).ok_or(NOT_MIDNIGHT),
        Value::Text(text) => {
            let text = text.trim();
            if let Some(date) = Date::parse_iso(text) {
                return Ok(Value::Date(date));
            }
            match DateTime::parse_iso(text) {
                Some(moment) => moment.midnight_date().map(Value::Date).ok_or(NOT_MIDNIGHT),
                None => Err("must be a valid date."),
            }
        }
        _ => Err("must be a valid date."),
    }
}

fn to_date_time(value: &Value<'_>) -> Option<DateTime> {
    match value {
        Value::DateTime(moment) => Some(*moment),
        Value::Date(date) => Some(date.at_midnight()),
        Value::Text(text) => {
            let text = text.trim();
            DateTime::parse_iso(text).or_else(|| Date::parse_iso(text).map(Date::at_midnight))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse_iso(text).unwrap()
    }

    #[test]
    fn integer_columns() {
        assert_eq!(
            convert(Value::Integer(2004), ColumnType::Integer),
            Ok(Value::Integer(2004))
        );
        assert_eq!(convert(Value::Float(55.0), ColumnType::Integer), Ok(Value::Integer(55)));
        assert_eq!(
            convert(Value::text("182"), ColumnType::Integer),
            Ok(Value::Integer(182))
        );
        assert_eq!(
            convert(Value::text(" -3 "), ColumnType::Integer),
            Ok(Value::Integer(-3))
        );
        assert_eq!(
            convert(Value::Float(55.5), ColumnType::Integer),
            Err("must be an integer.")
        );
        assert_eq!(
            convert(Value::text("55.5"), ColumnType::Integer),
            Err("must be an integer.")
        );
        assert_eq!(
            convert(Value::text("NA"), ColumnType::Integer),
            Err("must be an integer.")
        );
        assert_eq!(
            convert(Value::Boolean(true), ColumnType::Integer),
            Err("must be an integer.")
        );
        assert_eq!(convert(Value::Null, ColumnType::Integer), Ok(Value::Null));
    }

    #[test]
    fn float_columns() {
        assert_eq!(
            convert(Value::text("31.95376472"), ColumnType::Float),
            Ok(Value::Float(31.95376472))
        );
        assert_eq!(convert(Value::Integer(181), ColumnType::Float), Ok(Value::Float(181.0)));
        assert_eq!(
            convert(Value::Float(-24.69454), ColumnType::Float),
            Ok(Value::Float(-24.69454))
        );
        assert_eq!(
            convert(Value::text("north"), ColumnType::Float),
            Err("must be a number.")
        );
        assert_eq!(convert(Value::text("inf"), ColumnType::Float), Err("must be a number."));
    }

    #[test]
    fn boolean_columns() {
        for (text, expected) in [
            ("Yes", true),
            ("no", false),
            ("TRUE", true),
            ("0", false),
            (" 1 ", true),
        ] {
            assert_eq!(
                convert(Value::text(text), ColumnType::Boolean),
                Ok(Value::Boolean(expected)),
                "{text}"
            );
        }
        assert_eq!(
            convert(Value::Integer(1), ColumnType::Boolean),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            convert(Value::Boolean(false), ColumnType::Boolean),
            Ok(Value::Boolean(false))
        );
        assert_eq!(
            convert(Value::Integer(2), ColumnType::Boolean),
            Err("must be true or false.")
        );
        assert_eq!(
            convert(Value::text("maybe"), ColumnType::Boolean),
            Err("must be true or false.")
        );
    }

    #[test]
    fn date_columns() {
        let egg = date("2007-11-11");
        assert_eq!(
            convert(Value::text("2007-11-11"), ColumnType::Date),
            Ok(Value::Date(egg))
        );
        assert_eq!(convert(Value::Date(egg), ColumnType::Date), Ok(Value::Date(egg)));
        assert_eq!(
            convert(Value::DateTime(egg.at_midnight()), ColumnType::Date),
            Ok(Value::Date(egg))
        );
        assert_eq!(
            convert(Value::text("2007-11-11T00:00:00"), ColumnType::Date),
            Ok(Value::Date(egg))
        );
        let afternoon = DateTime::new(egg, 14, 0, 0, 0).unwrap();
        assert_eq!(
            convert(Value::DateTime(afternoon), ColumnType::Date),
            Err("must be a date without a time of day.")
        );
        assert_eq!(
            convert(Value::text("11/11/2007"), ColumnType::Date),
            Err("must be a valid date.")
        );
        assert_eq!(
            convert(Value::Integer(39397), ColumnType::Date),
            Err("must be a valid date.")
        );
    }

    #[test]
    fn date_time_columns() {
        let moment = DateTime::parse_iso("2013-01-01T05:17:00").unwrap();
        assert_eq!(
            convert(Value::text("2013-01-01 05:17"), ColumnType::DateTime),
            Ok(Value::DateTime(moment))
        );
        let midnight = date("2013-01-01").at_midnight();
        assert_eq!(
            convert(Value::text("2013-01-01"), ColumnType::DateTime),
            Ok(Value::DateTime(midnight))
        );
        assert_eq!(
            convert(Value::text("soon"), ColumnType::DateTime),
            Err("must be a valid date and time.")
        );
    }

    #[test]
    fn text_columns_take_every_type() {
        assert_eq!(convert(Value::Integer(1), ColumnType::Text), Ok(Value::text("1")));
        assert_eq!(convert(Value::Float(39.1), ColumnType::Text), Ok(Value::text("39.1")));
        assert_eq!(
            convert(Value::Date(date("2007-11-11")), ColumnType::Text),
            Ok(Value::text("2007-11-11"))
        );
        assert_eq!(
            convert(Value::text("N10156"), ColumnType::Text),
            Ok(Value::text("N10156"))
        );
    }
}
