//! Ranking across sources (RANKING.md): BM25F with statistics shared by the sources of a search,
//! so a PostgreSQL source and an SQLite bundle holding the same opinions score them the same; and
//! near misses, the tiers after the exact matches.
//!
//! Real sources built from the shared corpus with Lexica's ingest: `pg_a` (PostgreSQL) and
//! `lite_a` (SQLite) hold the same 150 Supreme Court opinions; `pg_b` holds 100 other opinions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{Hit, SearchEvent, SearchModeInput, SearchOutcome, SearchRequest, SortOrder};
use lexica_core::{Lexica, User};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");

struct Fixture {
    _dir: tempfile::TempDir,
    sources: Vec<(String, String)>,
}

static FIXTURE: OnceCell<Option<Fixture>> = OnceCell::const_new();

async fn fixture() -> Option<&'static Fixture> {
    FIXTURE
        .get_or_init(|| async {
            let pg = support::pg_admin_url()?;
            let dir = tempfile::tempdir().unwrap();
            let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(CORPUS).unwrap()));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for line in reader.lines() {
                let line = line.unwrap();
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let scotus = v["court"].as_str() == Some("Supreme Court of the United States");
                if scotus && a.len() < 150 {
                    a.push(line);
                } else if !scotus && b.len() < 100 {
                    b.push(line);
                }
            }
            let write = |name: &str, lines: &[String]| {
                let path = dir.path().join(name);
                let mut f = std::fs::File::create(&path).unwrap();
                for l in lines {
                    writeln!(f, "{l}").unwrap();
                }
                path
            };
            let (file_a, file_b) = (write("a.jsonl", &a), write("b.jsonl", &b));
            let mut sources = Vec::new();
            for (name, file) in [("pg_a", &file_a), ("pg_b", &file_b)] {
                let url = support::url_with_db(&pg, &support::empty_database(&pg).await);
                lexica_ingest::ingest(file, lexica_ingest::Target::parse(&url).unwrap(), &|_| {}).await.unwrap();
                sources.push((name.to_string(), url));
            }
            let bundle = dir.path().join("a.sqlite");
            lexica_ingest::ingest(&file_a, lexica_ingest::Target::Sqlite(bundle.clone()), &|_| {}).await.unwrap();
            sources.push(("lite_a".to_string(), format!("sqlite:{}", bundle.display())));
            Some(Fixture { _dir: dir, sources })
        })
        .await
        .as_ref()
}

async fn install(f: &Fixture) -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&admin, &admin.username, lexica_core::db::DEMO_SOURCE_NAME).await.unwrap();
    for (name, url) in &f.sources {
        let mut parsed = url::Url::parse(url).unwrap();
        let password = parsed.password().map(str::to_string);
        if password.is_some() {
            parsed.set_password(None).unwrap();
        }
        let url = if url.starts_with("sqlite:") { url.clone() } else { parsed.to_string() };
        let changes =
            SourceChanges { display_name: Some(name.clone()), database_url: Some(Some(url)), ..Default::default() };
        lexica.add_source(&admin, name, changes).await.unwrap();
        if let Some(p) = password {
            lexica.set_source_password(&admin, name, &Secret::new(p)).await.unwrap();
        }
        lexica.grant(&admin, &admin.username, name, PermissionLevel::Read).await.unwrap();
    }
    (dir, lexica, admin)
}

fn request(query: &str, sources: &[&str]) -> SearchRequest {
    SearchRequest {
        query: query.into(),
        mode: SearchModeInput::Boolean,
        sources: sources.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Runs a search and returns its outcome and each source's own hits (from the events).
async fn search(lexica: &Lexica, user: &User, req: &SearchRequest) -> (SearchOutcome, HashMap<String, Vec<Hit>>) {
    let seen: Arc<Mutex<HashMap<String, Vec<Hit>>>> = Arc::default();
    let sink = seen.clone();
    let events = Arc::new(move |e: SearchEvent| {
        if let SearchEvent::SourceFinished { outcome, hits } = e {
            sink.lock().unwrap().insert(outcome.name.clone(), hits);
        }
    });
    let out = lexica.search(user, req, CancellationToken::new(), events).await.unwrap();
    assert_eq!(out.summary.completed, out.summary.sources_searched, "{:#?}", out.sources);
    let per_source = seen.lock().unwrap().clone();
    (out, per_source)
}

/// An opinion's identity across two sources built from one file: case name, date, docket.
type Key = (String, Option<String>, Option<String>);

/// The same opinion in two sources built from one file.
fn key(h: &Hit) -> Key {
    (h.case_name.clone(), h.decided_on.clone(), h.docket_number.clone())
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Pairs each `lite_a` hit with the same opinion's `pg_a` hit: (pg score, SQLite score).
fn pairs(per_source: &HashMap<String, Vec<Hit>>) -> HashMap<Key, (f64, f64)> {
    let pg: HashMap<_, f64> = per_source["pg_a"].iter().map(|h| (key(h), h.score)).collect();
    per_source["lite_a"].iter().filter_map(|h| pg.get(&key(h)).map(|p| (key(h), (*p, h.score)))).collect()
}

const QUERIES: &[(&str, SearchModeInput)] = &[
    ("commerce", SearchModeInput::Boolean),
    ("ti(united) & tax!", SearchModeInput::Boolean),
    ("\"interstate commerce\" OR railroad", SearchModeInput::Boolean),
    ("interstate & commerce & \"at home\"", SearchModeInput::Boolean),
    ("railroad rates set by the interstate commerce commission were unreasonable", SearchModeInput::Statements),
];

#[tokio::test]
async fn the_same_opinion_scores_the_same_from_postgres_and_sqlite() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    for (query, mode) in QUERIES {
        let req = SearchRequest { mode: *mode, ..request(query, &["pg_a", "lite_a"]) };
        let (out, per_source) = search(&lexica, &admin, &req).await;
        let pairs = pairs(&per_source);
        assert!(pairs.len() >= 20, "{query}: {} opinions compared", pairs.len());
        for (k, (p, s)) in &pairs {
            assert!(same(*p, *s), "{query}: {k:?} scored {p} in PostgreSQL, {s} in SQLite");
        }
        // Held by both, each opinion is one hit listing both sources.
        assert!(out.hits.iter().all(|h| h.sources.len() == 2), "{query}");
    }
}

#[tokio::test]
async fn adding_a_source_changes_both_sources_idf_the_same_way() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    for (query, mode) in QUERIES {
        let two = SearchRequest { mode: *mode, ..request(query, &["pg_a", "lite_a"]) };
        let three = SearchRequest { mode: *mode, ..request(query, &["pg_a", "lite_a", "pg_b"]) };
        let before = pairs(&search(&lexica, &admin, &two).await.1);
        let after = pairs(&search(&lexica, &admin, &three).await.1);
        let mut changed = 0;
        for (k, (p_after, s_after)) in &after {
            assert!(same(*p_after, *s_after), "{query}: {k:?}: {p_after} vs {s_after} with pg_b added");
            if let Some((p_before, s_before)) = before.get(k) {
                // Both moved by the same factor: the statistics are the search's, not the source's.
                assert!(same(p_after / p_before, s_after / s_before), "{query}: {k:?}");
                changed += usize::from(!same(*p_before, *p_after));
            }
        }
        assert!(changed > 0, "{query}: pg_b's opinions change the collection's statistics");
    }
}

fn clause_labels(out: &SearchOutcome) -> Vec<(String, u8, Vec<String>)> {
    out.hits.iter().map(|h| (h.case_name.clone(), h.tier, h.missing.clone())).collect()
}

#[tokio::test]
async fn near_misses_follow_the_exact_matches_each_naming_what_it_lacks() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    let query = "interstate & commerce & railroad & \"at home\"";
    let mut lists = Vec::new();
    for source in ["pg_a", "lite_a"] {
        let (out, _) = search(&lexica, &admin, &request(query, &[source])).await;
        let hits = &out.hits;
        assert!(hits.iter().any(|h| h.tier == 1) && hits.iter().any(|h| h.tier == 2), "{source}: both near-miss tiers");
        // Ordering: tiers first, scores within a tier.
        assert!(hits.windows(2).all(|w| w[0].tier < w[1].tier || (w[0].tier == w[1].tier && w[0].score >= w[1].score)));
        // Labels: exact hits lack nothing; a tier-k hit names k of the query's clauses.
        let clauses = ["interstate", "commerce", "railroad", "\"at home\""];
        for h in hits {
            assert_eq!(h.missing.len(), usize::from(h.tier), "{}", h.case_name);
            assert!(h.missing.iter().all(|m| clauses.contains(&m.as_str())), "{:?}", h.missing);
        }
        // Counts apart, in the summary and the source's outcome.
        let exact = hits.iter().filter(|h| h.tier == 0).count() as u32;
        assert_eq!((out.summary.exact_results, out.summary.near_miss_results), (exact, hits.len() as u32 - exact));
        assert_eq!((out.sources[0].results_count, out.sources[0].near_misses), (exact, hits.len() as u32 - exact));
        // Whatever the sort, exact matches come first.
        let (newest, _) =
            search(&lexica, &admin, &SearchRequest { sort: SortOrder::Newest, ..request(query, &[source]) }).await;
        assert!(newest.hits.windows(2).all(|w| w[0].tier <= w[1].tier));
        // The off switch: exact matches only, the same ones.
        let (off, _) =
            search(&lexica, &admin, &SearchRequest { near_misses: Some(false), ..request(query, &[source]) }).await;
        assert!(off.hits.iter().all(|h| h.tier == 0 && h.missing.is_empty()));
        let exact_names: Vec<&str> = hits.iter().filter(|h| h.tier == 0).map(|h| h.case_name.as_str()).collect();
        assert_eq!(off.hits.iter().map(|h| h.case_name.as_str()).collect::<Vec<_>>(), exact_names);
        assert_eq!(off.summary.near_miss_results, 0);
        lists.push(clause_labels(&out));
    }
    // Both backends: the same list, tiers and labels.
    assert_eq!(lists[0], lists[1]);

    // A query that is not a conjunction at its top level has no near misses.
    let (or, _) = search(&lexica, &admin, &request("railroad OR \"at home\"", &["pg_a"])).await;
    assert!(or.hits.iter().all(|h| h.tier == 0));
}

#[tokio::test]
async fn snippets_show_why_the_opinion_matched() {
    let Some(f) = fixture().await else { return };
    let (_d, lexica, admin) = install(f).await;
    let text = |h: &Hit| h.snippet.iter().map(|p| p.text.as_str()).collect::<String>();
    let marked = |h: &Hit| {
        h.snippet
            .iter()
            .filter(|p| p.highlight)
            .map(|p| p.text.to_lowercase())
            .collect::<std::collections::HashSet<_>>()
    };
    // `/n`: the window holds both operands, always; `/p`: whenever they are close enough to show
    // in one window (a paragraph can run to hundreds of words).
    for (query, a, b, share) in [
        ("interstate /5 commerce", "interstate", "commerce", 1.0),
        ("commerce /p railroad", "commerce", "railroad", 0.8),
    ] {
        let (out, _) = search(&lexica, &admin, &request(query, &["lite_a"])).await;
        assert!(!out.hits.is_empty(), "{query}");
        let both = out
            .hits
            .iter()
            .filter(|h| {
                let m = marked(h);
                m.iter().any(|w| w.starts_with(a)) && m.iter().any(|w| w.starts_with(b))
            })
            .count();
        assert!(
            both as f64 >= share * out.hits.len() as f64,
            "{query}: {both} of {} show both: {}",
            out.hits.len(),
            text(&out.hits[0])
        );
    }
    // Statements: the window with the most keywords, not the first mention of one.
    let req = SearchRequest {
        mode: SearchModeInput::Statements,
        ..request("railroad rates set by the interstate commerce commission were unreasonable", &["lite_a"])
    };
    let (out, _) = search(&lexica, &admin, &req).await;
    let rich = out.hits.iter().take(10).filter(|h| marked(h).len() >= 3).count();
    assert!(rich >= 8, "the top snippets show several keywords together");
}
