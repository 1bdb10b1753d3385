use clap::Args;
use lexica_core::lexica::DEFAULT_HISTORY_LIMIT;
use lexica_core::{ExecutionRecord, Lexica, SearchRecord, User};

use crate::Failure;
use crate::output::{Output, clean, opt};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many searches, newest first.
    #[arg(long, default_value_t = DEFAULT_HISTORY_LIMIT)]
    limit: u32,
    /// Everyone's searches (admins only).
    #[arg(long)]
    all: bool,
}

pub async fn run(lexica: &Lexica, actor: &User, args: HistoryArgs, out: &Output) -> Result<(), Failure> {
    let records = lexica.history(actor, args.limit, args.all).await?;
    out.show(&records, |records: &Vec<SearchRecord>| {
        if records.is_empty() {
            println!("(no searches yet)");
        }
        for r in records {
            println!("{}", clean(&search_line(r)));
            for e in &r.executions {
                println!("{}", clean(&execution_line(e)));
            }
        }
    });
    Ok(())
}

/// "2026-12-01 10:00:00  jdoe  [boolean]  hearsay — ≈ 41,300 matches". Searches from before match
/// counts were kept (or where no source reported one) show the results the sources returned instead.
fn search_line(r: &SearchRecord) -> String {
    let total = match r.total_matches {
        Some(m) => m.with_noun(),
        None => {
            let returned: u32 = r.executions.iter().filter_map(|e| e.execution.results_count).sum();
            format!("{returned} result(s) returned")
        }
    };
    format!(
        "{}  {}  [{}]  {} — {total}",
        r.search.created_at.format("%Y-%m-%d %H:%M:%S"),
        r.username,
        serde_json::to_value(r.search.mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        r.search.query_text
    )
}

/// Follows the name of a source removed since the search ran (its executions stay in the history).
const REMOVED_MARK: &str = " (removed)";

/// "    alpha      completed   ≈ 41,000 matches    100 returned      12 ms  -"
fn execution_line(e: &ExecutionRecord) -> String {
    let x = &e.execution;
    let name = if e.source_removed { format!("{}{REMOVED_MARK}", e.source_name) } else { e.source_name.clone() };
    format!(
        "    {:<24} {:<10} {:>18} {:>6} returned {:>7} ms  {}",
        name,
        x.status.as_str(),
        x.matches.map_or("-".into(), |m| m.with_noun()),
        x.results_count.map_or("-".into(), |c| c.to_string()),
        x.execution_time_ms.map_or("-".into(), |c| c.to_string()),
        opt(&x.error_message)
    )
}

#[cfg(test)]
mod tests {
    use lexica_core::{ExecutionId, ExecutionStatus, MatchCount, Search, SearchExecution, SearchId, SearchMode};
    use lexica_core::{SourceId, UserId};

    use super::*;

    const AT: &str = "2026-12-01T10:00:00Z";

    fn execution(source: &str, results: Option<u32>, matches: Option<MatchCount>) -> ExecutionRecord {
        let at = AT.parse().unwrap();
        ExecutionRecord {
            source_name: source.into(),
            source_removed: false,
            execution: SearchExecution {
                id: ExecutionId::new(),
                search_id: SearchId::new(),
                data_source_id: Some(SourceId::new()),
                data_source_name: source.into(),
                status: ExecutionStatus::Completed,
                results_count: results,
                matches,
                execution_time_ms: Some(12),
                error_message: None,
                started_at: Some(at),
                completed_at: Some(at),
                created_at: at,
            },
        }
    }

    fn record(executions: Vec<ExecutionRecord>) -> SearchRecord {
        let total_matches = MatchCount::total(executions.iter().map(|e| e.execution.matches));
        SearchRecord {
            search: Search {
                id: SearchId::new(),
                user_id: UserId::new(),
                query_text: "hearsay".into(),
                mode: SearchMode::Boolean,
                filters: serde_json::json!({}),
                created_at: AT.parse().unwrap(),
            },
            username: "jdoe".into(),
            executions,
            total_matches,
        }
    }

    #[test]
    fn a_search_shows_its_total_matches_and_each_execution_its_own() {
        let r = record(vec![
            execution("alpha", Some(100), Some(MatchCount { count: 41_000, estimated: true })),
            execution("beta", Some(100), Some(MatchCount { count: 1_234, estimated: false })),
        ]);
        assert_eq!(search_line(&r), "2026-12-01 10:00:00  jdoe  [boolean]  hearsay — ≈ 42,234 matches");
        let lines: Vec<String> = r.executions.iter().map(execution_line).collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
            "alpha completed ≈ 41,000 matches 100 returned 12 ms -"
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>().join(" "),
            "beta completed 1,234 matches 100 returned 12 ms -"
        );
    }

    #[test]
    fn a_search_from_before_match_counts_shows_what_its_sources_returned() {
        let r = record(vec![
            execution("alpha", Some(100), None),
            execution("beta", Some(96), None),
            execution("gamma", None, None),
        ]);
        assert_eq!(search_line(&r), "2026-12-01 10:00:00  jdoe  [boolean]  hearsay — 196 result(s) returned");
        let line = execution_line(&r.executions[2]);
        assert_eq!(line.split_whitespace().collect::<Vec<_>>().join(" "), "gamma completed - - returned 12 ms -");
    }

    #[test]
    fn a_removed_source_is_named_and_marked() {
        let mut e = execution("old_ny", Some(7), None);
        e.source_removed = true;
        e.execution.data_source_id = None;
        let line = execution_line(&e);
        assert_eq!(
            line.split_whitespace().collect::<Vec<_>>().join(" "),
            "old_ny (removed) completed - 7 returned 12 ms -"
        );
    }
}
