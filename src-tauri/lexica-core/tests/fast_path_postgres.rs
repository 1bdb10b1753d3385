//! The fast path on a real PostgreSQL source (retrieve.rs; RANKING.md, "At scale"): the shared
//! corpus loaded by `lexica ingest` with heads of 200 postings per term (so the heads are
//! truncated, as at scale). For the common words the fast path serves, the top 100 must agree
//! with ranking every match, and the match count, taken from the GIN index alone (the words in
//! any field), must say it is an estimate and be within 6% of the exact count the exhaustive run
//! confirms. Phrases, proximity and conjunctions served by the exact tier must return every
//! exact match in the exhaustive order, with the exact count. A correctness test, not a timing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchOutcome, SearchRequest};
use lexica_core::{Lexica, db};
use tokio_util::sync::CancellationToken;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
const HEAD: u32 = 200;
/// Body-only queries with a word held by more than 1,000 of the corpus's opinions.
const COMMON: &[&str] = &["court", "state", "court OR state"];
/// Phrases, proximity and conjunctions of common words whose opinions holding every word are
/// few enough for the exact tier (retrieve.rs, `exact_tier`).
const TIERED: &[&str] = &[
    "jurisdiction & state",
    "\"district court\" AND jurisdiction",
    "\"due process\" AND state AND court",
    "court /s jurisdiction",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_on_postgres_counts_from_the_index_and_ranks_as_every_match() {
    let Some(pg) = support::pg_admin_url() else { return };
    let log = support::Log::default();
    let writer = log.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish(),
    )
    .unwrap();

    let name = support::unique("fastpg");
    support::exec(&mut support::admin(&pg).await, &format!("CREATE DATABASE {name}")).await;
    let url = support::url_with_db(&pg, &name);
    let options = lexica_ingest::IngestOptions { postings_per_term: HEAD };
    let corpus = std::path::PathBuf::from(format!("{SHARED}/opinions.jsonl.gz"));
    lexica_ingest::ingest_with(&corpus, lexica_ingest::Target::Postgres(url.clone()), options, &|_| {}).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    let lexica = Lexica::open_with_keychain(Some(dir.path().join("home")), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&me, &me.username, db::DEMO_SOURCE_NAME).await.unwrap();
    // Lexica reads through a SELECT-only role, its password in the (mock) keychain.
    let role = support::reader_role(&pg, &name, "fast-path-reader").await;
    let reader_url = support::url_for(&pg, &role, &name);
    let changes = SourceChanges {
        display_name: Some("Corpus".into()),
        database_url: Some(Some(reader_url)),
        ..Default::default()
    };
    lexica.add_source(&me, "corpus", changes).await.unwrap();
    lexica.set_source_password(&me, "corpus", &Secret::new("fast-path-reader")).await.unwrap();
    lexica.grant(&me, &me.username, "corpus", PermissionLevel::Read).await.unwrap();

    let search = async |query: &str, exhaustive: bool| -> SearchOutcome {
        let request = SearchRequest {
            query: query.to_string(),
            mode: SearchModeInput::Boolean,
            exhaustive: Some(exhaustive),
            deadline_ms: Some(600_000),
            ..Default::default()
        };
        lexica.search(&me, &request, CancellationToken::new(), Arc::new(|_| {})).await.unwrap()
    };
    let mut overlaps = Vec::new();
    for query in COMMON {
        let before = log.0.lock().unwrap().len();
        let fast = search(query, false).await;
        let ran_fast = String::from_utf8_lossy(&log.0.lock().unwrap()[before..]).contains("fast path");
        assert!(ran_fast, "the fast path did not serve {query}");
        let exact = search(query, true).await;
        let counted = fast.sources[0].matches.expect("a count");
        let truth = exact.sources[0].matches.expect("a count");
        assert!(!truth.estimated, "{query}: the exhaustive run counts what it confirms");
        assert!(counted.estimated, "{query}: a count from the index is an estimate, and says so");
        let error = (counted.count as f64 - truth.count as f64).abs() / truth.count as f64;
        println!("{query}: counted ≈ {} against {} exact ({:.1}% off)", counted.count, truth.count, error * 100.0);
        // Two significant digits round by up to 5% (1,650 → 1,700); the index adds the few
        // opinions that hold a word only outside the body.
        assert!(error <= 0.06, "{query}: ≈ {} against {} exact", counted.count, truth.count);

        let want: HashSet<i64> = exact.hits.iter().map(|h| h.sources[0].opinion_id).collect();
        let shared = fast.hits.iter().filter(|h| want.contains(&h.sources[0].opinion_id)).count();
        overlaps.push(shared as f64 / want.len().max(1) as f64);
    }
    let mean = overlaps.iter().sum::<f64>() / overlaps.len() as f64;
    println!("overlap@100 per query {overlaps:?}, mean {mean:.3}");
    assert!(mean >= 0.95, "mean overlap@100 {mean:.3}");

    // The exact tier: every exact match, in the order ranking every match gives, and their
    // exact count; only the near misses after them may differ.
    for query in TIERED {
        let before = log.0.lock().unwrap().len();
        let fast = search(query, false).await;
        let ran = String::from_utf8_lossy(&log.0.lock().unwrap()[before..]).contains("the exact tier, enumerated");
        assert!(ran, "the exact tier did not serve {query}");
        let exact = search(query, true).await;
        let (counted, truth) = (fast.sources[0].matches.unwrap(), exact.sources[0].matches.unwrap());
        println!("{query}: {} exact matches (exhaustive: {})", counted.count, truth.count);
        assert!(truth.count > 0, "{query}: a test query must match");
        assert_eq!(counted, truth, "{query}: the exact tier's count is exact");
        let tier0 = |o: &SearchOutcome| -> Vec<i64> {
            o.hits.iter().filter(|h| h.tier == 0).map(|h| h.sources[0].opinion_id).collect()
        };
        assert_eq!(tier0(&fast), tier0(&exact), "{query}: the exact matches and their order");
    }

    drop(lexica);
    let drop_db = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    support::exec(&mut support::admin(&pg).await, &drop_db).await;
}
