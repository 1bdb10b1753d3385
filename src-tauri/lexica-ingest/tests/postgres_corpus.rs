//! The full shared corpus into a real PostgreSQL source: counts, field round-trips, paragraph
//! rows, the full-text indexes, idempotent re-ingest, and an update; the ranking statistics stay
//! consistent with the stored vectors throughout (tests/statistics.rs checks them in detail).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use lexica_ingest::{Target, ingest};
use lexica_query::text;
use sqlx::Row;
use sqlx::postgres::PgConnection;

/// The ranking statistics agree with the stored opinions: df is the lexeme count of the
/// document vectors, the corpus row holds the opinion count and the sums of `opinion_lengths`,
/// which has a row per opinion.
async fn assert_statistics_consistent(conn: &mut PgConnection) {
    let wrong_df: i64 = sqlx::query_scalar(
        "WITH v AS (SELECT t.term, count(*) AS df FROM opinions o
                     CROSS JOIN LATERAL unnest(tsvector_to_array(o.search_vector)) t (term) GROUP BY t.term)
         SELECT count(*) FROM v FULL JOIN lexica_term_stats s ON s.term = v.term WHERE s.df IS DISTINCT FROM v.df",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(wrong_df, 0, "terms whose df differs from the vectors'");
    let (consistent,): (bool,) = sqlx::query_as(
        "SELECT c.opinions = (SELECT count(*) FROM opinions) AND c.opinions = (SELECT count(*) FROM opinion_lengths)
            AND (c.case_name_words, c.citation_words, c.court_words, c.body_words) =
                (SELECT sum(case_name_words), sum(citation_words), sum(court_words), sum(body_words) FROM opinion_lengths)
           FROM lexica_corpus_stats c",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(consistent, "corpus row, opinions and opinion_lengths disagree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_corpus_into_postgres() {
    let Some(db) = TestDb::create("corpus").await else { return };
    let target = Target::Postgres(db.url.clone());

    // First load.
    let report = ingest(Path::new(CORPUS), target.clone(), &check_progress).await.unwrap();
    println!("{report}");
    assert_eq!(report.records, CORPUS_OPINIONS);
    assert_eq!((report.inserted, report.updated, report.unchanged, report.rejected), (CORPUS_OPINIONS, 0, 0, 0));
    assert!(report.opinions_per_sec > 0.0 && report.mb_per_sec > 0.0);
    assert!(!report.target.contains("lexica-test-superuser"), "password shown: {}", report.target);

    let mut conn = db.connect().await;
    let opinions: i64 = sqlx::query_scalar("SELECT count(*) FROM opinions").fetch_one(&mut conn).await.unwrap();
    let paragraphs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM opinion_paragraphs").fetch_one(&mut conn).await.unwrap();
    assert_eq!(opinions as u64, CORPUS_OPINIONS);
    assert_eq!(paragraphs as u64, report.paragraphs_written);
    assert_statistics_consistent(&mut conn).await;

    // Every field of every opinion round-trips.
    let corpus = corpus_records();
    let rows = sqlx::query(
        "SELECT source_id, case_name, citation, court, jurisdiction, decided_on::text, docket_number, body FROM opinions",
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

    // Paragraph rows are text::paragraphs(body), in order, with positions in Lexica's numbering.
    let known_body = corpus[KNOWN_ID]["body"].as_str().unwrap();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT p.body FROM opinion_paragraphs p JOIN opinions o ON o.id = p.opinion_id
          WHERE o.source_id = $1 ORDER BY p.paragraph_no",
    )
    .bind(KNOWN_ID)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored, text::paragraphs(known_body));
    let first_word_position: String = sqlx::query_scalar(
        "SELECT p.search_vector::text FROM opinion_paragraphs p JOIN opinions o ON o.id = p.opinion_id
          WHERE o.source_id = $1 AND p.paragraph_no = 0",
    )
    .bind(KNOWN_ID)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(first_word_position, "'273':1 '280':4 's':3 'u':2", "paragraph 0 is \"273 U.S. 280\"");

    // The schema's indexes all exist after the load (they are built after it).
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for name in [
        "opinions_search_vector_idx",
        "opinion_paragraphs_search_vector_idx",
        "opinions_court_idx",
        "opinions_decided_on_idx",
        "opinions_citation_idx",
    ] {
        assert!(indexes.iter().any(|i| i == name), "missing {name}: {indexes:?}");
    }

    // The known phrase is found, through the document vector and through paragraph rows.
    let phrase = text::normalize(KNOWN_PHRASE);
    let by_document: Vec<String> =
        sqlx::query_scalar("SELECT source_id FROM opinions WHERE search_vector @@ phraseto_tsquery('simple', $1)")
            .bind(&phrase)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(by_document, [KNOWN_ID]);
    let by_paragraph: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.source_id FROM opinion_paragraphs p JOIN opinions o ON o.id = p.opinion_id
          WHERE p.search_vector @@ phraseto_tsquery('simple', $1)",
    )
    .bind(&phrase)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(by_paragraph, [KNOWN_ID]);

    // Weights: case name A, court C.
    let weighted: bool = sqlx::query_scalar(
        "SELECT search_vector @@ to_tsquery('simple', 'gardiner:A') AND search_vector @@ to_tsquery('simple', 'supreme:C')
            AND NOT search_vector @@ to_tsquery('simple', 'gardiner:C')
           FROM opinions WHERE source_id = $1",
    )
    .bind(KNOWN_ID)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(weighted);

    // Proximity deep in the longest opinion (past position 16,383) works through paragraph rows.
    let (long_id, long_body) =
        corpus.iter().map(|(id, v)| (id, v["body"].as_str().unwrap())).max_by_key(|(_, body)| body.len()).unwrap();
    let mut offset = 0;
    let deep_phrase = text::paragraphs(long_body)
        .iter()
        .find_map(|p| {
            let words = text::words(p);
            let start = offset;
            offset += words.len();
            (start > 20_000 && words.len() >= 8).then(|| words[..8].join(" "))
        })
        .expect("a paragraph past word 20,000");
    let deep: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.source_id FROM opinion_paragraphs p JOIN opinions o ON o.id = p.opinion_id
          WHERE p.search_vector @@ phraseto_tsquery('simple', $1)",
    )
    .bind(&deep_phrase)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(deep.contains(long_id), "{deep_phrase:?} not found in {long_id}: {deep:?}");

    // Re-ingest: nothing changes.
    let again = ingest(Path::new(CORPUS), target.clone(), &check_progress).await.unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged, again.rejected), (0, 0, CORPUS_OPINIONS, 0));
    assert_eq!(again.paragraphs_written, 0);
    let counts: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM opinions), (SELECT count(*) FROM opinion_paragraphs)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(counts, (opinions, paragraphs));

    // A changed record replaces the old one (and its paragraphs); a new one is added.
    let dir = tempfile::tempdir().unwrap();
    let mut changed = corpus[KNOWN_ID].clone();
    changed["body"] = "Replaced body.\n\nSecond paragraph about demurrage.".into();
    changed["citation"] = serde_json::Value::Null;
    let new = record("test:new-1", "New v. Record", Some("2026-11-26"), "A fresh opinion about estoppel.");
    let file = write_lines(dir.path(), "update.jsonl", &[changed.to_string(), new.to_string()]);
    let update = ingest(&file, target.clone(), &check_progress).await.unwrap();
    assert_eq!((update.inserted, update.updated, update.unchanged, update.rejected), (1, 1, 0, 0));
    assert_eq!(update.paragraphs_written, 3);
    let row = sqlx::query(
        "SELECT o.citation, o.body, (SELECT count(*) FROM opinion_paragraphs p WHERE p.opinion_id = o.id),
                o.search_vector @@ phraseto_tsquery('simple', $2), o.search_vector @@ to_tsquery('simple', 'demurrage')
           FROM opinions o WHERE o.source_id = $1",
    )
    .bind(KNOWN_ID)
    .bind(&phrase)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(row.get::<Option<String>, _>(0), None);
    assert_eq!(row.get::<String, _>(1), "Replaced body.\n\nSecond paragraph about demurrage.");
    assert_eq!(row.get::<i64, _>(2), 2);
    assert!(!row.get::<bool, _>(3), "old text still indexed");
    assert!(row.get::<bool, _>(4), "new text not indexed");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM opinions").fetch_one(&mut conn).await.unwrap();
    assert_eq!(total as u64, CORPUS_OPINIONS + 1);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest_runs").fetch_one(&mut conn).await.unwrap();
    assert_eq!(runs, 3);
    assert_statistics_consistent(&mut conn).await;

    drop(conn);
    db.drop_db().await;
}
