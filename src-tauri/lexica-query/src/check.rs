//! The exact evaluator: decides whether one opinion matches a query, word by word, using
//! [`crate::text`]. The executor runs it on candidates when a plan says `needs_check`; the
//! backend tests use it as the reference every backend must agree with.

use std::borrow::Cow;

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

/// A passage's words (split once into one buffer, no `String` per word) and, for each word,
/// the index of its sentence.
#[derive(Debug)]
struct Passage<'w> {
    words: Cow<'w, text::Words>,
    sentence: Vec<u32>,
}

impl Passage<'_> {
    fn new(text_: &str, with_sentences: bool) -> Passage<'static> {
        let mut words = text::Words::default();
        if !with_sentences {
            words.split(text_);
            return Passage { words: Cow::Owned(words), sentence: Vec::new() };
        }
        let mut sentence = Vec::new();
        for (i, s) in text::sentences(text_).into_iter().enumerate() {
            let before = words.len();
            words.extend_split(s);
            sentence.extend(std::iter::repeat_n(u32::try_from(i).unwrap_or(u32::MAX), words.len() - before));
        }
        Passage { words: Cow::Owned(words), sentence }
    }

    /// The `i`-th word (`""` past the end; callers stay within [`text::Words::len`]).
    fn word(&self, i: usize) -> &str {
        self.words.get(i).unwrap_or("")
    }
}

/// An opinion split into words once, for several checks of it (the query, or a near miss's
/// exclusion and clauses): splitting is most of a check's cost, and a near miss of a
/// seven-clause query used to split every paragraph once per clause.
#[derive(Debug)]
pub struct Prepared<'a> {
    doc: Document<'a>,
    sentences: bool,
    body: Vec<Passage<'a>>,
    fields: [(Field, Passage<'static>); 3],
}

impl<'a> Prepared<'a> {
    /// `doc` split for checks of queries of which none needs sentences (`/s`, `+s`) beyond
    /// what `with_sentences` says: pass `query.root.has_sentence_proximity()` of the widest
    /// query to be checked (its parts need no more).
    pub fn new(doc: &Document<'a>, with_sentences: bool) -> Prepared<'a> {
        let body = doc.paragraphs.iter().map(|p| Passage::new(p, with_sentences)).collect();
        Prepared::with_body(doc, body, with_sentences)
    }

    fn with_body(doc: &Document<'a>, body: Vec<Passage<'a>>, sentences: bool) -> Prepared<'a> {
        let fields = [
            (Field::CaseName, Passage::new(doc.case_name, false)),
            (Field::Citation, Passage::new(doc.citation.unwrap_or(""), false)),
            (Field::Court, Passage::new(doc.court, false)),
        ];
        Prepared { doc: *doc, sentences, body, fields }
    }

    /// [`Prepared::new`] over paragraphs already split: `words[i]` must be
    /// `Words::split(doc.paragraphs[i])` (the PostgreSQL read splits them while it cuts the
    /// bodies, and the scorer reads the same). Split here anyway when sentences are needed or
    /// the counts differ.
    pub fn with_words(doc: &Document<'a>, words: &'a [text::Words], with_sentences: bool) -> Prepared<'a> {
        if with_sentences || words.len() != doc.paragraphs.len() {
            return Prepared::new(doc, with_sentences);
        }
        let body = words.iter().map(|w| Passage { words: Cow::Borrowed(w), sentence: Vec::new() }).collect();
        Prepared::with_body(doc, body, false)
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

/// Work units one check may spend joining proximity operands (one unit per span an operator
/// reads or produces). The joins below are linear in the operands for sentence and paragraph
/// operators at any nesting, so real queries spend far less (a 40-term query over a
/// 40,000-word opinion stays under a million); what reaches the budget is a `/n` over nested
/// `/s`/`/p` over an opinion repeating their words thousands of times. At roughly 10 ns a unit
/// this is about a tenth of a second of one core.
pub const CHECK_WORK_BUDGET: u64 = 10_000_000;
/// Work units between two looks at the stop signal: often enough that a cancel or a deadline
/// interrupts a check within a fraction of a millisecond, rarely enough to cost nothing.
const STOP_POLL_UNITS: u64 = 16_384;

/// What a bounded check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The opinion matches the query.
    Match,
    /// It does not.
    NoMatch,
    /// Deciding it needs more than the budget: the caller chooses (the executor trusts the
    /// statement's superset, see SPEC.md "Polarity").
    OverBudget,
    /// The stop signal was seen before the check was decided.
    Stopped,
}

/// The work a check may do, and the stop signal it looks at while doing it. One budget may be
/// shared by several checks of the same opinion (a near miss's clauses), bounding them together.
pub struct Budget<'s> {
    left: u64,
    until_poll: u64,
    spent: u64,
    stop: Option<&'s dyn Fn() -> bool>,
}

impl std::fmt::Debug for Budget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget").field("left", &self.left).field("spent", &self.spent).finish_non_exhaustive()
    }
}

impl Default for Budget<'_> {
    fn default() -> Self {
        Budget::new(CHECK_WORK_BUDGET)
    }
}

impl<'s> Budget<'s> {
    /// `units` of work, no stop signal.
    pub fn new(units: u64) -> Budget<'s> {
        Budget { left: units, until_poll: STOP_POLL_UNITS, spent: 0, stop: None }
    }

    /// The same budget, interrupted when `stop` returns true (looked at every few thousand units
    /// and once per passage).
    pub fn with_stop(self, stop: &'s dyn Fn() -> bool) -> Budget<'s> {
        Budget { stop: Some(stop), ..self }
    }

    /// Units spent so far.
    pub fn spent(&self) -> u64 {
        self.spent
    }

    fn spend(&mut self, units: usize) -> Result<(), Halt> {
        let units = units as u64;
        self.spent = self.spent.saturating_add(units);
        if units > self.left {
            self.left = 0;
            return Err(Halt::OverBudget);
        }
        self.left -= units;
        if units >= self.until_poll {
            self.until_poll = STOP_POLL_UNITS;
            return self.poll();
        }
        self.until_poll -= units;
        Ok(())
    }

    fn poll(&self) -> Result<(), Halt> {
        if self.stop.is_some_and(|stop| stop()) { Err(Halt::Stopped) } else { Ok(()) }
    }
}

/// Why an evaluation ended undecided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Halt {
    OverBudget,
    Stopped,
}

/// True when the opinion matches the whole query, date restriction included, decided within
/// [`CHECK_WORK_BUDGET`]; an opinion too costly to decide counts as a match (the same superset
/// rule as the SQL's, SPEC.md "Polarity"). The executor uses [`check_within`] to tell them apart.
pub fn check(query: &Query, doc: &Document<'_>) -> bool {
    !matches!(check_within(query, doc, &mut Budget::default()), Checked::NoMatch)
}

/// [`check`] under `budget`: at most its units of join work, interrupted by its stop signal.
///
/// Bound: terms and phrases are found by one scan of each passage (linear in the opinion's
/// words, times the query's terms). Proximity joins keep, where only the existence of a match
/// matters upward (every operator above is `/s`, `+s`, `/p`, `+p` or none), only the matches
/// that contain no other — at most one per start, so at most `W` per passage of `W` words —
/// and join two such lists by binary search in `O((|l| + |r|) log W)`, at any nesting depth.
/// Below a `/n` or `+n` the exact positions of every match matter, so those operands are
/// materialized in full, each span read or produced costing one unit of the budget; past it
/// the answer is [`Checked::OverBudget`]. Total work is thus at most
/// `budget + O(terms × words × log words)`, whatever the query and the opinion.
pub fn check_within(query: &Query, doc: &Document<'_>, budget: &mut Budget<'_>) -> Checked {
    check_prepared(query, &Prepared::new(doc, query.root.has_sentence_proximity()), budget)
}

/// [`check_within`] over an opinion already split ([`Prepared`]); the same answer.
pub fn check_prepared(query: &Query, doc: &Prepared<'_>, budget: &mut Budget<'_>) -> Checked {
    if let Some(range) = query.date {
        let Some(d) = doc.doc.decided_on.and_then(Date::parse_iso) else { return Checked::NoMatch };
        if range.from.is_some_and(|f| d < f) || range.to.is_some_and(|t| d > t) {
            return Checked::NoMatch;
        }
    }
    if query.root.has_sentence_proximity() && !doc.sentences {
        // Split without sentences for a query that needs them: split again, with them (a
        // caller's slip costs time, never a wrong answer).
        return check_prepared(query, &Prepared::new(&doc.doc, true), budget);
    }
    match eval(&query.root, &doc.body, &doc.fields, budget) {
        Ok(true) => Checked::Match,
        Ok(false) => Checked::NoMatch,
        Err(Halt::OverBudget) => Checked::OverBudget,
        Err(Halt::Stopped) => Checked::Stopped,
    }
}

fn eval(node: &Node, scope: &[Passage], fields: &[(Field, Passage); 3], b: &mut Budget<'_>) -> Result<bool, Halt> {
    match node {
        Node::And(c) => {
            for n in c {
                if !eval(n, scope, fields, b)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Node::Or(c) => {
            for n in c {
                if eval(n, scope, fields, b)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::Not { include, exclude } => Ok(eval(include, scope, fields, b)? && !eval(exclude, scope, fields, b)?),
        Node::Field { field, node } => match fields.iter().find(|(f, _)| f == field) {
            Some((_, p)) => eval(node, std::slice::from_ref(p), fields, b),
            None => Ok(false),
        },
        Node::Term(_) | Node::Phrase(_) | Node::Near { .. } => {
            for p in scope {
                b.poll()?;
                if !spans(node, p, Need::Any, b)?.is_empty() {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// What the operators above a node need of its matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Only whether there is one (the passage level): one match is enough.
    Any,
    /// Only the matches containing no other match, sorted by start (ends then increase
    /// strictly too). Exact when every operator above is `/s`, `+s`, `/p`, `+p`: they keep a
    /// pair when the pair's hull lies in one sentence, or the left ends before the right starts,
    /// and both still hold when a match is replaced by one it contains.
    Minimal,
    /// Every match, sorted and without duplicates: a `/n` or `+n` is above, whose distance is
    /// measured from one operand's end to the other's start (a contained match may be too far).
    All,
}

/// The matches of a passage-level node (term, phrase, OR, proximity) as `(first, last)` word
/// indices, as `need` asks.
fn spans(node: &Node, p: &Passage, need: Need, b: &mut Budget<'_>) -> Result<Vec<Span>, Halt> {
    let out = match node {
        Node::Term(t) => {
            let pat = term_pattern(&t.word, t.form);
            let mut hits = p.words.iter().enumerate().filter(|(_, w)| pat.matches(w)).map(|(i, _)| (i, i));
            if need == Need::Any { hits.next().into_iter().collect() } else { hits.collect() }
        }
        Node::Phrase(words) => {
            let pats: Vec<Pattern> = words.iter().map(word_pattern).collect();
            let k = pats.len();
            if k == 0 || p.words.len() < k {
                Vec::new()
            } else {
                let mut hits = (0..=p.words.len() - k)
                    .filter(|&i| pats.iter().enumerate().all(|(j, pat)| pat.matches(p.word(i + j))))
                    .map(|i| (i, i + k - 1));
                if need == Need::Any { hits.next().into_iter().collect() } else { hits.collect() }
            }
        }
        Node::Or(c) => {
            let mut all = Vec::new();
            for n in c {
                let one = spans(n, p, need, b)?;
                b.spend(one.len())?;
                all.extend(one);
                if need == Need::Any && !all.is_empty() {
                    break;
                }
            }
            all
        }
        Node::Near { left, right, within } => {
            let operands = match (within, need) {
                (Within::Words { .. }, _) | (_, Need::All) => Need::All,
                _ => Need::Minimal,
            };
            let l = spans(left, p, operands, b)?;
            if l.is_empty() {
                return Ok(l);
            }
            let r = spans(right, p, operands, b)?;
            if r.is_empty() {
                return Ok(r);
            }
            match (within, operands) {
                (Within::Words { n, ordered }, _) => words_join(&l, &r, *n as usize, *ordered, need == Need::Any, b)?,
                (Within::Sentence { ordered }, Need::All) => pairs_join(&l, &r, *ordered, true, p, b)?,
                (Within::Paragraph { ordered }, Need::All) => pairs_join(&l, &r, *ordered, false, p, b)?,
                (Within::Sentence { ordered }, _) => minimal_join(&l, &r, *ordered, true, need == Need::Any, p, b)?,
                (Within::Paragraph { ordered }, _) => minimal_join(&l, &r, *ordered, false, need == Need::Any, p, b)?,
            }
        }
        // AND, BUT NOT and fields are rejected inside proximity by the parser.
        Node::And(_) | Node::Not { .. } | Node::Field { .. } => Vec::new(),
    };
    b.spend(out.len())?;
    Ok(match need {
        Need::All => sorted(out),
        Need::Any | Need::Minimal => minimal(out),
    })
}

fn sorted(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    spans.dedup();
    spans
}

/// The spans that contain no other, sorted by start (their ends then increase strictly).
fn minimal(spans: Vec<Span>) -> Vec<Span> {
    let mut spans = sorted(spans);
    // Of equal starts the shortest; then, from the right, a span is kept when every span starting
    // later ends later.
    spans.dedup_by_key(|s| s.0);
    let mut kept = Vec::with_capacity(spans.len());
    let mut least_end = usize::MAX;
    for &s in spans.iter().rev() {
        if s.1 < least_end {
            kept.push(s);
            least_end = s.1;
        }
    }
    kept.reverse();
    kept
}

/// Whether a span lies in one sentence (always, in a passage read without sentences).
fn one_sentence(p: &Passage, s: Span) -> bool {
    p.sentence.get(s.0) == p.sentence.get(s.1)
}

/// `/n` and `+n` (SPEC.md, "Distance"): for each left match, the right matches starting
/// `1..=n` after it ends (found by binary search on starts) and, unordered, those ending
/// `1..=n` before it starts (on ends). Each pair produced costs a unit.
fn words_join(
    l: &[Span],
    r: &[Span],
    n: usize,
    ordered: bool,
    any: bool,
    b: &mut Budget<'_>,
) -> Result<Vec<Span>, Halt> {
    let mut out = Vec::new();
    let by_end = if ordered {
        Vec::new()
    } else {
        b.spend(r.len())?;
        let mut v = r.to_vec();
        v.sort_unstable_by_key(|s| (s.1, s.0));
        v
    };
    for &a in l {
        b.spend(1)?;
        let lo = r.partition_point(|x| x.0 <= a.1);
        let hi = r.partition_point(|x| x.0 <= a.1 + n);
        let after = r.get(lo..hi).unwrap_or_default();
        b.spend(after.len())?;
        out.extend(after.iter().map(|x| (a.0, x.1)));
        if !ordered {
            let lo = by_end.partition_point(|x| x.1 + n < a.0);
            let hi = by_end.partition_point(|x| x.1 < a.0);
            let before = by_end.get(lo..hi).unwrap_or_default();
            b.spend(before.len())?;
            out.extend(before.iter().map(|x| (x.0, a.1)));
        }
        if any && !out.is_empty() {
            break;
        }
    }
    Ok(out)
}

/// `/s`, `+s`, `/p`, `+p` with every match kept (below a `/n`): every pair of matches in one
/// sentence (or paragraph), ordered when asked; each pair costs a unit.
fn pairs_join(
    l: &[Span],
    r: &[Span],
    ordered: bool,
    sentence: bool,
    p: &Passage,
    b: &mut Budget<'_>,
) -> Result<Vec<Span>, Halt> {
    // Grouped by sentence: a pair's hull lies in one sentence only if both matches lie in it.
    let group = |s: &[Span]| -> Vec<(Option<u32>, Span)> {
        let mut g: Vec<(Option<u32>, Span)> = s
            .iter()
            .filter(|&&x| !sentence || one_sentence(p, x))
            .map(|&x| (if sentence { p.sentence.get(x.0).copied() } else { None }, x))
            .collect();
        g.sort_unstable();
        g
    };
    b.spend(l.len() + r.len())?;
    let (gl, gr) = (group(l), group(r));
    let mut out = Vec::new();
    let mut j = 0;
    let mut i = 0;
    while i < gl.len() {
        let key = gl[i].0;
        let i_end = i + gl[i..].partition_point(|x| x.0 == key);
        j += gr[j..].partition_point(|x| x.0 < key);
        let j_end = j + gr[j..].partition_point(|x| x.0 == key);
        for &(_, a) in &gl[i..i_end] {
            b.spend(j_end - j)?;
            for &(_, x) in &gr[j..j_end] {
                if !(ordered && a.1 >= x.0) {
                    out.push((a.0.min(x.0), a.1.max(x.1)));
                }
            }
        }
        i = i_end;
    }
    Ok(out)
}

/// `/s`, `+s`, `/p`, `+p` where only the minimal matches matter, over minimal operands: every
/// minimal hull pairs a match with the first match of the other side starting at or after it
/// (ordered: the first right match starting after the left one ends), so one binary search per
/// match finds them all (see [`Need::Minimal`]).
#[allow(clippy::too_many_arguments)]
fn minimal_join(
    l: &[Span],
    r: &[Span],
    ordered: bool,
    sentence: bool,
    any: bool,
    p: &Passage,
    b: &mut Budget<'_>,
) -> Result<Vec<Span>, Halt> {
    let keep = |z: Span| !sentence || one_sentence(p, z);
    let mut out = Vec::new();
    if ordered {
        b.spend(l.len())?;
        for &a in l {
            if let Some(&y) = r.get(r.partition_point(|x| x.0 <= a.1)) {
                let z = (a.0, y.1);
                if keep(z) {
                    out.push(z);
                    if any {
                        break;
                    }
                }
            }
        }
        return Ok(out);
    }
    b.spend(l.len() + r.len())?;
    for (xs, ys) in [(l, r), (r, l)] {
        for &x in xs {
            if let Some(&y) = ys.get(ys.partition_point(|y| y.0 < x.0)) {
                let z = (x.0.min(y.0), x.1.max(y.1));
                if keep(z) {
                    out.push(z);
                    if any {
                        return Ok(out);
                    }
                }
            }
        }
    }
    Ok(out)
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

    /// The checker as it was before the bounds (every pair materialized), kept as the
    /// reference the bounded one must agree with; `pairs` counts the pairs it builds.
    mod reference {
        use super::super::*;

        pub fn check(query: &Query, doc: &Document<'_>, pairs: &mut u64) -> bool {
            if let Some(range) = query.date {
                let Some(d) = doc.decided_on.and_then(Date::parse_iso) else { return false };
                if range.from.is_some_and(|f| d < f) || range.to.is_some_and(|t| d > t) {
                    return false;
                }
            }
            let s = query.root.has_sentence_proximity();
            let body: Vec<Passage> = doc.paragraphs.iter().map(|p| Passage::new(p, s)).collect();
            let fields = [
                (Field::CaseName, Passage::new(doc.case_name, false)),
                (Field::Citation, Passage::new(doc.citation.unwrap_or(""), false)),
                (Field::Court, Passage::new(doc.court, false)),
            ];
            eval(&query.root, &body, &fields, pairs)
        }

        fn eval(node: &Node, scope: &[Passage], fields: &[(Field, Passage); 3], pairs: &mut u64) -> bool {
            match node {
                Node::And(c) => c.iter().all(|n| eval(n, scope, fields, pairs)),
                Node::Or(c) => c.iter().any(|n| eval(n, scope, fields, pairs)),
                Node::Not { include, exclude } => {
                    eval(include, scope, fields, pairs) && !eval(exclude, scope, fields, pairs)
                }
                Node::Field { field, node } => fields
                    .iter()
                    .find(|(f, _)| f == field)
                    .is_some_and(|(_, p)| eval(node, std::slice::from_ref(p), fields, pairs)),
                _ => scope.iter().any(|p| !spans(node, p, pairs).is_empty()),
            }
        }

        pub(super) fn spans(node: &Node, p: &Passage, pairs: &mut u64) -> Vec<Span> {
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
                            .filter(|&i| pats.iter().enumerate().all(|(j, pat)| pat.matches(p.word(i + j))))
                            .map(|i| (i, i + k - 1))
                            .collect()
                    }
                }
                Node::Or(c) => c.iter().flat_map(|n| spans(n, p, pairs)).collect(),
                Node::Near { left, right, within } => {
                    let (l, r) = (spans(left, p, pairs), spans(right, p, pairs));
                    near(&l, &r, *within, p, pairs)
                }
                _ => Vec::new(),
            };
            out.sort_unstable();
            out.dedup();
            out
        }

        fn near(l: &[Span], r: &[Span], within: Within, p: &Passage, pairs: &mut u64) -> Vec<Span> {
            let mut out = Vec::new();
            match within {
                Within::Words { n, ordered } => {
                    let n = n as usize;
                    let widest = r.iter().map(|b| b.1 - b.0).max().unwrap_or(0);
                    for &a in l {
                        let lo = r.partition_point(|b| b.0 + widest + n < a.0);
                        let hi = r.partition_point(|b| b.0 <= a.1 + n);
                        for &b in &r[lo..hi.max(lo)] {
                            *pairs += 1;
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
                            *pairs += 1;
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
    }

    /// A tiny xorshift generator: the cases are the same on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const VOCABULARY: &[&str] = &["alpha", "beta", "gamma", "delta", "eps"];

    /// A proximity expression over the small vocabulary, `depth` levels deep at most.
    fn proximity(rng: &mut Rng, depth: u32) -> String {
        if depth == 0 || rng.below(3) == 0 {
            let w = VOCABULARY[rng.below(VOCABULARY.len())];
            return match rng.below(6) {
                0 => format!("\"{w} {}\"", VOCABULARY[rng.below(VOCABULARY.len())]),
                1 => format!("({w} OR {})", VOCABULARY[rng.below(VOCABULARY.len())]),
                2 => format!("\"{w}\""),
                _ => w.to_string(),
            };
        }
        let op = match rng.below(8) {
            0 => "/s".to_string(),
            1 => "+s".to_string(),
            2 => "/p".to_string(),
            3 => "+p".to_string(),
            4 => format!("+{}", 1 + rng.below(4)),
            5 => "(OR)".to_string(),
            _ => format!("/{}", 1 + rng.below(5)),
        };
        let (l, r) = (proximity(rng, depth - 1), proximity(rng, depth - 1));
        if op == "(OR)" { format!("({l} OR {r})") } else { format!("({l} {op} {r})") }
    }

    /// Paragraphs of vocabulary words cut into sentences at random.
    fn paragraphs(rng: &mut Rng) -> Vec<String> {
        (0..1 + rng.below(3))
            .map(|_| {
                let mut p = String::new();
                for i in 0..1 + rng.below(40) {
                    if i > 0 {
                        p.push_str(if rng.below(6) == 0 { ". " } else { " " });
                    }
                    p.push_str(VOCABULARY[rng.below(VOCABULARY.len())]);
                }
                p.push('.');
                p
            })
            .collect()
    }

    #[test]
    fn the_bounded_checker_agrees_with_the_reference_on_generated_cases() {
        let mut rng = Rng(0x5eed_cafe_f00d_1234);
        let (mut matched, mut cases) = (0, 0);
        while cases < 20_000 {
            let depth = 1 + rng.below(4) as u32;
            let text = proximity(&mut rng, depth);
            let Ok(q) = parse(&text, Mode::Boolean) else { continue };
            cases += 1;
            let owned = paragraphs(&mut rng);
            let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
            let d = Document { case_name: "x", citation: None, court: "c", decided_on: None, paragraphs: &refs };
            let expected = reference::check(&q, &d, &mut 0);
            let got = check_within(&q, &d, &mut Budget::default());
            assert_eq!(got, if expected { Checked::Match } else { Checked::NoMatch }, "`{text}` over {owned:?}");
            matched += usize::from(expected);
        }
        // Both outcomes are well represented, so agreement is not agreement on "no".
        assert!((2_000..18_000).contains(&matched), "{matched} of {cases} matched");
    }

    #[test]
    fn the_minimal_spans_of_a_join_are_those_of_every_pair() {
        // The lists themselves (not only the yes/no) agree: the minimal spans of the bounded
        // join equal the minimal spans of the reference's full join.
        let mut rng = Rng(0x0dd_ba11);
        for _ in 0..5_000 {
            let text = proximity(&mut rng, 3);
            let Ok(q) = parse(&text, Mode::Boolean) else { continue };
            let owned = paragraphs(&mut rng);
            let p = Passage::new(&owned[0], true);
            let full = reference::spans(&q.root, &p, &mut 0);
            let all = spans(&q.root, &p, Need::All, &mut Budget::default()).unwrap();
            assert_eq!(all, full, "`{text}` over {:?}", owned[0]);
            let least = spans(&q.root, &p, Need::Minimal, &mut Budget::default()).unwrap();
            assert_eq!(least, minimal(full), "`{text}` over {:?}", owned[0]);
        }
    }

    /// `k` sentences `a b c d e f g h x`, one paragraph.
    fn repeated(k: usize) -> String {
        vec!["a b c d e f g h x"; k].join(". ")
    }

    /// The work of one check, for the bounded checker and the reference (pairs built).
    fn work(q: &str, k: usize) -> (u64, u64, Checked) {
        let q = parse(q, Mode::Boolean).unwrap();
        let text = repeated(k);
        let refs = [text.as_str()];
        let d = Document { case_name: "x", citation: None, court: "c", decided_on: None, paragraphs: &refs };
        let mut b = Budget::default();
        let got = check_within(&q, &d, &mut b);
        let mut pairs = 0;
        // The reference only where it finishes in reasonable time.
        if k <= 40 {
            reference::check(&q, &d, &mut pairs);
        }
        (b.spent(), pairs, got)
    }

    const NESTED: &str = "((((a /s b) /p (c /s d)) /p ((e /s f) /p (g /s h))) /p x)";

    #[test]
    fn nested_sentence_and_paragraph_operators_cost_linear_work() {
        // The reference builds pairs as k^4 (k = occurrences of each word): 20 → 40 sentences
        // multiplies them by 16. The bounded checker's work doubles.
        let (w20, p20, m20) = work(NESTED, 20);
        let (w40, p40, m40) = work(NESTED, 40);
        assert_eq!((m20, m40), (Checked::Match, Checked::Match));
        assert!(p40 >= 12 * p20, "reference pairs {p20} → {p40}");
        assert!(w40 <= 3 * w20, "bounded work {w20} → {w40}");
        // And it stays linear far beyond where the reference could run (8,000-word paragraph).
        let (w800, _, m800) = work(NESTED, 800);
        assert_eq!(m800, Checked::Match);
        assert!(w800 <= 50 * w20, "bounded work {w20} → {w800} for 40× the text");
        eprintln!("pairs (reference): k=20 {p20}, k=40 {p40}; work (bounded): k=20 {w20}, k=40 {w40}, k=800 {w800}");
    }

    #[test]
    fn a_distance_over_nested_paragraphs_ends_over_budget_not_in_a_hang() {
        // Below a `/n` every span is kept: (a /p b) over 800 sentences has 640,000 hulls, and the
        // nesting multiplies them. The check stops at the budget, quickly.
        let q = "(((a /p b) /p (c /p d)) /p e) /2 x";
        let started = std::time::Instant::now();
        let (spent, _, got) = work(q, 800);
        assert_eq!(got, Checked::OverBudget);
        assert!(spent <= CHECK_WORK_BUDGET + 1_000_000, "{spent}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
        // `check` answers it as a match (the superset rule), never a hang.
        let q = parse(q, Mode::Boolean).unwrap();
        let text = repeated(800);
        let d = Document { case_name: "x", citation: None, court: "c", decided_on: None, paragraphs: &[text.as_str()] };
        assert!(check(&q, &d));
    }

    #[test]
    fn the_stop_signal_interrupts_a_check() {
        let q = parse("(((a /p b) /p (c /p d)) /p e) /2 x", Mode::Boolean).unwrap();
        let text = repeated(800);
        let d = Document { case_name: "x", citation: None, court: "c", decided_on: None, paragraphs: &[text.as_str()] };
        let polls = std::cell::Cell::new(0);
        let stop = || {
            polls.set(polls.get() + 1);
            polls.get() > 3
        };
        let mut b = Budget::new(u64::MAX).with_stop(&stop);
        assert_eq!(check_within(&q, &d, &mut b), Checked::Stopped);
        assert!(b.spent() < 5 * STOP_POLL_UNITS + 1_000_000, "{}", b.spent());
    }
}
