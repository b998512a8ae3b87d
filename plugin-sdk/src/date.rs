//! Calendar dates and UTC date-times, as cells carry them across the boundary.
//!
//! The packed layout spells them `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM:SS[.fraction]`, so
//! years run from 0 to 9999. These types parse and print exactly that form, and parse
//! the few other ISO 8601 spellings that files contain.

use std::fmt;

/// A day of the proleptic Gregorian calendar, with a year from 0 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Returns the date, or `None` when the day does not exist or the year is above 9999.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let valid = year <= 9999 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Self { year, month, day })
    }

    /// Parses `YYYY-MM-DD`, the ISO 8601 calendar date.
    pub fn parse_iso(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year = parse_digits(&bytes[0..4])?;
        let month = parse_digits(&bytes[5..7])?;
        let day = parse_digits(&bytes[8..10])?;
        Self::new(year as u16, month as u8, day as u8)
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Returns the midnight that starts this date.
    pub fn at_midnight(self) -> DateTime {
        DateTime {
            date: self,
            hour: 0,
            minute: 0,
            second: 0,
            nanosecond: 0,
        }
    }

    /// Days since 0000-03-01, so that leap days fall at the end of each counted year.
    fn day_number(self) -> i64 {
        let (year, month) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let day_of_year = (153 * month + 2) / 5 + i64::from(self.day) - 1;
        365 * year + year.div_euclid(4) - year.div_euclid(100) + year.div_euclid(400) + day_of_year
    }

    /// Returns the date of a [`Date::day_number`], or `None` outside years 0 to 9999.
    fn from_day_number(number: i64) -> Option<Self> {
        let era = number.div_euclid(146_097);
        let day_of_era = number.rem_euclid(146_097);
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
        let month = if shifted_month < 10 {
            shifted_month + 3
        } else {
            shifted_month - 9
        };
        let year = era * 400 + year_of_era + i64::from(month <= 2);
        let year = u16::try_from(year).ok()?;
        Self::new(year, month as u8, day as u8)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A moment in UTC, to the nanosecond, without a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
}

impl DateTime {
    /// Returns the moment, or `None` when a field is out of range (leap seconds included).
    pub fn new(date: Date, hour: u8, minute: u8, second: u8, nanosecond: u32) -> Option<Self> {
        let valid = hour < 24 && minute < 60 && second < 60 && nanosecond < 1_000_000_000;
        valid.then_some(Self {
            date,
            hour,
            minute,
            second,
            nanosecond,
        })
    }

    /// Parses an ISO 8601 date-time: `YYYY-MM-DDTHH:MM[:SS[.fraction]]`, with `T` or a
    /// space between date and time, and an optional `Z` or `±HH:MM` offset. A moment with
    /// an offset is converted to UTC.
    pub fn parse_iso(text: &str) -> Option<Self> {
        if text.len() < 16 || !text.is_char_boundary(10) {
            return None;
        }
        let (date_text, rest) = text.split_at(10);
        let date = Date::parse_iso(date_text)?;
        let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
        let (time_text, offset_minutes) = split_offset(rest)?;

        let time = time_text.as_bytes();
        if time.len() < 5 || time[2] != b':' {
            return None;
        }
        let hour = parse_digits(&time[0..2])? as u8;
        let minute = parse_digits(&time[3..5])? as u8;
        let mut second = 0;
        let mut nanosecond = 0;
        if time.len() > 5 {
            if time.len() < 8 || time[5] != b':' {
                return None;
            }
            second = parse_digits(&time[6..8])? as u8;
            if time.len() > 8 {
                nanosecond = parse_fraction(&time[8..])?;
            }
        }

        let moment = Self::new(date, hour, minute, second, nanosecond)?;
        moment.minus_minutes(offset_minutes)
    }

    pub fn date(self) -> Date {
        self.date
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }

    pub fn second(self) -> u8 {
        self.second
    }

    pub fn nanosecond(self) -> u32 {
        self.nanosecond
    }

    /// Returns the date when the moment is exactly midnight, the form a spreadsheet gives
    /// a date cell whose format also shows a time.
    pub fn midnight_date(self) -> Option<Date> {
        let midnight = self.hour == 0 && self.minute == 0 && self.second == 0 && self.nanosecond == 0;
        midnight.then_some(self.date)
    }

    fn minus_minutes(self, minutes: i64) -> Option<Self> {
        if minutes == 0 {
            return Some(self);
        }
        let total = i64::from(self.hour) * 60 + i64::from(self.minute) - minutes;
        let date = Date::from_day_number(self.date.day_number() + total.div_euclid(1440))?;
        let minute_of_day = total.rem_euclid(1440);
        Self::new(
            date,
            (minute_of_day / 60) as u8,
            (minute_of_day % 60) as u8,
            self.second,
            self.nanosecond,
        )
    }
}

impl fmt::Display for DateTime {
    /// Writes `YYYY-MM-DDTHH:MM:SS`, with the fraction of a second only when it is not zero.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}T{:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.nanosecond != 0 {
            let digits = format!("{:09}", self.nanosecond);
            write!(formatter, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses ASCII digits only, where `str::parse` would also take a sign.
fn parse_digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0, |number, digit| number * 10 + u32::from(digit - b'0')),
    )
}

/// Parses `.ddd…` into nanoseconds. Digits beyond the ninth are dropped.
fn parse_fraction(bytes: &[u8]) -> Option<u32> {
    let digits = bytes.strip_prefix(b".")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanosecond = 0;
    for position in 0..9 {
        let digit = digits.get(position).map_or(0, |digit| u32::from(digit - b'0'));
        nanosecond = nanosecond * 10 + digit;
    }
    Some(nanosecond)
}

/// Splits a trailing `Z` or `±HH:MM` off a time and returns the offset in minutes east of UTC.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(time) = time.strip_suffix('Z') {
        return Some((time, 0));
    }
    let Some(sign_at) = time.rfind(['+', '-']) else {
        return Some((time, 0));
    };
    let (time, offset) = time.split_at(sign_at);
    let offset = offset.as_bytes();
    if offset.len() != 6 || offset[3] != b':' {
        return None;
    }
    let hours = i64::from(parse_digits(&offset[1..3])?);
    let minutes = i64::from(parse_digits(&offset[4..6])?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    let sign = if offset[0] == b'-' { -1 } else { 1 };
    Some((time, sign * (hours * 60 + minutes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_parses_and_prints_iso() {
        let date = Date::parse_iso("2007-11-09").unwrap();
        assert_eq!((date.year(), date.month(), date.day()), (2007, 11, 9));
        assert_eq!(date.to_string(), "2007-11-09");
    }

    #[test]
    fn date_rejects_days_that_do_not_exist() {
        assert!(Date::parse_iso("2007-02-29").is_none());
        assert!(Date::parse_iso("2008-02-29").is_some());
        assert!(Date::parse_iso("1900-02-29").is_none());
        assert!(Date::parse_iso("2000-02-29").is_some());
        assert!(Date::parse_iso("2007-13-01").is_none());
        assert!(Date::parse_iso("2007-11-31").is_none());
        assert!(Date::parse_iso("07-11-09").is_none());
        assert!(Date::parse_iso("2007-1-09").is_none());
        assert!(Date::parse_iso("+007-11-09").is_none());
    }

    #[test]
    fn day_numbers_round_trip() {
        for text in ["0000-03-01", "1970-01-01", "2000-02-29", "2007-12-31", "9999-12-31"] {
            let date = Date::parse_iso(text).unwrap();
            assert_eq!(Date::from_day_number(date.day_number()), Some(date), "{text}");
        }
        let new_year = Date::parse_iso("2008-01-01").unwrap();
        assert_eq!(
            new_year.day_number() - Date::parse_iso("2007-12-31").unwrap().day_number(),
            1
        );
    }

    #[test]
    fn date_time_parses_iso_spellings() {
        let expected = DateTime::new(Date::new(2013, 1, 1).unwrap(), 5, 17, 0, 0).unwrap();
        assert_eq!(DateTime::parse_iso("2013-01-01T05:17:00"), Some(expected));
        assert_eq!(DateTime::parse_iso("2013-01-01 05:17"), Some(expected));
        assert_eq!(DateTime::parse_iso("2013-01-01T05:17:00Z"), Some(expected));
        assert_eq!(DateTime::parse_iso("2013-01-01T06:17:00+01:00"), Some(expected));
        assert_eq!(DateTime::parse_iso("2012-12-31T23:17:00-06:00"), Some(expected));
        assert!(DateTime::parse_iso("2013-01-01T25:00:00").is_none());
        assert!(DateTime::parse_iso("2013-01-01T05:17:0").is_none());
        assert!(DateTime::parse_iso("2013-01-01").is_none());
    }

    #[test]
    fn date_time_keeps_fractions() {
        let moment = DateTime::parse_iso("2013-01-01T05:17:00.25").unwrap();
        assert_eq!(moment.nanosecond(), 250_000_000);
        assert_eq!(moment.to_string(), "2013-01-01T05:17:00.25");
        assert_eq!(DateTime::parse_iso(&moment.to_string()), Some(moment));
    }

    #[test]
    fn midnight_date_only_at_midnight() {
        let date = Date::new(2007, 11, 11).unwrap();
        assert_eq!(date.at_midnight().midnight_date(), Some(date));
        assert_eq!(DateTime::new(date, 0, 0, 1, 0).unwrap().midnight_date(), None);
    }
}
