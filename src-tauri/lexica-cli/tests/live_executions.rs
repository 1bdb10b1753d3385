//! Issue 13, item 2, as it was reproduced: `lexica sources list` run during a search marked the
//! search's execution `failed: interrupted` from another process. Here one process searches a
//! source that never answers while others open the same install; and a search process killed
//! with SIGKILL has its execution closed by the next command.
//!
//! Source passwords come from the kernel keyring (`LEXICA_KEYCHAIN=keyutils`; the source has
//! none stored), so no Secret Service is needed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn lexica_cmd(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("lexica"));
    cmd.env_remove("LEXICA_HOME").env("LEXICA_KEYCHAIN", "keyutils").arg("--home").arg(home).args(args);
    cmd
}

fn json(home: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = lexica_cmd(home, &all).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A listener that accepts connections and never says a word; its port.
fn black_hole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// An install whose OS login may search `black_hole`.
fn install() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let me = json(home.path(), &["users", "list"])[0]["username"].as_str().unwrap().to_string();
    let url = format!("postgres://reader@127.0.0.1:{}/opinions?sslmode=disable", black_hole());
    json(home.path(), &["sources", "add", "black_hole", "--display-name", "Never answers", "--url", &url]);
    json(home.path(), &["grants", "grant", &me, "black_hole"]);
    home
}

fn start_search(home: &Path, deadline_s: &str) -> Child {
    lexica_cmd(home, &["search", "duty /s care", "--source", "black_hole", "--deadline", deadline_s])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The newest search's one execution, as `history --json` shows it (itself an open of the install).
fn newest_execution(home: &Path) -> Option<Value> {
    json(home, &["history"]).as_array().unwrap().first().map(|s| s["executions"][0].clone())
}

/// Polls `history` until the search's execution leaves `pending`; it must then be `running`
/// (each poll is itself another process opening the install, so a poll that finds it closed as
/// `interrupted` has reproduced the bug).
fn wait_until_running(home: &Path) {
    let started = Instant::now();
    loop {
        if let Some(execution) = newest_execution(home)
            && execution["status"] != "pending"
        {
            assert_eq!(execution["status"], "running", "another command closed the live search: {execution}");
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the search never started running");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn other_commands_during_a_search_leave_its_execution_running() {
    let home = install();
    let mut search = start_search(home.path(), "6");
    wait_until_running(home.path());
    // The reproduction: any command opens the install while the search runs.
    json(home.path(), &["sources", "list"]);
    let during = newest_execution(home.path()).unwrap();
    assert_eq!(during["status"], "running", "{during}");
    search.wait().unwrap();
    let after = newest_execution(home.path()).unwrap();
    assert_eq!(after["status"], "timed_out", "the history says what happened: {after}");
    assert!(!after["error_message"].as_str().unwrap_or_default().contains("interrupted"), "{after}");
}

#[test]
fn a_killed_search_is_closed_by_the_next_command() {
    let home = install();
    let mut search = start_search(home.path(), "60");
    wait_until_running(home.path());
    search.kill().unwrap(); // SIGKILL: nothing of Lexica runs on the way out
    search.wait().unwrap();
    let closed = newest_execution(home.path()).unwrap();
    assert_eq!(closed["status"], "failed", "{closed}");
    assert!(closed["error_message"].as_str().unwrap().contains("interrupted"), "{closed}");
}
