//! The `lexica` binary as a user runs it: exit codes, one-line errors, `--json` that parses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use serde_json::Value;

struct Install {
    home: tempfile::TempDir,
}

impl Install {
    fn new() -> Self {
        Install { home: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("lexica")
            .unwrap()
            .env_remove("LEXICA_HOME")
            .arg("--home")
            .arg(self.home.path())
            .args(args)
            .assert()
    }

    fn ok(&self, args: &[&str]) -> String {
        String::from_utf8(self.cmd(args).success().get_output().stdout.clone()).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
    }

    /// Runs a command that must fail with exit 1 and one line on stderr; returns that line.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd(args).code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {stderr}");
        assert!(lines[0].starts_with("error: "), "{stderr}");
        assert!(out.stdout.is_empty());
        lines[0].to_string()
    }
}

#[test]
fn a_new_admin_sets_up_a_source_and_round_trips_a_provisioning_file() {
    let i = Install::new();
    i.ok(&[
        "sources",
        "add",
        "firm_ny",
        "--display-name",
        "Firm NY",
        "--url",
        "postgres://reader@db.firm.local/ny",
        "--jurisdiction",
        "New York",
    ]);
    i.ok(&["users", "add", "jdoe", "--display-name", "Jane Doe"]);
    let granted = i.ok(&["grants", "grant", "jdoe", "firm_ny"]);
    assert!(granted.contains("jdoe may now search firm_ny"), "{granted}");
    let listed = i.ok(&["sources", "list"]);
    assert!(listed.contains("firm_ny") && listed.contains("postgres://reader@db.firm.local/ny"), "{listed}");
    let file = i.home.path().join("firm.toml");
    i.ok(&["provision", "export", file.to_str().unwrap()]);
    let report = i.json(&["provision", "import", file.to_str().unwrap()]);
    let items = report["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|item| item["outcome"] == "unchanged"), "{report}");
}

#[test]
fn bad_input_gets_one_clear_line_and_changes_nothing() {
    let i = Install::new();
    i.ok(&["sources", "add", "firm_ny", "--display-name", "Firm NY", "--url", "postgres://reader@db/ny"]);
    let before = i.json(&["sources", "list"]);

    let line = i.fails(&["sources", "add", "other", "--display-name", "X", "--url", "postgres//db/ny"]);
    assert!(line.contains("database_url: is not a valid URL"), "{line}");
    let line = i.fails(&["sources", "add", "firm_ny", "--display-name", "X", "--url", "postgres://reader@db/ny"]);
    assert!(line.contains("source `firm_ny` already exists"), "{line}");
    let line =
        i.fails(&["sources", "add", "leaky", "--display-name", "X", "--url", "postgres://reader:Tr0ub4dor@db/ny"]);
    assert!(line.contains("contains a password") && line.contains("set-password"), "{line}");
    assert!(!line.contains("Tr0ub4dor"));
    let line = i.fails(&["sources", "edit", "firm_ny", "--pool-size", "0"]);
    assert!(line.contains("pool_size: must be between 1 and 100"), "{line}");

    assert_eq!(i.json(&["sources", "list"]), before);
}

#[test]
fn non_admins_are_refused_with_exit_1() {
    let i = Install::new();
    i.ok(&["users", "add", "clerk"]);
    for args in [
        vec!["--as", "clerk", "users", "list"],
        vec!["--as", "clerk", "users", "add", "x9"],
        vec!["--as", "clerk", "sources", "add", "x9", "--display-name", "X", "--url", "postgres://h/d"],
        vec!["--as", "clerk", "sources", "disable", "ny_appeals"],
        vec!["--as", "clerk", "grants", "grant", "clerk", "ny_appeals"],
        vec!["--as", "clerk", "provision", "export", "-"],
    ] {
        let line = i.fails(&args);
        assert!(line.contains("needs an administrator") && line.contains("clerk"), "{line}");
    }
    let line = i.fails(&["--as", "stranger", "sources", "list"]);
    assert!(line.contains("not known to this Lexica install"), "{line}");
}

#[test]
fn usage_errors_exit_2() {
    let i = Install::new();
    i.cmd(&["frobnicate"]).code(2);
    i.cmd(&["sources", "add"]).code(2);
    i.cmd(&["grants", "grant", "a", "b", "--level", "owner"]).code(2);
}

#[test]
fn every_command_speaks_json() {
    let i = Install::new();
    let me = i.json(&["users", "list"])[0]["username"].as_str().unwrap().to_string();
    assert!(i.json(&["users", "add", "jdoe"])["id"].is_string());
    assert_eq!(i.json(&["users", "set-admin", "jdoe"])["is_admin"], true);
    assert_eq!(i.json(&["users", "set-admin", "jdoe", "--revoke"])["is_admin"], false);
    assert_eq!(
        i.json(&["sources", "add", "b1", "--display-name", "B", "--url", "sqlite:/tmp/b1.sqlite"])["name"],
        "b1"
    );
    assert_eq!(i.json(&["sources", "edit", "b1", "--pool-size", "7"])["pool_size"], 7);
    assert_eq!(i.json(&["sources", "disable", "b1"])["is_active"], false);
    assert_eq!(i.json(&["sources", "enable", "b1"])["is_active"], true);
    assert_eq!(i.json(&["sources", "show", "b1"])["query_timeout_ms"], 30000);
    assert_eq!(i.json(&["sources", "list"]).as_array().unwrap().len(), 3, "ny_appeals, the demo source and b1");
    assert_eq!(i.json(&["grants", "grant", "jdoe", "b1"])["changed"], true);
    assert_eq!(i.json(&["grants", "list"])[0]["source_name"], "b1");
    assert_eq!(i.json(&["grants", "revoke", "jdoe", "b1"])["revoked"], true);
    assert!(i.json(&["history"]).as_array().unwrap().is_empty());
    let file = i.home.path().join("p.toml");
    assert!(i.json(&["provision", "export", file.to_str().unwrap()])["written"].is_string());
    assert_eq!(i.json(&["provision", "import", file.to_str().unwrap(), "--dry-run"])["dry_run"], true);
    assert_eq!(i.json(&["sources", "remove", "b1"])["name"], "b1");
    assert_eq!(i.json(&["users", "remove", "jdoe"])["removed"], "jdoe");
    assert_eq!(i.json(&["--as", &me, "users", "list"]).as_array().unwrap().len(), 1);

    // Failures in JSON mode: an object on stdout, exit 1.
    let out = i.cmd(&["--json", "sources", "show", "nope"]).code(1).get_output().stdout.clone();
    let error: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(error["error"]["kind"], "not_found");
    let out = i
        .cmd(&["--json", "sources", "add", "x1", "--display-name", "", "--url", "ftp://x"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let error: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(error["error"]["kind"], "invalid");
    let fields: Vec<&str> =
        error["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["display_name", "database_url"]);
}

#[test]
fn lexica_home_environment_variable_is_honoured() {
    let home = tempfile::tempdir().unwrap();
    Command::cargo_bin("lexica").unwrap().env("LEXICA_HOME", home.path()).args(["sources", "list"]).assert().success();
    assert!(home.path().join("lexica.sqlite").exists());
}

#[test]
fn a_new_install_searches_the_built_in_sample_at_once() {
    let i = Install::new();
    let out = i.cmd(&["search", "hearsay /p object!"]).success().get_output().clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    // Live progress on stderr, then the list and the summary on stdout.
    assert!(stderr.contains("searching 1 source(s): sample_opinions"), "{stderr}");
    assert!(stderr.contains("✓ sample_opinions"), "{stderr}");
    assert!(stdout.contains("*hearsay*") && stdout.contains("[sample_opinions]"), "{stdout}");
    assert!(stdout.contains("from 1 of 1 source(s)"), "{stdout}");

    let json = i.json(&["search", "\"due process\"", "--sort", "oldest"]);
    let hits = json["hits"].as_array().unwrap();
    assert!(hits.len() > 5);
    assert!(hits.iter().all(|h| h["snippet"].as_array().unwrap().iter().any(|p| p["highlight"] == true)));
    let dates: Vec<&str> = hits.iter().filter_map(|h| h["decided_on"].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    assert_eq!(json["summary"]["completed"], 1);
    assert_eq!(json["summary"]["partial"], false);

    // The history shows both searches with their execution.
    let history = i.json(&["history"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["executions"][0]["status"], "completed");

    // A malformed query: the caret drawing, then one line, exit 1, nothing recorded.
    let out = i.cmd(&["search", "hearsay /p (object!"]).code(1).get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("is never closed") && stderr.contains('^'), "{stderr}");
    assert_eq!(i.json(&["history"]).as_array().unwrap().len(), 2);
    let check = i.ok(&["query", "check", "hearsay /p object!"]);
    assert!(check.contains("canonical:") && check.contains("tsquery"), "{check}");
}

#[test]
fn near_misses_are_marked_and_can_be_turned_off() {
    let i = Install::new();
    // No opinion of the sample says "zebra": every hit lacks that clause (tier 1) or two (tier 2).
    let query = "hearsay AND testimony AND zebra";
    let text = i.ok(&["search", query, "--show", "100"]);
    assert!(text.contains("── Near misses: these lack one of the query's AND-ed clauses"), "{text}");
    assert!(text.contains("missing: zebra") && text.contains("near miss(es)"), "{text}");
    let json = i.json(&["search", query]);
    let hits = json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        let missing: Vec<&str> = h["missing"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert_eq!(h["tier"].as_u64().unwrap() as usize, missing.len(), "{h}");
        assert!(missing.contains(&"zebra"), "{h}");
    }
    assert_eq!(json["summary"]["exact_results"], 0);
    assert_eq!(json["summary"]["near_miss_results"].as_u64().unwrap() as usize, hits.len());
    let off = i.json(&["search", query, "--no-near-misses"]);
    assert_eq!(off["hits"].as_array().unwrap().len(), 0);
    assert_eq!(off["summary"]["near_miss_results"], 0);
}
