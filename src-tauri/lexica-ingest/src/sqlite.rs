//! The SQLite bundle loader.
//!
//! Per batch, in one `BEGIN IMMEDIATE` transaction: look up the batch's `source_id`s, compare
//! in Rust, and write new and changed opinions with multi-row `INSERT`s (hundreds of rows per
//! statement: a statement per row would spend most of the time crossing to sqlx's SQLite
//! worker thread). Row ids are assigned here so that the FTS5 rowids (`opinions_fts` =
//! `opinions.id`, `paragraphs_fts` = `opinion_paragraphs.id`) are known without reading back.
//!
//! The FTS5 tables are contentless (`content=''`, the text lives once, in the ordinary tables)
//! with `contentless_delete=1` (SQLite >= 3.43; sqlx 0.9 bundles 3.51), which is what lets a
//! changed opinion's index entries be deleted and rewritten. At the end the FTS5 indexes are
//! merged (`optimize`) and the file is left in rollback-journal mode: one self-contained file.
//!
//! The same transaction keeps the ranking statistics exact (see `crate::stats`), all computed
//! in Rust (SQLite has no vectors to count from, and FTS5's tokenizer is not the definition):
//! each written record adds its prepared lengths and +1 per term; a changed record first takes
//! off its old version, whose lengths come from `opinion_lengths` and whose terms are computed
//! from its stored text. Net df changes are written with multi-row upserts (gains) and one
//! `json_each` update (losses), then terms left at df 0 are deleted.
//!
//! Before the first batch, [`SqliteSink::open`] makes the statistics complete if they are not (a
//! bundle built by an older Lexica): every stored opinion is read, 1,000 at a time, for its
//! terms and, when missing, its lengths (committed per batch); then in one transaction every
//! term's df and, last, the corpus row (see `SqliteSink::ensure_statistics`).

mod postings;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::Applied;
use crate::error::IngestError;
use crate::postings::{self as impacts, Book, Pending};
use crate::record::{Opinion, Prepared, RejectKind, RejectedRecord};
use crate::report::IngestReport;
use crate::stats::{self, Lengths, TermDeltas};

/// The bundle schema, run on every ingest (every statement is `IF NOT EXISTS`).
const SCHEMA: &str = include_str!("../../../migrations/source-sqlite/0001_opinions.sql");
/// Ingest bookkeeping, run after the schema.
const SCHEMA_INGEST_RUNS: &str = include_str!("../../../migrations/source-sqlite/0002_ingest_runs.sql");
/// Ranking statistics tables, run after the bookkeeping.
const SCHEMA_STATISTICS: &str = include_str!("../../../migrations/source-sqlite/0003_statistics.sql");

/// Bound parameters per multi-row `INSERT`. SQLite allows 32,766; a few thousand keeps each
/// statement's preparation cheap while cutting statements a hundredfold.
const PARAMS_PER_INSERT: usize = 4_000;

/// How long to wait for another writer (e.g. a second ingest) before reporting it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache for the load, in KiB (negative `cache_size` means KiB): FTS5 segment merges
/// touch many pages.
const CACHE_KIB: &str = "-65536";

/// Columns the app's queries need (see the PostgreSQL loader).
const REQUIRED_COLUMNS: &[(&str, &[&str])] = &[
    (
        "opinions",
        &["id", "source_id", "case_name", "citation", "court", "jurisdiction", "decided_on", "docket_number", "body"],
    ),
    ("opinion_paragraphs", &["id", "opinion_id", "paragraph_no", "body"]),
];

/// The batch's records already stored, with their lengths (to subtract when they change).
const SELECT_EXISTING: &str = "
SELECT o.id, o.source_id, o.case_name, o.citation, o.court, o.jurisdiction, o.decided_on, o.docket_number, o.body,
       l.case_name_words, l.citation_words, l.court_words, l.body_words
  FROM opinions o LEFT JOIN opinion_lengths l ON l.opinion_id = o.id
 WHERE o.source_id IN (SELECT value FROM json_each(?1))";

const UPDATE_OPINION: &str = "UPDATE opinions SET case_name = ?2, citation = ?3, court = ?4, jurisdiction = ?5,
       decided_on = ?6, docket_number = ?7, body = ?8 WHERE id = ?1";

/// Removes a changed opinion's paragraphs and index entries before they are rewritten.
const DELETE_OLD: [&str; 3] = [
    "DELETE FROM paragraphs_fts WHERE rowid IN (SELECT id FROM opinion_paragraphs WHERE opinion_id = ?1)",
    "DELETE FROM opinion_paragraphs WHERE opinion_id = ?1",
    "DELETE FROM opinions_fts WHERE rowid = ?1",
];

// Ranking statistics (see `crate::stats`), maintained in the batch's transaction.

const UPSERT_LENGTHS: &str = "INSERT OR REPLACE INTO opinion_lengths (opinion_id, case_name_words, citation_words, court_words, body_words) VALUES ";

const INSERT_TERMS: &str = "INSERT INTO lexica_term_stats (term, df) VALUES ";
const INSERT_TERMS_WITH_POSTINGS: &str = "INSERT INTO lexica_term_stats (term, df, postings) VALUES ";
/// Positive net df changes (with their postings changes) are added to existing terms. Why the
/// others go separately ([`SUBTRACT_TERMS`]): the `CHECK (df >= 0)` is tested on the row an
/// `INSERT` proposes, before `ON CONFLICT` turns it into an update.
const ADD_TO_EXISTING_TERMS: &str =
    " ON CONFLICT (term) DO UPDATE SET df = df + excluded.df, postings = postings + excluded.postings";

/// Applies the other net changes, `?1` a JSON array of `[term, df delta ≤ 0, postings delta]`:
/// only ever to terms an old version holds or a posting was written for, so they are in the table.
const SUBTRACT_TERMS: &str = "
UPDATE lexica_term_stats SET df = df + d.delta, postings = postings + d.postings_delta
  FROM (SELECT j.value ->> 0 AS term, j.value ->> 1 AS delta, j.value ->> 2 AS postings_delta FROM json_each(?1) j) d
 WHERE lexica_term_stats.term = d.term";

/// Deletes the terms (of the JSON array `?1`, those that lost opinions) no opinion holds any more.
const DELETE_UNUSED_TERMS: &str =
    "DELETE FROM lexica_term_stats WHERE df = 0 AND term IN (SELECT j.value ->> 0 FROM json_each(?1) j) RETURNING term";

/// Adds a batch's net changes to the corpus row; run only for batches that write something, so
/// `updated_at` is the time of the last change.
const UPDATE_CORPUS: &str = "
UPDATE lexica_corpus_stats
   SET opinions = opinions + ?1, case_name_words = case_name_words + ?2, citation_words = citation_words + ?3,
       court_words = court_words + ?4, body_words = body_words + ?5,
       updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
 WHERE id = 1
RETURNING opinions, case_name_words, citation_words, court_words, body_words";

// The backfill (see `ensure_statistics`).

const RECORDED_OPINIONS: &str = "SELECT opinions FROM lexica_corpus_stats WHERE id = 1";

/// Opinions after id `?1`, at most `?2` of them, by id, and whether each lacks its lengths.
const OPINIONS_AFTER: &str = "
SELECT o.id, o.case_name, o.citation, o.court, o.body, l.opinion_id IS NULL
  FROM opinions o LEFT JOIN opinion_lengths l ON l.opinion_id = o.id
 WHERE o.id > ?1
 ORDER BY o.id
 LIMIT ?2";

/// The corpus row from `opinion_lengths` (complete when this runs). Written last, in the same
/// transaction as the document frequencies: its presence means the statistics are complete.
const CORPUS_FROM_LENGTHS: &str = "
INSERT OR REPLACE INTO lexica_corpus_stats (id, opinions, case_name_words, citation_words, court_words, body_words, updated_at)
SELECT 1, (SELECT count(*) FROM opinions), coalesce(sum(case_name_words), 0), coalesce(sum(citation_words), 0),
       coalesce(sum(court_words), 0), coalesce(sum(body_words), 0), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  FROM opinion_lengths";

const RECORD_RUN: &str =
    "INSERT INTO ingest_runs (input, records, inserted, updated, unchanged, rejected, elapsed_secs, lexica_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Merges each FTS5 index into one b-tree (faster queries, smaller file), then plans statistics.
const FINISH: &str = "
INSERT INTO opinions_fts(opinions_fts) VALUES ('optimize');
INSERT INTO paragraphs_fts(paragraphs_fts) VALUES ('optimize');
ANALYZE;";

pub(crate) struct SqliteSink {
    conn: SqliteConnection,
    path: PathBuf,
    /// Every term's postings count and floor (see `crate::postings`).
    book: Book,
}

impl SqliteSink {
    pub async fn open(path: &Path, per_term: u32) -> Result<Self, IngestError> {
        let open_err = |e: sqlx::Error| IngestError::OpenBundle { path: path.to_path_buf(), message: e.to_string() };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL while loading (fast commits per batch, no corruption on a crash);
            // switched back to a single-file journal when done.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("cache_size", CACHE_KIB);
        let mut conn = SqliteConnection::connect_with(&options).await.map_err(open_err)?;
        for (table, columns) in REQUIRED_COLUMNS {
            let present: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
                .bind(*table)
                .fetch_all(&mut conn)
                .await
                .map_err(open_err)?;
            if present.is_empty() {
                continue;
            }
            if let Some(missing) = columns.iter().find(|c| !present.iter().any(|p| p == *c)) {
                return Err(IngestError::ForeignSchema {
                    target: path.display().to_string(),
                    column: format!("{table}.{missing}"),
                });
            }
        }
        let schema_err =
            |e: sqlx::Error| IngestError::Schema { target: path.display().to_string(), message: e.to_string() };
        for script in [SCHEMA, SCHEMA_INGEST_RUNS, SCHEMA_STATISTICS] {
            sqlx::raw_sql(script).execute(&mut conn).await.map_err(schema_err)?;
        }
        postings::create_schema(&mut conn).await.map_err(schema_err)?;
        let mut sink = Self { conn, path: path.to_path_buf(), book: Book::new(per_term) };
        sink.ensure_statistics().await?;
        let started = std::time::Instant::now();
        let (book, written) = postings::ensure_postings(&mut sink.conn, per_term)
            .await
            .map_err(sink.db_err("building the postings of the opinions already in the bundle"))?;
        if written > 0 {
            tracing::info!(
                target: "lexica_ingest",
                "{}: {written} postings built for the opinions already in the bundle in {:.1} s",
                path.display(),
                started.elapsed().as_secs_f64()
            );
        }
        sink.book = book;
        Ok(sink)
    }

    /// Makes the statistics complete before any batch is loaded: a bundle built by an older
    /// Lexica (or changed by anything that left the opinion count different from the recorded
    /// one) gets them computed from the opinions it holds, [`stats::BACKFILL_BATCH`] at a time:
    /// the terms of every opinion (SQLite keeps no vectors to count them from), the lengths of
    /// those lacking them. Safe to interrupt, as in the PostgreSQL loader: lengths are committed
    /// per batch (each row correct on its own), the document frequencies and, last, the corpus
    /// row in one transaction, so a present corpus row means complete statistics.
    async fn ensure_statistics(&mut self) -> Result<(), IngestError> {
        const DURING: &str = "computing ranking statistics for the opinions already in the bundle";
        let started = std::time::Instant::now();
        let recorded: Option<i64> =
            sqlx::query_scalar(RECORDED_OPINIONS).fetch_optional(&mut self.conn).await.map_err(self.db_err(DURING))?;
        let opinions: i64 = sqlx::query_scalar("SELECT count(*) FROM opinions")
            .fetch_one(&mut self.conn)
            .await
            .map_err(self.db_err(DURING))?;
        match recorded {
            Some(n) if n == opinions => return Ok(()),
            Some(n) => {
                // Written without keeping the statistics: any stored length may be stale.
                tracing::warn!(
                    target: "lexica_ingest",
                    "{}: statistics record {n} opinions but the bundle has {opinions}; recomputing them",
                    self.path.display()
                );
                forget_statistics(&mut self.conn).await.map_err(self.db_err(DURING))?;
            }
            None => {}
        }
        let df = backfill(&mut self.conn).await.map_err(self.db_err(DURING))?;
        complete_statistics(&mut self.conn, &df).await.map_err(self.db_err(DURING))?;
        if opinions > 0 {
            tracing::info!(
                target: "lexica_ingest",
                "{}: ranking statistics for {opinions} opinions in {:.1} s",
                self.path.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    fn db_err(&self, during: &'static str) -> impl Fn(sqlx::Error) -> IngestError + '_ {
        move |e| {
            if sqlite_code(&e) == Some(SQLITE_BUSY) {
                IngestError::Busy { target: self.path.display().to_string() }
            } else {
                IngestError::Database { target: self.path.display().to_string(), during, message: e.to_string() }
            }
        }
    }

    /// Loads one batch; a record the database refuses is rejected alone (see the PostgreSQL
    /// loader), the rest of its batch loads.
    pub async fn apply(&mut self, records: &[Prepared]) -> Result<Applied, IngestError> {
        if records.is_empty() {
            return Ok(Applied::default());
        }
        match self.apply_in_transaction(records).await {
            Ok(applied) => Ok(applied),
            // Not the record's fault: retrying record by record would refuse every one.
            Err(e) if is_statistics_error(&e) => {
                Err(IngestError::InconsistentStatistics { target: self.path.display().to_string() })
            }
            Err(e) if is_record_error(&e) => {
                let mut total = Applied::default();
                for record in records {
                    match self.apply_in_transaction(std::slice::from_ref(record)).await {
                        Ok(one) => {
                            total.inserted += one.inserted;
                            total.updated += one.updated;
                            total.unchanged += one.unchanged;
                            total.paragraphs += one.paragraphs;
                        }
                        Err(e) if is_statistics_error(&e) => {
                            return Err(IngestError::InconsistentStatistics {
                                target: self.path.display().to_string(),
                            });
                        }
                        Err(e) if is_record_error(&e) => total.refused.push(RejectedRecord {
                            line: record.line,
                            source_id: Some(record.opinion.source_id.clone()),
                            kind: RejectKind::RefusedByDatabase,
                            reason: format!("SQLite refused the record: {e}"),
                        }),
                        Err(e) => return Err(self.db_err("loading a batch")(e)),
                    }
                }
                Ok(total)
            }
            Err(e) => Err(self.db_err("loading a batch")(e)),
        }
    }

    async fn apply_in_transaction(&mut self, records: &[Prepared]) -> Result<Applied, sqlx::Error> {
        let mut tx = self.conn.begin_with("BEGIN IMMEDIATE").await?;
        let ids: Vec<&str> = records.iter().map(|r| r.opinion.source_id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut existing: HashMap<String, (i64, Opinion, Option<Lengths>)> = HashMap::new();
        for row in sqlx::query(SELECT_EXISTING).bind(ids).fetch_all(&mut *tx).await? {
            let lengths = match (row.try_get(9)?, row.try_get(10)?, row.try_get(11)?, row.try_get(12)?) {
                (Some(case_name), Some(citation), Some(court), Some(body)) => {
                    Some(Lengths { case_name, citation, court, body })
                }
                _ => None,
            };
            let opinion = Opinion {
                source_id: row.try_get(1)?,
                case_name: row.try_get(2)?,
                citation: row.try_get(3)?,
                court: row.try_get(4)?,
                jurisdiction: row.try_get(5)?,
                decided_on: row.try_get(6)?,
                docket_number: row.try_get(7)?,
                body: row.try_get(8)?,
            };
            existing.insert(opinion.source_id.clone(), (row.try_get(0)?, opinion, lengths));
        }
        let mut next_opinion: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM opinions").fetch_one(&mut *tx).await?;
        let mut next_paragraph: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM opinion_paragraphs").fetch_one(&mut *tx).await?;

        let mut applied = Applied::default();
        // (opinion id, record) for every record to (re)index.
        let mut to_index: Vec<(i64, &Prepared)> = Vec::with_capacity(records.len());
        let mut new_rows: Vec<Val<'_>> = Vec::new();
        let mut corpus = CorpusDelta::default();
        let mut terms = TermDeltas::default();
        let mut pending = Pending::default();
        for r in records {
            let o = &r.opinion;
            match existing.get(&o.source_id) {
                Some((_, old, _)) if old == o => applied.unchanged += 1,
                Some((id, old, old_lengths)) => {
                    applied.updated += 1;
                    // The old version's contribution, from its stored text (every stored
                    // opinion has its lengths row; recomputing is the fallback, not the rule).
                    let (cn, ci, co, body) = (&old.case_name, old.citation.as_deref(), &old.court, &old.body);
                    corpus.add(old_lengths.unwrap_or_else(|| Lengths::of_text(cn, ci, co, body)), -1);
                    for term in stats::terms_of_text(cn, ci, co, body) {
                        terms.add(Cow::Owned(term), -1);
                    }
                    for sql in DELETE_OLD {
                        sqlx::query(sql).bind(*id).execute(&mut *tx).await?;
                    }
                    postings::delete_opinion(&mut tx, *id, &self.book, &mut pending, &mut terms).await?;
                    sqlx::query(UPDATE_OPINION)
                        .bind(*id)
                        .bind(&o.case_name)
                        .bind(&o.citation)
                        .bind(&o.court)
                        .bind(&o.jurisdiction)
                        .bind(&o.decided_on)
                        .bind(&o.docket_number)
                        .bind(&o.body)
                        .execute(&mut *tx)
                        .await?;
                    to_index.push((*id, r));
                }
                None => {
                    applied.inserted += 1;
                    corpus.opinions += 1;
                    let id = next_opinion;
                    next_opinion += 1;
                    new_rows.extend([
                        Val::Int(id),
                        Val::Text(Some(&o.source_id)),
                        Val::Text(Some(&o.case_name)),
                        Val::Text(o.citation.as_deref()),
                        Val::Text(Some(&o.court)),
                        Val::Text(o.jurisdiction.as_deref()),
                        Val::Text(o.decided_on.as_deref()),
                        Val::Text(o.docket_number.as_deref()),
                        Val::Text(Some(&o.body)),
                    ]);
                    to_index.push((id, r));
                }
            }
        }
        insert_rows(
            &mut tx,
            "INSERT INTO opinions (id, source_id, case_name, citation, court, jurisdiction, decided_on, docket_number, body) VALUES ",
            9,
            &new_rows,
            "",
        )
        .await?;
        drop(new_rows);
        if !to_index.is_empty() {
            write_statistics(&mut tx, &to_index, corpus, terms, &self.book, &mut pending).await?;
        }

        let norm_bodies: Vec<String> = to_index.iter().map(|(_, r)| r.norm_body()).collect();
        let mut fts_rows = Vec::with_capacity(to_index.len() * 5);
        let mut paragraph_rows = Vec::new();
        let mut paragraph_fts_rows = Vec::new();
        for ((id, r), norm_body) in to_index.iter().zip(&norm_bodies) {
            fts_rows.extend([
                Val::Int(*id),
                Val::Text(Some(&r.norm_case_name)),
                Val::Text(Some(&r.norm_citation)),
                Val::Text(Some(&r.norm_court)),
                Val::Text(Some(norm_body)),
            ]);
            for (no, p) in r.paragraphs.iter().enumerate() {
                let pid = next_paragraph;
                next_paragraph += 1;
                paragraph_rows.extend([
                    Val::Int(pid),
                    Val::Int(*id),
                    Val::Int(i64::try_from(no).unwrap_or(i64::MAX)),
                    Val::Text(Some(&p.body)),
                ]);
                paragraph_fts_rows.extend([Val::Int(pid), Val::Text(Some(&p.norm))]);
            }
        }
        applied.paragraphs = (paragraph_fts_rows.len() / 2) as u64;
        insert_rows(
            &mut tx,
            "INSERT INTO opinions_fts (rowid, case_name, citation, court, body) VALUES ",
            5,
            &fts_rows,
            "",
        )
        .await?;
        insert_rows(
            &mut tx,
            "INSERT INTO opinion_paragraphs (id, opinion_id, paragraph_no, body) VALUES ",
            4,
            &paragraph_rows,
            "",
        )
        .await?;
        insert_rows(&mut tx, "INSERT INTO paragraphs_fts (rowid, body) VALUES ", 2, &paragraph_fts_rows, "").await?;
        tx.commit().await?;
        self.book.commit(pending);
        Ok(applied)
    }

    /// Merges the FTS5 indexes, records the run and leaves one self-contained file.
    pub async fn finish(mut self, report: &IngestReport) -> Result<(), IngestError> {
        postings::trim_to_cap(&mut self.conn, &mut self.book)
            .await
            .map_err(self.db_err("trimming the postings to the cap"))?;
        sqlx::raw_sql(FINISH).execute(&mut self.conn).await.map_err(self.db_err("optimizing the full-text indexes"))?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        sqlx::query(RECORD_RUN)
            .bind(&report.input)
            .bind(n(report.records))
            .bind(n(report.inserted))
            .bind(n(report.updated))
            .bind(n(report.unchanged))
            .bind(n(report.rejected))
            .bind(report.elapsed_secs)
            .bind(env!("CARGO_PKG_VERSION"))
            .execute(&mut self.conn)
            .await
            .map_err(self.db_err("recording the run in ingest_runs"))?;
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .execute(&mut self.conn)
            .await
            .map_err(self.db_err("checkpointing the bundle"))?;
        let Self { conn, path, .. } = self;
        conn.close().await.map_err(|e| IngestError::Database {
            target: path.display().to_string(),
            during: "closing the bundle",
            message: e.to_string(),
        })?;
        Ok(())
    }
}

/// A bound value of a multi-row insert.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Int(i64),
    Real(f64),
    Text(Option<&'a str>),
}

/// The corpus row's net change from one batch.
#[derive(Debug, Default)]
struct CorpusDelta {
    opinions: i64,
    /// Case name, citation, court, body.
    words: [i64; 4],
}

impl CorpusDelta {
    /// Adds (`sign` 1) or removes (-1) one opinion version's lengths.
    fn add(&mut self, lengths: Lengths, sign: i64) {
        for (total, n) in self.words.iter_mut().zip(lengths.columns()) {
            *total += sign * i64::from(n);
        }
    }
}

/// The statistics and postings part of a batch: `to_index` are the records written (with their
/// ids); `corpus` and `terms` hold what the replaced versions took away (and the inserted
/// count). The corpus row is written first: its new totals are the averages of the postings'
/// impacts (see `crate::postings`).
async fn write_statistics<'r>(
    conn: &mut SqliteConnection,
    to_index: &[(i64, &'r Prepared)],
    mut corpus: CorpusDelta,
    mut terms: TermDeltas<'r>,
    book: &Book,
    pending: &mut Pending,
) -> Result<(), sqlx::Error> {
    let mut length_rows = Vec::with_capacity(to_index.len() * 5);
    for &(id, r) in to_index {
        corpus.add(r.lengths, 1);
        terms.add_all(r.terms(), 1);
        length_rows.push(Val::Int(id));
        length_rows.extend(r.lengths.columns().map(|n| Val::Int(i64::from(n))));
    }
    insert_rows(conn, UPSERT_LENGTHS, 5, &length_rows, "").await?;
    let [case_name, citation, court, body] = corpus.words;
    let totals = sqlx::query(UPDATE_CORPUS)
        .bind(corpus.opinions)
        .bind(case_name)
        .bind(citation)
        .bind(court)
        .bind(body)
        .fetch_one(&mut *conn)
        .await?;
    let words: [i64; 4] = [totals.try_get(1)?, totals.try_get(2)?, totals.try_get(3)?, totals.try_get(4)?];
    let average = impacts::averages(totals.try_get(0)?, words);
    postings::write_new(conn, to_index, average, book, pending, &mut terms).await?;
    for term in write_term_deltas(conn, &terms).await? {
        pending.forget(book, &term);
    }
    let (_, other) = terms.gains_and_losses();
    let lost: Vec<String> = other.iter().filter(|c| c.1 < 0).map(|c| c.0.to_string()).collect();
    postings::refill(conn, book, pending, &lost, to_index, average).await?;
    postings::trim(conn, book, pending).await
}

/// Writes one transaction's net df and postings changes, deleting the terms left in no
/// opinion; returns those.
async fn write_term_deltas(conn: &mut SqliteConnection, terms: &TermDeltas<'_>) -> Result<Vec<String>, sqlx::Error> {
    let (gained, other) = terms.gains_and_losses();
    let mut deleted = Vec::new();
    if !other.is_empty() {
        let lost = other.iter().any(|&(_, d, _)| d < 0);
        let other = serde_json::to_string(&other).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(SUBTRACT_TERMS).bind(&other).execute(&mut *conn).await?;
        if lost {
            deleted = sqlx::query_scalar(DELETE_UNUSED_TERMS).bind(&other).fetch_all(&mut *conn).await?;
        }
    }
    let values: Vec<Val<'_>> =
        gained.iter().flat_map(|&(t, d, p)| [Val::Text(Some(t)), Val::Int(d), Val::Int(p)]).collect();
    insert_rows(conn, INSERT_TERMS_WITH_POSTINGS, 3, &values, ADD_TO_EXISTING_TERMS).await?;
    Ok(deleted)
}

/// Reads every opinion, [`stats::BACKFILL_BATCH`] at a time: returns the document frequency of
/// every term, and writes the lengths of the opinions lacking them (one transaction per batch).
async fn backfill(conn: &mut SqliteConnection) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut df: HashMap<String, i64> = HashMap::new();
    let mut after: i64 = 0;
    loop {
        let rows = sqlx::query(OPINIONS_AFTER).bind(after).bind(stats::BACKFILL_BATCH).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            return Ok(df);
        }
        let mut length_rows = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let (case_name, citation, court, body): (&str, Option<&str>, &str, &str) =
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            for term in stats::terms_of_text(case_name, citation, court, body) {
                *df.entry(term).or_insert(0) += 1;
            }
            if row.try_get::<bool, _>(5)? {
                length_rows.push(Val::Int(id));
                let lengths = Lengths::of_text(case_name, citation, court, body);
                length_rows.extend(lengths.columns().map(|n| Val::Int(i64::from(n))));
            }
            after = id;
        }
        if !length_rows.is_empty() {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            insert_rows(&mut tx, UPSERT_LENGTHS, 5, &length_rows, "").await?;
            tx.commit().await?;
        }
    }
}

/// Deletes the corpus row (first: see `ensure_statistics`) and every length, in one transaction.
async fn forget_statistics(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM lexica_corpus_stats").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM opinion_lengths").execute(&mut *tx).await?;
    tx.commit().await
}

/// The backfill's last step, in one transaction: every term's document frequency, then the
/// corpus row (from `opinion_lengths`, complete by now).
async fn complete_statistics(conn: &mut SqliteConnection, df: &HashMap<String, i64>) -> Result<(), sqlx::Error> {
    let mut rows: Vec<(&str, i64)> = df.iter().map(|(t, &n)| (t.as_str(), n)).collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0)); // primary-key order
    let values: Vec<Val<'_>> = rows.iter().flat_map(|&(t, n)| [Val::Text(Some(t)), Val::Int(n)]).collect();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM lexica_term_stats").execute(&mut *tx).await?;
    insert_rows(&mut tx, INSERT_TERMS, 2, &values, "").await?;
    sqlx::query(CORPUS_FROM_LENGTHS).execute(&mut *tx).await?;
    tx.commit().await
}

/// Inserts `values` (row-major, `columns` per row) with as few statements as
/// [`PARAMS_PER_INSERT`] allows, each statement ending in `tail` (e.g. an `ON CONFLICT`
/// clause). The SQL holds only placeholders; all data is bound.
async fn insert_rows(
    conn: &mut SqliteConnection,
    head: &'static str,
    columns: usize,
    values: &[Val<'_>],
    tail: &'static str,
) -> Result<(), sqlx::Error> {
    let rows_per_statement = (PARAMS_PER_INSERT / columns).max(1);
    let tuple = format!("({})", vec!["?"; columns].join(","));
    for chunk in values.chunks(rows_per_statement * columns) {
        let rows = chunk.len() / columns;
        let mut sql = String::with_capacity(head.len() + rows * (tuple.len() + 1) + tail.len());
        sql.push_str(head);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&tuple);
        }
        sql.push_str(tail);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in chunk {
            query = match *value {
                Val::Int(i) => query.bind(i),
                Val::Real(r) => query.bind(r),
                Val::Text(t) => query.bind(t),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

const SQLITE_BUSY: i32 = 5;

/// The primary SQLite result code of a database error.
fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    match e {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff),
        _ => None,
    }
}

/// SQLITE_CONSTRAINT_CHECK, the extended result code of a failed `CHECK`.
const SQLITE_CONSTRAINT_CHECK: i32 = 275;

/// A failed `CHECK`: the bundle's only `CHECK`s are on the statistics tables (a df or total
/// going below zero), which a batch can only break if the statistics were already wrong.
fn is_statistics_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()) == Some(SQLITE_CONSTRAINT_CHECK),
        _ => false,
    }
}

/// Errors caused by one record's data: SQLITE_TOOBIG (18), SQLITE_CONSTRAINT (19),
/// SQLITE_MISMATCH (20).
fn is_record_error(e: &sqlx::Error) -> bool {
    matches!(sqlite_code(e), Some(18..=20))
}
