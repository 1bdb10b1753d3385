//! Issue 13, item 5: a stored password was given for one server and role. An edit that points
//! the source at another host, port or user removes it from the OS keychain (checked from
//! outside with `secret-tool`, in the real Secret Service session tests/run-all.sh starts), and
//! says so; edits that keep the server keep it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use lexica_core::credentials::{KEYCHAIN_SERVICE, Keychain, Secret};
use lexica_core::models::SourceChanges;
use lexica_core::{Lexica, User};

fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", KEYCHAIN_SERVICE, "username", account])
        .output()
        .unwrap();
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

fn url(url: &str) -> SourceChanges {
    SourceChanges { database_url: Some(Some(url.into())), ..SourceChanges::default() }
}

async fn set(lexica: &Lexica, admin: &User, account: &str) {
    lexica.set_source_password(admin, "moving", &Secret::new("Lexica-Moving-4411")).await.unwrap();
    assert_eq!(secret_tool_lookup(account).as_deref(), Some("Lexica-Moving-4411"));
}

#[tokio::test]
async fn changing_host_port_or_user_removes_the_stored_password() {
    if !support::real_keyring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), Keychain::platform()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let changes = SourceChanges { display_name: Some("Moving".into()), ..url("postgres://reader@db1.invalid/ny") };
    let source = lexica.add_source(&admin, "moving", changes).await.unwrap();
    let account = source.id.to_string();
    set(&lexica, &admin, &account).await;

    // Same server: another display name, another database, an sslmode, the default port spelled out.
    let keep = [
        SourceChanges { display_name: Some("Moving on".into()), ..SourceChanges::default() },
        url("postgres://reader@db1.invalid/other"),
        url("postgres://reader@DB1.invalid:5432/other?sslmode=verify-full"),
    ];
    for changes in keep {
        let edit = lexica.edit_source_reporting(&admin, "moving", changes).await.unwrap();
        assert!(!edit.password_cleared);
        assert_eq!(secret_tool_lookup(&account).as_deref(), Some("Lexica-Moving-4411"));
    }

    // Another host, port or user (or no PostgreSQL server at all): the password goes. Each case
    // starts from reader@db1.invalid:5432 with the password stored.
    for moved in [
        "postgres://reader@db2.invalid/other",
        "postgres://reader@db1.invalid:5433/other",
        "postgres://auditor@db1.invalid/other",
        "sqlite:sources/moving.sqlite",
    ] {
        let edit = lexica.edit_source_reporting(&admin, "moving", url(moved)).await.unwrap();
        assert!(edit.password_cleared, "{moved}");
        assert_eq!(secret_tool_lookup(&account), None, "{moved}: the keychain still holds the old password");
        // The JSON a script reads (`lexica --json sources edit`) says so too.
        let json = serde_json::to_value(&edit).unwrap();
        assert_eq!(json["password_cleared"], true);
        assert_eq!(json["name"], "moving");
        // Back to the first server: nothing left to remove, and the password is set again.
        let back = lexica.edit_source_reporting(&admin, "moving", url("postgres://reader@db1.invalid/other")).await;
        assert!(!back.unwrap().password_cleared);
        set(&lexica, &admin, &account).await;
    }
    lexica.remove_source(&admin, "moving").await.unwrap();
    lexica.close().await;
}

/// The same rule for a provisioning file: an import that moves a source to another host removes
/// its stored password (a dry run only says it would); one that keeps the server keeps it.
#[tokio::test]
async fn a_provisioning_file_that_moves_a_source_removes_its_password() {
    if !support::real_keyring() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), Keychain::platform()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let changes = SourceChanges { display_name: Some("Moving".into()), ..url("postgres://reader@db1.invalid/ny") };
    let source = lexica.add_source(&admin, "moving", changes).await.unwrap();
    let account = source.id.to_string();
    set(&lexica, &admin, &account).await;
    let file = |url: &str| {
        format!(
            "[[users]]\nusername = \"{}\"\nadmin = true\n\n[[sources]]\nname = \"moving\"\ndisplay_name = \"Moving\"\ndatabase_url = \"{url}\"\n",
            admin.username
        )
    };

    let same =
        lexica.provision_import(&admin, &file("postgres://reader@db1.invalid/other"), false, false).await.unwrap();
    assert!(same.passwords_cleared.is_empty(), "{same:?}");
    assert_eq!(secret_tool_lookup(&account).as_deref(), Some("Lexica-Moving-4411"));

    let moved = file("postgres://reader@db2.invalid/other");
    let preview = lexica.provision_import(&admin, &moved, false, true).await.unwrap();
    assert_eq!(preview.passwords_cleared, vec!["moving".to_string()]);
    assert_eq!(secret_tool_lookup(&account).as_deref(), Some("Lexica-Moving-4411"), "a dry run removed it");

    let applied = lexica.provision_import(&admin, &moved, false, false).await.unwrap();
    assert_eq!(applied.passwords_cleared, vec!["moving".to_string()]);
    assert_eq!(secret_tool_lookup(&account), None, "the keychain still holds the old server's password");
    let after = lexica.get_source(&admin, "moving").await.unwrap();
    assert_eq!(after.database_url.as_deref(), Some("postgres://reader@db2.invalid/other"));
    lexica.remove_source(&admin, "moving").await.unwrap();
    lexica.close().await;
}
