//! Builds opinion sources: loads court opinions from JSON Lines into a PostgreSQL source or an
//! SQLite (FTS5) bundle, creating the source schema of `migrations/source-*` when absent,
//! keeps the source's ranking statistics current, and builds the built-in demo bundle.
//!
//! # Layout
//! - [`target`]: where an ingest writes ([`Target`]) and how it is shown (URLs without passwords).
//! - [`record`]: the input record format, its validation and the prepared (normalized, paragraph
//!   split, with its statistics' lengths and terms) form both targets load.
//! - `stats`: the ranking statistics (`migrations/source-*/0003_statistics.sql`): their
//!   definitions, computed once for both targets, and the net per-batch changes loaders write.
//! - `reader`: reads plain or gzip input on a blocking thread and sends batches of prepared
//!   records to the loader, so parsing overlaps with database work.
//! - `postgres`: the PostgreSQL loader (COPY into staging tables, classify and write in SQL).
//! - `tsvector`: PostgreSQL `tsvector` literals built from Lexica's normalized words (and the
//!   one rule for which words are lexemes, shared with the statistics).
//! - `sqlite`: the SQLite bundle loader (multi-row inserts, contentless-delete FTS5).
//! - [`report`]: [`Progress`] updates and the final [`IngestReport`].
//! - [`error`]: [`IngestError`], the one error type.
//! - [`demo`]: the shipped sample of real opinions and [`demo::build_demo_bundle`].
//!
//! # Guarantees
//! - Re-running an ingest never duplicates an opinion: records are keyed by `source_id`; an
//!   identical one is left alone (`unchanged`), a changed one is replaced with its paragraph
//!   rows (`updated`).
//! - Each batch is one transaction, so an interrupted load keeps what it committed and the
//!   same command resumes it.
//! - A bad record (malformed JSON, unknown field, bad date, empty body, duplicate id, or one
//!   the database refuses) is reported with its line number and the load goes on. Only a
//!   failure of the input stream or of the database as a whole stops an ingest.
//! - The ranking statistics (`lexica_corpus_stats`, `lexica_term_stats`, `opinion_lengths`)
//!   are exact after every committed batch, updated in the batch's own transaction: an inserted
//!   opinion adds its field lengths and +1 to the df of each of its terms, a changed one first
//!   takes off what its old version added, an unchanged one touches nothing (not even
//!   `updated_at`). A term no opinion holds any more is deleted. The definitions (field length
//!   = `lexica_query::text::words(field).len()`; terms = distinct words of case name, citation,
//!   court and body that PostgreSQL keeps as lexemes) are in one place, so a PostgreSQL source
//!   and an SQLite bundle built from the same input hold identical statistics.
//! - A source without complete statistics (loaded by an older Lexica: no `lexica_corpus_stats`
//!   row; or written by something that left its recorded opinion count wrong) gets them
//!   computed from the opinions it already holds before any batch is loaded, even when every
//!   input record is unchanged. Interrupting that is safe: the corpus row is written last, in
//!   the transaction that writes the document frequencies, so its presence means the
//!   statistics are complete, and the next run resumes. Statistics found inconsistent while
//!   loading (changed by hand) stop the ingest with [`IngestError::InconsistentStatistics`],
//!   which says how to have them rebuilt.

pub mod demo;
pub mod error;
mod postgres;
mod reader;
pub mod record;
pub mod report;
mod sqlite;
mod stats;
pub mod target;
mod tsvector;

use std::path::Path;
use std::time::Instant;

pub use error::IngestError;
pub use reader::{BATCH_MAX_BYTES, BATCH_MAX_RECORDS};
pub use record::{RejectKind, RejectedRecord};
pub use report::{IngestReport, Phase, Progress};
pub use target::Target;

use reader::{Input, Message};

/// Loads the JSON Lines file `input` (plain or gzip) into `target`, calling `progress` after
/// each committed batch. See the crate docs for what is guaranteed.
pub async fn ingest(
    input: &Path,
    target: Target,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<IngestReport, IngestError> {
    let input = Input::open(input)?;
    run(input, &target, progress).await
}

/// The loaders, behind one face.
enum Sink {
    Postgres(Box<postgres::PgSink>),
    Sqlite(sqlite::SqliteSink),
}

/// What one batch did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub paragraphs: u64,
    /// Records the database refused (the rest of the batch is committed).
    pub refused: Vec<RejectedRecord>,
}

impl Sink {
    async fn open(target: &Target) -> Result<Self, IngestError> {
        Ok(match target {
            Target::Postgres(url) => Self::Postgres(Box::new(postgres::PgSink::open(url).await?)),
            Target::Sqlite(path) => Self::Sqlite(sqlite::SqliteSink::open(path).await?),
        })
    }

    async fn apply(&mut self, records: &[record::Prepared]) -> Result<Applied, IngestError> {
        match self {
            Self::Postgres(s) => s.apply(records).await,
            Self::Sqlite(s) => s.apply(records).await,
        }
    }

    async fn finish(self, report: &IngestReport) -> Result<(), IngestError> {
        match self {
            Self::Postgres(s) => (*s).finish(report).await,
            Self::Sqlite(s) => s.finish(report).await,
        }
    }
}

async fn run(
    input: Input,
    target: &Target,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<IngestReport, IngestError> {
    let start = Instant::now();
    let mut report =
        IngestReport { input: input.label.clone(), target: target.display_name(), ..IngestReport::default() };
    let mut sink = Sink::open(target).await?;
    let raw_read = std::sync::Arc::clone(&input.raw_bytes_read);
    let raw_total = input.raw_bytes_total;
    let (tx, mut rx) = tokio::sync::mpsc::channel(reader::PIPELINE_DEPTH);
    let label = input.label.clone();
    let pg_vectors = matches!(target, Target::Postgres(_));
    let reading = tokio::task::spawn_blocking(move || reader::read_batches(input, tx, pg_vectors));
    while let Some(message) = rx.recv().await {
        let batch = match message {
            Message::Batch(batch) => batch,
            Message::Failed { line, error } => {
                return Err(IngestError::ReadInput { input: label, line, source: error });
            }
        };
        let applied = sink.apply(&batch.records).await?;
        report.records = batch.lines_so_far;
        report.input_bytes = batch.input_bytes_so_far;
        report.inserted += applied.inserted;
        report.updated += applied.updated;
        report.unchanged += applied.unchanged;
        report.paragraphs_written += applied.paragraphs;
        for rejected in batch.rejected.into_iter().chain(applied.refused) {
            report.reject(rejected);
        }
        let read = raw_read.load(std::sync::atomic::Ordering::Relaxed);
        progress(Progress::new(Phase::Loading, report.records, report.rejected, read, raw_total, start.elapsed()));
    }
    // The reader has hung up (channel closed); a panic in it would be a bug, reported as such.
    reading.await.map_err(|e| IngestError::Internal(e.to_string()))?;
    let read = raw_read.load(std::sync::atomic::Ordering::Relaxed);
    progress(Progress::new(Phase::Indexing, report.records, report.rejected, read, raw_total, start.elapsed()));
    report.finish(start.elapsed());
    sink.finish(&report).await?;
    report.finish(start.elapsed());
    tracing::info!(target: "lexica_ingest", "{}", report.rate_line());
    Ok(report)
}

#[cfg(test)]
mod tests {
    /// The app runs ingests from Tauri commands and spawned tasks: the futures must be `Send`.
    #[test]
    fn ingest_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let progress = |_: crate::Progress| {};
        let ingest = crate::ingest(std::path::Path::new("x"), crate::Target::Sqlite("y".into()), &progress);
        assert_send(&ingest);
        assert_send(&crate::demo::build_demo_bundle(std::path::Path::new("z")));
    }
}
