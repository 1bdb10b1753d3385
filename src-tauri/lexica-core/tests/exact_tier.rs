//! The exact tier keeps its exact meaning: for every parseable query of the shared corpus (187 of
//! the 195), the opinions that match exactly are the same set as before BM25 ranking and near
//! misses came in (`tests/data/exact_matches_before_ranking.tsv`, computed with the compilers and
//! checker of commit 6ef4533 over the whole corpus, no limit).
//!
//! Two ways: (1) the near-miss plan each search now runs (clause flags, checker per clause),
//! over an SQLite bundle of the whole corpus with no limit, gives back each full set; (2) the
//! real search (`Lexica::search`, near misses on) returns exactly those opinions as its exact
//! tier for every query with at most 100 of them, and 100 of them otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use lexica_core::credentials::Keychain;
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchRequest};
use lexica_query::{BindValue, Document, Filters, Mode, Plan, Query};
use sqlx::{Connection, Row};
use tokio_util::sync::CancellationToken;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
const BASELINE: &str = include_str!("data/exact_matches_before_ranking.tsv");

fn baseline() -> HashMap<String, BTreeSet<String>> {
    BASELINE
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let set: BTreeSet<String> = f[2].split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
            assert_eq!(set.len(), f[1].parse::<usize>().unwrap());
            (f[0].to_string(), set)
        })
        .collect()
}

fn queries() -> Vec<(String, String)> {
    std::fs::read_to_string(format!("{SHARED}/legal_boolean_queries.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let q: serde_json::Value = serde_json::from_str(l).unwrap();
            (q["query_id"].as_str().unwrap().to_string(), q["query"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The exact tier of a plan's candidates, by the rules the search applies (rank.rs).
async fn exact_set(conn: &mut sqlx::SqliteConnection, q: &Query, plan: &Plan) -> BTreeSet<i64> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(plan.sql.clone()));
    for b in &plan.binds {
        query = match b {
            BindValue::Text(t) => query.bind(t.clone()),
            BindValue::Int(n) => query.bind(*n),
        };
    }
    let rows = query.fetch_all(&mut *conn).await.unwrap_or_else(|e| panic!("{e}\n{plan}"));
    let conjunction = q.conjunction();
    let mut out = BTreeSet::new();
    for r in rows {
        let id: i64 = r.get(0);
        // A row whose SQL flags miss a clause cannot be exact (flags over-approximate).
        if (0..plan.clauses.len()).any(|i| r.get::<i32, _>(7 + i) == 0) {
            continue;
        }
        let (case_name, citation, court, decided): (String, Option<String>, String, Option<String>) =
            (r.get(1), r.get(2), r.get(3), r.get(5));
        let paragraphs: Vec<String> =
            sqlx::query_scalar("SELECT body FROM opinion_paragraphs WHERE opinion_id = ?1 ORDER BY paragraph_no")
                .bind(id)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        let doc = Document {
            case_name: &case_name,
            citation: citation.as_deref(),
            court: &court,
            decided_on: decided.as_deref(),
            paragraphs: &refs,
        };
        let exact = match (&conjunction, plan.clauses.is_empty()) {
            (Some(j), false) => {
                let excluded =
                    plan.exclusion_needs_check && j.exclude.as_ref().is_some_and(|x| lexica_query::check(x, &doc));
                let all = (0..j.clauses.len()).all(|i| {
                    r.get::<i32, _>(7 + i) != 0
                        && (!plan.clauses[i].needs_check || lexica_query::check(&j.clauses[i], &doc))
                });
                !excluded && all
            }
            _ => !plan.needs_check || lexica_query::check(q, &doc),
        };
        if exact {
            out.insert(id);
        }
    }
    out
}

#[tokio::test]
async fn the_exact_tier_is_the_same_set_as_before_ranking_changed() {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("corpus.sqlite");
    lexica_ingest::ingest(
        format!("{SHARED}/opinions.jsonl.gz").as_ref(),
        lexica_ingest::Target::Sqlite(bundle.clone()),
        &|_| {},
    )
    .await
    .unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=ro", bundle.display())).await.unwrap();
    let ids: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, source_id FROM opinions").fetch_all(&mut conn).await.unwrap();
    let cl: HashMap<i64, String> =
        ids.into_iter().map(|(id, s)| (id, s.rsplit(':').next().unwrap_or_default().to_string())).collect();
    let expected = baseline();
    eprintln!("bundle built in {:.1} s", started.elapsed().as_secs_f64());

    // (1) The plans, no limit.
    let mut parsed = 0;
    for (id, text) in queries() {
        let Ok(q) = lexica_query::parse(&text, Mode::Boolean) else { continue };
        parsed += 1;
        let depth = q.conjunction().map_or(0, |j| if j.clauses.len() >= 3 { 2 } else { 1 });
        let plan =
            lexica_query::sqlite::compile(&q, &Filters { near_misses: depth, limit: 1_000_000, ..Filters::default() });
        let got: BTreeSet<String> = exact_set(&mut conn, &q, &plan).await.iter().map(|i| cl[i].clone()).collect();
        assert_eq!(&got, &expected[&id], "{id}: {text}");
    }
    assert_eq!(parsed, 187);
    assert_eq!(expected.len(), 187);
    conn.close().await.unwrap();
    eprintln!("plans checked at {:.1} s", started.elapsed().as_secs_f64());

    // (2) The real search's exact tier.
    let home = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    let lexica = lexica_core::Lexica::open_with_keychain(Some(home.path().into()), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&me, &me.username, lexica_core::db::DEMO_SOURCE_NAME).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Corpus".into()),
        database_url: Some(Some(format!("sqlite:{}", bundle.display()))),
        ..Default::default()
    };
    lexica.add_source(&me, "corpus", changes).await.unwrap();
    lexica.grant(&me, &me.username, "corpus", PermissionLevel::Read).await.unwrap();
    let mut compared = 0;
    for (id, text) in queries() {
        if lexica_query::parse(&text, Mode::Boolean).is_err() {
            continue;
        }
        let request = SearchRequest { query: text.clone(), mode: SearchModeInput::Boolean, ..Default::default() };
        let out = lexica.search(&me, &request, CancellationToken::new(), Arc::new(|_| {})).await.unwrap();
        let exact: BTreeSet<String> =
            out.hits.iter().filter(|h| h.tier == 0).map(|h| cl[&h.sources[0].opinion_id].clone()).collect();
        let want = &expected[&id];
        assert_eq!(out.summary.exact_results as usize, want.len().min(100), "{id}: {text}");
        if want.len() <= 100 {
            assert_eq!(&exact, want, "{id}: {text}");
            compared += 1;
        } else {
            assert!(exact.is_subset(want), "{id}: {text}");
        }
        assert!(out.hits.windows(2).all(|w| w[0].tier <= w[1].tier), "{id}: exact matches come first");
    }
    assert_eq!(compared, 179);
    eprintln!("searches done at {:.1} s", started.elapsed().as_secs_f64());
    lexica.close().await;
}
