//! An importer's description of itself, checked and turned into the host's own types.

use serde::Serialize;

use super::bindings::ingest::importer::types as wit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Upload,
    Filesystem,
    Url,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    Integer,
    Float,
    Boolean,
    Date,
    DateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateStrategy {
    Skip,
    Update,
    Fail,
    UpdateIfNewer,
    Upsert,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    pub nullable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpectedHeader {
    pub name: String,
    pub aliases: Vec<String>,
    pub required: bool,
}

/// The format options for an importer's files. `None` means detect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormatSpec {
    pub delimiter: Option<String>,
    pub encoding: Option<String>,
    pub sheet: Option<String>,
    pub header_row: Option<u32>,
}

/// A table an importer's records go to, with the keyed write the host applies.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub table: String,
    pub columns: Vec<Column>,
    pub keyed_by: Vec<String>,
    pub duplicates: DuplicateStrategy,
    pub newer_by: Vec<String>,
}

impl Target {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// Returns the position of the key column `key` among the columns. Panics for a
    /// name that is not a column, which [`Description::validate`] rules out.
    pub fn key_position(&self, key: &str) -> usize {
        self.columns.iter().position(|column| column.name == key).expect("validated key")
    }

    /// Checks the target's columns and key. The error names the table and the rule.
    fn validate(&self) -> Result<(), String> {
        let table = &self.table;
        if !is_identifier(table) {
            return Err(format!("target table {table:?} is not a valid table name"));
        }
        if self.columns.is_empty() {
            return Err(format!("target {table} declares no columns"));
        }
        let mut seen = std::collections::HashSet::new();
        for column in &self.columns {
            if !is_identifier(&column.name) || column.name.eq_ignore_ascii_case("id") {
                return Err(format!(
                    "column {:?} of target {table} is not a valid column name (and `id` is reserved)",
                    column.name
                ));
            }
            if !seen.insert(column.name.to_ascii_lowercase()) {
                return Err(format!("column {:?} of target {table} is declared twice", column.name));
            }
        }
        if self.keyed_by.is_empty() {
            return Err(format!("target {table} declares no key columns (keyed_by)"));
        }
        for key in self.keyed_by.iter().chain(&self.newer_by) {
            if self.column(key).is_none() {
                return Err(format!("key column {key:?} is not one of the columns of target {table}"));
            }
        }
        if self.duplicates == DuplicateStrategy::UpdateIfNewer && self.newer_by.is_empty() {
            return Err(format!(
                "duplicate strategy update_if_newer of target {table} needs the timestamp columns to compare (newer_by)"
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Description {
    pub slug: String,
    pub name: String,
    pub version: String,
    pub sdk_version: String,
    pub source: SourceKind,
    pub location: Option<String>,
    pub format: FormatSpec,
    /// The tables records go to, the main target first; [`Description::validate`]
    /// ensures there is at least one.
    pub targets: Vec<Target>,
    pub chunk_size: u32,
    pub atomic_chunks: bool,
    pub strict_headers: bool,
    pub headers: Vec<ExpectedHeader>,
    pub capabilities: Vec<String>,
}

/// The largest chunk an importer may ask for; bigger chunks would hold a transaction
/// and the guest's memory for too long.
pub const MAX_CHUNK_SIZE: u32 = 50_000;

/// The maximum number of target tables an importer may declare. Each run checks every
/// target against the database when it starts, so the number is bounded. The SDK
/// enforces the same limit.
pub const MAX_TARGETS: usize = 32;

/// Whether `name` is usable unquoted-safe as a SQL table or column name: letters,
/// digits and underscores, not starting with a digit.
pub fn is_identifier(name: &str) -> bool {
    let mut characters = name.chars();
    matches!(characters.next(), Some(first) if first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
        && name.len() <= 63
}

fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 100
        && slug.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-')
}

impl Description {
    /// Checks what the host relies on. The error names the rule the description breaks.
    pub fn validate(&self) -> Result<(), String> {
        if !is_slug(&self.slug) {
            return Err(format!("slug {:?} must be lower-case letters, digits and dashes", self.slug));
        }
        if matches!(self.source, SourceKind::Filesystem | SourceKind::Url) && self.location.is_none() {
            return Err(format!("a {:?} source needs a location (a path or a URL)", self.source).to_lowercase());
        }
        if let Some(delimiter) = &self.format.delimiter
            && (delimiter.len() != 1 || !delimiter.is_ascii())
        {
            return Err(format!("delimiter {delimiter:?} must be one ASCII character"));
        }
        if self.targets.is_empty() {
            return Err("it declares no target tables".into());
        }
        if self.targets.len() > MAX_TARGETS {
            return Err(format!("it declares {} target tables, more than the {MAX_TARGETS} allowed", self.targets.len()));
        }
        let mut tables = std::collections::HashSet::new();
        for target in &self.targets {
            target.validate()?;
            if !tables.insert(target.table.to_ascii_lowercase()) {
                return Err(format!("target table {} is declared twice", target.table));
            }
        }
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK_SIZE {
            return Err(format!("chunk size {} is outside 1..={MAX_CHUNK_SIZE}", self.chunk_size));
        }
        Ok(())
    }

    /// A stand-in used while the importer in `file` describes itself, so that faults
    /// during `describe` can name the file.
    pub fn placeholder(file: &str) -> Self {
        Self {
            slug: file.to_owned(),
            name: String::new(),
            version: "unknown".into(),
            sdk_version: String::new(),
            source: SourceKind::Upload,
            location: None,
            format: FormatSpec::default(),
            targets: Vec::new(),
            chunk_size: 1,
            atomic_chunks: false,
            strict_headers: false,
            headers: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    /// Returns the main target, the first declared.
    ///
    /// Panics for a description without targets, which [`Description::validate`] and so
    /// registration reject; only the placeholder of an importer that is still describing
    /// itself has none.
    pub fn main_target(&self) -> &Target {
        &self.targets[0]
    }
}

impl From<wit::Description> for Description {
    fn from(description: wit::Description) -> Self {
        Self {
            slug: description.slug,
            name: description.name,
            version: description.version,
            sdk_version: description.sdk_version,
            source: match description.source {
                wit::SourceKind::Upload => SourceKind::Upload,
                wit::SourceKind::Filesystem => SourceKind::Filesystem,
                wit::SourceKind::Url => SourceKind::Url,
                wit::SourceKind::Json => SourceKind::Json,
            },
            location: description.location,
            format: FormatSpec {
                delimiter: description.format.delimiter,
                encoding: description.format.encoding,
                sheet: description.format.sheet,
                header_row: description.format.header_row,
            },
            targets: description.targets.into_iter().map(Target::from).collect(),
            chunk_size: description.chunk_size,
            atomic_chunks: description.atomic_chunks,
            strict_headers: description.strict_headers,
            headers: description
                .headers
                .into_iter()
                .map(|header| ExpectedHeader { name: header.name, aliases: header.aliases, required: header.required })
                .collect(),
            capabilities: description.capabilities,
        }
    }
}

impl From<wit::Target> for Target {
    fn from(target: wit::Target) -> Self {
        Self {
            table: target.table,
            columns: target
                .columns
                .into_iter()
                .map(|column| Column {
                    name: column.name,
                    column_type: match column.type_ {
                        wit::ColumnType::Text => ColumnType::Text,
                        wit::ColumnType::Integer => ColumnType::Integer,
                        wit::ColumnType::Float => ColumnType::Float,
                        wit::ColumnType::Boolean => ColumnType::Boolean,
                        wit::ColumnType::Date => ColumnType::Date,
                        wit::ColumnType::DateTime => ColumnType::DateTime,
                    },
                    nullable: column.nullable,
                })
                .collect(),
            keyed_by: target.keyed_by,
            duplicates: match target.duplicates {
                wit::DuplicateStrategy::Skip => DuplicateStrategy::Skip,
                wit::DuplicateStrategy::Update => DuplicateStrategy::Update,
                wit::DuplicateStrategy::Fail => DuplicateStrategy::Fail,
                wit::DuplicateStrategy::UpdateIfNewer => DuplicateStrategy::UpdateIfNewer,
                wit::DuplicateStrategy::Upsert => DuplicateStrategy::Upsert,
            },
            newer_by: target.newer_by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_column(name: &str) -> Column {
        Column { name: name.into(), column_type: ColumnType::Text, nullable: false }
    }

    fn target(table: &str, key: &str) -> Target {
        Target {
            table: table.into(),
            columns: vec![text_column(key), text_column("name")],
            keyed_by: vec![key.into()],
            duplicates: DuplicateStrategy::Skip,
            newer_by: Vec::new(),
        }
    }

    fn contacts(targets: Vec<Target>) -> Description {
        Description {
            slug: "contacts".into(),
            name: "Contacts".into(),
            version: "1.0.0".into(),
            sdk_version: "0.1.0".into(),
            source: SourceKind::Upload,
            location: None,
            format: FormatSpec::default(),
            targets,
            chunk_size: 100,
            atomic_chunks: false,
            strict_headers: false,
            headers: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    #[test]
    fn several_valid_targets_pass() {
        let description = contacts(vec![target("people", "email"), target("companies", "vat_id")]);

        assert_eq!(description.validate(), Ok(()));
        assert_eq!(description.main_target().table, "people");
    }

    #[test]
    fn description_without_targets_is_rejected() {
        let error = contacts(Vec::new()).validate().unwrap_err();

        assert_eq!(error, "it declares no target tables");
    }

    #[test]
    fn repeated_table_is_rejected() {
        let error = contacts(vec![target("people", "email"), target("People", "vat_id")]).validate().unwrap_err();

        assert_eq!(error, "target table People is declared twice");
    }

    #[test]
    fn second_target_without_key_is_rejected() {
        let mut companies = target("companies", "vat_id");
        companies.keyed_by.clear();

        let error = contacts(vec![target("people", "email"), companies]).validate().unwrap_err();

        assert_eq!(error, "target companies declares no key columns (keyed_by)");
    }

    #[test]
    fn every_target_rule_names_its_table() {
        type BreakRule = fn(&mut Target);
        let cases: [(BreakRule, &str); 6] = [
            (|target| target.table = "bad name".into(), "target table \"bad name\" is not a valid table name"),
            (|target| target.columns.clear(), "target companies declares no columns"),
            (
                |target| target.columns.push(text_column("ID")),
                "column \"ID\" of target companies is not a valid column name (and `id` is reserved)",
            ),
            (|target| target.columns.push(text_column("NAME")), "column \"NAME\" of target companies is declared twice"),
            (
                |target| target.keyed_by = vec!["vat".into()],
                "key column \"vat\" is not one of the columns of target companies",
            ),
            (
                |target| target.duplicates = DuplicateStrategy::UpdateIfNewer,
                "duplicate strategy update_if_newer of target companies needs the timestamp columns to compare (newer_by)",
            ),
        ];
        for (break_rule, expected) in cases {
            let mut companies = target("companies", "vat_id");
            break_rule(&mut companies);

            let error = contacts(vec![target("people", "email"), companies]).validate().unwrap_err();

            assert_eq!(error, expected);
        }
    }

    #[test]
    fn target_count_is_limited() {
        let targets = (0..=MAX_TARGETS).map(|index| target(&format!("table_{index}"), "code")).collect();

        let error = contacts(targets).validate().unwrap_err();

        assert_eq!(error, "it declares 33 target tables, more than the 32 allowed");
    }
}
