//! Transforms: steps of a column's pipeline that change its value.
//!
//! A transform receives every value of its column, null included, and the row it came from.
//! An error message fails the row with a validation error on the column. In the message,
//! `:attribute` is replaced by the column's name with spaces for underscores.

use std::borrow::Cow;

use crate::row::Row;
use crate::value::Value;

mod parse;
mod slug;

pub use parse::{Number, boolean, boolean_words, date, date_time, number};
pub use slug::{slug, slug_with};

/// A step that changes a column's value.
pub trait Transform: Send + Sync {
    fn apply<'a>(&self, value: Value<'a>, row: &Row<'a>) -> Result<Value<'a>, String>;

    /// Checks the transform's own settings, such as a date format, when the importer's
    /// description is built. An error becomes one of the problems
    /// [`IngestConfig::build`](crate::IngestConfig::build) lists.
    fn check_config(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A transform made from a closure, for [`Column::transform_with`](crate::Column::transform_with).
pub(crate) struct TransformFn<F>(pub(crate) F);

impl<F> Transform for TransformFn<F>
where
    F: for<'a, 'r> Fn(Value<'a>, &'r Row<'a>) -> Result<Value<'a>, String> + Send + Sync,
{
    fn apply<'a>(&self, value: Value<'a>, row: &Row<'a>) -> Result<Value<'a>, String> {
        (self.0)(value, row)
    }
}

/// Replaces text with a part of it, without copying text that the chunk owns.
fn slice_text<'a>(value: Value<'a>, part: impl for<'s> Fn(&'s str) -> &'s str) -> Value<'a> {
    match value {
        Value::Text(Cow::Borrowed(text)) => Value::Text(Cow::Borrowed(part(text))),
        Value::Text(Cow::Owned(text)) => Value::Text(Cow::Owned(part(&text).to_owned())),
        other => other,
    }
}

/// Removes leading and trailing whitespace from text.
pub fn trim() -> impl Transform {
    struct Trim;
    impl Transform for Trim {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            Ok(slice_text(value, str::trim))
        }
    }
    Trim
}

/// Keeps the first whitespace-separated word of text: "Adelie Penguin (Pygoscelis adeliae)"
/// becomes "Adelie". Blank text becomes null.
pub fn first_word() -> impl Transform {
    struct FirstWord;
    impl Transform for FirstWord {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            let word = slice_text(value, |text| text.split_whitespace().next().unwrap_or(""));
            Ok(if word.as_str() == Some("") { Value::Null } else { word })
        }
    }
    FirstWord
}

/// Converts text to lower case (Unicode rules).
pub fn lowercase() -> impl Transform {
    struct Lowercase;
    impl Transform for Lowercase {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            Ok(value.map_text(str::to_lowercase))
        }
    }
    Lowercase
}

/// Converts text to upper case (Unicode rules).
pub fn uppercase() -> impl Transform {
    struct Uppercase;
    impl Transform for Uppercase {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            Ok(value.map_text(str::to_uppercase))
        }
    }
    Uppercase
}

/// Replaces every occurrence of `from` in text with `to`.
pub fn replace(from: impl Into<String>, to: impl Into<String>) -> impl Transform {
    struct Replace {
        from: String,
        to: String,
    }
    impl Transform for Replace {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            match value {
                Value::Text(text) if text.contains(self.from.as_str()) => {
                    Ok(Value::text(text.replace(self.from.as_str(), &self.to)))
                }
                other => Ok(other),
            }
        }
    }
    Replace {
        from: from.into(),
        to: to.into(),
    }
}

/// Replaces text that equals one of the keys with that key's value. Other values pass
/// unchanged. `map_values([("M", "male"), ("F", "female")])`.
pub fn map_values<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> impl Transform
where
    K: Into<String>,
    V: Into<Value<'static>>,
{
    struct MapValues {
        pairs: Vec<(String, Value<'static>)>,
    }
    impl Transform for MapValues {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            let Some(text) = value.as_str() else {
                return Ok(value);
            };
            match self.pairs.iter().find(|(key, _)| key == text) {
                Some((_, replacement)) => Ok(replacement.clone()),
                None => Ok(value),
            }
        }
    }
    MapValues {
        pairs: pairs
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect(),
    }
}

/// Replaces null with `default`.
pub fn default_value(default: impl Into<Value<'static>>) -> impl Transform {
    struct DefaultValue {
        default: Value<'static>,
    }
    impl Transform for DefaultValue {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            Ok(if value.is_null() { self.default.clone() } else { value })
        }
    }
    DefaultValue {
        default: default.into(),
    }
}

/// Replaces text equal to one of `markers` (after trimming) with null, for one column;
/// [`IngestConfig::null_markers`](crate::IngestConfig::null_markers) does the same for
/// every column.
pub fn null_if<S: Into<String>>(markers: impl IntoIterator<Item = S>) -> impl Transform {
    struct NullIf {
        markers: Vec<String>,
    }
    impl Transform for NullIf {
        fn apply<'a>(&self, value: Value<'a>, _row: &Row<'a>) -> Result<Value<'a>, String> {
            let is_marker = value
                .as_str()
                .is_some_and(|text| self.markers.iter().any(|marker| marker == text.trim()));
            Ok(if is_marker { Value::Null } else { value })
        }
    }
    NullIf {
        markers: markers.into_iter().map(Into::into).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::HeaderRow;

    fn apply<'a>(transform: &impl Transform, value: Value<'a>) -> Value<'a> {
        let headers: &'static [String] = &[];
        let row = Row::new(1, &[], HeaderRow::new(headers));
        transform.apply(value, &row).unwrap()
    }

    #[test]
    fn trim_and_first_word_borrow_text() {
        let species = "Adelie Penguin (Pygoscelis adeliae)";
        match apply(&first_word(), Value::text(species)) {
            Value::Text(Cow::Borrowed(word)) => assert_eq!(word, "Adelie"),
            other => panic!("expected borrowed text, got {other:?}"),
        }
        assert_eq!(apply(&trim(), Value::text("  JFK ")), Value::text("JFK"));
        assert_eq!(apply(&first_word(), Value::text("   ")), Value::Null);
        assert_eq!(apply(&first_word(), Value::Integer(3)), Value::Integer(3));
    }

    #[test]
    fn case_transforms() {
        assert_eq!(apply(&lowercase(), Value::text("FEMALE")), Value::text("female"));
        assert_eq!(apply(&uppercase(), Value::text("jfk")), Value::text("JFK"));
        assert_eq!(apply(&lowercase(), Value::Null), Value::Null);
    }

    #[test]
    fn replace_and_map_values() {
        assert_eq!(apply(&replace(",", "."), Value::text("3,5")), Value::text("3.5"));
        let sexes = map_values([("M", "male"), ("F", "female")]);
        assert_eq!(apply(&sexes, Value::text("F")), Value::text("female"));
        assert_eq!(apply(&sexes, Value::text("X")), Value::text("X"));
        let flags = map_values([("Y", true), ("N", false)]);
        assert_eq!(apply(&flags, Value::text("Y")), Value::Boolean(true));
    }

    #[test]
    fn defaults_and_null_markers() {
        assert_eq!(apply(&default_value(0), Value::Null), Value::Integer(0));
        assert_eq!(apply(&default_value(0), Value::Integer(5)), Value::Integer(5));
        assert_eq!(apply(&null_if(["NA", "-"]), Value::text(" NA ")), Value::Null);
        assert_eq!(apply(&null_if(["NA"]), Value::text("NAN")), Value::text("NAN"));
    }
}
