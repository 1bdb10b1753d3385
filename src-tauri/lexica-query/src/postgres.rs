//! The PostgreSQL compiler: tsquery on `opinions.search_vector` (presence, fields)
//! and on `opinion_paragraphs.search_vector` (phrases and proximity, exact positions).
//!
//! Every tsquery is a bind value cast with `::tsquery` (no parsing config, no stemming): its
//! lexemes come from [`crate::text::words`], so they are alphanumeric and quoted, and cannot
//! change the tsquery's structure.
//!
//! # Size
//! Only proximity multiplies: `x /n y` becomes one `<d>` alternative per distance, and each
//! alternative repeats both operands whole. Each expansion is budgeted by the bytes it would
//! really take ([`MAX_PROXIMITY_TSQUERY_BYTES`], and [`MAX_PLAN_PROXIMITY_BYTES`] for all of a
//! query's together), not only by its count of alternatives: 60 OR'd words on each side of a
//! `/255` are 510 alternatives (within [`MAX_COMPILED_ALTERNATIVES`]) but megabytes of text,
//! which PostgreSQL refuses. Over budget, the proximity is retrieved as "both sides in the same
//! paragraph" and the exact checker decides, like every other inexact part. Lexemes are cut to
//! [`MAX_LEXEME_BYTES`], PostgreSQL's own limit.

use crate::MAX_COMPILED_ALTERNATIVES;
use crate::ast::{Field, Node, Query, Within};
use crate::plan::{self, Backend, BindValue, ClausePlan, Ctx, Filters, Plan, Polarity, Token};

/// Most bytes one proximity's `<d>` expansion may take before it falls back to "same paragraph"
/// plus the exact check. PostgreSQL refuses a tsquery whose operand text passes 1 MiB (and every
/// candidate paragraph is tested against the whole expansion); 64 KiB keeps `a /255 b` with a
/// few forms on each side compiled exactly (about 10 KB) while refusing the multiplication of
/// long OR lists by long distances.
pub const MAX_PROXIMITY_TSQUERY_BYTES: usize = 64 * 1024;
/// Most bytes all of one query's proximity expansions may take together: a query may hold many
/// proximities, each within [`MAX_PROXIMITY_TSQUERY_BYTES`]; past this total the later ones fall
/// back. Keeps the whole statement (SQL and binds) a few hundred kilobytes at most.
pub const MAX_PLAN_PROXIMITY_BYTES: usize = 256 * 1024;
/// Longest lexeme PostgreSQL accepts in a tsquery, in bytes (its `MAXSTRLEN`; a longer word is
/// refused with "word is too long in tsquery", and is never in a tsvector either). A longer
/// query word is cut to it, at a character boundary, and the plan is marked for the exact check.
pub const MAX_LEXEME_BYTES: usize = 2_047;

/// What is left of [`MAX_PLAN_PROXIMITY_BYTES`] while one query compiles.
struct Budget {
    left: usize,
}

/// `text` cut to at most [`MAX_LEXEME_BYTES`] bytes at a character boundary.
fn capped(text: &str) -> &str {
    if text.len() <= MAX_LEXEME_BYTES {
        return text;
    }
    let mut end = MAX_LEXEME_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Ctx {
    /// A lexeme's weight for `field`, none when the plan matches words in any field.
    fn weight(&self, field: Option<Field>) -> Option<char> {
        (!self.any_field).then(|| weight(field))
    }
}

/// The tsvector weight of a field (`None` = body).
fn weight(field: Option<Field>) -> char {
    match field {
        Some(Field::CaseName) => 'A',
        Some(Field::Citation) => 'B',
        Some(Field::Court) => 'C',
        None => 'D',
    }
}

fn lexeme(t: &Token, weight: Option<char>) -> String {
    let mut s = format!("'{}'", capped(&t.text));
    if t.prefix || weight.is_some() {
        s.push(':');
        if t.prefix {
            s.push('*');
        }
        if let Some(w) = weight {
            s.push(w);
        }
    }
    s
}

fn alternatives(tokens: &[Token], weight: Option<char>) -> String {
    let parts: Vec<String> = tokens.iter().map(|t| lexeme(t, weight)).collect();
    if parts.len() == 1 { parts.concat() } else { format!("({})", parts.join(" | ")) }
}

/// Compiles a query for a PostgreSQL source (schema: migrations/source-postgres).
pub fn compile(query: &Query, filters: &Filters) -> Plan {
    let mut c = Ctx::new(Backend::Postgres);
    // Restricted plans keep their paragraph conditions: for a few hundred given opinions
    // PostgreSQL tests them row by row through the opinion_id index.
    c.defer_positions = filters.defer_positions;
    c.any_field = filters.any_field;
    if c.any_field {
        c.inexact("words are matched in any field (counting), not only where the query asks".to_string());
    }
    let mut budget = Budget { left: MAX_PLAN_PROXIMITY_BYTES };
    if plan::node_tokens(&query.root).iter().any(|t| t.text.len() > MAX_LEXEME_BYTES) {
        // A cut word could match a (2,047-byte) word it is not; the checker compares whole words.
        c.inexact(format!(
            "a word longer than {MAX_LEXEME_BYTES} bytes is retrieved by its first {MAX_LEXEME_BYTES}, then checked"
        ));
    }
    let mut toks = Vec::new();
    plan::positive_tokens(&query.root, None, &mut toks);
    let any: Vec<String> = toks.iter().map(|(f, t)| lexeme(t, c.weight(*f))).collect();
    let any = c.bind(BindValue::Text(any.join(" | ")));
    let columns =
        "o.id, o.case_name, o.citation, o.court, o.jurisdiction, o.decided_on::text AS decided_on, o.docket_number";
    let conjunction = if filters.near_misses > 0 { query.conjunction() } else { None };
    let mut clauses = Vec::new();
    let mut exclusion_needs_check = false;
    let sql = match conjunction {
        None => {
            // One tsquery (see `Cond`) is ANDed into the first one: as a second `@@` the index
            // would also walk every posting of the first one's common words.
            let cond = match condition(&mut c, &mut budget, &query.root, Polarity::Include) {
                Cond::Tsquery(q) => {
                    let p = c.bind(BindValue::Text(q));
                    format!("o.search_vector @@ ({any}::tsquery && {p}::tsquery)")
                }
                Cond::Sql(sql) => format!("o.search_vector @@ {any}::tsquery AND {sql}"),
            };
            let filters_sql = c.filter_conditions(query.date, filters);
            let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
            format!("SELECT {columns} FROM opinions o WHERE {cond}{filters_sql} LIMIT {limit}")
        }
        Some(j) => {
            let mut flags = Vec::new();
            for (i, clause) in j.clauses.iter().enumerate() {
                let before = c.inexact_parts;
                let cond = document(&mut c, &mut budget, &clause.root, Polarity::Include);
                clauses.push(ClausePlan { label: clause.root.to_string(), needs_check: c.inexact_parts > before });
                flags.push(format!("({cond})::int AS c{}", i + 1));
            }
            let exclude = match &j.exclude {
                Some(x) => {
                    let before = c.inexact_parts;
                    let cond = document(&mut c, &mut budget, &x.root, Polarity::Exclude);
                    exclusion_needs_check = c.inexact_parts > before;
                    format!(" AND NOT {cond}")
                }
                None => String::new(),
            };
            let filters_sql = c.filter_conditions(query.date, filters);
            let least = plan::least_clauses(clauses.len(), filters.near_misses);
            let limit = c.bind(BindValue::Int(i64::from(filters.limit)));
            let sum: Vec<String> = (1..=clauses.len()).map(|i| format!("x.c{i}")).collect();
            // OFFSET 0 keeps the inner query from being flattened, so each clause is evaluated once.
            format!(
                "SELECT x.* FROM (SELECT {columns}, {} FROM opinions o WHERE o.search_vector @@ {any}::tsquery{exclude}{filters_sql} OFFSET 0) x WHERE {} >= {least} LIMIT {limit}",
                flags.join(", "),
                sum.join(" + ")
            )
        }
    };
    let tokens = plan::node_tokens(&query.root);
    let all: Vec<String> = tokens.iter().map(|t| lexeme(t, None)).collect();
    Plan {
        backend: Backend::Postgres,
        sql,
        binds: c.binds,
        needs_check: c.inexact_parts > 0,
        check_reasons: c.reasons,
        clauses,
        exclusion_needs_check,
        paragraph_filter: all.join(" | "),
        paragraph_words: plan::ParagraphWords::of(&tokens),
    }
}

/// An opinion-level condition: one tsquery on `opinions.search_vector` (not bound yet), or SQL.
///
/// Why one tsquery where it can be: `a AND (b OR c)` as `v @@ a AND (v @@ b OR v @@ c)` is
/// several conditions, of which the planner gives the GIN index only the ANDed ones and tests the
/// rest by reading every candidate's vector back from TOAST (194 ms for a seven-clause
/// conjunction's thousand-row superset at 200,000 opinions); as `v @@ (a & (b | c))` the index
/// answers it whole, skipping through the common words' posting lists (42 ms). The two are the
/// same test: `&` and `|` of tsqueries are AND and OR of their matches on one vector.
enum Cond {
    Tsquery(String),
    Sql(String),
}

impl Cond {
    /// The condition as SQL, binding its tsquery.
    fn sql(self, c: &mut Ctx) -> String {
        match self {
            Cond::Tsquery(q) => {
                let p = c.bind(BindValue::Text(q));
                format!("o.search_vector @@ {p}::tsquery")
            }
            Cond::Sql(s) => s,
        }
    }
}

/// An opinion-level SQL condition.
fn document(c: &mut Ctx, budget: &mut Budget, n: &Node, pol: Polarity) -> String {
    condition(c, budget, n, pol).sql(c)
}

fn condition(c: &mut Ctx, budget: &mut Budget, n: &Node, pol: Polarity) -> Cond {
    if plan::document_level(n) {
        return Cond::Tsquery(document_query(n, None, !c.any_field));
    }
    match n {
        Node::And(children) | Node::Or(children) => {
            let and = matches!(n, Node::And(_));
            let parts: Vec<Cond> = children.iter().map(|x| condition(c, budget, x, pol)).collect();
            let tsqueries: Option<Vec<&str>> =
                parts.iter().map(|p| if let Cond::Tsquery(q) = p { Some(q.as_str()) } else { None }).collect();
            if let Some(qs) = tsqueries {
                return Cond::Tsquery(format!("({})", qs.join(if and { " & " } else { " | " })));
            }
            let sql: Vec<String> = parts.into_iter().map(|p| p.sql(c)).collect();
            Cond::Sql(format!("({})", sql.join(if and { " AND " } else { " OR " })))
        }
        // Counting words in any field, an exclusion would exclude too much (a word of the case
        // name where the query excludes it from the body): left out, so the plan stays a superset.
        Node::Not { include, .. } if c.any_field => condition(c, budget, include, pol),
        Node::Not { include, exclude } => {
            let a = document(c, budget, include, pol);
            let b = document(c, budget, exclude, pol.flip());
            Cond::Sql(format!("({a} AND NOT {b})"))
        }
        // Deferred, an included phrase or proximity still needs its words: all of them in the
        // opinion's body (a superset the GIN index answers, where "TRUE" would count every
        // opinion the rest of the query allows).
        _ if c.defer_positions && pol == Polarity::Include => {
            c.deferred(pol);
            Cond::Tsquery(words_query(n, c.weight(None)))
        }
        _ if c.defer_positions => Cond::Sql(c.deferred(pol).to_string()),
        _ => {
            let (q, exact) = paragraph_query(c, budget, n);
            if !exact && pol == Polarity::Exclude {
                // An inexact exclusion would drop true matches: exclude nothing here and let
                // the checker exclude exactly.
                return Cond::Sql("FALSE".to_string());
            }
            let p = c.bind(BindValue::Text(q));
            Cond::Sql(format!(
                "EXISTS (SELECT 1 FROM opinion_paragraphs p WHERE p.opinion_id = o.id AND p.search_vector @@ {p}::tsquery)"
            ))
        }
    }
}

/// A tsquery on `opinions.search_vector` for a document-level node.
fn document_query(n: &Node, field: Option<Field>, weighted: bool) -> String {
    let w = weighted.then(|| weight(field));
    match n {
        Node::Term(t) => alternatives(&plan::term_tokens(&t.word, t.form), w),
        // Only inside a field (a short column: positions are exact there).
        Node::Phrase(ws) => {
            let parts: Vec<String> = ws.iter().map(|x| lexeme(&plan::word_token(x), w)).collect();
            format!("({})", parts.join(" <-> "))
        }
        Node::And(ch) | Node::Or(ch) => {
            let sep = if matches!(n, Node::And(_)) { " & " } else { " | " };
            let parts: Vec<String> = ch.iter().map(|x| document_query(x, field, weighted)).collect();
            format!("({})", parts.join(sep))
        }
        // Unweighted (counting in any field): the exclusion left out, as in `document`.
        Node::Not { include, .. } if !weighted => document_query(include, field, weighted),
        Node::Not { include, exclude } => {
            format!("({} & !{})", document_query(include, field, weighted), document_query(exclude, field, weighted))
        }
        Node::Field { field, node } => document_query(node, Some(*field), weighted),
        // Not document-level: never reached (see plan::document_level).
        Node::Near { .. } => String::new(),
    }
}

/// A tsquery on `opinions.search_vector` that every opinion matching `n` (a paragraph-level
/// node: phrases and proximity in the body) satisfies: its words, positions left out. An
/// exclusion inside it is left out too (the superset must not drop a match).
fn words_query(n: &Node, w: Option<char>) -> String {
    match n {
        Node::Term(t) => alternatives(&plan::term_tokens(&t.word, t.form), w),
        Node::Phrase(ws) => {
            let parts: Vec<String> = ws.iter().map(|x| lexeme(&plan::word_token(x), w)).collect();
            format!("({})", parts.join(" & "))
        }
        Node::And(ch) | Node::Or(ch) => {
            let sep = if matches!(n, Node::And(_)) { " & " } else { " | " };
            let parts: Vec<String> = ch.iter().map(|x| words_query(x, w)).collect();
            format!("({})", parts.join(sep))
        }
        Node::Not { include, .. } => words_query(include, w),
        Node::Near { left, right, .. } => format!("({} & {})", words_query(left, w), words_query(right, w)),
        Node::Field { field, node } => document_query(node, Some(*field), w.is_some()),
    }
}

/// A tsquery on `opinion_paragraphs.search_vector`, and whether it is exact.
fn paragraph_query(c: &mut Ctx, budget: &mut Budget, n: &Node) -> (String, bool) {
    match n {
        Node::Term(_) | Node::Phrase(_) => (presence(n), true),
        Node::Or(ch) => {
            let parts: Vec<(String, bool)> = ch.iter().map(|x| paragraph_query(c, budget, x)).collect();
            let exact = parts.iter().all(|p| p.1);
            let q: Vec<String> = parts.into_iter().map(|p| p.0).collect();
            (format!("({})", q.join(" | ")), exact)
        }
        Node::Near { left, right, within } => near(c, budget, left, right, *within),
        _ => (presence(n), false),
    }
}

/// The exact length of `(a <1> b | b <1> a | … )` for every pair of groups and every distance up
/// to `n`, computed before anything is built.
fn expansion_bytes(gl: &[String], gr: &[String], n: u32, ordered: bool) -> usize {
    // "<d>" is 2 bytes plus d's digits; each alternative is `a <d> b` (two spaces).
    let distance_bytes: usize = (1..=n).map(|d| 4 + d.to_string().len()).sum();
    let per_side = if ordered { 1 } else { 2 };
    let mut total = 0usize;
    let mut alternatives = 0usize;
    for a in gl {
        for b in gr {
            total = total.saturating_add(per_side * (n as usize * (a.len() + b.len()) + distance_bytes));
            alternatives += per_side * n as usize;
        }
    }
    // " | " between alternatives, and the parentheses around them.
    total.saturating_add(3 * alternatives.saturating_sub(1) + 2)
}

fn near(c: &mut Ctx, budget: &mut Budget, l: &Node, r: &Node, within: Within) -> (String, bool) {
    let both = format!("({} & {})", presence(l), presence(r));
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
            let (gl, gr) = (groups(l), groups(r));
            let count = gl.len() * gr.len() * n as usize * if ordered { 1 } else { 2 };
            if count > MAX_COMPILED_ALTERNATIVES {
                c.inexact(format!(
                    "`{within}` would need {count} tsquery alternatives; same paragraph is retrieved, then checked"
                ));
                return (both, false);
            }
            let bytes = expansion_bytes(&gl, &gr, n, ordered);
            if bytes > MAX_PROXIMITY_TSQUERY_BYTES.min(budget.left) {
                c.inexact(format!(
                    "`{within}` would need a {} KB tsquery; same paragraph is retrieved, then checked",
                    bytes.div_ceil(1024)
                ));
                return (both, false);
            }
            budget.left -= bytes;
            // `x <d> y`: y starts exactly d positions after x ends; "within n" is d = 1..=n.
            let mut alts = Vec::with_capacity(count);
            for a in &gl {
                for b in &gr {
                    for d in 1..=n {
                        alts.push(format!("{a} <{d}> {b}"));
                        if !ordered {
                            alts.push(format!("{b} <{d}> {a}"));
                        }
                    }
                }
            }
            (format!("({})", alts.join(" | ")), true)
        }
    }
}

/// Operand groups of one width each: all single-word alternatives together (width 1), then
/// each phrase alone (PostgreSQL aligns `<d>` on the right operand's start only when every
/// alternative of it has the same width).
fn groups(n: &Node) -> Vec<String> {
    let mut words = Vec::new();
    let mut out = Vec::new();
    for a in plan::atoms(n) {
        match a {
            Node::Term(t) => words.extend(plan::term_tokens(&t.word, t.form)),
            other => out.push(presence(other)),
        }
    }
    if !words.is_empty() {
        out.insert(0, alternatives(&words, None));
    }
    out
}

/// A necessary condition on one paragraph: every term, phrase and OR exactly; a proximity
/// as "both operands present".
fn presence(n: &Node) -> String {
    match n {
        Node::Term(t) => alternatives(&plan::term_tokens(&t.word, t.form), None),
        Node::Phrase(ws) => {
            let parts: Vec<String> = ws.iter().map(|x| lexeme(&plan::word_token(x), None)).collect();
            format!("({})", parts.join(" <-> "))
        }
        Node::Or(ch) => format!("({})", ch.iter().map(presence).collect::<Vec<_>>().join(" | ")),
        Node::Near { left, right, .. } => format!("({} & {})", presence(left), presence(right)),
        // Rejected inside proximity by the parser.
        Node::And(_) | Node::Not { .. } | Node::Field { .. } => String::new(),
    }
}
