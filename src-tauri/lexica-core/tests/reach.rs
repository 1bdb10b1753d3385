//! The search window's per-source badges before any search (issue #12, item 7):
//! `Lexica::check_sources` says, for each source the user may search, whether it answers now, on
//! real PostgreSQL sources and the demo SQLite bundle — ready, the sign-in it needs (a server that
//! wants a password none is stored for), or why it is unreachable (a port nobody listens on; a
//! listener that never answers, within the check's limit); a demo bundle still being built is
//! waited for, not called unreachable. Sources the user may not search are not contacted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use lexica_core::credentials::Keychain;
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::reach::{CHECK_LIMIT, Reach};
use lexica_core::sign_in::SignInRequest;
use lexica_core::{Lexica, db};

fn pg_source(url: String) -> SourceChanges {
    SourceChanges {
        display_name: Some("A source".into()),
        database_url: Some(Some(format!("{url}?sslmode=disable"))),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_searchable_source_says_whether_it_answers() {
    let Some(pg) = support::pg_admin_url() else { return };
    let db_name = support::opinion_database(&pg, 2).await;
    let role = support::reader_role(&pg, &db_name, "reach-pw").await;

    let home = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(home.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let lawyer = lexica.add_user(&admin, "lawyer", None, false).await.unwrap();

    // Up, with its password stored.
    let up = lexica.add_source(&admin, "up", pg_source(support::url_for(&pg, &role, &db_name))).await.unwrap();
    lexica.set_source_password(&admin, "up", &lexica_core::credentials::Secret::new("reach-pw")).await.unwrap();
    // Up, but no password stored for a role that needs one: the lawyer can sign in.
    let asks = lexica.add_source(&admin, "asks", pg_source(support::url_for(&pg, &role, &db_name))).await.unwrap();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = lexica
        .add_source(&admin, "down", pg_source(format!("postgres://reader@127.0.0.1:{dead_port}/{db_name}")))
        .await
        .unwrap();
    // A listener that accepts and never answers (a black-holed server): bounded by the check's limit.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            open.push(conn);
        }
    });
    let hangs = lexica
        .add_source(&admin, "hangs", pg_source(format!("postgres://reader@127.0.0.1:{silent_port}/{db_name}")))
        .await
        .unwrap();
    // Not granted to the lawyer: not checked for them.
    lexica
        .add_source(&admin, "private", pg_source(format!("postgres://reader@127.0.0.1:{dead_port}/x")))
        .await
        .unwrap();
    for name in ["up", "asks", "down", "hangs"] {
        lexica.grant(&admin, "lawyer", name, PermissionLevel::Read).await.unwrap();
    }
    lexica.grant(&admin, "lawyer", db::DEMO_SOURCE_NAME, PermissionLevel::Read).await.unwrap();

    // The first check also waits for the demo bundle, which this fresh install builds now (seconds, on a busy machine).
    let checked = lexica.check_sources(&lawyer).await.unwrap();
    let reach = |id| checked.iter().find(|c| c.source_id == id).map(|c| c.reach.clone());
    let demo = lexica.get_source(&admin, db::DEMO_SOURCE_NAME).await.unwrap();

    assert_eq!(checked.len(), 5, "only the lawyer's searchable sources: {checked:?}");
    assert_eq!(reach(up.id), Some(Reach::Ready), "{checked:?}");
    assert_eq!(reach(demo.id), Some(Reach::Ready), "the demo bundle opens: {checked:?}");
    assert_eq!(
        reach(asks.id),
        Some(Reach::SignIn { request: SignInRequest { user_name: false, refused: false } }),
        "{checked:?}"
    );
    match reach(down.id) {
        Some(Reach::Unreachable { message }) => {
            assert!(message.contains(&dead_port.to_string()) || message.contains("refused"), "{message}");
        }
        other => panic!("a closed port is unreachable, got {other:?}"),
    }
    match reach(hangs.id) {
        Some(Reach::Unreachable { message }) => assert!(!message.is_empty()),
        other => panic!("a silent server is unreachable, got {other:?}"),
    }
    // A ready source's pool is kept: checking again is instant for it, and still ready. The failing ones are tried
    // again, side by side: the silent one sets the time, within its limit (plus slack for a busy machine).
    let started = Instant::now();
    let again = lexica.check_sources(&lawyer).await.unwrap();
    let took = started.elapsed();
    assert_eq!(again.iter().find(|c| c.source_id == up.id).map(|c| c.reach.clone()), Some(Reach::Ready));
    assert_eq!(again.iter().find(|c| c.source_id == demo.id).map(|c| c.reach.clone()), Some(Reach::Ready));
    assert!(matches!(
        again.iter().find(|c| c.source_id == hangs.id).map(|c| &c.reach),
        Some(Reach::Unreachable { .. })
    ));
    assert!(took < CHECK_LIMIT + Duration::from_secs(3), "took {took:?}");
    held.abort();
}
