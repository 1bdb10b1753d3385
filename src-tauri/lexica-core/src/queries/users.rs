//! `users`.

use sqlx::SqliteExecutor;

use crate::models::{User, UserId};
use crate::{Error, Result};

pub async fn get(db: impl SqliteExecutor<'_>, id: UserId) -> Result<Option<User>> {
    Ok(sqlx::query_as("SELECT * FROM users WHERE id = ?").bind(id).fetch_optional(db).await?)
}

pub async fn get_by_username(db: impl SqliteExecutor<'_>, username: &str) -> Result<Option<User>> {
    Ok(sqlx::query_as("SELECT * FROM users WHERE username = ?").bind(username).fetch_optional(db).await?)
}

pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<User>> {
    Ok(sqlx::query_as("SELECT * FROM users ORDER BY username").fetch_all(db).await?)
}

pub async fn count_admins(db: impl SqliteExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM users WHERE is_admin = 1").fetch_one(db).await?)
}

pub async fn insert(db: impl SqliteExecutor<'_>, user: &User) -> Result<()> {
    sqlx::query("INSERT INTO users (id, username, display_name, is_admin, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(user.id)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.is_admin)
        .bind(user.created_at)
        .execute(db)
        .await
        .map_err(|e| super::unique_violation(e, "user", &user.username))?;
    Ok(())
}

/// Updates the editable fields (display name, admin flag) of an existing user.
pub async fn update(db: impl SqliteExecutor<'_>, user: &User) -> Result<()> {
    let done = sqlx::query("UPDATE users SET display_name = ?, is_admin = ? WHERE id = ?")
        .bind(&user.display_name)
        .bind(user.is_admin)
        .bind(user.id)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { what: "user", name: user.username.clone(), hint: "" });
    }
    Ok(())
}

/// Deletes a user. Cascades: their grants and their searches (with those searches' executions);
/// grants they gave keep existing with `granted_by` cleared.
pub async fn delete(db: impl SqliteExecutor<'_>, id: UserId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM users WHERE id = ?").bind(id).execute(db).await?;
    Ok(done.rows_affected() > 0)
}
