//! Issue 12 (the settings window): the views the window shows, on a real PostgreSQL source and the
//! real Secret Service keychain — the Sources table's password state and last test result (app
//! migration 0006), and the users × sources grid with the reason a user cannot search a source.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::SourceChanges;
use lexica_core::sources::doctor::CheckStatus;
use lexica_core::{ErrorKind, ErrorReport, Lexica, PermissionLevel};

fn source(display: &str, url: &str) -> SourceChanges {
    SourceChanges {
        display_name: Some(display.into()),
        database_url: Some(Some(url.into())),
        source_type: Some("postgres".into()),
        ..SourceChanges::default()
    }
}

/// The table starts with no test result and no password; a password set shows as stored; a test
/// keeps its verdict (ok for the working source, error with the doctor's sentence for the seeded
/// source that has no URL) with when and who; clearing the password shows again.
#[tokio::test]
async fn the_sources_table_shows_the_password_state_and_the_last_test() {
    let (Some(pg), true) = (support::pg_admin_url(), support::real_keyring()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), Keychain::platform()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let db = support::opinion_database(&pg, 3).await;
    let role = support::reader_role(&pg, &db, "Settings-View-8812").await;
    lexica.add_source(&admin, "firm_db", source("Firm DB", &support::url_for(&pg, &role, &db))).await.unwrap();

    let view = lexica.sources_view(&admin).await.unwrap();
    let row = view.sources.iter().find(|r| r.source.name == "firm_db").unwrap();
    assert!(!row.password_stored);
    assert_eq!(row.last_test, None);
    assert_eq!(view.keychain, lexica.keychain().store_name());

    lexica.set_source_password(&admin, "firm_db", &Secret::new("Settings-View-8812")).await.unwrap();
    let report = lexica.test_source(&admin, "firm_db").await.unwrap();
    assert_ne!(report.status(), CheckStatus::Error, "{report:?}");
    let seeded = lexica.test_source(&admin, lexica_core::db::SEED_SOURCE_NAME).await.unwrap();
    assert_eq!(seeded.status(), CheckStatus::Error);

    let view = lexica.sources_view(&admin).await.unwrap();
    let row = view.sources.iter().find(|r| r.source.name == "firm_db").unwrap();
    assert!(row.password_stored);
    assert_eq!(row.keychain_problem, None);
    let last = row.last_test.as_ref().unwrap();
    assert_eq!(last.status, report.status());
    assert_eq!(last.tested_by.as_deref(), Some(admin.username.as_str()));
    assert!((chrono::Utc::now() - last.tested_at).num_seconds() < 60);
    let ny = view.sources.iter().find(|r| r.source.name == lexica_core::db::SEED_SOURCE_NAME).unwrap();
    let ny_test = ny.last_test.as_ref().unwrap();
    assert_eq!(ny_test.status, CheckStatus::Error);
    let first_error = seeded.checks.iter().find(|c| c.status == CheckStatus::Error).unwrap();
    assert!(ny_test.summary.contains(&first_error.message), "{ny_test:?}");
    // Nothing the view returns holds the password.
    assert!(!serde_json::to_string(&view).unwrap().contains("Settings-View-8812"));

    lexica.clear_source_password(&admin, "firm_db").await.unwrap();
    let view = lexica.sources_view(&admin).await.unwrap();
    assert!(!view.sources.iter().find(|r| r.source.name == "firm_db").unwrap().password_stored);

    // The verdict goes with its source.
    lexica.remove_source(&admin, "firm_db").await.unwrap();
    assert!(lexica.sources_view(&admin).await.unwrap().sources.iter().all(|r| r.source.name != "firm_db"));
    lexica.close().await;
}

/// The grid: one row per user, one cell per source, with who granted what, and the reason a user
/// cannot search (no grant, disabled, search switched off). Non-admins are refused every view.
#[tokio::test]
async fn the_access_grid_says_why_a_user_cannot_search() {
    let dir = tempfile::tempdir().unwrap();
    let store = keyring_core::mock::Store::new().unwrap();
    let lexica =
        Lexica::open_with_keychain(Some(dir.path().to_path_buf()), Keychain::with_store(store, "mock")).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let lawyer = lexica.add_user(&admin, "lawyer", Some("A Lawyer"), false).await.unwrap();
    let demo = lexica_core::db::DEMO_SOURCE_NAME;
    lexica.grant(&admin, "lawyer", demo, PermissionLevel::Read).await.unwrap();

    let cell = |rows: &[lexica_core::settings::AccessRow], user: &str, source: &str| {
        let row = rows.iter().find(|r| r.user.username == user).unwrap();
        row.cells.iter().find(|c| c.source_name == source).unwrap().clone()
    };
    let grid = lexica.access_grid(&admin).await.unwrap();
    let granted = cell(&grid, "lawyer", demo);
    assert_eq!(granted.level, Some(PermissionLevel::Read));
    assert_eq!(granted.granted_by.as_deref(), Some(admin.username.as_str()));
    assert!(granted.can_search && granted.reason.is_none() && granted.granted_at.is_some());
    let none = cell(&grid, "lawyer", lexica_core::db::SEED_SOURCE_NAME);
    assert_eq!(none.level, None);
    assert!(!none.can_search);
    assert!(none.reason.unwrap().contains("not shared"));

    let off = SourceChanges { search_enabled: Some(false), ..SourceChanges::default() };
    lexica.edit_source(&admin, demo, off).await.unwrap();
    let reason = cell(&lexica.access_grid(&admin).await.unwrap(), "lawyer", demo).reason.unwrap();
    assert!(reason.contains("search enabled"), "{reason}");
    lexica.set_source_active(&admin, demo, false).await.unwrap();
    let reason = cell(&lexica.access_grid(&admin).await.unwrap(), "lawyer", demo).reason.unwrap();
    assert!(reason.contains("disabled"), "{reason}");

    for refused in [
        lexica.access_grid(&lawyer).await.map(drop),
        lexica.sources_view(&lawyer).await.map(drop),
        lexica.test_source(&lawyer, demo).await.map(drop),
    ] {
        assert_eq!(ErrorReport::from(&refused.unwrap_err()).kind, ErrorKind::Forbidden);
    }
    lexica.close().await;
}
