//! The fuzz run (issue 13): `cargo run --release -p lexica-query --example fuzz -- --count N --seed S`.
//!
//! Runs N cases (default 10,000,000) of seed S (default: from the clock, printed so the run can
//! be repeated) through parse, both compilers and the exact checker (`tests/fuzz/harness.rs`
//! says what each case is and what must hold), prints every failing case with the command that
//! replays it, then the count, the rate and the failures. Exit status 1 when anything failed.
//! `--case I` replays case I alone, printing its query and outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/fuzz/harness.rs"]
mod harness;

use std::process::ExitCode;

/// Cases run when `--count` is not given: the "at least 10 million".
const DEFAULT_COUNT: u64 = 10_000_000;

fn usage() -> ExitCode {
    eprintln!("usage: fuzz [--count N] [--seed S] [--case I]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut count = DEFAULT_COUNT;
    let mut seed = None;
    let mut case = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.replace('_', "").parse::<u64>().ok());
        match (a.as_str(), value) {
            ("--count", Some(v)) => count = v,
            ("--seed", Some(v)) => seed = Some(v),
            ("--case", Some(v)) => case = Some(v),
            _ => return usage(),
        }
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let seeds = harness::Seeds::load();
    if let Some(i) = case {
        let (mode, query) = harness::make_case(seed, i, &seeds);
        println!("case {i} of seed {seed} ({mode:?}): {query:?}");
        let started = std::time::Instant::now();
        let r = harness::run_one(seed, i, &seeds);
        let took = started.elapsed();
        println!("{} in {took:?}", r.map_or_else(|f| format!("FAILED: {}", f.what), |()| "ok".to_string()));
        return ExitCode::SUCCESS;
    }
    println!("fuzz: {count} cases, seed {seed}; {} seed queries, {} generator words", seeds.count(), seeds.words.len());
    let report = harness::run(count, seed, &seeds, &mut |f| {
        println!(
            "FAILED case {} ({:?}): {}\n  query: {:?}\n  replay: cargo run --release -p lexica-query --example fuzz -- --seed {seed} --case {}",
            f.case, f.mode, f.what, f.query, f.case
        );
    });
    let secs = report.elapsed.as_secs_f64();
    println!(
        "cases {}  parsed {}  rejected with a positioned error {}  checker matched {}  checker over budget {}  \
         canonical form past the length limit {}",
        report.cases,
        report.parsed,
        report.rejected,
        report.checked_match,
        report.checked_over_budget,
        report.printed_too_long
    );
    println!(
        "largest statement: PostgreSQL {} bytes, SQLite {} bytes (budget {})",
        report.largest_postgres,
        report.largest_sqlite,
        harness::STATEMENT_BUDGET_BYTES
    );
    println!(
        "slowest case {} ({:?}, replay with --case {}): {:?}",
        report.slowest_index,
        report.slowest_case,
        report.slowest_index,
        report.slowest_query.chars().take(200).collect::<String>()
    );
    println!(
        "time {secs:.1} s  rate {:.0} queries/s  failures {}  seed {seed}",
        report.cases as f64 / secs.max(1e-9),
        report.failures
    );
    if report.failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
