//! Where a source's opinions live: a PostgreSQL URL or an SQLite bundle path.
//!
//! Parsed by the `url` crate, never by hand. A URL that carries a password is refused: the
//! password belongs in the OS keychain, keyed by the source's id. Nothing here ever echoes the
//! raw input back, because a malformed URL may still contain a secret.

use std::fmt;

use url::Url;

/// Query parameters that carry secrets in libpq-style URLs.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// The `sslmode` values libpq (and sqlx) accept.
pub const SSL_MODES: &[&str] = &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/// A validated source location.
#[derive(Clone, PartialEq, Eq)]
pub enum SourceUrl {
    /// `postgres://user@host:port/database?sslmode=…` (no password).
    Postgres(Url),
    /// `sqlite:/path/to/bundle.sqlite`: an offline bundle, opened read-only.
    Sqlite(String),
}

impl SourceUrl {
    /// Parses and checks a source URL. The error is a sentence for the `database_url` field.
    pub fn parse(input: &str) -> Result<SourceUrl, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("is empty; give a postgres:// URL or a sqlite: path".into());
        }
        let url = Url::parse(input).map_err(|e| {
            format!(
                "is not a valid URL ({e}); expected postgres://USER@HOST:PORT/DATABASE or sqlite:/path/to/file.sqlite"
            )
        })?;
        match url.scheme() {
            "postgres" | "postgresql" => {
                if url.password().is_some() || url.query_pairs().any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref())) {
                    return Err("contains a password; remove it from the URL and store it in the OS keychain with `lexica sources set-password NAME`".into());
                }
                if url.host_str().is_none_or(str::is_empty) {
                    return Err("has no host; expected postgres://USER@HOST:PORT/DATABASE".into());
                }
                if url.path().trim_start_matches('/').is_empty() {
                    return Err("names no database; expected postgres://USER@HOST:PORT/DATABASE".into());
                }
                for (key, value) in url.query_pairs() {
                    if key == "sslmode" && !SSL_MODES.contains(&value.as_ref()) {
                        return Err(format!("has sslmode={value}; use one of {}", SSL_MODES.join(", ")));
                    }
                }
                Ok(SourceUrl::Postgres(url))
            }
            "sqlite" => {
                // `sqlite:/abs/path`, `sqlite:///abs/path` and `sqlite:relative/path` all name a file.
                let path = input.trim_start_matches("sqlite:");
                let path = path.strip_prefix("//").unwrap_or(path);
                if path.is_empty() || path.contains('?') {
                    return Err("must name a bundle file, like sqlite:/path/to/opinions.sqlite (no options)".into());
                }
                Ok(SourceUrl::Sqlite(path.to_string()))
            }
            other => Err(format!(
                "has scheme `{other}:`; Lexica sources are postgres:// (or postgresql://) URLs or sqlite: paths"
            )),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, SourceUrl::Sqlite(_))
    }
}

/// The canonical text stored in the app database (never contains a password).
impl fmt::Display for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceUrl::Postgres(url) => f.write_str(url.as_str()),
            SourceUrl::Sqlite(path) => write!(f, "sqlite:{path}"),
        }
    }
}

impl fmt::Debug for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceUrl({self})")
    }
}

/// Makes any connection string safe to show or log: a password in the authority or in a
/// secret query parameter is replaced by `***`. Input that does not parse is hidden whole,
/// since it cannot be known where a secret might sit in it.
pub fn redact_url(input: &str) -> String {
    let Ok(mut url) = Url::parse(input.trim()) else {
        return "<unparseable URL hidden>".to_string();
    };
    if url.password().is_some() {
        // set_password only fails for URLs that cannot have one, which cannot carry a password.
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref())) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if SECRET_PARAMS.contains(&k.as_ref()) { "***".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_postgres_and_sqlite() {
        assert!(matches!(SourceUrl::parse("postgres://lexica@db.firm.local:5432/ny"), Ok(SourceUrl::Postgres(_))));
        assert!(matches!(SourceUrl::parse("postgresql://db/ny?sslmode=verify-full"), Ok(SourceUrl::Postgres(_))));
        assert_eq!(SourceUrl::parse("sqlite:/data/b.sqlite"), Ok(SourceUrl::Sqlite("/data/b.sqlite".into())));
        assert_eq!(SourceUrl::parse("sqlite:///data/b.sqlite"), Ok(SourceUrl::Sqlite("/data/b.sqlite".into())));
    }

    #[test]
    fn refuses_passwords_without_echoing_them() {
        for bad in
            ["postgres://u:hunter2@h/db", "postgres://u@h/db?password=hunter2", "postgres://u@h/db?sslpassword=hunter2"]
        {
            let err = SourceUrl::parse(bad).unwrap_err();
            assert!(err.contains("password"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn refuses_other_shapes() {
        assert!(SourceUrl::parse("").unwrap_err().contains("empty"));
        assert!(SourceUrl::parse("not a url").unwrap_err().contains("not a valid URL"));
        assert!(SourceUrl::parse("mysql://h/db").unwrap_err().contains("scheme `mysql:`"));
        assert!(SourceUrl::parse("postgres:///db").unwrap_err().contains("no host"));
        assert!(SourceUrl::parse("postgres://h").unwrap_err().contains("no database"));
        assert!(SourceUrl::parse("postgres://h/db?sslmode=bogus").unwrap_err().contains("sslmode"));
        assert!(SourceUrl::parse("sqlite:").unwrap_err().contains("bundle file"));
    }

    #[test]
    fn redaction_hides_secrets() {
        assert_eq!(redact_url("postgres://u:hunter2@h/db"), "postgres://u:***@h/db");
        assert!(!redact_url("postgres://u@h/db?password=hunter2&sslmode=require").contains("hunter2"));
        assert_eq!(redact_url("::hunter2::"), "<unparseable URL hidden>");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
