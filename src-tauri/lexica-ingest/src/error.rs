//! The crate's one error type. Every message says what failed and what to do about it, and
//! never contains a password (targets are shown redacted; driver messages are scrubbed).
//!
//! Bad *records* are not errors: they are counted and listed in the report and the load goes
//! on. An `IngestError` means the load as a whole could not go on (no input, no database, a
//! corrupt compressed stream, a full disk). Batches committed before it stay committed, so
//! re-running the same command resumes: loaded opinions come back as `unchanged`.

use std::path::PathBuf;

/// Why an ingest stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    #[error("cannot open the input file {}: {source}. Check the path and that you may read it.", path.display())]
    OpenInput { path: PathBuf, source: std::io::Error },

    #[error(
        "reading {input} failed after line {line}: {source}. The file may be truncated or not valid gzip; \
         opinions before that line are loaded, so fix the file and run the same command again to finish."
    )]
    ReadInput { input: String, line: u64, source: std::io::Error },

    #[error(
        "`{target}` is not an ingest target: give a PostgreSQL URL (postgres://user@host:5432/database) \
         or the path of an SQLite bundle file (e.g. opinions.sqlite)."
    )]
    InvalidTarget { target: String },

    #[error(
        "the PostgreSQL URL `{target}` has a query parameter the loader does not accept ({what}); \
         accepted: {accepted}. Give the host, port, database and user in the URL itself and the \
         password in the URL or in PGPASSWORD."
    )]
    TargetParameter { target: String, what: &'static str, accepted: &'static str },

    #[error(
        "cannot connect to {target}: {message}. Check the host, port, database name, user and password \
         (the database must exist; create it with `createdb` first)."
    )]
    Connect { target: String, message: String },

    #[error(
        "cannot open the bundle {}: {message}. Check that the folder exists and is writable.",
        path.display()
    )]
    OpenBundle { path: PathBuf, message: String },

    #[error(
        "another ingest is writing into {target} right now. Wait for it to finish (or stop it), then run \
         this one again."
    )]
    Busy { target: String },

    #[error(
        "{target} already has an `opinions` table that is not Lexica's source schema (missing column \
         `{column}`). Ingest into an empty database or bundle file, or rename that table."
    )]
    ForeignSchema { target: String, column: String },

    #[error(
        "creating the source schema in {target} failed: {message}. The ingest role needs CREATE on the \
         database's public schema (or have an owner run migrations/source-postgres/*.sql once)."
    )]
    Schema { target: String, message: String },

    #[error(
        "writing to {target} failed while {during}: {message}. Opinions committed before this point are kept; \
         fix the cause (disk space, permissions, connection) and run the same command again to finish."
    )]
    Database { target: String, during: &'static str, message: String },

    #[error(
        "the ranking statistics in {target} do not match its opinions (were lexica_term_stats, opinion_lengths or \
         lexica_corpus_stats changed by hand?). Run `DELETE FROM opinion_lengths; DELETE FROM lexica_corpus_stats;` \
         in it and run the same command again: the ingest then recomputes them from the stored opinions."
    )]
    InconsistentStatistics { target: String },

    #[error("the ingest's background reader stopped unexpectedly ({0}). Run the command again.")]
    Internal(String),
}
