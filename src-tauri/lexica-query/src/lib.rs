//! Lexica's search language: Boolean terms-and-connectors queries and plain-language
//! statements, parsed once into a syntax tree and compiled per backend.
//!
//! # Layout
//! - [`text`]: how opinions are cut into paragraphs, sentences and words; every backend indexes
//!   this normalized form, so positions agree everywhere.
//! - [`ast`]: the syntax tree ([`Query`], [`Node`]) and its canonical printing.
//! - [`error`]: [`QueryError`], a positioned error with a suggested fix.
//! - [`parser`]: Boolean mode: lexer and precedence-climbing parser.
//! - [`statements`]: statements mode: keyword extraction into an OR-of-keywords query.
//! - [`expand`]: plural and possessive forms of plain terms (one rule for every backend).
//! - [`plan`]: [`Plan`], [`BindValue`], [`Filters`] and helpers shared by the compilers.
//! - [`postgres`]: the compiler to PostgreSQL tsquery SQL.
//! - [`sqlite`]: the compiler to SQLite FTS5 SQL.
//! - [`check`](mod@check): the exact evaluator run on candidates (and the tests' reference).
//! - [`concepts`]: what a query is scored by ([`Concept`]) and its top-level clauses for near
//!   misses ([`Conjunction`]).
//! - [`report`]: [`check_report`] for `lexica query check`.
//!
//! The language itself (every operator, its precedence, its compilation and exactness, and
//! the error catalogue) is specified in `SPEC.md` beside this crate's `Cargo.toml`; how results
//! are ranked (BM25F, shared statistics, near misses) in `RANKING.md` beside it.

pub mod ast;
pub mod bm25f;
pub mod check;
pub mod concepts;
pub mod error;
pub mod expand;
pub mod parser;
pub mod plan;
pub mod postgres;
pub mod report;
pub mod sqlite;
pub mod statements;
pub mod text;

use serde::Serialize;

pub use ast::{Date, DateRange, Field, Form, Node, Query, Ranking, Term, Within, Word};
pub use check::{Budget, CHECK_WORK_BUDGET, Checked, Document, Prepared, check, check_prepared, check_within};
pub use concepts::{Concept, Conjunction, WordPattern};
pub use error::{ErrorKind, QueryError};
pub use plan::{Backend, BindValue, CANDIDATE_COLUMNS, ClausePlan, Filters, ParagraphWords, Plan};
pub use report::{CheckReport, check_report};

/// Longest query accepted, in characters. Real research queries run to a few hundred; the
/// limit keeps a pasted document from becoming a query.
pub const MAX_QUERY_CHARS: usize = 4_000;
/// Largest `n` in `/n` and `+n` (Westlaw's own limit is 255).
pub const MAX_PROXIMITY: u32 = 255;
/// Shortest root before `!` or `*`: shorter roots match a large part of the dictionary.
pub const MIN_PREFIX_LEN: usize = 3;
/// Most forms a plain term expands to ([`expand::forms`]).
pub const MAX_FORMS: usize = 6;
/// Most terms and phrases in one query: bounds the SQL and the checker's work.
pub const MAX_TERMS: usize = 256;
/// Deepest nesting of parentheses: keeps the recursive parser's stack small on any input.
pub const MAX_NESTING: usize = 32;
/// Most alternatives one proximity may compile to (tsquery `<d>` terms, FTS5 `NEAR` groups)
/// before the compiler falls back to "same paragraph" plus the exact check.
pub const MAX_COMPILED_ALTERNATIVES: usize = 1_024;
/// Most keywords kept from statements.
pub const MAX_STATEMENT_KEYWORDS: usize = 40;
/// Default `LIMIT` of a plan.
pub const DEFAULT_LIMIT: u32 = 100;
/// Years accepted in `da(...)`.
pub const MIN_YEAR: i32 = 1600;
pub const MAX_YEAR: i32 = 2200;

/// How the input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// Terms and connectors (Westlaw/Lexis syntax).
    Boolean,
    /// Plain sentences describing the issue.
    Statements,
}

/// Parses a query. Never panics; every failure is a positioned [`QueryError`].
pub fn parse(input: &str, mode: Mode) -> Result<Query, QueryError> {
    match mode {
        Mode::Boolean => parser::parse_boolean(input),
        Mode::Statements => statements::parse_statements(input),
    }
}

/// A word to highlight in a snippet: it matches a normalized word `w` when `forms` contains
/// `w`, or (for a prefix) when `w` starts with `forms[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HighlightWord {
    pub forms: Vec<String>,
    pub prefix: bool,
}

/// A term (one word) or a phrase (consecutive words) to highlight, with the field it was
/// searched in (`None` = body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Highlight {
    pub field: Option<Field>,
    pub words: Vec<HighlightWord>,
}

impl Query {
    /// The terms and phrases to highlight: every one that is not excluded, in query order.
    pub fn highlight_terms(&self) -> Vec<Highlight> {
        let mut out = Vec::new();
        collect_highlights(&self.root, None, &mut out);
        out
    }
}

fn collect_highlights(n: &Node, field: Option<Field>, out: &mut Vec<Highlight>) {
    let mut push = |h: Highlight| {
        if !out.contains(&h) {
            out.push(h);
        }
    };
    match n {
        Node::Term(t) => push(Highlight {
            field,
            words: vec![HighlightWord {
                forms: plan::term_tokens(&t.word, t.form).into_iter().map(|x| x.text).collect(),
                prefix: t.form == Form::Prefix,
            }],
        }),
        Node::Phrase(ws) => push(Highlight {
            field,
            words: ws.iter().map(|w| HighlightWord { forms: vec![w.text.clone()], prefix: w.prefix }).collect(),
        }),
        Node::And(c) | Node::Or(c) => c.iter().for_each(|x| collect_highlights(x, field, out)),
        Node::Not { include, .. } => collect_highlights(include, field, out),
        Node::Near { left, right, .. } => {
            collect_highlights(left, field, out);
            collect_highlights(right, field, out);
        }
        Node::Field { field, node } => collect_highlights(node, Some(*field), out),
    }
}
