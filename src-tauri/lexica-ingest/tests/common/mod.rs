//! Shared test support: the corpus, throwaway PostgreSQL databases, small input files.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The full shared corpus (1,663 opinions); CI has `shared/` beside the checkout the same way.
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");
pub const CORPUS_OPINIONS: u64 = 1_663;

/// Louisiana & W. R. Co. v. Gardiner, 273 U.S. 280 (1927), and a phrase from its body.
pub const KNOWN_ID: &str = "courtlistener-opinion:101010";
pub const KNOWN_PHRASE: &str =
    "Suits for loss, damage or delay shall be instituted only within two years and one day after delivery";

/// The corpus as JSON objects keyed by `source_id`.
pub fn corpus_records() -> HashMap<String, serde_json::Value> {
    let file = std::fs::File::open(CORPUS).expect("the shared corpus at ../shared/corpus (see CORPUS)");
    BufReader::new(flate2::read::MultiGzDecoder::new(file))
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            (v["source_id"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// A throwaway database on the test cluster (`LEXICA_TEST_PG_URL`).
pub struct TestDb {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDb {
    /// Creates a uniquely named database. Without `LEXICA_TEST_PG_URL`: fails under CI (env
    /// `CI` set), otherwise returns `None` after printing why the test is skipped.
    pub async fn create(prefix: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var("LEXICA_TEST_PG_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "LEXICA_TEST_PG_URL is not set but CI is: PostgreSQL tests must run in CI \
                 (start one with tests/support/pg-cluster.sh start /tmp/lexica-pg 54329)"
            );
            eprintln!("SKIPPED {prefix}: set LEXICA_TEST_PG_URL to run the PostgreSQL tests");
            return None;
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("lexica_ingest_{prefix}_{}_{}", std::process::id(), nanos % 1_000_000_000);
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect to LEXICA_TEST_PG_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        Some(Self { url: url.to_string(), admin_url, name })
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// Drops the database (call at the end of a passing test; a failing one leaves it for inspection).
    pub async fn drop_db(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
}

/// Writes `lines` (each a JSON Lines line) to `dir/name`, gzip-compressed when the name ends in `.gz`.
pub fn write_lines(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    if name.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(&path, text).unwrap();
    }
    path
}

/// A valid record line.
pub fn record(source_id: &str, case_name: &str, date: Option<&str>, body: &str) -> serde_json::Value {
    serde_json::json!({
        "source_id": source_id,
        "case_name": case_name,
        "citation": null,
        "court": "Court of Appeals of New York",
        "jurisdiction": "NY",
        "decided_on": date,
        "docket_number": "No. 1",
        "body": body,
    })
}

/// A progress callback that checks updates are sane.
pub fn check_progress(p: lexica_ingest::Progress) {
    assert!(p.records >= p.rejected);
    assert!(p.elapsed_secs >= 0.0);
    if let Some(f) = p.fraction() {
        assert!((0.0..=1.0).contains(&f));
    }
}
