//! The fast path's first phase: which opinions of a large source are worth scoring, read from
//! each query term's highest-impact postings instead of from every match.
//!
//! `lexica ingest` keeps, for every term, its postings with the highest BM25F term weight
//! (`lexica_postings.impact`, `lexica_query::bm25f::weight` under the source's averages; at least
//! the best `lexica_ingest::POSTINGS_PER_TERM` of each term, and all of them for a term held by
//! fewer opinions). A search reads those heads for the query's words (a few thousand rows,
//! whatever the number of matches), adds them up per opinion into a first-phase score, and hands
//! the best ones, in that order, to confirmation (the Boolean query restricted to them) and then
//! to the exact score over their text (`rank.rs`), the way Elasticsearch rescores a window of
//! first-phase hits. RANKING.md, "At scale", says how far this is from ranking every match and
//! how that was measured.

use std::collections::HashMap;

use lexica_query::bm25f::{self, K1};

use super::score::CLOSENESS;

/// The `tf~` whose saturation is `weight` (the inverse of `bm25f::saturate`); a weight at or
/// past the saturation's bound (`K1 + 1`, only by rounding) counts as a very large `tf~`.
fn unsaturate(weight: f32) -> f64 {
    let w = f64::from(weight).max(0.0);
    let room = K1 + 1.0 - w;
    if room <= f64::EPSILON { 1e6 } else { K1 * w / room }
}

/// Postings read per term: the whole head `lexica ingest` keeps (its `POSTINGS_PER_TERM`).
pub const POSTINGS_READ: u32 = 1_000;
/// Terms of a prefix (`object!`) whose postings are read: its most frequent ones. A prefix of a
/// large vocabulary matches hundreds of words, most of them rare; the frequent ones carry most
/// of its matches.
pub const PREFIX_TERMS: usize = 16;

/// One term whose postings the first phase reads, and the scoring concept it counts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTerm {
    pub term: String,
    pub concept: usize,
}

/// One posting as read: which [`ListTerm`], which opinion, its stored impact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posting {
    pub term: usize,
    pub opinion_id: i64,
    pub impact: f32,
}

/// The opinions the postings name, best first, with their first-phase scores.
///
/// First-phase score: Σ over concepts of idf × the concept's weight, plus the closeness bonus's
/// most for the concepts seen (`CLOSENESS × idf`; the exact bonus needs the text). A concept's
/// forms (`court`, `courts`) are separate postings, and its weight saturates their sum, not
/// each: so each impact is turned back into its `tf~` (the saturation is invertible), the forms'
/// `tf~` added, and the sum saturated again — the concept's weight itself when every form's
/// posting was read, a lower bound when some was not. An opinion that holds more of the query's
/// concepts among their heads ranks first; ties go to the lower id so the order is deterministic.
pub fn order(concepts: usize, terms: &[ListTerm], postings: &[Posting], idf: &[f64]) -> Vec<(i64, f64)> {
    // Per opinion, per concept: the `tf~` of the postings read.
    let mut best: HashMap<i64, Vec<f64>> = HashMap::new();
    for p in postings {
        let Some(t) = terms.get(p.term) else { continue };
        if t.concept >= concepts {
            continue;
        }
        best.entry(p.opinion_id).or_insert_with(|| vec![0.0; concepts])[t.concept] += unsaturate(p.impact);
    }
    let mut scored: Vec<(i64, f64)> = best
        .into_iter()
        .map(|(id, w)| {
            let s = w
                .iter()
                .enumerate()
                .filter(|(_, pseudo)| **pseudo > 0.0)
                .map(|(c, pseudo)| idf.get(c).copied().unwrap_or(0.0) * (bm25f::saturate(*pseudo) + CLOSENESS))
                .sum();
            (id, s)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(term: &str, concept: usize) -> ListTerm {
        ListTerm { term: term.into(), concept }
    }

    #[test]
    fn opinions_holding_more_concepts_and_rarer_ones_come_first() {
        let terms = [t("jurisdiction", 0), t("jurisdictions", 0), t("state", 1)];
        let idf = [2.0, 0.2];
        let postings = [
            Posting { term: 0, opinion_id: 1, impact: 1.0 },
            Posting { term: 2, opinion_id: 1, impact: 1.0 },
            Posting { term: 0, opinion_id: 2, impact: 1.5 },
            Posting { term: 2, opinion_id: 3, impact: 2.0 },
            // A second form of the same concept counts once, at its best.
            Posting { term: 1, opinion_id: 2, impact: 0.5 },
        ];
        let order = order(2, &terms, &postings, &idf);
        let ids: Vec<i64> = order.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![2, 1, 3]);
        // Opinion 2's two forms: their tf~ added, then saturated.
        let both = bm25f::saturate(unsaturate(1.5) + unsaturate(0.5));
        assert!((order[0].1 - 2.0 * (both + CLOSENESS)).abs() < 1e-6, "{order:?}");
        assert!(both > 1.5 && both < 2.0);
    }

    #[test]
    fn unsaturate_inverts_the_saturation() {
        for pseudo in [0.1, 1.0, 3.5, 20.0] {
            let w = bm25f::saturate(pseudo) as f32;
            assert!((unsaturate(w) - pseudo).abs() / pseudo < 1e-5, "{pseudo}");
        }
    }

    #[test]
    fn ties_break_by_id_and_unknown_terms_are_ignored() {
        let terms = [t("a", 0)];
        let postings = [
            Posting { term: 0, opinion_id: 9, impact: 1.0 },
            Posting { term: 0, opinion_id: 4, impact: 1.0 },
            Posting { term: 5, opinion_id: 1, impact: 2.0 },
        ];
        let ids: Vec<i64> = order(1, &terms, &postings, &[1.0]).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec![4, 9]);
    }
}
