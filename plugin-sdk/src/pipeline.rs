//! The checked form of an [`IngestConfig`]: what `describe` returns, and what
//! `check-headers` and `process` run.

use std::fmt;

use crate::bindings::ingest::importer::host::LogLevel;
use crate::bindings::ingest::importer::types::{
    Chunk, ChunkResult, Column as ColumnDescription, Description, ExpectedHeader, Target as TargetDescription,
};
use crate::config::{BeforeRowFn, Column, IngestConfig, RecordHookFn, RouteFn, Source};
use crate::headers::{check_header_row, same_header};
use crate::host::Host;
use crate::mapping;
use crate::problems::find_problems;
use crate::target::Target;

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
    /// Per target and column, whether a row must have a value: required columns and key
    /// columns.
    required: Vec<Vec<bool>>,
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
            .targets
            .iter()
            .map(|target| {
                target
                    .columns
                    .iter()
                    .map(|column| column.required || target.keyed_by.contains(&column.name))
                    .collect()
            })
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

    /// Returns the columns of the main target.
    pub fn columns(&self) -> &[Column] {
        &self.config.targets[0].columns
    }

    /// Returns the targets, the main target first.
    pub fn targets(&self) -> &[Target] {
        &self.config.targets
    }

    pub(crate) fn is_required(&self, target: usize, column: usize) -> bool {
        self.required[target][column]
    }

    pub(crate) fn router(&self) -> Option<&RouteFn> {
        self.config.router.as_deref()
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
        let targets = config
            .targets
            .iter()
            .zip(&self.required)
            .map(|(target, required)| TargetDescription {
                table: target.table.clone(),
                columns: target
                    .columns
                    .iter()
                    .zip(required)
                    .map(|(column, &required)| ColumnDescription {
                        name: column.name.clone(),
                        type_: column.column_type,
                        nullable: !required,
                    })
                    .collect(),
                keyed_by: target.keyed_by.clone(),
                duplicates: target.duplicates,
                newer_by: target.newer_by.clone(),
            })
            .collect();
        let relates = self.all_columns().any(|(column, _)| column.relation.is_some());
        Description {
            slug: self.slug.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            sdk_version: SDK_VERSION.to_owned(),
            source: config.source,
            location: config.location.clone(),
            format: config.format.clone(),
            targets,
            chunk_size: config.chunk_size,
            atomic_chunks: config.atomic_chunks,
            strict_headers: config.strict_headers,
            headers: self.expected_headers(),
            capabilities: if relates { vec!["relate".to_owned()] } else { Vec::new() },
        }
    }

    /// Iterates over the columns of every target, with whether each is required.
    fn all_columns(&self) -> impl Iterator<Item = (&Column, bool)> {
        self.config
            .targets
            .iter()
            .zip(&self.required)
            .flat_map(|(target, required)| target.columns.iter().zip(required.iter().copied()))
    }

    /// Lists the headers the columns of every target read, one entry per header name:
    /// columns that read the same header share its entry, which is required when one of
    /// them is. The file has one header row for all targets, so a header that one
    /// target requires is required in every file.
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

        for (column, required) in self.all_columns() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ingest::importer::types::{ColumnType, DuplicateStrategy, SourceKind};
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
        assert_eq!(description.targets.len(), 1);
        assert_eq!(description.targets[0].table, "airlines");
        assert_eq!(description.targets[0].keyed_by, ["carrier"]);
        assert_eq!(description.targets[0].duplicates, DuplicateStrategy::Skip);
        assert_eq!(description.chunk_size, 1000);
        assert!(!description.atomic_chunks);
        assert!(!description.strict_headers);
        assert!(description.capabilities.is_empty());
    }

    #[test]
    fn description_lists_columns_and_headers() {
        let description = airlines().build().unwrap().description();
        let columns: Vec<(&str, ColumnType, bool)> = description.targets[0]
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
        assert!(pipeline.description().targets[0].columns.iter().all(|column| !column.nullable));
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

    fn contacts() -> IngestConfig {
        IngestConfig::new("contacts")
            .target("people")
            .keyed_by("email")
            .column(Column::text("email").from(["email", "E-Mail"]))
            .column(Column::text("name"))
            .add_target(
                Target::new("companies")
                    .keyed_by("vat_id")
                    .on_duplicate(DuplicateStrategy::Update)
                    .column(Column::text("vat_id").from("VAT ID"))
                    .column(Column::text("name").required())
                    .column(Column::integer("owner_id").relate(Relation::new("people", "email"))),
            )
            .route(|row| if row.has_header("VAT ID") { "companies" } else { "people" })
    }

    #[test]
    fn description_lists_every_target() {
        let description = contacts().build().unwrap().description();

        let tables: Vec<&str> = description.targets.iter().map(|target| target.table.as_str()).collect();
        assert_eq!(tables, ["people", "companies"]);
        let companies = &description.targets[1];
        assert_eq!(companies.keyed_by, ["vat_id"]);
        assert_eq!(companies.duplicates, DuplicateStrategy::Update);
        let columns: Vec<(&str, bool)> = companies
            .columns
            .iter()
            .map(|column| (column.name.as_str(), column.nullable))
            .collect();
        assert_eq!(columns, [("vat_id", false), ("name", false), ("owner_id", true)]);
        assert_eq!(description.capabilities, ["relate"], "a relation of any target asks for relate");
    }

    #[test]
    fn headers_of_every_target_are_expected() {
        let headers = contacts().build().unwrap().expected_headers();

        let expected: Vec<(&str, bool)> = headers
            .iter()
            .map(|header| (header.name.as_str(), header.required))
            .collect();
        // `name` is optional for people but required for companies, and one header row
        // serves both.
        assert_eq!(
            expected,
            [("email", true), ("name", true), ("VAT ID", true), ("owner_id", false)]
        );
    }
}
