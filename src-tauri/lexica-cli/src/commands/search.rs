use std::io::IsTerminal;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use lexica_core::search::{
    Hit, MatchCount, SearchEvent, SearchFilters, SearchModeInput, SearchOutcome, SearchRequest, SearchSummary,
    SnippetPart, SortOrder, SourceOutcome,
};
use lexica_core::{ExecutionStatus, Lexica, User};
use tokio_util::sync::CancellationToken;

use crate::Failure;
use crate::output::{Output, clean};

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
        // Anything this command has no flag for (the exhaustive ranking, say) keeps its default.
        ..SearchRequest::default()
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
            eprintln!("searching {} source(s): {}", sources.len(), clean(&list.join(", ")));
            for s in sources {
                names.insert(s.source_id.to_string(), s.name.clone());
            }
        }
        SearchEvent::SourceRunning { source_id } => {
            eprintln!("  … {} running", clean(names.get(&source_id.to_string()).map_or("?", String::as_str)));
        }
        SearchEvent::SourceFinished { outcome, .. } => eprintln!("{}", clean(&source_line(outcome))),
        SearchEvent::Finished { .. } => {}
    }
}

/// A source's final progress line: "  ✓ alpha ≈ 41,000 matches (100 returned) + 3 near miss(es) in 85 ms";
/// without a match count (the source did not report one) the returned results are counted instead.
fn source_line(outcome: &SourceOutcome) -> String {
    match outcome.status {
        ExecutionStatus::Completed => {
            let near = near_misses(outcome.near_misses);
            let found = match outcome.matches {
                Some(m) => format!("{} ({} returned)", m.with_noun(), outcome.results_count),
                None => format!("{} result(s)", outcome.results_count),
            };
            format!("  ✓ {} {found}{near} in {} ms", outcome.name, outcome.execution_time_ms)
        }
        status => format!(
            "  ✗ {} {} after {} ms{}",
            outcome.name,
            status.as_str().replace('_', " "),
            outcome.execution_time_ms,
            outcome.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        ),
    }
}

/// " + 3 near miss(es)", or nothing.
fn near_misses(n: u32) -> String {
    match n {
        0 => String::new(),
        n => format!(" + {n} near miss(es)"),
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
    println!("{}", summary_line(&outcome.summary, outcome.hits.len(), show));
}

/// The last line: "≈ 41,300 matches from 3 of 3 source(s) in 120 ms (sources' time 300 ms); showing the top 100",
/// or, when no source reported a match count, "296 result(s) from 3 of 3 source(s) in …".
fn summary_line(s: &SearchSummary, listed: usize, show: usize) -> String {
    let near = near_misses(s.near_miss_results);
    let sources = format!(
        "from {} of {} source(s) in {} ms (sources' time {} ms)",
        s.completed, s.sources_searched, s.wall_time_ms, s.source_time_ms
    );
    let mut line = match s.total_matches {
        Some(total) => format!("{} {sources}; showing {}{near}", total.with_noun(), shown(total, s.exact_results)),
        None => format!("{} result(s){near} {sources}", s.exact_results),
    };
    if s.partial {
        line.push_str(&format!(
            " — PARTIAL: {} failed, {} timed out, {} cancelled",
            s.failed, s.timed_out, s.cancelled
        ));
    }
    if listed > show {
        line.push_str(&format!("; printed {show} (use --show N)"));
    }
    line
}

/// How the merged list's exact matches compare with the total: "the top 100" of more, "all 42".
fn shown(total: MatchCount, exact: u32) -> String {
    if total.estimated || total.count > u64::from(exact) { format!("the top {exact}") } else { format!("all {exact}") }
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
    println!("{}", clean(&format!("{n:>3}. {} — {cite} ({}, {date})", hit.case_name, hit.court)));
    let docket = hit.docket_number.as_deref().map(|d| format!("docket {d} · ")).unwrap_or_default();
    println!("{}", clean(&format!("     {docket}[{}] score {:.2}", sources.join(", "), hit.score)));
    if !hit.missing.is_empty() {
        println!("     missing: {}", clean(&hit.missing.join(", ")));
    }
    if !hit.snippet.is_empty() {
        println!("     {}", render(&hit.snippet, color));
    }
}

/// The snippet, its highlights bold yellow on a terminal (`*…*` otherwise). The opinion's text is
/// cleaned part by part, before Lexica's own colour codes go around it.
fn render(parts: &[SnippetPart], color: bool) -> String {
    parts
        .iter()
        .map(|p| {
            let text = clean(&p.text);
            match (p.highlight, color) {
                (true, true) => format!("\x1b[1;33m{text}\x1b[0m"),
                (true, false) => format!("*{text}*"),
                (false, _) => text.into_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use lexica_core::SourceId;

    use super::*;

    fn completed(matches: Option<MatchCount>, results: u32, near: u32) -> SourceOutcome {
        SourceOutcome {
            source_id: SourceId::new(),
            name: "alpha".into(),
            status: ExecutionStatus::Completed,
            results_count: results,
            near_misses: near,
            matches,
            execution_time_ms: 85,
            error: None,
            sign_in: None,
        }
    }

    #[test]
    fn a_source_line_shows_its_match_count_when_it_has_one() {
        let counted = Some(MatchCount { count: 1_234, estimated: false });
        assert_eq!(source_line(&completed(counted, 100, 0)), "  ✓ alpha 1,234 matches (100 returned) in 85 ms");
        let estimated = Some(MatchCount { count: 41_000, estimated: true });
        assert_eq!(
            source_line(&completed(estimated, 100, 3)),
            "  ✓ alpha ≈ 41,000 matches (100 returned) + 3 near miss(es) in 85 ms"
        );
        assert_eq!(source_line(&completed(None, 42, 0)), "  ✓ alpha 42 result(s) in 85 ms");
        let failed = SourceOutcome {
            status: ExecutionStatus::TimedOut,
            error: Some("no answer within 30 s".into()),
            ..completed(None, 0, 0)
        };
        assert_eq!(source_line(&failed), "  ✗ alpha timed out after 85 ms: no answer within 30 s");
    }

    fn summary(total: Option<MatchCount>, exact: u32, near: u32) -> SearchSummary {
        SearchSummary {
            total_results: exact + near,
            exact_results: exact,
            near_miss_results: near,
            sources_searched: 3,
            completed: 3,
            wall_time_ms: 120,
            source_time_ms: 300,
            total_matches: total,
            ..SearchSummary::default()
        }
    }

    #[test]
    fn the_summary_says_how_many_matched_and_how_many_are_shown() {
        let estimated = Some(MatchCount { count: 41_300, estimated: true });
        assert_eq!(
            summary_line(&summary(estimated, 100, 0), 100, 20),
            "≈ 41,300 matches from 3 of 3 source(s) in 120 ms (sources' time 300 ms); showing the top 100; \
             printed 20 (use --show N)"
        );
        let all = Some(MatchCount { count: 42, estimated: false });
        assert_eq!(
            summary_line(&summary(all, 42, 17), 59, 100),
            "42 matches from 3 of 3 source(s) in 120 ms (sources' time 300 ms); showing all 42 + 17 near miss(es)"
        );
        let more = Some(MatchCount { count: 1_234, estimated: false });
        assert!(summary_line(&summary(more, 100, 0), 100, 100).starts_with("1,234 matches from 3 of 3 source(s)"));
        assert!(summary_line(&summary(more, 100, 0), 100, 100).ends_with("; showing the top 100"));
        // No source reported a count: the returned results are counted, as before.
        assert_eq!(
            summary_line(&summary(None, 296, 0), 100, 100),
            "296 result(s) from 3 of 3 source(s) in 120 ms (sources' time 300 ms)"
        );
        let partial = SearchSummary { completed: 2, failed: 1, partial: true, ..summary(more, 100, 0) };
        assert!(
            summary_line(&partial, 100, 100).ends_with(
                "from 2 of 3 source(s) in 120 ms (sources' time 300 ms); showing the top 100 — PARTIAL: 1 failed, \
                 0 timed out, 0 cancelled"
            ),
            "{}",
            summary_line(&partial, 100, 100)
        );
    }
}
