//! `searches`.

use sqlx::SqliteExecutor;

use crate::Result;
use crate::models::{Search, SearchId, UserId};

pub async fn get(db: impl SqliteExecutor<'_>, id: SearchId) -> Result<Option<Search>> {
    Ok(sqlx::query_as("SELECT * FROM searches WHERE id = ?").bind(id).fetch_optional(db).await?)
}

/// A user's searches, newest first.
pub async fn list_for_user(db: impl SqliteExecutor<'_>, user: UserId, limit: u32) -> Result<Vec<Search>> {
    Ok(sqlx::query_as("SELECT * FROM searches WHERE user_id = ? ORDER BY created_at DESC, id LIMIT ?")
        .bind(user)
        .bind(limit)
        .fetch_all(db)
        .await?)
}

/// Everyone's searches, newest first (administrators' view).
pub async fn list(db: impl SqliteExecutor<'_>, limit: u32) -> Result<Vec<Search>> {
    Ok(sqlx::query_as("SELECT * FROM searches ORDER BY created_at DESC, id LIMIT ?").bind(limit).fetch_all(db).await?)
}

pub async fn insert(db: impl SqliteExecutor<'_>, search: &Search) -> Result<()> {
    sqlx::query("INSERT INTO searches (id, user_id, query_text, mode, filters, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(search.id)
        .bind(search.user_id)
        .bind(&search.query_text)
        .bind(search.mode)
        .bind(sqlx::types::Json(&search.filters))
        .bind(search.created_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes a search. Cascades: its executions.
pub async fn delete(db: impl SqliteExecutor<'_>, id: SearchId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM searches WHERE id = ?").bind(id).execute(db).await?;
    Ok(done.rows_affected() > 0)
}
