//! The core's one error type.

use serde::Serialize;
use ts_rs::TS;

use crate::models::ValidationErrors;

/// Longest error message Lexica stores (search history) or shows (CLI, UI), in characters. A
/// server's error can quote the statement it refused, megabytes of it; what an admin needs is
/// the first sentence or two. Longer messages are cut with [`truncate_message`].
pub const MAX_ERROR_CHARS: usize = 2_000;
/// What a cut message ends with, so nobody mistakes it for the whole text.
pub const TRUNCATION_MARK: &str = " … (message shortened)";

/// `message` cut to at most [`MAX_ERROR_CHARS`] characters (the mark included), on a character
/// boundary; shorter messages are returned unchanged.
pub fn truncate_message(message: &str) -> String {
    if message.chars().count() <= MAX_ERROR_CHARS {
        return message.to_string();
    }
    let keep = MAX_ERROR_CHARS - TRUNCATION_MARK.chars().count();
    let mut out: String = message.chars().take(keep).collect();
    out.push_str(TRUNCATION_MARK);
    out
}

/// Everything that can go wrong in the core. Each message says what happened and what to do,
/// and none ever contains a password or an unredacted connection URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields were refused; each error names its field.
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),

    #[error("{what} `{name}` does not exist{hint}")]
    NotFound { what: &'static str, name: String, hint: &'static str },

    #[error("{what} `{name}` already exists; choose another name or edit the existing one")]
    AlreadyExists { what: &'static str, name: String },

    #[error(
        "{action} needs an administrator; `{user}` is not one (ask an admin to run `lexica users set-admin {user}`)"
    )]
    NotAdmin { user: String, action: &'static str },

    #[error("user `{0}` is not known to this Lexica install; an administrator can add it with `lexica users add {0}`")]
    UnknownUser(String),

    #[error("{0}")]
    Refused(String),

    /// A provisioning file that could not be read or parsed, with every problem and its line.
    #[error("{0}")]
    Provisioning(String),

    #[error(
        "no OS keychain is reachable ({0}); start and unlock your desktop keyring (gnome-keyring or KWallet), \
         or set LEXICA_KEYCHAIN=keyutils to keep passwords in the kernel keyring for this login session only"
    )]
    KeychainUnavailable(String),

    #[error(
        "the OS keychain is locked; unlock it (log in to the desktop, or unlock the \"login\" keyring) and try again"
    )]
    KeychainLocked,

    #[error("the OS keychain did not answer within {0} s; check that your keyring is running and unlocked")]
    KeychainTimedOut(u64),

    #[error("the OS keychain refused the request: {0}")]
    KeychainFailed(String),

    /// A malformed query: where, what, and how to fix it (`Display` draws a caret line).
    #[error("{0}")]
    Query(Box<lexica_query::QueryError>),

    /// A source could not be reached or used; the message is already redacted and says what to do.
    #[error("source `{name}`: {message}")]
    Source { name: String, message: String },

    /// The source needs the user's own sign-in (their database password, and user name where
    /// each user signs in); the search window asks for it.
    #[error(
        "source `{name}`: it needs {}; sign in to it from the search window, or ask an administrator to store \
         the source's password",
        if request.refused { "your database sign-in again (the server refused the one you gave)" }
        else if request.user_name { "your own database user name and password" }
        else { "a database password and none is stored" }
    )]
    SignInNeeded { name: String, request: crate::sign_in::SignInRequest },

    #[error("cannot use the Lexica home folder {path}: {source} (set LEXICA_HOME or --home to a writable folder)")]
    Home { path: String, source: std::io::Error },

    #[error("the app database failed: {0} (if this persists, check the disk and the file's permissions)")]
    Database(#[from] sqlx::Error),

    #[error("the app database could not be migrated: {0} (was it created by a newer Lexica?)")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl Error {
    /// A stable, machine-readable name for the error's kind (the UI and `--json` use it).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::NotAdmin { .. } | Error::UnknownUser(_) => ErrorKind::Forbidden,
            Error::Refused(_) => ErrorKind::Refused,
            Error::KeychainUnavailable(_)
            | Error::KeychainLocked
            | Error::KeychainTimedOut(_)
            | Error::KeychainFailed(_) => ErrorKind::Keychain,
            Error::Source { .. } => ErrorKind::Source,
            Error::SignInNeeded { .. } => ErrorKind::SignIn,
            Error::Query(_) => ErrorKind::Query,
            Error::Provisioning(_) => ErrorKind::Provisioning,
            Error::Home { .. } | Error::Database(_) | Error::Migration(_) => ErrorKind::Storage,
        }
    }
}

impl Error {
    /// The error as a log line may carry it: the message, except for a malformed query, which is
    /// named by its kind and position only. A query is what a lawyer is researching (a client's
    /// matter, in their words); it is kept in the search history, whose readers are checked, and
    /// never in a log file, which anyone with the machine's logs reads. [`Error::Query`]'s
    /// `Display` draws the query under a caret: never log it with `error = %e`.
    pub fn log_summary(&self) -> String {
        match self {
            Error::Query(q) => {
                format!("malformed query ({:?} at characters {}..{})", q.kind, q.char_start, q.char_end)
            }
            other => truncate_message(&other.to_string()),
        }
    }
}

/// The kinds of [`Error`], as the UI and `--json` output see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    Invalid,
    NotFound,
    AlreadyExists,
    Forbidden,
    Refused,
    Provisioning,
    Query,
    Keychain,
    Source,
    /// A source needs the user's own sign-in ([`Error::SignInNeeded`]).
    SignIn,
    Storage,
}

/// What crosses to the UI or `--json`: the kind, the message, and per-field problems.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, rename = "CoreError")]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub message: String,
    /// Field-named problems when `kind` is `invalid`; empty otherwise.
    pub fields: Vec<crate::models::ValidationError>,
    /// Where a malformed query went wrong, when `kind` is `query`.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<QueryProblem>,
}

/// A query error's position (in characters, for a text box's cursor) and its suggested fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct QueryProblem {
    pub char_start: u32,
    pub char_end: u32,
    pub message: String,
    pub fix: String,
}

impl ErrorReport {
    /// The report as a log line may carry it (see [`Error::log_summary`]): for a malformed query,
    /// its position only, never `message` (which quotes the query) nor the problem's wording.
    pub fn log_summary(&self) -> String {
        match (&self.kind, &self.query) {
            (ErrorKind::Query, Some(q)) => format!("malformed query (at characters {}..{})", q.char_start, q.char_end),
            (ErrorKind::Query, None) => "malformed query".to_string(),
            _ => self.message.clone(),
        }
    }
}

impl From<&Error> for ErrorReport {
    fn from(error: &Error) -> Self {
        let fields = match error {
            Error::Invalid(errors) => errors.0.clone(),
            _ => Vec::new(),
        };
        let query = match error {
            Error::Query(q) => Some(QueryProblem {
                char_start: u32::try_from(q.char_start).unwrap_or(u32::MAX),
                char_end: u32::try_from(q.char_end).unwrap_or(u32::MAX),
                message: q.message.clone(),
                fix: q.fix.clone(),
            }),
            _ => None,
        };
        // Cut like everything shown: a source's message may quote a huge statement.
        ErrorReport { kind: error.kind(), message: truncate_message(&error.to_string()), fields, query }
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorReport::from(self).serialize(serializer)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
