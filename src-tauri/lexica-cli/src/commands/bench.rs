//! `lexica bench QUERIES_FILE`: times searches the way a lawyer runs them, for sizing a source.
//!
//! Every query of the file (see `lexica_bench::queries`) goes through the same search API as
//! `lexica search` (same acting user, same request defaults), in this one process, so pools are
//! warm after the first search: one untimed warm-up run per query, then `--repeat` timed runs.
//! A query the parser refuses is reported and skipped. With `--baseline ts-rank-cd`, each
//! PostgreSQL source also times the naive ranked statement (`lexica_bench::baseline`) on its
//! own pool. The report's shape and statistics are documented in `lexica_bench::report`.
//!
//! Each timed search is a real search: it is recorded in the history like any other.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};
use lexica_bench::baseline::{self, Baseline};
use lexica_bench::queries::{self, BenchQuery, Skipped};
use lexica_bench::report::{self, BaselineReport, QueryReport, Report, SourceReport, Summary};
use lexica_core::search::{SearchEvent, SearchModeInput, SearchOutcome, SearchRequest};
use lexica_core::sources::SourcePool;
use lexica_core::{Error, ErrorKind, ExecutionStatus, Lexica, User};
use tokio_util::sync::CancellationToken;

use crate::Failure;
use crate::output::{self, Output};

/// Timed runs per query unless `--repeat` says otherwise.
pub const DEFAULT_REPEAT: u32 = 5;
/// Longest query text shown in the table (the JSON has it whole).
const QUERY_COLUMN_CHARS: usize = 40;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// One search per non-empty line; a JSON line gives its `query` field (`topic_text` with
    /// --statements), so the corpus's legal_boolean_queries.jsonl works as is.
    file: PathBuf,
    /// Search only this source (repeatable); default: every source you may search.
    #[arg(long = "source", value_name = "NAME")]
    sources: Vec<String>,
    /// Timed runs per query, after one warm-up run.
    #[arg(long, default_value_t = DEFAULT_REPEAT, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Read the queries as plain sentences (statements mode).
    #[arg(long)]
    statements: bool,
    /// Also time a naive ranked statement on each PostgreSQL source, on its own pool.
    #[arg(long, value_enum, value_name = "KIND")]
    baseline: Option<BaselineKind>,
    /// Exact matches only, as `lexica search --no-near-misses`.
    #[arg(long)]
    no_near_misses: bool,
    /// Each search's deadline in seconds (default 30, as `lexica search`).
    #[arg(long)]
    deadline: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BaselineKind {
    /// `SELECT … ORDER BY ts_rank_cd(search_vector, q) DESC LIMIT 100` over every match.
    TsRankCd,
}

/// What the timed runs of one query gave for one source.
#[derive(Debug, Default)]
struct SourceRuns {
    times_ms: Vec<f64>,
    status: Option<ExecutionStatus>,
    completed: u32,
    matches: Option<(u64, bool)>,
    error: Option<String>,
}

pub async fn run(lexica: &Lexica, actor: &User, args: BenchArgs, out: &Output) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| {
        Failure::message(ErrorKind::Invalid, format!("cannot read the query file {}: {e}", args.file.display()))
    })?;
    let (queries, mut skipped) = queries::parse(&text, args.statements);
    let sources = lexica.sources_for(actor, &args.sources).await?;
    let mut baselines: Vec<(String, Baseline)> = Vec::new();
    if args.baseline == Some(BaselineKind::TsRankCd) {
        for source in &sources {
            if let SourcePool::Postgres(pool) = lexica.source_pool(source).await? {
                baselines.push((source.name.clone(), Baseline::new(&pool.connect_options())));
            }
        }
    }
    let live = !out.json || std::io::stderr().is_terminal();
    let mut reports = Vec::new();
    let mut all_runs = Vec::new();
    let mut all_baseline = Vec::new();
    for (n, query) in queries.iter().enumerate() {
        match bench_query(lexica, actor, &args, query, &baselines).await? {
            Ok((report, runs, baseline_runs)) => {
                if live {
                    eprintln!(
                        "[{}/{}] {:.1} ms median  {}",
                        n + 1,
                        queries.len(),
                        report.median_ms,
                        output::clean(&shorten(&query.text))
                    );
                }
                all_runs.extend(runs);
                all_baseline.extend(baseline_runs);
                reports.push(report);
            }
            Err(skip) => {
                if live {
                    eprintln!(
                        "[{}/{}] skipped line {}: {}",
                        n + 1,
                        queries.len(),
                        skip.line,
                        output::clean(&skip.reason)
                    );
                }
                skipped.push(skip);
            }
        }
    }
    for (_, b) in &baselines {
        b.close().await;
    }
    skipped.sort_by_key(|s| s.line);
    let baseline_runs = args.baseline.is_some().then_some(all_baseline.as_slice());
    let summary = Summary::of(reports.len(), &all_runs, baseline_runs);
    let report = Report { queries: reports, skipped, summary };
    out.show(&report, |r| print_report(r, args.repeat));
    Ok(())
}

/// One query: warm-up, timed runs, baseline. `Ok(Err(_))` is a query to skip (refused by the
/// parser); `Err` stops the bench (no source to search, the app database failing).
async fn bench_query(
    lexica: &Lexica,
    actor: &User,
    args: &BenchArgs,
    query: &BenchQuery,
    baselines: &[(String, Baseline)],
) -> Result<Result<(QueryReport, Vec<f64>, Vec<f64>), Skipped>, Failure> {
    let request = SearchRequest {
        query: query.text.clone(),
        mode: if args.statements { SearchModeInput::Statements } else { SearchModeInput::Boolean },
        sources: args.sources.clone(),
        deadline_ms: args.deadline.map(|s| s.saturating_mul(1000)),
        near_misses: Some(!args.no_near_misses),
        ..SearchRequest::default()
    };
    // The warm-up: fills pools and caches, and is where a malformed query is found.
    if let Err(e) = search(lexica, actor, &request).await {
        return match e {
            Error::Query(q) => {
                Ok(Err(Skipped { line: query.line, query: Some(query.text.clone()), reason: q.to_string() }))
            }
            other => Err(other.into()),
        };
    }
    let mut wall_ms = Vec::with_capacity(args.repeat as usize);
    let mut per_source: Vec<(String, SourceRuns)> = Vec::new();
    for _ in 0..args.repeat {
        let started = Instant::now();
        let outcome = search(lexica, actor, &request).await?;
        wall_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        for o in &outcome.sources {
            let at = match per_source.iter().position(|(name, _)| name == &o.name) {
                Some(at) => at,
                None => {
                    per_source.push((o.name.clone(), SourceRuns::default()));
                    per_source.len() - 1
                }
            };
            let runs = &mut per_source[at].1;
            runs.times_ms.push(f64::from(o.execution_time_ms));
            if o.status == ExecutionStatus::Completed {
                runs.completed += 1;
            }
            if runs.status.is_none_or(|s| s == ExecutionStatus::Completed) {
                runs.status = Some(o.status);
            }
            runs.matches = o.matches.map(|m| (m.count, m.estimated));
            if runs.error.is_none() {
                runs.error = o.error.clone();
            }
        }
    }
    let (median_ms, p95_ms) = report::median_p95(&wall_ms);
    let median_ms = median_ms.unwrap_or_default();
    let mut baseline_ms = HashMap::new();
    if !baselines.is_empty() {
        let mode = if args.statements { lexica_query::Mode::Statements } else { lexica_query::Mode::Boolean };
        // The search accepted the query, so it parses; a failure here is only reported.
        if let Ok(parsed) = lexica_query::parse(&query.text, mode) {
            let plan = baseline::plan_for(&parsed);
            for (name, b) in baselines {
                baseline_ms.insert(name.clone(), time_baseline(b, &plan, args.repeat).await);
            }
        }
    }
    let mut all_baseline = Vec::new();
    let sources = per_source
        .into_iter()
        .map(|(name, runs)| {
            let baseline = baseline_ms.remove(&name).map(|(times, rows, error)| {
                let (bm, bp) = report::median_p95(&times);
                all_baseline.extend(times);
                BaselineReport { median_ms: bm, p95_ms: bp, ratio: report::ratio(bm, Some(median_ms)), rows, error }
            });
            SourceReport {
                median_ms: report::median_p95(&runs.times_ms).0.unwrap_or_default(),
                status: runs.status.map_or("none", ExecutionStatus::as_str).to_string(),
                completed_runs: runs.completed,
                matches: runs.matches.map(|m| m.0),
                matches_estimated: runs.matches.map(|m| m.1),
                error: runs.error,
                baseline,
                name,
            }
        })
        .collect();
    let report = QueryReport {
        query: query.text.clone(),
        line: query.line,
        runs: args.repeat,
        median_ms,
        p95_ms: p95_ms.unwrap_or_default(),
        sources,
    };
    Ok(Ok((report, wall_ms, all_baseline)))
}

/// One search as `lexica search` runs it, without progress output.
async fn search(lexica: &Lexica, actor: &User, request: &SearchRequest) -> Result<SearchOutcome, Error> {
    let quiet = Arc::new(|_: SearchEvent| {});
    lexica.search(actor, request, CancellationToken::new(), quiet).await
}

/// One warm-up run, then `repeat` timed runs of the naive statement; stops at the first error
/// (typically the source's statement timeout), keeping what was timed.
async fn time_baseline(
    b: &Baseline,
    plan: &lexica_query::Plan,
    repeat: u32,
) -> (Vec<f64>, Option<usize>, Option<String>) {
    let mut times = Vec::new();
    let mut rows = None;
    for run in 0..=repeat {
        match b.run(plan).await {
            Ok((elapsed, n)) => {
                rows = Some(n);
                if run > 0 {
                    times.push(elapsed.as_secs_f64() * 1000.0);
                }
            }
            Err(e) => return (times, rows, Some(e.to_string())),
        }
    }
    (times, rows, None)
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(QUERY_COLUMN_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

fn print_report(r: &Report, repeat: u32) {
    let has_baseline = r.summary.baseline.is_some();
    let mut header = vec!["#", "query", "median ms", "p95 ms", "source", "source ms", "status", "matches"];
    if has_baseline {
        header.extend(["baseline ms", "baseline p95", "ratio"]);
    }
    let mut rows = Vec::new();
    for (i, q) in r.queries.iter().enumerate() {
        for (j, s) in q.sources.iter().enumerate() {
            let first = j == 0;
            let mut row = vec![
                if first { (i + 1).to_string() } else { String::new() },
                if first { shorten(&q.query) } else { String::new() },
                if first { format!("{:.1}", q.median_ms) } else { String::new() },
                if first { format!("{:.1}", q.p95_ms) } else { String::new() },
                s.name.clone(),
                format!("{:.1}", s.median_ms),
                s.status.clone(),
                match (s.matches, s.matches_estimated) {
                    (Some(n), Some(true)) => format!("≈{n}"),
                    (Some(n), _) => n.to_string(),
                    (None, _) => "?".into(),
                },
            ];
            if has_baseline {
                match &s.baseline {
                    Some(b) => row.extend([
                        ms(b.median_ms),
                        ms(b.p95_ms),
                        b.ratio.map_or_else(
                            || b.error.clone().map_or("-".into(), |_| "failed".into()),
                            |x| format!("{x:.1}×"),
                        ),
                    ]),
                    None => row.extend(["n/a".into(), "n/a".into(), "-".into()]),
                }
            }
            rows.push(row);
        }
    }
    output::table(&header, &rows);
    for s in &r.skipped {
        println!("skipped line {}: {}", s.line, output::clean(&s.reason));
    }
    let s = &r.summary;
    println!(
        "{} quer(ies), {repeat} timed run(s) each after a warm-up: median {} ms, p95 {} ms",
        s.queries,
        ms(s.median_ms),
        ms(s.p95_ms)
    );
    if let Some(b) = &s.baseline {
        println!(
            "baseline (ts_rank_cd over every match): median {} ms, p95 {} ms; baseline/lexica: {} at the median, {} at p95",
            ms(b.median_ms),
            ms(b.p95_ms),
            b.ratio_median.map_or("-".into(), |x| format!("{x:.1}×")),
            b.ratio_p95.map_or("-".into(), |x| format!("{x:.1}×"))
        );
    }
}
