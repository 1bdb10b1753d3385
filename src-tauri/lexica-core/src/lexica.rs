//! [`Lexica`]: the core's front door. Every action names the user performing it, and every
//! admin action is refused here for non-admins, so the CLI, the app and any future face obey
//! the same rules.
//!
//! # Who is acting
//! The acting user is the OS login ([`Lexica::acting_user`] with `None`): the OS has already
//! authenticated it, and nothing a caller types can change it. Acting as someone else
//! (`lexica --as USER`) is an administrator's tool and is honoured only when the OS login is
//! itself an administrator of the install; each use is logged. Admin checks never trust the
//! `is_admin` of the [`User`] value they are handed: they re-read the user from the app
//! database, so a value built by a face, or read before another process demoted the user, grants
//! nothing.

use std::path::PathBuf;

use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};
use ts_rs::TS;

use crate::credentials::{Keychain, Secret};
use crate::home::Home;
use crate::models::{DataSource, GrantView, MatchCount, PermissionLevel, Search, SearchExecution, SourceChanges, User};
use crate::queries::liveness::LivenessLock;
use crate::sources::doctor::{self, DoctorReport};
use crate::sources::{SourcePool, SourceRegistry};
use crate::{Error, Result, db, queries};

/// Most searches `history` returns unless asked otherwise.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// What [`Lexica::acting_user`] names when a non-administrator asks to act as someone else.
pub const ACTING_AS_ACTION: &str = "acting as another user (`--as`)";

/// An open install: its home folder and app database. Cheap to clone; share it freely.
#[derive(Debug, Clone)]
pub struct Lexica {
    home: Home,
    db: SqlitePool,
    keychain: Keychain,
    pub(crate) sources: std::sync::Arc<SourceRegistry>,
    /// Tells other processes this handle's searches are live (see [`queries::liveness`]); taken
    /// by [`Lexica::close`], after which nothing this handle started can finish.
    liveness: std::sync::Arc<std::sync::Mutex<Option<LivenessLock>>>,
}

/// One past search with what each source did.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SearchRecord {
    pub search: Search,
    pub username: String,
    pub executions: Vec<ExecutionRecord>,
    /// The executions' match counts added up (see [`MatchCount::total`]); `None` when none has
    /// one (searches from before Lexica counted matches, or no source completed).
    pub total_matches: Option<MatchCount>,
}

/// One source's execution, named.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ExecutionRecord {
    /// The source's name as it was when the search ran (also when it has since been removed).
    pub source_name: String,
    /// Whether the source has been removed since (its executions stay in the history).
    pub source_removed: bool,
    #[serde(flatten)]
    #[ts(flatten)]
    pub execution: SearchExecution,
}

impl Lexica {
    /// Opens the install at `home` (see [`Home::resolve`]), migrating and setting up on first start.
    pub async fn open(home: Option<PathBuf>) -> Result<Lexica> {
        Lexica::open_with_keychain(home, Keychain::platform()).await
    }

    /// [`Lexica::open`] with a given keychain (tests pass keyring-core's mock store).
    pub async fn open_with_keychain(home: Option<PathBuf>, keychain: Keychain) -> Result<Lexica> {
        let home = Home::resolve(home)?;
        let db = db::open(&home.database_path()).await?;
        // Taken after `db::open`'s crash recovery, which must not count this new handle as the
        // owner of anything an earlier, closed handle of this process left unfinished.
        let liveness = match LivenessLock::acquire(&home.database_path()) {
            Ok(lock) => lock,
            Err(e) => {
                db.close().await;
                return Err(e);
            }
        };
        let sources = std::sync::Arc::new(SourceRegistry::new(home.root().to_path_buf(), keychain.clone()));
        let liveness = std::sync::Arc::new(std::sync::Mutex::new(Some(liveness)));
        Ok(Lexica { home, db, keychain, sources, liveness })
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The app database, for the core's own modules (tests reach it through `testing::db`).
    /// Private to the core: a face that held it could read and write tables without the checks
    /// of the methods here.
    pub(crate) fn db(&self) -> &SqlitePool {
        &self.db
    }

    /// Closes every source pool and the database (checkpointing the WAL), then gives up this
    /// handle's liveness lock: whatever it left unfinished is now for crash recovery to close.
    pub async fn close(&self) {
        self.sources.close_all().await;
        self.db.close().await;
        // A poisoned mutex only means a panic elsewhere while holding it; the lock is still ours.
        let lock = match self.liveness.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(lock);
    }

    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    /// The user an action is performed as: the OS login when `as_user` is `None` (or names the
    /// OS login itself). Another `as_user` is honoured only when the OS login is an administrator
    /// of this install, and is logged; otherwise it is refused (see the module docs).
    pub async fn acting_user(&self, as_user: Option<&str>) -> Result<User> {
        let login = db::local_username();
        let me = queries::users::get_by_username(&self.db, &login).await?;
        let Some(requested) = as_user.filter(|name| *name != login) else {
            return me.ok_or(Error::UnknownUser(login));
        };
        // Self-asserted identity was the hole: `--as root` made anyone an administrator. Only
        // an administrator (as the OS vouches for them) may act in someone else's name.
        match me {
            Some(me) if me.is_admin => {}
            Some(me) => return Err(Error::NotAdmin { user: me.username, action: ACTING_AS_ACTION }),
            None => return Err(Error::UnknownUser(login)),
        }
        let user = queries::users::get_by_username(&self.db, requested)
            .await?
            .ok_or_else(|| Error::UnknownUser(requested.to_string()))?;
        // `info` reaches the CLI's log file (the audit trail) without cluttering the terminal.
        tracing::info!(os_login = %login, acting_as = %user.username, "acting as another user (--as)");
        Ok(user)
    }

    // ---- users --------------------------------------------------------------------------

    pub async fn list_users(&self, actor: &User) -> Result<Vec<User>> {
        require_admin_now(&self.db, actor, "listing users").await?;
        queries::users::list(&self.db).await
    }

    pub async fn add_user(
        &self,
        actor: &User,
        username: &str,
        display_name: Option<&str>,
        is_admin: bool,
    ) -> Result<User> {
        require_admin_now(&self.db, actor, "adding a user").await?;
        let user = User::new(username, display_name, is_admin);
        user.validate()?;
        queries::users::insert(&self.db, &user).await?;
        tracing::info!(actor = %actor.username, user = %user.username, is_admin, "user added");
        Ok(user)
    }

    /// Removes a user with their grants and search history. The last administrator cannot be
    /// removed (nobody could manage the install any more), nor can an admin remove themself.
    pub async fn remove_user(&self, actor: &User, username: &str) -> Result<()> {
        // Their own sign-ins leave the keychain first, outside the write transaction (a keychain
        // may take seconds to answer, and a write must not hold the app database meanwhile). A
        // keychain that cannot delete them stops the removal: nothing of theirs is orphaned.
        let user = removable_user(&mut *self.db.acquire().await?, actor, username).await?;
        self.forget_user_sign_ins(user.id).await?;
        let mut tx = self.db.begin().await?;
        // Checked again inside the transaction that writes, so a demotion cannot slip in between.
        let user = removable_user(&mut tx, actor, username).await?;
        queries::users::delete(&mut *tx, user.id).await?;
        tx.commit().await?;
        tracing::info!(actor = %actor.username, user = %username, "user removed");
        Ok(())
    }

    pub async fn set_admin(&self, actor: &User, username: &str, is_admin: bool) -> Result<User> {
        let mut tx = self.db.begin().await?;
        require_admin_now(&mut *tx, actor, "changing who is an administrator").await?;
        let mut user = find_user(&mut *tx, username).await?;
        if user.is_admin && !is_admin && queries::users::count_admins(&mut *tx).await? <= 1 {
            return Err(Error::Refused(format!(
                "`{username}` is the last administrator; make someone else admin first"
            )));
        }
        user.is_admin = is_admin;
        queries::users::update(&mut *tx, &user).await?;
        tx.commit().await?;
        tracing::info!(actor = %actor.username, user = %username, is_admin, "admin flag set");
        Ok(user)
    }

    // ---- sources ------------------------------------------------------------------------

    /// Administrators see every source; other users see the sources they hold a grant on,
    /// without where they live (see [`DataSource::without_location`]): host, port, role and
    /// database are an administrator's business, and a lawyer needs only the source's name.
    pub async fn list_sources(&self, actor: &User) -> Result<Vec<DataSource>> {
        if is_admin_now(&self.db, actor).await? {
            queries::data_sources::list(&self.db).await
        } else {
            let granted = queries::data_sources::list_granted_to(&self.db, actor.id).await?;
            Ok(granted.into_iter().map(DataSource::without_location).collect())
        }
    }

    /// The sources `actor` may search now: granted ∧ active ∧ search-enabled. Administrators
    /// search only what they are granted too, so a search shows what the firm chose to share.
    pub async fn accessible_sources(&self, actor: &User) -> Result<Vec<DataSource>> {
        queries::data_sources::list_searchable_by(&self.db, actor.id).await
    }

    /// One source: in full for administrators; for others, only when shared with them and
    /// without its location, as in [`Lexica::list_sources`].
    pub async fn get_source(&self, actor: &User, name: &str) -> Result<DataSource> {
        let source = find_source(&self.db, name).await?;
        if is_admin_now(&self.db, actor).await? {
            return Ok(source);
        }
        if queries::permissions::get(&self.db, actor.id, source.id).await?.is_none() {
            // Same answer as for a missing source: a user learns nothing of sources not shared with them.
            return Err(not_found_source(name));
        }
        Ok(source.without_location())
    }

    pub async fn add_source(&self, actor: &User, name: &str, changes: SourceChanges) -> Result<DataSource> {
        require_admin_now(&self.db, actor, "adding a source").await?;
        let mut source = DataSource::new(name, "");
        source.apply(changes);
        source.validate()?;
        queries::data_sources::insert(&self.db, &source).await?;
        tracing::info!(actor = %actor.username, source = %source.name, "source added");
        Ok(source)
    }

    pub async fn edit_source(&self, actor: &User, name: &str, changes: SourceChanges) -> Result<DataSource> {
        Ok(self.edit_source_reporting(actor, name, changes).await?.source)
    }

    /// [`Lexica::edit_source`], also saying whether the stored password was removed.
    ///
    /// A password is given for one server and role: when the edit points the source at another
    /// host, port or user (or away from PostgreSQL), the stored password is deleted from the
    /// keychain before the edit is written, so it is never sent to a server it was not meant for
    /// (a mistyped or hostile host would otherwise receive it). If the keychain cannot delete
    /// it, nothing is changed. The removal is logged at `warn` (the terminal sees it too).
    pub async fn edit_source_reporting(&self, actor: &User, name: &str, changes: SourceChanges) -> Result<SourceEdit> {
        let mut tx = self.db.begin().await?;
        require_admin_now(&mut *tx, actor, "editing a source").await?;
        let mut source = find_source(&mut *tx, name).await?;
        let before = server_identity(&source);
        source.apply(changes);
        source.validate()?;
        let after = server_identity(&source);
        let password_cleared = if before.is_some() && before != after && needs_keychain_now(&source) {
            self.keychain.delete_password(source.id).await.map_err(|e| {
                Error::Refused(format!(
                    "the source's stored password was given for another server and could not be removed from the \
                     keychain ({e}); nothing was changed: unlock the keychain and edit again"
                ))
            })?
        } else {
            false
        };
        queries::data_sources::update(&mut *tx, &source).await?;
        if password_cleared {
            queries::data_sources::stamp_credential(&mut *tx, source.id).await?;
        }
        tx.commit().await?;
        if before.is_some() && before != after {
            // Lawyers' own passwords were given for the previous server too.
            self.forget_all_sign_ins(source.id).await?;
        }
        if !source.is_active || password_cleared || before != after {
            self.sources.evict(source.id).await;
        }
        if password_cleared {
            tracing::warn!(
                actor = %actor.username, source = %source.name,
                "the source's host, port or user changed: its stored password, given for the previous server, was \
                 removed from the keychain; set the new one with `lexica sources set-password`"
            );
        }
        tracing::info!(actor = %actor.username, source = %source.name, "source edited");
        Ok(SourceEdit { source: find_source(&self.db, name).await?, password_cleared })
    }

    pub async fn set_source_active(&self, actor: &User, name: &str, active: bool) -> Result<DataSource> {
        let changes = SourceChanges { is_active: Some(active), ..SourceChanges::default() };
        self.edit_source(actor, name, changes).await
    }

    /// Removes a source with its grants and its password. Its executions in past searches stay
    /// in the history, under the source's name (the firm's record of what was searched where).
    /// The password goes first: if the keychain cannot be reached the source stays, rather than
    /// leaving an orphaned secret behind.
    pub async fn remove_source(&self, actor: &User, name: &str) -> Result<DataSource> {
        require_admin_now(&self.db, actor, "removing a source").await?;
        let source = find_source(&self.db, name).await?;
        if source.credential_updated_at.is_some() {
            self.keychain.delete_password(source.id).await?;
        }
        self.forget_all_sign_ins(source.id).await?;
        queries::data_sources::delete(&self.db, source.id).await?;
        self.sources.evict(source.id).await;
        tracing::info!(actor = %actor.username, source = %name, "source removed");
        Ok(source)
    }

    /// Stores a source's password in the OS keychain. The next search uses it (new pool).
    pub async fn set_source_password(&self, actor: &User, name: &str, password: &Secret) -> Result<DataSource> {
        require_admin_now(&self.db, actor, "setting a source password").await?;
        if password.is_empty() {
            return Err(Error::Refused(
                "the password is empty; to remove one use `lexica sources clear-password`".into(),
            ));
        }
        let source = find_source(&self.db, name).await?;
        self.keychain.set_password(source.id, password).await?;
        queries::data_sources::stamp_credential(&self.db, source.id).await?;
        self.sources.evict(source.id).await;
        tracing::info!(actor = %actor.username, source = %name, store = self.keychain.store_name(), "source password set");
        find_source(&self.db, name).await
    }

    /// Removes a source's password from the OS keychain. Returns whether one was stored.
    pub async fn clear_source_password(&self, actor: &User, name: &str) -> Result<bool> {
        require_admin_now(&self.db, actor, "clearing a source password").await?;
        let source = find_source(&self.db, name).await?;
        let existed = self.keychain.delete_password(source.id).await?;
        queries::data_sources::stamp_credential(&self.db, source.id).await?;
        self.sources.evict(source.id).await;
        tracing::info!(actor = %actor.username, source = %name, existed, "source password cleared");
        Ok(existed)
    }

    /// Prepares what the first search would otherwise wait for: the built-in demo source's bundle.
    /// The app calls it in the background at start; failures only log (the search reports them).
    pub async fn warm_up(&self) {
        let Ok(Some(demo)) = queries::data_sources::get_by_name(&self.db, db::DEMO_SOURCE_NAME).await else { return };
        if let Ok(url) = crate::sources::configured_url(&demo)
            && let Err(e) = self.sources.materialize_demo(&demo, &url).await
        {
            tracing::warn!(error = %e, "could not prepare the demo source");
        }
    }

    /// Runs the source doctor on `name` as it is configured now (see [`doctor`]), and keeps its
    /// verdict as the source's last test (the settings window's Sources table shows it).
    pub async fn test_source(&self, actor: &User, name: &str) -> Result<DoctorReport> {
        require_admin_now(&self.db, actor, "testing a source").await?;
        let source = find_source(&self.db, name).await?;
        if let Ok(url) = crate::sources::configured_url(&source) {
            self.sources.materialize_demo(&source, &url).await?;
        }
        let report = doctor::examine(&source, &self.keychain, self.home.root()).await;
        crate::settings::record_test(&self.db, source.id, &report, actor).await?;
        Ok(report)
    }

    /// How many opinions a source holds, asked through its pool (re-read from the app database
    /// first, like [`Lexica::source_pool`]). A source that cannot answer gives its own error.
    pub async fn source_opinion_count(&self, source: &DataSource) -> Result<i64> {
        let current =
            queries::data_sources::get(&self.db, source.id).await?.ok_or_else(|| not_found_source(&source.name))?;
        self.sources.opinion_count(&current).await
    }

    /// The connection pool for a source, as the source is configured right now (re-read from the
    /// app database, so edits made by another process take effect without a restart).
    pub async fn source_pool(&self, source: &DataSource) -> Result<SourcePool> {
        let current =
            queries::data_sources::get(&self.db, source.id).await?.ok_or_else(|| not_found_source(&source.name))?;
        self.sources.pool(&current).await
    }

    /// [`Lexica::source_pool`] with `user`'s credentials for it ([`crate::sign_in`]): their own
    /// sign-in when they have one, or [`Error::SignInNeeded`] when they must give one first.
    pub(crate) async fn source_pool_as(&self, user: crate::models::UserId, source: &DataSource) -> Result<SourcePool> {
        let current =
            queries::data_sources::get(&self.db, source.id).await?.ok_or_else(|| not_found_source(&source.name))?;
        let login = self.login_for(user, &current).await?;
        self.sources.pool_as(&current, &login).await
    }

    // ---- grants -------------------------------------------------------------------------

    /// Administrators see every grant (or one user's); others see only their own.
    pub async fn list_grants(&self, actor: &User, username: Option<&str>) -> Result<Vec<GrantView>> {
        match username {
            None if is_admin_now(&self.db, actor).await? => queries::permissions::list(&self.db).await,
            None => queries::permissions::list_for_user(&self.db, actor.id).await,
            Some(name) if name == actor.username => queries::permissions::list_for_user(&self.db, actor.id).await,
            Some(name) => {
                require_admin_now(&self.db, actor, "listing another user's grants").await?;
                let user = find_user(&self.db, name).await?;
                queries::permissions::list_for_user(&self.db, user.id).await
            }
        }
    }

    /// Grants (or changes) `level` on `source` to `username`. Returns whether anything changed.
    pub async fn grant(&self, actor: &User, username: &str, source: &str, level: PermissionLevel) -> Result<bool> {
        require_admin_now(&self.db, actor, "granting access").await?;
        let mut tx = self.db.begin().await?;
        let user = find_user(&mut *tx, username).await?;
        let source = find_source(&mut *tx, source).await?;
        let changed = queries::permissions::upsert(&mut *tx, user.id, source.id, level, Some(actor.id)).await?;
        tx.commit().await?;
        tracing::info!(actor = %actor.username, user = %username, source = %source.name, level = level.as_str(), changed, "grant");
        Ok(changed)
    }

    /// Revokes `username`'s access to `source`. Returns whether a grant existed.
    pub async fn revoke(&self, actor: &User, username: &str, source: &str) -> Result<bool> {
        require_admin_now(&self.db, actor, "revoking access").await?;
        let mut tx = self.db.begin().await?;
        let user = find_user(&mut *tx, username).await?;
        let source = find_source(&mut *tx, source).await?;
        let existed = queries::permissions::delete(&mut *tx, user.id, source.id).await?;
        tx.commit().await?;
        tracing::info!(actor = %actor.username, user = %username, source = %source.name, existed, "revoke");
        Ok(existed)
    }

    // ---- history ------------------------------------------------------------------------

    /// Past searches, newest first, with each source's execution. Users see their own;
    /// administrators may ask for everyone's (`all_users`).
    pub async fn history(&self, actor: &User, limit: u32, all_users: bool) -> Result<Vec<SearchRecord>> {
        let searches = if all_users {
            require_admin_now(&self.db, actor, "reading everyone's search history").await?;
            queries::searches::list(&self.db, limit).await?
        } else {
            queries::searches::list_for_user(&self.db, actor.id, limit).await?
        };
        let mut records = Vec::with_capacity(searches.len());
        for search in searches {
            let username = queries::users::get(&self.db, search.user_id).await?.map(|u| u.username).unwrap_or_default();
            let mut executions = Vec::new();
            for execution in queries::search_executions::list_for_search(&self.db, search.id).await? {
                // The name stored with the execution, not the live source's: the source may be gone.
                let source_name = execution.data_source_name.clone();
                let source_removed = execution.data_source_id.is_none();
                executions.push(ExecutionRecord { source_name, source_removed, execution });
            }
            let total_matches = MatchCount::total(executions.iter().map(|e| e.execution.matches));
            records.push(SearchRecord { search, username, executions, total_matches });
        }
        Ok(records)
    }
}

/// What [`Lexica::edit_source_reporting`] did.
#[derive(Debug, Clone, Serialize)]
pub struct SourceEdit {
    /// The source as stored after the edit (flattened: the JSON is the source's, plus the flag).
    #[serde(flatten)]
    pub source: DataSource,
    /// Whether the stored password was removed because the host, port or user changed.
    pub password_cleared: bool,
}

/// Who a source's stored password was given to: the host, port and user of its stored
/// PostgreSQL URL; `None` for a bundle, no URL, or a URL that does not parse.
pub(crate) fn server_identity(source: &DataSource) -> Option<(String, u16, String)> {
    let url = source.database_url.as_deref()?;
    crate::models::SourceUrl::parse(url).ok()?.server_identity()
}

/// Whether the source may have a password in the keychain (one was set or cleared since it was
/// created; see [`crate::sources`]): a source never given one does not touch the keychain.
fn needs_keychain_now(source: &DataSource) -> bool {
    source.credential_updated_at.is_some()
}

/// Refuses `action` unless `actor` is an administrator *now*, as the app database says: the
/// `is_admin` of the value handed in is not trusted (a face could build one, or it could predate
/// another process's `users set-admin --revoke`).
pub(crate) async fn require_admin_now(
    db: impl sqlx::SqliteExecutor<'_>,
    actor: &User,
    action: &'static str,
) -> Result<()> {
    match queries::users::get(db, actor.id).await? {
        // The name is compared too: a value pairing an admin's id with another name is forged.
        Some(current) if current.is_admin && current.username == actor.username => Ok(()),
        Some(current) => Err(Error::NotAdmin { user: current.username, action }),
        None => Err(Error::UnknownUser(actor.username.clone())),
    }
}

/// Whether `actor` is an administrator now, re-read like [`require_admin_now`]; for the reads
/// whose scope (not permission) depends on it. A user gone from the database is refused.
pub(crate) async fn is_admin_now(db: impl sqlx::SqliteExecutor<'_>, actor: &User) -> Result<bool> {
    match queries::users::get(db, actor.id).await? {
        Some(current) => Ok(current.is_admin && current.username == actor.username),
        None => Err(Error::UnknownUser(actor.username.clone())),
    }
}

/// `username`, when `actor` (an administrator now) may remove them: not themself, and not the
/// last administrator (nobody could manage the install any more).
async fn removable_user(db: &mut SqliteConnection, actor: &User, username: &str) -> Result<User> {
    require_admin_now(&mut *db, actor, "removing a user").await?;
    let user = find_user(&mut *db, username).await?;
    if user.id == actor.id {
        return Err(Error::Refused("you cannot remove yourself; ask another administrator".into()));
    }
    if user.is_admin && queries::users::count_admins(&mut *db).await? <= 1 {
        return Err(Error::Refused(format!("`{username}` is the last administrator; make someone else admin first")));
    }
    Ok(user)
}

pub(crate) async fn find_user(db: impl sqlx::SqliteExecutor<'_>, username: &str) -> Result<User> {
    queries::users::get_by_username(db, username).await?.ok_or_else(|| Error::NotFound {
        what: "user",
        name: username.to_string(),
        hint: "; `lexica users list` shows who exists",
    })
}

pub(crate) async fn find_source(db: impl sqlx::SqliteExecutor<'_>, name: &str) -> Result<DataSource> {
    queries::data_sources::get_by_name(db, name).await?.ok_or_else(|| not_found_source(name))
}

fn not_found_source(name: &str) -> Error {
    Error::NotFound {
        what: "source",
        name: name.to_string(),
        hint: "; `lexica sources list` shows the sources you can see",
    }
}
