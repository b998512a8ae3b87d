//! The fluent builder that describes an importer: [`IngestConfig`] for the importer and its
//! main target table, [`Target`] for further target tables, [`Column`] for each target
//! column.

use crate::bindings::ingest::importer::types::{ColumnType, DuplicateStrategy, FormatOptions, SourceKind};
use crate::pipeline::{ConfigError, Pipeline};
use crate::row::{Record, Row, RowError};
use crate::target::Target;
use crate::transform::{Transform, TransformFn};
use crate::validate::{Validator, ValidatorFn};
use crate::value::Value;

/// Rows per chunk when the importer does not set a chunk size.
pub const DEFAULT_CHUNK_SIZE: u32 = 1000;

pub(crate) type ComputeFn = dyn for<'a, 'r> Fn(&'r Row<'a>) -> Result<Value<'a>, String> + Send + Sync;
pub(crate) type ConditionFn = dyn for<'a, 'r> Fn(&'r Row<'a>) -> bool + Send + Sync;
pub(crate) type BeforeRowFn = dyn for<'a, 'r> Fn(&'r Row<'a>) -> Result<(), RowError> + Send + Sync;
pub(crate) type RecordHookFn =
    dyn for<'a, 'r, 'h> Fn(&'h Row<'a>, &'h mut Record<'r, 'a>) -> Result<(), RowError> + Send + Sync;
pub(crate) type RouteFn = dyn for<'a, 'r> Fn(&'r Row<'a>) -> &'a str + Send + Sync;

/// One name or several, for arguments such as header aliases and key columns:
/// `"carrier"`, `["species", "sample_number"]` or a `Vec<String>`.
pub trait IntoNames {
    fn into_names(self) -> Vec<String>;
}

impl IntoNames for &str {
    fn into_names(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoNames for String {
    fn into_names(self) -> Vec<String> {
        vec![self]
    }
}

impl<const N: usize> IntoNames for [&str; N] {
    fn into_names(self) -> Vec<String> {
        self.iter().map(|name| name.to_string()).collect()
    }
}

impl IntoNames for &[&str] {
    fn into_names(self) -> Vec<String> {
        self.iter().map(|name| name.to_string()).collect()
    }
}

impl IntoNames for Vec<&str> {
    fn into_names(self) -> Vec<String> {
        self.into_iter().map(str::to_owned).collect()
    }
}

impl IntoNames for Vec<String> {
    fn into_names(self) -> Vec<String> {
        self
    }
}

/// Describes an importer: where its rows come from, the tables they go to, and how each
/// row becomes a record. Mirrors the `IngestConfig` of Laravel Ingest.
///
/// The target methods ([`IngestConfig::target`], [`IngestConfig::column`],
/// [`IngestConfig::keyed_by`], [`IngestConfig::on_duplicate`] and
/// [`IngestConfig::update_if_newer`]) describe the main target. An importer that writes
/// several tables adds a [`Target`] for each further table and picks each row's table
/// with [`IngestConfig::route`].
///
/// ```
/// use ingest_importer_sdk::{Column, DuplicateStrategy, IngestConfig, validate::between};
///
/// let config = IngestConfig::new("airport-importer")
///     .target("airports")
///     .keyed_by("iata")
///     .on_duplicate(DuplicateStrategy::Update)
///     .null_markers(["NA"])
///     .column(Column::text("iata").required())
///     .column(Column::float("latitude").validate(between(-90.0, 90.0)));
/// assert!(config.build().is_ok());
/// ```
pub struct IngestConfig {
    pub(crate) slug: String,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) source: SourceKind,
    pub(crate) location: Option<String>,
    pub(crate) format: FormatOptions,
    /// The main target first, then the targets of [`IngestConfig::add_target`].
    pub(crate) targets: Vec<Target>,
    pub(crate) router: Option<Box<RouteFn>>,
    pub(crate) chunk_size: u32,
    pub(crate) atomic_chunks: bool,
    pub(crate) strict_headers: bool,
    pub(crate) null_markers: Vec<String>,
    pub(crate) extra_headers: Vec<String>,
    pub(crate) before_row: Vec<Box<BeforeRowFn>>,
    pub(crate) record_hooks: Vec<Box<RecordHookFn>>,
}

impl IngestConfig {
    /// Starts the description of the importer registered under `slug`, which is also its
    /// name in the API (`POST /upload/{slug}`).
    ///
    /// The name defaults to the slug, and the version to the importer crate's version,
    /// which [`export_importer!`](crate::export_importer) passes. Rows come from an upload,
    /// duplicates are skipped, and chunks of 1000 rows are not atomic. Headers are not
    /// strict, and only empty cells are null.
    pub fn new(slug: impl Into<String>) -> Self {
        Self {
            slug: slug.into(),
            name: None,
            version: None,
            source: SourceKind::Upload,
            location: None,
            format: FormatOptions { delimiter: None, encoding: None, sheet: None, header_row: None },
            targets: vec![Target::new("")],
            router: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            atomic_chunks: false,
            strict_headers: false,
            null_markers: Vec::new(),
            extra_headers: Vec::new(),
            before_row: Vec::new(),
            record_hooks: Vec::new(),
        }
    }

    /// Sets the human-readable name shown in `GET /importers`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the version shown in `GET /importers`, in place of the crate's version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sets the version unless [`IngestConfig::version`] already did. The export macro
    /// passes the importer crate's version here.
    pub fn default_version(mut self, version: impl Into<String>) -> Self {
        self.version.get_or_insert_with(|| version.into());
        self
    }

    /// Sets where rows come from. The default is [`SourceKind::Upload`].
    pub fn source(mut self, source: SourceKind) -> Self {
        self.source = source;
        self
    }

    /// Reads rows from a file in one of the operator's import directories, by a path
    /// relative to it; runs start with `POST /trigger/{slug}`.
    pub fn from_file(mut self, path: impl Into<String>) -> Self {
        self.source = SourceKind::Filesystem;
        self.location = Some(path.into());
        self
    }

    /// Reads rows from a file fetched over HTTP; runs start with `POST /trigger/{slug}`.
    pub fn from_url(mut self, url: impl Into<String>) -> Self {
        self.source = SourceKind::Url;
        self.location = Some(url.into());
        self
    }

    /// Sets the CSV field delimiter instead of detecting it.
    pub fn delimiter(mut self, delimiter: char) -> Self {
        self.format.delimiter = Some(delimiter.to_string());
        self
    }

    /// Sets the CSV text encoding, a WHATWG label such as `windows-1252`, instead of
    /// detecting it.
    pub fn encoding(mut self, label: impl Into<String>) -> Self {
        self.format.encoding = Some(label.into());
        self
    }

    /// Reads this XLSX worksheet (by name) instead of the first visible one.
    pub fn sheet(mut self, name: impl Into<String>) -> Self {
        self.format.sheet = Some(name.into());
        self
    }

    /// Reads the XLSX header from this 1-based sheet row instead of the first non-empty one.
    pub fn header_row(mut self, row: u32) -> Self {
        self.format.header_row = Some(row);
        self
    }

    /// Sets the main target: the table that records are written to, unless
    /// [`IngestConfig::route`] sends a row to another target.
    pub fn target(mut self, table: impl Into<String>) -> Self {
        self.main_target().table = table.into();
        self
    }

    /// Adds a column to the main target. Records contain the columns in the order they
    /// are added.
    pub fn column(mut self, column: Column) -> Self {
        self.main_target().columns.push(column);
        self
    }

    /// Sets the key columns that identify a row of the main target, one name or several
    /// for a composite key. Key columns are required.
    pub fn keyed_by(mut self, columns: impl IntoNames) -> Self {
        self.main_target().keyed_by = columns.into_names();
        self
    }

    /// Sets what the host does with a record of the main target whose key already
    /// exists. The default is [`DuplicateStrategy::Skip`]. Use
    /// [`IngestConfig::update_if_newer`] for [`DuplicateStrategy::UpdateIfNewer`], which
    /// needs its timestamp columns.
    pub fn on_duplicate(mut self, strategy: DuplicateStrategy) -> Self {
        self.main_target().duplicates = strategy;
        self
    }

    /// Overwrites an existing row of the main target only when the record's `columns`
    /// are later than the row's.
    pub fn update_if_newer(mut self, columns: impl IntoNames) -> Self {
        let target = self.main_target();
        target.duplicates = DuplicateStrategy::UpdateIfNewer;
        target.newer_by = columns.into_names();
        self
    }

    /// Adds a further target table, with its own columns, key and duplicate strategy.
    /// [`IngestConfig::route`] decides which rows go to it.
    pub fn add_target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// Picks the target of each row by its table name, as Laravel Ingest's
    /// `resolveModelUsing` picks a model. The router runs after the before-row hooks, and
    /// only the columns of the chosen target are mapped and validated for the row. A row
    /// routed to a table that is not one of the importer's targets fails.
    ///
    /// Without a router every row goes to the main target, so an importer with several
    /// targets needs one.
    ///
    /// ```
    /// use ingest_importer_sdk::{Column, IngestConfig, Target};
    ///
    /// let config = IngestConfig::new("contacts")
    ///     .target("people")
    ///     .keyed_by("email")
    ///     .column(Column::text("email"))
    ///     .add_target(Target::new("companies").keyed_by("vat_id").column(Column::text("vat_id")))
    ///     .route(|row| match row.text("type") {
    ///         Some("company") => "companies",
    ///         _ => "people",
    ///     });
    /// assert!(config.build().is_ok());
    /// ```
    pub fn route<F>(mut self, router: F) -> Self
    where
        F: for<'a, 'r> Fn(&'r Row<'a>) -> &'a str + Send + Sync + 'static,
    {
        self.router = Some(Box::new(router));
        self
    }

    fn main_target(&mut self) -> &mut Target {
        &mut self.targets[0]
    }

    /// Sets the number of rows the host sends in one `process` call.
    pub fn chunk_size(mut self, rows: u32) -> Self {
        self.chunk_size = rows;
        self
    }

    /// Makes each chunk all-or-nothing: one failed row fails the chunk, and none of its
    /// records are written.
    pub fn atomic(mut self) -> Self {
        self.atomic_chunks = true;
        self
    }

    /// Makes the run fail when the file has a header that no column reads.
    pub fn strict_headers(mut self) -> Self {
        self.strict_headers = true;
        self
    }

    /// Treats text cells equal to one of `markers` (after trimming, case-sensitive), such
    /// as `NA`, as empty in every column.
    pub fn null_markers(mut self, markers: impl IntoNames) -> Self {
        self.null_markers = markers.into_names();
        self
    }

    /// Declares a header that hooks read but no column maps, so that strict headers accept
    /// it. The header is optional.
    pub fn expect_header(mut self, header: impl Into<String>) -> Self {
        self.extra_headers.push(header.into());
        self
    }

    /// Adds a hook that runs before the row's columns are mapped. Returning a
    /// [`RowError`] skips or fails the row.
    pub fn before_row<F>(mut self, hook: F) -> Self
    where
        F: for<'a, 'r> Fn(&'r Row<'a>) -> Result<(), RowError> + Send + Sync + 'static,
    {
        self.before_row.push(Box::new(hook));
        self
    }

    /// Adds a hook that runs once the row's columns are mapped, validated, related and
    /// converted, and only when all of that succeeded. It can read and set values, add
    /// validation errors, or return a [`RowError`] to skip or fail the row. Values it sets
    /// are converted to their column's type afterwards. A relation that creates missing
    /// rows has already run, so a row the hook fails may leave such a row behind.
    pub fn on_record<F>(mut self, hook: F) -> Self
    where
        F: for<'a, 'r, 'h> Fn(&'h Row<'a>, &'h mut Record<'r, 'a>) -> Result<(), RowError> + Send + Sync + 'static,
    {
        self.record_hooks.push(Box::new(hook));
        self
    }

    /// Checks the description and returns the pipeline that runs it.
    pub fn build(self) -> Result<Pipeline, ConfigError> {
        Pipeline::new(self)
    }
}

/// The source of a column's value.
pub(crate) enum Source {
    /// The cell under the first of these headers that the file has, or under the
    /// column's own name when the list is empty.
    Header(Vec<String>),
    /// A value computed from the whole row, which reads the listed headers.
    Computed {
        headers: Vec<String>,
        compute: Box<ComputeFn>,
    },
}

/// A step of a column's pipeline.
pub(crate) enum Step {
    Transform(Box<dyn Transform>),
    Validate(Box<dyn Validator>),
}

/// A lookup of the id of a row of another table, done by the host in one batch per chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub(crate) table: String,
    pub(crate) column: String,
    pub(crate) create_missing: bool,
    /// For [`Column::relate_many`]: the text between the values of one cell.
    pub(crate) separator: Option<String>,
}

impl Relation {
    /// Looks the value up in `column` of `table`. A value that matches no row fails the
    /// record's row with "The selected … is invalid."
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            column: column.into(),
            create_missing: false,
            separator: None,
        }
    }

    /// Makes the host insert a row holding only the looked-up column for a value that
    /// matches none, and use its id.
    pub fn create_missing(mut self) -> Self {
        self.create_missing = true;
        self
    }
}

/// A typed target column and the steps that produce its value from a row.
///
/// The value is read from the column's source header (by default the header named like
/// the column), then passes through the steps in the order they were added: transforms
/// change it, validators reject it. At the end it is converted to the column's type. A
/// value that does not convert fails the row with a validation error on the column.
pub struct Column {
    pub(crate) name: String,
    pub(crate) column_type: ColumnType,
    pub(crate) source: Source,
    pub(crate) condition: Option<Box<ConditionFn>>,
    pub(crate) steps: Vec<Step>,
    pub(crate) required: bool,
    pub(crate) relation: Option<Relation>,
}

impl Column {
    pub fn new(name: impl Into<String>, column_type: ColumnType) -> Self {
        Self {
            name: name.into(),
            column_type,
            source: Source::Header(Vec::new()),
            condition: None,
            steps: Vec::new(),
            required: false,
            relation: None,
        }
    }

    pub fn text(name: impl Into<String>) -> Self {
        Self::new(name, ColumnType::Text)
    }

    pub fn integer(name: impl Into<String>) -> Self {
        Self::new(name, ColumnType::Integer)
    }

    pub fn float(name: impl Into<String>) -> Self {
        Self::new(name, ColumnType::Float)
    }

    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, ColumnType::Boolean)
    }

    pub fn date(name: impl Into<String>) -> Self {
        Self::new(name, ColumnType::Date)
    }

    pub fn date_time(name: impl Into<String>) -> Self {
        Self::new(name, ColumnType::DateTime)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn column_type(&self) -> ColumnType {
        self.column_type
    }

    /// Reads the column from the header `headers`, or from several aliases:
    /// `.from(["email", "E-Mail"])`. In each row, the first alias whose cell is not empty
    /// wins, so rows of a JSON file may spell the field either way. A nested JSON field is
    /// read by its dotted path, `.from("address.city")`, because the server flattens
    /// nested objects into such headers.
    pub fn from(mut self, headers: impl IntoNames) -> Self {
        self.source = Source::Header(headers.into_names());
        self
    }

    /// Computes the column's value from the whole row instead of one header. `headers`
    /// names the headers the closure reads, so that the header check expects them.
    pub fn compute<F>(mut self, headers: impl IntoNames, compute: F) -> Self
    where
        F: for<'a, 'r> Fn(&'r Row<'a>) -> Result<Value<'a>, String> + Send + Sync + 'static,
    {
        self.source = Source::Computed {
            headers: headers.into_names(),
            compute: Box::new(compute),
        };
        self
    }

    /// Maps the column only for rows where `condition` is true. Other rows get null.
    pub fn when<F>(mut self, condition: F) -> Self
    where
        F: for<'a, 'r> Fn(&'r Row<'a>) -> bool + Send + Sync + 'static,
    {
        self.condition = Some(Box::new(condition));
        self
    }

    /// Adds a transform, such as [`transform::lowercase`](crate::transform::lowercase), to
    /// the column's steps.
    pub fn transform(mut self, transform: impl Transform + 'static) -> Self {
        self.steps.push(Step::Transform(Box::new(transform)));
        self
    }

    /// Adds a closure that changes the value to the column's steps. It also receives the
    /// row. An error message fails the row with a validation error on the column.
    pub fn transform_with<F>(self, transform: F) -> Self
    where
        F: for<'a, 'r> Fn(Value<'a>, &'r Row<'a>) -> Result<Value<'a>, String> + Send + Sync + 'static,
    {
        self.transform(TransformFn(transform))
    }

    /// Adds a validator, such as [`validate::between`](crate::validate::between), to the
    /// column's steps.
    pub fn validate(mut self, validator: impl Validator + 'static) -> Self {
        self.steps.push(Step::Validate(Box::new(validator)));
        self
    }

    /// Adds a closure that accepts or rejects the value to the column's steps.
    pub fn validate_with<F>(self, validator: F) -> Self
    where
        F: Fn(&Value<'_>, &Row<'_>) -> Result<(), String> + Send + Sync + 'static,
    {
        self.validate(ValidatorFn(validator))
    }

    /// Requires the column's header in the file and a value in every row: an empty cell
    /// fails the row with "The … field is required." The column is not nullable.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Replaces the value with the id of the row of another table that it names. The
    /// column must be an integer column.
    pub fn relate(mut self, relation: Relation) -> Self {
        self.relation = Some(relation);
        self
    }

    /// Splits the value at `separator` and replaces it with the ids of the rows of another
    /// table that the parts name, as a JSON array in a text column: `"red, blue"` with the
    /// separator `","` becomes `[3,7]`.
    ///
    /// Parts are trimmed, and empty and repeated parts are dropped, so the array keeps
    /// the order in which the cell first names each row. A cell without parts is null. One
    /// unknown part fails the row, unless the relation creates missing rows. All rows of a
    /// chunk share one host call per relation, as with [`Column::relate`]. The column
    /// must be a text column.
    pub fn relate_many(mut self, relation: Relation, separator: impl Into<String>) -> Self {
        self.relation = Some(Relation {
            separator: Some(separator.into()),
            ..relation
        });
        self
    }

    /// Joins the trimmed values under several headers with `separator`, leaving out empty
    /// ones, in place of reading one header: `Column::text("name").concat(["First Name", "Last
    /// Name"], " ")`. A row where all of them are empty gets null. The headers are
    /// optional in the file unless the column is required.
    pub fn concat(self, headers: impl IntoNames, separator: impl Into<String>) -> Self {
        let headers = headers.into_names();
        let separator = separator.into();
        let sources = headers.clone();
        self.compute(headers, move |row| {
            let parts: Vec<String> = sources
                .iter()
                .filter_map(|header| row.get(header).to_value().to_text().map(|text| text.trim().to_owned()))
                .filter(|part| !part.is_empty())
                .collect();
            Ok(if parts.is_empty() { Value::Null } else { Value::text(parts.join(&separator)) })
        })
    }

    /// Returns the column's name as validation messages spell it: `date_egg` becomes
    /// `date egg`.
    pub(crate) fn label(&self) -> String {
        self.name.replace('_', " ")
    }

    /// Returns the headers the column reads, the preferred one first.
    pub(crate) fn source_headers(&self) -> Vec<String> {
        match &self.source {
            Source::Header(names) if names.is_empty() => vec![self.name.clone()],
            Source::Header(names) => names.clone(),
            Source::Computed { headers, .. } => headers.clone(),
        }
    }
}
