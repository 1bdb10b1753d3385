//! The source doctor: tells an admin, check by check, whether a source works and what it lacks.
//! Every check reports ok / warning / error with a sentence; a failed connection stops the checks
//! that need it. Nothing here writes to the source.

use std::time::Instant;

use serde::Serialize;
use sqlx::{Connection, Row};
use ts_rs::TS;

use super::connect::{self, SourceTarget};
use crate::credentials::{Keychain, Secret};
use crate::models::{DataSource, EffectiveSslMode, MIN_REMOTE_SSL_MODE, SourceUrl};

/// Columns a source's `opinions` table or view must have for Lexica to search and show it.
pub const REQUIRED_COLUMNS: &[&str] =
    &["id", "case_name", "citation", "court", "jurisdiction", "decided_on", "docket_number", "body", "search_vector"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum CheckStatus {
    Ok,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DoctorCheck {
    /// Short name: configuration, credential, connection, opinions, paragraphs, full-text index, …
    pub name: String,
    pub status: CheckStatus,
    /// What was found, and what to do about it when it is not ok.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DoctorReport {
    pub source: String,
    pub checks: Vec<DoctorCheck>,
}

impl DoctorReport {
    /// The worst status among the checks.
    pub fn status(&self) -> CheckStatus {
        let worst = |s: CheckStatus| match s {
            CheckStatus::Ok => 0,
            CheckStatus::Warning => 1,
            CheckStatus::Error => 2,
        };
        self.checks.iter().map(|c| c.status).max_by_key(|s| worst(*s)).unwrap_or(CheckStatus::Ok)
    }

    fn push(&mut self, name: &str, status: CheckStatus, message: impl Into<String>) {
        self.checks.push(DoctorCheck { name: name.to_string(), status, message: message.into() });
    }
}

/// Examines `source` as it is configured now.
pub async fn examine(source: &DataSource, keychain: &Keychain, home: &std::path::Path) -> DoctorReport {
    let mut report = DoctorReport { source: source.name.clone(), checks: Vec::new() };
    let url = match super::configured_url(source) {
        Ok(url) => url,
        Err(e) => {
            report.push("configuration", CheckStatus::Error, strip_source_prefix(&e.to_string()));
            return report;
        }
    };
    if !source.is_active {
        report.push(
            "configuration",
            CheckStatus::Warning,
            "the source is disabled: nobody searches it until it is enabled",
        );
    }
    match &url {
        SourceUrl::Postgres(u) => {
            let tls = url.ssl_mode();
            let sslmode = match tls {
                Some(t) if t.explicit => t.mode.to_string(),
                Some(t) => format!("{} (the default for this host)", t.mode),
                None => "?".to_string(),
            };
            report.push(
                "configuration",
                CheckStatus::Ok,
                format!(
                    "PostgreSQL at {}:{}/{} as {}, sslmode={sslmode}",
                    u.host_str().unwrap_or("?"),
                    u.port().unwrap_or(5432),
                    u.path().trim_start_matches('/'),
                    if u.username().is_empty() { "(OS user)" } else { u.username() }
                ),
            );
            if let Some(tls) = tls {
                push_tls_check(&mut report, &source.name, tls);
            }
            // As a search does (see `needs_keychain`): a source never given a password connects
            // without asking the keychain, so the report does not blame a keychain it does not need.
            let redirected = super::redirected(source, &url);
            if redirected {
                report.push(
                    "credential",
                    CheckStatus::Warning,
                    format!(
                        "{} points the source at another server than its stored URL, so its stored password is \
                         not sent there; unset the variable, or make it the source's URL with `lexica sources edit`",
                        source.url_env_var()
                    ),
                );
            }
            let stored = if super::needs_keychain(source) && !redirected {
                keychain.password(source.id).await
            } else {
                Ok(None)
            };
            let password = match stored {
                Ok(Some(p)) => {
                    report.push(
                        "credential",
                        CheckStatus::Ok,
                        format!("a password is stored in the {}", keychain.store_name()),
                    );
                    Some(p)
                }
                Ok(None) => {
                    report.push(
                        "credential",
                        CheckStatus::Warning,
                        format!(
                            "no password is stored; the server must accept this role without one (trust, peer, \
                             a .pgpass entry or PGPASSWORD), or set it with `lexica sources set-password {}`",
                            source.name
                        ),
                    );
                    None
                }
                Err(e) => {
                    // Connecting without the password would only add a misleading "refused" error.
                    report.push("credential", CheckStatus::Error, e.to_string());
                    report.push(
                        "connection",
                        CheckStatus::Error,
                        "not tried: the password could not be read from the keychain",
                    );
                    return report;
                }
            };
            examine_postgres(source, &url, password.as_ref(), home, &mut report).await;
        }
        SourceUrl::Sqlite(_) => {
            report.push("configuration", CheckStatus::Ok, format!("offline bundle {url}"));
            examine_sqlite(source, &url, home, &mut report).await;
        }
    }
    report
}

async fn examine_postgres(
    source: &DataSource,
    url: &SourceUrl,
    password: Option<&Secret>,
    home: &std::path::Path,
    report: &mut DoctorReport,
) {
    let options = match connect::target(source, url, password, home) {
        Ok(SourceTarget::Postgres(o)) => o,
        Ok(SourceTarget::Sqlite(..)) => return,
        Err(e) => {
            report.push("connection", CheckStatus::Error, strip_source_prefix(&e.to_string()));
            return;
        }
    };
    let started = Instant::now();
    // The limit a search would have, so the doctor's verdict is the search's.
    let limit = connect::connect_limit(source);
    let mut conn = match tokio::time::timeout(limit, sqlx::PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            report.push(
                "connection",
                CheckStatus::Error,
                connect::describe_connect_error(&e, url, &source.name, password.is_some()),
            );
            return;
        }
        Err(_) => {
            report.push("connection", CheckStatus::Error, connect::no_answer(limit));
            return;
        }
    };
    let latency = started.elapsed().as_millis();
    let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut conn).await.unwrap_or_default();
    report.push(
        "connection",
        CheckStatus::Ok,
        format!("connected and authenticated in {latency} ms; PostgreSQL {version}"),
    );

    // Columns of `opinions` wherever the search path finds it (table or view).
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass('opinions') AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    if columns.is_empty() {
        report.push(
            "opinions",
            CheckStatus::Error,
            "there is no `opinions` table or view; create one with `lexica ingest FILE --into URL`, or a view with the columns \
             id, case_name, citation, court, jurisdiction, decided_on, docket_number, body, search_vector",
        );
        finish_postgres(&mut conn, report, false).await;
        return;
    }
    let missing: Vec<&str> =
        REQUIRED_COLUMNS.iter().copied().filter(|c| !columns.iter().any(|have| have == c)).collect();
    if missing.is_empty() {
        report.push("opinions", CheckStatus::Ok, "`opinions` has every column Lexica needs");
    } else {
        report.push("opinions", CheckStatus::Error, format!("`opinions` lacks the column(s) {}", missing.join(", ")));
    }

    let paragraphs: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('opinion_paragraphs')::text").fetch_one(&mut conn).await.unwrap_or(None);
    if paragraphs.is_some() {
        report.push(
            "paragraphs",
            CheckStatus::Ok,
            "`opinion_paragraphs` is present: proximity, /s and /p work anywhere in an opinion",
        );
    } else {
        report.push(
            "paragraphs",
            CheckStatus::Warning,
            "there is no `opinion_paragraphs` table: proximity connectors (/n, +n, /s, /p) cannot be answered from this source; \
             re-create it with `lexica ingest`",
        );
    }

    if !missing.contains(&"search_vector") {
        report.push_index_check(&mut conn).await;
    }
    finish_postgres(&mut conn, report, true).await;
    let _ = conn.close().await;
}

impl DoctorReport {
    /// Whether the planner can answer `search_vector @@ query` from an index. With sequential scans
    /// disabled for this one statement, a plan that still scans the table means no usable index.
    async fn push_index_check(&mut self, conn: &mut sqlx::PgConnection) {
        let plan: Result<Vec<String>, sqlx::Error> = async {
            let mut tx = conn.begin().await?;
            sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await?;
            let rows: Vec<String> = sqlx::query_scalar(
                "EXPLAIN SELECT id FROM opinions WHERE search_vector @@ to_tsquery('simple', 'lexica')",
            )
            .fetch_all(&mut *tx)
            .await?;
            tx.rollback().await?;
            Ok(rows)
        }
        .await;
        match plan {
            Ok(lines) => {
                let plan = lines.join("\n");
                match plan.lines().find(|l| l.contains("Index Scan") || l.contains("Bitmap Index Scan")) {
                    Some(line) => {
                        let index =
                            line.split(" on ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or("an index");
                        self.push(
                            "full-text index",
                            CheckStatus::Ok,
                            format!("searches use the index {index} (checked with EXPLAIN)"),
                        );
                    }
                    None => self.push(
                        "full-text index",
                        CheckStatus::Error,
                        "searches would read every row: there is no GIN index on opinions.search_vector; \
                         create one with `CREATE INDEX ON opinions USING gin (search_vector)`",
                    ),
                }
            }
            Err(e) => self.push("full-text index", CheckStatus::Error, format!("could not check the plan: {e}")),
        }
    }
}

async fn finish_postgres(conn: &mut sqlx::PgConnection, report: &mut DoctorReport, has_opinions: bool) {
    let read_only: String =
        sqlx::query_scalar("SHOW transaction_read_only").fetch_one(&mut *conn).await.unwrap_or_default();
    if read_only == "on" {
        report.push("read-only", CheckStatus::Ok, "Lexica's connections are read-only");
    } else {
        report.push("read-only", CheckStatus::Error, "the connection is not read-only; Lexica refuses to search it");
    }
    let row = sqlx::query(
        "SELECT current_user::text AS role, r.rolsuper,
                CASE WHEN to_regclass('opinions') IS NULL THEN false
                     ELSE has_table_privilege('opinions', 'INSERT, UPDATE, DELETE, TRUNCATE') END AS can_write
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await;
    match row {
        Ok(row) => {
            let role: String = row.try_get("role").unwrap_or_default();
            let superuser: bool = row.try_get("rolsuper").unwrap_or(false);
            let can_write: bool = row.try_get("can_write").unwrap_or(false);
            if superuser || can_write {
                report.push(
                    "role privileges",
                    CheckStatus::Warning,
                    format!(
                        "role {role} {}; Lexica never writes, but a SELECT-only role is safer: \
                         GRANT SELECT ON opinions, opinion_paragraphs TO a dedicated role and use that",
                        if superuser { "is a superuser" } else { "can write to opinions" }
                    ),
                );
            } else {
                report.push("role privileges", CheckStatus::Ok, format!("role {role} can only read"));
            }
        }
        Err(e) => report.push("role privileges", CheckStatus::Warning, format!("could not check the role: {e}")),
    }
    if has_opinions {
        match sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opinions").fetch_one(&mut *conn).await {
            Ok(0) => report.push("rows", CheckStatus::Warning, "`opinions` is empty: searches will find nothing"),
            Ok(n) => {
                report.push("rows", CheckStatus::Ok, format!("{n} opinions"));
                let present: bool = sqlx::query_scalar(
                    "SELECT to_regclass('lexica_corpus_stats') IS NOT NULL AND to_regclass('lexica_term_stats') IS NOT NULL
                        AND to_regclass('opinion_lengths') IS NOT NULL",
                )
                .fetch_one(&mut *conn)
                .await
                .unwrap_or(false);
                let counted: Option<i64> = if present {
                    sqlx::query_scalar("SELECT opinions FROM lexica_corpus_stats WHERE id = 1")
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap_or(None)
                } else {
                    None
                };
                push_statistics_check(report, present, counted, n);
                // Outside a transaction, so a source without the column just answers an error.
                let per_term: Option<i64> =
                    sqlx::query_scalar("SELECT postings_per_term::bigint FROM lexica_corpus_stats WHERE id = 1")
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap_or(None)
                        .flatten();
                push_postings_check(report, per_term);
            }
            Err(e) => report.push("rows", CheckStatus::Warning, format!("could not count opinions: {e}")),
        }
    }
}

/// Warns when a source off this machine connects below [`MIN_REMOTE_SSL_MODE`]: without a
/// certificate check a spoofed server takes the connection and, since the driver answers a
/// cleartext-password request, receives the password. Loopback and Unix-socket sources never
/// leave the machine and are not warned about.
fn push_tls_check(report: &mut DoctorReport, source_name: &str, tls: EffectiveSslMode) {
    if tls.local {
        report.push("tls", CheckStatus::Ok, format!("sslmode={}: the server is on this machine", tls.mode));
    } else if tls.verifies_certificate() {
        report.push("tls", CheckStatus::Ok, format!("sslmode={}: the server's certificate is checked", tls.mode));
    } else {
        report.push(
            "tls",
            CheckStatus::Warning,
            format!(
                "sslmode={} does not check the server's certificate, so a server impersonating this host would \
                 receive the source's password and every query; use sslmode=verify-full (or at least {}) with \
                 sslrootcert=/path/to/the-ca.pem: `lexica sources edit {source_name} --url \
                 'postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=/path/to/the-ca.pem'`",
                tls.mode, MIN_REMOTE_SSL_MODE
            ),
        );
    }
}

/// The impact-ordered postings (migrations/source-*/0004_postings.sql) the fast path reads.
fn push_postings_check(report: &mut DoctorReport, per_term: Option<i64>) {
    match per_term {
        Some(n) => report.push(
            "postings",
            CheckStatus::Ok,
            format!("each word's {n} best opinions are kept in order: searches matching many opinions stay fast"),
        ),
        None => report.push(
            "postings",
            CheckStatus::Warning,
            "the source has no impact-ordered postings (lexica_postings): a search that matches many opinions \
             reads and ranks every one of them, which slows with the source's size (seconds at 100,000 opinions); \
             run `lexica ingest FILE --into THIS-SOURCE` once to build them (opinions already loaded are not reloaded)",
        ),
    }
}

/// The ranking statistics (migrations/source-*/0003_statistics.sql): present, and counting the
/// opinions the source holds.
fn push_statistics_check(report: &mut DoctorReport, present: bool, counted: Option<i64>, opinions: i64) {
    const FIX: &str = "run `lexica ingest FILE --into THIS-SOURCE` once (opinions already loaded are counted, not \
                       reloaded), or have the DBA load the opinions with Lexica's ingest";
    match (present, counted) {
        (true, Some(c)) if c == opinions => report.push(
            "ranking statistics",
            CheckStatus::Ok,
            format!("document frequencies and lengths of all {c} opinions are kept"),
        ),
        (true, Some(c)) => report.push(
            "ranking statistics",
            CheckStatus::Warning,
            format!(
                "the statistics count {c} opinions but the source holds {opinions}: the opinions were changed \
                 outside Lexica's ingest, so ranking is slightly off; {FIX}"
            ),
        ),
        _ => report.push(
            "ranking statistics",
            CheckStatus::Warning,
            format!(
                "the source has no ranking statistics (lexica_corpus_stats, lexica_term_stats, opinion_lengths): \
                 its opinions are found but ranked without word rarity or length, and count for nothing in \
                 other sources' statistics; {FIX}"
            ),
        ),
    }
}

async fn examine_sqlite(source: &DataSource, url: &SourceUrl, home: &std::path::Path, report: &mut DoctorReport) {
    let options = match connect::target(source, url, None, home) {
        Ok(SourceTarget::Sqlite(o, _)) => o,
        Ok(SourceTarget::Postgres(_)) => return,
        Err(e) => {
            report.push("bundle", CheckStatus::Error, strip_source_prefix(&e.to_string()));
            return;
        }
    };
    let mut conn = match sqlx::SqliteConnection::connect_with(&options).await {
        Ok(c) => c,
        Err(e) => {
            report.push(
                "bundle",
                CheckStatus::Error,
                format!("the bundle cannot be opened ({e}); is it an SQLite file?"),
            );
            return;
        }
    };
    report.push("bundle", CheckStatus::Ok, "the bundle opens read-only");
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    for (table, what, status) in [
        ("opinions", "the opinions", CheckStatus::Error),
        ("opinions_fts", "the full-text index", CheckStatus::Error),
        ("opinion_paragraphs", "the paragraph table (proximity connectors)", CheckStatus::Warning),
        ("paragraphs_fts", "the paragraph full-text index (proximity connectors)", CheckStatus::Warning),
    ] {
        if tables.iter().any(|t| t == table) {
            report.push(table, CheckStatus::Ok, format!("`{table}` is present"));
        } else {
            report.push(
                table,
                status,
                format!(
                    "`{table}` is missing: {what}; rebuild the bundle with `lexica ingest FILE --into BUNDLE.sqlite`"
                ),
            );
        }
    }
    if tables.iter().any(|t| t == "opinions") {
        match sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opinions").fetch_one(&mut conn).await {
            Ok(0) => report.push("rows", CheckStatus::Warning, "`opinions` is empty: searches will find nothing"),
            Ok(n) => {
                report.push("rows", CheckStatus::Ok, format!("{n} opinions"));
                let present = ["lexica_corpus_stats", "lexica_term_stats", "opinion_lengths"]
                    .iter()
                    .all(|t| tables.iter().any(|x| x == t));
                let counted: Option<i64> = if present {
                    sqlx::query_scalar("SELECT opinions FROM lexica_corpus_stats WHERE id = 1")
                        .fetch_optional(&mut conn)
                        .await
                        .unwrap_or(None)
                } else {
                    None
                };
                push_statistics_check(report, present, counted, n);
                let per_term: Option<i64> =
                    sqlx::query_scalar("SELECT postings_per_term FROM lexica_corpus_stats WHERE id = 1")
                        .fetch_optional(&mut conn)
                        .await
                        .unwrap_or(None)
                        .flatten();
                push_postings_check(report, per_term);
            }
            Err(e) => report.push("rows", CheckStatus::Error, format!("could not count opinions: {e}")),
        }
    }
    let _ = conn.close().await;
}

/// Core errors about a source start "source `name`: "; inside a report about that source it is noise.
fn strip_source_prefix(message: &str) -> String {
    match message.split_once("`: ") {
        Some((head, rest)) if head.starts_with("source `") => rest.to_string(),
        _ => message.to_string(),
    }
}
