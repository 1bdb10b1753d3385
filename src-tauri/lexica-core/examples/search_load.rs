//! Load benchmark of parallel multi-source search (issue note figures): 32 searches at once over
//! 4 sources (3 PostgreSQL databases and 1 SQLite bundle built from the shared corpus, pool size
//! 5 each), several rounds. Prints per-search wall time p50/p95/max, the executions' final states,
//! and the parallelism ratio (sum of source times / wall time) of a lone search.
//!
//! ```text
//! LEXICA_TEST_PG_URL=postgres://postgres:PW@127.0.0.1:PORT/postgres \
//!   cargo run --release -p lexica-core --example search_load -- [ROUNDS]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{ExecutionStatus, PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchRequest};
use lexica_core::{Lexica, db};
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");
const QUERIES: &[&str] = &[
    "negligence",
    "\"due process\"",
    "contract & breach",
    "evidence /s hearsay",
    "jurisdiction",
    "tax!",
    "search & seizure",
    "\"summary judgment\" /p standard",
    "court",
    "ti(united) & commerce",
];

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let pg = std::env::var("LEXICA_TEST_PG_URL").expect("set LEXICA_TEST_PG_URL to a PostgreSQL superuser URL");
    let work = tempfile::tempdir().unwrap();

    // The corpus split four ways by court, as the search tests do (all 1,663 opinions).
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(CORPUS).unwrap()));
    let names = ["scotus", "first", "other", "bundle"];
    let mut files: Vec<std::fs::File> =
        names.iter().map(|n| std::fs::File::create(work.path().join(n)).unwrap()).collect();
    for (i, line) in reader.lines().enumerate() {
        let line = line.unwrap();
        let court =
            serde_json::from_str::<serde_json::Value>(&line).unwrap()["court"].as_str().unwrap_or("").to_string();
        let to = if court == "Supreme Court of the United States" {
            0
        } else if court.contains("First Circuit") {
            if i % 2 == 0 { 1 } else { 3 }
        } else {
            2
        };
        writeln!(files[to], "{line}").unwrap();
    }
    drop(files);
    let mut sources = Vec::new();
    let mut admin = sqlx::PgConnection::connect(&pg).await.unwrap();
    for name in &names[..3] {
        let db = format!("lexica_load_{name}_{}", std::process::id());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).execute(&mut admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
        let mut url = url::Url::parse(&pg).unwrap();
        url.set_path(&db);
        let started = Instant::now();
        lexica_ingest::ingest(&work.path().join(name), lexica_ingest::Target::parse(url.as_str()).unwrap(), &|_| {})
            .await
            .unwrap();
        eprintln!("built {db} in {:.1} s", started.elapsed().as_secs_f64());
        sources.push((format!("pg_{name}"), url));
    }
    let bundle = work.path().join("bundle.sqlite");
    lexica_ingest::ingest(&work.path().join("bundle"), lexica_ingest::Target::Sqlite(bundle.clone()), &|_| {})
        .await
        .unwrap();

    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    let lexica = Lexica::open_with_keychain(Some(work.path().join("home")), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&me, &me.username, db::DEMO_SOURCE_NAME).await.unwrap();
    for (name, url) in &sources {
        let mut clean = url.clone();
        let password = clean.password().unwrap_or_default().to_string();
        clean.set_password(None).unwrap();
        let changes = SourceChanges {
            display_name: Some(name.clone()),
            database_url: Some(Some(clean.to_string())),
            ..Default::default()
        };
        lexica.add_source(&me, name, changes).await.unwrap();
        lexica.set_source_password(&me, name, &Secret::new(password)).await.unwrap();
        lexica.grant(&me, &me.username, name, PermissionLevel::Read).await.unwrap();
    }
    let changes = SourceChanges {
        display_name: Some("bundle".into()),
        database_url: Some(Some(format!("sqlite:{}", bundle.display()))),
        ..Default::default()
    };
    lexica.add_source(&me, "bundle", changes).await.unwrap();
    lexica.grant(&me, &me.username, "bundle", PermissionLevel::Read).await.unwrap();

    let request = |q: &str| SearchRequest { query: q.into(), mode: SearchModeInput::Boolean, ..Default::default() };
    // Warm-up and the lone-search parallelism ratio.
    let mut ratios = Vec::new();
    for q in QUERIES {
        let out = lexica.search(&me, &request(q), CancellationToken::new(), Arc::new(|_| {})).await.unwrap();
        ratios.push(f64::from(out.summary.source_time_ms) / f64::from(out.summary.wall_time_ms.max(1)));
    }
    println!(
        "lone searches: sum of source times / wall time = {:.2} (mean over {} queries; 4 sources)",
        ratios.iter().sum::<f64>() / ratios.len() as f64,
        ratios.len()
    );

    let mut walls = Vec::new();
    let mut states: HashMap<ExecutionStatus, usize> = HashMap::new();
    for round in 0..rounds {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..32 {
            let (lexica, me, q) = (lexica.clone(), me.clone(), QUERIES[(i + round) % QUERIES.len()]);
            let req = request(q);
            tasks.spawn(async move {
                let t = Instant::now();
                let out = lexica.search(&me, &req, CancellationToken::new(), Arc::new(|_| {})).await.unwrap();
                (t.elapsed().as_secs_f64() * 1000.0, out)
            });
        }
        while let Some(r) = tasks.join_next().await {
            let (ms, out) = r.unwrap();
            walls.push(ms);
            for s in &out.sources {
                *states.entry(s.status).or_default() += 1;
            }
        }
        eprintln!("round {}: 32 searches in {:.0} ms", round + 1, started.elapsed().as_secs_f64() * 1000.0);
    }
    walls.sort_by(f64::total_cmp);
    let pct = |p: f64| walls[((walls.len() as f64 - 1.0) * p).round() as usize];
    println!("32 concurrent searches x {rounds} rounds over 4 sources (pool size 5 each):");
    println!("  per-search wall time: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms", pct(0.5), pct(0.95), pct(1.0));
    let mut states: Vec<_> = states.into_iter().map(|(s, n)| format!("{s} {n}")).collect();
    states.sort();
    println!("  executions: {}", states.join(", "));
    for (name, _) in &sources {
        let db = format!("lexica_load_{}_{}", name.trim_start_matches("pg_"), std::process::id());
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
    }
}
