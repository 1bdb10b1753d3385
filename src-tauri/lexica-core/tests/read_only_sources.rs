//! Read-only in depth for SQLite bundles (issue 13, item 7): the search pools open bundles with
//! `query_only` and `trusted_schema = OFF`, and a relative `sqlite:` path cannot leave the install
//! folder. (The PostgreSQL side, a `READ ONLY` transaction whatever the session's default, is
//! tested on the real cluster in `search::source`'s unit tests: the reads are crate-private.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use lexica_core::credentials::Keychain;
use lexica_core::models::{DataSource, SourceChanges, SourceUrl};
use lexica_core::sources::{SourcePool, SourceTarget, connect};
use lexica_core::{Error, Lexica};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

fn mock_keychain() -> Keychain {
    Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain")
}

/// An SQLite file with one table (the pragmas do not care what is inside).
async fn bundle(path: &std::path::Path) {
    let mut conn = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::query("CREATE TABLE opinions (id INTEGER PRIMARY KEY)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn search_pools_open_bundles_query_only_with_an_untrusted_schema() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), mock_keychain()).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    std::fs::create_dir_all(dir.path().join("sources")).unwrap();
    bundle(&dir.path().join("sources/firm.sqlite")).await;
    let changes = SourceChanges {
        display_name: Some("Firm bundle".into()),
        database_url: Some(Some("sqlite:sources/firm.sqlite".into())),
        ..SourceChanges::default()
    };
    let source = lexica.add_source(&me, "firm", changes).await.unwrap();
    let SourcePool::Sqlite(pool) = lexica.source_pool(&source).await.unwrap() else { panic!("not an SQLite pool") };
    let query_only: i64 = sqlx::query_scalar("PRAGMA query_only").fetch_one(&pool).await.unwrap();
    let trusted_schema: i64 = sqlx::query_scalar("PRAGMA trusted_schema").fetch_one(&pool).await.unwrap();
    assert_eq!((query_only, trusted_schema), (1, 0));
    lexica.close().await;
}

#[tokio::test]
async fn relative_bundle_paths_stay_inside_the_install_folder() {
    for escaping in ["sqlite:../outside.sqlite", "sqlite:sources/../../outside.sqlite", "sqlite:sources/../x.sqlite"] {
        let error = SourceUrl::parse(escaping).expect_err(escaping);
        assert!(error.contains("outside the install folder"), "{escaping}: {error}");
    }
    for fine in
        ["sqlite:sources/ny.sqlite", "sqlite:ny.sqlite", "sqlite:/srv/lexica/ny.sqlite", "sqlite:///srv/ny.sqlite"]
    {
        assert!(SourceUrl::parse(fine).is_ok(), "{fine}");
    }

    // Refused when an admin sets it, too.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let lexica = Lexica::open_with_keychain(Some(home.clone()), mock_keychain()).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Escape".into()),
        database_url: Some(Some("sqlite:../outside.sqlite".into())),
        ..SourceChanges::default()
    };
    assert!(matches!(lexica.add_source(&me, "escape", changes).await, Err(Error::Invalid(_))));
    lexica.close().await;

    // And when connecting, even to a file that is there, for a URL that skipped `parse`.
    bundle(&dir.path().join("outside.sqlite")).await;
    let source = DataSource::new("escape", "Escape");
    let url = SourceUrl::Sqlite("../outside.sqlite".into());
    let refused = connect::target(&source, &url, None, &home);
    assert!(
        matches!(refused, Err(Error::Source { .. })),
        "{:?}",
        refused.map(|t| matches!(t, SourceTarget::Sqlite(..)))
    );
}
