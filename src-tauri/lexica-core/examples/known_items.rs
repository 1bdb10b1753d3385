//! Known-item check of the search language on the shared corpus (issue note figures):
//! for the 26 queries with a judged relevant opinion in the corpus (other than the citing
//! opinion), where does that opinion rank? Prints MRR@10 for Boolean mode (the researcher's query)
//! and statements mode (the topic text without the cited case names).
//!
//! ```text
//! cargo run --release -p lexica-core --example known_items -- [BUNDLE.sqlite]
//! ```
//! The bundle (the full corpus) is built with Lexica's ingest if the file does not exist.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use lexica_core::credentials::Keychain;
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchRequest};
use lexica_core::{Lexica, db};
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

#[tokio::main]
async fn main() {
    let bundle = std::env::args().nth(1).unwrap_or_else(|| "/tmp/lexica-known-items.sqlite".into());
    let bundle = std::path::PathBuf::from(bundle);
    if !bundle.exists() {
        let target = lexica_ingest::Target::Sqlite(bundle.clone());
        lexica_ingest::ingest(format!("{SHARED}/opinions.jsonl.gz").as_ref(), target, &|_| {}).await.unwrap();
    }
    // Internal id → CourtListener id, to read the judgments.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=ro", bundle.display())).await.unwrap();
    let ids: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, source_id FROM opinions").fetch_all(&mut conn).await.unwrap();
    let cl_of: HashMap<i64, String> =
        ids.into_iter().map(|(id, s)| (id, s.rsplit(':').next().unwrap_or_default().to_string())).collect();
    let in_corpus: HashSet<String> = cl_of.values().cloned().collect();

    let mut relevant: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for line in std::fs::read_to_string(format!("{SHARED}/qrels.txt")).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 4 && f[3].parse::<i32>().unwrap_or(0) >= 1 {
            relevant.entry((f[0].into(), f[1].into())).or_default().insert(f[2].into());
        }
    }

    let home = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    let lexica = Lexica::open_with_keychain(Some(home.path().into()), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&me, &me.username, db::DEMO_SOURCE_NAME).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Corpus".into()),
        database_url: Some(Some(format!("sqlite:{}", bundle.display()))),
        ..Default::default()
    };
    lexica.add_source(&me, "corpus", changes).await.unwrap();
    lexica.grant(&me, &me.username, "corpus", PermissionLevel::Read).await.unwrap();

    let mut rr = HashMap::from([("boolean", Vec::new()), ("statements", Vec::new())]);
    let mut refused = 0;
    println!("{:<12} {:>8} {:>11}", "query", "boolean", "statements");
    for line in std::fs::read_to_string(format!("{SHARED}/legal_boolean_queries.jsonl")).unwrap().lines() {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        if q["relevant_docs_in_corpus_excl_source"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let citing = q["citing_case"]["courtlistener_id"].to_string();
        let key = (q["collection"].as_str().unwrap().to_string(), q["topic_id"].as_str().unwrap().to_string());
        let wanted: HashSet<String> = relevant
            .get(&key)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| *id != citing && in_corpus.contains(id))
            .collect();
        let mut topic = q["topic_text"].as_str().unwrap().to_string();
        for cited in q["cited_cases"].as_array().into_iter().flatten() {
            topic = topic.replace(cited.as_str().unwrap_or(""), " ");
        }
        let mut row = Vec::new();
        for (mode, text, input) in [
            ("boolean", q["query"].as_str().unwrap().to_string(), SearchModeInput::Boolean),
            ("statements", topic, SearchModeInput::Statements),
        ] {
            let request = SearchRequest { query: text, mode: input, ..Default::default() };
            let rank = match lexica.search(&me, &request, CancellationToken::new(), Arc::new(|_| {})).await {
                Ok(out) => out
                    .hits
                    .iter()
                    .map(|h| cl_of.get(&h.sources[0].opinion_id).cloned().unwrap_or_default())
                    .filter(|cl| *cl != citing)
                    .position(|cl| wanted.contains(&cl))
                    .map(|p| p + 1),
                Err(_) => {
                    refused += 1;
                    None
                }
            };
            let reciprocal = rank.filter(|r| *r <= 10).map_or(0.0, |r| 1.0 / r as f64);
            rr.get_mut(mode).unwrap().push(reciprocal);
            row.push(rank.map_or("-".to_string(), |r| r.to_string()));
        }
        println!("{:<12} {:>8} {:>11}", q["query_id"].as_str().unwrap(), row[0], row[1]);
    }
    let mrr = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!("queries: {}  (refused as malformed: {refused})", rr["boolean"].len());
    println!("MRR@10 boolean:    {:.3}", mrr(&rr["boolean"]));
    println!("MRR@10 statements: {:.3}", mrr(&rr["statements"]));
}
