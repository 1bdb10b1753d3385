//! The SQLite compiler: FTS5 MATCH on `opinions_fts` (presence, fields) and on
//! `paragraphs_fts` (phrases and proximity).
//!
//! Every MATCH expression is a bind value; its tokens come from [`crate::text::words`]
//! (alphanumeric) and are always double-quoted, so they cannot change its structure.

use crate::MAX_COMPILED_ALTERNATIVES;
use crate::ast::{Field, Node, Query, Within};
use crate::plan::{self, Backend, BindValue, ClausePlan, Ctx, Filters, Plan, Polarity, Token};

fn column(field: Option<Field>) -> &'static str {
    match field {
        Some(Field::CaseName) => "case_name",
        Some(Field::Citation) => "citation",
        Some(Field::Court) => "court",
        None => "body",
    }
}

fn token(t: &Token) -> String {
    if t.prefix { format!("\"{}\" *", t.text) } else { format!("\"{}\"", t.text) }
}

fn alternatives(tokens: &[Token]) -> String {
    let parts: Vec<String> = tokens.iter().map(token).collect();
    if parts.len() == 1 { parts.concat() } else { format!("({})", parts.join(" OR ")) }
}

const PARAGRAPH_MATCH: &str = "SELECT p.opinion_id FROM paragraphs_fts JOIN opinion_paragraphs p ON p.id = paragraphs_fts.rowid WHERE paragraphs_fts MATCH";

/// Compiles a query for an SQLite bundle (schema: migrations/source-sqlite).
///
/// Three shapes, so that no statement materializes more than it must (an uncorrelated
/// `IN (SELECT rowid … MATCH …)` builds the whole match list before the first row, which for a
/// common word in a large bundle is most of the bundle):
/// - a query answerable from `opinions_fts` alone (terms, fields, Boolean operators): one MATCH
///   that streams, so `LIMIT` stops it early;
/// - restricted to given opinions (`Filters::only_ids`, the fast path's confirmation): driven
///   from those ids, each document-level part a MATCH on that one row (`rowid = o.id`);
/// - otherwise (phrases, proximity): a MATCH over any positive word drives, and the parts are
///   conditions on it.
pub fn compile(query: &Query, filters: &Filters) -> Plan {
    let mut c = Ctx::new(Backend::Sqlite);
    c.restricted = filters.only_ids.is_some();
    // SQLite has no cheap per-opinion paragraph test (a MATCH lists the whole bundle's matching
    // paragraphs), so a restricted plan leaves phrases and proximity to the checker.
    c.defer_positions = filters.defer_positions || c.restricted;
    let columns = "o.id, o.case_name, o.citation, o.court, o.jurisdiction, o.decided_on, o.docket_number";
    let from = "opinions_fts JOIN opinions o ON o.id = opinions_fts.rowid";
    let conjunction = if filters.near_misses > 0 { query.conjunction() } else { None };
    let mut clauses = Vec::new();
    let mut exclusion_needs_check = false;
    let sql = match conjunction {
        None if c.restricted => {
            let cond = document(&mut c, &query.root, Polarity::Include);
            let filters_sql = c.filter_conditions(query.date, filters);
            let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
            format!("SELECT {columns} FROM opinions o WHERE {cond}{filters_sql} LIMIT {limit}")
        }
        None if plan::document_level(&query.root) => {
            let m = c.bind(BindValue::Text(document_match(&query.root, None)));
            let filters_sql = c.filter_conditions(query.date, filters);
            let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
            format!("SELECT {columns} FROM {from} WHERE opinions_fts MATCH {m}{filters_sql} LIMIT {limit}")
        }
        None => {
            let any = any_positive(&mut c, query);
            let cond = document(&mut c, &query.root, Polarity::Include);
            let filters_sql = c.filter_conditions(query.date, filters);
            let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
            format!("SELECT {columns} FROM {from} WHERE opinions_fts MATCH {any} AND {cond}{filters_sql} LIMIT {limit}")
        }
        Some(j) => {
            let any = if c.restricted { None } else { Some(any_positive(&mut c, query)) };
            let mut flags = Vec::new();
            for (i, clause) in j.clauses.iter().enumerate() {
                let before = c.inexact_parts;
                let cond = document(&mut c, &clause.root, Polarity::Include);
                clauses.push(ClausePlan { label: clause.root.to_string(), needs_check: c.inexact_parts > before });
                flags.push(format!("({cond}) AS c{}", i + 1));
            }
            let exclude = match &j.exclude {
                Some(x) => {
                    let before = c.inexact_parts;
                    let cond = document(&mut c, &x.root, Polarity::Exclude);
                    exclusion_needs_check = c.inexact_parts > before;
                    format!(" AND NOT {cond}")
                }
                None => String::new(),
            };
            let filters_sql = c.filter_conditions(query.date, filters);
            let least = plan::least_clauses(clauses.len(), filters.near_misses);
            let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
            let sum: Vec<String> = (1..=clauses.len()).map(|i| format!("x.c{i}")).collect();
            // Restricted: every candidate holds a positive word (it came from their postings),
            // so the ids alone drive.
            let (source, matched) = match any {
                Some(any) => (from, format!("opinions_fts MATCH {any}")),
                None => ("opinions o", "1".to_string()),
            };
            format!(
                "SELECT x.* FROM (SELECT {columns}, {} FROM {source} WHERE {matched}{exclude}{filters_sql}) x WHERE {} >= {least} LIMIT {limit}",
                flags.join(", "),
                sum.join(" + ")
            )
        }
    };
    let tokens = plan::node_tokens(&query.root);
    let all: Vec<String> = tokens.iter().map(token).collect();
    Plan {
        backend: Backend::Sqlite,
        sql,
        binds: c.binds,
        needs_check: c.inexact_parts > 0,
        check_reasons: c.reasons,
        clauses,
        exclusion_needs_check,
        paragraph_filter: all.join(" OR "),
        paragraph_words: plan::ParagraphWords::of(&tokens),
    }
}

/// Binds a MATCH over every positive word of the query, in its field (what every match holds).
fn any_positive(c: &mut Ctx, query: &Query) -> String {
    let mut toks = Vec::new();
    plan::positive_tokens(&query.root, None, &mut toks);
    let mut by_column: Vec<(Option<Field>, Vec<String>)> = Vec::new();
    for (f, t) in &toks {
        match by_column.iter_mut().find(|(g, _)| g == f) {
            Some((_, v)) => v.push(token(t)),
            None => by_column.push((*f, vec![token(t)])),
        }
    }
    let any: Vec<String> = by_column.iter().map(|(f, v)| format!("{} : ({})", column(*f), v.join(" OR "))).collect();
    c.bind(BindValue::Text(any.join(" OR ")))
}

/// An opinion-level SQL condition.
fn document(c: &mut Ctx, n: &Node, pol: Polarity) -> String {
    if plan::document_level(n) {
        let q = document_match(n, None);
        let p = c.bind(BindValue::Text(q));
        if c.restricted {
            // One row's MATCH: FTS5 seeks that rowid in the doclists instead of listing them.
            return format!("EXISTS (SELECT 1 FROM opinions_fts WHERE opinions_fts MATCH {p} AND rowid = o.id)");
        }
        return format!("o.id IN (SELECT rowid FROM opinions_fts WHERE opinions_fts MATCH {p})");
    }
    match n {
        Node::And(children) | Node::Or(children) => {
            let sep = if matches!(n, Node::And(_)) { " AND " } else { " OR " };
            let parts: Vec<String> = children.iter().map(|x| document(c, x, pol)).collect();
            format!("({})", parts.join(sep))
        }
        Node::Not { include, exclude } => {
            let a = document(c, include, pol);
            let b = document(c, exclude, pol.flip());
            format!("({a} AND NOT {b})")
        }
        _ if c.defer_positions => c.deferred(pol).to_string(),
        _ => {
            let (q, exact) = paragraph_match(c, n);
            if !exact && pol == Polarity::Exclude {
                // An inexact exclusion would drop true matches: exclude nothing here and let
                // the checker exclude exactly.
                return "0".to_string();
            }
            let p = c.bind(BindValue::Text(q));
            format!("o.id IN ({PARAGRAPH_MATCH} {p})")
        }
    }
}

/// An FTS5 expression on `opinions_fts` for a document-level node (column-filtered).
fn document_match(n: &Node, field: Option<Field>) -> String {
    let col = column(field);
    match n {
        Node::Term(t) => format!("{col} : {}", alternatives(&plan::term_tokens(&t.word, t.form))),
        Node::Phrase(_) => format!("{col} : ({})", presence(n)),
        Node::And(ch) | Node::Or(ch) => {
            let sep = if matches!(n, Node::And(_)) { " AND " } else { " OR " };
            let parts: Vec<String> = ch.iter().map(|x| format!("({})", document_match(x, field))).collect();
            format!("({})", parts.join(sep))
        }
        Node::Not { include, exclude } => {
            format!("(({}) NOT ({}))", document_match(include, field), document_match(exclude, field))
        }
        Node::Field { field, node } => document_match(node, Some(*field)),
        Node::Near { .. } => String::new(),
    }
}

/// An FTS5 expression on `paragraphs_fts`, and whether it is exact.
fn paragraph_match(c: &mut Ctx, n: &Node) -> (String, bool) {
    match n {
        Node::Term(_) | Node::Phrase(_) => (presence(n), true),
        Node::Or(ch) => {
            let parts: Vec<(String, bool)> = ch.iter().map(|x| paragraph_match(c, x)).collect();
            let exact = parts.iter().all(|p| p.1);
            let q: Vec<String> = parts.into_iter().map(|p| p.0).collect();
            (format!("({})", q.join(" OR ")), exact)
        }
        Node::Near { left, right, within } => near(c, left, right, *within),
        _ => (presence(n), false),
    }
}

fn near(c: &mut Ctx, l: &Node, r: &Node, within: Within) -> (String, bool) {
    let both = format!("({} AND {})", presence(l), presence(r));
    if !plan::is_flat(l) || !plan::is_flat(r) {
        c.inexact(format!("nested proximity `{within}` is checked after retrieval"));
        return (both, false);
    }
    match within {
        Within::Paragraph { ordered: false } => (both, true),
        Within::Paragraph { ordered: true } => {
            c.inexact("`+p` (order within a paragraph) is checked after retrieval".to_string());
            (both, false)
        }
        Within::Sentence { .. } => {
            c.inexact(format!("`{within}`: sentences are not indexed; same paragraph is retrieved, then checked"));
            (both, false)
        }
        Within::Words { n, ordered } => {
            let (pl, pr) = (phrases(l), phrases(r));
            let count = pl.len() * pr.len();
            if count > MAX_COMPILED_ALTERNATIVES {
                c.inexact(format!(
                    "`{within}` would need {count} NEAR groups; same paragraph is retrieved, then checked"
                ));
                return (both, false);
            }
            if ordered {
                c.inexact(format!("`{within}`: FTS5 NEAR has no order; NEAR retrieves, order is checked"));
            }
            let (tl, tr) = (plan::node_tokens(l), plan::node_tokens(r));
            let shared = tl.iter().any(|a| tr.iter().any(|b| plan::may_share(a, b)));
            if shared {
                c.inexact(format!(
                    "`{within}`: both sides can match the same word, which FTS5 NEAR allows; checked after retrieval"
                ));
            }
            // NEAR(x y, N): at most N tokens between the two; "within n" is n - 1 between.
            let alts: Vec<String> =
                pl.iter().flat_map(|a| pr.iter().map(move |b| format!("NEAR({a} {b}, {})", n - 1))).collect();
            (format!("({})", alts.join(" OR ")), !ordered && !shared)
        }
    }
}

/// Every FTS5 phrase a flat node can match: one per word form, prefix or phrase.
fn phrases(n: &Node) -> Vec<String> {
    plan::atoms(n)
        .into_iter()
        .flat_map(|a| match a {
            Node::Term(t) => plan::term_tokens(&t.word, t.form).iter().map(token).collect(),
            other => vec![presence(other)],
        })
        .collect()
}

/// A necessary condition on one paragraph: every term, phrase and OR exactly; a proximity
/// as "both operands present".
fn presence(n: &Node) -> String {
    match n {
        Node::Term(t) => alternatives(&plan::term_tokens(&t.word, t.form)),
        Node::Phrase(ws) => ws.iter().map(|w| token(&plan::word_token(w))).collect::<Vec<_>>().join(" + "),
        Node::Or(ch) => {
            format!("({})", ch.iter().map(|x| format!("({})", presence(x))).collect::<Vec<_>>().join(" OR "))
        }
        Node::Near { left, right, .. } => format!("(({}) AND ({}))", presence(left), presence(right)),
        Node::And(_) | Node::Not { .. } | Node::Field { .. } => String::new(),
    }
}
