//! What the desktop app's windows need that is logic, not plumbing: the search window's overview,
//! the query check, the CSV export to a folder, and the settings window's views (the sources table
//! with each source's password state and last test, the users × sources access grid with the reason
//! a user cannot search a source).
//!
//! Everything here is a `Lexica` method built on the front door's checked methods (or checking
//! itself with `require_admin_now`), so the shell stays a set of few-line adapters and the CLI
//! could show the same views.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{ErrorKind as IoErrorKind, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::lexica::require_admin_now;
use crate::models::{DataSource, PermissionLevel, SourceId, User};
use crate::queries::source_test_results::{self, StoredTestResult};
use crate::search::{Hit, SearchModeInput};
use crate::sources::doctor::{CheckStatus, DoctorReport};
use crate::{Error, Lexica, Result};

/// Most names tried for one export file (`…-2.csv`, `…-3.csv`, …) before giving up.
pub const MAX_EXPORT_NAME_ATTEMPTS: u32 = 1000;
/// Longest stored test summary, in characters (the table's CHECK).
pub const MAX_TEST_SUMMARY_CHARS: usize = 2000;

/// What the search window shows first: who is signed in, the sources they can see and which of
/// those they can search. `user.is_admin` decides whether the settings button is shown (the core
/// re-checks every admin command anyway).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppOverview {
    /// The acting user: the OS login.
    pub user: User,
    /// The sources this user can see (`Lexica::list_sources`: every source for an administrator,
    /// the granted ones for anyone else), active or not. URLs never carry a password.
    pub sources: Vec<DataSource>,
    /// The ids of the sources among `sources` that a search would query now
    /// (`Lexica::accessible_sources`: granted ∧ active ∧ search-enabled).
    pub searchable: Vec<SourceId>,
    /// Searchable sources where each user signs in and this user has not yet: searching them
    /// asks for the user's database account first.
    pub sign_in_needed: Vec<SourceId>,
    /// Sources this user is signed in to with their own account (they can sign out).
    pub signed_in: Vec<SourceId>,
}

/// A source's last connection test: the doctor's worst status, its first problem (or that all
/// passed), when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SourceTestResult {
    pub status: CheckStatus,
    pub summary: String,
    #[ts(type = "string")]
    pub tested_at: DateTime<Utc>,
    /// The tester's username, while that user exists.
    pub tested_by: Option<String>,
}

/// One row of the settings window's Sources table.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SourceRow {
    pub source: DataSource,
    /// Whether the OS keychain holds a password for the source now (asked of the keychain; the
    /// password itself is never read out of the core).
    pub password_stored: bool,
    /// Why the keychain could not be asked (locked, missing), in the sentence that says what to do.
    pub keychain_problem: Option<String>,
    /// `None` until the source is first tested.
    pub last_test: Option<SourceTestResult>,
}

/// The Sources view: every source, and which keychain holds passwords.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SourcesView {
    pub sources: Vec<SourceRow>,
    /// The keychain in use ("Secret Service", "kernel keyring", …).
    pub keychain: String,
}

/// One cell of the users × sources grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AccessCell {
    pub source_id: SourceId,
    pub source_name: String,
    /// `None`: no grant.
    pub level: Option<PermissionLevel>,
    #[ts(type = "string | null")]
    pub granted_at: Option<DateTime<Utc>>,
    pub granted_by: Option<String>,
    /// grant ∧ active ∧ search enabled: whether this user's searches query the source.
    pub can_search: bool,
    /// Why not, when `can_search` is false.
    pub reason: Option<String>,
}

/// One row of the grid: a user and their access to every source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AccessRow {
    pub user: User,
    pub cells: Vec<AccessCell>,
}

impl Lexica {
    /// The search window's [`AppOverview`] for the acting (OS) user.
    pub async fn overview(&self) -> Result<AppOverview> {
        let user = self.acting_user(None).await?;
        let sources = self.list_sources(&user).await?;
        let accessible = self.accessible_sources(&user).await?;
        let signed_in = self.signed_in_sources(user.id, &accessible).await?;
        let sign_in_needed =
            accessible.iter().filter(|s| s.each_user_signs_in && !signed_in.contains(&s.id)).map(|s| s.id).collect();
        let searchable = accessible.into_iter().map(|s| s.id).collect();
        tracing::debug!(user = %user.username, sources = sources.len(), "overview");
        Ok(AppOverview { user, sources, searchable, sign_in_needed, signed_in })
    }

    /// The acting (OS) user, when they are an administrator now: what the shell checks before it
    /// opens the settings window, and what that window shows in its header.
    pub async fn acting_admin(&self) -> Result<User> {
        let user = self.acting_user(None).await?;
        require_admin_now(self.db(), &user, "opening the settings").await?;
        Ok(user)
    }

    /// Whether `query` would parse in `mode` (the as-you-type check); needs no database.
    pub fn check_query(query: &str, mode: SearchModeInput) -> Result<()> {
        let mode = match mode {
            SearchModeInput::Boolean => lexica_query::Mode::Boolean,
            SearchModeInput::Statements => lexica_query::Mode::Statements,
        };
        lexica_query::parse(query, mode).map(drop).map_err(|error| Error::Query(Box::new(error)))
    }

    /// Writes `hits` as CSV into `dir` (created if missing), in a new file
    /// `lexica-results-YYYY-MM-DD-HHMMSS.csv` named from `now`, suffixed `-2`, `-3`… when the
    /// name is taken: an export never overwrites a file. Answers the path written.
    pub fn write_results_csv(hits: &[Hit], dir: &Path, now: chrono::NaiveDateTime) -> Result<PathBuf> {
        let failed = |path: &Path, error: std::io::Error| {
            Error::Refused(format!(
                "could not write {}: {error}; choose a folder you can write to, or free some disk space",
                path.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(|error| failed(dir, error))?;
        let stem = format!("lexica-results-{}", now.format("%Y-%m-%d-%H%M%S"));
        let csv = crate::search::export::to_csv(hits);
        for attempt in 1..=MAX_EXPORT_NAME_ATTEMPTS {
            let name = if attempt == 1 { format!("{stem}.csv") } else { format!("{stem}-{attempt}.csv") };
            let path = dir.join(name);
            // `create_new`: the check for an existing file and the creation are one step, so two
            // exports in the same second cannot both take a name.
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(csv.as_bytes()).map_err(|error| failed(&path, error))?;
                    return Ok(path);
                }
                Err(error) if error.kind() == IoErrorKind::AlreadyExists => continue,
                Err(error) => return Err(failed(&path, error)),
            }
        }
        Err(Error::Refused(format!(
            "there are already {MAX_EXPORT_NAME_ATTEMPTS} exports named {stem} in {}; move some away and export again",
            dir.display()
        )))
    }

    /// Reads a provisioning file for [`Lexica::provision_import`], with a sentence naming the file
    /// when it cannot be read.
    pub fn read_provisioning_file(path: &Path) -> Result<String> {
        std::fs::read_to_string(path).map_err(|error| {
            Error::Provisioning(format!(
                "could not read {}: {error}; choose a readable provisioning file (TOML)",
                path.display()
            ))
        })
    }

    /// Writes an exported provisioning file to `path`, which must not exist yet: an export never
    /// overwrites a file (it could be the firm's edited master copy).
    pub fn write_provisioning_file(path: &Path, text: &str) -> Result<()> {
        let failed = |error: std::io::Error| {
            let hint = if error.kind() == IoErrorKind::AlreadyExists {
                "that file exists already; choose a new name"
            } else {
                "choose a folder you can write to"
            };
            Error::Refused(format!("could not write {}: {error}; {hint}", path.display()))
        };
        let mut file = OpenOptions::new().write(true).create_new(true).open(path).map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)
    }

    /// The settings window's Sources table (administrators only): every source with whether a
    /// password is stored and its last test.
    pub async fn sources_view(&self, actor: &User) -> Result<SourcesView> {
        require_admin_now(self.db(), actor, "viewing the sources' settings").await?;
        let sources = self.list_sources(actor).await?;
        let users: HashMap<_, _> =
            self.list_users(actor).await?.into_iter().map(|user| (user.id, user.username)).collect();
        let mut tests: HashMap<SourceId, StoredTestResult> =
            source_test_results::list(self.db()).await?.into_iter().map(|row| (row.data_source_id, row)).collect();
        let mut rows = Vec::with_capacity(sources.len());
        for source in sources {
            // A source never given a password does not touch the keychain (as searches do not):
            // a locked keychain then does not mark every row.
            let (password_stored, keychain_problem) = if source.credential_updated_at.is_none() {
                (false, None)
            } else {
                match self.keychain().password(source.id).await {
                    Ok(stored) => (stored.is_some(), None),
                    Err(error) => (false, Some(error.to_string())),
                }
            };
            let last_test = tests.remove(&source.id).map(|row| SourceTestResult {
                status: parse_status(&row.status),
                summary: row.summary,
                tested_at: row.tested_at,
                tested_by: row.tested_by.and_then(|id| users.get(&id).cloned()),
            });
            rows.push(SourceRow { source, password_stored, keychain_problem, last_test });
        }
        Ok(SourcesView { sources: rows, keychain: self.keychain().store_name().to_string() })
    }

    /// The users × sources grid (administrators only): each user's grant on each source, who
    /// granted it and when, and whether their searches query it, with the reason when not.
    pub async fn access_grid(&self, actor: &User) -> Result<Vec<AccessRow>> {
        let users = self.list_users(actor).await?;
        let sources = self.list_sources(actor).await?;
        let grants = self.list_grants(actor, None).await?;
        let by_pair: HashMap<(&str, &str), _> =
            grants.iter().map(|g| ((g.username.as_str(), g.source_name.as_str()), g)).collect();
        let rows = users
            .into_iter()
            .map(|user| {
                let cells = sources
                    .iter()
                    .map(|source| {
                        let grant = by_pair.get(&(user.username.as_str(), source.name.as_str()));
                        let reason = cannot_search_reason(grant.is_some(), source);
                        AccessCell {
                            source_id: source.id,
                            source_name: source.name.clone(),
                            level: grant.map(|g| g.permission_level),
                            granted_at: grant.map(|g| g.granted_at),
                            granted_by: grant.and_then(|g| g.granted_by.clone()),
                            can_search: reason.is_none(),
                            reason,
                        }
                    })
                    .collect();
                AccessRow { user, cells }
            })
            .collect();
        Ok(rows)
    }
}

/// Keeps a doctor's verdict as `source`'s last test result (what [`Lexica::test_source`] does
/// after every test, from the CLI or the settings window).
pub(crate) async fn record_test(
    db: impl sqlx::SqliteExecutor<'_>,
    source: SourceId,
    report: &DoctorReport,
    actor: &User,
) -> Result<()> {
    let row = StoredTestResult {
        data_source_id: source,
        status: status_name(report.status()).to_string(),
        summary: summarize(report),
        tested_at: Utc::now(),
        tested_by: Some(actor.id),
    };
    source_test_results::upsert(db, &row).await
}

/// Why a user with (or without) a grant cannot search `source`; `None` when they can. The order
/// is the order an admin fixes things in: share it, switch it on, allow searching it.
fn cannot_search_reason(granted: bool, source: &DataSource) -> Option<String> {
    if !granted {
        Some("not shared with this user: choose read or admin".into())
    } else if !source.is_active {
        Some("the source is disabled: enable it in Sources".into())
    } else if !source.search_enabled {
        Some("searching this source is switched off: turn on \"search enabled\" in Sources".into())
    } else {
        None
    }
}

fn status_name(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Ok => "ok",
        CheckStatus::Warning => "warning",
        CheckStatus::Error => "error",
    }
}

/// The stored status back as a [`CheckStatus`]; the table's CHECK allows only the three names, so
/// anything else (impossible) reads as an error rather than as a pass.
fn parse_status(status: &str) -> CheckStatus {
    match status {
        "ok" => CheckStatus::Ok,
        "warning" => CheckStatus::Warning,
        _ => CheckStatus::Error,
    }
}

/// One line for the table: the worst check's sentence, or how many checks passed.
fn summarize(report: &DoctorReport) -> String {
    let worst = report.status();
    let line = match report.checks.iter().find(|check| check.status == worst && worst != CheckStatus::Ok) {
        Some(check) => format!("{}: {}", check.name, check.message),
        None => format!("all {} checks passed", report.checks.len()),
    };
    line.chars().take(MAX_TEST_SUMMARY_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::doctor::DoctorCheck;

    fn check(name: &str, status: CheckStatus, message: &str) -> DoctorCheck {
        DoctorCheck { name: name.into(), status, message: message.into() }
    }

    #[test]
    fn the_summary_is_the_worst_checks_sentence() {
        let report = DoctorReport {
            source: "ny".into(),
            checks: vec![
                check("connection", CheckStatus::Ok, "connected"),
                check("read-only", CheckStatus::Warning, "the role can write; use a SELECT-only role"),
                check("schema", CheckStatus::Error, "no opinions table; run lexica ingest"),
            ],
        };
        assert_eq!(summarize(&report), "schema: no opinions table; run lexica ingest");
        let passed = DoctorReport { source: "ny".into(), checks: vec![check("connection", CheckStatus::Ok, "ok")] };
        assert_eq!(summarize(&passed), "all 1 checks passed");
    }

    #[test]
    fn a_stored_status_reads_back() {
        for status in [CheckStatus::Ok, CheckStatus::Warning, CheckStatus::Error] {
            assert_eq!(parse_status(status_name(status)), status);
        }
        assert_eq!(parse_status("bogus"), CheckStatus::Error);
    }

    #[test]
    fn the_reason_names_the_first_thing_to_fix() {
        let mut source = DataSource::new("ny", "NY");
        assert!(cannot_search_reason(false, &source).unwrap().starts_with("not shared"));
        assert_eq!(cannot_search_reason(true, &source), None);
        source.search_enabled = false;
        assert!(cannot_search_reason(true, &source).unwrap().contains("search enabled"));
        source.is_active = false;
        assert!(cannot_search_reason(true, &source).unwrap().contains("disabled"));
    }
}
