//! One module per app-database table. Every module uses the same verbs: `get…` (one row or
//! `None`), `list…`, `insert`/`update`/`upsert`, `delete…`. Cascades are spelled out on the
//! delete that causes them. Authorization is not checked here; see [`crate::Lexica`].
//! [`liveness`] is the part of `search_executions` kept beside the database: which processes
//! that own running executions are still alive.

pub mod data_sources;
pub mod liveness;
pub mod permissions;
pub mod search_executions;
pub mod searches;
pub mod source_sign_ins;
pub mod source_test_results;
pub mod users;

/// Maps a UNIQUE-constraint failure to [`crate::Error::AlreadyExists`]; other errors pass through.
pub(crate) fn unique_violation(error: sqlx::Error, what: &'static str, name: &str) -> crate::Error {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            crate::Error::AlreadyExists { what, name: name.to_string() }
        }
        _ => crate::Error::Database(error),
    }
}
