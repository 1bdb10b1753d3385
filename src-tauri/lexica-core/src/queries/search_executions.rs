//! `search_executions`.

use std::time::Duration;

use chrono::Utc;
use sqlx::{SqliteExecutor, SqlitePool};

use super::liveness;
use crate::models::{ExecutionId, ExecutionOutcome, ExecutionStatus, SearchExecution, SearchId, SourceId};
use crate::{Error, Result};

/// What an execution left `pending` or `running` by a crash is closed with at the next start.
pub const INTERRUPTED_MESSAGE: &str = "interrupted: Lexica stopped before this source answered; run the search again";
/// Longest error message stored with an execution, in characters (a PostgreSQL error can quote a
/// whole generated statement: megabytes in the history and the UI). Longer ones are cut.
pub const MAX_STORED_ERROR_CHARS: usize = crate::error::MAX_ERROR_CHARS;
/// Tries at writing an execution's final state: the first, then retries while the app database
/// is busy beyond its own busy timeout (another process holding a long write), so a finished
/// search's outcome is not lost to a moment's contention.
pub const FINAL_WRITE_ATTEMPTS: u32 = 4;
/// Wait before the first retry of a final-state write; doubled for each further one.
const FINAL_WRITE_BACKOFF: Duration = Duration::from_millis(200);

pub async fn get(db: impl SqliteExecutor<'_>, id: ExecutionId) -> Result<Option<SearchExecution>> {
    Ok(sqlx::query_as("SELECT * FROM search_executions WHERE id = ?").bind(id).fetch_optional(db).await?)
}

pub async fn list_for_search(db: impl SqliteExecutor<'_>, search: SearchId) -> Result<Vec<SearchExecution>> {
    Ok(sqlx::query_as("SELECT * FROM search_executions WHERE search_id = ? ORDER BY created_at, id")
        .bind(search)
        .fetch_all(db)
        .await?)
}

/// Creates a `pending` execution of `search` on `source`, recording the source's name with it
/// (the history names the source by it after the source is removed).
pub async fn insert_pending(
    db: impl SqliteExecutor<'_>,
    search: SearchId,
    source: SourceId,
) -> Result<SearchExecution> {
    let mut execution = SearchExecution {
        id: ExecutionId::new(),
        search_id: search,
        data_source_id: Some(source),
        data_source_name: String::new(),
        status: ExecutionStatus::Pending,
        results_count: None,
        matches: None,
        execution_time_ms: None,
        error_message: None,
        started_at: None,
        completed_at: None,
        created_at: Utc::now(),
    };
    // Stamped with this process as its owner, so crash recovery in another process leaves it be
    // while this process lives (see [`liveness`]).
    // The name is read in the same statement (callers pass only the id, inside the transaction
    // that reads the sources): an unknown source leaves it NULL, which the schema refuses, as the
    // foreign key did before.
    execution.data_source_name = sqlx::query_scalar(
        "INSERT INTO search_executions
             (id, search_id, data_source_id, data_source_name, status, created_at, owner_id, owner_pid)
         VALUES (?1, ?2, ?3, (SELECT name FROM data_sources WHERE id = ?3), 'pending', ?4, ?5, ?6)
         RETURNING data_source_name",
    )
    .bind(execution.id)
    .bind(search)
    .bind(source)
    .bind(execution.created_at)
    .bind(liveness::process_owner_id())
    .bind(i64::from(std::process::id()))
    .fetch_one(db)
    .await?;
    Ok(execution)
}

/// Moves an execution to `to`, atomically and only along a legal transition (see
/// [`ExecutionStatus::can_become`]): the `WHERE status IN (…)` makes a racing second move
/// (say, a cancel arriving as the source completes) lose cleanly instead of overwriting.
/// Entering `running` stamps `started_at`; entering a final state stamps `completed_at`. The
/// outcome's values are written only when given (`None` keeps what is stored); an error message
/// is cut to [`MAX_STORED_ERROR_CHARS`].
///
/// A final state is never silently lost: a busy database is retried ([`FINAL_WRITE_ATTEMPTS`]),
/// and an execution that crash recovery closed as interrupted while it was in fact running (by
/// a Lexica from before owners were recorded, say) gets its real outcome back. Anything else
/// that matched no row is an error for the caller to report.
pub async fn transition(
    db: &SqlitePool,
    id: ExecutionId,
    to: ExecutionStatus,
    outcome: &ExecutionOutcome,
) -> Result<()> {
    let outcome = ExecutionOutcome {
        error_message: outcome.error_message.as_deref().map(crate::error::truncate_message),
        ..outcome.clone()
    };
    let attempts = if to.is_final() { FINAL_WRITE_ATTEMPTS } else { 1 };
    let mut wait = FINAL_WRITE_BACKOFF;
    let mut attempt = 1;
    loop {
        match transition_once(db, id, to, &outcome).await {
            Err(Error::Database(e)) if attempt < attempts && is_busy(&e) => {
                tracing::warn!(execution_id = %id, to = %to, attempt, "app database busy; retrying the execution's final state");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Ok(true) => return Ok(()),
            Ok(false) if to.is_final() && restore_interrupted(db, id, to, &outcome).await? => {
                tracing::warn!(execution_id = %id, to = %to, "an execution closed as interrupted while it ran got its real outcome back");
                return Ok(());
            }
            Ok(false) => {
                let from = ExecutionStatus::predecessors(to);
                return Err(Error::Refused(format!(
                    "execution {id} cannot move to `{to}`: it is not in {}",
                    from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
                )));
            }
            Err(e) => return Err(e),
        }
    }
}

/// One try of [`transition`]: whether a row moved.
async fn transition_once(
    db: &SqlitePool,
    id: ExecutionId,
    to: ExecutionStatus,
    outcome: &ExecutionOutcome,
) -> Result<bool> {
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
             error_message = coalesce(?5, error_message),
             match_count = coalesce(?9, match_count),
             match_count_estimated = coalesce(?10, match_count_estimated)
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
    // SQLite integers are signed 64-bit; a count past i64::MAX (never seen) is stored saturated.
    .bind(outcome.matches.map(|m| i64::try_from(m.count).unwrap_or(i64::MAX)))
    .bind(outcome.matches.map(|m| m.estimated))
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Writes the real final state over an "interrupted" close of this process's own execution.
/// Whoever closed it believed its process gone; the process is evidently alive and knows how the
/// execution ended, which is what the history must say. The error is replaced, not kept.
async fn restore_interrupted(
    db: &SqlitePool,
    id: ExecutionId,
    to: ExecutionStatus,
    outcome: &ExecutionOutcome,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE search_executions
         SET status = ?1, completed_at = ?2, error_message = ?3,
             results_count = coalesce(?4, results_count),
             execution_time_ms = coalesce(?5, execution_time_ms),
             match_count = ?6, match_count_estimated = ?7
         WHERE id = ?8 AND status = 'failed' AND error_message = ?9 AND owner_id = ?10",
    )
    .bind(to)
    .bind(Utc::now())
    .bind(&outcome.error_message)
    .bind(outcome.results_count)
    .bind(outcome.execution_time_ms)
    .bind(outcome.matches.map(|m| i64::try_from(m.count).unwrap_or(i64::MAX)))
    .bind(outcome.matches.map(|m| m.estimated))
    .bind(id)
    .bind(INTERRUPTED_MESSAGE)
    .bind(liveness::process_owner_id())
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// SQLite's "database is locked/busy" (primary code 5 or 6, with extended codes above 255).
fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// Closes, as `failed` ("interrupted"), the executions left `pending` or `running` by processes
/// that are gone: those whose owner holds no lock file any more (see [`liveness`]), and those
/// with no owner (written before owners were recorded). Executions of live processes (a search
/// running in the app while the CLI opens the install, say) are left alone. Runs at every open.
pub async fn close_interrupted(db: &SqlitePool) -> Result<u64> {
    let owners: Vec<Option<String>> =
        sqlx::query_scalar("SELECT DISTINCT owner_id FROM search_executions WHERE status IN ('pending', 'running')")
            .fetch_all(db)
            .await?;
    if owners.is_empty() {
        return Ok(0);
    }
    // The lock files sit beside the database file, which SQLite names itself: nothing else needs
    // to be told where the install is.
    let database: Option<String> =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_optional(db).await?;
    let alive = match database.filter(|f| !f.is_empty()) {
        Some(file) => {
            let path = std::path::PathBuf::from(file);
            tokio::task::spawn_blocking(move || liveness::live_owners(&path))
                .await
                .map_err(|e| Error::Refused(format!("could not check which searches are still running ({e})")))?
        }
        // An in-memory database has no lock folder and no other process: every owner is this one.
        None => owners.iter().flatten().cloned().collect(),
    };
    let mut closed = 0;
    for owner in owners.into_iter().filter(|o| o.as_ref().is_none_or(|o| !alive.contains(o))) {
        let done = sqlx::query(
            "UPDATE search_executions SET status = 'failed', error_message = ?, completed_at = ?
             WHERE status IN ('pending', 'running') AND owner_id IS ?",
        )
        .bind(INTERRUPTED_MESSAGE)
        .bind(Utc::now())
        .bind(&owner)
        .execute(db)
        .await?;
        closed += done.rows_affected();
    }
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::*;
    use crate::models::MatchCount;
    use crate::{Lexica, db};

    /// The last migration before match counts were stored.
    const BEFORE_MATCH_COUNTS: i64 = 2;

    /// An install whose database stops at migration 0002 and holds one completed search with two
    /// executions (as every install did before 0003): user `old`, sources `a` and `b`.
    async fn install_from_before_match_counts() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::from_str("sqlite:")
            .unwrap()
            .filename(dir.path().join("lexica.sqlite"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        db::MIGRATOR.run_to(BEFORE_MATCH_COUNTS, &pool).await.unwrap();
        for statement in [
            "INSERT INTO users (id, username) VALUES ('00000000-0000-4000-8000-000000000001', 'old')",
            "INSERT INTO data_sources (id, name, display_name) VALUES ('00000000-0000-4000-8000-00000000000a', 'a', 'A')",
            "INSERT INTO data_sources (id, name, display_name) VALUES ('00000000-0000-4000-8000-00000000000b', 'b', 'B')",
            "INSERT INTO searches (id, user_id, query_text, mode) VALUES
               ('00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-000000000001', 'hearsay', 'boolean')",
            "INSERT INTO search_executions (id, search_id, data_source_id, status, results_count, execution_time_ms) VALUES
               ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000f1',
                '00000000-0000-4000-8000-00000000000a', 'completed', 100, 12),
               ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000f1',
                '00000000-0000-4000-8000-00000000000b', 'completed', 96, 15)",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
        dir
    }

    #[tokio::test]
    async fn rows_from_before_match_counts_read_as_no_count_after_the_migration() {
        let dir = install_from_before_match_counts().await;
        let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
        let admin = lexica.acting_user(None).await.unwrap();
        let history = lexica.history(&admin, 10, true).await.unwrap();
        assert_eq!(history.len(), 1);
        let old = &history[0];
        assert_eq!(old.username, "old");
        let rows: Vec<_> = old
            .executions
            .iter()
            .map(|e| (e.source_name.as_str(), e.execution.results_count, e.execution.matches))
            .collect();
        assert_eq!(rows, [("a", Some(100), None), ("b", Some(96), None)]);
        assert_eq!(old.total_matches, None);
        // --json (and the UI) see the count as null, not as a missing field.
        let json = serde_json::to_value(old).unwrap();
        assert_eq!(json["total_matches"], serde_json::Value::Null);
        assert_eq!(json["executions"][0]["matches"], serde_json::Value::Null);
        lexica.close().await;
    }

    #[tokio::test]
    async fn a_finished_execution_keeps_its_match_count_and_whether_it_was_estimated() {
        let dir = install_from_before_match_counts().await;
        let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
        let admin = lexica.acting_user(None).await.unwrap();
        let search = crate::models::Search {
            id: SearchId::new(),
            user_id: admin.id,
            query_text: "court".into(),
            mode: crate::models::SearchMode::Boolean,
            filters: serde_json::json!({}),
            created_at: Utc::now(),
        };
        crate::queries::searches::insert(lexica.db(), &search).await.unwrap();
        let sources = crate::queries::data_sources::list(lexica.db()).await.unwrap();
        let a = sources.iter().find(|s| s.name == "a").unwrap().id;
        let b = sources.iter().find(|s| s.name == "b").unwrap().id;
        let counted = MatchCount { count: 1_234, estimated: false };
        let estimated = MatchCount { count: 41_000, estimated: true };
        for (source, matches) in [(a, counted), (b, estimated)] {
            let e = insert_pending(lexica.db(), search.id, source).await.unwrap();
            transition(lexica.db(), e.id, ExecutionStatus::Running, &ExecutionOutcome::default()).await.unwrap();
            let done = ExecutionOutcome {
                results_count: Some(100),
                matches: Some(matches),
                execution_time_ms: Some(20),
                error_message: None,
            };
            transition(lexica.db(), e.id, ExecutionStatus::Completed, &done).await.unwrap();
            assert_eq!(get(lexica.db(), e.id).await.unwrap().unwrap().matches, Some(matches));
        }
        let history = lexica.history(&admin, 10, true).await.unwrap();
        let newest = history.iter().find(|r| r.search.id == search.id).unwrap();
        let mut stored: Vec<_> =
            newest.executions.iter().map(|e| (e.source_name.clone(), e.execution.matches)).collect();
        stored.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(stored, [("a".to_string(), Some(counted)), ("b".to_string(), Some(estimated))]);
        assert_eq!(newest.total_matches, Some(MatchCount { count: 42_234, estimated: true }));
        let json = serde_json::to_value(newest).unwrap();
        assert_eq!(json["total_matches"], serde_json::json!({"count": 42_234, "estimated": true}));
        // The old search beside it still has no count.
        assert_eq!(history.iter().find(|r| r.search.id != search.id).unwrap().total_matches, None);
        lexica.close().await;
    }

    #[tokio::test]
    async fn the_schema_refuses_a_count_without_its_estimate_flag_and_negative_counts() {
        let dir = install_from_before_match_counts().await;
        let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
        for bad in [
            "UPDATE search_executions SET match_count = 5",
            "UPDATE search_executions SET match_count_estimated = 1",
            "UPDATE search_executions SET match_count = -1, match_count_estimated = 0",
            "UPDATE search_executions SET match_count = 5, match_count_estimated = 2",
        ] {
            assert!(sqlx::query(bad).execute(lexica.db()).await.is_err(), "{bad}");
        }
        sqlx::query("UPDATE search_executions SET match_count = 5, match_count_estimated = 1")
            .execute(lexica.db())
            .await
            .unwrap();
        lexica.close().await;
    }
}
