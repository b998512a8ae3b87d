//! `ingest new`: scaffolds an importer crate that builds to `wasm32-wasip2` and imports
//! its own sample file, for an author to change into their importer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::UsageError;
use super::output::outln;
use crate::store::HOST_TABLES;

const CARGO_TOML: &str = include_str!("templates/Cargo.toml.template");
const LIB_RS: &str = include_str!("templates/lib.rs.template");
const README_MD: &str = include_str!("templates/README.md.template");
const SAMPLE_CSV: &str = include_str!("templates/sample.csv");
const GITIGNORE: &str = include_str!("templates/gitignore.template");

/// The SDK in the source tree this binary was built from, used when `--sdk-path` is not
/// given and that directory still exists.
const BUILT_WITH_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin-sdk");

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The importer's slug and crate name: lower-case letters, digits and dashes,
    /// starting with a letter, such as `product-importer`.
    name: String,
    /// The directory to create, which must not exist or be empty; default: ./NAME.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The directory of the ingest-importer-sdk crate, which the importer depends on by
    /// path; default: the SDK of the source tree this binary was built from.
    #[arg(long, env = "INGEST_SDK_PATH", value_name = "DIR")]
    sdk_path: Option<PathBuf>,
    /// The table the importer writes; default: NAME without `-importer`, with `_` for `-`.
    #[arg(long)]
    table: Option<String>,
}

/// The names one scaffold is made of.
struct Names {
    slug: String,
    type_name: String,
    title: String,
    table: String,
    artifact: String,
}

impl Names {
    fn new(slug: &str, table: Option<&str>) -> Result<Self, UsageError> {
        let valid_slug = slug.len() <= 64
            && slug.starts_with(|character: char| character.is_ascii_lowercase())
            && !slug.ends_with('-')
            && slug.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-');
        if !valid_slug {
            return Err(UsageError(format!(
                "invalid importer name {slug:?}: use lower-case letters, digits and dashes, starting with a letter, \
                 at most 64 characters, such as product-importer"
            )));
        }

        let table = match table {
            Some(table) => table.to_owned(),
            None => match slug.strip_suffix("-importer") {
                Some(stem) if !stem.is_empty() => stem.replace('-', "_"),
                _ => slug.replace('-', "_"),
            },
        };
        let valid_table = table.starts_with(|character: char| character.is_ascii_lowercase() || character == '_')
            && table.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_');
        if !valid_table {
            return Err(UsageError(format!(
                "invalid table name {table:?}: use lower-case letters, digits and underscores, not starting with a digit"
            )));
        }
        if HOST_TABLES.contains(&table.as_str()) {
            return Err(UsageError(format!("table {table} is one of the server's own tables; choose another with --table")));
        }

        let words: Vec<&str> = slug.split('-').filter(|word| !word.is_empty()).collect();
        let mut type_name: String = words.iter().map(|word| capitalize(word)).collect();
        if !type_name.ends_with("Importer") {
            type_name.push_str("Importer");
        }
        Ok(Self {
            slug: slug.to_owned(),
            type_name,
            title: capitalize(&words.join(" ")),
            table,
            artifact: slug.replace('-', "_"),
        })
    }
}

impl Names {
    /// Replaces the `{{...}}` placeholders of a template; `sdk_path_toml` is the SDK's
    /// path as a TOML string, quotes included.
    fn fill(&self, template: &str, sdk_path_toml: &str) -> String {
        template
            .replace("{{name}}", &self.slug)
            .replace("{{type_name}}", &self.type_name)
            .replace("{{title}}", &self.title)
            .replace("{{table}}", &self.table)
            .replace("{{artifact}}", &self.artifact)
            .replace("{{sdk_path}}", sdk_path_toml)
    }
}

fn capitalize(word: &str) -> String {
    let mut characters = word.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// Writes the crate and prints how to build and try it.
pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let names = Names::new(&args.name, args.table.as_deref())?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&names.slug));
    let sdk_path = sdk_path(args.sdk_path)?;
    check_empty(&dir)?;

    // A TOML string, quoted and escaped, so any path is written correctly.
    let sdk_path_toml = toml::Value::String(sdk_path.display().to_string()).to_string();
    let fill = |template: &str| names.fill(template, &sdk_path_toml);
    let files = [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(LIB_RS)),
        ("README.md", fill(README_MD)),
        ("sample.csv", SAMPLE_CSV.to_owned()),
        (".gitignore", GITIGNORE.to_owned()),
    ];
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("cannot create {}", dir.join("src").display()))?;
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }

    outln!("created importer {} in {}", names.slug, dir.display())?;
    outln!("  it writes the table {} and depends on the SDK in {}", names.table, sdk_path.display())?;
    outln!("next:")?;
    outln!("  cd {}", dir.display())?;
    outln!("  cargo build --release --target wasm32-wasip2")?;
    outln!("  mkdir -p plugins && cp target/wasm32-wasip2/release/{}.wasm plugins/", names.artifact)?;
    outln!("  INGEST_PLUGINS_DIR=plugins ingest run {} --file sample.csv", names.slug)?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves the SDK directory to an absolute path, so the crate builds wherever it is
/// moved.
fn sdk_path(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let (path, origin) = match given {
        Some(path) => (path, "--sdk-path"),
        None => (PathBuf::from(BUILT_WITH_SDK), "the source tree this binary was built from"),
    };
    if !path.join("Cargo.toml").is_file() {
        return Err(UsageError(format!(
            "the importer SDK is not at {} ({origin}); pass --sdk-path with the directory of the ingest-importer-sdk crate",
            path.display()
        ))
        .into());
    }
    Ok(path.canonicalize().with_context(|| format!("cannot resolve {}", path.display()))?)
}

fn check_empty(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let empty = dir.is_dir() && std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_none();
    if empty {
        Ok(())
    } else {
        Err(UsageError(format!("{} already exists and is not an empty directory; choose another with --dir", dir.display())).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_slug() {
        let names = Names::new("product-importer", None).unwrap();

        assert_eq!(names.type_name, "ProductImporter");
        assert_eq!(names.table, "product");
        assert_eq!(names.title, "Product importer");
        assert_eq!(names.artifact, "product_importer");
    }

    #[test]
    fn names_without_importer_suffix_get_one() {
        let names = Names::new("stock-prices", None).unwrap();

        assert_eq!(names.type_name, "StockPricesImporter");
        assert_eq!(names.table, "stock_prices");
    }

    #[test]
    fn invalid_names_are_rejected() {
        for slug in ["", "1st-importer", "Product", "product_importer", "product-", "a b"] {
            assert!(Names::new(slug, None).is_err(), "{slug:?} was accepted");
        }
    }

    #[test]
    fn host_table_is_rejected() {
        assert!(Names::new("ingest-runs-importer", None).is_err());
        assert!(Names::new("x", Some("ingest_tokens")).is_err());
    }

    #[test]
    fn templates_have_no_unfilled_placeholder() {
        let names = Names::new("product-importer", None).unwrap();
        for template in [CARGO_TOML, LIB_RS, README_MD] {
            let filled = names.fill(template, "\"/sdk\"");
            assert!(!filled.contains("{{"), "a placeholder is left in:\n{filled}");
        }
    }
}
