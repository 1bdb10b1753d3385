//! A collection of court opinions Lexica can search: a PostgreSQL database or an SQLite bundle.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{SourceId, SourceUrl, ValidationErrors};

/// Connections per source pool unless the admin says otherwise (the seed's default).
pub const DEFAULT_POOL_SIZE: u32 = 5;
/// How long a search waits for a pooled connection before the source fails (the seed's default).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);
/// The source's own statement timeout, enforced by the server too (the seed's default).
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest pool an admin may configure: a desktop should not hold more sessions than this per source.
pub const MAX_POOL_SIZE: u32 = 100;
/// Longest accepted query or acquire timeout (10 minutes).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

pub const MAX_SOURCE_NAME_LEN: usize = 100;
pub const MAX_DISPLAY_NAME_LEN: usize = 200;
/// Column lengths from the seed schema (VARCHAR(50) and VARCHAR(100)).
pub const MAX_SOURCE_TYPE_LEN: usize = 50;
pub const MAX_JURISDICTION_LEN: usize = 100;

/// What a non-administrator sees of a PostgreSQL source's URL (see [`DataSource::without_location`]).
pub const HIDDEN_POSTGRES_URL: &str = "postgres://";
/// What a non-administrator sees of an SQLite bundle's URL.
pub const HIDDEN_SQLITE_URL: &str = "sqlite:";
/// What a non-administrator sees of a URL of no known kind.
pub const HIDDEN_URL: &str = "(hidden)";

/// Prefix and suffix of the per-source URL override, e.g. `LEXICA_SOURCE_NY_APPEALS_URL`.
pub const URL_ENV_PREFIX: &str = "LEXICA_SOURCE_";
pub const URL_ENV_SUFFIX: &str = "_URL";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, TS)]
#[ts(export)]
pub struct DataSource {
    pub id: SourceId,
    /// Stable machine name, `^[a-z][a-z0-9_]{1,99}$`, unique.
    pub name: String,
    pub display_name: String,
    /// `postgres://USER@HOST/DB` or `sqlite:PATH`, never with a password; `None` until configured.
    pub database_url: Option<String>,
    pub source_type: String,
    pub jurisdiction: Option<String>,
    pub is_active: bool,
    pub search_enabled: bool,
    pub pool_size: u32,
    pub acquire_timeout_ms: u32,
    pub query_timeout_ms: u32,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
    /// When the password was last set or cleared in the OS keychain (never the password itself);
    /// `None` if it never had one.
    #[ts(type = "string | null")]
    pub credential_updated_at: Option<DateTime<Utc>>,
    /// Each user signs in with their own database account (user name and password, asked in the
    /// search window and kept in that user's keychain); no shared password is used. PostgreSQL only.
    pub each_user_signs_in: bool,
}

/// The editable fields of a source. `None` leaves a field as it is (or at its default when adding);
/// for the two optional fields, `Some(None)` clears them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, TS)]
#[ts(export)]
pub struct SourceChanges {
    pub display_name: Option<String>,
    #[ts(optional = nullable)]
    pub database_url: Option<Option<String>>,
    pub source_type: Option<String>,
    #[ts(optional = nullable)]
    pub jurisdiction: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub search_enabled: Option<bool>,
    pub pool_size: Option<u32>,
    pub acquire_timeout_ms: Option<u32>,
    pub query_timeout_ms: Option<u32>,
    #[serde(default)]
    #[ts(optional)]
    pub each_user_signs_in: Option<bool>,
}

impl DataSource {
    /// A new source with the seed's defaults, not yet validated or stored.
    pub fn new(name: &str, display_name: &str) -> Self {
        let now = Utc::now();
        DataSource {
            id: SourceId::new(),
            name: name.trim().to_string(),
            display_name: display_name.trim().to_string(),
            database_url: None,
            source_type: "general".to_string(),
            jurisdiction: None,
            is_active: true,
            search_enabled: true,
            pool_size: DEFAULT_POOL_SIZE,
            acquire_timeout_ms: millis(DEFAULT_ACQUIRE_TIMEOUT),
            query_timeout_ms: millis(DEFAULT_QUERY_TIMEOUT),
            created_at: now,
            updated_at: now,
            credential_updated_at: None,
            each_user_signs_in: false,
        }
    }

    /// Applies changes; the result still has to pass [`DataSource::validate`].
    pub fn apply(&mut self, changes: SourceChanges) {
        let SourceChanges {
            display_name,
            database_url,
            source_type,
            jurisdiction,
            is_active,
            search_enabled,
            pool_size,
            acquire_timeout_ms,
            query_timeout_ms,
            each_user_signs_in,
        } = changes;
        if let Some(v) = display_name {
            self.display_name = v.trim().to_string();
        }
        if let Some(v) = database_url {
            self.database_url = v.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        }
        if let Some(v) = source_type {
            self.source_type = v.trim().to_string();
        }
        if let Some(v) = jurisdiction {
            self.jurisdiction = v.map(|j| j.trim().to_string()).filter(|j| !j.is_empty());
        }
        if let Some(v) = is_active {
            self.is_active = v;
        }
        if let Some(v) = search_enabled {
            self.search_enabled = v;
        }
        if let Some(v) = pool_size {
            self.pool_size = v;
        }
        if let Some(v) = acquire_timeout_ms {
            self.acquire_timeout_ms = v;
        }
        if let Some(v) = query_timeout_ms {
            self.query_timeout_ms = v;
        }
        if let Some(v) = each_user_signs_in {
            self.each_user_signs_in = v;
        }
    }

    /// Checks every field and reports all problems at once, each under its field name.
    /// Name uniqueness is checked by the store, which owns that fact.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        validate_source_name(&self.name, &mut errors);
        if self.display_name.is_empty() {
            errors.push("display_name", "is required");
        } else if self.display_name.chars().count() > MAX_DISPLAY_NAME_LEN {
            errors.push("display_name", format!("must be at most {MAX_DISPLAY_NAME_LEN} characters"));
        }
        if let Some(url) = &self.database_url {
            match SourceUrl::parse(url) {
                Err(message) => errors.push("database_url", message),
                Ok(SourceUrl::Sqlite(_)) if self.each_user_signs_in => errors.push(
                    "each_user_signs_in",
                    "only a PostgreSQL source has database accounts to sign in with; turn it off for a bundle",
                ),
                Ok(_) => {}
            }
        } else if self.is_active {
            errors.push("database_url", "is required for an active source; set it, or keep the source disabled");
        }
        if self.source_type.is_empty() {
            errors.push("source_type", "is required (for example general, state_appeals, federal_district)");
        } else if self.source_type.chars().count() > MAX_SOURCE_TYPE_LEN {
            errors.push("source_type", format!("must be at most {MAX_SOURCE_TYPE_LEN} characters"));
        }
        if self.jurisdiction.as_ref().is_some_and(|j| j.chars().count() > MAX_JURISDICTION_LEN) {
            errors.push("jurisdiction", format!("must be at most {MAX_JURISDICTION_LEN} characters"));
        }
        if !(1..=MAX_POOL_SIZE).contains(&self.pool_size) {
            errors.push("pool_size", format!("must be between 1 and {MAX_POOL_SIZE}"));
        }
        for (field, value) in
            [("acquire_timeout_ms", self.acquire_timeout_ms), ("query_timeout_ms", self.query_timeout_ms)]
        {
            if value == 0 || value > millis(MAX_TIMEOUT) {
                errors.push(field, format!("must be between 1 and {} milliseconds", millis(MAX_TIMEOUT)));
            }
        }
        errors.into_result()
    }

    /// The source as a user who is not an administrator sees it: its URL cut to the scheme
    /// ([`HIDDEN_POSTGRES_URL`] or [`HIDDEN_SQLITE_URL`]), so the view names no host, port, role,
    /// database or bundle path, yet still says it is configured and of which kind (a `None` would
    /// read "not configured" in the CLI and the UI). A URL of neither kind (none is stored: they
    /// are validated) becomes [`HIDDEN_URL`].
    pub fn without_location(mut self) -> DataSource {
        self.database_url = self.database_url.map(|url| {
            let scheme = url.trim().split(':').next().unwrap_or_default().to_ascii_lowercase();
            match scheme.as_str() {
                "postgres" | "postgresql" => HIDDEN_POSTGRES_URL.to_string(),
                "sqlite" => HIDDEN_SQLITE_URL.to_string(),
                _ => HIDDEN_URL.to_string(),
            }
        });
        self
    }

    /// The name of the environment variable that overrides this source's URL.
    pub fn url_env_var(&self) -> String {
        format!("{URL_ENV_PREFIX}{}{URL_ENV_SUFFIX}", self.name.to_ascii_uppercase())
    }

    /// The URL a connection should use: the environment override when set (so IT staff can point an
    /// install elsewhere without touching the database), else the stored one. The override is held
    /// to the same rules as a stored URL, so it cannot smuggle a password either.
    pub fn effective_url(&self) -> Result<Option<SourceUrl>, ValidationErrors> {
        self.effective_url_from(|key| std::env::var(key).ok())
    }

    /// [`DataSource::effective_url`] with the environment passed in (tests use a map).
    pub fn effective_url_from(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<SourceUrl>, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Some(value) = env(&self.url_env_var()) {
            return match SourceUrl::parse(&value) {
                Ok(url) => Ok(Some(url)),
                Err(message) => {
                    errors.push(&self.url_env_var(), message);
                    Err(errors)
                }
            };
        }
        match self.database_url.as_deref().map(SourceUrl::parse) {
            None => Ok(None),
            Some(Ok(url)) => Ok(Some(url)),
            Some(Err(message)) => {
                errors.push("database_url", message);
                Err(errors)
            }
        }
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.acquire_timeout_ms))
    }

    pub fn query_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.query_timeout_ms))
    }
}

/// `^[a-z][a-z0-9_]{1,99}$`, written out so the message can say which part failed.
pub(crate) fn validate_source_name(name: &str, errors: &mut ValidationErrors) {
    let rule =
        "must be 2 to 100 characters: a lower-case letter, then lower-case letters, digits or _ (like ny_appeals)";
    let mut chars = name.chars();
    let valid = name.len() >= 2
        && name.len() <= MAX_SOURCE_NAME_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        errors.push("name", rule);
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(source: &DataSource) -> Vec<String> {
        source.validate().err().map(|e| e.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
    }

    fn valid() -> DataSource {
        let mut s = DataSource::new("ny_appeals", "NY State Court of Appeals");
        s.database_url = Some("postgres://lexica@db/ny".into());
        s
    }

    #[test]
    fn defaults_are_the_seeds() {
        let s = valid();
        assert_eq!((s.pool_size, s.acquire_timeout_ms, s.query_timeout_ms), (5, 15_000, 30_000));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn name_rule() {
        for good in ["ny", "ny_appeals", "a1", &format!("a{}", "b".repeat(99))] {
            let mut s = valid();
            s.name = good.to_string();
            assert!(s.validate().is_ok(), "{good}");
        }
        for bad in ["", "n", "1ny", "_ny", "NY", "ny-appeals", "ny appeals", "nyé", &format!("a{}", "b".repeat(100))] {
            let mut s = valid();
            s.name = bad.to_string();
            assert_eq!(fields(&s), ["name"], "{bad}");
        }
    }

    #[test]
    fn every_field_is_named() {
        let mut s = valid();
        s.display_name = String::new();
        s.database_url = Some("postgres://u:secret@h/db".into());
        s.source_type = "x".repeat(51);
        s.jurisdiction = Some("x".repeat(101));
        s.pool_size = 0;
        s.acquire_timeout_ms = 0;
        s.query_timeout_ms = 700_000;
        assert_eq!(
            fields(&s),
            [
                "display_name",
                "database_url",
                "source_type",
                "jurisdiction",
                "pool_size",
                "acquire_timeout_ms",
                "query_timeout_ms"
            ]
        );
        let message = s.validate().unwrap_err().to_string();
        assert!(!message.contains("secret"), "{message}");
        s.display_name = "x".repeat(201);
        assert!(fields(&s).contains(&"display_name".to_string()));
    }

    #[test]
    fn active_source_needs_a_url() {
        let mut s = valid();
        s.database_url = None;
        assert_eq!(fields(&s), ["database_url"]);
        s.is_active = false;
        assert!(s.validate().is_ok());
    }

    #[test]
    fn environment_override() {
        let mut s = valid();
        s.name = "env_override_test".into();
        assert_eq!(s.url_env_var(), "LEXICA_SOURCE_ENV_OVERRIDE_TEST_URL");
        let env = |value: &'static str| {
            move |key: &str| (key == "LEXICA_SOURCE_ENV_OVERRIDE_TEST_URL").then(|| value.to_string())
        };
        let url = s.effective_url_from(env("postgres://other@elsewhere/ny")).unwrap().unwrap();
        assert_eq!(url.to_string(), "postgres://other@elsewhere/ny");
        let err = s.effective_url_from(env("postgres://other:pw@elsewhere/ny")).unwrap_err();
        assert_eq!(err.0[0].field, "LEXICA_SOURCE_ENV_OVERRIDE_TEST_URL");
        assert!(!err.to_string().contains("pw@"));
        let url = s.effective_url_from(|_| None).unwrap().unwrap();
        assert_eq!(url.to_string(), "postgres://lexica@db/ny");
    }
}
