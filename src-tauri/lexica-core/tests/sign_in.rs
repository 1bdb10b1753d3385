//! Lawyers sign in to a source themselves (issue #12, item 8), against a real PostgreSQL source
//! whose roles authenticate by password: a source with no stored password asks the searching
//! user for theirs instead of only failing; a source where each user signs in asks for the user
//! name too and connects nothing until given; a wrong password is refused at sign-in and nothing
//! is kept; remembered sign-ins are in the keychain under the user's own entry, session ones
//! nowhere; a user may sign in only to a source granted to them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use lexica_core::credentials::{Keychain, Secret, personal_account};
use lexica_core::models::{ExecutionStatus, PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchRequest};
use lexica_core::sign_in::SignInRequest;
use lexica_core::{Error, Lexica, User};
use tokio_util::sync::CancellationToken;

async fn search(lexica: &Lexica, user: &User) -> lexica_core::search::SourceOutcome {
    let req = SearchRequest { query: "duty".into(), mode: SearchModeInput::Boolean, ..Default::default() };
    let out = lexica.search(user, &req, CancellationToken::new(), Arc::new(|_| {})).await.unwrap();
    assert_eq!(out.sources.len(), 1, "{:?}", out.sources);
    out.sources.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_lawyer_signs_in_when_a_source_needs_their_password() {
    let Some(pg) = support::pg_admin_url() else { return };
    let db = support::opinion_database(&pg, 3).await;
    let role = support::reader_role(&pg, &db, "right-pw").await;
    let other = support::reader_role(&pg, &db, "other-pw").await;

    let home = tempfile::tempdir().unwrap();
    let store = keyring_core::mock::Store::new().unwrap();
    let keychain = Keychain::with_store(store.clone(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(home.path().to_path_buf()), keychain.clone()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&admin, &admin.username, lexica_core::db::DEMO_SOURCE_NAME).await.unwrap();
    let lawyer = lexica.add_user(&admin, "lawyer", None, false).await.unwrap();
    let stranger = lexica.add_user(&admin, "stranger", None, false).await.unwrap();
    let url = support::url_for(&pg, &role, &db);
    let changes = SourceChanges {
        display_name: Some("Own accounts".into()),
        database_url: Some(Some(format!("{url}?sslmode=disable"))),
        ..Default::default()
    };
    lexica.add_source(&admin, "own", changes).await.unwrap();
    lexica.grant(&admin, "lawyer", "own", PermissionLevel::Read).await.unwrap();

    // No password stored: the search fails, and says what to ask for.
    let first = search(&lexica, &lawyer).await;
    assert_eq!(first.status, ExecutionStatus::Failed, "{first:?}");
    assert_eq!(first.sign_in, Some(SignInRequest { user_name: false, refused: false }), "{first:?}");
    assert!(first.error.as_deref().unwrap().contains("sign in"), "{first:?}");

    // A wrong password is refused at sign-in, under its field, and nothing is kept.
    let wrong = lexica.sign_in(&lawyer, "own", None, &Secret::new("wrong"), true).await.unwrap_err();
    assert!(matches!(&wrong, Error::Invalid(e) if e.0[0].field == "password"), "{wrong}");
    assert_eq!(
        keychain.personal_password(lexica.get_source(&admin, "own").await.unwrap().id, lawyer.id).await.unwrap(),
        None
    );
    // Only a granted source takes a sign-in.
    let refused = lexica.sign_in(&stranger, "own", None, &Secret::new("right-pw"), true).await.unwrap_err();
    assert!(matches!(refused, Error::Refused(_)), "{refused}");
    // A source that does not exist is answered the same way (nothing is learnt of it).
    let unknown = lexica.sign_in(&lawyer, "no_such_source", None, &Secret::new("x"), true).await.unwrap_err();
    assert_eq!(unknown.to_string().replace("no_such_source", "own"), refused.to_string());

    // Remembered: in the lawyer's own keychain entry, and the search completes.
    lexica.sign_in(&lawyer, "own", None, &Secret::new("right-pw"), true).await.unwrap();
    let source = lexica.get_source(&admin, "own").await.unwrap();
    assert_eq!(keychain.personal_password(source.id, lawyer.id).await.unwrap(), Some(Secret::new("right-pw")));
    assert_eq!(keychain.password(source.id).await.unwrap(), None, "not the source's shared password");
    let signed = search(&lexica, &lawyer).await;
    assert_eq!(signed.status, ExecutionStatus::Completed, "{signed:?}");
    assert_eq!(signed.results_count, 3);
    // Another user (an admin without a sign-in of their own) is still asked.
    lexica.grant(&admin, &admin.username, "own", PermissionLevel::Read).await.unwrap();
    assert_eq!(search(&lexica, &admin).await.sign_in, Some(SignInRequest { user_name: false, refused: false }));
    // The app database never holds it.
    let bytes = std::fs::read(lexica.home().database_path()).unwrap();
    assert!(!bytes.windows(8).any(|w| w == b"right-pw"));
    assert!(personal_account(source.id, lawyer.id).contains(&lawyer.id.to_string()));

    // Each user signs in: the user name is asked for, and nothing connects until given.
    let changes = SourceChanges { each_user_signs_in: Some(true), ..Default::default() };
    lexica.edit_source(&admin, "own", changes).await.unwrap();
    lexica.sign_out(&lawyer, "own").await.unwrap();
    assert_eq!(keychain.personal_password(source.id, lawyer.id).await.unwrap(), None);
    let asked = search(&lexica, &lawyer).await;
    assert_eq!(asked.sign_in, Some(SignInRequest { user_name: true, refused: false }), "{asked:?}");
    let missing = lexica.sign_in(&lawyer, "own", None, &Secret::new("other-pw"), true).await.unwrap_err();
    assert!(matches!(&missing, Error::Invalid(e) if e.0[0].field == "user_name"), "{missing}");
    // For this session only: nothing in the keychain, the search completes as the other role.
    lexica.sign_in(&lawyer, "own", Some(&other), &Secret::new("other-pw"), false).await.unwrap();
    assert_eq!(keychain.personal_password(source.id, lawyer.id).await.unwrap(), None);
    let as_other = search(&lexica, &lawyer).await;
    assert_eq!(as_other.status, ExecutionStatus::Completed, "{as_other:?}");
    let overview_user = lexica.overview().await.unwrap();
    assert_eq!(overview_user.user.username, admin.username);
    assert!(overview_user.sign_in_needed.contains(&source.id), "the admin has not signed in");

    // The server later refuses it (the DBA changed the password): asked again, and told why.
    lexica.sign_in(&lawyer, "own", Some(&other), &Secret::new("other-pw"), false).await.unwrap();
    support::exec(&mut support::admin(&pg).await, &format!("ALTER ROLE {other} PASSWORD 'changed'")).await;
    let stale = search(&lexica, &lawyer).await;
    assert_eq!(stale.status, ExecutionStatus::Failed, "{stale:?}");
    assert_eq!(stale.sign_in, Some(SignInRequest { user_name: true, refused: true }), "{stale:?}");

    // Removing the source removes every remembered sign-in with it.
    lexica.sign_in(&lawyer, "own", Some(&role), &Secret::new("right-pw"), true).await.unwrap();
    assert!(keychain.personal_password(source.id, lawyer.id).await.unwrap().is_some());
    lexica.remove_source(&admin, "own").await.unwrap();
    assert_eq!(keychain.personal_password(source.id, lawyer.id).await.unwrap(), None);
}

/// Removing a user deletes their remembered sign-ins from the keychain (before, the rows went
/// with the user and the passwords stayed in the keychain, orphaned); a refused removal keeps them.
#[tokio::test]
async fn removing_a_user_removes_their_sign_ins() {
    let Some(pg) = support::pg_admin_url() else { return };
    let db = support::opinion_database(&pg, 2).await;
    let role = support::reader_role(&pg, &db, "their-pw").await;

    let home = tempfile::tempdir().unwrap();
    let store = keyring_core::mock::Store::new().unwrap();
    let keychain = Keychain::with_store(store.clone(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(home.path().to_path_buf()), keychain.clone()).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let lawyer = lexica.add_user(&admin, "leaving", None, false).await.unwrap();
    let url = support::url_for(&pg, &role, &db);
    let changes = SourceChanges {
        display_name: Some("Own accounts".into()),
        database_url: Some(Some(format!("{url}?sslmode=disable"))),
        ..Default::default()
    };
    let source = lexica.add_source(&admin, "own", changes).await.unwrap();
    lexica.grant(&admin, "leaving", "own", PermissionLevel::Read).await.unwrap();
    lexica.sign_in(&lawyer, "own", None, &Secret::new("their-pw"), true).await.unwrap();
    assert!(keychain.personal_password(source.id, lawyer.id).await.unwrap().is_some());

    // Refused (an admin cannot remove themself): nothing of anyone's is touched.
    lexica.remove_user(&admin, &admin.username).await.unwrap_err();
    assert!(keychain.personal_password(source.id, lawyer.id).await.unwrap().is_some());

    lexica.remove_user(&admin, "leaving").await.unwrap();
    assert_eq!(keychain.personal_password(source.id, lawyer.id).await.unwrap(), None);
    assert_eq!(keychain.password(source.id).await.unwrap(), None);
}
