//! The two value types an importer handles: [`Cell`], what the file holds, and [`Value`],
//! what goes to the target table.

use std::borrow::Cow;
use std::fmt;

use crate::date::{Date, DateTime};

/// One cell of the file, typed as the host's parser read it.
///
/// CSV cells arrive as text, while spreadsheet and JSON cells keep their numbers, booleans
/// and dates. A text cell that is empty, blank or equal to one of the importer's null markers
/// arrives as [`Cell::Empty`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Date(Date),
    DateTime(DateTime),
}

impl<'a> Cell<'a> {
    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }

    /// Returns the text of a text cell, or `None` for every other type.
    pub fn as_text(&self) -> Option<&'a str> {
        match *self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn to_value(self) -> Value<'a> {
        Value::from(self)
    }
}

/// A value on its way to a target column.
///
/// Text borrows from the chunk where it can, so a value that is copied through unchanged
/// costs no allocation. Before a record is written, each value is converted to the type of
/// its column, and a value that does not convert fails the row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(Cow<'a, str>),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Date(Date),
    DateTime(DateTime),
}

impl<'a> Value<'a> {
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        Value::Text(text.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Returns the text of a text value, or `None` for every other type.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// Returns the value as a number: integers, floats and numeric text (trimmed).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Integer(number) => Some(*number as f64),
            Value::Float(number) => Some(*number),
            Value::Text(text) => parse_float(text),
            _ => None,
        }
    }

    /// Returns the value as an integer: integers, floats without a fraction, and text of
    /// either.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(number) => Some(*number),
            Value::Float(number) => integral_float(*number),
            Value::Text(text) => parse_integer(text),
            _ => None,
        }
    }

    /// Renders a value as text the way it is stored in a text column, or `None` for null.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Null => None,
            Value::Text(text) => Some(Cow::Borrowed(text)),
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// Applies `change` to the text of a text value and leaves other values as they are.
    pub fn map_text(self, change: impl FnOnce(&str) -> String) -> Self {
        match self {
            Value::Text(text) => Value::Text(Cow::Owned(change(&text))),
            other => other,
        }
    }

    /// Copies borrowed text, so that the value outlives the chunk it came from.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Text(text) => Value::Text(Cow::Owned(text.into_owned())),
            Value::Integer(number) => Value::Integer(number),
            Value::Float(number) => Value::Float(number),
            Value::Boolean(flag) => Value::Boolean(flag),
            Value::Date(date) => Value::Date(date),
            Value::DateTime(moment) => Value::DateTime(moment),
        }
    }
}

impl fmt::Display for Value<'_> {
    /// Writes the value as a text column stores it. Null writes nothing.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Text(text) => formatter.write_str(text),
            Value::Integer(number) => write!(formatter, "{number}"),
            Value::Float(number) => write!(formatter, "{number}"),
            Value::Boolean(flag) => write!(formatter, "{flag}"),
            Value::Date(date) => write!(formatter, "{date}"),
            Value::DateTime(moment) => write!(formatter, "{moment}"),
        }
    }
}

impl<'a> From<Cell<'a>> for Value<'a> {
    fn from(cell: Cell<'a>) -> Self {
        match cell {
            Cell::Empty => Value::Null,
            Cell::Text(text) => Value::Text(Cow::Borrowed(text)),
            Cell::Integer(number) => Value::Integer(number),
            Cell::Float(number) => Value::Float(number),
            Cell::Boolean(flag) => Value::Boolean(flag),
            Cell::Date(date) => Value::Date(date),
            Cell::DateTime(moment) => Value::DateTime(moment),
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Value::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Value<'_> {
    fn from(text: String) -> Self {
        Value::Text(Cow::Owned(text))
    }
}

impl<'a> From<Cow<'a, str>> for Value<'a> {
    fn from(text: Cow<'a, str>) -> Self {
        Value::Text(text)
    }
}

impl From<i64> for Value<'_> {
    fn from(number: i64) -> Self {
        Value::Integer(number)
    }
}

impl From<i32> for Value<'_> {
    fn from(number: i32) -> Self {
        Value::Integer(i64::from(number))
    }
}

impl From<f64> for Value<'_> {
    fn from(number: f64) -> Self {
        Value::Float(number)
    }
}

impl From<bool> for Value<'_> {
    fn from(flag: bool) -> Self {
        Value::Boolean(flag)
    }
}

impl From<Date> for Value<'_> {
    fn from(date: Date) -> Self {
        Value::Date(date)
    }
}

impl From<DateTime> for Value<'_> {
    fn from(moment: DateTime) -> Self {
        Value::DateTime(moment)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// Largest magnitude below which every integer is exactly representable as an `f64`.
const EXACT_FLOAT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Returns `number` as an integer when it has no fraction and converts exactly.
pub(crate) fn integral_float(number: f64) -> Option<i64> {
    let exact = number.is_finite() && number.fract() == 0.0 && number.abs() <= EXACT_FLOAT_INTEGER_LIMIT;
    exact.then_some(number as i64)
}

/// Parses integer text such as `42`, `-7` or `+3`, and float text without a fraction
/// such as `3.0`, ignoring surrounding whitespace.
pub(crate) fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>()
        .ok()
        .or_else(|| parse_float(text).and_then(integral_float))
}

/// Parses decimal number text, ignoring surrounding whitespace. Rejects `inf` and `NaN`,
/// which no target column stores.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let number = text.trim().parse::<f64>().ok()?;
    number.is_finite().then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_from_text_and_numbers() {
        assert_eq!(Value::from("  42 ").as_i64(), Some(42));
        assert_eq!(Value::from("3.0").as_i64(), Some(3));
        assert_eq!(Value::from("3.5").as_i64(), None);
        assert_eq!(Value::Float(181.0).as_i64(), Some(181));
        assert_eq!(Value::Float(1e300).as_i64(), None);
        assert_eq!(Value::from("-89.2345").as_f64(), Some(-89.2345));
        assert_eq!(Value::from("NaN").as_f64(), None);
        assert_eq!(Value::Integer(7).as_f64(), Some(7.0));
        assert_eq!(Value::Boolean(true).as_f64(), None);
    }

    #[test]
    fn text_renders_every_type() {
        let date = Date::new(2007, 11, 11).unwrap();
        assert_eq!(Value::Integer(-7).to_text().as_deref(), Some("-7"));
        assert_eq!(Value::Float(39.1).to_text().as_deref(), Some("39.1"));
        assert_eq!(Value::Boolean(false).to_text().as_deref(), Some("false"));
        assert_eq!(Value::Date(date).to_text().as_deref(), Some("2007-11-11"));
        assert_eq!(
            Value::DateTime(date.at_midnight()).to_text().as_deref(),
            Some("2007-11-11T00:00:00")
        );
        assert_eq!(Value::Null.to_text(), None);
    }

    #[test]
    fn options_become_null() {
        assert_eq!(Value::from(None::<&str>), Value::Null);
        assert_eq!(Value::from(Some("Adelie")), Value::text("Adelie"));
    }
}
