//! Connections to opinion sources: one pool per source, created on first use, rebuilt when the
//! source's settings or password change, closed when it is disabled or removed.
//!
//! # Layout
//! - [`connect`]: connection options (read-only, statement timeout, application name, TLS) and
//!   actionable wording of connection failures.
//! - [`doctor`]: the source doctor: what works and what a source lacks, check by check.
//! - this module: [`SourceRegistry`] and [`SourcePool`].

pub mod connect;
pub mod doctor;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{PgPool, SqlitePool};
use tokio::sync::Mutex;

use crate::credentials::{Keychain, Secret};
use crate::models::{DataSource, SourceId, SourceUrl, UserId};
use crate::sign_in::{Login, SessionSignIns, SignInRequest};
use crate::{Error, Result};

pub use connect::{APPLICATION_NAME, CONNECT_TIMEOUT, SourceTarget};

/// A source's connection pool. Cloning is cheap and shares the pool; a clone held by a running
/// search keeps working after the registry has replaced or closed the pool for newer searches.
#[derive(Debug, Clone)]
pub enum SourcePool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl SourcePool {
    /// Closes the pool: waits for checked-out connections to come back, then closes them all.
    pub async fn close(&self) {
        match self {
            SourcePool::Postgres(p) => p.close().await,
            SourcePool::Sqlite(p) => p.close().await,
        }
    }

    pub fn is_closed(&self) -> bool {
        match self {
            SourcePool::Postgres(p) => p.is_closed(),
            SourcePool::Sqlite(p) => p.is_closed(),
        }
    }
}

/// What a pool was built from. When any of it changes, the next search gets a new pool.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PoolStamp {
    url: String,
    pool_size: u32,
    acquire_timeout_ms: u32,
    query_timeout_ms: u32,
    updated_at: DateTime<Utc>,
    credential_updated_at: Option<DateTime<Utc>>,
    login: Login,
}

impl PoolStamp {
    fn of(source: &DataSource, url: &SourceUrl, login: &Login) -> PoolStamp {
        PoolStamp {
            url: url.to_string(),
            pool_size: source.pool_size,
            acquire_timeout_ms: source.acquire_timeout_ms,
            query_timeout_ms: source.query_timeout_ms,
            updated_at: source.updated_at,
            credential_updated_at: source.credential_updated_at,
            login: login.clone(),
        }
    }
}

/// Which pool: a source's shared one (`None`) or one user's own sign-in's.
type PoolKey = (SourceId, Option<UserId>);

/// The live pools, one per source (and per user signed in to it with their own account) that has
/// been searched since start or since it last changed.
#[derive(Debug)]
pub struct SourceRegistry {
    home: PathBuf,
    keychain: Keychain,
    pools: Mutex<HashMap<PoolKey, Cached>>,
    demo_lock: Mutex<()>,
    session: SessionSignIns,
}

#[derive(Debug)]
struct Cached {
    stamp: PoolStamp,
    pool: SourcePool,
    /// Whether a password from the keychain went into the pool's options (for error wording).
    password_sent: bool,
    probe: Probe,
}

/// The one connection check of a new PostgreSQL pool, shared by everyone who asks for it meanwhile.
type Probe = Arc<tokio::sync::OnceCell<std::result::Result<(), Refusal>>>;

/// Why a connection check failed: the sentence, and the sign-in to ask for when the server wants
/// a password the user can give.
#[derive(Debug, Clone)]
struct Refusal {
    message: String,
    sign_in: Option<SignInRequest>,
}

impl SourceRegistry {
    pub fn new(home: PathBuf, keychain: Keychain) -> SourceRegistry {
        SourceRegistry {
            home,
            keychain,
            pools: Mutex::new(HashMap::new()),
            demo_lock: Mutex::new(()),
            session: SessionSignIns::default(),
        }
    }

    /// This session's sign-ins that are not remembered (see [`crate::sign_in`]).
    pub(crate) fn session(&self) -> &SessionSignIns {
        &self.session
    }

    /// The pool for `source` as it is now, with its shared credentials (pass a freshly read row: a
    /// changed row means a new pool). Pools connect lazily, so this returns fast; an unreachable
    /// server is reported by the first query, as that source's error only.
    pub async fn pool(&self, source: &DataSource) -> Result<SourcePool> {
        Ok(self.cached(source, &Login::Shared, false).await?.0)
    }

    /// [`SourceRegistry::pool`] for one user's [`Login`], for their search: a password the server
    /// wants and the user can give comes back as [`Error::SignInNeeded`] (the admin's paths, the
    /// doctor and the CLI, keep the sentence that says how to store the source's password).
    pub(crate) async fn pool_as(&self, source: &DataSource, login: &Login) -> Result<SourcePool> {
        Ok(self.cached(source, login, true).await?.0)
    }

    async fn cached(&self, source: &DataSource, login: &Login, ask_sign_in: bool) -> Result<(SourcePool, bool)> {
        let key = (source.id, login.user());
        let (pool, password_sent, probe) = self.cached_unprobed(source, login).await?;
        if let SourcePool::Postgres(pg) = &pool {
            // Every caller of a new pool waits for the same single probe.
            let outcome = probe.get_or_init(|| self.probe(source, pg, login, password_sent)).await;
            if let Err(refusal) = outcome {
                // Forget the pool: the next call re-reads the password and settings, so a
                // password fixed outside Lexica (or a server brought back) just works.
                let mut pools = self.pools.lock().await;
                if pools.get(&key).is_some_and(|c| Arc::ptr_eq(&c.probe, &probe)) {
                    pools.remove(&key);
                }
                return Err(match refusal.sign_in.filter(|_| ask_sign_in) {
                    Some(request) => Error::SignInNeeded { name: source.name.clone(), request },
                    None => Error::Source { name: source.name.clone(), message: refusal.message.clone() },
                });
            }
        }
        Ok((pool, password_sent))
    }

    /// Tries a user's own sign-in with one connection, outside any pool; nothing is kept. A
    /// refused password is a field error (the dialog shows it under the password).
    pub(crate) async fn try_sign_in(
        &self,
        source: &DataSource,
        url: &SourceUrl,
        user_name: Option<&str>,
        password: &Secret,
    ) -> Result<()> {
        use sqlx::{ConnectOptions, Connection};
        let SourceTarget::Postgres(mut options) = connect::target(source, url, Some(password), &self.home)? else {
            return Ok(());
        };
        if let Some(user) = user_name {
            options = options.username(user);
        }
        let limit = connect::connect_limit(source);
        let message = match tokio::time::timeout(limit, options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Ok(Err(e)) if password_refused(&e) => {
                let mut errors = crate::models::ValidationErrors::default();
                errors.push("password", "the server refused this user name and password; check them and try again");
                return Err(Error::Invalid(errors));
            }
            Ok(Err(e)) => connect::describe_connect_error(&e, url, &source.name, true),
            Err(_) => connect::no_answer(limit),
        };
        Err(Error::Source { name: source.name.clone(), message })
    }

    /// Opens one connection outside a new pool before it is used. sqlx's pool retries a refused
    /// connection until the acquire timeout (it assumes a server still starting) and then reports
    /// only "timed out"; a lawyer should hear at once that a source is down, and why.
    async fn probe(
        &self,
        source: &DataSource,
        pool: &PgPool,
        login: &Login,
        password_sent: bool,
    ) -> std::result::Result<(), Refusal> {
        use sqlx::{ConnectOptions, Connection};
        let url = match configured_url(source) {
            Ok(url) => url,
            Err(Error::Source { message, .. }) => return Err(Refusal { message, sign_in: None }),
            Err(other) => return Err(Refusal { message: other.to_string(), sign_in: None }),
        };
        let limit = connect::connect_limit(source);
        let attempt = tokio::time::timeout(limit, pool.connect_options().connect()).await;
        let error = match attempt {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Ok(Err(e)) if password_refused(&e) => {
                // The user can answer this one: their own sign-in was refused, or the server wants
                // a password and the source has none to send.
                let sign_in = match login {
                    Login::Personal(_) => Some(SignInRequest { user_name: source.each_user_signs_in, refused: true }),
                    Login::Shared if !password_sent => Some(SignInRequest { user_name: false, refused: false }),
                    Login::Shared => None,
                };
                return Err(Refusal {
                    message: connect::describe_connect_error(&e, &url, &source.name, password_sent),
                    sign_in,
                });
            }
            Ok(Err(e)) => connect::describe_connect_error(&e, &url, &source.name, password_sent),
            Err(_) => connect::no_answer(limit),
        };
        Err(Refusal { message: error, sign_in: None })
    }

    /// Builds the demo source's bundle the first time it is needed (from the opinions embedded in
    /// the binary), so a new install searches at once without slowing every start.
    pub(crate) async fn materialize_demo(&self, source: &DataSource, url: &SourceUrl) -> Result<()> {
        let SourceUrl::Sqlite(path) = url else { return Ok(()) };
        if source.name != crate::db::DEMO_SOURCE_NAME || path != crate::db::DEMO_BUNDLE_PATH {
            return Ok(());
        }
        let file = self.home.join(path);
        if file.is_file() && demo_is_current(&file).await {
            return Ok(());
        }
        // One builder at a time: two searches starting together must not both write the file.
        let _guard = self.demo_lock.lock().await;
        if file.is_file() && demo_is_current(&file).await {
            return Ok(());
        }
        let report = lexica_ingest::demo::build_demo_bundle(&file).await.map_err(|e| Error::Source {
            name: source.name.clone(),
            message: format!(
                "the built-in sample could not be prepared ({e}); check that {} is writable",
                file.display()
            ),
        })?;
        tracing::info!(opinions = report.inserted, "built the demo source's bundle");
        Ok(())
    }

    async fn cached_unprobed(&self, source: &DataSource, login: &Login) -> Result<(SourcePool, bool, Probe)> {
        if !source.is_active {
            return Err(Error::Source {
                name: source.name.clone(),
                message: format!("it is disabled; an admin can enable it with `lexica sources enable {}`", source.name),
            });
        }
        let url = configured_url(source)?;
        self.materialize_demo(source, &url).await?;
        let key = (source.id, login.user());
        let stamp = PoolStamp::of(source, &url, login);
        if let Some(c) = self.pools.lock().await.get(&key)
            && c.stamp == stamp
            && !c.pool.is_closed()
        {
            return Ok((c.pool.clone(), c.password_sent, c.probe.clone()));
        }
        // Built without holding the lock: reading the password may wait on the keychain, and other
        // sources must not wait behind it.
        let (pool, password_sent) = self.build(source, &url, login).await?;
        let mut pools = self.pools.lock().await;
        if let Some(c) = pools.get(&key)
            && c.stamp == stamp
            && !c.pool.is_closed()
        {
            // Someone built the same pool meanwhile: use theirs, drop ours (it never connected).
            return Ok((c.pool.clone(), c.password_sent, c.probe.clone()));
        }
        let probe = Probe::default();
        if let Some(old) = pools.insert(key, Cached { stamp, pool: pool.clone(), password_sent, probe: probe.clone() })
        {
            tracing::info!(source = %source.name, "source settings changed: new pool; the old one closes when its searches finish");
            tokio::spawn(async move { old.pool.close().await });
        }
        Ok((pool, password_sent, probe))
    }

    /// Counts the source's opinions through its pool: the cheapest query that proves the source
    /// answers (connection, authentication, schema). Failures come back as that source's error.
    pub async fn opinion_count(&self, source: &DataSource) -> Result<i64> {
        let (pool, password_sent) = self.cached(source, &Login::Shared, false).await?;
        let url = configured_url(source)?;
        let counted = match &pool {
            SourcePool::Postgres(p) => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opinions").fetch_one(p).await,
            SourcePool::Sqlite(p) => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opinions").fetch_one(p).await,
        };
        counted.map_err(|e| Error::Source {
            name: source.name.clone(),
            message: connect::describe_query_error(&e, &url, &source.name, password_sent),
        })
    }

    /// Closes and forgets a source's pool (it was disabled or removed). Searches already running
    /// on it finish first.
    pub async fn evict(&self, source: SourceId) {
        let mut pools = self.pools.lock().await;
        let keys: Vec<PoolKey> = pools.keys().filter(|(s, _)| *s == source).copied().collect();
        for key in keys {
            if let Some(c) = pools.remove(&key) {
                tokio::spawn(async move { c.pool.close().await });
            }
        }
    }

    /// Closes and forgets one user's own pool for a source (they signed in again or out).
    pub(crate) async fn evict_login(&self, source: SourceId, user: UserId) {
        if let Some(c) = self.pools.lock().await.remove(&(source, Some(user))) {
            tokio::spawn(async move { c.pool.close().await });
        }
    }

    /// Closes every pool (at shutdown), waiting for running searches to return their connections.
    pub async fn close_all(&self) {
        let pools: Vec<SourcePool> = self.pools.lock().await.drain().map(|(_, c)| c.pool).collect();
        for pool in pools {
            pool.close().await;
        }
    }

    /// How many pools are open (diagnostics and tests).
    pub async fn open_pools(&self) -> usize {
        self.pools.lock().await.len()
    }

    async fn build(&self, source: &DataSource, url: &SourceUrl, login: &Login) -> Result<(SourcePool, bool)> {
        let unreadable = |e: Error| Error::Source {
            name: source.name.clone(),
            message: format!("its password could not be read: {e}"),
        };
        let password = match (url, login) {
            (SourceUrl::Postgres(_), Login::Personal(p)) if p.remembered => {
                // A sign-in whose keychain entry went missing is asked for again.
                match self.keychain.personal_password(source.id, p.user).await.map_err(unreadable)? {
                    Some(password) => Some(password),
                    None => {
                        return Err(Error::SignInNeeded {
                            name: source.name.clone(),
                            request: SignInRequest { user_name: source.each_user_signs_in, refused: false },
                        });
                    }
                }
            }
            (SourceUrl::Postgres(_), Login::Personal(p)) => self.session.get(p.user, source.id).map(|s| s.password),
            (_, Login::Personal(_)) => None,
            (url, Login::Shared) => match url {
                // Only a source that was ever given a password asks the keychain: one without lets the
                // server and the driver decide (trust, peer, `.pgpass`, `PGPASSWORD`), and must work on
                // a machine with no keychain at all rather than fail because none is reachable.
                SourceUrl::Postgres(_) if needs_keychain(source) && !redirected(source, url) => {
                    self.keychain.password(source.id).await.map_err(unreadable)?
                }
                SourceUrl::Postgres(_) | SourceUrl::Sqlite(_) => None,
            },
        };
        let acquire = source.acquire_timeout();
        let pool = match connect::target(source, url, password.as_ref(), &self.home)? {
            SourceTarget::Postgres(mut options) => SourcePool::Postgres({
                if let Login::Personal(crate::sign_in::Personal { user_name: Some(user), .. }) = login {
                    options = options.username(user);
                }
                PgPoolOptions::new()
                    .max_connections(source.pool_size)
                    .min_connections(0)
                    .acquire_timeout(acquire)
                    // A desktop is idle most of the day: give connections back to the server.
                    .idle_timeout(Some(std::time::Duration::from_secs(300)))
                    .connect_lazy_with(options)
            }),
            SourceTarget::Sqlite(options, _) => SourcePool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(source.pool_size)
                    .acquire_timeout(acquire)
                    .connect_lazy_with(options),
            ),
        };
        Ok((pool, password.is_some()))
    }
}

/// Whether the server refused the password (or wanted one and got none): SQLSTATE 28P01.
fn password_refused(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("28P01"))
}

/// Whether `url` (the URL in use) points at another server than the source's stored URL: the
/// `LEXICA_SOURCE_<NAME>_URL` override moved it to another host, port or user. The stored
/// password was given for the stored server, so it is not sent there (the rule `edit_source`
/// keeps by deleting it): the connection goes without it (trust, peer, `.pgpass`, `PGPASSWORD`).
/// A source with no stored URL has only the override, which its password was given for.
pub(crate) fn redirected(source: &DataSource, url: &SourceUrl) -> bool {
    let stored = source.database_url.as_deref().and_then(|u| SourceUrl::parse(u).ok());
    let redirected = stored.is_some_and(|stored| stored.server_identity() != url.server_identity());
    if redirected {
        tracing::warn!(
            source = %source.name,
            "{} points the source at another server than its stored URL: its stored password is not sent there",
            source.url_env_var()
        );
    }
    redirected
}

/// Whether connecting to `source` must read its password from the keychain: only when one was
/// ever set (`credential_updated_at` is stamped by `set-password` and `clear-password`). A source
/// never given one is not looked up, so no keychain is needed to reach it.
pub(crate) fn needs_keychain(source: &DataSource) -> bool {
    source.credential_updated_at.is_some()
}

/// The source's effective URL (environment override first), or an error saying how to set one.
pub(crate) fn configured_url(source: &DataSource) -> Result<SourceUrl> {
    match source.effective_url() {
        Ok(Some(url)) => Ok(url),
        Ok(None) => Err(Error::Source {
            name: source.name.clone(),
            message: format!(
                "it has no database URL yet; set one with `lexica sources edit {} --url postgres://USER@HOST/DB`",
                source.name
            ),
        }),
        Err(errors) => Err(Error::Source { name: source.name.clone(), message: errors.to_string() }),
    }
}

/// Whether a demo bundle on disk was built by a Lexica that keeps ranking statistics (one built
/// by an earlier version is rebuilt from the embedded opinions: it is Lexica's own file).
async fn demo_is_current(file: &std::path::Path) -> bool {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
    let Ok(mut conn) = sqlx::SqliteConnection::connect_with(&options).await else { return false };
    let current: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lexica_corpus_stats WHERE id = 1)")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(false);
    let _ = conn.close().await;
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_to_another_server_does_not_get_the_stored_password() {
        let url = |u: &str| SourceUrl::parse(u).unwrap();
        let mut source = DataSource::new("ny", "NY");
        // No stored URL: the override is the only one, and the password was given for it.
        assert!(!redirected(&source, &url("postgres://reader@db2.firm/ny")));
        source.database_url = Some("postgres://reader@db1.firm/ny".into());
        assert!(!redirected(&source, &url("postgres://reader@DB1.firm:5432/other?sslmode=require")));
        for elsewhere in
            ["postgres://reader@db2.firm/ny", "postgres://reader@db1.firm:6432/ny", "postgres://someone@db1.firm/ny"]
        {
            assert!(redirected(&source, &url(elsewhere)), "{elsewhere}");
        }
    }
}
