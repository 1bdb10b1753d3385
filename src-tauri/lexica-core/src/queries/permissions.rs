//! `user_data_source_permissions`.

use sqlx::SqliteExecutor;

use crate::Result;
use crate::models::{Grant, GrantView, PermissionLevel, SourceId, UserId};

pub async fn get(db: impl SqliteExecutor<'_>, user: UserId, source: SourceId) -> Result<Option<Grant>> {
    Ok(sqlx::query_as("SELECT * FROM user_data_source_permissions WHERE user_id = ? AND data_source_id = ?")
        .bind(user)
        .bind(source)
        .fetch_optional(db)
        .await?)
}

/// The grant-by-names view followed by a literal tail; a macro so each query stays one
/// `&'static str`, which is what sqlx 0.9 accepts without a safety assertion.
macro_rules! view_sql {
    ($tail:literal) => {
        concat!(
            "SELECT u.username, s.name AS source_name, p.permission_level, p.granted_at, g.username AS granted_by
             FROM user_data_source_permissions p
             JOIN users u ON u.id = p.user_id
             JOIN data_sources s ON s.id = p.data_source_id
             LEFT JOIN users g ON g.id = p.granted_by ",
            $tail
        )
    };
}

/// Every grant, by names, ordered by user then source.
pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<GrantView>> {
    Ok(sqlx::query_as(view_sql!("ORDER BY u.username, s.name")).fetch_all(db).await?)
}

/// One user's grants, by names.
pub async fn list_for_user(db: impl SqliteExecutor<'_>, user: UserId) -> Result<Vec<GrantView>> {
    Ok(sqlx::query_as(view_sql!("WHERE p.user_id = ? ORDER BY s.name")).bind(user).fetch_all(db).await?)
}

/// Grants `level` on `source` to `user`, or changes the level of an existing grant (keeping its
/// original `granted_at`/`granted_by` unless the level changes). Returns whether anything changed.
pub async fn upsert(
    db: impl SqliteExecutor<'_>,
    user: UserId,
    source: SourceId,
    level: PermissionLevel,
    granted_by: Option<UserId>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO user_data_source_permissions (id, user_id, data_source_id, permission_level, granted_at, granted_by)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, data_source_id) DO UPDATE
             SET permission_level = excluded.permission_level, granted_at = excluded.granted_at,
                 granted_by = excluded.granted_by
             WHERE permission_level <> excluded.permission_level",
    )
    .bind(crate::models::GrantId::new())
    .bind(user)
    .bind(source)
    .bind(level)
    .bind(chrono::Utc::now())
    .bind(granted_by)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete(db: impl SqliteExecutor<'_>, user: UserId, source: SourceId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM user_data_source_permissions WHERE user_id = ? AND data_source_id = ?")
        .bind(user)
        .bind(source)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
