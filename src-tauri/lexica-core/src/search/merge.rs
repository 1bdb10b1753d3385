//! One list from many sources: the same opinion held by two sources becomes one hit listing both,
//! and the list is ordered deterministically and cut to the top [`super::MAX_RESULTS`].
//!
//! Two hits are the same opinion when they share a normalized citation (reporter variants from
//! the reporters database, see [`super::citation`]) — parallel citations chain, so `347 U.S. 483`
//! in one source and `347 U.S. 483, 74 S. Ct. 686` in another meet. Opinions with no citation
//! (slip opinions) are matched on court + docket number + decision date, all three present.
//!
//! Real data is noisy, so three guards keep distinct opinions apart: hits from the same source
//! are never merged (a source holds each opinion once; in the shared corpus 38 different Supreme
//! Court opinions carry the syllabus boilerplate cite `200 U.S. 321`, and order lists put ten
//! memorandum decisions on one page); the decision dates must agree when both are known; and the
//! case names must share most of their words.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::citation::citation_keys;
use super::{Hit, SortOrder};

/// Merges every source's hits, deduplicates, sorts and keeps the first `limit`.
pub fn merge(per_source: Vec<Vec<Hit>>, sort: SortOrder, limit: usize) -> Vec<Hit> {
    let hits: Vec<Hit> = per_source.into_iter().flatten().collect();
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    // The sources each group already holds (by root), so a group never takes a second hit from one.
    let mut held: Vec<Vec<String>> =
        hits.iter().map(|h| h.sources.iter().map(|s| s.source_name.clone()).collect()).collect();
    // Every earlier hit under each key: the first one may be a different opinion sharing a noisy
    // citation (`200 U.S. 321`), and a later hit must still meet its own twin.
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, hit) in hits.iter().enumerate() {
        for key in identity_keys(hit) {
            let earlier = seen.entry(key).or_default();
            for &j in earlier.iter() {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj && held[ri].iter().all(|s| !held[rj].contains(s)) && same_opinion(hit, &hits[j]) {
                    union(&mut parent, ri, rj);
                    let root = find(&mut parent, ri);
                    let moved = std::mem::take(&mut held[if root == ri { rj } else { ri }]);
                    held[root].extend(moved);
                }
            }
            earlier.push(i);
        }
    }
    let mut groups: HashMap<usize, Vec<Hit>> = HashMap::new();
    for (i, hit) in hits.into_iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(hit);
    }
    let mut merged: Vec<Hit> = groups.into_values().map(combine).collect();
    merged.sort_by(|a, b| compare(a, b, sort));
    merged.truncate(limit);
    merged
}

/// The keys under which a hit is "the same opinion" as another.
fn identity_keys(hit: &Hit) -> Vec<String> {
    let mut keys: Vec<String> = hit
        .citation
        .as_deref()
        .map(citation_keys)
        .unwrap_or_default()
        .into_iter()
        .map(|k| format!("cite:{}", k.as_str()))
        .collect();
    if keys.is_empty()
        && let (Some(docket), Some(date)) = (&hit.docket_number, &hit.decided_on)
    {
        let docket: String = docket.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
        if !docket.is_empty() {
            keys.push(format!("docket:{}|{docket}|{date}", hit.court.to_lowercase()));
        }
    }
    keys
}

/// The guards beyond a shared key: dates agree when both are known, and the case names share at
/// least half of their words (so `United States v. Lopez` meets `U.S. v. Lopez`'s "lopez" but an
/// unrelated opinion on the same reporter page does not).
fn same_opinion(a: &Hit, b: &Hit) -> bool {
    if let (Some(x), Some(y)) = (&a.decided_on, &b.decided_on)
        && x != y
    {
        return false;
    }
    let words = |h: &Hit| -> std::collections::HashSet<String> {
        lexica_query::text::words(&h.case_name)
            .into_iter()
            .filter(|w| w.len() > 2 && !NAME_NOISE.contains(&w.as_str()))
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return wa.is_empty() && wb.is_empty();
    }
    let shared = wa.intersection(&wb).count();
    shared * 2 >= wa.len().min(wb.len())
}

/// Words too common in case names to tell two cases apart.
const NAME_NOISE: &[&str] =
    &["the", "and", "inc", "corp", "company", "united", "states", "state", "people", "matter", "for", "ltd", "llc"];

/// One hit from a group: the best member's fields (lowest tier, then best score; gaps filled
/// from the others), every source.
fn combine(mut group: Vec<Hit>) -> Hit {
    group.sort_by(|a, b| a.tier.cmp(&b.tier).then(b.score.total_cmp(&a.score)).then_with(|| source_order(a, b)));
    let mut rest = group.split_off(1);
    let Some(mut best) = group.pop() else {
        // Groups are built from at least one hit; an empty one cannot occur.
        return Hit::default();
    };
    for other in rest.drain(..) {
        best.citation = best.citation.or(other.citation);
        best.docket_number = best.docket_number.or(other.docket_number);
        best.decided_on = best.decided_on.or(other.decided_on);
        best.jurisdiction = best.jurisdiction.or(other.jurisdiction);
        best.sources.extend(other.sources);
    }
    best.sources.sort_by(|a, b| a.source_name.cmp(&b.source_name).then(a.opinion_id.cmp(&b.opinion_id)));
    best.sources.dedup_by(|a, b| a.source_id == b.source_id && a.opinion_id == b.opinion_id);
    best
}

/// The list order: the tier, then the chosen sort, then the tie-breaks (date, newest first; then source name;
/// then the opinion's id in that source), so the same results always come out in the same order.
fn compare(a: &Hit, b: &Hit, sort: SortOrder) -> Ordering {
    // Exact matches always come first, whatever the sort; then each near-miss tier.
    let tier = a.tier.cmp(&b.tier);
    let by_score = b.score.total_cmp(&a.score);
    let newest = date_desc(a, b);
    let primary = match sort {
        SortOrder::Relevance => by_score.then(newest),
        SortOrder::Newest => newest.then(by_score),
        SortOrder::Oldest => date_asc(a, b).then(by_score),
    };
    tier.then(primary).then_with(|| source_order(a, b))
}

/// Newest first; undated opinions last.
fn date_desc(a: &Hit, b: &Hit) -> Ordering {
    match (&a.decided_on, &b.decided_on) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Oldest first; undated opinions last.
fn date_asc(a: &Hit, b: &Hit) -> Ordering {
    match (&a.decided_on, &b.decided_on) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn source_order(a: &Hit, b: &Hit) -> Ordering {
    let first = |h: &Hit| h.sources.first().map(|s| (s.source_name.clone(), s.opinion_id));
    first(a).cmp(&first(b))
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // The lower index stays root, so grouping never depends on hash order.
        let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[high] = low;
    }
}

#[cfg(test)]
mod tests {
    use super::super::HitSource;
    use super::*;
    use crate::models::SourceId;

    fn hit(source: &str, id: i64, citation: Option<&str>, date: Option<&str>, score: f64) -> Hit {
        Hit {
            sources: vec![HitSource { source_id: SourceId::new(), source_name: source.into(), opinion_id: id }],
            case_name: format!("Case {id}"),
            citation: citation.map(str::to_string),
            court: "Supreme Court".into(),
            decided_on: date.map(str::to_string),
            score,
            ..Hit::default()
        }
    }

    #[test]
    fn the_same_opinion_in_two_sources_appears_once_listing_both() {
        let merged = merge(
            vec![
                vec![hit("fed", 1, Some("347 U.S. 483"), Some("1954-05-17"), 0.5)],
                vec![
                    hit("ny", 9, Some("347 U. S. 483, 74 S. Ct. 686"), Some("1954-05-17"), 0.7),
                    hit("ny", 3, None, None, 0.1),
                ],
            ],
            SortOrder::Relevance,
            100,
        );
        assert_eq!(merged.len(), 2);
        let names: Vec<&str> = merged[0].sources.iter().map(|s| s.source_name.as_str()).collect();
        assert_eq!(names, ["fed", "ny"]);
        assert_eq!(merged[0].score, 0.7);
    }

    #[test]
    fn distinct_opinions_sharing_a_noisy_citation_stay_apart() {
        let mut a = hit("pg", 1, Some("200 U.S. 321"), Some("2017-05-30"), 0.9);
        a.case_name = "BNSF R. Co. v. Tyrrell".into();
        let mut b = hit("pg", 2, Some("200 U.S. 321"), Some("2017-05-30"), 0.8);
        b.case_name = "TC Heartland LLC v. Kraft Foods".into();
        let mut c = hit("bundle", 7, Some("200 U.S. 321"), Some("2017-05-22"), 0.7);
        c.case_name = "TC Heartland LLC v. Kraft Foods".into();
        let mut d = hit("bundle", 8, Some("200 U. S. 321"), Some("2017-05-30"), 0.6);
        d.case_name = "BNSF Railway Co. v. Tyrrell".into();
        let merged = merge(vec![vec![a, b], vec![c, d]], SortOrder::Relevance, 100);
        let shape: Vec<(String, usize)> = merged.iter().map(|h| (h.case_name.clone(), h.sources.len())).collect();
        // Same source: never merged. Different dates: never merged. Same date + matching names: one hit.
        assert_eq!(
            shape,
            [
                ("BNSF R. Co. v. Tyrrell".to_string(), 2),
                ("TC Heartland LLC v. Kraft Foods".to_string(), 1),
                ("TC Heartland LLC v. Kraft Foods".to_string(), 1)
            ]
        );
    }

    #[test]
    fn ties_break_by_date_then_source_then_id() {
        let hits = vec![
            vec![hit("b", 2, None, Some("2000-01-01"), 1.0), hit("b", 1, None, Some("2000-01-01"), 1.0)],
            vec![hit("a", 5, None, Some("2000-01-01"), 1.0), hit("a", 4, None, Some("2010-01-01"), 1.0)],
        ];
        let order = |sort| -> Vec<(String, i64)> {
            merge(hits.clone(), sort, 100)
                .iter()
                .map(|h| (h.sources[0].source_name.clone(), h.sources[0].opinion_id))
                .collect()
        };
        let s = |n: &str, i| (n.to_string(), i);
        assert_eq!(order(SortOrder::Relevance), [s("a", 4), s("a", 5), s("b", 1), s("b", 2)]);
        assert_eq!(order(SortOrder::Oldest), [s("a", 5), s("b", 1), s("b", 2), s("a", 4)]);
    }

    #[test]
    fn keeps_the_top_n() {
        let hits = vec![(0..250).map(|i| hit("a", i, None, None, f64::from(i as u32))).collect()];
        let merged = merge(hits, SortOrder::Relevance, 100);
        assert_eq!(merged.len(), 100);
        assert_eq!(merged[0].sources[0].opinion_id, 249);
    }

    #[test]
    fn twins_meet_even_behind_another_opinion_with_the_same_noisy_citation() {
        let mut bnsf = hit("sample", 1, Some("200 U.S. 321"), Some("2017-05-30"), 0.9);
        bnsf.case_name = "BNSF R. Co. v. Tyrrell".into();
        let mut light_a = hit("sample", 2, Some("200 U.S. 321"), Some("2017-01-18"), 0.8);
        light_a.case_name = "Lightfoot v. Cendant Mortgage Corp".into();
        let mut light_b = hit("beta", 9, Some("200 U.S. 321"), Some("2017-01-18"), 0.7);
        light_b.case_name = "Lightfoot v. Cendant Mortgage Corp".into();
        let merged = merge(vec![vec![bnsf, light_a], vec![light_b]], SortOrder::Relevance, 100);
        assert_eq!(merged.len(), 2, "{merged:#?}");
        assert_eq!(merged[1].sources.len(), 2);
    }
}
