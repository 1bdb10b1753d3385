//! Shared helpers for tests against a real PostgreSQL (the throwaway cluster `tests/run-all.sh`
//! starts) and, where named, the real Secret Service keychain.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use sqlx::Connection;

/// The superuser URL of the test cluster. In CI its absence fails the test; elsewhere the test
/// is skipped with a notice (returns `None`).
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("LEXICA_TEST_PG_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("LEXICA_TEST_PG_URL is not set in CI: tests/run-all.sh must start the Postgres cluster")
        }
        Err(_) => {
            eprintln!(
                "skipped: LEXICA_TEST_PG_URL is not set (run tests/run-all.sh, or start tests/support/pg-cluster.sh)"
            );
            None
        }
    }
}

/// Whether the real keychain is there (tests/support/in-keyring-session.sh sets the flag).
/// Missing in CI fails; elsewhere the test is skipped with a notice.
pub fn real_keyring() -> bool {
    if std::env::var_os("LEXICA_TEST_KEYRING").is_some() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("LEXICA_TEST_KEYRING is not set in CI: tests must run inside tests/support/in-keyring-session.sh");
    }
    eprintln!("skipped: no test keychain session (run tests/run-all.sh)");
    false
}

/// A unique name for a database or role made by one test.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple().to_string().get(..12).unwrap_or("x"))
}

/// The URL of database `db` on the test cluster as `user` (no password in it, as Lexica requires).
pub fn url_for(admin_url: &str, user: &str, db: &str) -> String {
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_username(user).unwrap();
    url.set_password(None).unwrap();
    url.set_path(db);
    url.to_string()
}

pub async fn admin(admin_url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(admin_url).await.unwrap()
}

/// Runs trusted test DDL (names made by [`unique`], never user input).
pub async fn exec(conn: &mut sqlx::PgConnection, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Creates a database with the Lexica source schema (ranking statistics included) and `n` small
/// opinions; returns its name.
pub async fn opinion_database(admin_url: &str, n: usize) -> String {
    let name = unique("src");
    let mut conn = admin(admin_url).await;
    exec(&mut conn, &format!("CREATE DATABASE {name}")).await;
    let mut db = sqlx::PgConnection::connect(&url_with_db(admin_url, &name)).await.unwrap();
    let schema = include_str!("../../../../migrations/source-postgres/0001_opinions.sql");
    sqlx::raw_sql(schema).execute(&mut db).await.unwrap();
    for i in 0..n {
        sqlx::query(
            "INSERT INTO opinions (source_id, case_name, court, body, search_vector)
             VALUES ($1, $2, 'Test Court', 'The duty of care.', to_tsvector('simple', 'the duty of care'))",
        )
        .bind(format!("test:{i}"))
        .bind(format!("Case {i}"))
        .execute(&mut db)
        .await
        .unwrap();
    }
    let statistics = include_str!("../../../../migrations/source-postgres/0003_statistics.sql");
    sqlx::raw_sql(statistics).execute(&mut db).await.unwrap();
    // What `lexica ingest` would keep for these opinions (case name and court 2 words, body 4).
    sqlx::raw_sql(
        "INSERT INTO opinion_lengths SELECT id, 2, 0, 2, 4 FROM opinions;
         INSERT INTO lexica_term_stats SELECT lexeme, count(*) FROM opinions, unnest(tsvector_to_array(search_vector)) lexeme GROUP BY 1;
         INSERT INTO lexica_corpus_stats (opinions, case_name_words, citation_words, court_words, body_words)
              SELECT count(*), 2 * count(*), 0, 2 * count(*), 4 * count(*) FROM opinions;",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let postings = include_str!("../../../../migrations/source-postgres/0004_postings.sql");
    sqlx::raw_sql(postings).execute(&mut db).await.unwrap();
    // Every posting (so few opinions, each term's all), impact 1: what the fast path would read.
    sqlx::raw_sql(
        "INSERT INTO lexica_postings SELECT lexeme, 1, id, 1 FROM opinions, unnest(tsvector_to_array(search_vector)) lexeme;
         UPDATE lexica_corpus_stats SET postings_per_term = 1000;",
    )
    .execute(&mut db)
    .await
    .unwrap();
    name
}

/// An empty database (no opinions table): the "wrong schema" source.
pub async fn empty_database(admin_url: &str) -> String {
    let name = unique("empty");
    exec(&mut admin(admin_url).await, &format!("CREATE DATABASE {name}")).await;
    name
}

/// A login role with a password, allowed to read `db`'s opinions.
pub async fn reader_role(admin_url: &str, db: &str, password: &str) -> String {
    let role = unique("reader");
    let mut conn = admin(admin_url).await;
    exec(&mut conn, &format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'")).await;
    let mut dbc = sqlx::PgConnection::connect(&url_with_db(admin_url, db)).await.unwrap();
    exec(&mut dbc, &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")).await;
    role
}

pub fn url_with_db(admin_url: &str, db: &str) -> String {
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(db);
    url.to_string()
}

/// The cluster's port (tests point sources at a dead port next to it).
pub fn port(admin_url: &str) -> u16 {
    url::Url::parse(admin_url).unwrap().port().unwrap()
}

/// A log writer a test reads back (a `tracing_subscriber` writer).
#[derive(Clone, Default)]
pub struct Log(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
