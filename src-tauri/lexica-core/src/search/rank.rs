//! From one source's candidates to its ranked hits: the exact check, the near-miss tiers, the
//! score and, for the hits kept, the snippet. Pure and synchronous: it runs on a blocking thread
//! (`pipeline.rs`), and it looks at the stop signal before each candidate and, through the
//! checker's [`Budget`], every few thousand units of a candidate's check, so a cancel or a
//! deadline interrupts it within one candidate's check at most.
//!
//! Each candidate's checks (the query's, or a near miss's exclusion and clauses) share one
//! budget of [`lexica_query::CHECK_WORK_BUDGET`]. A candidate too costly to decide keeps what the
//! statement said of it (SPEC.md, "Polarity": the statement returns a superset, so it stays a
//! match, a flagged clause stays confirmed, an exclusion does not exclude), and the number of
//! such candidates is logged: a clear outcome in bounded time rather than a check that runs on
//! after the search has ended.
//!
//! Tiers (RANKING.md, "Near misses"): tier 0 holds the exact matches, with the query's exact
//! meaning; when near misses are on and the query is a conjunction at its top level, tier 1 holds
//! the opinions that satisfy all clauses but one, and, for three or more clauses, tier 2 all but
//! two. The `BUT NOT` part excludes in every tier. Tiers order the list before scores do.

use lexica_query::text::Words;
use lexica_query::{Budget, Checked, Concept, Conjunction, Document, HighlightWord, Plan, Prepared, Query};

use super::score::{OpinionText, Scorer, features};
use super::snippet::{self, SnippetPart};
use super::source::{Candidate, Texts};

/// Near-miss depth for a conjunction of `clauses` clauses: all but one, and all but two when
/// there are three or more (all but two of two clauses would be "neither").
pub(super) fn depth(clauses: usize) -> u32 {
    if clauses >= 3 { 2 } else { 1 }
}

/// What ranking one source needs besides its candidates.
#[derive(Debug)]
pub(super) struct RankPlan<'a> {
    pub query: &'a Query,
    pub plan: &'a Plan,
    /// Set when the plan is a near-miss plan (its clauses are `plan.clauses`).
    pub conjunction: Option<&'a Conjunction>,
    pub concepts: &'a [Concept],
    pub scorer: &'a Scorer,
    /// Hits kept.
    pub limit: usize,
}

/// One ranked hit before it becomes a [`super::Hit`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ranked {
    pub candidate: Candidate,
    pub score: f64,
    /// 0: exact match; 1, 2: clauses missing.
    pub tier: u8,
    /// The missing clauses, in query syntax.
    pub missing: Vec<String>,
    /// The same clauses as indexes into the conjunction's (the snippet shows the others).
    pub missing_clauses: Vec<usize>,
    /// Empty until [`snippets`] fills it for the hits that are kept.
    pub snippet: Vec<SnippetPart>,
}

/// What ranking counted besides the hits it kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counted {
    /// Exact matches confirmed (tier 0), all of them, not only those kept.
    pub exact: usize,
}

/// Ranks `candidates`; `None` when `stopped` said so midway.
pub(super) fn rank(
    r: &RankPlan<'_>,
    candidates: Vec<Candidate>,
    texts: &Texts,
    stopped: &dyn Fn() -> bool,
) -> Option<(Vec<Ranked>, Counted)> {
    let mut counted = Counted::default();
    let mut kept: Vec<Ranked> = Vec::new();
    let mut over_budget = 0usize;
    // The widest query checked is the whole query (clauses and the exclusion are its parts).
    let sentences = r.query.root.has_sentence_proximity();
    for candidate in candidates {
        if stopped() {
            return None;
        }
        let paragraphs: Vec<&str> =
            texts.paragraphs.get(&candidate.id).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
        // The read's split words where it made them (PostgreSQL), else split once here, for the
        // checks and the score alike.
        let split: Vec<Words>;
        let words: &[Words] = match texts.words.get(&candidate.id) {
            Some(w) if w.len() == paragraphs.len() => w,
            _ => {
                split = paragraphs.iter().map(|p| Words::of(p)).collect();
                &split
            }
        };
        let doc = Document {
            case_name: &candidate.case_name,
            citation: candidate.citation.as_deref(),
            court: &candidate.court,
            decided_on: candidate.decided_on.as_deref(),
            paragraphs: &paragraphs,
        };
        let mut budget = Budget::default().with_stop(stopped);
        // Split into words once, at the first check, for all of them (the query's, or the
        // exclusion's and each clause's of a near miss).
        let mut prepared: Option<Prepared<'_>> = None;
        // `None`: stopped midway. Over budget, the statement's answer (`superset`) stands.
        let mut decide = |q: &Query, superset: bool| {
            let split = prepared.get_or_insert_with(|| Prepared::with_words(&doc, words, sentences));
            match lexica_query::check_prepared(q, split, &mut budget) {
                Checked::Match => Some(true),
                Checked::NoMatch => Some(false),
                Checked::OverBudget => {
                    over_budget += 1;
                    Some(superset)
                }
                Checked::Stopped => None,
            }
        };
        let (tier, missing_idx) = match r.conjunction {
            None => {
                if r.plan.needs_check && !decide(r.query, true)? {
                    continue;
                }
                (0, Vec::new())
            }
            Some(j) => {
                if let Some(x) = j.exclude.as_ref().filter(|_| r.plan.exclusion_needs_check)
                    && decide(x, false)?
                {
                    continue;
                }
                let mut missing: Vec<usize> = Vec::new();
                for (i, clause) in j.clauses.iter().enumerate() {
                    let flagged = candidate.flags.get(i).copied().unwrap_or(false);
                    let confirmed =
                        flagged && (!r.plan.clauses.get(i).is_some_and(|c| c.needs_check) || decide(clause, true)?);
                    if !confirmed {
                        missing.push(i);
                    }
                }
                if missing.len() > depth(j.clauses.len()) as usize {
                    continue;
                }
                (u8::try_from(missing.len()).unwrap_or(u8::MAX), missing)
            }
        };
        let text = OpinionText {
            case_name: &candidate.case_name,
            citation: candidate.citation.as_deref(),
            court: &candidate.court,
            paragraphs: &paragraphs,
            body_words: texts.body_words.get(&candidate.id).copied(),
            words: Some(words),
        };
        if tier == 0 {
            counted.exact += 1;
        }
        let score = r.scorer.score(&features(r.concepts, &text));
        let missing = missing_idx.iter().filter_map(|&i| r.plan.clauses.get(i).map(|c| c.label.clone())).collect();
        kept.push(Ranked { candidate, score, tier, missing, missing_clauses: missing_idx, snippet: Vec::new() });
    }
    if over_budget > 0 {
        tracing::warn!(
            checks = over_budget,
            budget = lexica_query::CHECK_WORK_BUDGET,
            "some candidates were too costly to check exactly (nested proximity over many repeated words); \
             they were kept as the statement returned them"
        );
    }
    sort(&mut kept);
    kept.truncate(r.limit);
    Some((kept, counted))
}

/// The list's order: tier, then score, then the opinion's id (a total order, so ranking a
/// source's candidates in parts and merging the parts gives the same list as ranking them at once).
pub(super) fn sort(hits: &mut [Ranked]) {
    hits.sort_by(|a, b| {
        a.tier.cmp(&b.tier).then(b.score.total_cmp(&a.score)).then(a.candidate.id.cmp(&b.candidate.id))
    });
}

/// Fills the snippets of `hits` (the ones kept: a snippet is the costliest part of ranking one
/// opinion, so it is made only for what is shown). A near miss shows the best window of the
/// clauses it has.
pub(super) fn snippets(
    query: &Query,
    conjunction: Option<&Conjunction>,
    concepts: &[Concept],
    highlight: &[HighlightWord],
    hits: &mut [Ranked],
    texts: &Texts,
) {
    let sentence = query.root.has_sentence_proximity();
    let clause_concepts: Vec<Vec<Concept>> =
        conjunction.map(|j| j.clauses.iter().map(Query::concepts).collect()).unwrap_or_default();
    for hit in hits {
        let paragraphs: Vec<&str> =
            texts.paragraphs.get(&hit.candidate.id).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
        hit.snippet = if hit.missing_clauses.is_empty() {
            snippet::best(&paragraphs, concepts, highlight, sentence)
        } else {
            let present: Vec<Concept> = clause_concepts
                .iter()
                .enumerate()
                .filter(|(i, _)| !hit.missing_clauses.contains(i))
                .flat_map(|(_, c)| c.iter().cloned())
                .collect();
            snippet::best(&paragraphs, &present, highlight, sentence)
        };
    }
}
