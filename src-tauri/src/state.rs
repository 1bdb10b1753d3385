//! What Tauri manages: the core, and the searches running now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lexica_core::{ErrorReport, Lexica, SearchId};
use tokio_util::sync::CancellationToken;

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

/// The searches running now, each with the token that cancels it, so `cancel_search` can stop one by its id.
///
/// A search is registered when the core reports it `started` (that event carries its id, and the UI learns the id from
/// it, so a cancel can never arrive before the registration) and removed when it ends, however it ends.
#[derive(Debug, Clone, Default)]
pub struct Searches(Arc<Mutex<HashMap<SearchId, CancellationToken>>>);

impl Searches {
    /// Remembers `token` as the way to cancel `id`.
    pub fn register(&self, id: SearchId, token: CancellationToken) {
        self.map().insert(id, token);
    }

    /// Cancels the search `id`. False when no such search is running (unknown, or already over).
    pub fn cancel(&self, id: SearchId) -> bool {
        match self.map().get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Forgets `id` (the search ended).
    pub fn remove(&self, id: SearchId) {
        self.map().remove(&id);
    }

    /// How many searches are running.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether no search is running.
    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    fn map(&self) -> MutexGuard<'_, HashMap<SearchId, CancellationToken>> {
        // Nothing done under the lock can leave the map half-changed, so a poisoned lock is still a good map.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
