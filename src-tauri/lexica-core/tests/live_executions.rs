//! Crash recovery closes only executions whose process is gone (issue 13, item 2): opening the
//! install from another handle (the CLI while the app searches) must not mark a live execution
//! `failed: interrupted`, while a dead owner's executions are closed at once.
//!
//! The slow source is a TCP listener that accepts and never answers: the execution stays
//! `running` until the search's deadline, with no PostgreSQL needed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lexica_core::credentials::Keychain;
use lexica_core::models::{
    ExecutionOutcome, ExecutionStatus, PermissionLevel, Search, SearchId, SearchMode, SourceChanges,
};
use lexica_core::search::{EventSink, SearchRequest};
use lexica_core::testing::queries::{self, liveness, search_executions::INTERRUPTED_MESSAGE};
use lexica_core::{Lexica, User};
use tokio_util::sync::CancellationToken;

fn mock_keychain() -> Keychain {
    Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain")
}

async fn open(dir: &std::path::Path) -> Lexica {
    Lexica::open_with_keychain(Some(dir.to_path_buf()), mock_keychain()).await.unwrap()
}

/// A listener that accepts connections and never says a word; its port.
fn black_hole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

async fn install_with_black_hole() -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let lexica = open(dir.path()).await;
    let me = lexica.acting_user(None).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Never answers".into()),
        database_url: Some(Some(format!("postgres://reader@127.0.0.1:{}/opinions?sslmode=disable", black_hole()))),
        ..SourceChanges::default()
    };
    lexica.add_source(&me, "black_hole", changes).await.unwrap();
    lexica.grant(&me, &me.username, "black_hole", PermissionLevel::Read).await.unwrap();
    (dir, lexica, me)
}

async fn statuses(lexica: &Lexica) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT status, error_message FROM search_executions ORDER BY created_at")
        .fetch_all(lexica_core::testing::db(lexica))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_handle_opening_the_install_leaves_a_running_search_alone() {
    let (dir, lexica, me) = install_with_black_hole().await;
    let request = SearchRequest {
        query: "duty /s care".into(),
        sources: vec!["black_hole".into()],
        deadline_ms: Some(4_000),
        ..SearchRequest::default()
    };
    let sink: EventSink = Arc::new(|_| {});
    let search = {
        let (lexica, me) = (lexica.clone(), me.clone());
        tokio::spawn(async move { lexica.search(&me, &request, CancellationToken::new(), sink).await })
    };
    let waited = Instant::now();
    while statuses(&lexica).await.first().is_none_or(|(s, _)| s != "running") {
        assert!(waited.elapsed() < Duration::from_secs(10), "the execution never started running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // `lexica sources list` from another process does this: open the install, crash recovery included.
    let other = open(dir.path()).await;
    assert_eq!(statuses(&other).await, [("running".to_string(), None)], "a live execution was closed");
    other.close().await;

    let outcome = search.await.unwrap().unwrap();
    assert_eq!(outcome.sources[0].status, ExecutionStatus::TimedOut);
    // What the history says is what happened, not "interrupted".
    let history = lexica.history(&me, 10, false).await.unwrap();
    let execution = &history[0].executions[0].execution;
    assert_eq!(execution.status, ExecutionStatus::TimedOut, "{execution:?}");
    assert_ne!(execution.error_message.as_deref(), Some(INTERRUPTED_MESSAGE));
    lexica.close().await;
}

/// Inserts a search with one `running` execution on the demo source, owned by `owner`.
async fn running_execution_owned_by(lexica: &Lexica, me: &User, owner: Option<&str>) -> lexica_core::ExecutionId {
    let search = Search {
        id: SearchId::new(),
        user_id: me.id,
        query_text: "duty".into(),
        mode: SearchMode::Boolean,
        filters: serde_json::json!({}),
        created_at: chrono::Utc::now(),
    };
    queries::searches::insert(lexica_core::testing::db(lexica), &search).await.unwrap();
    let source =
        queries::data_sources::get_by_name(lexica_core::testing::db(lexica), "sample_opinions").await.unwrap().unwrap();
    let execution = queries::search_executions::insert_pending(lexica_core::testing::db(lexica), search.id, source.id)
        .await
        .unwrap();
    let none = ExecutionOutcome::default();
    queries::search_executions::transition(
        lexica_core::testing::db(lexica),
        execution.id,
        ExecutionStatus::Running,
        &none,
    )
    .await
    .unwrap();
    if owner != Some(liveness::process_owner_id()) {
        sqlx::query("UPDATE search_executions SET owner_id = ? WHERE id = ?")
            .bind(owner)
            .bind(execution.id)
            .execute(lexica_core::testing::db(lexica))
            .await
            .unwrap();
    }
    execution.id
}

#[tokio::test]
async fn executions_of_dead_owners_are_closed_and_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = open(dir.path()).await;
    let me = lexica.acting_user(None).await.unwrap();
    // Another live process: it holds its lock file.
    let live_owner = "11111111-1111-4111-8111-111111111111";
    let lock_path = liveness::run_dir(&dir.path().join("lexica.sqlite")).join(format!("{live_owner}.1.lock"));
    let held = std::fs::File::create(&lock_path).unwrap();
    held.try_lock().unwrap();
    // A dead one: its lock file is still there (SIGKILL removes nothing) but nobody holds it.
    let dead_owner = "22222222-2222-4222-8222-222222222222";
    let stale_path = lock_path.with_file_name(format!("{dead_owner}.1.lock"));
    std::fs::write(&stale_path, "pid 1").unwrap();

    let mine = running_execution_owned_by(&lexica, &me, Some(liveness::process_owner_id())).await;
    let theirs = running_execution_owned_by(&lexica, &me, Some(live_owner)).await;
    let dead = running_execution_owned_by(&lexica, &me, Some(dead_owner)).await;
    let vanished = running_execution_owned_by(&lexica, &me, Some("33333333-3333-4333-8333-333333333333")).await;
    let legacy = running_execution_owned_by(&lexica, &me, None).await;

    let other = open(dir.path()).await;
    let status = |id| {
        let other = other.clone();
        async move { queries::search_executions::get(lexica_core::testing::db(&other), id).await.unwrap().unwrap() }
    };
    for id in [mine, theirs] {
        assert_eq!(status(id).await.status, ExecutionStatus::Running);
    }
    for id in [dead, vanished, legacy] {
        let closed = status(id).await;
        assert_eq!(closed.status, ExecutionStatus::Failed);
        assert_eq!(closed.error_message.as_deref(), Some(INTERRUPTED_MESSAGE));
    }
    assert!(!stale_path.exists(), "the dead owner's lock file is swept");
    assert!(lock_path.exists());
    other.close().await;

    // The live owner exits: the next open closes its execution too.
    drop(held);
    let again = open(dir.path()).await;
    assert_eq!(
        queries::search_executions::get(lexica_core::testing::db(&again), theirs).await.unwrap().unwrap().status,
        ExecutionStatus::Failed
    );
    again.close().await;
    lexica.close().await;
}

#[tokio::test]
async fn a_final_state_is_not_lost_when_recovery_closed_the_execution_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = open(dir.path()).await;
    let me = lexica.acting_user(None).await.unwrap();
    let id = running_execution_owned_by(&lexica, &me, Some(liveness::process_owner_id())).await;
    // What a Lexica from before owners were recorded would do from another process.
    sqlx::query("UPDATE search_executions SET status = 'failed', error_message = ? WHERE id = ?")
        .bind(INTERRUPTED_MESSAGE)
        .bind(id)
        .execute(lexica_core::testing::db(&lexica))
        .await
        .unwrap();
    let done =
        ExecutionOutcome { results_count: Some(100), execution_time_ms: Some(9_000), ..ExecutionOutcome::default() };
    queries::search_executions::transition(lexica_core::testing::db(&lexica), id, ExecutionStatus::Completed, &done)
        .await
        .unwrap();
    let row = queries::search_executions::get(lexica_core::testing::db(&lexica), id).await.unwrap().unwrap();
    assert_eq!((row.status, row.results_count, row.error_message), (ExecutionStatus::Completed, Some(100), None));
    // A genuinely illegal move is still refused.
    assert!(
        queries::search_executions::transition(
            lexica_core::testing::db(&lexica),
            id,
            ExecutionStatus::Cancelled,
            &done
        )
        .await
        .is_err()
    );
    lexica.close().await;
}

#[tokio::test]
async fn a_huge_error_is_stored_cut_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = open(dir.path()).await;
    let me = lexica.acting_user(None).await.unwrap();
    let id = running_execution_owned_by(&lexica, &me, Some(liveness::process_owner_id())).await;
    let huge = ExecutionOutcome { error_message: Some("x".repeat(1_900_000)), ..ExecutionOutcome::default() };
    queries::search_executions::transition(lexica_core::testing::db(&lexica), id, ExecutionStatus::Failed, &huge)
        .await
        .unwrap();
    let stored = queries::search_executions::get(lexica_core::testing::db(&lexica), id)
        .await
        .unwrap()
        .unwrap()
        .error_message
        .unwrap();
    assert!(stored.chars().count() <= lexica_core::error::MAX_ERROR_CHARS, "{} chars", stored.chars().count());
    assert!(stored.ends_with(lexica_core::error::TRUNCATION_MARK));
    lexica.close().await;
}
