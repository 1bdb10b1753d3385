//! A search whose exact check is slow still ends at its deadline or its cancel, and its
//! ranking stops with it (issue 13, item 6): every candidate is an opinion whose one paragraph
//! repeats the query's words thousands of times, and the query nests a paragraph operator below
//! a distance, the checker's costliest shape. Before the checker was bounded, one such opinion
//! took seconds, longer than the search's grace for a stopped source, and the check went on
//! burning a core after the search had ended.
//!
//! Real sources: a PostgreSQL database and an SQLite bundle built by Lexica's own ingest. One
//! test in this binary, so the CPU it measures is its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lexica_core::credentials::Keychain;
use lexica_core::models::{ExecutionStatus, PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchOutcome, SearchRequest};
use lexica_core::{Lexica, User};
use tokio_util::sync::CancellationToken;

/// Opinions in each source: enough that checking them all takes longer than the deadline.
const OPINIONS: usize = 40;
/// Sentences of `alder birch fir.` in each opinion's one paragraph (7,998 words, under the
/// 8,000-word paragraph limit).
const SENTENCES: usize = 2_666;
/// A distance over a paragraph operator: every `alder … birch` hull is a match of the right
/// operand (7 million of them per opinion), and the distance is measured from each.
const QUERY: &str = "fir /1 (alder /p birch)";
const DEADLINE_MS: u32 = 1_000;
/// How late after its deadline or cancel the search may end. The search's grace for a stopped
/// source is 2 s; a check that does not stop runs into it and ends after this bound. The rest of
/// the bound is room for a loaded CI machine, not for the check.
const PROMPT: Duration = Duration::from_millis(1_600);

fn opinions() -> String {
    let body = vec!["alder birch fir."; SENTENCES].join(" ");
    let mut out = String::new();
    for i in 0..OPINIONS {
        let line = serde_json::json!({
            "source_id": format!("slow-check:{i}"),
            "case_name": format!("Grove {i} v. Orchard"),
            "citation": format!("{} U.S. {}", 900 + i, 1 + i),
            "court": "Supreme Court of the United States",
            "jurisdiction": "federal",
            "decided_on": "2001-01-01",
            "docket_number": format!("{i}"),
            "body": body,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

async fn add(lexica: &Lexica, admin: &User, name: &str, url: &str) {
    let changes = SourceChanges {
        display_name: Some(name.into()),
        database_url: Some(Some(url.to_string())),
        ..Default::default()
    };
    lexica.add_source(admin, name, changes).await.unwrap();
    lexica.grant(admin, &admin.username, name, PermissionLevel::Read).await.unwrap();
}

/// CPU time this process has used (user + system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// The search, how long it took, and the CPU the process used in the second after it returned
/// (a check still running would use about a core per source).
async fn run(lexica: &Lexica, admin: &User, cancel_after: Option<Duration>) -> (SearchOutcome, Duration, Duration) {
    let req = SearchRequest {
        query: QUERY.into(),
        mode: SearchModeInput::Boolean,
        deadline_ms: Some(DEADLINE_MS),
        ..Default::default()
    };
    let cancel = CancellationToken::new();
    if let Some(after) = cancel_after {
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            trigger.cancel();
        });
    }
    let started = Instant::now();
    let out = lexica.search(admin, &req, cancel, Arc::new(|_| {})).await.unwrap();
    let took = started.elapsed();
    let before = cpu_time();
    tokio::time::sleep(Duration::from_secs(1)).await;
    (out, took, cpu_time().saturating_sub(before))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_whose_check_is_slow_ends_at_its_deadline_or_cancel_and_stops_checking() {
    let Some(pg) = support::pg_admin_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slow.jsonl");
    std::fs::File::create(&file).unwrap().write_all(opinions().as_bytes()).unwrap();
    let db = support::empty_database(&pg).await;
    let url = support::url_with_db(&pg, &db);
    lexica_ingest::ingest(&file, lexica_ingest::Target::parse(&url).unwrap(), &|_| {}).await.unwrap();
    let bundle = dir.path().join("slow.sqlite");
    lexica_ingest::ingest(&file, lexica_ingest::Target::Sqlite(bundle.clone()), &|_| {}).await.unwrap();

    let home = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(home.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&admin, &admin.username, lexica_core::db::DEMO_SOURCE_NAME).await.unwrap();
    // The test cluster's superuser URL carries its password; the source takes it from the keychain.
    let mut parsed = url::Url::parse(&url).unwrap();
    let password = parsed.password().map(str::to_string);
    parsed.set_password(None).unwrap();
    // The test cluster's TLS certificate is signed by its own CA: verified, as a firm's would be.
    if let Ok(ca) = std::env::var("LEXICA_TEST_PG_CA") {
        parsed.query_pairs_mut().append_pair("sslmode", "verify-full").append_pair("sslrootcert", &ca);
    }
    add(&lexica, &admin, "pg_slow", parsed.as_str()).await;
    if let Some(p) = password {
        lexica.set_source_password(&admin, "pg_slow", &lexica_core::credentials::Secret::new(p)).await.unwrap();
    }
    add(&lexica, &admin, "bundle_slow", &format!("sqlite:{}", bundle.display())).await;

    // The deadline: both sources time out, the search ends on time, and nothing keeps checking.
    let (out, took, cpu) = run(&lexica, &admin, None).await;
    for s in &out.sources {
        assert_eq!(s.status, ExecutionStatus::TimedOut, "{s:?}");
    }
    assert_eq!(out.sources.len(), 2, "{:?}", out.sources);
    let deadline = Duration::from_millis(u64::from(DEADLINE_MS));
    assert!(took < deadline + PROMPT, "the search ended {took:?} after it started (deadline {deadline:?})");
    assert!(cpu < Duration::from_millis(400), "{cpu:?} of CPU in the second after the search ended");

    // The cancel, before the deadline: the same.
    let cancel_at = Duration::from_millis(500);
    let (out, took, cpu) = run(&lexica, &admin, Some(cancel_at)).await;
    for s in &out.sources {
        assert_eq!(s.status, ExecutionStatus::Cancelled, "{s:?}");
    }
    assert!(took < cancel_at + PROMPT, "the search ended {took:?} after it started (cancelled at {cancel_at:?})");
    assert!(cpu < Duration::from_millis(400), "{cpu:?} of CPU in the second after the search ended");
}
