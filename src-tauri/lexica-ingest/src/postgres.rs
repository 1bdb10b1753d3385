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
//! The postings (`crate::postings`) are kept in the same transaction: the changed versions'
//! postings are deleted, the new versions' are computed on the client under the averages after
//! the batch (`UPDATE_CORPUS … RETURNING`) and COPYed, terms past the cap are trimmed
//! (`postings` submodule). Text is TOAST-compressed with lz4 when the server has it.
//!
//! On a first load (empty `opinions`) the GIN and btree search indexes and the postings
//! indexes are dropped and built once at the end, which is several times faster than
//! maintaining them row by row (the statistics tables keep their primary keys: the batches look
//! terms and opinions up by them), and batches skip staging and run on several sessions (`bulk`).
//! Every run ends by trimming each term to R postings and (re)creating whatever index is
//! missing, so an interrupted first load is repaired by the next run (which builds the postings
//! indexes first: its trims and updates read them). Statements are logged as slow only past
//! [`SLOW_STATEMENT`], at `info`: an index build is slow by design.

mod bulk;
mod copy;
mod postings;

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};

use crate::Applied;
use crate::error::IngestError;
use crate::postings::{self as impacts, Book, Heads, Pending};
use crate::record::{Prepared, RejectKind, RejectedRecord};
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
const SCHEMA_SCRIPTS: [&str; 4] = [SCHEMA, SCHEMA_INGEST_RUNS, SCHEMA_STATISTICS, postings::SCHEMA_POSTINGS];

/// Indexes dropped for a first load and rebuilt after it (created by [`SCHEMA`] and
/// [`postings::SCHEMA_POSTINGS`]). The `source_id` unique index and the primary keys stay: the
/// load relies on them. Maintaining the postings' (term, impact) index row by row made a first
/// load of the shared corpus's 1.26 million postings take 18 s of COPY instead of 1.6 s plus a
/// 3 s build (a first load now writes its postings once, at its end: see `bulk`).
const DEFERRED_INDEXES: &str = "
DROP INDEX IF EXISTS opinions_search_vector_idx;
DROP INDEX IF EXISTS opinion_paragraphs_search_vector_idx;
DROP INDEX IF EXISTS opinions_court_idx;
DROP INDEX IF EXISTS opinions_decided_on_idx;
DROP INDEX IF EXISTS opinions_citation_idx;
DROP INDEX IF EXISTS lexica_postings_opinion_idx;
DROP INDEX IF EXISTS lexica_postings_term_impact_idx;";

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

/// Statements slower than this are logged by sqlx at [`SLOW_STATEMENT_LEVEL`]. Why not sqlx's
/// default (WARN past 1 s): an index build or a backfill step on a large source takes minutes
/// by design, and a WARN line for each would land on the operator's terminal mid-progress.
const SLOW_STATEMENT: Duration = Duration::from_secs(10);
/// Where slow statements are logged: the CLI's log file keeps `info`, its terminal shows `warn`.
const SLOW_STATEMENT_LEVEL: log::LevelFilter = log::LevelFilter::Info;

/// How long to wait for the server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Memory for building the GIN indexes at the end (session setting; the server default of
/// 64 MB makes the build spill to disk on large sources).
const INDEX_BUILD_MEMORY: &str = "SET maintenance_work_mem = '256MB'";

/// Session setup of the first-load workers (see `bulk`): the same settings, no staging tables.
const WORKER_SETUP: &str = "SET statement_timeout = 0; SET synchronous_commit = off;";

/// TOAST compression for the text and vectors this session writes. Why lz4: PostgreSQL's
/// default (pglz) compresses about 5× slower, and compressing the bodies and vectors was a
/// large share of the server's work per batch; lz4 compresses nearly as well on legal text.
/// A server built without lz4 refuses the setting: the load then keeps the default.
const TOAST_LZ4: &str = "SET default_toast_compression = 'lz4'";

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
 ORDER BY s.line
RETURNING id, source_id";

const INSERT_PARAGRAPHS: &str = "
INSERT INTO opinion_paragraphs (opinion_id, paragraph_no, body, search_vector)
SELECT o.id, p.paragraph_no, p.body, p.vector::tsvector
  FROM lexica_stage_paragraphs p
  JOIN lexica_stage_opinions s ON s.source_id = p.source_id
  JOIN opinions o ON o.source_id = s.source_id
 WHERE s.status <> 'unchanged'";

/// Each staged record's classification and stored id (updated ones), by input line (a batch has
/// a few hundred).
const STATUSES: &str = "SELECT line, status, opinion_id FROM lexica_stage_opinions";

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
 WHERE c.id = 1
RETURNING c.opinions, c.case_name_words, c.citation_words, c.court_words, c.body_words";

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

/// Adds positive net df changes (`$1` terms, `$2` deltas) with their postings changes (`$3`),
/// inserting terms new to the table. Why the others go separately ([`SUBTRACT_TERMS`]): the
/// `CHECK (df >= 0)` is tested on the row an `INSERT` proposes, before `ON CONFLICT` turns it
/// into an update.
const ADD_TERMS: &str = "
INSERT INTO lexica_term_stats AS t (term, df, postings)
SELECT d.term, d.delta, d.postings FROM unnest($1::text[], $2::bigint[], $3::integer[]) AS d (term, delta, postings)
ON CONFLICT (term) DO UPDATE SET df = t.df + excluded.df, postings = t.postings + excluded.postings";

/// Applies the other net changes (`$1` terms, `$2` df deltas ≤ 0, `$3` postings deltas): only
/// ever to terms an old version holds or a posting was written for, so they are in the table.
const SUBTRACT_TERMS: &str = "
UPDATE lexica_term_stats t SET df = t.df + d.delta, postings = t.postings + d.postings
  FROM unnest($1::text[], $2::bigint[], $3::integer[]) AS d (term, delta, postings)
 WHERE t.term = d.term";

/// Deletes the terms (of `$1`, those that lost opinions) no opinion holds any more.
const DELETE_UNUSED_TERMS: &str =
    "DELETE FROM lexica_term_stats WHERE term = ANY($1::text[]) AND df = 0 RETURNING term";

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
    /// The first-load workers, when the source was empty at the start (see `bulk`).
    bulk: Option<bulk::Bulk>,
    /// A first load's postings, from the workers once they are done (see `bulk`), written by
    /// [`PgSink::finish`].
    heads: Option<Heads>,
    /// Every term's postings count and floor (see `crate::postings`).
    book: Book,
    /// R, as the ingest was asked to keep.
    per_term: u32,
    /// Kept to open a second session for building indexes in parallel.
    options: PgConnectOptions,
    /// The redacted URL, for messages.
    target: String,
    /// The URL's password(s), scrubbed from any driver message.
    secrets: Vec<String>,
}

impl PgSink {
    pub async fn open(url: &str, per_term: u32) -> Result<Self, IngestError> {
        let target = redact_url(url);
        let secrets = url_secrets(url);
        let connect_err =
            |message: String| IngestError::Connect { target: target.clone(), message: scrub(&message, &secrets) };
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| connect_err(e.to_string()))?
            .application_name("lexica-ingest")
            // The loader writes, whatever the role's or database's default says.
            .options([("default_transaction_read_only", "off")])
            .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT);
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| connect_err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| connect_err(e.to_string()))?;
        let mut sink =
            Self { conn, bulk: None, heads: None, book: Book::new(per_term), per_term, options, target, secrets };
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
        } else {
            // Trims and updates read the postings by these (missing only after an interrupted
            // first load): built now, not at the end.
            for sql in index_statements().into_iter().filter(|s| s.contains("lexica_postings")) {
                sqlx::raw_sql(sql)
                    .execute(&mut self.conn)
                    .await
                    .map_err(self.db_err("building the postings indexes"))?;
            }
        }
        sqlx::raw_sql(SESSION_SETUP).execute(&mut self.conn).await.map_err(self.db_err("setting up the session"))?;
        self.ensure_statistics().await?;
        let started = std::time::Instant::now();
        let (book, written) = postings::ensure_postings(&mut self.conn, self.per_term)
            .await
            .map_err(self.db_err("building the postings of the opinions already in the source"))?;
        if written > 0 {
            tracing::info!(
                target: "lexica_ingest",
                "{}: {written} postings built for the opinions already in the source in {:.1} s",
                self.target,
                started.elapsed().as_secs_f64()
            );
        }
        self.book = book;
        let lz4 = match sqlx::raw_sql(TOAST_LZ4).execute(&mut self.conn).await {
            Ok(_) => true,
            Err(e) => {
                tracing::info!(target: "lexica_ingest", "{}: keeping the default TOAST compression: {e}", self.target);
                false
            }
        };
        if empty {
            let sequence: String = sqlx::query_scalar(bulk::ID_SEQUENCE)
                .fetch_one(&mut self.conn)
                .await
                .map_err(self.db_err("finding the opinion id sequence"))?;
            let setup: &[&'static str] = if lz4 { &[WORKER_SETUP, TOAST_LZ4] } else { &[WORKER_SETUP] };
            // Incomplete until `finish` writes them: a load interrupted midway leaves a source
            // ranked without postings, whose next run rebuilds them from what was loaded.
            sqlx::raw_sql(postings::MARK_INCOMPLETE)
                .execute(&mut self.conn)
                .await
                .map_err(self.db_err("marking the postings incomplete"))?;
            let workers = bulk::Bulk::start(&self.options, setup, self.per_term, sequence, self.secrets.clone())
                .await
                .map_err(self.db_err("opening the loading sessions"))?;
            self.bulk = Some(workers);
        }
        Ok(())
    }

    /// Waits for the batches still loading (first loads run several at once) and returns what
    /// they did.
    pub async fn drain(&mut self) -> Result<Applied, IngestError> {
        let Some(workers) = self.bulk.take() else { return Ok(Applied::default()) };
        let (applied, heads) = workers.finish().await.map_err(|failure| self.batch_failed(failure))?;
        self.heads = Some(heads);
        Ok(applied)
    }

    fn batch_failed(&self, failure: bulk::Failure) -> IngestError {
        match failure {
            bulk::Failure::Statistics => IngestError::InconsistentStatistics { target: self.target.clone() },
            bulk::Failure::Database(message) => {
                IngestError::Database { target: self.target.clone(), during: "loading a batch", message }
            }
        }
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
    pub async fn apply(&mut self, records: Vec<Prepared>) -> Result<Applied, IngestError> {
        if records.is_empty() {
            return Ok(Applied::default());
        }
        if let Some(workers) = self.bulk.as_mut() {
            return match workers.send(&mut self.conn, records).await {
                Ok(applied) => Ok(applied),
                Err(failure) => Err(self.batch_failed(failure)),
            };
        }
        let records = records.as_slice();
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
        copy::copy_opinions(&mut tx, records).await?;
        copy::copy_paragraphs(&mut tx, records).await?;
        sqlx::query(CLASSIFY).execute(&mut *tx).await?;
        let mut applied = Applied::default();
        // Stored ids of the records to write (inserted ones get theirs from `INSERT_NEW`), by
        // input line.
        let mut written: HashMap<u64, Option<i64>> = HashMap::with_capacity(records.len());
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
            written.insert(line, row.try_get(2)?);
        }
        if written.is_empty() {
            // Nothing to write, and the statistics (their `updated_at` too) stay as they are.
            tx.commit().await?;
            return Ok(applied);
        }

        // Statistics first: the old versions' terms, lengths and postings are read (or deleted)
        // before being replaced.
        let mut terms = TermDeltas::default();
        let mut pending = Pending::default();
        if applied.updated > 0 {
            // Why from the stored vector rather than the old text: it *is* the set of lexemes
            // that was counted, and reading it costs no text processing.
            for row in sqlx::query(OLD_TERMS).fetch_all(&mut *tx).await? {
                terms.add(Cow::Owned(row.try_get(0)?), -row.try_get::<i64, _>(1)?);
            }
            postings::delete_old(&mut tx, &self.book, &mut pending, &mut terms).await?;
        }
        // The corpus totals after this batch: the averages its postings' impacts use.
        let totals = sqlx::query(UPDATE_CORPUS).fetch_one(&mut *tx).await?;
        let words: [i64; 4] = [totals.try_get(1)?, totals.try_get(2)?, totals.try_get(3)?, totals.try_get(4)?];
        let average = impacts::averages(totals.try_get(0)?, words);
        // The writes run on the server while the client adds up the new versions' terms and
        // computes their postings (tens of milliseconds a batch, which would otherwise leave
        // the server idle): both futures run on this task, and `yield_now` lets the first (and
        // longest) write reach the server before the computing starts. The postings are kept
        // by record until `INSERT_NEW` has returned the new ids.
        let writes = async {
            let new_ids = sqlx::query(INSERT_NEW).fetch_all(&mut *tx).await?;
            sqlx::query(UPDATE_CHANGED).execute(&mut *tx).await?;
            sqlx::query(DELETE_CHANGED_PARAGRAPHS).execute(&mut *tx).await?;
            let paragraphs = sqlx::query(INSERT_PARAGRAPHS).execute(&mut *tx).await?.rows_affected();
            sqlx::query(UPSERT_LENGTHS).execute(&mut *tx).await?;
            Ok::<_, sqlx::Error>((paragraphs, new_ids))
        };
        let book = &self.book;
        let compute = async {
            tokio::task::yield_now().await;
            let mut by_record: Vec<(&Prepared, Vec<Kept<'_>>)> = Vec::with_capacity(written.len());
            for r in records.iter().filter(|r| written.contains_key(&r.line)) {
                terms.add_all(r.terms(), 1);
                let mut kept = Vec::new();
                impacts::admitted(book, &mut pending, r.terms(), &r.tf, r.lengths, average, |t, w, b| {
                    kept.push((t, w, b));
                });
                for &(t, _, _) in &kept {
                    terms.add_postings(Cow::Borrowed(t), 1);
                }
                by_record.push((r, kept));
            }
            by_record
        };
        let (result, by_record) = tokio::join!(writes, compute);
        let (paragraphs, new_ids) = result?;
        applied.paragraphs = paragraphs;
        let mut ids_by_source: HashMap<&str, i64> = HashMap::with_capacity(new_ids.len());
        for row in &new_ids {
            ids_by_source.insert(row.try_get(1)?, row.try_get(0)?);
        }
        let mut rows = postings::PostingRows::default();
        for (r, kept) in by_record {
            let id = written
                .get(&r.line)
                .copied()
                .flatten()
                .or_else(|| ids_by_source.get(r.opinion.source_id.as_str()).copied());
            let Some(id) = id else {
                return Err(sqlx::Error::Protocol(format!("no stored id for the record of line {}", r.line)));
            };
            for (t, w, b) in kept {
                rows.push(t, w, id, b);
            }
        }
        rows.copy(&mut tx).await?;
        for term in write_term_deltas(&mut tx, &terms).await? {
            pending.forget(&self.book, &term);
        }
        if applied.updated > 0 {
            let (_, other) = terms.gains_and_losses();
            let lost: Vec<String> = other.iter().filter(|c| c.1 < 0).map(|c| c.0.to_string()).collect();
            postings::refill(&mut tx, &self.book, &mut pending, &lost, average).await?;
        }
        postings::trim(&mut tx, &self.book, &mut pending).await?;
        tx.commit().await?; // ON COMMIT DELETE ROWS empties the staging tables
        self.book.commit(pending);
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
        match self.heads.take() {
            Some(heads) => {
                let started = std::time::Instant::now();
                let written = postings::write_heads(&mut self.conn, heads, self.per_term)
                    .await
                    .map_err(self.db_err("writing the postings"))?;
                tracing::info!(
                    target: "lexica_ingest",
                    "{}: {written} postings written in {:.1} s",
                    self.target,
                    started.elapsed().as_secs_f64()
                );
            }
            None => postings::trim_to_cap(&mut self.conn, &mut self.book)
                .await
                .map_err(self.db_err("trimming the postings to the cap"))?,
        }
        self.build_indexes().await?;
        self.create_schema().await?; // anything else missing (normally nothing)
        sqlx::raw_sql(
            "ANALYZE opinions; ANALYZE opinion_paragraphs; ANALYZE lexica_term_stats; ANALYZE opinion_lengths; \
             ANALYZE lexica_postings;",
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

/// A posting computed for a record before its id is known: term, impact, body_tf.
type Kept<'a> = (&'a str, f32, u32);

/// A statement with its place in the build order.
type Numbered = (usize, &'static str);

async fn run_all(conn: &mut PgConnection, statements: Vec<Numbered>) -> Result<(), sqlx::Error> {
    for (_, sql) in statements {
        sqlx::raw_sql(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The `CREATE INDEX IF NOT EXISTS` statements of the schema and the postings, one per line in
/// the files.
fn index_statements() -> Vec<&'static str> {
    [SCHEMA, postings::SCHEMA_POSTINGS]
        .into_iter()
        .flat_map(str::lines)
        .map(str::trim)
        .filter(|l| l.starts_with("CREATE INDEX"))
        .collect()
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

/// Writes one transaction's net df and postings changes, deleting the terms left in no
/// opinion; returns those.
async fn write_term_deltas(conn: &mut PgConnection, terms: &TermDeltas<'_>) -> Result<Vec<String>, sqlx::Error> {
    let (gained, other) = terms.gains_and_losses();
    let mut deleted = Vec::new();
    let columns = |changes: Vec<stats::Change<'_>>| {
        let mut names = Vec::with_capacity(changes.len());
        let mut df = Vec::with_capacity(changes.len());
        let mut postings = Vec::with_capacity(changes.len());
        for (t, d, p) in changes {
            names.push(t.to_string());
            df.push(d);
            postings.push(i32::try_from(p).unwrap_or(if p < 0 { i32::MIN } else { i32::MAX }));
        }
        (names, df, postings)
    };
    if !other.is_empty() {
        let lost = other.iter().any(|&(_, d, _)| d < 0);
        let (names, df, postings) = columns(other);
        sqlx::query(SUBTRACT_TERMS).bind(&names).bind(&df).bind(&postings).execute(&mut *conn).await?;
        if lost {
            deleted = sqlx::query_scalar(DELETE_UNUSED_TERMS).bind(&names).fetch_all(&mut *conn).await?;
        }
    }
    if !gained.is_empty() {
        let (names, df, postings) = columns(gained);
        sqlx::query(ADD_TERMS).bind(&names).bind(&df).bind(&postings).execute(&mut *conn).await?;
    }
    Ok(deleted)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_index_statements_are_found() {
        let statements = index_statements();
        assert_eq!(statements.iter().filter(|s| s.contains("USING gin")).count(), 2, "{statements:?}");
        assert!(statements.iter().all(|s| s.ends_with(';') && s.contains("IF NOT EXISTS")));
    }
}
