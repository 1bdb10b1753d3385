//! The fast path against ranking every match (retrieve.rs; RANKING.md, "At scale"): a correctness
//! test at small scale, not a timing.
//!
//! The whole shared corpus (1,663 opinions) in an SQLite bundle built with postings heads of 200
//! per term instead of 1,000: a common word's head then holds an eighth of its opinions, as
//! 1,000 of a 13,000-opinion source would, so the fast path really works from truncated heads
//! (and still from more than a page of them, as at scale). Every
//! query is searched as users search it and with `exhaustive`; the two top-100 lists must agree
//! as closely as the issue asks of the fast path at scale, and the log must show the fast path
//! ran for the common words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use lexica_core::credentials::Keychain;
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{Hit, SearchModeInput, SearchRequest};
use lexica_core::{Lexica, db};
use tokio_util::sync::CancellationToken;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
/// Heads this short make the corpus behave like a source about 8 times larger.
const HEAD: u32 = 200;
/// Queries with a word held by more than `FAST_PATH_MIN_CANDIDATES` (1,000) of the opinions and
/// no phrase or proximity: the fast path serves them.
const COMMON: &[&str] = &["court", "state", "jurisdiction & state", "court OR state", "united & states & court"];

fn overlap(fast: &[Hit], exact: &[Hit], k: usize) -> f64 {
    let key = |h: &Hit| h.sources[0].opinion_id;
    let want: HashSet<i64> = exact.iter().take(k).map(key).collect();
    if want.is_empty() {
        return 1.0;
    }
    fast.iter().take(k).filter(|h| want.contains(&key(h))).count() as f64 / want.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_ranks_as_every_match_does() {
    let log = support::Log::default();
    let writer = log.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish(),
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("corpus.sqlite");
    let options = lexica_ingest::IngestOptions { postings_per_term: HEAD };
    let corpus = std::path::PathBuf::from(format!("{SHARED}/opinions.jsonl.gz"));
    lexica_ingest::ingest_with(&corpus, lexica_ingest::Target::Sqlite(bundle.clone()), options, &|_| {}).await.unwrap();

    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    let lexica = Lexica::open_with_keychain(Some(dir.path().join("home")), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&me, &me.username, db::DEMO_SOURCE_NAME).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Corpus".into()),
        database_url: Some(Some(format!("sqlite:{}", bundle.display()))),
        ..Default::default()
    };
    lexica.add_source(&me, "corpus", changes).await.unwrap();
    lexica.grant(&me, &me.username, "corpus", PermissionLevel::Read).await.unwrap();

    // The common words, and the corpus's Boolean queries that parse (every tenth, for time).
    let mut queries: Vec<String> = COMMON.iter().map(|q| q.to_string()).collect();
    for (i, line) in
        std::fs::read_to_string(format!("{SHARED}/legal_boolean_queries.jsonl")).unwrap().lines().enumerate()
    {
        if i % 10 == 0 {
            let q: serde_json::Value = serde_json::from_str(line).unwrap();
            queries.push(q["query"].as_str().unwrap().to_string());
        }
    }
    let search = async |query: &str, exhaustive: bool| {
        let request = SearchRequest {
            query: query.to_string(),
            mode: SearchModeInput::Boolean,
            exhaustive: Some(exhaustive),
            deadline_ms: Some(600_000),
            ..Default::default()
        };
        lexica.search(&me, &request, CancellationToken::new(), Arc::new(|_| {})).await.ok().map(|o| o.hits)
    };
    let (mut at_100, mut at_10, mut compared) = (0.0, 0.0, 0);
    for query in &queries {
        let before = log.0.lock().unwrap().len();
        let Some(fast) = search(query, false).await else { continue };
        let ran_fast = String::from_utf8_lossy(&log.0.lock().unwrap()[before..]).contains("fast path");
        let exact = search(query, true).await.unwrap();
        if COMMON.contains(&query.as_str()) {
            assert!(ran_fast, "the fast path did not serve the common query {query}");
            assert_eq!(fast.len(), exact.len(), "{query}");
        }
        let (a, b) = (overlap(&fast, &exact, 100), overlap(&fast, &exact, 10));
        println!("{a:.3} {b:.3} fast={ran_fast} {query}");
        at_100 += a;
        at_10 += b;
        compared += 1;
    }
    assert!(compared >= 20, "{compared} queries compared");
    let (at_100, at_10) = (at_100 / f64::from(compared), at_10 / f64::from(compared));
    println!("mean overlap@100 {at_100:.3}, @10 {at_10:.3} over {compared} queries");
    assert!(at_100 >= 0.95, "mean overlap@100 {at_100:.3}");
    assert!(at_10 >= 0.95, "mean overlap@10 {at_10:.3}");
}
