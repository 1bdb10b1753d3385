//! Turning a [`DataSource`] and its password into connection options, and connection failures
//! into sentences an admin can act on.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::sqlite::SqliteConnectOptions;

use crate::credentials::Secret;
use crate::models::{DataSource, SourceUrl};
use crate::{Error, Result};

/// Every source connection says who it is, so a DBA can see Lexica in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "lexica";
/// Longest wait for a new connection (TCP, TLS and authentication together).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for a new connection to `source`: [`CONNECT_TIMEOUT`], or the source's own
/// acquire timeout when that is shorter. An admin who gave a source 2 s to hand out a connection
/// means a silent server should fail a search after 2 s, not after the 10 s ceiling.
pub fn connect_limit(source: &DataSource) -> Duration {
    source.acquire_timeout().min(CONNECT_TIMEOUT).max(Duration::from_millis(1))
}

/// The sentence for a connection that got no answer within `limit`.
pub fn no_answer(limit: Duration) -> String {
    format!("no answer within {:.1} s; check the host, the port and any firewall", limit.as_secs_f64())
}

/// Where and how to reach one source.
#[derive(Debug, Clone)]
pub enum SourceTarget {
    Postgres(PgConnectOptions),
    Sqlite(SqliteConnectOptions, PathBuf),
}

/// Builds the connection options for `source`: read-only by default, bounded by the source's
/// statement timeout, identified as Lexica. `password` comes from the keychain; `None` lets the
/// server decide (trust or peer authentication, or a clear "password required" error).
pub fn target(source: &DataSource, url: &SourceUrl, password: Option<&Secret>, home: &Path) -> Result<SourceTarget> {
    match url {
        SourceUrl::Postgres(url) => {
            let mut options = postgres_options(url).map_err(|problem| Error::Source {
                name: source.name.clone(),
                message: format!(
                    "its URL cannot be used ({problem}); fix it with `lexica sources edit {} --url …`",
                    source.name
                ),
            })?;
            if let Some(password) = password {
                options = options.password(password.expose());
            }
            let timeout_ms = source.query_timeout_ms.to_string();
            // default_transaction_read_only refuses writes (SQLSTATE 25006); a session could turn it
            // off, which Lexica never does, and the doctor recommends a SELECT-only role besides.
            // jit off: Lexica's statements are short index reads, and PostgreSQL's JIT compiles
            // whenever a row estimate is large (measured: 190 ms of a 290 ms paragraph read at
            // 200k opinions, for a statement that runs in 90 ms without it).
            // Custom plans always: sqlx prepares every statement, and from a statement's sixth
            // run on a connection PostgreSQL may switch to a generic plan, in which
            // `$n::tsquery` is a parameter cast evaluated for every row, so the query text is
            // parsed again for each paragraph tested (measured at 200k opinions: a read of 100
            // opinions' paragraphs went from 110 ms to 300 ms once the plan was generic).
            // Planning a statement afresh costs well under a millisecond. (PostgreSQL 12+.)
            options = options.application_name(APPLICATION_NAME).options([
                ("default_transaction_read_only", "on"),
                ("statement_timeout", timeout_ms.as_str()),
                ("jit", "off"),
                ("plan_cache_mode", "force_custom_plan"),
            ]);
            Ok(SourceTarget::Postgres(options))
        }
        SourceUrl::Sqlite(path) => {
            // Re-checked here, not trusted: a `SourceUrl` can be built without `parse`.
            crate::models::check_bundle_path(path).map_err(|problem| Error::Source {
                name: source.name.clone(),
                message: format!(
                    "its URL cannot be used (it {problem}); fix it with `lexica sources edit {} --url …`",
                    source.name
                ),
            })?;
            // A relative bundle path is relative to the install's home folder, so a provisioning
            // file can say `sqlite:sources/ny.sqlite` on every machine.
            let path = if Path::new(path).is_absolute() { PathBuf::from(path) } else { home.join(path) };
            if !path.is_file() {
                return Err(Error::Source {
                    name: source.name.clone(),
                    message: format!(
                        "its bundle file {} does not exist; copy the bundle there or point the source at it",
                        path.display()
                    ),
                });
            }
            // Opened read-only, and more: `query_only` refuses writes even should the file be
            // opened writable some day, and `trusted_schema = OFF` keeps the bundle's own views
            // and triggers from calling functions or virtual tables not marked harmless (a bundle
            // is a file someone handed over; its schema is not Lexica's).
            let options = SqliteConnectOptions::new()
                .filename(&path)
                .read_only(true)
                .create_if_missing(false)
                .pragma("query_only", "ON")
                .pragma("trusted_schema", "OFF");
            Ok(SourceTarget::Sqlite(options, path))
        }
    }
}

/// The driver's options for a validated PostgreSQL URL, built field by field: the raw URL text is
/// never handed to the driver, so no parameter it might carry (a stored URL from before the
/// allow-list, an environment override) can override the host or the session settings, and none
/// reaches the driver's "ignoring unrecognized connect parameter" warning, which logs its value.
fn postgres_options(url: &url::Url) -> std::result::Result<PgConnectOptions, String> {
    // Re-checked here, not trusted: a `SourceUrl` can be built without `parse`.
    let checked = SourceUrl::parse(url.as_str())?;
    let SourceUrl::Postgres(url) = checked else { return Err("it is not a PostgreSQL URL".into()) };
    // The authority and the database alone, as a URL: the one public way to get the driver's
    // defaults *and* its `.pgpass` lookup for this host, port, user and database (the builder's
    // `new()` would look the password up before the host and user are set). It has no query, no
    // fragment and no password, so the driver reads nothing from it but those four fields.
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let _ = base.set_password(None);
    let mut options = PgConnectOptions::from_str(base.as_str()).map_err(|e| format!("{e}"))?;
    // No `sslmode` in the URL and a host off this machine: verify-full, not the driver's
    // `prefer` (no certificate check, plaintext fallback). The driver answers a server's
    // cleartext-password request and cannot be told not to, so only a verified server identity
    // keeps a spoofed server from receiving the keychain password. Set here, before the URL's
    // own parameters, so an explicit `sslmode` still wins; it also overrides `PGSSLMODE`, which
    // the driver would otherwise read: the URL is the one place a source's security is decided.
    if let Some(effective) = checked_mode(&url)
        && !effective.explicit
        && !effective.local
    {
        options = options.ssl_mode(PgSslMode::VerifyFull);
    }
    for (key, value) in url.query_pairs() {
        options = match key.as_ref() {
            "sslmode" => {
                options.ssl_mode(value.parse().map_err(|_| "its sslmode is not one Lexica knows".to_string())?)
            }
            "sslrootcert" => options.ssl_root_cert(value.as_ref()),
            "sslcert" => options.ssl_client_cert(value.as_ref()),
            "sslkey" => options.ssl_client_key(value.as_ref()),
            // `parse` refused everything else; a new allowed parameter must be applied above.
            _ => return Err("it has a parameter Lexica does not apply".into()),
        };
    }
    Ok(options)
}

/// The effective `sslmode` of a PostgreSQL URL already checked by [`SourceUrl::parse`].
fn checked_mode(url: &url::Url) -> Option<crate::models::EffectiveSslMode> {
    SourceUrl::Postgres(url.clone()).ssl_mode()
}

/// Words a connection failure as what the admin should do about it. Matches on SQLSTATE codes and
/// error kinds, never on message text, and never includes the URL or the password.
pub fn describe_connect_error(error: &sqlx::Error, url: &SourceUrl, source_name: &str, password_sent: bool) -> String {
    let (host, port, database, user) = match url {
        SourceUrl::Postgres(u) => (
            u.host_str().unwrap_or("?").to_string(),
            u.port().unwrap_or(5432),
            u.path().trim_start_matches('/').to_string(),
            if u.username().is_empty() { "(your OS user)".to_string() } else { u.username().to_string() },
        ),
        SourceUrl::Sqlite(p) => (p.clone(), 0, String::new(), String::new()),
    };
    // A TLS failure under the verify-full default (no `sslmode` in the URL) says why Lexica
    // checked the certificate at all, and the two ways out.
    let tls_hint = match url.ssl_mode() {
        Some(t) if !t.explicit && !t.local => format!(
            "; without an sslmode in the URL Lexica uses {} for a server on another machine: give the CA \
             certificate with sslrootcert=/path/to/ca.pem, and connect by the host name the server's certificate names",
            crate::models::DEFAULT_REMOTE_SSL_MODE
        ),
        _ => String::new(),
    };
    match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") if password_sent => format!(
                "the server refused the password for role {user}; store the right one with `lexica sources set-password {source_name}`"
            ),
            Some("28P01") => format!(
                "the server wants a password for role {user} and none is stored; store it with `lexica sources set-password {source_name}`"
            ),
            Some("28000") => format!(
                "the server does not allow role {user} to connect to {database} from here (pg_hba.conf{}); ask the DBA, or check the URL's user and sslmode",
                if db.message().contains("no encryption") || db.message().contains("SSL off") {
                    ", which requires TLS: set sslmode=require"
                } else {
                    ""
                }
            ),
            Some("3D000") => {
                format!("database {database} does not exist on {host}; check the database name in the URL")
            }
            Some("53300") => {
                format!("{host} has no free connections (too many clients); lower the pool size or ask the DBA")
            }
            Some("57P03") => format!("{host} is starting up or shutting down; try again in a moment"),
            Some(code) => format!("the server refused the connection (SQLSTATE {code}): {}", short(db.message())),
            None => format!("the server refused the connection: {}", short(db.message())),
        },
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!(
                    "nothing is listening at {host}:{port}; is the server running, and are the host and port right?"
                )
            }
            std::io::ErrorKind::TimedOut => {
                format!("{host}:{port} did not answer; check the host, the port and any firewall")
            }
            // rustls reports handshake and certificate failures as InvalidData I/O errors.
            std::io::ErrorKind::InvalidData => format!(
                "the TLS connection to {host} failed ({io}); check the URL's sslmode and sslrootcert (the CA certificate file){tls_hint}"
            ),
            _ if io.to_string().contains("lookup")
                || io.to_string().contains("resolve")
                || io.to_string().contains("Name or service") =>
            {
                format!("the host name {host} does not resolve; check the host in the URL")
            }
            _ => format!("could not reach {host}:{port} ({io}); check the host, the port and the network"),
        },
        sqlx::Error::Tls(e) => format!(
            "the TLS connection to {host} failed ({e}); check the URL's sslmode and sslrootcert (the CA certificate file){tls_hint}"
        ),
        sqlx::Error::PoolTimedOut => format!(
            "no connection to {host}:{port} within the acquire timeout; the server is slow or unreachable, or every pooled connection is busy"
        ),
        sqlx::Error::Configuration(e) => format!("its connection settings are invalid ({e}); check the URL's options"),
        // sqlx error texts carry no URL or password.
        other => format!("could not connect: {other}"),
    }
}

/// Words a failure of a query on a source: schema problems and timeouts by SQLSTATE, connection
/// problems as [`describe_connect_error`].
///
/// The result is cut to [`crate::error::MAX_ERROR_CHARS`]: it is stored in the history and shown.
pub fn describe_query_error(error: &sqlx::Error, url: &SourceUrl, source_name: &str, password_sent: bool) -> String {
    crate::error::truncate_message(&describe_query_error_in_full(error, url, source_name, password_sent))
}

fn describe_query_error_in_full(
    error: &sqlx::Error,
    url: &SourceUrl,
    source_name: &str,
    password_sent: bool,
) -> String {
    if let sqlx::Error::Database(db) = error {
        let code = db.code();
        // The server refused the *query* (it was connected): a statement over one of its limits
        // (class 54, e.g. "string is too long for tsquery"), or one it could not read (42601,
        // "syntax error in tsquery"). Its message quotes the statement, so only the first line goes.
        if code.as_deref().is_some_and(|c| c.starts_with("54") || c == "42601") {
            return format!(
                "the source refused the query as too large or complex for it (SQLSTATE {}: {}); \
                 simplify the query: fewer alternatives on each side of a proximity connector, or a smaller /n",
                code.as_deref().unwrap_or("?"),
                first_line(db.message())
            );
        }
        match code.as_deref() {
            Some("42P01") => {
                return "it has no `opinions` table or view (or lacks `opinion_paragraphs`); \
                        run `lexica sources test` to see what is missing"
                    .to_string();
            }
            Some("42703") => {
                return format!(
                    "its `opinions` table lacks a column Lexica needs ({}); run `lexica sources test`",
                    short(db.message())
                );
            }
            Some("57014") => {
                return "the query ran past the source's statement timeout and was cancelled on the server".to_string();
            }
            Some("25006") => return "the source refused a write: connections are read-only".to_string(),
            Some("42501") => {
                return format!(
                    "the source's role may not read what Lexica needs ({}); GRANT SELECT to it",
                    short(db.message())
                );
            }
            _ => {}
        }
    }
    if lost_mid_query(error) {
        let server = match url {
            SourceUrl::Postgres(u) => format!("{}:{}", u.host_str().unwrap_or("?"), u.port().unwrap_or(5432)),
            SourceUrl::Sqlite(p) => p.clone(),
        };
        return format!(
            "the server at {server} went away during the query (it was stopped, restarted or crashed, or the \
             network dropped the connection); search again, and if it repeats ask the DBA whether the server is up"
        );
    }
    describe_connect_error(error, url, source_name, password_sent)
}

/// Whether a query's failure is the connection ending under it: the server closed the socket
/// (end of file, reset, broken pipe) or said it is shutting down (`57P01` admin shutdown, `57P02`
/// crash shutdown). Worded apart from a failure to connect, which sends the admin to the URL.
fn lost_mid_query(error: &sqlx::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    match error {
        sqlx::Error::Io(io) => matches!(io.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe),
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P01" | "57P02")),
        _ => false,
    }
}

/// A server message's first line, cut to a few hundred characters: enough to name the problem,
/// never the statement it may quote.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    let (head, _) = line.split_once(": \"").unwrap_or((line, ""));
    short(head)
}

/// Longest server message quoted inside one of Lexica's sentences, in characters.
const MAX_QUOTED_SERVER_MESSAGE_CHARS: usize = 300;

fn short(message: &str) -> String {
    if message.chars().count() <= MAX_QUOTED_SERVER_MESSAGE_CHARS {
        return message.to_string();
    }
    let mut out: String = message.chars().take(MAX_QUOTED_SERVER_MESSAGE_CHARS).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_lost_during_a_query_is_worded_as_the_server_going_away() {
        let url = SourceUrl::parse("postgres://reader@db.firm.example:6543/opinions").unwrap();
        let eof = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "expected to read 5 bytes, got 0 bytes at EOF",
        ));
        let said = describe_query_error(&eof, &url, "ny", false);
        assert!(said.starts_with("the server at db.firm.example:6543 went away during the query"), "{said}");
        // Refused before connecting stays a connection problem.
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(describe_query_error(&refused, &url, "ny", false).starts_with("nothing is listening"));
    }

    #[test]
    fn a_connection_waits_for_the_smaller_of_the_ceiling_and_the_acquire_timeout() {
        let mut source = DataSource::new("t", "T");
        source.acquire_timeout_ms = 2_000;
        assert_eq!(connect_limit(&source), Duration::from_secs(2));
        source.acquire_timeout_ms = 60_000;
        assert_eq!(connect_limit(&source), CONNECT_TIMEOUT);
        assert_eq!(
            no_answer(Duration::from_millis(2_000)),
            "no answer within 2.0 s; check the host, the port and any firewall"
        );
    }

    fn options(url: &str) -> PgConnectOptions {
        let url = SourceUrl::parse(url).unwrap();
        match target(&DataSource::new("t", "T"), &url, None, Path::new("/tmp")).unwrap() {
            SourceTarget::Postgres(options) => options,
            SourceTarget::Sqlite(..) => unreachable!(),
        }
    }

    #[test]
    fn a_remote_url_without_sslmode_connects_verify_full() {
        assert!(matches!(options("postgres://u@db.firm.local/ny").get_ssl_mode(), PgSslMode::VerifyFull));
        assert!(matches!(options("postgres://u@10.1.2.3:5433/ny").get_ssl_mode(), PgSslMode::VerifyFull));
        // The URL's own sslmode wins, weaker or not.
        assert!(matches!(options("postgres://u@db.firm.local/ny?sslmode=require").get_ssl_mode(), PgSslMode::Require));
        assert!(matches!(
            options("postgres://u@db.firm.local/ny?sslmode=verify-ca").get_ssl_mode(),
            PgSslMode::VerifyCa
        ));
        // The constant the doctor and the docs name is the mode applied.
        assert_eq!(
            crate::models::DEFAULT_REMOTE_SSL_MODE.parse::<PgSslMode>().ok().map(|m| format!("{m:?}")),
            Some(format!("{:?}", PgSslMode::VerifyFull))
        );
    }

    #[test]
    fn a_local_url_without_sslmode_keeps_the_drivers_default() {
        if std::env::var_os("PGSSLMODE").is_some() {
            return; // the driver's default is then the environment's
        }
        for url in ["postgres://u@localhost/ny", "postgres://u@127.0.0.1:54400/ny", "postgres://u@[::1]/ny"] {
            assert!(matches!(options(url).get_ssl_mode(), PgSslMode::Prefer), "{url}");
        }
    }
}
