//! Where a source's opinions live: a PostgreSQL URL or an SQLite bundle path.
//!
//! Parsed by the `url` crate, never by hand. A URL that carries a password is refused: the
//! password belongs in the OS keychain, keyed by the source's id. Nothing here ever echoes the
//! raw input back, nor any parameter's value, because a malformed URL may still contain a secret.
//!
//! A PostgreSQL URL may carry only the parameters in [`ALLOWED_PARAMS`] (TLS settings). Everything
//! else is refused rather than ignored or passed on: a secret under any spelling (`PASSWORD=`,
//! `sslpassword=`, `api_token=` …), and any parameter that would override what the URL itself says
//! and what Lexica validated and shows (`host=`, `dbname=`, `user=`, `options=` …). The accepted
//! ones reach the driver through its option builder ([`crate::sources::connect`]), never as text.

use std::fmt;

use url::Url;

/// The query parameters a PostgreSQL source URL may carry, all about TLS: `sslmode` (one of
/// [`SSL_MODES`]), `sslrootcert` (the CA certificate file), `sslcert` and `sslkey` (a client
/// certificate and its key, both file paths). Kept short on purpose: each one is applied by hand
/// through the driver's builder, and nothing else has a use in a read-only search connection.
pub const ALLOWED_PARAMS: &[&str] = &["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// Parameters that would override what the URL's authority and path say (libpq and sqlx honour
/// them), or the session settings Lexica imposes (`options`, `application_name`).
const OVERRIDE_PARAMS: &[&str] =
    &["host", "hostaddr", "port", "dbname", "user", "options", "application_name", "service", "passfile"];

/// Words that make a parameter name look like it carries a secret, compared case-insensitively.
/// `sslkey` contains `key` but names a file, and is allowed by name before this is consulted.
const SECRET_WORDS: &[&str] = &["pass", "secret", "token", "key", "auth", "credential"];

/// Whether a query parameter's name looks like it carries a secret (case-insensitive).
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower != "sslkey" && SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// A parameter name safe to quote back: short and plain. Anything else is described, not quoted
/// (someone may have pasted a secret where a name goes).
fn quotable(name: &str) -> Option<&str> {
    let plain = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '[' || c == ']');
    (plain && !is_secret_param(name)).then_some(name)
}

/// The `sslmode` values libpq (and sqlx) accept.
pub const SSL_MODES: &[&str] = &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/// The `sslmode` a PostgreSQL source URL without one gets when its host is not on this machine:
/// the server's certificate must chain to a trusted CA *and* name the host. Anything weaker lets
/// a spoofed server (DNS, ARP, a hostile Wi-Fi) take the connection, and the driver answers a
/// server's cleartext-password request, so the spoofer would receive the keychain password.
pub const DEFAULT_REMOTE_SSL_MODE: &str = "verify-full";

/// The `sslmode` the driver uses by itself (libpq's default) — what a loopback or Unix-socket
/// source without an `sslmode` gets: traffic that never leaves the machine needs no certificate.
pub const DEFAULT_LOCAL_SSL_MODE: &str = "prefer";

/// The weakest `sslmode` the source doctor accepts without a warning for a host that is not on
/// this machine: `verify-ca` at least checks the server's certificate against the CA.
pub const MIN_REMOTE_SSL_MODE: &str = "verify-ca";

/// Where a PostgreSQL source's `sslmode` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveSslMode {
    /// One of [`SSL_MODES`].
    pub mode: &'static str,
    /// Whether the URL said so (`false`: Lexica's default for the host, see [`SourceUrl::ssl_mode`]).
    pub explicit: bool,
    /// Whether the host is this machine (loopback address, `localhost` or a Unix socket).
    pub local: bool,
}

impl EffectiveSslMode {
    /// Whether this mode checks the server's certificate (`verify-ca` or `verify-full`).
    pub fn verifies_certificate(&self) -> bool {
        matches!(self.mode, "verify-ca" | "verify-full")
    }
}

/// Whether a URL's host is this machine: `localhost`, a loopback address (127.0.0.0/8, `::1`),
/// or a Unix-socket directory (a host that decodes to an absolute path, as libpq and the driver
/// read `postgres://%2Fvar%2Frun%2Fpostgresql/db`).
pub fn is_local_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // `postgres:` is not a scheme the URL standard knows, so `url` leaves an IPv4 address
        // as a domain (only bracketed IPv6 is parsed): it is read as an address here.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
                || percent_decode(name).is_some_and(|decoded| decoded.starts_with('/'))
        }
        None => false,
    }
}

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
                if url.password().is_some() || url.query_pairs().any(|(k, _)| is_secret_param(&k)) {
                    return Err("contains a password; remove it from the URL and store it in the OS keychain with `lexica sources set-password NAME`".into());
                }
                if url.host_str().is_none_or(str::is_empty) {
                    return Err("has no host; expected postgres://USER@HOST:PORT/DATABASE".into());
                }
                if url.path().trim_start_matches('/').is_empty() {
                    return Err("names no database; expected postgres://USER@HOST:PORT/DATABASE".into());
                }
                if url.fragment().is_some() {
                    return Err("has a `#…` part, which a database URL cannot use; remove it".into());
                }
                // The user and database are handed to the driver decoded; refuse what cannot be.
                for (part, text) in [("user name", url.username()), ("database name", url.path())] {
                    if percent_decode(text).is_none() {
                        return Err(format!("has a {part} that is not valid percent-encoded UTF-8"));
                    }
                }
                check_params(&url)?;
                Ok(SourceUrl::Postgres(url))
            }
            "sqlite" => {
                // `sqlite:/abs/path`, `sqlite:///abs/path` and `sqlite:relative/path` all name a file.
                let path = input.trim_start_matches("sqlite:");
                let path = path.strip_prefix("//").unwrap_or(path);
                if path.is_empty() || path.contains('?') {
                    return Err("must name a bundle file, like sqlite:/path/to/opinions.sqlite (no options)".into());
                }
                check_bundle_path(path)?;
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

    /// The `sslmode` a PostgreSQL source connects with (`None` for a bundle): the URL's own, or
    /// else [`DEFAULT_REMOTE_SSL_MODE`] for a host that is not this machine and
    /// [`DEFAULT_LOCAL_SSL_MODE`] for one that is (see [`is_local_host`]).
    pub fn ssl_mode(&self) -> Option<EffectiveSslMode> {
        let SourceUrl::Postgres(url) = self else { return None };
        let local = is_local_host(url);
        let given = url.query_pairs().find(|(k, _)| k == "sslmode").map(|(_, v)| v.into_owned());
        // `parse` admits only the values of SSL_MODES; an unknown one counts as not given.
        let known = given.and_then(|v| SSL_MODES.iter().copied().find(|m| *m == v));
        Some(match known {
            Some(mode) => EffectiveSslMode { mode, explicit: true, local },
            None if local => EffectiveSslMode { mode: DEFAULT_LOCAL_SSL_MODE, explicit: false, local },
            None => EffectiveSslMode { mode: DEFAULT_REMOTE_SSL_MODE, explicit: false, local },
        })
    }

    /// Host, port and user of a PostgreSQL URL (`None` for a bundle): who the stored password was
    /// given to. The port is the URL's, or 5432.
    pub fn server_identity(&self) -> Option<(String, u16, String)> {
        let SourceUrl::Postgres(url) = self else { return None };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let user = percent_decode(url.username()).unwrap_or_else(|| url.username().to_string());
        Some((host, url.port().unwrap_or(DEFAULT_POSTGRES_PORT), user))
    }
}

/// PostgreSQL's port when a URL names none.
pub const DEFAULT_POSTGRES_PORT: u16 = 5432;

/// Checks where an SQLite bundle path may point. A relative path is inside the install's home
/// folder and must stay there: no `..` component (even one that would come back: simpler to
/// state and to check), and nothing that is relative to a drive or a root rather than to the
/// home folder (Windows' `C:bundle.sqlite`, `\bundle.sqlite`). An absolute path is allowed: it is
/// an administrator's explicit choice (a bundle on a shared drive, say), and only administrators
/// set URLs. Checked by the text alone; a symbolic link inside the home folder is followed, as
/// whoever can write the home folder controls the install anyway.
pub fn check_bundle_path(path: &str) -> Result<(), String> {
    use std::path::{Component, Path};
    let path = Path::new(path);
    if path.is_absolute() {
        return Ok(());
    }
    let escapes =
        path.components().any(|c| matches!(c, Component::ParentDir | Component::Prefix(_) | Component::RootDir));
    if escapes {
        return Err("names a bundle outside the install folder with a relative path (`..`, or a drive or root \
                    without a full path); give a path inside the install folder, like sqlite:sources/ny.sqlite, \
                    or a full path, like sqlite:/srv/lexica/ny.sqlite"
            .into());
    }
    Ok(())
}

/// Refuses every parameter but [`ALLOWED_PARAMS`], each at most once, with a valid value. No
/// message quotes a value.
fn check_params(url: &Url) -> Result<(), String> {
    let allowed = ALLOWED_PARAMS.join(", ");
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in url.query_pairs() {
        let key = key.as_ref();
        if OVERRIDE_PARAMS.contains(&key) || key.starts_with("options[") {
            return Err(format!(
                "has a `{key}=` parameter, which would override the URL's own host, port, database, user or \
                 Lexica's session settings; put the host, port, user and database in the URL itself \
                 (postgres://USER@HOST:PORT/DATABASE) and use only {allowed} as parameters"
            ));
        }
        if !ALLOWED_PARAMS.contains(&key) {
            let named = quotable(key).map_or_else(|| "an unsupported parameter".to_string(), |k| format!("`{k}=`"));
            return Err(format!("has {named}; Lexica accepts only these parameters (lower case): {allowed}"));
        }
        if seen.iter().any(|s| s == key) {
            return Err(format!("sets `{key}=` twice; keep one"));
        }
        seen.push(key.to_string());
        if value.trim().is_empty() {
            return Err(format!("has an empty `{key}=`; give a value or remove the parameter"));
        }
        if key == "sslmode" && !SSL_MODES.contains(&value.as_ref()) {
            // The value is not a secret by construction (the key is `sslmode`), but it is not
            // quoted either: an unknown value is simply wrong, and the choices say what is right.
            return Err(format!("has an unknown sslmode; use one of {}", SSL_MODES.join(", ")));
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes into UTF-8 text; `None` for a bad escape or invalid UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
    // Every value but an allowed parameter's is hidden: an unknown parameter may be a secret
    // under a name nobody foresaw (stored URLs from before the allow-list can carry them).
    let hide = |k: &str| !ALLOWED_PARAMS.contains(&k) || is_secret_param(k);
    if url.query_pairs().any(|(k, _)| hide(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if hide(&k) { "***".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if url.fragment().is_some() {
        url.set_fragment(Some("***"));
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
        assert!(!SourceUrl::parse("postgres://h/db?sslmode=bogus").unwrap_err().contains("bogus"));
        assert!(SourceUrl::parse("sqlite:").unwrap_err().contains("bundle file"));
    }

    #[test]
    fn refuses_secrets_under_any_spelling_without_echoing_them() {
        for key in [
            "PASSWORD",
            "Password",
            "SSLPASSWORD",
            "sslPassword",
            "passwd",
            "pass",
            "db_secret",
            "api_token",
            "AccessKey",
            "private_key",
            "SSLKEY_PASSWORD",
        ] {
            let err = SourceUrl::parse(&format!("postgres://u@h/db?{key}=hunter2")).unwrap_err();
            assert!(err.contains("password"), "{key}: {err}");
            assert!(!err.contains("hunter2"), "{key}: {err}");
            assert!(!err.contains(&format!("{key}=")), "{key}: a secret-looking name is not quoted either: {err}");
        }
    }

    #[test]
    fn refuses_parameters_that_override_the_url_and_unknown_ones() {
        for key in
            ["host", "hostaddr", "port", "dbname", "user", "options", "options[statement_timeout]", "application_name"]
        {
            let err = SourceUrl::parse(&format!("postgres://u@h/db?{key}=evil-value")).unwrap_err();
            assert!(err.contains("override"), "{key}: {err}");
            assert!(!err.contains("evil-value"), "{key}: {err}");
        }
        for url in [
            "postgres://u@h/db?connect_timeout=5",
            "postgres://u@h/db?SSLMODE=disable",
            "postgres://u@h/db?statement-cache-capacity=1",
        ] {
            let err = SourceUrl::parse(url).unwrap_err();
            assert!(err.contains("accepts only") && err.contains("sslmode, sslrootcert, sslcert, sslkey"), "{err}");
        }
        // A name that is not plain is described, not quoted.
        let err = SourceUrl::parse("postgres://u@h/db?hunter2%20hunter2=x").unwrap_err();
        assert!(err.contains("an unsupported parameter") && !err.contains("hunter2"), "{err}");
        assert!(SourceUrl::parse("postgres://u@h/db?sslmode=require&sslmode=disable").unwrap_err().contains("twice"));
        assert!(SourceUrl::parse("postgres://u@h/db?sslrootcert=").unwrap_err().contains("empty"));
        assert!(SourceUrl::parse("postgres://u@h/db#hunter2").unwrap_err().contains("`#…`"));
    }

    #[test]
    fn accepts_the_tls_parameters() {
        let url = "postgres://u@h:5433/db?sslmode=verify-full&sslrootcert=/etc/ca.pem&sslcert=/c.pem&sslkey=/k.pem";
        assert!(matches!(SourceUrl::parse(url), Ok(SourceUrl::Postgres(_))));
        assert!(!is_secret_param("sslkey") && is_secret_param("SSLKEY_PASS") && is_secret_param("Token"));
    }

    #[test]
    fn sslmode_defaults_to_verify_full_off_this_machine() {
        let mode = |u: &str| SourceUrl::parse(u).unwrap().ssl_mode().unwrap();
        for remote in
            ["postgres://u@db.firm.local/ny", "postgres://u@10.0.0.5:5433/ny", "postgres://u@[2001:db8::1]/ny"]
        {
            assert_eq!(
                mode(remote),
                EffectiveSslMode { mode: "verify-full", explicit: false, local: false },
                "{remote}"
            );
        }
        for local in [
            "postgres://u@localhost/ny",
            "postgres://u@LOCALHOST:5433/ny",
            "postgres://u@127.0.0.1/ny",
            "postgres://u@127.8.9.10/ny",
            "postgres://u@[::1]:5433/ny",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/ny",
        ] {
            assert_eq!(mode(local), EffectiveSslMode { mode: "prefer", explicit: false, local: true }, "{local}");
        }
        // 128.0.0.1 is not loopback; a name merely starting with localhost is not localhost.
        assert!(!mode("postgres://u@128.0.0.1/ny").local && !mode("postgres://u@localhost.evil.com/ny").local);
        let given = mode("postgres://u@db.firm.local/ny?sslmode=require");
        assert!(given.explicit && given.mode == "require" && !given.verifies_certificate());
        assert!(mode("postgres://u@db/ny?sslmode=verify-ca").verifies_certificate());
        assert_eq!(SourceUrl::parse("sqlite:/b.sqlite").unwrap().ssl_mode(), None);
    }

    #[test]
    fn server_identity_is_host_port_and_user() {
        let id = |u: &str| SourceUrl::parse(u).unwrap().server_identity().unwrap();
        assert_eq!(id("postgres://reader@DB.firm.local/ny"), ("db.firm.local".into(), 5432, "reader".into()));
        assert_eq!(
            id("postgres://reader@db.firm.local:5432/other?sslmode=require"),
            id("postgres://reader@db.firm.local/ny")
        );
        assert_ne!(id("postgres://reader@db.firm.local:5433/ny"), id("postgres://reader@db.firm.local/ny"));
        assert_ne!(id("postgres://writer@db.firm.local/ny"), id("postgres://reader@db.firm.local/ny"));
    }

    #[test]
    fn redaction_hides_secrets() {
        assert_eq!(redact_url("postgres://u:hunter2@h/db"), "postgres://u:***@h/db");
        assert!(!redact_url("postgres://u@h/db?password=hunter2&sslmode=require").contains("hunter2"));
        assert_eq!(redact_url("::hunter2::"), "<unparseable URL hidden>");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        // Any spelling, and any parameter Lexica does not use (stored before the allow-list).
        let shown = redact_url("postgres://u@h/db?PASSWORD=hunter2&weird=hunter3&sslmode=require");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3") && shown.contains("sslmode=require"),
            "{shown}"
        );
    }
}
