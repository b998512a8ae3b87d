//! Dates and date-times in the formats that files write them, such as `31.12.2023` or
//! `12/31/2023 11:30 PM`, read with strftime-style patterns (`%d.%m.%Y`).
//!
//! Parsing uses chrono's strftime parser, so the specifiers are chrono's (`%Y`, `%m`,
//! `%d`, `%b`, `%H`, `%M`, `%S`, `%f`, `%p`, `%z` and the rest listed in
//! `chrono::format::strftime`). Numbers may have fewer digits than the specifier shows,
//! so `%d.%m.%Y` reads `1.2.2023`. Whitespace in a pattern matches any run of whitespace,
//! including none. Two-digit years (`%y`) from 00 to 69 are 2000 to 2069, and 70 to 99
//! are 1970 to 1999.

use chrono::format::{Item, StrftimeItems};
use chrono::{Datelike, Timelike};

use crate::date::{Date, DateTime};

/// Checks that `format` is a strftime pattern that chrono understands, and returns the
/// problem as a sentence when it is not.
pub(crate) fn check_format(format: &str) -> Result<(), String> {
    if format.trim().is_empty() {
        return Err("A date format must not be blank.".to_owned());
    }
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return Err(format!(
            "The date format {format:?} is not a valid strftime pattern (such as \"%d.%m.%Y\")."
        ));
    }
    Ok(())
}

impl Date {
    /// Parses `text` written in the strftime pattern `format`, such as `%d.%m.%Y` or
    /// `%b %e %Y`. Time fields in the pattern are read and then dropped. Returns `None`
    /// when the text does not match or the year is outside 0 to 9999.
    ///
    /// ```
    /// use ingest_importer_sdk::Date;
    ///
    /// assert_eq!(Date::parse_with_format("31.12.2023", "%d.%m.%Y"), Date::new(2023, 12, 31));
    /// assert_eq!(Date::parse_with_format("Jan 5 2000", "%b %e %Y"), Date::new(2000, 1, 5));
    /// assert_eq!(Date::parse_with_format("2023-12-31", "%d.%m.%Y"), None);
    /// ```
    pub fn parse_with_format(text: &str, format: &str) -> Option<Date> {
        let parsed = chrono::NaiveDate::parse_from_str(text.trim(), format).ok()?;
        from_chrono_date(parsed)
    }
}

impl DateTime {
    /// Parses `text` written in the strftime pattern `format`. A pattern with an offset
    /// (`%z`, `%:z`) gives the moment converted to UTC. A pattern without one reads the
    /// time as UTC. A pattern without a time of day gives midnight. Returns `None` when
    /// the text does not match or the year is outside 0 to 9999.
    ///
    /// ```
    /// use ingest_importer_sdk::{Date, DateTime};
    ///
    /// let moment = DateTime::parse_with_format("12/31/2023 11:30 PM", "%m/%d/%Y %I:%M %p").unwrap();
    /// assert_eq!(moment.to_string(), "2023-12-31T23:30:00");
    /// let utc = DateTime::parse_with_format("31.12.2023 23:30 +0100", "%d.%m.%Y %H:%M %z").unwrap();
    /// assert_eq!(utc.to_string(), "2023-12-31T22:30:00");
    /// let midnight = DateTime::parse_with_format("31.12.2023", "%d.%m.%Y").unwrap();
    /// assert_eq!(midnight, Date::new(2023, 12, 31).unwrap().at_midnight());
    /// ```
    pub fn parse_with_format(text: &str, format: &str) -> Option<DateTime> {
        let text = text.trim();
        if let Ok(moment) = chrono::DateTime::parse_from_str(text, format) {
            return from_chrono_date_time(moment.naive_utc());
        }
        if let Ok(moment) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return from_chrono_date_time(moment);
        }
        let date = chrono::NaiveDate::parse_from_str(text, format).ok()?;
        from_chrono_date(date).map(Date::at_midnight)
    }
}

/// Parses `text` with the first of `formats` that matches.
pub(crate) fn parse_date(text: &str, formats: &[String]) -> Option<Date> {
    formats
        .iter()
        .find_map(|format| Date::parse_with_format(text, format))
}

/// Parses `text` with the first of `formats` that matches.
pub(crate) fn parse_date_time(text: &str, formats: &[String]) -> Option<DateTime> {
    formats
        .iter()
        .find_map(|format| DateTime::parse_with_format(text, format))
}

/// Builds the message for text that matches none of `formats`, in the words of Laravel's
/// `date_format` rule.
pub(crate) fn format_mismatch_message(formats: &[String]) -> String {
    match formats {
        [format] => format!("The :attribute field must match the format {format}."),
        _ => format!(
            "The :attribute field must match one of the formats {}.",
            formats.join(", ")
        ),
    }
}

/// Checks a list of formats for a transform or validator: at least one, each valid.
pub(crate) fn check_formats(formats: &[String]) -> Result<(), String> {
    if formats.is_empty() {
        return Err("A date transform or validator needs at least one format.".to_owned());
    }
    formats.iter().try_for_each(|format| check_format(format))
}

fn from_chrono_date(date: chrono::NaiveDate) -> Option<Date> {
    let year = u16::try_from(date.year()).ok()?;
    Date::new(year, date.month() as u8, date.day() as u8)
}

fn from_chrono_date_time(moment: chrono::NaiveDateTime) -> Option<DateTime> {
    let date = from_chrono_date(moment.date())?;
    // chrono represents a leap second as a nanosecond count above one second, which the
    // contract's date-times cannot carry, so `DateTime::new` rejects it.
    DateTime::new(
        date,
        moment.hour() as u8,
        moment.minute() as u8,
        moment.second() as u8,
        moment.nanosecond(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date::new(year, month, day).unwrap()
    }

    #[test]
    fn dates_in_common_formats() {
        let cases = [
            ("31.12.2023", "%d.%m.%Y", date(2023, 12, 31)),
            ("1.2.2023", "%d.%m.%Y", date(2023, 2, 1)),
            ("12/31/2023", "%m/%d/%Y", date(2023, 12, 31)),
            ("31/12/23", "%d/%m/%y", date(2023, 12, 31)),
            ("31/12/69", "%d/%m/%y", date(2069, 12, 31)),
            ("31/12/70", "%d/%m/%y", date(1970, 12, 31)),
            ("Jan 1 2000", "%b %e %Y", date(2000, 1, 1)),
            ("January 1, 2000", "%B %e, %Y", date(2000, 1, 1)),
            ("  2023-12-31 ", "%Y-%m-%d", date(2023, 12, 31)),
            ("20231231", "%Y%m%d", date(2023, 12, 31)),
        ];
        for (text, format, expected) in cases {
            assert_eq!(Date::parse_with_format(text, format), Some(expected), "{text} as {format}");
        }
    }

    #[test]
    fn dates_that_do_not_match() {
        assert_eq!(Date::parse_with_format("31.02.2023", "%d.%m.%Y"), None);
        assert_eq!(Date::parse_with_format("2023-12-31", "%d.%m.%Y"), None);
        assert_eq!(Date::parse_with_format("31.12.2023 extra", "%d.%m.%Y"), None);
        assert_eq!(Date::parse_with_format("31.12.10000", "%d.%m.%Y"), None);
        assert_eq!(Date::parse_with_format("", "%d.%m.%Y"), None);
    }

    #[test]
    fn date_times_with_and_without_offsets() {
        let moment = DateTime::parse_with_format("2023-12-31 23:30:15.5", "%Y-%m-%d %H:%M:%S%.f").unwrap();
        assert_eq!(moment.to_string(), "2023-12-31T23:30:15.5");
        let utc = DateTime::parse_with_format("2024-01-01T00:30:00+01:00", "%Y-%m-%dT%H:%M:%S%:z").unwrap();
        assert_eq!(utc.to_string(), "2023-12-31T23:30:00");
        let afternoon = DateTime::parse_with_format("12/31/2023 2:05 pm", "%m/%d/%Y %I:%M %p").unwrap();
        assert_eq!(afternoon.to_string(), "2023-12-31T14:05:00");
        assert_eq!(DateTime::parse_with_format("25:00", "%H:%M"), None);
    }

    #[test]
    fn first_matching_format_wins() {
        let formats = vec!["%d.%m.%Y".to_owned(), "%m/%d/%Y".to_owned()];
        assert_eq!(parse_date("05/04/2023", &formats), Some(date(2023, 5, 4)));
        assert_eq!(parse_date("05.04.2023", &formats), Some(date(2023, 4, 5)));
        assert_eq!(parse_date("2023-04-05", &formats), None);
    }

    #[test]
    fn invalid_formats_are_reported() {
        assert_eq!(check_format("%d.%m.%Y"), Ok(()));
        assert_eq!(
            check_format("%Q-%m"),
            Err("The date format \"%Q-%m\" is not a valid strftime pattern (such as \"%d.%m.%Y\").".to_owned())
        );
        assert!(check_format(" ").is_err());
        assert!(check_formats(&[]).is_err());
    }

    #[test]
    fn mismatch_messages_name_the_formats() {
        assert_eq!(
            format_mismatch_message(&["%d.%m.%Y".to_owned()]),
            "The :attribute field must match the format %d.%m.%Y."
        );
        assert_eq!(
            format_mismatch_message(&["%d.%m.%Y".to_owned(), "%Y-%m-%d".to_owned()]),
            "The :attribute field must match one of the formats %d.%m.%Y, %Y-%m-%d."
        );
    }
}
