use clap::Args;
use lexica_core::lexica::DEFAULT_HISTORY_LIMIT;
use lexica_core::{Lexica, SearchRecord, User};

use crate::Failure;
use crate::output::{Output, opt};

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
            println!(
                "{}  {}  [{}]  {}",
                r.search.created_at.format("%Y-%m-%d %H:%M:%S"),
                r.username,
                serde_json::to_value(r.search.mode)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                r.search.query_text
            );
            for e in &r.executions {
                let e2 = &e.execution;
                println!(
                    "    {:<24} {:<10} {:>6} results {:>7} ms  {}",
                    e.source_name,
                    e2.status.as_str(),
                    e2.results_count.map_or("-".into(), |c| c.to_string()),
                    e2.execution_time_ms.map_or("-".into(), |c| c.to_string()),
                    opt(&e2.error_message)
                );
            }
        }
    });
    Ok(())
}
