//! API tokens: shown once when created, stored only as a SHA-256 hash.

use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::schema::ingest_tokens;
use super::{DbConnection, StoreError, now, timestamp, write_turn};

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
    let _turn = write_turn(connection);
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

/// How long `last_used_at` may lag behind a token's latest use. Recording every request
/// would make each API read a database write, and on SQLite writes run one at a time.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);

/// Returns the user id a live token belongs to, or `None` for an unknown or revoked one.
///
/// Records the use in `last_used_at` when the recorded one is missing or older than a
/// minute. A failure to record it is logged and does not fail the authentication.
pub fn authenticate(connection: &mut DbConnection, token: &str) -> Result<Option<i64>, StoreError> {
    let found = ingest_tokens::table
        .filter(ingest_tokens::token_hash.eq(hash(token)))
        .filter(ingest_tokens::revoked_at.is_null())
        .select((ingest_tokens::id, ingest_tokens::user_id, ingest_tokens::last_used_at))
        .first::<(i64, i64, Option<String>)>(connection)
        .optional()?;
    let Some((id, user_id, last_used_at)) = found else { return Ok(None) };

    let current = chrono::Utc::now();
    let stale_before = timestamp(current - LAST_USED_RESOLUTION);
    // Timestamps share one fixed-width UTC format, so text order is time order.
    if last_used_at.is_none_or(|last_used_at| last_used_at < stale_before) {
        if let Err(error) = record_use(connection, id, &timestamp(current), &stale_before) {
            tracing::warn!(token_id = id, %error, "recording the token's last use failed");
        }
    }
    Ok(Some(user_id))
}

/// Sets `last_used_at` to `used_at` unless another request of the same minute set it
/// already.
fn record_use(connection: &mut DbConnection, id: i64, used_at: &str, stale_before: &str) -> Result<(), StoreError> {
    let _turn = write_turn(connection);
    diesel::update(
        ingest_tokens::table.find(id).filter(
            ingest_tokens::last_used_at.is_null().or(ingest_tokens::last_used_at.lt(stale_before)),
        ),
    )
    .set(ingest_tokens::last_used_at.eq(used_at))
    .execute(connection)?;
    Ok(())
}

pub fn list(connection: &mut DbConnection) -> Result<Vec<Token>, StoreError> {
    Ok(ingest_tokens::table.order(ingest_tokens::id).select(Token::as_select()).load(connection)?)
}

/// Revokes a token by id; returns false when no live token has that id.
pub fn revoke(connection: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    let _turn = write_turn(connection);
    let changed = diesel::update(ingest_tokens::table.find(id).filter(ingest_tokens::revoked_at.is_null()))
        .set(ingest_tokens::revoked_at.eq(now()))
        .execute(connection)?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A SQLite store in a temporary directory, removed on drop.
    struct TempStore {
        store: Store,
        dir: std::path::PathBuf,
    }

    impl TempStore {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("ingest-tokens-{}-{}", std::process::id(), rand::random::<u32>()));
            std::fs::create_dir_all(&dir).unwrap();
            let store = Store::open(&dir.join("ingest.db").display().to_string()).unwrap();
            Self { store, dir }
        }
    }

    impl Drop for TempStore {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn last_used_at(connection: &mut DbConnection) -> Option<String> {
        list(connection).unwrap().remove(0).last_used_at
    }

    #[test]
    fn authenticate_records_last_use() {
        let temp = TempStore::new();
        let mut connection = temp.store.connection().unwrap();
        let token = create(&mut connection, 7, None).unwrap();
        assert_eq!(last_used_at(&mut connection), None);

        assert_eq!(authenticate(&mut connection, &token).unwrap(), Some(7));

        let recorded = last_used_at(&mut connection).expect("the use is recorded");
        assert!(recorded.ends_with('Z'), "{recorded}");
    }

    #[test]
    fn last_use_is_recorded_once_a_minute() {
        let temp = TempStore::new();
        let mut connection = temp.store.connection().unwrap();
        let token = create(&mut connection, 1, None).unwrap();
        authenticate(&mut connection, &token).unwrap();
        let first = last_used_at(&mut connection);

        authenticate(&mut connection, &token).unwrap();
        assert_eq!(last_used_at(&mut connection), first, "a use within the minute writes nothing");

        let two_minutes_ago = timestamp(chrono::Utc::now() - chrono::Duration::seconds(120));
        diesel::update(ingest_tokens::table).set(ingest_tokens::last_used_at.eq(&two_minutes_ago)).execute(&mut connection).unwrap();
        authenticate(&mut connection, &token).unwrap();
        let renewed = last_used_at(&mut connection).unwrap();
        assert!(renewed > two_minutes_ago, "{renewed} is later than {two_minutes_ago}");
    }

    #[test]
    fn unknown_token_records_nothing() {
        let temp = TempStore::new();
        let mut connection = temp.store.connection().unwrap();
        create(&mut connection, 1, None).unwrap();

        assert_eq!(authenticate(&mut connection, "ingest_unknown").unwrap(), None);
        assert_eq!(last_used_at(&mut connection), None);
    }
}
