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
//! - `postings`: the impact-ordered postings (`migrations/source-*/0004_postings.sql`): what a
//!   posting is, which ones are kept ([`POSTINGS_PER_TERM`] per term), the per-term bookkeeping.
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
//! - The postings (`lexica_postings`) are kept in the same transactions: an inserted opinion's
//!   postings above its terms' floors are written, a changed one's are replaced, an unchanged
//!   one's are not touched; for every term at least its [`POSTINGS_PER_TERM`] highest-impact
//!   postings are stored (the contract is in the `postings` module). A source loaded by an
//!   older Lexica gets them built from its opinions on the next ingest (resumably, after the
//!   statistics); `lexica_corpus_stats.postings_per_term` is set only once they are complete.

pub mod demo;
pub mod error;
mod postgres;
mod postings;
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
pub use postings::{POSTINGS_PER_TERM, TRIM_FACTOR};
pub use reader::{BATCH_MAX_BYTES, BATCH_MAX_RECORDS};
pub use record::{RejectKind, RejectedRecord};
pub use report::{IngestReport, Phase, Progress};
pub use target::Target;

use reader::{Input, Message};

/// How an ingest is run; [`IngestOptions::default`] is what `lexica ingest` ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOptions {
    /// R, the postings kept per term (at least; see [`POSTINGS_PER_TERM`]). Only tests change
    /// it, to see terms trimmed on a small corpus. A source built with another R has its
    /// postings rebuilt by the next ingest.
    pub postings_per_term: u32,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self { postings_per_term: POSTINGS_PER_TERM }
    }
}

/// Loads the JSON Lines file `input` (plain or gzip) into `target`, calling `progress` after
/// each committed batch. See the crate docs for what is guaranteed.
pub async fn ingest(
    input: &Path,
    target: Target,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<IngestReport, IngestError> {
    ingest_with(input, target, IngestOptions::default(), progress).await
}

/// [`ingest`] with non-default [`IngestOptions`].
pub async fn ingest_with(
    input: &Path,
    target: Target,
    options: IngestOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<IngestReport, IngestError> {
    let input = Input::open(input)?;
    run(input, &target, options, progress).await
}

/// The loaders, behind one face.
enum Sink {
    Postgres(Box<postgres::PgSink>),
    Sqlite(sqlite::SqliteSink),
}

/// What one batch (or several) did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub paragraphs: u64,
    /// Records the database refused (the rest of the batch is committed).
    pub refused: Vec<RejectedRecord>,
}

impl IngestReport {
    fn add(&mut self, applied: Applied) {
        self.inserted += applied.inserted;
        self.updated += applied.updated;
        self.unchanged += applied.unchanged;
        self.paragraphs_written += applied.paragraphs;
        for rejected in applied.refused {
            self.reject(rejected);
        }
    }
}

impl Sink {
    async fn open(target: &Target, options: IngestOptions) -> Result<Self, IngestError> {
        let r = options.postings_per_term;
        Ok(match target {
            Target::Postgres(url) => Self::Postgres(Box::new(postgres::PgSink::open(url, r).await?)),
            Target::Sqlite(path) => Self::Sqlite(sqlite::SqliteSink::open(path, r).await?),
        })
    }

    async fn apply(&mut self, records: Vec<record::Prepared>) -> Result<Applied, IngestError> {
        match self {
            Self::Postgres(s) => s.apply(records).await,
            Self::Sqlite(s) => s.apply(&records).await,
        }
    }

    /// What the batches still loading did (a PostgreSQL first load runs several at once).
    async fn drain(&mut self) -> Result<Applied, IngestError> {
        match self {
            Self::Postgres(s) => s.drain().await,
            Self::Sqlite(_) => Ok(Applied::default()),
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
    options: IngestOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<IngestReport, IngestError> {
    let start = Instant::now();
    let mut report =
        IngestReport { input: input.label.clone(), target: target.display_name(), ..IngestReport::default() };
    let mut sink = Sink::open(target, options).await?;
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
        let applied = sink.apply(batch.records).await?;
        report.records = batch.lines_so_far;
        report.input_bytes = batch.input_bytes_so_far;
        for rejected in batch.rejected {
            report.reject(rejected);
        }
        report.add(applied);
        let read = raw_read.load(std::sync::atomic::Ordering::Relaxed);
        let counts = (report.records, report.rejected, report.input_bytes);
        progress(Progress::new(Phase::Loading, counts, read, raw_total, start.elapsed()));
    }
    // The reader has hung up (channel closed); a panic in it would be a bug, reported as such.
    reading.await.map_err(|e| IngestError::Internal(e.to_string()))?;
    report.add(sink.drain().await?);
    let read = raw_read.load(std::sync::atomic::Ordering::Relaxed);
    let counts = (report.records, report.rejected, report.input_bytes);
    progress(Progress::new(Phase::Indexing, counts, read, raw_total, start.elapsed()));
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
