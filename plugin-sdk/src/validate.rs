//! Validators: steps of a column's pipeline that accept or reject its value.
//!
//! Validators are not called for null values, which `Column::required` rejects. A rejected
//! value fails the row with a validation error on the column, and the column's remaining
//! steps are skipped. In messages, `:attribute` is replaced by the column's name with spaces
//! for underscores, so the built-in messages read like Laravel's.

use crate::row::Row;
use crate::value::Value;

mod formats;

pub use formats::{date, date_format, email, integer, numeric, regex};

/// A step that accepts or rejects a column's value.
pub trait Validator: Send + Sync {
    fn validate(&self, value: &Value<'_>, row: &Row<'_>) -> Result<(), String>;

    /// Checks the validator's own settings, such as a regular expression, when the
    /// importer's description is built. An error becomes one of the problems
    /// [`IngestConfig::build`](crate::IngestConfig::build) lists.
    fn check_config(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A validator made from a closure, for [`Column::validate_with`](crate::Column::validate_with).
pub(crate) struct ValidatorFn<F>(pub(crate) F);

impl<F> Validator for ValidatorFn<F>
where
    F: Fn(&Value<'_>, &Row<'_>) -> Result<(), String> + Send + Sync,
{
    fn validate(&self, value: &Value<'_>, row: &Row<'_>) -> Result<(), String> {
        (self.0)(value, row)
    }
}

pub(crate) const REQUIRED_MESSAGE: &str = "The :attribute field is required.";
const NOT_A_NUMBER_MESSAGE: &str = "The :attribute field must be a number.";

/// Accepts only values whose text is one of `allowed`, compared exactly, like Laravel's `in`
/// rule. Numbers and dates are compared as [`Value::to_text`] renders them.
pub fn one_of<S: Into<String>>(allowed: impl IntoIterator<Item = S>) -> impl Validator {
    struct OneOf {
        allowed: Vec<String>,
    }
    impl Validator for OneOf {
        fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
            let text = value.to_text().unwrap_or_default();
            if self.allowed.iter().any(|allowed| *allowed == text) {
                Ok(())
            } else {
                Err("The selected :attribute is invalid.".to_owned())
            }
        }
    }
    OneOf {
        allowed: allowed.into_iter().map(Into::into).collect(),
    }
}

/// Accepts numbers (and numeric text) from `min` to `max`, both included.
pub fn between(min: f64, max: f64) -> impl Validator {
    NumberRange {
        min: Some(min),
        max: Some(max),
    }
}

/// Accepts numbers (and numeric text) of at least `min`.
pub fn min(min: f64) -> impl Validator {
    NumberRange {
        min: Some(min),
        max: None,
    }
}

/// Accepts numbers (and numeric text) of at most `max`.
pub fn max(max: f64) -> impl Validator {
    NumberRange {
        min: None,
        max: Some(max),
    }
}

struct NumberRange {
    min: Option<f64>,
    max: Option<f64>,
}

impl Validator for NumberRange {
    fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
        let number = value.as_f64().ok_or_else(|| NOT_A_NUMBER_MESSAGE.to_owned())?;
        let below = self.min.is_some_and(|min| number < min);
        let above = self.max.is_some_and(|max| number > max);
        if !below && !above {
            return Ok(());
        }
        Err(match (self.min, self.max) {
            (Some(min), Some(max)) => format!("The :attribute field must be between {min} and {max}."),
            (Some(min), None) => format!("The :attribute field must be at least {min}."),
            (None, Some(max)) => format!("The :attribute field must not be greater than {max}."),
            (None, None) => unreachable!("a number range has at least one bound"),
        })
    }

    fn check_config(&self) -> Result<(), String> {
        if self.min.is_some_and(f64::is_nan) || self.max.is_some_and(f64::is_nan) {
            return Err("A number range bound must not be NaN.".to_owned());
        }
        match (self.min, self.max) {
            (Some(min), Some(max)) if min > max => Err(format!(
                "The number range {min} to {max} is empty because its minimum is above its maximum."
            )),
            _ => Ok(()),
        }
    }
}

/// Accepts text of at least `min` characters.
pub fn min_length(min: usize) -> impl Validator {
    TextLength {
        min: Some(min),
        max: None,
    }
}

/// Accepts text of exactly `characters` characters, like Laravel's `size` rule for
/// strings. Numbers and dates are measured as [`Value::to_text`] renders them.
pub fn length(characters: usize) -> impl Validator {
    TextLength {
        min: Some(characters),
        max: Some(characters),
    }
}

/// Accepts text of `min` to `max` characters, both included.
pub fn length_between(min: usize, max: usize) -> impl Validator {
    TextLength {
        min: Some(min),
        max: Some(max),
    }
}

/// Accepts text of at most `max` characters.
pub fn max_length(max: usize) -> impl Validator {
    TextLength {
        min: None,
        max: Some(max),
    }
}

struct TextLength {
    min: Option<usize>,
    max: Option<usize>,
}

impl Validator for TextLength {
    fn validate(&self, value: &Value<'_>, _row: &Row<'_>) -> Result<(), String> {
        let length = value.to_text().map_or(0, |text| text.chars().count());
        if let (Some(min), Some(max)) = (self.min, self.max) {
            return match (min == max, (min..=max).contains(&length)) {
                (_, true) => Ok(()),
                (true, false) => Err(format!("The :attribute field must be {min} characters.")),
                (false, false) => Err(format!(
                    "The :attribute field must be between {min} and {max} characters."
                )),
            };
        }
        if let Some(min) = self.min.filter(|&min| length < min) {
            return Err(format!("The :attribute field must be at least {min} characters."));
        }
        if let Some(max) = self.max.filter(|&max| length > max) {
            return Err(format!(
                "The :attribute field must not be greater than {max} characters."
            ));
        }
        Ok(())
    }

    fn check_config(&self) -> Result<(), String> {
        match (self.min, self.max) {
            (Some(min), Some(max)) if min > max => Err(format!(
                "The length range {min} to {max} is empty because its minimum is above its maximum."
            )),
            _ => Ok(()),
        }
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
    fn one_of_compares_exactly() {
        let sexes = one_of(["MALE", "FEMALE"]);
        assert_eq!(check(&sexes, Value::text("FEMALE")), Ok(()));
        assert_eq!(
            check(&sexes, Value::text("female")),
            Err("The selected :attribute is invalid.".to_owned())
        );
        assert_eq!(
            check(&sexes, Value::text(".")),
            Err("The selected :attribute is invalid.".to_owned())
        );
        assert_eq!(check(&one_of(["1", "2"]), Value::Integer(2)), Ok(()));
    }

    #[test]
    fn between_checks_numbers_and_numeric_text() {
        let latitude = between(-90.0, 90.0);
        assert_eq!(check(&latitude, Value::text("31.95376472")), Ok(()));
        assert_eq!(check(&latitude, Value::Float(-90.0)), Ok(()));
        assert_eq!(
            check(&latitude, Value::Float(90.5)),
            Err("The :attribute field must be between -90 and 90.".to_owned())
        );
        assert_eq!(
            check(&latitude, Value::text("north")),
            Err("The :attribute field must be a number.".to_owned())
        );
    }

    #[test]
    fn empty_ranges_are_configuration_errors() {
        assert_eq!(between(0.0, 1.0).check_config(), Ok(()));
        assert!(between(1.0, 0.0).check_config().is_err());
        assert!(min(f64::NAN).check_config().is_err());
        assert!(length_between(4, 2).check_config().is_err());
    }

    #[test]
    fn one_sided_bounds() {
        assert_eq!(
            check(&min(0.0), Value::Integer(-1)),
            Err("The :attribute field must be at least 0.".to_owned())
        );
        assert_eq!(
            check(&max(2.5), Value::Integer(3)),
            Err("The :attribute field must not be greater than 2.5.".to_owned())
        );
        assert_eq!(check(&max(2.5), Value::Integer(2)), Ok(()));
    }

    #[test]
    fn exact_and_bounded_lengths() {
        assert_eq!(check(&length(3), Value::text("JFK")), Ok(()));
        assert_eq!(
            check(&length(3), Value::text("KJFK")),
            Err("The :attribute field must be 3 characters.".to_owned())
        );
        assert_eq!(check(&length(5), Value::Integer(10001)), Ok(()));
        assert_eq!(check(&length_between(2, 4), Value::text("ÄÖ")), Ok(()));
        assert_eq!(
            check(&length_between(2, 4), Value::text("A")),
            Err("The :attribute field must be between 2 and 4 characters.".to_owned())
        );
        assert_eq!(
            check(&length_between(2, 4), Value::text("ABCDE")),
            Err("The :attribute field must be between 2 and 4 characters.".to_owned())
        );
    }

    #[test]
    fn lengths_count_characters() {
        assert_eq!(check(&max_length(3), Value::text("äöü")), Ok(()));
        assert_eq!(
            check(&max_length(2), Value::text("JFK")),
            Err("The :attribute field must not be greater than 2 characters.".to_owned())
        );
        assert_eq!(
            check(&min_length(2), Value::text("J")),
            Err("The :attribute field must be at least 2 characters.".to_owned())
        );
    }
}
