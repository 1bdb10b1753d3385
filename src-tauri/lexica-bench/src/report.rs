//! The bench's report: what `lexica bench --json` prints, and the figures the human table
//! shows. Times are milliseconds rounded to 0.1 ms.
//!
//! ```json
//! {"queries": [{"query": "…", "line": 1, "runs": 5, "median_ms": 12.0, "p95_ms": 15.0,
//!   "sources": [{"name": "…", "median_ms": 11.0, "status": "completed", "matches": 1234,
//!                "matches_estimated": false,
//!                "baseline": {"median_ms": 130.0, "p95_ms": 140.0, "ratio": 10.8} }]}],
//!  "skipped": [{"line": 7, "query": "…", "reason": "…"}],
//!  "summary": {"queries": 1, "median_ms": 12.0, "p95_ms": 15.0, "baseline": {…}}}
//! ```
//!
//! `median_ms`/`p95_ms` of a query are its whole search's wall time over the timed runs; a
//! source's `median_ms` is the median of its `execution_time_ms`. `baseline` (only with
//! `--baseline`, only on PostgreSQL sources; otherwise `null`) is the naive statement's wall
//! time, and `ratio` is its median over the query's median. The summary's figures pool every
//! timed run of every query (so its p95 is "95% of searches took at most"); its baseline ratio
//! compares the pooled medians.

use serde::Serialize;

use crate::queries::Skipped;
use crate::stats::{P95, median, percentile, round_ms};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub queries: Vec<QueryReport>,
    pub skipped: Vec<Skipped>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryReport {
    pub query: String,
    pub line: u64,
    pub runs: u32,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub sources: Vec<SourceReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub name: String,
    pub median_ms: f64,
    /// The final status (`completed`, `failed`, `timed_out`, `cancelled`): the first run that did
    /// not complete, else `completed`.
    pub status: String,
    /// How many timed runs completed.
    pub completed_runs: u32,
    /// The source's match count (last timed run), `null` until the search core fills it.
    pub matches: Option<u64>,
    pub matches_estimated: Option<bool>,
    /// The first error a run reported, if any.
    pub error: Option<String>,
    pub baseline: Option<BaselineReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub median_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Baseline median over the query's median (how many times faster Lexica is).
    pub ratio: Option<f64>,
    /// Rows the naive statement returned (at most 100).
    pub rows: Option<usize>,
    /// Why the statement failed (e.g. the source's statement timeout).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub queries: usize,
    pub median_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub baseline: Option<BaselineSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineSummary {
    pub median_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Pooled baseline median over pooled Lexica median.
    pub ratio_median: Option<f64>,
    /// Pooled baseline p95 over pooled Lexica p95.
    pub ratio_p95: Option<f64>,
}

/// `a / b` when both exist and `b` is positive, rounded to 0.1.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some((a / b * 10.0).round() / 10.0),
        _ => None,
    }
}

/// Median and p95 of `samples`, rounded.
pub fn median_p95(samples: &[f64]) -> (Option<f64>, Option<f64>) {
    (median(samples).map(round_ms), percentile(samples, P95).map(round_ms))
}

impl Summary {
    /// The summary over every timed run (`search_ms`) and every baseline run (`baseline_ms`,
    /// `None` when no baseline was asked for).
    pub fn of(queries: usize, search_ms: &[f64], baseline_ms: Option<&[f64]>) -> Summary {
        let (median_ms, p95_ms) = median_p95(search_ms);
        let baseline = baseline_ms.map(|b| {
            let (bm, bp) = median_p95(b);
            BaselineSummary {
                median_ms: bm,
                p95_ms: bp,
                ratio_median: ratio(bm, median_ms),
                ratio_p95: ratio(bp, p95_ms),
            }
        });
        Summary { queries, median_ms, p95_ms, baseline }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_pools_runs_and_ratios() {
        let s = Summary::of(2, &[10.0, 20.0, 30.0], Some(&[100.0, 300.0, 200.0]));
        assert_eq!((s.median_ms, s.p95_ms), (Some(20.0), Some(30.0)));
        let b = s.baseline.expect("asked for");
        assert_eq!((b.ratio_median, b.ratio_p95), (Some(10.0), Some(10.0)));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert!(Summary::of(0, &[], None).median_ms.is_none());
    }
}
