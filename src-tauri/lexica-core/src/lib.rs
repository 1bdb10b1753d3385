//! Lexica's core: everything the desktop app and the `lexica` CLI do, with no Tauri and no UI.
//!
//! # Layout
//! - [`lexica`]: [`Lexica`], the front door. Opens an install and performs every action as a named
//!   user, refusing admin actions to non-admins.
//! - [`models`]: the domain types (`User`, `DataSource`, `Grant`, `Search`, `SearchExecution`, …)
//!   and their validation rules; `SourceUrl` parses and redacts connection URLs.
//! - `queries` (private): one module per app-database table, the same verbs in each (get, list,
//!   insert, update, upsert, delete); no authorization, no business rules.
//! - `app_db` (private; its names and constants public as [`db`]): opening the SQLite app
//!   database (WAL, foreign keys, busy timeout), migrations from `migrations/app/`, first-start
//!   setup, closing executions a crash left open.
//!
//! # One way in
//! The app database handle, its opening and the table queries are private to the core: every face
//! (the CLI, the desktop shell, the bench) goes through a [`Lexica`] method, which checks who is
//! acting, so none can skip authorization by reading or writing a table itself. What a face needs
//! and cannot get is a new `Lexica` method, not a wider door. The core's own integration tests
//! reach the tables through `testing`, compiled only with the `test-support` feature (enabled
//! by the core's `[dev-dependencies]` alone).
//! - [`provision`]: offline provisioning files (TOML) for firm installs: validated import, export.
//! - [`credentials`]: source passwords in the OS keychain (and nowhere else); `Secret` never prints.
//! - [`sources`]: connections to opinion sources: a lazily built, live-reloaded pool per source,
//!   read-only with a statement timeout; the source doctor.
//! - [`search`]: parallel multi-source search: executions with deadlines and cancellation,
//!   streamed events, merging by a common score, deduplication by citation.
//! - [`reach`]: whether each source a user can search answers now (the search window's badges).
//! - [`sign_in`]: lawyers' own sign-ins to sources (session or keychain), and which credentials
//!   each user's connections use.
//! - [`home`]: where an install keeps its files.
//! - [`error`]: the crate's one error type, [`Error`], and its serializable report.

// The file keeps its name; the module is private so that `open` (a raw pool on the app
// database) and the migrator stay inside the core. Its public names are re-exported by `db`.
#[path = "db.rs"]
mod app_db;
pub mod credentials;
pub mod error;
pub mod home;
pub mod lexica;
pub mod models;
pub mod provision;
pub mod reach;
// Each table module keeps the full set of verbs (see its docs); a few (a search's `get`, …) are
// used only by the tests, through `testing`, so without that feature they are dead code here.
#[cfg_attr(not(feature = "test-support"), allow(dead_code))]
mod queries;
pub mod search;
pub mod settings;
pub mod sign_in;
pub mod sources;

/// The app database's public names: the seeded sources, the OS login, the connection settings.
/// Opening the database and migrating it are the core's own (see the crate docs, "One way in").
pub mod db {
    pub(crate) use crate::app_db::open;
    // The core's unit tests migrate scratch databases step by step.
    #[cfg(test)]
    pub(crate) use crate::app_db::MIGRATOR;
    pub use crate::app_db::{
        BUSY_TIMEOUT, DEMO_BUNDLE_PATH, DEMO_SOURCE_NAME, MAX_CONNECTIONS, SEED_SOURCE_NAME, local_username,
    };
}

/// Test support for the core's own integration tests: the table queries and the database handle
/// that the faces may not use. Compiled only with the `test-support` feature, which only the
/// core's `[dev-dependencies]` enable; `cargo check -p lexica-cli` builds the core without it.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing {
    /// The table queries (`crate::queries`), unchecked: tests set up rows and read them back.
    pub mod queries {
        pub use crate::queries::*;
    }
    pub use crate::app_db::{MIGRATOR, open};

    /// The install's app database pool.
    pub fn db(lexica: &crate::Lexica) -> &sqlx::SqlitePool {
        lexica.db()
    }
}

pub use error::{Error, ErrorKind, ErrorReport, Result};
pub use home::{AppInstance, Home};
pub use lexica::{ExecutionRecord, Lexica, SearchRecord, SourceEdit};
pub use models::*;
