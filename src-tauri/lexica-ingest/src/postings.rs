//! Impact-ordered postings (`lexica_postings`, `migrations/source-*/0004_postings.sql`): what a
//! posting is, which ones a source keeps, and the per-term bookkeeping both loaders share, so a
//! PostgreSQL source and an SQLite bundle built from the same input hold the same postings.
//!
//! Contract (the search core relies on it, lexica-core `search/topk.rs`):
//! - a posting is one (term, opinion) of `crate::stats`'s terms; `body_tf` counts the term among
//!   the body's Lexica words; `impact` = [`lexica_query::bm25f::weight`] of the term's per-field
//!   counts, the opinion's field lengths and the source's average field lengths **after adding
//!   the batch that writes it** (so the first batch of a new source already has real averages;
//!   the search recomputes exact scores, impacts only order postings);
//! - per term, the stored postings include every posting among the term's R highest (R =
//!   [`POSTINGS_PER_TERM`], or the test's own [`crate::IngestOptions`]); a posting not stored has
//!   an impact no higher than the term's `floor`, itself no higher than the R-th highest stored
//!   when it was set; a term that never held more than 2R postings has all of them.
//!
//! How: each loader keeps a [`Book`] in memory, a term's stored-posting count and floor (loaded
//! at ingest start: bounded by the vocabulary, never the postings themselves). A new posting is
//! written when its impact is above the term's floor; when a term's count passes
//! [`TRIM_FACTOR`] × R, the loader deletes its postings below its R-th highest impact (ties
//! stay) and raises the floor to that impact, in the same transaction. Why lazily at 2R rather
//! than at R: a trim is one index range read and delete per term, and trimming at every new
//! posting would cost one per posting of every common term.
//!
//! Every ingest run also ends by trimming each term holding more than R back to R (ties
//! stay), so a run leaves at most about R postings per term whatever the order of its batches:
//! that is what makes a PostgreSQL source and an SQLite bundle built from the same input hold the
//! same postings even when their loaders trimmed at different moments. (A posting at or above a
//! term's final R-th highest impact is never dropped before: floors only rise to an R-th highest
//! impact, which in a load without updates only rises.)
//!
//! A first load into an empty PostgreSQL source (`postgres::bulk`) keeps the postings themselves
//! in memory instead ([`Heads`]: the same admission and trims, so the same postings) and writes
//! them once at its end.
//!
//! Changes to the book are staged in a [`Pending`] and applied only when the batch's
//! transaction commits, so a batch that is rolled back (and retried record by record) leaves
//! the book as the database is.

use std::collections::HashMap;

use lexica_query::bm25f;

use crate::stats::{Lengths, WordHash};
use crate::tsvector::Tf;

/// R: postings kept per term (at least; up to [`TRIM_FACTOR`] × R between trims). The search
/// reads this many per query term (lexica-core `search/topk.rs`, `POSTINGS_READ`): enough for a
/// top 100 after the Boolean check drops candidates, few enough that a common term's head is a
/// few milliseconds of index-only reading.
pub const POSTINGS_PER_TERM: u32 = 1_000;

/// A term is trimmed back to R postings when it holds more than this many times R.
pub const TRIM_FACTOR: u32 = 2;

/// The source's average field lengths (case name, citation, court, body) from its corpus
/// totals; 0 for an empty source (`bm25f::norms` then leaves lengths unnormalized).
pub(crate) fn averages(opinions: i64, words: [i64; 4]) -> [f64; 4] {
    if opinions <= 0 {
        return [0.0; 4];
    }
    words.map(|w| w as f64 / opinions as f64)
}

/// A posting's impact, as stored (`real`: 4 bytes; both backends compare the same `f32`).
pub(crate) fn impact(tf: Tf, lengths: Lengths, average: [f64; 4]) -> f32 {
    let lengths = lengths.columns().map(|n| u32::try_from(n).unwrap_or(0));
    bm25f::weight(tf, lengths, average) as f32
}

/// One term's bookkeeping (`lexica_term_stats.postings`, `.floor`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Entry {
    /// Postings stored.
    pub postings: u32,
    /// No unstored posting of the term has a higher impact (0: none was dropped).
    pub floor: f32,
}

/// Every term's [`Entry`], for the whole ingest (see the module docs).
#[derive(Debug)]
pub(crate) struct Book {
    /// R.
    pub per_term: u32,
    terms: HashMap<String, Entry, WordHash>,
}

impl Book {
    pub fn new(per_term: u32) -> Self {
        Self { per_term: per_term.max(1), terms: HashMap::default() }
    }

    /// Adds a term's stored entry (when the book is loaded from the source).
    pub fn load(&mut self, term: String, entry: Entry) {
        if entry != Entry::default() {
            self.terms.insert(term, entry);
        }
    }

    /// Terms whose count passes this are trimmed.
    pub fn trim_above(&self) -> u32 {
        self.per_term.saturating_mul(TRIM_FACTOR)
    }

    fn get(&self, term: &str) -> Entry {
        self.terms.get(term).copied().unwrap_or_default()
    }

    /// The terms holding more than `n` postings, sorted.
    pub fn holding_more_than(&self, n: u32) -> Vec<String> {
        let mut terms: Vec<String> =
            self.terms.iter().filter(|(_, e)| e.postings > n).map(|(t, _)| t.clone()).collect();
        terms.sort_unstable();
        terms
    }

    /// Applies a committed batch's changes.
    pub fn commit(&mut self, pending: Pending) {
        for (term, entry) in pending.changed {
            if entry == Entry::default() {
                self.terms.remove(&term);
            } else {
                self.terms.insert(term, entry);
            }
        }
    }
}

/// One transaction's changes to a [`Book`], applied by [`Book::commit`].
#[derive(Debug, Default)]
pub(crate) struct Pending {
    changed: HashMap<String, Entry, WordHash>,
}

impl Pending {
    fn entry<'p>(&'p mut self, book: &Book, term: &str) -> &'p mut Entry {
        self.changed.entry(term.to_string()).or_insert_with(|| book.get(term))
    }

    /// Whether a new posting of `term` with `impact` is stored; if so it is counted.
    pub fn admit(&mut self, book: &Book, term: &str, impact: f32) -> bool {
        if let Some(e) = self.changed.get_mut(term) {
            if impact > e.floor {
                e.postings += 1;
                return true;
            }
            return false;
        }
        let mut e = book.get(term);
        if impact > e.floor {
            e.postings += 1;
            self.changed.insert(term.to_string(), e);
            return true;
        }
        false
    }

    /// `n` stored postings of `term` were deleted (their opinion changed).
    pub fn removed(&mut self, book: &Book, term: &str, n: u32) {
        let e = self.entry(book, term);
        e.postings = e.postings.saturating_sub(n);
    }

    /// `term` is held by no opinion any more (its statistics row is deleted).
    pub fn forget(&mut self, book: &Book, term: &str) {
        *self.entry(book, term) = Entry::default();
    }

    /// `term` was trimmed: its new stored count and floor.
    pub fn trimmed(&mut self, book: &Book, term: &str, postings: u32, floor: f32) {
        *self.entry(book, term) = Entry { postings, floor };
    }

    /// The terms this transaction took past the trim threshold, sorted.
    pub fn over_cap(&self, book: &Book) -> Vec<String> {
        let mut terms: Vec<String> =
            self.changed.iter().filter(|(_, e)| e.postings > book.trim_above()).map(|(t, _)| t.clone()).collect();
        terms.sort_unstable();
        terms
    }
}

/// One posting held in memory by [`Heads`]: impact, opinion id, body_tf (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Held {
    pub impact: f32,
    pub body_tf: u32,
    pub opinion_id: i64,
}

/// A first load's postings, kept in memory and written once at its end (see the module docs:
/// same admission and trims as a [`Book`], so the same postings are stored). Why: written batch
/// by batch, a first load of 20,000 synthetic opinions stored 9.6 million postings and spent
/// 176 of its 483 s in passes trimming them (no index yet); here a trim is a selection in a
/// vector, and the table receives only what it keeps, sorted by term (so its index builds in
/// one sequential pass). Memory is bounded by the vocabulary: at most [`TRIM_FACTOR`] × R
/// postings per term, 16 bytes each.
#[derive(Debug)]
pub(crate) struct Heads {
    per_term: u32,
    terms: HashMap<String, Head, WordHash>,
}

#[derive(Debug, Default)]
struct Head {
    floor: f32,
    held: Vec<Held>,
}

impl Head {
    /// Keeps the `r` highest impacts and their ties; raises the floor to the `r`-th.
    fn trim(&mut self, r: usize) {
        if self.held.len() <= r || r == 0 {
            return;
        }
        let (_, nth, _) = self.held.select_nth_unstable_by(r - 1, |a, b| b.impact.total_cmp(&a.impact));
        let floor = nth.impact;
        self.held.retain(|h| h.impact >= floor);
        self.floor = self.floor.max(floor);
    }
}

impl Heads {
    pub fn new(per_term: u32) -> Self {
        Self { per_term: per_term.max(1), terms: HashMap::default() }
    }

    /// Offers a committed posting: held when its impact is above the term's floor (as
    /// [`Pending::admit`]); the term is trimmed back to R once it holds more than
    /// [`TRIM_FACTOR`] × R (as the loaders' trims).
    pub fn offer(&mut self, term: &str, posting: Held) {
        let r = self.per_term as usize;
        let cap = r.saturating_mul(TRIM_FACTOR as usize);
        let head = match self.terms.get_mut(term) {
            Some(head) => head,
            None => self.terms.entry(term.to_string()).or_default(),
        };
        if posting.impact > head.floor {
            head.held.push(posting);
            if head.held.len() > cap {
                head.trim(r);
            }
        }
    }

    /// The end of the load: every term trimmed to R (ties stay, as the loaders' final trim),
    /// by term in byte order (`COLLATE "C"`), each with its [`Entry`] and postings by impact.
    pub fn finish(self) -> Vec<(String, Entry, Vec<Held>)> {
        let r = self.per_term as usize;
        let mut out: Vec<(String, Entry, Vec<Held>)> = self
            .terms
            .into_iter()
            .map(|(term, mut head)| {
                head.trim(r);
                head.held.sort_unstable_by(|a, b| b.impact.total_cmp(&a.impact).then(a.opinion_id.cmp(&b.opinion_id)));
                let postings = u32::try_from(head.held.len()).unwrap_or(u32::MAX);
                (term, Entry { postings, floor: head.floor }, head.held)
            })
            .collect();
        out.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        out
    }
}

/// A new opinion version's postings to write: `(term, impact, body_tf)` for each of its terms
/// the book admits (counted in `pending` and in `deltas`' postings column).
pub(crate) fn admitted<'r>(
    book: &Book,
    pending: &mut Pending,
    terms: impl Iterator<Item = &'r str>,
    tf: &[Tf],
    lengths: Lengths,
    average: [f64; 4],
    mut each: impl FnMut(&'r str, f32, u32),
) {
    for (term, &counts) in terms.zip(tf) {
        let weight = impact(counts, lengths, average);
        if pending.admit(book, term, weight) {
            each(term, weight, counts[lexica_query::bm25f::BODY]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_decide_and_pending_changes_wait_for_commit() {
        let mut book = Book::new(2);
        book.load("common".into(), Entry { postings: 4, floor: 0.5 });
        book.load("nothing".into(), Entry::default());
        let mut pending = Pending::default();
        assert!(!pending.admit(&book, "common", 0.5), "at the floor: not stored");
        assert!(pending.admit(&book, "common", 0.6));
        assert!(pending.admit(&book, "rare", 0.01), "a term without a floor keeps everything");
        assert_eq!(pending.over_cap(&book), vec!["common".to_string()], "5 > 2 × 2");
        assert_eq!(book.get("common").postings, 4, "nothing applied before the commit");
        pending.trimmed(&book, "common", 2, 0.7);
        pending.removed(&book, "rare", 1);
        book.commit(pending);
        assert_eq!(book.get("common"), Entry { postings: 2, floor: 0.7 });
        assert_eq!(book.get("rare"), Entry::default());
        assert!(!book.terms.contains_key("rare") && !book.terms.contains_key("nothing"));
        let mut pending = Pending::default();
        pending.forget(&book, "common");
        book.commit(pending);
        assert_eq!(book.get("common"), Entry::default());
    }

    #[test]
    fn heads_keep_what_a_book_and_its_trims_keep() {
        let mut heads = Heads::new(2);
        let p = |impact: f32, opinion_id: i64| Held { impact, body_tf: 1, opinion_id };
        for (i, impact) in [0.5f32, 0.9, 0.1, 0.7, 0.7, 0.3].into_iter().enumerate() {
            heads.offer("common", p(impact, i as i64));
        }
        // Past 2 × 2 at the fifth: trimmed to the 2 best and ties (0.9, 0.7, 0.7), floor 0.7;
        // then 0.3 is below the floor.
        heads.offer("common", p(0.7, 9)); // at the floor: not held, as Pending::admit
        heads.offer("rare", p(0.01, 3));
        assert_eq!(heads.terms.values().map(|h| h.held.len()).sum::<usize>(), 4);
        let done = heads.finish();
        assert_eq!(done.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(), ["common", "rare"]);
        let (_, entry, held) = &done[0];
        assert_eq!(*entry, Entry { postings: 3, floor: 0.7 });
        assert_eq!(held.iter().map(|h| h.opinion_id).collect::<Vec<_>>(), [1, 3, 4]);
        assert_eq!(done[1].1, Entry { postings: 1, floor: 0.0 }, "a term never trimmed keeps everything");
    }

    #[test]
    fn impacts_use_the_averages_and_empty_sources_have_none() {
        assert_eq!(averages(0, [5, 0, 3, 100]), [0.0; 4]);
        assert_eq!(averages(2, [5, 0, 3, 100]), [2.5, 0.0, 1.5, 50.0]);
        let lengths = Lengths { case_name: 3, citation: 0, court: 2, body: 40 };
        let short = impact([0, 0, 0, 2], lengths, averages(2, [5, 0, 3, 100]));
        let long = impact([0, 0, 0, 2], lengths, averages(2, [5, 0, 3, 20]));
        assert!(short > long && long > 0.0, "a body longer than average weighs less: {short} {long}");
        let mut book = Book::new(10);
        let mut pending = Pending::default();
        let mut got = Vec::new();
        admitted(
            &book,
            &mut pending,
            ["a", "b"].into_iter(),
            &[[1, 0, 0, 0], [0, 0, 0, 3]],
            lengths,
            [1.0; 4],
            |t, _, b| got.push((t, b)),
        );
        assert_eq!(got, [("a", 0), ("b", 3)]);
        book.commit(pending);
        assert_eq!(book.get("b").postings, 1);
    }
}
