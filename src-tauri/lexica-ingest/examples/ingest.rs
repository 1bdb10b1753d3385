//! Runs one ingest and prints its report: how the ingest rates in the issue note were measured
//! (`lexica ingest` does the same once the CLI is wired).
//!
//! ```text
//! cargo run --release -p lexica-ingest --example ingest -- ../shared/corpus/opinions.jsonl.gz postgres://…
//! cargo run --release -p lexica-ingest --example ingest -- ../shared/corpus/opinions.jsonl.gz /tmp/corpus.sqlite
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use lexica_ingest::{Target, ingest};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, into] = args.as_slice() else {
        eprintln!("usage: ingest FILE.jsonl[.gz] postgres://…|BUNDLE.sqlite");
        std::process::exit(2);
    };
    let target = match Target::parse(into) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let progress = |p: lexica_ingest::Progress| {
        eprintln!(
            "{:?}: {} records ({} rejected), {:.0} records/s, {:.1} MB/s, ETA {:.1} s",
            p.phase,
            p.records,
            p.rejected,
            p.records_per_sec,
            p.mb_per_sec,
            p.eta_secs.unwrap_or(0.0)
        );
    };
    match ingest(&PathBuf::from(file), target, &progress).await {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
