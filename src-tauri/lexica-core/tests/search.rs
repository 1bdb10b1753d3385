//! Parallel multi-source search against real sources built from the shared corpus: three
//! PostgreSQL databases and one SQLite bundle, loaded with Lexica's own ingest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{ExecutionStatus, PermissionLevel, SourceChanges};
use lexica_core::search::{
    EventSink, SearchEvent, SearchFilters, SearchModeInput, SearchOutcome, SearchRequest, SortOrder,
};
use lexica_core::{Lexica, User};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");

/// The sources every test here searches (built once per test binary).
struct Fixture {
    _dir: tempfile::TempDir,
    /// (source name, database or bundle URL)
    sources: Vec<(String, String)>,
}

/// A source whose every query sleeps: `opinions` is a view that calls pg_sleep. One per test, so
/// tests running side by side do not see each other's queries in pg_stat_activity.
async fn slow_database(pg: &str) -> String {
    let slow_db = support::opinion_database(pg, 3).await;
    let mut conn = support::admin(&support::url_with_db(pg, &slow_db)).await;
    support::exec(
        &mut conn,
        "ALTER TABLE opinions RENAME TO opinions_base;
         CREATE FUNCTION slow() RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT pg_sleep(30) IS NOT NULL';
         CREATE VIEW opinions AS SELECT * FROM opinions_base WHERE slow();",
    )
    .await;
    slow_db
}

static FIXTURE: OnceCell<Option<Fixture>> = OnceCell::const_new();

/// Splits the corpus: SCOTUS → pg_scotus; 200 First Circuit → pg_first; Second Circuit and state
/// opinions plus 25 cited SCOTUS opinions (duplicates) → pg_other; state opinions and 60 SCOTUS
/// opinions (more duplicates) → the SQLite bundle.
async fn fixture() -> Option<&'static Fixture> {
    FIXTURE
        .get_or_init(|| async {
            let pg = support::pg_admin_url()?;
            let dir = tempfile::tempdir().unwrap();
            let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(CORPUS).unwrap()));
            let mut files: Vec<std::fs::File> = ["scotus", "first", "other", "bundle"]
                .iter()
                .map(|n| std::fs::File::create(dir.path().join(n)).unwrap())
                .collect();
            let (mut first, mut dup_pg, mut dup_bundle) = (0, 0, 0);
            for line in reader.lines() {
                let line = line.unwrap();
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let court = v["court"].as_str().unwrap_or("");
                let cited = v["citation"].as_str().is_some_and(|c| !c.is_empty());
                let mut to = |i: usize| writeln!(files[i], "{line}").unwrap();
                if court == "Supreme Court of the United States" {
                    to(0);
                    if cited && dup_pg < 25 {
                        to(2);
                        dup_pg += 1;
                    } else if cited && dup_bundle < 60 {
                        to(3);
                        dup_bundle += 1;
                    }
                } else if court.contains("First Circuit") {
                    if first < 200 {
                        to(1);
                        first += 1;
                    }
                } else {
                    to(2);
                    if v["jurisdiction"].as_str() != Some("federal") {
                        to(3);
                    }
                }
            }
            drop(files);
            let mut sources = Vec::new();
            for (name, file) in [("pg_scotus", "scotus"), ("pg_first", "first"), ("pg_other", "other")] {
                let db = support::empty_database(&pg).await;
                let url = support::url_with_db(&pg, &db);
                let target = lexica_ingest::Target::parse(&url).unwrap();
                lexica_ingest::ingest(&dir.path().join(file), target, &|_| {}).await.unwrap();
                sources.push((name.to_string(), url));
            }
            let bundle = dir.path().join("bundle.sqlite");
            lexica_ingest::ingest(&dir.path().join("bundle"), lexica_ingest::Target::Sqlite(bundle.clone()), &|_| {})
                .await
                .unwrap();
            sources.push(("bundle".to_string(), format!("sqlite:{}", bundle.display())));

            Some(Fixture { _dir: dir, sources })
        })
        .await
        .as_ref()
}

/// An install with the fixture's sources, all granted to the local admin.
async fn install(f: &Fixture) -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    // The built-in demo source is searched by its own tests; here only the fixture's sources.
    lexica.revoke(&admin, &admin.username, lexica_core::db::DEMO_SOURCE_NAME).await.unwrap();
    for (name, url) in &f.sources {
        add(&lexica, &admin, name, url).await;
    }
    (dir, lexica, admin)
}

async fn add(lexica: &Lexica, admin: &User, name: &str, url: &str) {
    let mut parsed = url::Url::parse(url).unwrap();
    let password = parsed.password().map(str::to_string);
    if password.is_some() {
        parsed.set_password(None).unwrap();
    }
    let url = if url.starts_with("sqlite:") { url.to_string() } else { parsed.to_string() };
    let changes =
        SourceChanges { display_name: Some(name.into()), database_url: Some(Some(url)), ..Default::default() };
    lexica.add_source(admin, name, changes).await.unwrap();
    if let Some(p) = password {
        lexica.set_source_password(admin, name, &Secret::new(p)).await.unwrap();
    }
    lexica.grant(admin, &admin.username, name, PermissionLevel::Read).await.unwrap();
}

fn request(query: &str) -> SearchRequest {
    SearchRequest { query: query.into(), mode: SearchModeInput::Boolean, ..Default::default() }
}

fn recorder() -> (EventSink, Arc<Mutex<Vec<SearchEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (Arc::new(move |e| sink.lock().unwrap().push(e)), seen)
}

async fn search(lexica: &Lexica, user: &User, req: &SearchRequest) -> SearchOutcome {
    let (sink, _) = recorder();
    lexica.search(user, req, CancellationToken::new(), sink).await.unwrap()
}

fn keys(o: &SearchOutcome) -> Vec<(String, String)> {
    o.hits
        .iter()
        .map(|h| (h.case_name.clone(), h.sources.iter().map(|s| s.source_name.clone()).collect::<Vec<_>>().join("+")))
        .collect()
}

#[tokio::test]
async fn merged_results_are_right_deterministic_and_deduplicated() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    let req = request("\"due process\"");
    let (sink, seen) = recorder();
    let first = lexica.search(&admin, &req, CancellationToken::new(), sink).await.unwrap();
    assert_eq!(first.summary.sources_searched, 4);
    assert_eq!(first.summary.completed, 4, "{:#?}", first.sources);
    assert!(!first.summary.partial);
    assert_eq!(first.hits.len(), 100, "the merged list keeps the top 100");
    // Every source contributed and the list is in score order.
    for name in ["pg_scotus", "pg_first", "pg_other", "bundle"] {
        let outcome = first.sources.iter().find(|o| o.name == name).unwrap();
        assert!(outcome.results_count > 0, "{name}: {outcome:?}");
    }
    assert!(first.hits.windows(2).all(|w| w[0].score >= w[1].score));
    // Every hit really contains the phrase (highlighted in its snippet) or matched it elsewhere.
    assert!(first.hits.iter().filter(|h| h.snippet.iter().any(|p| p.highlight)).count() > 90);

    // The same search again gives the same list, in the same order.
    let again = search(&lexica, &admin, &req).await;
    assert_eq!(keys(&first), keys(&again));

    // Events came in order: started, then per source running before finished, finished last.
    let events = seen.lock().unwrap().clone();
    assert!(matches!(events.first(), Some(SearchEvent::Started { sources, .. }) if sources.len() == 4));
    assert!(matches!(events.last(), Some(SearchEvent::Finished { .. })));
    let finished = events.iter().filter(|e| matches!(e, SearchEvent::SourceFinished { .. })).count();
    assert_eq!(finished, 4);

    // SCOTUS opinions held by two or three sources appear once, listing each source.
    let req = SearchRequest {
        filters: SearchFilters { jurisdictions: vec!["federal".into()], ..Default::default() },
        ..request("court")
    };
    let all = search(&lexica, &admin, &SearchRequest { sort: SortOrder::Oldest, ..req }).await;
    let shared_hits: Vec<_> = all.hits.iter().filter(|h| h.sources.len() > 1).collect();
    assert!(!shared_hits.is_empty(), "duplicated opinions are merged");
    for h in &shared_hits {
        let mut ids: Vec<_> = h.sources.iter().map(|s| s.source_name.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), h.sources.len(), "one entry per source: {h:?}");
    }
    // No opinion appears twice (the corpus reuses some citations for distinct opinions, so the
    // identity is citation + date + case name).
    let mut ids: Vec<_> =
        all.hits.iter().map(|h| (h.citation.clone(), h.decided_on.clone(), h.case_name.clone())).collect();
    let before = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(before, ids.len(), "no opinion appears twice in the list");
    assert!(all.hits.windows(2).all(|w| w[0].decided_on <= w[1].decided_on || w[1].decided_on.is_none()));

    // History shows the search with each execution final.
    let history = lexica.history(&admin, 10, false).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history.iter().all(|r| r.executions.len() == 4
            && r.executions.iter().all(|e| e.execution.status == ExecutionStatus::Completed))
    );
}

#[tokio::test]
async fn a_source_that_is_down_fails_alone_with_its_reason() {
    let Some(f) = fixture().await else { return };
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install(f).await;
    add(&lexica, &admin, "pg_down", &format!("postgres://reader@127.0.0.1:{}/gone", support::port(&pg) + 1)).await;
    let out = search(&lexica, &admin, &request("negligence")).await;
    assert_eq!((out.summary.sources_searched, out.summary.completed, out.summary.failed), (5, 4, 1));
    assert!(out.summary.partial);
    let down = out.sources.iter().find(|o| o.name == "pg_down").unwrap();
    assert_eq!(down.status, ExecutionStatus::Failed);
    assert!(down.error.as_deref().unwrap().contains("nothing is listening"), "{down:?}");
    assert!(!out.hits.is_empty());
    assert!(out.hits.iter().all(|h| h.sources.iter().all(|s| s.source_name != "pg_down")));
}

#[tokio::test]
async fn a_slow_source_times_out_at_its_deadline_and_its_query_is_gone() {
    let Some(f) = fixture().await else { return };
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install(f).await;
    let slow_db = slow_database(&pg).await;
    add(&lexica, &admin, "pg_slow", &support::url_with_db(&pg, &slow_db)).await;
    let quick = SourceChanges { query_timeout_ms: Some(1_500), ..Default::default() };
    lexica.edit_source(&admin, "pg_slow", quick).await.unwrap();

    let started = Instant::now();
    let out = search(&lexica, &admin, &request("duty")).await;
    let slow = out.sources.iter().find(|o| o.name == "pg_slow").unwrap();
    assert_eq!(slow.status, ExecutionStatus::TimedOut, "{slow:?}");
    assert!((1_400..4_000).contains(&slow.execution_time_ms), "ended at its deadline: {slow:?}");
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(out.summary.timed_out, 1);
    assert_eq!(out.summary.completed, 4);
    assert!(out.summary.partial);

    // Within a second, no Lexica query is left running on the slow database.
    let mut admin_conn = support::admin(&pg).await;
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lexica' AND state = 'active'",
        )
        .bind(&slow_db)
        .fetch_one(&mut admin_conn)
        .await
        .unwrap();
        if running == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{running} Lexica queries still running on the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_cancelled_search_ends_every_unfinished_execution_cancelled() {
    let Some(f) = fixture().await else { return };
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install(f).await;
    let slow_db = slow_database(&pg).await;
    add(&lexica, &admin, "pg_slow", &support::url_with_db(&pg, &slow_db)).await;
    let cancel = CancellationToken::new();
    let (sink, _) = recorder();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let out = lexica.search(&admin, &request("duty"), cancel, sink).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "cancel is prompt: {:?}", started.elapsed());
    let slow = out.sources.iter().find(|o| o.name == "pg_slow").unwrap();
    assert_eq!(slow.status, ExecutionStatus::Cancelled);
    assert!(out.summary.cancelled >= 1 && out.summary.partial);
    let history = lexica.history(&admin, 1, false).await.unwrap();
    assert!(history[0].executions.iter().all(|e| e.execution.status.is_final()));
    // The cancelled query is gone from the server too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut admin_conn = support::admin(&pg).await;
    let running: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lexica' AND state = 'active'",
    )
    .bind(&slow_db)
    .fetch_one(&mut admin_conn)
    .await
    .unwrap();
    assert_eq!(running, 0);
}

#[tokio::test]
async fn a_user_without_a_grant_never_receives_that_sources_rows() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    let clerk = lexica.add_user(&admin, "clerk", None, false).await.unwrap();
    lexica.grant(&admin, "clerk", "pg_first", PermissionLevel::Read).await.unwrap();
    let out = search(&lexica, &clerk, &request("evidence")).await;
    assert_eq!(out.summary.sources_searched, 1);
    assert!(!out.hits.is_empty());
    assert!(out.hits.iter().all(|h| h.sources.iter().all(|s| s.source_name == "pg_first")));
    // Asking for a source by name does not get around the grant.
    let (sink, _) = recorder();
    let err = lexica
        .search(
            &clerk,
            &SearchRequest { sources: vec!["pg_scotus".into()], ..request("evidence") },
            CancellationToken::new(),
            sink,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a source you can search"), "{err}");
    // A malformed query is refused before anything is recorded.
    let (sink, _) = recorder();
    let err =
        lexica.search(&clerk, &request("evidence /3 (hearsay"), CancellationToken::new(), sink).await.unwrap_err();
    assert_eq!(lexica_core::ErrorReport::from(&err).query.unwrap().char_start, 12);
    assert_eq!(lexica.history(&clerk, 10, false).await.unwrap().len(), 1);
}

#[tokio::test]
async fn filters_and_sorts_apply_to_every_source() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    let req = SearchRequest {
        filters: SearchFilters { from: Some("1950-01-01".into()), to: Some("1969-12-31".into()), ..Default::default() },
        sort: SortOrder::Newest,
        ..request("contract")
    };
    let out = search(&lexica, &admin, &req).await;
    assert!(!out.hits.is_empty());
    assert!(out.hits.iter().all(|h| h.decided_on.as_deref().is_some_and(|d| ("1950".."1970").contains(&d))));
    assert!(out.hits.windows(2).all(|w| w[0].decided_on >= w[1].decided_on));
    let bad = SearchRequest {
        filters: SearchFilters { from: Some("1950-13-01".into()), ..Default::default() },
        ..request("x1")
    };
    let (sink, _) = recorder();
    let err = lexica.search(&admin, &bad, CancellationToken::new(), sink).await.unwrap_err();
    assert!(err.to_string().contains("from: must be a date"), "{err}");
}

/// 32 searches at once over 4 sources with pool size 5: each execution reaches a final state and
/// none fails for want of a connection (they queue). Timing figures come from the benchmark
/// (examples/search_load.rs), not from this test, so the deadline and acquire timeout are generous
/// here: a debug build on a busy CI machine must not turn slowness into a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_searches_queue_for_connections_instead_of_failing() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    for (name, _) in &f.sources {
        let patient =
            SourceChanges { acquire_timeout_ms: Some(120_000), query_timeout_ms: Some(120_000), ..Default::default() };
        let edited = lexica.edit_source(&admin, name, patient).await.unwrap();
        assert_eq!(edited.pool_size, 5);
    }
    let queries = [
        "negligence",
        "\"due process\"",
        "contract & breach",
        "evidence /s hearsay",
        "jurisdiction",
        "tax!",
        "search & seizure",
        "appeal",
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let lexica = lexica.clone();
        let admin = admin.clone();
        let req = SearchRequest { deadline_ms: Some(240_000), ..request(queries[i % queries.len()]) };
        tasks.spawn(async move { search(&lexica, &admin, &req).await });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = tasks.join_next().await {
        outcomes.push(r.unwrap());
    }
    assert_eq!(outcomes.len(), 32);
    for o in &outcomes {
        assert_eq!(o.summary.completed, 4, "{:#?}", o.sources);
    }
    let history = lexica.history(&admin, 100, false).await.unwrap();
    assert_eq!(history.len(), 32);
    assert!(history.iter().flat_map(|r| &r.executions).all(|e| e.execution.status == ExecutionStatus::Completed));
}

#[tokio::test]
async fn a_hit_opens_whole_with_the_terms_marked_and_exports_as_csv() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    let out = search(&lexica, &admin, &request("hearsay /p object!")).await;
    let hit = out.hits.first().expect("a hit");
    for source in &hit.sources {
        let doc = lexica
            .open_opinion(
                &admin,
                source.source_id,
                source.opinion_id,
                Some(("hearsay /p object!", SearchModeInput::Boolean)),
            )
            .await
            .unwrap();
        assert_eq!(doc.case_name, hit.case_name);
        assert!(doc.paragraphs.len() > 3);
        assert!(doc.highlights >= 2, "{}", doc.highlights);
        let marked: Vec<String> =
            doc.paragraphs.iter().flatten().filter(|p| p.highlight).map(|p| p.text.to_lowercase()).collect();
        assert!(marked.iter().any(|w| w == "hearsay") && marked.iter().any(|w| w.starts_with("object")), "{marked:?}");
    }
    // Someone without the grant cannot read it.
    let clerk = lexica.add_user(&admin, "clerk2", None, false).await.unwrap();
    let s = &hit.sources[0];
    assert!(lexica.open_opinion(&clerk, s.source_id, s.opinion_id, None).await.is_err());

    let csv = lexica_core::search::export::to_csv(&out.hits);
    assert_eq!(csv.matches("\r\n").count(), out.hits.len() + 1, "a header and one record per hit");
    assert!(csv.starts_with("case_name,citation,court,decided_on,docket_number,sources,score,match,snippet\r\n"));
}

/// A cancel that arrives while a source is still being connected to (its pool's first probe is
/// waiting on a server that accepts but never answers) ends the search promptly: the stopper must
/// not wait on the probe the stopped query was driving. Other sources are not held up either.
#[tokio::test]
async fn a_search_cancelled_while_a_source_is_still_connecting_ends_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    // A "server" that accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in silent.incoming().take(8) {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    add(&lexica, &admin, "silent", &format!("postgres://reader@127.0.0.1:{port}/db")).await;

    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let (sink, _) = recorder();
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(8), lexica.search(&admin, &request("hearsay"), cancel, sink))
        .await
        .expect("the cancelled search ends")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let silent = out.sources.iter().find(|o| o.name == "silent").unwrap();
    assert_eq!(silent.status, ExecutionStatus::Cancelled);
    // The demo source ran alongside and was not held up behind the silent one.
    let demo = out.sources.iter().find(|o| o.name == lexica_core::db::DEMO_SOURCE_NAME).unwrap();
    assert!(matches!(demo.status, ExecutionStatus::Completed | ExecutionStatus::Cancelled), "{demo:?}");
}
