//! Credentials (issue 13, item 8): `provision import --prune` takes the pruned sources' passwords
//! out of the keychain, and a user who is not an administrator sees no host, role or database.
//! (A source without a password connecting with no keychain reachable is tested from outside, in
//! lexica-cli/tests/keychain.rs: it needs the process environment.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::{Lexica, User};

fn mock_keychain() -> Keychain {
    Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain")
}

async fn install() -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), mock_keychain()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    (dir, lexica, admin)
}

fn pg_source(url: &str) -> SourceChanges {
    SourceChanges {
        display_name: Some("Firm NY".into()),
        database_url: Some(Some(url.into())),
        ..SourceChanges::default()
    }
}

#[tokio::test]
async fn prune_deletes_the_pruned_sources_passwords_and_dry_run_keeps_them() {
    let (_dir, lexica, admin) = install().await;
    lexica.add_source(&admin, "gone", pg_source("postgres://reader@db.example/gone")).await.unwrap();
    lexica.add_source(&admin, "kept", pg_source("postgres://reader@db.example/kept")).await.unwrap();
    let gone = lexica.set_source_password(&admin, "gone", &Secret::new("gone-pw")).await.unwrap();
    let kept = lexica.set_source_password(&admin, "kept", &Secret::new("kept-pw")).await.unwrap();
    let file = format!(
        "[[users]]\nusername = \"{}\"\nadmin = true\n\n[[sources]]\nname = \"kept\"\ndisplay_name = \"Firm NY\"\n\
         database_url = \"postgres://reader@db.example/kept\"\n",
        admin.username
    );

    lexica.provision_import(&admin, &file, true, true).await.unwrap();
    assert_eq!(lexica.keychain().password(gone.id).await.unwrap(), Some(Secret::new("gone-pw")), "dry run");

    let report = lexica.provision_import(&admin, &file, true, false).await.unwrap();
    assert!(report.items.iter().any(|i| i.name == "gone"), "{report:?}");
    assert_eq!(lexica.keychain().password(gone.id).await.unwrap(), None, "the pruned source's password stayed");
    assert_eq!(lexica.keychain().password(kept.id).await.unwrap(), Some(Secret::new("kept-pw")));
    lexica.close().await;
}

#[tokio::test]
async fn a_non_admin_sees_no_host_role_or_database() {
    let (_dir, lexica, admin) = install().await;
    let url = "postgres://secret_reader@db-host.firm.example:5433/secret_opinions_db?sslmode=require";
    lexica.add_source(&admin, "firm_ny", pg_source(url)).await.unwrap();
    lexica.add_user(&admin, "clerk", None, false).await.unwrap();
    lexica.grant(&admin, "clerk", "firm_ny", PermissionLevel::Read).await.unwrap();
    let clerk = lexica_core::testing::queries::users::get_by_username(lexica_core::testing::db(&lexica), "clerk")
        .await
        .unwrap()
        .unwrap();

    let listed = lexica.list_sources(&clerk).await.unwrap();
    let shown = lexica.get_source(&clerk, "firm_ny").await.unwrap();
    let seen = serde_json::to_string(&(&listed, &shown)).unwrap();
    for hidden in ["db-host", "5433", "secret_reader", "secret_opinions_db", "sslmode"] {
        assert!(!seen.contains(hidden), "a non-admin sees `{hidden}`: {seen}");
    }
    // Still configured, and of which kind: the URL is cut to its scheme.
    assert_eq!(shown.database_url.as_deref(), Some("postgres://"));
    assert_eq!(listed.iter().find(|s| s.name == "firm_ny").unwrap().database_url.as_deref(), Some("postgres://"));

    // Administrators see it whole.
    assert_eq!(lexica.get_source(&admin, "firm_ny").await.unwrap().database_url.as_deref(), Some(url));
    lexica.close().await;
}
