//! `ingest token create|list|revoke`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;
use crate::store::{Store, tokens};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it, alone, on one line.
    Create {
        /// The user id the token authenticates as.
        #[arg(long)]
        user: i64,
        /// A label to recognise the token by.
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secret).
    List,
    /// Revoke a token by its id, as `token list` shows it.
    Revoke {
        id: i64,
    },
}

pub fn run(command: TokenCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.sqlite_path())?;
    let mut connection = store.connection()?;
    match command {
        TokenCommand::Create { user, name } => {
            let token = tokens::create(&mut connection, user, name.as_deref())?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List => {
            println!("{:>4}  {:>7}  {:<20}  {:<27}  revoked", "id", "user", "name", "created");
            for token in tokens::list(&mut connection)? {
                println!(
                    "{:>4}  {:>7}  {:<20}  {:<27}  {}",
                    token.id,
                    token.user_id,
                    token.name.unwrap_or_default(),
                    token.created_at,
                    token.revoked_at.unwrap_or_else(|| "-".into())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id } => {
            if tokens::revoke(&mut connection, id)? {
                println!("token {id} revoked");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("error: no live token has id {id}; run `ingest token list` to see them");
                Ok(ExitCode::from(2))
            }
        }
    }
}
