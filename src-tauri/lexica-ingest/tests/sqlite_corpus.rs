//! The full shared corpus into an SQLite bundle: counts, field round-trips, paragraph rows,
//! the FTS5 indexes, idempotent re-ingest, and an update through contentless-delete FTS5.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use lexica_ingest::{Target, ingest};
use lexica_query::text;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};

async fn open(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path).read_only(true)).await.unwrap()
}

/// `"w1 w2 …"`: an FTS5 phrase query of normalized words.
fn fts_phrase(text_: &str) -> String {
    format!("\"{}\"", text::normalize(text_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_corpus_into_sqlite_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("corpus.sqlite");
    let target = Target::Sqlite(bundle.clone());

    let report = ingest(Path::new(CORPUS), target.clone(), &check_progress).await.unwrap();
    println!("{report}");
    assert_eq!(report.records, CORPUS_OPINIONS);
    assert_eq!((report.inserted, report.updated, report.unchanged, report.rejected), (CORPUS_OPINIONS, 0, 0, 0));
    assert!(report.opinions_per_sec > 0.0 && report.mb_per_sec > 0.0);
    // One self-contained file: no WAL left beside it.
    assert!(!dir.path().join("corpus.sqlite-wal").exists());

    let mut conn = open(&bundle).await;
    let counts: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM opinions), (SELECT count(*) FROM opinion_paragraphs)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(counts.0 as u64, CORPUS_OPINIONS);
    assert_eq!(counts.1 as u64, report.paragraphs_written);

    let corpus = corpus_records();
    let rows = sqlx::query(
        "SELECT source_id, case_name, citation, court, jurisdiction, decided_on, docket_number, body FROM opinions",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), corpus.len());
    for row in &rows {
        let id: String = row.get(0);
        let expected = &corpus[&id];
        for (i, field) in
            ["source_id", "case_name", "citation", "court", "jurisdiction", "decided_on", "docket_number", "body"]
                .iter()
                .enumerate()
        {
            let got: Option<String> = row.get(i);
            assert_eq!(got.as_deref(), expected[field].as_str(), "{id} field {field}");
        }
    }
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT p.body FROM opinion_paragraphs p JOIN opinions o ON o.id = p.opinion_id WHERE o.source_id = ?1 ORDER BY p.paragraph_no",
    )
    .bind(KNOWN_ID)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored, text::paragraphs(corpus[KNOWN_ID]["body"].as_str().unwrap()));

    // The known phrase through both FTS5 tables; a case-name column filter.
    let by_document: Vec<String> = sqlx::query_scalar(
        "SELECT o.source_id FROM opinions_fts f JOIN opinions o ON o.id = f.rowid WHERE opinions_fts MATCH ?1",
    )
    .bind(fts_phrase(KNOWN_PHRASE))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(by_document, [KNOWN_ID]);
    let by_paragraph: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.source_id FROM paragraphs_fts f JOIN opinion_paragraphs p ON p.id = f.rowid
           JOIN opinions o ON o.id = p.opinion_id WHERE paragraphs_fts MATCH ?1",
    )
    .bind(fts_phrase(KNOWN_PHRASE))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(by_paragraph, [KNOWN_ID]);
    let by_name: Vec<String> = sqlx::query_scalar(
        "SELECT o.source_id FROM opinions_fts f JOIN opinions o ON o.id = f.rowid WHERE opinions_fts MATCH 'case_name : gardiner'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(by_name.iter().any(|id| id == KNOWN_ID), "{by_name:?}");
    conn.close().await.unwrap();

    // Re-ingest: nothing changes.
    let again = ingest(Path::new(CORPUS), target.clone(), &check_progress).await.unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged, again.rejected), (0, 0, CORPUS_OPINIONS, 0));
    assert_eq!(again.paragraphs_written, 0);

    // An update replaces the opinion, its paragraphs and its FTS5 entries.
    let mut changed = corpus[KNOWN_ID].clone();
    changed["body"] = "Replaced body.\n\nSecond paragraph about demurrage.".into();
    let file = write_lines(dir.path(), "update.jsonl.gz", &[changed.to_string()]);
    let update = ingest(&file, target.clone(), &check_progress).await.unwrap();
    assert_eq!((update.inserted, update.updated, update.unchanged), (0, 1, 0));

    let mut conn = open(&bundle).await;
    let counts_after: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM opinions), (SELECT count(*) FROM opinion_paragraphs)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let old_paragraphs = text::paragraphs(corpus[KNOWN_ID]["body"].as_str().unwrap()).len() as i64;
    assert_eq!(counts_after, (counts.0, counts.1 - old_paragraphs + 2));
    let old_hits: i64 = sqlx::query_scalar("SELECT count(*) FROM paragraphs_fts WHERE paragraphs_fts MATCH ?1")
        .bind(fts_phrase(KNOWN_PHRASE))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(old_hits, 0, "old paragraphs still indexed");
    let new_hits: Vec<String> = sqlx::query_scalar(
        "SELECT o.source_id FROM opinions_fts f JOIN opinions o ON o.id = f.rowid WHERE opinions_fts MATCH 'demurrage'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(new_hits.iter().any(|id| id == KNOWN_ID), "{new_hits:?}");
    // FTS5's own consistency check passes after the delete-and-rewrite.
    let mut rw = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&bundle)).await.unwrap();
    for table in ["opinions_fts", "paragraphs_fts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {table}({table}) VALUES ('integrity-check')")))
            .execute(&mut rw)
            .await
            .unwrap();
    }
    rw.close().await.unwrap();
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest_runs").fetch_one(&mut conn).await.unwrap();
    assert_eq!(runs, 3);
    conn.close().await.unwrap();
}
