//! Source passwords in the real OS keychain (gnome-keyring's Secret Service, inside the private
//! D-Bus session tests/run-all.sh starts), checked from outside with `secret-tool`, and used to
//! connect to a real PostgreSQL role that requires a password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use lexica_core::credentials::{KEYCHAIN_SERVICE, Keychain, Secret};
use lexica_core::models::SourceChanges;
use lexica_core::{Lexica, User};

async fn install() -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), Keychain::platform()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    (dir, lexica, admin)
}

fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", KEYCHAIN_SERVICE, "username", account])
        .output()
        .unwrap();
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

fn secret_tool_store(account: &str, password: &str) {
    let mut child = Command::new("secret-tool")
        .args(["store", "--label", "Lexica test", "service", KEYCHAIN_SERVICE, "username", account])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn a_password_stored_by_lexica_is_read_back_by_secret_tool() {
    if !support::real_keyring() {
        return;
    }
    let (_d, lexica, admin) = install().await;
    let changes = SourceChanges {
        display_name: Some("KC".into()),
        database_url: Some(Some("postgres://reader@db.invalid/x".into())),
        ..Default::default()
    };
    let source = lexica.add_source(&admin, "kc_roundtrip", changes).await.unwrap();
    let account = source.id.to_string();
    lexica.set_source_password(&admin, "kc_roundtrip", &Secret::new("Lexica-KC-Roundtrip-7731")).await.unwrap();
    assert_eq!(secret_tool_lookup(&account).as_deref(), Some("Lexica-KC-Roundtrip-7731"));
    let stamped = lexica.get_source(&admin, "kc_roundtrip").await.unwrap();
    assert!(stamped.credential_updated_at.is_some());

    assert!(lexica.clear_source_password(&admin, "kc_roundtrip").await.unwrap());
    assert_eq!(secret_tool_lookup(&account), None);
    assert!(!lexica.clear_source_password(&admin, "kc_roundtrip").await.unwrap());

    // Removing a source removes its credential.
    lexica.set_source_password(&admin, "kc_roundtrip", &Secret::new("Lexica-KC-Again-1")).await.unwrap();
    assert!(secret_tool_lookup(&account).is_some());
    lexica.remove_source(&admin, "kc_roundtrip").await.unwrap();
    assert_eq!(secret_tool_lookup(&account), None);
}

#[tokio::test]
async fn a_password_stored_with_secret_tool_connects_to_a_password_protected_role() {
    if !support::real_keyring() {
        return;
    }
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install().await;
    let db = support::opinion_database(&pg, 6).await;
    let role = support::reader_role(&pg, &db, "Kc-Outside-Stored-42").await;
    let changes = SourceChanges {
        display_name: Some("Firm".into()),
        database_url: Some(Some(support::url_for(&pg, &role, &db))),
        ..Default::default()
    };
    let source = lexica.add_source(&admin, "kc_outside", changes).await.unwrap();

    // Without a password the server says no, and Lexica says what to do.
    let err = lexica.source_opinion_count(&source).await.unwrap_err().to_string();
    assert!(err.contains("set-password kc_outside"), "{err}");

    // Stored outside Lexica: while the app database records no password for the source
    // (`credential_updated_at` NULL), the keychain is not asked (issue 13, item 8: a source
    // without one needs no keychain), so the server still says no.
    secret_tool_store(&source.id.to_string(), "Kc-Outside-Stored-42");
    let err = lexica.source_opinion_count(&source).await.unwrap_err().to_string();
    assert!(err.contains("set-password kc_outside"), "{err}");
    // Once the install records that a password exists (`set-password` stamps it), the failed
    // attempts above left no pool behind, and the next call reads the keychain afresh.
    lexica_core::testing::queries::data_sources::stamp_credential(lexica_core::testing::db(&lexica), source.id)
        .await
        .unwrap();
    let source = lexica.get_source(&admin, "kc_outside").await.unwrap();
    assert_eq!(lexica.source_opinion_count(&source).await.unwrap(), 6);
    let report = lexica.test_source(&admin, "kc_outside").await.unwrap();
    assert_eq!(report.status(), lexica_core::sources::doctor::CheckStatus::Ok, "{report:#?}");
    lexica.remove_source(&admin, "kc_outside").await.unwrap();
}
