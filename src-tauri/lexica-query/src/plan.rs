//! What a compiler hands the executor: one SQL statement, its bind values, and whether the
//! exact checker must confirm each candidate. Shared helpers for both compilers.

use std::fmt;

use serde::Serialize;

use crate::ast::{DateRange, Field, Form, Node, Word};
use crate::expand;

/// The backend a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// One bind value, in placeholder order (`$1`… for PostgreSQL, `?1`… for SQLite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BindValue {
    Text(String),
    Int(i64),
}

/// Restrictions the user picks outside the query text. Each becomes a bound SQL condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filters {
    /// `opinions.court` must equal one of these (empty: any court).
    pub courts: Vec<String>,
    /// `opinions.jurisdiction` must equal one of these (empty: any).
    pub jurisdictions: Vec<String>,
    /// Combined (intersected) with the query's own `da(...)`.
    pub decided: Option<DateRange>,
    /// Most candidate rows returned (a safety cap: ranking happens after retrieval, so the
    /// statement returns every match up to this many, in no particular order).
    pub limit: u32,
    /// Near-miss depth: 0 retrieves exact matches only; 1 also opinions that satisfy all
    /// top-level clauses of a conjunction but one; 2 also all but two. Ignored for a query that is
    /// not a conjunction at its top level ([`crate::Query::conjunction`]).
    pub near_misses: u32,
    /// Only these opinions (`opinions.id`): the fast path's confirmation of the candidates it
    /// picked from the postings (lexica-core `search/retrieve.rs`). `None`: every opinion.
    pub only_ids: Option<Vec<i64>>,
    /// Leave phrases and proximity to the checker: their conditions (which need every matching
    /// paragraph of the source) compile to "true" where they include and "false" where they
    /// exclude, and the plan `needs_check`. For counting many matches cheaply (a superset).
    pub defer_positions: bool,
    /// Match the query's words in any field (PostgreSQL: lexemes without their field weights).
    /// For counting many matches cheaply: a GIN index stores no weights, so a weight-restricted
    /// `@@` reads every candidate's vector back from the table (about 0.06 ms each at 200,000
    /// opinions), while an unweighted one is answered by the index alone. The count is then that
    /// of the words anywhere in the opinion, not only where the query asks, and exclusions are
    /// left out (excluding a word in any field would drop true matches): a superset, an estimate.
    pub any_field: bool,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters {
            courts: Vec::new(),
            jurisdictions: Vec::new(),
            decided: None,
            limit: crate::DEFAULT_LIMIT,
            near_misses: 0,
            only_ids: None,
            defer_positions: false,
            any_field: false,
        }
    }
}

/// A compiled query for one backend: the retrieval statement. Ranking happens after it, in the
/// executor (BM25F over the candidates' text with statistics shared across sources, RANKING.md),
/// so the statement returns matches, not scores.
///
/// `sql` returns one row per candidate with the columns [`CANDIDATE_COLUMNS`] (`decided_on` as
/// `YYYY-MM-DD` text), then, for a near-miss plan, one 0/1 integer per entry of `clauses` (1: the
/// clause's SQL matched, which for a clause that `needs_check` still has to be confirmed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub backend: Backend,
    /// Built only from the tree's structure; every piece of user text is in `binds`.
    pub sql: String,
    pub binds: Vec<BindValue>,
    /// True when some part could not be expressed exactly: the statement returns a superset of
    /// the matches, and each candidate must be confirmed with [`crate::check`] (for a near-miss
    /// plan: each flagged clause that `needs_check`, and the exclusion if `exclusion_needs_check`).
    pub needs_check: bool,
    /// Why the check is needed (one line per inexact part), for `lexica query check`.
    pub check_reasons: Vec<String>,
    /// A near-miss plan's top-level clauses, in query order; empty for an exact-only plan.
    pub clauses: Vec<ClausePlan>,
    /// A near-miss plan whose `BUT NOT` part could not be compiled exactly: its SQL excludes
    /// nothing and the checker must exclude.
    pub exclusion_needs_check: bool,
    /// A full-text expression (tsquery text for PostgreSQL, an FTS5 MATCH for SQLite) that
    /// matches every paragraph holding any word of the query, excluded words included: the only
    /// paragraphs the checker, the scorer and the snippets need (bind it; it is user text).
    pub paragraph_filter: String,
    /// The same words, for a reader that cuts paragraphs itself (the PostgreSQL reader cuts each
    /// candidate's body, `text::each_paragraph`): a paragraph is kept when it holds one of them.
    pub paragraph_words: ParagraphWords,
}

/// The words a paragraph must hold one of to be read: every word of the query, excluded words
/// included, as [`Plan::paragraph_filter`] matches them (a prefix matches every word it
/// starts; the forms of a term are its tokens).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParagraphWords {
    /// Sorted, so a printed plan is the same from run to run.
    exact: std::collections::BTreeSet<String>,
    prefixes: Vec<String>,
    /// A quick "no" before the set is searched (most of a body's words are not the query's):
    /// which first bytes and lengths the exact words have, which first bytes the prefixes have.
    #[serde(skip)]
    sieve: Sieve,
}

/// Bit sets over a word's first byte and its length (lengths past 63 share the last bit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Sieve {
    exact_first: [u64; 4],
    exact_lengths: u64,
    prefix_first: [u64; 4],
}

fn byte_bit(set: &[u64; 4], b: u8) -> bool {
    set[usize::from(b >> 6)] & (1 << (b & 63)) != 0
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl ParagraphWords {
    pub(crate) fn of(tokens: &[Token]) -> Self {
        let mut words = Self::default();
        for t in tokens {
            let Some(&first) = t.text.as_bytes().first() else { continue };
            let (set, bit) = (usize::from(first >> 6), 1 << (first & 63));
            if t.prefix {
                words.sieve.prefix_first[set] |= bit;
                if !words.prefixes.contains(&t.text) {
                    words.prefixes.push(t.text.clone());
                }
            } else {
                words.sieve.exact_first[set] |= bit;
                words.sieve.exact_lengths |= length_bit(t.text.len());
                words.exact.insert(t.text.clone());
            }
        }
        words
    }

    /// Whether a paragraph whose words (as `text::Words` cuts them) are `words` is to be read.
    pub fn any_in<'a>(&self, mut words: impl Iterator<Item = &'a str>) -> bool {
        let sieve = &self.sieve;
        words.any(|w| {
            let Some(&first) = w.as_bytes().first() else { return false };
            (byte_bit(&sieve.exact_first, first)
                && sieve.exact_lengths & length_bit(w.len()) != 0
                && self.exact.contains(w))
                || (byte_bit(&sieve.prefix_first, first) && self.prefixes.iter().any(|p| w.starts_with(p.as_str())))
        })
    }
}

/// The fixed leading columns of a plan's rows.
pub const CANDIDATE_COLUMNS: [&str; 7] =
    ["id", "case_name", "citation", "court", "jurisdiction", "decided_on", "docket_number"];

/// One top-level clause of a near-miss plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClausePlan {
    /// The clause in canonical query syntax (`"at home"`), shown as "missing: …".
    pub label: String,
    /// The clause's SQL is a superset: confirm a flagged row with the checker.
    pub needs_check: bool,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.sql)?;
        for (i, b) in self.binds.iter().enumerate() {
            let p = match self.backend {
                Backend::Postgres => format!("${}", i + 1),
                Backend::Sqlite => format!("?{}", i + 1),
            };
            match b {
                BindValue::Text(t) => writeln!(f, "  {p} = {t:?}")?,
                BindValue::Int(n) => writeln!(f, "  {p} = {n}")?,
            }
        }
        for (i, c) in self.clauses.iter().enumerate() {
            let how = if c.needs_check { "checked after retrieval" } else { "exact" };
            writeln!(f, "  clause {}: {} ({how})", i + 1, c.label)?;
        }
        if self.needs_check {
            writeln!(f, "  needs exact check of candidates:")?;
            for r in &self.check_reasons {
                writeln!(f, "    - {r}")?;
            }
        } else {
            writeln!(f, "  exact: no check needed")?;
        }
        Ok(())
    }
}

/// Whether a sub-expression is being compiled to include or to exclude opinions. An inexact
/// part must over-approximate where it includes and under-approximate where it excludes, so
/// that the statement's result is always a superset of the true matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polarity {
    Include,
    Exclude,
}

impl Polarity {
    pub(crate) fn flip(self) -> Polarity {
        match self {
            Polarity::Include => Polarity::Exclude,
            Polarity::Exclude => Polarity::Include,
        }
    }
}

/// Bind list and check bookkeeping shared by the compilers.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub backend: Backend,
    pub binds: Vec<BindValue>,
    pub reasons: Vec<String>,
    /// Inexact parts compiled so far, counted even when their reason repeats (so a caller can
    /// tell whether one sub-expression was exact).
    pub inexact_parts: usize,
    /// Compiling for given opinions only (`Filters::only_ids`): a compiler may then test each
    /// row instead of listing every match.
    pub restricted: bool,
    /// Paragraph-level parts left to the checker (`Filters::defer_positions`, or a compiler's
    /// own choice for restricted plans).
    pub defer_positions: bool,
    /// Words in any field (`Filters::any_field`).
    pub any_field: bool,
}

impl Ctx {
    pub(crate) fn new(backend: Backend) -> Ctx {
        Ctx {
            backend,
            binds: Vec::new(),
            reasons: Vec::new(),
            inexact_parts: 0,
            restricted: false,
            defer_positions: false,
            any_field: false,
        }
    }

    /// A paragraph-level part left to the checker: the condition that keeps a superset.
    pub(crate) fn deferred(&mut self, pol: Polarity) -> &'static str {
        self.inexact("phrases and proximity are confirmed by the checker (deferred)".to_string());
        match (pol, self.backend) {
            (Polarity::Include, Backend::Postgres) => "TRUE",
            (Polarity::Exclude, Backend::Postgres) => "FALSE",
            (Polarity::Include, Backend::Sqlite) => "1",
            (Polarity::Exclude, Backend::Sqlite) => "0",
        }
    }

    /// Adds a bind and returns its placeholder.
    pub(crate) fn bind(&mut self, v: BindValue) -> String {
        self.binds.push(v);
        match self.backend {
            Backend::Postgres => format!("${}", self.binds.len()),
            Backend::Sqlite => format!("?{}", self.binds.len()),
        }
    }

    pub(crate) fn inexact(&mut self, why: String) {
        self.inexact_parts += 1;
        if !self.reasons.contains(&why) {
            self.reasons.push(why);
        }
    }

    /// The filter and date conditions (` AND ...` each), shared by both dialects.
    pub(crate) fn filter_conditions(&mut self, date: Option<DateRange>, filters: &Filters) -> String {
        let mut sql = String::new();
        let date_cast = if self.backend == Backend::Postgres { "::date" } else { "" };
        for range in [date, filters.decided].into_iter().flatten() {
            if let Some(from) = range.from {
                let p = self.bind(BindValue::Text(from.iso()));
                sql.push_str(&format!(" AND o.decided_on >= {p}{date_cast}"));
            }
            if let Some(to) = range.to {
                let p = self.bind(BindValue::Text(to.iso()));
                sql.push_str(&format!(" AND o.decided_on <= {p}{date_cast}"));
            }
        }
        for (column, values) in [("court", &filters.courts), ("jurisdiction", &filters.jurisdictions)] {
            if values.is_empty() {
                continue;
            }
            let ps: Vec<String> = values.iter().map(|v| self.bind(BindValue::Text(v.clone()))).collect();
            sql.push_str(&format!(" AND o.{column} IN ({})", ps.join(", ")));
        }
        if let Some(ids) = &filters.only_ids {
            // One bind whatever the number of ids (numbers Lexica picked, never user text): a
            // PostgreSQL array literal, or a JSON array for SQLite's json_each.
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            match self.backend {
                Backend::Postgres => {
                    let p = self.bind(BindValue::Text(format!("{{{}}}", list.join(","))));
                    sql.push_str(&format!(" AND o.id = ANY({p}::bigint[])"));
                }
                Backend::Sqlite => {
                    let p = self.bind(BindValue::Text(format!("[{}]", list.join(","))));
                    sql.push_str(&format!(" AND o.id IN (SELECT value FROM json_each({p}))"));
                }
            }
        }
        sql
    }
}

/// A term, phrase or OR of them: the only shapes a backend can place exactly (the other shapes
/// inside a proximity are nested proximities).
pub(crate) fn is_flat(n: &Node) -> bool {
    match n {
        Node::Term(_) | Node::Phrase(_) => true,
        Node::Or(c) => c.iter().all(is_flat),
        _ => false,
    }
}

/// Answerable from the document-level index alone (no positions needed): terms, fields and
/// Boolean combinations of them. Phrases and proximity need paragraph positions.
pub(crate) fn document_level(n: &Node) -> bool {
    match n {
        Node::Term(_) | Node::Field { .. } => true,
        Node::Phrase(_) | Node::Near { .. } => false,
        Node::And(c) | Node::Or(c) => c.iter().all(document_level),
        Node::Not { include, exclude } => document_level(include) && document_level(exclude),
    }
}

/// The terms and phrases of a flat node.
pub(crate) fn atoms(n: &Node) -> Vec<&Node> {
    match n {
        Node::Or(c) => c.iter().flat_map(atoms).collect(),
        other => vec![other],
    }
}

/// One indexed token pattern: an exact word or a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub text: String,
    pub prefix: bool,
}

/// Every alternative token of a term (its forms, or its prefix).
pub(crate) fn term_tokens(word: &str, form: Form) -> Vec<Token> {
    match form {
        Form::Plural => expand::forms(word).into_iter().map(|text| Token { text, prefix: false }).collect(),
        Form::Exact => vec![Token { text: word.to_string(), prefix: false }],
        Form::Prefix => vec![Token { text: word.to_string(), prefix: true }],
    }
}

pub(crate) fn word_token(w: &Word) -> Token {
    Token { text: w.text.clone(), prefix: w.prefix }
}

/// Could one indexed word match both patterns? (Then a backend that lets two operands share
/// a token cannot be trusted to keep them apart.)
pub(crate) fn may_share(a: &Token, b: &Token) -> bool {
    match (a.prefix, b.prefix) {
        (false, false) => a.text == b.text,
        (true, false) => b.text.starts_with(&a.text),
        (false, true) => a.text.starts_with(&b.text),
        (true, true) => a.text.starts_with(&b.text) || b.text.starts_with(&a.text),
    }
}

/// All token patterns a node's matches can contain.
pub(crate) fn node_tokens(n: &Node) -> Vec<Token> {
    let mut out = Vec::new();
    n.walk(&mut |x| match x {
        Node::Term(t) => out.extend(term_tokens(&t.word, t.form)),
        Node::Phrase(ws) => out.extend(ws.iter().map(word_token)),
        _ => {}
    });
    out
}

/// Each positive (not excluded) word of the query with the field it must be in (`None` =
/// body): the retrieval-and-ranking part of a plan. Every opinion that matches the query
/// contains at least one of them (an exclusion always has an inclusion beside it).
pub(crate) fn positive_tokens(n: &Node, field: Option<Field>, out: &mut Vec<(Option<Field>, Token)>) {
    let mut push = |t: Token| {
        if !out.contains(&(field, t.clone())) {
            out.push((field, t));
        }
    };
    match n {
        Node::Term(t) => term_tokens(&t.word, t.form).into_iter().for_each(&mut push),
        Node::Phrase(ws) => ws.iter().map(word_token).for_each(&mut push),
        Node::And(c) | Node::Or(c) => c.iter().for_each(|x| positive_tokens(x, field, out)),
        Node::Not { include, .. } => positive_tokens(include, field, out),
        Node::Near { left, right, .. } => {
            positive_tokens(left, field, out);
            positive_tokens(right, field, out);
        }
        Node::Field { field: f, node } => positive_tokens(node, Some(*f), out),
    }
}

/// The fewest clauses a near-miss plan's candidates satisfy: all but `depth`, and at least one
/// (an opinion that satisfies no clause is no near miss).
pub(crate) fn least_clauses(clauses: usize, depth: u32) -> usize {
    clauses.saturating_sub(depth as usize).max(1)
}
