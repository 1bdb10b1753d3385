//! How far the fast path is from ranking every match (issue 11's quality figures): every query
//! is searched twice in one process on warm pools, once as users search (the fast path where a
//! source has postings and many matches) and once with `exhaustive` (every match checked and
//! scored), and the two top-100 lists are compared.
//!
//! ```text
//! cargo run --release -p lexica-core --example fast_vs_exact -- --home LEXICA_HOME QUERIES_FILE \
//!     [--statements] [--source NAME]… [--ids URL] [--json PATH]
//! ```
//! `QUERIES_FILE`: one query per line, or the corpus's `legal_boolean_queries.jsonl` (its `query`,
//! or with `--statements` its `topic_text`). The home's sources must be searchable by the OS
//! user without a prompt (see tests/bench/scale.sh, which sets such a home up).
//!
//! Prints per query: overlap@100 and @10 of the two lists (shared hits / hits of the exhaustive
//! list, as (source, opinion id)), and each run's wall time; then mean and minimum overlap, the
//! share of queries with overlap@100 ≥ 0.95, and the median/p95 times and their ratio.
//!
//! `--ids URL` (`sqlite:/path` or `postgres://…` of a source holding the shared corpus's real
//! opinions beside generated ones) adds the known-item figures: for the 26 queries with a
//! judged relevant opinion in the corpus, MRR@10 of both runs (Boolean mode, the first relevant
//! opinion other than the citing one; see examples/known_items.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use lexica_core::Lexica;
use lexica_core::search::{Hit, SearchModeInput, SearchRequest};
use tokio_util::sync::CancellationToken;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn usage() -> ! {
    eprintln!("usage: fast_vs_exact --home DIR QUERIES_FILE [--statements] [--source NAME]… [--ids URL] [--json PATH]");
    std::process::exit(2)
}

fn key(h: &Hit) -> (String, i64) {
    (h.sources[0].source_name.clone(), h.sources[0].opinion_id)
}

fn overlap(fast: &[Hit], exact: &[Hit], k: usize) -> f64 {
    let want: HashSet<_> = exact.iter().take(k).map(key).collect();
    if want.is_empty() {
        return 1.0;
    }
    fast.iter().take(k).filter(|h| want.contains(&key(h))).count() as f64 / want.len() as f64
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return 0.0;
    }
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

/// Opinion id → CourtListener id of the source's real opinions.
async fn courtlistener_ids(url: &str) -> HashMap<i64, String> {
    let sql = "SELECT id, source_id FROM opinions WHERE source_id LIKE 'courtlistener%'";
    let rows: Vec<(i64, String)> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    };
    rows.into_iter().map(|(id, s)| (id, s.rsplit(':').next().unwrap_or_default().to_string())).collect()
}

#[tokio::main]
async fn main() {
    let (mut home, mut file, mut statements, mut sources, mut ids_url, mut json_path) =
        (None, None, false, Vec::new(), None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--home" => home = Some(args.next().unwrap_or_else(|| usage())),
            "--statements" => statements = true,
            "--source" => sources.push(args.next().unwrap_or_else(|| usage())),
            "--ids" => ids_url = Some(args.next().unwrap_or_else(|| usage())),
            "--json" => json_path = Some(args.next().unwrap_or_else(|| usage())),
            x if x.starts_with("--") => usage(),
            _ => file = Some(a),
        }
    }
    let (Some(home), Some(file)) = (home, file) else { usage() };
    let mode = if statements { SearchModeInput::Statements } else { SearchModeInput::Boolean };
    let queries: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| serde_json::json!({ "query": l })))
        .collect();

    let lexica = Lexica::open(Some(home.into())).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    let run = async |text: &str, exhaustive: bool| -> Option<(Vec<Hit>, f64)> {
        let request = SearchRequest {
            query: text.to_string(),
            mode,
            sources: sources.clone(),
            exhaustive: Some(exhaustive),
            deadline_ms: Some(600_000),
            ..Default::default()
        };
        let started = Instant::now();
        let out = lexica.search(&me, &request, CancellationToken::new(), Arc::new(|_| {})).await.ok()?;
        Some((out.hits, started.elapsed().as_secs_f64() * 1000.0))
    };

    let cl = match &ids_url {
        Some(u) => courtlistener_ids(u).await,
        None => HashMap::new(),
    };
    let mut relevant: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for line in std::fs::read_to_string(format!("{SHARED}/qrels.txt")).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 4 && f[3].parse::<i32>().unwrap_or(0) >= 1 {
            relevant.entry((f[0].into(), f[1].into())).or_default().insert(f[2].into());
        }
    }
    let in_source: HashSet<&String> = cl.values().collect();
    let reciprocal = |hits: &[Hit], q: &serde_json::Value| -> Option<f64> {
        if cl.is_empty() || q["relevant_docs_in_corpus_excl_source"].as_u64().unwrap_or(0) == 0 {
            return None;
        }
        let citing = q["citing_case"]["courtlistener_id"].to_string();
        let topic = (q["collection"].as_str()?.to_string(), q["topic_id"].as_str()?.to_string());
        let wanted: HashSet<&String> =
            relevant.get(&topic)?.iter().filter(|id| **id != citing && in_source.contains(id)).collect();
        let mut rank = 0;
        for h in hits {
            let Some(id) = cl.get(&h.sources[0].opinion_id) else {
                rank += 1;
                continue;
            };
            if *id == citing {
                continue;
            }
            rank += 1;
            if wanted.contains(id) {
                return Some(if rank <= 10 { 1.0 / rank as f64 } else { 0.0 });
            }
        }
        Some(0.0)
    };

    println!("{:<60} {:>8} {:>7} {:>9} {:>9}", "query", "ovl@100", "ovl@10", "fast ms", "exact ms");
    let (mut o100, mut o10, mut fast_ms, mut exact_ms, mut rr_fast, mut rr_exact) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for q in &queries {
        let field = if statements { "topic_text" } else { "query" };
        let Some(text) = q[field].as_str() else { continue };
        // Warm-up (pools, caches), then one run each way.
        if run(text, false).await.is_none() {
            continue;
        }
        let (Some((fast, f_ms)), Some((exact, e_ms))) = (run(text, false).await, run(text, true).await) else {
            continue;
        };
        let (a, b) = (overlap(&fast, &exact, 100), overlap(&fast, &exact, 10));
        if let (Some(x), Some(y)) = (reciprocal(&fast, q), reciprocal(&exact, q)) {
            rr_fast.push(x);
            rr_exact.push(y);
        }
        let shown: String = text.chars().take(58).collect();
        println!("{shown:<60} {a:>8.3} {b:>7.3} {f_ms:>9.1} {e_ms:>9.1}");
        rows.push(serde_json::json!({ "query": text, "overlap_at_100": a, "overlap_at_10": b,
                                      "fast_ms": f_ms, "exact_ms": e_ms }));
        o100.push(a);
        o10.push(b);
        fast_ms.push(f_ms);
        exact_ms.push(e_ms);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let min = |v: &[f64]| v.iter().copied().fold(1.0_f64, f64::min);
    let good = o100.iter().filter(|x| **x >= 0.95).count();
    println!();
    println!("queries: {}", o100.len());
    println!("overlap@100: mean {:.3}, min {:.3}, ≥ 0.95 for {good} of {}", mean(&o100), min(&o100), o100.len());
    println!("overlap@10:  mean {:.3}, min {:.3}", mean(&o10), min(&o10));
    let (fp50, fp95, ep50, ep95) = (
        percentile(&fast_ms, 0.5),
        percentile(&fast_ms, 0.95),
        percentile(&exact_ms, 0.5),
        percentile(&exact_ms, 0.95),
    );
    println!(
        "wall ms: fast p50 {fp50:.1} p95 {fp95:.1}; exhaustive p50 {ep50:.1} p95 {ep95:.1}; ratio p50 {:.1}× p95 {:.1}×",
        ep50 / fp50.max(0.001),
        ep95 / fp95.max(0.001)
    );
    if !rr_fast.is_empty() {
        println!(
            "known items ({}): MRR@10 fast {:.3}, exhaustive {:.3}",
            rr_fast.len(),
            mean(&rr_fast),
            mean(&rr_exact)
        );
    }
    if let Some(path) = json_path {
        let report = serde_json::json!({
            "queries": rows.len(),
            "overlap_at_100": { "mean": mean(&o100), "min": min(&o100), "at_least_0_95": good },
            "overlap_at_10": { "mean": mean(&o10), "min": min(&o10) },
            "fast_ms": { "p50": fp50, "p95": fp95 },
            "exhaustive_ms": { "p50": ep50, "p95": ep95 },
            "known_items": { "queries": rr_fast.len(), "mrr_at_10_fast": mean(&rr_fast), "mrr_at_10_exhaustive": mean(&rr_exact) },
            "per_query": rows,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
        println!("figures written to {path}");
    }
}
