//! Lexica's core: everything the desktop app and the `lexica` CLI do, with no Tauri and no UI.
//!
//! # Layout
//! - [`lexica`]: [`Lexica`], the front door. Opens an install and performs every action as a named
//!   user, refusing admin actions to non-admins.
//! - [`models`]: the domain types (`User`, `DataSource`, `Grant`, `Search`, `SearchExecution`, …)
//!   and their validation rules; `SourceUrl` parses and redacts connection URLs.
//! - [`queries`]: one module per app-database table, the same verbs in each (get, list, insert,
//!   update, upsert, delete); no authorization, no business rules.
//! - [`db`]: opening the SQLite app database (WAL, foreign keys, busy timeout), migrations from
//!   `migrations/app/`, first-start setup, closing executions a crash left open.
//! - [`provision`]: offline provisioning files (TOML) for firm installs: validated import, export.
//! - [`credentials`]: source passwords in the OS keychain (and nowhere else); `Secret` never prints.
//! - [`sources`]: connections to opinion sources: a lazily built, live-reloaded pool per source,
//!   read-only with a statement timeout; the source doctor.
//! - [`search`]: parallel multi-source search: executions with deadlines and cancellation,
//!   streamed events, merging by a common score, deduplication by citation.
//! - [`home`]: where an install keeps its files.
//! - [`error`]: the crate's one error type, [`Error`], and its serializable report.

pub mod credentials;
pub mod db;
pub mod error;
pub mod home;
pub mod lexica;
pub mod models;
pub mod provision;
pub mod queries;
pub mod search;
pub mod sources;

pub use error::{Error, ErrorKind, ErrorReport, Result};
pub use home::Home;
pub use lexica::{ExecutionRecord, Lexica, SearchRecord};
pub use models::*;
