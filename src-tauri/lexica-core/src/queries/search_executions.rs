//! `search_executions`.

use chrono::Utc;
use sqlx::SqliteExecutor;

use crate::models::{ExecutionId, ExecutionOutcome, ExecutionStatus, SearchExecution, SearchId, SourceId};
use crate::{Error, Result};

/// What an execution left `pending` or `running` by a crash is closed with at the next start.
pub const INTERRUPTED_MESSAGE: &str = "interrupted: Lexica stopped before this source answered; run the search again";

pub async fn get(db: impl SqliteExecutor<'_>, id: ExecutionId) -> Result<Option<SearchExecution>> {
    Ok(sqlx::query_as("SELECT * FROM search_executions WHERE id = ?").bind(id).fetch_optional(db).await?)
}

pub async fn list_for_search(db: impl SqliteExecutor<'_>, search: SearchId) -> Result<Vec<SearchExecution>> {
    Ok(sqlx::query_as("SELECT * FROM search_executions WHERE search_id = ? ORDER BY created_at, id")
        .bind(search)
        .fetch_all(db)
        .await?)
}

/// Creates a `pending` execution of `search` on `source`.
pub async fn insert_pending(
    db: impl SqliteExecutor<'_>,
    search: SearchId,
    source: SourceId,
) -> Result<SearchExecution> {
    let execution = SearchExecution {
        id: ExecutionId::new(),
        search_id: search,
        data_source_id: source,
        status: ExecutionStatus::Pending,
        results_count: None,
        execution_time_ms: None,
        error_message: None,
        started_at: None,
        completed_at: None,
        created_at: Utc::now(),
    };
    sqlx::query(
        "INSERT INTO search_executions (id, search_id, data_source_id, status, created_at) VALUES (?, ?, ?, 'pending', ?)",
    )
    .bind(execution.id)
    .bind(search)
    .bind(source)
    .bind(execution.created_at)
    .execute(db)
    .await?;
    Ok(execution)
}

/// Moves an execution to `to`, atomically and only along a legal transition (see
/// [`ExecutionStatus::can_become`]): the `WHERE status IN (…)` makes a racing second move
/// (say, a cancel arriving as the source completes) lose cleanly instead of overwriting.
/// Entering `running` stamps `started_at`; entering a final state stamps `completed_at`.
pub async fn transition(
    db: impl SqliteExecutor<'_>,
    id: ExecutionId,
    to: ExecutionStatus,
    outcome: &ExecutionOutcome,
) -> Result<()> {
    // The allowed predecessors, as the (at most two) status literals the statement binds.
    let from = ExecutionStatus::predecessors(to);
    let (a, b) = match from.as_slice() {
        [a] => (*a, *a),
        [a, b] => (*a, *b),
        _ => return Err(Error::Refused(format!("no execution can move to `{to}`"))),
    };
    let now = Utc::now();
    let done = sqlx::query(
        "UPDATE search_executions
         SET status = ?1,
             started_at = CASE WHEN ?1 = 'running' THEN ?2 ELSE started_at END,
             completed_at = CASE WHEN ?1 = 'running' THEN completed_at ELSE ?2 END,
             results_count = coalesce(?3, results_count),
             execution_time_ms = coalesce(?4, execution_time_ms),
             error_message = coalesce(?5, error_message)
         WHERE id = ?6 AND status IN (?7, ?8)",
    )
    .bind(to)
    .bind(now)
    .bind(outcome.results_count)
    .bind(outcome.execution_time_ms)
    .bind(&outcome.error_message)
    .bind(id)
    .bind(a)
    .bind(b)
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Refused(format!(
            "execution {id} cannot move to `{to}`: it is not in {}",
            from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
        )));
    }
    Ok(())
}

/// Closes every execution a crash left `pending` or `running` as `failed` ("interrupted").
/// Runs at start, before any search can begin, so no live execution is touched.
pub async fn close_interrupted(db: impl SqliteExecutor<'_>) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE search_executions SET status = 'failed', error_message = ?, completed_at = ?
         WHERE status IN ('pending', 'running')",
    )
    .bind(INTERRUPTED_MESSAGE)
    .bind(Utc::now())
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
