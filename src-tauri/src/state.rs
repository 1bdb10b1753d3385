//! The core as Tauri manages it.

use lexica_core::{ErrorReport, Lexica};

/// The core opened at start-up, or why it could not be opened.
///
/// A failed open (unwritable home folder, database from a newer version…) does not stop the app: the window comes up
/// and every command answers with the start-up error, so the user reads what to fix instead of seeing nothing.
#[derive(Debug)]
pub struct CoreState(Result<Lexica, ErrorReport>);

impl CoreState {
    /// The opened core, or the error that kept it from opening.
    pub fn lexica(&self) -> Result<&Lexica, ErrorReport> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

impl From<Result<Lexica, lexica_core::Error>> for CoreState {
    fn from(opened: Result<Lexica, lexica_core::Error>) -> Self {
        match &opened {
            Ok(_) => tracing::info!("app database open"),
            Err(error) => tracing::error!(kind = ?error.kind(), "cannot open the app database: {error}"),
        }
        CoreState(opened.map_err(|error| ErrorReport::from(&error)))
    }
}
