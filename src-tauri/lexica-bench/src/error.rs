//! The crate's one error type.

use std::path::PathBuf;

/// What can stop generation or a baseline measurement.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A seed-corpus or output file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A seed-corpus line is not the record format.
    #[error("{path} line {line}: {message}")]
    SeedRecord { path: PathBuf, line: u64, message: String },
    /// The seed corpus has nothing to build from.
    #[error("{path}: no usable opinion (each needs a case name, a court and a body with paragraphs)")]
    EmptySeed { path: PathBuf },
    /// An existing output file cannot be resumed as asked.
    #[error("{path}: cannot resume: {message}")]
    Resume { path: PathBuf, message: String },
    /// The baseline statement failed on the source.
    #[error("baseline statement failed: {0}")]
    Database(#[from] sqlx::Error),
}

impl BenchError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BenchError {
        let path = path.into();
        move |source| BenchError::Io { path, source }
    }
}
