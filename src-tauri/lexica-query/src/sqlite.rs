//! The SQLite compiler: FTS5 MATCH on `opinions_fts` (presence, fields, ranking) and on
//! `paragraphs_fts` (phrases and proximity).
//!
//! Every MATCH expression is a bind value; its tokens come from [`crate::text::words`]
//! (alphanumeric) and are always double-quoted, so they cannot change its structure.

use crate::MAX_COMPILED_ALTERNATIVES;
use crate::ast::{Field, Node, Query, Ranking, Within};
use crate::plan::{self, Backend, BindValue, Ctx, Filters, Plan, Polarity, Token};

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
pub fn compile(query: &Query, filters: &Filters) -> Plan {
    let mut c = Ctx::new(Backend::Sqlite);
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
    let any = c.bind(BindValue::Text(any.join(" OR ")));
    let relevance = "-bm25(opinions_fts)".to_string();
    let (rank, join, order) = match query.ranking {
        Ranking::Relevance => (relevance, String::new(), "score DESC, o.id".to_string()),
        Ranking::Coverage => coverage(&mut c, &query.root, relevance),
    };
    let cond = document(&mut c, &query.root, Polarity::Include);
    let filters_sql = c.filter_conditions(query.date, filters);
    let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
    let sql = format!(
        "SELECT o.id, {rank} AS score FROM opinions_fts JOIN opinions o ON o.id = opinions_fts.rowid{join} WHERE opinions_fts MATCH {any} AND {cond}{filters_sql} ORDER BY {order} LIMIT {limit}"
    );
    Plan {
        backend: Backend::Sqlite,
        sql,
        binds: c.binds,
        needs_check: !c.reasons.is_empty(),
        check_reasons: c.reasons,
        check_fields_sql: "SELECT case_name, citation, court, decided_on FROM opinions WHERE id = ?1",
        check_paragraphs_sql: "SELECT body FROM opinion_paragraphs WHERE opinion_id = ?1 ORDER BY paragraph_no",
    }
}

/// Statements mode: keywords in the opinion + keywords in its best paragraph.
fn coverage(c: &mut Ctx, root: &Node, relevance: String) -> (String, String, String) {
    let keywords = plan::keywords(root);
    let doc: Vec<String> = keywords.iter().map(|k| format!("({})", document(c, k, Polarity::Include))).collect();
    let per: Vec<String> = keywords
        .iter()
        .map(|k| {
            let q = paragraph_match(c, k).0;
            let p = c.bind(BindValue::Text(q));
            format!("SELECT rowid AS pid FROM paragraphs_fts WHERE paragraphs_fts MATCH {p}")
        })
        .collect();
    let join = format!(
        " LEFT JOIN (SELECT p.opinion_id AS oid, max(x.c) AS best FROM (SELECT pid, count(*) AS c FROM ({}) GROUP BY pid) x JOIN opinion_paragraphs p ON p.id = x.pid GROUP BY p.opinion_id) pc ON pc.oid = o.id",
        per.join(" UNION ALL ")
    );
    let rank = format!("CAST({} + coalesce(pc.best, 0) AS REAL)", doc.join(" + "));
    (rank, join, format!("score DESC, {relevance} DESC, o.id"))
}

/// An opinion-level SQL condition.
fn document(c: &mut Ctx, n: &Node, pol: Polarity) -> String {
    if plan::document_level(n) {
        let q = document_match(n, None);
        let p = c.bind(BindValue::Text(q));
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
