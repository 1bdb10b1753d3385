//! Issue 13, item 3, as reproduced with the CLI: `postgres://u@host/db?PASSWORD=…` was accepted,
//! stored, shown to every granted user and exported, and `host=` silently overrode the URL's host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;

fn lexica(home: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("lexica").unwrap().env_remove("LEXICA_HOME").arg("--home").arg(home).args(args).assert()
}

#[test]
fn secret_and_overriding_url_parameters_are_refused_without_echo_and_nothing_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let before = lexica(home.path(), &["--json", "sources", "list"]).success().get_output().stdout.clone();
    for url in [
        "postgres://reader@db.firm.local/ny?PASSWORD=hunter2",
        "postgres://reader@db.firm.local/ny?sslPassword=hunter2",
        "postgres://reader@db.firm.local/ny?host=hunter2.example",
        "postgres://reader@db.firm.local/ny?dbname=hunter2",
        "postgres://reader@db.firm.local/ny?options=-c%20hunter2",
    ] {
        let out = lexica(home.path(), &["sources", "add", "leaky", "--display-name", "Leaky", "--url", url])
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("database_url"), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{url}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let after = lexica(home.path(), &["--json", "sources", "list"]).success().get_output().stdout.clone();
    assert_eq!(before, after, "nothing was stored");
    let log = std::fs::read_to_string(home.path().join("logs").join("lexica-cli.log")).unwrap_or_default();
    assert!(!log.contains("hunter2"), "{log}");

    // The TLS parameters still work.
    lexica(
        home.path(),
        &[
            "sources",
            "add",
            "tls",
            "--display-name",
            "TLS",
            "--url",
            "postgres://reader@db.firm.local/ny?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        ],
    )
    .success();
}
