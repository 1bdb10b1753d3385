//! `source_sign_ins`: which users keep their own remembered sign-in to a source (the password is
//! in the OS keychain; see migration 0007).

use chrono::{DateTime, Utc};
use sqlx::SqliteExecutor;

use crate::Result;
use crate::models::{SourceId, UserId};

/// A remembered sign-in: the database user name (`None`: the source URL's) and when it changed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInRow {
    pub user_id: UserId,
    pub data_source_id: SourceId,
    pub db_username: Option<String>,
    pub updated_at: DateTime<Utc>,
}

pub async fn get(db: impl SqliteExecutor<'_>, user: UserId, source: SourceId) -> Result<Option<SignInRow>> {
    Ok(sqlx::query_as("SELECT * FROM source_sign_ins WHERE user_id = ? AND data_source_id = ?")
        .bind(user)
        .bind(source)
        .fetch_optional(db)
        .await?)
}

/// Every user's sign-in to one source (their keychain entries go when the source does).
pub async fn list_for_source(db: impl SqliteExecutor<'_>, source: SourceId) -> Result<Vec<SignInRow>> {
    Ok(sqlx::query_as("SELECT * FROM source_sign_ins WHERE data_source_id = ?").bind(source).fetch_all(db).await?)
}

/// One user's sign-ins to every source (their keychain entries go when the user does).
pub async fn list_for_user(db: impl SqliteExecutor<'_>, user: UserId) -> Result<Vec<SignInRow>> {
    Ok(sqlx::query_as("SELECT * FROM source_sign_ins WHERE user_id = ?").bind(user).fetch_all(db).await?)
}

/// Records (or replaces) a user's sign-in, stamped now.
pub async fn upsert(
    db: impl SqliteExecutor<'_>,
    user: UserId,
    source: SourceId,
    db_username: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO source_sign_ins (user_id, data_source_id, db_username, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, data_source_id) DO UPDATE SET db_username = excluded.db_username,
             updated_at = excluded.updated_at",
    )
    .bind(user)
    .bind(source)
    .bind(db_username)
    .bind(Utc::now())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: impl SqliteExecutor<'_>, user: UserId, source: SourceId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM source_sign_ins WHERE user_id = ? AND data_source_id = ?")
        .bind(user)
        .bind(source)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
