//! `--as` as issue 13 (item 1) reproduced it: a non-admin OS account ran
//! `lexica --as root users set-admin lawyer` and became an administrator. Now the OS login is
//! who acts; `--as` is honoured only for an OS login that is an administrator, and logged.
//!
//! These tests run as the real OS login (no override exists): a new install makes it the first
//! administrator, and the tests demote it where they need a non-admin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use serde_json::Value;

fn lexica(home: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("lexica").unwrap().env_remove("LEXICA_HOME").arg("--home").arg(home).args(args).assert()
}

fn json(home: &std::path::Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&lexica(home, &all).success().get_output().stdout).unwrap()
}

fn my_login(home: &std::path::Path) -> String {
    let users = json(home, &["users", "list"]);
    users.as_array().unwrap().iter().find(|u| u["is_admin"] == true).unwrap()["username"].as_str().unwrap().to_string()
}

#[test]
fn a_non_admin_os_login_cannot_make_itself_admin_with_as() {
    let home = tempfile::tempdir().unwrap();
    let me = my_login(home.path());
    // The reproduction said `--as root`; `chief` stands for it (the tests may run as root).
    lexica(home.path(), &["users", "add", "chief", "--admin"]).success();
    lexica(home.path(), &["users", "add", "lawyer"]).success();
    // The OS login stops being an administrator; `chief` (a name in the install) still is one.
    lexica(home.path(), &["users", "set-admin", &me, "--revoke"]).success();

    for target in ["lawyer", me.as_str()] {
        let out = lexica(home.path(), &["--as", "chief", "users", "set-admin", target]).code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("--as") && stderr.contains(&me), "{stderr}");
    }
    // Nothing changed: no administrator but chief, and the OS login is still refused admin commands.
    let refused = lexica(home.path(), &["users", "list"]).code(1).get_output().clone();
    assert!(String::from_utf8(refused.stderr).unwrap().contains("needs an administrator"));
    let out = lexica(home.path(), &["--json", "--as", &me, "sources", "list"]).success().get_output().clone();
    let sources: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(sources.as_array().unwrap().iter().all(|s| s["name"] != "ny_appeals"), "non-admin view: {sources}");
}

#[test]
fn an_admin_os_login_may_act_as_someone_else_and_it_is_logged() {
    let home = tempfile::tempdir().unwrap();
    let me = my_login(home.path());
    lexica(home.path(), &["users", "add", "clerk"]).success();
    lexica(home.path(), &["--as", "clerk", "sources", "list"]).success();
    let log = std::fs::read_to_string(home.path().join("logs").join("lexica-cli.log")).unwrap();
    let line = log.lines().find(|l| l.contains("acting as another user")).unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains(&me) && line.contains("clerk"), "{line}");
    // And what clerk may not do is still refused.
    let out = lexica(home.path(), &["--as", "clerk", "users", "list"]).code(1).get_output().clone();
    assert!(String::from_utf8(out.stderr).unwrap().contains("needs an administrator"));
}
