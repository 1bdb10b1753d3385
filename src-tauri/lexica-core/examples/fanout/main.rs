//! Fan-out benchmark (issue 11, item 7): Lexica's parallel search over K PostgreSQL sources, each
//! behind its own delaying TCP proxy on loopback, against its peers: the same searches one source
//! after another, the slowest source alone, and `postgres_fdw` async foreign scans.
//!
//! ```text
//! LEXICA_TEST_PG_URL=postgres://postgres:PW@127.0.0.1:PORT/postgres \
//!   cargo run --release -p lexica-core --example fanout -- \
//!   [--sources 2,4,8] [--latency-ms 0,20] [--repeat N] [--corpus-queries N] [--json] [--drop]
//! ```
//! How to run it and what each figure means: `tests/bench/FANOUT.md`. In short, for every K and
//! base round-trip time (RTT), after a warm-up (each way once on the common terms), each query runs
//! N times four ways, the ways interleaved per query so that noise on this shared machine hits them
//! alike:
//! - `lexica`: one `Lexica::search` over the K sources (the real core: dfs statistics, retrieval,
//!   check, BM25F, snippets, history);
//! - `sequential`: K `Lexica::search` calls, one source each, one after another (their sum);
//! - `slowest_alone`: one `Lexica::search` on the source with the largest RTT;
//! - `postgres_fdw`: one statement on a coordinating database whose foreign servers
//!   (`async_capable 'true'`) reach the K sources through the same proxies: a `UNION ALL` of each
//!   source's top 100 by `ts_rank_cd`, ordered by rank, top 100. It ranks and returns ids only, so
//!   it does less work per source than Lexica; it is the floor of a database-side fan-out.
//!
//! Printed per (K, RTT): p50/p95 wall time of each way (ms, over queries × repeats) and the
//! ratios lexica / slowest_alone, sequential / lexica and fdw / lexica, each the median of the
//! per-(query, repeat) ratios of runs made back to back. `--json` prints the same as JSON.
//! `--drop` drops the benchmark's source databases at the end (they are kept for the next run).
//!
//! Layout: this file holds the arguments, the queries, the timed runs and the figures; `proxy`
//! the delaying TCP proxy; `systems` the source databases, the Lexica install and the fdw
//! coordinator.

mod proxy;
mod systems;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lexica_core::models::ExecutionStatus;
use lexica_core::search::{SearchModeInput, SearchRequest};
use lexica_core::{Lexica, User};
use lexica_query::{BindValue, Filters, Mode};
use serde_json::{Value, json};
use sqlx::postgres::PgPool;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use url::Url;

use systems::{DB_PREFIX, drop_databases, ensure_sources, fdw_plan, fdw_sql, open_coordinator, open_lexica, source_db};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
/// The terms the issue's scale figures use, searched first.
const COMMON_TERMS: [&str; 4] = ["court", "state", "jurisdiction & state", "hearsay"];
/// How many of the corpus's Boolean queries (the first ones, in file order, that parse), unless
/// `--corpus-queries N` says otherwise.
const DEFAULT_CORPUS_QUERIES: usize = 20;
const DEFAULT_SOURCES: [usize; 3] = [2, 4, 8];
const DEFAULT_RTT_MS: [u64; 2] = [0, 20];
const DEFAULT_REPEAT: usize = 5;
/// The four ways, in the order of every per-way array below.
const WAYS: [&str; 4] = ["lexica", "sequential", "slowest_alone", "postgres_fdw"];
const LEXICA: usize = 0;
const SEQUENTIAL: usize = 1;
const SLOWEST: usize = 2;
const FDW: usize = 3;

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(
        "usage: fanout [--sources 2,4,8] [--latency-ms 0,20] [--repeat N] [--corpus-queries N] [--json] [--drop] ({0})"
    )]
    Usage(String),
    #[error("{0}")]
    Setup(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("lexica: {0}")]
    Lexica(#[from] lexica_core::Error),
    #[error("ingest: {0}")]
    Ingest(#[from] lexica_ingest::IngestError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

struct Args {
    sources: Vec<usize>,
    rtt_ms: Vec<u64>,
    repeat: usize,
    json: bool,
    drop: bool,
    corpus_queries: usize,
}

fn parse_args() -> Result<Args, BenchError> {
    fn list<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<Vec<T>, BenchError> {
        let v = v.ok_or_else(|| BenchError::Usage(format!("{flag} needs a value")))?;
        v.split(',').map(|x| x.trim().parse().map_err(|_| BenchError::Usage(format!("{flag} {v}")))).collect()
    }
    let mut a = Args {
        sources: DEFAULT_SOURCES.to_vec(),
        rtt_ms: DEFAULT_RTT_MS.to_vec(),
        repeat: DEFAULT_REPEAT,
        json: false,
        drop: false,
        corpus_queries: DEFAULT_CORPUS_QUERIES,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--sources" => a.sources = list(&flag, it.next())?,
            "--latency-ms" => a.rtt_ms = list(&flag, it.next())?,
            "--repeat" => a.repeat = list::<usize>(&flag, it.next())?.first().copied().unwrap_or(0),
            "--corpus-queries" => {
                a.corpus_queries = list::<usize>(&flag, it.next())?.first().copied().unwrap_or(0);
            }
            "--json" => a.json = true,
            "--drop" => a.drop = true,
            other => return Err(BenchError::Usage(format!("unknown argument {other}"))),
        }
    }
    if a.repeat == 0 || a.sources.is_empty() || a.sources.contains(&0) || a.rtt_ms.is_empty() {
        return Err(BenchError::Usage("repeat and every K must be ≥ 1".into()));
    }
    Ok(a)
}

/// Round-trip time of source `i` of `k`: base × (1 + i/K), so the sources differ and the last one
/// is the slowest (at base 0 they are all equal and "slowest" is simply the last one).
fn rtt(base_ms: u64, i: usize, k: usize) -> Duration {
    Duration::from_secs_f64(base_ms as f64 / 1000.0 * (1.0 + i as f64 / k as f64))
}

// ---------------------------------------------------------------------------------------------
// Queries, runs and figures.

/// A query and the fdw way's tsquery for it (the first bind of its PostgreSQL plan).
struct BenchQuery {
    text: String,
    tsquery: String,
}

fn load_queries(corpus_queries: usize) -> Result<Vec<BenchQuery>, BenchError> {
    let compiled = |text: &str| -> Option<BenchQuery> {
        let query = lexica_query::parse(text, Mode::Boolean).ok()?;
        match lexica_query::postgres::compile(&query, &Filters::default()).binds.into_iter().next() {
            Some(BindValue::Text(tsquery)) => Some(BenchQuery { text: text.to_string(), tsquery }),
            _ => None,
        }
    };
    let mut out: Vec<BenchQuery> = COMMON_TERMS.iter().filter_map(|t| compiled(t)).collect();
    let file = std::fs::File::open(Path::new(SHARED).join("legal_boolean_queries.jsonl"))?;
    let common = out.len();
    for line in std::io::BufReader::new(file).lines() {
        if out.len() >= common + corpus_queries {
            break;
        }
        let record: Value = serde_json::from_str(&line?)?;
        if let Some(q) = record["query"].as_str().and_then(compiled) {
            out.push(q);
        }
    }
    Ok(out)
}

/// Everything one (K, RTT) run needs.
struct Run<'a> {
    lexica: &'a Lexica,
    me: &'a User,
    names: &'a [String],
    coordinator: &'a PgPool,
    fdw_sql: &'a str,
    /// Executions that did not complete (failed, timed out, cancelled), over every Lexica search.
    incomplete: usize,
    first_error: Option<String>,
}

impl Run<'_> {
    /// One Lexica search over `sources`; its wall time in ms.
    async fn search(&mut self, text: &str, sources: &[String]) -> Result<f64, BenchError> {
        let request = SearchRequest {
            query: text.to_string(),
            mode: SearchModeInput::Boolean,
            sources: sources.to_vec(),
            ..Default::default()
        };
        let started = Instant::now();
        let out = self.lexica.search(self.me, &request, CancellationToken::new(), Arc::new(|_| {})).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        for s in out.sources.iter().filter(|s| s.status != ExecutionStatus::Completed) {
            self.incomplete += 1;
            self.first_error.get_or_insert_with(|| format!("{} on {}: {} {:?}", text, s.name, s.status, s.error));
        }
        Ok(ms)
    }

    async fn way(&mut self, way: usize, q: &BenchQuery) -> Result<f64, BenchError> {
        let names = self.names;
        match way {
            LEXICA => self.search(&q.text, names).await,
            SEQUENTIAL => {
                let started = Instant::now();
                for name in names {
                    self.search(&q.text, std::slice::from_ref(name)).await?;
                }
                Ok(started.elapsed().as_secs_f64() * 1000.0)
            }
            SLOWEST => self.search(&q.text, &names[names.len() - 1..]).await,
            _ => {
                let started = Instant::now();
                sqlx::query(AssertSqlSafe(self.fdw_sql.to_string()))
                    .bind(&q.tsquery)
                    .fetch_all(self.coordinator)
                    .await?;
                Ok(started.elapsed().as_secs_f64() * 1000.0)
            }
        }
    }
}

/// Nearest-rank percentile (`p` in 0..=1) of unsorted samples.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (p * s.len() as f64).ceil() as usize;
    s.get(rank.clamp(1, s.len().max(1)) - 1).copied().unwrap_or(f64::NAN)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs one (K, RTT) configuration and returns its figures as JSON.
async fn run_config(
    args: &Args,
    admin: &Url,
    upstream: SocketAddr,
    proxies: &tokio::runtime::Handle,
    k: usize,
    base_ms: u64,
    queries: &[BenchQuery],
) -> Result<Value, BenchError> {
    let stop = CancellationToken::new();
    let mut ports = Vec::new();
    for i in 0..k {
        // The proxies run on their own runtime thread, so Lexica's work cannot hold a delayed chunk back.
        let started = proxies.spawn(proxy::start_proxy(upstream, rtt(base_ms, i, k) / 2, stop.clone()));
        ports.push(started.await.map_err(|e| BenchError::Setup(e.to_string()))??);
    }
    let home = tempfile::tempdir()?;
    let (lexica, me, names) = open_lexica(home.path(), admin, &ports).await?;
    let coordinator = open_coordinator(admin, &ports).await?;
    let sql = fdw_sql(k);
    let (async_scans, limit_pushed) = fdw_plan(&coordinator, &sql, &queries[0].tsquery).await?;
    let mut run = Run {
        lexica: &lexica,
        me: &me,
        names: &names,
        coordinator: &coordinator,
        fdw_sql: &sql,
        incomplete: 0,
        first_error: None,
    };
    let load_before = loadavg();
    let started = Instant::now();
    // Warm-up: pools, fdw connections and the server's caches, with the common terms (they touch
    // every opinion of every source).
    for q in &queries[..COMMON_TERMS.len().min(queries.len())] {
        for way in 0..WAYS.len() {
            run.way(way, q).await?;
        }
    }
    let mut samples: [Vec<f64>; 4] = Default::default();
    let mut ratios: [Vec<f64>; 3] = Default::default();
    for rep in 0..args.repeat {
        for (qi, q) in queries.iter().enumerate() {
            let mut ms = [0.0; 4];
            // Rotate which way goes first, so none always runs right after another's cache warm-up.
            for step in 0..WAYS.len() {
                let way = (rep + qi + step) % WAYS.len();
                ms[way] = run.way(way, q).await?;
            }
            for (w, m) in ms.iter().enumerate() {
                samples[w].push(*m);
            }
            ratios[0].push(ms[LEXICA] / ms[SLOWEST]);
            ratios[1].push(ms[SEQUENTIAL] / ms[LEXICA]);
            ratios[2].push(ms[FDW] / ms[LEXICA]);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (incomplete, first_error) = (run.incomplete, run.first_error.take());
    stop.cancel();
    lexica.close().await;
    coordinator.close().await;
    drop_databases(admin, &[format!("{DB_PREFIX}coord")]).await?;
    let ways: serde_json::Map<String, Value> = WAYS
        .iter()
        .zip(&samples)
        .map(|(w, s)| (w.to_string(), json!({"p50_ms": percentile(s, 0.5), "p95_ms": percentile(s, 0.95)})))
        .collect();
    let rtts: Vec<f64> = (0..k).map(|i| rtt(base_ms, i, k).as_secs_f64() * 1000.0).collect();
    Ok(json!({
        "sources": k, "base_rtt_ms": base_ms, "rtt_ms": rtts, "queries": queries.len(), "repeat": args.repeat,
        "samples_per_way": samples[0].len(), "ways": ways,
        "ratios": {
            "lexica_over_slowest": percentile(&ratios[0], 0.5),
            "sequential_over_lexica": percentile(&ratios[1], 0.5),
            "fdw_over_lexica": percentile(&ratios[2], 0.5),
        },
        "lexica_incomplete_executions": incomplete, "first_incomplete": first_error,
        "fdw_async_foreign_scans": async_scans, "fdw_limit_pushed_down": limit_pushed,
        "loadavg_before": load_before, "loadavg_after": loadavg(), "elapsed_s": elapsed,
    }))
}

async fn machine(admin: &Url) -> Result<Value, BenchError> {
    let mut conn = PgConnection::connect(admin.as_str()).await?;
    let pg: String = sqlx::query_scalar("SELECT version()").fetch_one(&mut conn).await?;
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string()));
    Ok(json!({
        "nproc": std::thread::available_parallelism().map(usize::from).unwrap_or(0), "cpu": cpu, "pg_version": pg,
        "git_commit": git(&["rev-parse", "HEAD"]), "worktree_dirty": !git(&["status", "--porcelain"]).is_empty(),
        "date": chrono::Utc::now().to_rfc3339(),
    }))
}

fn print_table(configs: &[Value]) {
    println!("| K | RTT ms (base; slowest) | way | p50 ms | p95 ms |");
    println!("| --- | --- | --- | --- | --- |");
    for c in configs {
        let slowest = c["rtt_ms"].as_array().and_then(|r| r.last()).and_then(Value::as_f64).unwrap_or(0.0);
        for w in WAYS {
            let way = &c["ways"][w];
            println!(
                "| {} | {}; {slowest:.1} | {w} | {:.1} | {:.1} |",
                c["sources"],
                c["base_rtt_ms"],
                way["p50_ms"].as_f64().unwrap_or(f64::NAN),
                way["p95_ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    println!(
        "\n| K | base RTT ms | lexica / slowest | sequential / lexica | fdw / lexica | incomplete | fdw async scans |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for c in configs {
        let r = &c["ratios"];
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {} | {} | {:.3} | {:.2} | {:.2} | {} | {} |",
            c["sources"],
            c["base_rtt_ms"],
            f("lexica_over_slowest"),
            f("sequential_over_lexica"),
            f("fdw_over_lexica"),
            c["lexica_incomplete_executions"],
            c["fdw_async_foreign_scans"]
        );
    }
}

async fn bench(args: Args) -> Result<(), BenchError> {
    let admin: Url = std::env::var("LEXICA_TEST_PG_URL")
        .map_err(|_| BenchError::Usage("set LEXICA_TEST_PG_URL to a PostgreSQL superuser URL".into()))?
        .parse()
        .map_err(|e| BenchError::Usage(format!("LEXICA_TEST_PG_URL: {e}")))?;
    let host = admin.host_str().unwrap_or("127.0.0.1").to_string();
    let upstream = tokio::net::lookup_host((host, admin.port().unwrap_or(5432)))
        .await?
        .next()
        .ok_or_else(|| BenchError::Setup("LEXICA_TEST_PG_URL's host does not resolve".into()))?;
    let most = args.sources.iter().copied().max().unwrap_or(0);
    ensure_sources(&admin, most).await?;
    let queries = load_queries(args.corpus_queries)?;
    let proxies = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let mut configs = Vec::new();
    for &base in &args.rtt_ms {
        for &k in &args.sources {
            let c = run_config(&args, &admin, upstream, proxies.handle(), k, base, &queries).await?;
            eprintln!("K={k} RTT {base} ms: {:.0} s, ratios {}", c["elapsed_s"].as_f64().unwrap_or(0.0), c["ratios"]);
            configs.push(c);
        }
    }
    // Dropping a runtime inside another one's task would panic; this one is shut down in the background.
    proxies.shutdown_background();
    let queries: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"machine": machine(&admin).await?, "queries": queries, "configs": configs})
            )?
        );
    } else {
        println!("machine: {}\nqueries: {}", machine(&admin).await?, queries.len());
        print_table(&configs);
    }
    if args.drop {
        drop_databases(&admin, &(0..most).map(source_db).collect::<Vec<_>>()).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match parse_args() {
        Ok(args) => bench(args).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fanout: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
