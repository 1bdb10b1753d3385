//! All 195 real research queries of the shared corpus: each parses, prints canonically and
//! re-parses to the same tree, and compiles for both backends — or, if malformed as typed,
//! gets a positioned error (no repairs are applied silently).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_query::{ErrorKind, Filters, Mode, parse, postgres, sqlite};

const QUERIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/legal_boolean_queries.jsonl");

#[test]
fn all_corpus_queries_parse_or_get_a_positioned_error() {
    let text = std::fs::read_to_string(QUERIES).expect("shared/corpus must sit beside the checkout");
    let mut ok = 0;
    let mut errors = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let q = v["query"].as_str().unwrap();
        match parse(q, Mode::Boolean) {
            Ok(tree) => {
                let printed = tree.to_string();
                let again = parse(&printed, Mode::Boolean)
                    .unwrap_or_else(|e| panic!("canonical form of `{q}` does not parse:\n{e}"));
                assert_eq!(again, tree, "`{q}` printed as `{printed}`");
                let f = Filters::default();
                let (p, s) = (postgres::compile(&tree, &f), sqlite::compile(&tree, &f));
                assert!(!p.sql.is_empty() && !s.sql.is_empty());
                ok += 1;
            }
            Err(e) => {
                assert!(e.start <= e.end && e.end <= q.len(), "span out of range for `{q}`");
                assert!(!e.fix.is_empty());
                assert!(
                    matches!(e.kind, ErrorKind::UnbalancedParenthesis | ErrorKind::DanglingConnector),
                    "unexpected error for `{q}`:\n{e}"
                );
                errors.push((q.to_string(), e));
            }
        }
    }
    assert_eq!(ok + errors.len(), 195);
    // Malformed as typed: 2 unclosed `(` (ussc-1-2 and its copy), 5 `(OR …` with nothing left
    // of OR, 1 `AND AND`.
    let count = |k: ErrorKind| errors.iter().filter(|(_, e)| e.kind == k).count();
    eprintln!("{ok} parsed, {} rejected with positioned errors", errors.len());
    for (q, e) in &errors {
        eprintln!("{q}\n{e}\n");
    }
    assert_eq!(count(ErrorKind::UnbalancedParenthesis), 2, "unbalanced");
    assert_eq!(count(ErrorKind::DanglingConnector), 6, "dangling");
    assert_eq!(ok, 187);
}
