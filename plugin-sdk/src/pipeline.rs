//! The checked form of an [`IngestConfig`]: what `describe` returns, and what
//! `check-headers` and `process` run.

use std::fmt;

use crate::bindings::ingest::importer::host::LogLevel;
use crate::bindings::ingest::importer::types::ColumnType;
use crate::bindings::ingest::importer::types::{
    Chunk, ChunkResult, Column as ColumnDescription, Description, DuplicateStrategy, ExpectedHeader,
};
use crate::bindings::ingest::importer::types::SourceKind;
use crate::config::{BeforeRowFn, Column, IngestConfig, RecordHookFn, Relation, Source, Step};
use crate::headers::{check_header_row, same_header};
use crate::host::Host;
use crate::mapping;

/// The version of this SDK, reported to the host with every description.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// An importer description that breaks a rule, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    slug: String,
    problems: Vec<String>,
}

impl ConfigError {
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "The description of importer {:?} is invalid: {}",
            self.slug,
            self.problems.join(" ")
        )
    }
}

impl std::error::Error for ConfigError {}

/// A checked importer description, ready to describe itself and process chunks.
pub struct Pipeline {
    slug: String,
    name: String,
    version: String,
    config: IngestConfig,
    /// Per column, whether a row must have a value: required columns and key columns.
    required: Vec<bool>,
}

impl Pipeline {
    pub(crate) fn new(config: IngestConfig) -> Result<Self, ConfigError> {
        let problems = find_problems(&config);
        if !problems.is_empty() {
            return Err(ConfigError {
                slug: config.slug,
                problems,
            });
        }
        let required = config
            .columns
            .iter()
            .map(|column| column.required || config.keyed_by.contains(&column.name))
            .collect();
        Ok(Self {
            slug: config.slug.clone(),
            name: config.name.clone().unwrap_or_else(|| config.slug.clone()),
            // NOTE: only a config built outside `export_importer!` (a native test) lacks a
            // version, because the macro passes the importer crate's version.
            version: config.version.clone().unwrap_or_else(|| "0.0.0".to_owned()),
            config,
            required,
        })
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }

    pub fn columns(&self) -> &[Column] {
        &self.config.columns
    }

    pub(crate) fn is_required(&self, column_index: usize) -> bool {
        self.required[column_index]
    }

    pub(crate) fn null_markers(&self) -> &[String] {
        &self.config.null_markers
    }

    pub(crate) fn before_row_hooks(&self) -> &[Box<BeforeRowFn>] {
        &self.config.before_row
    }

    pub(crate) fn record_hooks(&self) -> &[Box<RecordHookFn>] {
        &self.config.record_hooks
    }

    /// Returns the description the host registers the importer with.
    pub fn description(&self) -> Description {
        let config = &self.config;
        let columns = config
            .columns
            .iter()
            .zip(&self.required)
            .map(|(column, &required)| ColumnDescription {
                name: column.name.clone(),
                type_: column.column_type,
                nullable: !required,
            })
            .collect();
        let relates = config.columns.iter().any(|column| column.relation.is_some());
        Description {
            slug: self.slug.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            sdk_version: SDK_VERSION.to_owned(),
            source: config.source,
            location: config.location.clone(),
            format: config.format.clone(),
            target: config.target.clone(),
            columns,
            keyed_by: config.keyed_by.clone(),
            duplicates: config.duplicates,
            newer_by: config.newer_by.clone(),
            chunk_size: config.chunk_size,
            atomic_chunks: config.atomic_chunks,
            strict_headers: config.strict_headers,
            headers: self.expected_headers(),
            capabilities: if relates { vec!["relate".to_owned()] } else { Vec::new() },
        }
    }

    /// Lists the headers the columns read, one entry per header name: columns that read the
    /// same header share its entry, which is required when one of them is.
    pub(crate) fn expected_headers(&self) -> Vec<ExpectedHeader> {
        let mut expected: Vec<ExpectedHeader> = Vec::new();
        let mut add = |names: Vec<String>, required: bool| {
            let mut names = names.into_iter();
            let Some(name) = names.next() else { return };
            match expected.iter_mut().find(|header| same_header(&header.name, &name)) {
                Some(header) => {
                    header.required |= required;
                    for alias in names {
                        if !header.aliases.iter().any(|known| same_header(known, &alias)) {
                            header.aliases.push(alias);
                        }
                    }
                }
                None => expected.push(ExpectedHeader {
                    name,
                    aliases: names.collect(),
                    required,
                }),
            }
        };

        for (column, &required) in self.config.columns.iter().zip(&self.required) {
            match &column.source {
                Source::Header(_) => add(column.source_headers(), required),
                Source::Computed { headers, .. } => {
                    for header in headers {
                        add(vec![header.clone()], required);
                    }
                }
            }
        }
        for header in &self.config.extra_headers {
            add(vec![header.clone()], false);
        }
        expected
    }

    /// Checks the file's header row, and logs a warning through `host` for each optional
    /// header the file lacks.
    pub(crate) fn check_headers(&self, headers: &[String], host: &dyn Host) -> Result<(), String> {
        let (error, warnings) = check_header_row(&self.expected_headers(), headers, self.config.strict_headers);
        for warning in warnings {
            host.log(LogLevel::Warn, &warning);
        }
        error.map_or(Ok(()), Err)
    }

    /// Maps a chunk of rows to records, skips and failures.
    pub(crate) fn process(&self, chunk: &Chunk, host: &dyn Host) -> Result<ChunkResult, String> {
        mapping::process_chunk(self, chunk, host)
    }
}

/// The maximum length of a slug the host registers.
const MAX_SLUG_LENGTH: usize = 100;

/// The maximum length of a table or column name the host accepts, PostgreSQL's limit.
const MAX_IDENTIFIER_LENGTH: usize = 63;

/// The largest chunk the host accepts.
pub const MAX_CHUNK_SIZE: u32 = 50_000;

fn find_problems(config: &IngestConfig) -> Vec<String> {
    let mut problems = Vec::new();
    let valid_slug = !config.slug.is_empty()
        && config.slug.len() <= MAX_SLUG_LENGTH
        && config
            .slug
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !valid_slug {
        problems.push(format!(
            "The slug {:?} must be 1 to {MAX_SLUG_LENGTH} characters of lower-case letters, digits and '-'.",
            config.slug
        ));
    }
    if config.name.as_deref().is_some_and(|name| name.trim().is_empty()) {
        problems.push("The name must not be blank.".to_owned());
    }
    if config
        .version
        .as_deref()
        .is_some_and(|version| version.trim().is_empty())
    {
        problems.push("The version must not be blank.".to_owned());
    }
    if config.target.is_empty() {
        problems.push("The target table is missing. Set it with `.target(\"table\")`.".to_owned());
    } else if !is_identifier(&config.target) {
        problems.push(format!(
            "The target table {:?} is not a valid SQL identifier.",
            config.target
        ));
    }
    if config.chunk_size == 0 || config.chunk_size > MAX_CHUNK_SIZE {
        problems.push(format!(
            "The chunk size {} is outside 1 to {MAX_CHUNK_SIZE} rows.",
            config.chunk_size
        ));
    }
    if matches!(config.source, SourceKind::Filesystem | SourceKind::Url) && config.location.is_none() {
        problems.push(
            "A filesystem or URL source needs a location. Set it with `.from_file(path)` or `.from_url(url)`.".to_owned(),
        );
    }

    if config.columns.is_empty() {
        problems.push("The importer declares no columns.".to_owned());
    }
    for (index, column) in config.columns.iter().enumerate() {
        if !is_identifier(&column.name) {
            problems.push(format!(
                "The column name {:?} is not a valid SQL identifier.",
                column.name
            ));
        } else if column.name.eq_ignore_ascii_case("id") {
            problems.push(
                "The column name \"id\" is reserved for the id column the host gives every target table.".to_owned(),
            );
        }
        let repeated = config.columns[..index]
            .iter()
            .any(|other| other.name.eq_ignore_ascii_case(&column.name));
        if repeated {
            problems.push(format!("The column {:?} is declared more than once.", column.name));
        }
        if let Some(relation) = &column.relation {
            problems.extend(relation_problems(column, relation));
        }
        if let Source::Header(names) = &column.source
            && names.iter().any(|name| name.trim().is_empty())
        {
            problems.push(format!("The column {:?} reads from a blank header name.", column.name));
        }
        for step in &column.steps {
            let checked = match step {
                Step::Transform(transform) => transform.check_config(),
                Step::Validate(validator) => validator.check_config(),
            };
            if let Err(problem) = checked {
                problems.push(format!("The column {:?}: {problem}", column.name));
            }
        }
    }

    if config.keyed_by.is_empty() {
        problems.push(
            "The importer declares no key columns, which the host needs to find duplicates. Set them with `.keyed_by(...)`."
                .to_owned(),
        );
    }
    let declared = |name: &String| config.columns.iter().any(|column| &column.name == name);
    for key in config.keyed_by.iter().filter(|key| !declared(key)) {
        problems.push(format!("The key column {key:?} is not a declared column."));
    }
    if config.duplicates == DuplicateStrategy::UpdateIfNewer && config.newer_by.is_empty() {
        problems.push(
            "The update-if-newer strategy needs timestamp columns. Set them with `.update_if_newer([...])`.".to_owned(),
        );
    }
    for column in config.newer_by.iter().filter(|column| !declared(column)) {
        problems.push(format!("The timestamp column {column:?} is not a declared column."));
    }
    problems
}

fn relation_problems(column: &Column, relation: &Relation) -> Vec<String> {
    let mut problems = Vec::new();
    match &relation.separator {
        None if column.column_type != ColumnType::Integer => problems.push(format!(
            "The column {:?} relates to another table, so it must be an integer column for the related id.",
            column.name
        )),
        Some(_) if column.column_type != ColumnType::Text => problems.push(format!(
            "The column {:?} relates to many rows of another table, so it must be a text column for the JSON array of ids.",
            column.name
        )),
        Some(separator) if separator.is_empty() => problems.push(format!(
            "The column {:?} relates to many rows, so its separator must not be empty.",
            column.name
        )),
        _ => {}
    }
    for name in [&relation.table, &relation.column] {
        if !is_identifier(name) {
            problems.push(format!(
                "The column {:?} relates to {}.{}, but {name:?} is not a valid SQL identifier.",
                column.name, relation.table, relation.column
            ));
        }
    }
    problems
}

/// Returns whether `name` is a plain SQL identifier of at most 63 bytes: ASCII letters,
/// digits and `_`, not starting with a digit.
fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let starts_well = bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_');
    starts_well && name.len() <= MAX_IDENTIFIER_LENGTH && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ingest::importer::types::SourceKind;
    use crate::config::Relation;

    fn airlines() -> IngestConfig {
        IngestConfig::new("airline-importer")
            .target("airlines")
            .keyed_by("carrier")
            .column(Column::text("carrier").required())
            .column(Column::text("name").from(["name", "Airline"]))
    }

    #[test]
    fn description_has_defaults() {
        let description = airlines().default_version("1.2.3").build().unwrap().description();
        assert_eq!(description.slug, "airline-importer");
        assert_eq!(description.name, "airline-importer");
        assert_eq!(description.version, "1.2.3");
        assert_eq!(description.sdk_version, SDK_VERSION);
        assert_eq!(description.source, SourceKind::Upload);
        assert_eq!(description.target, "airlines");
        assert_eq!(description.keyed_by, ["carrier"]);
        assert_eq!(description.duplicates, DuplicateStrategy::Skip);
        assert_eq!(description.chunk_size, 1000);
        assert!(!description.atomic_chunks);
        assert!(!description.strict_headers);
        assert!(description.capabilities.is_empty());
    }

    #[test]
    fn description_lists_columns_and_headers() {
        let description = airlines().build().unwrap().description();
        let columns: Vec<(&str, ColumnType, bool)> = description
            .columns
            .iter()
            .map(|column| (column.name.as_str(), column.type_, column.nullable))
            .collect();
        assert_eq!(
            columns,
            [("carrier", ColumnType::Text, false), ("name", ColumnType::Text, true)]
        );

        let headers: Vec<(&str, Vec<String>, bool)> = description
            .headers
            .iter()
            .map(|header| (header.name.as_str(), header.aliases.clone(), header.required))
            .collect();
        assert_eq!(
            headers,
            [("carrier", vec![], true), ("name", vec!["Airline".to_owned()], false)]
        );
    }

    #[test]
    fn explicit_version_wins_over_default() {
        let description = airlines()
            .version("2.0.0")
            .default_version("1.2.3")
            .build()
            .unwrap()
            .description();
        assert_eq!(description.version, "2.0.0");
    }

    #[test]
    fn key_columns_are_required() {
        let pipeline = IngestConfig::new("keyed")
            .target("things")
            .keyed_by(["a", "b"])
            .column(Column::text("a"))
            .column(Column::integer("b"))
            .build()
            .unwrap();
        assert!(pipeline.description().columns.iter().all(|column| !column.nullable));
        assert!(pipeline.description().headers.iter().all(|header| header.required));
    }

    #[test]
    fn shared_headers_merge() {
        let pipeline = IngestConfig::new("species")
            .target("penguins")
            .keyed_by("species")
            .column(Column::text("species").from("Species").required())
            .column(Column::text("latin_name").compute(["species"], |row| Ok(row.get("Species").into())))
            .expect_header("Comments")
            .build()
            .unwrap();
        let headers = pipeline.expected_headers();
        assert_eq!(headers.len(), 2);
        assert_eq!(headers[0].name, "Species");
        assert!(headers[0].required);
        assert_eq!(headers[1].name, "Comments");
        assert!(!headers[1].required);
    }

    #[test]
    fn relations_ask_for_the_capability() {
        let description = IngestConfig::new("flight-importer")
            .target("flights")
            .keyed_by("carrier_id")
            .column(
                Column::integer("carrier_id")
                    .from("carrier")
                    .relate(Relation::new("airlines", "carrier")),
            )
            .build()
            .unwrap()
            .description();
        assert_eq!(description.capabilities, ["relate"]);
    }

    #[test]
    fn invalid_descriptions_list_every_problem() {
        let error = IngestConfig::new("Bad Slug")
            .target("my table")
            .chunk_size(0)
            .keyed_by("id")
            .update_if_newer("updated_at")
            .column(Column::text("name"))
            .column(Column::text("NAME"))
            .column(Column::text("owner").relate(Relation::new("users", "email")))
            .build()
            .err()
            .expect("the description breaks several rules");
        let problems = error.problems();
        assert_eq!(problems.len(), 7, "{problems:#?}");
        assert!(problems[0].starts_with("The slug \"Bad Slug\""));
        assert!(problems[1].contains("\"my table\" is not a valid SQL identifier"));
        assert!(problems[2].contains("chunk size"));
        assert!(problems[3].contains("\"NAME\" is declared more than once"));
        assert!(problems[4].contains("\"owner\" relates to another table"));
        assert!(problems[5].contains("key column \"id\""));
        assert!(problems[6].contains("timestamp column \"updated_at\""));
        assert!(
            error
                .to_string()
                .starts_with("The description of importer \"Bad Slug\" is invalid: The slug")
        );
    }

    #[test]
    fn host_rules_are_checked_before_deployment() {
        let error = IngestConfig::new("snake_case")
            .target("things")
            .keyed_by("code")
            .chunk_size(MAX_CHUNK_SIZE + 1)
            .source(SourceKind::Filesystem)
            .column(Column::text("code"))
            .column(Column::integer("ID"))
            .column(Column::text("a".repeat(64)))
            .build()
            .err()
            .expect("the description breaks host rules");
        let problems = error.problems();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].contains("\"snake_case\" must be 1 to 100 characters"));
        assert!(problems[1].contains("chunk size 50001"));
        assert!(problems[2].contains("needs a location"));
        assert!(problems[3].contains("\"id\" is reserved"));
        assert!(problems[4].contains("is not a valid SQL identifier"));
    }

    #[test]
    fn relations_and_steps_are_checked() {
        use crate::transform::date;
        use crate::validate::regex;

        let error = IngestConfig::new("tags")
            .target("posts")
            .keyed_by("title")
            .column(Column::text("title").validate(regex("(")))
            .column(Column::integer("tag_ids").relate_many(Relation::new("tags", "name"), ","))
            .column(Column::text("author_ids").relate_many(Relation::new("users", "e-mail"), ""))
            .column(Column::date("published").transform(date(["%d.%Q"])))
            .build()
            .err()
            .expect("the description breaks several rules");
        let problems = error.problems();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].starts_with("The column \"title\": The regular expression \"(\" is invalid"));
        assert!(problems[1].contains("\"tag_ids\" relates to many rows of another table, so it must be a text column"));
        assert!(problems[2].contains("separator must not be empty"));
        assert!(problems[3].contains("\"e-mail\" is not a valid SQL identifier"));
        assert!(problems[4].starts_with("The column \"published\": The date format \"%d.%Q\""));
    }

    #[test]
    fn missing_target_and_columns_are_reported() {
        let error = IngestConfig::new("empty").build().err().unwrap();
        assert_eq!(error.problems().len(), 3);
        assert!(error.problems()[0].contains("target table is missing"));
        assert!(error.problems()[1].contains("no columns"));
        assert!(error.problems()[2].contains("no key columns"));
    }
}
