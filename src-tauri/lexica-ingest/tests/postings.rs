//! Impact-ordered postings (`lexica_postings`) in real PostgreSQL sources and SQLite bundles,
//! checked against a recomputation from the opinions' text with `lexica_query::text::words` and
//! `lexica_query::bm25f::weight`: every term's top R by impact, all postings of terms held by at
//! most R opinions, the floors, updates, idempotent re-ingest, the backfill of a source whose
//! postings were dropped, and the two backends holding the same postings. R is small here
//! ([`R`]) so that the shared corpus has many terms past the cap (the shipped R is 1,000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use common::*;
use lexica_ingest::{IngestOptions, Target, ingest_with};
use lexica_query::{bm25f, text};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};

/// The cap the tests build with: small enough that hundreds of the corpus's terms are trimmed.
const R: u32 = 12;

/// Every `STRIDE`-th corpus line: 208 real opinions (about 4 MB), one ingest batch, so every
/// impact is computed with the final averages and can be recomputed exactly.
const STRIDE: usize = 8;

/// PostgreSQL's longest lexeme (longer words are not terms).
const MAX_LEXEME_BYTES: usize = 2_046;

/// A stored or expected posting: opinion `source_id`, impact, body_tf.
type Post = (String, f32, i32);

fn corpus_lines() -> Vec<String> {
    let file = std::fs::File::open(CORPUS).expect("the shared corpus at ../shared/corpus (see CORPUS)");
    BufReader::new(flate2::read::MultiGzDecoder::new(file)).lines().map(Result::unwrap).collect()
}

fn options() -> IngestOptions {
    IngestOptions { postings_per_term: R }
}

/// Every posting of `lines`, by term, recomputed from the text with the averages of `lines`.
fn expected(lines: &[String]) -> BTreeMap<String, Vec<Post>> {
    let records: Vec<(String, Vec<Vec<String>>)> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let fields = ["case_name", "citation", "court", "body"].map(|k| text::words(&s(k)));
            (s("source_id"), fields.to_vec())
        })
        .collect();
    let mut totals = [0f64; 4];
    for (_, fields) in &records {
        for (t, f) in totals.iter_mut().zip(fields) {
            *t += f.len() as f64;
        }
    }
    let average = totals.map(|t| t / records.len() as f64);
    let mut out: BTreeMap<String, Vec<Post>> = BTreeMap::new();
    for (source_id, fields) in &records {
        let mut tf: HashMap<&str, [u32; 4]> = HashMap::new();
        for (f, words) in fields.iter().enumerate() {
            for w in words.iter().filter(|w| w.len() <= MAX_LEXEME_BYTES) {
                tf.entry(w.as_str()).or_default()[f] += 1;
            }
        }
        let lengths: [u32; 4] = std::array::from_fn(|f| fields[f].len() as u32);
        for (term, counts) in tf {
            let impact = bm25f::weight(counts, lengths, average) as f32;
            out.entry(term.to_string()).or_default().push((source_id.clone(), impact, counts[3] as i32));
        }
    }
    out
}

/// Where postings are read from.
enum Store {
    Pg(TestDb),
    Sqlite(PathBuf),
}

/// What a store holds: postings by term (sorted), each term's floor, `postings_per_term`.
#[derive(Debug, PartialEq)]
struct Held {
    postings: BTreeMap<String, Vec<Post>>,
    floors: BTreeMap<String, (f32, i64)>,
    per_term: Option<i64>,
}

const POSTINGS_SQL: &str = "SELECT p.term, o.source_id, p.impact, p.body_tf FROM lexica_postings p
     JOIN opinions o ON o.id = p.opinion_id";
const FLOORS_SQL: &str = "SELECT term, floor, postings FROM lexica_term_stats";
const PER_TERM_SQL: &str = "SELECT postings_per_term FROM lexica_corpus_stats";

impl Store {
    fn target(&self) -> Target {
        match self {
            Self::Pg(db) => Target::Postgres(db.url.clone()),
            Self::Sqlite(path) => Target::Sqlite(path.clone()),
        }
    }

    async fn ingest(&self, file: &Path) -> lexica_ingest::IngestReport {
        let report = ingest_with(file, self.target(), options(), &check_progress).await.unwrap();
        assert_eq!(report.rejected, 0, "{report}");
        report
    }

    async fn sqlite(path: &Path) -> SqliteConnection {
        SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path)).await.unwrap()
    }

    /// Runs statements (test set-up only: fixed SQL).
    async fn execute(&self, sql: &'static str) {
        match self {
            Self::Pg(db) => {
                let mut conn = db.connect().await;
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Self::Sqlite(path) => {
                let mut conn = Self::sqlite(path).await;
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    async fn held(&self) -> Held {
        let mut postings: BTreeMap<String, Vec<Post>> = BTreeMap::new();
        let mut floors = BTreeMap::new();
        let per_term: Option<i64>;
        match self {
            Self::Pg(db) => {
                let mut conn = db.connect().await;
                for r in sqlx::query(POSTINGS_SQL).fetch_all(&mut conn).await.unwrap() {
                    postings.entry(r.get(0)).or_default().push((r.get(1), r.get(2), r.get(3)));
                }
                for r in sqlx::query(FLOORS_SQL).fetch_all(&mut conn).await.unwrap() {
                    floors.insert(r.get(0), (r.get(1), i64::from(r.get::<i32, _>(2))));
                }
                per_term = sqlx::query_scalar::<_, Option<i32>>(PER_TERM_SQL)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .map(i64::from);
                conn.close().await.unwrap();
            }
            Self::Sqlite(path) => {
                let mut conn = Self::sqlite(path).await;
                for r in sqlx::query(POSTINGS_SQL).fetch_all(&mut conn).await.unwrap() {
                    let impact: f64 = r.get(2);
                    postings.entry(r.get(0)).or_default().push((r.get(1), impact as f32, r.get(3)));
                }
                for r in sqlx::query(FLOORS_SQL).fetch_all(&mut conn).await.unwrap() {
                    let floor: f64 = r.get(1);
                    floors.insert(r.get(0), (floor as f32, r.get(2)));
                }
                per_term = sqlx::query_scalar(PER_TERM_SQL).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
        for list in postings.values_mut() {
            list.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Held { postings, floors, per_term }
    }

    async fn finish(self) {
        if let Self::Pg(db) = self {
            db.drop_db().await;
        }
    }
}

/// The contract, term by term: a term held by at most R opinions has exactly its df postings,
/// equal to the recomputed ones; every other term's stored postings include every posting above
/// its R-th highest recomputed impact, with the recomputed impact and body_tf, and nothing not
/// stored is above its floor. `exact_impacts`: every impact was computed with the final averages
/// (one batch, or a backfill), so stored impacts must equal recomputed ones.
fn check_contract(held: &Held, want: &BTreeMap<String, Vec<Post>>, exact_impacts: bool) -> usize {
    assert_eq!(held.per_term, Some(i64::from(R)), "postings_per_term marks complete postings");
    let mut trimmed = 0;
    for (term, all) in want {
        let stored = held.postings.get(term).map(Vec::as_slice).unwrap_or_default();
        let (floor, count) = held.floors.get(term).copied().unwrap_or_else(|| panic!("{term}: no statistics row"));
        assert_eq!(count as usize, stored.len(), "{term}: recorded postings count");
        let by_id: HashMap<&str, &Post> = all.iter().map(|p| (p.0.as_str(), p)).collect();
        for p in stored {
            let w =
                by_id.get(p.0.as_str()).unwrap_or_else(|| panic!("{term}: stored posting of {} not in the text", p.0));
            assert_eq!(p.2, w.2, "{term} in {}: body_tf", p.0);
            if exact_impacts {
                assert_eq!(p.1, w.1, "{term} in {}: impact", p.0);
            }
        }
        if all.len() <= R as usize {
            assert_eq!(stored.len(), all.len(), "{term}: df {} ≤ R, so every posting is stored", all.len());
            continue;
        }
        // Fewer than R only after a changed opinion took its posting away from a trimmed term:
        // what is missing is then below the floor.
        assert!(stored.len() >= R as usize || floor > 0.0, "{term}: {} stored of df {}", stored.len(), all.len());
        if !exact_impacts {
            continue;
        }
        let mut impacts: Vec<f32> = all.iter().map(|p| p.1).collect();
        impacts.sort_by(|a, b| b.total_cmp(a));
        let rth = impacts[R as usize - 1];
        let kept: std::collections::HashSet<&str> = stored.iter().map(|p| p.0.as_str()).collect();
        for p in all {
            if p.1 > rth {
                assert!(
                    kept.contains(p.0.as_str()),
                    "{term}: {} (impact {}) is in the top {R} but not stored",
                    p.0,
                    p.1
                );
            }
            if !kept.contains(p.0.as_str()) {
                assert!(p.1 <= floor, "{term}: unstored {} has impact {} above the floor {floor}", p.0, p.1);
            }
        }
        if stored.len() < all.len() {
            trimmed += 1;
        }
    }
    assert_eq!(held.postings.len(), want.len(), "postings for terms no opinion holds");
    trimmed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_postings_match_the_text_and_both_backends_agree() {
    let lines: Vec<String> = corpus_lines().into_iter().step_by(STRIDE).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = write_lines(dir.path(), "subset.jsonl", &lines);
    let want = expected(&lines);
    let sqlite = Store::Sqlite(dir.path().join("subset.sqlite"));
    sqlite.ingest(&file).await;
    let from_sqlite = sqlite.held().await;
    let trimmed = check_contract(&from_sqlite, &want, true);
    assert!(trimmed > 100, "only {trimmed} terms were trimmed: the test would not see the cap");
    let Some(db) = TestDb::create("postings_one_batch").await else { return };
    let pg = Store::Pg(db);
    pg.ingest(&file).await;
    let from_pg = pg.held().await;
    check_contract(&from_pg, &want, true);
    assert!(from_pg == from_sqlite, "PostgreSQL and SQLite hold different postings");
    pg.finish().await;
}

/// Every `LIFECYCLE_STRIDE`-th corpus line: 416 real opinions, two ingest batches.
const LIFECYCLE_STRIDE: usize = 4;

/// Multi-batch load of a quarter of the corpus, re-ingest, an update, then a backfill after the
/// postings are dropped (recomputed exactly, since a backfill uses the final averages).
async fn lifecycle(store: Store) {
    let lines: Vec<String> = corpus_lines().into_iter().step_by(LIFECYCLE_STRIDE).collect();
    let opinions = lines.len() as u64;
    let dir = tempfile::tempdir().unwrap();
    let file = write_lines(dir.path(), "all.jsonl", &lines);
    let report = store.ingest(&file).await;
    assert_eq!(report.inserted, opinions);
    let want = expected(&lines);
    let first = store.held().await;
    check_contract(&first, &want, false);

    // Unchanged data: nothing touched.
    let again = store.ingest(&file).await;
    assert_eq!(again.unchanged, opinions);
    assert!(store.held().await == first, "a re-ingest of unchanged data changed the postings");

    // A changed record: its old postings go, its new ones are written.
    let mut changed = lines.clone();
    let mut v: serde_json::Value = serde_json::from_str(&changed[0]).unwrap();
    assert_eq!(v["source_id"], KNOWN_ID);
    v["body"] = serde_json::Value::String("Zyzzogeton zyzzogeton zyzzogeton railroad.".into());
    changed[0] = v.to_string();
    let file = write_lines(dir.path(), "changed.jsonl", &changed);
    let report = store.ingest(&file).await;
    assert_eq!((report.updated, report.unchanged), (1, opinions - 1));
    let after = store.held().await;
    let known: Vec<(&String, &Post)> = after
        .postings
        .iter()
        .flat_map(|(t, ps)| ps.iter().map(move |p| (t, p)))
        .filter(|(_, p)| p.0 == KNOWN_ID)
        .collect();
    let want_changed = expected(&changed);
    for (term, p) in &known {
        assert!(want_changed[*term].iter().any(|w| w.0 == KNOWN_ID), "{term}: posting of the old version left");
        if term.as_str() == "zyzzogeton" {
            assert_eq!(p.2, 3);
        }
    }
    assert!(known.iter().any(|(t, _)| t.as_str() == "zyzzogeton"), "the new version's rare term has no posting");
    assert_eq!(after.postings["zyzzogeton"].len(), 1);
    check_contract(&after, &want_changed, false);

    // Postings dropped (and their columns gone, as in a source of an older Lexica): rebuilt.
    store
        .execute(
            "DROP TABLE lexica_postings;
             ALTER TABLE lexica_term_stats DROP COLUMN floor;
             ALTER TABLE lexica_term_stats DROP COLUMN postings;
             ALTER TABLE lexica_corpus_stats DROP COLUMN postings_per_term;
             ALTER TABLE lexica_corpus_stats DROP COLUMN postings_backfill_after;",
        )
        .await;
    let report = store.ingest(&file).await;
    assert_eq!(report.unchanged, opinions);
    let rebuilt = store.held().await;
    let trimmed = check_contract(&rebuilt, &want_changed, true);
    assert!(trimmed > 500, "only {trimmed} terms trimmed");

    // An interrupted backfill resumes where it stopped: marked as done up to the last opinion,
    // it only has to record completion (and leaves the postings as they are).
    store
        .execute(
            "UPDATE lexica_corpus_stats SET postings_per_term = NULL,
                    postings_backfill_after = (SELECT max(id) FROM opinions)",
        )
        .await;
    store.ingest(&file).await;
    assert!(store.held().await == rebuilt, "resuming a finished backfill changed the postings");
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postings_lifecycle_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    lifecycle(Store::Sqlite(dir.path().join("corpus.sqlite"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postings_lifecycle_postgres() {
    let Some(db) = TestDb::create("postings_lifecycle").await else { return };
    lifecycle(Store::Pg(db)).await;
}
