//! Source connections against a real PostgreSQL 15: a pool per source, each failure its own,
//! live reload on edit, read-only connections, and the source doctor. The keychain here is
//! keyring-core's mock store; the real Secret Service has its own suite (keychain.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::SourceChanges;
use lexica_core::sources::SourcePool;
use lexica_core::sources::doctor::CheckStatus;
use lexica_core::{DataSource, Lexica, User};

async fn install() -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    (dir, lexica, admin)
}

async fn add(lexica: &Lexica, admin: &User, name: &str, url: &str) -> DataSource {
    let changes = SourceChanges {
        display_name: Some(name.to_string()),
        database_url: Some(Some(url.to_string())),
        ..SourceChanges::default()
    };
    lexica.add_source(admin, name, changes).await.unwrap()
}

/// Three sources: two healthy ones with their own roles and passwords, and one per failure.
#[tokio::test]
async fn each_source_fails_alone_with_its_own_reason() {
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install().await;
    let db_a = support::opinion_database(&pg, 3).await;
    let db_b = support::opinion_database(&pg, 5).await;
    let role_a = support::reader_role(&pg, &db_a, "pw-a-correct").await;
    let role_b = support::reader_role(&pg, &db_b, "pw-b-correct").await;
    let empty = support::empty_database(&pg).await;

    let a = add(&lexica, &admin, "good_a", &support::url_for(&pg, &role_a, &db_a)).await;
    lexica.set_source_password(&admin, "good_a", &Secret::new("pw-a-correct")).await.unwrap();
    let b = add(&lexica, &admin, "good_b", &support::url_for(&pg, &role_b, &db_b)).await;
    lexica.set_source_password(&admin, "good_b", &Secret::new("pw-b-correct")).await.unwrap();
    let wrong = add(&lexica, &admin, "wrong_pw", &support::url_for(&pg, &role_a, &db_a)).await;
    lexica.set_source_password(&admin, "wrong_pw", &Secret::new("not-the-password")).await.unwrap();
    let no_pw = add(&lexica, &admin, "no_pw", &support::url_for(&pg, &role_a, &db_a)).await;
    let down_url = format!("postgres://postgres@127.0.0.1:{}/postgres", support::port(&pg) + 1);
    let down = add(&lexica, &admin, "stopped", &down_url).await;
    let missing = add(
        &lexica,
        &admin,
        "no_table",
        &support::url_with_db(&pg, &empty).replace("postgres:lexica-test-superuser@", "postgres@"),
    )
    .await;
    lexica.set_source_password(&admin, "no_table", &Secret::new("lexica-test-superuser")).await.unwrap();
    let unknown_db = add(&lexica, &admin, "no_db", &support::url_for(&pg, &role_a, "does_not_exist")).await;
    lexica.set_source_password(&admin, "no_db", &Secret::new("pw-a-correct")).await.unwrap();

    // All at once, as a search would: the failures do not disturb the healthy sources.
    let (ra, rb, rw, rn, rd, rm, ru) = tokio::join!(
        lexica.source_opinion_count(&a),
        lexica.source_opinion_count(&b),
        lexica.source_opinion_count(&wrong),
        lexica.source_opinion_count(&no_pw),
        lexica.source_opinion_count(&down),
        lexica.source_opinion_count(&missing),
        lexica.source_opinion_count(&unknown_db),
    );
    assert_eq!(ra.unwrap(), 3);
    assert_eq!(rb.unwrap(), 5);
    let message = |r: lexica_core::Result<i64>| r.unwrap_err().to_string();
    let w = message(rw);
    assert!(w.starts_with("source `wrong_pw`: the server refused the password for role"), "{w}");
    assert!(!w.contains("not-the-password"));
    let n = message(rn);
    assert!(n.contains("wants a password") && n.contains("set-password no_pw"), "{n}");
    let d = message(rd);
    assert!(d.contains("nothing is listening at 127.0.0.1"), "{d}");
    let m = message(rm);
    assert!(m.contains("has no `opinions` table"), "{m}");
    let u = message(ru);
    assert!(u.contains("database does_not_exist does not exist"), "{u}");
}

#[tokio::test]
async fn one_pool_per_source_reused_until_the_source_changes() {
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install().await;
    let db_small = support::opinion_database(&pg, 2).await;
    let db_large = support::opinion_database(&pg, 7).await;
    let src =
        add(&lexica, &admin, "firm", &support::url_with_db(&pg, &db_small).replace(":lexica-test-superuser", "")).await;
    lexica.set_source_password(&admin, "firm", &Secret::new("lexica-test-superuser")).await.unwrap();

    let first = lexica.source_pool(&src).await.unwrap();
    let again = lexica.source_pool(&src).await.unwrap();
    let (SourcePool::Postgres(p1), SourcePool::Postgres(p2)) = (&first, &again) else { panic!("postgres pools") };
    sqlx::query("SELECT 1").execute(p1).await.unwrap();
    assert_eq!(p2.size(), p1.size(), "the same pool is handed out twice");
    assert_eq!(p1.options().get_max_connections(), 5, "the source's pool size");
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout").fetch_one(p1).await.unwrap();
    assert_eq!(timeout, "30s");
    let app: String = sqlx::query_scalar("SHOW application_name").fetch_one(p1).await.unwrap();
    assert_eq!(app, "lexica");
    assert_eq!(lexica.source_opinion_count(&src).await.unwrap(), 2);

    // An edit takes effect on the next call, without a restart; the old pool still serves
    // whoever holds it until it closes.
    let url = support::url_with_db(&pg, &db_large).replace(":lexica-test-superuser", "");
    let changes = SourceChanges { database_url: Some(Some(url)), query_timeout_ms: Some(4_000), ..Default::default() };
    lexica.edit_source(&admin, "firm", changes).await.unwrap();
    assert_eq!(lexica.source_opinion_count(&src).await.unwrap(), 7, "the stale row passed in is re-read");
    let SourcePool::Postgres(p3) = lexica.source_pool(&src).await.unwrap() else { panic!() };
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout").fetch_one(&p3).await.unwrap();
    assert_eq!(timeout, "4s");

    // A new password also means a new pool.
    lexica.set_source_password(&admin, "firm", &Secret::new("wrong-now")).await.unwrap();
    let err = lexica.source_opinion_count(&src).await.unwrap_err().to_string();
    assert!(err.contains("refused the password"), "{err}");

    // Disabled: refused before any connection is tried.
    lexica.set_source_active(&admin, "firm", false).await.unwrap();
    let err = lexica.source_opinion_count(&src).await.unwrap_err().to_string();
    assert!(err.contains("disabled"), "{err}");
}

#[tokio::test]
async fn source_connections_refuse_writes() {
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install().await;
    let db = support::opinion_database(&pg, 1).await;
    // Even connected as the superuser, the session is read-only by default.
    let src = add(&lexica, &admin, "firm", &support::url_with_db(&pg, &db).replace(":lexica-test-superuser", "")).await;
    lexica.set_source_password(&admin, "firm", &Secret::new("lexica-test-superuser")).await.unwrap();
    let SourcePool::Postgres(pool) = lexica.source_pool(&src).await.unwrap() else { panic!() };
    for write in [
        "INSERT INTO opinions (source_id, case_name, court, body, search_vector) VALUES ('x', 'x', 'x', 'x', '')",
        "DELETE FROM opinions",
        "CREATE TABLE sneaky (id int)",
    ] {
        let err = sqlx::query(write).execute(&pool).await.unwrap_err();
        assert_eq!(err.as_database_error().unwrap().code().as_deref(), Some("25006"), "{write}");
    }
    assert_eq!(lexica.source_opinion_count(&src).await.unwrap(), 1);
}

#[tokio::test]
async fn the_doctor_reports_each_check() {
    let Some(pg) = support::pg_admin_url() else { return };
    let (_d, lexica, admin) = install().await;
    let db = support::opinion_database(&pg, 4).await;
    let role = support::reader_role(&pg, &db, "doctor-pw").await;
    add(&lexica, &admin, "healthy", &support::url_for(&pg, &role, &db)).await;
    lexica.set_source_password(&admin, "healthy", &Secret::new("doctor-pw")).await.unwrap();
    let report = lexica.test_source(&admin, "healthy").await.unwrap();
    let by_name = |r: &lexica_core::sources::doctor::DoctorReport, n: &str| {
        r.checks.iter().find(|c| c.name == n).cloned().unwrap_or_else(|| panic!("no {n} check in {r:?}"))
    };
    assert_eq!(report.status(), CheckStatus::Ok, "{report:#?}");
    assert!(by_name(&report, "connection").message.contains("PostgreSQL 15"), "{report:#?}");
    assert!(by_name(&report, "full-text index").message.contains("opinions_search_vector_idx"), "{report:#?}");
    assert_eq!(by_name(&report, "rows").message, "4 opinions");
    assert_eq!(by_name(&report, "role privileges").status, CheckStatus::Ok);
    assert_eq!(by_name(&report, "ranking statistics").status, CheckStatus::Ok, "{report:#?}");
    assert_eq!(by_name(&report, "postings").status, CheckStatus::Ok, "{report:#?}");

    // A source without Lexica's ranking statistics (an existing firm database) still works; the
    // doctor says what it lacks and how to add it.
    let bare = support::opinion_database(&pg, 2).await;
    let mut conn = support::admin(&support::url_with_db(&pg, &bare)).await;
    support::exec(&mut conn, "DROP TABLE lexica_corpus_stats, lexica_term_stats, opinion_lengths").await;
    add(&lexica, &admin, "no_statistics", &support::url_with_db(&pg, &bare).replace(":lexica-test-superuser", ""))
        .await;
    lexica.set_source_password(&admin, "no_statistics", &Secret::new("lexica-test-superuser")).await.unwrap();
    let stats = by_name(&lexica.test_source(&admin, "no_statistics").await.unwrap(), "ranking statistics");
    assert_eq!(stats.status, CheckStatus::Warning);
    assert!(stats.message.contains("no ranking statistics") && stats.message.contains("lexica ingest"), "{stats:?}");
    let postings = by_name(&lexica.test_source(&admin, "no_statistics").await.unwrap(), "postings");
    assert_eq!(postings.status, CheckStatus::Warning);
    assert!(postings.message.contains("lexica ingest"), "{postings:?}");

    // The superuser can write: a warning recommending a SELECT-only role.
    add(&lexica, &admin, "as_superuser", &support::url_with_db(&pg, &db).replace(":lexica-test-superuser", "")).await;
    lexica.set_source_password(&admin, "as_superuser", &Secret::new("lexica-test-superuser")).await.unwrap();
    let report = lexica.test_source(&admin, "as_superuser").await.unwrap();
    assert_eq!(by_name(&report, "role privileges").status, CheckStatus::Warning);
    assert!(by_name(&report, "role privileges").message.contains("SELECT-only role"));
    assert_eq!(by_name(&report, "read-only").status, CheckStatus::Ok);

    // Drop the GIN index: EXPLAIN shows the search would read every row.
    let mut conn = support::admin(&support::url_with_db(&pg, &db)).await;
    support::exec(&mut conn, "DROP INDEX opinions_search_vector_idx").await;
    let report = lexica.test_source(&admin, "healthy").await.unwrap();
    assert_eq!(by_name(&report, "full-text index").status, CheckStatus::Error, "{report:#?}");

    // A database without the schema, a wrong password and a dead port: each its own sentence.
    let empty = support::empty_database(&pg).await;
    add(&lexica, &admin, "empty", &support::url_with_db(&pg, &empty).replace(":lexica-test-superuser", "")).await;
    lexica.set_source_password(&admin, "empty", &Secret::new("lexica-test-superuser")).await.unwrap();
    let report = lexica.test_source(&admin, "empty").await.unwrap();
    assert!(by_name(&report, "opinions").message.contains("there is no `opinions` table"));
    lexica.set_source_password(&admin, "healthy", &Secret::new("nope")).await.unwrap();
    let report = lexica.test_source(&admin, "healthy").await.unwrap();
    assert!(by_name(&report, "connection").message.contains("refused the password"));
    add(&lexica, &admin, "dead", &format!("postgres://x@127.0.0.1:{}/x", support::port(&pg) + 1)).await;
    let started = std::time::Instant::now();
    let report = lexica.test_source(&admin, "dead").await.unwrap();
    assert!(by_name(&report, "connection").message.contains("nothing is listening"));
    assert!(started.elapsed() < lexica_core::sources::CONNECT_TIMEOUT);
    add(&lexica, &admin, "no_dns", "postgres://x@no-such-host.invalid/x").await;
    let report = lexica.test_source(&admin, "no_dns").await.unwrap();
    assert!(by_name(&report, "connection").message.contains("does not resolve"), "{report:#?}");
}

/// The test cluster runs TLS with a throwaway CA, and its role `tls_only` may connect only over TLS.
#[tokio::test]
async fn tls_modes_and_root_certificates_per_source() {
    let Some(pg) = support::pg_admin_url() else { return };
    let ca = std::env::var("LEXICA_TEST_PG_CA").expect("tests/support/pg-cluster.sh exports LEXICA_TEST_PG_CA");
    let (_d, lexica, admin) = install().await;
    let db = support::opinion_database(&pg, 2).await;
    let mut conn = support::admin(&support::url_with_db(&pg, &db)).await;
    support::exec(&mut conn, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO tls_only").await;
    let base = support::url_for(&pg, "tls_only", &db);
    let with = |query: &str| format!("{base}?{query}");
    let password = Secret::new("lexica-tls-only");

    // verify-full with the firm's CA file: connected, and the session really is encrypted.
    let verified = add(&lexica, &admin, "tls_verified", &with(&format!("sslmode=verify-full&sslrootcert={ca}"))).await;
    lexica.set_source_password(&admin, "tls_verified", &password).await.unwrap();
    assert_eq!(lexica.source_opinion_count(&verified).await.unwrap(), 2);
    let SourcePool::Postgres(pool) = lexica.source_pool(&verified).await.unwrap() else { panic!() };
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetch_one(&pool).await.unwrap();
    assert!(encrypted);

    // Without TLS the server refuses this role, and Lexica says to turn TLS on.
    let plain = add(&lexica, &admin, "tls_off", &with("sslmode=disable")).await;
    lexica.set_source_password(&admin, "tls_off", &password).await.unwrap();
    let err = lexica.source_opinion_count(&plain).await.unwrap_err().to_string();
    assert!(err.contains("requires TLS: set sslmode=require"), "{err}");

    // verify-full without the CA: the certificate is not trusted, and the message says where to look.
    let untrusted = add(&lexica, &admin, "tls_no_ca", &with("sslmode=verify-full")).await;
    lexica.set_source_password(&admin, "tls_no_ca", &password).await.unwrap();
    let err = lexica.source_opinion_count(&untrusted).await.unwrap_err().to_string();
    assert!(err.contains("TLS connection") && err.contains("sslrootcert"), "{err}");
    let report = lexica.test_source(&admin, "tls_no_ca").await.unwrap();
    assert!(report.checks.iter().any(|c| c.name == "connection" && c.message.contains("TLS")), "{report:#?}");
}
