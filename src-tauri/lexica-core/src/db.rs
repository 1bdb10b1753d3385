//! The app database: opening it, migrating it, and first-start setup.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::models::{DataSource, PermissionLevel, User};
use crate::{Result, queries};

/// How long a writer waits for another (the CLI while the app is open, say) before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections to the app database. SQLite serializes writers anyway; a few readers suffice.
pub const MAX_CONNECTIONS: u32 = 4;

/// The migrations in `migrations/app/`, embedded in the binary and applied at every start
/// (already-applied ones are skipped, so applying them twice is a no-op).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/app");

/// The source every install starts with, inactive until an admin gives it a URL and a password.
pub const SEED_SOURCE_NAME: &str = "ny_appeals";
/// The built-in demo source: real opinions shipped inside the binary, searchable offline.
pub const DEMO_SOURCE_NAME: &str = lexica_ingest::demo::DEMO_SOURCE_NAME;
/// Where the demo bundle lives, relative to the install's home folder.
pub const DEMO_BUNDLE_PATH: &str = "sources/sample-opinions.sqlite";

/// Opens (creating if needed) the database file, applies migrations and first-start setup.
pub async fn open(path: &std::path::Path) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        // WAL lets the app read while the CLI writes; NORMAL is durable under WAL except on power loss
        // mid-checkpoint, which loses at most the last transaction of search history.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options).await?;
    MIGRATOR.run(&pool).await?;
    first_start(&pool).await?;
    let closed = queries::search_executions::close_interrupted(&pool).await?;
    if closed > 0 {
        tracing::warn!(closed, "closed search executions left unfinished by an earlier crash");
    }
    Ok(pool)
}

/// Creates, once per database: the local user (the OS login, as administrator: an install starts
/// with its installer), the NY Court of Appeals source (inactive until configured), and the
/// built-in demo source ("Sample opinions (offline)") granted to the local user, so a new install
/// can search at once. The demo's bundle file is built on first use (see `sources`), which keeps
/// opening an install fast.
async fn first_start(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done: Option<String> = sqlx::query_scalar("SELECT value FROM app_settings WHERE key = 'first_start_done'")
        .fetch_optional(&mut *tx)
        .await?;
    if done.is_some() {
        return Ok(());
    }
    let username = local_username();
    let local = match queries::users::get_by_username(&mut *tx, &username).await? {
        Some(user) => user,
        None => {
            let display = whoami::realname().ok().filter(|r| !r.trim().is_empty() && *r != username);
            let user = User::new(&username, display.as_deref(), true);
            queries::users::insert(&mut *tx, &user).await?;
            user
        }
    };
    if queries::data_sources::get_by_name(&mut *tx, DEMO_SOURCE_NAME).await?.is_none() {
        let mut demo = DataSource::new(DEMO_SOURCE_NAME, lexica_ingest::demo::DEMO_SOURCE_DISPLAY_NAME);
        demo.database_url = Some(format!("sqlite:{DEMO_BUNDLE_PATH}"));
        demo.source_type = "demo".into();
        queries::data_sources::insert(&mut *tx, &demo).await?;
        queries::permissions::upsert(&mut *tx, local.id, demo.id, PermissionLevel::Read, Some(local.id)).await?;
    }
    if queries::data_sources::get_by_name(&mut *tx, SEED_SOURCE_NAME).await?.is_none() {
        let mut source = DataSource::new(SEED_SOURCE_NAME, "NY State Court of Appeals");
        source.source_type = "state_appeals".into();
        source.jurisdiction = Some("New York".into());
        source.is_active = false;
        queries::data_sources::insert(&mut *tx, &source).await?;
    }
    sqlx::query("INSERT INTO app_settings (key, value) VALUES ('first_start_done', ?)")
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(user = %username, "first start: created the local administrator, the ny_appeals source and the demo source");
    Ok(())
}

/// The OS login name of whoever runs Lexica (`$USER`-like), or `lexica` if the OS will not say.
pub fn local_username() -> String {
    whoami::username().ok().filter(|u| !u.trim().is_empty()).unwrap_or_else(|| "lexica".to_string())
}
