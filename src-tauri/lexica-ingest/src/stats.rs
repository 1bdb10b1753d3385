//! Ranking statistics: what both loaders keep in `lexica_corpus_stats`, `lexica_term_stats`
//! and `opinion_lengths` (`migrations/source-*/0003_statistics.sql`), defined once here so that
//! PostgreSQL sources and SQLite bundles built from the same input hold equal numbers (a search
//! adds the statistics of several sources up before scoring).
//!
//! Definitions (the search core relies on them):
//! - an opinion's **field lengths** are `text::words(field).len()` of its case name, citation
//!   (absent = `""`), court and body ([`Lengths`]);
//! - its **terms** are the distinct Lexica words of those four fields, leaving out words longer
//!   than [`tsvector::MAX_LEXEME_BYTES`]: exactly the distinct lexemes of the PostgreSQL document
//!   vector `crate::tsvector` builds ([`tsvector::is_indexed`] is the one test for both);
//! - `lexica_term_stats.df(term)` = opinions whose terms include `term`; a term whose df falls to
//!   0 is deleted (a search treats a missing term as df 0, and the table stays the vocabulary);
//! - `lexica_corpus_stats` = the opinion count and the sum of each field length.
//!
//! A new record's lengths and terms are computed when it is prepared (on the reader threads,
//! while the database works; see `crate::record::prepare`). The loaders then turn a batch into
//! [`TermDeltas`] (+1 per term of each inserted or changed record, -1 per term of the version it
//! replaces) and write only the net changes, in the batch's transaction.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use lexica_query::text;

use crate::tsvector::{self, Tf};

/// Opinions read per round trip when statistics are computed for opinions already in a source
/// (the backfill): large enough to keep round trips few, small enough that a batch of the
/// longest bodies (about 300 KB each) stays a few hundred MB at most.
pub(crate) const BACKFILL_BATCH: i64 = 1_000;

/// Words per distinct term in a record, for sizing its set up front (measured on the shared
/// corpus: 1.26 million record-term pairs for 5.1 million words).
const DISTINCT_PER_WORD: usize = 4;

/// Expected distinct terms in one batch's changes (a batch of 250 opinions of the shared corpus
/// changes 20,000–30,000 terms), for sizing the map up front.
const TERMS_PER_BATCH: usize = 32_768;

/// Multiplier of [`WordHasher`] (FxHash's, as used by rustc).
const WORD_HASH_MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// A fast hash for the short words of an ingest (FxHash's mix: rotate, xor, multiply per 8 bytes).
///
/// Why not std's SipHash: every word of every record is hashed (once to make its terms
/// distinct, once more per batch to add them up), and SipHash made that several percent of the
/// whole ingest. Resistance to crafted collisions buys nothing here: the input is the operator's
/// own file, and the worst a crafted one could do is slow down its own ingest.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(WORD_HASH_MULTIPLIER);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type WordHash = BuildHasherDefault<WordHasher>;

/// One opinion's field lengths in Lexica words (`opinion_lengths`). `i32` because the columns
/// are `integer`: a body is at most `record::MAX_BODY_BYTES` (8 MiB), so at most about 4.2
/// million words, far below `i32::MAX`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lengths {
    pub case_name: i32,
    pub citation: i32,
    pub court: i32,
    pub body: i32,
}

impl Lengths {
    /// The lengths of stored (raw) text, for opinions already in a source.
    pub fn of_text(case_name: &str, citation: Option<&str>, court: &str, body: &str) -> Self {
        let n = |t: &str| count(text::words(t).len());
        Self { case_name: n(case_name), citation: n(citation.unwrap_or("")), court: n(court), body: n(body) }
    }

    /// The four lengths in column order (case name, citation, court, body).
    pub fn columns(self) -> [i32; 4] {
        [self.case_name, self.citation, self.court, self.body]
    }
}

/// Words in a normalized text (`text::normalize` output: non-empty words joined by single
/// spaces, none leading or trailing), which is `text::words(original).len()`. Counted as spaces
/// plus one: a byte count the compiler vectorizes, where splitting costs a search per word.
pub(crate) fn normalized_word_count(normalized: &str) -> i32 {
    if normalized.is_empty() {
        return 0;
    }
    count(normalized.bytes().filter(|&b| b == b' ').count() + 1)
}

fn count(n: usize) -> i32 {
    // Cannot saturate (see `Lengths`); saturating rather than failing keeps this total.
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The distinct terms of normalized texts, in no particular order, joined by single spaces (one
/// allocation per record instead of one per term; terms never contain a space), with each
/// term's occurrences per field (`parts` are `(field, text)`, field as in [`Tf`]), in the same
/// order.
///
/// Why a hash map and not sort + dedup: a record has a few thousand words but a few hundred
/// distinct ones, and sorting all of them (a `memcmp` per comparison) made the full-corpus
/// ingest measurably slower; nothing needs a record's terms in order (a batch's net changes
/// are sorted once, see [`TermDeltas::gains_and_losses`]).
pub(crate) fn terms_of_normalized<'a>(parts: impl IntoIterator<Item = (usize, &'a str)> + Clone) -> (String, Vec<Tf>) {
    let text_bytes: usize = parts.clone().into_iter().map(|(_, t)| t.len()).sum();
    // About six bytes per word (five letters and a space).
    let mut distinct: HashMap<&str, usize, WordHash> =
        HashMap::with_capacity_and_hasher(text_bytes / 6 / DISTINCT_PER_WORD + 16, WordHash::default());
    let mut order: Vec<&str> = Vec::new();
    let mut tf: Vec<Tf> = Vec::new();
    let mut bytes = 0;
    for (field, part) in parts {
        for word in part.split(' ') {
            if word.is_empty() || !tsvector::is_indexed(word) {
                continue;
            }
            match distinct.get(word) {
                Some(&i) => tf[i][field] += 1,
                None => {
                    distinct.insert(word, order.len());
                    order.push(word);
                    let mut counts = [0; 4];
                    counts[field] = 1;
                    tf.push(counts);
                    bytes += word.len() + 1;
                }
            }
        }
    }
    let mut out = String::with_capacity(bytes);
    for word in order {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (out, tf)
}

/// The distinct terms of stored (raw) text, for the version an update replaces and for the
/// backfill: the same set [`terms_of_normalized`] gives for the prepared record.
pub(crate) fn terms_of_text(case_name: &str, citation: Option<&str>, court: &str, body: &str) -> Vec<String> {
    term_tf_of_text(case_name, citation, court, body).into_iter().map(|(t, _)| t).collect()
}

/// The distinct terms of stored (raw) text with their occurrences per field, sorted by term:
/// what [`terms_of_normalized`] gives for the prepared record (the postings backfill uses it).
pub(crate) fn term_tf_of_text(case_name: &str, citation: Option<&str>, court: &str, body: &str) -> Vec<(String, Tf)> {
    let mut counts: HashMap<String, Tf, WordHash> = HashMap::default();
    for (field, part) in [case_name, citation.unwrap_or(""), court, body].into_iter().enumerate() {
        for word in text::words(part) {
            if tsvector::is_indexed(&word) {
                counts.entry(word).or_insert([0; 4])[field] += 1;
            }
        }
    }
    let mut out: Vec<(String, Tf)> = counts.into_iter().collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A term, the net change of its df, and the net change of its stored postings
/// (`lexica_term_stats.postings`, see `crate::postings`).
pub(crate) type Change<'a> = (&'a str, i64, i64);

/// Net changes to `lexica_term_stats` (`df`, `postings`) for one transaction.
#[derive(Debug)]
pub(crate) struct TermDeltas<'a> {
    by_term: HashMap<Cow<'a, str>, [i64; 2], WordHash>,
}

impl Default for TermDeltas<'_> {
    fn default() -> Self {
        Self { by_term: HashMap::with_capacity_and_hasher(TERMS_PER_BATCH, WordHash::default()) }
    }
}

impl<'a> TermDeltas<'a> {
    /// Adds `delta` to `term`'s df.
    pub fn add(&mut self, term: Cow<'a, str>, delta: i64) {
        self.add_to(term, 0, delta);
    }

    /// Adds `delta` to `term`'s count of stored postings.
    pub fn add_postings(&mut self, term: Cow<'a, str>, delta: i64) {
        self.add_to(term, 1, delta);
    }

    fn add_to(&mut self, term: Cow<'a, str>, slot: usize, delta: i64) {
        match self.by_term.get_mut(term.as_ref()) {
            Some(d) => d[slot] += delta,
            None => {
                let mut d = [0; 2];
                d[slot] = delta;
                self.by_term.insert(term, d);
            }
        }
    }

    /// Adds `delta` to the df of each of `terms` (one opinion's distinct terms).
    pub fn add_all(&mut self, terms: impl IntoIterator<Item = &'a str>, delta: i64) {
        for term in terms {
            self.add(Cow::Borrowed(term), delta);
        }
    }

    /// The non-zero changes, split into df gains and the rest (df losses, or only postings
    /// changed; written differently: see the loaders), each sorted by term: the primary key's
    /// order (bytewise, as `COLLATE "C"` and SQLite's BINARY compare), so the writes walk the
    /// index in order.
    pub fn gains_and_losses(&self) -> (Vec<Change<'_>>, Vec<Change<'_>>) {
        let mut changes: Vec<Change<'_>> = self
            .by_term
            .iter()
            .filter(|&(_, d)| d[0] != 0 || d[1] != 0)
            .map(|(t, d)| (t.as_ref(), d[0], d[1]))
            .collect();
        changes.sort_unstable_by(|a, b| a.0.cmp(b.0));
        changes.into_iter().partition(|&(_, df, _)| df > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_terms_agree_between_raw_and_normalized_text() {
        let long = "z".repeat(tsvector::MAX_LEXEME_BYTES + 1);
        let body = format!("The court's ruling.\n\nThe COURT — and {long} İstanbul, 2d 1999.");
        let raw = Lengths::of_text("Smith v. Jones", None, "Supreme Court", &body);
        assert_eq!(raw, Lengths { case_name: 3, citation: 0, court: 2, body: 10 });
        let normalized: Vec<String> =
            ["Smith v. Jones", "", "Supreme Court", body.as_str()].into_iter().map(text::normalize).collect();
        assert_eq!(normalized_word_count(&normalized[3]), raw.body);
        assert_eq!(normalized_word_count(""), 0);
        let (joined, tf) = terms_of_normalized(normalized.iter().map(String::as_str).enumerate());
        let mut from_normalized: Vec<&str> = joined.split(' ').collect();
        from_normalized.sort_unstable();
        let from_text = terms_of_text("Smith v. Jones", None, "Supreme Court", &body);
        assert_eq!(from_normalized, from_text);
        assert!(!from_text.contains(&long), "over-long words are not PostgreSQL lexemes");
        assert!(from_text.windows(2).all(|w| w[0] < w[1]), "sorted and distinct: {from_text:?}");
        assert_eq!(terms_of_normalized([(3, "")]), (String::new(), Vec::new()));
        // Per-field counts: "court" twice in the body ("court's" is its own word), once in the court.
        let by_term: HashMap<&str, Tf> = joined.split(' ').zip(tf.iter().copied()).collect();
        assert_eq!(by_term["court"], [0, 0, 1, 1]);
        assert_eq!(by_term["the"], [0, 0, 0, 2]);
        let from_text: HashMap<String, Tf> =
            term_tf_of_text("Smith v. Jones", None, "Supreme Court", &body).into_iter().collect();
        assert_eq!(from_text.len(), by_term.len());
        assert!(by_term.iter().all(|(t, c)| from_text[*t] == *c));
    }

    #[test]
    fn deltas_net_out_and_sort() {
        let old = vec!["b".to_string(), "a".to_string()];
        let mut d = TermDeltas::default();
        d.add_all(["a", "c"], 1);
        for t in old {
            d.add(Cow::Owned(t), -1);
        }
        d.add_all(["d"], 1);
        d.add_all(["d"], -1);
        d.add_all(["e"], 1);
        d.add_all(["e"], -1);
        d.add_postings(Cow::Borrowed("e"), -2);
        d.add_postings(Cow::Borrowed("c"), 1);
        assert_eq!(d.gains_and_losses(), (vec![("c", 1, 1)], vec![("b", -1, 0), ("e", 0, -2)]));
    }
}
