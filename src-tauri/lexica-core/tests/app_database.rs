//! The app database on a real SQLite file: migrations, first start, constraints, cascades,
//! execution lifecycle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_core::models::{
    ExecutionOutcome, ExecutionStatus, PermissionLevel, Search, SearchId, SearchMode, SourceChanges,
};
use lexica_core::testing::queries;
use lexica_core::{Error, Lexica, db};

async fn fresh() -> (tempfile::TempDir, Lexica) {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    (dir, lexica)
}

fn sqlite_source(path: &str) -> SourceChanges {
    SourceChanges {
        display_name: Some("Test source".into()),
        database_url: Some(Some(format!("sqlite:{path}"))),
        ..SourceChanges::default()
    }
}

#[tokio::test]
async fn first_start_creates_local_admin_and_inactive_ny_appeals() {
    let (_dir, lexica) = fresh().await;
    let me = lexica.acting_user(None).await.unwrap();
    assert_eq!(me.username, db::local_username());
    assert!(me.is_admin);
    let users = lexica.list_users(&me).await.unwrap();
    assert_eq!(users.len(), 1);
    let ny = lexica.get_source(&me, "ny_appeals").await.unwrap();
    assert_eq!(ny.display_name, "NY State Court of Appeals");
    assert_eq!(ny.source_type, "state_appeals");
    assert_eq!(ny.jurisdiction.as_deref(), Some("New York"));
    assert!(!ny.is_active);
    assert_eq!(ny.database_url, None);
    assert_eq!((ny.pool_size, ny.acquire_timeout_ms, ny.query_timeout_ms), (5, 15_000, 30_000));
}

#[tokio::test]
async fn reopening_applies_nothing_twice_and_does_not_recreate_deleted_seed() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.remove_source(&me, "ny_appeals").await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(lexica_core::testing::db(&lexica))
        .await
        .unwrap();
    lexica.close().await;

    let again = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    // Running the migrator explicitly a second time is a no-op too.
    lexica_core::testing::MIGRATOR.run(lexica_core::testing::db(&again)).await.unwrap();
    let applied_again: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(lexica_core::testing::db(&again))
        .await
        .unwrap();
    assert_eq!(applied, applied_again);
    assert_eq!(applied_again as usize, lexica_core::testing::MIGRATOR.iter().count());
    assert!(matches!(again.get_source(&me, "ny_appeals").await, Err(Error::NotFound { .. })));
    assert_eq!(again.list_users(&me).await.unwrap().len(), 1);
}

#[tokio::test]
async fn database_runs_in_wal_with_foreign_keys() {
    let (_dir, lexica) = fresh().await;
    let mode: String =
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(lexica_core::testing::db(&lexica)).await.unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(lexica_core::testing::db(&lexica)).await.unwrap();
    let busy: i64 =
        sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(lexica_core::testing::db(&lexica)).await.unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    assert_eq!(busy, 5000);
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name")
            .fetch_all(lexica_core::testing::db(&lexica))
            .await
            .unwrap();
    assert_eq!(
        indexes,
        [
            "idx_executions_search",
            "idx_executions_status",
            "idx_permissions_source",
            "idx_permissions_user",
            "idx_search_executions_source_id",
            "idx_searches_user_created"
        ]
    );
}

#[tokio::test]
async fn uniqueness_is_enforced() {
    let (_dir, lexica) = fresh().await;
    let me = lexica.acting_user(None).await.unwrap();
    lexica.add_user(&me, "jdoe", None, false).await.unwrap();
    assert!(matches!(lexica.add_user(&me, "jdoe", None, false).await, Err(Error::AlreadyExists { what: "user", .. })));
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    let dup = lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/b.sqlite")).await;
    assert!(matches!(dup, Err(Error::AlreadyExists { what: "source", .. })), "{dup:?}");
    // A second grant of the same pair changes the row, never duplicates it.
    assert!(lexica.grant(&me, "jdoe", "firm_ny", PermissionLevel::Read).await.unwrap());
    assert!(!lexica.grant(&me, "jdoe", "firm_ny", PermissionLevel::Read).await.unwrap());
    assert!(lexica.grant(&me, "jdoe", "firm_ny", PermissionLevel::Admin).await.unwrap());
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_data_source_permissions p JOIN users u ON u.id = p.user_id WHERE u.username = 'jdoe'",
    )
    .fetch_one(lexica_core::testing::db(&lexica))
    .await
    .unwrap();
    assert_eq!(count, 1);
    // And the database itself refuses a duplicate pair, whatever the caller.
    let user = queries::users::get_by_username(lexica_core::testing::db(&lexica), "jdoe").await.unwrap().unwrap();
    let source =
        queries::data_sources::get_by_name(lexica_core::testing::db(&lexica), "firm_ny").await.unwrap().unwrap();
    let raw = sqlx::query("INSERT INTO user_data_source_permissions (id, user_id, data_source_id) VALUES ('x', ?, ?)")
        .bind(user.id)
        .bind(source.id)
        .execute(lexica_core::testing::db(&lexica))
        .await;
    assert!(raw.unwrap_err().as_database_error().unwrap().is_unique_violation());
}

async fn search_with_execution(lexica: &Lexica, username: &str, source: &str) -> (SearchId, lexica_core::ExecutionId) {
    let user = queries::users::get_by_username(lexica_core::testing::db(lexica), username).await.unwrap().unwrap();
    let source = queries::data_sources::get_by_name(lexica_core::testing::db(lexica), source).await.unwrap().unwrap();
    let search = Search {
        id: SearchId::new(),
        user_id: user.id,
        query_text: "negligen! /s duty".into(),
        mode: SearchMode::Boolean,
        filters: serde_json::json!({"court": "NY"}),
        created_at: chrono::Utc::now(),
    };
    queries::searches::insert(lexica_core::testing::db(lexica), &search).await.unwrap();
    let execution = queries::search_executions::insert_pending(lexica_core::testing::db(lexica), search.id, source.id)
        .await
        .unwrap();
    (search.id, execution.id)
}

async fn count(lexica: &Lexica, table: &'static str) -> i64 {
    let sql = match table {
        "searches" => "SELECT count(*) FROM searches",
        "search_executions" => "SELECT count(*) FROM search_executions",
        "user_data_source_permissions" => "SELECT count(*) FROM user_data_source_permissions",
        _ => unreachable!(),
    };
    sqlx::query_scalar(sql).fetch_one(lexica_core::testing::db(lexica)).await.unwrap()
}

#[tokio::test]
async fn deleting_a_user_cascades_to_grants_searches_and_executions() {
    let (_dir, lexica) = fresh().await;
    let me = lexica.acting_user(None).await.unwrap();
    lexica.add_user(&me, "jdoe", None, false).await.unwrap();
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    lexica.grant(&me, "jdoe", "firm_ny", PermissionLevel::Read).await.unwrap();
    search_with_execution(&lexica, "jdoe", "firm_ny").await;
    search_with_execution(&lexica, &me.username, "firm_ny").await;
    lexica.remove_user(&me, "jdoe").await.unwrap();
    assert_eq!(count(&lexica, "user_data_source_permissions").await, 1, "only the local admin's demo grant remains");
    assert_eq!(count(&lexica, "searches").await, 1, "only the other user's search remains");
    assert_eq!(count(&lexica, "search_executions").await, 1);
}

#[tokio::test]
async fn deleting_a_source_cascades_to_grants_but_keeps_searches_and_executions() {
    let (_dir, lexica) = fresh().await;
    let me = lexica.acting_user(None).await.unwrap();
    lexica.add_user(&me, "jdoe", None, false).await.unwrap();
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    lexica.grant(&me, "jdoe", "firm_ny", PermissionLevel::Read).await.unwrap();
    search_with_execution(&lexica, "jdoe", "firm_ny").await;
    lexica.remove_source(&me, "firm_ny").await.unwrap();
    assert_eq!(count(&lexica, "user_data_source_permissions").await, 1, "only the local admin's demo grant remains");
    // The history outlives the source (migration 0005): the execution stays, its source NULL.
    assert_eq!(count(&lexica, "search_executions").await, 1);
    assert_eq!(count(&lexica, "searches").await, 1);
}

#[tokio::test]
async fn removing_the_granting_admin_keeps_the_grant() {
    let (_dir, lexica) = fresh().await;
    let me = lexica.acting_user(None).await.unwrap();
    let boss = lexica.add_user(&me, "boss", None, true).await.unwrap();
    lexica.add_user(&me, "jdoe", None, false).await.unwrap();
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    lexica.grant(&boss, "jdoe", "firm_ny", PermissionLevel::Read).await.unwrap();
    lexica.remove_user(&me, "boss").await.unwrap();
    let grants = lexica.list_grants(&me, Some("jdoe")).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].granted_by, None);
}

#[tokio::test]
async fn execution_moves_only_along_legal_transitions() {
    let (_dir, lexica) = fresh().await;
    let me = lexica.acting_user(None).await.unwrap();
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    let (_, id) = search_with_execution(&lexica, &me.username, "firm_ny").await;
    let none = ExecutionOutcome::default();
    use ExecutionStatus::*;
    // pending → completed skips running: refused, nothing written.
    let err = queries::search_executions::transition(lexica_core::testing::db(&lexica), id, Completed, &none)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot move to `completed`"), "{err}");
    assert_eq!(
        queries::search_executions::get(lexica_core::testing::db(&lexica), id).await.unwrap().unwrap().status,
        Pending
    );
    // pending → pending is never legal.
    assert!(
        queries::search_executions::transition(lexica_core::testing::db(&lexica), id, Pending, &none).await.is_err()
    );

    queries::search_executions::transition(lexica_core::testing::db(&lexica), id, Running, &none).await.unwrap();
    let running = queries::search_executions::get(lexica_core::testing::db(&lexica), id).await.unwrap().unwrap();
    assert!(running.started_at.is_some() && running.completed_at.is_none());

    let done =
        ExecutionOutcome { results_count: Some(42), execution_time_ms: Some(130), ..ExecutionOutcome::default() };
    queries::search_executions::transition(lexica_core::testing::db(&lexica), id, Completed, &done).await.unwrap();
    let completed = queries::search_executions::get(lexica_core::testing::db(&lexica), id).await.unwrap().unwrap();
    assert_eq!(
        (completed.status, completed.results_count, completed.execution_time_ms),
        (Completed, Some(42), Some(130))
    );
    assert!(completed.completed_at.is_some());

    // A final state is final: a late cancel or timeout loses.
    for late in [Cancelled, TimedOut, Failed, Running] {
        assert!(
            queries::search_executions::transition(lexica_core::testing::db(&lexica), id, late, &none).await.is_err(),
            "{late}"
        );
    }
    assert_eq!(
        queries::search_executions::get(lexica_core::testing::db(&lexica), id).await.unwrap().unwrap().status,
        Completed
    );
}

#[tokio::test]
async fn executions_left_open_by_a_crash_are_closed_at_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    lexica.add_source(&me, "firm_fed", sqlite_source("/tmp/b.sqlite")).await.unwrap();
    let (_, running) = search_with_execution(&lexica, &me.username, "firm_ny").await;
    let (_, done) = search_with_execution(&lexica, &me.username, "firm_fed").await;
    let none = ExecutionOutcome::default();
    queries::search_executions::transition(lexica_core::testing::db(&lexica), running, ExecutionStatus::Running, &none)
        .await
        .unwrap();
    queries::search_executions::transition(lexica_core::testing::db(&lexica), done, ExecutionStatus::Running, &none)
        .await
        .unwrap();
    queries::search_executions::transition(lexica_core::testing::db(&lexica), done, ExecutionStatus::Completed, &none)
        .await
        .unwrap();
    lexica.close().await; // the "crash": the running execution never finished

    let again = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let closed = queries::search_executions::get(lexica_core::testing::db(&again), running).await.unwrap().unwrap();
    assert_eq!(closed.status, ExecutionStatus::Failed);
    assert_eq!(closed.error_message.as_deref(), Some(queries::search_executions::INTERRUPTED_MESSAGE));
    assert_eq!(
        queries::search_executions::get(lexica_core::testing::db(&again), done).await.unwrap().unwrap().status,
        ExecutionStatus::Completed
    );
    let history = again.history(&me, 10, false).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|r| r.executions.iter().all(|e| e.execution.status.is_final())));
}

#[tokio::test]
async fn the_database_checks_stored_values_too() {
    let (_dir, lexica) = fresh().await;
    // Even SQL that bypasses the model cannot store an unknown status or permission level.
    let me = lexica.acting_user(None).await.unwrap();
    lexica.add_source(&me, "firm_ny", sqlite_source("/tmp/a.sqlite")).await.unwrap();
    search_with_execution(&lexica, &me.username, "firm_ny").await;
    let bad = sqlx::query("UPDATE search_executions SET status = 'exploded'")
        .execute(lexica_core::testing::db(&lexica))
        .await;
    assert!(bad.is_err(), "an unknown status is refused by the schema");
    lexica.grant(&me, &me.username, "firm_ny", PermissionLevel::Read).await.unwrap();
    let bad = sqlx::query("UPDATE user_data_source_permissions SET permission_level = 'owner'")
        .execute(lexica_core::testing::db(&lexica))
        .await;
    assert!(bad.is_err(), "an unknown permission level is refused by the schema");
    let bad =
        sqlx::query("INSERT INTO data_sources (id, name, display_name, source_type) VALUES ('x', 'toolong', 'x', ?)")
            .bind("t".repeat(51))
            .execute(lexica_core::testing::db(&lexica))
            .await;
    assert!(bad.is_err(), "source_type longer than 50 is refused by the schema");
}
