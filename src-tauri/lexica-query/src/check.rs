//! The exact evaluator: decides whether one opinion matches a query, word by word, using
//! [`crate::text`]. The executor runs it on candidates when a plan says `needs_check`; the
//! backend tests use it as the reference every backend must agree with.

use crate::ast::{Date, Field, Form, Node, Query, Within, Word};
use crate::expand;
use crate::text;

/// One opinion as the checker sees it. `paragraphs` are the body's paragraphs as cut by
/// [`text::paragraphs`] (the `opinion_paragraphs.body` rows, in `paragraph_no` order).
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub case_name: &'a str,
    pub citation: Option<&'a str>,
    pub court: &'a str,
    /// `YYYY-MM-DD`.
    pub decided_on: Option<&'a str>,
    pub paragraphs: &'a [&'a str],
}

/// A passage's words and, for each word, the index of its sentence.
#[derive(Debug)]
struct Passage {
    words: Vec<String>,
    sentence: Vec<u32>,
}

impl Passage {
    fn new(text_: &str, with_sentences: bool) -> Passage {
        if !with_sentences {
            return Passage { words: text::words(text_), sentence: Vec::new() };
        }
        let mut words = Vec::new();
        let mut sentence = Vec::new();
        for (i, s) in text::sentences(text_).into_iter().enumerate() {
            let ws = text::words(s);
            sentence.extend(std::iter::repeat_n(u32::try_from(i).unwrap_or(u32::MAX), ws.len()));
            words.extend(ws);
        }
        Passage { words, sentence }
    }
}

/// A word pattern after expansion: any of `exact`, or any word starting with `prefix`.
#[derive(Debug, Clone)]
enum Pattern {
    Exact(Vec<String>),
    Prefix(String),
}

impl Pattern {
    fn matches(&self, w: &str) -> bool {
        match self {
            Pattern::Exact(forms) => forms.iter().any(|f| f == w),
            Pattern::Prefix(p) => w.starts_with(p.as_str()),
        }
    }
}

fn term_pattern(word: &str, form: Form) -> Pattern {
    match form {
        Form::Plural => Pattern::Exact(expand::forms(word)),
        Form::Exact => Pattern::Exact(vec![word.to_string()]),
        Form::Prefix => Pattern::Prefix(word.to_string()),
    }
}

fn word_pattern(w: &Word) -> Pattern {
    if w.prefix { Pattern::Prefix(w.text.clone()) } else { Pattern::Exact(vec![w.text.clone()]) }
}

type Span = (usize, usize);

/// True when the opinion matches the whole query, date restriction included.
pub fn check(query: &Query, doc: &Document<'_>) -> bool {
    if let Some(range) = query.date {
        let Some(d) = doc.decided_on.and_then(Date::parse_iso) else { return false };
        if range.from.is_some_and(|f| d < f) || range.to.is_some_and(|t| d > t) {
            return false;
        }
    }
    let needs_sentences = {
        let mut yes = false;
        query.root.walk(&mut |n| yes |= matches!(n, Node::Near { within: Within::Sentence { .. }, .. }));
        yes
    };
    let body: Vec<Passage> = doc.paragraphs.iter().map(|p| Passage::new(p, needs_sentences)).collect();
    let fields = [
        (Field::CaseName, Passage::new(doc.case_name, false)),
        (Field::Citation, Passage::new(doc.citation.unwrap_or(""), false)),
        (Field::Court, Passage::new(doc.court, false)),
    ];
    eval(&query.root, &body, &fields)
}

fn eval(node: &Node, scope: &[Passage], fields: &[(Field, Passage); 3]) -> bool {
    match node {
        Node::And(c) => c.iter().all(|n| eval(n, scope, fields)),
        Node::Or(c) => c.iter().any(|n| eval(n, scope, fields)),
        Node::Not { include, exclude } => eval(include, scope, fields) && !eval(exclude, scope, fields),
        Node::Field { field, node } => {
            let passage = fields.iter().filter(|(f, _)| f == field).map(|(_, p)| p);
            let one: Vec<&Passage> = passage.collect();
            one.first().is_some_and(|p| eval(node, std::slice::from_ref(*p), fields))
        }
        Node::Term(_) | Node::Phrase(_) | Node::Near { .. } => scope.iter().any(|p| !spans(node, p).is_empty()),
    }
}

/// Every match of a passage-level node (term, phrase, OR, proximity) as `(first, last)` word
/// indices, sorted and without duplicates.
fn spans(node: &Node, p: &Passage) -> Vec<Span> {
    let mut out = match node {
        Node::Term(t) => {
            let pat = term_pattern(&t.word, t.form);
            p.words.iter().enumerate().filter(|(_, w)| pat.matches(w)).map(|(i, _)| (i, i)).collect()
        }
        Node::Phrase(words) => {
            let pats: Vec<Pattern> = words.iter().map(word_pattern).collect();
            let k = pats.len();
            if k == 0 || p.words.len() < k {
                Vec::new()
            } else {
                (0..=p.words.len() - k)
                    .filter(|&i| pats.iter().enumerate().all(|(j, pat)| pat.matches(&p.words[i + j])))
                    .map(|i| (i, i + k - 1))
                    .collect()
            }
        }
        Node::Or(c) => c.iter().flat_map(|n| spans(n, p)).collect(),
        Node::Near { left, right, within } => near(&spans(left, p), &spans(right, p), *within, p),
        // AND, BUT NOT and fields are rejected inside proximity by the parser.
        Node::And(_) | Node::Not { .. } | Node::Field { .. } => Vec::new(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Joins the matches of two proximity operands (SPEC.md, "Proximity").
fn near(l: &[Span], r: &[Span], within: Within, p: &Passage) -> Vec<Span> {
    let mut out = Vec::new();
    if l.is_empty() || r.is_empty() {
        return out;
    }
    match within {
        Within::Words { n, ordered } => {
            let n = n as usize;
            // `r` is sorted by start; only starts within reach of `a` can qualify.
            let widest = r.iter().map(|b| b.1 - b.0).max().unwrap_or(0);
            for &a in l {
                let lo = r.partition_point(|b| b.0 + widest + n < a.0);
                let hi = r.partition_point(|b| b.0 <= a.1 + n);
                for &b in &r[lo..hi.max(lo)] {
                    if b.0 > a.1 && b.0 - a.1 <= n {
                        out.push((a.0, b.1));
                    }
                    if !ordered && a.0 > b.1 && a.0 - b.1 <= n {
                        out.push((b.0, a.1));
                    }
                }
            }
        }
        Within::Sentence { ordered } | Within::Paragraph { ordered } => {
            let sentence = matches!(within, Within::Sentence { .. });
            for &a in l {
                for &b in r {
                    let (s, e) = (a.0.min(b.0), a.1.max(b.1));
                    if ordered && a.1 >= b.0 {
                        continue;
                    }
                    if sentence && p.sentence.get(s) != p.sentence.get(e) {
                        continue;
                    }
                    out.push((s, e));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mode, parse};

    fn doc_matches(q: &str, paragraphs: &[&str]) -> bool {
        let q = parse(q, Mode::Boolean).unwrap();
        let d = Document {
            case_name: "Smith v. Jones",
            citation: Some("1 U.S. 1"),
            court: "Supreme Court",
            decided_on: Some("2012-05-01"),
            paragraphs,
        };
        check(&q, &d)
    }

    #[test]
    fn within_n_counts_positions() {
        let p = ["alpha one two beta"]; // positions 0 and 3: distance 3
        assert!(doc_matches("alpha /3 beta", &p));
        assert!(!doc_matches("alpha /2 beta", &p));
        assert!(doc_matches("beta /3 alpha", &p));
        assert!(doc_matches("alpha +3 beta", &p));
        assert!(!doc_matches("beta +3 alpha", &p));
    }

    #[test]
    fn sentence_and_paragraph_scopes() {
        let p = ["The alpha rule applies. The beta rule does not.", "Gamma here."];
        assert!(doc_matches("alpha /p beta", &p));
        assert!(!doc_matches("alpha /s beta", &p));
        assert!(!doc_matches("alpha /p gamma", &p));
        assert!(doc_matches("alpha AND gamma", &p));
        assert!(doc_matches("alpha +s rule", &p));
        assert!(!doc_matches("applies +s alpha", &p));
    }

    #[test]
    fn fields_and_dates() {
        assert!(doc_matches("ti(smith) AND alpha", &["alpha"]));
        assert!(!doc_matches("co(smith) AND alpha", &["alpha"]));
        assert!(doc_matches("alpha AND da(aft 2011)", &["alpha"]));
        assert!(!doc_matches("alpha AND da(bef 2012)", &["alpha"]));
        assert!(!doc_matches("smith", &["alpha"]));
    }

    #[test]
    fn same_word_twice_needs_two_occurrences() {
        assert!(!doc_matches("alpha /3 alpha", &["alpha beta"]));
        assert!(doc_matches("alpha /3 alpha", &["alpha beta alpha"]));
    }
}
