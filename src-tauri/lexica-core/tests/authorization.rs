//! Admin actions are refused for non-admins in the core itself, so every face obeys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::{Error, ErrorKind, Lexica};

#[tokio::test]
async fn non_admins_are_refused_every_admin_action_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let source = SourceChanges {
        display_name: Some("Firm".into()),
        database_url: Some(Some("postgres://reader@db/firm".into())),
        ..SourceChanges::default()
    };
    lexica.add_source(&admin, "firm", source.clone()).await.unwrap();
    let clerk = lexica.add_user(&admin, "clerk", None, false).await.unwrap();
    lexica.grant(&admin, "clerk", "firm", PermissionLevel::Read).await.unwrap();
    let before = lexica.provision_export(&admin).await.unwrap();

    let refusals: Vec<Result<(), Error>> = vec![
        lexica.list_users(&clerk).await.map(drop),
        lexica.add_user(&clerk, "x2", None, false).await.map(drop),
        lexica.remove_user(&clerk, "clerk").await,
        lexica.set_admin(&clerk, "clerk", true).await.map(drop),
        lexica.add_source(&clerk, "other", source.clone()).await.map(drop),
        lexica.edit_source(&clerk, "firm", SourceChanges::default()).await.map(drop),
        lexica.set_source_active(&clerk, "firm", false).await.map(drop),
        lexica.remove_source(&clerk, "firm").await.map(drop),
        lexica.grant(&clerk, "clerk", "ny_appeals", PermissionLevel::Read).await.map(drop),
        lexica.revoke(&clerk, "clerk", "firm").await.map(drop),
        lexica.list_grants(&clerk, Some(&admin.username)).await.map(drop),
        lexica.history(&clerk, 10, true).await.map(drop),
        lexica.provision_import(&clerk, "", false, false).await.map(drop),
        lexica.provision_export(&clerk).await.map(drop),
    ];
    for (i, r) in refusals.into_iter().enumerate() {
        let err = r.expect_err(&format!("action {i} must be refused"));
        assert_eq!(err.kind(), ErrorKind::Forbidden, "action {i}: {err}");
        assert!(err.to_string().contains("needs an administrator"), "{err}");
    }
    assert_eq!(
        lexica.provision_export(&admin).await.unwrap().lines().skip(3).collect::<Vec<_>>(),
        before.lines().skip(3).collect::<Vec<_>>()
    );

    // What a non-admin may do: see the sources shared with them, and their own grants.
    let visible: Vec<String> = lexica.list_sources(&clerk).await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(visible, ["firm"]);
    assert!(matches!(lexica.get_source(&clerk, "ny_appeals").await, Err(Error::NotFound { .. })));
    assert_eq!(lexica.list_grants(&clerk, None).await.unwrap().len(), 1);
    assert_eq!(lexica.accessible_sources(&clerk).await.unwrap().len(), 1);
    lexica.set_source_active(&admin, "firm", false).await.unwrap();
    assert!(lexica.accessible_sources(&clerk).await.unwrap().is_empty(), "inactive sources are not searchable");
}

#[tokio::test]
async fn the_last_administrator_stays() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let err = lexica.set_admin(&admin, &admin.username, false).await.unwrap_err();
    assert!(err.to_string().contains("last administrator"), "{err}");
    let err = lexica.remove_user(&admin, &admin.username).await.unwrap_err();
    assert!(err.to_string().contains("cannot remove yourself"), "{err}");
    assert!(matches!(lexica.acting_user(Some("nobody")).await, Err(Error::UnknownUser(_))));
}

#[tokio::test]
async fn validation_names_the_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let bad = SourceChanges {
        display_name: Some("Firm".into()),
        database_url: Some(Some("postgres://reader:s3cret-pw@db/firm".into())),
        ..SourceChanges::default()
    };
    let err = lexica.add_source(&admin, "firm", bad).await.unwrap_err();
    let report = lexica_core::ErrorReport::from(&err);
    assert_eq!(report.kind, ErrorKind::Invalid);
    assert_eq!(report.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["database_url"]);
    assert!(!serde_json::to_string(&report).unwrap().contains("s3cret-pw"));
    assert_eq!(lexica.list_sources(&admin).await.unwrap().len(), 2, "only the seed and demo sources");
    // Editing into an invalid state is refused and leaves the stored row as it was.
    let ny_before = lexica.get_source(&admin, "ny_appeals").await.unwrap();
    let err =
        lexica.edit_source(&admin, "ny_appeals", SourceChanges { is_active: Some(true), ..Default::default() }).await;
    assert!(err.unwrap_err().to_string().contains("database_url: is required for an active source"));
    assert_eq!(lexica.get_source(&admin, "ny_appeals").await.unwrap(), ny_before);
    let err = lexica.add_user(&admin, "has space", None, false).await.unwrap_err();
    assert!(err.to_string().starts_with("username:"), "{err}");
}
