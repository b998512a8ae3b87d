//! The views of a row that hooks and closures get: the source [`Row`], the [`Record`]
//! being built from it, and the [`RowError`] that skips or fails it.

use std::fmt;

use crate::config::Column;
use crate::headers::HeaderRow;
use crate::mapping::fill_attribute;
use crate::value::{Cell, Value};

/// One data row of the file, read by header name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    number: u64,
    cells: &'a [Cell<'a>],
    headers: HeaderRow<'a>,
}

impl<'a> Row<'a> {
    pub(crate) fn new(number: u64, cells: &'a [Cell<'a>], headers: HeaderRow<'a>) -> Self {
        Self { number, cells, headers }
    }

    /// Returns the 1-based number of the row among the file's data rows.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Returns the cell under `header` (matched ignoring case and surrounding whitespace),
    /// or [`Cell::Empty`] when the file has no such header.
    pub fn get(&self, header: &str) -> Cell<'a> {
        self.headers
            .position(header)
            .map_or(Cell::Empty, |position| self.cells[position])
    }

    /// Returns the text under `header` when that cell is a text cell.
    pub fn text(&self, header: &str) -> Option<&'a str> {
        self.get(header).as_text()
    }

    pub fn has_header(&self, header: &str) -> bool {
        self.headers.position(header).is_some()
    }

    /// Iterates over the row's cells with their headers, in file order.
    pub fn cells(&self) -> impl Iterator<Item = (&'a str, Cell<'a>)> + 'a {
        self.headers
            .names()
            .iter()
            .map(String::as_str)
            .zip(self.cells.iter().copied())
    }

    pub(crate) fn cell_at(&self, position: usize) -> Cell<'a> {
        self.cells[position]
    }
}

/// Why a hook stops a row: a skip, which the host counts but does not report as an error,
/// or a failure, which the host stores with the row for download and retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowError {
    Skip(String),
    Fail(String),
}

impl RowError {
    pub fn skip(reason: impl Into<String>) -> Self {
        RowError::Skip(reason.into())
    }

    pub fn fail(message: impl Into<String>) -> Self {
        RowError::Fail(message.into())
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::Skip(reason) => write!(formatter, "skipped: {reason}"),
            RowError::Fail(message) => formatter.write_str(message),
        }
    }
}

impl std::error::Error for RowError {}

/// Validation messages of one row, grouped by field in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ValidationErrors {
    fields: Vec<(String, Vec<String>)>,
}

impl ValidationErrors {
    pub(crate) fn add(&mut self, field: &str, message: String) {
        match self.fields.iter_mut().find(|(name, _)| name == field) {
            Some((_, messages)) => messages.push(message),
            None => self.fields.push((field.to_owned(), vec![message])),
        }
    }

    pub(crate) fn has_field(&self, field: &str) -> bool {
        self.fields.iter().any(|(name, _)| name == field)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Summarizes the errors the way Laravel's `ValidationException` does: the first
    /// message, then "(and 2 more errors)".
    pub(crate) fn summary(&self) -> String {
        let mut messages = self.fields.iter().flat_map(|(_, messages)| messages);
        let first = messages.next().cloned().unwrap_or_default();
        match messages.count() {
            0 => first,
            1 => format!("{first} (and 1 more error)"),
            more => format!("{first} (and {more} more errors)"),
        }
    }

    pub(crate) fn into_fields(self) -> Vec<(String, Vec<String>)> {
        self.fields
    }
}

/// The record a row becomes, one value per column of its target, open to a row hook.
///
/// Values have already been converted to their column's type where they could be. What
/// a hook sets is converted again before the record is written.
pub struct Record<'r, 'a> {
    table: &'r str,
    columns: &'r [Column],
    values: &'r mut [Value<'a>],
    errors: &'r mut ValidationErrors,
}

impl<'r, 'a> Record<'r, 'a> {
    pub(crate) fn new(
        table: &'r str,
        columns: &'r [Column],
        values: &'r mut [Value<'a>],
        errors: &'r mut ValidationErrors,
    ) -> Self {
        Self {
            table,
            columns,
            values,
            errors,
        }
    }

    /// Returns the table the record goes to: the main target, or the target the router
    /// picked for the row.
    pub fn target(&self) -> &str {
        self.table
    }

    /// Returns the value of the target column `column`, or `None` for an unknown column.
    pub fn get(&self, column: &str) -> Option<&Value<'a>> {
        self.index_of(column).map(|index| &self.values[index])
    }

    /// Sets the value of the target column `column`.
    ///
    /// Returns a [`RowError::Fail`] naming the column when the record's target declares
    /// no such column, so that `record.set(...)?` in a hook fails the row instead of
    /// trapping.
    pub fn set(&mut self, column: &str, value: impl Into<Value<'a>>) -> Result<(), RowError> {
        let index = self.index_of(column).ok_or_else(|| {
            RowError::fail(format!(
                "The importer sets the column {column:?}, which its target table {:?} does not declare.",
                self.table
            ))
        })?;
        self.values[index] = value.into();
        Ok(())
    }

    /// Adds a validation message for `field`, which fails the row once the hooks have run.
    /// `:attribute` in the message is replaced by the field name with spaces for underscores.
    pub fn add_error(&mut self, field: &str, message: impl Into<String>) {
        let message = fill_attribute(&message.into(), &field.replace('_', " "));
        self.errors.add(field, message);
    }

    fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|declared| declared.name() == column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_further_errors() {
        let mut errors = ValidationErrors::default();
        errors.add("sex", "The sex field is required.".to_owned());
        assert_eq!(errors.summary(), "The sex field is required.");

        errors.add("year", "The year field must be an integer.".to_owned());
        assert_eq!(errors.summary(), "The sex field is required. (and 1 more error)");

        errors.add("sex", "The selected sex is invalid.".to_owned());
        assert_eq!(errors.summary(), "The sex field is required. (and 2 more errors)");
        assert_eq!(errors.into_fields().len(), 2);
    }

    #[test]
    fn row_reads_cells_by_header() {
        let headers = vec!["Species".to_owned(), "Sample Number".to_owned()];
        let cells = [Cell::Text("Adelie Penguin (Pygoscelis adeliae)"), Cell::Integer(1)];
        let row = Row::new(7, &cells, HeaderRow::new(&headers));

        assert_eq!(row.number(), 7);
        assert_eq!(row.text("species"), Some("Adelie Penguin (Pygoscelis adeliae)"));
        assert_eq!(row.get("SAMPLE NUMBER"), Cell::Integer(1));
        assert_eq!(row.get("Island"), Cell::Empty);
        assert!(!row.has_header("Island"));
        assert_eq!(row.cells().count(), 2);
    }
}
