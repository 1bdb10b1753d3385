//! `source_test_results`: each source's last connection test (the doctor's verdict), one row per
//! source, replaced by the next test.

use chrono::{DateTime, Utc};
use sqlx::SqliteExecutor;

use crate::Result;
use crate::models::{SourceId, UserId};

/// A stored verdict, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredTestResult {
    pub data_source_id: SourceId,
    /// `ok`, `warning` or `error` (the table's CHECK).
    pub status: String,
    pub summary: String,
    pub tested_at: DateTime<Utc>,
    pub tested_by: Option<UserId>,
}

pub async fn upsert(db: impl SqliteExecutor<'_>, row: &StoredTestResult) -> Result<()> {
    sqlx::query(
        "INSERT INTO source_test_results (data_source_id, status, summary, tested_at, tested_by)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (data_source_id) DO UPDATE SET
             status = excluded.status, summary = excluded.summary,
             tested_at = excluded.tested_at, tested_by = excluded.tested_by",
    )
    .bind(row.data_source_id)
    .bind(&row.status)
    .bind(&row.summary)
    .bind(row.tested_at)
    .bind(row.tested_by)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<StoredTestResult>> {
    Ok(sqlx::query_as("SELECT * FROM source_test_results").fetch_all(db).await?)
}
