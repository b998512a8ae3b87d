//! The rules an [`IngestConfig`] must follow before it becomes a pipeline: the host's
//! rules, checked in the importer's own tests so that a component the host would reject
//! is never deployed.

use crate::bindings::ingest::importer::types::{ColumnType, DuplicateStrategy, SourceKind};
use crate::config::{Column, IngestConfig, Relation, Source, Step};
use crate::target::Target;

/// The maximum length of a slug the host registers.
const MAX_SLUG_LENGTH: usize = 100;

/// The maximum length of a table or column name the host accepts, PostgreSQL's limit.
const MAX_IDENTIFIER_LENGTH: usize = 63;

/// The largest chunk the host accepts.
pub const MAX_CHUNK_SIZE: u32 = 50_000;

/// The maximum number of target tables an importer may declare, the host's limit. The
/// host checks and prepares every target when a run starts.
pub const MAX_TARGETS: usize = 32;

/// Returns every rule that `config` breaks, as one sentence each.
pub(crate) fn find_problems(config: &IngestConfig) -> Vec<String> {
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
    let main = &config.targets[0];
    if main.table.is_empty() {
        problems.push("The target table is missing. Set it with `.target(\"table\")`.".to_owned());
    } else if !is_identifier(&main.table) {
        problems.push(format!("The target table {:?} is not a valid SQL identifier.", main.table));
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

    problems.extend(target_problems(main, None));
    for target in &config.targets[1..] {
        if !is_identifier(&target.table) {
            problems.push(format!("The target table {:?} is not a valid SQL identifier.", target.table));
        }
        problems.extend(target_problems(target, Some(&target.table)));
    }
    problems.extend(routing_problems(config));
    problems
}

/// Returns the problems of the several-targets setup: names that repeat, too many
/// targets, and targets that no router can reach.
fn routing_problems(config: &IngestConfig) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, target) in config.targets.iter().enumerate().skip(1) {
        let repeated = config.targets[..index]
            .iter()
            .any(|other| other.table.eq_ignore_ascii_case(&target.table));
        if repeated {
            problems.push(format!(
                "The target table {:?} is declared more than once; declare each table once.",
                target.table
            ));
        }
    }
    if config.targets.len() > MAX_TARGETS {
        problems.push(format!(
            "The importer declares {} target tables, more than the {MAX_TARGETS} the host accepts.",
            config.targets.len()
        ));
    }
    if config.targets.len() > 1 && config.router.is_none() {
        problems.push(
            "The importer declares several target tables but no router, so every row would go to the first. \
             Pick each row's table with `.route(|row| ...)`."
                .to_owned(),
        );
    }
    problems
}

/// Returns the problems of one target's columns and key. `table` is `None` for the main
/// target, whose messages keep to the words of a single-target importer, and names the
/// table of a target added with `.add_target(...)`.
fn target_problems(target: &Target, table: Option<&str>) -> Vec<String> {
    let of = table.map_or_else(String::new, |table| format!(" of the target {table:?}"));
    let subject = table.map_or_else(|| "The importer".to_owned(), |table| format!("The target {table:?}"));
    let mut problems = Vec::new();

    if target.columns.is_empty() {
        problems.push(format!("{subject} declares no columns."));
    }
    for (index, column) in target.columns.iter().enumerate() {
        if !is_identifier(&column.name) {
            problems.push(format!(
                "The column name {:?}{of} is not a valid SQL identifier.",
                column.name
            ));
        } else if column.name.eq_ignore_ascii_case("id") {
            problems.push(format!(
                "The column name \"id\"{of} is reserved for the id column the host gives every target table."
            ));
        }
        let repeated = target.columns[..index]
            .iter()
            .any(|other| other.name.eq_ignore_ascii_case(&column.name));
        if repeated {
            problems.push(format!("The column {:?}{of} is declared more than once.", column.name));
        }
        if let Some(relation) = &column.relation {
            problems.extend(relation_problems(column, relation, &of));
        }
        if let Source::Header(names) = &column.source
            && names.iter().any(|name| name.trim().is_empty())
        {
            problems.push(format!("The column {:?}{of} reads from a blank header name.", column.name));
        }
        for step in &column.steps {
            let checked = match step {
                Step::Transform(transform) => transform.check_config(),
                Step::Validate(validator) => validator.check_config(),
            };
            if let Err(problem) = checked {
                problems.push(format!("The column {:?}{of}: {problem}", column.name));
            }
        }
    }

    if target.keyed_by.is_empty() {
        problems.push(format!(
            "{subject} declares no key columns, which the host needs to find duplicates. Set them with `.keyed_by(...)`."
        ));
    }
    let declared = |name: &String| target.columns.iter().any(|column| &column.name == name);
    for key in target.keyed_by.iter().filter(|key| !declared(key)) {
        problems.push(format!("The key column {key:?}{of} is not a declared column."));
    }
    if target.duplicates == DuplicateStrategy::UpdateIfNewer && target.newer_by.is_empty() {
        problems.push(format!(
            "The update-if-newer strategy{of} needs timestamp columns. Set them with `.update_if_newer([...])`."
        ));
    }
    for column in target.newer_by.iter().filter(|column| !declared(column)) {
        problems.push(format!("The timestamp column {column:?}{of} is not a declared column."));
    }
    problems
}

fn relation_problems(column: &Column, relation: &Relation, of: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match &relation.separator {
        None if column.column_type != ColumnType::Integer => problems.push(format!(
            "The column {:?}{of} relates to another table, so it must be an integer column for the related id.",
            column.name
        )),
        Some(_) if column.column_type != ColumnType::Text => problems.push(format!(
            "The column {:?}{of} relates to many rows of another table, so it must be a text column for the JSON array of ids.",
            column.name
        )),
        Some(separator) if separator.is_empty() => problems.push(format!(
            "The column {:?}{of} relates to many rows, so its separator must not be empty.",
            column.name
        )),
        _ => {}
    }
    for name in [&relation.table, &relation.column] {
        if !is_identifier(name) {
            problems.push(format!(
                "The column {:?}{of} relates to {}.{}, but {name:?} is not a valid SQL identifier.",
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

    fn person_target() -> IngestConfig {
        IngestConfig::new("contacts")
            .target("people")
            .keyed_by("email")
            .column(Column::text("email"))
    }

    #[test]
    fn added_targets_are_checked_like_the_main_one() {
        let error = person_target()
            .add_target(
                Target::new("companies")
                    .keyed_by("vat")
                    .update_if_newer("changed_at")
                    .column(Column::text("name"))
                    .column(Column::text("Name")),
            )
            .add_target(Target::new("robots"))
            .add_target(Target::new("bad table").keyed_by("serial").column(Column::text("serial")))
            .route(|_| "people")
            .build()
            .err()
            .expect("the added targets break several rules");
        let problems = error.problems();
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert_eq!(problems[0], "The column \"Name\" of the target \"companies\" is declared more than once.");
        assert_eq!(problems[1], "The key column \"vat\" of the target \"companies\" is not a declared column.");
        assert_eq!(
            problems[2],
            "The timestamp column \"changed_at\" of the target \"companies\" is not a declared column."
        );
        assert_eq!(problems[3], "The target \"robots\" declares no columns.");
        assert!(problems[4].starts_with("The target \"robots\" declares no key columns"));
        assert_eq!(problems[5], "The target table \"bad table\" is not a valid SQL identifier.");
    }

    #[test]
    fn target_tables_must_be_distinct() {
        let error = person_target()
            .add_target(Target::new("People").keyed_by("email").column(Column::text("email")))
            .route(|_| "people")
            .build()
            .err()
            .expect("the table is declared twice");
        assert_eq!(
            error.problems(),
            ["The target table \"People\" is declared more than once; declare each table once."]
        );
    }

    #[test]
    fn several_targets_need_a_router() {
        let error = person_target()
            .add_target(Target::new("companies").keyed_by("vat_id").column(Column::text("vat_id")))
            .build()
            .err()
            .expect("no router picks the second target");
        assert_eq!(error.problems().len(), 1);
        assert!(error.problems()[0].contains("several target tables but no router"));
    }

    #[test]
    fn target_count_is_limited() {
        let mut config = person_target().route(|_| "people");
        for index in 0..MAX_TARGETS {
            let table = format!("table_{index}");
            config = config.add_target(Target::new(table).keyed_by("code").column(Column::text("code")));
        }
        let error = config.build().err().expect("one target too many");
        assert_eq!(
            error.problems(),
            ["The importer declares 33 target tables, more than the 32 the host accepts."]
        );
    }
}
