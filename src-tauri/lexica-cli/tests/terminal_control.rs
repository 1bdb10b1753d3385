//! Nothing the CLI prints for people carries terminal control from its data: an opinion whose
//! text holds ANSI escapes (recolouring, clearing the screen, setting the window title), and
//! errors and queries that echo such bytes, reach the terminal without them (issue #13 item 9).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The bytes the test plants: SGR red, clear screen, an OSC window title, a C1 CSI, a bell.
const PLANTED: &[&str] = &["\x1b[31m", "\x1b[2J", "\x1b]0;pwned\x07", "\u{9b}", "\x07"];

fn lexica(home: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("lexica")
        .unwrap()
        .env_remove("LEXICA_HOME")
        .env_remove("RUST_LOG")
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap()
}

fn has_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control() && *c != '\n' && *c != '\t')
}

#[test]
fn an_opinion_with_ansi_escapes_prints_without_them() {
    let home = tempfile::tempdir().unwrap();
    let opinion = serde_json::json!({
        "source_id": "evil-1",
        "case_name": "People v. \x1b[31mRed\x1b[0m",
        "citation": "1 N.Y.3d 1",
        "court": "Court of Appeals\x1b]0;pwned\x07",
        "jurisdiction": "NY",
        "decided_on": "2020-01-02",
        "docket_number": "No. 1\u{9b}2J",
        "body": "The \x1b[31m hearsay \x1b[0m objection was overruled.\x1b[2J The witness testified.\x07",
    });
    let jsonl = home.path().join("evil.jsonl");
    std::fs::write(&jsonl, format!("{opinion}\n")).unwrap();
    let bundle = home.path().join("evil.sqlite");
    let ingest = lexica(home.path(), &["ingest", jsonl.to_str().unwrap(), "--into", bundle.to_str().unwrap()]);
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    let url = format!("sqlite:{}", bundle.display());
    let add = lexica(home.path(), &["sources", "add", "evil", "--display-name", "Evil", "--url", &url]);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let users: Value = serde_json::from_slice(&lexica(home.path(), &["--json", "users", "list"]).stdout).unwrap();
    let me = users.as_array().unwrap()[0]["username"].as_str().unwrap().to_string();
    assert!(lexica(home.path(), &["grants", "grant", &me, "evil"]).status.success());

    let out = lexica(home.path(), &["search", "hearsay", "--source", "evil"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    // The opinion was found and printed: the test would pass vacuously otherwise.
    assert!(stdout.contains("People v. Red") && stdout.contains("*hearsay*"), "{stdout}");
    assert!(stdout.contains("Court of Appeals") && stdout.contains("No. 12J"), "{stdout}");
    assert_eq!(has_control(&stdout), None, "stdout: {stdout:?}");
    assert_eq!(has_control(&stderr), None, "stderr: {stderr:?}");

    // The history echoes the query; `--json` keeps the data exact (escaped by JSON).
    let history = String::from_utf8(lexica(home.path(), &["history"]).stdout).unwrap();
    assert!(history.contains("hearsay"), "{history}");
    assert_eq!(has_control(&history), None, "{history:?}");
    let json = lexica(home.path(), &["--json", "search", "hearsay", "--source", "evil"]).stdout;
    let json: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["hits"][0]["case_name"], "People v. \x1b[31mRed\x1b[0m");
}

#[test]
fn errors_and_queries_that_echo_escapes_print_without_them() {
    let home = tempfile::tempdir().unwrap();
    // A name is quoted back in a "not found" error.
    let name = format!("ghost{}", PLANTED.concat());
    let out = lexica(home.path(), &["sources", "show", &name]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: ") && stderr.contains("ghost"), "{stderr}");
    assert_eq!(has_control(stderr.trim_end()), None, "{stderr:?}");

    // A malformed query is drawn back with a caret under the problem.
    let query = format!("hearsay {} /p (object", PLANTED.concat());
    for args in [vec!["query", "check", query.as_str()], vec!["search", query.as_str()]] {
        let out = lexica(home.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("hearsay"), "{args:?}: {stderr}");
        assert_eq!(has_control(&stderr), None, "{args:?}: {stderr:?}");
        assert_eq!(has_control(&String::from_utf8(out.stdout).unwrap()), None, "{args:?}");
    }

    // A well-formed query that carries escapes (inside a phrase) is echoed by `query check`.
    let out = lexica(home.path(), &["query", "check", "\"hearsay \x1b[31m objection\""]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(has_control(&stdout), None, "{stdout:?}");
}
