//! The PostgreSQL loader.
//!
//! Per batch, in one transaction: COPY the records (fields plus `tsvector` literals) and
//! their paragraphs into session-local staging tables; classify each record against
//! `opinions` by `source_id` (new / changed / identical) in SQL; then write only new and
//! changed ones. Vectors are staged as `tsvector` literals (see `crate::tsvector`) and cast
//! only for the records written, so re-ingesting unchanged records costs little more than the
//! COPY.
//!
//! On a first load (empty `opinions`) the GIN and btree search indexes are dropped and built
//! once at the end, which is several times faster than maintaining them row by row. Every run
//! ends by (re)creating whatever index is missing, so an interrupted first load is repaired by
//! the next run.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use crate::Applied;
use crate::error::IngestError;
use crate::record::{PgVectors, Prepared, RejectKind, RejectedRecord};
use crate::report::IngestReport;
use crate::target::{redact_url, scrub, url_secrets};

/// The source schema, run on every ingest (every statement is `IF NOT EXISTS`).
const SCHEMA: &str = include_str!("../../../migrations/source-postgres/0001_opinions.sql");
/// Ingest bookkeeping, run after the schema.
const SCHEMA_INGEST_RUNS: &str = include_str!("../../../migrations/source-postgres/0002_ingest_runs.sql");

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
     decided_on, docket_number, body, doc_vector) FROM STDIN";
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

const COUNT_STATUS: &str = "SELECT status, count(*) FROM lexica_stage_opinions GROUP BY status";

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
        Ok(())
    }

    async fn create_schema(&mut self) -> Result<(), IngestError> {
        for script in [SCHEMA, SCHEMA_INGEST_RUNS] {
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
        sqlx::query(UPDATE_CHANGED).execute(&mut *tx).await?;
        sqlx::query(DELETE_CHANGED_PARAGRAPHS).execute(&mut *tx).await?;
        sqlx::query(INSERT_NEW).execute(&mut *tx).await?;
        let paragraphs = sqlx::query(INSERT_PARAGRAPHS).execute(&mut *tx).await?.rows_affected();
        let mut applied = Applied { paragraphs, ..Applied::default() };
        for row in sqlx::query(COUNT_STATUS).fetch_all(&mut *tx).await? {
            let status: String = row.try_get(0)?;
            let n = u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0);
            match status.as_str() {
                "inserted" => applied.inserted = n,
                "updated" => applied.updated = n,
                _ => applied.unchanged = n,
            }
        }
        tx.commit().await?; // ON COMMIT DELETE ROWS empties the staging tables
        Ok(applied)
    }

    /// Builds missing indexes, refreshes planner statistics and records the run.
    pub async fn finish(mut self, report: &IngestReport) -> Result<(), IngestError> {
        self.build_indexes().await?;
        self.create_schema().await?; // anything else missing (normally nothing)
        sqlx::raw_sql("ANALYZE opinions; ANALYZE opinion_paragraphs;")
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

async fn copy_opinions(conn: &mut PgConnection, records: &[Prepared]) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(COPY_OPINIONS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    for r in records {
        let o = &r.opinion;
        let line = r.line.to_string();
        let vectors = vectors(r);
        let fields: [Option<&str>; 10] = [
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
