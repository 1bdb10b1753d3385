//! History survives a source's removal (issue 13, item 11): `lexica sources remove` used to
//! delete the source's part of every past search (the executions cascaded). Now the executions
//! stay, named as the source was, and an install upgraded from before keeps every row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::Arc;

use lexica_core::Lexica;
use lexica_core::credentials::Keychain;
use lexica_core::models::{ExecutionStatus, PermissionLevel, SourceChanges};
use lexica_core::search::{EventSink, SearchRequest};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tokio_util::sync::CancellationToken;

fn mock_keychain() -> Keychain {
    Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain")
}

/// A port nothing listens on (bound, then released), so a search there fails at once.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn removing_a_source_keeps_its_executions_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), mock_keychain()).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Old NY".into()),
        database_url: Some(Some(format!("postgres://reader@127.0.0.1:{}/opinions?sslmode=disable", closed_port()))),
        ..SourceChanges::default()
    };
    lexica.add_source(&me, "old_ny", changes).await.unwrap();
    lexica.grant(&me, &me.username, "old_ny", PermissionLevel::Read).await.unwrap();
    // A real search (the executions are written where every search writes them); it fails fast.
    let request = SearchRequest { query: "duty".into(), sources: vec!["old_ny".into()], ..SearchRequest::default() };
    let sink: EventSink = Arc::new(|_| {});
    let outcome = lexica.search(&me, &request, CancellationToken::new(), sink).await.unwrap();
    assert_eq!(outcome.sources[0].status, ExecutionStatus::Failed);

    lexica.remove_source(&me, "old_ny").await.unwrap();

    let history = lexica.history(&me, 10, false).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].executions.len(), 1, "the removed source's execution was deleted with it");
    let record = &history[0].executions[0];
    assert_eq!(record.source_name, "old_ny");
    assert_eq!(record.execution.status, ExecutionStatus::Failed);
    let json = serde_json::to_value(record).unwrap();
    assert_eq!(json["source_removed"], true, "{json}");
    assert_eq!(json["data_source_id"], serde_json::Value::Null, "{json}");
    assert_eq!(json["data_source_name"], "old_ny", "{json}");

    // A new source under the same name is another source: the old execution stays "removed".
    let again =
        SourceChanges { display_name: Some("New NY".into()), is_active: Some(false), ..SourceChanges::default() };
    lexica.add_source(&me, "old_ny", again).await.unwrap();
    let history = lexica.history(&me, 10, false).await.unwrap();
    assert_eq!(serde_json::to_value(&history[0].executions[0]).unwrap()["source_removed"], true);
    lexica.close().await;
}

/// An execution row as the upgrade test reads it: id, source id, source name, status,
/// results, matches, owner.
type Row = (String, Option<String>, String, String, Option<i64>, Option<i64>, Option<String>);

/// The last migration before executions kept their source's name.
const BEFORE_NAMES: i64 = 4;

#[tokio::test]
async fn an_upgraded_install_keeps_every_execution_and_can_then_remove_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(dir.path().join("lexica.sqlite"))
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    lexica_core::testing::MIGRATOR.run_to(BEFORE_NAMES, &pool).await.unwrap();
    for statement in [
        "INSERT INTO users (id, username) VALUES ('00000000-0000-4000-8000-000000000001', 'old')",
        "INSERT INTO data_sources (id, name, display_name) VALUES ('00000000-0000-4000-8000-00000000000a', 'a', 'A')",
        "INSERT INTO data_sources (id, name, display_name) VALUES ('00000000-0000-4000-8000-00000000000b', 'b', 'B')",
        "INSERT INTO searches (id, user_id, query_text, mode) VALUES
           ('00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-000000000001', 'hearsay', 'boolean')",
        "INSERT INTO search_executions (id, search_id, data_source_id, status, results_count, execution_time_ms,
             match_count, match_count_estimated, owner_id, owner_pid) VALUES
           ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000f1',
            '00000000-0000-4000-8000-00000000000a', 'completed', 100, 12, 41000, 1, 'o1', 7),
           ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000f1',
            '00000000-0000-4000-8000-00000000000b', 'failed', NULL, 15, NULL, NULL, NULL, NULL)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), mock_keychain()).await.unwrap();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, data_source_id, data_source_name, status, results_count, match_count, owner_id
           FROM search_executions ORDER BY id",
    )
    .fetch_all(lexica_core::testing::db(&lexica))
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "00000000-0000-4000-8000-0000000000e1".to_string(),
                Some("00000000-0000-4000-8000-00000000000a".to_string()),
                "a".to_string(),
                "completed".to_string(),
                Some(100),
                Some(41_000),
                Some("o1".to_string())
            ),
            (
                "00000000-0000-4000-8000-0000000000e2".to_string(),
                Some("00000000-0000-4000-8000-00000000000b".to_string()),
                "b".to_string(),
                "failed".to_string(),
                None,
                None,
                None
            ),
        ]
    );
    // The seed's index on the source column, and the foreign key now keeps the rows.
    let index: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'idx_search_executions_source_id'",
    )
    .fetch_all(lexica_core::testing::db(&lexica))
    .await
    .unwrap();
    assert_eq!(index, ["idx_search_executions_source_id"]);
    let on_delete: String = sqlx::query_scalar(
        "SELECT on_delete FROM pragma_foreign_key_list('search_executions') WHERE \"table\" = 'data_sources'",
    )
    .fetch_one(lexica_core::testing::db(&lexica))
    .await
    .unwrap();
    assert_eq!(on_delete, "SET NULL");
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(lexica_core::testing::db(&lexica))
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");

    // The old admin of the install removes `a`: its execution stays, named.
    sqlx::query("UPDATE users SET is_admin = 1").execute(lexica_core::testing::db(&lexica)).await.unwrap();
    let old = lexica_core::testing::queries::users::get_by_username(lexica_core::testing::db(&lexica), "old")
        .await
        .unwrap()
        .unwrap();
    lexica.remove_source(&old, "a").await.unwrap();
    let history = lexica.history(&old, 10, false).await.unwrap();
    let names: Vec<_> = history[0]
        .executions
        .iter()
        .map(|e| (e.source_name.clone(), serde_json::to_value(e).unwrap()["source_removed"].clone()))
        .collect();
    assert_eq!(names, [("a".to_string(), serde_json::json!(true)), ("b".to_string(), serde_json::json!(false))]);
    lexica.close().await;
}
