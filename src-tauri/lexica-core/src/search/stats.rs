//! Corpus statistics shared by the sources of one search (Elasticsearch's `dfs_query_then_fetch`).
//!
//! Before scoring, each source reports its opinion count, its word totals per field and the
//! document frequency of each of the query's word patterns ([`SourceStats`], read from the tables
//! `lexica ingest` maintains: migrations/source-*/0003_statistics.sql). The search adds them up
//! ([`GlobalStats`]) and every source scores with the same numbers, so an opinion's score does not
//! depend on which source holds it or on which other sources took part. RANKING.md has the
//! formula and the exchange.
//!
//! A slow source must not hold the others back: the exchange freezes once every source has
//! reported, or [`STATS_GRACE`] after the first report, whichever comes first. A source that
//! reports later scores with the frozen numbers (its own are then missing from them; it is
//! logged). Sources without Lexica's statistics tables count only their opinions (see
//! [`GlobalStats::add`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lexica_query::{Concept, WordPattern};

/// How long the exchange waits for the remaining sources after the first one reported. Long
/// enough for a source still opening its first connection (TLS and SCRAM to a distant server take
/// a few hundred milliseconds), so the same search gives the same scores whether or not its pools
/// were warm; short enough that a source that hangs does not hold the others back for long.
pub const STATS_GRACE: Duration = Duration::from_secs(3);

pub use lexica_query::bm25f::{BODY, FIELDS};

/// The distinct word patterns of a query's concepts, and which patterns each concept is made of
/// (a phrase has one per word). Statistics are exchanged per pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Patterns {
    pub patterns: Vec<WordPattern>,
    /// For each concept (in [`lexica_query::Query::concepts`] order), its patterns' indices.
    pub of_concept: Vec<Vec<usize>>,
}

impl Patterns {
    pub fn of(concepts: &[Concept]) -> Patterns {
        let mut patterns: Vec<WordPattern> = Vec::new();
        let mut of_concept = Vec::with_capacity(concepts.len());
        for c in concepts {
            let mut idx = Vec::with_capacity(c.words.len());
            for w in &c.words {
                let i = match patterns.iter().position(|p| p == w) {
                    Some(i) => i,
                    None => {
                        patterns.push(w.clone());
                        patterns.len() - 1
                    }
                };
                idx.push(i);
            }
            of_concept.push(idx);
        }
        Patterns { patterns, of_concept }
    }
}

/// What one source reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStats {
    /// Opinions in the source (an estimate when `complete` is false).
    pub opinions: u64,
    /// Word totals per field (zero when not `complete`).
    pub words: [u64; FIELDS],
    /// Per pattern: opinions holding it in any field. A pattern with several forms or a prefix
    /// counts the most frequent of its words (Lucene's blended-term rule: the union is not
    /// stored, and the largest member is its closest lower bound).
    pub df: Vec<u64>,
    /// False for a source without Lexica's statistics tables (an existing firm database).
    pub complete: bool,
    /// The source holds complete impact-ordered postings (`lexica_postings`), so the fast path
    /// can serve it (`retrieve.rs`). Not part of the sums.
    pub postings: bool,
}

/// The sum of the sources' statistics that every source of a search scores with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GlobalStats {
    /// Opinions in the sources that have statistics (the `N` of IDF).
    pub opinions: u64,
    pub words: [u64; FIELDS],
    pub df: Vec<u64>,
    /// Sources added, and how many of them had no statistics.
    pub sources: u32,
    pub without_stats: u32,
}

impl GlobalStats {
    pub fn new(patterns: usize) -> GlobalStats {
        GlobalStats { df: vec![0; patterns], ..GlobalStats::default() }
    }

    /// Adds one source. One without statistics adds nothing but its presence: counting its
    /// opinions in `N` without their document frequencies would inflate every IDF.
    pub fn add(&mut self, s: &SourceStats) {
        self.sources += 1;
        if !s.complete {
            self.without_stats += 1;
            return;
        }
        self.opinions += s.opinions;
        for f in 0..FIELDS {
            self.words[f] += s.words[f];
        }
        for (total, df) in self.df.iter_mut().zip(&s.df) {
            *total += df;
        }
    }

    /// Average length of field `f` in words (1 when nothing is known, so lengths normalize to 1).
    pub fn average_length(&self, f: usize) -> f64 {
        if self.opinions == 0 || self.words[f] == 0 {
            return 1.0;
        }
        self.words[f] as f64 / self.opinions as f64
    }
}

/// The per-search rendezvous where sources report and read the combined statistics.
#[derive(Debug)]
pub struct Exchange {
    expected: usize,
    patterns: usize,
    state: Mutex<State>,
    changed: tokio::sync::Notify,
}

#[derive(Debug)]
struct State {
    reported: usize,
    first_report: Option<Instant>,
    sum: GlobalStats,
    frozen: Option<Arc<GlobalStats>>,
}

impl Exchange {
    pub fn new(expected: usize, patterns: usize) -> Arc<Exchange> {
        Arc::new(Exchange {
            expected,
            patterns,
            state: Mutex::new(State { reported: 0, first_report: None, sum: GlobalStats::new(patterns), frozen: None }),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// A reporter for one source: it reports exactly once, `None` (nothing to add) if dropped
    /// before [`Reporter::report`] — a failed, cancelled or panicking execution never leaves the
    /// others waiting.
    pub fn reporter(self: &Arc<Exchange>) -> Reporter {
        Reporter { exchange: self.clone(), done: false }
    }

    fn receive(&self, stats: Option<&SourceStats>) {
        if let Ok(mut s) = self.state.lock() {
            s.reported += 1;
            if let Some(stats) = stats {
                if s.frozen.is_some() {
                    tracing::info!(
                        "a source's statistics arrived after the exchange froze; it scores with the others'"
                    );
                } else {
                    s.sum.add(stats);
                    s.first_report.get_or_insert_with(Instant::now);
                }
            }
            if s.reported >= self.expected && s.frozen.is_none() {
                s.frozen = Some(Arc::new(s.sum.clone()));
            }
        }
        self.changed.notify_waiters();
    }

    /// The combined statistics, once every source has reported or [`STATS_GRACE`] has passed
    /// since the first report.
    pub async fn global(&self) -> Arc<GlobalStats> {
        loop {
            let notified = self.changed.notified();
            let wait = {
                let Ok(mut s) = self.state.lock() else { return Arc::new(GlobalStats::new(self.patterns)) };
                if let Some(f) = &s.frozen {
                    return f.clone();
                }
                match s.first_report {
                    Some(first) if first.elapsed() >= STATS_GRACE => {
                        let frozen = Arc::new(s.sum.clone());
                        s.frozen = Some(frozen.clone());
                        return frozen;
                    }
                    Some(first) => STATS_GRACE.saturating_sub(first.elapsed()),
                    None => STATS_GRACE,
                }
            };
            let _ = tokio::time::timeout(wait, notified).await;
        }
    }
}

/// One source's right to report (see [`Exchange::reporter`]).
#[derive(Debug)]
pub struct Reporter {
    exchange: Arc<Exchange>,
    done: bool,
}

impl Reporter {
    pub fn report(&mut self, stats: &SourceStats) {
        if !self.done {
            self.done = true;
            self.exchange.receive(Some(stats));
        }
    }

    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if !self.done {
            self.exchange.receive(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(opinions: u64, df: u64) -> SourceStats {
        SourceStats {
            opinions,
            words: [opinions * 4, 0, opinions * 5, opinions * 1000],
            df: vec![df],
            complete: true,
            postings: false,
        }
    }

    #[tokio::test]
    async fn sums_every_source_and_skips_sources_without_statistics() {
        let x = Exchange::new(3, 1);
        let (mut a, mut b, mut c) = (x.reporter(), x.reporter(), x.reporter());
        a.report(&stats(10, 2));
        b.report(&SourceStats { opinions: 99, complete: false, df: vec![7], ..SourceStats::default() });
        c.report(&stats(30, 3));
        let g = x.global().await;
        assert_eq!((g.opinions, g.df[0], g.sources, g.without_stats), (40, 5, 3, 1));
        assert!((g.average_length(BODY) - 1000.0).abs() < 1e-12);
    }

    #[tokio::test]
    async fn a_dropped_reporter_counts_as_reported() {
        let x = Exchange::new(2, 1);
        let mut a = x.reporter();
        drop(x.reporter());
        a.report(&stats(10, 2));
        let started = Instant::now();
        assert_eq!(x.global().await.opinions, 10);
        assert!(started.elapsed() < STATS_GRACE, "no grace wait when everyone reported");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_source_holds_the_others_only_for_the_grace_period() {
        let x = Exchange::new(2, 1);
        let mut a = x.reporter();
        let late = x.reporter();
        a.report(&stats(10, 2));
        let g = x.global().await;
        assert_eq!(g.opinions, 10);
        drop(late);
        assert_eq!(x.global().await.opinions, 10, "frozen: every source sees the same numbers");
    }
}
