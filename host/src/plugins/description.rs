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

#[derive(Debug, Clone, Serialize)]
pub struct Description {
    pub slug: String,
    pub name: String,
    pub version: String,
    pub sdk_version: String,
    pub source: SourceKind,
    pub location: Option<String>,
    pub format: FormatSpec,
    pub target: String,
    pub columns: Vec<Column>,
    pub keyed_by: Vec<String>,
    pub duplicates: DuplicateStrategy,
    pub newer_by: Vec<String>,
    pub chunk_size: u32,
    pub atomic_chunks: bool,
    pub strict_headers: bool,
    pub headers: Vec<ExpectedHeader>,
    pub capabilities: Vec<String>,
}

/// The largest chunk an importer may ask for; bigger chunks would hold a transaction
/// and the guest's memory for too long.
pub const MAX_CHUNK_SIZE: u32 = 50_000;

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
        if !is_identifier(&self.target) {
            return Err(format!("target table {:?} is not a valid table name", self.target));
        }
        if self.columns.is_empty() {
            return Err("it declares no target columns".into());
        }
        let mut seen = std::collections::HashSet::new();
        for column in &self.columns {
            if !is_identifier(&column.name) || column.name.eq_ignore_ascii_case("id") {
                return Err(format!("target column {:?} is not a valid column name (and `id` is reserved)", column.name));
            }
            if !seen.insert(column.name.to_ascii_lowercase()) {
                return Err(format!("target column {:?} is declared twice", column.name));
            }
        }
        if self.keyed_by.is_empty() {
            return Err("it declares no key columns (keyed_by)".into());
        }
        for key in self.keyed_by.iter().chain(&self.newer_by) {
            if self.column(key).is_none() {
                return Err(format!("key column {key:?} is not one of its target columns"));
            }
        }
        if self.duplicates == DuplicateStrategy::UpdateIfNewer && self.newer_by.is_empty() {
            return Err("duplicate strategy update_if_newer needs the timestamp columns to compare (newer_by)".into());
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
            target: String::new(),
            columns: Vec::new(),
            keyed_by: Vec::new(),
            duplicates: DuplicateStrategy::Fail,
            newer_by: Vec::new(),
            chunk_size: 1,
            atomic_chunks: false,
            strict_headers: false,
            headers: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
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
            target: description.target,
            columns: description
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
            keyed_by: description.keyed_by,
            duplicates: match description.duplicates {
                wit::DuplicateStrategy::Skip => DuplicateStrategy::Skip,
                wit::DuplicateStrategy::Update => DuplicateStrategy::Update,
                wit::DuplicateStrategy::Fail => DuplicateStrategy::Fail,
                wit::DuplicateStrategy::UpdateIfNewer => DuplicateStrategy::UpdateIfNewer,
                wit::DuplicateStrategy::Upsert => DuplicateStrategy::Upsert,
            },
            newer_by: description.newer_by,
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
