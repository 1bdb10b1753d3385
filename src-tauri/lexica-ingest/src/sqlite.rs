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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::Applied;
use crate::error::IngestError;
use crate::record::{Opinion, Prepared, RejectKind, RejectedRecord};
use crate::report::IngestReport;

/// The bundle schema, run on every ingest (every statement is `IF NOT EXISTS`).
const SCHEMA: &str = include_str!("../../../migrations/source-sqlite/0001_opinions.sql");
/// Ingest bookkeeping, run after the schema.
const SCHEMA_INGEST_RUNS: &str = include_str!("../../../migrations/source-sqlite/0002_ingest_runs.sql");

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

const SELECT_EXISTING: &str =
    "SELECT id, source_id, case_name, citation, court, jurisdiction, decided_on, docket_number, body
  FROM opinions WHERE source_id IN (SELECT value FROM json_each(?1))";

const UPDATE_OPINION: &str = "UPDATE opinions SET case_name = ?2, citation = ?3, court = ?4, jurisdiction = ?5,
       decided_on = ?6, docket_number = ?7, body = ?8 WHERE id = ?1";

/// Removes a changed opinion's paragraphs and index entries before they are rewritten.
const DELETE_OLD: [&str; 3] = [
    "DELETE FROM paragraphs_fts WHERE rowid IN (SELECT id FROM opinion_paragraphs WHERE opinion_id = ?1)",
    "DELETE FROM opinion_paragraphs WHERE opinion_id = ?1",
    "DELETE FROM opinions_fts WHERE rowid = ?1",
];

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
}

impl SqliteSink {
    pub async fn open(path: &Path) -> Result<Self, IngestError> {
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
        for script in [SCHEMA, SCHEMA_INGEST_RUNS] {
            sqlx::raw_sql(script)
                .execute(&mut conn)
                .await
                .map_err(|e| IngestError::Schema { target: path.display().to_string(), message: e.to_string() })?;
        }
        Ok(Self { conn, path: path.to_path_buf() })
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
        let mut existing: HashMap<String, (i64, Opinion)> = HashMap::new();
        for row in sqlx::query(SELECT_EXISTING).bind(ids).fetch_all(&mut *tx).await? {
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
            existing.insert(opinion.source_id.clone(), (row.try_get(0)?, opinion));
        }
        let mut next_opinion: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM opinions").fetch_one(&mut *tx).await?;
        let mut next_paragraph: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM opinion_paragraphs").fetch_one(&mut *tx).await?;

        let mut applied = Applied::default();
        // (opinion id, record) for every record to (re)index.
        let mut to_index: Vec<(i64, &Prepared)> = Vec::with_capacity(records.len());
        let mut new_rows: Vec<Val<'_>> = Vec::new();
        for r in records {
            let o = &r.opinion;
            match existing.get(&o.source_id) {
                Some((_, old)) if old == o => applied.unchanged += 1,
                Some((id, _)) => {
                    applied.updated += 1;
                    for sql in DELETE_OLD {
                        sqlx::query(sql).bind(*id).execute(&mut *tx).await?;
                    }
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
        )
        .await?;
        drop(new_rows);

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
        )
        .await?;
        insert_rows(
            &mut tx,
            "INSERT INTO opinion_paragraphs (id, opinion_id, paragraph_no, body) VALUES ",
            4,
            &paragraph_rows,
        )
        .await?;
        insert_rows(&mut tx, "INSERT INTO paragraphs_fts (rowid, body) VALUES ", 2, &paragraph_fts_rows).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// Merges the FTS5 indexes, records the run and leaves one self-contained file.
    pub async fn finish(mut self, report: &IngestReport) -> Result<(), IngestError> {
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
        let Self { conn, path } = self;
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
    Text(Option<&'a str>),
}

/// Inserts `values` (row-major, `columns` per row) with as few statements as
/// [`PARAMS_PER_INSERT`] allows. The SQL holds only placeholders; all data is bound.
async fn insert_rows(
    conn: &mut SqliteConnection,
    head: &'static str,
    columns: usize,
    values: &[Val<'_>],
) -> Result<(), sqlx::Error> {
    let rows_per_statement = (PARAMS_PER_INSERT / columns).max(1);
    let tuple = format!("({})", vec!["?"; columns].join(","));
    for chunk in values.chunks(rows_per_statement * columns) {
        let rows = chunk.len() / columns;
        let mut sql = String::with_capacity(head.len() + rows * (tuple.len() + 1));
        sql.push_str(head);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&tuple);
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in chunk {
            query = match *value {
                Val::Int(i) => query.bind(i),
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

/// Errors caused by one record's data: SQLITE_TOOBIG (18), SQLITE_CONSTRAINT (19),
/// SQLITE_MISMATCH (20).
fn is_record_error(e: &sqlx::Error) -> bool {
    matches!(sqlite_code(e), Some(18..=20))
}
