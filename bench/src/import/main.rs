//! `import-bench`: the products files of the import benchmark.
//!
//! `import-bench generate --rows N --out FILE` writes one products file and exits.

mod generate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "import-bench", about = "Write the products CSV files of the import benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a products CSV file (sku,name,description,price,category,stock); the same
    /// number of rows always gives the same bytes.
    Generate {
        /// Number of data rows, without the header.
        #[arg(long, value_parser = parse_rows)]
        rows: u64,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn parse_rows(text: &str) -> Result<u64, String> {
    let rows: u64 = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("invalid row count {text:?}: expected a positive integer such as 100000"))?;
    if rows == 0 {
        return Err("the row count must be at least 1".to_owned());
    }
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { rows, out } => {
            let fingerprint = generate::write_products_file(rows, &out)?;
            println!("wrote {} rows to {}", fingerprint.rows, out.display());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_counts_parse() {
        assert_eq!(parse_rows("100000"), Ok(100_000));
        assert_eq!(parse_rows("1_000_000"), Ok(1_000_000));
        assert!(parse_rows("0").is_err());
        assert!(parse_rows("1e6").is_err());
    }

    #[test]
    fn generate_subcommand_parses() {
        let cli = Cli::try_parse_from(["import-bench", "generate", "--rows", "5", "--out", "x.csv"]).unwrap();

        assert!(matches!(cli.command, Command::Generate { rows: 5, .. }));
    }
}
