//! `data_sources`.

use chrono::Utc;
use sqlx::SqliteExecutor;

use crate::models::{DataSource, SourceId, UserId};
use crate::{Error, Result};

pub async fn get(db: impl SqliteExecutor<'_>, id: SourceId) -> Result<Option<DataSource>> {
    Ok(sqlx::query_as("SELECT * FROM data_sources WHERE id = ?").bind(id).fetch_optional(db).await?)
}

pub async fn get_by_name(db: impl SqliteExecutor<'_>, name: &str) -> Result<Option<DataSource>> {
    Ok(sqlx::query_as("SELECT * FROM data_sources WHERE name = ?").bind(name).fetch_optional(db).await?)
}

pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<DataSource>> {
    Ok(sqlx::query_as("SELECT * FROM data_sources ORDER BY name").fetch_all(db).await?)
}

/// Sources a user may search right now: granted (any level) ∧ active ∧ search-enabled.
pub async fn list_searchable_by(db: impl SqliteExecutor<'_>, user: UserId) -> Result<Vec<DataSource>> {
    Ok(sqlx::query_as(
        "SELECT s.* FROM data_sources s
         JOIN user_data_source_permissions p ON p.data_source_id = s.id
         WHERE p.user_id = ? AND s.is_active = 1 AND s.search_enabled = 1
         ORDER BY s.name",
    )
    .bind(user)
    .fetch_all(db)
    .await?)
}

/// Sources a user holds any grant on, whatever their state.
pub async fn list_granted_to(db: impl SqliteExecutor<'_>, user: UserId) -> Result<Vec<DataSource>> {
    Ok(sqlx::query_as(
        "SELECT s.* FROM data_sources s
         JOIN user_data_source_permissions p ON p.data_source_id = s.id
         WHERE p.user_id = ? ORDER BY s.name",
    )
    .bind(user)
    .fetch_all(db)
    .await?)
}

pub async fn insert(db: impl SqliteExecutor<'_>, s: &DataSource) -> Result<()> {
    sqlx::query(
        "INSERT INTO data_sources (id, name, display_name, database_url, source_type, jurisdiction, is_active,
             search_enabled, pool_size, acquire_timeout_ms, query_timeout_ms, created_at, updated_at, each_user_signs_in)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id)
    .bind(&s.name)
    .bind(&s.display_name)
    .bind(&s.database_url)
    .bind(&s.source_type)
    .bind(&s.jurisdiction)
    .bind(s.is_active)
    .bind(s.search_enabled)
    .bind(s.pool_size)
    .bind(s.acquire_timeout_ms)
    .bind(s.query_timeout_ms)
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(s.each_user_signs_in)
    .execute(db)
    .await
    .map_err(|e| super::unique_violation(e, "source", &s.name))?;
    Ok(())
}

/// Writes every editable field of an existing source and stamps `updated_at`.
pub async fn update(db: impl SqliteExecutor<'_>, s: &DataSource) -> Result<()> {
    let done = sqlx::query(
        "UPDATE data_sources SET display_name = ?, database_url = ?, source_type = ?, jurisdiction = ?,
             is_active = ?, search_enabled = ?, pool_size = ?, acquire_timeout_ms = ?, query_timeout_ms = ?,
             each_user_signs_in = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(&s.display_name)
    .bind(&s.database_url)
    .bind(&s.source_type)
    .bind(&s.jurisdiction)
    .bind(s.is_active)
    .bind(s.search_enabled)
    .bind(s.pool_size)
    .bind(s.acquire_timeout_ms)
    .bind(s.query_timeout_ms)
    .bind(s.each_user_signs_in)
    .bind(Utc::now())
    .bind(s.id)
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { what: "source", name: s.name.clone(), hint: "" });
    }
    Ok(())
}

/// Records that the source's keychain credential changed just now (set or cleared).
pub async fn stamp_credential(db: impl SqliteExecutor<'_>, id: SourceId) -> Result<()> {
    sqlx::query("UPDATE data_sources SET credential_updated_at = ? WHERE id = ?")
        .bind(Utc::now())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes a source. Cascades to every grant on it; its search executions stay in the history,
/// with `data_source_id` set to NULL and the source's name kept (migration 0005).
/// (Its keychain credential is removed by the caller, which owns the keychain.)
pub async fn delete(db: impl SqliteExecutor<'_>, id: SourceId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM data_sources WHERE id = ?").bind(id).execute(db).await?;
    Ok(done.rows_affected() > 0)
}
