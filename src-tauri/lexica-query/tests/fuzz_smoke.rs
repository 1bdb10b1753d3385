//! The fuzz harness (`tests/fuzz/harness.rs`) on 100,000 cases of a fixed seed, in CI: no panic,
//! every error positioned within its input, every statement within its budget, every printed
//! tree parsing back. The long run is `examples/fuzz.rs` (10 million cases, any seed).
//!
//! lexica-query is built optimized even in test builds (the workspace's `profile.dev.package`),
//! harness included, so this takes seconds, not minutes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fuzz/harness.rs"]
mod harness;

/// Cases CI runs.
const CASES: u64 = 100_000;
/// A fixed seed, so a failure here is the same failure on every machine.
const SEED: u64 = 13;

#[test]
fn a_hundred_thousand_fuzzed_queries_hold_every_property() {
    let seeds = harness::Seeds::load();
    // The 195 corpus queries and their statements, and the queries written in this crate's tests.
    assert!(seeds.count() >= 310, "only {} seed queries", seeds.count());
    let report = harness::run(CASES, SEED, &seeds, &mut |f| {
        eprintln!("FAILED case {} ({:?}): {}\n  query: {:?}", f.case, f.mode, f.what, f.query);
    });
    eprintln!(
        "{} cases in {:.1} s ({:.0}/s): {} parsed, {} rejected, {} matched the sample, {} over the check budget; \
         largest statements {} (PostgreSQL) and {} (SQLite) bytes",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.cases as f64 / report.elapsed.as_secs_f64(),
        report.parsed,
        report.rejected,
        report.checked_match,
        report.checked_over_budget,
        report.largest_postgres,
        report.largest_sqlite
    );
    assert_eq!(report.failures, 0, "first failures: {:#?}", report.first_failures);
    // The cases reach every path: both outcomes of parsing, and of the check.
    assert!(report.parsed > CASES / 5 && report.rejected > CASES / 10, "{report:?}");
    assert!(report.checked_match > CASES / 50, "{report:?}");
}
