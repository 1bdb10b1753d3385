//! What the fuzz harness (`tests/fuzz/harness.rs`) found, one regression test each: a parsed
//! query must print to text that parses back to the same tree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_query::{Mode, parse, text};

fn round_trips(q: &str) {
    let tree = parse(q, Mode::Boolean).unwrap_or_else(|e| panic!("`{q}` does not parse: {e}"));
    let printed = tree.to_string();
    let again = parse(&printed, Mode::Boolean).unwrap_or_else(|e| panic!("`{q}` printed as `{printed}`:\n{e}"));
    assert_eq!(again, tree, "`{q}` printed as `{printed}`");
}

/// A chain of one left-associative operator is accepted flat at any length, but was printed
/// with a parenthesis per level: past 32 the printed query was refused as too deep.
#[test]
fn long_chains_of_one_operator_print_back_parseable() {
    for op in ["/p", "/s", "+3", "/5", "+p", "BUT NOT", "%"] {
        let q = (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(&format!(" {op} "));
        round_trips(&q);
    }
    // Short chains keep showing their grouping.
    assert_eq!(parse("a /3 b /5 c", Mode::Boolean).unwrap().to_string(), "(a /3 b) /5 c");
}

/// A connector word that is a term (`and.`, `oŕ`) printed as `(and)`, which the parser read as a
/// dangling connector.
#[test]
fn a_connector_word_as_a_term_prints_back_parseable() {
    for q in ["and.", "(or.)", "x /3 and.", "\"a\" OR and\u{301}"] {
        round_trips(q);
    }
    assert_eq!(parse("(and)", Mode::Boolean).unwrap().to_string(), "(and)");
    // Alone in parentheses only: `(a and)` is still a dangling connector.
    assert!(parse("(a and)", Mode::Boolean).is_err());
}

/// `İ` lower-cases to `i` plus a combining dot (U+0307), which is not alphanumeric: words held
/// it, and the printed word split in two when read back.
#[test]
fn words_are_letters_and_digits_only_after_lower_casing() {
    assert_eq!(text::words("İstanbul DECİDED"), vec!["istanbul", "decided"]);
    round_trips("İstanbul OR decİded");
}
