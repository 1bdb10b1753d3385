//! Reading candidates' text and ranking it, in step: the paragraphs of the next
//! [`RANK_CHUNK`] candidates are read while the previous ones are checked and scored, so the
//! source's server (reading bodies or paragraphs) and this machine (cutting, checking, scoring) work at
//! the same time instead of in turn. Snippets are made last, once, for the hits that are kept.
//!
//! Ranking in parts gives the same list as ranking at once: each part keeps its own top
//! [`MAX_RESULTS`] in the list's total order ([`rank::sort`]), and the top of the union of the
//! parts' tops is the top of the whole.

use lexica_query::Plan;
use tokio::task::JoinHandle;

use super::MAX_RESULTS;
use super::execution::Shared;
use super::rank::{self, Counted, RankPlan, Ranked};
use super::retrieve::{Step, Stopped};
use super::score::Scorer;
use super::source::{Candidate, SourceConn, Texts};

/// Candidates per read while the previous part is ranked. Small enough that the first part's
/// read (the one nothing overlaps) is short, large enough that a read's round trips (two
/// statements, under a millisecond here) stay a small share of it: 20 to 130 ms of paragraphs
/// at 200,000 opinions, by how many paragraphs hold a query word.
const RANK_CHUNK: usize = 100;

/// Ranked hits (snippets not made yet), what ranking counted, and the text of those hits.
#[derive(Debug, Default)]
pub(super) struct Scored {
    pub ranked: Vec<Ranked>,
    pub counted: Counted,
    /// The paragraphs and lengths of `ranked`'s opinions only (the snippets need them).
    pub texts: Texts,
}

impl Scored {
    /// Adds `other`'s hits and counts, keeping the top [`MAX_RESULTS`] and their texts.
    pub fn merge(&mut self, other: Scored) {
        self.ranked.extend(other.ranked);
        self.counted.exact += other.counted.exact;
        self.texts.paragraphs.extend(other.texts.paragraphs);
        self.texts.body_words.extend(other.texts.body_words);
        self.keep(MAX_RESULTS);
    }

    /// Keeps the top `n` in the list's order, and only their texts.
    pub fn keep(&mut self, n: usize) {
        rank::sort(&mut self.ranked);
        self.ranked.truncate(n);
        let kept: std::collections::HashSet<i64> = self.ranked.iter().map(|r| r.candidate.id).collect();
        self.texts.paragraphs.retain(|id, _| kept.contains(id));
        self.texts.body_words.retain(|id, _| kept.contains(id));
    }
}

/// Checks and scores `candidates` under `plan` (near-miss tiers when `tiers` and the plan was
/// compiled with them), reading each part's paragraphs that hold a word of `plan`'s.
pub(super) async fn read_and_rank(
    reads: &mut SourceConn<'_>,
    shared: &Shared,
    plan: &Plan,
    scorer: &Scorer,
    mut candidates: Vec<Candidate>,
    tiers: bool,
    stopped: &Stopped,
) -> Result<Scored, Step> {
    let mut scored = Scored::default();
    let mut pending: Option<JoinHandle<Option<Scored>>> = None;
    while !candidates.is_empty() {
        let rest = candidates.split_off(RANK_CHUNK.min(candidates.len()));
        let part = std::mem::replace(&mut candidates, rest);
        let ids: Vec<i64> = part.iter().map(|c| c.id).collect();
        // The read runs while the previous part is ranked on a blocking thread.
        let texts = reads.texts(&ids, plan, true).await?;
        if let Some(previous) = pending.take() {
            scored.merge(joined(previous).await?);
        }
        pending = Some(spawn_rank(shared, plan, scorer, part, texts, tiers, stopped));
    }
    if let Some(last) = pending {
        scored.merge(joined(last).await?);
    }
    Ok(scored)
}

/// Snippets for the hits kept (on a blocking thread: it is CPU work).
pub(super) async fn with_snippets(shared: &Shared, scored: Scored) -> Result<Vec<Ranked>, Step> {
    let (query, conjunction) = (shared.query.clone(), shared.conjunction.clone());
    let (concepts, highlight) = (shared.concepts.clone(), shared.highlight.clone());
    tokio::task::spawn_blocking(move || {
        let Scored { mut ranked, texts, .. } = scored;
        rank::snippets(&query, conjunction.as_ref(), &concepts, &highlight, &mut ranked, &texts);
        ranked
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "making a source's snippets failed");
        Step::Stopped
    })
}

/// Checking and scoring are CPU work: off the async workers, stoppable per candidate and inside
/// a candidate's check (`rank.rs`).
///
/// `spawn_blocking` rather than `block_in_place`: `block_in_place` panics on a current-thread
/// runtime (tests, and any face that builds one), and even on a multi-thread runtime it keeps the
/// whole task (this execution's `select!` on the deadline and the cancel) on the blocked worker,
/// so the deadline could not fire until ranking returned. On a blocking thread the execution's
/// future stays free to see the stop, set the signal the ranking polls, and end on time.
fn spawn_rank(
    shared: &Shared,
    plan: &Plan,
    scorer: &Scorer,
    candidates: Vec<Candidate>,
    texts: Texts,
    tiers: bool,
    stopped: &Stopped,
) -> JoinHandle<Option<Scored>> {
    // Near-miss tiers only for a plan compiled with them (its clause flags).
    let conjunction = if tiers { shared.conjunction.clone() } else { None };
    let (query, plan, concepts) = (shared.query.clone(), plan.clone(), shared.concepts.clone());
    let (scorer, stopped) = (scorer.clone(), stopped.clone());
    tokio::task::spawn_blocking(move || {
        let r = RankPlan {
            query: &query,
            plan: &plan,
            conjunction: conjunction.as_ref(),
            concepts: &concepts,
            scorer: &scorer,
            limit: MAX_RESULTS,
        };
        let (ranked, counted) = rank::rank(&r, candidates, &texts, &|| stopped())?;
        // The words were for checking and scoring; the snippets read the text.
        let texts = Texts { words: Default::default(), ..texts };
        let mut scored = Scored { ranked, counted, texts };
        scored.keep(MAX_RESULTS);
        Some(scored)
    })
}

async fn joined(task: JoinHandle<Option<Scored>>) -> Result<Scored, Step> {
    match task.await {
        Ok(Some(scored)) => Ok(scored),
        // Stopped midway: the caller knows which stop it was.
        Ok(None) => Err(Step::Stopped),
        Err(e) => {
            tracing::error!(error = %e, "ranking a source's candidates failed");
            Err(Step::Stopped)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::stats::{GlobalStats, Patterns, SourceStats};
    use lexica_query::{Filters, Mode, parse};

    fn candidate(id: i64) -> Candidate {
        Candidate {
            id,
            case_name: format!("Case {id}"),
            citation: None,
            court: "Supreme Court".into(),
            jurisdiction: None,
            decided_on: None,
            docket_number: None,
            flags: Vec::new(),
        }
    }

    /// Ranking 250 candidates in parts of [`RANK_CHUNK`] and merging the parts' tops gives the
    /// list ranking them all at once gives, ties (equal scores) included.
    #[test]
    fn ranking_in_parts_equals_ranking_at_once() {
        let query = parse("hearsay AND rule", Mode::Boolean).unwrap();
        let plan = lexica_query::postgres::compile(&query, &Filters::default());
        let concepts = query.concepts();
        let patterns = Patterns::of(&concepts);
        let mut global = GlobalStats::new(patterns.patterns.len());
        global.add(&SourceStats {
            opinions: 1_000,
            words: [4_000, 3_000, 5_000, 100_000],
            df: vec![50, 400],
            complete: true,
            postings: false,
        });
        let scorer = Scorer::new(&concepts, &patterns, &global);
        let mut texts = Texts::default();
        let candidates: Vec<Candidate> = (1..=250).map(candidate).collect();
        for c in &candidates {
            // Seven distinct scores, so most candidates tie with others and the id decides.
            let n = usize::try_from(c.id % 7).unwrap_or(0) + 1;
            texts.paragraphs.insert(c.id, vec![format!("{} rule", "hearsay ".repeat(n))]);
        }
        let r = RankPlan {
            query: &query,
            plan: &plan,
            conjunction: None,
            concepts: &concepts,
            scorer: &scorer,
            limit: MAX_RESULTS,
        };
        let (whole, counted) = rank::rank(&r, candidates.clone(), &texts, &|| false).unwrap();
        let mut parts = Scored::default();
        for part in candidates.chunks(RANK_CHUNK) {
            let (ranked, counted) = rank::rank(&r, part.to_vec(), &texts, &|| false).unwrap();
            parts.merge(Scored { ranked, counted, texts: texts.clone() });
        }
        assert_eq!(counted.exact, 250);
        assert_eq!(parts.counted.exact, 250);
        assert_eq!(parts.ranked, whole);
        // Only the kept hits' texts are held for their snippets.
        assert_eq!(parts.texts.paragraphs.len(), MAX_RESULTS);
        assert!(parts.ranked.iter().all(|h| parts.texts.paragraphs.contains_key(&h.candidate.id)));
    }
}
