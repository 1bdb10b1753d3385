//! Where an ingest writes: a PostgreSQL source or an SQLite bundle file, and how a target is
//! shown to people (PostgreSQL URLs always without their password).

use std::fmt;
use std::path::PathBuf;

use crate::error::IngestError;

/// Where an ingest writes.
///
/// `Debug` and `Display` never show a password: a PostgreSQL URL is printed redacted.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A PostgreSQL database, as a `postgres://` or `postgresql://` URL. The ingest connects
    /// read-write: it is the loader, not the app's read-only source pool.
    Postgres(String),
    /// An SQLite bundle file (created if absent).
    Sqlite(PathBuf),
}

impl Target {
    /// Reads a `--into` argument: a `postgres://` / `postgresql://` URL, or else a file path
    /// (an `sqlite:` prefix is accepted and dropped). Any other `scheme://` is refused, so a
    /// mistyped URL never becomes a file of that name.
    pub fn parse(text: &str) -> Result<Self, IngestError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(IngestError::InvalidTarget { target: String::new() });
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            check_parameters(trimmed)?;
            return Ok(Self::Postgres(trimmed.to_string()));
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite://").or_else(|| trimmed.strip_prefix("sqlite:")) {
            if rest.is_empty() {
                return Err(IngestError::InvalidTarget { target: redact_url(trimmed) });
            }
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if trimmed.contains("://") {
            return Err(IngestError::InvalidTarget { target: redact_url(trimmed) });
        }
        Ok(Self::Sqlite(PathBuf::from(trimmed)))
    }

    /// How the target is shown in progress, reports, errors and logs (password removed).
    pub fn display_name(&self) -> String {
        match self {
            Self::Postgres(url) => redact_url(url),
            Self::Sqlite(path) => path.display().to_string(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(_) => f.debug_tuple("Postgres").field(&self.display_name()).finish(),
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
        }
    }
}

/// Shown instead of a password.
const REDACTED: &str = "***";

/// Query parameters a loader URL may carry (libpq's names, lower-case as libpq requires), the
/// TLS settings and the password. Why an allow-list: the driver logs the value of any parameter
/// it does not know (an `?sslpassword=…` landed in `lexica-cli.log`), and parameters such as
/// `host=`, `dbname=` or `options=` would silently override what the URL shows.
pub const LOADER_PARAMETERS: [&str; 5] = ["sslmode", "sslrootcert", "sslcert", "sslkey", "password"];

/// The parameters whose values are shown (the others are secrets or refused).
const SHOWN_PARAMETERS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// Refuses a URL with a query parameter outside [`LOADER_PARAMETERS`], a repeated one, or a
/// fragment, without repeating any value (it may be a secret).
fn check_parameters(url: &str) -> Result<(), IngestError> {
    // Shown without its query and fragment: a refused value is never repeated.
    let bare = url.split(['?', '#']).next().unwrap_or_default();
    let refused = |what| IngestError::TargetParameter {
        target: format!("{}?…", redact_url(bare)),
        what,
        accepted: "sslmode, sslrootcert, sslcert, sslkey, password",
    };
    let Ok(parsed) = url::Url::parse(url) else {
        return Err(IngestError::InvalidTarget { target: redact_url(url) });
    };
    if parsed.fragment().is_some() {
        return Err(refused("a `#` fragment"));
    }
    let mut seen = Vec::new();
    for (name, _) in parsed.query_pairs() {
        if !LOADER_PARAMETERS.contains(&name.as_ref()) {
            return Err(refused("a parameter outside the list"));
        }
        if seen.contains(&name) {
            return Err(refused("a parameter given twice"));
        }
        seen.push(name);
    }
    Ok(())
}

/// A URL without its secrets: the password of the user-info part and any `password` /
/// `sslpassword` query parameter (libpq accepts both) become `***`. A URL that does not parse
/// is not echoed at all, since we cannot tell where its password is.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url.split("://").next().filter(|s| s.len() < url.len()).unwrap_or("url");
        return format!("{scheme}://(unparseable URL hidden)");
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have a password, which then has none to hide.
        let _ = parsed.set_password(Some(REDACTED));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let shown = SHOWN_PARAMETERS.contains(&k.as_ref());
                (k.into_owned(), if shown { v.into_owned() } else { REDACTED.to_string() })
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// The password in a PostgreSQL URL (user-info or `password=` parameter), so error text from
/// drivers can be scrubbed of it before anyone sees it.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Vec::new();
    };
    let mut secrets = Vec::new();
    if let Some(p) = parsed.password() {
        secrets.push(p.to_string());
        if let Ok(decoded) = url_decode(p) {
            secrets.push(decoded);
        }
    }
    for (k, v) in parsed.query_pairs() {
        if k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword") {
            secrets.push(v.into_owned());
        }
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

fn url_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

/// `text` with every secret replaced by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_string(), |acc, s| acc.replace(s.as_str(), REDACTED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_targets() {
        assert!(matches!(Target::parse("postgres://u:p@h/db"), Ok(Target::Postgres(_))));
        assert!(matches!(Target::parse("PostgreSQL://h/db"), Ok(Target::Postgres(_))));
        assert_eq!(Target::parse("bundle.sqlite").ok(), Some(Target::Sqlite("bundle.sqlite".into())));
        assert_eq!(Target::parse("sqlite://x.db").ok(), Some(Target::Sqlite("x.db".into())));
        assert!(Target::parse("mysql://u:secret@h/db").is_err());
        assert!(Target::parse("  ").is_err());
    }

    #[test]
    fn loader_urls_take_only_listed_parameters_and_never_echo_values() {
        assert!(Target::parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&password=pw").is_ok());
        for url in [
            "postgres://u@h/db?sslpassword=hunter2",
            "postgres://u@h/db?PASSWORD=hunter2",
            "postgres://u@h/db?host=hunter2",
            "postgres://u@h/db?dbname=hunter2",
            "postgres://u@h/db?options=-csearch_path%3Dhunter2",
            "postgres://u@h/db?sslmode=require&sslmode=hunter2",
            "postgres://u@h/db#hunter2",
        ] {
            let err = Target::parse(url).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("does not accept"), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
        assert!(!redact_url("postgres://u@h/db?Secret_Thing=hunter2").contains("hunter2"));
    }

    #[test]
    fn passwords_never_shown() {
        let t =
            Target::Postgres("postgres://loader:s3cr%40t@db.example:5432/opinions?password=two&sslmode=require".into());
        for shown in [t.to_string(), format!("{t:?}")] {
            assert!(!shown.contains("s3cr"), "{shown}");
            assert!(!shown.contains("two"), "{shown}");
            assert!(shown.contains("loader:***@db.example:5432/opinions"), "{shown}");
            assert!(shown.contains("sslmode=require"), "{shown}");
        }
        let err = Target::parse("mysql://u:hunter2@h/db").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!redact_url("postgres://u:pw@[bad").contains("pw"));
        let secrets = url_secrets("postgres://u:s3cr%40t@h/db");
        assert_eq!(scrub("failed for s3cr@t and s3cr%40t", &secrets), "failed for *** and ***");
    }
}
