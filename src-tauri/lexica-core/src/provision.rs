//! Offline provisioning for firm installs: a TOML file of users, sources and grants.
//!
//! Import is declarative and idempotent: each entry says how a user, source or grant should be,
//! and importing the same file twice changes nothing. Everything is validated before anything is
//! written (one bad entry → nothing written, every problem listed with its line), all writes happen
//! in one transaction, and nothing is deleted unless `prune` is asked for. Passwords never appear:
//! the format has no field for one, a URL carrying one is refused, and export cannot produce one
//! because the app database holds none.
//!
//! ```toml
//! [[users]]
//! username = "jdoe"
//! display_name = "Jane Doe"   # optional
//! admin = false               # optional; new users default to false
//!
//! [[sources]]
//! name = "ny_appeals"
//! display_name = "NY State Court of Appeals"
//! database_url = "postgres://lexica_reader@db.firm.local/ny_appeals"
//! source_type = "state_appeals"     # every field but name is optional; omitted ones keep
//! jurisdiction = "New York"         # their current value (or the default for a new source)
//! active = true
//!
//! [[grants]]
//! user = "jdoe"
//! source = "ny_appeals"
//! level = "read"                    # read | admin; default read
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use ts_rs::TS;

use crate::lexica::require_admin_now;
use crate::models::{DataSource, PermissionLevel, SourceChanges, User, ValidationErrors, redact_url};
use crate::{Error, Lexica, Result, queries};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[serde(default)]
    users: Vec<Spanned<UserEntry>>,
    #[serde(default)]
    sources: Vec<Spanned<SourceEntry>>,
    #[serde(default)]
    grants: Vec<Spanned<GrantEntry>>,
}

#[derive(Debug, Default, Serialize)]
struct FileOut {
    users: Vec<UserEntry>,
    sources: Vec<SourceEntry>,
    grants: Vec<GrantEntry>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SourceEntry {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jurisdiction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acquire_timeout_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_timeout_ms: Option<u32>,
    /// Each lawyer signs in with their own database account (see `DataSource::each_user_signs_in`).
    #[serde(skip_serializing_if = "Option::is_none")]
    each_user_signs_in: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct GrantEntry {
    user: String,
    source: String,
    #[serde(default = "read_level")]
    level: PermissionLevel,
}

fn read_level() -> PermissionLevel {
    PermissionLevel::Read
}

/// What happened (or, in a dry run, would happen) to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ImportOutcome {
    Created,
    Updated,
    Unchanged,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ImportItem {
    /// `user`, `source` or `grant`.
    pub kind: String,
    /// The username, the source name, or `user → source` for a grant.
    pub name: String,
    pub outcome: ImportOutcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ImportReport {
    pub items: Vec<ImportItem>,
    /// True when nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// The updated sources whose stored password is (or, in a dry run, would be) removed from the
    /// keychain because the file points them at another host, port or user (as `edit_source` does).
    pub passwords_cleared: Vec<String>,
}

impl ImportReport {
    pub fn count(&self, outcome: ImportOutcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }

    fn push(&mut self, kind: &str, name: impl Into<String>, outcome: ImportOutcome) {
        self.items.push(ImportItem { kind: kind.to_string(), name: name.into(), outcome });
    }
}

/// Every problem found in a provisioning file, each with its 1-based line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<(usize, String)>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the provisioning file has {} problem(s); nothing was changed", self.0.len())?;
        for (line, message) in &self.0 {
            write!(f, "\n  line {line}: {message}")?;
        }
        Ok(())
    }
}

impl Lexica {
    /// Imports a provisioning file's text (see the module docs). With `dry_run`, reports what
    /// would change and writes nothing.
    pub async fn provision_import(&self, actor: &User, text: &str, prune: bool, dry_run: bool) -> Result<ImportReport> {
        require_admin_now(self.db(), actor, "importing a provisioning file").await?;
        let file = parse(text)?;
        let mut problems = Problems::default();
        let line = |offset: usize| line_of(text, offset);

        let mut tx = self.db().begin().await?;

        // ---- validate everything first ----
        let mut user_lines = BTreeMap::new();
        let mut planned_users = Vec::new();
        for entry in &file.users {
            let at = line(entry.span().start);
            let e = entry.get_ref();
            if user_lines.insert(e.username.clone(), at).is_some() {
                problems.0.push((at, format!("user `{}` is listed twice", e.username)));
                continue;
            }
            let existing = queries::users::get_by_username(&mut *tx, &e.username).await?;
            let mut user = existing.clone().unwrap_or_else(|| User::new(&e.username, None, false));
            if let Some(d) = &e.display_name {
                user.display_name = Some(d.trim().to_string()).filter(|d| !d.is_empty());
            }
            if let Some(a) = e.admin {
                user.is_admin = a;
            }
            match user.validate() {
                Ok(()) => planned_users.push((existing, user)),
                Err(errors) => push_all(&mut problems, at, &format!("user `{}`", e.username), errors),
            }
        }

        let mut source_lines = BTreeMap::new();
        let mut planned_sources = Vec::new();
        for entry in &file.sources {
            let at = line(entry.span().start);
            let e = entry.get_ref();
            if source_lines.insert(e.name.clone(), at).is_some() {
                problems.0.push((at, format!("source `{}` is listed twice", e.name)));
                continue;
            }
            let existing = queries::data_sources::get_by_name(&mut *tx, &e.name).await?;
            let mut source = existing.clone().unwrap_or_else(|| DataSource::new(&e.name, ""));
            source.apply(SourceChanges {
                display_name: e.display_name.clone(),
                database_url: e.database_url.clone().map(Some),
                source_type: e.source_type.clone(),
                jurisdiction: e.jurisdiction.clone().map(Some),
                is_active: e.active,
                search_enabled: e.search_enabled,
                pool_size: e.pool_size,
                acquire_timeout_ms: e.acquire_timeout_ms,
                query_timeout_ms: e.query_timeout_ms,
                each_user_signs_in: e.each_user_signs_in,
            });
            match source.validate() {
                Ok(()) => planned_sources.push((existing, source)),
                Err(errors) => push_all(&mut problems, at, &format!("source `{}`", e.name), errors),
            }
        }

        let mut grant_keys = BTreeSet::new();
        for entry in &file.grants {
            let at = line(entry.span().start);
            let e = entry.get_ref();
            if !grant_keys.insert((e.user.clone(), e.source.clone())) {
                problems.0.push((at, format!("the grant of `{}` to `{}` is listed twice", e.source, e.user)));
                continue;
            }
            if !user_lines.contains_key(&e.user) && queries::users::get_by_username(&mut *tx, &e.user).await?.is_none()
            {
                problems
                    .0
                    .push((at, format!("grant names user `{}`, who is neither in this file nor in Lexica", e.user)));
            }
            if !source_lines.contains_key(&e.source)
                && queries::data_sources::get_by_name(&mut *tx, &e.source).await?.is_none()
            {
                problems.0.push((
                    at,
                    format!("grant names source `{}`, which is neither in this file nor in Lexica", e.source),
                ));
            }
        }

        if prune && !user_lines.contains_key(&actor.username) {
            problems
                .0
                .push((1, format!("--prune would remove you (`{}`); add yourself to [[users]] first", actor.username)));
        }
        let admins_after: usize = {
            let planned_admins = planned_users.iter().filter(|(_, u)| u.is_admin).count();
            let kept_admins = if prune {
                0
            } else {
                queries::users::list(&mut *tx)
                    .await?
                    .into_iter()
                    .filter(|u| u.is_admin && !user_lines.contains_key(&u.username))
                    .count()
            };
            planned_admins + kept_admins
        };
        if admins_after == 0 {
            problems.0.push((
                1,
                "after this import no administrator would remain; mark at least one user `admin = true`".into(),
            ));
        }
        if !problems.0.is_empty() {
            problems.0.sort();
            return Err(Error::Provisioning(problems.to_string()));
        }

        // ---- then write, in the same transaction ----
        let mut report = ImportReport { items: Vec::new(), dry_run, passwords_cleared: Vec::new() };
        for (existing, user) in &planned_users {
            let outcome = match existing {
                None => {
                    queries::users::insert(&mut *tx, user).await?;
                    ImportOutcome::Created
                }
                Some(old) if old.display_name == user.display_name && old.is_admin == user.is_admin => {
                    ImportOutcome::Unchanged
                }
                Some(_) => {
                    queries::users::update(&mut *tx, user).await?;
                    ImportOutcome::Updated
                }
            };
            report.push("user", &user.username, outcome);
        }
        let mut moved_with_password: Vec<DataSource> = Vec::new();
        for (existing, source) in &planned_sources {
            let outcome = match existing {
                None => {
                    queries::data_sources::insert(&mut *tx, source).await?;
                    ImportOutcome::Created
                }
                Some(old) if same_settings(old, source) => ImportOutcome::Unchanged,
                Some(old) => {
                    queries::data_sources::update(&mut *tx, source).await?;
                    // A password was given for one server and role; a file that moves the source
                    // elsewhere takes the password away with it (deleted before the commit below).
                    let before = crate::lexica::server_identity(old);
                    if old.credential_updated_at.is_some()
                        && before.is_some()
                        && before != crate::lexica::server_identity(source)
                    {
                        queries::data_sources::stamp_credential(&mut *tx, source.id).await?;
                        moved_with_password.push(source.clone());
                        report.passwords_cleared.push(source.name.clone());
                    }
                    ImportOutcome::Updated
                }
            };
            report.push("source", &source.name, outcome);
        }
        for entry in &file.grants {
            let e = entry.get_ref();
            let user = crate::lexica::find_user(&mut *tx, &e.user).await?;
            let source = crate::lexica::find_source(&mut *tx, &e.source).await?;
            let existing = queries::permissions::get(&mut *tx, user.id, source.id).await?;
            let outcome = match existing {
                Some(g) if g.permission_level == e.level => ImportOutcome::Unchanged,
                Some(_) => ImportOutcome::Updated,
                None => ImportOutcome::Created,
            };
            if outcome != ImportOutcome::Unchanged {
                queries::permissions::upsert(&mut *tx, user.id, source.id, e.level, Some(actor.id)).await?;
            }
            report.push("grant", format!("{} → {}", e.user, e.source), outcome);
        }
        // Removed sources that were ever given a password: theirs leave the keychain too.
        let mut pruned_with_password: Vec<DataSource> = Vec::new();
        if prune {
            for grant in queries::permissions::list(&mut *tx).await? {
                if !grant_keys.contains(&(grant.username.clone(), grant.source_name.clone())) {
                    let user = crate::lexica::find_user(&mut *tx, &grant.username).await?;
                    let source = crate::lexica::find_source(&mut *tx, &grant.source_name).await?;
                    queries::permissions::delete(&mut *tx, user.id, source.id).await?;
                    report.push("grant", format!("{} → {}", grant.username, grant.source_name), ImportOutcome::Removed);
                }
            }
            for source in queries::data_sources::list(&mut *tx).await? {
                if !source_lines.contains_key(&source.name) {
                    // Cascades to its grants; its executions stay in the history, under its name.
                    queries::data_sources::delete(&mut *tx, source.id).await?;
                    report.push("source", &source.name, ImportOutcome::Removed);
                    if source.credential_updated_at.is_some() {
                        pruned_with_password.push(source);
                    }
                }
            }
            for user in queries::users::list(&mut *tx).await? {
                if !user_lines.contains_key(&user.username) {
                    // Cascades: their grants and their search history.
                    queries::users::delete(&mut *tx, user.id).await?;
                    report.push("user", &user.username, ImportOutcome::Removed);
                }
            }
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            // Before the commit, as `remove_source` does: a keychain that cannot be reached fails
            // the import with nothing written, rather than leaving secrets of deleted sources
            // behind (an unreachable keychain fails at its first call, so nothing is deleted then).
            for source in &pruned_with_password {
                self.keychain().delete_password(source.id).await.map_err(|e| {
                    Error::Refused(format!(
                        "--prune removes source `{}`, whose password could not be deleted from the keychain ({e}); \
                         nothing was changed: fix the keychain and import again",
                        source.name
                    ))
                })?;
            }
            for source in &moved_with_password {
                self.keychain().delete_password(source.id).await.map_err(|e| {
                    Error::Refused(format!(
                        "the file points source `{}` at another server, and its stored password (given for the \
                         previous one) could not be removed from the keychain ({e}); nothing was changed: unlock \
                         the keychain and import again",
                        source.name
                    ))
                })?;
                tracing::warn!(
                    actor = %actor.username, source = %source.name,
                    "provisioning moved the source to another host, port or user: its stored password was removed \
                     from the keychain; set the new one with `lexica sources set-password`"
                );
            }
            // The pools follow by themselves: a pool is keyed by the source's update stamps.
            tx.commit().await?;
        }
        tracing::info!(
            actor = %actor.username,
            created = report.count(ImportOutcome::Created),
            updated = report.count(ImportOutcome::Updated),
            unchanged = report.count(ImportOutcome::Unchanged),
            removed = report.count(ImportOutcome::Removed),
            dry_run,
            "provisioning import"
        );
        Ok(report)
    }

    /// Writes the install's users, sources and grants as a provisioning file. It holds no
    /// secret: the app database has none, and URLs are passed through redaction regardless.
    pub async fn provision_export(&self, actor: &User) -> Result<String> {
        require_admin_now(self.db(), actor, "exporting a provisioning file").await?;
        let mut out = FileOut::default();
        for u in queries::users::list(self.db()).await? {
            out.users.push(UserEntry { username: u.username, display_name: u.display_name, admin: Some(u.is_admin) });
        }
        for s in queries::data_sources::list(self.db()).await? {
            out.sources.push(SourceEntry {
                name: s.name,
                display_name: Some(s.display_name),
                database_url: s.database_url.as_deref().map(redact_url),
                source_type: Some(s.source_type),
                jurisdiction: s.jurisdiction,
                active: Some(s.is_active),
                search_enabled: Some(s.search_enabled),
                pool_size: Some(s.pool_size),
                acquire_timeout_ms: Some(s.acquire_timeout_ms),
                query_timeout_ms: Some(s.query_timeout_ms),
                // Written only when on, so files of installs that never use it stay as they were.
                each_user_signs_in: s.each_user_signs_in.then_some(true),
            });
        }
        for g in queries::permissions::list(self.db()).await? {
            out.grants.push(GrantEntry { user: g.username, source: g.source_name, level: g.permission_level });
        }
        let body = toml::to_string(&out).map_err(|e| Error::Provisioning(format!("could not write the file: {e}")))?;
        Ok(format!(
            "# Lexica provisioning file, exported {}.\n# Import with `lexica provision import FILE`. Passwords are never \
             included: set them on each install with `lexica sources set-password NAME`.\n\n{body}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        ))
    }
}

fn parse(text: &str) -> Result<FileIn> {
    toml::from_str::<FileIn>(text).map_err(|e| {
        let at = e.span().map_or(1, |s| line_of(text, s.start));
        let mut message = e.message().trim().to_string();
        if message.contains("unknown field `password`") {
            message = "a provisioning file never holds passwords; remove the field and set the password on the \
                       install with `lexica sources set-password NAME`"
                .into();
        }
        Error::Provisioning(Problems(vec![(at, message)]).to_string())
    })
}

fn push_all(problems: &mut Problems, line: usize, what: &str, errors: ValidationErrors) {
    for e in errors.0 {
        problems.0.push((line, format!("{what}: {} {}", e.field, e.message)));
    }
}

/// Every setting provisioning controls, compared (timestamps aside).
fn same_settings(a: &DataSource, b: &DataSource) -> bool {
    (
        &a.display_name,
        &a.database_url,
        &a.source_type,
        &a.jurisdiction,
        a.is_active,
        a.search_enabled,
        a.pool_size,
        a.acquire_timeout_ms,
        a.query_timeout_ms,
        a.each_user_signs_in,
    ) == (
        &b.display_name,
        &b.database_url,
        &b.source_type,
        &b.jurisdiction,
        b.is_active,
        b.search_enabled,
        b.pool_size,
        b.acquire_timeout_ms,
        b.query_timeout_ms,
        b.each_user_signs_in,
    )
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1)
}
