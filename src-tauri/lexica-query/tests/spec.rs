//! One test per row of SPEC.md (operators and error catalogue), at the parser and compiler
//! level. The backend behaviour of each operator is tested in tests/backends.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_query::{ErrorKind, Filters, Form, Mode, Node, Term, Within, parse, postgres, sqlite};

fn canon(q: &str) -> String {
    parse(q, Mode::Boolean).unwrap_or_else(|e| panic!("{e}")).to_string()
}

fn err(q: &str) -> lexica_query::QueryError {
    parse(q, Mode::Boolean).expect_err(q)
}

fn pg(q: &str) -> lexica_query::Plan {
    postgres::compile(&parse(q, Mode::Boolean).unwrap(), &Filters::default())
}

fn lite(q: &str) -> lexica_query::Plan {
    sqlite::compile(&parse(q, Mode::Boolean).unwrap(), &Filters::default())
}

fn binds(p: &lexica_query::Plan) -> String {
    format!("{:?}", p.binds)
}

#[test]
fn spec_plain_term_expands_plurals() {
    let q = parse("Party's", Mode::Boolean).unwrap();
    assert_eq!(q.root, Node::Term(Term { word: "partys".into(), form: Form::Plural }));
    assert!(binds(&pg("party")).contains("'parties':D"));
    assert!(binds(&lite("party")).contains("\\\"parties\\\""));
}

#[test]
fn spec_quoted_word_is_exact() {
    assert_eq!(
        parse("\"party\"", Mode::Boolean).unwrap().root,
        Node::Term(Term { word: "party".into(), form: Form::Exact })
    );
    assert!(!binds(&pg("\"party\"")).contains("parties"));
}

#[test]
fn spec_phrase() {
    assert_eq!(canon("\u{201C}Due Process\u{201D}"), "\"due process\"");
    assert_eq!(canon("episode-in-suit"), "\"episode in suit\"");
    assert!(binds(&pg("\"due process\"")).contains("('due' <-> 'process')"));
    assert!(binds(&lite("\"due process\"")).contains("\\\"due\\\" + \\\"process\\\""));
}

#[test]
fn spec_root_expander() {
    assert_eq!(canon("object!"), "object!");
    assert_eq!(canon("object*"), "object!");
    assert!(binds(&pg("object!")).contains("'object':*D"));
    assert!(binds(&lite("object!")).contains("\\\"object\\\" *"));
    assert_eq!(canon("\"object! to\""), "\"object! to\"");
}

#[test]
fn spec_or_and_space() {
    assert_eq!(canon("a OR b c"), "a OR b OR c");
    assert_eq!(canon("a or (b Or c)"), "a OR b OR c");
}

#[test]
fn spec_and() {
    assert_eq!(canon("a AND b & c and d"), "a AND b AND c AND d");
    // OR binds tighter than AND.
    assert_eq!(canon("a b AND c"), "(a OR b) AND c");
}

#[test]
fn spec_but_not() {
    assert_eq!(canon("a AND b % c AND d"), "(a AND b) BUT NOT (c AND d)");
    assert_eq!(canon("a BUT NOT b"), "a BUT NOT b");
    assert_eq!(canon("a AND NOT b"), "a BUT NOT b");
    assert_eq!(canon("a & not b"), "a BUT NOT b");
    assert_eq!(canon("a % b % c"), "(a BUT NOT b) BUT NOT c");
}

#[test]
fn spec_within_n() {
    let q = parse("a w/3 b", Mode::Boolean).unwrap();
    assert!(matches!(q.root, Node::Near { within: Within::Words { n: 3, ordered: false }, .. }));
    assert_eq!(canon("a /3 b"), "a /3 b");
    assert_eq!(canon("contract/3 breach"), "contract /3 breach");
    let b = binds(&pg("\"a\" /2 \"b\""));
    assert!(b.contains("'a' <1> 'b' | 'b' <1> 'a' | 'a' <2> 'b' | 'b' <2> 'a'"), "{b}");
    assert!(binds(&lite("\"a\" /3 \"b\"")).contains("NEAR(\\\"a\\\" \\\"b\\\", 2)"));
    assert!(!pg("a /3 b").needs_check && !lite("a /3 b").needs_check);
}

#[test]
fn spec_in_order_n() {
    assert_eq!(canon("a pre/3 b"), "a +3 b");
    let b = binds(&pg("\"a\" +2 \"b\""));
    assert!(b.contains("'a' <1> 'b' | 'a' <2> 'b'") && !b.contains("'b' <1> 'a'"), "{b}");
    assert!(!pg("a +2 b").needs_check);
    assert!(lite("a +2 b").needs_check, "FTS5 NEAR has no order");
}

#[test]
fn spec_same_sentence() {
    assert_eq!(canon("a w/s b"), "a /s b");
    assert_eq!(canon("a +s b"), "a +s b");
    assert!(pg("a /s b").needs_check && lite("a /s b").needs_check);
}

#[test]
fn spec_same_paragraph() {
    assert_eq!(canon("a w/p b"), "a /p b");
    assert!(!pg("a /p b").needs_check && !lite("a /p b").needs_check);
    assert!(pg("a +p b").needs_check);
}

#[test]
fn spec_precedence_westlaw_order() {
    // phrases, OR, +n, /n, +s, /s, +p, /p, AND, %
    assert_eq!(canon("a b /3 c"), "(a OR b) /3 c");
    assert_eq!(canon("a /3 b +2 c"), "a /3 (b +2 c)");
    assert_eq!(canon("a /s b /3 c"), "a /s (b /3 c)");
    assert_eq!(canon("a /p b /s c"), "a /p (b /s c)");
    assert_eq!(canon("a +p b /p c"), "(a +p b) /p c");
    assert_eq!(canon("a & b /p c"), "a AND (b /p c)");
    assert_eq!(canon("a /3 b /5 c"), "(a /3 b) /5 c");
    assert_eq!(canon("a % b & c"), "a BUT NOT (b AND c)");
}

#[test]
fn spec_connectors_case_insensitive() {
    assert_eq!(
        canon("a and b Or c but not d W/3 e PRE/2 f /S g /P h"),
        canon("a AND b OR c BUT NOT d /3 e +2 f /s g /p h")
    );
}

#[test]
fn spec_fields() {
    assert_eq!(canon("ti(smith & jones)"), "ti(smith AND jones)");
    assert_eq!(canon("name(smith)"), "ti(smith)");
    assert_eq!(canon("co(circuit) ci(\"347 U.S. 483\")"), "co(circuit) OR ci(\"347 u s 483\")");
    assert!(binds(&pg("ti(smith)")).contains("'smith':A"));
    assert!(binds(&pg("ci(483)")).contains("'483':B"));
    assert!(binds(&pg("co(circuit)")).contains("'circuit':C"));
    assert!(binds(&lite("ti(smith)")).contains("case_name : "));
}

#[test]
fn spec_date_restriction() {
    assert_eq!(canon("a AND da(aft 2010)"), "a AND da(aft 2010-12-31)");
    assert_eq!(canon("a & da(bef 3/15/2012)"), "a AND da(bef 2012-03-15)");
    assert_eq!(canon("a & da(2014)"), "a AND da(bet 2014-01-01 and 2014-12-31)");
    assert_eq!(canon("(a b) & da(aft 2010 & bef 2015)"), "(a OR b) AND da(bet 2011-01-01 and 2014-12-31)");
    let p = pg("a AND da(aft 2010)");
    assert!(p.sql.contains("o.decided_on >= $3::date"), "{}", p.sql);
    // SQLite: one streaming MATCH for a document-level query, so the date is the second bind.
    let l = lite("a AND da(aft 2010)");
    assert!(l.sql.contains("WHERE opinions_fts MATCH ?1 AND o.decided_on >= ?2"), "{}", l.sql);
}

#[test]
fn spec_statements_mode() {
    let q = parse(
        "Whether the \u{201C}deadly force\u{201D} used violated due process and the party's rights",
        Mode::Statements,
    )
    .unwrap();
    assert_eq!(q.to_string(), "\"deadly force\" OR used OR violated OR \"due process\" OR partys OR rights");
    assert_eq!(q.ranking, lexica_query::Ranking::Statements);
    // Retrieval is the OR of the keywords; ranking (BM25F + closeness) happens after it.
    let p = postgres::compile(&q, &Filters { near_misses: 2, ..Filters::default() });
    assert!(p.clauses.is_empty() && !p.needs_check, "{p}");
}

#[test]
fn spec_near_miss_plans_flag_each_top_level_clause() {
    let q = parse("jurisdiction & corporation & \"at home\" % dissent", Mode::Boolean).unwrap();
    let exact = postgres::compile(&q, &Filters::default());
    assert!(exact.clauses.is_empty(), "near misses are off by default");
    for p in [
        postgres::compile(&q, &Filters { near_misses: 2, ..Filters::default() }),
        sqlite::compile(&q, &Filters { near_misses: 2, ..Filters::default() }),
    ] {
        let labels: Vec<&str> = p.clauses.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["jurisdiction", "corporation", "\"at home\""]);
        assert!(p.sql.contains(">= 1"), "all but two of three: at least one clause\n{p}");
        assert!(p.sql.contains("AND NOT"), "the exclusion holds in every tier\n{p}");
    }
    let one = postgres::compile(
        &parse("a /s b & c", Mode::Boolean).unwrap(),
        &Filters { near_misses: 1, ..Filters::default() },
    );
    assert_eq!(one.clauses.iter().map(|c| c.needs_check).collect::<Vec<_>>(), [true, false]);
    assert!(one.sql.contains(">= 1"));
}

#[test]
fn spec_user_text_only_in_binds() {
    let q = "zebraword /3 \"quokka phrase\" AND ti(okapi) AND co(narwhal) % da(aft 2010) wombat";
    let q = q.replace("% da(aft 2010) wombat", "AND da(aft 2010) % wombat");
    let t = parse(&q, Mode::Boolean).unwrap();
    let f = Filters { courts: vec!["Axolotl Court".into()], ..Filters::default() };
    for p in [postgres::compile(&t, &f), sqlite::compile(&t, &f)] {
        for w in ["zebraword", "quokka", "okapi", "narwhal", "wombat", "2010", "2011", "axolotl", "Axolotl"] {
            assert!(!p.sql.contains(w), "{w} leaked into SQL: {}", p.sql);
        }
    }
}

#[test]
fn spec_inexact_exclusion_excludes_nothing_in_sql() {
    let p = pg("a % (b /s c)");
    assert!(p.needs_check && p.sql.contains("NOT FALSE"), "{}", p.sql);
    let s = lite("a % (b /s c)");
    assert!(s.needs_check && s.sql.contains("NOT 0"), "{}", s.sql);
}

#[test]
fn spec_highlight_terms_skip_exclusions() {
    let q = parse("contract! /3 \"breach of\" % tort", Mode::Boolean).unwrap();
    let h = q.highlight_terms();
    assert_eq!(h.len(), 2);
    assert!(h[0].words[0].prefix && h[1].words.len() == 2);
}

// ---- error catalogue ----

#[test]
fn error_empty_query() {
    assert_eq!(err("   ").kind, ErrorKind::EmptyQuery);
    assert_eq!(err("da(aft 2010)").kind, ErrorKind::EmptyQuery);
}

#[test]
fn error_unbalanced_parenthesis() {
    let e = err("(a OR b AND c");
    assert_eq!((e.kind, e.start, e.end), (ErrorKind::UnbalancedParenthesis, 0, 1));
    let e = err("a OR b) AND c");
    assert_eq!((e.kind, e.start), (ErrorKind::UnbalancedParenthesis, 6));
    assert!(e.to_string().contains("      ^"), "{e}");
}

#[test]
fn error_unclosed_quote() {
    let e = err("a AND \"due process");
    assert_eq!((e.kind, e.start), (ErrorKind::UnclosedQuote, 6));
    let e = err("a AND \u{201C}due process");
    assert!(e.message.contains("typographic"), "{e}");
}

#[test]
fn error_smart_quotes_are_accepted() {
    assert_eq!(canon("\u{201C}res judicata\u{201D} & \u{201E}x y\u{201D}"), "\"res judicata\" AND \"x y\"");
}

#[test]
fn error_dangling_connector() {
    assert_eq!(err("a AND").kind, ErrorKind::DanglingConnector);
    assert_eq!(err("OR a").kind, ErrorKind::DanglingConnector);
    assert_eq!(err("a AND AND b").kind, ErrorKind::DanglingConnector);
    assert_eq!(err("(a /3) b").kind, ErrorKind::DanglingConnector);
    let e = err("a AND OR b");
    assert_eq!((e.start, e.end), (2, 8));
}

#[test]
fn error_empty_group_and_phrase() {
    assert_eq!(err("a AND ()").kind, ErrorKind::EmptyGroup);
    assert_eq!(err("a AND \"\"").kind, ErrorKind::EmptyPhrase);
    assert_eq!(err("a AND \"§\"").kind, ErrorKind::EmptyPhrase);
}

#[test]
fn error_prefix_too_short() {
    let e = err("ab! AND c");
    assert_eq!((e.kind, e.start, e.end), (ErrorKind::PrefixTooShort, 0, 3));
    assert!(e.fix.contains("ab OR abs"));
    assert!(parse("abc!", Mode::Boolean).is_ok());
}

#[test]
fn error_number_out_of_range() {
    assert_eq!(err("a /0 b").kind, ErrorKind::NumberOutOfRange);
    assert_eq!(err("a /256 b").kind, ErrorKind::NumberOutOfRange);
    assert_eq!(err("a & da(aft 1200)").kind, ErrorKind::NumberOutOfRange);
    assert!(parse("a /255 b", Mode::Boolean).is_ok());
}

#[test]
fn error_unknown_connector() {
    assert_eq!(err("a /x b").kind, ErrorKind::UnknownConnector);
    assert_eq!(err("a w/ b").kind, ErrorKind::UnknownConnector);
    assert_eq!(err("a + b").kind, ErrorKind::UnknownConnector);
    // Slashes inside words are not connectors.
    assert_eq!(canon("24/7 and/or"), "\"24 7\" OR \"and or\"");
}

#[test]
fn error_misplaced_expander() {
    assert_eq!(err("wom*n").kind, ErrorKind::MisplacedExpander);
    assert_eq!(err("ob!ject").kind, ErrorKind::MisplacedExpander);
}

#[test]
fn error_nothing_to_search() {
    let e = err("a AND § AND b");
    assert_eq!((e.kind, e.start), (ErrorKind::NothingToSearch, 6));
}

#[test]
fn error_invalid_proximity_operand() {
    assert_eq!(err("a /3 (b AND c)").kind, ErrorKind::InvalidProximityOperand);
    assert_eq!(err("ti(a) /3 b").kind, ErrorKind::InvalidProximityOperand);
    assert_eq!(err("a /s (b % c)").kind, ErrorKind::InvalidProximityOperand);
}

#[test]
fn error_invalid_field_content() {
    assert_eq!(err("ti(a /3 b)").kind, ErrorKind::InvalidFieldContent);
    assert_eq!(err("ti(co(a))").kind, ErrorKind::InvalidFieldContent);
}

#[test]
fn error_invalid_date() {
    assert_eq!(err("a & da(soon)").kind, ErrorKind::InvalidDate);
    assert_eq!(err("a & da(2/30/2010)").kind, ErrorKind::InvalidDate);
    assert_eq!(err("a & da(aft 2015 & bef 2010)").kind, ErrorKind::InvalidDate);
    assert_eq!(err("a & da(aft 2010").kind, ErrorKind::UnbalancedParenthesis);
}

#[test]
fn error_misplaced_date() {
    assert_eq!(err("a OR da(aft 2010)").kind, ErrorKind::MisplacedDate);
    assert_eq!(err("a % b & da(aft 2010)").kind, ErrorKind::MisplacedDate);
    assert_eq!(err("a /3 da(2010)").kind, ErrorKind::MisplacedDate);
}

#[test]
fn error_limits() {
    assert_eq!(err(&"a ".repeat(3000)).kind, ErrorKind::TooLong);
    assert_eq!(err(&format!("{}a{}", "(".repeat(40), ")".repeat(40))).kind, ErrorKind::TooDeep);
    assert_eq!(err(&"a ".repeat(300)).kind, ErrorKind::TooManyTerms);
}

#[test]
fn deferred_phrases_and_words_compile_to_one_tsquery() {
    // The exact tier's superset: deferred positions, words in any field. The whole condition is
    // one tsquery ANDed into the first bind, so the GIN index answers it without reading vectors.
    let q = parse("\"due process\" AND (state OR court)", Mode::Boolean).unwrap();
    let p = postgres::compile(&q, &Filters { defer_positions: true, any_field: true, ..Filters::default() });
    assert!(p.sql.contains("WHERE o.search_vector @@ ($1::tsquery && $2::tsquery) LIMIT $3"), "{}", p.sql);
    assert_eq!(p.sql.matches("@@").count(), 1, "{}", p.sql);
    let tsq = format!("{:?}", p.binds[1]);
    assert!(tsq.contains("('due' & 'process') & ("), "{tsq}");
    assert!(tsq.contains("'state'") && tsq.contains("'court'") && tsq.contains(" | "), "{tsq}");
    // Not deferred, the phrase is a paragraph test: SQL conditions, the words' tsquery beside it.
    let exact = postgres::compile(&q, &Filters::default());
    assert!(exact.sql.contains("EXISTS (SELECT 1 FROM opinion_paragraphs p"), "{}", exact.sql);
    assert!(exact.sql.contains("o.search_vector @@ $1::tsquery AND ("), "{}", exact.sql);
}
