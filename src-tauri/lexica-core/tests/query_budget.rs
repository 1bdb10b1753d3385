//! Issue 13, item 4, through the core on a real PostgreSQL 15: the `(contract ×60) /255 (breach ×60)`
//! search completes instead of failing with a 1.9 MB error worded "the server refused the
//! connection (SQLSTATE 54000)"; and a query PostgreSQL still refuses is worded as a query
//! problem, cut to [`lexica_core::error::MAX_ERROR_CHARS`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use lexica_core::Lexica;
use lexica_core::credentials::{Keychain, Secret};
use lexica_core::error::MAX_ERROR_CHARS;
use lexica_core::models::{ExecutionStatus, PermissionLevel, SourceChanges, SourceUrl};
use lexica_core::search::{EventSink, SearchRequest};
use lexica_core::sources::connect;
use tokio_util::sync::CancellationToken;

fn words(stem: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{stem}{}{}", char::from(b'a' + (i / 26) as u8), char::from(b'a' + (i % 26) as u8)))
        .collect()
}

#[tokio::test]
async fn sixty_by_sixty_within_255_completes_on_postgresql() {
    let Some(pg) = support::pg_admin_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    let db = support::opinion_database(&pg, 3).await;
    let url = support::url_with_db(&pg, &db).replace("postgres:lexica-test-superuser@", "postgres@");
    let changes =
        SourceChanges { display_name: Some("PG".into()), database_url: Some(Some(url)), ..SourceChanges::default() };
    lexica.add_source(&me, "pg", changes).await.unwrap();
    lexica.set_source_password(&me, "pg", &Secret::new("lexica-test-superuser")).await.unwrap();
    lexica.grant(&me, &me.username, "pg", PermissionLevel::Read).await.unwrap();

    let (left, right) = (words("contract", 59), words("breach", 59));
    let query = format!("(duty {}) /255 (care {})", left.join(" "), right.join(" "));
    let request = SearchRequest { query, sources: vec!["pg".into()], ..SearchRequest::default() };
    let sink: EventSink = Arc::new(|_| {});
    let started = std::time::Instant::now();
    let outcome = lexica.search(&me, &request, CancellationToken::new(), sink).await.unwrap();
    let source = &outcome.sources[0];
    assert_eq!(source.status, ExecutionStatus::Completed, "{:?}", source.error);
    assert_eq!(source.error, None);
    eprintln!("searched in {:?}", started.elapsed());
    let history = lexica.history(&me, 1, false).await.unwrap();
    assert_eq!(history[0].executions[0].execution.error_message, None);
    lexica.close().await;
}

#[tokio::test]
async fn a_statement_postgresql_refuses_is_a_query_error_cut_short() {
    let Some(pg) = support::pg_admin_url() else { return };
    let mut conn = support::admin(&pg).await;
    let url = SourceUrl::parse("postgres://reader@db.example/ny").unwrap();
    // A tsquery past PostgreSQL's size limit (SQLSTATE 54000), and one it cannot read (42601,
    // whose message quotes the whole input).
    let too_long = vec!["'abcdefgh'"; 120_000].join(" | ");
    let unreadable = format!("{} &", vec!["'abcdefgh'"; 120_000].join(" | "));
    for input in [too_long, unreadable] {
        let error = sqlx::query("SELECT $1::tsquery").bind(&input).execute(&mut conn).await.unwrap_err();
        let worded = connect::describe_query_error(&error, &url, "ny", true);
        assert!(!worded.contains("refused the connection"), "{}", &worded[..worded.len().min(300)]);
        assert!(worded.contains("refused the query"), "{}", &worded[..worded.len().min(300)]);
        assert!(worded.chars().count() <= MAX_ERROR_CHARS, "{} chars", worded.chars().count());
        assert!(!worded.contains("abcdefgh"), "the statement is not quoted: {}", &worded[..worded.len().min(300)]);
    }
}
