//! What a query is scored by, and how a query splits into clauses for near misses.
//!
//! - A [`Concept`] is one scoring unit of BM25F (RANKING.md): a word with its forms (`contract`
//!   → contract, contracts, contract's), a prefix (`object!`), or a phrase (`"due process"`),
//!   searched in the whole opinion or, inside `ti()`/`ci()`/`co()`, in one field. Excluded words
//!   are never concepts. [`Concept::count`] counts its occurrences in a run of words exactly as
//!   the checker matches it, so scoring and matching never disagree on what "occurs" means.
//! - A [`Matcher`] counts a whole list of concepts in one pass over a passage, with exactly
//!   [`Concept::count`]'s result for each: the scorer counts every concept in every fetched
//!   paragraph of every candidate, and comparing each word with every form of every concept
//!   was most of a search's time.
//! - A [`Conjunction`] is a query whose top level is `A AND B AND …` (optionally `BUT NOT X`):
//!   each clause on its own is a query the checker can test, which is how an opinion that
//!   satisfies all clauses but one is found and labelled (`missing: "at home"`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::ast::{Field, Form, Node, Query};
use crate::expand;
use crate::text::Words;

/// One word position's pattern: any of `forms` exactly, or any word starting with a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WordPattern {
    /// The word's forms (itself first); a quoted word has one.
    Forms(Vec<String>),
    /// `word!` / `word*`: every word starting with it.
    Prefix(String),
}

impl WordPattern {
    /// Whether a normalized word matches.
    pub fn matches(&self, word: &str) -> bool {
        match self {
            WordPattern::Forms(forms) => forms.iter().any(|f| f == word),
            WordPattern::Prefix(p) => word.starts_with(p.as_str()),
        }
    }

    /// The pattern as the query shows it (`contract`, `object!`), for labels and logs.
    pub fn label(&self) -> String {
        match self {
            WordPattern::Forms(forms) => forms.first().cloned().unwrap_or_default(),
            WordPattern::Prefix(p) => format!("{p}!"),
        }
    }
}

/// One scoring unit: a word (one pattern) or a phrase (consecutive patterns), in a field or in
/// the whole opinion (`field: None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Concept {
    pub field: Option<Field>,
    pub words: Vec<WordPattern>,
}

impl Concept {
    /// Occurrences in `words` (one passage: a paragraph or a field): for a word, the words it
    /// matches; for a phrase, the positions where it starts (as the checker finds phrases).
    pub fn count<S: AsRef<str>>(&self, words: &[S]) -> u32 {
        let k = self.words.len();
        if k == 0 || words.len() < k {
            return 0;
        }
        let n = (0..=words.len() - k)
            .filter(|&i| self.words.iter().enumerate().all(|(j, p)| p.matches(words[i + j].as_ref())))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// True for a phrase (two or more words).
    pub fn is_phrase(&self) -> bool {
        self.words.len() > 1
    }

    /// The concept as the query shows it (`"due process"`, `ti(smith)`).
    pub fn label(&self) -> String {
        let words: Vec<String> = self.words.iter().map(WordPattern::label).collect();
        let text = if words.len() > 1 { format!("\"{}\"", words.join(" ")) } else { words.concat() };
        match self.field {
            Some(f) => format!("{}({text})", f.keyword()),
            None => text,
        }
    }
}

/// Counts every concept of a list in a passage in one pass: each word costs one hash lookup
/// among all the concepts' forms plus a `starts_with` per prefix, instead of a comparison with
/// every form of every concept; a phrase is tried only where its first word matched. Built once
/// per search (or per opinion: building is cheap next to the paragraphs), used for every passage.
/// [`Matcher::count`] gives, per concept, exactly [`Concept::count`] over the same words.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Exact form → the patterns (indices into the distinct patterns) it is a form of.
    forms: HashMap<String, Vec<usize>, BuildHasherDefault<WordHasher>>,
    /// Prefix patterns: the prefix and its pattern.
    prefixes: Vec<(String, usize)>,
    /// Per concept, its patterns in order (a word has one, a phrase several).
    concepts: Vec<Vec<usize>>,
    /// Per pattern, whether some phrase starts with it (its positions are then kept).
    starts_phrase: Vec<bool>,
    /// Whether any concept is a phrase (the patterns at each position are then kept).
    phrases: bool,
    /// Scratch, per passage: per pattern, the words it matched.
    matched: Vec<u32>,
    /// Scratch, per passage: per pattern that starts a phrase, the positions it matched.
    first: Vec<Vec<usize>>,
    /// Scratch, per passage: the patterns matched at position `i` are
    /// `hits[hit_ends[i - 1]..hit_ends[i]]` (from 0 for the first).
    hits: Vec<usize>,
    hit_ends: Vec<usize>,
    /// The result of the last [`Matcher::count`], per concept.
    counts: Vec<u32>,
}

impl Matcher {
    pub fn new(concepts: &[Concept]) -> Matcher {
        let mut distinct: Vec<&WordPattern> = Vec::new();
        let mut of_concept = Vec::with_capacity(concepts.len());
        for c in concepts {
            let ids = c
                .words
                .iter()
                .map(|p| {
                    distinct.iter().position(|d| *d == p).unwrap_or_else(|| {
                        distinct.push(p);
                        distinct.len() - 1
                    })
                })
                .collect::<Vec<usize>>();
            of_concept.push(ids);
        }
        let mut forms: HashMap<String, Vec<usize>, BuildHasherDefault<WordHasher>> = HashMap::default();
        let mut prefixes = Vec::new();
        for (id, p) in distinct.iter().enumerate() {
            match p {
                WordPattern::Forms(fs) => {
                    for f in fs {
                        let ids = forms.entry(f.clone()).or_default();
                        // A form listed twice still matches a word once.
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                WordPattern::Prefix(prefix) => prefixes.push((prefix.clone(), id)),
            }
        }
        let mut starts_phrase = vec![false; distinct.len()];
        for ids in of_concept.iter().filter(|ids| ids.len() > 1) {
            starts_phrase[ids[0]] = true;
        }
        Matcher {
            forms,
            prefixes,
            phrases: of_concept.iter().any(|ids| ids.len() > 1),
            concepts: of_concept,
            starts_phrase,
            matched: vec![0; distinct.len()],
            first: vec![Vec::new(); distinct.len()],
            hits: Vec::new(),
            hit_ends: Vec::new(),
            counts: vec![0; concepts.len()],
        }
    }

    /// Occurrences of each concept (in the order given to [`Matcher::new`]) in one passage's
    /// words: `count(words)[c] == concepts[c].count(words)`.
    pub fn count(&mut self, words: &Words) -> &[u32] {
        self.matched.fill(0);
        self.first.iter_mut().for_each(Vec::clear);
        self.hits.clear();
        self.hit_ends.clear();
        for (i, word) in words.iter().enumerate() {
            let from = self.hits.len();
            if let Some(ids) = self.forms.get(word) {
                self.hits.extend_from_slice(ids);
            }
            for (prefix, id) in &self.prefixes {
                if word.starts_with(prefix.as_str()) {
                    self.hits.push(*id);
                }
            }
            for &id in &self.hits[from..] {
                self.matched[id] = self.matched[id].saturating_add(1);
                if self.starts_phrase[id] {
                    self.first[id].push(i);
                }
            }
            if self.phrases {
                self.hit_ends.push(self.hits.len());
            } else {
                self.hits.clear();
            }
        }
        let n = words.len();
        for (c, ids) in self.concepts.iter().enumerate() {
            let k = ids.len();
            self.counts[c] = match ids.as_slice() {
                [] => 0,
                [id] => self.matched[*id],
                [first, rest @ ..] => {
                    let at = |i: usize| -> &[usize] {
                        let start = if i == 0 { 0 } else { self.hit_ends[i - 1] };
                        &self.hits[start..self.hit_ends[i]]
                    };
                    let found = self.first[*first]
                        .iter()
                        .filter(|&&i| i + k <= n && rest.iter().enumerate().all(|(j, id)| at(i + 1 + j).contains(id)))
                        .count();
                    u32::try_from(found).unwrap_or(u32::MAX)
                }
            };
        }
        &self.counts
    }
}

/// FxHash (rustc's hasher) for the matcher's word lookups: a passage's every word is looked up,
/// and SipHash (the default, which resists flooding that nothing here has to fear: the keys are
/// the query's own forms) cost several times as much per word.
#[derive(Debug, Default, Clone, Copy)]
pub struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut add = |x: u64| self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            add(u64::from_le_bytes(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A query whose top level is a conjunction of two or more clauses, each a query of its own
/// (with the whole query's date restriction), and the `BUT NOT` part if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conjunction {
    pub clauses: Vec<Query>,
    /// Excluded in every tier: an opinion matching it is never a near miss either.
    pub exclude: Option<Query>,
}

impl Query {
    /// Every concept of the query, each once, in query order.
    pub fn concepts(&self) -> Vec<Concept> {
        let mut out = Vec::new();
        collect(&self.root, None, &mut out);
        out
    }

    /// The top-level clauses, when the query is `A AND B …` or `(A AND B …) BUT NOT X`.
    pub fn conjunction(&self) -> Option<Conjunction> {
        let (and, exclude) = match &self.root {
            Node::And(c) => (c, None),
            Node::Not { include, exclude } => match include.as_ref() {
                Node::And(c) => (c, Some(exclude.as_ref())),
                _ => return None,
            },
            _ => return None,
        };
        if and.len() < 2 {
            return None;
        }
        let sub = |root: &Node| Query { root: root.clone(), date: self.date, ranking: self.ranking };
        Some(Conjunction { clauses: and.iter().map(sub).collect(), exclude: exclude.map(sub) })
    }
}

fn collect(n: &Node, field: Option<Field>, out: &mut Vec<Concept>) {
    let mut push = |c: Concept| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    match n {
        Node::Term(t) => push(Concept { field, words: vec![term_pattern(&t.word, t.form)] }),
        Node::Phrase(ws) => push(Concept {
            field,
            words: ws
                .iter()
                .map(|w| {
                    if w.prefix {
                        WordPattern::Prefix(w.text.clone())
                    } else {
                        WordPattern::Forms(vec![w.text.clone()])
                    }
                })
                .collect(),
        }),
        Node::And(c) | Node::Or(c) => c.iter().for_each(|x| collect(x, field, out)),
        Node::Not { include, .. } => collect(include, field, out),
        Node::Near { left, right, .. } => {
            collect(left, field, out);
            collect(right, field, out);
        }
        Node::Field { field, node } => collect(node, Some(*field), out),
    }
}

/// The pattern of a plain, quoted or expanded term (the checker's and compilers' rule).
pub(crate) fn term_pattern(word: &str, form: Form) -> WordPattern {
    match form {
        Form::Plural => WordPattern::Forms(expand::forms(word)),
        Form::Exact => WordPattern::Forms(vec![word.to_string()]),
        Form::Prefix => WordPattern::Prefix(word.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mode, parse};

    fn words(s: &str) -> Vec<String> {
        crate::text::words(s)
    }

    #[test]
    fn concepts_are_positive_terms_and_phrases_once() {
        let q = parse("contract /s breach & ti(smith) & \"due process\" & object! & contract % waiver", Mode::Boolean)
            .unwrap();
        let labels: Vec<String> = q.concepts().iter().map(Concept::label).collect();
        assert_eq!(labels, ["contract", "breach", "ti(smith)", "\"due process\"", "object!"]);
    }

    #[test]
    fn counts_forms_prefixes_and_phrases() {
        let q = parse("contract & object! & \"due process\"", Mode::Boolean).unwrap();
        let c = q.concepts();
        let text = words("The contracts' contract; objection, objected. Due process and due process of due.");
        assert_eq!(c[0].count(&text), 2);
        assert_eq!(c[1].count(&text), 2);
        assert_eq!(c[2].count(&text), 2);
        assert_eq!(c[2].count(&words("due")), 0);
    }

    #[test]
    fn the_matcher_counts_as_count_does() {
        let q = parse(
            "contract & \"contracts\" & object! & obj! & \"due process\" & \"due due\" & \"process of due\" & due",
            Mode::Boolean,
        )
        .unwrap();
        let mut c = q.concepts();
        c.push(Concept { field: None, words: Vec::new() });
        c.push(Concept { field: None, words: vec![WordPattern::Forms(vec!["due".into(), "due".into()])] });
        let mut m = Matcher::new(&c);
        let mut w = Words::default();
        for text in [
            "The contracts' contract; objection, objected. Due process and due process of due.",
            "due due due process",
            "due",
            "",
            "process of due process of due due",
        ] {
            w.split(text);
            let expected: Vec<u32> = c.iter().map(|c| c.count(&words(text))).collect();
            assert_eq!(m.count(&w), expected, "{text}");
        }
    }

    #[test]
    fn conjunctions_split_into_clauses() {
        let q = parse("(a OR b) & c /s d & da(aft 2010) % e", Mode::Boolean).unwrap();
        let j = q.conjunction().unwrap();
        let clauses: Vec<String> = j.clauses.iter().map(|c| c.root.to_string()).collect();
        assert_eq!(clauses, ["a OR b", "c /s d"]);
        assert_eq!(j.exclude.as_ref().map(|e| e.root.to_string()).as_deref(), Some("e"));
        assert!(j.clauses.iter().all(|c| c.date == q.date && q.date.is_some()));
        assert!(parse("a OR b", Mode::Boolean).unwrap().conjunction().is_none());
        assert!(parse("a /s b", Mode::Boolean).unwrap().conjunction().is_none());
    }
}
