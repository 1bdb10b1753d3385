//! The CLI with the OS keychain as users meet it: stopped, locked, the keyutils fallback, and a
//! leak scan proving a password never lands anywhere but the keychain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use std::io::Write;

fn lexica() -> String {
    assert_cmd::cargo::cargo_bin("lexica").display().to_string()
}

/// Runs `lexica --home HOME ARGS`, feeding `stdin`, with extra environment.
fn run(home: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(lexica());
    cmd.arg("--home").arg(home).args(args).env_remove("LEXICA_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn pg_admin_url() -> Option<String> {
    match std::env::var("LEXICA_TEST_PG_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => panic!("LEXICA_TEST_PG_URL is not set in CI"),
        Err(_) => {
            eprintln!("skipped: LEXICA_TEST_PG_URL is not set (run tests/run-all.sh)");
            None
        }
    }
}

fn real_keyring() -> bool {
    if std::env::var_os("LEXICA_TEST_KEYRING").is_some() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "LEXICA_TEST_KEYRING is not set in CI");
    eprintln!("skipped: no test keychain session (run tests/run-all.sh)");
    false
}

fn have(program: &str) -> bool {
    let found = Command::new("sh").args(["-c", &format!("command -v {program}")]).output().unwrap().status.success();
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{program} is missing in CI");
        eprintln!("skipped: {program} is not installed");
    }
    found
}

fn add_source(home: &Path, url: &str) {
    let out = run(home, &["sources", "add", "kc", "--display-name", "KC", "--url", url], "", &[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn with_no_keychain_reachable_the_commands_say_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    add_source(home.path(), "postgres://reader@127.0.0.1:1/x");
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/lexica-test-bus")];
    let started = Instant::now();
    let out = run(home.path(), &["sources", "set-password", "kc", "--stdin"], "pw\n", &no_bus);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no OS keychain is reachable") && stderr.contains("start and unlock your desktop keyring"),
        "{stderr}"
    );
    // The source was never given a password (set-password failed): the doctor does not ask the
    // keychain for one, and goes on to connect (nothing listens on port 1).
    let out = run(home.path(), &["sources", "test", "kc"], "", &no_bus);
    assert!(!text(&out).contains("no OS keychain is reachable"), "{}", text(&out));
    assert!(text(&out).contains("nothing is listening at 127.0.0.1:1"), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(5), "nothing hangs: {:?}", started.elapsed());
}

/// Issue 13, item 8: a source never given a password connects without the keychain (here with
/// `PGPASSWORD`, as trust, peer or `.pgpass` would), even when no keychain is reachable at all.
#[test]
fn a_source_without_a_password_connects_with_no_keychain_reachable() {
    let Some(admin_url) = pg_admin_url() else { return };
    let admin = url::Url::parse(&admin_url).unwrap();
    let password = admin.password().unwrap().to_string();
    let url = format!(
        "postgres://{}@{}:{}{}?sslmode=disable",
        admin.username(),
        admin.host_str().unwrap(),
        admin.port().unwrap_or(5432),
        admin.path()
    );
    let home = tempfile::tempdir().unwrap();
    add_source(home.path(), &url);
    let me = run(home.path(), &["--json", "users", "list"], "", &[]);
    let users: serde_json::Value = serde_json::from_slice(&me.stdout).unwrap();
    let login = users[0]["username"].as_str().unwrap().to_string();
    let out = run(home.path(), &["grants", "grant", &login, "kc"], "", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let env = [
        ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/lexica-test-bus"),
        ("LEXICA_KEYCHAIN", "secret-service"),
        ("PGPASSWORD", password.as_str()),
    ];

    let out = run(home.path(), &["--json", "sources", "test", "kc"], "", &env);
    // The report, then (the source has no opinions table) the error object.
    let report: serde_json::Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("{}", text(&out)));
    let check = |name: &str| {
        report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap_or_default()
    };
    assert_eq!(check("connection")["status"], "ok", "{report}");
    assert!(!report.to_string().contains("keychain is reachable"), "{report}");

    // A search reaches the server too: it fails on the database's missing schema, not on the keychain.
    let out = run(home.path(), &["search", "duty", "--source", "kc"], "", &env);
    let all = text(&out);
    assert!(!all.contains("keychain"), "{all}");
    assert!(all.contains("opinions"), "{all}");
}

#[test]
fn with_the_keychain_locked_the_commands_say_what_to_do() {
    if !have("dbus-run-session") || !have("gnome-keyring-daemon") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    add_source(home.path(), "postgres://reader@127.0.0.1:1/x");
    let xdg = tempfile::tempdir().unwrap();
    for d in ["run", "data"] {
        std::fs::create_dir(xdg.path().join(d)).unwrap();
    }
    // A private session bus with an unlocked keyring, which the script then locks.
    let script = format!(
        "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
         for i in $(seq 50); do dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break; sleep 0.1; done
         echo first-pw | {lx} --home {home} sources set-password kc --stdin >/dev/null || exit 3
         dbus-send --session --dest=org.freedesktop.secrets --print-reply /org/freedesktop/secrets \
           org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 4
         echo second-pw | {lx} --home {home} sources set-password kc --stdin",
        lx = lexica(),
        home = home.path().display()
    );
    let started = Instant::now();
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .env("XDG_RUNTIME_DIR", xdg.path().join("run"))
        .env("XDG_DATA_HOME", xdg.path().join("data"))
        .env_remove("LEXICA_HOME")
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("error: the OS keychain is locked; unlock it"), "{all}");
    assert!(started.elapsed() < Duration::from_secs(20), "nothing hangs: {:?}", started.elapsed());
}

#[test]
fn the_kernel_keyring_is_a_stated_fallback() {
    if !have("keyctl") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    add_source(home.path(), "postgres://reader@127.0.0.1:1/x");
    let script = format!(
        "echo ku-pw | {lx} --home {home} sources set-password kc --stdin && {lx} --home {home} sources test kc",
        lx = lexica(),
        home = home.path().display()
    );
    let out = Command::new("keyctl")
        .args(["session", "-", "sh", "-c", &script])
        .env("LEXICA_KEYCHAIN", "keyutils")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(
        all.contains("stored the password for kc in the kernel keyring (keyutils; this login session only)"),
        "{all}"
    );
    assert!(all.contains("a password is stored in the kernel keyring"), "{all}");
}

/// Every file under `dir` (recursively), as bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_distinctive_password_appears_nowhere_but_the_keychain() {
    if !real_keyring() {
        return;
    }
    let Some(pg) = pg_admin_url() else { return };
    let canary = "Lx-Leak-Canary-9f3b27";
    let wrong_canary = "Lx-Wrong-Canary-51ac0e";
    let role = format!("leak_{}", std::process::id());
    let psql = |sql: &str| {
        let out = Command::new("psql").args([pg.as_str(), "-qAtc", sql]).output().unwrap();
        assert!(out.status.success(), "{sql}: {}", text(&out));
    };
    psql(&format!("DROP ROLE IF EXISTS {role}"));
    psql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{canary}'"));
    let mut url = url::Url::parse(&pg).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(None).unwrap();

    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let debug = [("RUST_LOG", "debug")];
    let mut captured = String::new();
    let mut step = |args: &[&str], stdin: &str| {
        let out = run(h, args, stdin, &debug);
        captured.push_str(&text(&out));
        out
    };
    step(&["sources", "add", "leaky", "--display-name", "Leaky", "--url", url.as_str()], "");
    assert!(step(&["sources", "set-password", "leaky", "--stdin"], &format!("{canary}\n")).status.success());
    let report = step(&["sources", "test", "leaky"], "");
    assert!(text(&report).contains("connected and authenticated"), "{}", text(&report));
    step(&["--json", "sources", "show", "leaky"], "");
    step(&["--json", "sources", "list"], "");
    step(&["provision", "export", h.join("export.toml").to_str().unwrap()], "");
    step(&["provision", "export", "-"], "");
    // A wrong password, and the error it causes, leak nothing either.
    step(&["sources", "set-password", "leaky", "--stdin"], &format!("{wrong_canary}\n"));
    let failed = step(&["--json", "sources", "test", "leaky"], "");
    assert!(text(&failed).contains("refused the password"), "{}", text(&failed));
    // And a URL with the password pasted in is refused without echoing it.
    let pasted = url.as_str().replace(&format!("{role}@"), &format!("{role}:{canary}@"));
    step(&["sources", "edit", "leaky", "--url", &pasted], "");
    step(&["--json", "sources", "edit", "leaky", "--url", &pasted], "");
    step(&["history"], "");
    step(&["sources", "remove", "leaky"], "");

    for secret in [canary, wrong_canary] {
        assert!(!captured.contains(secret), "{secret} in CLI output:\n{captured}");
        for (path, bytes) in files(h) {
            assert!(!contains(&bytes, secret), "{secret} found in {path}");
        }
    }
    assert!(h.join("logs/lexica-cli.log").exists(), "the log file was written and scanned");
    assert!(h.join("lexica.sqlite").exists());
    psql(&format!("DROP ROLE IF EXISTS {role}"));
}
