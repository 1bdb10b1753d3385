use std::io::IsTerminal;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use lexica_core::search::{
    Hit, SearchEvent, SearchFilters, SearchModeInput, SearchOutcome, SearchRequest, SnippetPart, SortOrder,
};
use lexica_core::{ExecutionStatus, Lexica, User};
use tokio_util::sync::CancellationToken;

use crate::Failure;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// A terms-and-connectors query (Westlaw style), or with --statements plain sentences.
    query: String,
    /// Read the query as plain sentences describing the issue.
    #[arg(long)]
    statements: bool,
    /// Search only this source (repeatable); default: every source you may search.
    #[arg(long = "source", value_name = "NAME")]
    sources: Vec<String>,
    /// Only opinions of this court (repeatable), as the sources name it.
    #[arg(long = "court")]
    courts: Vec<String>,
    /// Only this jurisdiction: `federal` or a two-letter state (repeatable).
    #[arg(long = "jurisdiction")]
    jurisdictions: Vec<String>,
    /// Decided on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Decided on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t = Sort::Relevance)]
    sort: Sort,
    /// How many of the merged hits to print (the search itself keeps the top 100).
    #[arg(long, default_value_t = 20)]
    show: usize,
    /// The whole search's deadline in seconds (default 30).
    #[arg(long)]
    deadline: Option<u32>,
    /// Show exact matches only: no near misses (opinions lacking one top-level clause).
    #[arg(long)]
    no_near_misses: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    Relevance,
    Newest,
    Oldest,
}

pub async fn run(lexica: &Lexica, actor: &User, args: SearchArgs, out: &Output) -> Result<(), Failure> {
    let request = SearchRequest {
        query: args.query.clone(),
        mode: if args.statements { SearchModeInput::Statements } else { SearchModeInput::Boolean },
        sources: args.sources,
        filters: SearchFilters { courts: args.courts, jurisdictions: args.jurisdictions, from: args.from, to: args.to },
        sort: match args.sort {
            Sort::Relevance => SortOrder::Relevance,
            Sort::Newest => SortOrder::Newest,
            Sort::Oldest => SortOrder::Oldest,
        },
        deadline_ms: args.deadline.map(|s| s.saturating_mul(1000)),
        near_misses: Some(!args.no_near_misses),
    };
    // Ctrl-C stops the search: every unfinished source ends `cancelled`, its query stopped.
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    // Live progress goes to stderr, so stdout stays the result (and valid JSON with --json).
    let live = !out.json || std::io::stderr().is_terminal();
    let names = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let events = {
        let names = names.clone();
        Arc::new(move |event: SearchEvent| {
            if live {
                progress(&event, &names);
            }
        })
    };
    let outcome = lexica.search(actor, &request, cancel, events).await?;
    out.show(&outcome, |o| print_outcome(o, args.show));
    Ok(())
}

fn progress(event: &SearchEvent, names: &std::sync::Mutex<std::collections::HashMap<String, String>>) {
    let Ok(mut names) = names.lock() else { return };
    match event {
        SearchEvent::Started { sources, .. } => {
            let list: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
            eprintln!("searching {} source(s): {}", sources.len(), list.join(", "));
            for s in sources {
                names.insert(s.source_id.to_string(), s.name.clone());
            }
        }
        SearchEvent::SourceRunning { source_id } => {
            eprintln!("  … {} running", names.get(&source_id.to_string()).map_or("?", String::as_str));
        }
        SearchEvent::SourceFinished { outcome, .. } => {
            let line = match outcome.status {
                ExecutionStatus::Completed => {
                    let near = match outcome.near_misses {
                        0 => String::new(),
                        n => format!(" + {n} near miss(es)"),
                    };
                    format!(
                        "  ✓ {} {} result(s){near} in {} ms",
                        outcome.name, outcome.results_count, outcome.execution_time_ms
                    )
                }
                status => format!(
                    "  ✗ {} {} after {} ms{}",
                    outcome.name,
                    status.as_str().replace('_', " "),
                    outcome.execution_time_ms,
                    outcome.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
                ),
            };
            eprintln!("{line}");
        }
        SearchEvent::Finished { .. } => {}
    }
}

fn print_outcome(outcome: &SearchOutcome, show: usize) {
    let color = std::io::stdout().is_terminal();
    let mut tier = 0;
    for (i, hit) in outcome.hits.iter().take(show).enumerate() {
        if hit.tier != tier {
            tier = hit.tier;
            println!("{}", tier_divider(tier));
        }
        print_hit(i + 1, hit, color);
    }
    let s = &outcome.summary;
    let near = match s.near_miss_results {
        0 => String::new(),
        n => format!(" + {n} near miss(es)"),
    };
    let mut line = format!(
        "{} result(s){near} from {} of {} source(s) in {} ms (sources' time {} ms)",
        s.exact_results, s.completed, s.sources_searched, s.wall_time_ms, s.source_time_ms
    );
    if s.partial {
        line.push_str(&format!(
            " — PARTIAL: {} failed, {} timed out, {} cancelled",
            s.failed, s.timed_out, s.cancelled
        ));
    }
    if outcome.hits.len() > show {
        line.push_str(&format!("; showing {show} (use --show N)"));
    }
    println!("{line}");
}

/// The line before the first hit of a near-miss tier.
fn tier_divider(tier: u8) -> String {
    let what = if tier == 1 { "one".to_string() } else { tier.to_string() };
    format!("── Near misses: these lack {what} of the query's AND-ed clauses (--no-near-misses hides them) ──")
}

fn print_hit(n: usize, hit: &Hit, color: bool) {
    let sources: Vec<&str> = hit.sources.iter().map(|s| s.source_name.as_str()).collect();
    let cite = hit.citation.as_deref().unwrap_or("(no citation)");
    let date = hit.decided_on.as_deref().unwrap_or("undated");
    println!("{n:>3}. {} — {cite} ({}, {date})", hit.case_name, hit.court);
    let docket = hit.docket_number.as_deref().map(|d| format!("docket {d} · ")).unwrap_or_default();
    println!("     {docket}[{}] score {:.2}", sources.join(", "), hit.score);
    if !hit.missing.is_empty() {
        println!("     missing: {}", hit.missing.join(", "));
    }
    if !hit.snippet.is_empty() {
        println!("     {}", render(&hit.snippet, color));
    }
}

fn render(parts: &[SnippetPart], color: bool) -> String {
    parts
        .iter()
        .map(|p| match (p.highlight, color) {
            (true, true) => format!("\x1b[1;33m{}\x1b[0m", p.text),
            (true, false) => format!("*{}*", p.text),
            (false, _) => p.text.clone(),
        })
        .collect()
}
