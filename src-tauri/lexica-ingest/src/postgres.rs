//! The PostgreSQL loader.
//!
//! Per batch, in one transaction: COPY the records (fields plus `tsvector` literals) and
//! their paragraphs into session-local staging tables; classify each record against
//! `opinions` by `source_id` (new / changed / identical) in SQL; then write only new and
//! changed ones. Vectors are staged as `tsvector` literals (see `crate::tsvector`) and cast
//! only for the records written, so re-ingesting unchanged records costs little more than the
//! COPY.
//!
//! The same transaction keeps the ranking statistics exact (see `crate::stats`). Each staged
//! record carries its four field lengths (computed by the reader); for the records written,
//! the loader adds up +1 per term of each new version (the terms were collected on the reader
//! thread from the document vector it built) and -1 per lexeme of each replaced version (read
//! from its stored vector with `tsvector_to_array`), and writes only the net changes: one
//! `unnest` array statement for the df gains, one for the losses, then the terms left at df 0
//! are deleted. The corpus row and `opinion_lengths` are updated in SQL from the staged lengths
//! (less the replaced versions' stored ones). A batch of unchanged records writes nothing.
//!
//! Before the first batch, [`PgSink::open`] makes the statistics complete if they are not (a
//! source loaded by an older Lexica): lengths from the stored text, 1,000 opinions per round
//! trip, each batch committed; then in one transaction the df of every lexeme of every stored
//! vector and, last, the corpus row (see `PgSink::ensure_statistics`).
//!
//! On a first load (empty `opinions`) the GIN and btree search indexes are dropped and built
//! once at the end, which is several times faster than maintaining them row by row (the
//! statistics tables keep their primary keys: the batches look terms and opinions up by them).
//! Every run ends by (re)creating whatever index is missing, so an interrupted first load is
//! repaired by the next run.

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use crate::Applied;
use crate::error::IngestError;
use crate::record::{PgVectors, Prepared, RejectKind, RejectedRecord};
use crate::report::IngestReport;
use crate::stats::{self, Lengths, TermDeltas};
use crate::target::{redact_url, scrub, url_secrets};

/// The source schema, run on every ingest (every statement is `IF NOT EXISTS`).
const SCHEMA: &str = include_str!("../../../migrations/source-postgres/0001_opinions.sql");
/// Ingest bookkeeping, run after the schema.
const SCHEMA_INGEST_RUNS: &str = include_str!("../../../migrations/source-postgres/0002_ingest_runs.sql");
/// Ranking statistics tables, run after the bookkeeping.
const SCHEMA_STATISTICS: &str = include_str!("../../../migrations/source-postgres/0003_statistics.sql");
/// Every schema script, in order.
const SCHEMA_SCRIPTS: [&str; 3] = [SCHEMA, SCHEMA_INGEST_RUNS, SCHEMA_STATISTICS];

/// Indexes dropped for a first load and rebuilt after it (all created by [`SCHEMA`]). The
/// `source_id` unique index and the primary keys stay: the load itself relies on them.
const DEFERRED_INDEXES: &str = "
DROP INDEX IF EXISTS opinions_search_vector_idx;
DROP INDEX IF EXISTS opinion_paragraphs_search_vector_idx;
DROP INDEX IF EXISTS opinions_court_idx;
DROP INDEX IF EXISTS opinions_decided_on_idx;
DROP INDEX IF EXISTS opinions_citation_idx;";

/// Columns the app's queries need; an existing `opinions` table without them is someone
/// else's table, which we must not write into.
const REQUIRED_COLUMNS: &[(&str, &[&str])] = &[
    (
        "opinions",
        &[
            "id",
            "source_id",
            "case_name",
            "citation",
            "court",
            "jurisdiction",
            "decided_on",
            "docket_number",
            "body",
            "search_vector",
        ],
    ),
    ("opinion_paragraphs", &["opinion_id", "paragraph_no", "body", "search_vector"]),
];

/// Advisory lock key held for the whole ingest ("LEXI" in ASCII), so two ingests into one
/// database do not interleave their batches.
const INGEST_LOCK_KEY: i64 = 0x4C45_5849;

/// How long to wait for the server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Memory for building the GIN indexes at the end (session setting; the server default of
/// 64 MB makes the build spill to disk on large sources).
const INDEX_BUILD_MEMORY: &str = "SET maintenance_work_mem = '256MB'";

/// COPY data is sent in pieces of about this size, bounding the client's buffer.
const COPY_CHUNK_BYTES: usize = 1024 * 1024;

/// Session setup: no statement timeout (index builds on large sources take minutes; a role
/// default must not kill them), and commits that do not wait for the WAL flush: a crash can
/// lose the last batches, which the next run simply loads again.
const SESSION_SETUP: &str = "
SET statement_timeout = 0;
SET synchronous_commit = off;
CREATE TEMP TABLE IF NOT EXISTS lexica_stage_opinions (
    line          bigint NOT NULL,
    source_id     text   NOT NULL,
    case_name     text   NOT NULL,
    citation      text,
    court         text   NOT NULL,
    jurisdiction  text,
    decided_on    date,
    docket_number text,
    body          text   NOT NULL,
    doc_vector    text   NOT NULL,  -- a tsvector literal, cast only for records written
    case_name_words integer NOT NULL, -- the record's field lengths (crate::stats), computed by the reader
    citation_words  integer NOT NULL,
    court_words     integer NOT NULL,
    body_words      integer NOT NULL,
    opinion_id    bigint,
    status        text   NOT NULL DEFAULT 'inserted'
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lexica_stage_paragraphs (
    source_id     text    NOT NULL,
    paragraph_no  integer NOT NULL,
    body          text    NOT NULL,
    vector        text    NOT NULL
) ON COMMIT DELETE ROWS;
-- Staged text lives for one transaction: compressing it (the default) would cost more than it saves.
ALTER TABLE lexica_stage_opinions ALTER COLUMN body SET STORAGE EXTERNAL,
                                  ALTER COLUMN doc_vector SET STORAGE EXTERNAL;
ALTER TABLE lexica_stage_paragraphs ALTER COLUMN body SET STORAGE EXTERNAL,
                                    ALTER COLUMN vector SET STORAGE EXTERNAL;";

const COPY_OPINIONS: &str = "COPY lexica_stage_opinions (line, source_id, case_name, citation, court, jurisdiction, \
     decided_on, docket_number, body, doc_vector, case_name_words, citation_words, court_words, body_words) FROM STDIN";
const COPY_PARAGRAPHS: &str = "COPY lexica_stage_paragraphs (source_id, paragraph_no, body, vector) FROM STDIN";

/// Marks each staged record `unchanged` or `updated` when its `source_id` exists.
const CLASSIFY: &str = "
UPDATE lexica_stage_opinions s
   SET opinion_id = o.id,
       status = CASE WHEN (o.case_name, o.citation, o.court, o.jurisdiction, o.decided_on, o.docket_number, o.body)
                          IS NOT DISTINCT FROM
                          (s.case_name, s.citation, s.court, s.jurisdiction, s.decided_on, s.docket_number, s.body)
                     THEN 'unchanged' ELSE 'updated' END
  FROM opinions o
 WHERE o.source_id = s.source_id";

// Vectors arrive as literals built by `crate::tsvector` (document: A case name, B citation,
// C court, D body; paragraphs: D), equal to `to_tsvector('simple', normalized)` for ordinary
// words; only records actually written pay for parsing them.

const UPDATE_CHANGED: &str = "
UPDATE opinions o
   SET case_name = s.case_name, citation = s.citation, court = s.court, jurisdiction = s.jurisdiction,
       decided_on = s.decided_on, docket_number = s.docket_number, body = s.body,
       search_vector = s.doc_vector::tsvector
  FROM lexica_stage_opinions s
 WHERE s.status = 'updated' AND o.id = s.opinion_id";

const DELETE_CHANGED_PARAGRAPHS: &str = "
DELETE FROM opinion_paragraphs p
 USING lexica_stage_opinions s
 WHERE s.status = 'updated' AND p.opinion_id = s.opinion_id";

const INSERT_NEW: &str = "
INSERT INTO opinions (source_id, case_name, citation, court, jurisdiction, decided_on, docket_number, body, search_vector)
SELECT s.source_id, s.case_name, s.citation, s.court, s.jurisdiction, s.decided_on, s.docket_number, s.body,
       s.doc_vector::tsvector
  FROM lexica_stage_opinions s
 WHERE s.status = 'inserted'
 ORDER BY s.line";

const INSERT_PARAGRAPHS: &str = "
INSERT INTO opinion_paragraphs (opinion_id, paragraph_no, body, search_vector)
SELECT o.id, p.paragraph_no, p.body, p.vector::tsvector
  FROM lexica_stage_paragraphs p
  JOIN lexica_stage_opinions s ON s.source_id = p.source_id
  JOIN opinions o ON o.source_id = s.source_id
 WHERE s.status <> 'unchanged'";

/// Each staged record's classification, by input line (a batch has a few hundred).
const STATUSES: &str = "SELECT line, status FROM lexica_stage_opinions";

// Ranking statistics (see `crate::stats`), maintained in the batch's transaction. The old
// versions' contributions are read before the writes replace them.

/// The lexemes of the versions that changed records replace, with how many of them hold each.
const OLD_TERMS: &str = "
SELECT t.term, count(*)
  FROM lexica_stage_opinions s
  JOIN opinions o ON o.id = s.opinion_id
 CROSS JOIN LATERAL unnest(tsvector_to_array(o.search_vector)) AS t (term)
 WHERE s.status = 'updated'
 GROUP BY t.term";

/// Adds the batch's new and changed records to the corpus totals, less the old lengths of the
/// changed ones (every stored opinion has its `opinion_lengths` row: see `ensure_statistics`).
/// Run only for batches that write something, so `updated_at` is the time of the last change.
const UPDATE_CORPUS: &str = "
UPDATE lexica_corpus_stats c
   SET opinions        = c.opinions + d.added,
       case_name_words = c.case_name_words + d.case_name_words,
       citation_words  = c.citation_words + d.citation_words,
       court_words     = c.court_words + d.court_words,
       body_words      = c.body_words + d.body_words,
       updated_at      = now()
  FROM (SELECT count(*) FILTER (WHERE s.status = 'inserted') AS added,
               coalesce(sum(s.case_name_words - coalesce(l.case_name_words, 0)), 0) AS case_name_words,
               coalesce(sum(s.citation_words - coalesce(l.citation_words, 0)), 0) AS citation_words,
               coalesce(sum(s.court_words - coalesce(l.court_words, 0)), 0) AS court_words,
               coalesce(sum(s.body_words - coalesce(l.body_words, 0)), 0) AS body_words
          FROM lexica_stage_opinions s
          LEFT JOIN opinion_lengths l ON s.status = 'updated' AND l.opinion_id = s.opinion_id
         WHERE s.status <> 'unchanged') d
 WHERE c.id = 1";

/// The lengths of the records written (after `INSERT_NEW`, which assigns the new ids).
const UPSERT_LENGTHS: &str = "
INSERT INTO opinion_lengths (opinion_id, case_name_words, citation_words, court_words, body_words)
SELECT o.id, s.case_name_words, s.citation_words, s.court_words, s.body_words
  FROM lexica_stage_opinions s
  JOIN opinions o ON o.source_id = s.source_id
 WHERE s.status <> 'unchanged'
ON CONFLICT (opinion_id) DO UPDATE
   SET case_name_words = excluded.case_name_words, citation_words = excluded.citation_words,
       court_words = excluded.court_words, body_words = excluded.body_words";

/// Adds positive net df changes (`$1` terms, `$2` deltas), inserting terms new to the table.
/// Why negative ones go separately ([`SUBTRACT_TERMS`]): the `CHECK (df >= 0)` is tested on the
/// row an `INSERT` proposes, before `ON CONFLICT` turns it into an update.
const ADD_TERMS: &str = "
INSERT INTO lexica_term_stats AS t (term, df)
SELECT d.term, d.delta FROM unnest($1::text[], $2::bigint[]) AS d (term, delta)
ON CONFLICT (term) DO UPDATE SET df = t.df + excluded.df";

/// Applies negative net df changes (`$1` terms, `$2` deltas): only ever to terms an old
/// version holds, so they are in the table.
const SUBTRACT_TERMS: &str = "
UPDATE lexica_term_stats t SET df = t.df + d.delta
  FROM unnest($1::text[], $2::bigint[]) AS d (term, delta)
 WHERE t.term = d.term";

/// Deletes the terms (of `$1`, those that lost opinions) no opinion holds any more.
const DELETE_UNUSED_TERMS: &str = "DELETE FROM lexica_term_stats WHERE term = ANY($1::text[]) AND df = 0";

// The backfill (see `ensure_statistics`).

const RECORDED_OPINIONS: &str = "SELECT opinions FROM lexica_corpus_stats WHERE id = 1";
const COUNT_OPINIONS: &str = "SELECT count(*) FROM opinions";

/// Opinions after id `$1` without an `opinion_lengths` row, at most `$2` of them, by id.
const MISSING_LENGTHS: &str = "
SELECT o.id, o.case_name, o.citation, o.court, o.body
  FROM opinions o
 WHERE o.id > $1 AND NOT EXISTS (SELECT 1 FROM opinion_lengths l WHERE l.opinion_id = o.id)
 ORDER BY o.id
 LIMIT $2";

const INSERT_LENGTHS: &str = "
INSERT INTO opinion_lengths (opinion_id, case_name_words, citation_words, court_words, body_words)
SELECT * FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::integer[], $5::integer[])";

/// Memory for the backfill's one big aggregation (transaction-local): the server default of
/// 4 MB makes it spill to disk on large sources.
const BACKFILL_WORK_MEM: &str = "SET LOCAL work_mem = '256MB'";

/// Document frequencies of every lexeme of every stored vector, from scratch.
const DF_FROM_VECTORS: &str = "
INSERT INTO lexica_term_stats (term, df)
SELECT t.term, count(*)
  FROM opinions o
 CROSS JOIN LATERAL unnest(tsvector_to_array(o.search_vector)) AS t (term)
 GROUP BY t.term";

/// The corpus row from `opinion_lengths` (complete when this runs). Written last, in the same
/// transaction as `DF_FROM_VECTORS`: its presence means the statistics are complete.
const CORPUS_FROM_LENGTHS: &str = "
INSERT INTO lexica_corpus_stats (id, opinions, case_name_words, citation_words, court_words, body_words, updated_at)
SELECT 1, (SELECT count(*) FROM opinions), coalesce(sum(case_name_words), 0), coalesce(sum(citation_words), 0),
       coalesce(sum(court_words), 0), coalesce(sum(body_words), 0), now()
  FROM opinion_lengths
ON CONFLICT (id) DO UPDATE
   SET opinions = excluded.opinions, case_name_words = excluded.case_name_words,
       citation_words = excluded.citation_words, court_words = excluded.court_words,
       body_words = excluded.body_words, updated_at = excluded.updated_at";

const RECORD_RUN: &str = "
INSERT INTO ingest_runs (input, records, inserted, updated, unchanged, rejected, elapsed_secs, lexica_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) struct PgSink {
    conn: PgConnection,
    /// Kept to open a second session for building indexes in parallel.
    options: PgConnectOptions,
    /// The redacted URL, for messages.
    target: String,
    /// The URL's password(s), scrubbed from any driver message.
    secrets: Vec<String>,
}

impl PgSink {
    pub async fn open(url: &str) -> Result<Self, IngestError> {
        let target = redact_url(url);
        let secrets = url_secrets(url);
        let connect_err =
            |message: String| IngestError::Connect { target: target.clone(), message: scrub(&message, &secrets) };
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| connect_err(e.to_string()))?
            .application_name("lexica-ingest")
            // The loader writes, whatever the role's or database's default says.
            .options([("default_transaction_read_only", "off")]);
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| connect_err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| connect_err(e.to_string()))?;
        let mut sink = Self { conn, options, target, secrets };
        sink.prepare_database().await?;
        Ok(sink)
    }

    fn db_err(&self, during: &'static str) -> impl Fn(sqlx::Error) -> IngestError + '_ {
        move |e| IngestError::Database {
            target: self.target.clone(),
            during,
            message: scrub(&e.to_string(), &self.secrets),
        }
    }

    async fn prepare_database(&mut self) -> Result<(), IngestError> {
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(INGEST_LOCK_KEY)
            .fetch_one(&mut self.conn)
            .await
            .map_err(self.db_err("taking the ingest lock"))?;
        if !locked {
            return Err(IngestError::Busy { target: self.target.clone() });
        }
        for (table, columns) in REQUIRED_COLUMNS {
            let present: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(*table)
            .fetch_all(&mut self.conn)
            .await
            .map_err(self.db_err("checking the existing schema"))?;
            if present.is_empty() {
                continue; // created below
            }
            if let Some(missing) = columns.iter().find(|c| !present.iter().any(|p| p == *c)) {
                return Err(IngestError::ForeignSchema {
                    target: self.target.clone(),
                    column: format!("{table}.{missing}"),
                });
            }
        }
        self.create_schema().await?;
        let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM opinions)")
            .fetch_one(&mut self.conn)
            .await
            .map_err(self.db_err("checking whether the source is empty"))?;
        if empty {
            sqlx::raw_sql(DEFERRED_INDEXES)
                .execute(&mut self.conn)
                .await
                .map_err(self.db_err("dropping indexes before a first load"))?;
        }
        sqlx::raw_sql(SESSION_SETUP).execute(&mut self.conn).await.map_err(self.db_err("setting up the session"))?;
        self.ensure_statistics().await
    }

    async fn create_schema(&mut self) -> Result<(), IngestError> {
        for script in SCHEMA_SCRIPTS {
            sqlx::raw_sql(script).execute(&mut self.conn).await.map_err(|e| IngestError::Schema {
                target: self.target.clone(),
                message: scrub(&e.to_string(), &self.secrets),
            })?;
        }
        Ok(())
    }

    /// Loads one batch in one transaction. If the database refuses the batch because of one
    /// record's data (say, a text too long for a `tsvector`), the batch is retried record by
    /// record so that only the offending records are rejected.
    pub async fn apply(&mut self, records: &[Prepared]) -> Result<Applied, IngestError> {
        if records.is_empty() {
            return Ok(Applied::default());
        }
        match self.apply_in_transaction(records).await {
            Ok(applied) => Ok(applied),
            // Not the record's fault: retrying record by record would refuse every one.
            Err(e) if is_statistics_error(&e) => {
                Err(IngestError::InconsistentStatistics { target: self.target.clone() })
            }
            Err(e) if is_record_error(&e) && records.len() > 1 => {
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
                            return Err(IngestError::InconsistentStatistics { target: self.target.clone() });
                        }
                        Err(e) if is_record_error(&e) => total.refused.push(self.refused(record, &e)),
                        Err(e) => return Err(self.db_err("loading a batch")(e)),
                    }
                }
                Ok(total)
            }
            Err(e) if is_record_error(&e) => {
                Ok(Applied { refused: vec![self.refused(&records[0], &e)], ..Applied::default() })
            }
            Err(e) => Err(self.db_err("loading a batch")(e)),
        }
    }

    fn refused(&self, record: &Prepared, e: &sqlx::Error) -> RejectedRecord {
        RejectedRecord {
            line: record.line,
            source_id: Some(record.opinion.source_id.clone()),
            kind: RejectKind::RefusedByDatabase,
            reason: format!("PostgreSQL refused the record: {}", scrub(&e.to_string(), &self.secrets)),
        }
    }

    async fn apply_in_transaction(&mut self, records: &[Prepared]) -> Result<Applied, sqlx::Error> {
        let mut tx = self.conn.begin().await?;
        copy_opinions(&mut tx, records).await?;
        copy_paragraphs(&mut tx, records).await?;
        sqlx::query(CLASSIFY).execute(&mut *tx).await?;
        let mut applied = Applied::default();
        // Input lines of the records to write (inserted or updated).
        let mut written: HashSet<u64> = HashSet::with_capacity(records.len());
        for row in sqlx::query(STATUSES).fetch_all(&mut *tx).await? {
            let line = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0);
            match row.try_get::<&str, _>(1)? {
                "inserted" => applied.inserted += 1,
                "updated" => applied.updated += 1,
                _ => {
                    applied.unchanged += 1;
                    continue;
                }
            }
            written.insert(line);
        }
        if written.is_empty() {
            // Nothing to write, and the statistics (their `updated_at` too) stay as they are.
            tx.commit().await?;
            return Ok(applied);
        }

        // Statistics first: the old versions' terms and lengths are read before being replaced.
        let mut terms = TermDeltas::default();
        if applied.updated > 0 {
            // Why from the stored vector rather than the old text: it *is* the set of lexemes
            // that was counted, and reading it costs no text processing.
            for row in sqlx::query(OLD_TERMS).fetch_all(&mut *tx).await? {
                terms.add(Cow::Owned(row.try_get(0)?), -row.try_get::<i64, _>(1)?);
            }
        }
        // The writes run on the server while the client adds up the new versions' terms (tens
        // of milliseconds a batch, which would otherwise leave the server idle): both futures
        // run on this task, and `yield_now` lets the first (and longest) write reach the server
        // before the adding starts. `UPDATE_CORPUS` precedes `UPSERT_LENGTHS`, which replaces
        // the old lengths it subtracts.
        let writes = async {
            sqlx::query(INSERT_NEW).execute(&mut *tx).await?;
            sqlx::query(UPDATE_CORPUS).execute(&mut *tx).await?;
            sqlx::query(UPDATE_CHANGED).execute(&mut *tx).await?;
            sqlx::query(DELETE_CHANGED_PARAGRAPHS).execute(&mut *tx).await?;
            let paragraphs = sqlx::query(INSERT_PARAGRAPHS).execute(&mut *tx).await?.rows_affected();
            sqlx::query(UPSERT_LENGTHS).execute(&mut *tx).await?;
            Ok::<u64, sqlx::Error>(paragraphs)
        };
        let add_new_terms = async {
            tokio::task::yield_now().await;
            for r in records.iter().filter(|r| written.contains(&r.line)) {
                terms.add_all(r.terms(), 1);
            }
        };
        let (paragraphs, ()) = tokio::join!(writes, add_new_terms);
        applied.paragraphs = paragraphs?;
        write_term_deltas(&mut tx, &terms).await?;
        tx.commit().await?; // ON COMMIT DELETE ROWS empties the staging tables
        Ok(applied)
    }

    /// Makes the statistics complete before any batch is loaded. A source loaded by an older
    /// Lexica (or by anything else that left the opinion count different from the recorded one)
    /// gets them computed from the opinions already stored: the lengths from their text (in
    /// Rust, [`stats::BACKFILL_BATCH`] opinions per round trip), the document frequencies from
    /// their vectors (in SQL), and last the corpus row.
    ///
    /// Safe to interrupt: each batch of `opinion_lengths` rows is correct on its own (and is
    /// skipped when the next run resumes), and the document frequencies and the corpus row are
    /// written in one transaction, so a present corpus row means complete statistics.
    async fn ensure_statistics(&mut self) -> Result<(), IngestError> {
        const DURING: &str = "computing ranking statistics for the opinions already in the source";
        let started = std::time::Instant::now();
        let recorded: Option<i64> =
            sqlx::query_scalar(RECORDED_OPINIONS).fetch_optional(&mut self.conn).await.map_err(self.db_err(DURING))?;
        let opinions: i64 =
            sqlx::query_scalar(COUNT_OPINIONS).fetch_one(&mut self.conn).await.map_err(self.db_err(DURING))?;
        match recorded {
            Some(n) if n == opinions => return Ok(()),
            Some(n) => {
                // Someone wrote opinions without keeping the statistics: any stored length may
                // be stale, so all are recomputed. The corpus row goes first (see above).
                tracing::warn!(
                    target: "lexica_ingest",
                    "{}: statistics record {n} opinions but the source has {opinions}; recomputing them",
                    self.target
                );
                run_in_transaction(&mut self.conn, &["DELETE FROM lexica_corpus_stats", "DELETE FROM opinion_lengths"])
                    .await
                    .map_err(self.db_err(DURING))?;
            }
            None => {}
        }
        if opinions > 0 {
            tracing::info!(target: "lexica_ingest", "{}: computing ranking statistics for {opinions} opinions", self.target);
        }
        let lengths = backfill_lengths(&mut self.conn).await.map_err(self.db_err(DURING))?;
        let complete = [BACKFILL_WORK_MEM, "DELETE FROM lexica_term_stats", DF_FROM_VECTORS, CORPUS_FROM_LENGTHS];
        run_in_transaction(&mut self.conn, &complete).await.map_err(self.db_err(DURING))?;
        if opinions > 0 {
            tracing::info!(
                target: "lexica_ingest",
                "{}: ranking statistics for {opinions} opinions ({lengths} lengths computed) in {:.1} s",
                self.target,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    /// Builds missing indexes, refreshes planner statistics and records the run.
    pub async fn finish(mut self, report: &IngestReport) -> Result<(), IngestError> {
        self.build_indexes().await?;
        self.create_schema().await?; // anything else missing (normally nothing)
        sqlx::raw_sql(
            "ANALYZE opinions; ANALYZE opinion_paragraphs; ANALYZE lexica_term_stats; ANALYZE opinion_lengths;",
        )
        .execute(&mut self.conn)
        .await
        .map_err(self.db_err("updating statistics"))?;
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
        // Closing ends the session, which releases the advisory lock.
        let Self { conn, target, secrets, .. } = self;
        conn.close().await.map_err(|e| IngestError::Database {
            target,
            during: "closing the connection",
            message: scrub(&e.to_string(), &secrets),
        })?;
        Ok(())
    }
}

impl PgSink {
    /// Creates the schema's missing indexes, the two GIN indexes (most of the time) on two
    /// sessions at once: PostgreSQL 15 builds a GIN index on one core, and a load is often
    /// followed by nothing else on the server.
    async fn build_indexes(&mut self) -> Result<(), IngestError> {
        let statements = index_statements();
        let (gin, other): (Vec<&str>, Vec<&str>) = statements.iter().partition(|s| s.contains("USING gin"));
        let mut second = PgConnection::connect_with(&self.options)
            .await
            .map_err(self.db_err("opening a second session to build indexes"))?;
        for conn in [&mut self.conn, &mut second] {
            sqlx::raw_sql(INDEX_BUILD_MEMORY).execute(&mut *conn).await.map_err(|e| IngestError::Database {
                target: self.target.clone(),
                during: "building indexes",
                message: scrub(&e.to_string(), &self.secrets),
            })?;
        }
        // Alternate the GIN builds between the sessions, then the (fast) btree ones.
        let (mine, theirs): (Vec<Numbered>, Vec<Numbered>) =
            gin.into_iter().chain(other).enumerate().partition(|(i, _)| i % 2 == 0);
        let (a, b) = tokio::join!(run_all(&mut self.conn, mine), run_all(&mut second, theirs));
        let closed = second.close().await;
        a.and(b).and(closed).map_err(self.db_err("building indexes"))
    }
}

/// A statement with its place in the build order.
type Numbered = (usize, &'static str);

async fn run_all(conn: &mut PgConnection, statements: Vec<Numbered>) -> Result<(), sqlx::Error> {
    for (_, sql) in statements {
        sqlx::raw_sql(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The `CREATE INDEX IF NOT EXISTS` statements of the schema, one per line in the file.
fn index_statements() -> Vec<&'static str> {
    SCHEMA.lines().map(str::trim).filter(|l| l.starts_with("CREATE INDEX")).collect()
}

/// The statistics tables whose `CHECK`s a batch can only break if the statistics were already
/// wrong (a df or total going below zero).
const STATISTICS_TABLES: [&str; 2] = ["lexica_term_stats", "lexica_corpus_stats"];

/// A `CHECK` violation (SQLSTATE 23514) in a statistics table: the stored statistics do not
/// match the stored opinions.
fn is_statistics_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c == "23514")
                && db.constraint().is_some_and(|c| STATISTICS_TABLES.iter().any(|t| c.starts_with(t)))
        }
        _ => false,
    }
}

/// Errors caused by one record's data rather than by the database or connection: SQLSTATE
/// classes 22 (data exception), 23 (integrity constraint) and 54 (program limit exceeded).
fn is_record_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c: Cow<'_, str>| c.starts_with("22") || c.starts_with("23") || c.starts_with("54"))
        }
        _ => false,
    }
}

/// Writes one transaction's net df changes, deleting the terms left in no opinion.
async fn write_term_deltas(conn: &mut PgConnection, terms: &TermDeltas<'_>) -> Result<(), sqlx::Error> {
    let (gained, lost) = terms.gains_and_losses();
    if !lost.is_empty() {
        let (names, deltas): (Vec<&str>, Vec<i64>) = lost.into_iter().unzip();
        sqlx::query(SUBTRACT_TERMS).bind(&names).bind(&deltas).execute(&mut *conn).await?;
        sqlx::query(DELETE_UNUSED_TERMS).bind(&names).execute(&mut *conn).await?;
    }
    if !gained.is_empty() {
        let (names, deltas): (Vec<&str>, Vec<i64>) = gained.into_iter().unzip();
        sqlx::query(ADD_TERMS).bind(&names).bind(&deltas).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Runs `statements` (no parameters) in one transaction.
async fn run_in_transaction(conn: &mut PgConnection, statements: &[&'static str]) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    for &sql in statements {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Computes `opinion_lengths` for every opinion that lacks its row, [`stats::BACKFILL_BATCH`]
/// at a time, each batch committed on its own. Returns how many were computed.
async fn backfill_lengths(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let mut after: i64 = 0;
    let mut computed = 0;
    loop {
        let rows = sqlx::query(MISSING_LENGTHS).bind(after).bind(stats::BACKFILL_BATCH).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            return Ok(computed);
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut columns: [Vec<i32>; 4] = std::array::from_fn(|_| Vec::with_capacity(rows.len()));
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let lengths = Lengths::of_text(row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            ids.push(id);
            for (column, value) in columns.iter_mut().zip(lengths.columns()) {
                column.push(value);
            }
            after = id;
        }
        let [case_name, citation, court, body] = &columns;
        sqlx::query(INSERT_LENGTHS)
            .bind(&ids)
            .bind(case_name)
            .bind(citation)
            .bind(court)
            .bind(body)
            .execute(&mut *conn)
            .await?;
        computed += rows.len() as u64;
    }
}

async fn copy_opinions(conn: &mut PgConnection, records: &[Prepared]) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(COPY_OPINIONS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    for r in records {
        let o = &r.opinion;
        let line = r.line.to_string();
        let vectors = vectors(r);
        let [case_name_words, citation_words, court_words, body_words] = r.lengths.columns().map(|n| n.to_string());
        let fields: [Option<&str>; 14] = [
            Some(&line),
            Some(&o.source_id),
            Some(&o.case_name),
            o.citation.as_deref(),
            Some(&o.court),
            o.jurisdiction.as_deref(),
            o.decided_on.as_deref(),
            o.docket_number.as_deref(),
            Some(&o.body),
            Some(&vectors.document),
            Some(&case_name_words),
            Some(&citation_words),
            Some(&court_words),
            Some(&body_words),
        ];
        push_row(&mut buf, &fields);
        if buf.len() >= COPY_CHUNK_BYTES {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

async fn copy_paragraphs(conn: &mut PgConnection, records: &[Prepared]) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(COPY_PARAGRAPHS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    for r in records {
        let vectors = vectors(r);
        for (no, (p, vector)) in r.paragraphs.iter().zip(&vectors.paragraphs).enumerate() {
            let no = no.to_string();
            push_row(&mut buf, &[Some(&r.opinion.source_id), Some(&no), Some(&p.body), Some(vector)]);
            if buf.len() >= COPY_CHUNK_BYTES {
                copy.send(std::mem::take(&mut buf)).await?;
            }
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// The record's vector literals (built on the reader thread; built here if they were not).
fn vectors(r: &Prepared) -> Cow<'_, PgVectors> {
    match &r.pg_vectors {
        Some(v) => Cow::Borrowed(v),
        None => {
            let mut r = r.clone();
            r.build_pg_vectors();
            Cow::Owned(r.pg_vectors.unwrap_or(PgVectors { document: String::new(), paragraphs: Vec::new() }))
        }
    }
}

/// One row of COPY's text format: tab-separated, `\N` for NULL, with backslash, tab, newline
/// and carriage return escaped (NUL cannot occur: such records are rejected when read).
fn push_row(buf: &mut Vec<u8>, fields: &[Option<&str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match field {
            None => buf.extend_from_slice(b"\\N"),
            Some(text) => {
                let bytes = text.as_bytes();
                let mut start = 0;
                for (j, &b) in bytes.iter().enumerate() {
                    let escaped: &[u8] = match b {
                        b'\\' => b"\\\\",
                        b'\t' => b"\\t",
                        b'\n' => b"\\n",
                        b'\r' => b"\\r",
                        _ => continue,
                    };
                    buf.extend_from_slice(&bytes[start..j]);
                    buf.extend_from_slice(escaped);
                    start = j + 1;
                }
                buf.extend_from_slice(&bytes[start..]);
            }
        }
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_index_statements_are_found() {
        let statements = index_statements();
        assert_eq!(statements.iter().filter(|s| s.contains("USING gin")).count(), 2, "{statements:?}");
        assert!(statements.iter().all(|s| s.ends_with(';') && s.contains("IF NOT EXISTS")));
    }

    #[test]
    fn copy_rows_escape_specials() {
        let mut buf = Vec::new();
        push_row(&mut buf, &[Some("a\tb\\c\nd\re"), None, Some("")]);
        assert_eq!(buf, b"a\\tb\\\\c\\nd\\re\t\\N\t\n");
    }
}
