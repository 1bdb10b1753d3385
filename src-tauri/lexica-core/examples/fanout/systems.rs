//! The systems under test and their data: the K source databases (the shared corpus, built with
//! `lexica_ingest`), a Lexica install whose sources point at the proxies, and the postgres_fdw
//! coordinating database whose foreign servers point at the same proxies.

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::{Lexica, User, db};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use url::Url;

use crate::{BenchError, SHARED};

/// Every database this benchmark creates starts with this.
pub(crate) const DB_PREFIX: &str = "fanout_c_";
/// postgres_fdw's cost of shipping one row (PostgreSQL 17's default; 15 has 0.01). With 15's value,
/// and no statistics on the foreign tables, the planner fetches every match and ranks locally
/// instead of sending `ORDER BY … LIMIT` to the source.
const FDW_TUPLE_COST: &str = "0.2";
/// The fdw way's per-source and merged limit: what each Lexica source returns.
const FDW_LIMIT: u32 = 100;

fn database_url(base: &Url, database: &str) -> Url {
    let mut url = base.clone();
    url.set_path(database);
    url
}

pub(crate) fn source_db(i: usize) -> String {
    format!("{DB_PREFIX}src{i}")
}

/// A SQL string literal (the benchmark's own names, ports and the test cluster's password).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Non-blank lines of the corpus: what a complete ingest recorded in `ingest_runs.records`.
fn corpus_records(path: &Path) -> Result<i64, BenchError> {
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(path)?));
    let mut n = 0;
    for line in reader.lines() {
        n += i64::from(!line?.trim().is_empty());
    }
    Ok(n)
}

/// Makes sure sources 0..count exist, each holding the whole corpus: source 0 loaded by
/// `lexica_ingest::ingest`, the others created as copies of it (`CREATE DATABASE … TEMPLATE`:
/// byte-identical, seconds instead of the minute an ingest takes on this loaded machine). Why the whole corpus in every
/// source: every source then does the same work, so "slowest alone" differs from the others by its
/// latency only and lexica / slowest_alone measures the fan-out itself; and the K = 2, 4, 8 runs
/// reuse the same databases (disjoint parts would need a different split, 14 databases, per K).
/// A source counts as built when an ingest of the whole file finished in it (`ingest_runs`, written
/// last by the ingest, after its indexes); otherwise the ingest runs again (it is idempotent and
/// resumes an interrupted load).
pub(crate) async fn ensure_sources(admin: &Url, count: usize) -> Result<(), BenchError> {
    let corpus = Path::new(SHARED).join("opinions.jsonl.gz");
    let records = corpus_records(&corpus)?;
    let mut conn = PgConnection::connect(admin.as_str()).await?;
    for i in 0..count {
        let name = source_db(i);
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            // A copy needs a built template with no session on it (this benchmark holds none now).
            let template = if i == 0 { String::new() } else { format!(" TEMPLATE {}", source_db(0)) };
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}{template}"))).execute(&mut conn).await?;
        }
        let url = database_url(admin, &name);
        let mut src = PgConnection::connect(url.as_str()).await?;
        let built: bool = sqlx::query_scalar(
            "SELECT to_regclass('public.ingest_runs') IS NOT NULL AND EXISTS (
                 SELECT 1 FROM ingest_runs WHERE records = $1 AND input LIKE '%opinions.jsonl.gz')",
        )
        .bind(records)
        .fetch_one(&mut src)
        .await
        .or_else(|e| match &e {
            // 42P01: no ingest_runs table yet (a fresh database); the planner resolves the name
            // before `to_regclass` could short-circuit.
            sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => Ok(false),
            _ => Err(e),
        })?;
        src.close().await?;
        if built {
            continue;
        }
        let started = Instant::now();
        let target = lexica_ingest::Target::parse(url.as_str())?;
        let report = lexica_ingest::ingest(&corpus, target, &|_| {}).await?;
        eprintln!("built {name}: {} opinions in {:.1} s", report.inserted, started.elapsed().as_secs_f64());
    }
    Ok(())
}

pub(crate) async fn drop_databases(admin: &Url, names: &[String]) -> Result<(), BenchError> {
    let mut conn = PgConnection::connect(admin.as_str()).await?;
    for name in names {
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut conn).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The two systems under test, set up for one (K, RTT).

/// A Lexica install on a temporary home with the K sources, each pointing at its proxy. The
/// password goes through Lexica's own credential path into keyring-core's in-memory mock store
/// (works headless, no Secret Service needed; the store lives as long as the process).
pub(crate) async fn open_lexica(
    home: &Path,
    admin: &Url,
    ports: &[u16],
) -> Result<(Lexica, User, Vec<String>), BenchError> {
    let store = keyring_core::mock::Store::new().map_err(|e| BenchError::Setup(format!("mock keychain: {e}")))?;
    let lexica = Lexica::open_with_keychain(Some(home.to_path_buf()), Keychain::with_store(store, "mock")).await?;
    let me = lexica.acting_user(None).await?;
    // Only the benchmark's sources: the built-in demo bundle would be searched too otherwise.
    lexica.revoke(&me, &me.username, db::DEMO_SOURCE_NAME).await?;
    let mut names = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let name = format!("fanout_{i}");
        let url = format!("postgres://{}@127.0.0.1:{port}/{}", admin.username(), source_db(i));
        let changes = SourceChanges {
            display_name: Some(format!("fan-out source {i}")),
            database_url: Some(Some(url)),
            ..Default::default()
        };
        lexica.add_source(&me, &name, changes).await?;
        lexica.set_source_password(&me, &name, &Secret::new(admin.password().unwrap_or_default())).await?;
        lexica.grant(&me, &me.username, &name, PermissionLevel::Read).await?;
        names.push(name);
    }
    Ok((lexica, me, names))
}

/// Points the coordinating database's foreign servers at this run's proxies and returns a
/// one-connection pool to it (postgres_fdw keeps its remote connections per backend, so one
/// long-lived session keeps them warm). The app → coordinator hop is not delayed: only the
/// coordinator → source hops are, as the sources are in Lexica's ways.
pub(crate) async fn open_coordinator(admin: &Url, ports: &[u16]) -> Result<PgPool, BenchError> {
    let name = format!("{DB_PREFIX}coord");
    let mut conn = PgConnection::connect(admin.as_str()).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut conn).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
    conn.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(database_url(admin, &name).as_str())
        .await?;
    // Why ANALYZE: without statistics on the foreign tables (gathered once, through the proxy) the
    // planner does not push `ORDER BY … LIMIT` to the sources either.
    let mut ddl = String::from("CREATE EXTENSION postgres_fdw;\n");
    for (i, port) in ports.iter().enumerate() {
        ddl += &format!(
            "CREATE SERVER s{i} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '{port}', \
             dbname {db}, async_capable 'true', fdw_tuple_cost '{FDW_TUPLE_COST}');
             CREATE USER MAPPING FOR CURRENT_USER SERVER s{i} OPTIONS (user {user}, password {pw});
             CREATE SCHEMA s{i};
             IMPORT FOREIGN SCHEMA public LIMIT TO (opinions) FROM SERVER s{i} INTO s{i};
             ANALYZE s{i}.opinions;\n",
            db = literal(&source_db(i)),
            user = literal(admin.username()),
            pw = literal(admin.password().unwrap_or_default()),
        );
    }
    sqlx::raw_sql(AssertSqlSafe(ddl)).execute(&pool).await?;
    Ok(pool)
}

/// The fdw statement over `k` sources; `$1` is the tsquery of the query's positive terms.
pub(crate) fn fdw_sql(k: usize) -> String {
    let part = |i: usize| {
        format!(
            "(SELECT id, ts_rank_cd(search_vector, $1::tsquery) AS r FROM s{i}.opinions \
             WHERE search_vector @@ $1::tsquery ORDER BY r DESC LIMIT {FDW_LIMIT})"
        )
    };
    let parts: Vec<String> = (0..k).map(part).collect();
    // `r::float8`, not `r`: ordered by `r` itself, the planner merges the sources' ordered scans
    // with a Merge Append, which never runs its children asynchronously; ordered by an equivalent
    // key the scans cannot provide, it uses an Append of async foreign scans and sorts ≤ K×100 rows.
    format!("SELECT id, r FROM ({}) u ORDER BY r::float8 DESC LIMIT {FDW_LIMIT}", parts.join(" UNION ALL "))
}

/// What EXPLAIN says of the fdw statement: (async foreign scans, every remote query limited).
pub(crate) async fn fdw_plan(pool: &PgPool, sql: &str, tsquery: &str) -> Result<(usize, bool), BenchError> {
    let lines: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (VERBOSE, COSTS OFF) {sql}")))
        .bind(tsquery)
        .fetch_all(pool)
        .await?;
    let remote: Vec<&String> = lines.iter().filter(|l| l.contains("Remote SQL")).collect();
    let async_scans = lines.iter().filter(|l| l.contains("Async Foreign Scan")).count();
    Ok((async_scans, !remote.is_empty() && remote.iter().all(|l| l.contains("LIMIT"))))
}
