//! API tokens: shown once when created, stored only as a SHA-256 hash.

use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::schema::ingest_tokens;
use super::{DbConnection, StoreError, now};

const TOKEN_PREFIX: &str = "ingest_";
const TOKEN_RANDOM_CHARS: usize = 40;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ingest_tokens)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub name: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Creates a token for `user_id` and returns its plain text, which is not stored.
pub fn create(connection: &mut DbConnection, user_id: i64, name: Option<&str>) -> Result<String, StoreError> {
    let random: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(TOKEN_RANDOM_CHARS)
        .map(char::from)
        .collect();
    let token = format!("{TOKEN_PREFIX}{random}");
    diesel::insert_into(ingest_tokens::table)
        .values((
            ingest_tokens::user_id.eq(user_id),
            ingest_tokens::name.eq(name),
            ingest_tokens::token_hash.eq(hash(&token)),
            ingest_tokens::created_at.eq(now()),
        ))
        .execute(connection)?;
    Ok(token)
}

/// Returns the user id a live token belongs to, or `None` for an unknown or revoked one.
pub fn authenticate(connection: &mut DbConnection, token: &str) -> Result<Option<i64>, StoreError> {
    let user = ingest_tokens::table
        .filter(ingest_tokens::token_hash.eq(hash(token)))
        .filter(ingest_tokens::revoked_at.is_null())
        .select(ingest_tokens::user_id)
        .first::<i64>(connection)
        .optional()?;
    Ok(user)
}

pub fn list(connection: &mut DbConnection) -> Result<Vec<Token>, StoreError> {
    Ok(ingest_tokens::table.order(ingest_tokens::id).select(Token::as_select()).load(connection)?)
}

/// Revokes a token by id; returns false when no live token has that id.
pub fn revoke(connection: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(ingest_tokens::table.find(id).filter(ingest_tokens::revoked_at.is_null()))
        .set(ingest_tokens::revoked_at.eq(now()))
        .execute(connection)?;
    Ok(changed == 1)
}
