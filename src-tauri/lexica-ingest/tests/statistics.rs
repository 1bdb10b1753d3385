//! Ranking statistics (`lexica_corpus_stats`, `lexica_term_stats`, `opinion_lengths`) in real
//! PostgreSQL sources and SQLite bundles: equal to what this test computes from the input with
//! `lexica_query::text::words`, equal between the two backends, exact after re-ingests and
//! updates (equal to a fresh build of the final data), and built for sources loaded before the
//! statistics existed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use common::*;
use lexica_ingest::{Target, ingest};
use lexica_query::text;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};

/// Every `SUBSET_STRIDE`-th line of the shared corpus (104 real opinions, about 2 MB; line 0 is
/// the known opinion): small enough for a debug build, varied enough (every court, citations
/// present and absent) to exercise every field.
const SUBSET_STRIDE: usize = 16;

/// A smaller real subset (every 48th line: 35 opinions) for the tests that ingest several times.
const SMALL_SUBSET_STRIDE: usize = 48;

/// PostgreSQL's longest lexeme (the crate's `tsvector::MAX_LEXEME_BYTES`): longer words are not
/// terms.
const MAX_LEXEME_BYTES: usize = 2_046;

/// The corpus's raw lines (byte for byte, so the subset is real data).
fn corpus_lines() -> Vec<String> {
    let file = std::fs::File::open(CORPUS).expect("the shared corpus at ../shared/corpus (see CORPUS)");
    BufReader::new(flate2::read::MultiGzDecoder::new(file)).lines().map(Result::unwrap).collect()
}

fn subset_lines() -> Vec<String> {
    corpus_lines().into_iter().step_by(SUBSET_STRIDE).collect()
}

fn small_subset_lines() -> Vec<String> {
    corpus_lines().into_iter().step_by(SMALL_SUBSET_STRIDE).collect()
}

/// Statistics as stored, or as expected. Lengths and the corpus totals are in column order:
/// case name, citation, court, body.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stats {
    /// `(opinions, [words; 4])`, `None` when the row is absent.
    corpus: Option<(i64, [i64; 4])>,
    /// By `source_id`.
    lengths: BTreeMap<String, [i64; 4]>,
    df: BTreeMap<String, i64>,
}

/// One input record's fields.
struct Fields {
    source_id: String,
    values: [String; 4],
}

fn fields(line: &str) -> Fields {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    Fields { source_id: s("source_id"), values: [s("case_name"), s("citation"), s("court"), s("body")] }
}

/// What the statistics must be for `lines`, computed here from the definitions.
fn expected(lines: &[String]) -> Stats {
    let mut lengths = BTreeMap::new();
    let mut df: BTreeMap<String, i64> = BTreeMap::new();
    let mut totals = [0i64; 4];
    for line in lines {
        let f = fields(line);
        let words: Vec<Vec<String>> = f.values.iter().map(|v| text::words(v)).collect();
        let counts: [i64; 4] = std::array::from_fn(|i| words[i].len() as i64);
        for (t, c) in totals.iter_mut().zip(counts) {
            *t += c;
        }
        let terms: BTreeSet<&String> = words.iter().flatten().filter(|w| w.len() <= MAX_LEXEME_BYTES).collect();
        for term in terms {
            *df.entry(term.clone()).or_default() += 1;
        }
        lengths.insert(f.source_id, counts);
    }
    Stats { corpus: Some((lines.len() as i64, totals)), lengths, df }
}

/// Where statistics are read from: a throwaway PostgreSQL database or an SQLite bundle.
enum Store {
    Pg(TestDb),
    Sqlite(PathBuf),
}

impl Store {
    async fn pg(prefix: &str) -> Option<Self> {
        TestDb::create(prefix).await.map(Self::Pg)
    }

    fn target(&self) -> Target {
        match self {
            Self::Pg(db) => Target::Postgres(db.url.clone()),
            Self::Sqlite(path) => Target::Sqlite(path.clone()),
        }
    }

    async fn ingest(&self, file: &Path) -> lexica_ingest::IngestReport {
        let report = ingest(file, self.target(), &check_progress).await.unwrap();
        assert_eq!(report.rejected, 0, "{report}");
        report
    }

    async fn sqlite(path: &Path) -> SqliteConnection {
        SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path)).await.unwrap()
    }

    /// Runs statements (test set-up only: fixed SQL, no user values).
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

    /// The statistics and the corpus row's `updated_at`.
    async fn stats(&self) -> (Stats, Option<String>) {
        const CORPUS_SQL: &str =
            "SELECT opinions, case_name_words, citation_words, court_words, body_words FROM lexica_corpus_stats";
        const LENGTHS_SQL: &str = "SELECT o.source_id, l.case_name_words, l.citation_words, l.court_words, l.body_words
             FROM opinion_lengths l JOIN opinions o ON o.id = l.opinion_id";
        const ROWS_SQL: &str =
            "SELECT (SELECT count(*) FROM opinion_lengths), (SELECT count(*) FROM lexica_corpus_stats)";
        let mut stats = Stats { corpus: None, lengths: BTreeMap::new(), df: BTreeMap::new() };
        let updated_at: Option<String>;
        let (length_rows, corpus_rows): (i64, i64);
        match self {
            Self::Pg(db) => {
                let mut conn = db.connect().await;
                if let Some(r) = sqlx::query(CORPUS_SQL).fetch_optional(&mut conn).await.unwrap() {
                    stats.corpus = Some((r.get(0), [r.get(1), r.get(2), r.get(3), r.get(4)]));
                }
                updated_at = sqlx::query_scalar("SELECT updated_at::text FROM lexica_corpus_stats")
                    .fetch_optional(&mut conn)
                    .await
                    .unwrap();
                for r in sqlx::query(LENGTHS_SQL).fetch_all(&mut conn).await.unwrap() {
                    let n = |i: usize| i64::from(r.get::<i32, _>(i));
                    stats.lengths.insert(r.get(0), [n(1), n(2), n(3), n(4)]);
                }
                for r in sqlx::query("SELECT term, df FROM lexica_term_stats").fetch_all(&mut conn).await.unwrap() {
                    stats.df.insert(r.get(0), r.get(1));
                }
                (length_rows, corpus_rows) = sqlx::query_as(ROWS_SQL).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Self::Sqlite(path) => {
                let mut conn = Self::sqlite(path).await;
                if let Some(r) = sqlx::query(CORPUS_SQL).fetch_optional(&mut conn).await.unwrap() {
                    stats.corpus = Some((r.get(0), [r.get(1), r.get(2), r.get(3), r.get(4)]));
                }
                updated_at = sqlx::query_scalar("SELECT updated_at FROM lexica_corpus_stats")
                    .fetch_optional(&mut conn)
                    .await
                    .unwrap();
                for r in sqlx::query(LENGTHS_SQL).fetch_all(&mut conn).await.unwrap() {
                    stats.lengths.insert(r.get(0), [r.get(1), r.get(2), r.get(3), r.get(4)]);
                }
                for r in sqlx::query("SELECT term, df FROM lexica_term_stats").fetch_all(&mut conn).await.unwrap() {
                    stats.df.insert(r.get(0), r.get(1));
                }
                (length_rows, corpus_rows) = sqlx::query_as(ROWS_SQL).fetch_one(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
        assert_eq!(length_rows as usize, stats.lengths.len(), "opinion_lengths rows without an opinion");
        assert!(corpus_rows <= 1);
        assert!(stats.df.values().all(|&df| df > 0), "terms left at df 0 must be deleted");
        (stats, updated_at)
    }

    async fn finish(self) {
        if let Self::Pg(db) = self {
            db.drop_db().await;
        }
    }
}

/// A readable comparison: which part differs, and the first differing entries.
fn assert_stats_eq(got: &Stats, want: &Stats, what: &str) {
    assert_eq!(got.corpus, want.corpus, "{what}: corpus row");
    assert_eq!(got.lengths.len(), want.lengths.len(), "{what}: opinion_lengths rows");
    for (id, l) in &want.lengths {
        assert_eq!(got.lengths.get(id), Some(l), "{what}: lengths of {id}");
    }
    let diff: Vec<_> = got
        .df
        .iter()
        .filter(|(t, d)| want.df.get(*t) != Some(d))
        .map(|(t, d)| (t.clone(), Some(*d), want.df.get(t).copied()))
        .chain(want.df.iter().filter(|(t, _)| !got.df.contains_key(*t)).map(|(t, d)| (t.clone(), None, Some(*d))))
        .take(10)
        .collect();
    assert!(diff.is_empty(), "{what}: df differs (term, got, want): {diff:?}");
    assert_eq!(got, want, "{what}");
}

/// Terms found in one field kind (0 case name, 1 citation, 2 court, 3 body) and in no other
/// field of any input opinion (at most 4).
fn only_in_field(lines: &[String], field: usize) -> Vec<String> {
    let mut per_field: [BTreeSet<String>; 4] = Default::default();
    for line in lines {
        let f = fields(line);
        for (set, v) in per_field.iter_mut().zip(&f.values) {
            set.extend(text::words(v));
        }
    }
    let mut only: Vec<String> = per_field[field]
        .iter()
        .filter(|t| (0..4).filter(|&i| i != field).all(|i| !per_field[i].contains(*t)))
        .cloned()
        .collect();
    only.truncate(4);
    only
}

/// Each input opinion's words, all fields together.
fn words_per_opinion(lines: &[String]) -> Vec<BTreeSet<String>> {
    lines.iter().map(|l| fields(l).values.iter().flat_map(|v| text::words(v)).collect()).collect()
}

/// Check 1: the stored statistics equal the input's, and named common and rare terms (one in
/// only a case name, a citation, a court) have the df a plain count gives.
async fn check_against_input(store: &Store, lines: &[String]) {
    let (stats, updated_at) = store.stats().await;
    assert!(updated_at.is_some());
    let want = expected(lines);
    assert_stats_eq(&stats, &want, "statistics vs. the input");

    let mut named: Vec<String> = ["court", "the", "of", "hearsay", "estoppel", "habeas", "v", "supreme", "appeals"]
        .into_iter()
        .map(String::from)
        .collect();
    // Citations (`273 U.S. 280`) and court names share every word with some body; case names
    // have words of their own.
    let only_in_case_names = only_in_field(lines, 0);
    assert!(!only_in_case_names.is_empty(), "no term only in a case name");
    named.extend(only_in_case_names);
    named.extend(["u", "s", "f", "2d", "3d", "circuit", "united", "states"].map(String::from)); // citations, courts
    // Rare ones: the first few terms held by exactly one opinion.
    named.extend(want.df.iter().filter(|(_, d)| **d == 1).take(5).map(|(t, _)| t.clone()));
    named.push("zzzz-not-a-lexica-word".into());
    assert!(named.len() >= 24, "{named:?}");
    let words = words_per_opinion(lines);
    // Opinions holding `term` in any field, counted the plain way.
    let holding = |term: &str| words.iter().filter(|w| w.contains(term)).count() as i64;
    for term in &named {
        assert_eq!(stats.df.get(term).copied().unwrap_or(0), holding(term), "df({term})");
    }
    for common in ["court", "the", "hearsay", "estoppel"] {
        assert!(holding(common) > 0, "{common} should occur in the subset");
    }
    assert_eq!(stats.df["the"], lines.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_match_the_input_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let lines = subset_lines();
    let file = write_lines(dir.path(), "subset.jsonl.gz", &lines);
    let store = Store::Sqlite(dir.path().join("subset.sqlite"));
    store.ingest(&file).await;
    check_against_input(&store, &lines).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_match_the_input_postgres() {
    let Some(store) = Store::pg("stats_input").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let lines = subset_lines();
    let file = write_lines(dir.path(), "subset.jsonl.gz", &lines);
    store.ingest(&file).await;
    check_against_input(&store, &lines).await;

    // df is exactly the lexeme count of the stored document vectors.
    let Store::Pg(db) = &store else { unreachable!() };
    let mut conn = db.connect().await;
    let from_vectors: Vec<(String, i64)> = sqlx::query_as(
        "SELECT t.term, count(*) FROM opinions o CROSS JOIN LATERAL unnest(tsvector_to_array(o.search_vector)) t (term)
          GROUP BY t.term",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let (stats, _) = store.stats().await;
    assert_eq!(from_vectors.into_iter().collect::<BTreeMap<_, _>>(), stats.df);
    store.finish().await;
}

/// Edge cases added to the real subset: a word longer than PostgreSQL's lexeme limit (a
/// length, not a term), Unicode whose lower case changes length, apostrophes, digits, a term
/// only in a case name, and a record whose text repeats one word past the 16,383 position limit.
fn with_edge_cases(mut lines: Vec<String>) -> Vec<String> {
    let long = "z".repeat(MAX_LEXEME_BYTES + 10);
    let edge = [
        record(
            "test:edge-long",
            "Longword v. Limit",
            Some("2001-01-01"),
            &format!("A {long} word, and a 2,046-byte one: {}.", "y".repeat(MAX_LEXEME_BYTES)),
        ),
        record(
            "test:edge-unicode",
            "İSTANBUL Straße v. Ǆemal",
            None,
            "The party’s ĲSSEL claim; l'état c'est moi. ΣΊΣΥΦΟΣ 1st 2d 3d.",
        ),
        record("test:edge-deep", "Quuxly v. Deep", None, &"repeat ".repeat(17_000)),
    ];
    lines.extend(edge.iter().map(ToString::to_string));
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_sqlite_statistics_are_identical() {
    let Some(pg) = Store::pg("stats_same").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let lines = with_edge_cases(subset_lines());
    let file = write_lines(dir.path(), "edge.jsonl", &lines);
    let sqlite = Store::Sqlite(dir.path().join("edge.sqlite"));
    pg.ingest(&file).await;
    sqlite.ingest(&file).await;
    let (from_pg, _) = pg.stats().await;
    let (from_sqlite, _) = sqlite.stats().await;
    assert_stats_eq(&from_pg, &from_sqlite, "PostgreSQL vs. SQLite");
    assert_stats_eq(&from_sqlite, &expected(&lines), "SQLite vs. the input");
    assert!(!from_pg.df.keys().any(|t| t.len() > MAX_LEXEME_BYTES), "an over-long word counted as a term");
    assert!(from_pg.df.keys().any(|t| t.len() == MAX_LEXEME_BYTES), "a word of exactly the limit is a term");
    assert_eq!(from_pg.lengths["test:edge-long"][3], 10, "a, z…, word, and, a, 2, 046, byte, one, y…");
    assert_eq!(from_pg.lengths["test:edge-deep"][3], 17_000);
    assert_eq!(from_pg.df.get("quuxly"), Some(&1));
    pg.finish().await;
}

/// The second file: changed and new records (and some unchanged), and the final data it leaves.
/// Changes: a body rewritten (its unique terms must disappear), a case name changed, a
/// citation removed, a field that is no statistic (jurisdiction) changed.
fn second_file(first: &[String]) -> (Vec<String>, Vec<String>) {
    let mut changed: Vec<serde_json::Value> = first.iter().take(4).map(|l| serde_json::from_str(l).unwrap()).collect();
    changed[0]["body"] = "Rewritten entirely.\n\nAbout demurrage and quuxification.".into();
    changed[1]["case_name"] = "Renamed Party v. Someone Else".into();
    let with_citation = first
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["citation"].is_string() && !changed.iter().any(|c| c["source_id"] == v["source_id"]))
        .unwrap();
    changed[2] = with_citation;
    changed[2]["citation"] = serde_json::Value::Null;
    changed[3]["jurisdiction"] = "ZZ".into();
    let new: Vec<String> =
        corpus_lines().into_iter().skip(SMALL_SUBSET_STRIDE / 2).step_by(SMALL_SUBSET_STRIDE).take(12).collect();
    let by_id: BTreeMap<String, String> =
        changed.iter().map(|v| (v["source_id"].as_str().unwrap().to_string(), v.to_string())).collect();
    let mut second: Vec<String> = by_id.values().cloned().collect();
    // Unchanged ones.
    second.extend(first.iter().filter(|l| !by_id.contains_key(&fields(l).source_id)).skip(10).take(5).cloned());
    second.extend(new.iter().cloned());
    let mut last: Vec<String> =
        first.iter().map(|l| by_id.get(&fields(l).source_id).cloned().unwrap_or_else(|| l.clone())).collect();
    last.extend(new);
    (second, last)
}

async fn reingest_and_update(store: Store, fresh: Store) {
    let dir = tempfile::tempdir().unwrap();
    let first = small_subset_lines();
    let first_file = write_lines(dir.path(), "first.jsonl.gz", &first);
    store.ingest(&first_file).await;
    let (before, stamp_before) = store.stats().await;
    assert_stats_eq(&before, &expected(&first), "after the first ingest");

    // The same file again: nothing changes, not even the time of the last change.
    let again = store.ingest(&first_file).await;
    assert_eq!(again.unchanged, first.len() as u64);
    let (after, stamp_after) = store.stats().await;
    assert_eq!(after, before);
    assert_eq!(stamp_after, stamp_before);

    // Changed, new and unchanged records.
    let (second, last) = second_file(&first);
    // Terms only the rewritten opinion's old version held, in no opinion of the final data: the
    // update must delete them.
    let rewritten = fields(&first[0]).source_id;
    let want_last = expected(&last);
    let lost: Vec<String> = text::words(&fields(&first[0]).values[3])
        .into_iter()
        .filter(|t| before.df.get(t) == Some(&1) && !want_last.df.contains_key(t))
        .take(5)
        .collect();
    assert!(!lost.is_empty(), "the rewritten opinion has no term of its own");
    let second_file = write_lines(dir.path(), "second.jsonl", &second);
    let report = store.ingest(&second_file).await;
    assert_eq!((report.inserted, report.updated, report.unchanged), (12, 4, 5), "{report}");
    let (incremental, _) = store.stats().await;
    for term in &lost {
        assert!(!incremental.df.contains_key(term), "{term} (only in the old body of {rewritten}) is still counted");
    }
    assert_eq!(incremental.df.get("quuxification"), Some(&1));
    assert_stats_eq(&incremental, &want_last, "after the update vs. the input");

    // A fresh build of the final data has the same statistics.
    let last_file = write_lines(dir.path(), "last.jsonl", &last);
    fresh.ingest(&last_file).await;
    let (from_scratch, _) = fresh.stats().await;
    assert_stats_eq(&incremental, &from_scratch, "incremental vs. fresh");
    store.finish().await;
    fresh.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reingest_and_updates_keep_statistics_exact_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    reingest_and_update(Store::Sqlite(dir.path().join("a.sqlite")), Store::Sqlite(dir.path().join("b.sqlite"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reingest_and_updates_keep_statistics_exact_postgres() {
    let Some(store) = Store::pg("stats_update").await else { return };
    let fresh = Store::pg("stats_update_fresh").await.unwrap();
    reingest_and_update(store, fresh).await;
}

/// Simulations of a source whose statistics are missing or incomplete, each followed by an
/// ingest of the same (unchanged) file, which must leave the statistics of a fresh build.
const OLD_SOURCES: &[(&str, &str)] = &[
    (
        "loaded by a Lexica without statistics (tables absent)",
        "DROP TABLE lexica_corpus_stats; DROP TABLE lexica_term_stats; DROP TABLE opinion_lengths;",
    ),
    (
        "tables present but empty",
        "DELETE FROM lexica_corpus_stats; DELETE FROM lexica_term_stats; DELETE FROM opinion_lengths;",
    ),
    (
        "a backfill interrupted after some lengths (no corpus row yet)",
        "DELETE FROM lexica_corpus_stats; DELETE FROM lexica_term_stats;
         DELETE FROM opinion_lengths WHERE opinion_id % 3 = 0;",
    ),
    (
        "opinions written by something that kept no statistics (recorded count differs)",
        "UPDATE lexica_corpus_stats SET opinions = opinions - 2, body_words = 7;
         UPDATE opinion_lengths SET body_words = 1 WHERE opinion_id % 5 = 0;
         UPDATE lexica_term_stats SET df = df + 3 WHERE term < 'b';",
    ),
];

async fn backfill(store: Store, fresh: Store) {
    let dir = tempfile::tempdir().unwrap();
    let lines = small_subset_lines();
    let file = write_lines(dir.path(), "subset.jsonl.gz", &lines);
    fresh.ingest(&file).await;
    let (want, _) = fresh.stats().await;
    store.ingest(&file).await;
    for &(what, simulate) in OLD_SOURCES {
        store.execute(simulate).await;
        let report = store.ingest(&file).await;
        assert_eq!(report.unchanged, lines.len() as u64, "{what}");
        let (got, _) = store.stats().await;
        assert_stats_eq(&got, &want, what);
    }
    store.finish().await;
    fresh.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_builds_statistics_for_old_sources_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    backfill(Store::Sqlite(dir.path().join("old.sqlite")), Store::Sqlite(dir.path().join("fresh.sqlite"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_builds_statistics_for_old_sources_postgres() {
    let Some(store) = Store::pg("stats_backfill").await else { return };
    let fresh = Store::pg("stats_backfill_fresh").await.unwrap();
    backfill(store, fresh).await;
}

/// Statistics changed by hand so that an update would take a df below zero: the ingest stops
/// with an error saying how to rebuild them (instead of refusing every record), and doing what
/// it says gives exact statistics.
async fn tampered(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let first = small_subset_lines();
    store.ingest(&write_lines(dir.path(), "first.jsonl", &first)).await;
    store.execute("UPDATE lexica_term_stats SET df = 0").await;
    let (second, last) = second_file(&first);
    let second_file = write_lines(dir.path(), "second.jsonl", &second);
    let err = ingest(&second_file, store.target(), &check_progress).await.unwrap_err();
    assert!(matches!(err, lexica_ingest::IngestError::InconsistentStatistics { .. }), "{err:?}");
    let advice = "DELETE FROM opinion_lengths; DELETE FROM lexica_corpus_stats;";
    assert!(err.to_string().contains(advice), "{err}");
    store.execute("DELETE FROM opinion_lengths; DELETE FROM lexica_corpus_stats;").await;
    store.ingest(&second_file).await;
    let (got, _) = store.stats().await;
    assert_stats_eq(&got, &expected(&last), "rebuilt after tampering");
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_statistics_are_reported_and_rebuilt_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    tampered(Store::Sqlite(dir.path().join("t.sqlite"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_statistics_are_reported_and_rebuilt_postgres() {
    let Some(store) = Store::pg("stats_tampered").await else { return };
    tampered(store).await;
}
