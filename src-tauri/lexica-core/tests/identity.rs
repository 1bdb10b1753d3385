//! Who is acting (issue 13, item 1): the OS login, never a name the caller asserts; acting as
//! someone else only for an OS login that is an administrator; admin checks re-read the user
//! from the app database instead of trusting the `User` value they are handed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_core::{Error, Lexica, User};

/// A fresh install (its OS login is the first administrator) with `boss` (admin) and `clerk`.
async fn install() -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    assert!(me.is_admin, "the OS login is the install's first administrator");
    lexica.add_user(&me, "boss", None, true).await.unwrap();
    lexica.add_user(&me, "clerk", None, false).await.unwrap();
    (dir, lexica, me)
}

#[tokio::test]
async fn a_non_admin_os_login_cannot_act_as_an_administrator() {
    let (_dir, lexica, me) = install().await;
    // The OS login stops being an administrator (boss still is, so this is allowed).
    lexica.set_admin(&me, &me.username, false).await.unwrap();

    let err = lexica.acting_user(Some("boss")).await.unwrap_err();
    assert!(matches!(err, Error::NotAdmin { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("--as") && text.contains(&me.username), "{text}");
    // Acting as oneself by name is just the OS login.
    assert_eq!(lexica.acting_user(Some(&me.username)).await.unwrap().id, me.id);
    lexica.close().await;
}

#[tokio::test]
async fn an_admin_os_login_may_act_as_another_user() {
    let (_dir, lexica, _me) = install().await;
    let clerk = lexica.acting_user(Some("clerk")).await.unwrap();
    assert_eq!(clerk.username, "clerk");
    assert!(!clerk.is_admin);
    assert!(matches!(lexica.acting_user(Some("nobody")).await, Err(Error::UnknownUser(_))));
    lexica.close().await;
}

#[tokio::test]
async fn a_forged_admin_flag_grants_nothing() {
    let (_dir, lexica, _me) = install().await;
    let mut forged = lexica.acting_user(Some("clerk")).await.unwrap();
    forged.is_admin = true;
    for result in [
        lexica.add_user(&forged, "intruder", None, true).await.map(|_| ()),
        lexica.set_admin(&forged, "clerk", true).await.map(|_| ()),
        lexica.list_users(&forged).await.map(|_| ()),
        lexica.history(&forged, 10, true).await.map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::NotAdmin { .. })), "{result:?}");
    }
    // Reads scoped by the flag see what the real clerk sees: nothing shared with them.
    assert!(lexica.list_sources(&forged).await.unwrap().is_empty());
    assert!(lexica.get_source(&forged, "ny_appeals").await.is_err());
    let me = lexica.acting_user(None).await.unwrap();
    assert!(!lexica.acting_user(Some("clerk")).await.unwrap().is_admin);
    assert!(lexica.list_users(&me).await.unwrap().iter().all(|u| u.username != "intruder"));
    lexica.close().await;
}

#[tokio::test]
async fn an_admin_demoted_meanwhile_is_refused_with_the_value_read_before() {
    let (dir, lexica, me) = install().await;
    let boss = lexica.acting_user(Some("boss")).await.unwrap();
    assert!(boss.is_admin);
    // Another process (another handle on the same install) revokes boss.
    let other = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    other.set_admin(&me, "boss", false).await.unwrap();
    other.close().await;

    let err = lexica.add_user(&boss, "late", None, false).await.unwrap_err();
    assert!(matches!(err, Error::NotAdmin { .. }), "{err:?}");
    lexica.close().await;
}
