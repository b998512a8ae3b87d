//! `ingest token create|list|revoke`.

use std::process::ExitCode;

use clap::Subcommand;

use super::UsageError;
use super::output::outln;
use crate::config::Config;
use crate::store::{Store, tokens};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it, alone, on one line; it is shown only once.
    #[command(after_help = super::EXIT_CODES_HELP)]
    Create {
        /// The user id the token authenticates as.
        #[arg(long)]
        user: i64,
        /// A label to recognise the token by.
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secret) with when each was created, last used (to the
    /// minute) and revoked.
    #[command(after_help = super::EXIT_CODES_HELP)]
    List {
        /// Print the tokens as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id, as `token list` shows it.
    #[command(after_help = super::EXIT_CODES_HELP)]
    Revoke {
        /// The token's id.
        id: i64,
    },
}

pub fn run(command: TokenCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.database_url)?;
    let mut connection = store.connection()?;
    match command {
        TokenCommand::Create { user, name } => {
            let token = tokens::create(&mut connection, user, name.as_deref())?;
            outln!("{token}")?;
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { json: true } => {
            let tokens: Vec<serde_json::Value> = tokens::list(&mut connection)?
                .into_iter()
                .map(|token| {
                    serde_json::json!({
                        "id": token.id,
                        "user_id": token.user_id,
                        "name": token.name,
                        "created_at": token.created_at,
                        "last_used_at": token.last_used_at,
                        "revoked_at": token.revoked_at,
                    })
                })
                .collect();
            outln!("{}", serde_json::Value::from(tokens))?;
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { json: false } => {
            outln!("{:>4}  {:>7}  {:<20}  {:<27}  {:<27}  revoked", "id", "user", "name", "created", "last used")?;
            for token in tokens::list(&mut connection)? {
                outln!(
                    "{:>4}  {:>7}  {:<20}  {:<27}  {:<27}  {}",
                    token.id,
                    token.user_id,
                    token.name.unwrap_or_default(),
                    token.created_at,
                    token.last_used_at.unwrap_or_else(|| "never".into()),
                    token.revoked_at.unwrap_or_else(|| "-".into())
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id } => {
            if tokens::revoke(&mut connection, id)? {
                outln!("token {id} revoked")?;
                Ok(ExitCode::SUCCESS)
            } else {
                Err(UsageError(format!("no live token has id {id}; run `ingest token list` to see them")).into())
            }
        }
    }
}
